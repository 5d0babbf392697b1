//! Differential test of logferry's Ruby regexps ([`RubyRegex`]) against Ruby itself.
//!
//! Fluentd configs hold Ruby (Onigmo) regexps. logferry runs each on Rust's linear-time engine
//! when the translator (`parser::ruby_regex`) can keep Ruby's meaning there, else on Oniguruma in
//! its Ruby syntax. Ruby is the spec: `ruby_regex/cases.json` lists patterns (body, flags,
//! haystacks, and which engine must run them), and `ruby_regex/goldens.json` holds what Ruby
//! 3.1 did with each: its compile error, or for every haystack (the case's own, then the
//! common ones) the first match as byte offsets — whole match, each numbered group, each named
//! group. `ruby_regex/record.rb` re-records the goldens with a local Ruby; this test needs none.
//! `ruby_regex/fold_cases.rb` generates one group of cases with Ruby (strings with ligature
//! spellings under `i`, `/heißt/i`, `/ßs/i`, `/ﬃ/i`, `/s{10}/i` and random strings of `s t f i
//! l ß ﬃ …`, each against texts spelled every way Ruby's case folding allows),
//! `escape_cases.rb` two (escaped characters under `i`, `/stra\u00DFe/i`, `/\x73s/i`, against
//! the same texts; `\w \d \s` under `(?u)` with `i`),
//! `block_cases.rb` one (the Unicode blocks case folding changes, under `i`, against every
//! character in them or another case of one), `class_cases.rb` two (classes mixing `\w` or
//! `[[:ascii:]]` with other items under `i`; an empty side of `&&`, control escapes and escapes
//! that are plain characters in brackets), `behind_cases.rb` one (strings with ligature
//! spellings in look-behinds under `i`: logferry matches every spelling of the whole folding,
//! where Ruby 3.1 does not — README, "Differences from Fluentd" — so those cases carry `meant`,
//! the pattern with the spellings written out as alternatives of the look-behind, and their
//! goldens are Ruby's matches of `meant`), `construct_cases.rb` two (Ruby constructs in
//! combination: curated ones, and 500 drawn from a grammar, `construct_grammar.rb`, of nested
//! look-arounds, anchors, references, calls, conditionals, absent operators, quantifiers,
//! options, escapes, classes and comments, kept when Ruby 3.1 compiles them), `absent_cases.rb`
//! one (absent operators with alternatives of fixed lengths or a body of anchors, drawn at random
//! in context), `absent_run_cases.rb` one (absent operators with a class repeated without a
//! maximum, maybe after a string, `(?~[^ ]+)`, `(?~"[^"]*)`, drawn at random in context and
//! curated), `absent_walk_cases.rb` one (absent operators with other bodies of characters,
//! classes, groups and repetitions, `(?~a+b)`, `(?~ \s+)`, `(?~(?:ab)+)`, which logferry walks
//! step by step, drawn at random in context and curated), `absent_cut_cases.rb` one (absent
//! operators whose bodies hold anchors, look-arounds, atomic groups or possessive repetitions, or
//! may match the empty string, `(?~\bERROR\b)`, `(?~^\d)`, `(?~a++b)`, `(?~a*b*)`, which
//! logferry walks step by step reading the body in the text cut at the walk's bound, drawn at
//! random in context and curated), `loop_cases.rb` two (a `.` repeated without a maximum after
//! anchors and look-arounds inside a repetition without a maximum, `(?:(?=b).*)+`, whose implicit
//! anchor Onigmo does not take; loops whose empty iterations Onigmo tells by stale capture groups,
//! `(?:(a?)b?)*c`, run with Onigmo's test in callouts when repeated from none or one without a
//! maximum or lazily up to one, else refused, beside ones that run), `empty_loop_cases.rb` two (such loops repeated
//! from none without a maximum, `(?:(a?)|b)*c`, `^(?:(b??)a*?,?)*`, and such loops repeated from
//! one, lazily up to a maximum or that are capture groups, `^(?:(\w*)\s*)+`, `(?:(a?)b?){0,3}?c`,
//! `((a?)b?)*c`: curated, and drawn at random in context, the second group's from every start
//! position too), `ref_loop_cases.rb` two (loops whose body holds references or calls,
//! `(x)(?:a|(\g<1>))+`, `(x)(?:a|(\1))+`, `(\{(?:[^\{\}]|(\g<0>))+\})`, read by what the groups
//! they name may match; calls of a group whose body is a greedy repetition without a maximum
//! with an item after it, `(b*)b\g<1>`, refused where Onigmo's peek at that item may matter:
//! curated, and drawn at random from every start position), `anchor_cases.rb` two (a `.` repeated without a
//! maximum after zero-width items, whose implicit anchor limits where Onigmo's search tries the
//! pattern, `$.*` under `m`, `\b.*x`, and after a look-ahead holding a repetition without a
//! maximum, `(?=b+).*` under `m`, `(?=ab+).*(b)`, curated and drawn at random; capture groups
//! repeated from none or one as a non-capturing group's whole body, `(?:(-??)){1,3}$`, or with
//! a body too long for Onigmo to copy), `realworld_cases.rb` one (group names with characters the
//! engines would refuse and Onigmo takes, `(?<log.level>…)`, `(?<[source][port]:int>…)`, in
//! definitions, references, calls and conditions; `\Z` ending a pattern, whose whole match ends
//! before a final newline the `\Z` looked at) and a third (real-world patterns from
//! `realworld_patterns.json`, which names each one's source: Fluentd's parsers and tests, Fluent
//! Bit's `parsers*.conf` and multiline rules, plugins' code and tests, docs, published configs and
//! grok patterns as fluent-plugin-grok-parser expands them, on log lines from those sources,
//! strings drawn from the pattern, and mutations of them) and a fourth (`binary` cases: the
//! haystacks' bytes matched as binary strings, as in_tail without `encoding`, tcp, udp and syslog
//! give Fluentd's parsers; logferry reads each byte past ASCII as a private-use character, as
//! logferry-plugins' `bytemap` does, and a pattern fixed to UTF-8 raises as in Ruby),
//! `behind_ref_cases.rb` one (positive look-behinds holding capture groups in patterns with
//! back-references or conditionals, which Onigmo comes back into for their next alternative;
//! curated and drawn at random), `level_cond_cases.rb` one (references with a recursion level,
//! `\k<n+0>`, `\k<1-1>`, and conditionals, `(?(1)a)`, `(?(1)(?:a|b))`, `(?(<n-1>)x|y)`, by a
//! name several groups have or by number beside names, `(?<n>a)?(?(<1>)x|y)`, in
//! loops, look-arounds, after calls, beside `\K` and in groups that call themselves: curated, and
//! drawn at random from every start position).
//!
//! For every case:
//!
//! * the engine is the one the case names (`linear`, `oniguruma`, `any` of those two (the
//!   random cases of `construct_cases.rb`), or `refused`: Ruby's own
//!   syntax errors, and the few constructs whose Ruby meaning cannot be written out for either
//!   engine, which logferry refuses at start-up), so the lists stay exact. Onigmo's own rules (`/[éè]/i` does not match `É` in Ruby, `/s{2}/i` matches
//!   `ß`, `/\p{Lu}/i` does not match `é`, `\y`, `(?u)`) are written out for both engines;
//! * `ruby_regexp::compile(src, flags)` finds the same first match as Ruby: same span, same
//!   group spans in Ruby's numbering (only named groups are
//!   numbered when a pattern has any), same named groups (a repeated name reads the last group
//!   that took part);
//! * for a `starts` case, `captures_at(text, pos)` from each later character of each haystack
//!   finds the same first match as Ruby's `match(text, pos)` (a parser scanning a text);
//! * for flags without `x`, `ruby_regexp::regexp("/src/flags")` (grep, rewrite_tag_filter)
//!   agrees through `is_match` and `captures_read`.
//!
//! Every mismatch is collected and reported at once.
//!
//! Left out of the table, because `parser::ruby_regex` documents them as differences of the
//! linear engine: `\b`/`\B` next to U+200C/U+200D or `² ³ ¹ ¼ ½ ¾`, characters assigned since
//! Ruby's Unicode version, and matches that Onigmo's search shortcuts skip (`/k\z/i` on the
//! Kelvin sign; a string after `ſ` or the Kelvin sign written as `s`/`k` in the pattern, `/sﬀ-F/i`
//! on `ſﬀ-F`, which `fold_cases.rb` leaves out where Ruby's own rules tried at each start,
//! `\G(?:…|(?!))`, find a match its search misses).

