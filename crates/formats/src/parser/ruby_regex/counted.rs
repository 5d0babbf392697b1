//! An alternation with an alternative that is an anchor or a look-around, repeated at least
//! twice (`(?:b|(?=b)){2}`, `{2,}`, `{2,5}`), written out as Onigmo, Ruby's engine, runs it.
//!
//! Onigmo compiles such a repetition one of two ways, chosen by the size in bytes of the body's
//! compiled code (its `compile_quantifier_node`, with `QUANTIFIER_EXPAND_LIMIT_SIZE` 50):
//! - written out: the body `n` times (no check for an empty iteration), then for `{n,}` a loop
//!   that ends at an empty iteration, for `{n,m}` `m-n` nested optional copies; when the body's
//!   size times `n` (`{n,}`), or the body's size plus 5 times `m` (`{n,m}`), is at most 50;
//! - else a counted loop (`OP_REPEAT`) that ends at an empty iteration whatever its count: an
//!   alternative that is an anchor ends the repetition there, before its minimum count too.
//!
//! Oniguruma reads the pattern as written by rules of its own, so both are written out for it:
//! copies, nested optional copies and a loop (`(?:…)*`, which Oniguruma ends at an empty
//! iteration as Onigmo does). A capture group in a copy after the first is a call of the group
//! (`\g<1>`, `\g<name>`): the same group, so its number and name stay Ruby's, and it holds what
//! the last iteration that took it matched, as in Ruby. A capture group run as a counted loop is
//! written where Onigmo keeps it off its stack (`unstacked`: a fixed count, outside
//! alternations, varying repetitions and negative look-arounds, no reference; so for the capture
//! groups in its body, each repeated no count or a fixed one, [`inner_unstacked`]): Onigmo's loop
//! then tells an empty iteration by its position only, as Oniguruma's own loop does, which is
//! kept, too long for Oniguruma to copy; else, with no other group in it and set nowhere before
//! the loop, by Onigmo's rule for capture groups, written out ([`memst_loop`]). A capture group
//! repeated from none or one up to at least two (`{0,2}`, `{1,3}`) is written out the same way.
//!
//! Only bodies whose compiled size can be told here are written out: literal characters, `.`,
//! `\w \W \d \s \h`, bracket classes of ASCII characters (escapes, ranges and `\d \w \s \h`
//! in them; a class of one character is that character, `is_onechar_cclass`), anchors,
//! look-arounds, capture and non-capturing groups, and repetitions of one character or class
//! (`a+`, `\d{2,3}`, `.*?`; a greedy one without a maximum only where nothing follows it, or a
//! character, a class, a shorthand, `.` or an item repeated from none does: what follows changes
//! its code, [`optional_next`], [`next_class`]), repeated groups (not a string repeated `{n}`,
//! nor a repetition of a repetition Onigmo reduces, nor one that may be empty with a capture group
//! in it, whose empty iteration Onigmo tells by rules of its own), outside `i` and `x`; each
//! alternative matching only the empty string (without capture groups) or never. A body holding
//! a property, a POSIX bracket, `\X` or a class past ASCII is a loop where its least size
//! ([`size_at_least`]) is already too long to copy. Anything else is refused, as before.
//!
//! A group whose body may match the empty string otherwise (a look-around and an optional part,
//! `((?!b)(?:a{2})?){2,}`) is repeated by the same rules, and written out the same way: see
//! [`empty_body`].

use super::{alternatives_of, bracket_end, group_close, only_anchors};

/// Is `written` (as the rewriter wrote it) a capture group, `(…)` or `(?<name>…)`, with an
/// alternative at its top level that is an anchor or a look-around?
pub(super) fn anchored_capture(written: &str) -> bool {
    let chars: Vec<char> = written.chars().collect();
    if chars.first() != Some(&'(') || group_close(&chars, 0) != chars.len() {
        return false;
    }
    let open = match (chars.get(1), chars.get(2), chars.get(3)) {
        (Some('?'), Some('<'), Some(c)) if !matches!(c, '=' | '!') => '>',
        (Some('?'), Some('\''), _) => '\'',
        (Some('?'), _, _) => return false,
        _ => '(',
    };
    let from = if open == '(' {
        1
    } else {
        // The name starts after `(?<` or `(?'` (a `'` quote is also the opening one).
        match written.get(3..).and_then(|w| w.find(open)) {
            Some(at) => at + 4,
            None => return false,
        }
    };
    let Some(inner) = written.get(from..written.len() - 1) else {
        return false;
    };
    let alts = alternatives_of(inner);
    alts.len() > 1
        && alts
            .iter()
            .any(|a| !a.is_empty() && only_anchors(&format!("(?:{a})")))
}

/// `QUANTIFIER_EXPAND_LIMIT_SIZE` in Onigmo's regcomp.c.
const EXPAND_LIMIT: usize = 50;
/// `SIZE_OP_PUSH`, `SIZE_OP_JUMP` (an opcode and a 4-byte relative address).
const SIZE_PUSH: usize = 5;
/// The most iterations written out one inside another (a counted loop's minimum or maximum).
const MOST_NESTED: u32 = 64;
/// The most copies of a counted loop's body written out when its alternatives that are not
/// anchors are apart (each is followed by the rest of the loop).
const MOST_COPIES: usize = 64;

/// What [`written_out`] needs of the pattern around the group.
pub(super) struct Context<'a> {
    /// The whole pattern (Ruby syntax, as written).
    pub src: &'a [char],
    /// Where the group opens in `src` (its `(`) and just past its `)`.
    pub open: usize,
    pub close: usize,
    /// The group as the rewriter wrote it for Oniguruma (`(?:…)`).
    pub written: &'a str,
    /// The repetition's minimum (at least 2) and maximum.
    pub min: u32,
    pub max: Option<u32>,
    /// `{n,m}?`, `{n,}?`.
    pub lazy: bool,
    /// Under `x` (white space and `#` comments are not read).
    pub x: bool,
    /// Under `i` (strings compile to other opcodes).
    pub i: bool,
}

/// The repetition written out as Onigmo runs it, or `None` when it cannot be told here (the
/// caller refuses the pattern).
pub(super) fn written_out(cx: &Context) -> Option<String> {
    let src = cx.src;
    // Calls elsewhere would change group numbering; `x` skips text.
    let text: String = src.iter().collect();
    if text.contains("\\g") || has_option_x(src) {
        return None;
    }
    let named = has_named_groups(src);
    let (src_open, written_open, call) = opening(cx, &text, named, false)?;
    if src[cx.open..].starts_with(&['(', '?', '>']) {
        return None;
    }
    let inner = &src[cx.open + src_open..cx.close - 1];
    let capture = if call.is_some() { 6 } else { 0 };
    // Its size, or where that is not read here, a lower bound of it (see `size_at_least`).
    let size = onigmo_size(inner, named, false).map(|size| size + capture);
    let least = match size {
        Some(_) => None,
        None => Some(size_at_least(inner, false)? + capture),
    };
    let written_inner = cx
        .written
        .get(written_open..cx.written.len().checked_sub(1)?)?;
    let alts = alternatives_of(written_inner);
    let src_alts = split_top(inner);
    if alts.len() != src_alts.len() || alts.len() < 2 {
        return None;
    }
    // Each alternative: empty only (an anchor, without captures) or never empty.
    let mut empty = Vec::with_capacity(alts.len());
    for (alt, src_alt) in alts.iter().zip(&src_alts) {
        let may_be_empty = match seq_size(src_alt, named, false, true) {
            Some((_, min_len)) => min_len == 0,
            None if least.is_some() => alternative_may_be_empty(src_alt, &|_, _| None)?,
            None => return None,
        };
        let anchors = !alt.is_empty() && only_anchors(&format!("(?:{alt})"));
        if anchors && !has_capture(src_alt, named) && may_be_empty {
            empty.push(true);
        } else if !anchors && !may_be_empty {
            empty.push(false);
        } else {
            return None;
        }
    }
    // The group numbers (or names) of the body's outermost capture groups, in order.
    let before = captures_in(&src[..cx.open + src_open], named);
    let mut calls: Vec<String> = Vec::with_capacity(alts.len());
    let mut number = before;
    for (alt, src_alt) in alts.iter().zip(&src_alts) {
        calls.push(with_calls(alt, named, number)?);
        number += captures_in(src_alt, named);
    }
    let (first, copy) = match &call {
        Some(call) => (cx.written.to_string(), format!("(?:{call})")),
        None => (
            atomic(&alts, &empty),
            atomic(
                &calls.iter().map(String::as_str).collect::<Vec<_>>(),
                &empty,
            ),
        ),
    };
    let (min, max) = (cx.min as usize, cx.max.map(|m| m as usize));
    // (A lazy one with a maximum is always a counted loop.)
    let copied = |size: usize| match max {
        None => size * min <= EXPAND_LIMIT,
        Some(max) => !cx.lazy && (size + SIZE_PUSH) * max <= EXPAND_LIMIT,
    };
    let expanded = match (size, least) {
        (Some(size), _) => copied(size),
        // Too long to copy at its least: a loop.
        (None, Some(least)) if !copied(least) => false,
        _ => return None,
    };
    let star = if cx.lazy { "*?" } else { "*" };
    let mut out = String::from("(?:");
    if expanded && min == 0 {
        // (Optional copies from the first: `{0,m}` of a capture group.)
        let max = max?;
        for k in 0..max {
            out.push_str("(?:");
            out.push_str(if k == 0 { &first } else { &copy });
        }
        for _ in 0..max {
            out.push_str(")?");
        }
    } else if expanded {
        out.push_str(&first);
        for _ in 1..min {
            out.push_str(&copy);
        }
        match max {
            None => {
                out.push_str(&copy);
                out.push_str(star);
            }
            Some(max) => {
                let optional = max - min;
                for _ in 0..optional {
                    out.push_str("(?:");
                    out.push_str(&copy);
                }
                for _ in 0..optional {
                    out.push_str(")?");
                }
            }
        }
    } else if call.is_some() {
        // Each iteration of a counted loop written out would be a call of the group, which
        // cannot end the loop by the alternative it took. Repeated a fixed count where Onigmo
        // keeps the group off its stack, with no other group in it, Onigmo's loop tells an
        // empty iteration by its position only, as Oniguruma's own loop does: that loop, made
        // too long for Oniguruma to copy (see `empty_body`).
        // Else, the group alone kept on Onigmo's stack, its rule for capture groups written out
        // (see `memst_loop`).
        if has_capture(inner, named) {
            return None;
        }
        if cx.max != Some(cx.min) || !unstacked(src, cx.open, cx.close) {
            return memst_loop(cx, call.as_deref()?, min, max);
        }
        let prefix = cx.written.get(..written_open)?;
        let body = atomic(&alts, &empty);
        return Some(format!("{prefix}{body}{}){{{}}}", "(?=)".repeat(6), cx.min));
    } else {
        // A counted loop: at each count, an alternative that is an anchor ends it; one that is
        // not goes on to the next count (past the minimum, the loop may also end there).
        let levels = cx.max.unwrap_or(cx.min);
        if levels > MOST_NESTED {
            return None;
        }
        // Each run of alternatives that are not anchors is followed by the rest of the loop.
        let runs = empty
            .iter()
            .zip(empty.iter().skip(1))
            .filter(|(a, b)| !**a && **b)
            .count()
            + usize::from(!empty.last().copied().unwrap_or(true));
        if runs > 1 && runs.checked_pow(levels).is_none_or(|n| n > MOST_COPIES) {
            return None;
        }
        let lazy = cx.lazy;
        out.push_str(&counted_loop(
            0, min, max, lazy, &alts, &calls, &empty, &copy,
        ));
    }
    out.push(')');
    Some(out)
}

/// The opening of the repeated group at `cx.open`: its length in `src` and in `written`, and
/// for a capture group the call of it that its copies are (`None` for a non-capturing or atomic
/// group, `(?:`, `(?>`, or an unnamed group in a pattern with named groups); `None` for any
/// other group, a repeated name (Oniguruma cannot call it) or one referred to.
fn opening(
    cx: &Context,
    text: &str,
    named: bool,
    options: bool,
) -> Option<(usize, usize, Option<String>)> {
    let open = &cx.src[cx.open..cx.close];
    // An option group, `(?m:`, `(?i-a:`.
    let option_colon = option_colon(open, 0).map(|(colon, _)| colon);
    Some(
        if open.starts_with(&['(', '?', ':']) || open.starts_with(&['(', '?', '>']) {
            (3, 3, None)
        } else if let Some(colon) = option_colon.filter(|_| options) {
            (colon + 1, 0, None)
        } else if open.starts_with(&['(', '?', '<']) || open.starts_with(&['(', '?', '\'']) {
            let quote = if open[2] == '<' { '>' } else { '\'' };
            // The name starts after `(?<` or `(?'` (a `'` quote is also the opening one).
            let end = open.get(3..)?.iter().position(|&c| c == quote)? + 4;
            let name: String = open[3..end - 1].iter().collect();
            if text.matches(&format!("<{name}>")).count()
                + text.matches(&format!("'{name}'")).count()
                > 1
            {
                return None;
            }
            let written_open = cx.written.get(3..)?.find(quote)? + 4;
            (end, written_open, Some(format!("\\g<{name}>")))
        } else if open.first() == Some(&'(') && open.get(1) != Some(&'?') {
            let number = captures_in(&cx.src[..cx.open], named) + 1;
            (1, 1, (!named).then(|| format!("\\g<{number}>")))
        } else {
            return None;
        },
    )
}

