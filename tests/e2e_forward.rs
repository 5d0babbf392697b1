//! The forward input end to end: reference §7.4 over real sockets against the built binary, plus
//! the handshake, TLS, load-balancer probes and malformed input.

mod support;

use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use logferry_forward::encode::{self, Compression};
use logferry_forward::handshake;
use logferry_msgpack::{write, EventTime, Value};
use support::*;

const STDOUT_CONF: &str = "
<source>
  @type forward
  port {PORT}
  bind 127.0.0.1
</source>
<match **>
  @type stdout
</match>
";

const T: u32 = 1_700_000_000;
const WAIT: Duration = Duration::from_secs(10);

fn map(pairs: &[(&str, Value)]) -> Vec<u8> {
    let mut out = Vec::new();
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (Value::Str((*k).into()), v.clone()))
            .collect(),
    )
    .encode(&mut out);
    out
}

fn entry(time: EventTime, record: &[u8]) -> Vec<u8> {
    let mut out = vec![0x92];
    time.encode(&mut out);
    out.extend_from_slice(record);
    out
}

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn msg(tag: &str, time_bytes: &[u8], record: &[u8], option: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    write::array_len(&mut out, if option.is_some() { 4 } else { 3 });
    write::str(&mut out, tag);
    out.extend_from_slice(time_bytes);
    out.extend_from_slice(record);
    if let Some(o) = option {
        out.extend_from_slice(o);
    }
    out
}

fn chunk_opt(id: &str) -> Vec<u8> {
    let mut o = Vec::new();
    write::map_len(&mut o, 1);
    write::str(&mut o, "chunk");
    write::str(&mut o, id);
    o
}

/// Cases 29–31 and 33: Message mode with every time encoding, printed in Fluentd's stdout format.
#[test]
fn message_mode_time_encodings() {
    let mut d = Daemon::start(STDOUT_CONF);
    let mut s = d.connect();
    let rec = map(&[("a", Value::Int(1))]);
    send(&mut s, &hex("93 A1 74 CE 65 53 F1 00 81 A1 61 01")); // case 29
    send(&mut s, &msg("t", &hex("D2 65 53 F1 00"), &rec, None)); // case 30: Docker int32
    send(
        &mut s,
        &msg("t", &hex("D7 00 65 53 F1 00 07 5B CD 15"), &rec, None),
    ); // case 31: fixext8
    send(
        &mut s,
        &msg("t", &hex("C7 08 00 65 53 F1 00 00 00 00 00"), &rec, None),
    ); // case 31: ext8
    send(&mut s, &msg("t", &hex("00"), &rec, None)); // case 33: time 0 → now
    let lines = d.wait_stdout_lines(5, WAIT);
    assert_eq!(lines[0], "2023-11-14 22:13:20.000000000 +0000 t: {\"a\":1}");
    assert_eq!(lines[1], lines[0]);
    assert_eq!(lines[2], "2023-11-14 22:13:20.123456789 +0000 t: {\"a\":1}");
    assert_eq!(lines[3], lines[0]);
    let (now_text, _, _) = parse_stdout_line(&lines[4]);
    assert!(
        !now_text.starts_with("1970") && !now_text.starts_with("2023-11-14"),
        "time 0 must become now: {now_text}"
    );
    assert!(d.terminate().success());
}