use logferry_formats::ruby_regexp::{self, RubyRegex};
use serde_json::Value;

/// One case of `cases.json`.
struct Case {
    src: String,
    flags: String,
    engine: String,
    hays: Vec<String>,
    /// The haystacks' bytes are binary strings (see [`binary_text`]).
    binary: bool,
}

/// A first match: spans as byte offsets.
#[derive(Debug, PartialEq)]
struct Found {
    span: (usize, usize),
    groups: Vec<Option<(usize, usize)>>,
    names: Vec<(String, Option<(usize, usize)>)>,
}

/// Ruby's verdict on one pattern: its error, or the first match of each haystack.
type RubyResult = Result<Vec<Option<Found>>, String>;

/// For a `starts` case, Ruby's first match from each later character of each haystack.
type Starts = Vec<Vec<Option<Found>>>;

fn read(name: &str) -> Value {
    let path = format!("{}/tests/ruby_regex/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("an array of strings")
        .iter()
        .map(|s| s.as_str().expect("a string").to_string())
        .collect()
}

fn span_of(v: &Value) -> Option<(usize, usize)> {
    let a = v.as_array()?;
    Some((a[0].as_u64()? as usize, a[1].as_u64()? as usize))
}

/// Each case with Ruby's verdict and, for a `starts` case, Ruby's first match from each later
/// character of each haystack (`match(text, pos)`).
fn load() -> Vec<(Case, RubyResult, Starts)> {
    let cases = read("cases.json");
    let goldens = read("goldens.json");
    let common = strings(&cases["common_haystacks"]);
    let cases = cases["cases"].as_array().expect("cases");
    let goldens = goldens["cases"].as_array().expect("golden cases");
    assert_eq!(
        cases.len(),
        goldens.len(),
        "goldens.json is out of date: re-record it with `ruby crates/formats/tests/ruby_regex/record.rb`"
    );
    cases
        .iter()
        .zip(goldens)
        .map(|(c, g)| {
            let mut hays = strings(&c["hays"]);
            hays.extend(common.iter().cloned());
            let case = Case {
                src: c["src"].as_str().expect("src").to_string(),
                flags: c["flags"].as_str().expect("flags").to_string(),
                engine: c["engine"].as_str().expect("engine").to_string(),
                hays,
                binary: c.get("binary") == Some(&Value::Bool(true)),
            };
            assert!(
                g["src"] == c["src"] && g["flags"] == c["flags"],
                "goldens.json is out of date at /{}/: re-record it",
                case.src
            );
            let ruby = match g.get("error") {
                Some(e) => Err(e.as_str().unwrap_or_default().to_string()),
                None => {
                    let results = g["results"].as_array().expect("results");
                    assert_eq!(results.len(), case.hays.len(), "/{}/: re-record", case.src);
                    Ok(results.iter().map(parse_found).collect())
                }
            };
            let starts = g.get("starts").map_or_else(Vec::new, |hays| {
                hays.as_array()
                    .expect("starts")
                    .iter()
                    .map(|h| {
                        h.as_array()
                            .expect("starts of a haystack")
                            .iter()
                            .map(parse_found)
                            .collect()
                    })
                    .collect()
            });
            (case, ruby, starts)
        })
        .collect()
}

/// A match of goldens.json.
fn parse_found(r: &Value) -> Option<Found> {
    if r.as_str() == Some("incompatible") {
        return Some(incompatible());
    }
    (!r.is_null()).then(|| Found {
        span: span_of(&r["span"]).expect("match span"),
        groups: r["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(span_of)
            .collect(),
        names: r["names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_str().unwrap().to_string(), span_of(&p[1])))
            .collect(),
    })
}

/// Ruby's `Encoding::CompatibilityError` on a binary string (a pattern fixed to UTF-8, a byte
/// past ASCII), as a match no pattern gives.
fn incompatible() -> Found {
    Found {
        span: (usize::MAX, usize::MAX),
        groups: Vec::new(),
        names: Vec::new(),
    }
}

/// The text logferry matches for a binary string (logferry-plugins' `bytemap::binary_text`, which
/// in_tail, tcp, udp and syslog use): each byte past ASCII as the character U+10FF00 + byte, so
/// that `.` is one byte and `é` no word character, as in Ruby.
fn binary_text(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0..=0x7f => char::from(b),
            _ => char::from_u32(0x10FF00 + u32::from(b)).expect("a private-use character"),
        })
        .collect()
}

/// logferry's first match in a binary string, as Ruby reports it (byte offsets).
fn binary_found(re: &RubyRegex, hay: &str) -> Option<Found> {
    if hay.is_ascii() {
        return re
            .captures_at(hay, 0)
            .map(|c| found(re, c.whole(), |i| c.get(i)));
    }
    if re.fixed_encoding() {
        return Some(incompatible());
    }
    let text = binary_text(hay.as_bytes());
    let byte = |o: usize| text[..o].chars().count();
    let span = |s: Option<(usize, usize)>| s.map(|(a, b)| (byte(a), byte(b)));
    re.captures_at(&text, 0).map(|c| {
        let f = found(re, c.whole(), |i| c.get(i));
        Found {
            span: span(Some(f.span)).expect("a span"),
            groups: f.groups.into_iter().map(span).collect(),
            names: f.names.into_iter().map(|(n, g)| (n, span(g))).collect(),
        }
    })
}

/// logferry's first match in the shape of Ruby's.
fn found(
    re: &RubyRegex,
    span: (usize, usize),
    group: impl Fn(usize) -> Option<(usize, usize)>,
) -> Found {
    Found {
        span,
        groups: re.numbered().iter().map(|&i| group(i)).collect(),
        names: re
            .names()
            .iter()
            .map(|(n, gs)| (n.clone(), gs.iter().rev().find_map(|&i| group(i))))
            .collect(),
    }
}

/// Compare one match.
fn same_match(ruby: &Option<Found>, got: &Option<Found>) -> bool {
    match (ruby, got) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a.span == b.span && a.groups == b.groups && {
                let mut x = a.names.clone();
                let mut y = b.names.clone();
                x.sort();
                y.sort();
                x == y
            }
        }
        _ => false,
    }
}

