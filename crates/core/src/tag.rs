//! Fluentd tag patterns, compiled to anchored regexes exactly as Fluentd's `GlobMatchPattern` does.
//!
//! `*` matches one tag part (possibly empty), `**` zero or more parts, `a.**` matches `a` itself,
//! `{a,b}` is alternation (alternatives may hold globs and nest), `\c` escapes, and a pattern that
//! starts and ends with `/` is a Ruby regexp, run as Fluentd runs it: `Regexp.new("\\A" + body +
//! "\\Z")` (no group around the body, so `/a|b/` is `\Aa` or `b\Z`). A `<match>` argument holds
//! several whitespace-separated patterns; any one matching is a match.

use logferry_formats::ruby_regexp::{self, RubyRegex};
use regex::Regex;

/// One compiled tag pattern.
#[derive(Debug, Clone)]
pub struct TagPattern {
    source: String,
    matcher: Matcher,
}

/// How a pattern is matched: the catch-all `**` and plain tags need no regex (a config of those
/// alone never compiles one, which keeps the regex engine's code out of an idle daemon's memory).
#[derive(Debug, Clone)]
enum Matcher {
    All,
    Literal,
    Regex(Regex),
    Ruby(RubyRegex),
}

impl TagPattern {
    /// Compile one pattern; an invalid `/regex/` or a leading `/` without a closing one is an error.
    pub fn new(pattern: &str) -> Result<Self, String> {
        if pattern == "**" {
            return Ok(TagPattern {
                source: pattern.to_string(),
                matcher: Matcher::All,
            });
        }
        if !pattern.is_empty()
            && !pattern.starts_with('/')
            && !pattern.contains(['*', '{', '}', '\\', ','])
        {
            return Ok(TagPattern {
                source: pattern.to_string(),
                matcher: Matcher::Literal,
            });
        }
        if let Some(rest) = pattern.strip_prefix('/') {
            return match rest.strip_suffix('/') {
                Some(re) if !rest.is_empty() => {
                    let re = ruby_regexp::compile(&format!("\\A{re}\\Z"), "")
                        .map_err(|e| format!("invalid match pattern '{pattern}': {e}"))?;
                    Ok(TagPattern {
                        source: pattern.to_string(),
                        matcher: Matcher::Ruby(re),
                    })
                }
                _ => Err(format!(
                    "invalid match pattern '{pattern}': a regex pattern must end with '/'"
                )),
            };
        }
        let body = glob_to_regex(pattern);
        let regex = Regex::new(&format!(r"\A(?:{body})\z"))
            .map_err(|e| format!("invalid match pattern '{pattern}': {e}"))?;
        Ok(TagPattern {
            source: pattern.to_string(),
            matcher: Matcher::Regex(regex),
        })
    }

