//! Server side: HELO and PING verification.

use super::config::SecurityConfig;
use super::digest::{ct_eq, sha512_hex};
use logferry_msgpack::{write, Reader};
use std::net::IpAddr;
use std::sync::Arc;

/// Server half of one connection's handshake.
#[derive(Clone, Debug)]
pub struct ServerHandshake {
    cfg: Arc<SecurityConfig>,
    keepalive: bool,
    nonce: [u8; 16],
    auth: [u8; 16],
}

/// Result of checking a PING.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PingOutcome {
    /// The PONG bytes to send; empty when there is no answer and the connection is just closed
    /// (a PING Fluentd raises on: nil, true, a float or a broken value in its place, a hostname or
    /// salt that is not a string).
    pub reply: Vec<u8>,
    /// True when the client is authenticated; otherwise close after writing `reply`.
    pub ok: bool,
    /// The failure reason (also inside `reply` when there is one).
    pub reason: Option<String>,
}

/// Why a PING failed: answered with a PONG, or (Fluentd raising) not answered.
enum Refusal {
    Pong(String),
    Close(&'static str),
}

impl From<&str> for Refusal {
    fn from(reason: &str) -> Self {
        Refusal::Pong(reason.to_string())
    }
}

/// The PING fields after the word: each the raw msgpack value, since Fluentd takes any type in
/// some places and raises on others.
struct Ping<'a> {
    hostname: &'a [u8],
    salt: &'a [u8],
    key_digest: &'a [u8],
    username: &'a [u8],
    password_digest: &'a [u8],
}

/// The payload of a str or bin value (what Ruby holds as a String).
fn string(raw: &[u8]) -> Option<&[u8]> {
    let mut r = Reader::new(raw);
    r.read_str().ok().filter(|_| r.is_empty())
}

/// Ruby's `name == value` for a configured (UTF-8) name and a PING's value: a str with the same
/// bytes; a bin (a binary String) only when those bytes are ASCII, since Ruby's strings of two
/// encodings are equal only then.
fn same_name(raw: &[u8], name: &str, binary_strings: bool) -> bool {
    let is_bin = binary_strings || matches!(raw.first(), Some(0xc4..=0xc6));
    string(raw).is_some_and(|v| v == name.as_bytes() && (!is_bin || name.is_ascii()))
}

/// Fluentd's `message.size == 6 && message[0] == 'PING'` on whatever came first.
fn parse_ping(raw: &[u8]) -> Result<Ping<'_>, Refusal> {
    let mut r = Reader::new(raw);
    match r.peek() {
        // nil, true/false and floats have no `size`: Fluentd raises and closes.
        Some(0xc0 | 0xc2 | 0xc3 | 0xca | 0xcb) => {
            return Err(Refusal::Close("the PING is not an array"))
        }
        // Fluentd's unpacker knows ext type 0 (EventTime) only; others raise.
        Some(0xc7..=0xc9 | 0xd4..=0xd8) => match r.read_ext() {
            Ok((0, _)) => return Err("invalid ping message".into()),
            _ => return Err(Refusal::Close("the PING is an unknown ext type")),
        },
        Some(0x90..=0x9f | 0xdc | 0xdd) => {}
        None | Some(0xc1) => return Err(Refusal::Close("the PING is not msgpack")),
        _ => return Err("invalid ping message".into()),
    }
    let n = r
        .read_array_len()
        .map_err(|_| Refusal::Close("the PING is not msgpack"))?;
    let mut fields = [&raw[..0]; 6];
    if n != 6 {
        return Err("invalid ping message".into());
    }
    for f in &mut fields {
        *f = r
            .read_raw()
            .map_err(|_| Refusal::Close("the PING is not msgpack"))?;
    }
    if string(fields[0]) != Some(b"PING") {
        return Err("invalid ping message".into());
    }
    Ok(Ping {
        hostname: fields[1],
        salt: fields[2],
        key_digest: fields[3],
        username: fields[4],
        password_digest: fields[5],
    })
}

impl ServerHandshake {
    /// A handshake using fresh random `nonce` and `auth` salt; `keepalive` is
    /// `!deny_keepalive`.
    pub fn new(cfg: Arc<SecurityConfig>, keepalive: bool, nonce: [u8; 16], auth: [u8; 16]) -> Self {
        ServerHandshake {
            cfg,
            keepalive,
            nonce,
            auth,
        }
    }

    /// The nonce sent in HELO.
    pub fn nonce(&self) -> &[u8; 16] {
        &self.nonce
    }

    /// The user-auth salt sent in HELO.
    pub fn auth(&self) -> &[u8; 16] {
        &self.auth
    }

