//! Messages that are not UTF-8 through the parsers (the `tcp`, `udp` and `syslog` inputs).
//! Fluentd reads these sockets as binary strings: a parser sees the bytes, and the bytes reach the
//! record as they are (no U+FFFD). logferry's parsers read UTF-8 text, so each byte that is not
//! part of a UTF-8 sequence stands in the text as a private-use character ([`byte_mapped`]) and
//! the record's strings are written back as bytes ([`encode_unmapped`]).

use logferry_core::Value;
use logferry_msgpack::write;

/// The first of 256 private-use characters that stand for the bytes of a message that are not
/// UTF-8 while it is parsed (Fluentd's strings are binary: the bytes reach the record as they
/// are).
const BYTE_CHARS: u32 = 0x10FF00;

/// The text of a message that is not UTF-8, each invalid byte as the character `BYTE_CHARS +
/// byte`.
pub fn byte_mapped(msg: &[u8]) -> String {
    let mut out = String::with_capacity(msg.len() + 8);
    for chunk in msg.utf8_chunks() {
        out.push_str(chunk.valid());
        for &b in chunk.invalid() {
            out.push(byte_char(b));
        }
    }
    out
}

/// The character standing for byte `b` (see [`byte_mapped`]).
fn byte_char(b: u8) -> char {
    char::from_u32(BYTE_CHARS + u32::from(b)).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// Write `v` as msgpack, each [`byte_char`] in its strings as its byte.
pub fn encode_unmapped(v: &Value, buf: &mut Vec<u8>) {
    match v {
        Value::Str(s) if s.chars().any(|c| (c as u32) >= BYTE_CHARS) => {
            write::str_bytes(buf, &unmapped_bytes(s));
        }
        Value::Array(items) => {
            write::array_len(buf, items.len() as u32);
            for x in items {
                encode_unmapped(x, buf);
            }
        }
        Value::Map(fields) => {
            write::map_len(buf, fields.len() as u32);
            for (k, x) in fields {
                encode_unmapped(k, buf);
                encode_unmapped(x, buf);
            }
        }
        other => other.encode(buf),
    }
}

/// The bytes of `s`, each [`byte_char`] as its byte (a tag taken from a mapped record).
pub fn unmapped_bytes(s: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(s.len());
    for c in s.chars() {
        match (c as u32).checked_sub(BYTE_CHARS) {
            Some(b) => bytes.push(b as u8),
            None => bytes.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_not_utf8_written_back() {
        let text = byte_mapped(b"a\xff b\xc3");
        assert_eq!(text.chars().count(), 5);
        let rec = Value::Map(vec![(Value::Str("m".into()), Value::Str(text))]);
        let mut buf = Vec::new();
        encode_unmapped(&rec, &mut buf);
        assert_eq!(buf, b"\x81\xa1m\xa5a\xff b\xc3");
    }
}
