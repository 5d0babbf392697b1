//! Onigmo's test for an empty iteration of a loop with capture groups in it (its
//! `STACK_NULL_CHECK_MEMST`) reads each capture group's value from before the iteration: when
//! the loop's body matched the empty string, a group that had no value or held text lets the loop
//! go on, one that held the empty string where the iteration started ends the loop, and one that
//! held the empty string elsewhere fails the iteration, so that Ruby tries another way
//! (`/^(?:(b??)a*?,?)*/` matches `,,a` in `,,a`, taking the `a` in the third iteration, and
//! `/(?:(a?)b?)*c/` sets `$1` to the empty string at 0 in `bc`). Rust's engine and Oniguruma end
//! the loop there (`,,`, `$1` at 1). That last case needs a capture group that may match the empty
//! string while the iteration goes on to match text outside it, in a loop whose body may match the
//! empty string, repeated a varying count (each capture group in such a body is on Onigmo's
//! stack), or inside a repeated group (the value from the group's iteration before). Repeated up
//! to a maximum (`{0,3}`, `{1,2}?`), the loop differs whatever follows the group: going on after
//! an empty iteration (a group that held nothing or text before) uses up a count, so that
//! `/a(?:[ab]*?,?(b??)){0,3}$/` sets `$1` to the `b` at 2 in `aab` in Ruby, the empty string at 3
//! where the loop ends at the empty iteration and has a count left (a body that is one capture
//! group, `(?:(a?)){0,3}`, is Onigmo's group repeated, written out by `counted`; a greedy loop
//! over items that all try text first (`greedy_only`) ends alike). Such a loop
//! repeated from none or one without a maximum, or lazily up to a maximum, runs on Oniguruma with
//! the rule applied by callouts ([`instrument`], `crate::ruby_regexp::empty_loops`); the others
//! are refused: the rule cannot be written out for either engine (Onigmo writes a body repeated
//! greedily up to a maximum, or from two or more, out as copies without the test or runs it as a
//! counted loop testing every iteration, by the size of its compiled code).

use super::anychar::quantifiers;
use super::behind_split::has_top_bar;
use super::counted::{has_option, may_be_empty_with, only_empty};
use super::{bracket_end, group_close};

/// Refuse `src` (Ruby syntax, under `flags`) where a loop reads a capture group's stale empty
/// value as Onigmo does (see the module documentation).
pub(crate) fn check(src: &str, flags: &str) -> Result<(), String> {
    if !src.contains('(') {
        return Ok(());
    }
    let raw: Vec<char> = src.chars().collect();
    let x = flags.contains('x') || super::counted::has_option_x(&raw);
    let s = if x { without_extended(&raw) } else { raw };
    let named = has_named(&s);
    match stale_loops(&s, named).first() {
        Some(&(open, close, _)) => Err(refusal(&s[open..close])),
        None => Ok(()),
    }
}

/// The first capture group of `src` (Ruby syntax, under `flags`) that is called (`\g<1>`,
/// `\g<n>`, `\g<-1>`) and whose body is a greedy repetition without a maximum (`(b*)`,
/// `(?<n>\w+)`, `((?:b{2,}))`), with an item after it in its sequence: Onigmo compiles the
/// repetition once, for where the group stands, taking its way out only before the first
/// character of what follows it there (`next_setup` looks through capture groups), and a call
/// runs that code elsewhere (`/(b*)b\g<1>/` matches only `b` in `bb`, and nothing in `b`).
/// Oniguruma reads a called group's repetition without that. (Where the two first characters
/// exclude each other, `/(b*)c\g<1>/`, Onigmo makes the repetition atomic instead, as
/// Oniguruma does; refused all the same here.)
pub(crate) fn called_repetition(src: &str, flags: &str) -> Option<String> {
    if !src.contains("\\g") {
        return None;
    }
    let raw: Vec<char> = src.chars().collect();
    let x = flags.contains('x') || super::counted::has_option_x(&raw);
    let s = if x { without_extended(&raw) } else { raw };
    let refs = Refs::new(&s, has_named(&s));
    // Under `i` (no option in the pattern), characters are read apart.
    let folded = flags.contains('i')
        && !s.windows(3).any(|w| {
            w[0] == '(' && w[1] == '?' && matches!(w[2], 'i' | 'm' | 'x' | 'a' | 'd' | 'u' | '-')
        });
    let opens = group_opens(&s);
    // The groups called (all of them where a call is not read here).
    let mut called = vec![false; refs.groups.len() + 1];
    for (k, _, name) in calls(&s) {
        match refs.resolve(&name, true, &s, k) {
            Some(numbers) => numbers.iter().for_each(|&n| called[n] = true),
            None => called.iter_mut().for_each(|c| *c = true),
        }
    }
    // (Each outermost group read once.)
    let mut read = std::collections::HashSet::new();
    refs.groups
        .iter()
        .enumerate()
        .filter(|&(i, _)| called[i + 1])
        .find(|&(_, &(open, close))| {
            // The outermost group of capture and non-capturing groups around it alone, and
            // what follows that in its sequence.
            let (mut open, mut close) = (open, close);
            while let Some((o, c)) = alone_in(&s, &opens, open, close) {
                (open, close) = (o, c);
            }
            if !read.insert((open, close)) || !quantifiers(&s, close, false).is_empty() {
                return false;
            }
            let Some(repeated) = open_repetition(&s[open..close]) else {
                return false;
            };
            match peek_head(&s, close, folded) {
                None => false,
                // Onigmo makes `b*` before `c` atomic, and reads it so, as Oniguruma does
                // (`i` aside, which folds them); where each call is followed by the same
                // character, the peek changes nothing.
                Some(Some(c)) => {
                    (repeated.is_none_or(|(r, min)| r == c || min > 1) || x_or_i(&s, flags))
                        && !calls_followed_by(&refs, &s, (open, close), c, folded)
                }
                Some(None) => true,
            }
        })
        .map(|(_, &(open, close))| s[open..close].iter().collect())
}

/// The group around `s[open..close]` when that is its whole body and it is a capture group
/// or a non-capturing one (no repetition after `s[open..close]`); `opens` holds where each
/// group of `s` opens, by where it closes.
fn alone_in(
    s: &[char],
    opens: &std::collections::HashMap<usize, usize>,
    open: usize,
    close: usize,
) -> Option<(usize, usize)> {
    if !quantifiers(s, close, false).is_empty() || s.get(close) != Some(&')') {
        return None;
    }
    let o = *opens.get(&(close + 1))?;
    (o < open && body_range(s, o, close + 1) == Some((open, close)) && plain_group(&s[o..=close]))
        .then_some((o, close + 1))
}

/// Where each group of `s` opens, by where it closes (past its `)`).
fn group_opens(s: &[char]) -> std::collections::HashMap<usize, usize> {
    let mut opens = std::collections::HashMap::new();
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '\\' => k += 2,
            '[' => k = bracket_end(s, k),
            '(' => {
                opens.entry(group_close(s, k)).or_insert(k);
                k += 1;
            }
            _ => k += 1,
        }
    }
    opens
}

/// Is the group `g` (from `(` to past `)`) a capture group or a non-capturing one?
fn plain_group(g: &[char]) -> bool {
    g.get(1) != Some(&'?')
        || matches!(g.get(2), Some(':' | '\''))
        || (g.get(2) == Some(&'<') && !matches!(g.get(3), Some('=' | '!')))
}

