//! Candidates for logferry's JSON hot paths, each producing what logferry's code produces, so
//! that the bench compares like with like (checked on the bench data before timing, and in the
//! tests below).

pub mod avx2;
pub mod baseline;
pub mod baseline_parser;
pub mod escapers;
pub mod parsers;

#[allow(dead_code)]
#[path = "../../loglines.rs"]
mod loglines;
pub use loglines::app_log_lines;

/// The seed pipeline's output strings for one record: the `log` line itself (a quote-dense
/// JSON string) and the short values around it.
/// Some strings with every kind of content at many offsets (escapes, control bytes, multi-byte
/// and invalid UTF-8), for checking an escaper against logferry's beyond the bench data.
pub fn edge_strings() -> Vec<Vec<u8>> {
    let pieces: [&[u8]; 7] = [
        b"\"",
        b"\\",
        b"\n",
        b"\x01",
        "\u{e9}".as_bytes(),
        "\u{1f600}".as_bytes(),
        b"\xff",
    ];
    let mut v = Vec::new();
    for len in 0..100 {
        for pos in (0..len).step_by(3) {
            for p in pieces {
                let mut s = vec![b'a'; len];
                s.splice(pos..pos + 1, p.iter().copied());
                v.push(s);
            }
        }
    }
    v.push(vec![0x01; 300]);
    v
}

pub fn output_strings(logs: &[String]) -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    for l in logs {
        v.push(b"3f4e1a2b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f".to_vec());
        v.push(b"/web-3".to_vec());
        v.push(b"stdout".to_vec());
        v.push(l.as_bytes().to_vec());
        v.push(b"info".to_vec());
        v.push(b"request served from cache".to_vec());
        v.push(b"/api/v1/recipes/4821".to_vec());
        v.push(b"EVENT".to_vec());
        v.push(b"recipe_view".to_vec());
    }
    v
}
