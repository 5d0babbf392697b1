//! The backtracking engine: Oniguruma with its Ruby syntax, for the Ruby regexps Rust's
//! linear-time engine cannot express exactly (look-around, back-references, atomic groups,
//! possessive quantifiers, `^` where Ruby's line anchor differs, Ruby's full case folding …).
//!
//! Ruby's engine, Onigmo, is a fork of Oniguruma; the two read Ruby syntax alike. Where they
//! differ, Ruby's meaning is kept here: `\d \s \w` (and negations) are ASCII in Ruby and are
//! written out as ASCII classes before compiling (Oniguruma's own `*_IS_ASCII` options would also
//! make `[[:digit:]]`, `\p{Word}` and `\b` ASCII, which in Ruby they are not), and `\y \Y` are
//! written as the letters. The rest of Onigmo's own rules (case-insensitive classes and strings,
//! `(?a)`/`(?u)`) are written out by the caller
//! ([`for_oniguruma`](crate::parser::ruby_regex::for_oniguruma)).
//!
//! A backtracking search can take exponential time on hostile input. Each search is bounded:
//! without a deadline by 10 million backtracks for the whole search (Oniguruma's default per
//! start position; a fraction of a second), past which the search counts as finding nothing
//! (Ruby would run on indefinitely); with a deadline (filter_parser's `timeout`) by time,
//! measured between slices of retries (see [`search`]). The backtrack stack is bounded too.

use std::time::{Duration, Instant};

use onig::{MatchParam, RegexOptions, Region, SearchOptions, Syntax};

use super::empty_loops::{self, Iterations};
use crate::parser::ruby_regex::ForOniguruma;

/// Ruby's shorthand classes, as Oniguruma classes that keep Ruby's ASCII meaning (inside
/// brackets too: Oniguruma nests classes, `[a[0-9]]`).
fn ascii_class(c: char) -> Option<&'static str> {
    Some(match c {
        'd' => "[0-9]",
        'D' => "[^0-9]",
        'w' => "[a-zA-Z0-9_]",
        'W' => "[^a-zA-Z0-9_]",
        's' => "[\\x20\\t\\n\\v\\f\\r]",
        'S' => "[^\\x20\\t\\n\\v\\f\\r]",
        _ => return None,
    })
}

/// Write `\d \D \w \W \s \S` out as ASCII classes and `\y \Y` as the letters (no escapes in
/// Ruby; text-segment boundaries in Oniguruma), leaving every other escape as it is.
pub(crate) fn ascii_shorthands(src: &str) -> String {
    let mut out = String::with_capacity(src.len() + 16);
    let mut chars = src.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(e @ ('y' | 'Y')) => out.push(e),
            Some(e) => match ascii_class(e) {
                Some(class) => out.push_str(class),
                None => {
                    out.push('\\');
                    out.push(e);
                }
            },
            None => out.push('\\'),
        }
    }
    out
}

/// Oniguruma's Ruby syntax, with Oniguruma's own option letters (`(?W:…)`, ASCII words) for
/// what the rewriter writes: Ruby's `\b` under `(?a)` is `(?W:\b)`, which a look-behind may
/// hold. A pattern's own option letters are the translator's to check (Ruby's only: `(?W)` is
/// refused before it gets here).
fn ruby_syntax() -> Syntax {
    let mut syntax = *Syntax::ruby();
    let raw = std::ptr::addr_of_mut!(syntax).cast::<onig_sys::OnigSyntaxType>();
    // SAFETY: `Syntax` is a `repr(transparent)` wrapper of `OnigSyntaxType`, and `raw` points
    // at the local copy for the duration of both calls.
    unsafe {
        let op2 = onig_sys::onig_get_syntax_op2(raw);
        onig_sys::onig_set_syntax_op2(raw, op2 | onig_sys::ONIG_SYN_OP2_OPTION_ONIGURUMA);
    }
    syntax
}