/// Is the group `g` (from `(` to past `)`) a group (capture or not, through such groups alone
/// in it) whose body is one item repeated greedily without a maximum (`b*`, `\p{L}+`,
/// `[ab]{2,}`; not possessive)? `Some` of the character repeated and the least count, where
/// it is one character (`b*`), or `None`.
#[allow(clippy::option_option)]
fn open_repetition(g: &[char]) -> Option<Option<(char, u32)>> {
    let (from, to) = body_range(g, 0, g.len())?;
    let body = &g[from..to];
    if body.first() == Some(&'(') && group_close(body, 0) == body.len() {
        return if plain_group(body) {
            open_repetition(body)
        } else {
            None
        };
    }
    let end = item_end(body, 0)?;
    let qs = quantifiers(body, end, false);
    let open = qs.last().is_some_and(|q| q.end == body.len())
        && qs
            .iter()
            .any(|q| !q.lazy && !q.possessive && q.max.is_none());
    let literal = (end == 1 && !matches!(body[0], '.' | '\\' | '[' | '(' | '^' | '$'))
        .then(|| (body[0], qs.iter().map(|q| q.min).max().unwrap_or(0)));
    open.then_some(literal)
}

/// Just past the item at `s[k]` (a character, an escape, a class or a group), or `None` where it
/// is not one read here.
fn item_end(s: &[char], k: usize) -> Option<usize> {
    Some(match s.get(k)? {
        '\\' => match (s.get(k + 1), s.get(k + 2)) {
            (Some('p' | 'P' | 'x' | 'u' | 'o' | 'k' | 'g'), Some('{' | '<' | '\'')) => {
                let close = match s[k + 2] {
                    '{' => '}',
                    '<' => '>',
                    _ => '\'',
                };
                s[k + 3..].iter().position(|&c| c == close)? + k + 4
            }
            (Some(_), _) => k + 2,
            (None, _) => return None,
        },
        '[' => bracket_end(s, k),
        '(' => group_close(s, k),
        _ => k + 1,
    })
}

/// Is each call in `s` of a group inside `s[span.0..span.1]` followed by an item Onigmo would
/// peek at `c` for, itself not repeated?
fn calls_followed_by(refs: &Refs, s: &[char], span: (usize, usize), c: char, folded: bool) -> bool {
    calls(s).into_iter().all(|(k, end, name)| {
        let Some(numbers) = refs.resolve(&name, true, s, k) else {
            return false;
        };
        let inside = numbers.iter().any(|&n| {
            n == 0 || {
                let (o, e) = refs.groups[n - 1];
                span.0 <= o && e <= span.1
            }
        });
        !inside
            || quantifiers(s, end, false).is_empty() && peek_head(s, end, folded) == Some(Some(c))
    })
}

/// What Onigmo may peek at from a repetition before the item at `s[k]` (its
/// `get_head_value_node`, exact): `None` where it has nothing (the end of a sequence, an anchor,
/// `.`, a shorthand, a property, a reference, a call, an item repeated from none, an
/// alternation, a negative or behind look-around, an option group), `Some` of the character it
/// peeks at where that is one, else `Some(None)` (a class of one character is one for Onigmo).
/// With `folded` (under `i`), a character is not read here: Onigmo peeks at none, but makes
/// a repetition before one atomic by rules of its own there (`/(b*)x\g<1>b/i` matches `xb`,
/// which Oniguruma's atomic call misses).
#[allow(clippy::option_option)]
fn peek_head(s: &[char], k: usize, folded: bool) -> Option<Option<char>> {
    let c = *s.get(k)?;
    if matches!(c, '|' | ')' | '$' | '^' | '.') {
        return None;
    }
    let Some(end) = item_end(s, k) else {
        return Some(None);
    };
    if quantifiers(s, end, false).iter().any(|q| q.min == 0) {
        return None;
    }
    match c {
        '\\' => match s.get(k + 1) {
            Some(
                'A'
                | 'z'
                | 'Z'
                | 'b'
                | 'B'
                | 'G'
                | 'g'
                | 'k'
                | '1'..='9'
                | 'w'
                | 'W'
                | 'd'
                | 'D'
                | 's'
                | 'S'
                | 'h'
                | 'H'
                | 'p'
                | 'P',
            ) => None,
            _ => Some(None),
        },
        // A class of one character is that character; of several, nothing to peek at.
        '[' => {
            let Some(members) = s.get(k + 1..end.saturating_sub(1)) else {
                return Some(None);
            };
            if members.is_empty()
                || members
                    .iter()
                    .any(|c| matches!(c, '^' | '\\' | '[' | '-' | '&' | ':'))
            {
                return Some(None);
            }
            match members.iter().all(|&m| m == members[0]) {
                true if folded => Some(None),
                true => Some(Some(members[0])),
                false => None,
            }
        }
        '(' => {
            let g = &s[k..end];
            let kind = (g.get(1), g.get(2), g.get(3));
            if matches!(kind, (Some('?'), Some('!' | '#' | '(' | '~'), _))
                || matches!(kind, (Some('?'), Some('<'), Some('=' | '!')))
            {
                return None;
            }
            // Groups Onigmo looks into: capture, non-capturing, atomic, look-ahead.
            let into = plain_group(g) || matches!(kind, (Some('?'), Some('>' | '='), _));
            let body = match kind {
                (Some('?'), Some('>' | '='), _) => g.get(3..g.len() - 1),
                _ => body_range(g, 0, g.len()).map(|(f, t)| &g[f..t]),
            };
            match body {
                Some(body) if into => {
                    if has_top_bar(body) {
                        None
                    } else {
                        peek_head(body, 0, folded)
                    }
                }
                // (Option groups: none under `i`; not read here otherwise.)
                _ => Some(None),
            }
        }
        _ if folded => Some(None),
        c => Some(Some(c)),
    }
}

/// Is `s` read under `i` or `x` anywhere (by `flags` or an option in it)?
fn x_or_i(s: &[char], flags: &str) -> bool {
    flags.contains('i') || flags.contains('x') || has_option(s, 'i') || has_option(s, 'x')
}

