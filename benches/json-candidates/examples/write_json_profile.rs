//! Seed-pipeline output records (the Docker fields, `log`, and the fields parsed from it) as
//! msgpack, written as JSON lines by `logferry_msgpack::write_json` in a loop: a target for
//! `perf record` (`-- SECONDS`, default 5).

use logferry_formats::parser::{from_plugin, Parser, RawRecord};
use logferry_json_candidates::app_log_lines;
use logferry_msgpack::write;

fn main() {
    let secs: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let text = "<filter **>\n  @type parser\n  <parse>\n    @type json\n  </parse>\n</filter>\n";
    let root = logferry_config::parse_str(text, "p.conf", std::path::Path::new(".")).unwrap();
    let p: Box<dyn Parser> = from_plugin(
        &logferry_config::Section::new(&root.elements[0], "parser"),
        None,
    )
    .unwrap();
    let mut records = Vec::new();
    let mut raw = RawRecord::default();
    for l in app_log_lines(1000) {
        p.parse_raw(&l, &mut raw).unwrap();
        let mut r = Vec::new();
        write::map_len(&mut r, 4 + raw.pairs.len() as u32);
        for (k, v) in [
            (
                "container_id",
                "3f4e1a2b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f",
            ),
            ("container_name", "/web-3"),
            ("source", "stdout"),
            ("log", l.as_str()),
        ] {
            write::str(&mut r, k);
            write::str(&mut r, v);
        }
        for (k, v) in &raw.pairs {
            r.extend_from_slice(&raw.buf[k.clone()]);
            r.extend_from_slice(&raw.buf[v.clone()]);
        }
        records.push(r);
    }
    let mut out = Vec::with_capacity(1 << 20);
    let t = std::time::Instant::now();
    let mut n = 0u64;
    while t.elapsed().as_secs() < secs {
        out.clear();
        for r in &records {
            logferry_msgpack::write_json(r, &mut out).unwrap();
            out.push(b'\n');
        }
        n += records.len() as u64;
    }
    let ns = t.elapsed().as_nanos() as f64 / n as f64;
    println!("{n} records, {ns:.0} ns per record");
}