/// Oniguruma's Ruby syntax with variable-length look-behinds, for a pattern whose look-behinds
/// Ruby's fixed-length rules have already accepted (see [`compile_rewritten`]).
fn ruby_variable_behinds() -> Syntax {
    let mut syntax = ruby_syntax();
    let raw = std::ptr::addr_of_mut!(syntax).cast::<onig_sys::OnigSyntaxType>();
    // SAFETY: `Syntax` is a `repr(transparent)` wrapper of `OnigSyntaxType`, and `raw` points
    // at the local copy for the duration of both calls.
    unsafe {
        let behavior = onig_sys::onig_get_syntax_behavior(raw);
        // Alternatives of a look-behind may differ in length below its top level (the `onig`
        // crate's `SyntaxBehavior` has no such flag).
        onig_sys::onig_set_syntax_behavior(
            raw,
            behavior | onig_sys::ONIG_SYN_VARIABLE_LEN_LOOK_BEHIND,
        );
    }
    syntax
}

/// Oniguruma's Ruby syntax with named callouts, for a pattern whose loops run Onigmo's test for
/// empty iterations ([`empty_loops`]); the names are registered first.
fn with_callouts(mut syntax: Syntax) -> Syntax {
    empty_loops::register();
    let raw = std::ptr::addr_of_mut!(syntax).cast::<onig_sys::OnigSyntaxType>();
    // SAFETY: `Syntax` is a `repr(transparent)` wrapper of `OnigSyntaxType`, and `raw` points
    // at the local copy for the duration of both calls.
    unsafe {
        let op2 = onig_sys::onig_get_syntax_op2(raw);
        onig_sys::onig_set_syntax_op2(raw, op2 | onig_sys::ONIG_SYN_OP2_ASTERISK_CALLOUT_NAME);
    }
    syntax
}

/// Compile a pattern rewritten by [`for_oniguruma`] with Ruby flags. When it holds look-behinds
/// written out with every spelling of a string (of several lengths), the pattern with those
/// strings as fixed foldings must compile first in Ruby syntax (Ruby's own rules for
/// look-behinds: what is refused there is refused here), then the pattern runs with
/// variable-length look-behinds.
///
/// With `callouts`, the pattern names [`empty_loops`]' callouts (written by
/// [`crate::parser::ruby_regex::instrument_empty_loops`]).
pub(crate) fn compile_rewritten(
    rewritten: &ForOniguruma,
    flags: &str,
    callouts: bool,
) -> Result<onig::Regex, String> {
    let syntax = |s: Syntax| if callouts { with_callouts(s) } else { s };
    let explained = |e: String| {
        if rewritten.double_negated {
            double_negation_refused(&e)
        } else {
            e
        }
    };
    let all = !rewritten.helper_groups.is_empty();
    let Some(fixed) = &rewritten.fixed_behinds else {
        return compile_with(&rewritten.pattern, flags, &syntax(ruby_syntax()), all)
            .map_err(explained);
    };
    compile_with(fixed, flags, &syntax(ruby_syntax()), all).map_err(explained)?;
    compile_with(
        &rewritten.pattern,
        flags,
        &syntax(ruby_variable_behinds()),
        all,
    )
    .map_err(|e| {
        format!(
            "{e}: a string with ligature spellings (ss as ß, fi as ﬁ …) in a look-behind under \
             case-insensitive matching is run with every spelling, which Oniguruma cannot do next \
             to a look-around or a capture group in a negative look-behind; write the spellings \
             out with (?-i:…) as alternatives of the look-behind"
        )
    })
}

/// The error for a pattern with a positive look-behind holding a negative one, written as the
/// negation of a negative look-behind (see [`ForOniguruma::double_negated`]): Ruby's rules for
/// look-behinds refuse it (Ruby refuses it too), or the look-behind holds a capture group, which
/// a negative one may not (Ruby runs that; the negative look-behinds at the top level of one
/// with a capture group are taken out of it instead, see `hoist_negative_behinds`).
fn double_negation_refused(e: &str) -> String {
    format!(
        "{e} (a positive look-behind that holds a negative one runs here as the negation of a \
         negative look-behind: Ruby's rules for look-behinds apply, and it may hold no capture \
         group unless its negative look-behinds are at its top level, outside any group and \
         alternative; make the groups inside it non-capturing, (?:…), or move the negative \
         look-behind to the top level)"
    )
}

