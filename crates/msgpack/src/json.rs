//! Direct msgpack → JSON transcoding (no tree) and JSON → msgpack encoding.

use crate::error::{Error, Result};
use crate::head::{head, Kind};
use crate::scan::MAX_DEPTH;
use crate::text::{json_float, json_float_oj, json_string, json_string_oj};
use crate::time::EventTime;
use crate::value::Value;
use crate::write;

/// Transcode ONE msgpack value at the start of `raw` to compact JSON
/// (Fluentd/Ruby `to_json` rules) and return the bytes consumed.
///
/// One pass, each header decoded once; on error (a cut or invalid value, nesting deeper than
/// [`MAX_DEPTH`]) the partial output is taken back, so nothing is written.
///
/// This is yajl's JSON (`Yajl.dump`: Fluentd's out_file format, and its `json` format when Oj is
/// not installed or `json_parser` is not `oj`); [`write_json_oj`] is Oj's.
pub fn write_json(raw: &[u8], out: &mut Vec<u8>) -> Result<usize> {
    write_json_as::<false>(raw, out)
}

/// [`write_json`] as Oj writes it (`Oj.dump` in the `compat` mode Fluentd sets: its `json`
/// format with the default `json_parser oj`, as Fluentd's images and fluent-package ship it):
/// floats as [`json_float_oj`] (`1e16` is `10000000000000000.0`, `-0.0` is `0.0`) and control
/// characters as `\u001f` (lower-case hex); all else as yajl.
pub fn write_json_oj(raw: &[u8], out: &mut Vec<u8>) -> Result<usize> {
    write_json_as::<true>(raw, out)
}

/// A JSON string in the flavor's escapes (`OJ`: lower-case hex).
#[inline(always)]
pub(crate) fn string_as<const OJ: bool>(s: &[u8], out: &mut Vec<u8>) {
    if OJ {
        json_string_oj(s, out);
    } else {
        json_string(s, out);
    }
}

/// A float in the flavor's text.
#[inline(always)]
pub(crate) fn float_as<const OJ: bool>(v: f64, out: &mut Vec<u8>) {
    if OJ {
        json_float_oj(v, out);
    } else {
        json_float(v, out);
    }
}

/// [`write_json`] (`OJ` false) or [`write_json_oj`].
fn write_json_as<const OJ: bool>(raw: &[u8], out: &mut Vec<u8>) -> Result<usize> {
    let mark = out.len();
    let mut pos = 0;
    match emit::<OJ>(raw, &mut pos, out, 0) {
        Ok(()) => Ok(pos),
        Err(e) => {
            out.truncate(mark);
            Err(e)
        }
    }
}

/// The payload of a str/bin/ext value whose header is `h` at `*pos`, consumed.
#[inline]
fn body<'a>(raw: &'a [u8], pos: &mut usize, hdr: usize, total: usize) -> Result<&'a [u8]> {
    let end = pos.checked_add(total).ok_or(Error::Incomplete)?;
    let v = raw.get(*pos + hdr..end).ok_or(Error::Incomplete)?;
    *pos += total;
    Ok(v)
}

/// Append an integer's decimal digits without allocating.
#[inline]
fn write_uint(mut v: u64, neg: bool, out: &mut Vec<u8>) {
    let mut buf = [0u8; 21];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    out.extend_from_slice(&buf[i..]);
}

/// The str value (fixstr or str8: every key and most values of a record) at `raw[pos..]`: the
/// position after it and its bytes. None for any other value, or a cut one (`head` reports it).
#[inline(always)]
fn short_str(raw: &[u8], pos: usize) -> Option<(usize, &[u8])> {
    let m = *raw.get(pos)?;
    let (hdr, len) = match m {
        0xa0..=0xbf => (1, usize::from(m & 0x1f)),
        0xd9 => (2, usize::from(*raw.get(pos + 1)?)),
        _ => return None,
    };
    let end = pos + hdr + len;
    Some((end, raw.get(pos + hdr..end)?))
}

/// Write the [`short_str`] at `raw[*pos..]` as a JSON string and advance `pos` past it; false
/// (nothing done) for any other value.
#[inline(always)]
fn short_str_json<const OJ: bool>(raw: &[u8], pos: &mut usize, out: &mut Vec<u8>) -> bool {
    let Some((end, s)) = short_str(raw, *pos) else {
        return false;
    };
    string_as::<OJ>(s, out);
    *pos = end;
    true
}

