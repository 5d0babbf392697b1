//! Compressed size and speed of every libdeflate level against zlib's default (flate2, level 6)
//! on 8 MiB of Docker-shaped JSON lines: how [`logferry_compress::LEVEL`] was chosen (the fastest
//! level whose output is no larger than zlib 6's). One machine, three rounds each; speeds are
//! indicative, sizes exact.
//! Run: `cargo run --release -p logferry-compress --example levels`.

use std::io::Write;
use std::time::Instant;

#[path = "../../../benches/loglines.rs"]
mod loglines;
use loglines::chunk;

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
