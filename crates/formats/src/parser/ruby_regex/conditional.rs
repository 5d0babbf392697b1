//! Conditionals (`(?(1)a|b)`, `(?(<n>)a)`) as Onigmo reads them, written for Oniguruma.
//!
//! Onigmo's parser (`parse_enclose`, `(?(`) takes a condition by name as the leftmost group of
//! that name and reads no level in it (`(?(<n-1>)x|y)` asks whether `n` matched, as
//! `(?(<n>)x|y)`), and takes the conditional's branches from its body's node: a body that is one
//! non-capturing group of two alternatives, `(?(1)(?:a|b))`, is `(?(1)a|b)` (the group is no
//! node of its own), three are Ruby's error. Oniguruma 6.9 asks a condition by name whether any
//! group of that name matched, at the recursion level given, and keeps such a group as one
//! branch (a condition by a shared name, or by number beside names, which Oniguruma does not
//! take, is written by the group it asks about: see [`by_group`]). Under `x`, white space around
//! such a group is skipped. (A body of one branch, `(?(1)a)`, is Onigmo's `(?(1)a|)`, written so by
//! [`super::rewrite`]: Oniguruma fails such a conditional followed by anything.)

use std::borrow::Cow;

use super::{bracket_end, comment_end, conditional_branches, group_close, past};

/// `src` (Ruby syntax) with each conditional written as Onigmo reads it (see the
/// module documentation): the level of a condition by name dropped, a body that is one
/// non-capturing group of two alternatives written as those two branches, and each condition
/// by number or by a name several groups have asking about the group Onigmo's does
/// ([`by_group`]); a body whose group holds three alternatives or more is Ruby's error.
pub(super) fn as_onigmo_reads<'a>(src: &'a str, flags: &str) -> Result<Cow<'a, str>, String> {
    match bodies_read(src, flags)? {
        Cow::Borrowed(b) => by_group(b),
        Cow::Owned(o) => Ok(Cow::Owned(by_group(&o)?.into_owned())),
    }
}

/// [`as_onigmo_reads`] but for the groups conditions name ([`by_group`]).
fn bodies_read<'a>(src: &'a str, flags: &str) -> Result<Cow<'a, str>, String> {
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
                out.push_str(&condition(cond));
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
                        out.push_str(&bodies_read(&inner, flags)?);
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

/// A condition (the text inside `(?(…)`) as Onigmo reads it: a name or number without its level
/// (`<n-1>` as `<n>`, `'1+0'` as `'1'`, `<-1+0>` as `<-1>`).
fn condition(cond: &[char]) -> String {
    let text: String = cond.iter().collect();
    let (Some(&open), Some(&last)) = (cond.first(), cond.last()) else {
        return text;
    };
    if !matches!((open, last), ('<', '>') | ('\'', '\'')) || cond.len() < 3 {
        return text;
    }
    let inner = &cond[1..cond.len() - 1];
    let name: String = inner[..name_end(inner)].iter().collect();
    format!("{open}{name}{last}")
}

/// Where the name or number of a condition's inner text (inside `<…>` or `'…'`) ends: before
/// its level (`+0`, `-1`), if any.
fn name_end(inner: &[char]) -> usize {
    let digits = |t: &[char]| !t.is_empty() && t.iter().all(char::is_ascii_digit);
    inner
        .iter()
        .rposition(|c| matches!(c, '+' | '-'))
        .filter(|&p| p > 0 && digits(&inner[p + 1..]))
        .unwrap_or(inner.len())
}

/// The prefix of the names given to the groups conditions ask about by another name (see
/// [`by_group`]); a group so named is not one of Ruby's.
pub const COND_GROUP: &str = "__logferry_cond";

/// A capture group of a pattern, in Onigmo's parse order (by its opening parenthesis).
pub(super) struct Group {
    /// Where its `(` stands.
    pub(super) open: usize,
    /// Just past its `)`.
    pub(super) close: usize,
    /// Its name, if it has one.
    pub(super) name: Option<String>,
}

