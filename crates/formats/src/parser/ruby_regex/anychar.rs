//! A greedy repetition of `.` without a maximum (`.*`, `.+`, `.{2,}`) that nothing of any
//! length comes before gives Oniguruma and Onigmo an implicit anchor (`/.*a/m` is tried at the
//! start only, without `m` at the starts of lines), which they also take where only zero-width
//! items come before it (`/(?=b).*/m` matches nothing in `abbbc` in Ruby too). Onigmo never
//! takes it out of a repetition without a maximum (its `optimize_node_left` copies a
//! repetition's body's information only for one with a maximum); Oniguruma takes it out of
//! any repetition with a least count, so `/(?:(?=b).*)+/m` would not match `abbbc` where Ruby
//! matches `bbbc`. Where the pattern as written for Oniguruma takes the anchor and Ruby's
//! pattern does not, each `.` giving it is written as `(?>.)`, the same one character, which
//! Oniguruma's optimiser does not read as `.` (it sees an atomic group).

use super::{bracket_end, comment_end, escape_end, past};

/// `written` (Oniguruma's Ruby syntax as the rewriter wrote it from `src`, Ruby's pattern, under
/// `flags`) with each `.` that gives Oniguruma the implicit anchor written as `(?>.)` where
/// Onigmo takes none from `src`. (Where Onigmo takes one Oniguruma would not, nothing is
/// written: Onigmo's search then tries the start and the character after it, or other
/// positions as its search for a string in the pattern finds them, which cannot be written
/// out as a pattern.)
pub(super) fn unanchored(src: &str, written: &str, flags: &str) -> String {
    let (x, m) = (flags.contains('x'), flags.contains('m'));
    if !anchoring_dots(&src.chars().collect::<Vec<_>>(), x, m, true).is_empty() {
        return written.to_string();
    }
    atomic_dots(written, flags)
}

/// Does Onigmo take the implicit anchor in `src` (Ruby's pattern under `flags`) from a `.` under
/// `m` with a zero-width item before it other than `^`, `\A` or `\G` (`/$.*/m`, `/\b.*x/m`)?
/// Its search then tries only the start and the character after it, where that item may not
/// match (`/\b.*/m` matches nothing in `  ab` in Ruby). Rust's engine tries every position, so
/// such a pattern is run on Oniguruma, whose search takes the same anchor. (With only `^`,
/// `\A`, `\G` and group openings before it, a match at a later position would also be one
/// from the start, so the anchor changes nothing. Without `m`, Onigmo's search takes the
/// anchor only by rules of its own for the string it searches for after the `.`, which
/// Oniguruma's does not follow either: `/\b.*x/` matches nothing in `  ax` in Ruby,
/// `/\b.*\d+/` matches `1` in `  1`; left to Rust's engine, README.)
pub(super) fn anchor_after_items(src: &str, flags: &str) -> bool {
    let (x, m) = (flags.contains('x'), flags.contains('m'));
    let s: Vec<char> = src.chars().collect();
    if ends_at_text_end(&s) {
        return false;
    }
    anchoring_dots(&s, x, m, true)
        .iter()
        .any(|&(dot, under_m)| under_m && !only_openings(&s[..dot]))
}

/// Does Onigmo take the implicit anchor in `src` (Ruby's pattern under `flags`) from one `.`
/// without `m`, with a zero-width item before it other than `^`, `\A` or `\G`, and a string or
/// class it searches for right after the repetition of the `.` (`/\b.*x/`, `/\B(.*)[xy]/`)?
/// Its search then tries only the start and the starts of lines, where that item may not match
/// (`/\b.*x/` matches nothing in `  ax` in Ruby): the caller writes `^` before such a pattern for
/// Rust's engine. (With nothing read to search for after the `.`, `/\b.*/`, `/\b.*\d+/`, it
/// tries every position. Read here: characters, escapes of one, `\d`, `\s`, `\h`, bracket
/// classes of one character or of ASCII ones, not negated (under `i`, without `k`, `s` or
/// ranges), not repeated or
/// repeated at least once up to a maximum, and groups each of whose alternatives holds one,
/// after other items; `\w`, negated classes and classes with members past ASCII give none, as
/// in Onigmo; see [`reads`].)
pub(super) fn line_starts_only(src: &str, flags: &str) -> bool {
    let (x, m) = (flags.contains('x'), flags.contains('m'));
    // (Under `i`, classes are not read: a letter may bring members past ASCII.)
    let ic = flags.contains('i')
        || src.match_indices("(?").any(|(at, _)| {
            src[at + 2..]
                .chars()
                .take_while(|c| matches!(c, 'i' | 'm' | 'x' | 'a' | 'd' | 'u'))
                .any(|c| c == 'i')
        });
    if x {
        return false;
    }
    let s: Vec<char> = src.chars().collect();
    match anchoring_dots(&s, x, m, true)[..] {
        [(dot, false)] => {
            let end = quantifiers(&s, dot + 1, x)
                .last()
                .map_or(dot + 1, |q| q.end);
            !only_openings(&s[..dot]) && searched_after(&s, end, ic)
        }
        _ => false,
    }
}

/// Does the pattern `s` from `k` on (see [`line_starts_only`]) hold items giving Onigmo a string
/// or class to search for, before any alternative of the groups around `k`?
fn searched_after(s: &[char], k: usize, ic: bool) -> bool {
    reads(s, k, s.len(), true, ic) == Some(true)
}

/// Is the body of a bracket class (between `[` and `]`) one Onigmo reads a class to search for
/// from: one character, or ASCII characters and ranges, not negated (a negated class, or one
/// with members past ASCII, gives none; nor does one with escapes, brackets or `&&`, as read
/// here)?
fn plain_class(body: &[char]) -> bool {
    if body.is_empty() || body[0] == '^' || body.iter().any(|c| matches!(c, '\\' | '[' | '&')) {
        return false;
    }
    body.len() == 1 || body.iter().all(char::is_ascii)
}

/// The members of a class of the ASCII characters and ranges in `body` (see [`plain_class`]).
fn class_members(body: &[char]) -> [bool; 128] {
    let mut members = [false; 128];
    let mut k = 0;
    while k < body.len() {
        let from = body[k] as usize;
        let to = if body.get(k + 1) == Some(&'-') && k + 2 < body.len() {
            k += 2;
            body[k] as usize
        } else {
            from
        };
        for m in members.iter_mut().take(to.min(127) + 1).skip(from) {
            *m = true;
        }
        k += 1;
    }
    members
}

/// The value Onigmo gives a class of `members` (with `ic`, their other case too): its
/// `map_position_value` summed over them.
fn class_value(members: &[bool; 128], ic: bool) -> u32 {
    const BYTE_VALUES: [u8; 128] = [
        5, 1, 1, 1, 1, 1, 1, 1, 1, 10, 10, 1, 1, 10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 12, 4, 7, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5,
        5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 7, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
        6, 6, 5, 6, 5, 5, 5, 5, 6, 6, 6, 6, 7, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
        6, 6, 6, 6, 5, 5, 5, 5, 1,
    ];
    let mut all = *members;
    if ic {
        for c in 0..128u8 {
            if members[usize::from(c)] {
                all[usize::from(c.to_ascii_lowercase())] = true;
                all[usize::from(c.to_ascii_uppercase())] = true;
            }
        }
    }
    all.iter()
        .zip(BYTE_VALUES)
        .filter(|(m, _)| **m)
        .map(|(_, v)| u32::from(v))
        .sum()
}