/// Cases 32 and 39: a float time is kept with its fraction, and acked (Fluentd drops it only with
/// `skip_invalid_event true`; logferry keeps it, see README "Differences from Fluentd").
/// Case 39b: a string in the time slot makes a PackedForward whose option is the record: no ack.
#[test]
fn float_time_kept_and_string_time_is_packed() {
    let mut d = Daemon::start(STDOUT_CONF);
    let mut s = d.connect();
    let rec = map(&[("a", Value::Int(1))]);
    let mut ft = Vec::new();
    write::f64(&mut ft, 1_700_000_000.5);
    send(&mut s, &msg("t", &ft, &rec, Some(&chunk_opt("x"))));
    assert_eq!(read_msgpack(&mut s), hex("81 A3 61 63 6B A1 78"));
    let mut st = Vec::new();
    write::str(&mut st, "bad");
    send(&mut s, &msg("t", &st, &rec, Some(&chunk_opt("y"))));
    // A marker event proves the connection went on and nothing came before it.
    send(
        &mut s,
        &msg(
            "marker",
            &hex("CE 65 53 F1 00"),
            &rec,
            Some(&chunk_opt("z")),
        ),
    );
    assert_eq!(
        read_msgpack(&mut s),
        hex("81 A3 61 63 6B A1 7A"),
        "no ack for the packed frame, then the marker's ack"
    );
    // A float time is kept with its fraction (Fluentd's default `skip_invalid_event false`
    // keeps it; logferry keeps it whatever that setting); the string time is invalid.
    let lines = d.wait_stdout_lines(2, WAIT);
    assert_eq!(
        lines,
        [
            "2023-11-14 22:13:20.500000000 +0000 t: {\"a\":1}",
            "2023-11-14 22:13:20.000000000 +0000 marker: {\"a\":1}"
        ]
    );
    d.wait_for_log("invalid event", WAIT);
    assert!(d.terminate().success());
}

/// Case 34 (Forward mode with an invalid entry), 35 (PackedForward bin and str32), 36 (gzip members),
/// 37 (compressed text), 47 (Fluent Bit v2 entries).
#[test]
fn forward_packed_compressed_and_fluent_bit_entries() {
    let mut d = Daemon::start(STDOUT_CONF);
    let mut s = d.connect();
    // Case 34: ["t",[[1,{"a":1}],[2,"x"],[3,{"b":2}]]]
    let mut f = Vec::new();
    write::array_len(&mut f, 2);
    write::str(&mut f, "fwd");
    write::array_len(&mut f, 3);
    for (t, r) in [
        (1, map(&[("a", Value::Int(1))])),
        (2, {
            let mut x = Vec::new();
            write::str(&mut x, "x");
            x
        }),
        (3, map(&[("b", Value::Int(2))])),
    ] {
        write::array_len(&mut f, 2);
        write::int(&mut f, t);
        f.extend_from_slice(&r);
    }
    send(&mut s, &f);
    // Case 35: bin payload and str32 payload.
    let blob = hex("92 01 81 A1 61 01 92 02 81 A1 62 02");
    let mut p = Vec::new();
    write::array_len(&mut p, 3);
    write::str(&mut p, "bin");
    write::bin(&mut p, &blob);
    p.extend_from_slice(&hex("81 A4 73 69 7A 65 02"));
    send(&mut s, &p);
    let mut p = Vec::new();
    write::array_len(&mut p, 3);
    write::str(&mut p, "str32");
    p.push(0xdb);
    p.extend_from_slice(&(blob.len() as u32).to_be_bytes());
    p.extend_from_slice(&blob);
    p.extend_from_slice(&hex("80"));
    send(&mut s, &p);
    // Case 36: two gzip members.
    let e1 = entry(EventTime::new(T, 1), &map(&[("g", Value::Int(1))]));
    let e2 = entry(EventTime::new(T, 2), &map(&[("g", Value::Int(2))]));
    let mut gz = encode::gzip(&e1);
    gz.extend(encode::gzip(&e2));
    let mut p = Vec::new();
    write::array_len(&mut p, 3);
    write::str(&mut p, "gz");
    write::bin(&mut p, &gz);
    write::map_len(&mut p, 1);
    write::str(&mut p, "compressed");
    write::str(&mut p, "gzip");
    send(&mut s, &p);
    // Case 37: compressed text.
    let mut p = Vec::new();
    write::array_len(&mut p, 3);
    write::str(&mut p, "text");
    write::bin(&mut p, &e1);
    write::map_len(&mut p, 1);
    write::str(&mut p, "compressed");
    write::str(&mut p, "text");
    send(&mut s, &p);
    // Case 47: [[EventTime(T,5),{}],{"log":"x"}] in Forward mode.
    let mut p = Vec::new();
    write::array_len(&mut p, 2);
    write::str(&mut p, "fb");
    write::array_len(&mut p, 1);
    write::array_len(&mut p, 2);
    write::array_len(&mut p, 2);
    EventTime::new(T, 5).encode(&mut p);
    write::map_len(&mut p, 0);
    p.extend_from_slice(&map(&[("log", Value::Str("x".into()))]));
    send(&mut s, &p);

    let lines = d.wait_stdout_lines(10, WAIT);
    assert_eq!(
        lines,
        [
            "1970-01-01 00:00:01.000000000 +0000 fwd: {\"a\":1}",
            "1970-01-01 00:00:03.000000000 +0000 fwd: {\"b\":2}",
            "1970-01-01 00:00:01.000000000 +0000 bin: {\"a\":1}",
            "1970-01-01 00:00:02.000000000 +0000 bin: {\"b\":2}",
            "1970-01-01 00:00:01.000000000 +0000 str32: {\"a\":1}",
            "1970-01-01 00:00:02.000000000 +0000 str32: {\"b\":2}",
            "2023-11-14 22:13:20.000000001 +0000 gz: {\"g\":1}",
            "2023-11-14 22:13:20.000000002 +0000 gz: {\"g\":2}",
            "2023-11-14 22:13:20.000000001 +0000 text: {\"g\":1}",
            "2023-11-14 22:13:20.000000005 +0000 fb: {\"log\":\"x\"}",
        ]
    );
    assert!(d.terminate().success());
}

