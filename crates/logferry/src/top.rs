//! `logferry top`: a live view of every plugin's rates, buffer fill, retries and errors, from a
//! running daemon's monitor endpoint (`GET /api/plugins.json`), redrawn with plain ANSI escapes.
//! `--once` prints one frame (two samples `--interval` apart) and exits: scripts and tests.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use serde_json::Value as J;

/// One plugin's counters at one moment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row {
    /// `plugin_id`.
    pub id: String,
    /// `type`.
    pub ty: String,
    /// `plugin_category`.
    pub category: String,
    /// `emit_records`: events the plugin took (inputs: from clients; outputs: from the router).
    pub records: Option<u64>,
    /// `write_count`: chunks an output wrote.
    pub writes: Option<u64>,
    /// `buffer_queue_length`.
    pub queue: Option<u64>,
    /// `buffer_total_queued_size`, bytes.
    pub bytes: Option<u64>,
    /// `buffer_available_buffer_space_ratios`, percent.
    pub available: Option<f64>,
    /// `retry_count`.
    pub retries: Option<u64>,
    /// `rollback_count` (failed writes).
    pub errors: Option<u64>,
}

/// The rows of a `/api/plugins.json` document.
pub fn rows(doc: &J) -> Vec<Row> {
    let u = |p: &J, k: &str| p.get(k).and_then(J::as_u64);
    let s = |p: &J, k: &str| p.get(k).and_then(J::as_str).unwrap_or("").to_string();
    doc.get("plugins")
        .and_then(J::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| Row {
                    id: s(p, "plugin_id"),
                    ty: s(p, "type"),
                    category: s(p, "plugin_category"),
                    records: u(p, "emit_records"),
                    writes: u(p, "write_count"),
                    queue: u(p, "buffer_queue_length"),
                    bytes: u(p, "buffer_total_queued_size"),
                    available: p
                        .get("buffer_available_buffer_space_ratios")
                        .and_then(J::as_f64),
                    retries: u(p, "retry_count"),
                    errors: u(p, "rollback_count"),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "-".into())
}

fn rate(now: Option<u64>, before: Option<u64>, secs: f64) -> String {
    match (now, before) {
        (Some(n), Some(b)) if secs > 0.0 => format!("{:.0}", n.saturating_sub(b) as f64 / secs),
        _ => "-".into(),
    }
}

/// One frame: a table of `now` with rates against `before` (taken `secs` earlier).
pub fn frame(monitor: &str, now: &[Row], before: &[Row], secs: f64) -> String {
    let mut out = format!(
        "logferry top — {monitor} — {} plugins — rates over {secs:.1} s\n\n{:<24} {:<20} {:<7} {:>10} {:>10} {:>7} {:>11} {:>6} {:>8} {:>7}\n",
        now.len(),
        "PLUGIN",
        "TYPE",
        "KIND",
        "EVENTS/s",
        "CHUNKS/s",
        "QUEUE",
        "BUFFERED",
        "FILL%",
        "RETRIES",
        "ERRORS"
    );
    for r in now {
        let b = before.iter().find(|x| x.id == r.id);
        let fill = r.available.map(|a| format!("{:.1}", (100.0 - a).max(0.0)));
        out.push_str(&format!(
            "{:<24} {:<20} {:<7} {:>10} {:>10} {:>7} {:>11} {:>6} {:>8} {:>7}\n",
            r.id,
            r.ty,
            r.category,
            rate(r.records, b.and_then(|b| b.records), secs),
            rate(r.writes, b.and_then(|b| b.writes), secs),
            opt(r.queue),
            opt(r.bytes),
            opt(fill),
            opt(r.retries),
            opt(r.errors),
        ));
    }
    out.push_str(
        "\nEVENTS/s: events taken (inputs: from clients; outputs: from the router); CHUNKS/s: chunks written; - : the plugin has no such counter\n",
    );
    out
}

/// GET `/api/plugins.json` from `monitor` (`HOST:PORT`).
pub fn fetch(monitor: &str) -> Result<J, String> {
    let mut s = TcpStream::connect(monitor)
        .map_err(|e| format!("cannot connect to the monitor endpoint {monitor}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "GET /api/plugins.json HTTP/1.1\r\nHost: {monitor}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).map_err(|e| e.to_string())?;
    let (head, body) = resp.split_once("\r\n\r\n").ok_or("not an HTTP answer")?;
    if head.split_whitespace().nth(1) != Some("200") {
        return Err(format!("{monitor}: {}", head.lines().next().unwrap_or("")));
    }
    serde_json::from_str(body).map_err(|e| format!("{monitor}: /api/plugins.json: {e}"))
}

/// Run: redraw every `interval` until interrupted, or print one frame with `once`.
pub fn run(monitor: &str, interval: f64, once: bool) -> ExitCode {
    match watch(monitor, Duration::from_secs_f64(interval.max(0.1)), once) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("logferry top: {e}");
            ExitCode::from(1)
        }
    }
}

fn watch(monitor: &str, interval: Duration, once: bool) -> Result<(), String> {
    let mut before = rows(&fetch(monitor)?);
    let mut at = Instant::now();
    loop {
        std::thread::sleep(interval);
        let now = rows(&fetch(monitor)?);
        let secs = at.elapsed().as_secs_f64();
        at = Instant::now();
        let text = frame(monitor, &now, &before, secs);
        let mut out = std::io::stdout().lock();
        let drawn = if once {
            out.write_all(text.as_bytes())
        } else {
            // Home, clear the screen, draw.
            out.write_all(format!("\x1b[H\x1b[2J{text}").as_bytes())
        };
        if drawn.and_then(|_| out.flush()).is_err() || once {
            return Ok(());
        }
        before = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_fill_and_missing_counters() {
        let doc = |records: u64| {
            serde_json::json!({"plugins": [
                {"plugin_id": "in", "type": "forward", "plugin_category": "input", "emit_records": records, "retry_count": null},
                {"plugin_id": "out", "type": "s3", "plugin_category": "output", "emit_records": records, "write_count": 2,
                 "buffer_queue_length": 1, "buffer_total_queued_size": 4096, "buffer_available_buffer_space_ratios": 75.0,
                 "retry_count": 3, "rollback_count": 1},
                {"plugin_id": "object:1", "type": "grep", "plugin_category": "filter", "retry_count": null}
            ]})
        };
        let f = frame("m", &rows(&doc(300)), &rows(&doc(100)), 2.0);
        let line = |id: &str| {
            f.lines()
                .find(|l| l.starts_with(id))
                .unwrap()
                .split_whitespace()
                .collect::<Vec<_>>()
        };
        assert_eq!(
            line("in "),
            ["in", "forward", "input", "100", "-", "-", "-", "-", "-", "-"]
        );
        assert_eq!(
            line("out "),
            ["out", "s3", "output", "100", "0", "1", "4096", "25.0", "3", "1"]
        );
        assert_eq!(
            line("object:1"),
            ["object:1", "grep", "filter", "-", "-", "-", "-", "-", "-", "-"]
        );
    }
}