/// Do the items of `s[k..to]` give Onigmo a string or class to search for (see
/// [`line_starts_only`]): `Some(true)` when one does, `Some(false)` when none is read, `None`
/// where the reading stops (an alternative after `k` when `outer`, a stray repetition). A group gives one when each of its alternatives does (Onigmo
/// merges their classes); a `.`, an anchor, a look-around and what is not read here give none,
/// and the items after them are read on.
fn reads(s: &[char], mut k: usize, to: usize, outer: bool, ic: bool) -> Option<bool> {
    while k < to {
        let (item, gives) = match s[k] {
            ')' | '|' if !outer => return None,
            ')' => {
                // (A repetition of a group around the `.`: what follows is read on.)
                k = quantifiers(s, k + 1, false).last().map_or(k + 1, |q| q.end);
                continue;
            }
            '|' | '*' | '+' | '?' | '{' => return None,
            '(' => {
                let close = past_group(s, k).min(to);
                let from = match (s.get(k + 1), s.get(k + 2)) {
                    (Some('?'), Some(':' | '>')) => Some(k + 3),
                    (Some('?'), Some('<')) if !matches!(s.get(k + 3), Some('=' | '!')) => s
                        [k..close]
                        .iter()
                        .position(|&c| c == '>')
                        .map(|n| k + n + 1),
                    (Some('?'), _) => None,
                    _ => Some(k + 1),
                };
                let gives = from.is_some_and(|from| {
                    let end = close.saturating_sub(1).max(from);
                    alternatives(s, from, end)
                        .iter()
                        .all(|&(a, b)| reads(s, a, b, false, ic) == Some(true))
                });
                (close, gives)
            }
            '^' | '$' | '.' => (k + 1, false),
            '\\' => match s.get(k + 1) {
                Some('d' | 's' | 'h' | 't' | 'n' | 'r' | 'f' | 'v' | 'e' | 'a') => (k + 2, true),
                Some(c) if c.is_ascii_punctuation() => (k + 2, true),
                _ => (escape_end(s, k), false),
            },
            '[' => {
                let end = bracket_end(s, k);
                let body = s.get(k + 1..end.saturating_sub(1)).unwrap_or(&[]);
                // (Under `i`, `k` and `s` bring the Kelvin sign and `ſ`, past ASCII.)
                let folds = ic
                    && body
                        .iter()
                        .any(|c| matches!(c, 'k' | 'K' | 's' | 'S' | '-'));
                (end, !folds && plain_class(body))
            }
            _ => (k + 1, true),
        };
        let qs = quantifiers(s, item, false);
        k = qs.last().map_or(item, |q| q.end).max(k + 1);
        if gives {
            match qs[..] {
                [] => return Some(true),
                [ref q] if q.min >= 1 && q.max.is_some() && !q.possessive => return Some(true),
                _ => {}
            }
        }
    }
    Some(false)
}

/// The alternatives at the top level of `s[from..to]`: their ranges.
fn alternatives(s: &[char], from: usize, to: usize) -> Vec<(usize, usize)> {
    let (mut out, mut start, mut depth, mut j) = (Vec::new(), from, 0usize, from);
    while j < to {
        match s[j] {
            '\\' => j += 1,
            '[' => j = bracket_end(s, j).max(j + 1) - 1,
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            '|' if depth == 0 => {
                out.push((start, j));
                start = j + 1;
            }
            _ => {}
        }
        j += 1;
    }
    out.push((start, to.max(start)));
    out
}

/// Does Onigmo take the implicit anchor in `src` (Ruby's pattern under `flags`) from a `.` after
/// a positive look-ahead holding a repetition from at least one without a maximum (`/(?=b+).*/m`,
/// `/(?=\w+)(.*)x/`)? Its search then tries the pattern where [`open_ahead_tries`] tells,
/// reading no string to search for from that repetition (Ruby's Onigmo reads none from any
/// repetition without a maximum), where Oniguruma's search reads one from it and tries other
/// positions (`/(?=b+).*/m` matches `b` in `ab` in Ruby, nothing in Oniguruma; `/(?=b+).*(b)/`
/// nothing in `.x bab` in Ruby, `bab` in Oniguruma). The caller writes those positions out for
/// Oniguruma.
pub(super) fn anchor_after_open_ahead(src: &str, flags: &str) -> bool {
    let (x, m) = (flags.contains('x'), flags.contains('m'));
    let s: Vec<char> = src.chars().collect();
    // (`\A` or `\G` first: both search the start only.)
    let mut first = 0;
    while s.get(first) == Some(&'(') && s.get(first + 1) != Some(&'?') {
        first += 1;
    }
    if s.get(first) == Some(&'\\') && matches!(s.get(first + 1), Some('A' | 'G')) {
        return false;
    }
    anchoring_dots(&s, x, m, true)
        .iter()
        .any(|&(dot, under_m)| {
            // (Under `m`, an end anchor makes the search start from the end: every position.
            // Without `m` the anchor counts only where a string is searched for, what
            // [`open_ahead_tries`] tells.)
            (under_m && !ends_at_text_end(&s) || !under_m && !x) && open_ahead(&s[..dot], x)
        })
}

/// Does `s` hold a positive look-ahead (`(?=…)`) with a repetition from at least one without a
/// maximum in it?
fn open_ahead(s: &[char], x: bool) -> bool {
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '\\' => k = escape_end(s, k),
            '[' => k = bracket_end(s, k),
            '(' if s.get(k + 1..k + 3) == Some(&['?', '='][..]) => {
                let close = past_group(s, k);
                let body = &s[k + 3..close.saturating_sub(1).max(k + 3)];
                if unbounded(body, x) {
                    return true;
                }
                k += 3;
            }
            _ => k += 1,
        }
    }
    false
}

/// Just past the `)` closing the group opening at `s[k]` (the end when it is not closed).
fn past_group(s: &[char], k: usize) -> usize {
    let (mut depth, mut j) = (0usize, k);
    while j < s.len() {
        match s[j] {
            '\\' => {
                j = escape_end(s, j);
                continue;
            }
            '[' => {
                j = bracket_end(s, j);
                continue;
            }
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
        j += 1;
    }
    s.len()
}

/// Does `s` (Ruby syntax) hold a repetition from at least one without a maximum (`+`, `{n,}`,
/// lazy or possessive)? (From none, `b*`, Oniguruma reads no string from it either.)
fn unbounded(s: &[char], x: bool) -> bool {
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '\\' => {
                k = escape_end(s, k);
                continue;
            }
            '[' => {
                k = bracket_end(s, k);
                continue;
            }
            '(' => {
                // Not a repetition: `(?…`.
                k += 1;
                if s.get(k) == Some(&'?') {
                    k += 1;
                }
                continue;
            }
            '*' | '+' | '{'
                if quantifiers(s, k, x)
                    .iter()
                    .any(|q| q.max.is_none() && q.min >= 1) =>
            {
                return true;
            }
            _ => {}
        }
        k += 1;
    }
    false
}

/// Where Onigmo's search tries a pattern [`anchor_after_open_ahead`] tells (its
/// `onig_search`, Ruby 3.1, for a pattern with `ANCHOR_ANYCHAR_STAR_ML` or
/// `ANCHOR_ANYCHAR_STAR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpenAheadTries {
    /// Under `m`, reading nothing to search for before the `.`: the start, and the position
    /// one byte after it when the character there is one byte (the search's range ends one
    /// byte past the start; its last step tries the position where the steps land on that
    /// end).
    StartOrNextByte,
    /// Under `m`, reading a string or class before the `.` (at no distance from the start,
    /// from a look-ahead, `/(?=ab+).*/m`): the search for it runs in that one-byte range, so
    /// the start only.
    Start,
    /// Without `m`, reading a string or class only after the repetition (or after a
    /// repetition without a maximum in the look-ahead): once it is found, the start and
    /// each position after a line feed before the end (`/(?=b+).*(b)/`).
    StartAndLineStarts,
    /// Without `m`, reading one before the `.` (`/(?=ab+).*(b)/`): the positions where it is
    /// found, which are every position where the pattern may match; or reading none at all
    /// (`/(?=b+).*/`), or with a negative look-ahead before the `.` (its own anchor,
    /// `ANCHOR_PREC_READ_NOT`, stops the steps to the starts of lines): every position.
    Every,
}

