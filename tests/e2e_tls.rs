//! Forward over TLS against peers that behave as Fluentd's and Fluent Bit's do (OpenSSL servers
//! that refuse session resumption, send TLS 1.3 session tickets, read late; OpenSSL senders that
//! close without reading): every event delivered once, no handshake refused, every connection
//! ended with close_notify, and handshake failures that say who refused and why.
//! The same matrix against the real Fluentd and Fluent Bit: `tests/interop/tls-matrix.sh`.

mod support;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::tls_peer::{make_certs, send_tls, ClientOptions, Peer, PeerOptions};
use support::Daemon;

/// Events per matrix case, and the padding that makes each case's chunk large enough
/// (~300 KB) to wait in the sender's socket buffer while a lazy peer reads nothing.
const EVENTS: u64 = 100;
const PAD: usize = 3000;

/// Warnings a case's configuration itself causes (Fluentd logs them too).
const EXPECTED_WARNINGS: &[&str] = &["insecure way", "'heartbeat_type tcp' is deprecated"];

fn warnings(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains("[warn]") || l.contains("[error]"))
        .filter(|l| !EXPECTED_WARNINGS.iter().any(|w| l.contains(w)))
        .collect()
}

/// Send one acked frame of `EVENTS` padded events with `tag` to the daemon's plain input.
fn feed(port: u16, tag: &str) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let id = format!("f-{tag}");
    let frame = support::acked::padded(tag, 0, EVENTS, &id, PAD);
    assert!(
        support::acked::send_and_ack(&mut s, &frame, &id),
        "{tag}: not acked"
    );
}

#[derive(Clone, Copy, Debug)]
struct Case {
    tls13: bool,
    ack: bool,
    key: bool,
    gzip: bool,
    heartbeat: &'static str,
    keepalive: bool,
    verify: bool,
}

fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    for tls13 in [true, false] {
        for ack in [true, false] {
            for key in [true, false] {
                for gzip in [true, false] {
                    for heartbeat in ["transport", "tcp", "udp", "none"] {
                        for keepalive in [true, false] {
                            for verify in [true, false] {
                                v.push(Case {
                                    tls13,
                                    ack,
                                    key,
                                    gzip,
                                    heartbeat,
                                    keepalive,
                                    verify,
                                });
                            }
                        }
                    }
                }
            }
        }
    }
    v
}