/// Emit the value at `raw[*pos..]` and advance `pos` past it. `depth` counts the open
/// containers (the recursion is bounded by [`MAX_DEPTH`]).
fn emit<const OJ: bool>(
    raw: &[u8],
    pos: &mut usize,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<()> {
    if short_str_json::<OJ>(raw, pos, out) {
        return Ok(());
    }
    // The other common values of a log record, read without the general header decoder.
    match raw.get(*pos..).unwrap_or_default() {
        [m @ 0x00..=0x7f, ..] => {
            write_uint(u64::from(*m), false, out);
            *pos += 1;
            return Ok(());
        }
        [0xcb, rest @ ..] if rest.len() >= 8 => {
            let bits = u64::from_be_bytes(rest[..8].try_into().unwrap_or_default());
            float_as::<OJ>(f64::from_bits(bits), out);
            *pos += 9;
            return Ok(());
        }
        _ => {}
    }
    let h = head(raw.get(*pos..).unwrap_or_default())?;
    match h.kind {
        Kind::Str | Kind::Bin => {
            let s = body(raw, pos, h.hdr, h.total())?;
            string_as::<OJ>(s, out);
            return Ok(());
        }
        Kind::Nil => out.extend_from_slice(b"null"),
        Kind::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Kind::UInt(v) => write_uint(v, false, out),
        Kind::NegInt(v) => write_uint(v.unsigned_abs(), v < 0, out),
        Kind::F32(v) => float_as::<OJ>(f64::from(v), out),
        Kind::F64(v) => float_as::<OJ>(v, out),
        Kind::Ext(ty) => {
            let payload = body(raw, pos, h.hdr, h.total())?;
            ext_json(ty, payload, out);
            return Ok(());
        }
        Kind::Array(n) => {
            if depth >= MAX_DEPTH {
                return Err(Error::TooDeep);
            }
            *pos += h.hdr;
            out.push(b'[');
            for i in 0..n {
                if i > 0 {
                    out.push(b',');
                }
                emit::<OJ>(raw, pos, out, depth + 1)?;
            }
            out.push(b']');
            return Ok(());
        }
        Kind::Map(n) => {
            if depth >= MAX_DEPTH {
                return Err(Error::TooDeep);
            }
            *pos += h.hdr;
            out.push(b'{');
            for i in 0..n {
                if i > 0 {
                    out.push(b',');
                }
                emit_key::<OJ>(raw, pos, out, depth + 1)?;
                out.push(b':');
                emit::<OJ>(raw, pos, out, depth + 1)?;
            }
            out.push(b'}');
            return Ok(());
        }
    }
    // Scalars: the header is the whole value (checked by `head`).
    *pos += h.hdr;
    Ok(())
}

/// Map keys: str/bin as strings, anything else as its Ruby `to_s` quoted.
fn emit_key<const OJ: bool>(
    raw: &[u8],
    pos: &mut usize,
    out: &mut Vec<u8>,
    depth: usize,
) -> Result<()> {
    if short_str_json::<OJ>(raw, pos, out) {
        return Ok(());
    }
    let h = head(raw.get(*pos..).unwrap_or_default())?;
    if matches!(h.kind, Kind::Str | Kind::Bin) {
        string_as::<OJ>(body(raw, pos, h.hdr, h.total())?, out);
        return Ok(());
    }
    // Any other key is written as its Ruby `to_s`, as yajl's `key.to_s` (and Oj's) (nil `""`, an array
    // `[1, nil]`, a map `{"a"=>1}`): each byte escaped once, so the output stays linear.
    let (key, len) = Value::decode(raw.get(*pos..).unwrap_or_default())?;
    // Its containers count from the key's own depth, as every other value's do.
    let levels = nesting(&key);
    if levels > 0 && depth + levels > MAX_DEPTH {
        return Err(Error::TooDeep);
    }
    *pos += len;
    let mut text = String::new();
    crate::ruby_text::to_s_into(&key, &mut text, &utc_time_inspect);
    // Oj, like yajl, writes a key that is not a string as its `to_s` (a float key `1e16` too).
    string_as::<OJ>(text.as_bytes(), out);
    Ok(())
}

/// How many levels of containers `v` has (0 for a scalar).
fn nesting(v: &Value) -> usize {
    match v {
        Value::Array(items) => 1 + items.iter().map(nesting).max().unwrap_or(0),
        Value::Map(pairs) => {
            1 + pairs
                .iter()
                .map(|(k, x)| nesting(k).max(nesting(x)))
                .max()
                .unwrap_or(0)
        }
        _ => 0,
    }
}

/// `EventTime#inspect` in UTC, for an EventTime inside a map key (the formats crate writes
/// values' EventTimes in the process's zone; a key holding one is left at UTC).
pub(crate) fn utc_time_inspect(t: EventTime, out: &mut String) {
    use std::fmt::Write as _;
    let secs = i64::from(t.sec);
    let (days, tod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = crate::time::civil_from_days(days);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:09} +0000",
        tod / 3600,
        tod / 60 % 60,
        tod % 60,
        t.nsec
    );
}