/// Where Onigmo's search tries `src` (Ruby's pattern under `flags`, one [`anchor_after_open_ahead`]
/// tells), or `None` where it is not read here (then refused; under `m`, a string or class read
/// from a look-ahead after items of some length, `(?=.ab+)`): a pattern with one such `.`,
/// before it only group openings, `^`, `$`, `\b`, `\B`, negative look-aheads and
/// look-behinds and positive look-aheads whose bodies [`ahead_reads`] reads, not under `x`.
/// Which of [`OpenAheadTries`] follows from what Onigmo's optimiser picks to search for: a
/// string or class at a known distance from the start (from a look-ahead before the `.`)
/// always wins over one after the `.` (at no known distance), a class whose value
/// (`map_position_value` summed) is over 200 excepted (not read here).
pub(super) fn open_ahead_tries(src: &str, flags: &str) -> Option<OpenAheadTries> {
    let (x, m) = (flags.contains('x'), flags.contains('m'));
    if x {
        return None;
    }
    let ic = folds(src, flags);
    let s: Vec<char> = src.chars().collect();
    let [(dot, under_m)] = anchoring_dots(&s, x, m, true)[..] else {
        return None;
    };
    let prefix = prefix_reads(&s[..dot], ic)?;
    if under_m {
        // A string or class searched for at a distance from the start other than none makes
        // the search try every position up to where it is found, that distance before it,
        // within the distance's maximum of the start plus one byte (`/(?=b?b?ab+).*/m` matches
        // `ab` in `zzab`; and `.` counts one byte there: `/(?=.?ab+).*/m` matches nothing in
        // `zzab`): not written out here.
        if prefix.off_start {
            return None;
        }
        return Some(if prefix.near {
            OpenAheadTries::Start
        } else {
            OpenAheadTries::StartOrNextByte
        });
    }
    if prefix.near {
        return Some(OpenAheadTries::Every);
    }
    // Without `m`, the anchor counts only where Onigmo searches for a string or class (read
    // after the `.`, or at no known distance in a look-ahead), and a negative look-ahead
    // before the `.` gives the search an anchor of its own (`ANCHOR_PREC_READ_NOT`) that
    // makes it try every position (one after the `.`: not told here).
    let end = quantifiers(&s, dot + 1, x)
        .last()
        .map_or(dot + 1, |q| q.end);
    let searched = searched_after(&s, end, ic) || prefix.far?;
    if !searched || prefix.negative {
        return Some(OpenAheadTries::Every);
    }
    if s[dot..].windows(3).any(|w| w == ['(', '?', '!']) {
        return None;
    }
    Some(OpenAheadTries::StartAndLineStarts)
}

/// Does `src` under `flags` fold case anywhere (`i`, or `(?i` in it)?
fn folds(src: &str, flags: &str) -> bool {
    flags.contains('i')
        || src.match_indices("(?").any(|(at, _)| {
            src[at + 2..]
                .chars()
                .take_while(|c| matches!(c, 'i' | 'm' | 'x' | 'a' | 'd' | 'u'))
                .any(|c| c == 'i')
        })
}

/// What the positive look-aheads in `p` (the items before the `.`, all of no width) give
/// Onigmo: a string or class at a known distance from the start, and one at no known distance
/// (`None`: not told here); `None` where `p` is not read here. Also whether `p` holds a
/// negative look-ahead.
fn prefix_reads(p: &[char], ic: bool) -> Option<Prefix> {
    let mut out = Prefix {
        near: false,
        off_start: false,
        far: Some(false),
        negative: false,
    };
    let mut k = 0;
    while k < p.len() {
        let next = match (p[k], p.get(k + 1), p.get(k + 2)) {
            ('^' | '$', _, _) => k + 1,
            ('\\', Some('b' | 'B'), _) => k + 2,
            ('(', Some('?'), Some('<')) if !matches!(p.get(k + 3), Some('=' | '!')) => {
                past(p, k + 3, '>')
            }
            ('(', Some('?'), Some('=' | '!' | '<')) => {
                let close = past_group(p, k);
                if close > p.len() || p.get(close - 1) != Some(&')') {
                    return None;
                }
                match (p[k + 2], p.get(k + 3)) {
                    ('=', _) => match ahead_reads(&p[k + 3..close - 1], ic)? {
                        (Read::Near(_), at_start) => {
                            out.near = true;
                            out.off_start |= !at_start;
                        }
                        (Read::Open, _) => {}
                        (Read::Closed(far), _) => {
                            out.far = match (out.far, far) {
                                (Some(true), _) | (_, Some(true)) => Some(true),
                                (Some(false), Some(false)) => Some(false),
                                _ => None,
                            }
                        }
                    },
                    ('!', _) => out.negative = true,
                    // Negative look-behinds give nothing (a positive look-behind there gives
                    // no anchor: not told here).
                    ('<', Some('!')) => {}
                    _ => return None,
                }
                close
            }
            ('(', Some('?'), Some(':' | '>')) => k + 3,
            ('(', c, _) if c != Some(&'?') => k + 1,
            _ => return None,
        };
        // (A repeated look-ahead or anchor: not read here.)
        if !quantifiers(p, next, false).is_empty() {
            return None;
        }
        k = next;
    }
    Some(out)
}

/// What [`prefix_reads`] tells.
struct Prefix {
    near: bool,
    /// A string or class read at a distance other than none (`(?=.ab+)`, `(?=b?ab+)`).
    off_start: bool,
    far: Option<bool>,
    negative: bool,
}

/// What Onigmo's optimiser reads from a part of a look-ahead (see [`ahead_reads`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    /// A string or class at a known distance, and the most the value of the class of its
    /// first characters may be (what Onigmo keeps of alternatives with strings of different
    /// first characters).
    Near(u32),
    /// None, and the part's longest match has a length.
    Open,
    /// None up to a repetition without a maximum (what follows is at no known distance);
    /// whether a string or class is read after it (at no known distance), `None` where not
    /// told here.
    Closed(Option<bool>),
}

/// One item of a look-ahead's body as Onigmo's optimiser reads it.
enum Gives {
    /// A string (a literal character; `string`: one the parser may copy out of a repetition
    /// from two without a maximum, `b{2,}` as `bb` and `b*`).
    Exact { string: bool },
    /// A class of single bytes (its value: Onigmo's `map_position_value` summed over them).
    Map(u32),
    /// Nothing; `width`: it has a length (or may have).
    Nothing { width: bool },
    /// A group's body as read.
    Group(Read, bool),
    /// Not told here (what a string or class under `i` gives): enough when it is repeated
    /// without a maximum, or may be left out.
    Unknown,
}

/// What Onigmo reads from the body `b` of a positive look-ahead: a string or class at a known
/// distance from its start (`Near`, and whether at its very start), none before a repetition
/// without a maximum or at all, or `None` where it is not read here.
fn ahead_reads(b: &[char], ic: bool) -> Option<(Read, bool)> {
    group_reads(b, 0, b.len(), ic)
}

/// [`ahead_reads`] of the alternatives of `b[from..to]`, and whether a `Near` one is at the
/// very start of each. Onigmo merges alternatives: a string or class survives only where each
/// alternative gives one at the same distance (read here: each at its start).
fn group_reads(b: &[char], from: usize, to: usize, ic: bool) -> Option<(Read, bool)> {
    let alts = alternatives(b, from, to);
    let reads: Vec<(Read, bool)> = alts
        .iter()
        .map(|&(a, z)| sequence_reads(b, a, z, ic))
        .collect::<Option<_>>()?;
    if reads.len() == 1 {
        return Some(reads[0]);
    }
    if reads.iter().all(|&(r, _)| matches!(r, Read::Near(_))) {
        let first = reads.iter().all(|&(_, first)| first);
        let value = reads
            .iter()
            .map(|&(r, _)| match r {
                Read::Near(v) => v,
                _ => 0,
            })
            .sum::<u32>();
        return (first && value <= 200).then_some((Read::Near(value), true));
    }
    if reads.iter().any(|&(r, _)| matches!(r, Read::Closed(_))) {
        // An alternative reading nothing leaves nothing of the others; what they all read at
        // no known distance Onigmo merges: not told here.
        let nothing = reads
            .iter()
            .any(|&(r, _)| matches!(r, Read::Open | Read::Closed(Some(false))));
        Some((Read::Closed(nothing.then_some(false)), false))
    } else {
        Some((Read::Open, false))
    }
}

