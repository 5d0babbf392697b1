//! Which files the `path` patterns name right now (Fluentd's `expand_paths`): each pattern is
//! formatted with strftime at the current time, a pattern with `*` is a glob (Ruby's
//! `Dir.glob`: `*`, `?`, `[…]`, `{a,b}`, `**/`; `*` does not match a leading dot) whose
//! directories and unreadable files are left out (and, with `limit_recently_modified`, files not
//! modified recently), a pattern without `*` is taken as it is; then `exclude_path` (formatted and
//! globbed the same way) is taken away and files that do not exist are dropped.

use std::collections::{BTreeMap, HashSet};
use std::os::unix::fs::MetadataExt;

use logferry_formats::timefmt::{TimeFormatter, Zone};
use logferry_msgpack::EventTime;

use super::pos_file::Key;

/// A file to tail: its path (as the pattern produced it) and inode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The path.
    pub path: String,
    /// Its inode when it was listed.
    pub ino: u64,
}

/// One `path` or `exclude_path` pattern, with its strftime formatter.
pub struct Pattern {
    raw: String,
    fmt: Option<TimeFormatter>,
}

impl Pattern {
    /// Compile `raw` (strftime conversions formatted in `zone`).
    pub fn new(raw: &str, zone: &Zone) -> Result<Pattern, String> {
        let fmt = if raw.contains('%') {
            Some(TimeFormatter::new(raw, zone.clone())?)
        } else {
            None
        };
        Ok(Pattern {
            raw: raw.to_string(),
            fmt,
        })
    }

    /// The pattern at time `now`.
    pub fn at(&self, now: EventTime) -> String {
        match &self.fmt {
            Some(f) => f.format(now),
            None => self.raw.clone(),
        }
    }
}

/// Expand `{a,b}` alternatives (nested allowed) into every combination, as Ruby's `Dir.glob`.
pub fn braces(p: &str) -> Vec<String> {
    let b = p.as_bytes();
    let mut depth = 0;
    let mut open = None;
    for (i, c) in b.iter().enumerate() {
        match c {
            b'\\' => {}
            b'{' => {
                if depth == 0 {
                    open = Some(i);
                }
                depth += 1;
            }
            b'}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    let o = open.expect("open brace");
                    let (pre, body, post) = (&p[..o], &p[o + 1..i], &p[i + 1..]);
                    let mut alts = Vec::new();
                    let mut d = 0;
                    let mut start = 0;
                    for (j, c) in body.bytes().enumerate() {
                        match c {
                            b'{' => d += 1,
                            b'}' => d -= 1,
                            b',' if d == 0 => {
                                alts.push(&body[start..j]);
                                start = j + 1;
                            }
                            _ => {}
                        }
                    }
                    alts.push(&body[start..]);
                    let mut out = Vec::new();
                    for a in alts {
                        out.extend(braces(&format!("{pre}{a}{post}")));
                    }
                    return out;
                }
            }
            _ => {}
        }
    }
    vec![p.to_string()]
}

/// Ruby's `Dir.glob(pattern)`: the matching paths, sorted.
pub fn glob(pattern: &str) -> Vec<String> {
    let opts = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let mut out = Vec::new();
    for p in braces(pattern) {
        if let Ok(paths) = glob::glob_with(&p, opts) {
            for path in paths.flatten() {
                out.push(path.to_string_lossy().into_owned());
            }
        }
    }
    out
}

/// What the expansion needs besides the patterns.
pub struct Expand<'a> {
    /// `path`, split.
    pub paths: &'a [Pattern],
    /// `exclude_path`.
    pub exclude: &'a [Pattern],
    /// `limit_recently_modified` in seconds.
    pub limit_recently_modified: Option<f64>,
    /// Unreadable files already warned about (`ignore_repeated_permission_error`); `None`
    /// warns every time.
    pub ignore_list: Option<&'a mut HashSet<String>>,
    /// Logs a warning.
    pub warn: &'a dyn Fn(String),
}

fn readable(path: &str) -> bool {
    let Ok(c) = std::ffi::CString::new(path) else {
        return false;
    };
    // SAFETY: a valid NUL-terminated path.
    unsafe { libc::access(c.as_ptr(), libc::R_OK) == 0 }
}

