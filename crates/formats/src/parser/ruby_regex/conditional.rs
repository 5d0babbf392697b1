//! Conditionals (`(?(1)a|b)`, `(?(<n>)a)`) as Onigmo reads them, written for Oniguruma.
//!
//! Onigmo's parser (`parse_enclose`, `(?(`) takes a condition by name as the leftmost group of
//! that name and reads no level in it (`(?(<n-1>)x|y)` asks whether `n` matched, as
//! `(?(<n>)x|y)`), and takes the conditional's branches from its body's node: a body that is one
//! non-capturing group of two alternatives, `(?(1)(?:a|b))`, is `(?(1)a|b)` (the group is no
//! node of its own), three are Ruby's error. Oniguruma 6.9 asks a condition by name whether any
//! group of that name matched, at the recursion level given, and keeps such a group as one
//! branch. Under `x`, white space around such a group is skipped. (A body of one branch, `(?(1)a)`, is Onigmo's `(?(1)a|)`, written so by
//! [`super::rewrite`]: Oniguruma fails such a conditional followed by anything.)

use std::borrow::Cow;

use super::{bracket_end, comment_end, conditional_branches, group_close, past};

/// `src` (Ruby syntax) with each conditional written as Onigmo reads it (see the
/// module documentation): the level of a condition by name dropped, a body that is one
/// non-capturing group of two alternatives written as those two branches. A condition naming a
/// group whose name another group has is refused (Oniguruma asks whether any of them matched,
/// Onigmo the leftmost); a body whose group holds three alternatives or more is Ruby's error.
pub(super) fn as_onigmo_reads<'a>(src: &'a str, flags: &str) -> Result<Cow<'a, str>, String> {
    if !src.contains("(?(") {
        return Ok(Cow::Borrowed(src));
    }
    let s: Vec<char> = src.chars().collect();
    let x = flags.contains('x') || super::counted::has_option_x(&s);
    let mut out = String::with_capacity(src.len());
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '\\' => {
                let end = (k + 2).min(s.len());
                out.extend(&s[k..end]);
                k = end;
            }
            '[' => {
                let end = bracket_end(&s, k);
                out.extend(&s[k..end]);
                k = end;
            }
            '(' if s.get(k + 1) == Some(&'?') && s.get(k + 2) == Some(&'#') => {
                let end = comment_end(&s, k).unwrap_or(s.len());
                out.extend(&s[k..end]);
                k = end;
            }
            '(' if s.get(k + 1) == Some(&'?') && s.get(k + 2) == Some(&'(') => {
                let cond_end = past(&s, k + 3, ')');
                let cond = &s[k + 3..cond_end.saturating_sub(1).max(k + 3)];
                out.push_str("(?(");
                out.push_str(&condition(&s, cond)?);
                out.push(')');
                let close = group_close(&s, k);
                let body = &s[cond_end.min(close)..close.saturating_sub(1).max(cond_end)];
                match dissolved(body, x) {
                    Some(inner) => {
                        let inner: String = inner.iter().collect();
                        if conditional_branches(&inner) > 2 {
                            return Err("invalid conditional pattern".into());
                        }
                        // (Conditionals inside are read in turn.)
                        out.push_str(&as_onigmo_reads(&inner, flags)?);
                        if close > cond_end && s.get(close - 1) == Some(&')') {
                            out.push(')');
                        }
                        k = close;
                    }
                    None => k = cond_end,
                }
            }
            c => {
                out.push(c);
                k += 1;
            }
        }
    }
    Ok(Cow::Owned(out))
}

/// A condition (the text inside `(?(…)`) as Onigmo reads it: a name without its level
/// (`<n-1>` as `<n>`, `'1+0'` as `'1'`); a name that several groups have refused.
fn condition(s: &[char], cond: &[char]) -> Result<String, String> {
    let text: String = cond.iter().collect();
    let (Some(&open), Some(&last)) = (cond.first(), cond.last()) else {
        return Ok(text);
    };
    if !matches!((open, last), ('<', '>') | ('\'', '\'')) || cond.len() < 3 {
        return Ok(text);
    }
    let inner = &cond[1..cond.len() - 1];
    let digits = |t: &[char]| !t.is_empty() && t.iter().all(char::is_ascii_digit);
    let name_end = inner
        .iter()
        .rposition(|c| matches!(c, '+' | '-'))
        .filter(|&p| p > 0 && digits(&inner[p + 1..]))
        .unwrap_or(inner.len());
    let name: String = inner[..name_end].iter().collect();
    if !digits(&inner[..name_end]) && groups_named(s, &name) > 1 {
        return Err(super::unlike_ruby(
            &format!(
                "a conditional naming a group whose name other groups have too ((?({text})…))"
            ),
            "Ruby's engine asks whether the leftmost group of that name matched, Oniguruma \
             whether any did; give the groups different names and name the one meant in the \
             condition",
        ));
    }
    Ok(format!("{open}{name}{last}"))
}

