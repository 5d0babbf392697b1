//! The forward output end to end, sidecar → (relay) → aggregators, all logferry: acknowledged
//! events survive an aggregator killed mid-load, a load balancer that silently forgets idle
//! flows (as AWS NLB does after 350 s, here after 3 s), weights, standby failover, shared key and
//! TLS between the tiers.
//!
//! The relay is a small TCP proxy in this file: each accepted connection goes to a random backend,
//! or the next one that accepts (like an NLB's flow hash with health checks); in idle-drop mode a flow that was
//! quiet longer than the idle time is blackholed — its bytes are read and discarded, nothing is
//! closed or reset.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use support::*;

// ---------------------------------------------------------------------------------------------
// Relay

/// A TCP relay in front of backends.
struct Relay {
    port: u16,
    backends: Arc<Mutex<Vec<u16>>>,
    stop: Arc<AtomicBool>,
    /// Flows accepted.
    flows: Arc<AtomicUsize>,
    /// Flows blackholed after being idle.
    dropped: Arc<AtomicUsize>,
}

fn now_ms(start: Instant) -> u64 {
    start.elapsed().as_millis() as u64
}

/// Copy `from` → `to` until EOF; in idle-drop mode, once the flow was idle longer than `idle`,
/// discard everything (both directions share `last` and `dead`).
#[allow(clippy::too_many_arguments)]
fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    idle: Option<Duration>,
    last: Arc<AtomicU64>,
    dead: Arc<AtomicBool>,
    dropped: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    start: Instant,
) {
    from.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut buf = [0u8; 16384];
    while !stop.load(Ordering::Relaxed) {
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if let Some(idle) = idle {
                    let quiet = now_ms(start).saturating_sub(last.load(Ordering::Relaxed));
                    if quiet > idle.as_millis() as u64 && !dead.swap(true, Ordering::Relaxed) {
                        dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
                if dead.load(Ordering::Relaxed) {
                    continue; // blackholed: swallowed silently
                }
                last.store(now_ms(start), Ordering::Relaxed);
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => break,
        }
    }
    if dead.load(Ordering::Relaxed) {
        // A forgotten flow never tells anyone: keep both sockets open until the test ends.
        while !stop.load(Ordering::Relaxed) {
            let _ = from.read(&mut buf);
        }
        return;
    }
    let _ = to.shutdown(Shutdown::Write);
}

impl Relay {
    fn start(backends: Vec<u16>, idle: Option<Duration>) -> Relay {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        let relay = Relay {
            port: l.local_addr().unwrap().port(),
            backends: Arc::new(Mutex::new(backends)),
            stop: Arc::new(AtomicBool::new(false)),
            flows: Arc::new(AtomicUsize::new(0)),
            dropped: Arc::new(AtomicUsize::new(0)),
        };
        let (backends, stop, flows, dropped) = (
            relay.backends.clone(),
            relay.stop.clone(),
            relay.flows.clone(),
            relay.dropped.clone(),
        );
        thread::spawn(move || {
            let start = Instant::now();
            // Flow hashing, as an NLB does: effectively a random backend per connection.
            let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ u64::from(std::process::id());
            while !stop.load(Ordering::Relaxed) {
                let client = match l.accept() {
                    Ok((c, _)) => c,
                    Err(_) => {
                        thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                };
                client.set_nonblocking(false).unwrap();
                let ports = backends.lock().unwrap().clone();
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let first = (rng % ports.len().max(1) as u64) as usize;
                // That backend, or the next one that accepts (a load balancer routes around dead
                // targets).
                let mut upstream = None;
                for k in 0..ports.len() {
                    let p = ports[(first + k) % ports.len()];
                    if let Ok(s) = TcpStream::connect(("127.0.0.1", p)) {
                        upstream = Some(s);
                        break;
                    }
                }
                let Some(up) = upstream else {
                    drop(client);
                    continue;
                };
                flows.fetch_add(1, Ordering::Relaxed);
                let last = Arc::new(AtomicU64::new(now_ms(start)));
                let dead = Arc::new(AtomicBool::new(false));
                for (a, b) in [
                    (client.try_clone().unwrap(), up.try_clone().unwrap()),
                    (up, client),
                ] {
                    let (last, dead, dropped, stop) =
                        (last.clone(), dead.clone(), dropped.clone(), stop.clone());
                    thread::spawn(move || pump(a, b, idle, last, dead, dropped, stop, start));
                }
            }
        });
        relay
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

// ---------------------------------------------------------------------------------------------
// Clients and checks

/// Send one batch of seqs `from..from+n` and wait for its ack; false if it was not acknowledged.
fn send_batch(s: &mut TcpStream, tag: &str, from: u64, n: u64) -> bool {
    let id = format!("b{from}");
    support::acked::send_and_ack(s, &support::acked::tagged(tag, from, n, &id), &id)
}

/// Send `count` acked batches of `n` events starting at seq `from` to `port`; returns the acked
/// seqs (all of them, or the test fails).
fn send_acked(port: u16, tag: &str, from: u64, count: u64, n: u64) -> BTreeSet<u64> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut acked = BTreeSet::new();
    for b in 0..count {
        let start = from + b * n;
        assert!(send_batch(&mut s, tag, start, n), "batch {start} not acked");
        acked.extend(start..start + n);
    }
    acked
}

/// Sends acked batches until stopped, reconnecting and resending an unacked batch. Returns the
/// acked seqs.
fn load_client(port: u16, stop: Arc<AtomicBool>, n: u64) -> thread::JoinHandle<BTreeSet<u64>> {
    thread::spawn(move || {
        let mut acked = BTreeSet::new();
        let mut next = 0u64;
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
            if send_batch(s, "load", next, n) {
                acked.extend(next..next + n);
                next += n;
                thread::sleep(Duration::from_millis(5));
            } else {
                conn = None;
            }
        }
        acked
    })
}

/// Every seq in `<dir>/out*` files (json lines), with repeat counts.
fn delivered(dir: &Path) -> BTreeMap<u64, u32> {
    let mut m = BTreeMap::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return m;
    };
    for e in rd {
        let p = e.unwrap().path();
        if !p.file_name().unwrap().to_string_lossy().starts_with("out") || p.is_dir() {
            continue;
        }
        for line in std::fs::read_to_string(&p).unwrap_or_default().lines() {
            // A line being written may be cut: count complete ones only.
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                if let Some(s) = v["seq"].as_u64() {
                    *m.entry(s).or_insert(0) += 1;
                }
            }
        }
    }
    m
}

