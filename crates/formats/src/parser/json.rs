//! `json` (Fluentd's `parser_json.rb`): an object is one record, an array one record per element
//! (non-objects fail), anything else fails. `time_key time`, `time_type float` (`string` when a
//! `time_format` is given). `json_parser oj|yajl|json` is accepted; there is one JSON parser here.
//!
//! The text is deserialized straight into the record [`Value`] (no intermediate tree); a key
//! repeated in an object keeps its first position and its last value, as Ruby's `JSON.parse`.

use std::collections::HashMap;
use std::fmt;

use logferry_config::BuildError;
use logferry_msgpack::{EventTime, Value};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::common::{Common, Conf, Defaults};
use super::{ParseResult, Parser, RawRecord};

/// The `json` parser.
#[derive(Debug)]
pub struct JsonParser {
    common: Common,
}

impl JsonParser {
    pub(crate) fn build(c: &Conf) -> Result<Self, BuildError> {
        let c = &c.or_declared(&super::params::JSON);
        c.get::<&str>("json_parser")?;
        let _ = c.param("stream_buffer_size");
        let common = Common::read(
            c,
            &Defaults {
                time_key: Some("time"),
                time_type: "float",
                time_format: None,
                string_if_format: true,
            },
        )?;
        Ok(JsonParser { common })
    }

    fn one(&self, v: Value) -> ParseResult {
        match v {
            Value::Map(rec) => self.common.finish(rec),
            _ => Err(
                "pattern not matched with data: a parsed JSON element is not an object".to_string(),
            ),
        }
    }
}

impl Parser for JsonParser {
    fn on_invalid_utf8(&self) -> super::InvalidUtf8 {
        super::InvalidUtf8::NotMatched
    }

    fn parse_raw(&self, text: &str, out: &mut RawRecord) -> Option<Option<EventTime>> {
        if self.common.conv.is_some() || !flat::object(text, out) {
            return None;
        }
        let c = &self.common;
        let Some(key) = &c.time_key else {
            return Some(c.no_time());
        };
        let found = out.pairs.iter().position(|(k, _)| {
            logferry_msgpack::Reader::new(&out.buf[k.clone()])
                .read_str()
                .is_ok_and(|s| s == key.as_bytes())
        });
        let Some(i) = found else {
            return Some(c.no_time());
        };
        let (_, v) = out.pair(i);
        // A time that is not a string, or does not parse: the full parser says why.
        if v.first().is_some_and(|m| matches!(m, 0xc4..=0xc6)) {
            return None;
        }
        let s = logferry_msgpack::Reader::new(v).read_str().ok()?;
        let t = c.time.parse_str(std::str::from_utf8(s).ok()?).ok()?;
        if !c.keep_time_key {
            out.pairs.remove(i);
        }
        Some(Some(t))
    }

    fn parse(&self, text: &str, out: &mut Vec<ParseResult>) {
        match parse_value(text) {
            Ok(Value::Map(rec)) => out.push(self.common.finish(rec)),
            Ok(Value::Array(items)) => {
                for item in items {
                    out.push(self.one(item));
                }
            }
            Ok(_) => out.push(Err(format!(
                "pattern not matched with data '{text}': not a JSON object or array"
            ))),
            // Fluentd's JSON parser yields no record for text it cannot parse (a non-match, not
            // a raised error).
            Err(e) => out.push(Err(format!(
                "pattern not matched with data '{text}': invalid JSON: {e}"
            ))),
        }
    }
}

/// Deserialize JSON text into a [`Value`] (integers as `Int`/`UInt`, other numbers `F64`).
pub fn parse_value(text: &str) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let v = ValueSeed.deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

struct ValueSeed;

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
}

struct ValueVisitor;

