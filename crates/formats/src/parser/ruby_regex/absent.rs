//! The absent operator `(?~X)` written out as Onigmo, Ruby's engine, runs it, for six kinds of
//! body beyond a string of one length: alternatives that are each a string of fixed length, of
//! different lengths (`(?~a|bc)`), such alternatives with an empty one (`(?~a|bc|)`) or beside
//! alternatives of anchors and look-behinds (`(?~a|\b)`), a body that matches only the empty
//! string (`(?~\b)`), a class repeated without a maximum (`(?~[^ ]+)`, `(?~"[^"]*)`), and other
//! bodies of characters, classes, groups and greedy or lazy repetitions that match no empty
//! string (`(?~a+b)`, `(?~ \s+)`, `(?~(?:ab)+)`).
//!
//! Onigmo (`OP_ABSENT`, `OP_ABSENT_END` in regexec.c) runs `(?~X)` from its start `p` with a
//! bound `aend`, at first the end of the text: at each position `s` from `p` on while `s <
//! aend`, it matches `X` at `s` in the text cut at `aend` (`aend` is the matcher's end of text
//! meanwhile), and the first match found, ending at `e`, lowers `aend` to the start of the
//! character before `e`; at `s == aend` (or past it) it stops. Its matches end at every
//! position it visited, and at `aend` when it stopped there, the longest first. An empty match
//! at `p` itself fails it. Oniguruma's own `(?~X)` reads otherwise, so the walk is written out
//! with look-aheads, which both engines read alike:
//! - alternatives of fixed lengths: which alternative matches first at `s` within the bound
//!   (the first, in order, of those short enough, tried as a look-ahead) fixes the next bound,
//!   which is at most the longest alternative away, so the walk after the first match is a
//!   finite tree of look-aheads, written out (its size is bounded: a longer one is refused);
//! - alternatives of fixed lengths with an empty one: as above, the empty one taken for one
//!   character matching any, except at `p`, where it fails the operator
//!   ([`of_strings_or_empty`]); an alternative of anchors and look-behinds (which read alike in
//!   the text cut at the bound, before it) likewise where it matches ([`of_mixed`]);
//! - a body with optional parts and counted repetitions of strings of fixed length: first
//!   written out as the alternatives a backtracking matcher tries, in order ([`expand`]), each a
//!   string of fixed length;
//! - a body that matches only the empty string: the text from `p` up to the first position
//!   after it where the body matches (not tried at the end of the text), failing where it
//!   matches at `p`;
//! - one character's class repeated without a maximum, whose first match at each position is
//!   cut by the bound so that `/(?~a+)/` matches half of a run of `a`s ([`of_run`]), alone or
//!   after a string that cannot start again inside the body's match ([`of_string_run`]);
//! - other bodies of characters, classes, non-capturing groups, alternatives and greedy or lazy
//!   repetitions that match no empty string, and alternatives of fixed lengths whose walk above
//!   is too long to write out: walked step by step, each step a look-ahead, the bound kept in
//!   capture groups ([`of_walk`]).
//!
//! The rest (possessive repetitions, bodies that may match the empty string, anchors beside
//! characters in one alternative, alternatives of anchors with look-aheads or `\Z` beside
//! strings, which Onigmo tries in the cut text, a capture group) is refused by the caller.

/// Any character, newlines included (Oniguruma's Ruby syntax).
const ANY: &str = "(?m:.)";

/// The most characters the written walk may take before the pattern is refused.
const MOST_WRITTEN: usize = 64 * 1024;
/// The longest alternative whose walk is written out (the depth of the written groups, and of
/// the recursion writing them), and the longest of alternatives too many to write out so that
/// are walked step by step instead ([`of_walk`]).
pub(super) const MOST_LENGTH: usize = 256;
/// The most positions of the walk written out (each a group of look-aheads) before the pattern
/// is refused: a bound on the work of writing it, checked before its size.
const MOST_VISITS: usize = 4096;

/// `(?~X)` for `X` the alternatives `alts` (each as written for Oniguruma, with its length in
/// characters, at least one), in Ruby's order; `None` when the walk is too long to write out.
pub(super) fn of_strings(alts: &[(&str, usize)]) -> Option<String> {
    let longest = alts.iter().map(|&(_, len)| len).max().unwrap_or(0);
    if alts.len() > 1 && longest > MOST_LENGTH {
        return None;
    }
    let any_of: Vec<&str> = alts.iter().map(|&(w, _)| w).collect();
    let mut out = format!("(?:(?:(?!{}){ANY})*", any_of.join("|"));
    // Where an alternative first matches (the bound still the end of the text, which holds
    // every match), the first of them fixes the bound.
    let (mut branches, mut guards, mut visits) = (Vec::new(), String::new(), 0);
    for &(w, len) in alts {
        if len >= 2 {
            branches.push(format!(
                "{guards}(?={w}){}",
                after(alts, len - 1, &mut visits)?
            ));
        }
        guards.push_str(&format!("(?!{w})"));
    }
    if !branches.is_empty() {
        out.push_str(&format!("(?:{})?", branches.join("|")));
    }
    out.push(')');
    (out.len() <= MOST_WRITTEN).then_some(out)
}

/// `(?~X)` for `X` the alternatives `alts` (each as written for Oniguruma, with its length in
/// characters, at least one) followed by an empty one (`(?~a|bc|)`; those after it are never
/// tried), in Ruby's order; `None` when the walk is too long to write out. Where the empty
/// alternative is the first to match at the start `p`, the match there is empty and the
/// operator fails (so it fails outright for no `alts`, `(?~|a)`); where it is the first at a
/// position after `p`, it lowers the bound to the start of that position's character, as an
/// alternative of one character matching any would, so the walk is [`of_strings`]'s with such
/// an alternative last, but with no positions before the first match.
pub(super) fn of_strings_or_empty(alts: &[(&str, usize)]) -> Option<String> {
    if alts.is_empty() {
        return Some("(?:(?!))".to_string());
    }
    if alts.iter().any(|&(_, len)| len > MOST_LENGTH) {
        return None;
    }
    let mut with_any = alts.to_vec();
    with_any.push((ANY, 1));
    let (mut branches, mut guards, mut visits) = (Vec::new(), String::new(), 0);
    for &(w, len) in alts {
        if len >= 2 {
            branches.push(format!(
                "{guards}(?={w})(?:{})?",
                after(&with_any, len - 1, &mut visits)?
            ));
        } else {
            branches.push(format!("{guards}(?={w})"));
        }
        guards.push_str(&format!("(?!{w})"));
    }
    let out = format!("(?:{})", branches.join("|"));
    (out.len() <= MOST_WRITTEN).then_some(out)
}

