//! [`RubyRegex`]: a Ruby regexp from a config, run by the engine that keeps Ruby's meaning.
//!
//! Rust's linear-time `regex` engine runs every pattern the translator
//! ([`crate::parser::ruby_regex`]) can write out exactly; the rest (look-around,
//! back-references, atomic groups, possessive quantifiers, a `^` where Ruby's line anchor
//! differs from Rust's, Ruby's full case folding, duplicate group names, `\G \K \R \X`,
//! conditionals, absent operators …) run on Oniguruma in its Ruby syntax ([`backtracking`]),
//! after [`for_oniguruma`] has written out what Onigmo, Ruby's engine, reads by rules of its own
//! (case-insensitive classes and strings, `(?a)`/`(?u)`: see [`fold`]). A pattern both refuse
//! is Ruby's own syntax error, reported as Oniguruma words it, or one of the few constructs
//! whose Ruby meaning neither engine can be given (the error names it).
//!
//! Groups are numbered as Ruby numbers them: when a pattern has named groups, only those
//! capture. [`RubyRegex::numbered`] lists the engine's group indices of `$1`, `$2` …, and
//! [`RubyRegex::names`] the indices of each name (several when a name repeats; Ruby reads the
//! last one that took part in the match).

pub mod backtracking;
mod empty_loops;
pub mod escapes;
pub mod fold;
pub mod names;
pub mod string_fold;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use regex::Regex;

use crate::parser::ruby_regex::{
    for_oniguruma, instrument_empty_loops, leading_bol, needs_backtracking, translate_body,
    COND_GROUP, END_Z_GROUP, WHOLE_GROUP,
};
pub use backtracking::Exhausted;
pub(crate) use empty_loops::{END as LOOP_END, START as LOOP_START};

/// A compiled Ruby regexp (one pointer; clones share it).
#[derive(Clone)]
pub struct RubyRegex(Arc<Compiled>);

struct Compiled {
    engine: Engine,
    src: String,
    /// Engine group indices of Ruby's `$1`, `$2` …
    numbered: Vec<usize>,
    /// Each group name with its engine group indices, in pattern order.
    names: Vec<(String, Vec<usize>)>,
    /// Ruby's `fixed_encoding?` (see [`RubyRegex::fixed_encoding`]).
    fixed: bool,
}

/// Ruby's `Regexp#fixed_encoding?` of a pattern body (checked against Ruby 3.1): true when the
/// body holds a character past ASCII, a `\u` escape of one, or a Unicode property (`\p{…}`,
/// `\P{…}`); not for `\u{41}`, POSIX brackets, `\h`, `\X` or `\R`.
fn fixed_encoding(body: &str) -> bool {
    if !body.is_ascii() {
        return true;
    }
    let b = body.as_bytes();
    let mut k = 0;
    while k < b.len() {
        if b[k] != b'\\' {
            k += 1;
            continue;
        }
        match b.get(k + 1) {
            Some(b'p' | b'P') if b.get(k + 2) == Some(&b'{') => return true,
            Some(b'u') if b.get(k + 2) == Some(&b'{') => {
                let end = b[k + 3..]
                    .iter()
                    .position(|&c| c == b'}')
                    .map_or(b.len(), |e| k + 3 + e);
                let codes = std::str::from_utf8(&b[k + 3..end]).unwrap_or("");
                if codes
                    .split_ascii_whitespace()
                    .any(|h| u32::from_str_radix(h, 16).is_ok_and(|c| c >= 0x80))
                {
                    return true;
                }
                k = end;
            }
            Some(b'u') => {
                let hex = b
                    .get(k + 2..k + 6)
                    .and_then(|h| std::str::from_utf8(h).ok());
                if hex
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .is_some_and(|c| c >= 0x80)
                {
                    return true;
                }
                k += 2;
            }
            _ => k += 2,
        }
    }
    false
}

