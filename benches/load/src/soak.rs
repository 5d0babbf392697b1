//! The soak test's pieces (`tests/soak/run.sh`): an acknowledged sender whose every event carries
//! a unique `seq` and that rides through router restarts (it reconnects and resends every chunk
//! not yet acknowledged, as Fluentd's out_forward with `require_ack_response`), and the final
//! account of the acknowledged seqs against the seqs the HTTP sink recorded.
//!
//! A seq is `conn << 40 | k`: the `k`th event of sending connection `conn`. Every connection
//! sends `k = 0, 1, 2, …` in order, so what it sent is `0..sent` and what it acknowledged is that
//! minus the chunks still unacknowledged at the end (listed in the report).

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use logferry_forward::encode;
use logferry_msgpack::value_len;
use serde_json::{json, Value};

use crate::gen;

/// Bits of a seq that number the events of one connection.
const K_BITS: u32 = 40;
/// A connection with chunks in flight and no ack for this long is dropped and its chunks resent.
const ACK_TIMEOUT: Duration = Duration::from_secs(30);

/// The seq of the `k`th event of connection `conn`.
pub fn seq(conn: u64, k: u64) -> u64 {
    conn << K_BITS | k
}

/// What `soak-send` does.
pub struct SendOpts {
    pub port: u16,
    pub tag: String,
    pub conns: u64,
    /// Events/s over all connections.
    pub rate: f64,
    pub batch: usize,
    pub record_size: usize,
    /// Chunks in flight per connection.
    pub ack_window: usize,
    /// Send new chunks for this long.
    pub duration: Duration,
    /// Then wait at most this long for the last acks.
    pub drain_timeout: Duration,
    pub report: PathBuf,
}

struct Chunk {
    id: String,
    frame: Vec<u8>,
    first: u64,
    n: u64,
}

/// One connection's account.
#[derive(Default)]
struct ConnReport {
    conn: u64,
    /// Events sent: k in `0..sent`.
    sent: u64,
    acked: u64,
    /// `(first k, n)` of the chunks never acknowledged.
    unacked: Vec<(u64, u64)>,
    /// Connections after the first.
    reconnects: u64,
    /// Chunks written again on a new connection.
    resent_chunks: u64,
    /// Acks that matched no chunk in flight.
    stray_acks: u64,
}

fn connect(port: u16) -> Option<TcpStream> {
    let s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    let _ = s.set_nodelay(true);
    Some(s)
}