/// out_forward over TLS 1.2 and 1.3 in every combination of acks, shared key, gzip, heartbeat,
/// keepalive and certificate verification: all events arrive exactly once, the peer refuses no
/// handshake and sees no connection end without close_notify (also the kept ones, at shutdown),
/// and nothing above info is logged but what the configuration itself warns about.
#[test]
fn out_forward_tls_matrix_against_openssl_peers() {
    let dir = tempfile::tempdir().unwrap();
    let certs = make_certs(dir.path());
    // One peer per TLS version and shared key: [tls13][key].
    let peers: Vec<Vec<Peer>> = [false, true]
        .iter()
        .map(|&tls13| {
            [false, true]
                .iter()
                .map(|&key| {
                    Peer::start(
                        &certs,
                        PeerOptions {
                            tls13,
                            shared_key: key.then(|| "s3cret".to_string()),
                            lazy: true,
                            corrupt_first: false,
                            stay_open: false,
                            reset_at_close: false,
                        },
                    )
                })
                .collect()
        })
        .collect();
    let cases = cases();
    let mut conf =
        String::from("<source>\n  @type forward\n  port {PORT}\n  bind 127.0.0.1\n</source>\n");
    for (i, c) in cases.iter().enumerate() {
        let peer = &peers[c.tls13 as usize][c.key as usize];
        let trust = if c.verify {
            format!("tls_ca_cert_path {}", certs.ca.display())
        } else {
            "tls_insecure_mode true".to_string()
        };
        let security = if c.key {
            "<security>\n    self_hostname logferry\n    shared_key s3cret\n  </security>"
        } else {
            ""
        };
        write!(
            conf,
            "<match m.{i}>\n  @type forward\n  transport tls\n  tls_version {}\n  {trust}\n  require_ack_response {}\n  compress {}\n  heartbeat_type {}\n  heartbeat_interval 1s\n  keepalive {}\n  {security}\n  <server>\n    host 127.0.0.1\n    port {}\n  </server>\n  <buffer>\n    flush_interval 0.3s\n    retry_wait 0.5s\n  </buffer>\n</match>\n",
            if c.tls13 { "TLSv1_3" } else { "TLSv1_2" },
            c.ack,
            if c.gzip { "gzip" } else { "text" },
            c.heartbeat,
            c.keepalive,
            peer.port,
        )
        .unwrap();
    }
    let mut d = Daemon::start(&conf);
    for i in 0..cases.len() {
        feed(d.port, &format!("m.{i}"));
    }
    let stats = |c: &Case| peers[c.tls13 as usize][c.key as usize].stats.clone();
    let t = Instant::now();
    loop {
        let missing: Vec<usize> = (0..cases.len())
            .filter(|&i| stats(&cases[i]).count(&format!("m.{i}")) < EVENTS as usize)
            .collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(240),
            "cases not delivered: {:?}\nlogferry:\n{}",
            missing.iter().map(|&i| cases[i]).collect::<Vec<_>>(),
            d.stderr()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Stop as ECS does: kept connections must end with close_notify too.
    let status = d.terminate();
    assert!(status.success(), "exit {status:?}\n{}", d.stderr());
    let want: Vec<u64> = (0..EVENTS).collect();
    for (i, c) in cases.iter().enumerate() {
        let mut got = stats(c)
            .received
            .lock()
            .unwrap()
            .get(&format!("m.{i}"))
            .cloned()
            .unwrap_or_default();
        got.sort_unstable();
        assert_eq!(got, want, "case {c:?}: lost or duplicated events");
    }
    for p in peers.iter().flatten() {
        let s = &p.stats;
        assert!(
            s.refused.lock().unwrap().is_empty(),
            "handshakes refused: {:?}",
            s.refused.lock().unwrap()
        );
        assert!(
            s.unclean.lock().unwrap().is_empty(),
            "connections ended without close_notify: {:?}",
            s.unclean.lock().unwrap()
        );
        assert_eq!(s.cut_frames.load(std::sync::atomic::Ordering::Relaxed), 0);
        assert!(
            s.auth_failures.lock().unwrap().is_empty(),
            "{:?}",
            s.auth_failures.lock().unwrap()
        );
    }
    let udp: usize = peers
        .iter()
        .flatten()
        .map(|p| {
            p.stats
                .udp_heartbeats
                .load(std::sync::atomic::Ordering::Relaxed)
        })
        .sum();
    assert!(udp > 0, "no UDP heartbeat reached the peers");
    let log = d.stderr();
    assert!(warnings(&log).is_empty(), "unexpected warnings:\n{log}");
}

/// in_forward over TLS 1.2 and 1.3 from OpenSSL senders that put an IP address in SNI and, without
/// acks, close right after writing without reading anything: every event arrives, acks arrive,
/// and nothing is logged above info.
#[test]
fn in_forward_tls_from_openssl_senders() {
    let dir = tempfile::tempdir().unwrap();
    let certs = make_certs(dir.path());
    let keyed_port = support::free_port();
    let tls = format!(
        "<transport tls>\n    cert_path {}\n    private_key_path {}\n  </transport>",
        certs.cert.display(),
        certs.key.display()
    );
    let conf = format!(
        "<source>\n  @type forward\n  port {{PORT}}\n  bind 127.0.0.1\n  {tls}\n</source>\n\
         <source>\n  @type forward\n  port {keyed_port}\n  bind 127.0.0.1\n  {tls}\n  <security>\n    self_hostname logferry\n    shared_key s3cret\n  </security>\n</source>\n\
         <match **>\n  @type file\n  path {{DIR}}/out/all\n  format json\n  append true\n  <buffer>\n    flush_mode immediate\n  </buffer>\n</match>\n"
    );
    let d = Daemon::start_with(&conf, &["-v"], &[]);
    let mut want = BTreeSet::new();
    let mut case = 0u64;
    for tls13 in [true, false] {
        for ack in [true, false] {
            for key in [true, false] {
                for verify in [true, false] {
                    for gzip in [true, false] {
                        let from = case * 1000;
                        case += 1;
                        let frames: Vec<(Vec<u8>, String)> = (0..3)
                            .map(|b| {
                                let id = format!("c{case}-{b}");
                                let start = from + b * 10;
                                (big_frame(start, 10, ack.then_some(id.as_str()), gzip), id)
                            })
                            .collect();
                        want.extend((0..3).flat_map(|b| from + b * 10..from + b * 10 + 10));
                        let opts = ClientOptions {
                            tls13,
                            shared_key: key.then(|| "s3cret".to_string()),
                            ack,
                            ca: verify.then(|| certs.ca.clone()),
                        };
                        let port = if key { keyed_port } else { d.port };
                        let acks = send_tls(port, &opts, &frames);
                        if ack {
                            assert_eq!(acks, 3, "{opts:?}");
                        }
                        // A transport heartbeat: a connection (and handshake) with no frame.
                        send_tls(port, &opts, &[]);
                    }
                }
            }
        }
    }
    let got = support::acked::wait_delivered_in(
        &d,
        &d.dir.path().join("out"),
        "all",
        &want,
        Duration::from_secs(60),
    );
    assert!(got.values().all(|&n| n == 1), "duplicates: {got:?}");
    // A load balancer's health checks on the TLS port: connect, close without a byte.
    for _ in 0..3 {
        drop(TcpStream::connect(("127.0.0.1", d.port)).unwrap());
    }
    d.wait_for_log("closed without data", Duration::from_secs(10));
    let log = d.stderr();
    assert!(warnings(&log).is_empty(), "unexpected warnings:\n{log}");
    assert!(!log.contains("SNI"), "{log}");
}

/// A PackedForward frame (CompressedPackedForward with `gzip`), acked with `ack` when given, of
/// `n` events of ~30 KB.
fn big_frame(from: u64, n: u64, ack: Option<&str>, gzip: bool) -> Vec<u8> {
    let mut entries = Vec::new();
    for s in from..from + n {
        entries.push(0x92);
        logferry_msgpack::EventTime::new(1_700_000_000, 0).encode(&mut entries);
        logferry_msgpack::Value::Map(vec![
            (
                logferry_msgpack::Value::Str("seq".into()),
                logferry_msgpack::Value::Int(s as i64),
            ),
            (
                logferry_msgpack::Value::Str("pad".into()),
                logferry_msgpack::Value::Str(format!("{s:x}").repeat(PAD * 10 / 4)),
            ),
        ])
        .encode(&mut entries);
    }
    let mut f = Vec::new();
    let compression = if gzip {
        logferry_forward::encode::Compression::Gzip
    } else {
        logferry_forward::encode::Compression::Text
    };
    logferry_forward::encode::packed_forward(
        "in.tls",
        &entries,
        n as usize,
        ack,
        compression,
        &mut f,
    );
    f
}

/// Each way a handshake fails is logged once with the side that refused and what to set.
#[test]
fn handshake_failures_say_who_refused_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let certs = make_certs(dir.path());
    let plain = Peer::start(
        &certs,
        PeerOptions {
            tls13: true,
            shared_key: None,
            ..PeerOptions::default()
        },
    );
    let keyed = Peer::start(
        &certs,
        PeerOptions {
            tls13: true,
            shared_key: Some("s3cret".into()),
            ..PeerOptions::default()
        },
    );
    let out = |tag: &str, extra: &str, port: u16| {
        format!(
            "<match {tag}>\n  @type forward\n  transport tls\n  heartbeat_type none\n  {extra}\n  <server>\n    host 127.0.0.1\n    port {port}\n  </server>\n  <buffer>\n    flush_interval 0.2s\n    retry_wait 30s\n  </buffer>\n</match>\n"
        )
    };
    let ca = format!("tls_ca_cert_path {}", certs.ca.display());
    let mut conf =
        String::from("<source>\n  @type forward\n  port {PORT}\n  bind 127.0.0.1\n</source>\n");
    conf += &out(
        "untrusted",
        &format!("tls_ca_cert_path {}", certs.other_ca.display()),
        plain.port,
    );
    conf += &format!(
        "<match wrongname>\n  @type forward\n  transport tls\n  heartbeat_type none\n  {ca}\n  <server>\n    host 127.0.0.1\n    name wrong.example\n    port {}\n  </server>\n  <buffer>\n    flush_interval 0.2s\n    retry_wait 30s\n  </buffer>\n</match>\n",
        plain.port
    );
    conf += &out("nokey", &ca, keyed.port);
    conf += &out(
        "wrongkey",
        &format!(
            "{ca}\n  <security>\n    self_hostname logferry\n    shared_key nope\n  </security>"
        ),
        keyed.port,
    );
    // in_forward with a shared key, and a sender without one.
    let keyed_in = support::free_port();
    conf += &format!(
        "<source>\n  @type forward\n  port {keyed_in}\n  bind 127.0.0.1\n  <transport tls>\n    cert_path {}\n    private_key_path {}\n  </transport>\n  <security>\n    self_hostname logferry\n    shared_key s3cret\n  </security>\n</source>\n<match **>\n  @type null\n</match>\n",
        certs.cert.display(),
        certs.key.display()
    );
    let d = Daemon::start(&conf);
    for tag in ["untrusted", "wrongname", "nokey", "wrongkey"] {
        feed(d.port, tag);
    }
    let wait = Duration::from_secs(30);
    d.wait_for_log(
        "this side refused: the server's certificate is not signed by a trusted CA: set tls_ca_cert_path",
        wait,
    );
    d.wait_for_log(
        "not valid for the name 'wrong.example' (wrong hostname)",
        wait,
    );
    d.wait_for_log("the server requires authentication (it sent HELO)", wait);
    d.wait_for_log("shared_key mismatch", wait);
    let _ = send_tls(
        keyed_in,
        &ClientOptions {
            tls13: true,
            shared_key: None,
            ack: false,
            ca: None,
        },
        &[(big_frame(0, 1, None, false), String::new())],
    );
    d.wait_for_log("so it has no shared key configured", wait);
    // The peers saw the failures from their side too.
    assert!(
        plain.stats.refused.lock().unwrap().len() >= 2,
        "{:?}",
        plain.stats.refused.lock().unwrap()
    );
    assert!(
        !keyed.stats.auth_failures.lock().unwrap().is_empty(),
        "the wrong key reached the peer"
    );
}