enum Engine {
    /// Ruby's `^`/`$` are line anchors, which keeps the `regex` crate from treating `^…$` as an
    /// anchored search. A haystack without a newline cannot tell the two readings apart, so
    /// such haystacks (nearly every field value) run on a copy compiled without multi-line
    /// mode, which the crate can run anchored; the exact multi-line form runs on the others.
    /// `end_z`: the group the translation wrote a final `\Z` with (see [`END_Z_GROUP`]), whose
    /// start is the whole match's end. `lead_bol`: the pattern is a `^` whose rest matches at
    /// every position ([`leading_bol`]).
    Linear {
        lines: Regex,
        single: Regex,
        end_z: Option<usize>,
        lead_bol: bool,
    },
    Backtracking(onig::Regex),
}

impl fmt::Debug for RubyRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let engine = match self.0.engine {
            Engine::Linear { .. } => "linear",
            Engine::Backtracking(_) => "oniguruma",
        };
        write!(f, "RubyRegex(/{}/ on {engine})", self.0.src)
    }
}

/// Where one match and its groups are, by engine group index (0 is the whole match): the
/// engine's own group storage, read in place.
#[derive(Debug)]
pub struct Captures(Locations);

impl Captures {
    /// The span of engine group `i` (0: the whole match), if it took part.
    pub fn get(&self, i: usize) -> Option<(usize, usize)> {
        self.0.get(i)
    }

    /// The whole match.
    pub fn whole(&self) -> (usize, usize) {
        self.get(0).unwrap_or((0, 0))
    }

    /// The span of a name given by its groups: the last of them that took part (Ruby's rule).
    pub fn any(&self, groups: &[usize]) -> Option<(usize, usize)> {
        groups.iter().rev().find_map(|&i| self.get(i))
    }
}

/// Reusable group storage for [`RubyRegex::captures_read`] (no allocation per match), with the
/// group whose start ends the whole match, if any (a final `\Z` on the linear engine).
pub struct Locations(Locs, Option<usize>);

enum Locs {
    Linear(regex::CaptureLocations),
    Backtracking(onig::Region),
}

impl Locations {
    /// The span of engine group `i` (0: the whole match) in the last match read.
    pub fn get(&self, i: usize) -> Option<(usize, usize)> {
        let at = |i| match &self.0 {
            Locs::Linear(l) => l.get(i),
            Locs::Backtracking(r) => r.pos(i),
        };
        match (i, self.1) {
            (0, Some(z)) => at(0).map(|(s, e)| (s, at(z).map_or(e, |(zs, _)| zs))),
            _ => at(i),
        }
    }
}

impl fmt::Debug for Locations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Locations")
    }
}

impl RubyRegex {
    /// Fresh group storage for [`captures_read`](Self::captures_read).
    pub fn capture_locations(&self) -> Locations {
        match &self.0.engine {
            Engine::Linear { lines, end_z, .. } => {
                Locations(Locs::Linear(lines.capture_locations()), *end_z)
            }
            Engine::Backtracking(_) => Locations(Locs::Backtracking(onig::Region::new()), None),
        }
    }

    /// Find the first match, recording group positions in `locs` (made by this regexp's
    /// [`capture_locations`](Self::capture_locations)); the whole match's span.
    pub fn captures_read(&self, locs: &mut Locations, hay: &str) -> Option<(usize, usize)> {
        match (&self.0.engine, &mut locs.0) {
            (
                Engine::Linear {
                    lines,
                    single,
                    end_z,
                    ..
                },
                Locs::Linear(l),
            ) => {
                pick(lines, single, hay).captures_read(l, hay)?;
                locs.1 = *end_z;
                locs.get(0)
            }
            (Engine::Backtracking(re), Locs::Backtracking(r)) => {
                match backtracking::search(re, hay, 0, r, None) {
                    Ok(Some(_)) => r.pos(0),
                    _ => None,
                }
            }
            // Storage from another regexp: read into fresh storage of the right kind.
            _ => {
                *locs = self.capture_locations();
                self.captures_read(locs, hay)
            }
        }
    }

