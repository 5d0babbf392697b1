//! [`Value`]: an owned msgpack tree for the places that need one.

use crate::error::{Error, Result};
use crate::head::{head, Kind};
use crate::json::ext_json;
use crate::reader::Reader;
use crate::scan::MAX_DEPTH;
use crate::text::ruby_float;
use crate::time::EventTime;
use crate::write;

/// An owned msgpack value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `nil`.
    Nil,
    /// `true` / `false`.
    Bool(bool),
    /// Any integer that fits `i64`.
    Int(i64),
    /// Only unsigned integers above `i64::MAX`.
    UInt(u64),
    /// float32.
    F32(f32),
    /// float64.
    F64(f64),
    /// str (invalid UTF-8 decoded lossily).
    Str(String),
    /// bin.
    Bin(Vec<u8>),
    /// array.
    Array(Vec<Value>),
    /// map, in insertion order (duplicate keys kept).
    Map(Vec<(Value, Value)>),
    /// ext: type and payload.
    Ext(i8, Vec<u8>),
}

impl Value {
    /// Decode the first value of `buf`, returning it and the bytes consumed.
    /// Depth-limited; container capacity never exceeds what the remaining
    /// bytes could hold.
    pub fn decode(buf: &[u8]) -> Result<(Value, usize)> {
        Value::decode_with(buf, &|b| String::from_utf8_lossy(b).into_owned())
    }

    /// [`Value::decode`], each str's text given by `text` (from its bytes, UTF-8 or not): a
    /// caller that writes the value back can keep bytes that are not UTF-8 in a form of its own.
    pub fn decode_with(buf: &[u8], text: &dyn Fn(&[u8]) -> String) -> Result<(Value, usize)> {
        let mut r = Reader::new(buf);
        let v = decode_at(&mut r, 0, text)?;
        Ok((v, r.pos()))
    }

