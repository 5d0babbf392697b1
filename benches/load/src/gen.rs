//! Load generation: Docker-shaped records pre-encoded as PackedForward frames, sent over several
//! connections with optional acks (a window of chunks in flight) and an optional rate cap.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use logferry_forward::encode::{self, Compression};
use logferry_msgpack::{value_len, write, EventTime};

/// Length of the per-send chunk id patched into the last bytes of an acked frame.
const ID_LEN: usize = 16;
/// Distinct pre-encoded frames cycled by the senders.
const DISTINCT_FRAMES: usize = 8;
/// How long a full ack window may wait for one ack.
const ACK_TIMEOUT: Duration = Duration::from_secs(60);

const NAMES: [&str; 4] = [
    "/delish-web-1",
    "/delish-api-2",
    "/delish-worker-3",
    "/delish-cron-4",
];
const LOG_TYPES: [&str; 4] = ["EVENT", "EVENT", "ACCESS", "DEBUG"];
const EVENT_TYPES: [&str; 4] = ["recipe_view", "recipe_save", "user_signup", "search_query"];

/// One Docker fluentd-log-driver record (`container_id`, `container_name`, `source`, `log`), the
/// `log` being a JSON application line with `log_type`, padded so the msgpack record is about
/// `size` bytes (never less than the unpadded record, ~260 bytes).
pub fn docker_record(i: usize, size: usize) -> Vec<u8> {
    docker_record_seq(i, size, None)
}

/// [`docker_record`] whose `log` line starts with `"seq":N` (the parser filter lifts it into the
/// record, so a sink can tell every event apart).
pub fn docker_record_seq(i: usize, size: usize, seq: Option<u64>) -> Vec<u8> {
    let seq = seq.map_or(String::new(), |s| format!("\"seq\":{s},"));
    let build = |pad: usize| {
        let log = format!(
            "{{{seq}\"log_type\":\"{}\",\"event_type\":\"{}\",\"time\":\"2024-03-05T10:20:{:02}Z\",\"recipe_id\":{},\"user\":\"u{}\",\"ms\":{},\"msg\":\"{}\"}}",
            LOG_TYPES[i % 4],
            EVENT_TYPES[(i / 4) % 4],
            i % 60,
            1000 + i % 100_000,
            i % 997,
            i % 250,
            "request served ".repeat(pad / 15 + 1).get(..pad).unwrap_or("")
        );
        let mut out = Vec::with_capacity(size + 16);
        write::map_len(&mut out, 4);
        write::str(&mut out, "container_id");
        write::str(
            &mut out,
            "4f1c2d3e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d",
        );
        write::str(&mut out, "container_name");
        write::str(&mut out, NAMES[i % 4]);
        write::str(&mut out, "source");
        write::str(
            &mut out,
            if i.is_multiple_of(10) {
                "stderr"
            } else {
                "stdout"
            },
        );
        write::str(&mut out, "log");
        write::str(&mut out, &log);
        out
    };
    let base = build(0).len();
    let mut rec = build(size.saturating_sub(base));
    // A str header may grow by a byte or two past 31/255 bytes: trim the pad back.
    if rec.len() > size && size > base {
        rec = build((size - base).saturating_sub(rec.len() - size));
    }
    rec
}

/// Pre-encoded PackedForward frames of `batch` records each.
pub struct Frames {
    pub frames: Vec<Vec<u8>>,
    pub batch: usize,
    pub ack: bool,
    pub record_bytes: usize,
}

impl Frames {
    pub fn new(tag: &str, batch: usize, record_size: usize, ack: bool, gzip: bool) -> Frames {
        let now = EventTime::now();
        let mut record_bytes = 0;
        let frames = (0..DISTINCT_FRAMES)
            .map(|f| {
                let mut entries = Vec::with_capacity(batch * (record_size + 16));
                for j in 0..batch {
                    let rec = docker_record(f * batch + j, record_size);
                    record_bytes = record_bytes.max(rec.len());
                    write::array_len(&mut entries, 2);
                    EventTime::new(now.sec, j as u32).encode(&mut entries);
                    entries.extend_from_slice(&rec);
                }
                let mut out = Vec::with_capacity(entries.len() + 64);
                let id = "0".repeat(ID_LEN);
                let comp = if gzip {
                    Compression::Gzip
                } else {
                    Compression::Text
                };
                encode::packed_forward(
                    tag,
                    &entries,
                    batch,
                    ack.then_some(id.as_str()),
                    comp,
                    &mut out,
                );
                if ack {
                    assert!(out.ends_with(id.as_bytes()), "chunk id must end the frame");
                }
                out
            })
            .collect();
        Frames {
            frames,
            batch,
            ack,
            record_bytes,
        }
    }
}

