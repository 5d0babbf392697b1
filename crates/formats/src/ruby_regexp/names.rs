//! Group names as Ruby reads them, given to the engines as names they take.
//!
//! Onigmo reads a group's name up to its `>` (or `'`): any characters but `)`, the first
//! neither a digit nor `-` (`(?<log.level>…)`, `(?<request-id>…)`, `(?<@timestamp>…)`, and
//! the names fluent-plugin-grok-parser writes for the ECS patterns, `(?<[source][port]:int>…)`).
//! A reference reads it the same way but for `+` and `-`, which start a level
//! (`\k<name+1>`). Rust's `regex` crate takes letters, digits, `_`, `.`, `[` and `]` (the
//! first a letter or `_`), Oniguruma a word character first and no other character in a
//! reference. [`engine_names`] writes every name with any other character as a placeholder
//! of word characters, in definitions, references, calls and conditions alike, so either
//! engine runs the pattern; [`EngineNames::ruby`] gives Ruby's name back.

use std::borrow::Cow;

use crate::parser::ruby_regex::{bracket_end, comment_end, escape_end};

/// A pattern body with the group names the engines would refuse written as placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineNames<'a> {
    /// The body to compile.
    pub body: Cow<'a, str>,
    /// Each placeholder with the Ruby name it stands for.
    pub names: Vec<(String, String)>,
}

impl EngineNames<'_> {
    /// Ruby's name of an engine group name.
    pub fn ruby<'n>(&'n self, engine: &'n str) -> &'n str {
        self.names
            .iter()
            .find(|(p, _)| p == engine)
            .map_or(engine, |(_, r)| r.as_str())
    }

    /// An engine's message with the placeholders written back as Ruby's names.
    pub fn message(&self, e: String) -> String {
        if self.names.is_empty() {
            return e;
        }
        let mut e = e;
        for (p, r) in &self.names {
            e = e.replace(p.as_str(), r);
        }
        e
    }
}

/// Is `name` a group name Ruby takes in a definition that either engine may not (a character
/// other than a letter, a digit or `_`)?
fn needs_placeholder(name: &[char]) -> bool {
    let Some(&first) = name.first() else {
        return false;
    };
    !(first.is_ascii_digit() || first == '-' || name.contains(&')'))
        && name.iter().any(|&c| !(c.is_alphanumeric() || c == '_'))
}

