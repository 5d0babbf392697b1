//! `<system> rpc_endpoint` end to end: each endpoint's answer (as recorded from Fluentd 1.16.11 in
//! tests/rpc/fluentd-1.16.11.txt) and what it does; reloads by RPC and SIGHUP under acknowledged
//! load refuse no connection and lose no acknowledged event.

mod support;

use std::collections::BTreeSet;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use support::acked::{send_and_ack, tagged, wait_delivered};
use support::*;

/// One HTTP request; (status, content type, body).
fn http(port: u16, method: &str, path: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let ctype = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Type: "))
        .unwrap_or("")
        .to_string();
    (status, ctype, body.to_string())
}

/// A forward source and every event to `{DIR}/out*` as JSON lines, written at once.
const FORWARD_TO_FILE: &str = "
<source>
  @type forward
  port {PORT}
  bind 127.0.0.1
</source>
<match **>
  @type file
  path {DIR}/out
  append true
  <format>
    @type json
  </format>
  <buffer>
    @type memory
    flush_mode immediate
  </buffer>
</match>
";

fn conf(rpc: u16, get_dump: bool) -> String {
    format!(
        "<system>\n  rpc_endpoint 127.0.0.1:{rpc}\n  {}\n</system>\n{FORWARD_TO_FILE}",
        if get_dump { "enable_get_dump true" } else { "" }
    )
}

fn count(d: &Daemon, needle: &str) -> usize {
    d.stderr().matches(needle).count()
}

fn wait_count(d: &Daemon, needle: &str, n: usize) {
    let start = Instant::now();
    while count(d, needle) < n {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {n} × {needle:?}; stderr:\n{}",
            d.stderr()
        );
        thread::sleep(Duration::from_millis(10));
    }
}

/// Fluentd's answer to every mounted path: 200, JSON, `{"ok":true}`.
fn ok((status, ctype, body): (u16, String, String)) -> bool {
    status == 200 && ctype == "application/json" && body == r#"{"ok":true}"#
}

/// Fluentd's answers, any method, paths below a mount included; and what each call does.
#[test]
fn rpc_endpoints_answer_and_act_as_fluentds() {
    let rpc = free_port();
    let d = Daemon::start(&conf(rpc, false));
    d.wait_for_log(
        &format!("listening RPC http server on http://127.0.0.1:{rpc}/"),
        Duration::from_secs(10),
    );
    let call = |m: &str, p: &str| http(rpc, m, p);

    assert!(ok(call("GET", "/api/plugins.flushBuffers")));
    d.wait_for_log(
        "RPC flushBuffers: flushing all buffers",
        Duration::from_secs(10),
    );
    assert!(ok(call("POST", "/api/config.reload")));
    wait_count(&d, "reload complete", 1);
    assert!(ok(call("PUT", "/api/config.gracefulReload?x=1")));
    wait_count(&d, "reload complete", 2);
    assert!(ok(call("GET", "/api/config.reload/sub")));
    wait_count(&d, "reload complete", 3);
    assert!(ok(call("GET", "/api/config.dump")));
    d.wait_for_log("dump in-memory config", Duration::from_secs(10));
    // getDump is not mounted without enable_get_dump; unknown paths are WEBrick's 404 page.
    for p in ["/api/config.getDump", "/api/nope", "/api/config.reloadx"] {
        let (s, c, b) = call("GET", p);
        assert_eq!(
            (s, c.as_str()),
            (404, "text/html; charset=ISO-8859-1"),
            "{p}"
        );
        assert!(b.contains(&format!("`{p}' not found.")), "{b}");
    }
    // The events still flow after three reloads.
    let mut s = d.connect();
    assert!(send_and_ack(&mut s, &tagged("after", 0, 1, "a1"), "a1"));
    wait_delivered(&d, "out", &BTreeSet::from([0]), Duration::from_secs(10));
    // killWorkers stops as SIGTERM does: exit 0.
    let mut d = d;
    assert!(ok(call("POST", "/api/processes.killWorkers")));
    assert!(d.wait_exit(Duration::from_secs(30)).success());
    assert!(
        d.stderr().contains("received RPC killWorkers"),
        "{}",
        d.stderr()
    );

    // interruptWorkers: as SIGINT; getDump with enable_get_dump: the config, secrets masked.
    let rpc = free_port();
    let mut d = Daemon::start(&conf(rpc, true).replace(
        "  bind 127.0.0.1\n</source>",
        "  bind 127.0.0.1\n  <security>\n    self_hostname h\n    shared_key sekrit\n  </security>\n</source>",
    ));
    let (s, c, b) = http(rpc, "GET", "/api/config.getDump");
    assert_eq!((s, c.as_str()), (200, "application/json"));
    let v: serde_json::Value = serde_json::from_str(&b).unwrap();
    assert_eq!(v["ok"], true);
    let conf_text = v["conf"].as_str().unwrap();
    assert!(
        conf_text.starts_with("<ROOT>\n  <system>\n    rpc_endpoint 127.0.0.1:"),
        "{conf_text}"
    );
    assert!(
        conf_text.contains("shared_key xxxxxx") && !conf_text.contains("sekrit"),
        "{conf_text}"
    );
    assert!(ok(http(rpc, "GET", "/api/processes.interruptWorkers")));
    assert!(d.wait_exit(Duration::from_secs(30)).success());
    assert!(d.stderr().contains("received RPC interruptWorkers"));
}

