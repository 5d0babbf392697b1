//! Refuse a config whose secret is still a placeholder.
//!
//! The shipped configs read their shared key as `"#{ENV.fetch('FORWARD_SHARED_KEY', 'CHANGE_ME')}"`
//! (the way Fluentd configs commonly do). Started without the variable, Fluentd would run with the
//! published placeholder as its key: an aggregator would accept any sender that read the example,
//! and a sidecar would fail every handshake against a properly keyed aggregator while its buffer
//! fills. logferry refuses such a config at start-up, at `--dry-run` and at a SIGHUP reload, naming
//! the parameter, its position and the environment variable to set.

use std::path::Path;

use logferry_config::{section::is_secret, Element, Param};

/// Values taken as "not set yet" (compared case-insensitively, surrounding spaces ignored).
const PLACEHOLDERS: &[&str] = &["CHANGE_ME", "CHANGEME", "CHANGE-ME"];

/// `Err` with one line per secret parameter (`shared_key`, `password`, `aws_sec_key`, …) whose
/// value is a placeholder.
pub fn check(root: &Element) -> Result<(), String> {
    let mut errors = Vec::new();
    walk(root, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\nlogferry: config error: "))
    }
}

fn walk(el: &Element, errors: &mut Vec<String>) {
    for p in &el.params {
        if is_secret(&p.key) && is_placeholder(&p.value) {
            errors.push(message(p));
        }
    }
    for c in &el.elements {
        walk(c, errors);
    }
}

fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    PLACEHOLDERS.iter().any(|p| p.eq_ignore_ascii_case(v))
}

fn message(p: &Param) -> String {
    let vars = std::fs::read_to_string(Path::new(&*p.pos.file))
        .ok()
        .and_then(|text| {
            text.lines()
                .nth(p.pos.line.saturating_sub(1) as usize)
                .map(env_names)
        })
        .unwrap_or_default();
    let what = format!(
        "{}: {} is the placeholder '{}'",
        p.pos,
        p.key,
        p.value.trim()
    );
    match vars.as_slice() {
        [] => format!("{what}: replace it with the real secret"),
        [one] => format!("{what}: set the environment variable {one} to the real secret"),
        many => format!(
            "{what}: set the environment variable {} to the real secret",
            many.join(" or ")
        ),
    }
}

/// The environment variables a config line reads: `ENV['X']`, `ENV["X"]`, `ENV.fetch('X'…`.
fn env_names(line: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("ENV") {
        rest = &rest[i + 3..];
        let after = rest.trim_start();
        let after = if let Some(a) = after.strip_prefix('[') {
            a
        } else if let Some(a) = after.strip_prefix(".fetch") {
            match a.trim_start().strip_prefix('(') {
                Some(a) => a,
                None => continue,
            }
        } else {
            continue;
        };
        let after = after.trim_start();
        let Some(quote) = after.chars().next().filter(|c| *c == '\'' || *c == '"') else {
            continue;
        };
        let body = &after[1..];
        if let Some(end) = body.find(quote) {
            let name = &body[..end];
            if !name.is_empty() && !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_names_on_a_line() {
        assert_eq!(
            env_names(r##"  shared_key "#{ENV.fetch('FORWARD_SHARED_KEY', 'CHANGE_ME')}""##),
            ["FORWARD_SHARED_KEY"]
        );
        assert_eq!(
            env_names(r##"password "#{ENV["A"] || ENV[ 'B' ] || ENV.fetch ("A")}""##),
            ["A", "B"]
        );
        assert!(env_names("shared_key CHANGE_ME # ENVIRONMENT").is_empty());
    }

    #[test]
    fn literal_placeholder_is_refused_without_a_variable() {
        let root = logferry_config::parse_str(
            "<source>\n@type forward\n<security>\nself_hostname h\nshared_key change_me\n</security>\n</source>\n",
            "nonexistent-dir/t.conf",
            Path::new("."),
        )
        .unwrap();
        let e = check(&root).unwrap_err();
        assert_eq!(
            e,
            "nonexistent-dir/t.conf:5:1: shared_key is the placeholder 'change_me': replace it with the real secret"
        );
    }

    #[test]
    fn real_secrets_and_non_secret_placeholders_pass() {
        let root = logferry_config::parse_str(
            "<source>\n@type forward\ntag CHANGE_ME\n<security>\nself_hostname h\nshared_key s3cr3t\n</security>\n</source>\n",
            "t.conf",
            Path::new("."),
        )
        .unwrap();
        assert!(check(&root).is_ok());
    }
}