#[test]
fn ruby_regexps_agree_with_ruby() {
    let mut problems: Vec<String> = Vec::new();
    let (mut linear, mut onig, mut refused, mut checks) = (0, 0, 0, 0);
    for (case, ruby, starts) in load() {
        let Case {
            src,
            flags,
            engine,
            hays,
            binary,
        } = &case;
        let what = format!("/{src}/{flags}");
        let re = match ruby_regexp::compile(src, flags) {
            Err(e) => {
                refused += 1;
                if engine != "refused" {
                    problems.push(format!("{what}: refused, but the case says {engine}: {e}"));
                }
                continue;
            }
            Ok(re) => re,
        };
        let ruby = match ruby {
            Err(e) => {
                problems.push(format!(
                    "{what}: Ruby refuses it ({e}) but logferry compiles it"
                ));
                continue;
            }
            Ok(r) => r,
        };
        if re.engine() != engine && engine != "any" {
            problems.push(format!(
                "{what}: runs on {} but the case says {engine}",
                re.engine()
            ));
        }
        if re.engine() == "linear" {
            linear += 1;
        } else {
            onig += 1;
        }
        if *binary {
            for (hay, want) in hays.iter().zip(&ruby) {
                checks += 1;
                let got = binary_found(&re, hay);
                if !same_match(want, &got) {
                    problems.push(format!(
                        "{what} ({}) on the binary string {hay:?}:\n    ruby: {want:?}\n    ours: {got:?}",
                        re.engine()
                    ));
                }
            }
            continue;
        }
        for (hay, want) in hays.iter().zip(&ruby) {
            checks += 1;
            let got = re
                .captures_at(hay, 0)
                .map(|c| found(&re, c.whole(), |i| c.get(i)));
            if !same_match(want, &got) {
                problems.push(format!(
                    "{what} ({}) on {hay:?}:\n    ruby: {want:?}\n    ours: {got:?}",
                    re.engine()
                ));
            }
        }
        // Searches from each later start position (a parser scanning a text).
        for (hay, wants) in hays.iter().zip(&starts) {
            let positions = hay
                .char_indices()
                .map(|(at, _)| at)
                .skip(1)
                .chain([hay.len()]);
            for (at, want) in positions.zip(wants) {
                checks += 1;
                let got = re
                    .captures_at(hay, at)
                    .map(|c| found(&re, c.whole(), |i| c.get(i)));
                if !same_match(want, &got) {
                    problems.push(format!(
                        "{what} ({}) on {hay:?} from {at}:\n    ruby: {want:?}\n    ours: {got:?}",
                        re.engine()
                    ));
                }
            }
        }
        // grep / rewrite_tag_filter: `/body/flags` (i and m only).
        if flags.contains('x') {
            continue;
        }
        let rr = match ruby_regexp::regexp(&format!("/{src}/{flags}")) {
            Ok(rr) => rr,
            Err(e) => {
                problems.push(format!(
                    "{what}: regexp() refuses what compile() takes: {e}"
                ));
                continue;
            }
        };
        let mut locs = rr.capture_locations();
        for (hay, want) in hays.iter().zip(&ruby) {
            checks += 1;
            if rr.is_match(hay) != want.is_some() {
                problems.push(format!(
                    "regexp() {what} on {hay:?}: is_match {} but Ruby {want:?}",
                    rr.is_match(hay)
                ));
            }
            let got = rr
                .captures_read(&mut locs, hay)
                .map(|span| found(&rr, span, |i| locs.get(i)));
            if !same_match(want, &got) {
                problems.push(format!(
                    "regexp() {what} on {hay:?} (captures_read):\n    ruby: {want:?}\n    ours: {got:?}"
                ));
            }
        }
    }
    println!(
        "{linear} patterns on the linear engine, {onig} on Oniguruma, {refused} refused; \
         {checks} matches compared with Ruby's"
    );
    assert!(
        problems.is_empty(),
        "{} disagreements with Ruby:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
