//! Compressed size and speed of every libdeflate level against zlib's default (flate2, level 6)
//! on 8 MiB of Docker-shaped JSON lines: how [`logferry_compress::LEVEL`] was chosen (the fastest
//! level whose output is no larger than zlib 6's). One machine, three rounds each; speeds are
//! indicative, sizes exact.
//! Run: `cargo run --release -p logferry-compress --example levels`.

use std::io::Write;
use std::time::Instant;

/// The same log-shaped data as `benches/compress.rs`.
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

fn report(name: &str, size: usize, input: usize, secs: f64) {
    println!(
        "{name:>14}: {size} bytes ({:.2} % of the input), {:.0} MB/s",
        100.0 * size as f64 / input as f64,
        3.0 * input as f64 / secs / 1e6
    );
}

fn main() {
    let data = chunk(8 << 20);
    let t = Instant::now();
    let mut z = Vec::new();
    for _ in 0..3 {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
        e.write_all(&data).expect("in memory");
        z = e.finish().expect("in memory");
    }
    report("zlib 6", z.len(), data.len(), t.elapsed().as_secs_f64());
    for lvl in 1..=12 {
        let mut c = libdeflater::Compressor::new(
            libdeflater::CompressionLvl::new(lvl).expect("levels 1-12"),
        );
        let mut out = vec![0; c.gzip_compress_bound(data.len())];
        let t = Instant::now();
        let mut n = 0;
        for _ in 0..3 {
            n = c.gzip_compress(&data, &mut out).expect("bound is enough");
        }
        let mark = if lvl == logferry_compress::LEVEL {
            " (LEVEL)"
        } else {
            ""
        };
        report(
            &format!("libdeflate {lvl}{mark}"),
            n,
            data.len(),
            t.elapsed().as_secs_f64(),
        );
    }
}
