//! Docker-log-shaped JSON lines for the gzip bench and the level table
//! (`crates/compress/examples/levels.rs`): the same bytes in both.

use std::io::Write;

/// Docker-log-shaped JSON lines: a fixed container id, ~30 distinct message shapes with varying
/// numbers, ids and durations (a small xorshift generator keeps it deterministic).
pub fn chunk(bytes: usize) -> Vec<u8> {
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

/// The `log` strings of the load harness's records (`../shared/bench/harness/src/records.rs`):
/// a ~250-byte JSON app line with level, msg (words, 20 to 180 bytes), user_id, path,
/// latency_ms (one decimal), log_type and event_type. The same shape, not the same bytes.
#[allow(dead_code)]
pub fn app_log_lines(n: usize) -> Vec<String> {
    const WORDS: [&str; 16] = [
        "request", "served", "recipe", "user", "cache", "miss", "fetched", "from", "db", "timeout",
        "upstream", "rendered", "session", "token", "search", "query",
    ];
    const EVENTS: [&str; 4] = ["recipe_view", "user_login", "cart_add", "checkout"];
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..n)
        .map(|_| {
            let r = next();
            let level = ["info", "info", "info", "info", "warn", "error"][(r % 6) as usize];
            let msg_len = 20 + (r >> 8) as usize % 160;
            let mut msg = String::new();
            while msg.len() < msg_len {
                if !msg.is_empty() {
                    msg.push(' ');
                }
                msg.push_str(WORDS[(next() % 16) as usize]);
            }
            format!(
                r#"{{"level":"{level}","msg":"{msg}","user_id":{},"path":"/api/v1/recipes/{}","latency_ms":{:.1},"log_type":"{}","event_type":"{}"}}"#,
                (r >> 16) % 1_000_000,
                (r >> 36) % 100_000,
                ((r >> 20) % 2500) as f64 / 10.0,
                if (r >> 40) % 10 < 6 { "EVENT" } else { "ACCESS" },
                EVENTS[((r >> 44) % 4) as usize],
            )
        })
        .collect()
}

/// The seed pipeline's output records as JSON lines (what its HTTP output, or out_s3, writes):
/// the Docker fields, the `log` line escaped, then the fields parsed out of it, as in
/// `{"container_id":…,"container_name":"/web-3","source":"stdout","log":"{\"level\":…}",
/// "level":"info",…}`, until `bytes` are written.
#[allow(dead_code)]
pub fn seed_output(bytes: usize) -> Vec<u8> {
    let logs = app_log_lines(4096);
    let ids: Vec<String> = (0..8u64)
        .map(|i| format!("{:016x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15)).repeat(4))
        .collect();
    let mut out = Vec::with_capacity(bytes + 1024);
    let mut i = 0usize;
    while out.len() < bytes {
        let log = &logs[i % logs.len()];
        let c = (i * 7) % ids.len();
        out.extend_from_slice(b"{\"container_id\":\"");
        out.extend_from_slice(ids[c].as_bytes());
        out.extend_from_slice(
            format!("\",\"container_name\":\"/web-{c}\",\"source\":\"stdout\",\"log\":\"")
                .as_bytes(),
        );
        out.extend_from_slice(log.replace('"', "\\\"").as_bytes());
        out.extend_from_slice(b"\",");
        // The parsed fields: the log line's own object without its braces.
        out.extend_from_slice(&log.as_bytes()[1..]);
        out.push(b'\n');
        i += 1;
    }
    out
}