/// `(?~X)` for `X` the alternatives `alts`, each as written for Oniguruma with its length in
/// characters when it is a string of fixed length (`Some`), or anchors and look-behinds, which
/// read the same in the text Onigmo cuts at the bound (`None`), in Ruby's order; `None` when the
/// walk is too long to write out. An alternative of anchors (or an empty string) that is the
/// first to match at the start `p` fails the operator there; at a position after `p`, it lowers
/// the bound to the start of that position's character, as an alternative of one character
/// would: so the walk is [`of_strings`]'s with such alternatives taken as of one character, kept
/// from starting where one of them is first to match.
pub(super) fn of_mixed(alts: &[(&str, Option<usize>)]) -> Option<String> {
    let (mut first_at_start, mut guards) = (Vec::new(), String::new());
    for &(w, len) in alts {
        if len.unwrap_or(0) == 0 {
            first_at_start.push(format!("{guards}(?:{w})"));
        }
        guards.push_str(&format!("(?!{w})"));
    }
    let as_strings: Vec<(&str, usize)> = alts
        .iter()
        .map(|&(w, len)| (w, len.filter(|&l| l > 0).unwrap_or(1)))
        .collect();
    let out = format!(
        "(?:(?!{}){})",
        first_at_start.join("|"),
        of_strings(&as_strings)?
    );
    (out.len() <= MOST_WRITTEN).then_some(out)
}

/// From a position `s` the walk visited, with the bound `room` (at least one) characters
/// ahead: the ends after `s`, the longest first (the caller's `?` gives `s` itself).
fn after(alts: &[(&str, usize)], room: usize, visits: &mut usize) -> Option<String> {
    if room == 1 {
        // The bound is the next position: an end, where the walk stops.
        return Some(ANY.to_string());
    }
    if alts.iter().all(|&(_, len)| len >= room) {
        // No alternative fits before the bound: every position up to it is an end.
        return Some(format!("{ANY}{{1,{room}}}"));
    }
    let inner = visit(alts, room - 1, visits)?;
    Some(format!("{ANY}(?:{inner})?"))
}

/// At a position the walk visits, `room` (at least one) characters before the bound: the ends
/// after it. The first alternative (in order) short enough to fit that matches lowers the bound
/// to `len - 1` ahead; none, and it stays.
fn visit(alts: &[(&str, usize)], room: usize, visits: &mut usize) -> Option<String> {
    *visits += 1;
    if *visits > MOST_VISITS {
        return None;
    }
    // The guards of each next bound (several alternatives may lead to the same one).
    let mut by_room: Vec<(usize, Vec<String>)> = Vec::new();
    let mut guards = String::new();
    let mut add = |next: usize, guard: String| match by_room.iter_mut().find(|(r, _)| *r == next) {
        Some((_, g)) => g.push(guard),
        None => by_room.push((next, vec![guard])),
    };
    for &(w, len) in alts.iter().filter(|&&(_, len)| len <= room) {
        add(room.min(len - 1), format!("{guards}(?={w})"));
        guards.push_str(&format!("(?!{w})"));
    }
    add(room, guards);
    let mut branches = Vec::new();
    for (next, guards) in by_room {
        if next == 0 {
            // The bound is here: no end after it.
            continue;
        }
        let guard = if guards.len() == 1 {
            guards[0].clone()
        } else {
            format!("(?:{})", guards.join("|"))
        };
        branches.push(format!("{guard}{}", after(alts, next, visits)?));
    }
    if branches.is_empty() {
        return Some("(?!)".to_string());
    }
    let text = branches.join("|");
    (text.len() <= MOST_WRITTEN).then_some(text)
}

/// `(?~C+)` (or `(?~C*)` for `star`) for `C` (as written for Oniguruma) one character's class,
/// a character or a group of such alternatives, with `name` the prefix of the names of four
/// capture groups of the caller's own, which it numbers before Oniguruma reads them (the
/// references go both ways between two of them, which Oniguruma's names do not allow).
///
/// Onigmo's walk: at the first position `q` from the start `p` where `C` matches (none: the end
/// of the text), with `L` characters of `C` from `q` on, the body's match runs to their end and
/// lowers the bound to its last character; at each position after `q` in the run the body's
/// match, cut at the bound, runs to it and lowers it by one more character: the walk stops
/// where the two meet, after `L / 2` (rounded down) characters of the run. `(?~C*)` fails where
/// `C` does not match at `p` (its body matches the empty string there) and is otherwise the
/// same.
///
/// Written out: text without `C` up to `q`, then the characters of the run one at a time, each
/// followed by as many characters of the run as were taken (its first half). The `k + 1`-th
/// character taken captures the text from `k + 1` characters before the end of the run to the
/// end of the text, found as a character of the run before the same text for the `k`-th (pinned
/// to its place by `\z`); the first finds the end of the run itself. The steps alternate
/// between two groups, `a` and `b`, each built from the other (`a0` for the first step, `b2`
/// for a last `b` step after the repeated pairs). Each step looks ahead past the run once and
/// compares once: for a run of `L` characters, about `L * L / 4` steps in all, as Onigmo's own
/// walk takes, and as many entries on Oniguruma's backtrack stack, which a positive look-ahead
/// keeps.
pub(super) fn of_run(class: &str, star: bool, name: &str) -> String {
    let c = class;
    let step = |group: &str, after: &str| format!("{c}(?={c}*(?<{name}{group}>{c}{after}\\z))");
    let first = step("a0", &format!("(?!{c}){ANY}*"));
    let after_a = format!("(?(<{name}a>)\\k<{name}a>|\\k<{name}a0>)");
    let (b, b2) = (step("b", &after_a), step("b2", &after_a));
    let a = step("a", &format!("\\k<{name}b>"));
    let taken = format!("(?:{first}(?:{b}{a})*(?:{b2})?)?");
    if star {
        format!("(?:(?={c}){taken})")
    } else {
        format!("(?:(?:(?!{c}){ANY})*{taken})")
    }
}