/// The capture groups of `s` (Ruby syntax), named (`(?<n>…)`, `(?'n'…)`) or not, in order.
pub(super) fn groups(s: &[char]) -> Vec<Group> {
    let mut out = Vec::new();
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '\\' => k += 2,
            '[' => k = bracket_end(s, k),
            '(' if s.get(k + 1) == Some(&'?') && s.get(k + 2) == Some(&'#') => {
                k = comment_end(s, k).unwrap_or(s.len());
            }
            '(' if s.get(k + 1) == Some(&'?') => {
                let quote = match s.get(k + 2) {
                    Some('<') if !matches!(s.get(k + 3), Some('=' | '!')) => '>',
                    Some('\'') => '\'',
                    // (A condition's parenthesis opens no group.)
                    Some('(') => {
                        k = past(s, k + 3, ')');
                        continue;
                    }
                    _ => {
                        k += 2;
                        continue;
                    }
                };
                let end = past(s, k + 3, quote);
                let name: String = s[k + 3..end.saturating_sub(1).max(k + 3)].iter().collect();
                out.push(Group {
                    open: k,
                    close: group_close(s, k),
                    name: Some(name),
                });
                k = end;
            }
            '(' => {
                out.push(Group {
                    open: k,
                    close: group_close(s, k),
                    name: None,
                });
                k += 1;
            }
            _ => k += 1,
        }
    }
    out
}

