//! `logferry --send TAG JSON`: send one event to a forward input and wait for its ack.
//!
//! A first event needs nothing but the binary (no Python fluent-logger, no Docker), and a deployed
//! daemon can be probed from inside its own distroless image (`docker exec … logferry --send …`).
//! The event goes out in Message mode with a `chunk` option, so the receiver acks it once its
//! router accepted it: exit 0 means the event is in the receiver's pipeline.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use logferry_forward::encode;
use logferry_msgpack::{json_to_msgpack, value_len, EventTime, Reader};

/// How long to keep trying to connect (a daemon started a moment ago may not listen yet) and to
/// wait for the ack.
const DEADLINE: Duration = Duration::from_secs(10);

/// Pause between connection attempts while nothing listens.
const RETRY_EVERY: Duration = Duration::from_millis(100);

/// The destination when `--to` is not given: the port the shipped configs listen on.
pub fn default_destination() -> String {
    let port = std::env::var("LOGFERRY_PORT")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "24224".to_string());
    format!("127.0.0.1:{port}")
}

/// Sends the event, waits for the ack and reports on stderr; exit 0 once acknowledged.
pub fn run(tag: &str, json: &str, to: &str) -> ExitCode {
    match send(tag, json, to) {
        Ok(()) => {
            eprintln!("logferry: 1 event sent to {to} and acknowledged");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("logferry: --send to {to}: {e}");
            ExitCode::from(1)
        }
    }
}

fn send(tag: &str, json: &str, to: &str) -> Result<(), String> {
    let frame = frame(tag, json, &chunk_id())?;
    let deadline = Instant::now() + DEADLINE;
    let mut conn = connect(to, deadline)?;
    conn.write_all(&frame.bytes)
        .map_err(|e| format!("cannot send: {e}"))?;
    let reply = read_reply(&mut conn, deadline)?;
    if is_helo(&reply) {
        return Err(
            "the receiver requires authentication (<security> shared_key): \
            --send does not authenticate; send to an input without <security>"
                .to_string(),
        );
    }
    match encode::parse_ack(&reply) {
        Some(ack) if ack == frame.chunk.as_bytes() => Ok(()),
        _ => Err("the receiver answered something other than the ack of the event".to_string()),
    }
}

/// The encoded event and the chunk id its ack must echo.
#[derive(Debug)]
struct Frame {
    bytes: Vec<u8>,
    chunk: String,
}

/// `[tag, now, record, {"chunk": id}]`; the record must be a JSON object.
fn frame(tag: &str, json: &str, chunk: &str) -> Result<Frame, String> {
    if tag.is_empty() {
        return Err("the tag is empty".to_string());
    }
    let record: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("the record is not JSON: {e}"))?;
    if !record.is_object() {
        return Err(format!(
            "the record must be a JSON object such as '{{\"message\":\"hello\"}}', got {json}"
        ));
    }
    let mut raw = Vec::new();
    json_to_msgpack(&record, &mut raw);
    let mut bytes = Vec::new();
    encode::message(tag, EventTime::now(), &raw, Some(chunk), &mut bytes);
    Ok(Frame {
        bytes,
        chunk: chunk.to_string(),
    })
}

/// A chunk id unique enough for one event: the time and the process id.
fn chunk_id() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos();
    format!("logferry-send-{:x}-{nanos:x}", std::process::id())
}

/// Connects to the first address of `to` that answers, retrying refused connections until
/// `deadline` (the daemon may be starting).
fn connect(to: &str, deadline: Instant) -> Result<TcpStream, String> {
    let addrs: Vec<SocketAddr> = to
        .to_socket_addrs()
        .map_err(|e| format!("not a HOST:PORT address: {e}"))?
        .collect();
    if addrs.is_empty() {
        return Err("the name resolves to no address".to_string());
    }
    loop {
        let mut last = None;
        for addr in &addrs {
            let left = deadline.saturating_duration_since(Instant::now());
            match TcpStream::connect_timeout(addr, left.max(Duration::from_millis(1))) {
                Ok(s) => {
                    s.set_read_timeout(Some(left.max(Duration::from_millis(1))))
                        .map_err(|e| format!("cannot set a read timeout: {e}"))?;
                    return Ok(s);
                }
                Err(e) => last = Some(e),
            }
        }
        let e = last.map_or_else(|| "no address".to_string(), |e| e.to_string());
        if Instant::now() + RETRY_EVERY >= deadline {
            return Err(format!(
                "cannot connect within {} s: {e} (is logferry running with a forward input there?)",
                DEADLINE.as_secs()
            ));
        }
        std::thread::sleep(RETRY_EVERY);
    }
}

/// Reads one msgpack value (the ack, or a HELO) from the connection.
fn read_reply(conn: &mut TcpStream, deadline: Instant) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match value_len(&buf) {
            Ok(n) => {
                buf.truncate(n);
                return Ok(buf);
            }
            Err(logferry_msgpack::Error::Incomplete) => {}
            Err(e) => return Err(format!("the receiver's answer is not msgpack: {e}")),
        }
        if Instant::now() >= deadline {
            return Err("no ack within 10 s".to_string());
        }
        match conn.read(&mut chunk) {
            Ok(0) => {
                return Err("the receiver closed the connection without an ack: \
                    it refused the event (see its log)"
                    .to_string())
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(format!("no ack within {} s", DEADLINE.as_secs()))
            }
            Err(e) => return Err(format!("reading the ack: {e}")),
        }
    }
}

/// Whether the reply is the server's `["HELO", options]` of the shared-key handshake.
fn is_helo(reply: &[u8]) -> bool {
    let mut r = Reader::new(reply);
    r.read_array_len().is_ok() && r.read_str().ok() == Some(&b"HELO"[..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_is_a_message_with_a_chunk_option() {
        let f = frame("app.test", r#"{"hello":"world","n":1}"#, "c1").unwrap();
        let mut r = Reader::new(&f.bytes);
        assert_eq!(r.read_array_len().unwrap(), 4);
        assert_eq!(r.read_str().unwrap(), b"app.test");
        r.read_raw().unwrap(); // the EventTime
        let record = r.read_raw().unwrap();
        let mut json = Vec::new();
        logferry_msgpack::write_json(record, &mut json).unwrap();
        assert_eq!(
            std::str::from_utf8(&json).unwrap(),
            r#"{"hello":"world","n":1}"#
        );
        let mut opt = Reader::new(r.read_raw().unwrap());
        assert_eq!(opt.read_map_len().unwrap(), 1);
        assert_eq!(opt.read_str().unwrap(), b"chunk");
        assert_eq!(opt.read_str().unwrap(), b"c1");
        assert_eq!(f.chunk, "c1");
    }

    #[test]
    fn bad_records_and_tags_are_refused() {
        assert!(frame("t", "[1]", "c").unwrap_err().contains("JSON object"));
        assert!(frame("t", "{", "c").unwrap_err().contains("not JSON"));
        assert!(frame("", "{}", "c").unwrap_err().contains("tag is empty"));
    }

    #[test]
    fn helo_is_recognised() {
        let mut helo = Vec::new();
        logferry_msgpack::write::array_len(&mut helo, 2);
        logferry_msgpack::write::str(&mut helo, "HELO");
        logferry_msgpack::write::map_len(&mut helo, 0);
        assert!(is_helo(&helo));
        let mut ack = Vec::new();
        logferry_msgpack::write::map_len(&mut ack, 1);
        logferry_msgpack::write::str(&mut ack, "ack");
        logferry_msgpack::write::str(&mut ack, "c");
        assert!(!is_helo(&ack));
    }
}
