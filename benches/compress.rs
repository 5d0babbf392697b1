//! Gzip of a log-shaped chunk (8 MiB of Docker fluentd-driver records as JSON lines, what out_s3
//! and out_http compress): libdeflate (logferry-compress) against flate2's default backend
//! (miniz_oxide, what logferry used before) at level 6, compression and decompression. The
//! compressed sizes are printed once, so the ratio is checked beside the speed.
//! Run: `cargo bench -p logferry-compress --bench compress`.

use std::hint::black_box;
use std::io::{Read, Write};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Docker-log-shaped JSON lines: a fixed container id, ~30 distinct message shapes with varying
/// numbers, ids and durations (a small xorshift generator keeps it deterministic).
fn chunk(bytes: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let paths = [
        "/api/v1/items",
        "/api/v1/users",
        "/healthz",
        "/api/v2/orders",
        "/static/app.js",
    ];
    let levels = ["INFO", "INFO", "INFO", "WARN", "DEBUG", "ERROR"];
    let mut out = Vec::with_capacity(bytes + 512);
    while out.len() < bytes {
        let r = next();
        let _ = writeln!(
            out,
            r#"{{"container_id":"3f4e1a2b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f","container_name":"/ecs-web-7-app-e2a1","source":"stdout","log":"2026-12-05T10:{:02}:{:02}.{:03}Z {} [req-{:016x}] GET {}/{} {} {}ms user={} bytes={}"}}"#,
            r % 60,
            (r >> 8) % 60,
            (r >> 16) % 1000,
            levels[(r >> 24) as usize % levels.len()],
            next(),
            paths[(r >> 28) as usize % paths.len()],
            (r >> 32) % 100_000,
            [200, 200, 200, 304, 404, 500][(r >> 40) as usize % 6],
            (r >> 44) % 900,
            (r >> 50) % 5000,
            (r >> 20) % 65536,
        );
    }
    out
}

fn flate2_gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn bench(c: &mut Criterion) {
    let data = chunk(8 << 20);
    // To compare with other tools on the same bytes (`gzip -6`, Python's zlib).
    if let Some(path) = std::env::var_os("COMPRESS_BENCH_DUMP") {
        std::fs::write(path, &data).unwrap();
    }
    let ours = logferry_compress::gzip(&data);
    let theirs = flate2_gzip(&data);
    eprintln!(
        "8 MiB of log lines: libdeflate level {} -> {} bytes ({:.2}x), flate2/miniz_oxide level 6 -> {} bytes ({:.2}x)",
        logferry_compress::LEVEL,
        ours.len(),
        data.len() as f64 / ours.len() as f64,
        theirs.len(),
        data.len() as f64 / theirs.len() as f64
    );
    let mut g = c.benchmark_group("gzip_8MiB_log_lines");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.sample_size(20);
    g.bench_function("compress/libdeflate", |b| {
        b.iter(|| logferry_compress::gzip(black_box(&data)))
    });
    g.bench_function("compress/flate2_miniz", |b| {
        b.iter(|| flate2_gzip(black_box(&data)))
    });
    g.bench_function("decompress/libdeflate", |b| {
        b.iter(|| logferry_compress::gunzip(black_box(&ours), usize::MAX).unwrap())
    });
    g.bench_function("decompress/flate2_miniz", |b| {
        b.iter(|| {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(black_box(&theirs[..]))
                .read_to_end(&mut out)
                .unwrap();
            out
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