    /// Does the tag match?
    pub fn matches(&self, tag: &str) -> bool {
        match &self.matcher {
            Matcher::All => true,
            Matcher::Literal => tag == self.source,
            Matcher::Regex(r) => r.is_match(tag),
            Matcher::Ruby(r) => r.is_match(tag),
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

/// The whitespace-separated patterns of one `<match>` or `<filter>` argument.
#[derive(Debug, Clone)]
pub struct MatchPattern {
    patterns: Vec<TagPattern>,
}

impl MatchPattern {
    /// Does one of the patterns name `word` in its text (`fluent.**`, `{fluent,app}.*`), rather
    /// than take such tags by wildcards only (`**`)?
    pub fn names(&self, word: &str) -> bool {
        self.patterns.iter().any(|p| p.as_str().contains(word))
    }

    /// Compile an argument; an empty argument means `**`.
    pub fn new(arg: &str) -> Result<Self, String> {
        let mut patterns = Vec::new();
        for p in arg.split_whitespace() {
            patterns.push(TagPattern::new(p)?);
        }
        if patterns.is_empty() {
            patterns.push(TagPattern::new("**")?);
        }
        Ok(MatchPattern { patterns })
    }

    /// Does any of the patterns match the tag?
    pub fn matches(&self, tag: &str) -> bool {
        self.patterns.iter().any(|p| p.matches(tag))
    }
}

fn push_escaped(out: &mut String, c: char) {
    let mut buf = [0u8; 4];
    out.push_str(&regex::escape(c.encode_utf8(&mut buf)));
}

/// Translate a glob to a regex body, following Fluentd's `GlobMatchPattern#initialize`.
/// Fluentd's `(?![^\.])` look-ahead is rewritten into the equivalent look-ahead-free forms.
fn glob_to_regex(pat: &str) -> String {
    let chars: Vec<char> = pat.chars().collect();
    // A stack of alternation groups; each group collects finished alternatives.
    let mut stack: Vec<Vec<String>> = Vec::new();
    let mut regex: Vec<String> = vec![String::new()];
    let mut escape = false;
    let mut dot = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let cur = regex.last_mut().expect("regex stack is never empty");
        if escape {
            push_escaped(cur, c);
            escape = false;
            i += 1;
            continue;
        }
        if c == '*' && chars.get(i + 1) == Some(&'*') {
            let followed_by_dot = chars.get(i + 2) == Some(&'.');
            match (dot, followed_by_dot) {
                // `a.**.b`: a dot, then any number of parts each ending in a dot.
                (true, true) => cur.push_str(r"\.(?:.*\.)?"),
                // `a.**`: `a` alone, or a dot and anything.
                (true, false) => cur.push_str(r"(?:\..*)?"),
                // `**.b` at the start or after a non-dot.
                (false, true) => cur.push_str(r"(?:.*\.|\A)"),
                (false, false) => cur.push_str(".*"),
            }
            dot = false;
            i += if followed_by_dot { 3 } else { 2 };
            continue;
        }
        if dot {
            cur.push_str(r"\.");
            dot = false;
        }
        match c {
            '\\' => escape = true,
            '.' => dot = true,
            '*' => cur.push_str(r"[^.]*"),
            '{' => {
                stack.push(Vec::new());
                regex.push(String::new());
            }
            '}' if !stack.is_empty() => {
                let alt = regex.pop().unwrap_or_default();
                let mut group = stack.pop().unwrap_or_default();
                group.push(alt);
                let joined = format!("(?:{})", group.join("|"));
                regex.last_mut().expect("outer regex").push_str(&joined);
            }
            ',' if !stack.is_empty() => {
                let alt = regex.pop().unwrap_or_default();
                if let Some(g) = stack.last_mut() {
                    g.push(alt);
                }
                regex.push(String::new());
            }
            c if c.is_ascii_alphanumeric() || c == '_' => cur.push(c),
            c => push_escaped(cur, c),
        }
        i += 1;
    }
    if dot {
        regex.last_mut().expect("regex").push_str(r"\.");
    }
    // Unclosed `{`: its alternatives are kept as literal concatenation, as Fluentd does.
    while let Some(mut group) = stack.pop() {
        let alt = regex.pop().unwrap_or_default();
        group.push(alt);
        regex
            .last_mut()
            .expect("outer regex")
            .push_str(&group.concat());
    }
    regex.pop().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `**` and plain tags, matched without a regex, match exactly what their regexes match.
    #[test]
    fn regex_free_patterns_agree_with_their_regexes() {
        let tags = [
            "",
            "a",
            "a.b",
            "a.b.c",
            "ab",
            "a.",
            ".a",
            "x,y",
            "x",
            "docker.app",
            "a.bc",
            "A",
        ];
        for pat in ["**", "a", "a.b", "a.", "docker.app", "a-b_c.d", "A"] {
            let p = TagPattern::new(pat).unwrap();
            assert!(!matches!(p.matcher, Matcher::Regex(_)), "{pat}");
            let re = Regex::new(&format!(r"\A(?:{})\z", glob_to_regex(pat))).unwrap();
            for t in tags {
                assert_eq!(p.matches(t), re.is_match(t), "{pat} on {t:?}");
            }
        }
        for pat in ["a.*", "{a,b}", "a\\.b", "x,y"] {
            assert!(
                matches!(TagPattern::new(pat).unwrap().matcher, Matcher::Regex(_)),
                "{pat}"
            );
        }
    }

    fn check(pat: &str, yes: &[&str], no: &[&str]) {
        let p = MatchPattern::new(pat).unwrap();
        for t in yes {
            assert!(p.matches(t), "{pat} should match {t:?}");
        }
        for t in no {
            assert!(!p.matches(t), "{pat} should not match {t:?}");
        }
    }

    // Reference §7.1, cases 1–12.
    #[test]
    fn case_01_single_star() {
        check("a.*", &["a.b", "a."], &["a", "a.b.c"]);
    }
    #[test]
    fn case_02_double_star_suffix() {
        check("a.**", &["a", "a.b", "a.b.c", "a."], &["ab"]);
    }
    #[test]
    fn case_03_double_star_prefix() {
        check("**.a", &["a", "x.a", "x.y.a"], &["xa"]);
    }
    #[test]
    fn case_04_double_star_middle() {
        check("a.**.b", &["a.b", "a.x.b", "a.x.y.b"], &["ab", "a.bb"]);
    }
    #[test]
    fn case_05_star_and_double_star_alone() {
        check("*", &["a", ""], &["a.b"]);
        check("**", &["", "a.b.c"], &[]);
    }
    #[test]
    fn case_06_braces() {
        check("a.{b,c}", &["a.b", "a.c"], &["a.d", "a.bc"]);
    }
    #[test]
    fn case_07_braces_with_glob() {
        check("a.{b,c.**}", &["a.b", "a.c", "a.c.d"], &["a.b.d"]);
    }
    #[test]
    fn case_08_empty_part() {
        check("a.*.c", &["a.b.c", "a..c"], &["a.b.d.c"]);
    }
    #[test]
    fn case_09_regex() {
        check(r"/a\.(b|c)/", &["a.b"], &["a.d", "xa.b"]);
        // Ruby's reading: \A and \Z around the body without a group, Ruby syntax.
        check("/a|b/", &["a.x", "x.b", "a"], &["x.a", "b.x"]);
        check(
            r"/(?<app>web)\.(?!debug)\w+/",
            &["web.info"],
            &["web.debug", "api.info"],
        );
    }
    #[test]
    fn case_10_star_within_part() {
        check("a*", &["a", "abc"], &["a.b"]);
        check("*.b", &[".b"], &["b"]);
    }
    #[test]
    fn case_11_escapes_and_literals() {
        check(r"a\*", &["a*"], &["a", "ab"]);
        check("a.b-c", &["a.b-c"], &["a.bxc"]);
    }
    #[test]
    fn case_12_several_patterns_and_empty() {
        check("a.** b.*", &["b.x", "a", "a.q.r"], &["b.x.y"]);
        check("", &["x", "x.y", ""], &[]);
        check("a.{b,}", &["a.b", "a."], &["a"]);
    }
    #[test]
    fn nested_braces() {
        check("x.{a,{b,c}.d}", &["x.a", "x.b.d", "x.c.d"], &["x.b", "x.d"]);
    }
    #[test]
    fn bad_regex_patterns_are_errors() {
        assert!(TagPattern::new("/abc").is_err());
        assert!(TagPattern::new("/(/").is_err());
    }
}
