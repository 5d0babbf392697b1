//! Counting sinks: an HTTP/1.1 server (NDJSON or JSON array bodies, gzip or plain) and a forward
//! server (every mode, acks). Each runs on its own threads and only counts — and, for the soak
//! test, the HTTP sink can append the `seq` of every event to a file before it answers 200.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use logferry_forward::{Decoder, DecoderOptions, EventTime, Frame, Mode};

/// What a sink received.
#[derive(Default, Debug)]
pub struct Counter {
    /// Events (NDJSON lines, JSON array items, forward entries).
    pub events: AtomicU64,
    /// HTTP requests or forward frames.
    pub requests: AtomicU64,
    /// Bytes on the wire (HTTP bodies as sent, forward frames).
    pub bytes: AtomicU64,
    /// Malformed requests or frames, failed connections.
    pub errors: AtomicU64,
    /// Forward frames per mode: Message, Forward, PackedForward, CompressedPackedForward.
    pub modes: [AtomicU64; 4],
    /// Forward acks sent.
    pub acks: AtomicU64,
    /// HTTP bodies that were gzip.
    pub gzip: AtomicU64,
    /// Where the HTTP sink appends the `seq` of every event (u64 little-endian), written before
    /// the request is answered, so an event it acknowledged is on record even if it is killed.
    pub ids: Option<Mutex<std::fs::File>>,
    /// Events whose `seq` was recorded (with `ids`).
    pub seqs: AtomicU64,
}

impl Counter {
    pub fn events(&self) -> u64 {
        self.events.load(Relaxed)
    }
    pub fn errors(&self) -> u64 {
        self.errors.load(Relaxed)
    }
    pub fn summary(&self) -> String {
        let m: Vec<u64> = self.modes.iter().map(|m| m.load(Relaxed)).collect();
        format!(
            "events={} requests={} bytes={} errors={} gzip_bodies={} acks={} modes[msg,fwd,packed,compressed]={:?}{}",
            self.events(),
            self.requests.load(Relaxed),
            self.bytes.load(Relaxed),
            self.errors(),
            self.gzip.load(Relaxed),
            self.acks.load(Relaxed),
            m,
            match self.ids {
                Some(_) => format!(" seqs={}", self.seqs.load(Relaxed)),
                None => String::new(),
            }
        )
    }
}

fn accept_loop(l: TcpListener, c: Arc<Counter>, handle: fn(TcpStream, &Counter) -> io::Result<()>) {
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { continue };
            let c = c.clone();
            std::thread::spawn(move || {
                let _ = s.set_nodelay(true);
                if handle(s, &c).is_err() {
                    c.errors.fetch_add(1, Relaxed);
                }
            });
        }
    });
}

/// Serve HTTP on `l`, counting events into `c`.
pub fn http(l: TcpListener, c: Arc<Counter>) {
    accept_loop(l, c, http_conn);
}

/// Serve forward on `l`, counting events into `c`.
pub fn forward(l: TcpListener, c: Arc<Counter>) {
    accept_loop(l, c, forward_conn);
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_string())
}

fn http_conn(s: TcpStream, c: &Counter) -> io::Result<()> {
    let mut w = s.try_clone()?;
    let mut r = BufReader::with_capacity(1 << 16, s);
    let mut line = String::new();
    let mut body = Vec::new();
    let mut plain = Vec::new();
    let mut ids = Vec::new();
    let mut raw = Vec::new();
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Ok(()); // client closed between requests
        }
        if line.trim().is_empty() {
            continue;
        }
        let (mut len, mut gzip, mut chunked, mut close) = (0usize, false, false, false);
        loop {
            line.clear();
            if r.read_line(&mut line)? == 0 {
                return Err(bad("EOF in headers"));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let Some((k, v)) = l.split_once(':') else {
                return Err(bad("bad header"));
            };
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_ascii_lowercase());
            match k.as_str() {
                "content-length" => len = v.parse().map_err(|_| bad("bad content-length"))?,
                "content-encoding" => gzip = v == "gzip",
                "transfer-encoding" => chunked = v.contains("chunked"),
                "connection" => close = v == "close",
                _ => {}
            }
        }
        body.clear();
        if chunked {
            loop {
                line.clear();
                r.read_line(&mut line)?;
                let n = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|_| bad("bad chunk size"))?;
                let start = body.len();
                body.resize(start + n, 0);
                r.read_exact(&mut body[start..])?;
                line.clear();
                r.read_line(&mut line)?;
                if n == 0 {
                    break;
                }
            }
        } else {
            body.resize(len, 0);
            r.read_exact(&mut body)?;
        }
        c.bytes.fetch_add(body.len() as u64, Relaxed);
        let text: &[u8] = if gzip {
            c.gzip.fetch_add(1, Relaxed);
            plain.clear();
            flate2::read::MultiGzDecoder::new(&body[..]).read_to_end(&mut plain)?;
            &plain
        } else {
            &body
        };
        let n = count_events(text).ok_or_else(|| bad("body is neither NDJSON nor a JSON array"))?;
        if let Some(f) = &c.ids {
            ids.clear();
            seqs(text, &mut ids);
            if ids.len() as u64 != n {
                return Err(bad("an event without a \"seq\""));
            }
            raw.clear();
            for id in &ids {
                raw.extend_from_slice(&id.to_le_bytes());
            }
            // One unbuffered write: in the page cache (so on record) before the answer.
            f.lock().unwrap().write_all(&raw)?;
            c.seqs.fetch_add(n, Relaxed);
        }
        c.events.fetch_add(n, Relaxed);
        c.requests.fetch_add(1, Relaxed);
        w.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")?;
        if close {
            return Ok(());
        }
    }
}