/// `pattern` (Oniguruma's Ruby syntax, as [`super::for_oniguruma`] writes it, not under `x`) with
/// each loop that reads stale capture groups written to run Onigmo's test for empty iterations
/// on Oniguruma (see [`crate::ruby_regexp`]'s `empty_loops`): `(?:body)*` as
/// `(?:(*LFS{k})(?:body)(*LFE{k}))*(?:(?!)\1…)?`, a never-matching back-reference to each capture
/// group of the body after it (which gives the loop Oniguruma's own capture test). With
/// `capture_all`, every group captures (named or not); a loop that is a capture group is written
/// `(?:(*LFS{k})(body)(*LFE{k}))*`, the group tested too. Repeated from one (`+`, `+?`, `{1,}`),
/// the loop is written the same way (Onigmo writes a short body out once before its `*` loop, the
/// first iteration untested, else enters the loop: alike here, where the body's capture groups
/// hold no value before the first iteration). Lazy up to a maximum of two or more (`{1,3}?`,
/// `{0,2}?`), Onigmo and Oniguruma run a counted loop that tests every iteration, as the
/// callouts do. `None` where the test cannot be run so: the loop is repeated otherwise (greedily
/// up to a maximum, from two or more: Onigmo tests those counts by the size of their code), is
/// possessive, sits in a look-around or another repeated group (one repeated from one or up to
/// a maximum in any group repeated more than once), its body holds look-arounds, atomic groups,
/// references, calls, conditionals, absent operators or `\K`, or a capture group of it is in a
/// repetition whose body may match the empty string (Oniguruma tests that group in the inner loop only); the pattern calls groups
/// or names a group of the body twice; or under `x`.
pub(crate) fn instrument(pattern: &str, flags: &str, capture_all: bool) -> Option<String> {
    let s: Vec<char> = pattern.chars().collect();
    if flags.contains('x') || super::counted::has_option_x(&s) || pattern.contains("\\g") {
        return None;
    }
    let named = has_named(&s) && !capture_all;
    let loops = stale_loops(&s, named);
    if loops.is_empty() || loops.iter().any(|&(_, _, around)| around) {
        return None;
    }
    let all_groups = capture_groups(&s, named);
    let refs = Refs::new(&s, named);
    let names: Vec<String> = all_groups
        .iter()
        .map(|&(o, c)| group_name(&s[o..c]).unwrap_or_default())
        .collect();
    // (position, text) to insert, and the loops done.
    let mut inserts: Vec<(usize, String)> = Vec::new();
    for (n, &(open, close, _)) in loops.iter().enumerate() {
        let q = quantifiers(&s, close, false);
        let [q] = q.as_slice() else {
            return None;
        };
        // Lazy up to a maximum of two or more, Onigmo runs a counted loop (`OP_REPEAT_NG`) that
        // tests every iteration, as Oniguruma runs this one.
        let counted_lazy = q.lazy && q.max.is_some_and(|m| m >= 2);
        if (q.min > 1 || q.max.is_some() || q.possessive) && !counted_lazy {
            return None;
        }
        // Repeated from one, Onigmo writes the body out once before its loop when short (no test
        // of that first iteration) or enters the loop (tested): alike for the callouts where the
        // body's capture groups hold no value before it, which a group around it repeating
        // would break.
        if (q.min == 1 || counted_lazy) && in_repeated_group(&s, open) {
            return None;
        }
        let (from, to) = body_range(&s, open, close)?;
        let body = &s[from..to];
        if !plain_body(body) || in_look_around(&s, open) {
            return None;
        }
        // Each capture group of the body in no repetition of the body whose body may be empty.
        if !capture_groups(body, named).iter().all(|&(go, gc)| {
            enclosing_repeats(body, go, gc).iter().all(|&(ro, rc)| {
                body_of(body, ro, rc).and_then(|b| refs.may_be_empty(b)) == Some(false)
            })
        }) {
            return None;
        }
        // A loop that is itself a capture group enters it in each iteration: Onigmo's test reads
        // it too, so the callouts go around it.
        let own = all_groups.contains(&(open, close));
        let mut refs = String::from("(?:(?!)");
        for (i, &(o, c)) in all_groups.iter().enumerate() {
            if (o < from || c > to) && (o, c) != (open, close) {
                continue;
            }
            if named {
                let name = &names[i];
                if name.is_empty() || names.iter().filter(|m| *m == name).count() > 1 {
                    return None;
                }
                refs.push_str(&format!("\\k<{name}>"));
            } else {
                refs.push_str(&format!("\\{}", i + 1));
            }
        }
        refs.push_str(")?");
        let (start, end) = (crate::ruby_regexp::LOOP_START, crate::ruby_regexp::LOOP_END);
        if own {
            inserts.push((open, format!("(?:(*{start}{{{n}}})")));
            inserts.push((close, format!("(*{end}{{{n}}}))")));
        } else {
            // (The body in a group of its own: it may be an alternation.)
            inserts.push((from, format!("(*{start}{{{n}}})(?:")));
            inserts.push((to, format!(")(*{end}{{{n}}})")));
        }
        inserts.push((q.end, refs));
    }
    // From the end, so that earlier positions hold; at one position, in the order listed (the
    // later listed spliced first).
    let mut inserts: Vec<(usize, usize, String)> = inserts
        .into_iter()
        .enumerate()
        .map(|(i, (at, text))| (at, i, text))
        .collect();
    inserts.sort_by_key(|&(at, i, _)| std::cmp::Reverse((at, i)));
    let mut out = s;
    for (at, _, text) in inserts {
        out.splice(at..at, text.chars());
    }
    Some(out.into_iter().collect())
}

/// The capture groups of a pattern, for what its references and calls may match: a call
/// (`\g<1>`, `\g<n>`, `\g<-1>`, `\g<0>` the whole pattern) matches the group's body, so may
/// match the empty string where the body may; a reference (`\1`, `\k<n>`) matches the text
/// the group last captured, a match of its body (or fails where the group has none), so may
/// too. Where a group's body holds references and calls, the answers are read together, from
/// none empty until no answer changes (a group calling itself, `(\{(?:[^{}]|\g<1>)*\})`,
/// may be empty only by a way that does not).
pub(super) struct Refs<'a> {
    whole: &'a [char],
    named: bool,
    /// The capture groups (spans, from `(` to past `)`), numbered from 1, and their names.
    groups: Vec<(usize, usize)>,
    names: Vec<Option<String>>,
    /// May the whole pattern (0) and each group match the empty string (`None`: unknown)?
    empty: Vec<Option<bool>>,
}

impl<'a> Refs<'a> {
    /// The groups of `whole` (Ruby syntax, not under `x`).
    pub(super) fn of(whole: &'a [char]) -> Self {
        Self::new(whole, has_named(whole))
    }

    /// The groups of `whole` (with `named`, only named groups capture).
    fn new(whole: &'a [char], named: bool) -> Self {
        let groups = capture_groups(whole, named);
        let names = groups
            .iter()
            .map(|&(o, c)| group_name(&whole[o..c]))
            .collect();
        let n = groups.len();
        let mut refs = Refs {
            whole,
            named,
            groups,
            names,
            empty: vec![Some(false); n + 1],
        };
        // (Without references and calls, the answers are never read. Past 64 groups or 4,096
        // characters, the references and calls are not read: each answer reads the groups'
        // bodies again.)
        let refers = whole
            .windows(2)
            .any(|w| w[0] == '\\' && matches!(w[1], 'k' | 'g' | '1'..='9'));
        if !refers {
            return refs;
        }
        if n > 64 || whole.len() > 4096 {
            refs.empty = vec![None; n + 1];
            return refs;
        }
        // Each answer only grows (no, unknown, yes): at most two changes a group.
        for _ in 0..2 * n + 3 {
            let next: Vec<Option<bool>> = (0..=n)
                .map(|i| {
                    let body = if i == 0 {
                        Some(whole)
                    } else {
                        let (o, c) = refs.groups[i - 1];
                        body_of(whole, o, c)
                    };
                    join(refs.empty[i], body.and_then(|b| refs.may_be_empty(b)))
                })
                .collect();
            if next == refs.empty {
                return refs;
            }
            refs.empty = next;
        }
        refs.empty = vec![None; n + 1];
        refs
    }

    /// [`may_be_empty_with`] these references and calls.
    pub(super) fn may_be_empty(&self, s: &[char]) -> Option<bool> {
        may_be_empty_with(s, &|s, k| self.at(s, k))
    }