/// `(?~SC+)` or `(?~SC*)` (`body`, as written for Oniguruma) for `S` a string of `length`
/// (at least one) characters of which the first is a character that neither `C` nor the other
/// characters of `S` match, and `C` one character's class: the body's first match from the
/// start `p`, at `q`, runs to `e` and lowers the bound to the character before `e`; `S` does not
/// start again before it (its first character is neither in `S` after its start nor in the run
/// of `C`), so the walk ends there. Written out: text in which the body does not start, then
/// the text of the body's match at `q` short of its last character, the longest first (where
/// the body matches, its first `length` characters are `S`'s).
pub(super) fn of_string_run(body: &str, class: &str, length: usize) -> String {
    let c = class;
    let shorter = if length > 1 {
        format!("|{ANY}{{1,{}}}", length - 1)
    } else {
        String::new()
    };
    format!(
        "(?:(?:(?!{body}){ANY})*(?:(?={body})(?:{ANY}{{{length}}}(?={c})(?:{c}(?={c}))*{shorter}))?)"
    )
}

/// `(?~X)` for `X` (`body`, as written for Oniguruma) a body of characters, classes and `.`,
/// non-capturing groups, alternatives and greedy or lazy repetitions, that matches no empty
/// string (no anchor, look-around, capture group, reference, atomic group, possessive
/// repetition nor item that may match several characters as one, such as `\R`), with `name`
/// the prefix of the names of four capture groups of the caller's own, which it numbers before
/// Oniguruma reads them.
///
/// Onigmo's walk, step by step: such a body's first match at a position in the text cut at
/// the bound is its first match in the whole text that ends no later than the bound (every
/// path that passes the bound ends past it, and the paths before it are tried in the same
/// order), so each step is a look-ahead. The bound is kept as the text from one character
/// past it to the end of the text, in a capture group, which pins a position by its length
/// (`\k<g>\z`): a position is before the bound where more characters than that follow it.
/// Up to the body's first match `q` (the bound is the end of the text) each position is an end
/// where the body does not start; at `q` the body's match, ending at `e`, sets the bound to
/// the character before `e`; from each position after it that is before the bound, the body's
/// first match ending no later than the bound (at `e`) lowers it to the character before `e`,
/// or none leaves it, and the walk takes one more character while that is before the bound,
/// or at it. The groups alternate, `a` and `b`, each built from the other (`a0` for the first
/// match, `b2` for a last `b` step after the repeated pairs), as in [`of_run`]. Each step
/// matches the body once and looks ahead past the bound a few times: for a text of `n`
/// characters, about `n * n` steps at most, as Onigmo's own walk takes.
pub(super) fn of_walk(body: &str, name: &str) -> String {
    let b = format!("(?:{body})");
    // A step from a position before the bound (kept in `old`), its next bound in `new`.
    let step = |old: &str, new: &str| {
        format!(
            "(?=(?:{b}(?={ANY}+{old}\\z)|{ANY}*(?={old}\\z))(?<{name}{new}>{ANY}*)\\z)\
             {ANY}(?={ANY}+\\k<{name}{new}>\\z)"
        )
    };
    let after_a = format!("(?(<{name}a>)\\k<{name}a>|\\k<{name}a0>)");
    let first = format!("(?={b}(?<{name}a0>{ANY}*)\\z){ANY}(?={ANY}+\\k<{name}a0>\\z)");
    let (b1, a, b2) = (
        step(&after_a, "b"),
        step(&format!("\\k<{name}b>"), "a"),
        step(&after_a, "b2"),
    );
    format!("(?:(?:(?!{b}){ANY})*(?:{first}(?:{b1}{a})*(?:{b2})?)?)")
}

/// `(?~X)` for `X` (as written for Oniguruma) that holds anchors, look-arounds, atomic groups
/// or possessive repetitions, or may match the empty string, walked step by step as
/// [`of_walk`] walks it, but with the body of each step after the first match read in the text
/// Onigmo cuts at the bound ([`cut_at`]); `None` where the body holds what that cannot read
/// (a capture group, a reference, a call, a conditional, `\K`, `\R`, `\X`, an absent operator,
/// a comment, an end anchor, `\b` or a look-ahead inside a look-behind).
///
/// Onigmo matches the body at each position `s` of the walk with its end of text set to the
/// bound, so there `$`, `\z`, `\Z`, `\b` and `\B` see the text end at the bound, `^` does not
/// match at it (Onigmo's `^` does not match at the end of the text), and a look-ahead, an
/// atomic group or a possessive repetition reads no text past it; the characters the body
/// consumes are the same as in the whole text where its match ends no later than the bound
/// (which each step checks after it). A body whose first match at the operator's start is
/// empty fails the operator (Onigmo: "an empty match occurred at the start point, never
/// match"); an empty first match later ends the walk there, as the written steps do.
pub(super) fn of_cut_walk(body: &str, name: &str) -> Option<String> {
    let b = format!("(?:{body})");
    let after_a = format!("(?(<{name}a>)\\k<{name}a>|\\k<{name}a0>)");
    let after_b = format!("\\k<{name}b>");
    let (cut_a, cut_b) = (cut_at(body, &after_a)?, cut_at(body, &after_b)?);
    // A step from a position before the bound (kept in `old`, the body there read in the text
    // cut at it: `cut`), its next bound in `new`.
    let step = |cut: &str, old: &str, new: &str| {
        format!(
            "(?=(?:(?:{cut})(?={ANY}+{old}\\z)|{ANY}*(?={old}\\z))(?<{name}{new}>{ANY}*)\\z)\
             {ANY}(?={ANY}+\\k<{name}{new}>\\z)"
        )
    };
    let first = format!("(?={b}(?<{name}a0>{ANY}*)\\z){ANY}(?={ANY}+\\k<{name}a0>\\z)");
    let (b1, a, b2) = (
        step(&cut_a, &after_a, "b"),
        step(&cut_b, &after_b, "a"),
        step(&cut_a, &after_a, "b2"),
    );
    // Not where the body's first match at the start is empty.
    let start = format!("(?:(?!{b})|(?={b}(?<{name}z>{ANY}*)\\z)(?!\\k<{name}z>\\z))");
    let out = format!("(?:{start}(?:(?!{b}){ANY})*(?:{first}(?:{b1}{a})*(?:{b2})?)?)");
    (out.len() <= MOST_WRITTEN).then_some(out)
}