/// Ext values: EventTime (type 0) as its seconds, as Fluentd's `EventTime#to_json`, or as float
/// seconds when it has a fraction (which Fluentd drops: README "Differences from Fluentd");
/// others `null`.
pub(crate) fn ext_json(ty: i8, payload: &[u8], out: &mut Vec<u8>) {
    match (ty, EventTime::from_payload(payload)) {
        (0, Some(t)) if t.nsec == 0 => out.extend_from_slice(t.sec.to_string().as_bytes()),
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

    // Found by fuzzing: a key's containers count from the key's depth, so write_json and
    // value_len agree on where nesting becomes too deep.
    #[test]
    fn a_deep_key_is_too_deep_where_value_len_says_so() {
        for k in MAX_DEPTH - 4..MAX_DEPTH + 2 {
            let mut raw = vec![0x81u8];
            raw.extend(std::iter::repeat_n(0x91u8, k));
            raw.extend([0x90, 0xc0]);
            let mut out = Vec::new();
            let got = write_json(&raw, &mut out);
            assert_eq!(got.is_ok(), crate::value_len(&raw).is_ok(), "{k}");
            if let Ok(n) = got {
                assert_eq!(Ok(n), crate::value_len(&raw));
            }
        }
    }

    /// `{ { { … : nil } : nil } : nil }` nested `depth` times, as msgpack.
    fn nested_key_maps(depth: usize) -> Vec<u8> {
        let mut v = vec![0x81u8; depth];
        v.push(0x80);
        v.extend(std::iter::repeat_n(0xc0u8, depth));
        v
    }

    // Found by fuzzing: quoting a non-string key's text at every level doubled the output per
    // level (28 levels > 512 MiB). Output must stay linear in the input: a key's Ruby text is
    // escaped once, as a whole.
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
        // A map key is its Ruby text (yajl's `key.to_s`), nested maps' keys inspected within.
        let mut one = Vec::new();
        write_json(&nested_key_maps(1), &mut one).unwrap();
        assert_eq!(String::from_utf8(one).unwrap(), r#"{"{}":null}"#);
        let mut two = Vec::new();
        write_json(&nested_key_maps(2), &mut two).unwrap();
        assert_eq!(String::from_utf8(two).unwrap(), r#"{"{{}=>nil}":null}"#);
    }
}

#[cfg(test)]
mod event_time_tests {
    use crate::Value;

    fn json(sec: u32, nsec: u32) -> String {
        let mut payload = sec.to_be_bytes().to_vec();
        payload.extend_from_slice(&nsec.to_be_bytes());
        let mut out = Vec::new();
        Value::Ext(0, payload).to_json(&mut out);
        String::from_utf8(out).unwrap()
    }

    // Fluentd's EventTime#to_json is its seconds (differential case parser-regexp-types-edge);
    // a fraction, which Fluentd drops, is kept.
    #[test]
    fn event_time_is_its_seconds_unless_it_has_a_fraction() {
        assert_eq!(json(1_577_923_200, 0), "1577923200");
        assert_eq!(json(1_577_923_200, 500_000_000), "1577923200.5");
    }
}