    /// Whether the reference or call at `s[k]` (a part of [`Refs::whole`], or not, where relative
    /// ones are not read) may match the empty string, and where it ends; `None` where it is not
    /// one read here (a number past the groups, under named groups: an octal escape or Ruby's
    /// error).
    fn at(&self, s: &[char], k: usize) -> Option<(Option<bool>, usize)> {
        let (numbers, end) = match s.get(k + 1)? {
            'k' | 'g' => {
                let quote = match s.get(k + 2)? {
                    '<' => '>',
                    '\'' => '\'',
                    _ => return None,
                };
                let len = s.get(k + 3..)?.iter().position(|&c| c == quote)?;
                let mut name: &[char] = &s[k + 3..k + 3 + len];
                // A reference with a level (`\k<n+0>`, `\k<1-1>`, `\k<-1+0>`) matches what the
                // group captured at some level of recursion: empty where the group may be.
                if s[k + 1] == 'k' {
                    if let Some(p) = name.iter().rposition(|c| matches!(c, '+' | '-')) {
                        let level = &name[p + 1..];
                        if p > 0 && !level.is_empty() && level.iter().all(char::is_ascii_digit) {
                            name = &name[..p];
                        }
                    }
                }
                let name: String = name.iter().collect();
                (self.resolve(&name, s[k + 1] == 'g', s, k), k + len + 4)
            }
            '1'..='9' => {
                let digits = s[k + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
                let number: usize = s[k + 1..k + 1 + digits]
                    .iter()
                    .collect::<String>()
                    .parse()
                    .ok()?;
                if self.named || number > self.groups.len() {
                    return None;
                }
                (Some(vec![number]), k + 1 + digits)
            }
            _ => return None,
        };
        let empty = numbers.and_then(|numbers| {
            numbers
                .iter()
                .map(|&i| self.empty[i])
                .reduce(join)
                .flatten()
        });
        Some((empty, end))
    }

    /// The group numbers (0: the whole pattern) that `\g<name>` (`call`) or `\k<name>` at
    /// `s[k]` stands for; `None` where not read here (levels, `\k<n+1>`; relative outside
    /// [`Refs::whole`]; Ruby's errors).
    fn resolve(&self, name: &str, call: bool, s: &[char], k: usize) -> Option<Vec<usize>> {
        let count = self.groups.len();
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if let Some(relative) = name.strip_prefix(['-', '+']) {
            if self.named || !digits(relative) {
                return None;
            }
            let m: usize = relative.parse().ok()?;
            let at = self.offset(s)? + k;
            let before = self.groups.iter().filter(|g| g.0 < at).count();
            let number = if name.starts_with('-') {
                (before + 1).checked_sub(m)?
            } else {
                before.checked_add(m)?
            };
            return (number >= 1 && number <= count).then(|| vec![number]);
        }
        if digits(name) {
            let number: usize = name.parse().ok()?;
            return match number {
                0 if call => Some(vec![0]),
                0 => None,
                _ if self.named || number > count => None,
                _ => Some(vec![number]),
            };
        }
        let numbers: Vec<usize> = (1..=count)
            .filter(|&i| self.names[i - 1].as_deref() == Some(name))
            .collect();
        (!numbers.is_empty() && (!call || numbers.len() == 1)).then_some(numbers)
    }

    /// The capture groups of `s` (a part of [`Refs::whole`]) and its calls (spans), with whether
    /// each may capture the empty string: a call captures the group it calls, the groups in it
    /// and those they call.
    fn captures(&self, s: &[char]) -> Vec<(usize, usize, bool)> {
        let mut out: Vec<(usize, usize, bool)> = capture_groups(s, self.named)
            .into_iter()
            .map(|(o, c)| {
                let inner = body_of(s, o, c).unwrap_or(&[]);
                (o, c, self.may_be_empty(inner) != Some(false))
            })
            .collect();
        for (k, end, name) in calls(s) {
            let empty = match self.resolve(&name, true, s, k) {
                Some(numbers) => numbers.iter().any(|&n| self.calls_empty(n)),
                None => true,
            };
            out.push((k, end, empty));
        }
        out.sort_unstable();
        out
    }

    /// May a call of group `n` (0: the whole pattern) capture the empty string in it: in the
    /// group, a group in it, or a group it calls?
    fn calls_empty(&self, n: usize) -> bool {
        let mut seen = vec![false; self.groups.len() + 1];
        let mut todo = vec![n];
        while let Some(i) = todo.pop() {
            if std::mem::replace(&mut seen[i], true) {
                continue;
            }
            if i >= 1 && self.empty[i] != Some(false) {
                return true;
            }
            let (o, c) = if i == 0 {
                (0, self.whole.len())
            } else {
                self.groups[i - 1]
            };
            for (j, &(go, gc)) in self.groups.iter().enumerate() {
                if o <= go && gc <= c {
                    todo.push(j + 1);
                }
            }
            let span = &self.whole[o..c];
            for (k, _, name) in calls(span) {
                match self.resolve(&name, true, span, k) {
                    Some(numbers) => todo.extend(numbers),
                    None => return true,
                }
            }
        }
        false
    }

    /// Where `s` starts in [`Refs::whole`], when it is a part of it.
    fn offset(&self, s: &[char]) -> Option<usize> {
        let (whole, part) = (self.whole.as_ptr_range(), s.as_ptr_range());
        (whole.start <= part.start && part.end <= whole.end)
            .then(|| (part.start as usize - whole.start as usize) / std::mem::size_of::<char>())
    }
}

/// The calls in `s`: where each starts (its `\\`), ends, and the group it names.
fn calls(s: &[char]) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '\\' if s.get(k + 1) == Some(&'g') => {
                let quote = match s.get(k + 2) {
                    Some('<') => '>',
                    Some('\'') => '\'',
                    _ => {
                        k += 2;
                        continue;
                    }
                };
                let Some(len) = s[k + 3..].iter().position(|&c| c == quote) else {
                    k += 2;
                    continue;
                };
                out.push((k, k + len + 4, s[k + 3..k + 3 + len].iter().collect()));
                k += len + 4;
            }
            '\\' => k += 2,
            '[' => k = bracket_end(s, k),
            _ => k += 1,
        }
    }
    out
}