/// The counted loop from count `c` on: `c == max` nothing; else one iteration (alternatives in
/// order, each that is not an anchor followed by the loop from `c + 1`), optional once `c` has
/// reached `min` (tried before ending there, or after when `lazy`); past `min` without a
/// maximum, Oniguruma's own loop, `(?:…)*` (`*?`).
#[allow(clippy::too_many_arguments)]
fn counted_loop(
    c: usize,
    min: usize,
    max: Option<usize>,
    lazy: bool,
    first: &[&str],
    calls: &[String],
    empty: &[bool],
    copy: &str,
) -> String {
    if max == Some(c) {
        return String::new();
    }
    if max.is_none() && c >= min {
        return format!("{copy}{}", if lazy { "*?" } else { "*" });
    }
    let alts: Vec<&str> = if c == 0 {
        first.to_vec()
    } else {
        calls.iter().map(String::as_str).collect()
    };
    let rest = counted_loop(c + 1, min, max, lazy, first, calls, empty, copy);
    let mut parts: Vec<String> = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    let flush = |run: &mut Vec<&str>, parts: &mut Vec<String>| {
        if !run.is_empty() {
            parts.push(format!("(?:{}){rest}", run.join("|")));
            run.clear();
        }
    };
    for (alt, &e) in alts.iter().zip(empty) {
        if e {
            flush(&mut run, &mut parts);
            // (Atomic: Oniguruma refuses to repeat an alternation with an anchor as written,
            // and this one may be repeated by an optional `{n}?`.)
            parts.push(format!("(?>{alt})"));
        } else {
            run.push(alt);
        }
    }
    flush(&mut run, &mut parts);
    let step = format!("(?:{})", parts.join("|"));
    match (c >= min, lazy) {
        (false, _) => step,
        (true, false) => format!("(?:{step}|)"),
        (true, true) => format!("(?:|{step})"),
    }
}

/// The alternation with its anchor alternatives as atomic groups (Oniguruma refuses to repeat an
/// alternation with an anchor as written).
fn atomic(alts: &[&str], empty: &[bool]) -> String {
    let parts: Vec<String> = alts
        .iter()
        .zip(empty)
        .map(|(a, &e)| {
            if e {
                format!("(?>{a})")
            } else {
                (*a).to_string()
            }
        })
        .collect();
    format!("(?:{})", parts.join("|"))
}

/// Does the pattern turn on `x` anywhere (`(?x)`, `(?mx:`)?
pub(super) fn has_option_x(s: &[char]) -> bool {
    has_option(s, 'x')
}

/// Does an option group of the pattern name `letter` (`(?i)`, `(?mx:`, `(?-i:`)?
pub(super) fn has_option(s: &[char], letter: char) -> bool {
    s.windows(2).enumerate().any(|(k, w)| {
        w == ['(', '?']
            && s[k + 2..]
                .iter()
                .take_while(|c| matches!(c, 'i' | 'm' | 'x' | 'a' | 'd' | 'u' | '-'))
                .any(|&c| c == letter)
    })
}

/// Does the pattern have named groups (`(?<n>`, `(?'n'`)? Then only those capture.
fn has_named_groups(s: &[char]) -> bool {
    let mut k = 0;
    while k < s.len() {
        match s[k] {
            '\\' => k += 1,
            '[' => k = bracket_end(s, k) - 1,
            '(' if s.get(k + 1) == Some(&'?') => match (s.get(k + 2), s.get(k + 3)) {
                (Some('<'), Some(c)) if !matches!(c, '=' | '!') => return true,
                (Some('\''), _) => return true,
                _ => {}
            },
            _ => {}
        }
        k += 1;
    }
    false
}

/// Is the group opening at `s[k]` a capture group (in a pattern with named groups, only named)?
fn captures_at(s: &[char], k: usize, named: bool) -> bool {
    match (s.get(k + 1), s.get(k + 2), s.get(k + 3)) {
        (Some('?'), Some('<'), Some(c)) => !matches!(c, '=' | '!'),
        (Some('?'), Some('\''), _) => true,
        (Some('?'), _, _) => false,
        _ => !named,
    }
}

/// How many capture groups open in `s` (escapes and brackets skipped).
fn captures_in(s: &[char], named: bool) -> usize {
    let (mut n, mut k) = (0, 0);
    while k < s.len() {
        match s[k] {
            '\\' => k += 1,
            '[' => k = bracket_end(s, k) - 1,
            '(' if captures_at(s, k, named) => n += 1,
            _ => {}
        }
        k += 1;
    }
    n
}

fn has_capture(s: &[char], named: bool) -> bool {
    captures_in(s, named) > 0
}

/// Where the unit of pattern text at `s[k]` that rewrites copy as it is ends, if it is one: an
/// escape (the backslash and the character after it) or a bracket class.
fn verbatim_unit(s: &[char], k: usize) -> Option<usize> {
    match s.get(k)? {
        '\\' => Some((k + 2).min(s.len())),
        '[' => Some(bracket_end(s, k)),
        _ => None,
    }
}

/// `alt` (Oniguruma text) with each outermost capture group a call of it: `\g<k>` by number
/// (`before` groups open earlier in the pattern), `\g<name>` by name.
fn with_calls(alt: &str, named: bool, before: usize) -> Option<String> {
    let s: Vec<char> = alt.chars().collect();
    let (mut out, mut k, mut number) = (String::new(), 0, before);
    while k < s.len() {
        if let Some(end) = verbatim_unit(&s, k) {
            out.extend(&s[k..end]);
            k = end;
            continue;
        }
        match s[k] {
            '(' if captures_at(&s, k, named) => {
                let end = group_close(&s, k);
                number += 1;
                if named {
                    let quote = if s[k + 2] == '<' { '>' } else { '\'' };
                    let name_end = s[k + 3..].iter().position(|&c| c == quote)? + k + 3;
                    let name: String = s[k + 3..name_end].iter().collect();
                    out.push_str(&format!("\\g<{name}>"));
                } else {
                    out.push_str(&format!("\\g<{number}>"));
                }
                // The groups nested in it are called with it.
                number += captures_in(&s[k + 1..end], named);
                k = end;
            }
            c => {
                out.push(c);
                k += 1;
            }
        }
    }
    Some(out)
}

/// The top-level alternatives of a group's body (Ruby syntax).
pub(super) fn split_top(s: &[char]) -> Vec<&[char]> {
    let (mut parts, mut from, mut depth, mut k) = (Vec::new(), 0, 0usize, 0);
    while k < s.len() {
        match s[k] {
            '\\' => k += 1,
            '[' => k = bracket_end(s, k) - 1,
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            '|' if depth == 0 => {
                parts.push(&s[from..k]);
                from = k + 1;
            }
            _ => {}
        }
        k += 1;
    }
    parts.push(&s[from..]);
    parts
}

/// The size of Onigmo's compiled code for a body (Ruby syntax, no `i`/`x`): its
/// `compile_length_tree` for the constructs listed in the module doc, `None` for any other.
fn onigmo_size(body: &[char], named: bool, ic: bool) -> Option<usize> {
    let alts = split_top(body);
    let mut size = 0;
    for alt in &alts {
        size += seq_size(alt, named, ic, true)?.0;
    }
    Some(size + 2 * SIZE_PUSH * (alts.len() - 1))
}

/// `SIZE_OPCODE + SIZE_BITSET`: a class of ASCII characters only (`OP_CCLASS`, `OP_CCLASS_NOT`).
const SIZE_CCLASS: usize = 1 + 32;
/// `SIZE_OP_REPEAT_INC + SIZE_OPCODE + SIZE_RELADDR + SIZE_MEMNUM` (`MemNumType` is a short):
/// what a counted loop (`OP_REPEAT`) adds to its body.
const SIZE_REPEAT: usize = 3 + 1 + 4 + 2;
/// `EXPAND_STRING_MAX_LENGTH` in Onigmo's regcomp.c: a string repeated `{n,…}` is written out
/// `n` times up to this many bytes.
const EXPAND_STRING_MAX: usize = 100;

/// The ASCII members of a class (`set`) and whether it holds every other character
/// (`others`: a negated class, `\\W`), as Onigmo reads it (`\\d \\w \\s \\h` are ASCII in Ruby).
#[derive(Clone, Copy)]
struct Members {
    set: [bool; 128],
    others: bool,
}

impl Members {
    /// `\\d \\w \\s \\h`, or their negations `\\D \\W \\S \\H` (every character not ASCII
    /// too: Onigmo's class of the ASCII members, negated).
    fn shorthand(e: char) -> Option<Members> {
        let test: fn(u8) -> bool = match e.to_ascii_lowercase() {
            'd' => |b| b.is_ascii_digit(),
            'w' => |b| b.is_ascii_alphanumeric() || b == b'_',
            's' => |b| matches!(b, 0x09..=0x0d | b' '),
            'h' => |b| b.is_ascii_hexdigit(),
            _ => return None,
        };
        let negated = e.is_ascii_uppercase();
        let mut set = [false; 128];
        for b in 0..128u8 {
            set[b as usize] = test(b) != negated;
        }
        Some(Members {
            set,
            others: negated,
        })
    }

    /// No member in common (Onigmo's `is_not_included` for two classes of ASCII members, or
    /// shorthands: the characters past ASCII are in both only when both are negated).
    fn apart(&self, other: &Members) -> bool {
        !(self.others && other.others) && (0..128).all(|b| !(self.set[b] && other.set[b]))
    }

    fn has(&self, c: char) -> bool {
        if c.is_ascii() {
            self.set[c as usize]
        } else {
            self.others
        }
    }

    /// The one character of a class that is not negated and holds one (Onigmo's parser reads
    /// it as that character, `is_onechar_cclass`).
    fn one(&self) -> Option<char> {
        let mut members = (0..128u8).filter(|&b| self.set[b as usize]);
        match (self.others, members.next(), members.next()) {
            (false, Some(b), None) => Some(char::from(b)),
            _ => None,
        }
    }
}

/// A bracket class of ASCII characters only (Ruby syntax: characters, ranges, escaped
/// punctuation, `\\n \\t \\r \\f \\v \\a \\e`, `\\d \\w \\s \\h`, a leading `^`), `None` for
/// what is not read here.
fn ascii_class(body: &[char]) -> Option<Members> {
    let (negated, body) = match body.strip_prefix(&['^']) {
        Some(rest) => (true, rest),
        None => (false, body),
    };
    if body.is_empty() {
        return None;
    }
    let mut set = [false; 128];
    // One member: a character (`Ok`), or a shorthand's set (`Err`).
    let member = |k: usize| -> Option<(Result<char, Members>, usize)> {
        let c = *body.get(k)?;
        if c != '\\' {
            if !c.is_ascii() || matches!(c, '[' | ']' | '&' | ':') || c.is_ascii_control() {
                return None;
            }
            return Some((Ok(c), k + 1));
        }
        let e = *body.get(k + 1)?;
        let plain = match e {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'f' => '\x0c',
            'v' => '\x0b',
            'a' => '\x07',
            'e' => '\x1b',
            'd' | 'w' | 's' | 'h' => return Some((Err(Members::shorthand(e)?), k + 2)),
            e if e.is_ascii_punctuation() => e,
            _ => return None,
        };
        Some((Ok(plain), k + 2))
    };
    let mut k = 0;
    while k < body.len() {
        let (first, next) = member(k)?;
        match first {
            Err(members) => {
                for (to, from) in set.iter_mut().zip(members.set) {
                    *to |= from;
                }
                k = next;
            }
            Ok(a) if body.get(next) == Some(&'-') && next + 1 < body.len() => {
                let (last, after) = member(next + 1)?;
                let b = last.ok()?;
                if b < a {
                    return None;
                }
                for c in a..=b {
                    set[c as usize] = true;
                }
                k = after;
            }
            Ok(a) => {
                set[a as usize] = true;
                k = next;
            }
        }
    }
    if negated {
        for m in set.iter_mut() {
            *m = !*m;
        }
    }
    Some(Members {
        set,
        others: negated,
    })
}