/// [`group_reads`] of one alternative, `b[from..to]`.
fn sequence_reads(b: &[char], from: usize, to: usize, ic: bool) -> Option<(Read, bool)> {
    let mut at_start = true;
    let mut k = from;
    while k < to {
        let (gives, end) = item_reads(b, k, to, ic)?;
        let qs = quantifiers(b, end, false);
        let (min, max) = match qs[..] {
            [] => (1, Some(1)),
            // (Possessive, `b++`, is an atomic group around it: what it reads is the same.)
            [ref q] => (q.min, q.max),
            _ => return None,
        };
        k = qs.last().map_or(end, |q| q.end);
        if k > to {
            return None;
        }
        // (A string's first character: a class of one or two bytes, of 12 at most each.)
        let near = Some((Read::Near(24), at_start));
        // Read before the repetition, or by the items after it.
        let far_after = |far: Option<bool>| match far {
            Some(true) => Some(true),
            Some(false) => reads(b, k, to, true, ic),
            None => None,
        };
        if max.is_none() {
            return match gives {
                Gives::Exact { string: true } if min >= 2 => near,
                // (A repeated anchor: not read here.)
                Gives::Nothing { width: false } => None,
                Gives::Group(Read::Closed(far), _) => Some((Read::Closed(far_after(far)), false)),
                _ => Some((Read::Closed(far_after(Some(false))), false)),
            };
        }
        match gives {
            Gives::Exact { .. } if min >= 1 => return near,
            // A class alone is picked over a string at no known distance only when its value
            // is at most 200 (`comp_opt_exact_or_map_info`).
            Gives::Map(value) if min >= 1 => {
                return (value <= 200).then_some((Read::Near(value), at_start));
            }
            Gives::Group(Read::Near(value), first) if min >= 1 => {
                return Some((Read::Near(value), at_start && first));
            }
            Gives::Group(Read::Closed(far), _) => {
                return Some((Read::Closed(far_after(far)), false));
            }
            Gives::Nothing { width: false } if qs.is_empty() => {}
            Gives::Nothing { width: false } => return None,
            Gives::Unknown if min >= 1 => return None,
            _ => at_start = false,
        }
    }
    Some((Read::Open, false))
}

/// The item at `b[k]` (before `to`) as [`sequence_reads`] reads it, and where it ends; `None`
/// where it is not read here.
fn item_reads(b: &[char], k: usize, to: usize, ic: bool) -> Option<(Gives, usize)> {
    // Under `i`, letters Onigmo may write out as several (`k` as `K` and the Kelvin sign, `ss`,
    // `ff`, `fi` … as one), where a long string reads nothing: not told here. (Latin-1 letters
    // but `ß` fold to one letter of as many bytes.)
    let plain_letter = |c: char| {
        !ic || !c.is_alphabetic()
            || c.is_ascii() && !"kKsSfF".contains(c)
            || ('\u{c0}'..='\u{fe}').contains(&c) && c != 'ß'
    };
    Some(match b[k] {
        '|' | ')' | '*' | '+' | '?' => return None,
        '{' if quantifiers(b, k, false).is_empty() => (Gives::Exact { string: true }, k + 1),
        '{' => return None,
        '.' => (Gives::Nothing { width: true }, k + 1),
        '^' | '$' => (Gives::Nothing { width: false }, k + 1),
        '\\' => match b.get(k + 1)? {
            // (`[0-9]`, `[\t\n\v\f\r ]`, `[0-9a-fA-F]`.)
            'd' => (Gives::Map(60), k + 2),
            's' => (Gives::Map(44), k + 2),
            'h' => (Gives::Map(134), k + 2),
            'w' | 'W' | 'D' | 'S' | 'H' => (Gives::Nothing { width: true }, k + 2),
            'b' | 'B' => (Gives::Nothing { width: false }, k + 2),
            't' | 'n' | 'r' | 'f' | 'v' | 'e' | 'a' => (Gives::Exact { string: true }, k + 2),
            c if c.is_ascii_punctuation() => (Gives::Exact { string: true }, k + 2),
            _ => return None,
        },
        '[' => {
            let end = bracket_end(b, k);
            if end > to || end < k + 2 || b[end - 1] != ']' {
                return None;
            }
            let body = &b[k + 1..end - 1];
            if body.first() == Some(&'^') && !body[1..].iter().any(|c| matches!(c, '[' | '\\')) {
                (Gives::Nothing { width: true }, end)
            } else if plain_class(body) && body.iter().all(char::is_ascii) && body.len() > 1 {
                // Under `i`, a class with `k`, `s` or a range may hold the Kelvin sign or `ſ`:
                // then it is not one of single bytes (as [`reads`] reads it).
                let members = class_members(body);
                if !ic {
                    (Gives::Map(class_value(&members, false)), end)
                } else if [b'k', b'K', b's', b'S']
                    .iter()
                    .any(|&c| members[usize::from(c)])
                {
                    (Gives::Unknown, end)
                } else {
                    (Gives::Map(class_value(&members, true)), end)
                }
            } else if ic {
                (Gives::Unknown, end)
            } else {
                return None;
            }
        }
        '(' => {
            let close = past_group(b, k);
            if close > to || b.get(close - 1) != Some(&')') {
                return None;
            }
            let (from, dissolves) = match (b.get(k + 1), b.get(k + 2)) {
                (Some('?'), Some(':')) => (k + 3, true),
                (Some('?'), Some('>')) => (k + 3, false),
                (Some('?'), Some('<')) if !matches!(b.get(k + 3), Some('=' | '!')) => {
                    (past(b, k + 3, '>'), false)
                }
                (Some('?'), _) => return None,
                _ => (k + 1, false),
            };
            if from > close - 1 {
                return None;
            }
            let body = &b[from..close - 1];
            let literal = !body.is_empty()
                && body
                    .iter()
                    .all(|&c| !"\\[](){}|.*+?^$#".contains(c) && plain_letter(c));
            if dissolves && literal {
                (Gives::Exact { string: true }, close)
            } else {
                let (r, first) = group_reads(b, from, close - 1, ic)?;
                (Gives::Group(r, first), close)
            }
        }
        c if plain_letter(c) => (Gives::Exact { string: true }, k + 1),
        _ => (Gives::Unknown, k + 1),
    })
}

/// `written` (Oniguruma's Ruby syntax) with each `.` that gives Oniguruma the implicit anchor
/// under `flags` written as `(?>.)`, the same one character: Oniguruma then tries every
/// position the rest of the pattern allows.
pub(super) fn atomic_dots(written: &str, flags: &str) -> String {
    let (x, m) = (flags.contains('x'), flags.contains('m'));
    let w: Vec<char> = written.chars().collect();
    let dots = anchoring_dots(&w, x, m, false);
    let mut out = String::with_capacity(written.len() + 4 * dots.len());
    for (j, &c) in w.iter().enumerate() {
        if dots.iter().any(|d| d.0 == j) {
            out.push_str("(?>.)");
        } else {
            out.push(c);
        }
    }
    out
}

/// [`anchor_after_items`] with only anchors, negative look-aheads and group openings before
/// each such `.` (no positive look-around, from which the engines read strings to search for): Onigmo's search then tries
/// the start, and the character after it only when the first is one byte (it steps one
/// character from the start while below the start plus one byte), where Oniguruma's tries the
/// next character whatever its length (`/\B.+/m` matches nothing in `ÉCOLE` in Ruby). The
/// caller writes both positions out for Oniguruma.
pub(super) fn start_or_next_byte(src: &str, flags: &str) -> bool {
    let (x, m) = (flags.contains('x'), flags.contains('m'));
    let s: Vec<char> = src.chars().collect();
    if ends_at_text_end(&s) {
        return false;
    }
    let dots = anchoring_dots(&s, x, m, true);
    dots.iter()
        .any(|&(dot, under_m)| under_m && !only_openings(&s[..dot]))
        && dots.iter().all(|&(dot, _)| {
            !s[..dot]
                .windows(3)
                .any(|w| w[0] == '(' && w[1] == '?' && matches!(w[2], '=' | '~' | '('))
                && !s[..dot]
                    .windows(4)
                    .any(|w| w[..3] == ['(', '?', '<'] && matches!(w[3], '=' | '!'))
        })
}

