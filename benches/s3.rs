//! out_s3's CPU path per chunk on Docker-shaped records (~350 bytes of msgpack each): format with
//! the default `out_file` formatter (as the buffer does at emit), then gzip the chunk (as the
//! writer does on the blocking pool before the upload); zstd for comparison.
//! Run: `cargo bench -p logferry-plugins-aws --bench s3`.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use logferry_core::{EventTime, Section, Value};
use logferry_plugins::out_file::FileFormat;
use logferry_plugins_aws::out_s3::{compress, StoreAs};

/// A Docker log driver record (~350 bytes of msgpack) whose `log` line is JSON; every record
/// differs (ids, timings, a request id from a small PRNG), so compression sees realistic input.
fn docker_record(i: usize) -> Vec<u8> {
    let s = |x: &str| Value::Str(x.into());
    let names = [
        "/delish-web-1",
        "/delish-api-2",
        "/delish-worker-3",
        "/delish-cron-4",
    ];
    let types = ["recipe_view", "recipe_save", "user_signup", "search_query"];
    let agents = [
        "Mozilla/5.0 (iPhone)",
        "Mozilla/5.0 (X11; Linux)",
        "okhttp/4.12",
        "curl/8.5",
    ];
    let r = (i as u64 + 1)
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    let log = format!(
        "{{\"log_type\":\"EVENT\",\"event_type\":\"{}\",\"time\":\"2024-03-05T10:{:02}:{:02}Z\",\"recipe_id\":{},\"user\":\"u{}\",\"ms\":{},\"request_id\":\"{:016x}\",\"ua\":\"{}\",\"path\":\"/recipes/{}/view?ref=home\"}}",
        types[(r >> 7) as usize % 4],
        (i / 60) % 60,
        i % 60,
        1000 + (r >> 20) % 90_000,
        (r >> 40) % 9_973,
        (r >> 13) % 2_500,
        r,
        agents[(r >> 3) as usize % 4],
        (r >> 28) % 90_000
    );
    let v = Value::Map(vec![
        (
            s("container_id"),
            s("4f1c2d3e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d"),
        ),
        (s("container_name"), s(names[i % 4])),
        (
            s("source"),
            s(if i.is_multiple_of(10) {
                "stderr"
            } else {
                "stdout"
            }),
        ),
        (s("log"), s(&log)),
    ]);
    let mut out = Vec::new();
    v.encode(&mut out);
    out
}

fn bench(c: &mut Criterion) {
    let root = logferry_config::parse_str(
        "<match **>\n@type s3\ns3_bucket b\n</match>\n",
        "bench.conf",
        Path::new("."),
    )
    .expect("config");
    let format = FileFormat::from_section(&Section::new(&root.elements[0], "s3")).expect("format");
    let records: Vec<Vec<u8>> = (0..32_768).map(docker_record).collect();
    let avg = records.iter().map(Vec::len).sum::<usize>() / records.len();
    let t = EventTime::new(1_709_634_000, 123_456_789);

    // One chunk of ~8 MiB of formatted text (the memory buffer's chunk_limit_size).
    let mut formatted = Vec::new();
    let mut n = 0usize;
    while formatted.len() < 8 << 20 {
        format.format(
            "docker.delish",
            t,
            &records[n % records.len()],
            &mut formatted,
        );
        n += 1;
    }
    eprintln!(
        "records: {avg} bytes of msgpack on average; chunk: {n} records, {} bytes formatted, {} gzip, {} zstd",
        formatted.len(),
        compress(&formatted, StoreAs::Gzip).unwrap().len(),
        compress(&formatted, StoreAs::Zstd).unwrap().len()
    );

    let mut g = c.benchmark_group("s3_chunk_8MiB");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("format_out_file", |b| {
        let mut out = Vec::with_capacity(formatted.len() + 4096);
        b.iter(|| {
            out.clear();
            for i in 0..n {
                format.format("docker.delish", t, &records[i % records.len()], &mut out);
            }
            out.len()
        })
    });
    g.bench_function("gzip", |b| {
        b.iter(|| compress(&formatted, StoreAs::Gzip).unwrap().len())
    });
    g.bench_function("format_and_gzip", |b| {
        let mut out = Vec::with_capacity(formatted.len() + 4096);
        b.iter(|| {
            out.clear();
            for i in 0..n {
                format.format("docker.delish", t, &records[i % records.len()], &mut out);
            }
            compress(&out, StoreAs::Gzip).unwrap().len()
        })
    });
    g.bench_function("zstd", |b| {
        b.iter(|| compress(&formatted, StoreAs::Zstd).unwrap().len())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