/// Two answers to "may it be empty" for one thing: yes where either says so, else unknown
/// where either does.
fn join(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

/// The name of the named group `g` (from `(` to past `)`).
fn group_name(g: &[char]) -> Option<String> {
    let quote = match (g.get(1), g.get(2)) {
        (Some('?'), Some('<')) => '>',
        (Some('?'), Some('\'')) => '\'',
        _ => return None,
    };
    let end = g[3..].iter().position(|&c| c == quote)? + 3;
    Some(g[3..end].iter().collect())
}

/// Does `body` hold only characters, classes, escapes of them, anchors, groups (capturing,
/// non-capturing, options, atomic without groups in them), alternations and repetitions: no
/// look-around, reference, call, conditional, absent operator, `\K`, callout?
fn plain_body(body: &[char]) -> bool {
    let mut k = 0;
    while k < body.len() {
        match body[k] {
            '\\' => {
                if matches!(body.get(k + 1), Some('k' | 'g' | 'K' | '1'..='9')) {
                    return false;
                }
                k += 2;
            }
            '[' => k = bracket_end(body, k),
            '(' => {
                match (body.get(k + 1), body.get(k + 2)) {
                    (Some('*'), _) => return false,
                    // An atomic group without groups in it (for_oniguruma writes an anchor
                    // alternative so): Onigmo drops what is pushed inside one, captures too.
                    (Some('?'), Some('>')) => {
                        let e = group_close(body, k);
                        let inner = &body[(k + 3).min(e)..e.saturating_sub(1).max(k + 3).min(e)];
                        if !capture_groups(inner, false).is_empty() || !plain_body(inner) {
                            return false;
                        }
                        k = e;
                        continue;
                    }
                    (Some('?'), Some('=' | '!' | '~' | '(' | '#')) => return false,
                    (Some('?'), Some('<')) if matches!(body.get(k + 3), Some('=' | '!')) => {
                        return false
                    }
                    _ => {}
                }
                k += 1;
            }
            _ => k += 1,
        }
    }
    true
}

/// Is the item at `s[at]` inside a group repeated more than once (a maximum of two or more, or
/// none)?
fn in_repeated_group(s: &[char], at: usize) -> bool {
    any_enclosing(s, at, |_, e| {
        quantifiers(s, e, false)
            .iter()
            .any(|q| q.max.is_none_or(|m| m >= 2))
    })
}

/// Is the item at `s[at]` inside a look-around or an absent operator?
fn in_look_around(s: &[char], at: usize) -> bool {
    any_enclosing(s, at, |k, _| {
        matches!(
            (s.get(k + 1), s.get(k + 2), s.get(k + 3)),
            (Some('?'), Some('=' | '!' | '~'), _) | (Some('?'), Some('<'), Some('=' | '!'))
        )
    })
}

/// Does `test(open, close)` hold for a group that opens before `s[at]` and closes after it?
fn any_enclosing(s: &[char], at: usize, test: impl Fn(usize, usize) -> bool) -> bool {
    let mut k = 0;
    while k < at {
        match s[k] {
            '\\' => k += 2,
            '[' => k = bracket_end(s, k),
            '(' => {
                let e = group_close(s, k);
                if at < e && test(k, e) {
                    return true;
                }
                k += 1;
            }
            _ => k += 1,
        }
    }
    false
}

/// The repeated groups of `body` (spans) around or at the group `body[open..close]`.
fn enclosing_repeats(body: &[char], open: usize, close: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut k = 0;
    while k <= open {
        match body[k] {
            '\\' => k += 2,
            '[' => k = bracket_end(body, k),
            '(' => {
                let e = group_close(body, k);
                if close <= e
                    && quantifiers(body, e, false)
                        .iter()
                        .any(|q| q.max.is_none_or(|m| m >= 1))
                {
                    out.push((k, e));
                }
                k += 1;
            }
            _ => k += 1,
        }
    }
    out
}

/// The loops of `s` (groups, from `(` to past `)`) that read stale capture groups as Onigmo
/// does (see [`check`]), with whether it is for a repeated group around the loop; with `named`,
/// only named groups capture.
fn stale_loops(s: &[char], named: bool) -> Vec<(usize, usize, bool)> {
    let refs = Refs::new(s, named);
    let mut found = Vec::new();
    // Each group: where it opens and closes (past its `)`), and whether it is repeated more
    // than once (a maximum of two or more, or none).
    let mut groups: Vec<(usize, usize, bool)> = Vec::new();
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '\\' => k += 2,
            '[' => k = bracket_end(s, k),
            '(' if s.get(k + 1) == Some(&'?') && s.get(k + 2) == Some(&'#') => {
                k = s[k..]
                    .iter()
                    .position(|&c| c == ')')
                    .map_or(s.len(), |e| k + e + 1);
            }
            '(' => {
                let close = group_close(s, k);
                let repeated = quantifiers(s, close, false)
                    .iter()
                    .any(|q| q.max.is_none_or(|m| m >= 2 && m > q.min));
                let fixed_many = quantifiers(s, close, false)
                    .iter()
                    .any(|q| q.max.is_some_and(|m| m >= 2));
                groups.push((k, close, repeated || fixed_many));
                if repeated && loop_check(s, k, close, named, &refs).is_err() {
                    found.push((k, close, false));
                }
                k += 1;
            }
            _ => k += 1,
        }
    }
    // A loop from one or none inside a repeated group: a capture group that is its whole body
    // keeps the empty string where the group's iteration before left it.
    for &(open, close, _) in &groups {
        let varying = quantifiers(s, close, false)
            .iter()
            .any(|q| q.max.is_none_or(|m| m >= 2 && m > q.min));
        if !varying {
            continue;
        }
        let around = groups
            .iter()
            .any(|&(o, c, rep)| rep && o < open && close <= c && (o, c) != (open, close));
        // (Only where the group around can match text beside the loop, or its iteration
        // starts where the loop's last one ended.)
        let around = around
            && groups.iter().any(|&(o, c, rep)| {
                rep && o < open
                    && close <= c
                    && (o, c) != (open, close)
                    && body_range(s, o, c).is_some_and(|(from, to)| {
                        let end = skip_repetitions(s, close).min(to);
                        let rest: Vec<char> = s[from..open.max(from)]
                            .iter()
                            .chain(&s[end..to])
                            .copied()
                            .collect();
                        may_consume(&rest)
                    })
            });
        if around {
            let Some(body) = body_of(s, open, close) else {
                continue;
            };
            if refs.may_be_empty(body) != Some(false) {
                // The loop's own group too, when it captures.
                let group = &s[open..close];
                if refs.captures(group).iter().any(|&(_, _, empty)| empty) {
                    found.push((open, close, true));
                }
            }
        }
    }
    found
}

/// Refuse the loop `s[open..close]` (a group repeated a varying count) whose body may match the
/// empty string with a capture group in it that may too, where the iteration can go on to match
/// text after it, or match text without it (the group in an alternation), or where the loop
/// is repeated up to a maximum (`{0,3}`, `{1,2}?`): Onigmo's counted loop goes on after an
/// empty iteration whose group held nothing or text before, which uses up a count
/// (`/a(?:[ab]*?,?(b??)){0,3}$/` sets `$1` to `b` in `aab`, not the empty string after it, as
/// a loop ending there would). References and calls are read by the groups they name
/// ([`Refs`]); a call is a capture group here, of the group it calls and the groups in it
/// (`(b*)(?:\g<1>|x,?){1,2}$` sets `$1` in each iteration that calls it).
fn loop_check(
    s: &[char],
    open: usize,
    close: usize,
    named: bool,
    refs: &Refs,
) -> Result<(), String> {
    let Some(body) = body_of(s, open, close) else {
        return Ok(());
    };
    if refs.may_be_empty(body) == Some(false) {
        return Ok(());
    }
    // (Not where the body is one capture group, `(?:(a?)){0,3}`: Onigmo reads that as the group
    // repeated, which `counted` writes out by its rules, in a pattern without references, calls
    // or conditionals; with them it is left as written, alike where the group's items all try
    // text first, once (`/(?<n>b*)(?:(?<w>\k'n'a?)){0,3}/`), not with an alternation:
    // `/a()(?:(\1|b)){1,2}a/` sets `$2` to the `b` in `abac` in Ruby.)
    let refers = s
        .windows(2)
        .any(|w| w[0] == '\\' && matches!(w[1], 'k' | 'g' | '1'..='9'))
        || s.windows(3).any(|w| w == ['(', '?', '(']);
    let counted = quantifiers(s, close, false)
        .iter()
        .any(|q| q.max.is_some_and(|m| m >= 2 && m > q.min))
        && !(one_capture(body, named) && (!refers || greedy_only(body, true)));
    // (Greedy, over a body whose items try text first, the loops end alike: `greedy_only`.
    // Lazy, it runs with Onigmo's test anyway.)
    let counted = counted
        && !(greedy_only(body, false) && quantifiers(s, close, false).iter().all(|q| !q.lazy));
    // A conditional in the body that reads whether a capture group of it matched in an
    // iteration before: Onigmo goes on after an empty iteration that gave a group its first
    // value (`/(?:(?(1)y)(a|))+c/` matches `yc` from its start, the second iteration taking the
    // `y`), Oniguruma ends the loop there.
    let conditional = reads_own_group(s, body, refs);
    for (go, gc, empty) in refs.captures(body) {
        if !empty {
            continue;
        }
        if counted || conditional || may_consume(&after(body, gc)) || beside_alternatives(body, go)
        {
            return Err(refusal(&s[open..close]));
        }
    }
    Ok(())
}