/// `body` (Oniguruma's Ruby syntax, as the translator writes it) read as Onigmo reads it in the
/// text cut at a bound one character before where `old` (a reference to a capture group
/// holding the text from there to the end) starts, when the match ends no later than the
/// bound: `$` also matches at the bound, `\z` only there, `\Z` there or before a newline just
/// before it, `\b`/`\B` there by the character before alone, `^` not there (but at the start
/// of the text), a look-ahead, an atomic group or a possessive repetition takes only what ends
/// no later than the bound. `None` for what it cannot read (see [`of_cut_walk`]).
pub(super) fn cut_at(body: &str, old: &str) -> Option<String> {
    let s: Vec<char> = body.chars().collect();
    let at = format!("(?={ANY}{old}\\z)");
    let not_at = format!("(?!{ANY}{old}\\z)");
    let within = format!("(?={ANY}+{old}\\z)");
    let boundary = |word: &str, not: bool, plain: &str| {
        let behind = if not { "(?<!" } else { "(?<=" };
        format!("(?:{at}{behind}{word})|{not_at}{plain})")
    };
    const WORD: &str = "(?-i:[[:word:]])";
    const ASCII_WORD: &str = "(?-i:[a-zA-Z0-9_])";
    // The open groups: whether each closes with the bound check (a look-ahead or an atomic
    // group), and where it starts in `out`.
    let mut groups: Vec<(bool, usize)> = Vec::new();
    let mut behinds = 0usize;
    let mut out = String::with_capacity(body.len() * 2);
    // Where the item a repetition would repeat starts in `out`, and whether the last thing
    // written was a repetition `*`, `+` or `?` (not lazy), which a `+` makes possessive.
    let (mut item, mut repeated) = (None::<usize>, false);
    let mut k = 0;
    while k < s.len() {
        let here = out.len();
        let was_repeated = std::mem::take(&mut repeated);
        match s[k] {
            '\\' => {
                let end = super::escape_end(&s, k).min(s.len());
                match s.get(k + 1) {
                    Some('b' | 'B' | 'z' | 'Z') if behinds > 0 => return None,
                    Some('b') => out.push_str(&boundary(WORD, false, "\\b")),
                    Some('B') => out.push_str(&boundary(WORD, true, "\\B")),
                    Some('z') => out.push_str(&at),
                    Some('Z') => out.push_str(&format!("(?=\\n?{ANY}{old}\\z)")),
                    Some('K' | 'R' | 'X' | 'k' | 'g' | '1'..='9') | None => return None,
                    _ => out.extend(&s[k..end]),
                }
                item = Some(here);
                k = end;
            }
            '[' => {
                let end = super::bracket_end(&s, k).min(s.len());
                out.extend(&s[k..end]);
                item = Some(here);
                k = end;
            }
            '(' => {
                let rest: String = s[k..s.len().min(k + 7)].iter().collect();
                if rest == "(?W:\\b)" || rest == "(?W:\\B)" {
                    if behinds > 0 {
                        return None;
                    }
                    let not = rest.ends_with("B)");
                    out.push_str(&boundary(ASCII_WORD, not, &rest));
                    item = Some(here);
                    k += 7;
                    continue;
                }
                if s.get(k + 1) != Some(&'?') {
                    // A capture group.
                    return None;
                }
                let (checked, len) = match (s.get(k + 2), s.get(k + 3)) {
                    (Some('=' | '!'), _) if behinds > 0 => return None,
                    (Some('=' | '!'), _) => (true, 3),
                    (Some('>'), _) => (true, 3),
                    (Some('<'), Some('=' | '!')) => {
                        behinds += 1;
                        (false, 4)
                    }
                    _ => {
                        // Options, with a group (`(?i:`) or without (`(?i)`).
                        let j = k
                            + 2
                            + s[k + 2..]
                                .iter()
                                .take_while(|c| matches!(c, 'i' | 'm' | 'x' | 'W' | '-'))
                                .count();
                        match s.get(j) {
                            Some(':') => (false, j + 1 - k),
                            Some(')') if !s[k + 2..j].contains(&'x') => {
                                out.extend(&s[k..=j]);
                                item = None;
                                k = j + 1;
                                continue;
                            }
                            _ => return None,
                        }
                    }
                };
                groups.push((checked, here));
                out.extend(&s[k..k + len]);
                if checked {
                    // (The check after all its alternatives.)
                    out.push_str("(?:");
                }
                k += len;
            }
            ')' => {
                let (checked, start) = groups.pop()?;
                if checked {
                    out.push(')');
                    out.push_str(&within);
                }
                if out[start..].starts_with("(?<") {
                    behinds -= 1;
                }
                out.push(')');
                item = Some(start);
                k += 1;
            }
            '|' => {
                out.push('|');
                item = None;
                k += 1;
            }
            '^' if behinds > 0 => return None,
            '^' => {
                out.push_str(&format!("(?:\\A|{not_at}^)"));
                item = Some(here);
                k += 1;
            }
            '$' if behinds > 0 => return None,
            '$' => {
                out.push_str(&format!("(?:{at}|$)"));
                item = Some(here);
                k += 1;
            }
            '+' if was_repeated => {
                // Possessive: atomic, taking only what ends no later than the bound.
                let from = item?;
                let repeated_item = out[from..].to_string();
                out.truncate(from);
                out.push_str(&format!("(?>{repeated_item}{within})"));
                item = Some(from);
                k += 1;
            }
            c @ ('*' | '+' | '?') => {
                out.push(c);
                if s.get(k + 1) == Some(&'?') {
                    out.push('?');
                    k += 1;
                } else {
                    repeated = true;
                }
                k += 1;
            }
            '{' => {
                let end = s[k..].iter().position(|&c| c == '}').map(|j| k + j + 1);
                let counted = end.filter(|&e| {
                    e > k + 2
                        && s[k + 1..e - 1]
                            .iter()
                            .all(|c| c.is_ascii_digit() || *c == ',')
                });
                match counted {
                    Some(e) => {
                        out.extend(&s[k..e]);
                        if s.get(e) == Some(&'?') {
                            out.push('?');
                            k = e + 1;
                        } else {
                            k = e;
                        }
                    }
                    None => {
                        out.push('{');
                        item = Some(here);
                        k += 1;
                    }
                }
            }
            c => {
                out.push(c);
                item = Some(here);
                k += 1;
            }
        }
    }
    groups.is_empty().then_some(out)
}

/// `(?~X)` for `X` (as written for Oniguruma) that matches only the empty string.
pub(super) fn of_anchors(body: &str) -> String {
    format!("(?:(?!{body})(?:{ANY}(?:(?!{body}){ANY})*)?)")
}

/// The most alternatives a body with optional parts is written out as ([`expand`]).
const MOST_EXPANDED: usize = 64;

