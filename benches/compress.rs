//! Gzip of a log-shaped chunk (8 MiB of Docker fluentd-driver records as JSON lines, what out_s3
//! and out_http compress): logferry-compress (zlib-rs level 6 to compress, libdeflate to
//! decompress) against flate2's default backend (miniz_oxide, what logferry used first) at level
//! 6, compression and decompression. The compressed sizes are printed once, so the ratio is
//! checked beside the speed. The candidates and their sizes against C zlib: `cargo run --release
//! -p logferry-compress --example levels`.
//! Run: `cargo bench -p logferry-compress --bench compress`.

use std::hint::black_box;
use std::io::{Read, Write};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

#[path = "loglines.rs"]
mod loglines;
use loglines::chunk;

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
        "8 MiB of log lines: zlib-rs level {} -> {} bytes ({:.2}x), flate2/miniz_oxide level 6 -> {} bytes ({:.2}x)",
        logferry_compress::LEVEL,
        ours.len(),
        data.len() as f64 / ours.len() as f64,
        theirs.len(),
        data.len() as f64 / theirs.len() as f64
    );
    let mut g = c.benchmark_group("gzip_8MiB_log_lines");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.sample_size(20);
    g.bench_function("compress/logferry_zlib_rs", |b| {
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