/// RFC 3164 syslog lines over TCP, newline-framed (`<PRI>Mmm dd hh:mm:ss host app[pid]: msg`),
/// each about `line_size` bytes, `batch` lines per buffer (the `syslog-tcp` case). No acks: the
/// syslog protocol has none.
pub fn syslog_frames(batch: usize, line_size: usize) -> Frames {
    let mut record_bytes = 0;
    let frames = (0..DISTINCT_FRAMES)
        .map(|f| {
            let mut out = Vec::with_capacity(batch * (line_size + 1));
            for j in 0..batch {
                let i = f * batch + j;
                let head = format!(
                    "<{}>Mar  5 10:20:{:02} web-{} {}[{}]: ",
                    [134, 131, 14, 30][i % 4],
                    i % 60,
                    i % 16,
                    ["nginx", "sshd", "app", "cron"][i % 4],
                    1000 + i % 5000
                );
                let pad = line_size.saturating_sub(head.len() + 40);
                let line = format!(
                    "{head}request {i} served in {} ms for user u{} {}",
                    i % 250,
                    i % 997,
                    "x".repeat(pad)
                );
                record_bytes = record_bytes.max(line.len());
                out.extend_from_slice(line.as_bytes());
                out.push(b'\n');
            }
            out
        })
        .collect();
    Frames {
        frames,
        batch,
        ack: false,
        record_bytes,
    }
}

/// One PackedForward frame of `n` records with seqs `first..first + n` (see
/// [`docker_record_seq`]), acked with `id`.
pub fn seq_frame(tag: &str, first: u64, n: usize, record_size: usize, id: &str) -> Vec<u8> {
    let now = EventTime::now();
    let mut entries = Vec::with_capacity(n * (record_size + 16));
    for j in 0..n {
        let seq = first + j as u64;
        write::array_len(&mut entries, 2);
        EventTime::new(now.sec, now.nsec).encode(&mut entries);
        entries.extend_from_slice(&docker_record_seq(seq as usize, record_size, Some(seq)));
    }
    let mut out = Vec::with_capacity(entries.len() + 64);
    encode::packed_forward(tag, &entries, n, Some(id), Compression::Text, &mut out);
    out
}

/// What every sender adds to.
#[derive(Default)]
pub struct SendStats {
    /// Events written (without acks) or acknowledged (with acks).
    pub delivered: AtomicU64,
    /// Events written to a socket.
    pub written: AtomicU64,
    pub errors: AtomicU64,
}

/// One connection's job.
pub struct Job {
    pub addr: (String, u16),
    pub chunks: u64,
    pub ack_window: usize,
    /// Events per second for this connection.
    pub rate: Option<f64>,
    pub deadline: Option<Instant>,
    /// Distinguishes this connection's chunk ids.
    pub conn: u64,
}

