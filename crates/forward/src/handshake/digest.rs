//! The handshake's SHA-512 digests, as lowercase hex.

use sha2::{Digest, Sha512};

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    s
}

/// `hex(sha512(part₁ ‖ part₂ ‖ …))`.
pub(crate) fn sha512_hex(parts: &[&[u8]]) -> String {
    let mut h = Sha512::new();
    for p in parts {
        h.update(p);
    }
    hex(&h.finalize())
}

/// `hex(sha512(salt ‖ host ‖ nonce ‖ key))`.
pub fn shared_key_digest(salt: &[u8], host: &str, nonce: &[u8], key: &str) -> String {
    sha512_hex(&[salt, host.as_bytes(), nonce, key.as_bytes()])
}

/// `hex(sha512(auth ‖ user ‖ pass))`.
pub fn password_digest(auth: &[u8], user: &str, pass: &str) -> String {
    sha512_hex(&[auth, user.as_bytes(), pass.as_bytes()])
}

/// Constant-time equality of two byte strings.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