/// How many groups of `s` are named `name` (`(?<name>…)`, `(?'name'…)`).
fn groups_named(s: &[char], name: &str) -> usize {
    let mut count = 0;
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '\\' => k += 2,
            '[' => k = bracket_end(s, k),
            '(' if s.get(k + 1) == Some(&'?') => {
                let quote = match s.get(k + 2) {
                    Some('<') if !matches!(s.get(k + 3), Some('=' | '!')) => '>',
                    Some('\'') => '\'',
                    _ => {
                        k += 2;
                        continue;
                    }
                };
                let end = past(s, k + 3, quote);
                let n: String = s[k + 3..end.saturating_sub(1).max(k + 3)].iter().collect();
                count += usize::from(n == name);
                k = end;
            }
            _ => k += 1,
        }
    }
    count
}

/// The inner text of `body` (a conditional's) when it is one non-capturing group, `(?:…)`,
/// itself maybe such a group in turn, holding alternatives at its top level: Onigmo keeps no
/// node for the group, so its alternatives are the conditional's branches. Under `x` (`x`),
/// white space around the group is skipped, as Onigmo's reader skips it
/// (`/(?(1) (?:a|b) )/x` has two branches).
fn dissolved(body: &[char], x: bool) -> Option<&[char]> {
    let trim = |b: &[char]| -> (usize, usize) {
        if !x {
            return (0, b.len());
        }
        let from = b
            .iter()
            .position(|c| !c.is_ascii_whitespace())
            .unwrap_or(b.len());
        let to = b
            .iter()
            .rposition(|c| !c.is_ascii_whitespace())
            .map_or(from, |e| e + 1);
        (from, to)
    };
    let mut cur = body;
    let mut any = false;
    loop {
        let (from, to) = trim(cur);
        let t = &cur[from..to];
        if !(t.starts_with(&['(', '?', ':']) && group_close(t, 0) == t.len() && t.ends_with(&[')']))
        {
            break;
        }
        cur = &t[3..t.len() - 1];
        any = true;
    }
    let inner: String = cur.iter().collect();
    (any && super::alternatives_of(&inner).len() > 1).then_some(cur)
}

#[cfg(test)]
mod tests {
    use super::as_onigmo_reads;

    #[test]
    fn conditionals_are_written_as_onigmo_reads_them() {
        let read = |s: &str| as_onigmo_reads(s, "").map(|c| c.into_owned());
        // A level in a condition is not read; a group of two alternatives is the branches.
        assert_eq!(
            read(r"(?<n>a)?(?(<n-1>)x|y)").unwrap(),
            r"(?<n>a)?(?(<n>)x|y)"
        );
        assert_eq!(read("(a)?(?('1+0')x)").unwrap(), "(a)?(?('1')x)");
        assert_eq!(read("(x)?(?(1)(?:(?:a|b)))c").unwrap(), "(x)?(?(1)a|b)c");
        assert_eq!(
            read("(x)?(?(1)(?:a|(?(1)(?:c|d))))").unwrap(),
            "(x)?(?(1)a|(?(1)c|d))"
        );
        // Not a group of the whole body, an option group, a group of one alternative.
        for kept in [
            "(x)?(?(1)(?:a|b)c)",
            "(x)?(?(1)(?i:a|b))",
            "(x)?(?(1)(?:ab))",
        ] {
            assert_eq!(read(kept).unwrap(), kept);
        }
        assert!(read("(x)?(?(1)(?:a|b|d))").is_err());
        // Under `x`, white space around the group is skipped.
        let x = as_onigmo_reads("(x)?(?(1) (?: a|b ) )c", "x").unwrap();
        assert_eq!(x, "(x)?(?(1) a|b )c");
        assert_eq!(
            read("(x)?(?(1) (?:a|b) )c").unwrap(),
            "(x)?(?(1) (?:a|b) )c"
        );
        // (An escaped parenthesis before one.)
        assert_eq!(read(r"\(?(?(1)(?:a|b))").unwrap(), r"\(?(?(1)a|b)");
        // A name that two groups have.
        let e = read("(?:(?<n>a)|(?<n>b))(?(<n>)x|y)").unwrap_err();
        assert!(e.contains("leftmost group"), "{e}");
        assert_eq!(read("[(?(1)(?:a|b))]").unwrap(), "[(?(1)(?:a|b))]");
    }

    #[test]
    fn a_conditional_of_one_branch_gets_an_empty_second_one() {
        let written = |s: &str| super::super::for_oniguruma(s, "").unwrap().pattern;
        assert_eq!(written("(b)(?(1)a)b"), "(b)(?(1)(?:a)|)b");
        assert_eq!(written("(b)(?(1))c"), "(b)(?(1)(?:)|)c");
        // An option without a group takes the alternatives after it: still one branch.
        assert_eq!(written("(b)(?(1)a(?i)B|c)x"), "(b)(?(1)(?:a(?i)B|c)|)x");
        assert_eq!(written("(b)(?(1)a|c)x"), "(b)(?(1)a|c)x");
    }
}