/// Does the pattern `s` end with `\z` or `\Z` (after it only the closings of groups not
/// repeated)? Onigmo's search then starts from the end of the text (`ANCHOR_END_BUF`,
/// `ANCHOR_SEMI_END_BUF`, before the implicit anchor of a `.` under `m`): every position
/// is tried (`/\z.*\z/m` matches at the end of `xy` in Ruby).
fn ends_at_text_end(s: &[char]) -> bool {
    // Escaped: an odd run of backslashes before `at`.
    let escaped = |at: usize| s[..at].iter().rev().take_while(|&&c| c == '\\').count() % 2 == 1;
    let mut end = s.len();
    // Closings, and the items of no width Onigmo keeps the end anchor across (its
    // `concat_opt_anc_info` carries the left anchor over a right side of length 0): `$`, `^`,
    // `\b`, `\B`, `\A`, `\G`, and empty or option-only groups (`(?:)`, `(?m:)`).
    loop {
        if end > 0 && matches!(s[end - 1], ')' | '$' | '^') && !escaped(end - 1) {
            end -= 1;
        } else if end >= 2
            && s[end - 2] == '\\'
            && matches!(s[end - 1], 'b' | 'B' | 'A' | 'G')
            && !escaped(end - 2)
        {
            end -= 2;
        } else if let Some(open) = empty_group_opening(&s[..end]) {
            end = open;
        } else {
            break;
        }
    }
    end >= 2
        && s[end - 2] == '\\'
        && matches!(s[end - 1], 'z' | 'Z')
        && s[..end - 2]
            .iter()
            .rev()
            .take_while(|&&c| c == '\\')
            .count()
            % 2
            == 0
}

/// Where the opening of a group with no body ends `s` (`(?:`, `(?m:`, `(?-i:`, `(`), its
/// start: the group's `)` was taken off before.
fn empty_group_opening(s: &[char]) -> Option<usize> {
    let end = s.len();
    if end >= 1 && s[end - 1] == '(' && !(end >= 2 && s[end - 2] == '\\') {
        // A capture group with nothing in it: no width either.
        return Some(end - 1);
    }
    if end < 3 || s[end - 1] != ':' {
        return None;
    }
    let mut k = end - 1;
    while k > 0 && matches!(s[k - 1], 'i' | 'm' | 'x' | '-') {
        k -= 1;
    }
    // `then`, not `then_some`: `k - 2` only where `k >= 2`.
    (k >= 2 && s[k - 1] == '?' && s[k - 2] == '(' && !(k >= 3 && s[k - 3] == '\\')).then(|| k - 2)
}

/// Is `s` only group openings (`(`, `(?:`, `(?>`, `(?<name>`, `(?'name'`, option groups and
/// switches), `^`, `\A` and `\G`?
fn only_openings(s: &[char]) -> bool {
    let mut k = 0;
    while k < s.len() {
        match (s[k], s.get(k + 1), s.get(k + 2)) {
            ('^', _, _) => k += 1,
            ('\\', Some('A' | 'G'), _) => k += 2,
            ('(', Some('?'), Some(':' | '>')) => k += 3,
            ('(', Some('?'), Some('<' | '\'')) => {
                if matches!(s.get(k + 3), Some('=' | '!')) {
                    return false;
                }
                let close = if s[k + 2] == '<' { '>' } else { '\'' };
                match s[k + 3..].iter().position(|&c| c == close) {
                    Some(n) => k += n + 4,
                    None => return false,
                }
            }
            ('(', Some('?'), _) => {
                let flags = s[k + 2..]
                    .iter()
                    .take_while(|c| matches!(c, 'i' | 'm' | 'x' | 'a' | 'd' | 'u' | '-'))
                    .count();
                if flags == 0 || !matches!(s.get(k + 2 + flags), Some(':' | ')')) {
                    return false;
                }
                k += flags + 3;
            }
            ('(', _, _) => k += 1,
            _ => return false,
        }
    }
    true
}

/// What the optimiser reads of a part of a pattern.
#[derive(Default)]
struct Info {
    /// Its longest match is empty.
    zero: bool,
    /// The `.`s (their positions, and whether each is under `m`) that give it the implicit
    /// anchor at its left; none when it has none.
    dots: Vec<(usize, bool)>,
    /// A positive look-behind is at its left (the engines then drop the implicit anchor; not
    /// for a negative look-ahead, whatever Oniguruma's code says: `/(?!c)(?=b).*/m` matches
    /// nothing in `abbbc` in Ruby).
    kill: bool,
    /// When it is one item under one repetition of the six the parsers reduce when repeated
    /// again (`?`, `*`, `+`, lazy or not: `(?:.*)+` is `.*`): that repetition (its number in
    /// that order), and the item's `.` (position, `m`) when it is one at the start.
    single: Option<(usize, Option<(usize, bool)>)>,
}

/// How the parsers reduce a repetition of a repetition (Onigmo's `ReduceTypeTable`, and
/// Oniguruma's, which differs in the last row).
#[derive(Clone, Copy, PartialEq)]
enum Reduce {
    /// The inner one alone.
    Inner,
    /// Greedy, from none (`*`).
    Star,
    /// Greedy, from one (`+`).
    Plus,
    /// Lazy, or from none around a repetition: no anchor.
    None,
    /// Left as written.
    AsIs,
}

/// The reduction of the popular repetition `inner` (`?`, `*`, `+`, `??`, `*?`, `+?`)
/// repeated `outer`.
fn reduce(inner: usize, outer: usize, onigmo: bool) -> Reduce {
    use Reduce::{AsIs, Inner, None as N, Plus, Star};
    const TABLE: [[Reduce; 6]; 6] = [
        [Inner, Star, Star, N, N, AsIs],
        [Inner, Inner, Inner, N, N, Inner],
        [Star, Star, Inner, AsIs, N, Inner],
        [Inner, N, N, Inner, N, N],
        [Inner, Inner, Inner, Inner, Inner, Inner],
        [AsIs, Star, Plus, N, N, Inner],
    ];
    if onigmo && inner == 5 {
        return [AsIs, N, Inner, N, N, Inner][outer];
    }
    TABLE[inner][outer]
}

/// The `.`s (position, `m`) giving the whole pattern `s` the implicit anchor, as Onigmo
/// (`onigmo`) or Oniguruma reads it; none when it takes none.
fn anchoring_dots(s: &[char], x: bool, m: bool, onigmo: bool) -> Vec<(usize, bool)> {
    if !s.contains(&'.') {
        return Vec::new();
    }
    // A back-referenced capture group gives none (both engines): not told apart here.
    let t: String = s.iter().collect();
    if t.contains("\\k")
        || s.windows(2)
            .any(|p| p[0] == '\\' && p[1].is_ascii_digit() && p[1] != '0')
    {
        return Vec::new();
    }
    let mut r = Reader {
        s,
        k: 0,
        onigmo,
        depth: 0,
    };
    // (A stray `)` ends the reading: the engines refuse such a pattern.)
    let info = r.alternation(x, m, true);
    if info.kill {
        Vec::new()
    } else {
        info.dots
    }
}

/// A recursive reader of Ruby syntax for [`anchoring_dots`].
struct Reader<'a> {
    s: &'a [char],
    k: usize,
    onigmo: bool,
    depth: usize,
}

