//! Compressed size and speed of the gzip candidates against C zlib's level 6 (what Fluentd's Ruby
//! Zlib and Fluent Bit write) on log-shaped data: how the compressor and
//! [`logferry_compress::LEVEL`] were chosen (the fastest whose output is no larger than zlib 6's
//! on every data set). Candidates: libdeflate 4 to 9, zlib-rs 4 to 7 (zlib-ng's algorithm in
//! Rust; zlib-ng itself writes the same sizes). Each is timed three times, interleaved, and the
//! best time kept: speeds are indicative on a shared machine, sizes exact.
//!
//! Data sets: 8 MiB of Docker-shaped JSON lines with a text `log` (`loglines::chunk`), 8 MiB of
//! the seed pipeline's output records (`loglines::seed_output`), and the first 8 MiB of every
//! file named on the command line (e.g. out_file captures of fwdbench's load; see
//! docs/performance.md, "Gzip").
//! Run: `cargo run --release -p logferry-compress --example levels [FILE...]`.

use std::time::Instant;

#[path = "../../../benches/loglines.rs"]
mod loglines;

/// C zlib (the system's, through libz-sys) at `level`, as one gzip member.
fn zlib(data: &[u8], level: i32) -> usize {
    use libz_sys as z;
    let mut out = vec![0u8; data.len() + data.len() / 2 + 1024];
    let mut s = std::mem::MaybeUninit::<z::z_stream>::zeroed();
    let p = s.as_mut_ptr();
    // SAFETY: a zeroed z_stream is what deflateInit2_ expects (null zalloc/zfree: the
    // defaults); the input and output pointers come from live slices of the given lengths,
    // which fit a c_uint (8 MiB); deflateEnd frees what deflateInit2_ allocated.
    unsafe {
        let version = z::zlibVersion();
        let size = std::mem::size_of::<z::z_stream>() as i32;
        assert_eq!(
            z::deflateInit2_(p, level, z::Z_DEFLATED, 31, 8, 0, version, size),
            z::Z_OK
        );
        (*p).next_in = data.as_ptr().cast_mut();
        (*p).avail_in = data.len() as u32;
        (*p).next_out = out.as_mut_ptr();
        (*p).avail_out = out.len() as u32;
        assert_eq!(z::deflate(p, z::Z_FINISH), z::Z_STREAM_END);
        let n = (*p).total_out as usize;
        z::deflateEnd(p);
        n
    }
}

fn libdeflate(data: &[u8], level: i32) -> usize {
    let mut c =
        libdeflater::Compressor::new(libdeflater::CompressionLvl::new(level).expect("1-12"));
    let mut out = vec![0; c.gzip_compress_bound(data.len())];
    c.gzip_compress(data, &mut out).expect("bound is enough")
}

fn zlib_rs(data: &[u8], level: i32) -> usize {
    let mut cfg = zlib_rs::DeflateConfig::new(level);
    cfg.window_bits = 31;
    let mut out = vec![0u8; zlib_rs::compress_bound(data.len()) + 18];
    let (z, rc) = zlib_rs::compress_slice(&mut out, data, cfg);
    assert_eq!(rc, zlib_rs::ReturnCode::Ok);
    z.len()
}

type Codec = (String, Box<dyn Fn(&[u8]) -> usize>);

fn main() {
    let mut sets: Vec<(String, Vec<u8>)> = vec![
        ("text log lines".into(), loglines::chunk(8 << 20)),
        ("seed output".into(), loglines::seed_output(8 << 20)),
    ];
    for path in std::env::args().skip(1) {
        let mut d = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        d.truncate(8 << 20);
        sets.push((path, d));
    }
    let mut codecs: Vec<Codec> = vec![("zlib 6 (C)".into(), Box::new(|d| zlib(d, 6)))];
    for l in 4..=9 {
        codecs.push((
            format!("libdeflate {l}"),
            Box::new(move |d| libdeflate(d, l)),
        ));
    }
    for l in 4..=7 {
        let mark = if l == logferry_compress::LEVEL {
            " (logferry)"
        } else {
            ""
        };
        codecs.push((
            format!("zlib-rs {l}{mark}"),
            Box::new(move |d| zlib_rs(d, l)),
        ));
    }
    for (name, data) in &sets {
        let mut best = vec![f64::MAX; codecs.len()];
        let mut size = vec![0; codecs.len()];
        for _ in 0..3 {
            for (i, (_, f)) in codecs.iter().enumerate() {
                let t = Instant::now();
                size[i] = f(data);
                best[i] = best[i].min(t.elapsed().as_secs_f64());
            }
        }
        println!("{name}: {} bytes", data.len());
        for (i, (codec, _)) in codecs.iter().enumerate() {
            println!(
                "  {codec:>22}: {:>9} B ({:.2} % of the input, {:+.2} % against zlib 6), {:.0} MB/s",
                size[i],
                100.0 * size[i] as f64 / data.len() as f64,
                100.0 * (size[i] as f64 / size[0] as f64 - 1.0),
                data.len() as f64 / best[i] / 1e6
            );
        }
    }
}
