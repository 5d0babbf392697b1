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
    /// The PONG bytes to send.
    pub reply: Vec<u8>,
    /// True when the client is authenticated; otherwise close after writing `reply`.
    pub ok: bool,
    /// The failure reason (also inside `reply`).
    pub reason: Option<String>,
}

/// The PING fields, all str or bin.
struct Ping<'a> {
    hostname: &'a [u8],
    salt: &'a [u8],
    key_digest: &'a [u8],
    username: &'a [u8],
    password_digest: &'a [u8],
}

fn parse_ping(raw: &[u8]) -> Option<Ping<'_>> {
    let mut r = Reader::new(raw);
    if r.read_array_len().ok()? != 6 || r.read_str().ok()? != b"PING" {
        return None;
    }
    Some(Ping {
        hostname: r.read_str().ok()?,
        salt: r.read_str().ok()?,
        key_digest: r.read_str().ok()?,
        username: r.read_str().ok()?,
        password_digest: r.read_str().ok()?,
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
        match self.verify(raw, peer_ip, peer_hostname) {
            Ok(reply) => PingOutcome {
                reply,
                ok: true,
                reason: None,
            },
            Err(reason) => {
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
        }
    }

    fn verify(
        &self,
        raw: &[u8],
        peer_ip: IpAddr,
        peer_hostname: Option<&str>,
    ) -> Result<Vec<u8>, String> {
        let cfg = &*self.cfg;
        let ping = parse_ping(raw).ok_or("invalid ping message")?;
        let rule = cfg
            .clients
            .iter()
            .find(|c| c.matches(peer_ip, peer_hostname));
        if rule.is_none() && !cfg.allow_anonymous_source {
            return Err(format!("anonymous source host '{peer_ip}' denied"));
        }
        let key = rule
            .and_then(|r| r.shared_key.as_deref())
            .unwrap_or(&cfg.shared_key);
        let expected = sha512_hex(&[ping.salt, ping.hostname, &self.nonce, key.as_bytes()]);
        if !ct_eq(expected.as_bytes(), ping.key_digest) {
            return Err("shared_key mismatch".into());
        }
        if cfg.user_auth {
            let allowed = |name: &str| {
                rule.is_none_or(|r| r.users.is_empty() || r.users.iter().any(|u| u == name))
            };
            let ok = cfg.users.iter().filter(|(u, _)| allowed(u)).any(|(u, p)| {
                let digest = sha512_hex(&[&self.auth, u.as_bytes(), p.as_bytes()]);
                u.as_bytes() == ping.username && ct_eq(digest.as_bytes(), ping.password_digest)
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
            ping.salt,
            cfg.self_hostname.as_bytes(),
            &self.nonce,
            key.as_bytes(),
        ]);
        write::str(&mut reply, &digest);
        Ok(reply)
    }
}