impl Reader<'_> {
    /// Alternatives up to the `)` closing the group (not consumed) or the end; `at_start`:
    /// nothing of any length comes before it.
    fn alternation(&mut self, mut x: bool, mut m: bool, at_start: bool) -> Info {
        let mut merged: Option<Info> = None;
        loop {
            let one = self.sequence(&mut x, &mut m, at_start);
            merged = Some(match merged {
                None => one,
                Some(a) => {
                    // The anchor of each kind (`m` or not) that both have.
                    let kinds =
                        |d: &[(usize, bool)]| (d.iter().any(|d| d.1), d.iter().any(|d| !d.1));
                    let (am, an) = kinds(&a.dots);
                    let (bm, bn) = kinds(&one.dots);
                    let keep = |d: &(usize, bool)| if d.1 { am && bm } else { an && bn };
                    Info {
                        zero: a.zero && one.zero,
                        dots: a
                            .dots
                            .iter()
                            .chain(&one.dots)
                            .copied()
                            .filter(keep)
                            .collect(),
                        kill: a.kill && one.kill,
                        single: None,
                    }
                }
            });
            if self.s.get(self.k) == Some(&'|') {
                self.k += 1;
            } else {
                return merged.unwrap_or_default();
            }
        }
    }

    /// Items up to `|`, `)` or the end.
    fn sequence(&mut self, x: &mut bool, m: &mut bool, at_start: bool) -> Info {
        let mut info = Info {
            zero: true,
            ..Info::default()
        };
        let mut items = 0;
        loop {
            if *x {
                self.k = past_spaces(self.s, self.k);
            }
            let Some(&c) = self.s.get(self.k) else {
                break;
            };
            let start = at_start && info.zero;
            // The item, and its `.` when it is one.
            let (item, dot) = match c {
                '|' | ')' => break,
                '\\' => {
                    let e = escape_end(self.s, self.k);
                    let zero = matches!(
                        self.s.get(self.k + 1),
                        Some('A' | 'z' | 'Z' | 'b' | 'B' | 'G' | 'K')
                    );
                    self.k = e;
                    (
                        Info {
                            zero,
                            ..Info::default()
                        },
                        None,
                    )
                }
                '^' | '$' => {
                    self.k += 1;
                    (
                        Info {
                            zero: true,
                            ..Info::default()
                        },
                        None,
                    )
                }
                '[' => {
                    self.k = bracket_end(self.s, self.k);
                    (Info::default(), None)
                }
                '(' => match self.group(x, m, start) {
                    Some(i) => (i, None),
                    None => continue,
                },
                '.' => {
                    self.k += 1;
                    (Info::default(), Some((self.k - 1, *m)))
                }
                _ => {
                    self.k += 1;
                    (Info::default(), None)
                }
            };
            items += 1;
            let item = self.repeated(item, dot.filter(|_| start), *x);
            if info.zero {
                info.dots.extend(item.dots.iter().copied());
                info.kill |= item.kill;
            }
            info.zero &= item.zero;
            info.single = if items == 1 { item.single } else { None };
        }
        if items != 1 {
            info.single = None;
        }
        info
    }

    /// The group opening at `self.k`; `None` for an option switch (`(?i)`, applied to `x` and
    /// `m`) or a comment.
    fn group(&mut self, x: &mut bool, m: &mut bool, start: bool) -> Option<Info> {
        let s = self.s;
        let k = self.k;
        if s.get(k + 1) == Some(&'?') && s.get(k + 2) == Some(&'#') {
            self.k = comment_end(s, k).unwrap_or(s.len());
            return None;
        }
        let (mut inner_x, mut inner_m) = (*x, *m);
        let kind;
        let mut from = k + 1;
        if s.get(k + 1) == Some(&'?') {
            let flags: Vec<char> = s[k + 2..]
                .iter()
                .copied()
                .take_while(|c| matches!(c, 'i' | 'm' | 'x' | 'a' | 'd' | 'u' | '-'))
                .collect();
            let end = k + 2 + flags.len();
            if !flags.is_empty() && matches!(s.get(end), Some(')' | ':')) {
                let minus = flags.iter().position(|&c| c == '-').unwrap_or(flags.len());
                for (j, &f) in flags.iter().enumerate() {
                    match f {
                        'x' => inner_x = j < minus,
                        'm' => inner_m = j < minus,
                        _ => {}
                    }
                }
                if s[end] == ')' {
                    (*x, *m) = (inner_x, inner_m);
                    self.k = end + 1;
                    return None;
                }
                kind = Kind::Wrapped;
                from = end + 1;
            } else {
                (kind, from) = match (s.get(k + 2), s.get(k + 3)) {
                    (Some('='), _) => (Kind::Ahead, k + 3),
                    (Some('!'), _) => (Kind::Ahead, k + 3),
                    (Some('<'), Some('=')) => (Kind::Behind, k + 4),
                    (Some('<'), Some('!')) => (Kind::Ahead, k + 4),
                    (Some('<' | '\''), _) => {
                        let close = if s[k + 2] == '<' { '>' } else { '\'' };
                        (Kind::Wrapped, past(s, k + 3, close))
                    }
                    (Some(':'), _) => (Kind::Plain, k + 3),
                    (Some('>'), _) => (Kind::Wrapped, k + 3),
                    _ => (Kind::Other, k + 2),
                };
            }
        } else {
            kind = Kind::Wrapped;
        }
        self.depth += 1;
        self.k = from;
        let mut body = if self.depth > 200 {
            self.k = s.len();
            Info::default()
        } else {
            self.alternation(inner_x, inner_m, start)
        };
        self.depth -= 1;
        if self.s.get(self.k) == Some(&')') {
            self.k += 1;
        }
        Some(match kind {
            Kind::Plain => body,
            Kind::Wrapped => {
                body.single = None;
                body
            }
            Kind::Ahead => Info {
                zero: true,
                ..Info::default()
            },
            Kind::Behind => Info {
                zero: true,
                kill: true,
                ..Info::default()
            },
            Kind::Other => Info::default(),
        })
    }

    /// `item` (`dot`: it is a `.`, position and `m`, where nothing of any length comes before
    /// it) as the repetitions after it (if any) leave it.
    fn repeated(&mut self, mut item: Info, dot: Option<(usize, bool)>, x: bool) -> Info {
        let mut first = true;
        for q in quantifiers(self.s, self.k, x) {
            self.k = q.end;
            let popular = q.popular();
            if std::mem::take(&mut first) && dot.is_some() {
                // The `.`'s own repetition.
                if q.max.is_none() && !q.lazy {
                    item.dots = dot.into_iter().collect();
                }
                item.zero = q.max == Some(0);
                item.single = popular.map(|p| (p, dot));
                continue;
            }
            if let (Some((inner, d)), Some(outer)) = (item.single, popular) {
                match reduce(inner, outer, self.onigmo) {
                    Reduce::Inner => continue,
                    Reduce::Star | Reduce::Plus => {
                        item.dots = d.into_iter().collect();
                        let p = if reduce(inner, outer, self.onigmo) == Reduce::Star {
                            1
                        } else {
                            2
                        };
                        item.single = Some((p, d));
                        continue;
                    }
                    Reduce::None => {
                        item.dots.clear();
                        item.kill = false;
                        item.single = None;
                        continue;
                    }
                    Reduce::AsIs => {}
                }
            }
            let kept = q.min > 0 && (q.max.is_some() || !self.onigmo);
            if !kept {
                item.dots.clear();
                item.kill = false;
            }
            item.zero = item.zero || q.max == Some(0);
            item.single = popular.map(|p| (p, None));
        }
        item
    }
}

/// The kinds of group [`Reader::group`] tells apart.
enum Kind {
    /// A non-capturing group, which the parsers drop.
    Plain,
    /// One whose body the optimiser reads as part of the pattern but which stays a node of its
    /// own: capturing, atomic, with options.
    Wrapped,
    /// A look-ahead or a negative look-behind: empty, no anchor.
    Ahead,
    /// `(?<=…)`.
    Behind,
    /// Anything else (an absent operator, a conditional): read as taking some length.
    Other,
}

/// Past the spaces and `#` comments at `s[j]` (the `x` flag).
fn past_spaces(s: &[char], mut j: usize) -> usize {
    while let Some(c) = s.get(j) {
        if c.is_ascii_whitespace() {
            j += 1;
        } else if *c == '#' {
            j = past(s, j, '\n');
        } else {
            break;
        }
    }
    j
}

/// One repetition read by [`quantifiers`].
pub(super) struct Quantifier {
    /// Its least count.
    pub min: u32,
    /// Its maximum, `None` for none.
    pub max: Option<u32>,
    /// Whether it is lazy (`*?`, `{2,}?`).
    pub lazy: bool,
    /// Whether it is possessive (`*+`: an atomic group around the repetition).
    pub possessive: bool,
    /// Where it ends.
    pub end: usize,
}

