//! JSON `log` parsers to compare with logferry's `json` parser fast path
//! (`JsonParser::parse_raw`): each writes a flat object's pairs as msgpack into a
//! [`RawRecord`], as the fast path does, and refuses what the fast path leaves to the full parser
//! (nested values, repeated keys). Edge semantics beyond that (`-0`, integers past `u64`,
//! non-finite floats) are not reproduced: on the bench data they do not occur, and the bench
//! checks that every candidate writes the fast path's bytes.

use std::fmt;

use logferry_formats::parser::RawRecord;
use logferry_msgpack::write;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use simd_json::{Node, StaticNode};

/// What `parse_raw` does after the object, for `time_key time` (the default) and a record
/// without it: look for the key (by its msgpack bytes, as logferry now does).
fn find_time_key(rec: &RawRecord) {
    const KEY: &[u8] = b"\xa4time";
    let found = rec
        .pairs
        .iter()
        .position(|(k, _)| k.len() == KEY.len() && rec.buf[k.clone()] == *KEY);
    std::hint::black_box(found);
}

/// Record the pair just written (`k0..k1` the key, `k1..` the value); false if the key repeats.
fn push_pair(rec: &mut RawRecord, k0: usize, k1: usize) -> bool {
    let key = k0..k1;
    if rec.pairs.len() > 64
        || rec
            .pairs
            .iter()
            .any(|(k, _)| rec.buf[k.clone()] == rec.buf[key.clone()])
    {
        return false;
    }
    let end = rec.buf.len();
    rec.pairs.push((key, k1..end));
    true
}

/// simd-json: the text is copied into a reused buffer (simd-json parses in place), parsed to a
/// tape with reused buffers, and the tape walked.
pub struct SimdJson {
    input: Vec<u8>,
    buffers: simd_json::Buffers,
}

impl Default for SimdJson {
    fn default() -> Self {
        SimdJson {
            input: Vec::new(),
            buffers: simd_json::Buffers::new(4096),
        }
    }
}

impl SimdJson {
    /// Parse a flat object into `rec`; false for anything else.
    pub fn parse(&mut self, text: &str, rec: &mut RawRecord) -> bool {
        rec.clear();
        self.input.clear();
        self.input.extend_from_slice(text.as_bytes());
        let Ok(tape) = simd_json::to_tape_with_buffers(&mut self.input, &mut self.buffers) else {
            return false;
        };
        let nodes = &tape.0;
        let Some(&Node::Object { len, count }) = nodes.first() else {
            return false;
        };
        if count != 2 * len || nodes.len() < 1 + count {
            return false;
        }
        for pair in nodes[1..1 + count].chunks_exact(2) {
            let Node::String(k) = pair[0] else {
                return false;
            };
            let k0 = rec.buf.len();
            write::str(&mut rec.buf, k);
            let k1 = rec.buf.len();
            match pair[1] {
                Node::String(s) => write::str(&mut rec.buf, s),
                Node::Static(StaticNode::I64(i)) => write::int(&mut rec.buf, i),
                Node::Static(StaticNode::U64(u)) => match i64::try_from(u) {
                    Ok(i) => write::int(&mut rec.buf, i),
                    Err(_) => write::uint(&mut rec.buf, u),
                },
                Node::Static(StaticNode::F64(f)) => write::f64(&mut rec.buf, f),
                Node::Static(StaticNode::Bool(b)) => write::bool(&mut rec.buf, b),
                Node::Static(StaticNode::Null) => write::nil(&mut rec.buf),
                _ => return false,
            }
            if !push_pair(rec, k0, k1) {
                return false;
            }
        }
        find_time_key(rec);
        true
    }
}

/// sonic-rs's serde deserializer driving a seed that writes msgpack straight into `rec`.
pub fn sonic(text: &str, rec: &mut RawRecord) -> bool {
    rec.clear();
    let mut de = sonic_rs::Deserializer::from_str(text);
    let ok = FlatSeed(&mut *rec).deserialize(&mut de).is_ok() && de.end().is_ok();
    find_time_key(rec);
    ok
}

/// The same seed on serde_json's deserializer (what logferry's full parser is built on).
pub fn serde_json(text: &str, rec: &mut RawRecord) -> bool {
    rec.clear();
    let mut de = serde_json::Deserializer::from_str(text);
    let ok = FlatSeed(&mut *rec).deserialize(&mut de).is_ok() && de.end().is_ok();
    find_time_key(rec);
    ok
}

struct FlatSeed<'r>(&'r mut RawRecord);

impl<'de> DeserializeSeed<'de> for FlatSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FlatSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a flat JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let rec = self.0;
        loop {
            let k0 = rec.buf.len();
            if map.next_key_seed(Str(&mut rec.buf))?.is_none() {
                return Ok(());
            }
            let k1 = rec.buf.len();
            map.next_value_seed(Scalar(&mut rec.buf))?;
            if !push_pair(rec, k0, k1) {
                return Err(de::Error::custom("repeated key"));
            }
        }
    }
}

struct Str<'b>(&'b mut Vec<u8>);

impl<'de> DeserializeSeed<'de> for Str<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Str<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        write::str(self.0, v);
        Ok(())
    }
}

struct Scalar<'b>(&'b mut Vec<u8>);

impl<'de> DeserializeSeed<'de> for Scalar<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Scalar<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a scalar")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        write::bool(self.0, v);
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        write::int(self.0, v);
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        match i64::try_from(v) {
            Ok(i) => write::int(self.0, i),
            Err(_) => write::uint(self.0, v),
        }
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        write::f64(self.0, v);
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        write::str(self.0, v);
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        write::nil(self.0);
        Ok(())
    }
}