/// A repetition after an item (`*`, `+`, `?`, `{n}`, `{n,}`, `{,m}`, `{n,m}`, each maybe lazy):
/// its minimum, maximum, laziness and length; `None` for none; `Some(None)` for one not read
/// here (possessive, a repetition of a repetition, `{n}?`).
#[allow(clippy::type_complexity)]
fn repetition(s: &[char], k: usize) -> Option<Option<(usize, Option<usize>, bool, usize)>> {
    let (min, max, mut len, interval) = match s.get(k) {
        Some('*') => (0, None, 1, false),
        Some('+') => (1, None, 1, false),
        Some('?') => (0, Some(1), 1, false),
        Some('{') => {
            let close = s[k..].iter().position(|&c| c == '}')? + k;
            let body: String = s[k + 1..close].iter().collect();
            let number = |t: &str| -> Option<Option<usize>> {
                if t.is_empty() {
                    Some(None)
                } else if t.len() <= 5 && t.bytes().all(|b| b.is_ascii_digit()) {
                    t.parse().ok().map(Some)
                } else {
                    None
                }
            };
            let (lo, hi) = match body.split_once(',') {
                None => {
                    let n = number(&body)??;
                    (n, Some(n))
                }
                Some((lo, hi)) => {
                    let (lo, hi) = (number(lo)?, number(hi)?);
                    if lo.is_none() && hi.is_none() {
                        return None;
                    }
                    (lo.unwrap_or(0), hi)
                }
            };
            if hi.is_some_and(|hi| hi < lo) {
                return Some(None);
            }
            (lo, hi, close + 1 - k, !body.contains(','))
        }
        _ => return None,
    };
    let lazy = s.get(k + len) == Some(&'?');
    if lazy {
        if interval {
            // `{n}?` is `(?:x{n})?` in Ruby.
            return Some(None);
        }
        len += 1;
    }
    if matches!(s.get(k + len), Some('*' | '+' | '?' | '{')) {
        return Some(None);
    }
    Some(Some((min, max, lazy, len)))
}

/// Is the item at `s[k]` repeated from none (`b*`, `\s?`, `(?:ab){0,2}`)? Onigmo's `next_setup`
/// reads no head of it (`get_head_value_node` takes none from a repetition whose least count is
/// 0), so a greedy repetition without a maximum before it compiles as one that nothing follows:
/// no peek, not made atomic (`\S*\s*`, `[^,]*,?`, `\d*\.?`).
fn optional_next(s: &[char], k: usize) -> bool {
    let end = match s.get(k) {
        Some('\\') => super::escape_end(s, k),
        Some('[') => bracket_end(s, k),
        Some('(') => group_close(s, k),
        Some('*' | '+' | '?' | '{' | '}' | '|' | ')' | '#') | None => return false,
        Some(_) => k + 1,
    };
    matches!(repetition(s, end), Some(Some((0, _, _, _))))
}

/// The members of the class or shorthand at `s[k]` (`[ab]`, `\\d`, `\\S`; ASCII members only),
/// when it is not repeated or repeated at least once: the head `next_setup` reads there.
fn next_class(s: &[char], k: usize) -> Option<Members> {
    let (members, end) = match *s.get(k)? {
        '[' => {
            let end = bracket_end(s, k);
            let members = ascii_class(s.get(k + 1..end.checked_sub(1)?)?)?;
            // (A class of one character is that character: a string, see `next_literal`.)
            if members.one().is_some() {
                return None;
            }
            (members, end)
        }
        '\\' => (Members::shorthand(*s.get(k + 1)?)?, k + 2),
        _ => return None,
    };
    match repetition(s, end) {
        None => Some(members),
        Some(Some((lo, _, _, _))) if lo >= 1 => Some(members),
        _ => None,
    }
}

/// The character at `s[k]` when it is a string node of its own in Onigmo's tree, not repeated
/// (a literal character, an escaped punctuation character, a class of one character): what a
/// greedy repetition before it peeks at (`get_head_value_node`); for a positive look-ahead not
/// repeated, of one alternative, that of its body's first item (`a*(?=b)` peeks at `b`).
fn next_literal(s: &[char], k: usize) -> Option<char> {
    if s.get(k..k + 3) == Some(&['(', '?', '='][..]) {
        let end = group_close(s, k);
        let body = s.get(k + 3..end.checked_sub(1)?)?;
        if s.get(end - 1) != Some(&')')
            || split_top(body).len() != 1
            || repetition(s, end).is_some()
        {
            return None;
        }
        return next_literal(body, 0);
    }
    let (c, after) = match *s.get(k)? {
        '[' => {
            let end = bracket_end(s, k);
            (ascii_class(s.get(k + 1..end.checked_sub(1)?)?)?.one()?, end)
        }
        '\\' => match s.get(k + 1) {
            Some(&e) if e.is_ascii_punctuation() => (e, k + 2),
            _ => return None,
        },
        '*' | '+' | '?' | '{' | '}' | '|' | ')' | '#' | '(' | '.' | '^' | '$' => return None,
        c if c.is_control() || c.is_whitespace() && c != ' ' => return None,
        c => (c, k + 1),
    };
    repetition(s, after).is_none().then_some(c)
}

/// Onigmo's compiled size of an item of `tlen` bytes repeated `min` to `max` times
/// (`compile_length_quantifier_node`, no empty iteration possible), with nothing after it in
/// its sequence when greedy without a maximum (else `next_setup` may change it); `any` for `.`.
fn repeat_size(tlen: usize, min: usize, max: Option<usize>, lazy: bool, any: bool) -> usize {
    match max {
        None if any && !lazy => 1 + tlen * min,
        None if min <= 1 || tlen * min <= EXPAND_LIMIT => {
            let copies = if min == 1 && tlen > EXPAND_LIMIT {
                SIZE_PUSH
            } else {
                tlen * min
            };
            copies + SIZE_PUSH + tlen + SIZE_PUSH
        }
        Some(0..=1) if lazy && min == 0 => SIZE_PUSH + SIZE_PUSH + tlen,
        Some(max) if !lazy && (max == 1 || (tlen + SIZE_PUSH) * max <= EXPAND_LIMIT) => {
            tlen * min + (SIZE_PUSH + tlen) * (max - min)
        }
        _ => SIZE_REPEAT + tlen,
    }
}

/// The compiled size and the shortest length (in characters) of a sequence without `|` at its
/// top level; `free` when nothing follows its last item in Onigmo's tree (an alternative of the
/// repeated body itself, of a look-around, of an atomic group or of an alternation): a greedy
/// repetition without a maximum is read there only (Onigmo's `next_setup` changes one followed
/// by something, by what follows).
fn seq_size(s: &[char], named: bool, ic: bool, free: bool) -> Option<(usize, usize)> {
    let (mut size, mut min, mut k) = (0, 0, 0);
    // The literal string being read: the UTF-8 length of each of its characters.
    let mut string: Vec<usize> = Vec::new();
    while k < s.len() {
        let c = s[k];
        // A class of one character is that character (and the string goes on after it).
        let mut one = None;
        if c == '[' {
            let end = bracket_end(s, k);
            let body = s.get(k + 1..end.checked_sub(1)?)?;
            if let Some(ch) = ascii_class(body)?.one() {
                one = Some((ch, end));
            }
        }
        let literal = match c {
            '[' => one.map(|(ch, _)| ch),
            '\\' => match s.get(k + 1) {
                Some(&e) if e.is_ascii_punctuation() => Some(e),
                Some('t') => Some('\t'),
                Some('n') => Some('\n'),
                Some('r') => Some('\r'),
                Some('f') => Some('\x0c'),
                Some('v') => Some('\x0b'),
                Some('a') => Some('\x07'),
                Some('e') => Some('\x1b'),
                _ => None,
            },
            '*' | '+' | '?' | '{' | '}' | '|' | ')' | '#' => return None,
            '(' | '.' | '^' | '$' => None,
            c if c.is_control() || c.is_whitespace() && c != ' ' => return None,
            c => Some(c),
        };
        if let Some(l) = literal {
            // Under `i`, an escaped or bracketed character (which Onigmo may keep raw, not
            // folded) or one not ASCII is not read here.
            if ic && (c != l || !l.is_ascii()) {
                return None;
            }
            let next = match one {
                Some((_, end)) => {
                    size += string_size(&string, ic);
                    string.clear();
                    end
                }
                None if c == '\\' => k + 2,
                None => k + 1,
            };
            match repetition(s, next) {
                None => {
                    string.push(l.len_utf8());
                    min += 1;
                    k = next;
                }
                Some(None) => return None,
                Some(Some((lo, hi, lazy, len))) => {
                    k = next + len;
                    if lo == 1 && hi == Some(1) {
                        // `x{1}`: Onigmo drops the repetition; the string ends here.
                        string.push(l.len_utf8());
                        min += 1;
                        size += string_size(&string, ic);
                        string.clear();
                        continue;
                    }
                    // The repeated character is a string of its own (`str_node_split_last_char`).
                    size += string_size(&string, ic);
                    string.clear();
                    let one = l.len_utf8();
                    let tlen = string_size(&[one], ic);
                    // (Nothing after it in Onigmo's tree, or nothing `next_setup` reads.)
                    // (`.` gives `next_setup` no head either.)
                    let as_last =
                        (free && k == s.len()) || optional_next(s, k) || s.get(k) == Some(&'.');
                    // Before a class or shorthand that does not hold the character: atomic
                    // (`(?>a*)\\d`); one that holds it: as last (no exact head to peek at).
                    let class_next = next_class(s, k).filter(|_| !ic);
                    if hi.is_none() && !lazy && lo <= 1 && !as_last && class_next.is_some() {
                        if class_next.is_some_and(|class| !class.has(l)) {
                            size += tlen * lo + SIZE_PUSH + tlen + 1 + SIZE_PUSH;
                            min += lo;
                            continue;
                        }
                    } else if hi.is_none() && !lazy && lo <= 1 && !as_last {
                        // `next_setup`: followed by a character, the loop peeks at it
                        // (`OP_PUSH_IF_PEEK_NEXT`) or, when it is another character, is made
                        // atomic (`(?>a*)b`, `NST_STOP_BT_SIMPLE_REPEAT`).
                        // (Under `i`, not read here.)
                        let next = next_literal(s, k).filter(|_| !ic)?;
                        size += if next == l {
                            tlen * lo + SIZE_PUSH + 1 + tlen + SIZE_PUSH
                        } else {
                            tlen * lo + SIZE_PUSH + tlen + 1 + SIZE_PUSH
                        };
                        min += lo;
                        continue;
                    }
                    // `{n,…}` of a string: written out `n` times (up to 100 bytes) first.
                    let copies = if lo > 1 {
                        (1..=lo)
                            .take_while(|i| i * one <= EXPAND_STRING_MAX)
                            .last()?
                    } else {
                        0
                    };
                    size += string_size(&vec![one; copies], ic);
                    if copies < lo || hi.is_none_or(|hi| hi > copies) {
                        size +=
                            repeat_size(tlen, lo - copies, hi.map(|hi| hi - copies), lazy, false);
                    }
                    min += lo;
                }
            }
            continue;
        }
        size += string_size(&string, ic);
        string.clear();
        // The item's size, whether it is one character (or `.`), and where it ends.
        let start = k;
        let (item, chars, any, end) = match c {
            '\\' => {
                let (item, chars) = match s.get(k + 1)? {
                    'b' | 'B' | 'A' | 'z' | 'Z' | 'G' | 'K' => (1, false),
                    'w' | 'W' => (1, true),
                    // (`\\D \\S \\H`: a negated class of ASCII members, `OP_CCLASS_NOT`.)
                    'd' | 's' | 'h' | 'D' | 'S' | 'H' => (SIZE_CCLASS, true),
                    _ => return None,
                };
                (item, chars, false, k + 2)
            }
            '.' => (1, true, true, k + 1),
            '^' | '$' => (1, false, false, k + 1),
            '[' => {
                let end = bracket_end(s, k);
                // (Under `i`, a class with `k` or `s` gains characters not ASCII and is longer:
                // as it is already too long for a body to be copied, at least twice, with it,
                // its bitset's size is as good.)
                (SIZE_CCLASS, true, false, end)
            }
            // (Its members are read below when a greedy repetition of it is followed.)
            '(' => {
                let end = group_close(s, k);
                if s.get(end - 1) != Some(&')') {
                    return None;
                }
                if s.get(k + 1..k + 3) == Some(&['?', '#'][..]) {
                    // A comment: nothing (not before a repetition, which it would pass on).
                    if repetition(s, end).is_some() {
                        return None;
                    }
                    k = end;
                    continue;
                }
                // (A look-around or an atomic group is a node of its own.)
                let (open, extra, counts, own) = match (s.get(k + 1), s.get(k + 2), s.get(k + 3)) {
                    (Some('?'), Some(':'), _) => (3, 0, true, false),
                    (Some('?'), Some('='), _) => (3, 2, false, true),
                    (Some('?'), Some('!'), _) => (3, SIZE_PUSH + 1, false, true),
                    (Some('?'), Some('>'), _) => (3, 2, true, true),
                    (Some('?'), Some('<'), Some('=' | '!')) => {
                        // A look-behind of plain text only (Onigmo splits alternatives), not
                        // under `i`.
                        if ic {
                            return None;
                        }
                        let inner = &s[k + 4..end - 1];
                        if inner.iter().any(|c| {
                            matches!(c, '(' | '|' | '[' | '\\' | '.' | '{' | '*' | '+' | '?')
                        }) {
                            return None;
                        }
                        let extra = if s[k + 3] == '=' { 5 } else { 5 + 4 + 1 };
                        (4, extra, false, true)
                    }
                    (Some('?'), Some('<' | '\''), _) => {
                        let quote = if s[k + 2] == '<' { '>' } else { '\'' };
                        let name_end = s[k + 3..end].iter().position(|&c| c == quote)? + k + 3;
                        (name_end + 1 - k, 6, true, false)
                    }
                    (Some('?'), _, _) => {
                        // An option group without `i` or `x` (`(?m:`, `(?a:`): a node of its
                        // own, of no code.
                        let (colon, on_ix) = option_colon(s, k)?;
                        if on_ix || ic && s[k..colon].contains(&'i') {
                            return None;
                        }
                        (colon + 1 - k, 0, true, true)
                    }
                    _ => (1, if named { 0 } else { 6 }, true, false),
                };
                let (inner_size, inner_min) = {
                    let inner = &s[k + open..end - 1];
                    let alts = split_top(inner);
                    // Nothing follows its last item: a node of its own, a repeated group, an
                    // alternation, a capture group of several items (Onigmo's `next_setup`
                    // looks into a capture group of one item only), or a group with nothing
                    // after it where nothing follows.
                    let capture = extra == 6 || open == 1;
                    // (Into a capture group of one item, `next_setup` reads the head of what
                    // follows it: an item repeated from none, or `.`, gives none.)
                    let free = own
                        || repetition(s, end).is_some()
                        || alts.len() > 1
                        || capture && single_repetition(inner).is_none()
                        || capture && (optional_next(s, end) || s.get(end) == Some(&'.'))
                        || free && end == s.len();
                    let mut total = 2 * SIZE_PUSH * (alts.len() - 1);
                    let mut least = usize::MAX;
                    for alt in alts {
                        let (a, m) = seq_size(alt, named, ic, free)?;
                        total += a;
                        least = least.min(m);
                    }
                    (total, least)
                };
                let (lo, hi, lazy, len) = match repetition(s, end) {
                    None => {
                        size += inner_size + extra;
                        if counts {
                            min += inner_min;
                        }
                        k = end;
                        continue;
                    }
                    Some(None) => return None,
                    Some(Some(rep)) => rep,
                };
                // A repeated group. (Not a look-around: anchors repeated are rewritten
                // elsewhere.)
                if !counts {
                    return None;
                }
                let inner = &s[k + open..end - 1];
                // Onigmo reduces a repetition of a repetition (`(?:a*)?`, `(?:a+){2,3}`) and
                // writes a string repeated `{n}` out (`(?:ab){2}`): not read here.
                if open == 3 && s[k + 2] == ':' {
                    if let Some((ilo, ihi, ilazy)) = single_repetition(inner) {
                        let popular = |lo: usize, hi: Option<usize>| {
                            matches!((lo, hi), (0, Some(1)) | (0 | 1, None))
                        };
                        if popular(ilo, ihi)
                            && (popular(lo, hi)
                                || !ilazy && ihi.is_none() && !lazy && hi.is_some_and(|h| h > 1))
                        {
                            return None;
                        }
                    }
                    if lo == hi.unwrap_or(0) && lo > 1 && !lazy && !inner.contains(&'(') {
                        return None;
                    }
                }
                let tlen = inner_size + extra;
                // An empty iteration is checked for (`OP_NULL_CHECK_START`, `_END`); with a
                // capture group in the body, by Onigmo's rules (`STACK_NULL_CHECK_MEMST`), which
                // Oniguruma does not follow: not read here.
                let empty = inner_min == 0;
                if empty && (extra == 6 || has_capture(inner, named)) {
                    return None;
                }
                let mod_tlen = tlen + if empty { 6 } else { 0 };
                k = end + len;
                size += match hi {
                    None if lo <= 1 || tlen * lo <= EXPAND_LIMIT => {
                        let copies = if lo == 1 && tlen > EXPAND_LIMIT {
                            SIZE_PUSH
                        } else {
                            tlen * lo
                        };
                        // Greedy: `OP_PUSH`, or, before a character, `OP_PUSH_IF_PEEK_NEXT`
                        // (one byte more); a body that may be empty and starts with a
                        // look-ahead may take `OP_PUSH_OR_JUMP_EXACT1` (not read here).
                        let push = if lazy || free && k == s.len() {
                            SIZE_PUSH
                        } else {
                            next_literal(s, k).filter(|_| !ic)?;
                            SIZE_PUSH + 1
                        };
                        if !lazy && empty && inner.windows(3).any(|w| w == ['(', '?', '=']) {
                            return None;
                        }
                        copies + push + mod_tlen + SIZE_PUSH
                    }
                    Some(0) => return None,
                    Some(hi) if !lazy && (hi == 1 || (tlen + SIZE_PUSH) * hi <= EXPAND_LIMIT) => {
                        tlen * lo + (SIZE_PUSH + tlen) * (hi - lo)
                    }
                    Some(1) if lazy && lo == 0 => SIZE_PUSH + SIZE_PUSH + tlen,
                    _ => mod_tlen + SIZE_REPEAT,
                };
                min += inner_min * lo;
                continue;
            }
            _ => return None,
        };
        match repetition(s, end) {
            None => {
                size += item;
                min += usize::from(chars);
                k = end;
            }
            Some(None) => return None,
            Some(Some((lo, hi, lazy, len))) => {
                k = end + len;
                // (Anchors repeated are rewritten elsewhere.)
                if !chars {
                    return None;
                }
                // (`.` gives `next_setup` no head either.)
                let as_last =
                    (free && k == s.len()) || optional_next(s, k) || s.get(k) == Some(&'.');
                size += if hi.is_none() && !lazy && !as_last {
                    // `next_setup`: before a character, `.*` peeks at it
                    // (`OP_ANYCHAR_STAR_PEEK_NEXT`); a class or shorthand is made atomic when
                    // the character is not in it (`(?>\\d*)b`, `NST_STOP_BT_SIMPLE_REPEAT`), else
                    // peeks at it (`OP_PUSH_IF_PEEK_NEXT`), when it is expanded.
                    // Before a class or a shorthand (at least once): no peek (a class is no
                    // exact head), atomic where the two have no member in common
                    // (`is_not_included`: `\\S*\\s`, `[ab]+\\d`), else as last.
                    let class_next = next_class(s, k).filter(|_| !ic && !any);
                    if let Some(next) = class_next {
                        let members = if c == '[' {
                            ascii_class(s.get(start + 1..end.checked_sub(1)?)?)?
                        } else {
                            Members::shorthand(*s.get(end - 1)?)?
                        };
                        if lo <= 1 && members.apart(&next) {
                            item * lo + SIZE_PUSH + item + 1 + SIZE_PUSH
                        } else {
                            repeat_size(item, lo, hi, lazy, any)
                        }
                    } else if any && next_class(s, k).is_some() && !ic {
                        // `.*` before a class: no head to peek at.
                        repeat_size(item, lo, hi, lazy, any)
                    } else {
                        let next = next_literal(s, k).filter(|_| !ic)?;
                        if any {
                            2 + lo
                        } else {
                            let members = if c == '[' {
                                ascii_class(s.get(start + 1..end.checked_sub(1)?)?)?
                            } else {
                                Members::shorthand(*s.get(end - 1)?)?
                            };
                            if lo <= 1 && !members.has(next) {
                                item * lo + SIZE_PUSH + item + 1 + SIZE_PUSH
                            } else if lo <= 1 || item * lo <= EXPAND_LIMIT {
                                let copies = if lo == 1 && item > EXPAND_LIMIT {
                                    SIZE_PUSH
                                } else {
                                    item * lo
                                };
                                copies + SIZE_PUSH + 1 + item + SIZE_PUSH
                            } else {
                                SIZE_REPEAT + item
                            }
                        }
                    }
                } else if lo == 1 && hi == Some(1) {
                    item
                } else {
                    repeat_size(item, lo, hi, lazy, any)
                };
                min += lo;
            }
        }
    }
    size += string_size(&string, ic);
    Some((size, min))
}

