//! A positive look-behind holding a negative one below its top level (inside a group or an
//! alternative) and a capture group or `\K` (`(?<=(?:(?<!y)x|z)(b))a`, `(?<=(?:a(?<!x))\Kb)c`),
//! which Oniguruma refuses as written and its usual writing (the negation of a negative
//! look-behind) cannot hold: split in two at the same position,
//! `(?<!(?<!P'))(?<=P'')`, P' being the body without its captures and `\K` (whether it matches)
//! and P'' the body without its negative look-behinds (what it captures, where `\K` is).
//!
//! The same as Ruby's reading when no capture group nor `\K` sits in an alternation (of the body
//! or of a group in it): Ruby's rules give the body's parts outside top-level alternatives fixed
//! lengths (a group's alternatives one length), so such a group captures the same text on every
//! way the body can match, and P'' matches wherever P does. `None` for other look-behinds (left
//! to the caller's writing, or refusal).

use super::{bracket_end, drop_keeps, escape_end, group_close, non_capturing_groups};

/// The longest string a negative look-behind is written out for.
const MOST_CHARACTERS: usize = 16;

/// The look-behind `group` (`(?<=…)`, Oniguruma's Ruby syntax as the rewriter wrote it) split in
/// two, when it holds a capture group or `\K`, none in an alternation.
pub(super) fn split_behind(group: &str) -> Option<String> {
    let body: Vec<char> = group
        .strip_prefix("(?<=")?
        .strip_suffix(')')?
        .chars()
        .collect();
    let mut found = false;
    if !outside_alternations(&body, false, &mut found) || !found {
        return None;
    }
    let text: String = body.iter().collect();
    let matching = drop_keeps(&non_capturing_groups(&text));
    let capturing = without_negatives(&body);
    Some(format!("(?<!(?<!{matching}))(?<={capturing})"))
}

/// Are the capture groups and `\K`s of `s` (a sequence, `in_alt` when an alternation encloses
/// it) outside every alternation? `found`: one was seen.
fn outside_alternations(s: &[char], in_alt: bool, found: &mut bool) -> bool {
    let in_alt = in_alt || has_top_bar(s);
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '\\' => {
                if s.get(k + 1) == Some(&'K') {
                    *found = true;
                    if in_alt {
                        return false;
                    }
                }
                k = escape_end(s, k);
            }
            '[' => k = bracket_end(s, k),
            '(' => {
                let end = group_close(s, k);
                if s.get(end.wrapping_sub(1)) != Some(&')') {
                    return false;
                }
                let (open, capture) = match (s.get(k + 1), s.get(k + 2), s.get(k + 3)) {
                    // A negative look-behind: what it holds is only tested.
                    (Some('?'), Some('<'), Some('!')) => {
                        k = end;
                        continue;
                    }
                    (Some('?'), Some('<'), Some('=')) => (4, false),
                    (Some('?'), Some('<' | '\''), _) => {
                        let quote = if s[k + 2] == '<' { '>' } else { '\'' };
                        let Some(name) = s[k + 3..end].iter().position(|&c| c == quote) else {
                            return false;
                        };
                        (name + 4, true)
                    }
                    (Some('?'), _, _) => {
                        // `(?:`, `(?imx-imx:`, `(?>`: the body after the colon or `>`.
                        let Some(colon) =
                            s[k + 2..end].iter().position(|&c| matches!(c, ':' | '>'))
                        else {
                            return false;
                        };
                        (colon + 3, false)
                    }
                    _ => (1, true),
                };
                if capture {
                    *found = true;
                    if in_alt {
                        return false;
                    }
                }
                if !outside_alternations(&s[k + open..end - 1], in_alt, found) {
                    return false;
                }
                k = end;
            }
            _ => k += 1,
        }
    }
    true
}

/// Does `s` have a `|` at its top level?
pub(super) fn has_top_bar(s: &[char]) -> bool {
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '\\' => k = escape_end(s, k),
            '[' => k = bracket_end(s, k),
            '(' => k = group_close(s, k),
            '|' => return true,
            _ => k += 1,
        }
    }
    false
}