/// Does `body` (a loop's, a part of `s`) hold a conditional whose condition names a capture
/// group of the body (or one not read here, or in a body with calls, which capture the groups
/// they call)?
fn reads_own_group(s: &[char], body: &[char], refs: &Refs) -> bool {
    if !body.windows(3).any(|w| w == ['(', '?', '(']) {
        return false;
    }
    let Some(from) = refs.offset(body) else {
        return true;
    };
    if body.windows(2).any(|w| w == ['\\', 'g']) {
        return true;
    }
    let inside = |n: usize| {
        n >= 1
            && refs
                .groups
                .get(n - 1)
                .is_some_and(|&(o, c)| from <= o && c <= from + body.len())
    };
    let mut k = 0;
    while k < body.len() {
        match body[k] {
            '\\' => k += 2,
            '[' => k = bracket_end(body, k),
            '(' if body.get(k + 1) == Some(&'?') && body.get(k + 2) == Some(&'(') => {
                let Some(len) = body[k + 3..].iter().position(|&c| c == ')') else {
                    return true;
                };
                let cond = &body[k + 3..k + 3 + len];
                let numbers = if !cond.is_empty() && cond.iter().all(char::is_ascii_digit) {
                    cond.iter()
                        .collect::<String>()
                        .parse()
                        .ok()
                        .map(|n| vec![n])
                } else if cond.len() > 2 {
                    // A name or number in `<…>` or `'…'`, its level (Onigmo reads none) left out.
                    let mut name = &cond[1..cond.len() - 1];
                    if let Some(p) = name.iter().rposition(|c| matches!(c, '+' | '-')) {
                        let level = &name[p + 1..];
                        if p > 0 && !level.is_empty() && level.iter().all(char::is_ascii_digit) {
                            name = &name[..p];
                        }
                    }
                    let name: String = name.iter().collect();
                    refs.resolve(&name, false, s, from + k)
                } else {
                    None
                };
                match numbers {
                    Some(numbers) if !numbers.iter().any(|&n| inside(n)) => k += 3 + len,
                    _ => return true,
                }
            }
            _ => k += 1,
        }
    }
    false
}

/// Does `body` hold no alternation, no lazy repetition (`??`, `*?`, `{1,3}?`), no repeated
/// group and no reference (unless `references`)? Then each of its items tries to match text before the empty string,
/// and once, so an iteration that matched the empty string had no other choice left there, and
/// one more (Onigmo's, after one that went on and used up a count) has none either: both loops
/// end alike there, with the same capture groups.
fn greedy_only(body: &[char], references: bool) -> bool {
    let mut k = 0;
    while k < body.len() {
        match body[k] {
            '|' => return false,
            ')' if !quantifiers(body, k + 1, false).is_empty() => return false,
            '\\' if !references && matches!(body.get(k + 1), Some('k' | 'g' | '1'..='9')) => {
                return false
            }
            // (A group's kind, `(?:`, `(?<n>`: not a repetition.)
            '(' if body.get(k + 1) == Some(&'?') => {
                k += 2;
                continue;
            }
            '(' => {
                k += 1;
                continue;
            }
            '\\' => k += 2,
            '[' => k = bracket_end(body, k),
            _ => k += 1,
        }
        let qs = quantifiers(body, k.min(body.len()), false);
        if qs.iter().any(|q| q.lazy) {
            return false;
        }
        if let Some(q) = qs.last() {
            k = q.end;
        }
    }
    true
}

/// Is `body` one capture group, maybe inside non-capturing groups of it alone (`(a?)`,
/// `(?:(?<c>a?))`)?
fn one_capture(body: &[char], named: bool) -> bool {
    let mut body = body;
    while body.first() == Some(&'(') && group_close(body, 0) == body.len() {
        if body.starts_with(&['(', '?', ':']) {
            body = &body[3..body.len() - 1];
        } else {
            return capture_groups(body, named).first() == Some(&(0, body.len()));
        }
    }
    false
}

/// The items that follow the item ending at `body[from]` (past a group's `)`) up to the end of
/// `body`, level by level (the repetitions after it and after each group it is in skipped, the
/// other alternatives of each group it is in left out).
fn after(body: &[char], from: usize) -> Vec<char> {
    let mut out = Vec::new();
    let mut k = skip_repetitions(body, from);
    while k < body.len() {
        match body[k] {
            '\\' => {
                out.extend(body[k..(k + 2).min(body.len())].iter());
                k += 2;
            }
            '[' => {
                let e = bracket_end(body, k);
                out.extend(&body[k..e]);
                k = e;
            }
            '(' => {
                let e = group_close(body, k);
                out.extend(&body[k..e]);
                k = e;
            }
            // The end of a group the item is in: go on after it.
            ')' => k = skip_repetitions(body, k + 1),
            // Another alternative of a group the item is in: go on after that group.
            '|' => {
                let mut depth = 0usize;
                while k < body.len() {
                    match body[k] {
                        '\\' => k += 1,
                        '[' => k = bracket_end(body, k) - 1,
                        '(' => depth += 1,
                        ')' if depth == 0 => break,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    k += 1;
                }
            }
            c => {
                out.push(c);
                k += 1;
            }
        }
    }
    out
}

/// Past the repetitions at `s[k]`.
fn skip_repetitions(s: &[char], k: usize) -> usize {
    quantifiers(s, k, false).last().map_or(k, |q| q.end)
}

/// May `s` (a sequence of items) match text?
fn may_consume(s: &[char]) -> bool {
    !only_empty(&strip_groups(s))
}

/// Is the item at `body[at]` in an alternation (of `body` or of a group of it around the item)
/// with an alternative that may match text?
fn beside_alternatives(body: &[char], at: usize) -> bool {
    // The groups around it, by their `(`, and `body` itself.
    let mut spans: Vec<(usize, usize)> = vec![(0, body.len())];
    let mut k = 0;
    while k < at {
        match body[k] {
            '\\' => k += 2,
            '[' => k = bracket_end(body, k),
            '(' => {
                let e = group_close(body, k);
                if at < e {
                    if let Some(span) = body_range(body, k, e) {
                        spans.push(span);
                    }
                    k += 1;
                } else {
                    k = e;
                }
            }
            _ => k += 1,
        }
    }
    spans.iter().any(|&(from, to)| {
        let mut at_alt = from;
        super::counted::split_top(&body[from..to])
            .into_iter()
            .any(|alt| {
                let start = at_alt;
                at_alt += alt.len() + 1;
                let holds = (start..start + alt.len()).contains(&at);
                !holds && may_consume(alt)
            })
    })
}

/// The error for the loop `group`.
fn refusal(group: &[char]) -> String {
    let g: String = group.iter().collect();
    format!(
        "a capture group (or a call of a group) that may match the empty string in a group that may \
         match the empty string repeated a varying count ({g}…), beside items that may match text, inside \
         another repeated group or repeated up to a maximum, cannot be used: Ruby's engine \
         ends, goes on with (using up a count) or fails an empty iteration by the capture \
         groups' values from before it, which is followed here \
         only for a loop repeated from none or one without a maximum (*, +, {{0,}}, {{1,}}, lazy \
         or not) or lazily up to a maximum ({{0,3}}?, {{1,3}}?; not possessive, under x, in a look-around or another repeated group, with \
         look-arounds, references, conditionals or \\K in it, or with the capture group repeated \
         inside it); make the capture group match at least one character ((a+)? for (a*)), or \
         repeat the group with * or +"
    )
}

/// The body of the group `s[open..close]` (after `(`, `(?:`, `(?>`, `(?<name>`, an option
/// group's `:`); `None` for a look-around, an absent operator, a conditional or an option
/// without a group.
fn body_of(s: &[char], open: usize, close: usize) -> Option<&[char]> {
    body_range(s, open, close).map(|(from, to)| &s[from..to])
}

/// Where [`body_of`] is in `s`.
fn body_range(s: &[char], open: usize, close: usize) -> Option<(usize, usize)> {
    let g = &s[open..close];
    let from = if g.get(1) != Some(&'?') {
        1
    } else {
        match (g.get(2)?, g.get(3)) {
            (':' | '>', _) => 3,
            ('<', Some('=' | '!')) | ('=' | '!' | '~' | '#' | '(', _) => return None,
            ('<' | '\'', _) => {
                let quote = if g[2] == '<' { '>' } else { '\'' };
                g[3..].iter().position(|&c| c == quote)? + 4
            }
            _ => {
                let colon = g[2..]
                    .iter()
                    .position(|c| !matches!(c, 'i' | 'm' | 'x' | 'a' | 'd' | 'u' | '-'))?
                    + 2;
                if g[colon] != ':' {
                    return None;
                }
                colon + 1
            }
        }
    };
    let end = close.checked_sub(open + 1)?;
    (g.get(end) == Some(&')')).then(|| (open + from.min(end), open + end))
}

/// The capture groups in `s` (spans from `(` to past `)`): in a pattern with named groups only
/// those.
fn capture_groups(s: &[char], named: bool) -> Vec<(usize, usize)> {
    super::conditional::groups(s)
        .into_iter()
        .filter(|g| !named || g.name.is_some())
        .map(|g| (g.open, g.close))
        .collect()
}

/// `s` with each capture group's and non-capturing group's body read for what it may match:
/// kept as it is (only for [`only_empty`], which reads non-capturing groups).
fn strip_groups(s: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(s.len());
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '\\' => {
                out.extend(s[k..(k + 2).min(s.len())].iter());
                k += 2;
            }
            '[' => {
                let e = bracket_end(s, k);
                out.extend(&s[k..e]);
                k = e;
            }
            // A capture group as a non-capturing one.
            '(' if s.get(k + 1) != Some(&'?') => {
                out.extend(['(', '?', ':']);
                k += 1;
            }
            '(' if s.get(k + 1) == Some(&'?')
                && matches!(s.get(k + 2), Some('<' | '\''))
                && !matches!(s.get(k + 3), Some('=' | '!')) =>
            {
                let quote = if s[k + 2] == '<' { '>' } else { '\'' };
                let end = s[k + 3..]
                    .iter()
                    .position(|&c| c == quote)
                    .map_or(s.len(), |e| k + 3 + e + 1);
                out.extend(['(', '?', ':']);
                k = end;
            }
            c => {
                out.push(c);
                k += 1;
            }
        }
    }
    out
}