/// `src` (Ruby syntax) with the body of each absent operator `(?~X)` that holds optional parts
/// and counted repetitions of strings of fixed length (`(?~\r?\n)`, `(?~ab{1,2})`, `(?~a(?:bc)??)`)
/// written out as the alternatives Onigmo tries in their order (`(?~\r\n|\n)`, `(?~abb|ab)`,
/// `(?~a|abc)`), each a string of fixed length, which the walk reads. Onigmo's walk takes the
/// body's first match at each position within its bound, and a body without anchors or
/// look-arounds matches first by the first of those alternatives that fits and matches there.
/// Left as it is where anything else is in the body, where `x` or a comment is anywhere in the
/// pattern, or beyond [`MOST_EXPANDED`] alternatives; with `i` turned on anywhere in the
/// pattern, the parts are read as under `i`. A lazy repetition without a maximum that ends an
/// alternative of the body is first written as its least count ([`lazy_least`]).
pub(super) fn expand(src: &str, flags: &str) -> String {
    let s: Vec<char> = src.chars().collect();
    if !src.contains("(?~") || flags.contains('x') || src.contains("(?#") {
        return src.to_string();
    }
    // Any option group or option with `x`, or turning `i` on.
    let mut x_or_i = (false, flags.contains('i'));
    for (at, _) in src.match_indices("(?") {
        let options: String = src[at + 2..]
            .chars()
            .take_while(|c| matches!(c, 'i' | 'm' | 'x' | '-'))
            .collect();
        x_or_i.0 |= options.contains('x');
        // (`(?-i:…)` turns it off: read as without `i`, it is read as it is.)
        x_or_i.1 |= options.split('-').next().is_some_and(|on| on.contains('i'));
    }
    if x_or_i.0 {
        return src.to_string();
    }
    let f = super::Flags {
        i: x_or_i.1,
        m: false,
        x: false,
        cs: super::Charset::Default,
    };
    let mut out = String::new();
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '\\' => {
                out.extend(s.get(k..k + 2).unwrap_or(&s[k..]));
                k += 2;
            }
            '[' => {
                let end = super::bracket_end(&s, k).min(s.len());
                out.extend(&s[k..end]);
                k = end.max(k + 1);
            }
            '(' if s.get(k + 1) == Some(&'?') && s.get(k + 2) == Some(&'~') => {
                let close = super::group_close(&s, k);
                let body = s.get(k + 3..close.saturating_sub(1)).unwrap_or(&[]);
                let whole = s.get(close.saturating_sub(1)) == Some(&')') && close > k + 3;
                if let Some(least) = whole.then(|| lazy_least(body)).flatten() {
                    // Its first match takes a lazy repetition at the end the least times.
                    let least: Vec<char> = least.chars().collect();
                    out.push_str("(?~");
                    match (super::absent_lengths(&least, f).is_none())
                        .then(|| expanded(&least, f))
                        .flatten()
                    {
                        Some(alts) => out.push_str(&alts.join("|")),
                        None => out.extend(&least),
                    }
                    out.push(')');
                    k = close;
                    continue;
                }
                match (whole && super::absent_lengths(body, f).is_none())
                    .then(|| expanded(body, f))
                    .flatten()
                {
                    Some(alts) => {
                        out.push_str("(?~");
                        out.push_str(&alts.join("|"));
                        out.push(')');
                        k = close;
                    }
                    None => {
                        out.push_str("(?~");
                        k += 3;
                    }
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

/// `body` (an absent operator's, Ruby syntax) with each top-level alternative that ends in an
/// item repeated lazily without a maximum (`a+?`, `[^ ]*?`: a character, an escape, a class,
/// `.` or a non-capturing group) written with the item repeated the least times (`a`, nothing):
/// nothing follows it in the body, so the body's first match at a position takes it so, and
/// Onigmo's walk reads only the first match (`(?~a+?)` is `(?~a)`, `(?~ab*?)` is `(?~a)`).
/// `None` where no alternative ends so, or the body holds another absent operator.
fn lazy_least(body: &[char]) -> Option<String> {
    let text: String = body.iter().collect();
    if text.contains("(?~") {
        return None;
    }
    let mut changed = false;
    let mut alts = Vec::new();
    for alt in super::alternatives_of(&text) {
        let chars: Vec<char> = alt.chars().collect();
        // The last item: where it starts and ends, and whether only `+?` or `*?` follows it.
        let (mut start, mut end, mut quantified) = (0, 0, false);
        let mut k = 0;
        while k < chars.len() {
            let counted = chars[k] == '{'
                && chars[k + 1..]
                    .iter()
                    .position(|&c| c == '}')
                    .is_some_and(|n| {
                        chars[k + 1..k + 1 + n]
                            .iter()
                            .all(|c| c.is_ascii_digit() || *c == ',')
                    });
            match chars[k] {
                '*' | '+' | '?' => {
                    quantified = true;
                    k += 1;
                    continue;
                }
                '{' if counted => {
                    quantified = true;
                    k = super::past(&chars, k + 1, '}');
                    continue;
                }
                '\\' => end = super::escape_end(&chars, k),
                '[' => end = super::bracket_end(&chars, k),
                '(' => {
                    end = super::group_close(&chars, k);
                    let plain = chars.get(k + 1..k + 3) == Some(&['?', ':'][..]);
                    if !plain {
                        // (Not one this rewrites: a capture, a look-around, options.)
                        start = usize::MAX;
                        k = end.max(k + 1);
                        quantified = false;
                        continue;
                    }
                }
                _ => end = k + 1,
            }
            start = k;
            quantified = false;
            k = end.max(k + 1);
        }
        let tail: String = chars
            .get(end.min(chars.len())..)
            .unwrap_or(&[])
            .iter()
            .collect();
        match tail.as_str() {
            // (Not a reference or a call, nor what Ruby refuses, which Ruby checks though it
            // matches nothing.)
            "+?" | "*?"
                if start != usize::MAX
                    && quantified
                    && end > start
                    && !(chars[start] == '\\'
                        && matches!(chars.get(start + 1), Some('k' | 'g' | '1'..='9')))
                    && crate::ruby_regexp::compile(
                        &chars[start..end].iter().collect::<String>(),
                        "",
                    )
                    .is_ok() =>
            {
                changed = true;
                let keep = if tail == "+?" { end } else { start };
                alts.push(chars[..keep].iter().collect::<String>());
            }
            _ => alts.push(alt.to_string()),
        }
    }
    changed.then(|| alts.join("|"))
}

/// The alternatives (Ruby syntax, each a string of fixed length) of `body`, in the order a
/// backtracking matcher tries them, when it is alternatives of items each a part of fixed
/// length (a character, an escape, a class, `.`, a non-capturing group, as
/// [`super::absent_length`] reads them; a group may itself hold such items), repeated
/// `?`, `??`, `{n,m}` or `{n,m}?` or not at all. `None` otherwise, or past [`MOST_EXPANDED`].
fn expanded(body: &[char], f: super::Flags) -> Option<Vec<String>> {
    let text: String = body.iter().collect();
    let mut all = Vec::new();
    for alt in super::alternatives_of(&text) {
        let chars: Vec<char> = alt.chars().collect();
        let mut alts = vec![String::new()];
        let mut k = 0;
        while k < chars.len() {
            // The item and its own alternatives.
            let (end, choices) = match chars[k] {
                '(' => {
                    let close = super::group_close(&chars, k);
                    if chars.get(close.checked_sub(1)?) != Some(&')') {
                        return None;
                    }
                    let (colon, g) = super::option_group(&chars, k, close, f)?;
                    let prefix: String = chars[k..=colon].iter().collect();
                    let inner = expanded(chars.get(colon + 1..close - 1)?, g)?;
                    (
                        close,
                        inner
                            .into_iter()
                            .map(|a| format!("{prefix}{a})"))
                            .collect::<Vec<_>>(),
                    )
                }
                '*' | '+' | '?' | '{' | ')' | '|' => return None,
                _ => {
                    let end = match chars[k] {
                        '\\' => super::escape_end(&chars, k),
                        '[' => super::bracket_end(&chars, k),
                        _ => k + 1,
                    }
                    .min(chars.len());
                    let atom = &chars[k..end];
                    if super::absent_length(atom, f)? == 0 {
                        return None;
                    }
                    let atom: String = atom.iter().collect();
                    (end, vec![format!("(?:{atom})")])
                }
            };
            // Its repetition.
            // (`optional`: `{n}?`, which Ruby reads as `(?:…{n})?`, not lazy.)
            let (min, max, lazy, optional, next) = match chars.get(end) {
                Some('?' | '{') => {
                    let p = super::Parser {
                        s: chars.clone(),
                        i: end,
                        depth: 0,
                        class_flags: f,
                    };
                    let (min, max, len, _, comma) = p.quantifier().ok()??;
                    let max = max?;
                    let fixed = chars[end] == '{' && !comma;
                    match chars.get(end + len) {
                        Some('?') if fixed => (min, max, false, true, end + len + 1),
                        Some('?') => (min, max, true, false, end + len + 1),
                        Some('+' | '*' | '{') => return None,
                        _ => (min, max, false, false, end + len),
                    }
                }
                Some('*' | '+') => return None,
                _ => (1, 1, false, false, end),
            };
            if max > MOST_EXPANDED as u32 || min > max {
                return None;
            }
            let mut repeats = repeated(&choices, min as usize, max as usize, lazy)?;
            if optional {
                // Greedy: the `n` copies first, then none.
                repeats.push(String::new());
            }
            let mut next_alts = Vec::new();
            for a in &alts {
                for r in &repeats {
                    next_alts.push(format!("{a}{r}"));
                    if next_alts.len() > MOST_EXPANDED {
                        return None;
                    }
                }
            }
            alts = next_alts;
            k = next;
        }
        all.extend(alts);
        if all.len() > MOST_EXPANDED {
            return None;
        }
    }
    Some(all)
}

/// `choices` (an item's alternatives, in order) repeated from `min` to `max` times, greedily
/// (the most first) or lazily, as the texts a backtracking matcher tries in order.
fn repeated(choices: &[String], min: usize, max: usize, lazy: bool) -> Option<Vec<String>> {
    if max == 0 {
        return Some(vec![String::new()]);
    }
    let mut more = Vec::new();
    for c in choices {
        for r in repeated(choices, min.saturating_sub(1), max - 1, lazy)? {
            more.push(format!("{c}{r}"));
            if more.len() > MOST_EXPANDED {
                return None;
            }
        }
    }
    Some(match (min, lazy) {
        (0, false) => more.into_iter().chain([String::new()]).collect(),
        (0, true) => [String::new()].into_iter().chain(more).collect(),
        _ => more,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_of_two_lengths() {
        // One character lowers the bound to where it starts: no end after it.
        assert_eq!(
            of_strings(&[("a", 1), ("bc", 2)]).unwrap(),
            "(?:(?:(?!a|bc)(?m:.))*(?:(?!a)(?=bc)(?m:.))?)"
        );
    }

    #[test]
    fn a_long_walk_is_refused() {
        let alts: Vec<(String, usize)> = (1..=30).map(|n| ("x".repeat(n), n)).collect();
        let alts: Vec<(&str, usize)> = alts.iter().map(|(w, n)| (w.as_str(), *n)).collect();
        assert!(of_strings(&alts).is_none());
        // Too deep to write out (nor to recurse into), beside another alternative; alone, one
        // length, it is a plain count.
        assert!(of_strings(&[("a.{3000}", 3001), ("bc", 2)]).is_none());
        assert!(of_strings(&[("a{5000}", 5000)])
            .unwrap()
            .contains("{1,4999}"));
    }

    #[test]
    fn an_unclosed_option_group_in_the_body_is_an_error() {
        // (Its length was read past the body's end.)
        for re in ["(?~(?i:)", "(?~a(?m:)", "(?~(?-i:)b"] {
            assert!(crate::ruby_regexp::compile(re, "").is_err(), "{re}");
        }
    }

    #[test]
    fn an_unclosed_unicode_escape_in_the_body_is_an_error() {
        // (Its inner part was sliced past its end: a panic, found by the ruby_regex fuzz target.)
        for re in [
            "(?~x|\\u{\u{11}\0\u{7}xxx,x|xxxxxxxxzx",
            "(?~a|\\u{",
            "(?~\\u{1",
        ] {
            assert!(crate::ruby_regexp::compile(re, "").is_err(), "{re:?}");
        }
    }

    #[test]
    fn strings_and_an_empty_one() {
        // `(?~a|)`: where `a` is, an empty match; nowhere else.
        assert_eq!(of_strings_or_empty(&[("a", 1)]).unwrap(), "(?:(?=a))");
        assert_eq!(of_strings_or_empty(&[]).unwrap(), "(?:(?!))");
        // `(?~abc|)`: past its first character, the empty alternative lowers the bound.
        let walk = of_strings_or_empty(&[("abc", 3)]).unwrap();
        assert!(walk.starts_with("(?:(?=abc)(?:(?m:.)"), "{walk}");
        assert!(of_strings_or_empty(&[("a.{3000}", 3001)]).is_none());
    }

    #[test]
    fn strings_and_anchors() {
        // `(?~a|\b)`: not where `\b` comes first at the start.
        assert_eq!(
            of_mixed(&[("a", Some(1)), (r"\b", None)]).unwrap(),
            r"(?:(?!(?!a)(?:\b))(?:(?:(?!a|\b)(?m:.))*))"
        );
    }

    #[test]
    fn optional_parts_written_out() {
        assert_eq!(expand(r"(?~\r?\n)", ""), r"(?~(?:\r)(?:\n)|(?:\n))");
        assert_eq!(expand("x(?~ab??)", ""), "x(?~(?:a)|(?:a)(?:b))");
        assert_eq!(
            expand("(?~a(?:b|cd){1,2})", ""),
            "(?~(?:a)(?:(?:b))(?:(?:b))|(?:a)(?:(?:b))(?:(?:c)(?:d))|(?:a)(?:(?:b))".to_string()
                + "|(?:a)(?:(?:c)(?:d))(?:(?:b))|(?:a)(?:(?:c)(?:d))(?:(?:c)(?:d))"
                + "|(?:a)(?:(?:c)(?:d)))"
        );
        // Left alone: no optional part, a repetition without a maximum, `x`, a comment.
        for (src, flags) in [
            ("(?~ab)", ""),
            ("(?~a+)", ""),
            ("(?~a?)", "x"),
            ("(?~a?)(?#c)", ""),
            (
                r"\G+?(?<![[:^alpha:]])([[:word:]])((\R{,2}){1,2}?(?~x)^){1,2}",
                "i",
            ),
        ] {
            assert_eq!(expand(src, flags), src);
        }
        // Far too many alternatives.
        assert_eq!(expand("(?~a?b?c?d?e?f?g?)", ""), "(?~a?b?c?d?e?f?g?)");
    }

    #[test]
    fn a_repeated_class() {
        // The first half of the run, one character at a time, each checked against the end.
        let plus = of_run("a", false, "g");
        assert!(
            plus.starts_with("(?:(?:(?!a)(?m:.))*(?:a(?=a*(?<ga0>a(?!a)"),
            "{plus}"
        );
        assert!(of_run("[^ ]", true, "g").starts_with("(?:(?=[^ ])(?:[^ ](?="));
        let re = |src: &str| crate::ruby_regexp::compile(src, "").unwrap();
        // Ruby: the body's match cut at each step, so half of a run.
        for (text, end) in [("aaaa", 2), ("aaaaa", 2), ("xaaaab", 3), ("a", 0), ("", 0)] {
            assert_eq!(re("(?~a+)").find(text), Some((0, end)), "{text}");
        }
        assert_eq!(re("(?~[^ ]*)").find(" ab"), Some((1, 2)));
        // Its groups are the rewriting's own: Ruby's are numbered as in Ruby.
        let r = re(r"(\w)(?~\d+)(b)");
        let c = r.captures_at("x1234b", 0).unwrap();
        let groups: Vec<_> = r.numbered().iter().map(|&g| c.get(g)).collect();
        // (As Ruby: at 0 the walk stops after `12` of `1234`, at 4 it passes `b`.)
        assert_eq!(groups, [Some((4, 5)), Some((5, 6))]);
        assert_eq!(r.find("x12b"), Some((2, 4)));
        let r = re("(?<a>(?~[^ ]+)) (?<b>.)");
        let c = r.captures_at("abcd e", 0).unwrap();
        let groups: Vec<_> = r.numbered().iter().map(|&g| c.get(g)).collect();
        assert_eq!(groups, [Some((4, 4)), Some((5, 6))]);
        // Not where the groups could hold an earlier run's text, or be renumbered.
        for src in ["(?:(?~a+)b)+", "(?~a+)*", r"(a)(?~b+)\1", "(?~a+)(?#c)"] {
            assert!(crate::ruby_regexp::compile(src, "").is_err(), "{src}");
        }
    }

    #[test]
    fn a_string_then_a_repeated_class() {
        assert_eq!(
            of_string_run("(?:ab+)", "b", 1),
            "(?:(?:(?!(?:ab+))(?m:.))*(?:(?=(?:ab+))(?:(?m:.){1}(?=b)(?:b(?=b))*))?)"
        );
        let re = |src: &str| crate::ruby_regexp::compile(src, "").unwrap();
        // Up to the last character of the body's first match.
        assert_eq!(re("(?~ab+)").find("xabbbc"), Some((0, 4)));
        assert_eq!(re("(?~\"[^\"]*)").find("x\"\" y"), Some((0, 1)));
        assert_eq!(re("(?~:a\\d+)").find("b:a12"), Some((0, 4)));
        // Where the string's first character may start it again inside the match (or, under
        // `i`, is a letter), walked step by step instead, with groups of its own.
        let helpers = |src: &str, flags: &str| {
            crate::parser::ruby_regex::for_oniguruma(src, flags)
                .unwrap()
                .helper_groups
                .len()
        };
        for src in ["(?~aa+)", "(?~a[ab]+)", "(?~ \\s+)", "(?~aba+)"] {
            assert_eq!(helpers(src, ""), 4, "{src}");
        }
        assert_eq!(helpers("(?~ab+)", "i"), 4);
        assert_eq!(helpers("(?~,b+)", "i"), 0);
    }

    #[test]
    fn a_lazy_repetition_at_the_end_takes_its_least_count() {
        let least = |b: &str| lazy_least(&b.chars().collect::<Vec<_>>());
        assert_eq!(least("a+?").as_deref(), Some("a"));
        assert_eq!(least("ab*?|c").as_deref(), Some("a|c"));
        assert_eq!(least("(?:ab|c)+?").as_deref(), Some("(?:ab|c)"));
        assert_eq!(least(r"x|[^ ]*?").as_deref(), Some("x|"));
        // Not at the end, counted, of a capture group, possessive first, or nothing lazy.
        for body in ["a+?b", "a{2}+?", "(a)+?", "a++?", "ab", "(?~a+?)"] {
            assert_eq!(least(body), None, "{body}");
        }
        assert_eq!(expand("(?~a+?)", ""), "(?~a)");
        assert_eq!(expand("(?~ab*?)", ""), "(?~ab*?)".replace("b*?", ""));
    }

    #[test]
    fn a_body_read_in_the_cut_text() {
        let re = |src: &str, flags: &str| crate::ruby_regexp::compile(src, flags).unwrap();
        // Ruby 3.1's first matches: the body's anchors and look-aheads see the text end at the
        // walk's bound, atomic groups and possessive repetitions take no text past it, and a
        // body whose first match at the start is empty fails the operator there.
        for (src, flags, text, found) in [
            ("(?~a*b*)", "", "xaab", (1, 2)),
            ("(?~a*b*)", "", "aab", (0, 1)),
            (r"(?~a+\b)", "", "xaa ab", (0, 2)),
            ("(?~a++b)", "", "xaab", (0, 3)),
            ("(?~a?+b)", "", "aab", (0, 2)),
            (r"(?~\bERROR\b)", "", "an ERRORS ERROR x", (0, 14)),
            (r"(?~^\d)", "", "abc\n1x\ny", (0, 4)),
            (r"(?~\s+$)", "", "abc  \nx", (0, 4)),
            (r"(?~\n(?=\S))", "", "abc\n x\ny", (0, 6)),
            (r"(?~\n(?!\s))", "", "ab\n c\nd", (0, 5)),
            (r"(?~a|\Z)", "", "ba\n", (0, 1)),
            ("(?~a|(?=b))", "", "cab", (0, 1)),
            ("(?~stop|end)", "i", "xxSTOPyy", (0, 5)),
            ("(?~(?>a+)b)", "", "xaab", (0, 3)),
            (r"(?~a\z)", "", "xaa", (0, 2)),
            (r"(?~(?a:\b)é)", "", "xé é", (0, 1)),
            (r"(?~\s*\n)", "", "ab  \ncd", (0, 4)),
            ("(?~(?<=a)b|c)", "", "xabc", (0, 2)),
            (r"(?~a\B)", "", "a aab", (0, 2)),
            (r"(?~$\n?)", "", "ab\ncd", (0, 2)),
            // `{n}?` is `(?:…{n})?` in Ruby, not a lazy `{n}`: the body may match nothing.
            ("(?~a{2}?)", "", "aab", (0, 1)),
            ("(?~a{2}?b)", "", "xab", (0, 2)),
            ("(?~a{2}?b*)", "", "aabb", (0, 1)),
        ] {
            assert_eq!(
                re(src, flags).find(text),
                Some(found),
                "/{src}/{flags} on {text:?}"
            );
        }
        // Ruby's groups keep their numbers beside the walk's own.
        let r = re(r"(\w)(?~\bx)(.)", "");
        let c = r.captures_at("ab xc", 0).unwrap();
        assert_eq!(c.whole(), (0, 4));
        let groups: Vec<_> = r.numbered().iter().map(|&g| c.get(g)).collect();
        assert_eq!(groups, [Some((0, 1)), Some((3, 4))]);
        // What the cut text cannot be read for: a capture group, a reference, `\K`, `\R`, a
        // comment, a look-ahead or an end anchor inside a look-behind.
        for body in [
            "(a)",
            r"\k<n>",
            r"\Ka",
            r"\R",
            "(?#c)a",
            "(?<=(?=a))b",
            r"(?<=a\b)b",
        ] {
            assert_eq!(cut_at(body, r"\k<g>"), None, "{body}");
        }
        assert_eq!(
            cut_at(r"a$\z(?=b|c)", r"\k<g>"),
            Some(
                r"a(?:(?=(?m:.)\k<g>\z)|$)(?=(?m:.)\k<g>\z)(?=(?:b|c)(?=(?m:.)+\k<g>\z))"
                    .to_string()
            )
        );
    }

    #[test]
    fn a_body_walked_step_by_step() {
        let walk = of_walk("a+b", "g");
        assert!(
            walk.starts_with("(?:(?:(?!(?:a+b))(?m:.))*(?:(?=(?:a+b)(?<ga0>"),
            "{walk}"
        );
        let re = |src: &str| crate::ruby_regexp::compile(src, "").unwrap();
        // Ruby's matches: the bound lowered by one at each position inside the run where the
        // body starts again (` \s` at a space, not a tab), or the body's first match one
        // character short where it cannot.
        for (src, text, end) in [
            (r"(?~ \s+)", "a    b", 3),
            ("(?~ \\s+)", "a \t\t b", 4),
            ("(?~--+)", "x-----y", 4),
            ("(?~aa+)", "aaaaa", 3),
            ("(?~a+b)", "xaaab", 4),
            ("(?~a+?b)", "xaab", 3),
            ("(?~(?:ab)+)", "xababab", 4),
            (r"\/\*(?~\*+\/)\*\/", "/* a */ b */", 7),
        ] {
            assert_eq!(re(src).find(text), Some((0, end)), "{src} on {text:?}");
        }
        // Ruby's groups keep their numbers.
        let r = re(r"(\w)(?~a+b)(c)");
        let c = r.captures_at("xaabc", 0).unwrap();
        let groups: Vec<_> = r.numbered().iter().map(|&g| c.get(g)).collect();
        assert_eq!(groups, [Some((2, 3)), Some((4, 5))]);
        // Refused: a body with a capture group; the walk inside a repetition or beside
        // references. (A body that may match the empty string, with an anchor or a possessive
        // repetition is read in the cut text: `a_body_read_in_the_cut_text`.)
        for src in [
            "(?~(a)+b)",
            "(?~\\Ka)",
            "(?:(?~a+b)c)+",
            r"(a)(?~b+c)\1",
            "(?~a.{3000}|bc)",
        ] {
            assert!(crate::ruby_regexp::compile(src, "").is_err(), "{src}");
        }
        // (Its least length too large to count: refused, not a panic.)
        let big = "(?:(?:(?:a{100000}){100000}){100000})";
        for src in [
            format!("(?~{big}{big}b+)"),
            format!("(?~(?:{big}){{100000}}b+)"),
        ] {
            assert!(crate::ruby_regexp::compile(&src, "").is_err(), "{src}");
        }
    }

    #[test]
    fn anchors() {
        assert_eq!(of_anchors(r"\b"), r"(?:(?!\b)(?:(?m:.)(?:(?!\b)(?m:.))*)?)");
    }
}