/// `s` without its negative look-behinds (at any depth).
fn without_negatives(s: &[char]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut k = 0;
    while k < s.len() {
        let end = match s[k] {
            '\\' => escape_end(s, k),
            '[' => bracket_end(s, k),
            '(' if s.get(k + 1..k + 4) == Some(&['?', '<', '!'][..]) => {
                k = group_close(s, k);
                continue;
            }
            _ => k + 1,
        };
        out.extend(&s[k..end.min(s.len())]);
        k = end.max(k + 1);
    }
    out
}

/// The look-behind `group` (`(?<=…)`, as the rewriter wrote it) with each negative look-behind in
/// it written as what it means without one: `(?<!Y)` is "the text before does not end with Y", for
/// `Y` a few alternatives, each a string of characters and classes (`y`, `[ab]\w`) or one anchor,
/// `(?<!ab)` as `(?:(?<=\A)|(?<=\A(?m:.))|(?<=[^a](?m:.))|(?<=[^b]))` (too short, or one of its
/// characters is not there); `(?<!\b)` as `\B`, `(?<!\A)` as `(?<=(?m:.))` (not `^`: Ruby's does
/// not match after a final newline, which no look-behind can tell). A test of no capture: every
/// way the look-behind matches, and what it captures, stay Ruby's (the caller keeps patterns
/// that refer to their groups away: Ruby may come back into the look-behind for another way).
/// `None` when it holds another negative look-behind.
pub(super) fn without_negative_behinds(group: &str) -> Option<String> {
    let s: Vec<char> = group.chars().collect();
    let mut out = String::with_capacity(group.len() * 2);
    let mut k = 0;
    let mut any = false;
    while k < s.len() {
        let end = match s[k] {
            '\\' => escape_end(&s, k),
            '[' => bracket_end(&s, k),
            '(' if s.get(k + 1..k + 4) == Some(&['?', '<', '!'][..]) => {
                let end = group_close(&s, k);
                let y: String = s.get(k + 4..end.checked_sub(1)?)?.iter().collect();
                out.push_str(&not_ending_with(&y)?);
                any = true;
                k = end;
                continue;
            }
            _ => k + 1,
        };
        out.extend(&s[k..end.min(s.len())]);
        k = end.max(k + 1);
    }
    any.then_some(out)
}

/// "The text before does not end with `y`" (a negative look-behind's body) without a negative
/// look-behind, or `None`.
fn not_ending_with(y: &str) -> Option<String> {
    let mut out = String::new();
    for alt in super::alternatives_of(y) {
        let written = match alt {
            "\\A" => "(?<=(?m:.))".to_string(),
            "\\b" => "\\B".to_string(),
            "\\B" => "\\b".to_string(),
            "(?W:\\b)" => "(?W:\\B)".to_string(),
            "(?W:\\B)" => "(?W:\\b)".to_string(),
            _ => {
                let others = other_characters(alt)?;
                let n = others.len();
                // (Written out, a string's length squared: long ones are left alone.)
                if n > MOST_CHARACTERS {
                    return None;
                }
                let mut ways: Vec<String> = (0..n)
                    .map(|short| format!("(?<=\\A{})", "(?m:.)".repeat(short)))
                    .collect();
                for (i, other) in others.iter().enumerate() {
                    ways.push(format!("(?<={other}{})", "(?m:.)".repeat(n - 1 - i)));
                }
                format!("(?:{})", ways.join("|"))
            }
        };
        out.push_str(&written);
    }
    Some(out)
}