/// Case 38: the ack echoes the chunk id byte for byte (Fluentd's ids end in a newline).
/// Also: a frame split into single bytes is reassembled.
#[test]
fn ack_echo_and_byte_by_byte_frames() {
    let mut d = Daemon::start(STDOUT_CONF);
    let mut s = d.connect();
    let entries = [
        entry(EventTime::new(T, 0), &map(&[("k", Value::Str("v".into()))])),
        entry(EventTime::new(T, 1), &map(&[])),
    ]
    .concat();
    let mut p = Vec::new();
    encode::packed_forward(
        "acked",
        &entries,
        2,
        Some("QUJD\n"),
        Compression::Text,
        &mut p,
    );
    for b in &p {
        s.write_all(&[*b]).unwrap();
    }
    s.flush().unwrap();
    assert_eq!(
        read_msgpack(&mut s),
        hex("81 A3 61 63 6B A5 51 55 4A 44 0A")
    );
    let lines = d.wait_stdout_lines(2, WAIT);
    assert_eq!(
        lines[0],
        "2023-11-14 22:13:20.000000000 +0000 acked: {\"k\":\"v\"}"
    );
    assert_eq!(lines[1], "2023-11-14 22:13:20.000000001 +0000 acked: {}");
    assert!(d.terminate().success());
}