    /// Append this value as msgpack (minimal encodings).
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Value::Nil => write::nil(out),
            Value::Bool(b) => write::bool(out, *b),
            Value::Int(i) => write::int(out, *i),
            Value::UInt(u) => write::uint(out, *u),
            Value::F32(f) => {
                out.push(0xca);
                out.extend_from_slice(&f.to_bits().to_be_bytes());
            }
            Value::F64(f) => write::f64(out, *f),
            Value::Str(s) => write::str(out, s),
            Value::Bin(b) => write::bin(out, b),
            Value::Array(items) => {
                write::array_len(out, items.len() as u32);
                items.iter().for_each(|v| v.encode(out));
            }
            Value::Map(pairs) => {
                write::map_len(out, pairs.len() as u32);
                for (k, v) in pairs {
                    k.encode(out);
                    v.encode(out);
                }
            }
            Value::Ext(ty, data) => write::ext(out, *ty, data),
        }
    }

    /// The text of a `Str`, or of a `Bin` holding valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            Value::Bin(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }

    fn key_is(k: &Value, key: &str) -> bool {
        match k {
            Value::Str(s) => s == key,
            Value::Bin(b) => b.as_slice() == key.as_bytes(),
            _ => false,
        }
    }

    /// Map lookup by string key (the last duplicate wins).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(pairs) => pairs
                .iter()
                .rev()
                .find(|(k, _)| Self::key_is(k, key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Mutable map lookup by string key (the last duplicate wins).
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        match self {
            Value::Map(pairs) => pairs
                .iter_mut()
                .rev()
                .find(|(k, _)| Self::key_is(k, key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Append compact JSON (same rules as [`write_json`](crate::write_json): yajl's).
    pub fn to_json(&self, out: &mut Vec<u8>) {
        self.to_json_as::<false>(out);
    }

    /// Append compact JSON as Oj writes it (same rules as
    /// [`write_json_oj`](crate::write_json_oj)).
    pub fn to_json_oj(&self, out: &mut Vec<u8>) {
        self.to_json_as::<true>(out);
    }

    /// [`Value::to_json`] (`OJ` false) or [`Value::to_json_oj`].
    fn to_json_as<const OJ: bool>(&self, out: &mut Vec<u8>) {
        use crate::json::{float_as, string_as};
        match self {
            Value::Nil => out.extend_from_slice(b"null"),
            Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Int(i) => out.extend_from_slice(i.to_string().as_bytes()),
            Value::UInt(u) => out.extend_from_slice(u.to_string().as_bytes()),
            Value::F32(f) => float_as::<OJ>(f64::from(*f), out),
            Value::F64(f) => float_as::<OJ>(*f, out),
            Value::Str(s) => string_as::<OJ>(s.as_bytes(), out),
            Value::Bin(b) => string_as::<OJ>(b, out),
            Value::Array(items) => {
                out.push(b'[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    v.to_json_as::<OJ>(out);
                }
                out.push(b']');
            }
            Value::Map(pairs) => {
                out.push(b'{');
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    match k {
                        Value::Str(s) => string_as::<OJ>(s.as_bytes(), out),
                        Value::Bin(b) => string_as::<OJ>(b, out),
                        // Ruby's `to_s` of the key, as yajl writes it (see `json::emit_key`).
                        other => {
                            let mut text = String::new();
                            crate::ruby_text::to_s_into(
                                other,
                                &mut text,
                                &crate::json::utc_time_inspect,
                            );
                            string_as::<OJ>(text.as_bytes(), out);
                        }
                    }
                    out.push(b':');
                    v.to_json_as::<OJ>(out);
                }
                out.push(b'}');
            }
            Value::Ext(ty, data) => ext_json(*ty, data, out),
        }
    }

    /// Ruby-ish `to_s`: strings raw, integers in decimal, nil `""`, booleans
    /// `true`/`false`, floats like Ruby (`1.0`, `1.5`), maps and arrays as
    /// JSON text, EventTime as its seconds, other ext `""`.
    pub fn to_text(&self) -> String {
        let mut out = Vec::new();
        match self {
            Value::Nil => {}
            Value::Str(s) => return s.clone(),
            Value::Bin(b) => return String::from_utf8_lossy(b).into_owned(),
            Value::Int(i) => return i.to_string(),
            Value::UInt(u) => return u.to_string(),
            Value::Bool(b) => return b.to_string(),
            Value::F32(f) => ruby_float(f64::from(*f), &mut out),
            Value::F64(f) => ruby_float(*f, &mut out),
            Value::Array(_) | Value::Map(_) => self.to_json(&mut out),
            Value::Ext(ty, data) => {
                if let (0, Some(t)) = (ty, EventTime::from_payload(data)) {
                    return t.sec.to_string();
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

fn decode_at(r: &mut Reader, depth: usize, text: &dyn Fn(&[u8]) -> String) -> Result<Value> {
    let h = head(r.remaining())?;
    Ok(match h.kind {
        Kind::Nil => {
            r.read_nil()?;
            Value::Nil
        }
        Kind::Bool(b) => {
            r.read_bool()?;
            Value::Bool(b)
        }
        Kind::UInt(u) => {
            r.read_u64()?;
            match i64::try_from(u) {
                Ok(i) => Value::Int(i),
                Err(_) => Value::UInt(u),
            }
        }
        Kind::NegInt(_) => Value::Int(r.read_i64()?),
        Kind::F32(f) => {
            r.read_f64()?;
            Value::F32(f)
        }
        Kind::F64(_) => Value::F64(r.read_f64()?),
        Kind::Str => Value::Str(text(r.read_str()?)),
        Kind::Bin => Value::Bin(r.read_str()?.to_vec()),
        Kind::Ext(_) => {
            let (ty, data) = r.read_ext()?;
            Value::Ext(ty, data.to_vec())
        }
        Kind::Array(n) => {
            if depth >= MAX_DEPTH {
                return Err(Error::TooDeep);
            }
            let start = r.clone();
            r.read_array_len()?;
            let cap = (n as usize).min(r.remaining().len());
            let mut items = Vec::with_capacity(cap);
            for _ in 0..n {
                match decode_at(r, depth + 1, text) {
                    Ok(v) => items.push(v),
                    Err(e) => {
                        *r = start;
                        return Err(e);
                    }
                }
            }
            Value::Array(items)
        }
        Kind::Map(n) => {
            if depth >= MAX_DEPTH {
                return Err(Error::TooDeep);
            }
            let start = r.clone();
            r.read_map_len()?;
            let cap = (n as usize).min(r.remaining().len() / 2);
            let mut pairs = Vec::with_capacity(cap);
            for _ in 0..n {
                let kv = decode_at(r, depth + 1, text)
                    .and_then(|k| Ok((k, decode_at(r, depth + 1, text)?)));
                match kv {
                    Ok(kv) => pairs.push(kv),
                    Err(e) => {
                        *r = start;
                        return Err(e);
                    }
                }
            }
            Value::Map(pairs)
        }
    })
}