/// The body with Ruby's group names that an engine may refuse written as placeholders
/// (`_lf1_`, `_lf2_` …, none of them elsewhere in the body). Names Ruby refuses are left
/// as they are, for the engines to refuse. Under `x` a `#` comment is skipped (with inline
/// options a name may be missed: it is then left as written).
pub fn engine_names<'a>(body: &'a str, flags: &str) -> EngineNames<'a> {
    let s: Vec<char> = body.chars().collect();
    // Where each name is: (start, end) in `s`, and whether it is a definition.
    let mut spans: Vec<(usize, usize, bool)> = Vec::new();
    let x = flags.contains('x');
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '\\' => {
                if let (Some('k' | 'g'), Some(&open @ ('<' | '\''))) = (s.get(k + 1), s.get(k + 2))
                {
                    let close = if open == '<' { '>' } else { '\'' };
                    if let Some(end) = s[k + 3..].iter().position(|&c| c == close) {
                        spans.push((k + 3, k + 3 + end, false));
                    }
                }
                k = escape_end(&s, k);
            }
            '[' => k = bracket_end(&s, k),
            '#' if x => {
                k = s[k..]
                    .iter()
                    .position(|&c| c == '\n')
                    .map_or(s.len(), |e| k + e + 1);
            }
            '(' if s.get(k + 1) == Some(&'?') => match (s.get(k + 2), s.get(k + 3)) {
                (Some('#'), _) => match comment_end(&s, k) {
                    Some(end) => k = end,
                    None => break,
                },
                (Some('<'), Some(c)) if !matches!(c, '=' | '!') => {
                    if let Some(end) = s[k + 3..].iter().position(|&c| c == '>') {
                        spans.push((k + 3, k + 3 + end, true));
                    }
                    k += 3;
                }
                (Some('\''), _) => {
                    if let Some(end) = s[k + 3..].iter().position(|&c| c == '\'') {
                        spans.push((k + 3, k + 3 + end, true));
                    }
                    k += 3;
                }
                (Some('('), Some(&open @ ('<' | '\''))) => {
                    let close = if open == '<' { '>' } else { '\'' };
                    if let Some(end) = s[k + 4..].iter().position(|&c| c == close) {
                        spans.push((k + 4, k + 4 + end, false));
                    }
                    k += 4;
                }
                _ => k += 2,
            },
            _ => k += 1,
        }
    }
    let mut names: Vec<(String, String)> = Vec::new();
    for &(a, b, definition) in &spans {
        let name = &s[a..b];
        if definition && needs_placeholder(name) {
            let ruby: String = name.iter().collect();
            if !names.iter().any(|(_, r)| *r == ruby) {
                let mut n = names.len() + 1;
                let placeholder = loop {
                    let p = format!("_lf{n}_");
                    if !body.contains(&p) {
                        break p;
                    }
                    n += 1;
                };
                names.push((placeholder, ruby));
            }
        }
    }
    if names.is_empty() {
        return EngineNames {
            body: Cow::Borrowed(body),
            names,
        };
    }
    let placeholder = |name: &[char]| -> Option<&str> {
        let name: String = name.iter().collect();
        names
            .iter()
            .find(|(_, r)| *r == name)
            .map(|(p, _)| p.as_str())
    };
    let mut out = String::with_capacity(body.len());
    let mut at = 0;
    for &(a, b, definition) in &spans {
        // A span found inside one already written (a name holding `(?<`) is part of it.
        if a < at {
            continue;
        }
        let name = &s[a..b];
        // A back-reference or a condition may give a level after the name (`\k<name+1>`),
        // and then holds no other `+` or `-`; a call (`\g<name>`) reads the whole name.
        let call = !definition && s.get(a.wrapping_sub(2)) == Some(&'g');
        let base = if definition || call {
            b
        } else {
            let digits = name.iter().rev().take_while(|c| c.is_ascii_digit()).count();
            match b.checked_sub(digits + 1) {
                Some(sign) if digits > 0 && sign > a && matches!(s[sign], '+' | '-') => sign,
                _ => b,
            }
        };
        if !(definition || call) && s[a..base].iter().skip(1).any(|&c| matches!(c, '+' | '-')) {
            continue;
        }
        if let Some(p) = placeholder(&s[a..base]) {
            out.extend(&s[at..a]);
            out.push_str(p);
            at = base;
        }
    }
    out.extend(&s[at..]);
    EngineNames {
        body: Cow::Owned(out),
        names,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(src: &str) -> String {
        engine_names(src, "").body.into_owned()
    }

    /// Found by the ruby_regex fuzz target: a name holding `(?<` gave a span inside the one
    /// written before it (a slice from after its end: a panic at start-up).
    #[test]
    fn a_name_holding_a_group_opening_does_not_panic() {
        let src = "(?<s\u{17f}SS|(?<|(?<n>?m\u{3}";
        let _ = engine_names(src, "");
        let _ = engine_names("(?<a.(?<b.c>x)>y)", "");
        let _ = crate::ruby_regexp::compile(src, "");
    }

    #[test]
    fn word_names_stay() {
        let e = engine_names(r"(?<host>\S+) (?<é>x)\k<host>", "");
        assert_eq!(e.body, r"(?<host>\S+) (?<é>x)\k<host>");
        assert!(e.names.is_empty());
    }

    #[test]
    fn other_names_become_placeholders_everywhere() {
        let e = engine_names(
            r"(?<log.level>\w+)\k<log.level>(?'a b'x)\g'a b'(?(<log.level>)y)",
            "",
        );
        assert_eq!(
            e.body,
            r"(?<_lf1_>\w+)\k<_lf1_>(?'_lf2_'x)\g'_lf2_'(?(<_lf1_>)y)"
        );
        assert_eq!(e.ruby("_lf1_"), "log.level");
        assert_eq!(e.ruby("_lf2_"), "a b");
        assert_eq!(e.ruby("host"), "host");
        assert_eq!(
            e.message("undefined name <_lf2_>".into()),
            "undefined name <a b>"
        );
    }

    #[test]
    fn levels_classes_escapes_and_comments() {
        assert_eq!(body(r"(?<a.b>x)\k<a.b+1>"), r"(?<_lf1_>x)\k<_lf1_+1>");
        // `\k<a-b>` reads as `a` at level `-b`: Ruby refuses it, and so do the engines.
        assert_eq!(body(r"(?<a-b>x)\k<a-b>"), r"(?<_lf1_>x)\k<a-b>");
        assert_eq!(body(r"(?<a-b>x)(?(<a-b>)y)"), r"(?<_lf1_>x)(?(<a-b>)y)");
        assert_eq!(body(r"(?<a+b>x)\g<a+b>"), r"(?<_lf1_>x)\g<_lf1_>");
        assert_eq!(body(r"[(?<a.b>x)](?<@t>y)"), r"[(?<a.b>x)](?<_lf1_>y)");
        assert_eq!(
            body(r"\(?<a.b>x)(?#(?<c.d>)(?<@t>y)"),
            r"\(?<a.b>x)(?#(?<c.d>)(?<_lf1_>y)"
        );
        assert_eq!(body(r"(?<=a.b>)(?<!c.d>)"), r"(?<=a.b>)(?<!c.d>)");
        let x = engine_names("# (?<a.b>\n(?<c.d>x)", "x");
        assert_eq!(x.body, "# (?<a.b>\n(?<_lf1_>x)");
    }

    #[test]
    fn names_ruby_refuses_stay() {
        assert_eq!(
            body(r"(?<a.b>x)\k<>\g''(?(<>)y)"),
            r"(?<_lf1_>x)\k<>\g''(?(<>)y)"
        );
        assert_eq!(body(r"(?<1a>x)"), r"(?<1a>x)");
        assert_eq!(body(r"(?<-a>x)"), r"(?<-a>x)");
        assert_eq!(body(r"(?<a)b>x)"), r"(?<a)b>x)");
    }

    #[test]
    fn placeholders_are_new_to_the_body() {
        let e = engine_names(r"(?<a.b>x)_lf1_", "");
        assert_eq!(e.body, r"(?<_lf2_>x)_lf1_");
        assert_eq!(e.ruby("_lf2_"), "a.b");
    }
}