/// A bad rpc_endpoint is refused at start-up with Fluentd's message.
#[test]
fn a_bad_rpc_endpoint_is_refused_at_start() {
    let (out, _dir) = run_once(
        "<system>\n  rpc_endpoint nowhere\n</system>\n<match **>\n  @type null\n</match>\n",
        &[],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Invalid rpc_endpoint: nowhere"), "{err}");
}

/// Clients that open a connection per batch, wait for the ack, and resend an unacked batch on a
/// new connection; they count refused connections.
struct Load {
    stop: Arc<AtomicBool>,
    refused: Arc<AtomicU64>,
    acked_batches: Arc<AtomicU64>,
    threads: Vec<thread::JoinHandle<BTreeSet<u64>>>,
}

fn load(port: u16, clients: u64) -> Load {
    let stop = Arc::new(AtomicBool::new(false));
    let refused = Arc::new(AtomicU64::new(0));
    let acked_batches = Arc::new(AtomicU64::new(0));
    let threads = (0..clients)
        .map(|c| {
            let (stop, refused, batches) = (stop.clone(), refused.clone(), acked_batches.clone());
            thread::spawn(move || {
                let mut acked = BTreeSet::new();
                let mut next = c * 100_000_000;
                while !stop.load(Ordering::Relaxed) {
                    let mut s = match TcpStream::connect(("127.0.0.1", port)) {
                        Ok(s) => s,
                        Err(e) => {
                            // Any failed connect counts (refused, or the ephemeral ports a
                            // refusing server leaves this loop spinning through).
                            assert!(
                                e.kind() == ErrorKind::ConnectionRefused
                                    || e.kind() == ErrorKind::AddrNotAvailable,
                                "connect: {e}"
                            );
                            refused.fetch_add(1, Ordering::Relaxed);
                            // Not a wait for anything: a pause before the retry.
                            thread::sleep(Duration::from_millis(1));
                            continue;
                        }
                    };
                    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                    let id = format!("c{c}b{next}");
                    if send_and_ack(&mut s, &tagged("load", next, 10, &id), &id) {
                        acked.extend(next..next + 10);
                        next += 10;
                        batches.fetch_add(1, Ordering::Relaxed);
                    }
                }
                acked
            })
        })
        .collect();
    Load {
        stop,
        refused,
        acked_batches,
        threads,
    }
}

/// 20 reloads (RPC config.reload, gracefulReload and SIGHUP in turn) under acknowledged load:
/// no connection is refused, every acknowledged event is delivered, and the load went on
/// through every reload.
#[test]
fn twenty_reloads_under_load_refuse_nothing_and_lose_nothing() {
    let rpc = free_port();
    let d = Daemon::start(&conf(rpc, false));
    let l = load(d.port, 4);
    let mut during = Vec::new();
    for i in 1..=20 {
        // Some batches acked since the previous reload, so each reload happens under load.
        let before = l.acked_batches.load(Ordering::Relaxed);
        let start = Instant::now();
        while l.acked_batches.load(Ordering::Relaxed) < before + 20 {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the load stalled after reload {}",
                i - 1
            );
            thread::sleep(Duration::from_millis(5));
        }
        match i % 3 {
            0 => d.signal("HUP"),
            1 => assert_eq!(http(rpc, "POST", "/api/config.reload").0, 200),
            _ => assert_eq!(http(rpc, "GET", "/api/config.gracefulReload").0, 200),
        }
        wait_count(&d, "reload complete", i);
        during.push(l.acked_batches.load(Ordering::Relaxed) - before);
    }
    l.stop.store(true, Ordering::Relaxed);
    let mut acked = BTreeSet::new();
    for t in l.threads {
        acked.extend(t.join().unwrap());
    }
    let refused = l.refused.load(Ordering::Relaxed);
    eprintln!(
        "20 reloads: {} events acknowledged, {refused} connections refused, batches acked per reload interval {during:?}",
        acked.len()
    );
    assert_eq!(refused, 0, "connections refused during reloads");
    wait_delivered(&d, "out", &acked, Duration::from_secs(30));
    assert_eq!(count(&d, "reload complete"), 20);
}