/// For a string of characters and classes (no anchor, group, repetition or `.`), each item's
/// complement as a class: `a` as `[^a]`, `[ab]` as `[^[ab]]`, `\w` as `[^\w]`. `None` for any
/// other text, or an empty one.
fn other_characters(alt: &str) -> Option<Vec<String>> {
    let s: Vec<char> = alt.chars().collect();
    let mut items = Vec::new();
    let mut k = 0;
    while k < s.len() {
        let end = match s[k] {
            '\\' => {
                // Escapes of one character or class; not anchors, references, \R, \X, \c ….
                let e = *s.get(k + 1)?;
                if e.is_ascii_digit() || "bBAzZGKkgRXyYcCMNO".contains(e) {
                    return None;
                }
                escape_end(&s, k)
            }
            '[' => bracket_end(&s, k),
            '(' | ')' | '|' | '.' | '^' | '$' | '*' | '+' | '?' | '{' | '}' => return None,
            _ => k + 1,
        };
        let item: String = s[k..end.min(s.len())].iter().collect();
        items.push(if item.starts_with(['[', '\\']) {
            format!("[^{item}]")
        } else {
            let c = item.chars().next()?;
            format!("[^\\x{{{:X}}}]", c as u32)
        });
        k = end.max(k + 1);
    }
    (!items.is_empty()).then_some(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_when_captures_are_outside_alternations() {
        assert_eq!(
            split_behind("(?<=(?:(?<!y)x|z)(b))").as_deref(),
            Some("(?<!(?<!(?:(?<!y)x|z)(?:b)))(?<=(?:x|z)(b))")
        );
        assert_eq!(
            split_behind("(?<=(?:a(?<!x))\\Kb)").as_deref(),
            Some("(?<!(?<!(?:a(?<!x))b))(?<=(?:a)\\Kb)")
        );
        // A capture in an alternation: its text depends on the way the body matched.
        assert_eq!(split_behind("(?<=(?:(?<!y)(x)|z))"), None);
        assert_eq!(split_behind("(?<=(?<!y)x|(z))"), None);
        // Nothing to keep: the caller's negation.
        assert_eq!(split_behind("(?<=(?:(?<!y)x|z))"), None);
    }

    #[test]
    fn negative_look_behinds_written_without_one() {
        assert_eq!(
            without_negative_behinds("(?<=(?:(?<!y)(x)|z))").as_deref(),
            Some("(?<=(?:(?:(?<=\\A)|(?<=[^\\x{79}]))(x)|z))")
        );
        assert_eq!(
            without_negative_behinds("(?<=a(?<!a|\\b))").as_deref(),
            Some("(?<=a(?:(?<=\\A)|(?<=[^\\x{61}]))\\B)")
        );
        assert_eq!(
            without_negative_behinds("(?<=(?<![ab]\\w))").as_deref(),
            Some("(?<=(?:(?<=\\A)|(?<=\\A(?m:.))|(?<=[^[ab]](?m:.))|(?<=[^\\w])))")
        );
        for kept in [
            "(?<=(?<!a.)b)",
            "(?<=(?<!(?<!a)b)c)",
            "(?<=(?<!a+)b)",
            "(?<=a)",
        ] {
            assert_eq!(without_negative_behinds(kept), None, "{kept}");
        }
    }

    use super::super::test_support::ruby;

    #[test]
    fn such_look_behinds_run_as_in_ruby() {
        let written = "(?<=(?:(?<!y)(x)|z))a";
        assert_eq!(ruby(written, "xa"), Some(((1, 2), Some((0, 1)))));
        assert_eq!(ruby(written, "yxa"), None);
        assert_eq!(ruby(written, "yza"), Some(((2, 3), None)));
        assert_eq!(
            ruby("(?<=(?:(?<!y.)x|z)(b))a", "zba"),
            Some(((2, 3), Some((1, 2))))
        );
        assert_eq!(ruby("(?<=(?:a(?<!x))\\Kb)c", "abc"), Some(((1, 3), None)));
        // A group of alternatives below the top level: taken out to it (Ruby 3.1's matches).
        let nested = "(?<=w(?:(?<!y.)(x)|z))a";
        assert_eq!(ruby(nested, "wxa"), Some(((2, 3), Some((1, 2)))));
        assert_eq!(ruby(nested, "wza"), Some(((2, 3), None)));
        assert_eq!(ruby(nested, "ywxa"), None);
        // (Of several lengths below the top level: Ruby refuses it, so does logferry.)
        let e = crate::ruby_regexp::compile("(?<=(?<!y)(?:x|bc))s", "").unwrap_err();
        assert!(e.contains("look-behind"), "{e}");
        // In a pattern that refers to its groups: still refused (Ruby may come back into it).
        let e = crate::ruby_regexp::compile("(?<=(?:(?<!y)(x)|z))a\\1", "").unwrap_err();
        assert!(e.contains("capture group"), "{e}");
    }
}