/// Objects this large get a hash index for repeated-key checks.
const INDEX_AT: usize = 24;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => Value::Int(i),
            Err(_) => Value::UInt(v),
        })
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::F64(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(x) = seq.next_element_seed(ValueSeed)? {
            v.push(x);
        }
        Ok(Value::Array(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut v: Vec<(Value, Value)> = Vec::with_capacity(8);
        let mut index: Option<HashMap<String, usize>> = None;
        while let Some(k) = map.next_key_seed(KeySeed)? {
            let val = map.next_value_seed(ValueSeed)?;
            let found = match &index {
                Some(ix) => ix.get(&k).copied(),
                None => v
                    .iter()
                    .position(|(key, _)| key.as_str() == Some(k.as_str())),
            };
            match found {
                Some(i) => v[i].1 = val,
                None => {
                    if let Some(ix) = &mut index {
                        ix.insert(k.clone(), v.len());
                    }
                    v.push((Value::Str(k), val));
                    if index.is_none() && v.len() >= INDEX_AT {
                        index = Some(
                            v.iter()
                                .enumerate()
                                .filter_map(|(i, (key, _))| {
                                    key.as_str().map(|s| (s.to_string(), i))
                                })
                                .collect(),
                        );
                    }
                }
            }
        }
        Ok(Value::Map(v))
    }
}

/// The fast path of [`JsonParser`]: a flat JSON object (no nested object or array, no repeated
/// key) written straight as msgpack pairs. Anything else, and any error, is left to the full
/// parser, which gives the same records and the error messages.
mod flat {
    use logferry_msgpack::write;

    use super::super::RawRecord;

    fn ws(b: &[u8], mut i: usize) -> usize {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(i) {
            i += 1;
        }
        i
    }

    /// High bit set in each byte of `w` that is `"`, `\\` or below 0x20; the lowest set bit is
    /// exact (higher ones may be borrows).
    #[inline]
    fn special(w: u64) -> u64 {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
        (w.wrapping_sub(ONES * 0x20) & !w & HIGH)
            | zero_byte(w ^ (ONES * u64::from(b'"')))
            | zero_byte(w ^ (ONES * u64::from(b'\\')))
    }

    fn hex4(b: &[u8], i: usize) -> Option<u32> {
        let s = std::str::from_utf8(b.get(i..i + 4)?).ok()?;
        if !s.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(s, 16).ok()
    }

    /// A JSON string starting at the quote `b[i]`, written as a msgpack str; returns the index
    /// after the closing quote.
    fn string(b: &[u8], i: usize, out: &mut Vec<u8>, scratch: &mut Vec<u8>) -> Option<usize> {
        // `b` is the bytes of a `&str`: any run between ASCII delimiters is valid UTF-8 (a
        // multi-byte sequence never contains a byte below 0x80), so no run is validated again.
        let start = i + 1;
        let mut j = start;
        // Plain run: no escape, no control character; 8 bytes at a time while clean.
        loop {
            if let Some(w) = b.get(j..j + 8) {
                let m = special(u64::from_le_bytes(w.try_into().unwrap_or_default()));
                if m == 0 {
                    j += 8;
                    continue;
                }
                j += (m.trailing_zeros() / 8) as usize;
            }
            match *b.get(j)? {
                b'"' => {
                    write::str_bytes(out, &b[start..j]);
                    return Some(j + 1);
                }
                b'\\' => break,
                c if c < 0x20 => return None,
                _ => j += 1,
            }
        }
        scratch.clear();
        scratch.extend_from_slice(&b[start..j]);
        loop {
            match *b.get(j)? {
                b'"' => {
                    write::str_bytes(out, scratch);
                    return Some(j + 1);
                }
                b'\\' => {
                    let c = match *b.get(j + 1)? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = hex4(b, j + 2)?;
                            j += 6;
                            let cp = if (0xd800..0xdc00).contains(&hi) {
                                if b.get(j..j + 2)? != b"\\u" {
                                    return None;
                                }
                                let lo = hex4(b, j + 2)?;
                                if !(0xdc00..0xe000).contains(&lo) {
                                    return None;
                                }
                                j += 6;
                                0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                            } else {
                                hi
                            };
                            let c = char::from_u32(cp)?;
                            let mut tmp = [0u8; 4];
                            scratch.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
                            continue;
                        }
                        _ => return None,
                    };
                    let mut tmp = [0u8; 4];
                    scratch.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
                    j += 2;
                }
                c if c < 0x20 => return None,
                c => {
                    scratch.push(c);
                    j += 1;
                }
            }
        }
    }

    /// A JSON number at `b[i]`, written as msgpack (integers as int/uint, others float64).
    fn number(b: &[u8], i: usize, out: &mut Vec<u8>) -> Option<usize> {
        let mut j = i;
        if b.get(j) == Some(&b'-') {
            j += 1;
        }
        let int_start = j;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        let int_len = j - int_start;
        if int_len == 0 || (int_len > 1 && b[int_start] == b'0') {
            return None;
        }
        let mut float = false;
        if b.get(j) == Some(&b'.') {
            float = true;
            j += 1;
            let s = j;
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            if j == s {
                return None;
            }
        }
        if let Some(b'e' | b'E') = b.get(j) {
            float = true;
            j += 1;
            if let Some(b'+' | b'-') = b.get(j) {
                j += 1;
            }
            let s = j;
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            if j == s {
                return None;
            }
        }
        let text = std::str::from_utf8(&b[i..j]).ok()?;
        if float {
            let f: f64 = text.parse().ok()?;
            if !f.is_finite() {
                return None;
            }
            write::f64(out, f);
        } else if text == "-0" {
            // Left to the full parser (its sign handling decides).
            return None;
        } else if let Ok(v) = text.parse::<i64>() {
            write::int(out, v);
        } else {
            write::uint(out, text.parse::<u64>().ok()?);
        }
        Some(j)
    }

    /// Parse a flat object into `rec`; false when the text is anything else.
    pub(super) fn object(text: &str, rec: &mut RawRecord) -> bool {
        rec.clear();
        let b = text.as_bytes();
        let mut i = ws(b, 0);
        if b.get(i) != Some(&b'{') {
            return false;
        }
        i = ws(b, i + 1);
        if b.get(i) == Some(&b'}') {
            return ws(b, i + 1) == b.len();
        }
        loop {
            if b.get(i) != Some(&b'"') {
                return false;
            }
            let k0 = rec.buf.len();
            let Some(next) = string(b, i, &mut rec.buf, &mut rec.scratch) else {
                return false;
            };
            let k1 = rec.buf.len();
            i = ws(b, next);
            if b.get(i) != Some(&b':') {
                return false;
            }
            i = ws(b, i + 1);
            let v0 = rec.buf.len();
            let next = match b.get(i) {
                Some(b'"') => string(b, i, &mut rec.buf, &mut rec.scratch),
                Some(b't') if b[i..].starts_with(b"true") => {
                    write::bool(&mut rec.buf, true);
                    Some(i + 4)
                }
                Some(b'f') if b[i..].starts_with(b"false") => {
                    write::bool(&mut rec.buf, false);
                    Some(i + 5)
                }
                Some(b'n') if b[i..].starts_with(b"null") => {
                    write::nil(&mut rec.buf);
                    Some(i + 4)
                }
                Some(b'-' | b'0'..=b'9') => number(b, i, &mut rec.buf),
                _ => None,
            };
            let Some(next) = next else {
                return false;
            };
            let key = k0..k1;
            // A repeated key keeps its first position and its last value: the full parser's job.
            if rec.pairs.len() > 64
                || rec
                    .pairs
                    .iter()
                    .any(|(k, _)| rec.buf[k.clone()] == rec.buf[key.clone()])
            {
                return false;
            }
            rec.pairs.push((key, v0..rec.buf.len()));
            i = ws(b, next);
            match b.get(i) {
                Some(b',') => i = ws(b, i + 1),
                Some(b'}') => return ws(b, i + 1) == b.len(),
                _ => return false,
            }
        }
    }
}