/// Case 40: a JSON connection gets JSON acks.
#[test]
fn json_connection() {
    let mut d = Daemon::start(STDOUT_CONF);
    let mut s = d.connect();
    send(&mut s, br#"["t",1700000000,{"a":1},{"chunk":"c1"}]"#);
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap();
    assert_eq!(&buf[..n], br#"{"ack":"c1"}"#);
    send(&mut s, br#"["t2",[[1700000001,{"b":[1,2]}]]]"#);
    let lines = d.wait_stdout_lines(2, WAIT);
    assert_eq!(
        lines,
        [
            "2023-11-14 22:13:20.000000000 +0000 t: {\"a\":1}",
            "2023-11-14 22:13:21.000000000 +0000 t2: {\"b\":[1,2]}"
        ]
    );
    assert!(d.terminate().success());
}

/// Cases 41 and 42: a top-level map is skipped and the connection goes on; nil is a heartbeat;
/// an invalid byte closes that connection only, keeps what it sent before, is logged once, and
/// other clients are unaffected.
#[test]
fn malformed_input_closes_only_that_connection() {
    let mut d = Daemon::start(STDOUT_CONF);
    let mut bad = d.connect();
    let mut good = d.connect();
    let rec = map(&[("a", Value::Int(1))]);
    send(&mut bad, &hex("81 A1 61 01")); // case 41
    send(&mut bad, &hex("C0")); // case 42: heartbeat
    send(
        &mut bad,
        &msg(
            "before",
            &hex("CE 65 53 F1 00"),
            &rec,
            Some(&chunk_opt("b1")),
        ),
    );
    assert_eq!(
        read_msgpack(&mut bad),
        [hex("81 A3 61 63 6B A2"), b"b1".to_vec()].concat()
    );
    send(&mut bad, &hex("C1 93 A1 74 01 80"));
    assert!(
        is_closed(&mut bad),
        "the connection with the invalid byte must be closed"
    );
    send(
        &mut good,
        &msg(
            "after",
            &hex("CE 65 53 F1 00"),
            &rec,
            Some(&chunk_opt("g1")),
        ),
    );
    assert_eq!(
        read_msgpack(&mut good),
        [hex("81 A3 61 63 6B A2"), b"g1".to_vec()].concat()
    );
    let lines = d.wait_stdout_lines(2, WAIT);
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].ends_with("before: {\"a\":1}") && lines[1].ends_with("after: {\"a\":1}"),
        "{lines:?}"
    );
    d.wait_for_log("incoming chunk is broken", WAIT);
    d.wait_for_log("malformed connections so far: 1", WAIT);
    let log = d.stderr();
    assert_eq!(
        log.matches("malformed connections so far: 1").count(),
        1,
        "{log}"
    );
    // A 4 GiB length prefix must not make the daemon allocate 4 GiB or die.
    let mut huge = d.connect();
    send(&mut huge, &hex("93 A1 74 DB FF FF FF FF 00 00"));
    drop(huge);
    let mut again = d.connect();
    send(
        &mut again,
        &msg("alive", &hex("CE 65 53 F1 00"), &rec, Some(&chunk_opt("z"))),
    );
    read_msgpack(&mut again);
    assert!(d.terminate().success());
}

/// Case 43: an object over chunk_size_limit is dropped without ack; the connection goes on.
#[test]
fn chunk_size_limit() {
    let mut d = Daemon::start(
        "<source>\n@type forward\nport {PORT}\nbind 127.0.0.1\nchunk_size_limit 1k\nchunk_size_warn_limit 512\n</source>\n<match **>\n@type stdout\n</match>\n",
    );
    let mut s = d.connect();
    let big = entry(
        EventTime::new(T, 0),
        &map(&[("pad", Value::Str("x".repeat(2048)))]),
    );
    let mut p = Vec::new();
    encode::packed_forward("big", &big, 1, Some("big1"), Compression::Text, &mut p);
    send(&mut s, &p);
    let mid = entry(
        EventTime::new(T, 0),
        &map(&[("pad", Value::Str("y".repeat(600)))]),
    );
    let mut p = Vec::new();
    encode::packed_forward("mid", &mid, 1, Some("mid1"), Compression::Text, &mut p);
    send(&mut s, &p);
    assert_eq!(
        read_msgpack(&mut s),
        [hex("81 A3 61 63 6B A4"), b"mid1".to_vec()].concat(),
        "only the second object is acked"
    );
    let lines = d.wait_stdout_lines(1, WAIT);
    assert_eq!(lines.len(), 1);
    assert!(lines[0].contains(" mid: "));
    d.wait_for_log("larger than 'chunk_size_limit'", WAIT);
    d.wait_for_log("larger than 'chunk_size_warn_limit'", WAIT);
    assert!(d.terminate().success());
}

/// Case 44: source_address_key and add_tag_prefix; `tag` replaces the tag.
#[test]
fn source_address_key_and_tag_prefix() {
    let mut d = Daemon::start(
        "<source>\n@type forward\nport {PORT}\nbind 127.0.0.1\nsource_address_key ip\nadd_tag_prefix p\n</source>\n<match **>\n@type stdout\n</match>\n",
    );
    let mut s = d.connect();
    send(
        &mut s,
        &msg(
            "t",
            &hex("CE 65 53 F1 00"),
            &map(&[("a", Value::Int(1)), ("ip", Value::Str("spoofed".into()))]),
            None,
        ),
    );
    send(
        &mut s,
        &msg(
            "t",
            &hex("CE 65 53 F1 00"),
            &map(&[("b", Value::Int(2))]),
            None,
        ),
    );
    let lines = d.wait_stdout_lines(2, WAIT);
    assert_eq!(
        lines[0],
        "2023-11-14 22:13:20.000000000 +0000 p.t: {\"a\":1,\"ip\":\"127.0.0.1\"}"
    );
    assert_eq!(
        lines[1],
        "2023-11-14 22:13:20.000000000 +0000 p.t: {\"b\":2,\"ip\":\"127.0.0.1\"}"
    );
    assert!(d.terminate().success());
}

/// Case 45: the UDP heartbeat on the same port.
#[test]
fn udp_heartbeat() {
    let mut d = Daemon::start(STDOUT_CONF);
    let u = UdpSocket::bind("127.0.0.1:0").unwrap();
    u.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    u.send_to(&[0], ("127.0.0.1", d.port)).unwrap();
    let mut buf = [9u8; 16];
    let (n, from) = u.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from.port()), (&[0u8][..], d.port));
    assert!(d.terminate().success());
}