/// A daemon whose forward input feeds one out_forward over TLS to 127.0.0.1:`port`, trusting `ca`,
/// with `extra` lines in the `<match>` and `buffer` lines in its `<buffer>`.
fn one_output(ca: &std::path::Path, port: u16, extra: &str, buffer: &str) -> String {
    format!(
        "<source>\n  @type forward\n  port {{PORT}}\n  bind 127.0.0.1\n</source>\n<match **>\n  @type forward\n  transport tls\n  tls_ca_cert_path {}\n  {extra}\n  <server>\n    host 127.0.0.1\n    port {port}\n  </server>\n  <buffer>\n    flush_interval 0.2s\n    {buffer}\n  </buffer>\n</match>\n",
        ca.display()
    )
}

/// SIGTERM while a TLS destination keeps failing: the retry schedule stays sane (no delay of
/// days, no retry limit nobody set), the drain ends by the shutdown deadline, and the memory
/// buffer's chunk is backed up, not lost.
#[test]
fn shutdown_with_a_failing_tls_destination_backs_up_by_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let certs = make_certs(dir.path());
    let peer = Peer::start(
        &certs,
        PeerOptions {
            tls13: true,
            ..PeerOptions::default()
        },
    );
    let conf = format!(
        "<system>\n  root_dir {{DIR}}/root\n</system>\n{}",
        one_output(
            &certs.other_ca,
            peer.port,
            "heartbeat_type transport\n  heartbeat_interval 1s",
            "retry_wait 0.5s"
        )
    );
    let mut d = Daemon::start_with(&conf, &["--shutdown-timeout", "3"], &[]);
    feed(d.port, "fail.me");
    d.wait_for_log(
        "failed to flush the buffer, retry #",
        Duration::from_secs(30),
    );
    let t = Instant::now();
    d.signal("TERM");
    let status = d.wait_exit(Duration::from_secs(30));
    let took = t.elapsed();
    let log = d.stderr();
    assert!(status.success(), "{status:?}\n{log}");
    // A 3 s deadline: the bound is generous for a loaded machine, but a drain that ignored the
    // deadline (a connect or write waiting out its own 60 s timeout) would fail it.
    assert!(took < Duration::from_secs(12), "took {took:?}\n{log}");
    assert!(!log.contains("retry limit reached"), "{log}");
    for l in log.lines().filter(|l| l.contains("retry #")) {
        let secs: f64 = l
            .split(" in ")
            .nth(1)
            .and_then(|r| r.split('s').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no delay in {l}"));
        assert!(secs < 120.0, "absurd retry delay: {l}");
    }
    assert!(
        log.matches("while shutting down").count() <= 1,
        "drain failures logged more than once at warn:\n{log}"
    );
    let backup = log
        .lines()
        .find_map(|l| l.split("backed up to ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no backup:\n{log}"));
    let bytes = std::fs::read(backup).unwrap();
    assert!(
        bytes.len() > EVENTS as usize * PAD,
        "backup holds the chunk"
    );
}

