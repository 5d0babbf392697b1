//! The bench's comparisons measured interleaved, for a machine whose speed drifts (a shared
//! VM): each round runs every candidate of a group once over the same data, in turn, and the
//! median of 1001 rounds per candidate is reported with its ratio to logferry's previous code.
//! Criterion (`benches/json.rs`) runs one candidate after another, so a slow minute lands on
//! whichever ran in it; here it lands on all of them alike.
//!
//! Run: `CARGO_TARGET_DIR=target cargo run --release --locked --manifest-path benches/json-candidates/Cargo.toml --example interleaved`

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use logferry_config::Section;
use logferry_formats::parser::{from_plugin, Parser, RawRecord};
use logferry_json_candidates::{
    app_log_lines, baseline, baseline_parser, escapers, output_strings, parsers,
};

const ROUNDS: usize = 1001;

type Run<'a> = Box<dyn FnMut() + 'a>;

/// Median time per round of each candidate, interleaved; printed as a table row each, with the
/// ratio to the candidate named `base`.
fn group(title: &str, unit: &str, per_round: usize, base: &str, mut cands: Vec<(&str, Run)>) {
    let mut times: Vec<Vec<f64>> = vec![Vec::with_capacity(ROUNDS); cands.len()];
    for round in 0..ROUNDS + 10 {
        for (i, (_, f)) in cands.iter_mut().enumerate() {
            let t = Instant::now();
            f();
            let ns = t.elapsed().as_nanos() as f64;
            if round >= 10 {
                times[i].push(ns); // the first 10 rounds warm up
            }
        }
    }
    let med: Vec<f64> = times
        .iter_mut()
        .map(|t| {
            t.sort_by(f64::total_cmp);
            t[t.len() / 2] / per_round as f64
        })
        .collect();
    let b = cands
        .iter()
        .position(|(n, _)| *n == base)
        .map_or(1.0, |i| med[i]);
    println!(
        "\n{title}\n\n| candidate | median ns per {unit} | speed vs `{base}` |\n|---|---|---|"
    );
    for ((name, _), m) in cands.iter().zip(&med) {
        println!("| {name} | {m:.1} | {:.2}× |", b / m);
    }
}

fn main() {
    let lines = app_log_lines(1000);
    let text = "<filter **>\n  @type parser\n  <parse>\n    @type json\n    estimate_current_event false\n  </parse>\n</filter>\n";
    let root = logferry_config::parse_str(text, "bench.conf", Path::new(".")).expect("config");
    let p: Box<dyn Parser> =
        from_plugin(&Section::new(&root.elements[0], "parser"), None).expect("parser");
    let mut rec = RawRecord::default();
    let mut simd = parsers::SimdJson::default();
    // Same bytes first (as the criterion bench checks).
    let mut want = RawRecord::default();
    for l in &lines {
        assert!(p.parse_raw(l, &mut want).is_some());
        for ok in [
            baseline_parser::parse_raw(l, &mut rec),
            simd.parse(l, &mut rec),
            parsers::sonic(l, &mut rec),
            parsers::serde_json(l, &mut rec),
        ] {
            assert!(ok);
        }
    }
    let rec = std::cell::RefCell::new(rec);
    let simd = std::cell::RefCell::new(simd);
    let over = |f: fn(&str, &mut RawRecord) -> bool| -> Run {
        let (lines, rec) = (&lines, &rec);
        Box::new(move || {
            let mut r = rec.borrow_mut();
            for l in lines {
                black_box(f(black_box(l), &mut r));
            }
        })
    };
    group(
        "parse_log: a `log` line to msgpack pairs (~240 B)",
        "line",
        lines.len(),
        "logferry fast path before",
        vec![
            ("logferry fast path now", {
                let (lines, rec, p) = (&lines, &rec, &p);
                Box::new(move || {
                    let mut r = rec.borrow_mut();
                    for l in lines {
                        black_box(p.parse_raw(black_box(l), &mut r));
                    }
                })
            }),
            (
                "logferry fast path before",
                over(baseline_parser::parse_raw),
            ),
            ("simd-json tape", {
                let (lines, rec, simd) = (&lines, &rec, &simd);
                Box::new(move || {
                    let (mut r, mut s) = (rec.borrow_mut(), simd.borrow_mut());
                    for l in lines {
                        black_box(s.parse(black_box(l), &mut r));
                    }
                })
            }),
            ("sonic-rs serde", over(parsers::sonic)),
            ("serde_json serde", over(parsers::serde_json)),
        ],
    );

    let all = output_strings(&lines);
    let (logs, short): (Vec<Vec<u8>>, Vec<Vec<u8>>) =
        all.iter().cloned().partition(|s| s.len() > 100);
    type Esc = fn(&[u8], &mut Vec<u8>);
    let escs: [(&str, Esc); 6] = [
        ("logferry now (SSE2)", logferry_msgpack::json_string),
        (
            "AVX2 (same loop, 32-byte chunks)",
            logferry_json_candidates::avx2::json_string,
        ),
        ("logferry before (SWAR)", baseline::json_string),
        ("memchr2 + run check", escapers::memchr_escape),
        ("serde_json", escapers::serde_json_escape),
        ("sonic-rs", escapers::sonic_escape),
    ];
    // Every escaper writes logferry's bytes, on the bench data and on edge cases.
    for s in all.iter().chain(&logferry_json_candidates::edge_strings()) {
        let mut want = Vec::new();
        logferry_msgpack::json_string(s, &mut want);
        for (name, f) in &escs[..3] {
            let mut got = Vec::new();
            f(s, &mut got);
            assert!(got == want, "{name} on {s:?}");
        }
    }
    let out = std::cell::RefCell::new(Vec::with_capacity(1 << 20));
    for (title, strings, unit) in [
        (
            "escape log: the `log` strings as JSON strings",
            &logs,
            "string",
        ),
        (
            "escape short: the 8 short values of each record",
            &short,
            "string",
        ),
        (
            "escape record: all 9 strings of each output record",
            &all,
            "record",
        ),
    ] {
        let per = if unit == "record" {
            lines.len()
        } else {
            strings.len()
        };
        let cands = escs
            .iter()
            .map(|&(name, f)| {
                let out = &out;
                let run: Run = Box::new(move || {
                    let mut o = out.borrow_mut();
                    o.clear();
                    for s in strings {
                        f(black_box(s), &mut o);
                    }
                    black_box(&*o);
                });
                (name, run)
            })
            .collect();
        group(title, unit, per, "logferry before (SWAR)", cands);
    }

    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let vals: Vec<f64> = (0..1000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 2500) as f64 / 10.0
        })
        .collect();
    let float = |f: fn(f64, &mut Vec<u8>)| -> Run {
        let (vals, out) = (&vals, &out);
        Box::new(move || {
            let mut o = out.borrow_mut();
            o.clear();
            for &v in vals {
                f(black_box(v), &mut o);
            }
            black_box(&*o);
        })
    };
    group(
        "float: `latency_ms`-like values as Ruby's Float#to_s",
        "value",
        vals.len(),
        "ruby_float before (format!)",
        vec![
            ("ruby_float now (zmij)", float(logferry_msgpack::ruby_float)),
            ("ruby_float before (format!)", float(baseline::ruby_float)),
            (
                "zmij digits only",
                float(|v, o| o.extend_from_slice(zmij::Buffer::new().format_finite(v).as_bytes())),
            ),
            (
                "ryu digits only",
                float(|v, o| o.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes())),
            ),
        ],
    );
}
