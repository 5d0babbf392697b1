//! Acknowledged forward load for the end-to-end tests: PackedForward frames of `{"seq":N}`
//! records, a client that resends until acked (as Fluentd's out_forward with
//! `require_ack_response`), and the seqs found in JSON-lines output files.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use logferry_forward::encode::{self, Compression};
use logferry_msgpack::{EventTime, Value};

use super::Daemon;

/// A PackedForward frame of `n` events `{"seq": from..from+n}` with `tag`, acked with `id`.
pub fn tagged(tag: &str, from: u64, n: u64, id: &str) -> Vec<u8> {
    padded(tag, from, n, id, 0)
}

/// [`tagged`] with a `"pad"` field of `pad` bytes in every record (0: none).
pub fn padded(tag: &str, from: u64, n: u64, id: &str, pad: usize) -> Vec<u8> {
    let mut entries = Vec::new();
    let filler = "x".repeat(pad);
    for s in from..from + n {
        entries.push(0x92);
        EventTime::new(1_700_000_000, 0).encode(&mut entries);
        let mut fields = vec![(Value::Str("seq".into()), Value::Int(s as i64))];
        if pad > 0 {
            fields.push((Value::Str("pad".into()), Value::Str(filler.clone())));
        }
        Value::Map(fields).encode(&mut entries);
    }
    let mut f = Vec::new();
    encode::packed_forward(
        tag,
        &entries,
        n as usize,
        Some(id),
        Compression::Text,
        &mut f,
    );
    f
}

/// Send one frame and wait for its ack; false when the connection failed or the ack was wrong.
pub fn send_and_ack(s: &mut TcpStream, frame: &[u8], id: &str) -> bool {
    if s.write_all(frame).is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    let mut got = Vec::new();
    loop {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                if logferry_msgpack::value_len(&got).is_ok() {
                    return got.ends_with(id.as_bytes());
                }
            }
        }
    }
}

/// A client that sends acked batches of `batch` events with tag `tag` until stopped,
/// reconnecting and resending an unacked batch. Returns the acked seqs (from `first` on).
pub fn acked_client_from(
    port: u16,
    tag: &str,
    first: u64,
    stop: Arc<AtomicBool>,
    batch: u64,
) -> thread::JoinHandle<BTreeSet<u64>> {
    acked_client_padded(port, tag, first, stop, batch, 0)
}

/// [`acked_client_from`] with records padded by `pad` bytes (see [`padded`]).
pub fn acked_client_padded(
    port: u16,
    tag: &str,
    first: u64,
    stop: Arc<AtomicBool>,
    batch: u64,
    pad: usize,
) -> thread::JoinHandle<BTreeSet<u64>> {
    let tag = tag.to_string();
    thread::spawn(move || {
        let mut acked = BTreeSet::new();
        let mut next = first;
        let mut conn: Option<TcpStream> = None;
        while !stop.load(Ordering::Relaxed) {
            let s = match &mut conn {
                Some(s) => s,
                None => match TcpStream::connect(("127.0.0.1", port)) {
                    Ok(s) => {
                        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
                        conn.insert(s)
                    }
                    Err(_) => {
                        thread::sleep(Duration::from_millis(20));
                        continue;
                    }
                },
            };
            let id = format!("b{next}");
            if send_and_ack(s, &padded(&tag, next, batch, &id, pad), &id) {
                acked.extend(next..next + batch);
                next += batch;
            } else {
                conn = None;
            }
        }
        acked
    })
}

/// [`acked_client_from`] with tag `load`, from seq 0.
pub fn acked_client(
    port: u16,
    stop: Arc<AtomicBool>,
    batch: u64,
) -> thread::JoinHandle<BTreeSet<u64>> {
    acked_client_from(port, "load", 0, stop, batch)
}

/// Every seq in the JSON-lines files `<dir>/<prefix>*` (with repeats counted); gzip files too.
pub fn delivered(dir: &Path, prefix: &str) -> BTreeMap<u64, u32> {
    let mut m = BTreeMap::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return m;
    };
    for e in rd {
        let p = e.unwrap().path();
        if !p.file_name().unwrap().to_string_lossy().starts_with(prefix) || p.is_dir() {
            continue;
        }
        let raw = std::fs::read(&p).unwrap();
        let text = if raw.starts_with(&[0x1f, 0x8b]) {
            // A member still being written ends early: what decoded so far counts.
            let mut s = Vec::new();
            let _ = flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut s);
            String::from_utf8_lossy(&s).into_owned()
        } else {
            String::from_utf8_lossy(&raw).into_owned()
        };
        // A reader can see a chunk half-appended (the page cache fills page by page): an
        // unterminated last line is not delivered yet.
        let complete = text.rfind('\n').map_or("", |i| &text[..i]);
        for line in complete.lines() {
            let v: serde_json::Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}: {line:?}: {e}", p.display()));
            *m.entry(v["seq"].as_u64().unwrap()).or_insert(0) += 1;
        }
    }
    m
}

/// Wait until every seq of `want` is in `<d.dir>/<prefix>*`; panics with the missing ones.
pub fn wait_delivered(
    d: &Daemon,
    prefix: &str,
    want: &BTreeSet<u64>,
    timeout: Duration,
) -> BTreeMap<u64, u32> {
    wait_delivered_in(d, d.dir.path(), prefix, want, timeout)
}

/// [`wait_delivered`] in another directory.
pub fn wait_delivered_in(
    d: &Daemon,
    dir: &Path,
    prefix: &str,
    want: &BTreeSet<u64>,
    timeout: Duration,
) -> BTreeMap<u64, u32> {
    let t = Instant::now();
    loop {
        let got = delivered(dir, prefix);
        if want.iter().all(|s| got.contains_key(s)) {
            return got;
        }
        if t.elapsed() > timeout {
            let missing: Vec<_> = want
                .iter()
                .filter(|s| !got.contains_key(s))
                .take(20)
                .collect();
            panic!(
                "{} acknowledged events missing (first: {missing:?}); log:\n{}",
                want.iter().filter(|s| !got.contains_key(s)).count(),
                d.stderr()
            );
        }
        thread::sleep(Duration::from_millis(50));
    }
}
