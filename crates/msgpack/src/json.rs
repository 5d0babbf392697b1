//! Direct msgpack → JSON transcoding (no tree) and JSON → msgpack encoding.

use crate::error::Result;
use crate::head::{head, Kind};
use crate::reader::Reader;
use crate::scan::value_len;
use crate::text::{json_float, json_string};
use crate::time::EventTime;
use crate::write;

/// Transcode ONE msgpack value at the start of `raw` to compact JSON
/// (Fluentd/Ruby `to_json` rules) and return the bytes consumed.
///
/// The value is validated first, so on error nothing is written.
pub fn write_json(raw: &[u8], out: &mut Vec<u8>) -> Result<usize> {
    let len = value_len(raw)?;
    let mut r = Reader::new(&raw[..len]);
    emit(&mut r, out, false)?;
    Ok(len)
}

/// Emit the next value of a validated reader. Recursion is bounded by the
/// depth limit already enforced by `value_len`. `in_key` is set while writing
/// the text of a non-string map key (see [`emit_key`]).
fn emit(r: &mut Reader, out: &mut Vec<u8>, in_key: bool) -> Result<()> {
    let h = head(r.remaining())?;
    match h.kind {
        Kind::Nil => {
            r.read_nil()?;
            out.extend_from_slice(b"null");
        }
        Kind::Bool(b) => {
            r.read_bool()?;
            out.extend_from_slice(if b { b"true" } else { b"false" });
        }
        Kind::UInt(v) => {
            r.read_u64()?;
            out.extend_from_slice(v.to_string().as_bytes());
        }
        Kind::NegInt(v) => {
            r.read_i64()?;
            out.extend_from_slice(v.to_string().as_bytes());
        }
        Kind::F32(_) | Kind::F64(_) => json_float(r.read_f64()?, out),
        Kind::Str | Kind::Bin => json_string(r.read_str()?, out),
        Kind::Ext(_) => {
            let (ty, payload) = r.read_ext()?;
            ext_json(ty, payload, out);
        }
        Kind::Array(n) => {
            r.read_array_len()?;
            out.push(b'[');
            for i in 0..n {
                if i > 0 {
                    out.push(b',');
                }
                emit(r, out, in_key)?;
            }
            out.push(b']');
        }
        Kind::Map(n) => {
            r.read_map_len()?;
            out.push(b'{');
            for i in 0..n {
                if i > 0 {
                    out.push(b',');
                }
                emit_key(r, out, in_key)?;
                out.push(b':');
                emit(r, out, in_key)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// Map keys: str/bin as strings, anything else as its JSON text quoted.
///
/// Inside that text (`in_key`), nested non-string keys are written as raw JSON text rather than
/// quoted again, as Ruby's `inspect` renders them: every byte is escaped at most once, so the
/// output stays linear in the input. (Quoting at every level would double the output per nesting
/// level — a 74-byte frame could demand gigabytes.)
fn emit_key(r: &mut Reader, out: &mut Vec<u8>, in_key: bool) -> Result<()> {
    if matches!(head(r.remaining())?.kind, Kind::Str | Kind::Bin) {
        json_string(r.read_str()?, out);
    } else if in_key {
        emit(r, out, true)?;
    } else {
        let mut tmp = Vec::new();
        emit(r, &mut tmp, true)?;
        json_string(&tmp, out);
    }
    Ok(())
}

/// Ext values: EventTime (type 0) as float seconds, others `null`.
pub(crate) fn ext_json(ty: i8, payload: &[u8], out: &mut Vec<u8>) {
    match (ty, EventTime::from_payload(payload)) {
        (0, Some(t)) => json_float(t.as_f64(), out),
        _ => out.extend_from_slice(b"null"),
    }
}

/// Encode a `serde_json::Value` as msgpack: integers stay integers (`u64`
/// above `i64::MAX` as uint), other numbers become float64, key order kept.
pub fn json_to_msgpack(v: &serde_json::Value, out: &mut Vec<u8>) {
    use serde_json::Value as J;
    match v {
        J::Null => write::nil(out),
        J::Bool(b) => write::bool(out, *b),
        J::Number(n) => {
            if let Some(i) = n.as_i64() {
                write::int(out, i);
            } else if let Some(u) = n.as_u64() {
                write::uint(out, u);
            } else {
                write::f64(out, n.as_f64().unwrap_or(f64::NAN));
            }
        }
        J::String(s) => write::str(out, s),
        J::Array(items) => {
            write::array_len(out, items.len() as u32);
            for item in items {
                json_to_msgpack(item, out);
            }
        }
        J::Object(map) => {
            write::map_len(out, map.len() as u32);
            for (k, val) in map {
                write::str(out, k);
                json_to_msgpack(val, out);
            }
        }
    }
}

#[cfg(test)]
mod key_bomb_tests {
    use super::*;
    use crate::Value;

    /// `{ { { … : nil } : nil } : nil }` nested `depth` times, as msgpack.
    fn nested_key_maps(depth: usize) -> Vec<u8> {
        let mut v = vec![0x81u8; depth];
        v.push(0x80);
        v.extend(std::iter::repeat_n(0xc0u8, depth));
        v
    }

    // Found by fuzzing: quoting a non-string key's text at every level doubled the output per
    // level (28 levels > 512 MiB). Output must stay linear in the input.
    #[test]
    fn nested_non_string_keys_stay_linear() {
        let raw = nested_key_maps(200);
        let mut out = Vec::new();
        write_json(&raw, &mut out).unwrap();
        assert!(
            out.len() < 20 * raw.len(),
            "{} bytes of JSON from {} bytes",
            out.len(),
            raw.len()
        );
        let (v, _) = Value::decode(&raw).unwrap();
        let mut tree = Vec::new();
        v.to_json(&mut tree);
        assert_eq!(tree, out, "streaming and tree JSON agree");
        assert!(v.to_text().len() < 20 * raw.len());
        // One level: the key's JSON text as a string, as before.
        let mut one = Vec::new();
        write_json(&nested_key_maps(1), &mut one).unwrap();
        assert_eq!(String::from_utf8(one).unwrap(), r#"{"{}":null}"#);
        let mut two = Vec::new();
        write_json(&nested_key_maps(2), &mut two).unwrap();
        assert_eq!(String::from_utf8(two).unwrap(), r#"{"{{}:null}":null}"#);
    }
}