impl Quantifier {
    /// Its number among the six repetitions the parsers reduce when repeated again (`?`, `*`,
    /// `+`, `??`, `*?`, `+?`, however written: `{1,}` is `+`).
    fn popular(&self) -> Option<usize> {
        if self.possessive {
            return None;
        }
        let base = match (self.min, self.max) {
            (0, Some(1)) => 0,
            (0, None) => 1,
            (1, None) => 2,
            _ => return None,
        };
        Some(if self.lazy { base + 3 } else { base })
    }
}

/// The repetitions at `s[k]` (one after another: `{2}+` is `(?:…{2})+` in Ruby).
pub(super) fn quantifiers(s: &[char], mut k: usize, x: bool) -> Vec<Quantifier> {
    let mut chain = Vec::new();
    loop {
        let j = if x { past_spaces(s, k) } else { k };
        // `exact`: `{n}`, after which `?` is a repetition of its own (`(?:…{n})?` in Ruby).
        let (min, max, interval, exact, after) = match s.get(j) {
            Some('*') => (0, None, false, false, j + 1),
            Some('+') => (1, None, false, false, j + 1),
            Some('?') => (0, Some(1), false, false, j + 1),
            Some('{') => match interval(s, j) {
                Some((min, max, exact, after)) => (min, max, true, exact, after),
                None => return chain,
            },
            _ => return chain,
        };
        let (mut lazy, mut possessive) = (false, false);
        let mut end = after;
        match s.get(after) {
            Some('?') if !exact => {
                lazy = true;
                end += 1;
            }
            // Possessive (`*+`, `?+`; after braces `+` is a repetition of its own).
            Some('+') if !interval => {
                possessive = true;
                end += 1;
            }
            _ => {}
        }
        chain.push(Quantifier {
            min,
            max,
            lazy,
            possessive,
            end,
        });
        k = end;
    }
}