/// `src` (Ruby syntax, conditions without levels) with each condition asking about the group
/// Onigmo's does, for Oniguruma:
///
/// * A number in `<…>` or `'…'` counts every group in Onigmo's parser, named or not, and one
///   with a sign counts back from the condition (`(?(<-1>)…)`, the last group opened before
///   it). Without names, a relative number is written as the group's; with names (where
///   Oniguruma takes no number), the group's name, or, when that group has none (it captures
///   nothing once Onigmo numbers only the named groups), the conditional is written as its
///   second branch (`(?(<1>)a|b)` as `(?:(?!)a|b)`).
/// * A name several groups have asks only about the leftmost of them (Oniguruma would ask
///   whether any matched), and so does a number naming one such group: that group is wrapped
///   in a group of a name of its own, [`COND_GROUP`] and its place (captures as it does), which
///   the condition names.
///
/// A number past the groups, or counting back past the first, is Ruby's error; so is a
/// condition naming no group.
fn by_group(src: &str) -> Result<Cow<'_, str>, String> {
    if !src.contains("(?(") {
        return Ok(Cow::Borrowed(src));
    }
    let s: Vec<char> = src.chars().collect();
    let all = groups(&s);
    let named = all.iter().any(|g| g.name.is_some());
    let sharing = |name: &str| {
        all.iter()
            .filter(|g| g.name.as_deref() == Some(name))
            .count()
            > 1
    };
    // Text to put before a position (with an order among those at one position: a group's
    // close, then a conditional's end, then a group's opening), and the conditions rewritten.
    let mut inserts: Vec<(usize, u8, String)> = Vec::new();
    let mut conditions: Vec<(usize, usize, String)> = Vec::new();
    let mut wrapped: Vec<usize> = Vec::new();
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '\\' => k += 2,
            '[' => k = bracket_end(&s, k),
            '(' if s.get(k + 1) == Some(&'?') && s.get(k + 2) == Some(&'#') => {
                k = comment_end(&s, k).unwrap_or(s.len());
            }
            '(' if s.get(k + 1) == Some(&'?') && s.get(k + 2) == Some(&'(') => {
                let cond_end = past(&s, k + 3, ')');
                let cond = &s[k + 3..cond_end.saturating_sub(1).max(k + 3)];
                let (open, last) = match (cond.first(), cond.last()) {
                    (Some(&o), Some(&l)) if cond.len() > 2 => (o, l),
                    _ => {
                        k += 3;
                        continue;
                    }
                };
                if !matches!((open, last), ('<', '>') | ('\'', '\'')) {
                    k += 3;
                    continue;
                }
                let inner = &cond[1..cond.len() - 1];
                let digits = |t: &[char]| !t.is_empty() && t.iter().all(char::is_ascii_digit);
                let before = all.iter().take_while(|g| g.open < k).count();
                let target = if digits(inner) {
                    let n: String = inner.iter().collect();
                    Some(n.parse::<usize>().unwrap_or(usize::MAX))
                } else if inner[0] == '-' && digits(&inner[1..]) {
                    let n: String = inner[1..].iter().collect();
                    let back = n.parse::<usize>().unwrap_or(usize::MAX);
                    Some((before + 1).saturating_sub(back))
                } else {
                    None
                };
                let Some(number) = target else {
                    // A name.
                    let name: String = inner.iter().collect();
                    if sharing(&name) {
                        let first = all
                            .iter()
                            .position(|g| g.name.as_deref() == Some(name.as_str()))
                            .unwrap_or(0);
                        wrapped.push(first);
                        conditions.push((k + 3, cond_end - 1, format!("<{COND_GROUP}{first}>")));
                    }
                    k += 3;
                    continue;
                };
                if number == 0 || number > all.len() {
                    return Err("invalid backref number/name".into());
                }
                let group = &all[number - 1];
                if !named {
                    if !digits(inner) {
                        conditions.push((k + 3, cond_end - 1, number.to_string()));
                    }
                } else if let Some(name) = &group.name {
                    if group.open > k {
                        return Err(super::unlike_ruby(
                            &format!(
                                "a conditional asking by number about a named group defined \
                                 after it ((?({})…))",
                                cond.iter().collect::<String>()
                            ),
                            "Oniguruma takes no number in a pattern with named groups, and \
                             no name before its group; move the conditional after the group",
                        ));
                    }
                    if sharing(name) {
                        wrapped.push(number - 1);
                        conditions.push((
                            k + 3,
                            cond_end - 1,
                            format!("<{COND_GROUP}{}>", number - 1),
                        ));
                    } else {
                        conditions.push((k + 3, cond_end - 1, format!("<{name}>")));
                    }
                } else {
                    // An unnamed group captures nothing: the condition never holds.
                    let close = group_close(&s, k);
                    if close <= cond_end || s.get(close - 1) != Some(&')') {
                        k += 3;
                        continue;
                    }
                    let body: String = s[cond_end..close - 1].iter().collect();
                    if super::conditional_branches(&body) < 2 {
                        conditions.push((k, cond_end, "(?:(?!)(?:".into()));
                        inserts.push((close - 1, 1, ")|".into()));
                    } else {
                        conditions.push((k, cond_end, "(?:(?!)".into()));
                    }
                }
                k += 3;
            }
            _ => k += 1,
        }
    }
    if conditions.is_empty() {
        return Ok(Cow::Borrowed(src));
    }
    wrapped.sort_unstable();
    wrapped.dedup();
    for &w in &wrapped {
        inserts.push((all[w].open, 2, format!("(?<{COND_GROUP}{w}>")));
        inserts.push((all[w].close, 0, ")".into()));
    }
    inserts.sort();
    conditions.sort();
    let mut out = String::with_capacity(src.len() + 32);
    let (mut ins, mut cnd) = (inserts.iter().peekable(), conditions.iter().peekable());
    let mut k = 0;
    while k <= s.len() {
        while let Some((_, _, text)) = ins.next_if(|(at, _, _)| *at == k) {
            out.push_str(text);
        }
        if let Some((_, end, text)) = cnd.next_if(|(at, _, _)| *at == k) {
            out.push_str(text);
            k = *end;
            continue;
        }
        if let Some(&c) = s.get(k) {
            out.push(c);
        }
        k += 1;
    }
    Ok(Cow::Owned(out))
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
        // A name that two groups have: the leftmost asked about, under a name of its own.
        assert_eq!(
            read("(?:(?<n>a)|(?<n>b))(?(<n>)x|y)").unwrap(),
            "(?:(?<__logferry_cond0>(?<n>a))|(?<n>b))(?(<__logferry_cond0>)x|y)"
        );
        assert_eq!(
            read("(?<n>a)?(?<n>b)?(?('2+0')x)").unwrap(),
            "(?<n>a)?(?<__logferry_cond1>(?<n>b))?(?(<__logferry_cond1>)x)"
        );
        // A number beside names: counted over every group, named or not.
        assert_eq!(read("(?<n>a)?(?(<1>)x|y)").unwrap(), "(?<n>a)?(?(<n>)x|y)");
        assert_eq!(
            read("(b)(?<n>a)(?(<-1>)x|y)").unwrap(),
            "(b)(?<n>a)(?(<n>)x|y)"
        );
        assert_eq!(
            read("(b)(?<n>a)(?(<1>)x|y)").unwrap(),
            "(b)(?<n>a)(?:(?!)x|y)"
        );
        assert_eq!(
            read("(b)(?<n>a)(?(<1>)x)").unwrap(),
            "(b)(?<n>a)(?:(?!)(?:x)|)"
        );
        assert_eq!(read("(a)(b)?(?(<-1+0>)x|y)").unwrap(), "(a)(b)?(?(2)x|y)");
        for wrong in ["(a)(?(<-2>)x)", "(?<n>a)(?(<2>)x)", "(a)(?(<0>)x)"] {
            assert_eq!(read(wrong).unwrap_err(), "invalid backref number/name");
        }
        assert!(read("(?(<2>)x|y)(?<n>a)(?<m>b)").is_err());
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
