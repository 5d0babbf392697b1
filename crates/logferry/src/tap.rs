//! `logferry tap`: stream the events passing a plugin or a tag pattern in a running daemon, from
//! its monitor endpoint (`GET /api/tap`, served by `monitor_agent`/`prometheus` sources).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Duration;

/// What to tap.
#[derive(clap::Args, Debug)]
pub struct TapArgs {
    /// The monitor endpoint.
    #[arg(long, default_value = "127.0.0.1:24220", value_name = "HOST:PORT")]
    pub monitor: String,
    /// The @id of a filter or <match> (or object:N, as /api/plugins.json lists them).
    #[arg(long, conflicts_with = "tag")]
    pub id: Option<String>,
    /// A tag pattern (events seen as they enter their output); default **.
    #[arg(long)]
    pub tag: Option<String>,
    /// Keep one event in N.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub sample: u64,
    /// At most this many events a second (0: no limit).
    #[arg(long, default_value_t = 100.0, value_name = "PER_SECOND")]
    pub rate: f64,
    /// Exit after this many events.
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
}

/// Percent-encode a query value (everything but unreserved characters).
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The request path for `args`.
pub fn path(args: &TapArgs) -> String {
    let select = match (&args.id, &args.tag) {
        (Some(id), _) => format!("plugin_id={}", encode(id)),
        (None, Some(t)) => format!("tag={}", encode(t)),
        (None, None) => "tag=%2A%2A".to_string(),
    };
    format!(
        "/api/tap?{select}&sample={}&rate={}",
        args.sample, args.rate
    )
}

/// Attach and copy the lines to stdout until the daemon ends the stream, stdout closes, or
/// `count` lines were printed.
pub fn run(args: &TapArgs) -> ExitCode {
    match stream(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("logferry tap: {e}");
            ExitCode::from(1)
        }
    }
}

fn stream(args: &TapArgs) -> Result<(), String> {
    let mut s = TcpStream::connect(&args.monitor).map_err(|e| {
        format!(
            "cannot connect to the monitor endpoint {}: {e}",
            args.monitor
        )
    })?;
    s.set_write_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "GET {} HTTP/1.1\r\nHost: {}\r\nAccept: application/x-ndjson\r\n\r\n",
        path(args),
        args.monitor
    )
    .map_err(|e| e.to_string())?;
    let mut r = BufReader::new(s);
    let mut status = String::new();
    r.read_line(&mut status).map_err(|e| e.to_string())?;
    let mut header = String::new();
    loop {
        header.clear();
        if r.read_line(&mut header).map_err(|e| e.to_string())? == 0 || header == "\r\n" {
            break;
        }
    }
    if status.split_whitespace().nth(1) != Some("200") {
        let mut body = String::new();
        let _ = std::io::Read::read_to_string(&mut r, &mut body);
        return Err(format!(
            "{}: {} {}",
            args.monitor,
            status.trim(),
            body.trim()
        ));
    }
    eprintln!("logferry tap: attached to {}{}", args.monitor, path(args));
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut line = String::new();
    let mut n = 0u64;
    while args.count.is_none_or(|c| n < c) {
        line.clear();
        if r.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            break;
        }
        if out
            .write_all(line.as_bytes())
            .and_then(|_| out.flush())
            .is_err()
        {
            break;
        }
        n += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_path_encodes_patterns() {
        let a = TapArgs {
            monitor: "127.0.0.1:24220".into(),
            id: None,
            tag: Some("app.{a,b}.**".into()),
            sample: 10,
            rate: 5.0,
            count: None,
        };
        assert_eq!(
            path(&a),
            "/api/tap?tag=app.%7Ba%2Cb%7D.%2A%2A&sample=10&rate=5"
        );
    }
}