/// The counted repetition opening at `s[k]` (`{n}`, `{n,}`, `{,m}`, `{n,m}`): its least count,
/// maximum (`None` for none), whether it is `{n}` and where it ends; `None` when the braces are
/// plain characters.
fn interval(s: &[char], k: usize) -> Option<(u32, Option<u32>, bool, usize)> {
    let close = s[k..].iter().position(|&c| c == '}')? + k;
    let body: String = s[k + 1..close].iter().collect();
    let number = |t: &str| -> Option<Option<u32>> {
        if t.is_empty() {
            Some(None)
        } else if t.len() <= 6 && t.bytes().all(|b| b.is_ascii_digit()) {
            t.parse().ok().map(Some)
        } else {
            None
        }
    };
    match body.split_once(',') {
        None => {
            let n = number(&body)??;
            Some((n, Some(n), true, close + 1))
        }
        Some((lo, hi)) => {
            let (lo, hi) = (number(lo)?, number(hi)?);
            if lo.is_none() && hi.is_none() {
                return None;
            }
            Some((lo.unwrap_or(0), hi, false, close + 1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{empty_group_opening, unanchored};

    #[test]
    fn dots_giving_oniguruma_an_anchor_ruby_does_not_take_are_written_atomic() {
        let same = |src: &str| unanchored(src, src, "");
        assert_eq!(same("(?:(?=b).*)+"), "(?:(?=b)(?>.)*)+");
        assert_eq!(same("((?=b).{2,})+?"), "((?=b)(?>.){2,})+?");
        assert_eq!(same("\\b(?:(?=b).+c){2,}"), "\\b(?:(?=b)(?>.)+c){2,}");
        assert_eq!(same("(?:(?=b).*)++"), "(?:(?=b)(?>.)*)++");
        assert_eq!(same("(?:(?=b).*){1,}?"), "(?:(?=b)(?>.)*){1,}?");
        assert_eq!(same("(?:(?=b).*){1}?"), "(?:(?=b).*){1}?");
        assert_eq!(same("(?!c)(?:(?=b).*)+"), "(?!c)(?:(?=b)(?>.)*)+");
        assert_eq!(same("(?:(?:(?=b).*){1,3})+"), "(?:(?:(?=b)(?>.)*){1,3})+");
        assert_eq!(same("(?:(?=b).*|.*)+"), "(?:(?=b)(?>.)*|(?>.)*)+");
        // Copies of Ruby's repetition without a maximum, as written for Oniguruma.
        assert_eq!(
            unanchored("(?:(?=b).*){2,}", "(?:(?=b).*)(?:(?=b).*)(?:(?=b).*)*", "m"),
            "(?:(?=b)(?>.)*)(?:(?=b).*)(?:(?=b).*)*"
        );
        // A repetition of a repetition is reduced first: `(?:.*){1,}?` is `.*`.
        for kept in ["\\b(?:.*)+?c", "(?!c)(?:(?:.*){1,}?){1,}?$", "(?:.*)*"] {
            assert_eq!(same(kept), kept);
        }
        // Oniguruma reduces `(?:.+?)+` to `.+`, Onigmo to `.+?`.
        assert_eq!(same("(?:.+?)+"), "(?:(?>.)+?)+");
        assert_eq!(same("\\b(?:.+?)*"), "\\b(?:(?>.)+?)*");
        // Onigmo takes the anchor of `m` alone where both branches have it.
        assert_eq!(
            same("(?:(?=b).*|(?-m:.*))+"),
            "(?:(?=b)(?>.)*|(?-m:(?>.)*))+"
        );
        for kept in [
            // Ruby takes the anchor too.
            "(?=b).*",
            "(?:(?=b).*){1,3}",
            "(?:(?=b)(.*))",
            // Neither takes one.
            "(?:(?=b).*?)+",
            "(?:(?=b).*)*",
            "(?:(?=b).*|a)+",
            "(?:(?=b)\\.*)+",
            "(?:(?=b)[.]*)+",
            "(?:(?=b)(?#.*).)+",
            "(?:(?=b).)+",
            "a(?:(?=b).*)+",
            "(?<=x)(?:(?=b).*)+",
            "(?:(?=b)(.*))+\\1",
            "(?:(?=b). *)+",
        ] {
            assert_eq!(same(kept), kept);
        }
        // Under `x`, spaces and comments before the repetition.
        assert_eq!(
            unanchored("(?:(?=b). * # .*\n)+", "(?:(?=b). * # .*\n)+", "x"),
            "(?:(?=b)(?>.) * # .*\n)+"
        );
        assert_eq!(same("(?x:(?=b). *)+"), "(?x:(?=b)(?>.) *)+");
        for prefix in [
            "(?:(?=b).*",
            "((",
            "(?x)(?:. #",
            ")))+",
            ".{",
            ".{,}",
            "(?<n",
            "(?'",
        ] {
            let _ = unanchored(prefix, prefix, "m");
            let _ = unanchored(prefix, prefix, "x");
        }
    }

    #[test]
    fn anchors_onigmo_takes_after_zero_width_items_are_told() {
        use super::{
            anchor_after_items, anchor_after_open_ahead, line_starts_only, open_ahead_tries,
        };
        // Under `m`: the start and the character after it only (run on Oniguruma).
        for (src, flags) in [
            ("$.*", "m"),
            ("\\b.*x", "m"),
            ("\\z.*", "m"),
            ("(?:\\B)(.+)", "m"),
        ] {
            assert!(anchor_after_items(src, flags), "{src}");
        }
        for (src, flags) in [
            ("$.*", ""),
            ("^.*", "m"),
            ("\\A.*x", "m"),
            ("(.*)x", "m"),
            ("a$.*", "m"),
        ] {
            assert!(!anchor_after_items(src, flags), "{src}");
        }
        // Without `m`, with a string or class searched for after the `.`: the starts of lines.
        for src in [
            "\\b.*x",
            "\\B(.*)[xy]",
            "(?:\\b).{2,}(b)",
            "\\b.*\\d+x",
            "\\b.*\\bx?\\s",
            "\\b.*.x",
            "\\b.*(?:a|b)",
            "\\b.*[é]",
            "\\b.*(?:a|)x",
            "(?:\\b.+){1,3}c",
        ] {
            assert!(line_starts_only(src, ""), "{src}");
        }
        for (src, flags) in [
            ("\\b.*", ""),
            ("\\b.*\\d+", ""),
            ("\\b.*x?", ""),
            ("^.*x", ""),
            ("\\b.*x", "m"),
            ("\\b.*\\w", ""),
            ("\\b.*[^,]", ""),
            ("\\b.*[aé]", ""),
            ("\\b.*(?:a|)", ""),
            ("\\b.*[ks]", "i"),
            ("(?i)\\b.*[a-c]", ""),
            ("\\b.*x", "x"),
            ("a|\\b.*x", ""),
        ] {
            assert!(!line_starts_only(src, flags), "{src}");
        }
        // A look-ahead holding a repetition from one without a maximum: where Onigmo's search
        // tries the pattern is written out.
        for (src, flags) in [
            ("(?=b+).*", "m"),
            ("(?=\\w+)(.*)", "m"),
            ("(?=b+).*(b)", ""),
            ("(?=a(?:b){2,}).+", "m"),
            ("(?=b+).*", ""),
        ] {
            assert!(anchor_after_open_ahead(src, flags), "{src}");
        }
        for (src, flags) in [
            ("(?=b).*", "m"),
            ("(?=b*).*", "m"),
            ("(?=b{1,3}).*", "m"),
            ("\\A(?=b+).*", "m"),
            ("(?=[b+]).*", "m"),
            ("a(?=b+).*", "m"),
            ("(?:(?=b+).*)+", "m"),
        ] {
            assert!(!anchor_after_open_ahead(src, flags), "{src}");
        }
        for prefix in [
            "(?=b+",
            "(?=",
            "\\b.*(",
            "\\b.*(?<",
            "\\b.*[",
            "$.*(?",
            "(?<",
            "(?'a",
            "(?=a[).*",
            "(?=a(?<b)>b+).*",
            "(?=a(?<b>b+).*",
            "(?=(?=b+).*",
            "(?=a(?:b+).*",
            "((?=b+)",
            "(?=[",
        ] {
            for flags in ["", "m", "x"] {
                let _ = anchor_after_items(prefix, flags);
                let _ = line_starts_only(prefix, flags);
                let _ = anchor_after_open_ahead(prefix, flags);
                let _ = open_ahead_tries(prefix, flags);
            }
        }
    }

    #[test]
    fn where_onigmo_tries_a_pattern_after_an_open_look_ahead_is_told() {
        use super::{open_ahead_tries, OpenAheadTries::*};
        for (src, flags, tries) in [
            ("(?=b+).*", "m", Some(StartOrNextByte)),
            ("(?=\\w+)(.*)x", "m", Some(StartOrNextByte)),
            ("(?:(?=b+).*\\s*){8}x", "m", Some(StartOrNextByte)),
            ("(?=b+c).*", "m", Some(StartOrNextByte)),
            ("(?=ab+).*", "m", Some(Start)),
            ("(?=b{2,}).*", "m", Some(Start)),
            ("(?=[bc]x+).*", "m", Some(Start)),
            ("(?=\\db+).*", "m", Some(Start)),
            ("(?=ab+|cd+).*", "m", Some(Start)),
            ("(?=\\w+)(?=ab+)(.*)", "m", Some(Start)),
            ("(?=b+).*(b)", "", Some(StartAndLineStarts)),
            ("(?=b+c).*", "", Some(StartAndLineStarts)),
            ("\\b(?=\\w+)(?<d>.*)x", "", Some(StartAndLineStarts)),
            ("(?=ab+).*(b)", "", Some(Every)),
            ("(?=b+).*", "", Some(Every)),
            ("(?=a|b+).*", "", Some(Every)),
            ("(?!a)(?=b+).*(b)", "", Some(Every)),
            ("(?=.ab+).*", "", Some(Every)),
            ("(?=b?ab+).*(b)", "", Some(Every)),
            // Not told here: refused.
            ("(?=.ab+).*", "m", None),
            ("(?=b?ab+).*", "m", None),
            ("(?=kb+).*", "mi", None),
            ("(?=[ -~]b+).*x", "m", None),
            ("(?=b+).*(b)(?!c)", "", None),
            ("(?i:(?=b+).*)", "m", None),
            ("(?=b+) .*", "mx", None),
        ] {
            assert_eq!(open_ahead_tries(src, flags), tries, "/{src}/{flags}");
        }
    }

    #[test]
    fn a_pattern_after_an_open_look_ahead_is_tried_where_ruby_tries_it() {
        // Recorded from Ruby 3.1 (`match(text, pos)`, in bytes): a search from a later start
        // tries that start, then the next byte (under m) or the starts of lines.
        for (p, flags, text, start, want) in [
            ("(?=b+).*", "m", "aab", 0, None),
            ("(?=b+).*", "m", "aab", 1, Some((2, 3))),
            ("(?=b+).*", "m", "aab", 2, Some((2, 3))),
            ("(?=b+).*", "m", "aéb", 1, None),
            ("(?=b+).*", "m", "aéb", 3, Some((3, 4))),
            ("(?=ab+).*", "m", "xab", 0, None),
            ("(?=ab+).*", "m", "xab", 1, Some((1, 3))),
            ("(?=b+).*(b)", "", "xbab\nbb", 0, Some((5, 7))),
            ("(?=b+).*(b)", "", "xbab\nbb", 1, Some((1, 4))),
            ("(?=b+).*(b)", "", "xbab\nbb", 2, Some((5, 7))),
            ("(?=b+).*(b)", "", "xbab\nbb", 5, Some((5, 7))),
            ("(?=b+).*(b)", "", "x\nxbab\nb", 0, Some((7, 8))),
            ("(?=b+).*(b)", "", "x\nxbab\nb", 1, Some((7, 8))),
            ("(?=b+).*(b)", "", "x\nxbab\nb", 3, Some((3, 6))),
            ("(?=ab+).*(b)", "", "xab\nab", 0, Some((1, 3))),
            ("(?=ab+).*(b)", "", "xab\nab", 2, Some((4, 6))),
            ("(?=b+).*", "", "aab", 0, Some((2, 3))),
            ("(?=b+).*", "", "aab", 1, Some((2, 3))),
            ("(?=b+c).*", "", "abc\nbc", 0, Some((4, 6))),
            ("(?=b+c).*", "", "abc\nbc", 1, Some((1, 3))),
            ("(?=b+c).*", "", "abc\nbc", 2, Some((4, 6))),
            ("(?=\\w+)(.*)x", "m", " ax", 0, Some((1, 3))),
            ("(?=\\w+)(.*)x", "m", " ax", 1, Some((1, 3))),
        ] {
            let re = crate::ruby_regexp::compile(p, flags).unwrap();
            let got = re.captures_at(text, start).map(|c| c.whole());
            assert_eq!(got, want, "/{p}/{flags} on {text:?} from {start}");
        }
    }

    #[test]
    fn an_end_anchor_before_items_of_no_width_is_still_read() {
        // Recorded from Ruby 3.1: the search starts from the end of the text, so every position
        // is tried (these were tried at the start and the next character only).
        for (p, text, want) in [
            ("\\b.*\\z$", "  ab", Some((2, 4))),
            ("\\b.*\\z(?:)", "  ab", Some((2, 4))),
            ("(\\z.*\\z(?m:))", " xy", Some((3, 3))),
        ] {
            let re = crate::ruby_regexp::compile(p, "m").unwrap();
            assert_eq!(re.find(text), want, "/{p}/m on {text:?}");
        }
    }

    #[test]
    fn option_letters_and_a_colon_alone_end_no_group() {
        // Found by the ruby_regex fuzz target: `|i:` underflowed looking for `(?` before `i:`.
        for p in ["|i:", "i:", ":", "-:", "?i:", "\\(?:"] {
            let _ = crate::ruby_regexp::compile(p, "i");
            assert!(
                empty_group_opening(&p.chars().collect::<Vec<_>>()).is_none(),
                "{p}"
            );
        }
        assert_eq!(
            empty_group_opening(&"a(?i:".chars().collect::<Vec<_>>()),
            Some(1)
        );
    }
}