    /// Which engine runs it: `"linear"` (Rust's `regex`) or `"oniguruma"`.
    pub fn engine(&self) -> &'static str {
        match self.0.engine {
            Engine::Linear { .. } => "linear",
            Engine::Backtracking(_) => "oniguruma",
        }
    }

    /// Engine group indices of Ruby's numbered groups `$1`, `$2` … (only the named groups when
    /// the pattern has any).
    pub fn numbered(&self) -> &[usize] {
        &self.0.numbered
    }

    /// Each group name with its engine group indices, in pattern order.
    pub fn names(&self) -> &[(String, Vec<usize>)] {
        &self.0.names
    }

    /// Ruby's `Regexp#fixed_encoding?`: the pattern is UTF-8 for good (a character past ASCII,
    /// a `\u` escape of one, a Unicode property), so matching it against a binary string with a
    /// byte past ASCII raises `Encoding::CompatibilityError` in Ruby.
    pub fn fixed_encoding(&self) -> bool {
        self.0.fixed
    }

    /// Does the regexp match anywhere in `hay`? A backtracking search that exhausts its retry
    /// budget counts as no match.
    pub fn is_match(&self, hay: &str) -> bool {
        match &self.0.engine {
            Engine::Linear { lines, single, .. } => pick(lines, single, hay).is_match(hay),
            Engine::Backtracking(re) => {
                let mut region = onig::Region::new();
                matches!(
                    backtracking::search(re, hay, 0, &mut region, None),
                    Ok(Some(_))
                )
            }
        }
    }

    /// The first match at or after byte `start` (the text before it still counts for anchors),
    /// with its groups. A backtracking search that exhausts its retry budget counts as no match.
    pub fn captures_at(&self, hay: &str, start: usize) -> Option<Captures> {
        self.captures_within(hay, start, None).ok().flatten()
    }

    /// [`captures_at`](Self::captures_at) bounded by a time limit on the backtracking engine
    /// (the linear engine needs none): `Err` when the search gave up. A `start` past the end or
    /// inside a character finds nothing.
    pub fn captures_within(
        &self,
        hay: &str,
        start: usize,
        timeout: Option<Duration>,
    ) -> Result<Option<Captures>, Exhausted> {
        if !hay.is_char_boundary(start) {
            return Ok(None);
        }
        match &self.0.engine {
            Engine::Linear {
                lines,
                single,
                end_z,
                lead_bol,
            } => {
                let re = pick(lines, single, hay);
                let mut locs = re.capture_locations();
                let found = re.captures_read_at(&mut locs, hay, start);
                // Ruby's `^` never matches at the very end of the text (after a final newline);
                // Rust's does, which a search from a later position can reach.
                if *lead_bol && start > 0 && found.is_some_and(|m| m.start() == hay.len()) {
                    return Ok(None);
                }
                Ok(found.map(|_| Captures(Locations(Locs::Linear(locs), *end_z))))
            }
            Engine::Backtracking(re) => {
                let mut region = onig::Region::new();
                Ok(backtracking::search(re, hay, start, &mut region, timeout)?
                    .map(|_| Captures(Locations(Locs::Backtracking(region), None))))
            }
        }
    }

    /// The first match in `hay`: its span.
    pub fn find(&self, hay: &str) -> Option<(usize, usize)> {
        match &self.0.engine {
            Engine::Linear {
                lines,
                single,
                end_z: None,
                ..
            } => pick(lines, single, hay)
                .find(hay)
                .map(|m| (m.start(), m.end())),
            _ => self.captures_at(hay, 0).map(|c| c.whole()),
        }
    }

    /// Ruby's `sub(re, "")`: remove the first match.
    pub fn remove_first<'h>(&self, hay: &'h str) -> Cow<'h, str> {
        match self.find(hay) {
            Some((s, e)) if e > s => Cow::Owned(format!("{}{}", &hay[..s], &hay[e..])),
            _ => Cow::Borrowed(hay),
        }
    }

    /// Ruby's `split(re)` without a limit: the pieces between matches (an empty match splits
    /// between characters, never at either end), trailing empty pieces dropped. Matches are
    /// found as `regex`'s `find_iter` finds them: an empty match right where the previous match
    /// ended is skipped.
    pub fn split<'h>(&self, hay: &'h str) -> Vec<&'h str> {
        let mut out = Vec::new();
        if hay.is_empty() {
            return out;
        }
        let (mut piece, mut at, mut last_end) = (0, 0, None);
        while at <= hay.len() {
            let Some(c) = self.captures_at(hay, at) else {
                break;
            };
            let (s, e) = c.whole();
            if s == e && last_end == Some(e) {
                match hay[s..].chars().next() {
                    Some(ch) => at = s + ch.len_utf8(),
                    None => break,
                }
                continue;
            }
            last_end = Some(e);
            at = e;
            if s == e && (s == 0 || s >= hay.len()) {
                continue;
            }
            out.push(&hay[piece..s]);
            piece = e;
        }
        out.push(&hay[piece..]);
        while out.last().is_some_and(|p| p.is_empty()) {
            out.pop();
        }
        out
    }
}