/// Onigmo's compiled size of a literal string (each character's UTF-8 length): runs of
/// characters of one length, each an `EXACT` opcode (`select_str_opcode`); under `i` (`ic`,
/// ASCII characters only), one `EXACT1_IC` or `EXACTN_IC` (with its length) for the whole.
fn string_size(lens: &[usize], ic: bool) -> usize {
    if ic {
        return match lens.len() {
            0 => 0,
            1 => 2,
            n => 1 + 4 + n,
        };
    }
    let mut size = 0;
    let mut k = 0;
    while k < lens.len() {
        let len = lens[k];
        let n = lens[k..].iter().take_while(|&&l| l == len).count();
        let bytes = n * len;
        size += 1
            + bytes
            + match (len, n) {
                (1, 1..=5) => 0,
                (1, _) => 4,
                (2, 1..=3) => 0,
                (2, _) | (3, _) => 4,
                _ => 8,
            };
        k += n;
    }
    size
}

/// What [`empty_body`] makes of a repeated group.
pub(super) enum EmptyBody {
    /// Nothing to write out: its body never matches the empty string, or the repetition is one
    /// both engines run alike (`?`, `*`, `+`…).
    Alike,
    /// The repetition as Onigmo runs it, in Oniguruma's Ruby syntax, its count included.
    Written(String),
    /// What Onigmo does cannot be told here.
    Unknown,
}

/// A group whose body may match the empty string (by Onigmo's `get_min_match_length`: a
/// look-around, an anchor, an optional part), repeated a count other than `?` and `*`
/// (`{2}`, `{2,}`, `{1,3}`), written out as Onigmo runs it.
///
/// Onigmo chooses between copies and a counted loop by the body's compiled size as for an
/// anchor alternation (see the module doc): its copies check no iteration for being empty, its
/// loop (`OP_REPEAT`) ends at an empty iteration, before its minimum count too. Oniguruma makes
/// the same choice by a size of its own (in opcodes, `QUANTIFIER_EXPAND_LIMIT_SIZE` 10), so
/// that `/((?!b)(?:a{2})?){2,}/` matched the empty string in `aab` there, `aa` in Ruby. Copies
/// are written out (the first the group, the others calls of its capture groups, as above);
/// a loop is written with `(?=)` six times at the end of its body, twelve opcodes that match
/// nothing and make Oniguruma's body too long to copy for any count.
///
/// `readable`: the group is not under `x` with white space or `#` in it, nor repeated again with a
/// capture group in it or a third time (its compiled size is not read then). Under `i` (`cx.i`)
/// a string of ASCII characters is one `EXACT1_IC` or `EXACTN_IC` (as probing Ruby shows,
/// `k` and `s` too); look-behinds, escaped and non-ASCII characters are not read there. A body that matches only the empty string (anchors,
/// look-arounds) matches alike at each iteration, whatever the reading; an absent operator
/// repeated is read elsewhere (see `absent`).
pub(super) fn empty_body(cx: &Context, readable: bool) -> EmptyBody {
    let src = cx.src;
    let open = &src[cx.open..cx.close];
    if open.starts_with(&['(', '?', '~']) {
        return EmptyBody::Alike;
    }
    let Some(inner) = body_from(open).and_then(|from| open.get(from..open.len().checked_sub(1)?))
    else {
        return EmptyBody::Unknown;
    };
    // Under `x`, the body without its white space (outside brackets).
    let spaceless;
    let inner = if cx.x {
        if inner.contains(&'#') {
            return EmptyBody::Unknown;
        }
        spaceless = without_spaces(inner);
        &spaceless[..]
    } else {
        inner
    };
    // (References and calls read by what the groups they name may match; not under `x`, where
    // the groups' bodies hold white space.)
    let empty = if cx.x {
        may_be_empty(inner)
    } else {
        super::stale::Refs::of(src).may_be_empty(inner)
    };
    match empty {
        Some(true) => {}
        Some(false) => return EmptyBody::Alike,
        None => return EmptyBody::Unknown,
    }
    let text: String = src.iter().collect();
    let named = has_named_groups(src);
    let Some((_, _, call)) = opening(cx, &text, named, true) else {
        return EmptyBody::Unknown;
    };
    let capture = call.is_some();
    // (With a capture group, Onigmo's loop may tell its iterations apart by it: below.)
    if only_empty(inner) && !capture && !has_capture(inner, named) {
        return EmptyBody::Alike;
    }
    if !readable {
        return EmptyBody::Unknown;
    }
    let (min, mut max) = (cx.min as usize, cx.max.map(|m| m as usize));
    // Onigmo reads `(?:a*){2,3}` as `(?:a*){2}` (`set_quantifier`): a greedy `*` or `+` repeated
    // a greedy count with a maximum is repeated its minimum (or once) only.
    if !capture && !open.starts_with(&['(', '?', '>']) {
        if let Some((lo, hi, lazy)) = single_repetition(inner) {
            if !lazy && hi.is_none() && lo <= 1 && !cx.lazy && max.is_some_and(|m| m > 1) {
                max = Some(min.max(1));
            }
        }
    }
    // `?` and `*` run alike (neither copies nor a count to reach); so do `+` and `{1,}`, and
    // counts up to `{1,m}`: past its minimum a copy that is empty leaves the next one the
    // choices an ending loop would have tried, so the whole match is the same (a capture
    // group may not be: see README).
    if max.is_some_and(|m| m <= 1) || min <= 1 && max.is_none() {
        return EmptyBody::Alike;
    }
    if text.contains("\\g") {
        return EmptyBody::Unknown;
    }
    let extra = if capture {
        6
    } else if open.starts_with(&['(', '?', '>']) {
        2
    } else {
        0
    };
    // A lazy count with a maximum is always a loop; else by the size.
    let expanded = if cx.lazy && max.is_some() {
        false
    } else {
        let copied = |size: usize| match max {
            None => size * min <= EXPAND_LIMIT,
            Some(max) => (size + SIZE_PUSH) * max <= EXPAND_LIMIT,
        };
        match onigmo_size(inner, named, cx.i) {
            Some(size) => copied(size + extra),
            // A body whose size is not read here but is too long to copy at its least.
            None if size_at_least(inner, cx.i)
                .or_else(|| lower_bound(inner, named))
                .is_some_and(|least| !copied(least + extra)) =>
            {
                false
            }
            None => return EmptyBody::Unknown,
        }
    };
    let star = if cx.lazy { "*?" } else { "*" };
    let lazy = if cx.lazy { "?" } else { "" };
    if !expanded {
        // With a capture group in it, Onigmo's loop tells an empty iteration by rules of its
        // own (`STACK_NULL_CHECK_MEMST`: one whose group held nothing or text before is not
        // empty, one whose group held the empty string elsewhere fails), which Oniguruma's
        // does not follow: `/^((?=a)(?:[ab]{2})*){2,10}c/` matches `aabbc` in Ruby only. Those
        // rules read only the groups Onigmo keeps on its stack (`bt_mem_start`): the group is
        // the only one, and none is kept when it is repeated a fixed count, outside
        // alternations, negative look-arounds and varying repetitions, in a pattern without
        // references (Oniguruma checks positions only, without back-references to it). Kept
        // on the stack, a group that is the whole body is written out by those rules
        // (`memst_loop`). So for capture groups in the body (`^(?:(\w*)\s*){3}`), each
        // repeated no count or a fixed one, outside the same (`inner_unstacked`).
        let fixed = max == Some(min)
            && (!has_capture(inner, named)
                || !cx.x && inner_unstacked(src, cx.open, cx.close, named));
        if (capture || has_capture(inner, named)) && !(fixed && unstacked(src, cx.open, cx.close)) {
            // The capture group alone, kept on the stack: its rules written out.
            return match call.as_deref() {
                Some(call) if !has_capture(inner, named) => {
                    memst_loop(cx, call, min, max).map_or(EmptyBody::Unknown, EmptyBody::Written)
                }
                _ => EmptyBody::Unknown,
            };
        }
        // Oniguruma's own loop, which ends at an empty iteration as Onigmo's does.
        let Some(body) = cx.written.strip_suffix(')') else {
            return EmptyBody::Unknown;
        };
        let count = match max {
            Some(max) if max == min => format!("{{{min}}}"),
            Some(max) => format!("{{{min},{max}}}{lazy}"),
            None => format!("{{{min},}}{lazy}"),
        };
        return EmptyBody::Written(format!("{body}{}){count}", "(?=)".repeat(6)));
    }
    let copy = match &call {
        Some(call) => format!("(?:{call})"),
        None => {
            let before = captures_in(&src[..cx.open], named);
            match with_calls(cx.written, named, before) {
                Some(copy) => copy,
                None => return EmptyBody::Unknown,
            }
        }
    };
    let mut out = String::from("(?:");
    if min > 0 {
        out.push_str(cx.written);
    }
    for _ in 1..min {
        out.push_str(&copy);
    }
    match max {
        None => {
            out.push_str(&format!("(?:{copy}){star}"));
        }
        Some(max) => {
            // (Optional copies, greedy: a lazy count with a maximum is a loop.)
            let optional = max - min;
            for k in 0..optional {
                out.push_str("(?:");
                out.push_str(if k == 0 && min == 0 {
                    cx.written
                } else {
                    &copy
                });
            }
            for _ in 0..optional {
                out.push_str(")?");
            }
        }
    }
    out.push(')');
    EmptyBody::Written(out)
}