/// Wait until every seq of `want` was delivered to one of `aggs`; returns the deliveries per
/// aggregator.
fn wait_delivered(
    aggs: &[&Daemon],
    sidecar: &Daemon,
    want: &BTreeSet<u64>,
    timeout: Duration,
) -> Vec<BTreeMap<u64, u32>> {
    let t = Instant::now();
    loop {
        let per: Vec<_> = aggs.iter().map(|a| delivered(a.dir.path())).collect();
        let missing: Vec<u64> = want
            .iter()
            .filter(|s| !per.iter().any(|m| m.contains_key(s)))
            .copied()
            .collect();
        if missing.is_empty() {
            return per;
        }
        if t.elapsed() > timeout {
            panic!(
                "{} acknowledged events missing (first: {:?});\nsidecar log:\n{}\naggregator logs:\n{}",
                missing.len(),
                &missing[..missing.len().min(20)],
                sidecar.stderr(),
                aggs.iter()
                    .map(|a| a.stderr())
                    .collect::<Vec<_>>()
                    .join("\n---\n")
            );
        }
        thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------------------------
// Configs

/// An aggregator: forward in (`{EXTRA}` inside <source>), json lines out through a file buffer.
const AGGREGATOR: &str = "
<source>
  @type forward
  port {PORT}
  bind 127.0.0.1
  {EXTRA}
</source>
<match **>
  @type file
  path {DIR}/out
  append true
  <format>
    @type json
  </format>
  <buffer>
    @type file
    path {DIR}/buf
    flush_mode interval
    flush_interval 0.2
    flush_at_shutdown true
  </buffer>
</match>
";

fn aggregator(extra: &str) -> Daemon {
    Daemon::start(&AGGREGATOR.replace("{EXTRA}", extra))
}

/// A sidecar: forward in, forward out with acks (`{OUT}` holds servers and extra parameters).
const SIDECAR: &str = "
<source>
  @type forward
  port {PORT}
  bind 127.0.0.1
</source>
<match **>
  @type forward
  require_ack_response true
  ack_response_timeout 3
  connect_timeout 2
  send_timeout 5
  heartbeat_interval 0.2
  recover_wait 0.6
  hard_timeout 5
  {OUT}
  <buffer>
    @type file
    path {DIR}/buf
    {FLUSH}
    flush_at_shutdown true
    flush_thread_interval 0.1
    retry_wait 0.2
    retry_max_interval 0.5
    retry_forever true
  </buffer>
</match>
";

fn sidecar(out: &str, flush: &str) -> Daemon {
    Daemon::start(&SIDECAR.replace("{OUT}", out).replace("{FLUSH}", flush))
}

const INTERVAL: &str = "flush_mode interval\n    flush_interval 0.2";
const IMMEDIATE: &str = "flush_mode immediate";

fn server(port: u16, extra: &str) -> String {
    format!("<server>\n    host 127.0.0.1\n    port {port}\n    {extra}\n  </server>")
}

// ---------------------------------------------------------------------------------------------
// Tests

/// Two aggregators behind the relay; one is frozen (chunks sent to it stay unacknowledged), killed
/// (-9) mid-load and restarted: the cut chunks go out again, every event the sidecar acknowledged
/// reaches an aggregator, and both took part of the load.
#[test]
fn aggregator_killed_mid_load_loses_no_acked_event() {
    let mut a = aggregator("");
    let b = aggregator("");
    let relay = Relay::start(vec![a.port, b.port], None);
    let sc = sidecar(&server(relay.port, ""), INTERVAL);
    let stop = Arc::new(AtomicBool::new(false));
    let client = load_client(sc.port, stop.clone(), 20);
    thread::sleep(Duration::from_millis(1500));
    // Freeze the aggregator and route new flows to it, so that a chunk is in flight to it (sent,
    // not acknowledged) when it dies.
    a.signal("STOP");
    *relay.backends.lock().unwrap() = vec![a.port];
    thread::sleep(Duration::from_millis(1000));
    a.kill9();
    *relay.backends.lock().unwrap() = vec![a.port, b.port];
    thread::sleep(Duration::from_millis(1500));
    a.restart();
    thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::Relaxed);
    let acked = client.join().unwrap();
    assert!(acked.len() >= 500, "too little load: {}", acked.len());
    let per = wait_delivered(&[&a, &b], &sc, &acked, Duration::from_secs(20));
    if std::env::var_os("SHOW_LOGS").is_some() {
        eprintln!("sidecar:\n{}\naggregator a:\n{}", sc.stderr(), a.stderr());
    }
    assert!(
        !per[0].is_empty() && !per[1].is_empty(),
        "both aggregators should have taken load: {} / {}",
        per[0].len(),
        per[1].len()
    );
    // No chunk cut by the kill would fail this (the log comes through a pipe: wait for it).
    sc.wait_for_log("connection closed before the ack", Duration::from_secs(10));
    let dups: usize = per
        .iter()
        .flat_map(|m| m.values())
        .filter(|c| **c > 1)
        .count();
    eprintln!(
        "acked {}, delivered {} + {} ({dups} repeated, at-least-once), relay flows {}",
        acked.len(),
        per[0].len(),
        per[1].len(),
        relay.flows.load(Ordering::Relaxed)
    );
}

/// A kept connection whose flow the load balancer forgot (blackholed after 3 s idle): the next
/// chunk gets no ack, the sender drops that connection and sends the chunk again on a new one.
#[test]
fn idle_flow_dropped_by_load_balancer_loses_nothing() {
    let agg = aggregator("");
    // 3 s: long enough that a slow ack on a busy machine does not count as idle.
    let relay = Relay::start(vec![agg.port], Some(Duration::from_secs(3)));
    let out = format!(
        "keepalive true\n  heartbeat_type none\n  ack_response_timeout 2\n  {}",
        server(relay.port, "")
    );
    let sc = sidecar(&out, INTERVAL);
    let first = send_acked(sc.port, "idle", 0, 1, 10);
    wait_delivered(&[&agg], &sc, &first, Duration::from_secs(10));
    assert_eq!(relay.flows.load(Ordering::Relaxed), 1);
    // Quiet for longer than the relay's idle timeout.
    thread::sleep(Duration::from_millis(4000));
    let second = send_acked(sc.port, "idle", 10, 1, 10);
    wait_delivered(&[&agg], &sc, &second, Duration::from_secs(15));
    assert_eq!(
        relay.dropped.load(Ordering::Relaxed),
        1,
        "the kept flow should have been blackholed"
    );
    assert!(relay.flows.load(Ordering::Relaxed) >= 2);
    sc.wait_for_log("sending again on a new connection", Duration::from_secs(10));
    // Later chunks keep flowing on the new connection.
    let third = send_acked(sc.port, "idle", 20, 3, 10);
    wait_delivered(&[&agg], &sc, &third, Duration::from_secs(10));
}

/// Weights 60 and 20: chunks split 3 to 1.
#[test]
fn weights_distribute_load() {
    let a = aggregator("");
    let b = aggregator("");
    let out = format!(
        "{}\n  {}",
        server(a.port, "weight 60"),
        server(b.port, "weight 20")
    );
    let sc = sidecar(&out, IMMEDIATE);
    // One chunk per batch (flush_mode immediate, one tag).
    let acked = send_acked(sc.port, "w", 0, 96, 5);
    let per = wait_delivered(&[&a, &b], &sc, &acked, Duration::from_secs(20));
    let (na, nb) = (per[0].len() as f64, per[1].len() as f64);
    eprintln!("weight 60 got {na} events, weight 20 got {nb}");
    assert!(nb > 0.0, "the lighter server got nothing");
    let ratio = na / nb;
    assert!(
        (2.0..=4.5).contains(&ratio),
        "expected about 3:1, got {na}:{nb}"
    );
}

/// A standby gets nothing while the primary is up, takes over when it is down, and hands back
/// once it recovered.
#[test]
fn standby_only_when_primary_is_down() {
    let mut primary = aggregator("");
    let standby = aggregator("");
    let out = format!(
        "{}\n  {}",
        server(primary.port, "name primary"),
        server(standby.port, "name standby\n    standby true")
    );
    let sc = sidecar(&out, IMMEDIATE);
    let phase1 = send_acked(sc.port, "s", 0, 20, 5);
    wait_delivered(&[&primary], &sc, &phase1, Duration::from_secs(10));
    assert!(
        delivered(standby.dir.path()).is_empty(),
        "standby used while the primary was up"
    );

    primary.kill9();
    let phase2 = send_acked(sc.port, "s", 1000, 20, 5);
    let per = wait_delivered(&[&primary, &standby], &sc, &phase2, Duration::from_secs(15));
    assert!(
        phase2.iter().all(|s| per[1].contains_key(s)),
        "the standby should have taken what came while the primary was down"
    );
    sc.wait_for_log("using standby node", Duration::from_secs(10));

    primary.restart();
    sc.wait_for_log(
        "recovered forwarding server 'primary'",
        Duration::from_secs(10),
    );
    let before = delivered(standby.dir.path()).len();
    let phase3 = send_acked(sc.port, "s", 2000, 10, 5);
    wait_delivered(&[&primary], &sc, &phase3, Duration::from_secs(10));
    assert_eq!(
        delivered(standby.dir.path()).len(),
        before,
        "the standby kept receiving after the primary recovered"
    );
}

const SECURITY_IN: &str =
    "<security>\n    self_hostname aggregator\n    shared_key s3cret\n  </security>";

fn security_out(key: &str) -> String {
    format!("<security>\n    self_hostname sidecar\n    shared_key {key}\n  </security>")
}

/// The shared-key handshake: the right key delivers, a wrong key delivers nothing and says why.
#[test]
fn shared_key_between_tiers() {
    let agg = aggregator(SECURITY_IN);
    let good = sidecar(
        &format!("{}\n  {}", security_out("s3cret"), server(agg.port, "")),
        INTERVAL,
    );
    let acked = send_acked(good.port, "k", 0, 5, 10);
    wait_delivered(&[&agg], &good, &acked, Duration::from_secs(10));

    let bad = sidecar(
        &format!("{}\n  {}", security_out("wrong"), server(agg.port, "")),
        INTERVAL,
    );
    let _ = send_acked(bad.port, "k", 5000, 2, 10);
    bad.wait_for_log("shared_key mismatch", Duration::from_secs(10));
    thread::sleep(Duration::from_millis(500));
    assert!(
        !delivered(agg.dir.path()).keys().any(|s| *s >= 5000),
        "events sent with a wrong key were delivered"
    );
}

/// TLS (a CA-signed certificate for `localhost`, verified by name) plus the shared key; the
/// heartbeats run over TLS too.
#[test]
fn tls_and_shared_key_between_tiers() {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let certs = tempfile::tempdir().unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "logferry test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&key, &ca, &ca_key)
        .unwrap();
    let p = |f: &str| certs.path().join(f).display().to_string();
    std::fs::write(p("ca.pem"), ca.pem()).unwrap();
    std::fs::write(p("cert.pem"), cert.pem()).unwrap();
    std::fs::write(p("key.pem"), key.serialize_pem()).unwrap();

    let agg = aggregator(&format!(
        "{SECURITY_IN}\n  <transport tls>\n    cert_path {}\n    private_key_path {}\n  </transport>",
        p("cert.pem"),
        p("key.pem")
    ));
    let out = format!(
        "transport tls\n  tls_ca_cert_path {}\n  compress gzip\n  {}\n  {}",
        p("ca.pem"),
        security_out("s3cret"),
        server(agg.port, "name localhost")
    );
    let sc = sidecar(&out, INTERVAL);
    let acked = send_acked(sc.port, "tls", 0, 10, 10);
    wait_delivered(&[&agg], &sc, &acked, Duration::from_secs(10));
    assert!(
        !sc.stderr().contains("detached forwarding server"),
        "{}",
        sc.stderr()
    );

    // Without the CA the server's certificate is refused and nothing goes through.
    let untrusting = sidecar(
        &format!(
            "transport tls\n  {}\n  {}",
            security_out("s3cret"),
            server(agg.port, "name localhost")
        ),
        INTERVAL,
    );
    let _ = send_acked(untrusting.port, "tls", 9000, 1, 10);
    untrusting.wait_for_log("TLS handshake", Duration::from_secs(10));
    assert!(!delivered(agg.dir.path()).keys().any(|s| *s >= 9000));
}

/// A server that reads each connection to its end and then resets it instead of closing it, as
/// Fluentd's in_forward does with its defaults (`linger_timeout 0`): without acks each chunk
/// counts as sent once the server's kernel acknowledged all of it. (It counted as failed, and
/// was sent again and again: every event reached a Fluentd aggregator many times.)
#[test]
fn a_server_that_resets_at_its_close_gets_each_chunk_once() {
    let peer = support::tls_peer::start_plain_resetting();
    let out = format!("@type forward\n  {}", server(peer.port, ""));
    let conf = format!(
        "<source>\n  @type forward\n  port {{PORT}}\n  bind 127.0.0.1\n</source>\n<match **>\n  {out}\n  <buffer>\n    flush_interval 0.2s\n    retry_wait 0.5s\n  </buffer>\n</match>\n"
    );
    let mut d = Daemon::start(&conf);
    // Small chunks and one of several MB (its last segments are the ones a delayed
    // acknowledgement leaves unacknowledged when the reset comes).
    let small = send_acked(d.port, "small", 0, 20, 50);
    let mut s = TcpStream::connect(("127.0.0.1", d.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let big = support::acked::padded("big", 0, 2000, "big", 2000);
    assert!(support::acked::send_and_ack(&mut s, &big, "big"));
    let t = Instant::now();
    while peer.stats.count("small") < small.len() || peer.stats.count("big") < 2000 {
        assert!(t.elapsed() < Duration::from_secs(60), "{}", d.stderr());
        thread::sleep(Duration::from_millis(20));
    }
    // A chunk taken for unsent would be sent again by the drain at the stop.
    assert!(d.terminate().success());
    let got = peer.stats.received.lock().unwrap().clone();
    let mut small_got = got["small"].clone();
    small_got.sort_unstable();
    assert_eq!(
        small_got,
        small.into_iter().collect::<Vec<_>>(),
        "duplicates"
    );
    assert_eq!(got["big"].len(), 2000, "duplicates");
    let log = d.stderr();
    assert!(!log.contains("[warn]"), "{log}");
    assert!(peer.stats.unclean.lock().unwrap().is_empty());
    assert_eq!(peer.stats.cut_frames.load(Ordering::Relaxed), 0);
}

/// Strings read from files and sockets reach a forward server as they reach it from Fluentd
/// 1.16.11 (recorded with the same lines, in_tail and in_tcp into out_forward): pieces of the
/// text with a byte from 0x80 up as msgpack bin, Fluentd's binary strings, whether or not they
/// are UTF-8 (a Fluentd aggregator sent a UTF-8 string of bytes that are not UTF-8 raises in its
/// filters); the json parser's strings as str (Oj makes UTF-8 strings), and with in_tail's
/// `encoding UTF-8` every string (UTF-8 strings, bytes that are not UTF-8 kept in them). ASCII
/// strings are str (Fluentd sends bin; a listed difference).
#[test]
fn strings_read_from_files_and_sockets_are_forwarded_as_binary() {
    use logferry_msgpack::Value;
    let peer = support::tls_peer::start_plain_resetting();
    let [tcp_port] = free_ports::<1>();
    let conf = format!(
        "<source>\n  @type tail\n  path {{DIR}}/in.log\n  pos_file {{DIR}}/in.pos\n  read_from_head true\n  tag none\n  <parse>\n    @type none\n  </parse>\n</source>\n\
         <source>\n  @type tail\n  path {{DIR}}/in.log\n  pos_file {{DIR}}/in2.pos\n  read_from_head true\n  tag re\n  <parse>\n    @type regexp\n    expression /^(?<a>\\S+) (?<b>.*)$/\n  </parse>\n</source>\n\
         <source>\n  @type tail\n  path {{DIR}}/in.log\n  pos_file {{DIR}}/in3.pos\n  read_from_head true\n  tag enc\n  from_encoding UTF-8\n  encoding UTF-8\n  <parse>\n    @type regexp\n    expression /^(?<a>\\S+) (?<b>.*)$/\n  </parse>\n</source>\n\
         <source>\n  @type tail\n  path {{DIR}}/json.log\n  pos_file {{DIR}}/json.pos\n  read_from_head true\n  tag json\n  <parse>\n    @type json\n  </parse>\n</source>\n\
         <source>\n  @type tcp\n  port {tcp_port}\n  bind 127.0.0.1\n  tag tcp\n  <parse>\n    @type none\n  </parse>\n</source>\n\
         <match **>\n  @type forward\n  {}\n  <buffer>\n    flush_interval 0.2s\n  </buffer>\n</match>\n",
        server(peer.port, "")
    );
    let lines: [&[u8]; 3] = [b"plain line", b"a\xe9b line", b"caf\xc3\xa9 x"];
    let dir = tempfile::tempdir().unwrap();
    let mut file = Vec::new();
    for l in lines {
        file.extend_from_slice(l);
        file.push(b'\n');
    }
    std::fs::write(dir.path().join("in.log"), &file).unwrap();
    std::fs::write(
        dir.path().join("json.log"),
        b"{\"m\":\"caf\xc3\xa9\"}\n{\"m\":\"a\xe9b\"}\n",
    )
    .unwrap();
    let mut d = Daemon::start(&conf.replace("{DIR}", &dir.path().display().to_string()));
    let mut s = TcpStream::connect(("127.0.0.1", tcp_port)).unwrap();
    s.write_all(&file).unwrap();
    drop(s);
    let t = Instant::now();
    while ["none", "re", "tcp", "json", "enc"].iter().any(|want| {
        peer.stats
            .records
            .lock()
            .unwrap()
            .iter()
            .filter(|(tag, _)| tag == want)
            .count()
            < if *want == "json" { 2 } else { 3 }
    }) {
        assert!(t.elapsed() < Duration::from_secs(60), "{}", d.stderr());
        thread::sleep(Duration::from_millis(20));
    }
    assert!(d.terminate().success());
    let s = |x: &str| Value::Str(x.into());
    let b = |x: &[u8]| Value::Bin(x.to_vec());
    let field = |v: &Value, k: &str| v.get(k).cloned().unwrap_or(Value::Nil);
    let recs = peer.stats.records.lock().unwrap().clone();
    let of = |tag: &str| -> Vec<Value> {
        recs.iter()
            .filter(|(t, _)| t == tag)
            .map(|(_, r)| Value::decode(r).unwrap().0)
            .collect()
    };
    for tag in ["none", "tcp"] {
        let got: Vec<Value> = of(tag).iter().map(|r| field(r, "message")).collect();
        assert_eq!(
            got,
            vec![s("plain line"), b(b"a\xe9b line"), b(b"caf\xc3\xa9 x")],
            "{tag}"
        );
    }
    let got: Vec<(Value, Value)> = of("re")
        .iter()
        .map(|r| (field(r, "a"), field(r, "b")))
        .collect();
    assert_eq!(
        got,
        vec![
            (s("plain"), s("line")),
            (b(b"a\xe9b"), s("line")),
            (b(b"caf\xc3\xa9"), s("x")),
        ]
    );
    // The json parser's strings are UTF-8 strings in Fluentd (Oj's), whatever their bytes: str.
    let raw = |tag: &str| -> Vec<&[u8]> {
        recs.iter()
            .filter(|(t, _)| t == tag)
            .map(|(_, r)| r.as_slice())
            .collect()
    };
    assert_eq!(
        raw("json"),
        vec![
            b"\x81\xa1m\xa5caf\xc3\xa9".as_slice(),
            b"\x81\xa1m\xa3a\xe9b".as_slice()
        ]
    );
    // `encoding UTF-8`: UTF-8 strings, str, the byte that is not UTF-8 kept in its field.
    assert_eq!(
        raw("enc"),
        vec![
            b"\x82\xa1a\xa5plain\xa1b\xa4line".as_slice(),
            b"\x82\xa1a\xa3a\xe9b\xa1b\xa4line".as_slice(),
            b"\x82\xa1a\xa5caf\xc3\xa9\xa1b\xa1x".as_slice()
        ]
    );
}