fn pick<'r>(lines: &'r Regex, single: &'r Regex, hay: &str) -> &'r Regex {
    if hay.as_bytes().contains(&b'\n') {
        lines
    } else {
        single
    }
}

/// Compile a config `regexp` value as Fluentd's `:regexp` type reads it: `/body/flags` (only
/// `i` and `m` kept) or a bare body; more than two characters after the last `/` is refused
/// (`invalid regexp: missing right slash`, [`logferry_config::types::regexp_checked`]).
pub fn regexp(spec: &str) -> Result<RubyRegex, String> {
    let (body, flags) = logferry_config::types::regexp_checked(spec)?;
    compile(&body, &flags)
}

/// Compile a Ruby regexp body with Ruby flags (`i`, `m`, `x`): on the linear engine when the
/// translator keeps Ruby's meaning there, else on Oniguruma.
pub fn compile(body: &str, flags: &str) -> Result<RubyRegex, String> {
    let named = names::engine_names(body, flags);
    let compiled = compile_unchecked(body, &named, flags)?;
    let Err(stale) = crate::parser::ruby_regex::stale_captures(&named.body, flags) else {
        return Ok(compiled);
    };
    // Loops whose empty iterations Onigmo tells by stale capture groups: on Oniguruma, with
    // Onigmo's test run by callouts, where they can be written so.
    let fail = |e: String| format!("regexp /{body}/ cannot be used: {}", named.message(e));
    let mut rewritten = for_oniguruma(&named.body, flags).map_err(fail)?;
    let all = !rewritten.helper_groups.is_empty();
    let Some(pattern) = instrument_empty_loops(&rewritten.pattern, flags, all) else {
        return Err(fail(stale));
    };
    rewritten.pattern = pattern;
    if rewritten.fixed_behinds.is_some() {
        return Err(fail(stale));
    }
    let re = backtracking::compile_rewritten(&rewritten, flags, true).map_err(fail)?;
    Ok(on_oniguruma(re, &rewritten, body, &named))
}