    /// `["HELO", {"nonce": bin16, "auth": bin16, "keepalive": bool}]`.
    pub fn helo(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        write::array_len(&mut out, 2);
        write::str(&mut out, "HELO");
        write::map_len(&mut out, 3);
        write::str(&mut out, "nonce");
        write::bin(&mut out, &self.nonce);
        write::str(&mut out, "auth");
        write::bin(&mut out, &self.auth);
        write::str(&mut out, "keepalive");
        write::bool(&mut out, self.keepalive);
        out
    }

    /// Verify a PING (checks in Fluentd's order: shape, peer, shared key,
    /// user) and build the PONG.
    pub fn check_ping(
        &self,
        raw: &[u8],
        peer_ip: IpAddr,
        peer_hostname: Option<&str>,
    ) -> PingOutcome {
        self.check(raw, peer_ip, peer_hostname, false)
    }

    /// [`check_ping`](Self::check_ping) for a PING that came as JSON (`raw` is its msgpack
    /// form): Fluentd's JSON parser gives binary Ruby Strings (its workers run with
    /// `-Eascii-8bit:ascii-8bit`), so a non-ASCII username never matches.
    pub fn check_json_ping(
        &self,
        raw: &[u8],
        peer_ip: IpAddr,
        peer_hostname: Option<&str>,
    ) -> PingOutcome {
        self.check(raw, peer_ip, peer_hostname, true)
    }

    fn check(
        &self,
        raw: &[u8],
        peer_ip: IpAddr,
        peer_hostname: Option<&str>,
        binary_strings: bool,
    ) -> PingOutcome {
        match self.verify(raw, peer_ip, peer_hostname, binary_strings) {
            Ok(reply) => PingOutcome {
                reply,
                ok: true,
                reason: None,
            },
            Err(Refusal::Pong(reason)) => {
                let mut reply = Vec::new();
                write::array_len(&mut reply, 5);
                write::str(&mut reply, "PONG");
                write::bool(&mut reply, false);
                write::str(&mut reply, &reason);
                write::str(&mut reply, "");
                write::str(&mut reply, "");
                PingOutcome {
                    reply,
                    ok: false,
                    reason: Some(reason),
                }
            }
            Err(Refusal::Close(why)) => PingOutcome {
                reply: Vec::new(),
                ok: false,
                reason: Some(why.to_string()),
            },
        }
    }

    fn verify(
        &self,
        raw: &[u8],
        peer_ip: IpAddr,
        peer_hostname: Option<&str>,
        binary_strings: bool,
    ) -> Result<Vec<u8>, Refusal> {
        let cfg = &*self.cfg;
        let ping = parse_ping(raw)?;
        let rule = cfg
            .clients
            .iter()
            .find(|c| c.matches(peer_ip, peer_hostname));
        if rule.is_none() && !cfg.allow_anonymous_source {
            return Err(Refusal::Pong(format!(
                "anonymous source host '{peer_ip}' denied"
            )));
        }
        let key = rule
            .and_then(|r| r.shared_key.as_deref())
            .unwrap_or(&cfg.shared_key);
        // Fluentd's Digest#update raises on a salt or hostname that is not a String.
        let (Some(salt), Some(hostname)) = (string(ping.salt), string(ping.hostname)) else {
            return Err(Refusal::Close(
                "the PING's hostname or salt is not a string",
            ));
        };
        let expected = sha512_hex(&[salt, hostname, &self.nonce, key.as_bytes()]);
        if !string(ping.key_digest).is_some_and(|d| ct_eq(expected.as_bytes(), d)) {
            return Err("shared_key mismatch".into());
        }
        if cfg.user_auth {
            let allowed = |name: &str| {
                rule.is_none_or(|r| r.users.is_empty() || r.users.iter().any(|u| u == name))
            };
            // Any type in the username's place: a non-string is no user's name.
            let password_digest = string(ping.password_digest);
            let ok = cfg.users.iter().filter(|(u, _)| allowed(u)).any(|(u, p)| {
                let digest = sha512_hex(&[&self.auth, u.as_bytes(), p.as_bytes()]);
                same_name(ping.username, u, binary_strings)
                    && password_digest.is_some_and(|d| ct_eq(digest.as_bytes(), d))
            });
            if !ok {
                return Err("username/password mismatch".into());
            }
        }
        let mut reply = Vec::new();
        write::array_len(&mut reply, 5);
        write::str(&mut reply, "PONG");
        write::bool(&mut reply, true);
        write::str(&mut reply, "");
        write::str(&mut reply, &cfg.self_hostname);
        let digest = sha512_hex(&[
            salt,
            cfg.self_hostname.as_bytes(),
            &self.nonce,
            key.as_bytes(),
        ]);
        write::str(&mut reply, &digest);
        Ok(reply)
    }
}
