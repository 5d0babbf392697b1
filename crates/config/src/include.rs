//! `@include`: path resolution (relative to the including file), brace and glob
//! expansion (sorted), reading and inlining of the included files.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::parser::{self, Ctx};
use crate::{ConfigError, Element, Pos};

/// Maximum nesting of includes.
const MAX_INCLUDE_DEPTH: usize = 32;

/// Maximum number of patterns a `{a,b}` expansion may produce.
const MAX_BRACE_PATTERNS: usize = 1024;

/// Reads a configuration file as UTF-8; `pos` is where it was included from.
pub(crate) fn read_config_file(path: &Path, pos: Option<&Pos>) -> Result<String, ConfigError> {
    let err = |message: String| ConfigError {
        pos: pos.cloned(),
        message,
    };
    let what = if pos.is_some() {
        "included file"
    } else {
        "config file"
    };
    let bytes = std::fs::read(path)
        .map_err(|e| err(format!("cannot read {what} '{}': {e}", path.display())))?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let prefix = String::from_utf8_lossy(valid);
        let line = prefix.matches('\n').count() + 1;
        let col = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        let at = Pos::new(
            path.display().to_string(),
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(col).unwrap_or(u32::MAX),
        );
        ConfigError::at(at, "the file is not valid UTF-8")
    })
}

/// Whether a path contains glob metacharacters.
fn has_glob_meta(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

/// Maximum number of `{...}` groups expanded in one pattern (the rest stay literal).
const MAX_BRACE_GROUPS: usize = 16;

/// Expands `{a,b}` alternatives (nested allowed; an unclosed `{` stays literal).
fn expand_braces(pattern: &str, out: &mut Vec<String>) {
    expand_braces_limited(pattern, out, 0);
}

fn expand_braces_limited(pattern: &str, out: &mut Vec<String>, groups: usize) {
    if out.len() >= MAX_BRACE_PATTERNS {
        return;
    }
    if groups >= MAX_BRACE_GROUPS {
        out.push(pattern.to_string());
        return;
    }
    let bytes = pattern.as_bytes();
    let Some(open) = pattern.find('{') else {
        out.push(pattern.to_string());
        return;
    };
    let mut depth = 0usize;
    let mut commas = Vec::new();
    let mut close = None;
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    close = Some(i);
                    break;
                }
            }
            b',' if depth == 1 => commas.push(i),
            _ => {}
        }
    }
    let Some(close) = close else {
        out.push(pattern.to_string());
        return;
    };
    let (prefix, suffix) = (&pattern[..open], &pattern[close + 1..]);
    let mut start = open + 1;
    for end in commas.into_iter().chain(std::iter::once(close)) {
        expand_braces_limited(
            &format!("{prefix}{}{suffix}", &pattern[start..end]),
            out,
            groups + 1,
        );
        start = end + 1;
    }
}

/// The files `spec` names, sorted (byte order, as Ruby's `Dir.glob(...).sort`).
fn resolve(
    spec: &str,
    pos: &Pos,
    base_dir: &Path,
    ctx: &mut Ctx,
) -> Result<Vec<PathBuf>, ConfigError> {
    let lower = spec.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Err(ConfigError::at(
            pos.clone(),
            format!("@include {spec}: including over http(s) is not supported by logferry; download the file and include it by path"),
        ));
    }
    let path = spec.strip_prefix("file://").unwrap_or(spec);
    if let Some((scheme, _)) = path.split_once("://") {
        if !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        {
            return Err(ConfigError::at(
                pos.clone(),
                format!("@include {spec}: URL scheme '{scheme}' is not supported"),
            ));
        }
    }
    if path.is_empty() {
        return Err(ConfigError::at(pos.clone(), "@include: empty path"));
    }
    let relative = !Path::new(path).is_absolute();
    if !has_glob_meta(path) {
        let full = if relative {
            base_dir.join(path)
        } else {
            PathBuf::from(path)
        };
        if !full.exists() {
            return Err(ConfigError::at(
                pos.clone(),
                format!("@include {spec}: file not found: {}", full.display()),
            ));
        }
        return Ok(vec![full]);
    }
    let base = glob::Pattern::escape(&base_dir.to_string_lossy());
    let mut patterns = Vec::new();
    expand_braces(path, &mut patterns);
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let mut found = Vec::new();
    for p in patterns {
        let full = match (relative, base.is_empty()) {
            (true, false) if base.ends_with('/') => format!("{base}{p}"),
            (true, false) => format!("{base}/{p}"),
            _ => p,
        };
        let paths = glob::glob_with(&full, options).map_err(|e| {
            ConfigError::at(
                pos.clone(),
                format!("@include {spec}: invalid glob pattern: {e}"),
            )
        })?;
        found.extend(paths.filter_map(Result::ok));
    }
    found.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    found.dedup();
    let mut files = Vec::new();
    for p in found {
        if p.is_dir() {
            ctx.warn(
                pos.clone(),
                format!("@include {spec}: skipping directory {}", p.display()),
            );
        } else {
            files.push(p);
        }
    }
    if files.is_empty() {
        ctx.warn(
            pos.clone(),
            format!("@include {spec}: the pattern matched no files"),
        );
    }
    Ok(files)
}

/// Inlines the files named by `spec` into `target` (the section containing the
/// include, or the root). `pos` is the position of the path.
pub(crate) fn include(
    target: &mut Element,
    spec: &str,
    pos: &Pos,
    base_dir: &Path,
    ctx: &mut Ctx,
) -> Result<(), ConfigError> {
    for path in resolve(spec, pos, base_dir, ctx)? {
        if path.is_dir() {
            return Err(ConfigError::at(
                pos.clone(),
                format!("@include {spec}: {} is a directory", path.display()),
            ));
        }
        let canon = path.canonicalize().unwrap_or_else(|_| path.clone());
        if ctx.include_chain.contains(&canon) {
            return Err(ConfigError::at(
                pos.clone(),
                format!(
                    "@include {spec}: include cycle: {} is already being parsed",
                    path.display()
                ),
            ));
        }
        if ctx.include_chain.len() >= MAX_INCLUDE_DEPTH {
            return Err(ConfigError::at(
                pos.clone(),
                format!("@include {spec}: includes nested too deeply (limit {MAX_INCLUDE_DEPTH})"),
            ));
        }
        let text = read_config_file(&path, Some(pos))?;
        let file: Arc<str> = Arc::from(path.display().to_string());
        let dir = path.parent().unwrap_or_else(|| Path::new("")).to_path_buf();
        ctx.include_chain.push(canon);
        let result = parser::parse_into(target, &text, file, &dir, ctx);
        ctx.include_chain.pop();
        result?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces_expand_nested_and_keep_unclosed() {
        let mut out = Vec::new();
        expand_braces("a{b,c{d,e}}f", &mut out);
        assert_eq!(out, ["abf", "acdf", "acef"]);
        let mut out = Vec::new();
        expand_braces("x{y", &mut out);
        assert_eq!(out, ["x{y"]);
        let mut out = Vec::new();
        expand_braces(&"{a,b}".repeat(5000), &mut out);
        assert_eq!(out.len(), MAX_BRACE_PATTERNS);
    }
}