/// A server that now and then encrypts a record wrongly (Fluent Bit 4.x over TLS 1.3 does, with
/// its HELO, PONG or acks): the chunk is sent again at once on a new connection, delivered, and
/// the server is not taken out of rotation.
#[test]
fn a_record_the_server_garbled_is_sent_again_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let certs = make_certs(dir.path());
    let peer = Peer::start(
        &certs,
        PeerOptions {
            tls13: true,
            shared_key: Some("s3cret".into()),
            corrupt_first: true,
            ..PeerOptions::default()
        },
    );
    let conf = one_output(
        &certs.ca,
        peer.port,
        "heartbeat_type none\n  require_ack_response true\n  <security>\n    self_hostname logferry\n    shared_key s3cret\n  </security>",
        "retry_wait 30s",
    );
    let d = Daemon::start(&conf);
    feed(d.port, "garbled");
    let t = Instant::now();
    while peer.stats.count("garbled") < EVENTS as usize {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "not delivered on a new connection:\n{}",
            d.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = d.stderr();
    assert!(
        log.contains("cannot be decrypted, sending again on a new connection"),
        "{log}"
    );
    assert!(!log.contains("failed to flush"), "{log}");
    assert!(
        !log.contains("detached") && !log.contains("skipped for"),
        "{log}"
    );
}