const SECURE_CONF: &str = "
<source>
  @type forward
  port {PORT}
  bind 127.0.0.1
  <security>
    self_hostname srv
    shared_key k
    user_auth true
    <user>
      username alice
      password wonder
    </user>
  </security>
</source>
<match **>
  @type stdout
</match>
";

fn do_handshake(s: &mut TcpStream, key: &str, user: &str, pass: &str) -> Result<String, String> {
    let helo_raw = read_msgpack(s);
    let helo = handshake::parse_helo(&helo_raw)?;
    assert_eq!(helo.nonce.len(), 16);
    assert_eq!(helo.auth.len(), 16, "user_auth sends an auth salt");
    send(
        s,
        &handshake::ping(
            &helo,
            "cli",
            key,
            "0123456789abcdef0123456789abcdef",
            user,
            pass,
        ),
    );
    let pong = read_msgpack(s);
    handshake::check_pong(&pong, &helo, "0123456789abcdef0123456789abcdef", key, "cli")
}

/// Case 46: the shared-key handshake with user auth; a wrong key or password gets a failing PONG and
/// the connection closes.
#[test]
fn shared_key_handshake() {
    let mut d = Daemon::start(SECURE_CONF);
    let mut s = d.connect();
    assert_eq!(do_handshake(&mut s, "k", "alice", "wonder").unwrap(), "srv");
    send(
        &mut s,
        &msg(
            "secure",
            &hex("CE 65 53 F1 00"),
            &map(&[("a", Value::Int(1))]),
            Some(&chunk_opt("s1")),
        ),
    );
    assert_eq!(
        read_msgpack(&mut s),
        [hex("81 A3 61 63 6B A2"), b"s1".to_vec()].concat()
    );

    let mut bad = d.connect();
    let err = do_handshake(&mut bad, "wrong", "alice", "wonder").unwrap_err();
    assert!(err.contains("shared_key mismatch"), "{err}");
    assert!(is_closed(&mut bad));
    let mut bad = d.connect();
    let err = do_handshake(&mut bad, "k", "alice", "nope").unwrap_err();
    assert!(err.contains("username/password mismatch"), "{err}");
    assert!(is_closed(&mut bad));
    // A client that skips the handshake gets nothing through.
    let mut rude = d.connect();
    let _helo = read_msgpack(&mut rude);
    send(
        &mut rude,
        &msg("rude", &hex("CE 65 53 F1 00"), &map(&[]), None),
    );
    let pong = read_msgpack(&mut rude);
    let (v, _) = Value::decode(&pong).unwrap();
    assert_eq!(
        v,
        Value::Array(vec![
            Value::Str("PONG".into()),
            Value::Bool(false),
            Value::Str("invalid ping message".into()),
            Value::Str("".into()),
            Value::Str("".into())
        ])
    );
    assert!(is_closed(&mut rude));

    let lines = d.wait_stdout_lines(1, WAIT);
    assert_eq!(
        lines,
        ["2023-11-14 22:13:20.000000000 +0000 secure: {\"a\":1}"]
    );
    assert!(d.terminate().success());
}