/// Does `s` have named groups (`(?<n>`, `(?'n'`)? Then only those capture.
fn has_named(s: &[char]) -> bool {
    !capture_groups(s, true).is_empty()
}

/// `s` without the white space and `#` comments the `x` flag skips (outside brackets; an
/// escaped one is kept).
fn without_extended(s: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(s.len());
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '\\' => {
                out.extend(s[k..(k + 2).min(s.len())].iter());
                k += 2;
            }
            '[' => {
                let e = bracket_end(s, k);
                out.extend(&s[k..e]);
                k = e;
            }
            '#' => {
                k = s[k..]
                    .iter()
                    .position(|&c| c == '\n')
                    .map_or(s.len(), |e| k + e + 1)
            }
            c if c.is_ascii_whitespace() => k += 1,
            c => {
                out.push(c);
                k += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{check, instrument};

    #[test]
    fn loops_are_instrumented() {
        assert_eq!(
            instrument(r"(?:(a?)|b)*c", "", false).as_deref(),
            Some(r"(?:(*LFS{0})(?:(a?)|b)(*LFE{0}))*(?:(?!)\1)?c")
        );
        assert_eq!(
            instrument(r"(x)(?<n>(?:(?<m>a?)b?)*?)", "", false).as_deref(),
            Some(r"(x)(?<n>(?:(*LFS{0})(?:(?<m>a?)b?)(*LFE{0}))*?(?:(?!)\k<m>)?)")
        );
        assert_eq!(
            instrument(r"(?:(a?)b?){0,}(?:(b?)a?)*", "", false).as_deref(),
            Some(concat!(
                r"(?:(*LFS{0})(?:(a?)b?)(*LFE{0})){0,}(?:(?!)\1)?",
                r"(?:(*LFS{1})(?:(b?)a?)(*LFE{1}))*(?:(?!)\2)?"
            ))
        );
        // Repeated from one (the first iteration tested or not: the groups hold no value before
        // it), lazy or not.
        assert_eq!(
            instrument(r"^(?:(\w*)\s*)+", "", false).as_deref(),
            Some(r"^(?:(*LFS{0})(?:(\w*)\s*)(*LFE{0}))+(?:(?!)\1)?")
        );
        assert_eq!(
            instrument(r"(?:(a?)b?){1,}?c", "", false).as_deref(),
            Some(r"(?:(*LFS{0})(?:(a?)b?)(*LFE{0})){1,}?(?:(?!)\1)?c")
        );
        // Lazy up to a maximum: Onigmo's counted loop tests every iteration.
        assert_eq!(
            instrument(r"(?:(a?)b?){0,3}?c", "", false).as_deref(),
            Some(r"(?:(*LFS{0})(?:(a?)b?)(*LFE{0})){0,3}?(?:(?!)\1)?c")
        );
        assert_eq!(instrument(r"(?:x(?:(a?)b?){1,3}?)*c", "", false), None);
        // A loop that is a capture group: the callouts around it, its group tested too.
        assert_eq!(
            instrument(r"((a?)b?)*((b?)a?)+c", "", false).as_deref(),
            Some(concat!(
                r"(?:(*LFS{0})((a?)b?)(*LFE{0}))*(?:(?!)\1\2)?",
                r"(?:(*LFS{1})((b?)a?)(*LFE{1}))+(?:(?!)\3\4)?c"
            ))
        );
        for kept in [
            r"(?:(a?)b?){2,}",
            r"(?:(a?)b?)++c",
            r"(?:(?:(a?)b?)+)*c",
            r"(?:(a?)b?){1,3}",
            r"(?:(a?)b?)*+c",
            r"(?=(?:(a?)b?)*)c",
            r"(?:(a?)(?=b)?b?)*c",
            r"(?:(a?)\1b?)*c",
            r"(?:(a?)?b?)*c",
            r"(?:(?:(a?)b?)*c?)*",
            r"(?:[ab](a*){1,3}){2,5}",
            r"(?<n>a)(?:(?<n>a?)b?)*c",
            r"(?:(a?)b?)*\g<1>",
            r"(?:(?>(a))|(a?)b?)*c",
        ] {
            assert_eq!(instrument(kept, "", false), None, "{kept}");
        }
        assert_eq!(instrument(r"(?:(a?)b?)*c", "x", false), None);
        assert!(instrument(r"(?:(a?)b?)*c", "", true).is_some());
        // Lazy up to a maximum, nothing after the group: run with the test; greedy, refused.
        assert!(instrument(r"a(?:[ab]*?,?(b??)){0,3}?$", "", false).is_some());
        assert!(instrument(r"a(?:[ab]*?,?(b??)){0,3}$", "", false).is_none());
        // An anchor alternative, which for_oniguruma makes atomic.
        assert!(instrument(r"(?:(?>(?:\b))|a()[ab]*?){0,}", "", false).is_some());
    }

    #[test]
    fn stale_empty_captures_are_refused() {
        for refused in [
            r"^(?:(?<c>b??)a*?,?){1,3}",
            r"^(?:(b??)a*?,?)*",
            r"(?:(a?)b?)*c",
            r"(?:(a?)|b)*c",
            r"^(?:(\w*)\s*)+",
            r"(?:(?:(a?))b?){0,3}",
            r"(?:[ab](a*){1,3}){2,5}",
            r"(?x) (?: (a?) b? )* c",
            r"(?:(?:(a?)b?)c?)*",
            r"^(?:(\W*){2}\D?){0,2}?\z",
            r"(?:(?:(a?)|b)c?)*",
            // Up to a maximum, whatever follows the group: an empty iteration that goes on
            // uses up a count.
            r"a(?:[ab]*?(?:,?)(?:(b??))){0,3}$",
            r"a(?:[ab]*?,?(b??)){0,3}?$",
            r"(?:(-?)*){1,3}x",
            r"(?:\b|\d*(a*?)){0,2}c",
        ] {
            assert!(check(refused, "").is_err(), "{refused}");
        }
        for kept in [
            r"(a?)*",
            r"(?:(a?))*",
            r"(?:(a?)(?=b))*",
            r"(?:(a+)b?)*c",
            r"(?:(a?)b)*c",
            r"(?:(\w+)\s*)*",
            r"^(?:(\w*)\s*){3}",
            r"(?:(a?)b?)?",
            r"(?:(a?)b?){1}",
            r"(?<n>x)(?:(a?)b?)*",
            r"(?:(?#(a?)b?)c)*",
            r"[(a?)b?]*",
            r"\(a?\)b?*",
            r"(?:[ab](a*){1,3})",
            // Nothing after the group in the iteration: its empty string is where the next
            // iteration starts.
            r"(?:\d*\h?(a{0,2}))*(.)",
            r"(?:(\S?)?)+$",
            // A body of one capture group is the group repeated (see `counted`).
            r"(?:(a?)){0,3}c",
            r"(?:(?:(?<n>a??))){1,3}$",
            // Greedy over greedy items without alternations or repeated groups: alike.
            r"(?:b?(,?)){0,5}b$",
            r"(?:\d*(a{0,2})){0,3}x",
        ] {
            assert!(check(kept, "").is_ok(), "{kept}");
        }
        for prefix in ["(", "((?:", "(?<", "(a?)b?)*", "(?:(a?)b?)*{", "(?'n"] {
            let _ = check(prefix, "");
            let _ = check(prefix, "x");
        }
    }

    #[test]
    fn called_repetitions_peeking_at_what_follows_are_found() {
        for (src, flags, group) in [
            (r"(b*)b\g<1>", "", "(b*)"),
            (r"((?:b*))b\g<1>", "", "((?:b*))"),
            (r"(?<n>b+)b\g<n>", "", "(?<n>b+)"),
            (r"(?:((b{2,}))b)\g<2>", "", "(b{2,})"),
            (r"(\p{L}*)b\g<-1>", "", r"(\p{L}*)"),
            (r"(b*)[b]\g<1>", "", "(b*)"),
            (r"(b*)(?=b)\g<1>", "", "(b*)"),
            (r"(b*)(?:b)+\g<1>", "", "(b*)"),
            (r"\A(b*)(?:b(?:b\b|b*b|(?:\g'1')))+?", "", "(b*)"),
            // Before another character, atomic in both engines, but not under `i`.
            (r"(b*)x\g<1>b", "i", "(b*)"),
            (r"(?i)(b*)c\g<1>", "", "(b*)"),
        ] {
            assert_eq!(
                super::called_repetition(src, flags).as_deref(),
                Some(group),
                "{src}"
            );
        }
        for (src, flags) in [
            (r"(b*)$\g<1>", ""),
            (r"(b*?)b\g<1>", ""),
            (r"(b*+)b\g<1>", ""),
            (r"(b{2,5})b\g<1>", ""),
            (r"(b*)b\1", ""),
            (r"(b*)\g<1>", ""),
            (r"(xb*)b\g<1>", ""),
            (r"(b*)+b\g<1>", ""),
            (r"(b*)\w\g<1>", ""),
            (r"(b*)[bc]\g<1>", ""),
            (r"(b*)(?:b|c)\g<1>", ""),
            (r"(b*)b?\g<1>", ""),
            (r"(b*)(?!b)\g<1>", ""),
            (r"(b*)\d\g<1>", "i"),
            // Atomic in both engines.
            (r"(b*)c\g<1>", ""),
            (r"(b*)c\g<1>b", ""),
            // Each call followed by what the repetition peeks at.
            (r"(b*)b\g<1>b", ""),
            (r"(b*)b(?:x\g<1>b)*", ""),
            (r"(x)(?:a|(\g<1>))+", ""),
            (r"(\{(?:[^\{\}]|(\g<0>))+\})", ""),
        ] {
            assert_eq!(super::called_repetition(src, flags), None, "{src}");
        }
    }

    #[test]
    fn references_and_calls_are_read_by_their_groups() {
        // The group a call or reference names cannot match the empty string: neither can it.
        for kept in [
            r"(x)(?:a|(\g<1>))+",
            r"(x)(?:a|(\1))+",
            r"(x)(?:a|(\k<1>))*c",
            // A reference with a level, by its group.
            r"(x)(?:a|(\k<1+0>))+",
            // A conditional naming a group outside the loop.
            r"(a)?(?:(?(1)y)(b|))+c",
            r"(?<n>x)?(?:(?(<n+0>)y|)(?<w>b|))*c",
            r"(?<n>x)(?:a|(?<w>\k<n-1>))*c",
            r"(\{(?:[^\{\}]|(\g<0>))+\})",
            r"(?<p>\((?:[^()]|(?<q>\g<p>))*\))",
            r"(?<n>[ab])(?:x|(?<w>\k<n>|b))+",
            r"([ab])(?:x|(\g<-1>b?))*$",
            r"(?:x|(\g<+1>))*(ab?)",
            r"(?:x|(\g'2'))*(ab?)",
            r"(x)(y)(?:a|(\12))*",
            r"(?x) (x) (?: a | ( \g<1> ) )+",
            // Groups calling themselves or each other, each only with text.
            r"(a|b\g<1>)(?:x|(\g<1>))+c",
            r"(a\g<2>?)(b\g<1>?)(?:x|(\g<1>))+",
            // A body that cannot match the empty string has no empty iteration.
            r"((a?)x)(?:b|\g<1>)*c",
        ] {
            assert!(check(kept, "").is_ok(), "{kept}");
        }
        for refused in [
            // The group may be empty.
            r"(a?)(?:x|(\g<1>))+c",
            r"(a?)(?:x|(\1))+c",
            r"(?<n>b*)(?:x|(?<w>\k<n>))+c",
            r"(b*)(?:x|(\g<-2>))+c",
            // A call captures the group it calls, and the groups in it.
            r"(b*)(?:(?:\g<-1>)|x,?){1,2}$",
            r"(?<n>a?)(?:\b|(\g<n>a?)|x)+a",
            r"((a?)x)(?:b*|\g<1>)*c",
            // A group calling itself with no way out but the empty string.
            r"(a|b\g<1>|)(?:x|(\g<1>))+c",
            // A conditional with an empty branch; a loop with a conditional and a capture group
            // that may be empty, whatever follows the group (it reads whether the group matched
            // in an iteration before).
            r"(x)(?:a|((?(1)x|)))+",
            r"(?:(?(1)y)(a|))+c",
            // A capture group as the body, holding an alternation, with references.
            r"a()(?:(\1|b)){1,2}a",
        ] {
            assert!(check(refused, "").is_err(), "{refused}");
        }
    }
}