/// The least compiled size (`compile_length_cclass_node`) of a class holding characters past
/// ASCII: `OP_CCLASS_MB` with a length and one range (`SIZE_OPCODE + SIZE_LENGTH` and 12 bytes).
const LEAST_MB_CLASS: usize = 17;

/// A lower bound of Onigmo's compiled size of a body (Ruby syntax) whose size [`onigmo_size`]
/// does not read: `Some` when an alternative holds, at its top level and not repeated `{0}`, a
/// property (`\p{L}`, `\P{Lu}`), `\X` or a bracket class with a POSIX bracket or a property
/// in it (not an intersection, which may leave one character): each compiles to at least
/// [`LEAST_MB_CLASS`] bytes, and the rest of the body to no fewer than none.
fn size_at_least(body: &[char], ic: bool) -> Option<usize> {
    for alt in split_top(body) {
        let mut k = 0;
        while k < alt.len() {
            let (big, end) = match alt[k] {
                '\\' => match alt.get(k + 1) {
                    Some('p' | 'P') if alt.get(k + 2) == Some(&'{') => {
                        (true, past_char(alt, k + 3, '}')?)
                    }
                    Some('p' | 'P') => (true, (k + 3).min(alt.len())),
                    Some('X') => (true, k + 2),
                    _ => (false, (k + 2).min(alt.len())),
                },
                '[' => {
                    let end = bracket_end(alt, k);
                    let class: String = alt[k..end].iter().collect();
                    let big = !class.contains("&&")
                        && (class.contains("[:")
                            || class.contains("\\p")
                            || class.contains("\\P")
                            || !ic && wide_class(&alt[k + 1..end.saturating_sub(1)]));
                    (big, end)
                }
                '(' => (false, group_close(alt, k)),
                _ => (false, k + 1),
            };
            let repeated_none = matches!(repetition(alt, end), Some(Some((_, Some(0), _, _))));
            if big && !repeated_none {
                return Some(LEAST_MB_CLASS);
            }
            k = end.max(k + 1);
        }
    }
    None
}

/// A lower bound of Onigmo's compiled size of a body (Ruby syntax, white space taken out under
/// `x`) whose size [`onigmo_size`] does not read, for telling a body too long to copy: the
/// largest of its alternatives', each the sum of its items' (a character, `.`, an anchor or
/// an escape of one character or class 1; a bracket class of plain characters and ranges
/// [`class_bound`], any other nothing; a group
/// its body's, a capture group 6 more for `OP_MEMORY_START` and `OP_MEMORY_END`, a
/// look-ahead 2 (its body not read); a `.` repeated greedily without a maximum 1, `OP_ANYCHAR_STAR`; an item
/// repeated `?`, `*`, `+` (lazy or not) 5 more for the `OP_PUSH` around it, but for a group
/// whose body is one repetition, which Onigmo reduces; repeated another count, its own; an
/// anchor or a look-around repeated, nothing); `None` for a repetition not read here, and for
/// a repeated group with a capture group in it.
/// Anything else counts for nothing.
fn lower_bound(body: &[char], named: bool) -> Option<usize> {
    let mut most = 0;
    for alt in split_top(body) {
        let (mut sum, mut k) = (0usize, 0);
        while k < alt.len() {
            // The item's bound, where it ends, and whether it matches no text.
            let (bound, end, zero) = match alt[k] {
                '\\' => match alt.get(k + 1) {
                    Some('b' | 'B' | 'A' | 'z' | 'Z' | 'G') => (1, k + 2, true),
                    Some(
                        'd' | 'w' | 's' | 'h' | 'D' | 'W' | 'S' | 'H' | 't' | 'n' | 'r' | 'f' | 'v'
                        | 'e' | 'a',
                    ) => (1, k + 2, false),
                    Some(c) if c.is_ascii_punctuation() => (1, k + 2, false),
                    // Escapes of several characters (`\u0061`, `\x41`, `\k<n>`, `\p{L}`, …):
                    // counting their characters would not be a lower bound; not read.
                    _ => return None,
                },
                '[' => {
                    let end = bracket_end(alt, k);
                    let inner = alt.get(k + 1..end.saturating_sub(1)).unwrap_or(&[]);
                    let plain = !inner.iter().any(|c| matches!(c, '\\' | '[' | '&'));
                    (if plain { class_bound(inner) } else { 0 }, end, false)
                }
                '(' => {
                    let close = group_close(alt, k);
                    let g = &alt[k..close];
                    let inner = body_from(g)
                        .and_then(|from| g.get(from..g.len().checked_sub(1)?))
                        .map(|b| lower_bound(b, named));
                    match (g.get(1), g.get(2)) {
                        (Some('?'), Some('=' | '!')) => (2, close, true),
                        (Some('?'), Some('<')) if matches!(g.get(3), Some('=' | '!')) => {
                            (0, close, true)
                        }
                        _ => match inner {
                            Some(b) => {
                                let capture = captures_at(alt, k, named);
                                (b? + if capture { 6 } else { 0 }, close, false)
                            }
                            None => (0, close, true),
                        },
                    }
                }
                '^' | '$' => (1, k + 1, true),
                '.' => (1, k + 1, false),
                '|' | ')' | '*' | '+' | '?' | '{' => return None,
                _ => (1, k + 1, false),
            };
            let (bound, end) = match repetition(alt, end) {
                None => (bound, end),
                Some(None) => return None,
                // A repeated group with a capture group in it: Onigmo's loop for the body
                // around is not written out then (see `empty_body`).
                Some(Some(_)) if alt[k] == '(' && has_capture(&alt[k..end], named) => return None,
                Some(Some((min, max, lazy, len))) => {
                    let popular = matches!((min, max), (0, Some(1)) | (0 | 1, None));
                    let reduced = alt[k] == '('
                        && body_from(&alt[k..end])
                            .and_then(|from| alt.get(k + from..end.checked_sub(1)?))
                            .is_some_and(|b| single_repetition(b).is_some());
                    let b = if zero || max == Some(0) {
                        0
                    } else if alt[k] == '.' && max.is_none() && !lazy {
                        1
                    } else if popular && !reduced {
                        bound + 5
                    } else {
                        bound
                    };
                    (b, end + len)
                }
            };
            sum += bound;
            k = end.max(k + 1);
        }
        most = most.max(sum);
    }
    Some(most)
}

/// A lower bound of Onigmo's compiled size of a bracket class whose body (between `[` and `]`)
/// is plain characters and ranges: one of a single character is that character (1); else
/// `OP_CCLASS` and a bitset (33) when it holds an ASCII character or is negated, else
/// `OP_CCLASS_MB` with a length and one range at least (17).
fn class_bound(body: &[char]) -> usize {
    let (negated, items) = match body.split_first() {
        Some(('^', rest)) => (true, rest),
        _ => (false, body),
    };
    let (mut chars, mut range, mut k) = (Vec::new(), false, 0);
    while k < items.len() {
        match (items.get(k + 1), items.get(k + 2)) {
            (Some('-'), Some(&to)) => {
                range |= to > items[k];
                chars.push(items[k]);
                chars.push(to);
                k += 3;
            }
            _ => {
                chars.push(items[k]);
                k += 1;
            }
        }
    }
    chars.sort_unstable();
    chars.dedup();
    if !negated && !range && chars.len() < 2 {
        1
    } else if negated || chars.iter().any(char::is_ascii) {
        33
    } else {
        LEAST_MB_CLASS
    }
}

/// Is the body of a bracket class (between `[` and `]`) plain characters and ranges only, one
/// of them past ASCII, and negated or of at least two characters (Onigmo compiles a class of one
/// character as that character, `is_onechar_cclass`)?
fn wide_class(body: &[char]) -> bool {
    let (negated, items) = match body.split_first() {
        Some(('^', rest)) => (true, rest),
        _ => (false, body),
    };
    if items.is_empty() || items.iter().any(|c| matches!(c, '\\' | '[' | ']' | '&')) {
        return false;
    }
    let mut chars: Vec<char> = Vec::new();
    let mut k = 0;
    while k < items.len() {
        match (items.get(k + 1), items.get(k + 2)) {
            (Some('-'), Some(&to)) => {
                if to < items[k] {
                    return false;
                }
                chars.push(items[k]);
                chars.push(to);
                k += 3;
            }
            _ => {
                chars.push(items[k]);
                k += 1;
            }
        }
    }
    chars.sort_unstable();
    chars.dedup();
    chars.iter().any(|c| !c.is_ascii()) && (negated || chars.len() > 1)
}

/// The most characters [`memst_loop`] writes (its size grows as the Fibonacci numbers with
/// the count).
const MOST_MEMST: usize = 64 * 1024;