impl Expand<'_> {
    /// The files to tail now, keyed by path (or by inode with `by_inode`), in path order.
    pub fn run(&mut self, now: EventTime, by_inode: bool) -> BTreeMap<String, (Key, Target)> {
        let mut paths: Vec<String> = Vec::new();
        let now_s = now.sec as f64 + now.nsec as f64 / 1e9;
        for pat in self.paths {
            let p = pat.at(now);
            if !p.contains('*') {
                paths.push(p);
                continue;
            }
            for f in glob(&p) {
                let Ok(meta) = std::fs::metadata(&f) else {
                    continue;
                };
                if meta.is_dir() {
                    continue;
                }
                if !readable(&f) {
                    let seen = match &mut self.ignore_list {
                        Some(l) => !l.insert(f.clone()),
                        None => false,
                    };
                    if !seen {
                        (self.warn)(format!(
                            "{f} unreadable. It is excluded and would be examined next time."
                        ));
                    }
                    continue;
                }
                if let Some(limit) = self.limit_recently_modified {
                    let mtime = meta.mtime() as f64 + meta.mtime_nsec() as f64 / 1e9;
                    if mtime < now_s - limit {
                        continue;
                    }
                }
                paths.push(f);
            }
        }
        let mut excluded = HashSet::new();
        for pat in self.exclude {
            let p = pat.at(now);
            if p.contains('*') {
                excluded.extend(glob(&p));
            } else {
                excluded.insert(p);
            }
        }
        let mut out = BTreeMap::new();
        for p in paths {
            if excluded.contains(&p) {
                continue;
            }
            match std::fs::metadata(&p) {
                Ok(m) => {
                    let key = if by_inode {
                        Key::Ino(m.ino())
                    } else {
                        Key::Path(p.clone())
                    };
                    if by_inode && out.values().any(|(k, _)| *k == key) {
                        continue;
                    }
                    out.insert(
                        p.clone(),
                        (
                            key,
                            Target {
                                path: p,
                                ino: m.ino(),
                            },
                        ),
                    );
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => (self.warn)(format!(
                    "expand_paths: stat() for {p} failed with {e}. Skip file."
                )),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces_expand_like_ruby() {
        assert_eq!(
            braces("/a/{x,y{1,2}}.log"),
            ["/a/x.log", "/a/y1.log", "/a/y2.log"]
        );
        assert_eq!(braces("/a/b.log"), ["/a/b.log"]);
    }

    #[test]
    fn expands_globs_excludes_and_strftime() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        std::fs::create_dir_all(format!("{d}/logs/sub/deeper")).unwrap();
        for f in [
            "logs/a.log",
            "logs/.hidden.log",
            "logs/b.gz",
            "logs/sub/c.log",
            "logs/sub/deeper/d.log",
            "logs/2026.log",
        ] {
            std::fs::write(format!("{d}/{f}"), "x\n").unwrap();
        }
        std::fs::create_dir_all(format!("{d}/logs/dir.log")).unwrap();
        let zone = Zone::utc();
        let paths = [
            Pattern::new(&format!("{d}/logs/**/*.log"), &zone).unwrap(),
            Pattern::new(&format!("{d}/logs/%Y.log"), &zone).unwrap(),
            Pattern::new(&format!("{d}/logs/missing.log"), &zone).unwrap(),
        ];
        let exclude = [Pattern::new(&format!("{d}/logs/sub/deeper/*"), &zone).unwrap()];
        let warn = |_: String| {};
        let mut e = Expand {
            paths: &paths,
            exclude: &exclude,
            limit_recently_modified: None,
            ignore_list: None,
            warn: &warn,
        };
        // 2026-12-05T00:00:00Z
        let got = e.run(EventTime::new(1_796_428_800, 0), false);
        let names: Vec<&str> = got.keys().map(|k| &k[d.len()..]).collect();
        assert_eq!(names, ["/logs/2026.log", "/logs/a.log", "/logs/sub/c.log"]);
    }
}