/// The unix socket input keeps its socket (and its file) through reloads too: clients connecting
/// per batch across 10 SIGHUP reloads never fail to connect, and every acknowledged event is
/// delivered; the file goes away at the final stop.
#[test]
fn unix_socket_reloads_refuse_nothing_and_lose_nothing() {
    use std::os::unix::net::UnixStream;
    let mut d = Daemon::start(&format!(
        "<source>\n  @type unix\n  path {{DIR}}/in.sock\n</source>\n{FORWARD_TO_FILE}"
    ));
    let sock = d.path("in.sock");
    let stop = Arc::new(AtomicBool::new(false));
    let failed = Arc::new(AtomicU64::new(0));
    let batches = Arc::new(AtomicU64::new(0));
    let client = {
        let (stop, failed, batches, sock) =
            (stop.clone(), failed.clone(), batches.clone(), sock.clone());
        thread::spawn(move || {
            let mut acked = BTreeSet::new();
            let mut next = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let mut s = match UnixStream::connect(&sock) {
                    Ok(s) => s,
                    Err(_) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        // Not a wait for anything: a pause before the retry.
                        thread::sleep(Duration::from_millis(1));
                        continue;
                    }
                };
                s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
                let id = format!("u{next}");
                if s.write_all(&tagged("unix", next, 10, &id)).is_err() {
                    continue;
                }
                let mut got = Vec::new();
                let mut buf = [0u8; 64];
                let ok = loop {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => break false,
                        Ok(n) => {
                            got.extend_from_slice(&buf[..n]);
                            if logferry_msgpack::value_len(&got).is_ok() {
                                break got.ends_with(id.as_bytes());
                            }
                        }
                    }
                };
                if ok {
                    acked.extend(next..next + 10);
                    next += 10;
                    batches.fetch_add(1, Ordering::Relaxed);
                }
            }
            acked
        })
    };
    for i in 1..=10 {
        let before = batches.load(Ordering::Relaxed);
        let start = Instant::now();
        while batches.load(Ordering::Relaxed) < before + 10 {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the load stalled"
            );
            thread::sleep(Duration::from_millis(5));
        }
        d.signal("HUP");
        wait_count(&d, "reload complete", i);
    }
    stop.store(true, Ordering::Relaxed);
    let acked = client.join().unwrap();
    assert_eq!(
        failed.load(Ordering::Relaxed),
        0,
        "unix connects failed during reloads"
    );
    wait_delivered(&d, "out", &acked, Duration::from_secs(30));
    assert!(d.terminate().success());
    assert!(
        !sock.exists(),
        "the socket file is removed at the final stop"
    );
}