/// A capture group whose body may match the empty string, with no capture group in it, repeated
/// as Onigmo's counted loop (`OP_REPEAT`) where Onigmo keeps it on its stack (`bt_mem_start`:
/// a varying count, in an alternation or a negative look-around): written out as Onigmo runs
/// it, `None` where that cannot be told here.
///
/// Onigmo ends such a loop's iteration with `OP_NULL_CHECK_END_MEMST`: an iteration that ends
/// where it started is not empty when the group held nothing or text before it (it counts, and
/// the loop goes on), and ends the loop (whatever the count) when the group held the empty
/// string there. The group is the whole body, so that is: an empty iteration after the first
/// or after one that matched text counts; one after an empty iteration ends the loop
/// (`/(a??){2,5}(b)/` matches `aab` with `$1` empty at 2 in Ruby). That holds where the group
/// is set nowhere else before the loop: no reference or call in the pattern, no repetition,
/// look-behind or absent operator around it. Written out, the loop's iterations are the group
/// and then calls of it, each followed by a test of whether it matched the empty string (a
/// back-reference to it at the end of the text: only an empty one matches there) choosing how
/// the loop goes on; past its minimum without a maximum, Oniguruma's own loop (an empty
/// iteration that counts and the next one, both at the same position, end it alike).
fn memst_loop(cx: &Context, call: &str, min: usize, max: Option<usize>) -> Option<String> {
    let src = cx.src;
    let text: String = src.iter().collect();
    let numbered_reference = src.windows(2).enumerate().any(|(k, w)| {
        w[0] == '\\'
            && matches!(w[1], '1'..='9')
            && src[..k].iter().rev().take_while(|&&c| c == '\\').count() % 2 == 0
    });
    if numbered_reference || text.contains("\\k") || text.contains("\\g") || text.contains("(?(") {
        return None;
    }
    stacked_here(src, cx.open, cx.close, cx.x || has_option_x(src))?;
    let reference = call.replacen("\\g", "\\k", 1);
    // (Text that does not repeat the group's right after it is told first, without reading to
    // the end.)
    let empty = format!("(?={reference})(?=(?m:.*+){reference})");
    let not_empty = format!("(?>(?!{reference})|(?!(?m:.*+){reference}))");
    let tail = format!("(?:{call})*{}", if cx.lazy { "?" } else { "" });
    let optional = |j: usize, step: String| -> String {
        match (j >= min, cx.lazy) {
            (false, _) => step,
            (true, false) => format!("(?:{step}|)"),
            (true, true) => format!("(?:|{step})"),
        }
    };
    // From the last count down: `after[j]` goes on after `j` iterations, the last of them one
    // that matched text (or none yet), `after_empty[j]` after one that matched the empty string.
    let top = match max {
        Some(max) => max,
        None => min,
    };
    let end = if max.is_some() { String::new() } else { tail };
    let (mut after, mut after_empty) = (end.clone(), end);
    for j in (0..top).rev() {
        let group = if j == 0 { cx.written } else { call };
        let next = optional(
            j,
            format!("{group}(?:{not_empty}{after}|{empty}{after_empty})"),
        );
        let next_empty = optional(j, format!("{call}(?:{not_empty}{after}|{empty})"));
        if next.len() + next_empty.len() > MOST_MEMST {
            return None;
        }
        (after, after_empty) = (next, next_empty);
    }
    Some(format!("(?:{after})"))
}

/// Is the group at `src[open..close]` set nowhere before it runs (inside no repeated group,
/// look-around other than a negative look-ahead, absent operator or conditional; under `x`, a
/// group followed by white space or a comment is taken as repeated), and does Onigmo keep it on
/// its stack (`bt_mem_start`, by `setup_tree`: its own count varies, or an alternation or a
/// negative look-ahead is around it)? `None` where it may be set before, or is kept off it.
fn stacked_here(src: &[char], open: usize, close: usize, x: bool) -> Option<()> {
    let around = open_groups(src, open);
    let mut stacked = split_top(src).len() > 1
        || !matches!(repetition(src, close), Some(Some((lo, Some(hi), _, _))) if lo == hi);
    for &a in &around {
        let end = group_close(src, a);
        let g = &src[a..end];
        let after = src.get(end);
        if x && after.is_some_and(|c| c.is_whitespace() || *c == '#')
            || src.get(end..end + 3) == Some(&['(', '?', '#'])
            || repetition(src, end).is_some()
        {
            return None;
        }
        match (g.get(1), g.get(2)) {
            (Some('?'), Some('!')) => stacked = true,
            (Some('?'), Some('=')) => {}
            (Some('?'), Some('~' | '(')) => return None,
            (Some('?'), Some('<')) if matches!(g.get(3), Some('=' | '!')) => return None,
            _ => {
                let body = body_from(g).and_then(|from| g.get(from..g.len().checked_sub(1)?))?;
                stacked |= split_top(body).len() > 1;
            }
        }
    }
    stacked.then_some(())
}

/// `s` without its white space outside brackets (an escaped one is kept).
fn without_spaces(s: &[char]) -> Vec<char> {
    let (mut out, mut k) = (Vec::with_capacity(s.len()), 0);
    while k < s.len() {
        if let Some(end) = verbatim_unit(s, k) {
            out.extend(&s[k..end]);
            k = end;
            continue;
        }
        match s[k] {
            c if c.is_ascii_whitespace() => k += 1,
            c => {
                out.push(c);
                k += 1;
            }
        }
    }
    out
}

/// Where the body of the group `g` (Ruby syntax, from its `(`) starts: after `(`, `(?:`,
/// `(?>`, `(?<name>`, an option group's `:`, a conditional's condition; `None` for a
/// look-around, an absent operator, a comment or an option without a group.
fn body_from(g: &[char]) -> Option<usize> {
    if g.first() != Some(&'(') {
        return None;
    }
    if g.get(1) != Some(&'?') {
        return Some(1);
    }
    match (g.get(2)?, g.get(3)) {
        (':' | '>', _) => Some(3),
        ('<', Some('=' | '!')) | ('=' | '!' | '~' | '#', _) => None,
        ('<' | '\'', _) => {
            let quote = if g[2] == '<' { '>' } else { '\'' };
            Some(g[3..].iter().position(|&c| c == quote)? + 4)
        }
        ('(', _) => Some(g[2..].iter().position(|&c| c == ')')? + 3),
        _ => option_colon(g, 0).map(|(colon, _)| colon + 1),
    }
}

/// The `:` of an option group opening at `s[k]` (`(?m:`, `(?a-ix:`), and whether it turns `i`
/// or `x` on.
fn option_colon(s: &[char], k: usize) -> Option<(usize, bool)> {
    if s.get(k..k + 2) != Some(&['(', '?']) {
        return None;
    }
    let (mut j, mut off, mut on_ix) = (k + 2, false, false);
    loop {
        match *s.get(j)? {
            ':' if j > k + 2 => return Some((j, on_ix)),
            '-' if !off => off = true,
            'i' | 'x' => on_ix |= !off,
            'm' | 'a' | 'd' | 'u' => {}
            _ => return None,
        }
        j += 1;
    }
}

/// The groups open at `src[open]`: the positions of their `(`, outermost first.
fn open_groups(src: &[char], open: usize) -> Vec<usize> {
    let mut around: Vec<usize> = Vec::new();
    let mut k = 0;
    while k < open {
        match src[k] {
            '\\' => k += 1,
            '[' => k = bracket_end(src, k) - 1,
            '(' => around.push(k),
            ')' => {
                around.pop();
            }
            _ => {}
        }
        k += 1;
    }
    around
}

/// Does the pattern hold a numbered back-reference (`\1`…, outside brackets)?
fn has_numbered_ref(src: &[char]) -> bool {
    let mut k = 0;
    while k < src.len() {
        match src[k] {
            '\\' if src
                .get(k + 1)
                .is_some_and(|c| c.is_ascii_digit() && *c != '0') =>
            {
                return true;
            }
            '\\' => k += 1,
            '[' => k = bracket_end(src, k) - 1,
            _ => {}
        }
        k += 1;
    }
    false
}

/// Does Onigmo keep no capture group in the group repeated at `src[open..close]` on its stack
/// (`bt_mem_start`, by `setup_tree`): no alternation, conditional, absent operator or negative
/// look-around around it, no repetition of a varying count around it (nor after its own, `{2}?`,
/// `{2}+`), and no reference or call in the pattern?
fn unstacked(src: &[char], open: usize, close: usize) -> bool {
    let text: String = src.iter().collect();
    if text.contains("\\k") || text.contains("\\g") || split_top(src).len() > 1 {
        return false;
    }
    match repetition(src, close) {
        Some(Some((_, _, _, len)))
            if !matches!(src.get(close + len), Some('?' | '+' | '*' | '{')) => {}
        _ => return false,
    }
    !has_numbered_ref(src) && around_unstacked(src, open)
}

/// Does Onigmo keep a capture group opening at `src[open]` off its stack for the groups around
/// it: none of them an alternation, a conditional, an absent operator or a negative look-around,
/// nor repeated a varying count?
fn around_unstacked(src: &[char], open: usize) -> bool {
    open_groups(src, open).iter().all(|&a| {
        let close = group_close(src, a);
        let g = &src[a..close];
        let plain = !matches!(
            (g.get(1), g.get(2), g.get(3)),
            (Some('?'), Some('!' | '(' | '~'), _) | (Some('?'), Some('<'), Some('!'))
        );
        let fixed = match repetition(src, close) {
            None => true,
            Some(Some((lo, hi, _, _))) => hi == Some(lo),
            Some(None) => false,
        };
        let alternatives = body_from(g)
            .and_then(|from| g.get(from..g.len().checked_sub(1)?))
            .is_none_or(|body| split_top(body).len() > 1);
        plain && fixed && !alternatives
    })
}

/// Does Onigmo keep every capture group in the body of the group at `src[open..close]` (not
/// under `x`) off its stack: each repeated no count or a fixed one (`(a){2}`, not `(a)?`,
/// `(a){2}?`), with no alternation, conditional, absent operator or negative look-around around
/// it, nor a repetition of a varying count ([`around_unstacked`])? Its loop then tells an empty
/// iteration by its position only (`STACK_NULL_CHECK_MEMST` finds no group on the stack to read).
fn inner_unstacked(src: &[char], open: usize, close: usize, named: bool) -> bool {
    let Some(from) = body_from(&src[open..close]) else {
        return false;
    };
    let (mut k, end) = (open + from, close.saturating_sub(1));
    while k < end {
        match src[k] {
            '\\' => k += 1,
            '[' => k = bracket_end(src, k) - 1,
            '(' if captures_at(src, k, named) => {
                let past = group_close(src, k);
                let own = match repetition(src, past) {
                    None => true,
                    Some(Some((lo, hi, _, len))) => {
                        hi == Some(lo)
                            && !matches!(src.get(past + len), Some('?' | '+' | '*' | '{'))
                    }
                    Some(None) => false,
                };
                if !own || !around_unstacked(src, k) {
                    return false;
                }
            }
            _ => {}
        }
        k += 1;
    }
    true
}

/// The body of a group when it is one item repeated once (`a*`, `(?:ab)+?`, `[ab]{2}`): the
/// repetition's minimum, maximum and laziness.
fn single_repetition(s: &[char]) -> Option<(usize, Option<usize>, bool)> {
    let end = match *s.first()? {
        '\\' => 2,
        '[' => bracket_end(s, 0),
        '(' => group_close(s, 0),
        '*' | '+' | '?' | '{' | '|' | ')' => return None,
        _ => 1,
    };
    match repetition(s, end) {
        Some(Some((lo, hi, lazy, len))) if end + len == s.len() => Some((lo, hi, lazy)),
        _ => None,
    }
}

/// Can `s` (a group's body, Ruby syntax, not under `x`) match the empty string, as Onigmo's
/// `get_min_match_length` tells (look-arounds and anchors match none)? `None` where it
/// cannot be told here: references, calls, conditionals, comments, escapes not read here.
pub(super) fn may_be_empty(s: &[char]) -> Option<bool> {
    may_be_empty_with(s, &|_, _| None)
}

/// What a reference or call at `s[k]` (its `\`) may match, for [`may_be_empty_with`]: whether
/// it may match the empty string (`None`: unknown) and where it ends; `None` to read it as
/// [`may_be_empty`] does.
pub(super) type Reference<'a> = &'a dyn Fn(&[char], usize) -> Option<(Option<bool>, usize)>;

/// [`may_be_empty`], with the references and calls (`\1`, `\k<n>`, `\g<0>`, `\g<-1>`) read by
/// `reference`.
pub(super) fn may_be_empty_with(s: &[char], reference: Reference) -> Option<bool> {
    let mut unknown = false;
    for alt in split_top(s) {
        match alternative_may_be_empty(alt, reference) {
            Some(true) => return Some(true),
            Some(false) => {}
            None => unknown = true,
        }
    }
    (!unknown).then_some(false)
}

