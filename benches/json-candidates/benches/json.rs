//! The JSON hot paths of the seed pipeline, before/after and against candidates, in one run:
//!
//! * `parse_log`: a `log` string (a ~250-byte JSON app line) to msgpack pairs: logferry's
//!   `json` parser fast path now and before vs simd-json, sonic-rs and serde_json writing the
//!   same bytes (each then looks for the time key, as `parse_raw` does; the parser runs with
//!   `estimate_current_event false`, so that no side reads the clock);
//! * `escape`: the strings of one seed-pipeline output record as JSON strings: logferry's
//!   `json_string` now (SSE2) vs before (8-byte SWAR) vs memchr-driven, serde_json, sonic-rs;
//! * `float`: `latency_ms`-like floats as Ruby's `Float#to_s`: now (zmij digits) vs before
//!   (`format!("{v:e}")`), and the raw shortest-digit writers ryu and zmij.
//!
//! Run: `CARGO_TARGET_DIR=target cargo bench --locked --manifest-path benches/json-candidates/Cargo.toml`

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use logferry_config::Section;
use logferry_formats::parser::{from_plugin, Parser, RawRecord};
use logferry_json_candidates::{
    app_log_lines, baseline, escapers, output_strings, parsers::SimdJson,
};

fn json_parser() -> Box<dyn Parser> {
    let text = "<filter **>\n  @type parser\n  <parse>\n    @type json\n    estimate_current_event false\n  </parse>\n</filter>\n";
    let root = logferry_config::parse_str(text, "bench.conf", Path::new(".")).expect("config");
    from_plugin(&Section::new(&root.elements[0], "parser"), None).expect("parser builds")
}

fn parse_log(c: &mut Criterion) {
    let lines = app_log_lines(1000);
    let bytes: usize = lines.iter().map(String::len).sum();
    let p = json_parser();
    // Every candidate writes the fast path's bytes on every line.
    let mut simd = SimdJson::default();
    let (mut want, mut got) = (RawRecord::default(), RawRecord::default());
    for l in &lines {
        assert!(p.parse_raw(l, &mut want).is_some(), "fast path takes {l}");
        type Cand = Box<dyn FnMut(&str, &mut RawRecord) -> bool>;
        let mut simd2 = SimdJson::default();
        let cands: [Cand; 4] = [
            Box::new(logferry_json_candidates::baseline_parser::parse_raw),
            Box::new(move |t, r| simd2.parse(t, r)),
            Box::new(logferry_json_candidates::parsers::sonic),
            Box::new(logferry_json_candidates::parsers::serde_json),
        ];
        for mut f in cands {
            assert!(f(l, &mut got), "candidate takes {l}");
            assert_eq!((&got.buf, &got.pairs), (&want.buf, &want.pairs), "{l}");
        }
    }
    let mut g = c.benchmark_group("parse_log");
    g.throughput(Throughput::Bytes(bytes as u64));
    let mut rec = RawRecord::default();
    g.bench_function("logferry fast path now", |b| {
        b.iter(|| {
            for l in &lines {
                black_box(p.parse_raw(black_box(l), &mut rec));
            }
        })
    });
    g.bench_function("logferry fast path before", |b| {
        b.iter(|| {
            for l in &lines {
                black_box(logferry_json_candidates::baseline_parser::parse_raw(
                    black_box(l),
                    &mut rec,
                ));
            }
        })
    });
    g.bench_function("simd-json tape", |b| {
        b.iter(|| {
            for l in &lines {
                black_box(simd.parse(black_box(l), &mut rec));
            }
        })
    });
    g.bench_function("sonic-rs serde", |b| {
        b.iter(|| {
            for l in &lines {
                black_box(logferry_json_candidates::parsers::sonic(
                    black_box(l),
                    &mut rec,
                ));
            }
        })
    });
    g.bench_function("serde_json serde", |b| {
        b.iter(|| {
            for l in &lines {
                black_box(logferry_json_candidates::parsers::serde_json(
                    black_box(l),
                    &mut rec,
                ));
            }
        })
    });
    g.finish();
}

fn escape(c: &mut Criterion) {
    let all = output_strings(&app_log_lines(1000));
    // The `log` lines alone (quote-dense, ~250 bytes), and the short values alone (clean).
    let (logs, short): (Vec<Vec<u8>>, Vec<Vec<u8>>) =
        all.iter().cloned().partition(|s| s.len() > 100);
    type Esc = fn(&[u8], &mut Vec<u8>);
    let cands: [(&str, Esc); 6] = [
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
    for (group, strings) in [
        ("escape record", &all),
        ("escape log", &logs),
        ("escape short", &short),
    ] {
        let bytes: usize = strings.iter().map(Vec::len).sum();
        let mut want = Vec::new();
        for s in strings {
            baseline::json_string(s, &mut want);
        }
        let mut out = Vec::with_capacity(want.len() * 2);
        for (name, f) in cands {
            out.clear();
            for s in strings {
                f(s, &mut out);
            }
            assert!(out == want, "{name} writes the same bytes");
        }
        let mut g = c.benchmark_group(group);
        g.throughput(Throughput::Bytes(bytes as u64));
        for (name, f) in cands {
            g.bench_function(name, |b| {
                b.iter(|| {
                    out.clear();
                    for s in strings {
                        f(black_box(s), &mut out);
                    }
                    black_box(&out);
                })
            });
        }
        g.finish();
    }
}

fn float(c: &mut Criterion) {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let vals: Vec<f64> = (0..1000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 2500) as f64 / 10.0
        })
        .collect();
    let mut g = c.benchmark_group("float");
    g.throughput(Throughput::Elements(vals.len() as u64));
    let mut out = Vec::with_capacity(32 * vals.len());
    g.bench_function("ruby_float now (zmij)", |b| {
        b.iter(|| {
            out.clear();
            for &v in &vals {
                logferry_msgpack::ruby_float(black_box(v), &mut out);
            }
            black_box(&out);
        })
    });
    g.bench_function("ruby_float before (format!)", |b| {
        b.iter(|| {
            out.clear();
            for &v in &vals {
                baseline::ruby_float(black_box(v), &mut out);
            }
            black_box(&out);
        })
    });
    g.bench_function("zmij digits only", |b| {
        let mut buf = zmij::Buffer::new();
        b.iter(|| {
            out.clear();
            for &v in &vals {
                out.extend_from_slice(buf.format_finite(black_box(v)).as_bytes());
            }
            black_box(&out);
        })
    });
    g.bench_function("ryu digits only", |b| {
        let mut buf = ryu::Buffer::new();
        b.iter(|| {
            out.clear();
            for &v in &vals {
                out.extend_from_slice(buf.format_finite(black_box(v)).as_bytes());
            }
            black_box(&out);
        })
    });
    g.finish();
}

criterion_group!(benches, parse_log, escape, float);
criterion_main!(benches);
