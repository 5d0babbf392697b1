//! `require_ack_response`: the chunk id sent in the option and the wait for the server's
//! `{"ack": id}` (Fluentd's `out_forward/ack_handler.rb`). A chunk is committed only when the
//! matching ack arrives on the connection that carried it; a timeout, a closed connection or a
//! different id makes the chunk go out again (to another node if this one is down), and the
//! connection is never reused (its ack stream may be out of step).

use std::time::Duration;

use logferry_core::buffer::ChunkId;
use logferry_forward::encode::parse_ack;

use super::conn::{Conn, ReadError};

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Ruby's `Base64.encode64(id)`: standard base64 with a trailing newline (24 + 1 characters for
/// a 16-byte id), which is what in_forward echoes back.
pub fn chunk_id_text(id: &ChunkId) -> String {
    let mut s = String::with_capacity(25);
    for group in id.0.chunks(3) {
        let b = [
            group[0],
            group.get(1).copied().unwrap_or(0),
            group.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= group.len() {
                s.push(char::from(B64[((n >> (18 - 6 * k)) & 63) as usize]));
            } else {
                s.push('=');
            }
        }
    }
    s.push('\n');
    s
}

/// Why a chunk was not acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckError {
    /// No ack within `ack_response_timeout`.
    Timeout(Duration),
    /// The connection closed before the ack.
    Closed(String),
    /// An ack for another chunk, or not an ack at all.
    Mismatch(String),
}

impl std::fmt::Display for AckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AckError::Timeout(d) => write!(
                f,
                "no response from node within {:.1}s (ack_response_timeout)",
                d.as_secs_f64()
            ),
            AckError::Closed(e) => write!(f, "connection closed before the ack: {e}"),
            AckError::Mismatch(e) => write!(
                f,
                "ack in response and chunk id in sent data are different: {e}"
            ),
        }
    }
}

/// The start of a server's HELO (`["HELO", {…}]`): the server requires `<security>`.
const HELO_PREFIX: &[u8] = b"\x92\xa4HELO";

/// What a server that requires a shared key does to a client that has none.
pub const HELO_WITHOUT_SECURITY: &str = "the server requires authentication (it sent HELO): configure <security> with self_hostname and the server's shared_key";

/// Do these bytes (what a server sent unasked) start with a HELO?
pub fn is_helo(bytes: &[u8]) -> bool {
    bytes.starts_with(HELO_PREFIX)
}

/// Wait for the ack of `expected` on `conn`.
pub async fn wait(conn: &mut Conn, expected: &str, timeout: Duration) -> Result<(), AckError> {
    let raw = match conn.read_value(timeout).await {
        Ok(r) => r,
        Err(ReadError::Timeout) => return Err(AckError::Timeout(timeout)),
        Err(ReadError::Closed(e)) => return Err(AckError::Closed(format!("closed{e}"))),
        Err(ReadError::Invalid(e)) => return Err(AckError::Mismatch(e)),
    };
    if is_helo(&raw) {
        return Err(AckError::Mismatch(HELO_WITHOUT_SECURITY.into()));
    }
    match parse_ack(&raw) {
        Some(id) if id == expected.as_bytes() => Ok(()),
        Some(id) => Err(AckError::Mismatch(format!(
            "expected {:?}, got {:?}",
            expected,
            String::from_utf8_lossy(&id)
        ))),
        None => Err(AckError::Mismatch(format!(
            "not an ack: {} bytes",
            raw.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_with_newline_as_ruby() {
        // Base64.encode64("\x00" * 16) == "AAAAAAAAAAAAAAAAAAAAAA==\n"
        assert_eq!(
            chunk_id_text(&ChunkId([0; 16])),
            "AAAAAAAAAAAAAAAAAAAAAA==\n"
        );
        // Base64.encode64((0..15).map(&:chr).join) == "AAECAwQFBgcICQoLDA0ODw==\n"
        let id: [u8; 16] = std::array::from_fn(|i| i as u8);
        assert_eq!(chunk_id_text(&ChunkId(id)), "AAECAwQFBgcICQoLDA0ODw==\n");
    }
}