/// [`compile`] but for the refusal of loops that read stale capture groups. `named` is `body`
/// with the group names the engines may refuse written as placeholders ([`names`]).
fn compile_unchecked(
    body: &str,
    named: &names::EngineNames<'_>,
    flags: &str,
) -> Result<RubyRegex, String> {
    let src = body.to_string();
    let ruby_name = |n: &str| named.ruby(n).to_string();
    let fail = |e: String| format!("regexp /{body}/ cannot be used: {}", named.message(e));
    let body: &str = &named.body;
    let on_linear = translate_body(body, flags).and_then(|t| {
        // A translation the `regex` crate still cannot build (its size limit) goes to Oniguruma.
        linear(&t).map_err(|e| format!("the pattern is not supported: the regex crate says {e}"))
    });
    match on_linear {
        Ok((lines, single)) => {
            let end_z = lines.capture_names().position(|n| n == Some(END_Z_GROUP));
            let names: Vec<(String, Vec<usize>)> = lines
                .capture_names()
                .enumerate()
                .filter(|&(i, _)| Some(i) != end_z)
                .filter_map(|(i, n)| n.map(|n| (ruby_name(n), vec![i])))
                .collect();
            let numbered: Vec<usize> = if names.is_empty() {
                (1..lines.captures_len())
                    .filter(|&i| Some(i) != end_z)
                    .collect()
            } else {
                names.iter().map(|(_, g)| g[0]).collect()
            };
            Ok(RubyRegex(Arc::new(Compiled {
                engine: Engine::Linear {
                    lines,
                    single,
                    end_z,
                    lead_bol: leading_bol(body, flags),
                },
                fixed: fixed_encoding(&src),
                src,
                numbered,
                names,
            })))
        }
        Err(e) if !needs_backtracking(&e) => Err(fail(e)),
        Err(_) => {
            let rewritten = for_oniguruma(body, flags).map_err(fail)?;
            let re = backtracking::compile_rewritten(&rewritten, flags, false).map_err(fail)?;
            Ok(on_oniguruma(re, &rewritten, &src, named))
        }
    }
}

/// A pattern compiled on Oniguruma as [`for_oniguruma`] rewrote it, with Ruby's group numbers
/// and names (`src`: the Ruby body).
fn on_oniguruma(
    re: onig::Regex,
    rewritten: &crate::parser::ruby_regex::ForOniguruma,
    src: &str,
    named: &names::EngineNames<'_>,
) -> RubyRegex {
    let ruby_name = |n: &str| named.ruby(n).to_string();
    let src = src.to_string();
    let mut names: Vec<(String, Vec<usize>)> = Vec::new();
    re.foreach_name(|name, groups| {
        // (The groups a rewriting named for itself are not Ruby's.)
        if name != WHOLE_GROUP && !name.starts_with(COND_GROUP) {
            names.push((
                ruby_name(name),
                groups.iter().map(|&g| g as usize).collect(),
            ));
        }
        true
    });
    names.sort_by_key(|(_, g)| g.first().copied());
    // Oniguruma's Ruby syntax captures only the named groups when there are any, as Ruby
    // numbers them: Ruby's are the named ones but for those the rewriting named for itself
    // (the group around a pattern that calls itself, groups a condition asks about). With
    // groups of the rewriting's own, every group captures: without names, Ruby's are the
    // others.
    let numbered: Vec<usize> = if !names.is_empty() {
        // Ruby numbers only the named groups then (not the rewriting's).
        let mut named: Vec<usize> = names.iter().flat_map(|(_, g)| g.iter().copied()).collect();
        named.sort_unstable();
        named
    } else if rewritten.helper_groups.is_empty() {
        let first = if rewritten.whole_group { 2 } else { 1 };
        (first..=re.captures_len()).collect()
    } else {
        (1..=re.captures_len())
            .filter(|g| !rewritten.helper_groups.contains(g))
            .collect()
    };
    RubyRegex(Arc::new(Compiled {
        engine: Engine::Backtracking(re),
        fixed: fixed_encoding(&src),
        src,
        numbered,
        names,
    }))
}
fn linear(translated: &str) -> Result<(Regex, Regex), String> {
    let build = |multi_line: bool| {
        regex::RegexBuilder::new(translated)
            .multi_line(multi_line)
            .build()
            .map_err(|e| {
                let detail = e.to_string();
                detail.lines().last().unwrap_or("").trim().to_string()
            })
    };
    Ok((build(true)?, build(false)?))
}