fn run_conn(o: &SendOpts, conn: u64, t0: Instant) -> ConnReport {
    let mut r = ConnReport {
        conn,
        ..ConnReport::default()
    };
    let stop_at = t0 + o.duration;
    let give_up = stop_at + o.drain_timeout;
    let per_s = (o.rate / o.conns as f64).max(1e-3);
    let batch = o.batch.max(1) as u64;
    let mut pending: VecDeque<Chunk> = VecDeque::new();
    let mut stream: Option<TcpStream> = None;
    let mut connected_once = false;
    let mut rbuf = Vec::new();
    let mut tmp = [0u8; 4096];
    let mut due = t0;
    let mut chunk_no = 0u64;
    let mut last_ack = Instant::now();
    loop {
        let now = Instant::now();
        let sending = now < stop_at;
        if !sending && pending.is_empty() {
            break;
        }
        if now >= give_up {
            break;
        }
        let s = match &mut stream {
            Some(s) => s,
            None => {
                let Some(mut s) = connect(o.port) else {
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                };
                if connected_once {
                    r.reconnects += 1;
                }
                connected_once = true;
                rbuf.clear();
                last_ack = Instant::now();
                // Everything not acknowledged goes again, in order, on the new connection.
                if pending.iter().any(|c| s.write_all(&c.frame).is_err()) {
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
                r.resent_chunks += pending.len() as u64;
                stream.insert(s)
            }
        };
        // Send what is due, within the window.
        let mut broken = false;
        while sending && pending.len() < o.ack_window.max(1) && Instant::now() >= due {
            let id = format!("{:06x}{chunk_no:010x}", conn & 0xff_ffff);
            chunk_no += 1;
            let first = seq(conn, r.sent);
            let frame = gen::seq_frame(&o.tag, first, batch as usize, o.record_size, &id);
            pending.push_back(Chunk {
                id,
                frame,
                first: r.sent,
                n: batch,
            });
            r.sent += batch;
            due += Duration::from_secs_f64(batch as f64 / per_s);
            // No burst to catch up after an outage: at most a second behind.
            let now = Instant::now();
            if due + Duration::from_secs(1) < now {
                due = now;
            }
            if pending.len() == 1 {
                last_ack = now;
            }
            if s.write_all(&pending.back().unwrap().frame).is_err() {
                broken = true;
                break;
            }
        }
        if broken {
            stream = None;
            continue;
        }
        // Read acks until the next chunk is due (at most 100 ms).
        let wait = if sending && pending.len() < o.ack_window.max(1) {
            due.saturating_duration_since(Instant::now())
                .clamp(Duration::from_millis(1), Duration::from_millis(100))
        } else {
            Duration::from_millis(100)
        };
        let _ = s.set_read_timeout(Some(wait));
        match s.read(&mut tmp) {
            Ok(0) => stream = None,
            Ok(n) => {
                rbuf.extend_from_slice(&tmp[..n]);
                let mut pos = 0;
                while let Ok(len) = value_len(&rbuf[pos..]) {
                    let obj = &rbuf[pos..pos + len];
                    pos += len;
                    let found = encode::parse_ack(obj)
                        .and_then(|id| pending.iter().position(|c| c.id.as_bytes() == id));
                    match found {
                        Some(i) => {
                            let c = pending.remove(i).unwrap();
                            r.acked += c.n;
                            last_ack = Instant::now();
                        }
                        None => r.stray_acks += 1,
                    }
                }
                rbuf.drain(..pos);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                if !pending.is_empty() && last_ack.elapsed() > ACK_TIMEOUT {
                    stream = None;
                }
            }
            Err(_) => stream = None,
        }
    }
    r.unacked = pending.iter().map(|c| (c.first, c.n)).collect();
    r
}

/// Send for `o.duration`, drain, write the report; Ok(true) when every event was acknowledged.
pub fn send(o: &SendOpts) -> Result<bool, String> {
    let t0 = Instant::now();
    let reports: Vec<ConnReport> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..o.conns.max(1))
            .map(|c| sc.spawn(move || run_conn(o, c, t0)))
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let secs = t0.elapsed().as_secs_f64();
    let sent: u64 = reports.iter().map(|r| r.sent).sum();
    let acked: u64 = reports.iter().map(|r| r.acked).sum();
    let reconnects: u64 = reports.iter().map(|r| r.reconnects).sum();
    let resent: u64 = reports.iter().map(|r| r.resent_chunks).sum();
    let stray: u64 = reports.iter().map(|r| r.stray_acks).sum();
    let v = json!({
        "seconds": secs,
        "sent": sent,
        "acked": acked,
        "conns": reports.iter().map(|r| json!({
            "conn": r.conn,
            "sent": r.sent,
            "acked": r.acked,
            "unacked": r.unacked,
            "reconnects": r.reconnects,
            "resent_chunks": r.resent_chunks,
            "stray_acks": r.stray_acks,
        })).collect::<Vec<_>>(),
    });
    if let Some(dir) = o.report.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(&o.report, serde_json::to_vec_pretty(&v).unwrap())
        .map_err(|e| format!("{}: {e}", o.report.display()))?;
    println!(
        "soak-send: sent {sent} events in {secs:.1}s, acknowledged {acked}, {reconnects} reconnect(s), {resent} chunk(s) resent, {stray} stray ack(s)"
    );
    Ok(acked == sent)
}

/// The final account of `soak-report`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Account {
    /// Events acknowledged to the sender.
    pub acked: u64,
    /// Events sent but never acknowledged (sender gave up).
    pub unacked: u64,
    /// Seq records in the sink files (every delivery, repeats included).
    pub received: u64,
    /// Distinct sent seqs the sink recorded.
    pub distinct: u64,
    /// Deliveries beyond the first of a seq.
    pub duplicates: u64,
    /// Acknowledged seqs the sink never recorded.
    pub lost: u64,
    /// Unacknowledged seqs the sink recorded anyway.
    pub unacked_received: u64,
    /// Seqs the sender never sent.
    pub unknown: u64,
    /// A few lost seqs.
    pub first_lost: Vec<u64>,
}

