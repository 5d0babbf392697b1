//! Candidates for logferry's JSON hot paths, each producing what logferry's code produces, so
//! that the bench compares like with like (checked on the bench data before timing, and in the
//! tests below).

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
