//! Parser throughput on ~300-byte lines: `json`, `ltsv` and `apache2`, reported as lines/s; and
//! time formats: strftime of a new time each call, strptime of a new second each call (the
//! parsers' cache of the last text and minute does not apply), and `Time.parse` (no
//! `time_format`) of ISO 8601, RFC 2822, Apache and syslog texts.
//!
//! Run: `cargo bench -p logferry-formats --bench parsers`.

use std::hint::black_box;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use logferry_config::Section;
use logferry_formats::parser::{
    from_plugin, time_parse_probe, time_parse_probe_typed, ParseResult, Parser,
};
use logferry_formats::timefmt::{TimeFormatter, Zone};
use logferry_msgpack::EventTime;

fn build(parse_body: &str) -> Box<dyn Parser> {
    let text =
        format!("<filter **>\n  @type parser\n  <parse>\n{parse_body}\n  </parse>\n</filter>\n");
    let root = logferry_config::parse_str(&text, "bench.conf", Path::new(".")).expect("config");
    let s = Section::new(&root.elements[0], "parser");
    from_plugin(&s, None).expect("parser builds")
}

const JSON: &str = r#"{"time":"1700000000.123456","level":"info","host":"web-01.example.internal","service":"checkout","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","msg":"order placed","user":{"id":184467,"plan":"pro"},"items":3,"amount":129.95,"latency_ms":41,"path":"/api/v2/orders","status":201}"#;

const LTSV: &str = "time:2024-01-02T03:04:05Z\thost:192.168.0.1\tforwardedfor:-\treq:GET /api/v2/orders?page=2&sort=desc HTTP/1.1\tstatus:200\tsize:4821\treferer:https://shop.example.com/cart\tua:Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36\treqtime:0.041\tapptime:0.038\tvhost:shop.example.com";

const APACHE: &str = r#"192.168.0.1 - frank [28/Feb/2013:12:00:00 +0900] "GET /api/v2/orders?page=2&sort=desc&filter=status:open HTTP/1.1" 200 4821 "https://shop.example.com/cart?from=header" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36""#;

fn bench_one(c: &mut Criterion, name: &str, p: &dyn Parser, line: &str) {
    let mut out: Vec<ParseResult> = Vec::with_capacity(4);
    p.parse(line, &mut out);
    assert!(
        matches!(out.as_slice(), [Ok(_)]),
        "{name} must parse its bench line: {out:?}"
    );
    let mut g = c.benchmark_group("parsers");
    g.throughput(Throughput::Elements(1));
    g.bench_function(format!("{name} ({} bytes)", line.len()), |b| {
        b.iter(|| {
            out.clear();
            p.parse(black_box(line), &mut out);
            black_box(&out);
        })
    });
    g.finish();
}

fn parsers(c: &mut Criterion) {
    let json = build("    @type json");
    let ltsv = build("    @type ltsv");
    let apache2 = build("    @type apache2");
    bench_one(c, "json", &*json, JSON);
    bench_one(c, "ltsv", &*ltsv, LTSV);
    bench_one(c, "apache2", &*apache2, APACHE);
}

fn times(c: &mut Criterion) {
    let mut g = c.benchmark_group("times");
    g.throughput(Throughput::Elements(1));
    for fmt in [
        "%Y-%m-%dT%H:%M:%S.%N%z",
        "%d/%b/%Y:%H:%M:%S %z",
        "%F %T.%3N",
    ] {
        let f = TimeFormatter::new(fmt, Zone::Local).expect("format");
        let mut out = String::with_capacity(64);
        let mut t = 1_700_000_000u32;
        g.bench_function(format!("strftime {fmt}"), |b| {
            b.iter(|| {
                t = t.wrapping_add(1);
                out.clear();
                f.format_into(EventTime::new(black_box(t), 123_456_789), &mut out);
                black_box(&out);
            })
        });
    }
    // A parser per call would time its construction: one text per call through the probe
    // (construction included) is measured beside one through a built parser.
    let texts: Vec<String> = (0..60)
        .map(|i| format!("14/Nov/2023:22:{:02}:{:02} +0900", i, 59 - i))
        .collect();
    let apache = build(
        "    @type regexp\n    expression /^(?<time>.*)$/\n    time_format %d/%b/%Y:%H:%M:%S %z",
    );
    let mut out: Vec<ParseResult> = Vec::with_capacity(4);
    let mut i = 0;
    g.bench_function(
        "strptime %d/%b/%Y:%H:%M:%S %z (regexp parser, new minute each)",
        |b| {
            b.iter(|| {
                i = (i + 1) % texts.len();
                out.clear();
                apache.parse(black_box(&texts[i]), &mut out);
                black_box(&out);
            })
        },
    );
    g.bench_function("strptime probe %Y-%m-%d %H:%M:%S.%N (build + parse)", |b| {
        b.iter(|| {
            black_box(time_parse_probe(
                "%Y-%m-%d %H:%M:%S.%N",
                true,
                None,
                black_box("2023-11-14 22:13:20.123456789"),
            ))
        })
    });
    // No time_format: Ruby's Time.parse (ISO 8601 fast path for the first three, the port of
    // Date._parse for the others), through the probe (a parser built per call, cheap for it).
    for text in [
        "2024-01-02T03:04:05Z",
        "2024-01-02T03:04:05.123456+09:00",
        "2024-01-02 03:04:05 +0900",
        "Tue, 02 Jan 2024 03:04:05 +0000",
        "14/Nov/2023:22:13:20 +0900",
        "Jan  2 03:04:05",
    ] {
        g.bench_function(format!("Time.parse {text}"), |b| {
            b.iter(|| {
                black_box(time_parse_probe_typed(
                    "string",
                    None,
                    true,
                    None,
                    &[],
                    black_box(text),
                ))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, parsers, times);
criterion_main!(benches);
