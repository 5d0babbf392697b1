//! Handshake digests and PONG replies (reference §1.7, case 46).
mod common;

use common::hex;
use logferry_forward::handshake::*;
use logferry_forward::{Decoder, DecoderOptions};
use logferry_msgpack::{write, Reader};
use sha2::{Digest, Sha512};
use std::net::IpAddr;
use std::sync::Arc;

const NONCE: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
const AUTH: [u8; 16] = [
    100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115,
];
// python3: hashlib.sha512(b's' + b'cli' + bytes(range(16)) + b'k').hexdigest()
const CLI_DIGEST: &str = "30559caa0a5d55563cac3049fd6c48054c99cb67127bc5435b5c223494b619dd153909d8e53c66279efce86eaf0744203d2cd03184ff330fa7ebbf9f6565c7a7";
// python3: hashlib.sha512(b's' + b'srv' + bytes(range(16)) + b'k').hexdigest()
const SRV_DIGEST: &str = "eea808ec476f75fc6031729c6d98052da48ddffc241c2e06ae1a2dc60b221ccbc040b327f18f19c4674fcc34880c1c576a407032d984921129c3865e421410f1";
// python3: hashlib.sha512(bytes(range(100,116)) + b'alice' + b'pw').hexdigest()
const ALICE_DIGEST: &str = "9b8f0290fe81bd206f3f3eed02663522e66b0a5da9c796404ec49c02d468ad3f0a73cc2c86018062f8632adb43ee44d72d997a9d98f8cb517eccd342e35967ea";

fn cfg() -> SecurityConfig {
    SecurityConfig {
        self_hostname: "srv".into(),
        shared_key: "k".into(),
        ..Default::default()
    }
}

fn server(cfg: SecurityConfig) -> ServerHandshake {
    ServerHandshake::new(Arc::new(cfg), true, NONCE, AUTH)
}

fn ping_raw(host: &str, salt: &str, digest: &str, user: &str, pass_digest: &str) -> Vec<u8> {
    let mut b = Vec::new();
    write::array_len(&mut b, 6);
    for s in ["PING", host, salt, digest, user, pass_digest] {
        write::str(&mut b, s);
    }
    b
}