/// Compare a `soak-send` report with the sink's seq files.
pub fn account(report: &Path, ids: &[PathBuf]) -> Result<Account, String> {
    let text = std::fs::read(report).map_err(|e| format!("{}: {e}", report.display()))?;
    let v: Value =
        serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", report.display()))?;
    let conns = v["conns"].as_array().ok_or("report without conns")?;
    let num = |v: &Value| v.as_u64().ok_or_else(|| format!("not a number: {v}"));
    // Per connection: a delivery count per k (saturating), and which ks were acknowledged.
    let mut counts: Vec<Vec<u8>> = Vec::new();
    let mut acked_k: Vec<Vec<bool>> = Vec::new();
    for c in conns {
        let (conn, sent) = (num(&c["conn"])? as usize, num(&c["sent"])? as usize);
        if counts.len() <= conn {
            counts.resize(conn + 1, Vec::new());
            acked_k.resize(conn + 1, Vec::new());
        }
        counts[conn] = vec![0; sent];
        acked_k[conn] = vec![true; sent];
        for u in c["unacked"].as_array().into_iter().flatten() {
            let (first, n) = (num(&u[0])? as usize, num(&u[1])? as usize);
            let end = (first + n).min(sent);
            if first < end {
                acked_k[conn][first..end].fill(false);
            }
        }
    }
    let mut a = Account::default();
    let mask = (1u64 << K_BITS) - 1;
    for p in ids {
        let data = match std::fs::read(p) {
            Ok(d) => d,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("{}: {e}", p.display())),
        };
        // A sink killed mid-write may leave a torn last record: only whole ones count.
        for b in data.chunks_exact(8) {
            let id = u64::from_le_bytes(b.try_into().unwrap());
            a.received += 1;
            let (conn, k) = ((id >> K_BITS) as usize, (id & mask) as usize);
            match counts.get_mut(conn).and_then(|c| c.get_mut(k)) {
                Some(n) => *n = n.saturating_add(1),
                None => a.unknown += 1,
            }
        }
    }
    for (conn, (cs, ak)) in counts.iter().zip(&acked_k).enumerate() {
        for (k, (&n, &acked)) in cs.iter().zip(ak).enumerate() {
            if acked {
                a.acked += 1;
            } else {
                a.unacked += 1;
            }
            if n > 0 {
                a.distinct += 1;
                if !acked {
                    a.unacked_received += 1;
                }
            } else if acked {
                a.lost += 1;
                if a.first_lost.len() < 10 {
                    a.first_lost.push(seq(conn as u64, k as u64));
                }
            }
        }
    }
    a.duplicates = a.received - a.unknown - a.distinct;
    Ok(a)
}

impl Account {
    pub fn print(&self) {
        println!("events acknowledged (in):         {}", self.acked);
        println!("distinct events received (out):   {}", self.distinct);
        println!(
            "duplicates:                       {} ({} deliveries recorded by the sink)",
            self.duplicates, self.received
        );
        println!("loss (acked, never received):     {}", self.lost);
        if self.unacked > 0 || self.unacked_received > 0 {
            println!(
                "sent, never acknowledged:         {} ({} of them received)",
                self.unacked, self.unacked_received
            );
        }
        if self.unknown > 0 {
            println!("unknown seqs at the sink:         {}", self.unknown);
        }
        if !self.first_lost.is_empty() {
            let ids: Vec<String> = self
                .first_lost
                .iter()
                .map(|s| format!("conn {} k {}", s >> K_BITS, s & ((1 << K_BITS) - 1)))
                .collect();
            println!("first lost:                       {}", ids.join(", "));
        }
    }

    /// No acknowledged event lost and nothing at the sink that was never sent.
    pub fn ok(&self) -> bool {
        self.lost == 0 && self.unknown == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_counts_loss_duplicates_and_unacked() {
        let dir = std::env::temp_dir().join(format!("logferry-soak-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let report = dir.join("report.json");
        let v = json!({"conns": [
            {"conn": 0, "sent": 4, "unacked": []},
            {"conn": 1, "sent": 4, "unacked": [[2, 2]]},
        ]});
        std::fs::write(&report, v.to_string()).unwrap();
        let ids: Vec<u64> = vec![
            seq(0, 0),
            seq(0, 1),
            seq(0, 1),
            seq(0, 3),
            seq(1, 0),
            seq(1, 1),
            seq(1, 2),
            seq(2, 0),
        ];
        let raw: Vec<u8> = ids.iter().flat_map(|i| i.to_le_bytes()).collect();
        std::fs::write(dir.join("a.bin"), &raw[..raw.len() - 3]).unwrap();
        std::fs::write(dir.join("b.bin"), seq(2, 0).to_le_bytes()).unwrap();
        let a = account(
            &report,
            &[dir.join("a.bin"), dir.join("b.bin"), dir.join("none.bin")],
        )
        .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            a,
            Account {
                acked: 6,
                unacked: 2,
                received: 8,
                distinct: 6,
                duplicates: 1,
                lost: 1,
                unacked_received: 1,
                unknown: 1,
                first_lost: vec![seq(0, 2)],
            }
        );
        assert!(!a.ok());
    }
}
