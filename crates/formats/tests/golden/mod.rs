//! What the tests against Ruby's recordings share: reading a golden file, the local zone it was
//! recorded in, and reporting every mismatch at once.

use serde_json::Value;

/// The lines of golden file `name`, one JSON value each, from the directory in the environment
/// variable `dir_env` (goldens recorded elsewhere) or else `tests/<default_dir>`.
pub fn read_jsonl(dir_env: &str, default_dir: &str, name: &str) -> Vec<Value> {
    let dir = std::env::var(dir_env)
        .unwrap_or_else(|_| format!("{}/tests/{default_dir}", env!("CARGO_MANIFEST_DIR")));
    let path = format!("{dir}/{name}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{path}: {e}: {l}")))
        .collect()
}

/// Set `TZ` to the zone the goldens were recorded in, once, before anything reads the local
/// zone in this process.
pub fn set_zone(tz: impl FnOnce() -> String) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::env::set_var("TZ", tz()));
}

/// Fail with the first 60 of `bad` (all of them written to `<prefix>-<what>.txt` in the target
/// tmp dir), out of `total` compared with `oracle`.
pub fn report(prefix: &str, what: &str, oracle: &str, bad: &[String], total: usize) {
    if !bad.is_empty() {
        let all = format!(
            "{}/{prefix}-{}.txt",
            env!("CARGO_TARGET_TMPDIR"),
            what.replace(' ', "-")
        );
        let _ = std::fs::write(&all, bad.join("\n"));
        let shown: Vec<&str> = bad.iter().take(60).map(String::as_str).collect();
        panic!(
            "{} of {total} {what} differ from {oracle} (all in {all}):\n{}",
            bad.len(),
            shown.join("\n")
        );
    }
}