fn pong_fields(raw: &[u8]) -> (bool, String, String, String) {
    let mut r = Reader::new(raw);
    assert_eq!(r.read_array_len(), Ok(5));
    assert_eq!(r.read_str(), Ok(&b"PONG"[..]));
    let ok = r.read_bool().unwrap();
    let mut s = || String::from_utf8(r.read_str().unwrap().to_vec()).unwrap();
    let (a, b, c) = (s(), s(), s());
    (ok, a, b, c)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn digests_match_independent_sha512() {
    assert_eq!(shared_key_digest(b"s", "cli", &NONCE, "k"), CLI_DIGEST);
    assert_eq!(shared_key_digest(b"s", "srv", &NONCE, "k"), SRV_DIGEST);
    assert_eq!(password_digest(&AUTH, "alice", "pw"), ALICE_DIGEST);
    let mut h = Sha512::new();
    h.update(b"scli");
    h.update(NONCE);
    h.update(b"k");
    let direct: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(direct, CLI_DIGEST);
}

#[test]
fn helo_bytes() {
    let s = server(cfg());
    let mut want = hex("92 A4 48 45 4C 4F 83 A5 6E 6F 6E 63 65 C4 10");
    want.extend(NONCE);
    want.extend(hex("A4 61 75 74 68 C4 10"));
    want.extend(AUTH);
    want.extend(hex("A9 6B 65 65 70 61 6C 69 76 65 C3"));
    assert_eq!(s.helo(), want);
    let helo = parse_helo(&s.helo()).unwrap();
    assert_eq!(
        (helo.nonce, helo.auth, helo.keepalive),
        (NONCE.to_vec(), AUTH.to_vec(), true)
    );
    let closing = ServerHandshake::new(Arc::new(cfg()), false, NONCE, AUTH);
    assert!(!parse_helo(&closing.helo()).unwrap().keepalive);
    assert!(parse_helo(&hex("92 A4 50 49 4E 47 80")).is_err());
    assert!(parse_helo(&hex("92 A4 48 45 4C 4F 80")).is_err());
}

#[test]
fn case46_success_pong() {
    let out = server(cfg()).check_ping(
        &ping_raw("cli", "s", CLI_DIGEST, "", ""),
        ip("10.0.0.1"),
        None,
    );
    assert!(out.ok);
    assert_eq!(out.reason, None);
    assert_eq!(
        pong_fields(&out.reply),
        (true, String::new(), "srv".into(), SRV_DIGEST.into())
    );
}

#[test]
fn case46_wrong_key_fails() {
    let bad = shared_key_digest(b"s", "cli", &NONCE, "wrong");
    let out = server(cfg()).check_ping(&ping_raw("cli", "s", &bad, "", ""), ip("10.0.0.1"), None);
    assert!(!out.ok);
    assert_eq!(out.reason.as_deref(), Some("shared_key mismatch"));
    let mut want = hex("95 A4 50 4F 4E 47 C2");
    write::str(&mut want, "shared_key mismatch");
    want.extend(hex("A0 A0"));
    assert_eq!(out.reply, want);
}

#[test]
fn invalid_ping_shapes() {
    let s = server(cfg());
    let mut five = Vec::new();
    write::array_len(&mut five, 5);
    for x in ["PING", "cli", "s", CLI_DIGEST, ""] {
        write::str(&mut five, x);
    }
    let mut wrong_word = ping_raw("cli", "s", CLI_DIGEST, "", "");
    wrong_word[2] = b'O';
    for raw in [
        five,
        wrong_word,
        vec![0x07],
        hex("A4 50 49 4E 47"),
        hex("81 A1 61 01"),
        hex("D7 00 00 00 00 01 00 00 00 00"),
    ] {
        let out = s.check_ping(&raw, ip("10.0.0.1"), None);
        assert_eq!(
            out.reason.as_deref(),
            Some("invalid ping message"),
            "{raw:02x?}"
        );
        assert!(!pong_fields(&out.reply).0);
    }
    // Where Fluentd raises (no `size`, a hostname or salt that is not a String, an unknown ext or
    // broken msgpack), the connection is closed without a PONG.
    let with_field = |i: usize, v: &[u8]| {
        let mut raw = Vec::new();
        write::array_len(&mut raw, 6);
        for (j, x) in ["PING", "cli", "s", CLI_DIGEST, "", ""].iter().enumerate() {
            if j == i {
                raw.extend_from_slice(v);
            } else {
                write::str(&mut raw, x);
            }
        }
        raw
    };
    for raw in [
        vec![0xc0],
        vec![0xc3],
        vec![0xc1],
        hex("CB 3F F0 00 00 00 00 00 00"),
        hex("D4 05 00"),
        with_field(1, &[0x07]),
        with_field(2, &[0xc0]),
    ] {
        let out = s.check_ping(&raw, ip("10.0.0.1"), None);
        assert!(!out.ok && out.reply.is_empty(), "{raw:02x?}");
    }
    // Other fields may be of any type: a nil username is no user, a number no digest.
    assert!(
        s.check_ping(&with_field(4, &[0xc0]), ip("10.0.0.1"), None)
            .ok
    );
    let out = s.check_ping(&with_field(3, &[0x07]), ip("10.0.0.1"), None);
    assert_eq!(out.reason.as_deref(), Some("shared_key mismatch"));
}

#[test]
fn anonymous_sources_and_client_rules() {
    let mut c = cfg();
    c.allow_anonymous_source = false;
    c.clients = vec![
        ClientRule {
            network: Some((ip("192.168.0.0"), 16)),
            ..Default::default()
        },
        ClientRule {
            host: Some("trusted.example".into()),
            shared_key: Some("k2".into()),
            ..Default::default()
        },
        ClientRule {
            host: Some("10.9.9.9".into()),
            ..Default::default()
        },
    ];
    let s = server(c);
    let good = ping_raw("cli", "s", CLI_DIGEST, "", "");
    let out = s.check_ping(&good, ip("10.0.0.1"), Some("other.example"));
    assert_eq!(
        out.reason.as_deref(),
        Some("anonymous source host '10.0.0.1' denied")
    );
    assert_eq!(
        pong_fields(&out.reply).1,
        "anonymous source host '10.0.0.1' denied"
    );
    assert!(s.check_ping(&good, ip("192.168.3.4"), None).ok);
    assert!(s.check_ping(&good, ip("::ffff:192.168.3.4"), None).ok);
    assert!(s.check_ping(&good, ip("10.9.9.9"), None).ok);
    // As Ruby's IPAddr: an IPv4-mapped network or host does not take an IPv4 peer.
    let mut mapped = cfg();
    mapped.allow_anonymous_source = false;
    mapped.clients = vec![
        ClientRule {
            network: Some((ip("::ffff:127.0.0.0"), 104)),
            ..Default::default()
        },
        ClientRule {
            host: Some("::ffff:10.0.0.1".into()),
            ..Default::default()
        },
    ];
    let mapped = server(mapped);
    assert!(!mapped.check_ping(&good, ip("127.0.0.1"), None).ok);
    assert!(!mapped.check_ping(&good, ip("10.0.0.1"), None).ok);
    assert!(mapped.check_ping(&good, ip("::ffff:127.0.0.1"), None).ok);
    // the per-client key overrides the global one
    let out = s.check_ping(&good, ip("10.0.0.2"), Some("TRUSTED.example"));
    assert_eq!(out.reason.as_deref(), Some("shared_key mismatch"));
    let k2 = shared_key_digest(b"s", "cli", &NONCE, "k2");
    let out = s.check_ping(
        &ping_raw("cli", "s", &k2, "", ""),
        ip("10.0.0.2"),
        Some("trusted.example"),
    );
    assert!(out.ok);
    assert_eq!(
        pong_fields(&out.reply).3,
        shared_key_digest(b"s", "srv", &NONCE, "k2")
    );
}

#[test]
fn user_auth() {
    let mut c = cfg();
    c.user_auth = true;
    c.users = vec![("alice".into(), "pw".into()), ("bob".into(), "pw2".into())];
    c.clients = vec![ClientRule {
        network: Some((ip("10.1.0.0"), 16)),
        users: vec!["bob".into()],
        ..Default::default()
    }];
    let s = server(c);
    let alice = ping_raw("cli", "s", CLI_DIGEST, "alice", ALICE_DIGEST);
    assert!(s.check_ping(&alice, ip("10.0.0.1"), None).ok);
    // alice is not in the 10.1/16 client's user list
    let out = s.check_ping(&alice, ip("10.1.2.3"), None);
    assert_eq!(out.reason.as_deref(), Some("username/password mismatch"));
    let wrong = ping_raw(
        "cli",
        "s",
        CLI_DIGEST,
        "alice",
        &password_digest(&AUTH, "alice", "nope"),
    );
    assert_eq!(
        s.check_ping(&wrong, ip("10.0.0.1"), None).reason.as_deref(),
        Some("username/password mismatch")
    );
    // shared key is checked before users
    let both_bad = ping_raw("cli", "s", SRV_DIGEST, "alice", "x");
    assert_eq!(
        s.check_ping(&both_bad, ip("10.0.0.1"), None)
            .reason
            .as_deref(),
        Some("shared_key mismatch")
    );
}

#[test]
fn client_and_server_agree() {
    let mut c = cfg();
    c.user_auth = true;
    c.users = vec![("alice".into(), "pw".into())];
    let s = server(c);
    let helo = parse_helo(&s.helo()).unwrap();
    let p = ping(
        &helo,
        "cli",
        "k",
        "0123456789abcdef0123456789abcdef",
        "alice",
        "pw",
    );
    // the server reads the PING with a decoder, as in_forward does
    let mut d = Decoder::new(DecoderOptions::default());
    d.feed(&p).unwrap();
    let raw = d.next_raw().unwrap().unwrap();
    assert_eq!(raw, p);
    let out = s.check_ping(&raw, ip("127.0.0.1"), Some("localhost"));
    assert!(out.ok, "{:?}", out.reason);
    let host = check_pong(
        &out.reply,
        &helo,
        "0123456789abcdef0123456789abcdef",
        "k",
        "cli",
    );
    assert_eq!(host, Ok("srv".into()));
    // client-side rejections
    assert_eq!(
        check_pong(
            &out.reply,
            &helo,
            "0123456789abcdef0123456789abcdef",
            "k",
            "srv"
        ),
        Err("same hostname between input and output: invalid configuration".into())
    );
    assert_eq!(
        check_pong(
            &out.reply,
            &helo,
            "0123456789abcdef0123456789abcdef",
            "other",
            "cli"
        ),
        Err("shared key mismatch".into())
    );
    let bad = s.check_ping(
        &ping(&helo, "cli", "bad", "salt", "alice", "pw"),
        ip("127.0.0.1"),
        None,
    );
    assert_eq!(
        check_pong(&bad.reply, &helo, "salt", "bad", "cli"),
        Err("authentication failed: shared_key mismatch".into())
    );
    assert!(check_pong(&[0xc0], &helo, "salt", "k", "cli").is_err());
}

#[test]
fn ping_without_auth_salt_sends_empty_user() {
    let helo = Helo {
        nonce: NONCE.to_vec(),
        auth: Vec::new(),
        keepalive: true,
    };
    let p = ping(&helo, "cli", "k", "s", "alice", "pw");
    assert_eq!(p, ping_raw("cli", "s", CLI_DIGEST, "", ""));
}

/// A username sent as msgpack bin is a binary Ruby String in Fluentd: equal to the configured name
/// when it is ASCII, never when it is not (Ruby compares strings of two encodings only then).
#[test]
fn bin_username_matches_only_when_ascii() {
    let mut c = cfg();
    c.user_auth = true;
    c.users = vec![("josé".into(), "pw".into()), ("alice".into(), "pw".into())];
    let s = server(c);
    let with_user = |user: &str, bin: bool| {
        let mut b = Vec::new();
        write::array_len(&mut b, 6);
        for x in ["PING", "cli", "s", CLI_DIGEST] {
            write::str(&mut b, x);
        }
        if bin {
            write::bin(&mut b, user.as_bytes());
        } else {
            write::str(&mut b, user);
        }
        write::str(&mut b, &password_digest(&AUTH, user, "pw"));
        b
    };
    let ok = |raw: Vec<u8>| s.check_ping(&raw, ip("10.0.0.1"), None).ok;
    assert!(ok(with_user("josé", false)));
    assert!(!ok(with_user("josé", true)));
    assert!(ok(with_user("alice", true)));
    // A JSON PING's strings are all binary in Fluentd.
    let json_ok = |raw: Vec<u8>| s.check_json_ping(&raw, ip("10.0.0.1"), None).ok;
    assert!(!json_ok(with_user("josé", false)));
    assert!(json_ok(with_user("alice", false)));
}
