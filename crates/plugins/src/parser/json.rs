//! `json` (Fluentd's `parser_json.rb`): an object is one record, an array one record per element
//! (non-objects fail), anything else fails. `time_key time`, `time_type float` (`string` when a
//! `time_format` is given). `json_parser oj|yajl|json` is accepted; there is one JSON parser here.
//!
//! The text is deserialized straight into the record [`Value`] (no intermediate tree); a key
//! repeated in an object keeps its first position and its last value, as Ruby's `JSON.parse`.

use std::collections::HashMap;
use std::fmt;

use logferry_core::{BuildError, Value};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::common::{Common, Conf, Defaults};
use super::{ParseResult, Parser};

/// The `json` parser.
#[derive(Debug)]
pub struct JsonParser {
    common: Common,
}

impl JsonParser {
    pub(crate) fn build(c: &Conf) -> Result<Self, BuildError> {
        c.choice("json_parser", &["oj", "yajl", "json"], "oj")?;
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
            _ => Err("parsed JSON element is not an object".to_string()),
        }
    }
}

impl Parser for JsonParser {
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
            Err(e) => out.push(Err(format!("invalid JSON '{text}': {e}"))),
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