/// [`may_be_empty`] of a sequence without `|` at its top level.
fn alternative_may_be_empty(s: &[char], reference: Reference) -> Option<bool> {
    let mut unknown = false;
    let mut k = 0;
    while k < s.len() {
        // Whether the item may be empty, and where it ends.
        let referenced = if s[k] == '\\' { reference(s, k) } else { None };
        let (empty, end) = if let Some(found) = referenced {
            found
        } else {
            match s[k] {
                '\\' => {
                    let e = *s.get(k + 1)?;
                    match e {
                        'b' | 'B' | 'A' | 'z' | 'Z' | 'G' | 'K' => (Some(true), k + 2),
                        'k' | 'g' if matches!(s.get(k + 2), Some('<' | '\'')) => {
                            let quote = if s[k + 2] == '<' { '>' } else { '\'' };
                            (None, past_char(s, k + 3, quote)?)
                        }
                        'k' | 'g' | 'c' | 'C' | 'M' | '1'..='9' => (None, k + 2),
                        'p' | 'P' | 'x' | 'u' | 'o' if s.get(k + 2) == Some(&'{') => {
                            // `\u{62 63}` may be several characters, each one.
                            (Some(false), past_char(s, k + 2, '}')?)
                        }
                        'x' => {
                            let n = s[k + 2..]
                                .iter()
                                .take(2)
                                .take_while(|c| c.is_ascii_hexdigit())
                                .count();
                            (Some(false), k + 2 + n)
                        }
                        'u' => (Some(false), k + 6),
                        '0' => {
                            let n = s[k + 2..]
                                .iter()
                                .take(2)
                                .take_while(|c| matches!(c, '0'..='7'))
                                .count();
                            (Some(false), k + 2 + n)
                        }
                        _ => (Some(false), k + 2),
                    }
                }
                '[' => (Some(false), bracket_end(s, k)),
                '(' => {
                    let end = group_close(s, k);
                    let body_from = match (s.get(k + 1), s.get(k + 2), s.get(k + 3)) {
                        (Some('?'), Some('=' | '!' | '~'), _) => None,
                        (Some('?'), Some('<'), Some('=' | '!')) => None,
                        (Some('?'), Some('#'), _) => None,
                        (Some('?'), Some('('), _) => {
                            // A conditional: empty where a branch may be, and one of one
                            // branch has an empty second one (`(?(1)a)` is `(?(1)a|)`).
                            let from = past_char(s, k + 3, ')')?;
                            let body = s.get(from..end.checked_sub(1)?)?;
                            let text: String = body.iter().collect();
                            if super::conditional_branches(&text) < 2 {
                                None
                            } else {
                                Some(from)
                            }
                        }
                        (Some('?'), Some(':' | '>'), _) => Some(k + 3),
                        (Some('?'), Some(q @ ('<' | '\'')), _) => {
                            let quote = if *q == '<' { '>' } else { '\'' };
                            Some(s[k + 3..end].iter().position(|&c| c == quote)? + k + 4)
                        }
                        (Some('?'), _, _) => {
                            // Options, with a body after `:` or none (`(?i)`).
                            let colon = s[k + 2..end].iter().position(|c| {
                                !matches!(c, 'i' | 'm' | 'x' | 'a' | 'd' | 'u' | '-')
                            })? + k
                                + 2;
                            match s[colon] {
                                ':' => Some(colon + 1),
                                ')' => None,
                                _ => return None,
                            }
                        }
                        _ => Some(k + 1),
                    };
                    let empty = match body_from {
                        None => Some(true),
                        Some(from) => {
                            may_be_empty_with(s.get(from..end.checked_sub(1)?)?, reference)
                        }
                    };
                    (empty, end)
                }
                '^' | '$' => (Some(true), k + 1),
                _ => (Some(false), k + 1),
            }
        };
        // The repetitions after it: one of none (`*`, `?`, `{,n}`, `{n}?`) makes it optional.
        let (mut j, mut optional) = (end, false);
        while let Some(Some((lo, _, _, len))) = repetition_token(s, j) {
            optional |= lo == 0;
            j += len;
        }
        k = j;
        match if optional { Some(true) } else { empty } {
            Some(true) => {}
            Some(false) => return Some(false),
            None => unknown = true,
        }
    }
    (!unknown).then_some(true)
}

/// Does `s` (Ruby syntax) match only the empty string: anchors, look-arounds, `\K`, `\G`
/// and groups of them, repeated or not?
pub(super) fn only_empty(s: &[char]) -> bool {
    let mut k = 0;
    while k < s.len() {
        let end = match s[k] {
            '\\' if matches!(s.get(k + 1), Some('b' | 'B' | 'A' | 'z' | 'Z' | 'G' | 'K')) => k + 2,
            '^' | '$' | '|' => k + 1,
            '(' => {
                let end = group_close(s, k);
                let look = matches!(
                    (s.get(k + 1), s.get(k + 2), s.get(k + 3)),
                    (Some('?'), Some('=' | '!' | '#'), _) | (Some('?'), Some('<'), Some('=' | '!'))
                );
                let body = match (s.get(k + 1), s.get(k + 2)) {
                    (Some('?'), Some(':' | '>')) => s.get(k + 3..end.saturating_sub(1)),
                    _ => None,
                };
                // An option without a group, `(?m)`.
                let option = s.get(k + 2..end.saturating_sub(1)).is_some_and(|o| {
                    s.get(k + 1) == Some(&'?')
                        && o.iter()
                            .all(|c| matches!(c, 'i' | 'm' | 'x' | 'a' | 'd' | 'u' | '-'))
                });
                if !look && !option && !body.is_some_and(only_empty) {
                    return false;
                }
                end
            }
            _ => return false,
        };
        let mut j = end;
        while let Some(Some((_, _, _, len))) = repetition_token(s, j) {
            j += len;
        }
        k = j;
    }
    true
}

/// Just past the first `close` at or after `s[from]`.
fn past_char(s: &[char], from: usize, close: char) -> Option<usize> {
    Some(s.get(from..)?.iter().position(|&c| c == close)? + from + 1)
}

