//! Client side: HELO parsing, PING building, PONG verification.

use super::digest::{ct_eq, password_digest, shared_key_digest};
use logferry_msgpack::{write, Reader};

/// What a server's HELO offered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Helo {
    /// Nonce for the shared-key digests.
    pub nonce: Vec<u8>,
    /// Salt for the password digest (empty: no user auth).
    pub auth: Vec<u8>,
    /// False when the server closes after one message.
    pub keepalive: bool,
}

/// Parse `["HELO", {"nonce": .., "auth": .., "keepalive": ..}]`.
pub fn parse_helo(raw: &[u8]) -> Result<Helo, String> {
    let invalid = || "invalid HELO message".to_string();
    let mut r = Reader::new(raw);
    if r.read_array_len().map_err(|_| invalid())? != 2
        || r.read_str().map_err(|_| invalid())? != b"HELO"
    {
        return Err(invalid());
    }
    let n = r.read_map_len().map_err(|_| invalid())?;
    let mut helo = Helo {
        nonce: Vec::new(),
        auth: Vec::new(),
        keepalive: true,
    };
    let mut has_nonce = false;
    for _ in 0..n {
        let key = r.read_raw().map_err(|_| invalid())?;
        let val = r.read_raw().map_err(|_| invalid())?;
        let mut v = Reader::new(val);
        match Reader::new(key).read_str().unwrap_or_default() {
            b"nonce" => {
                helo.nonce = v.read_str().map_err(|_| invalid())?.to_vec();
                has_nonce = true;
            }
            b"auth" => helo.auth = v.read_str().unwrap_or_default().to_vec(),
            b"keepalive" => helo.keepalive = v.read_bool().unwrap_or(true),
            _ => {}
        }
    }
    if !has_nonce {
        return Err("HELO without nonce".into());
    }
    Ok(helo)
}

/// Build `["PING", client_host, salt, key digest, username, password digest]`;
/// username and password digest are empty when the HELO `auth` salt was.
pub fn ping(
    helo: &Helo,
    client_host: &str,
    shared_key: &str,
    salt: &str,
    username: &str,
    password: &str,
) -> Vec<u8> {
    let mut out = Vec::new();
    write::array_len(&mut out, 6);
    write::str(&mut out, "PING");
    write::str(&mut out, client_host);
    write::str(&mut out, salt);
    write::str(
        &mut out,
        &shared_key_digest(salt.as_bytes(), client_host, &helo.nonce, shared_key),
    );
    if helo.auth.is_empty() {
        write::str(&mut out, "");
        write::str(&mut out, "");
    } else {
        write::str(&mut out, username);
        write::str(&mut out, &password_digest(&helo.auth, username, password));
    }
    out
}

/// Verify `["PONG", ok, reason, server_host, digest]` and return the server
/// host; rejects failures, our own hostname and a wrong digest.
pub fn check_pong(
    raw: &[u8],
    helo: &Helo,
    salt: &str,
    shared_key: &str,
    self_hostname: &str,
) -> Result<String, String> {
    let invalid = || "invalid format for PONG message".to_string();
    let mut r = Reader::new(raw);
    if r.read_array_len().map_err(|_| invalid())? != 5
        || r.read_str().map_err(|_| invalid())? != b"PONG"
    {
        return Err(invalid());
    }
    let ok = r.read_bool().map_err(|_| invalid())?;
    let reason = r.read_str().map_err(|_| invalid())?;
    let host = r.read_str().map_err(|_| invalid())?;
    let digest = r.read_str().map_err(|_| invalid())?;
    if !ok {
        return Err(format!(
            "authentication failed: {}",
            String::from_utf8_lossy(reason)
        ));
    }
    let host = String::from_utf8_lossy(host).into_owned();
    if host == self_hostname {
        return Err("same hostname between input and output: invalid configuration".into());
    }
    let expected = shared_key_digest(salt.as_bytes(), &host, &helo.nonce, shared_key);
    if !ct_eq(expected.as_bytes(), digest) {
        return Err("shared key mismatch".into());
    }
    Ok(host)
}