/// Send `job.chunks` frames on one connection; returns an error text on failure.
pub fn send(job: Job, frames: Arc<Frames>, stats: Arc<SendStats>) -> Result<(), String> {
    let mut s = TcpStream::connect((job.addr.0.as_str(), job.addr.1))
        .map_err(|e| format!("connect: {e}"))?;
    let _ = s.set_nodelay(true);
    let batch = frames.batch as u64;
    let start = Instant::now();
    let acks = if frames.ack {
        Some(AckWindow::start(&s, batch, stats.clone())?)
    } else {
        None
    };
    let mut buf = Vec::new();
    let mut sent = 0u64;
    for n in 0..job.chunks {
        if job.deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        if let Some(rate) = job.rate {
            let due = start + Duration::from_secs_f64(sent as f64 / rate);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        let frame = &frames.frames[(n as usize + job.conn as usize) % frames.frames.len()];
        let data: &[u8] = match &acks {
            Some(w) => {
                let id = format!("{:06x}{:010x}", job.conn & 0xff_ffff, n);
                w.reserve(id.as_bytes(), job.ack_window)?;
                buf.clear();
                buf.extend_from_slice(frame);
                let at = buf.len() - ID_LEN;
                buf[at..].copy_from_slice(id.as_bytes());
                &buf
            }
            None => frame,
        };
        s.write_all(data).map_err(|e| format!("write: {e}"))?;
        sent += batch;
        stats.written.fetch_add(batch, Relaxed);
        if acks.is_none() {
            stats.delivered.fetch_add(batch, Relaxed);
        }
    }
    let res = match &acks {
        Some(w) => w.wait_empty(),
        None => Ok(()),
    };
    // Both halves: the ack reader's clone sees EOF too.
    let _ = s.shutdown(std::net::Shutdown::Both);
    res
}

struct AckState {
    pending: HashSet<Vec<u8>>,
    closed: Option<String>,
}

/// The chunk ids in flight on one connection, and the thread reading their acks.
struct AckWindow {
    state: Arc<(Mutex<AckState>, Condvar)>,
    done: Arc<AtomicBool>,
}

impl AckWindow {
    fn start(s: &TcpStream, batch: u64, stats: Arc<SendStats>) -> Result<AckWindow, String> {
        let mut r = s.try_clone().map_err(|e| e.to_string())?;
        let state = Arc::new((
            Mutex::new(AckState {
                pending: HashSet::new(),
                closed: None,
            }),
            Condvar::new(),
        ));
        let done = Arc::new(AtomicBool::new(false));
        let (st, dn) = (state.clone(), done.clone());
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let mut tmp = [0u8; 4096];
            let why = loop {
                let n = match r.read(&mut tmp) {
                    Ok(0) => break "connection closed by the router".to_string(),
                    Ok(n) => n,
                    Err(e) => break format!("read: {e}"),
                };
                buf.extend_from_slice(&tmp[..n]);
                let mut pos = 0;
                while let Ok(len) = value_len(&buf[pos..]) {
                    let obj = &buf[pos..pos + len];
                    pos += len;
                    let Some(id) = encode::parse_ack(obj) else {
                        stats.errors.fetch_add(1, Relaxed);
                        continue;
                    };
                    let (m, cv) = &*st;
                    let mut g = m.lock().unwrap();
                    if g.pending.remove(&id) {
                        stats.delivered.fetch_add(batch, Relaxed);
                    } else {
                        stats.errors.fetch_add(1, Relaxed);
                    }
                    cv.notify_all();
                }
                buf.drain(..pos);
            };
            let (m, cv) = &*st;
            if !dn.load(Relaxed) {
                m.lock().unwrap().closed = Some(why);
            }
            cv.notify_all();
        });
        Ok(AckWindow { state, done })
    }

    /// Wait for room in the window, then mark `id` in flight.
    fn reserve(&self, id: &[u8], window: usize) -> Result<(), String> {
        let (m, cv) = &*self.state;
        let mut g = m.lock().unwrap();
        let deadline = Instant::now() + ACK_TIMEOUT;
        while g.pending.len() >= window.max(1) {
            if let Some(why) = &g.closed {
                return Err(why.clone());
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(format!("no ack in {ACK_TIMEOUT:?}"));
            }
            g = cv.wait_timeout(g, deadline - now).unwrap().0;
        }
        if let Some(why) = &g.closed {
            return Err(why.clone());
        }
        g.pending.insert(id.to_vec());
        Ok(())
    }

    /// Wait until every chunk is acknowledged.
    fn wait_empty(&self) -> Result<(), String> {
        let (m, cv) = &*self.state;
        let mut g = m.lock().unwrap();
        let deadline = Instant::now() + ACK_TIMEOUT;
        while !g.pending.is_empty() {
            if let Some(why) = &g.closed {
                return Err(format!("{why} with {} chunk(s) unacked", g.pending.len()));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(format!(
                    "{} chunk(s) unacked after {ACK_TIMEOUT:?}",
                    g.pending.len()
                ));
            }
            g = cv.wait_timeout(g, deadline - now).unwrap().0;
        }
        self.done.store(true, Relaxed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_size_is_close() {
        for size in [300, 500, 1000, 4000] {
            let n = docker_record(7, size).len();
            assert!(n <= size && n + 4 >= size, "{size}: {n}");
        }
        assert!(docker_record(1, 0).len() > 200);
        let r = docker_record_seq(5, 300, Some(1 << 40 | 7));
        assert!(r.len() <= 300 && r.len() + 4 >= 300, "{}", r.len());
        let text = String::from_utf8_lossy(&r);
        assert!(
            text.contains("{\"seq\":1099511627783,\"log_type\":\"EVENT\""),
            "{text}"
        );
    }
}