/// A server that reads everything but leaves the connection open after the client's close_notify
/// (as Fluent Bit 4.x sometimes does): without acks the chunk still counts as sent once the
/// server's kernel acknowledged all of it, and is neither held for `send_timeout` nor sent again.
#[test]
fn a_server_that_does_not_close_its_side_gets_each_chunk_once() {
    let dir = tempfile::tempdir().unwrap();
    let certs = make_certs(dir.path());
    let peer = Peer::start(
        &certs,
        PeerOptions {
            tls13: true,
            stay_open: true,
            ..PeerOptions::default()
        },
    );
    let conf = one_output(
        &certs.ca,
        peer.port,
        "heartbeat_type none\n  send_timeout 120s",
        "",
    );
    let mut d = Daemon::start(&conf);
    for i in 0..3 {
        feed(d.port, &format!("open.{i}"));
    }
    let t = Instant::now();
    while (0..3).any(|i| peer.stats.count(&format!("open.{i}")) < EVENTS as usize) {
        assert!(t.elapsed() < Duration::from_secs(60), "{}", d.stderr());
        std::thread::sleep(Duration::from_millis(20));
    }
    // Each chunk's write ended without waiting out send_timeout: the daemon stops at once.
    let t = Instant::now();
    assert!(d.terminate().success());
    assert!(t.elapsed() < Duration::from_secs(20), "{}", d.stderr());
    for i in 0..3 {
        assert_eq!(
            peer.stats.count(&format!("open.{i}")),
            EVENTS as usize,
            "duplicates"
        );
    }
    let log = d.stderr();
    assert!(warnings(&log).is_empty(), "{log}");
}

/// A server that resets every connection at its close instead of closing it (Fluentd's
/// in_forward does, with its `linger_timeout` default of 0), over TLS 1.2 and 1.3: without acks a
/// chunk counts as sent once the server's kernel acknowledged all of it, so it is neither
/// reported as failed nor sent again (it was, for ever, until the retry limit).
#[test]
fn a_server_that_resets_at_its_close_gets_each_chunk_once() {
    let dir = tempfile::tempdir().unwrap();
    let certs = make_certs(dir.path());
    for tls13 in [true, false] {
        let peer = Peer::start(
            &certs,
            PeerOptions {
                tls13,
                reset_at_close: true,
                ..PeerOptions::default()
            },
        );
        let conf = one_output(&certs.ca, peer.port, "heartbeat_type none", "");
        let mut d = Daemon::start(&conf);
        for i in 0..3 {
            feed(d.port, &format!("reset.{i}"));
        }
        let t = Instant::now();
        while (0..3).any(|i| peer.stats.count(&format!("reset.{i}")) < EVENTS as usize) {
            assert!(t.elapsed() < Duration::from_secs(60), "{}", d.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
        // A chunk taken for unsent would be sent again by the drain at the stop.
        assert!(d.terminate().success());
        for i in 0..3 {
            assert_eq!(
                peer.stats.count(&format!("reset.{i}")),
                EVENTS as usize,
                "tls13 {tls13}: duplicates\n{}",
                d.stderr()
            );
        }
        let log = d.stderr();
        assert!(warnings(&log).is_empty(), "tls13 {tls13}: {log}");
    }
}