/// One repetition token at `s[k]` with its laziness (`*`, `+?`, `{2,}`, `{n}?` as a
/// repetition of none to one), for [`alternative_may_be_empty`]: `(minimum, _, _, length)`.
#[allow(clippy::type_complexity)]
fn repetition_token(s: &[char], k: usize) -> Option<Option<(usize, Option<usize>, bool, usize)>> {
    let (lo, len, interval) = match s.get(k)? {
        '*' | '?' => (0, 1, false),
        '+' => (1, 1, false),
        '{' => {
            let close = s[k..].iter().position(|&c| c == '}')? + k;
            let body: String = s[k + 1..close].iter().collect();
            let digits = |t: &str| t.len() <= 6 && t.bytes().all(|b| b.is_ascii_digit());
            let (lo, hi) = body.split_once(',').unwrap_or((&body, &body));
            if !digits(lo) || !digits(hi) || lo.is_empty() && hi.is_empty() {
                return None;
            }
            (lo.parse().unwrap_or(0), close + 1 - k, !body.contains(','))
        }
        _ => return None,
    };
    if s.get(k + len) == Some(&'?') {
        // Lazy, or `{n}?`: optional.
        return Some(Some((if interval { 0 } else { lo }, None, true, len + 1)));
    }
    Some(Some((lo, None, false, len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(body: &str) -> Option<usize> {
        onigmo_size(&body.chars().collect::<Vec<_>>(), false, false)
    }

    #[test]
    fn lower_bounds_of_bodies_whose_size_is_not_read() {
        let least = |body: &str| lower_bound(&body.chars().collect::<Vec<_>>(), false);
        // `[^,]` is `OP_CCLASS_NOT` and a bitset; `-??` a push, a jump and the character.
        assert_eq!(least("\\b??-??|[^,]{0,2}"), Some(33));
        // `.*?` is lazy (a jump and a push around `OP_ANYCHAR`); `\d*` a push around the class.
        assert_eq!(least(".*?\\d*(?!b)"), Some(6 + 6 + 2));
        assert_eq!(least(".*"), Some(1));
        assert_eq!(least("[a-a]|[a]"), Some(1));
        assert_eq!(least("[éè]"), Some(LEAST_MB_CLASS));
        // A capture group adds its memory opcodes; a group of one repetition is reduced.
        assert_eq!(least("(a)"), Some(7));
        assert_eq!(least("(?:a*)*"), Some(6));
        // Anchors repeated, and items repeated none: nothing.
        assert_eq!(least("^*(?!b){2}|\\w{0,0}"), Some(0));
        assert_eq!(least("a**"), None);
        assert_eq!(least("(\\W*){2}"), None);
        assert_eq!(least("x(?:a(b)){2}"), None);
        for prefix in ["[", "(", "(?", "(?<", "\\", "a{", "[^", "(?:[", "|"] {
            let _ = least(prefix);
        }
        // An escape of several characters is one item of unknown size: not read.
        assert_eq!(least("\\u0061"), None);
        assert_eq!(least("\\x41b"), None);
    }

    #[test]
    fn quoted_group_names_are_read_after_the_opening_quote() {
        // `(?'n'` starts with a quote too: a repeated one panicked (a slice past its start).
        for (p, text) in [
            ("(?'n'){2}", ""),
            ("(?'n'a){2}b", "aab"),
            ("x(?'nm'b|){1,2}", "xb"),
        ] {
            let re = crate::ruby_regexp::compile(p, "").unwrap();
            assert!(re.is_match(text), "{p} on {text:?}");
        }
    }

    #[test]
    fn sizes_are_onigmos() {
        // EXACT1 (2) + PUSH_POS, EXACT1, POP_POS (4) + PUSH, JUMP (10).
        assert_eq!(size("b|(?=b)"), Some(16));
        // A capture group: MEMORY_START and MEMORY_END (3 each).
        assert_eq!(size("(b)|(?=b)"), Some(22));
        assert_eq!(size("(b)|\\b"), Some(19));
        assert_eq!(size("abcdef|\\b"), Some(1 + 4 + 6 + 1 + 10));
        // A class of one character is that character, in a string with what follows.
        assert_eq!(size("[b]c|\\b"), Some(3 + 1 + 10));
        assert_eq!(size("[\\d.]|\\b"), Some(33 + 1 + 10));
        // Repetitions: PUSH, the item, JUMP; a string `{n}` written out; a counted loop.
        assert_eq!(size("a+|\\b"), Some(2 + 5 + 2 + 5 + 1 + 10));
        assert_eq!(size("a{3}|\\b"), Some(4 + 1 + 10));
        assert_eq!(size("\\d{2}|\\b"), Some(10 + 33 + 1 + 10));
        assert_eq!(size(".*|\\b"), Some(1 + 1 + 10));
        // What follows a greedy repetition without a maximum changes its code: another
        // character makes it atomic (PUSH, the item, POP, JUMP), the same one a peek at it.
        assert_eq!(size("a+b|\\b"), Some(2 + 5 + 2 + 1 + 5 + 2 + 1 + 10));
        assert_eq!(size("a*a|\\b"), Some(6 + 2 + 5 + 2 + 1 + 10));
        assert_eq!(size(".+b|\\b"), Some(3 + 2 + 1 + 10));
        // A class: atomic when the character is not in it, else a peek.
        assert_eq!(size("[ab]+c|\\b"), Some(33 + 5 + 33 + 1 + 5 + 2 + 1 + 10));
        assert_eq!(size("[ab]+b|\\b"), Some(33 + 6 + 33 + 5 + 2 + 1 + 10));
        assert_eq!(size("\\d{2,}b|\\b"), Some(10 + 33 + 2 + 1 + 10));
        // Before a repetition from none, nothing is read (`get_head_value_node`): as last.
        assert_eq!(
            size("a+b*|\\b"),
            Some((2 + 5 + 2 + 5) + (5 + 2 + 5) + 1 + 10)
        );
        assert_eq!(size("\\S*\\s*|\\b"), Some((5 + 33 + 5) * 2 + 1 + 10));
        assert_eq!(size("a+b+|\\b"), None);
        // Before a class: atomic where they have no member in common, else as last (no peek).
        assert_eq!(size("\\w*\\wa|\\b"), Some((5 + 1 + 5) + 1 + 2 + 1 + 10));
        assert_eq!(size("\\w*\\Wa|\\b"), Some((5 + 1 + 1 + 5) + 1 + 2 + 1 + 10));
        assert_eq!(size("\\S*\\s|\\b"), Some((5 + 33 + 1 + 5) + 33 + 1 + 10));
        // A character before a class: atomic where the class does not hold it, else as last.
        assert_eq!(size("a+\\d|\\b"), Some((2 + 5 + 2 + 1 + 5) + 33 + 1 + 10));
        assert_eq!(size("a+\\w|\\b"), Some((2 + 5 + 2 + 5) + 1 + 1 + 10));
        // Before `.`: as last (no head).
        assert_eq!(size("a*.|\\b"), Some((5 + 2 + 5) + 1 + 1 + 10));
        assert_eq!(size("\\w+.|\\b"), Some((1 + 5 + 1 + 5) + 1 + 1 + 10));
        assert_eq!(size("(?:a+)b|\\b"), None);
        assert_eq!(size("(?=a+)b|\\b"), Some(2 + 5 + 2 + 5 + 2 + 2 + 1 + 10));
        // A repeated group: copies, then PUSH, the body, JUMP (a string in a group is not split).
        assert_eq!(size("(?:ab)+|\\b"), Some(3 + 5 + 3 + 5 + 1 + 10));
        assert_eq!(size("(?:ab)?|\\b"), Some(5 + 3 + 1 + 10));
        assert_eq!(size("(?:a|b)*|\\b"), Some(5 + (2 + 2 + 10) + 5 + 1 + 10));
        // Not read: a repetition of a repetition Onigmo reduces, a string repeated `{n}`, a body
        // that may be empty with a capture group.
        assert_eq!(size("(?:a?)*|\\b"), None);
        assert_eq!(size("(?:ab){2}|\\b"), None);
        assert_eq!(size("(a?)*|\\b"), None);
    }

    use super::super::test_support::ruby;

    #[test]
    fn a_repetition_before_an_optional_item_or_a_class_is_read() {
        // Ruby 3.1's matches: a greedy repetition without a maximum before an item repeated
        // from none compiles as one that nothing follows, and `\\S \\D \\H` are classes of
        // ASCII members negated, so the bodies' sizes are told.
        for (src, text, found) in [
            (
                r"^(\S*\s*){5}",
                "a b c d e f",
                Some(((0, 10), Some((8, 10)))),
            ),
            (
                r"^(?<f>[^,]*,?){4}",
                "a,b,c,d,e",
                Some(((0, 8), Some((6, 8)))),
            ),
            (r"^([^,]*,?){2,4}$", "a,b,c,d", Some(((0, 7), Some((6, 7))))),
            (r"^([^,]*,?){2,4}$", "a,b,c,d,e", None),
            (r"^(\d*\.?){4}", "10.0.0.1", Some(((0, 8), Some((7, 8))))),
            (r"(?:a+b*|\b){2}c", "ac", None),
            (r"(\S*\s*){3}x", "ab cd x", Some(((0, 7), Some((6, 6))))),
            // At the size that chooses copies (at most 50 bytes) or a loop: `\w*\W` is atomic.
            (r"(?:\w*\wa|\b){2,}c", "xbac", Some(((0, 4), None))),
            (r"(?:\w*\Wa|\b){2,}c", "abx ac", None),
            (r"(?:\W*\Wa|\b){2,}c", "aaax-ac", Some(((4, 7), None))),
        ] {
            assert_eq!(ruby(src, text), found, "{src} on {text:?}");
        }
    }

    #[test]
    fn written_out_as_onigmo_runs_it() {
        // Short bodies: copies (an anchor's iteration counts).
        assert_eq!(ruby("(?:b|(?=b)){2}c", "bc"), Some(((0, 2), None)));
        assert_eq!(ruby("(?:b|(?=b)){2,}c", "bbbc"), Some(((0, 4), None)));
        assert_eq!(ruby("(?:(b)|\\b){2}c", "bc"), Some(((0, 2), Some((0, 1)))));
        assert_eq!(ruby("(a|\\b){2}", "ab"), Some(((0, 1), Some((0, 1)))));
        // Long ones: a counted loop that an anchor's iteration ends, before its count too.
        assert_eq!(ruby("(?:b|(?=b)){2,5}c", "bc"), None);
        assert_eq!(ruby("(?:(b)|(?=b)){2}c", "bc"), None);
        assert_eq!(ruby("(?:(b)|\\b){3,}c", "b c"), Some(((2, 3), None)));
        // A capture group repeated a fixed count, kept off Onigmo's stack: Oniguruma's own loop
        // (copies would match `aab`).
        assert_eq!(ruby("((?=a)|a){3}b", "aab"), None);
        assert_eq!(ruby("((?=a)|a){2,}b", "aab"), Some(((0, 3), Some((1, 2)))));
        assert_eq!(
            ruby("(?:(a)|\\b|(b)){2}", "ab"),
            Some(((0, 2), Some((0, 1))))
        );
        assert_eq!(ruby("(?:b|(?=b)){2,5}?c", "bbc"), Some(((0, 3), None)));
        // A class of one character is that character: a short body, copied.
        assert_eq!(ruby("(?:[b]|(?=b)){2}c", "bc"), Some(((0, 2), None)));
        assert_eq!(ruby("(?:[bd]|(?=b)){2}c", "bc"), None);
        // `a+|\\b` is 25 bytes: `{2,}` copies it twice (then loops), `{2}` is a counted loop
        // ((25 + 5) × 2 > 50), which `\\b` ends before its count.
        assert_eq!(ruby("(?:a+|\\b){2,}c", "ac"), Some(((0, 2), None)));
        assert_eq!(ruby("(?:a+|\\b){2}c", "ac"), None);
        assert_eq!(ruby("(?:a+|\\b){2}c", "aaac"), Some(((0, 4), None)));
    }

    #[test]
    fn empty_bodies_as_onigmo_runs_them() {
        // Short bodies: copies, each tried also after one that matched the empty string.
        assert_eq!(
            ruby("((?!b)(?:a{2})?){2,}", "aab"),
            Some(((0, 2), Some((0, 2))))
        );
        assert_eq!(ruby("(?:\\Ba?){2}", "aa"), Some(((1, 2), None)));
        assert_eq!(ruby("(x*?){1,2}\\h", "yyxby"), Some(((2, 4), Some((2, 3)))));
        // Long ones (a class is 33 bytes): a loop that an empty iteration ends, before its count
        // too, which Oniguruma would have copied.
        assert_eq!(ruby("(?:\\B[ab]?){2}", "aa"), Some(((1, 1), None)));
        assert_eq!(ruby("(?:(?!b)[ac]?){2,}", "ab"), Some(((0, 0), None)));
        assert_eq!(ruby("(?:(?!b)[ac]?){2,}", "aab"), Some(((0, 2), None)));
        // A capture group repeated a fixed count outside alternations and varying repetitions:
        // Onigmo keeps it off its stack, and its loop checks positions only.
        // (An empty iteration ends the loop before its count; the group keeps the start of the
        // iteration that failed, as in Ruby.)
        assert_eq!(
            ruby("((?!b)(?:a{2})?){2}", "aab"),
            Some(((0, 0), Some((2, 0))))
        );
        assert_eq!(
            ruby("((?!b)(?:a{2})?){2,}", "aab"),
            Some(((0, 2), Some((0, 2))))
        );
        // Under `i`, strings are `EXACT1_IC` (2 bytes) or `EXACTN_IC` (5 and their length).
        let re = crate::ruby_regexp::compile("(x*?){1,2}\\h", "i").unwrap();
        let c = re.captures_at("yyXby", 0).unwrap();
        assert_eq!((c.whole(), c.get(re.numbered()[0])), ((2, 4), Some((2, 3))));
    }

    #[test]
    fn capture_group_loops_as_onigmo_runs_them() {
        // A capture group that is the whole body of a loop Onigmo keeps on its stack: an empty
        // iteration right after an empty one ends the loop, whatever its count.
        assert_eq!(ruby("(a??){2,5}(b)", "aab"), Some(((0, 3), Some((2, 2)))));
        assert_eq!(ruby("x|((?!b)a?){3}b", "aab"), Some(((0, 3), Some((1, 2)))));
        assert_eq!(
            ruby("^((?=a)(?:[ab]{2})*){2,10}c", "aabbc"),
            Some(((0, 5), Some((0, 4))))
        );
        // So for an alternation with an anchor, and from none or one (copies, or that loop).
        assert_eq!(ruby("(a|\\b){2,3}", "aab"), Some(((0, 2), Some((1, 2)))));
        assert_eq!(
            ruby("(\\b|\\z|\\w){0,2}\\z", " x"),
            Some(((1, 2), Some((1, 2))))
        );
        // A property compiles to at least 17 bytes: too long to copy, a loop.
        assert_eq!(
            ruby("(\\p{L}??){2,5}b", "aab"),
            Some(((0, 3), Some((2, 2))))
        );
        assert_eq!(ruby("(?:(?!b)\\p{L}?){3}c", "xaac"), Some(((0, 4), None)));
        // And in an alternation with an anchor: a loop that the empty iteration ends.
        assert_eq!(ruby("(?:\\p{L}|(?=b)){3}c", "bc"), None);
        assert_eq!(
            ruby("(\\p{L}|\\b){2,3}", "ab"),
            Some(((0, 2), Some((2, 2))))
        );
        // So does a class of two characters past ASCII (one is that character, a string).
        assert_eq!(ruby("(?:(?!b)[éè]?){3}c", "ééc"), Some(((0, 5), None)));
        assert!(crate::ruby_regexp::compile("(?:(?!b)[éé]?){3}c", "").is_err());
        // Capture groups in a loop's body, repeated a fixed count outside alternations and
        // varying repetitions: Onigmo keeps none on its stack, its loop ends at an empty
        // iteration by the position only (expectations from Ruby 3.1).
        assert_eq!(
            ruby("^(?:(\\w*)\\s*){3}", "ab cd ef gh"),
            Some(((0, 9), Some((6, 8))))
        );
        assert_eq!(
            ruby("^(?:(\\w*)\\s*){3}", "ab"),
            Some(((0, 2), Some((2, 2))))
        );
        assert_eq!(
            ruby("^(?:(?<f>[^,]*),?){4}", "a,b,c,d,e"),
            Some(((0, 8), Some((6, 7))))
        );
        assert_eq!(
            ruby("^(?:(?<f>[^,]*),?){4}", "a,b"),
            Some(((0, 3), Some((3, 3))))
        );
        assert_eq!(
            ruby("^((\\S*)\\s*){3}$", "a b"),
            Some(((0, 3), Some((3, 3))))
        );
        assert_eq!(
            ruby("^(?:(\\d*)\\.?){4}(x)", "1.2x"),
            Some(((0, 4), Some((3, 3))))
        );
        // A greedy repetition before a look-ahead peeks at its head, as before that character
        // (expectations from Ruby 3.1).
        assert_eq!(ruby("(?:a*(?=b)){2}", "aab"), Some(((0, 2), None)));
        assert_eq!(ruby("(?:a*(?=b)){2}", "xb"), Some(((1, 1), None)));
        assert_eq!(ruby("(?:(?!c)a*(?=b)){2}", "aab"), Some(((0, 2), None)));
        assert_eq!(
            ruby("^(?:\\w*(?=,)\\s*,?){3}", "ab,cd,ef"),
            Some(((0, 6), None))
        );
        assert!(crate::ruby_regexp::compile("(?:a*(?=b|c)){2}", "").is_err());
        // Short enough to copy: no iteration checked for being empty.
        assert_eq!(ruby("(?:(a*)b?){2}c", "aac"), Some(((0, 3), Some((2, 2)))));
        // Each iteration a call of the group, then a test of whether it matched the empty string.
        let w = super::super::for_oniguruma("(a??){2,5}(b)", "")
            .unwrap()
            .pattern;
        assert!(
            w.contains("\\g<1>") && w.contains("(?=\\k<1>)(?=(?m:.*+)\\k<1>)"),
            "{w}"
        );
    }

    #[test]
    fn empty_bodies_not_told_are_refused() {
        for (re, flags) in [
            // A loop with a capture group in its body, around it or referred to: Onigmo's own
            // rules for its empty iteration; written out too long.
            ("(?:(?!b)(a??)c?){2,5}", ""),
            ("(?:((?<!a)){3}c){1,2}", ""),
            // (A varying count keeps the group on Onigmo's stack.)
            ("^(?:(\\w*)\\s*){2,3}", ""),
            ("^(?:(\\w*)?\\s*){3}", ""),
            ("((?!b)a??){2,5}\\1", ""),
            ("((?!b)a??(?:bb)?){2,40}c", ""),
            // Sizes not read here.
            ("(?:(?!b)\\p{L}?){2}", ""),
            ("(?:(a)?\\1?){2}", ""),
            ("(?:(?<=a)b?){2}", "i"),
            ("(?:(?!b)[b]?){2}", "i"),
            ("(?:(?!b)a? ){2}", "x"),
        ] {
            let e = crate::ruby_regexp::compile(re, flags).unwrap_err();
            assert!(e.contains("at least one character"), "{re}: {e}");
        }
        // Alike in both engines: never empty, only anchors, `?`, `*`, `+`.
        for re in [
            "(?:(?!b)a){2}",
            "(?:\\b(?=a)){2}",
            "((?!b)a?)*",
            "((?!b)a?)+",
        ] {
            assert!(crate::ruby_regexp::compile(re, "").is_ok(), "{re}");
        }
    }

    #[test]
    fn what_cannot_be_told_is_refused() {
        for re in [
            "(?:(a|\\b){3}c){1,2}",
            "(?:a?|\\b){2}",
            "(a|\\b){2}+",
            "(?i:a|\\b){2}",
        ] {
            let e = crate::ruby_regexp::compile(re, "").unwrap_err();
            assert!(e.contains("write the repetitions out"), "{re}: {e}");
        }
    }

    #[test]
    fn no_panic_on_any_prefix() {
        for re in [
            "(?:(?<n>b)|[ab]|\\b|(?=é)){2,5}?c",
            "(a|(?<x>b)|\\B){2}\\k<x>",
            "(?<=(?:(?<!y[a\\]])(x)|\\Kz)(?'q'b))a",
            "(?a)(?<!\\b)(?:x|\\b){3,}",
            "(?:[\\d.\\-]{2,3}?|x[b]é{99999}|[a-c\\]]+|\\b){2}x",
            "(?<n>(?!b)(?:a{2}|\\k<n>)?(?#c)(?-i:x?)(?(<n>)a|)\\u{62 63}?){2,}?",
            "(?:(?=a)[ab]?(?:ab)*?){2,5}(?:\\x{62}?){2}+(?: a? ){3}?",
            "x|(?<g>(?!b)\\p{L}??[[:alpha:]]?\\X?){2,11}?(a|\\b){0,3}(?=(b??){2,})c",
            "(?!x((?!b)a?){3})(\\B|[ab]){1,4}(?:\\b(?:ab)?){3,}c",
        ] {
            for (at, _) in re.char_indices().skip(1) {
                for flags in ["", "i", "x"] {
                    let _ = crate::ruby_regexp::compile(&re[..at], flags);
                    let _ = super::super::for_oniguruma(&re[..at], flags);
                    let _ = crate::ruby_regexp::compile(&re[at..], flags);
                }
            }
        }
    }
}