/// `<transport tls>` with a certificate from files: a rustls client that trusts it round-trips an
/// acked event; a plain-text client gets nothing through.
#[test]
fn tls_round_trip() {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).unwrap();
    let conf = format!(
        "<source>\n@type forward\nport {{PORT}}\nbind 127.0.0.1\n<transport tls>\ncert_path {0}/cert.pem\nprivate_key_path {0}/key.pem\n</transport>\n</source>\n<match **>\n@type stdout\n</match>\n",
        dir.path().display()
    );
    let mut d = Daemon::start(&conf);
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let conn =
        rustls::ClientConnection::new(Arc::new(cfg), "localhost".try_into().unwrap()).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, d.connect());
    tls.write_all(&msg(
        "tls",
        &hex("CE 65 53 F1 00"),
        &map(&[("a", Value::Int(1))]),
        Some(&chunk_opt("t1")),
    ))
    .unwrap();
    tls.flush().unwrap();
    let mut reply = [0u8; 16];
    let mut got = 0;
    while got < 8 {
        got += tls.read(&mut reply[got..]).unwrap();
    }
    assert_eq!(
        &reply[..got],
        &[hex("81 A3 61 63 6B A2"), b"t1".to_vec()].concat()[..]
    );
    let mut plain = d.connect();
    send(
        &mut plain,
        &msg("plain", &hex("CE 65 53 F1 00"), &map(&[]), None),
    );
    assert!(is_closed(&mut plain));
    let lines = d.wait_stdout_lines(1, WAIT);
    assert_eq!(
        lines,
        ["2023-11-14 22:13:20.000000000 +0000 tls: {\"a\":1}"]
    );
    assert!(d.terminate().success());
}

/// NLB health checks open a connection and close it without a byte: nothing is logged above debug.
#[test]
fn load_balancer_probes_are_quiet() {
    let mut d = Daemon::start(STDOUT_CONF);
    let before = d.stderr();
    for _ in 0..200 {
        drop(d.connect());
    }
    // A real event afterwards proves the probes were processed.
    let mut s = d.connect();
    send(
        &mut s,
        &msg(
            "t",
            &hex("CE 65 53 F1 00"),
            &map(&[]),
            Some(&chunk_opt("p")),
        ),
    );
    read_msgpack(&mut s);
    // The probes are separate tasks; give them time to log if they were going to.
    std::thread::sleep(Duration::from_millis(300));
    let after = d.stderr();
    assert_eq!(before, after, "probes must not log above debug");
    assert!(d.terminate().success());
}