/// Compile a Ruby regexp body with Ruby flags (`i`, `m`, `x`) in Oniguruma's `syntax`; with
/// `capture_all`, every group captures, named or not (see
/// [`ForOniguruma::helper_groups`]).
fn compile_with(
    body: &str,
    flags: &str,
    syntax: &Syntax,
    capture_all: bool,
) -> Result<onig::Regex, String> {
    let mut opts = RegexOptions::REGEX_OPTION_NONE;
    if capture_all {
        opts |= RegexOptions::REGEX_OPTION_CAPTURE_GROUP;
    }
    if flags.contains('i') {
        opts |= RegexOptions::REGEX_OPTION_IGNORECASE;
    }
    if flags.contains('m') {
        // Ruby's m: the dot matches a newline (Oniguruma's MULTILINE in Ruby syntax).
        opts |= RegexOptions::REGEX_OPTION_MULTILINE;
    }
    if flags.contains('x') {
        opts |= RegexOptions::REGEX_OPTION_EXTEND;
    }
    onig::Regex::with_options(&ascii_shorthands(body), opts, syntax)
        .map_err(|e| e.description().to_string())
}

/// The search ran out of time (or, without a deadline, out of its retry budget).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted;

/// Backtracks one search may take without a deadline: Oniguruma's own default per start
/// position, here for the whole search, so that a long text cannot multiply it (well under a
/// second).
const SEARCH_RETRY_LIMIT: u64 = 10_000_000;

/// Backtrack stack entries one search may hold (a few hundred MiB at most).
const MATCH_STACK_LIMIT: u32 = 4_000_000;

fn is_limit(e: &onig::Error) -> bool {
    matches!(
        e.code(),
        onig_sys::ONIGERR_RETRY_LIMIT_IN_MATCH_OVER
            | onig_sys::ONIGERR_RETRY_LIMIT_IN_SEARCH_OVER
            | onig_sys::ONIGERR_MATCH_STACK_LIMIT_OVER
    )
}

/// Match parameters with a retry limit for the whole search and `iterations` as the callouts'
/// data ([`empty_loops`]), which must outlive the search.
fn param(search_limit: u64, iterations: &mut Iterations) -> MatchParam {
    let mut p = MatchParam::default();
    p.set_retry_limit_in_match(0);
    p.set_match_stack_limit(MATCH_STACK_LIMIT);
    // SAFETY: `p` owns a valid OnigMatchParam for the duration of the call.
    unsafe {
        onig_sys::onig_set_retry_limit_in_search_of_match_param(
            p.as_raw(),
            search_limit as std::os::raw::c_ulong,
        );
        onig_sys::onig_set_callout_user_data_of_match_param(
            p.as_raw(),
            std::ptr::from_mut(iterations).cast(),
        );
    }
    p
}

/// Search `hay` from byte `start` (the text before it is context for anchors and look-behind),
/// filling `region`. With a `deadline` the search runs in slices of retries that double while
/// time is left, each slice sized not to overrun the time left by more than the last one took;
/// past the deadline it gives up. Slices start over, so the work done is at most about twice
/// that of one uninterrupted search.
pub(crate) fn search(
    re: &onig::Regex,
    hay: &str,
    start: usize,
    region: &mut Region,
    deadline: Option<Duration>,
) -> Result<Option<usize>, Exhausted> {
    let run = |region: &mut Region, limit: u64| {
        // Fresh for each run: a run cut short by its limit leaves iterations behind.
        let mut iterations = Iterations::default();
        re.search_with_param(
            hay,
            start,
            hay.len(),
            SearchOptions::SEARCH_OPTION_NONE,
            Some(region),
            param(limit, &mut iterations),
        )
    };
    let Some(timeout) = deadline else {
        return match run(region, SEARCH_RETRY_LIMIT) {
            Ok(r) => Ok(r),
            Err(e) if is_limit(&e) => Err(Exhausted),
            // Other run-time errors (memory) count as no match.
            Err(_) => Ok(None),
        };
    };
    let began = Instant::now();
    let mut budget: u64 = 1 << 16;
    loop {
        let slice = Instant::now();
        match run(region, budget) {
            Ok(r) => return Ok(r),
            Err(e) if is_limit(&e) => {}
            Err(_) => return Ok(None),
        }
        let spent = began.elapsed();
        if spent >= timeout {
            return Err(Exhausted);
        }
        let left = timeout - spent;
        let took = slice.elapsed().max(Duration::from_micros(1));
        let next = if took * 2 <= left {
            budget.saturating_mul(2)
        } else {
            // Aim the last slice at the deadline.
            let scale = left.as_secs_f64() / took.as_secs_f64();
            ((budget as f64) * scale).max(budget as f64 + 1.0) as u64
        };
        budget = next;
    }
}