/// Events in a body: items of a JSON array, else non-blank NDJSON lines (each must look like a
/// JSON object).
fn count_events(text: &[u8]) -> Option<u64> {
    let first = text.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        let v: serde_json::Value = serde_json::from_slice(text).ok()?;
        return Some(v.as_array()?.len() as u64);
    }
    // Lines found with memchr (SIMD): the sink must cost far less than the router it measures.
    let mut n = 0;
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', text).chain(std::iter::once(text.len())) {
        let l = text[start..end].trim_ascii();
        start = end + 1;
        if l.is_empty() {
            continue;
        }
        if l.first() != Some(&b'{') || l.last() != Some(&b'}') {
            return None;
        }
        n += 1;
    }
    Some(n)
}

/// The `seq` of every event of a body: every `"seq":` key followed by digits. A `seq` inside a
/// JSON string (the raw `log` line) is escaped (`\"seq\":`) and not matched.
pub fn seqs(text: &[u8], out: &mut Vec<u64>) {
    const KEY: &[u8] = b"\"seq\":";
    let mut i = 0;
    while let Some(p) = text[i..].windows(KEY.len()).position(|w| w == KEY) {
        let mut j = i + p + KEY.len();
        while text.get(j) == Some(&b' ') {
            j += 1;
        }
        let start = j;
        let mut v = 0u64;
        while let Some(d) = text.get(j).filter(|d| d.is_ascii_digit()) {
            v = v.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
            j += 1;
        }
        if j > start {
            out.push(v);
        }
        i = j;
    }
}

fn forward_conn(mut s: TcpStream, c: &Counter) -> io::Result<()> {
    let mut dec = Decoder::new(DecoderOptions::default());
    // Large reads: the sink shares the load tool's core and must cost far less than the router.
    let mut buf = vec![0u8; 1 << 20];
    let mut reply = Vec::new();
    loop {
        let n = s.read(&mut buf)?;
        if n == 0 {
            return if dec.buffered() == 0 {
                Ok(())
            } else {
                Err(bad("EOF inside a frame"))
            };
        }
        dec.feed(&buf[..n]).map_err(|e| bad(&e.to_string()))?;
        reply.clear();
        while let Some(f) = dec
            .next_frame(EventTime::now())
            .map_err(|e| bad(&e.to_string()))?
        {
            match f {
                Frame::Events(ev) => {
                    let m = match ev.mode {
                        Mode::Message => 0,
                        Mode::Forward => 1,
                        Mode::PackedForward => 2,
                        Mode::CompressedPackedForward => 3,
                    };
                    c.modes[m].fetch_add(1, Relaxed);
                    c.requests.fetch_add(1, Relaxed);
                    c.bytes.fetch_add(ev.wire_size as u64, Relaxed);
                    c.events.fetch_add(ev.count as u64, Relaxed);
                    if ev.invalid > 0 {
                        c.errors.fetch_add(ev.invalid as u64, Relaxed);
                    }
                    if let Some(ack) = &ev.ack {
                        dec.encode_ack(ack, &mut reply);
                        c.acks.fetch_add(1, Relaxed);
                    }
                }
                Frame::Heartbeat => {}
                Frame::NotArray | Frame::TooLarge { .. } => {
                    c.errors.fetch_add(1, Relaxed);
                }
            }
        }
        if !reply.is_empty() {
            s.write_all(&reply)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_ndjson_and_arrays() {
        assert_eq!(count_events(b"{\"a\":1}\n{\"b\":2}\n"), Some(2));
        assert_eq!(count_events(b"[{\"a\":1},{\"b\":2},{}]"), Some(3));
        assert_eq!(count_events(b"nope\n"), None);
    }

    #[test]
    fn finds_seqs_but_not_escaped_ones() {
        let body = br#"{"seq":12,"log":"{\"seq\":12,\"a\":1}","x":"y"}
{"log":"{\"seq\":99}","seq": 1099511627776}
[{"seq":3}]"#;
        let mut v = Vec::new();
        seqs(body, &mut v);
        assert_eq!(v, [12, 1 << 40, 3]);
    }

    #[test]
    fn forward_sink_counts_every_mode_and_acks() {
        use logferry_forward::encode::{self, Compression};
        use std::time::{Duration, Instant};

        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let c = Arc::new(Counter::default());
        forward(l, c.clone());
        let rec = [0x81, 0xa1, b'a', 0x01]; // {"a": 1}
        let mut entries = Vec::new();
        for _ in 0..3 {
            entries.push(0x92);
            EventTime::new(1_700_000_000, 0).encode(&mut entries);
            entries.extend_from_slice(&rec);
        }
        let mut out = Vec::new();
        encode::message(
            "t",
            EventTime::new(1_700_000_000, 0),
            &rec,
            Some("m"),
            &mut out,
        );
        encode::forward("t", &entries, 3, Some("f"), &mut out);
        encode::packed_forward("t", &entries, 3, Some("p"), Compression::Text, &mut out);
        encode::packed_forward("t", &entries, 3, None, Compression::Gzip, &mut out);
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(&out).unwrap();
        let mut acks = Vec::new();
        let mut buf = [0u8; 256];
        while acks.len() < 3 {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0);
            let mut rest = &buf[..n];
            while let Ok(len) = logferry_msgpack::value_len(rest) {
                acks.push(encode::parse_ack(&rest[..len]).unwrap());
                rest = &rest[len..];
            }
        }
        assert_eq!(acks, [b"m".to_vec(), b"f".to_vec(), b"p".to_vec()]);
        let t = Instant::now();
        while c.events() < 10 && t.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(c.events(), 10);
        let modes: Vec<u64> = c.modes.iter().map(|m| m.load(Relaxed)).collect();
        assert_eq!(modes, [1, 1, 1, 1]);
        assert_eq!(c.errors(), 0);
    }
}