/// deny_keepalive: the connection closes after the first message (after its ack).
#[test]
fn deny_keepalive_closes_after_first_message() {
    let mut d = Daemon::start("<source>\n@type forward\nport {PORT}\nbind 127.0.0.1\ndeny_keepalive true\n</source>\n<match **>\n@type stdout\n</match>\n");
    let mut s = d.connect();
    let rec = map(&[]);
    send(
        &mut s,
        &msg("one", &hex("CE 65 53 F1 00"), &rec, Some(&chunk_opt("1"))),
    );
    assert_eq!(read_msgpack(&mut s), hex("81 A3 61 63 6B A1 31"));
    assert!(is_closed(&mut s));
    d.wait_stdout_lines(1, WAIT);
    assert!(d.terminate().success());
}

/// Case 17: an output that fails to accept the events → no ack and the connection is closed;
/// with `<label @ERROR>` the events land there and the ack is sent.
#[test]
fn emit_error_withholds_ack_or_goes_to_error_label() {
    let conf = "
<source>
  @type forward
  port {PORT}
  bind 127.0.0.1
</source>
<match **>
  @type file
  path {DIR}/not-a-dir/out
  append true
</match>
";
    let mut d = Daemon::start(conf);
    std::fs::write(d.path("not-a-dir"), "a file where a directory should be").unwrap();
    let mut s = d.connect();
    send(
        &mut s,
        &msg(
            "t",
            &hex("CE 65 53 F1 00"),
            &map(&[("a", Value::Int(1))]),
            Some(&chunk_opt("e1")),
        ),
    );
    assert!(is_closed(&mut s), "no ack; the connection is closed");
    d.wait_for_log("without ack", WAIT);
    assert!(d.terminate().success());

    let with_error =
        format!("{conf}<label @ERROR>\n<match **>\n@type stdout\n</match>\n</label>\n");
    let mut d = Daemon::start(&with_error);
    std::fs::write(d.path("not-a-dir"), "x").unwrap();
    let mut s = d.connect();
    send(
        &mut s,
        &msg(
            "t",
            &hex("CE 65 53 F1 00"),
            &map(&[("a", Value::Int(1))]),
            Some(&chunk_opt("e2")),
        ),
    );
    assert_eq!(
        read_msgpack(&mut s),
        [hex("81 A3 61 63 6B A2"), b"e2".to_vec()].concat()
    );
    assert_eq!(
        d.wait_stdout_lines(1, WAIT),
        ["2023-11-14 22:13:20.000000000 +0000 t: {\"a\":1}"]
    );
    assert!(d.terminate().success());
}

/// Eight clients at once, acked PackedForward (plain and gzip): every event arrives exactly once.
#[test]
fn many_connections_in_parallel() {
    let mut d = Daemon::start("<source>\n@type forward\nport {PORT}\nbind 127.0.0.1\n</source>\n<match **>\n@type file\npath {DIR}/out\nappend true\n<format>\n@type json\n</format>\n</match>\n");
    let port = d.port;
    let handles: Vec<_> = (0..8)
        .map(|c| {
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                for b in 0..50 {
                    let mut entries = Vec::new();
                    for i in 0..20 {
                        entries.extend(entry(
                            EventTime::new(T, 0),
                            &map(&[("c", Value::Int(c)), ("n", Value::Int(b * 20 + i))]),
                        ));
                    }
                    let mut p = Vec::new();
                    encode::packed_forward(
                        "par",
                        &entries,
                        20,
                        Some(&format!("{c}-{b}")),
                        if b % 2 == 0 {
                            Compression::Gzip
                        } else {
                            Compression::Text
                        },
                        &mut p,
                    );
                    send(&mut s, &p);
                    let ack = read_msgpack(&mut s);
                    assert!(ack.ends_with(format!("{c}-{b}").as_bytes()));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let files: Vec<_> = std::fs::read_dir(d.dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("out."))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let mut seen = std::collections::HashSet::new();
    for line in lines_of(&files[0]) {
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert!(
            seen.insert((v["c"].as_i64().unwrap(), v["n"].as_i64().unwrap())),
            "duplicate {line}"
        );
    }
    assert_eq!(seen.len(), 8 * 1000);
    assert!(d.terminate().success());
}
