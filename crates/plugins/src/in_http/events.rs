//! From request parameters to events, as Fluentd's `HttpInput#on_request`: the record comes from
//! the `json`, `ndjson` or `msgpack` parameter (a form field, or the body by its content type),
//! or from the body through a custom `<parse>`; an array is a batch; the time comes from
//! `?time=`, else the record's time key, else now.

use crate::net::bytemap::{
    binary_text, decode_keeping_bytes_flagged, encode_unmapped, unmap, utf8_text,
};
use logferry_formats::parser::InvalidUtf8;
use std::sync::Arc;

use logferry_core::{BatchBuilder, EventBatch, EventTime, Value};

use super::params::{ruby_to_f, Params};
use crate::net::peer::set_field;
use crate::parser::Parser;
use logferry_formats::parser::field_time::FieldTime;
use logferry_formats::parser::yajl::Flavor;

/// How records are made and completed.
pub struct Recipe {
    /// `<parse>` with a parser other than `in_http`: the body is its text; its name.
    pub custom: Option<(Arc<dyn Parser>, String)>,
    /// The time field of `in_http` records (`time_key`, default `time`).
    pub time_key: String,
    /// Keep that field in the record (`keep_time_key`).
    pub keep_time_key: bool,
    /// How that field is read when `time_type` or `time_format` is given (else as epoch
    /// seconds).
    pub time_parser: Option<FieldTime>,
    /// `add_http_headers`
    pub add_http_headers: bool,
    /// `add_query_params`
    pub add_query_params: bool,
    /// `add_remote_addr`
    pub add_remote_addr: bool,
}

/// The parameter a custom parser's body is kept under (Fluentd's name).
pub const EVENT_RECORD: &str = "_event_record";

/// The events of one request, or why it is a bad request (answered with 400). `Ok(None)`:
/// nothing to emit (an empty body, or a `null` one: Fluentd skips a nil record and answers as
/// it does to a good one).
pub fn events(r: &Recipe, params: &Params) -> Result<Option<EventBatch>, String> {
    let mut records: Vec<(Option<EventTime>, Value)> = Vec::new();
    // Strings of the `json`, `ndjson` or `msgpack` record holding bytes that are not UTF-8:
    // Fluentd's Oj and msgpack keep those bytes in its (UTF-8) strings. They stand in the text as
    // `utf8_text` maps them, and the records are then written back with their bytes (str).
    let mut kept = false;
    if let Some((parser, name)) = &r.custom {
        let Some(content) = params.get(EVENT_RECORD) else {
            return Err(format!("'{EVENT_RECORD}' parameter is required"));
        };
        // The body is a binary string in Fluentd: a parser reads its bytes, and the pieces it
        // takes keep them (bin past ASCII), as for tcp (see `crate::net::bytemap`).
        // (Not for the json parser, which decodes its text: the UTF-8 reading as before.)
        let mapped = binary_text(content).filter(|_| parser.keeps_text_bytes());
        let text = match &mapped {
            Some(t) => std::borrow::Cow::Borrowed(t.as_str()),
            // The json parser with Oj or Ruby's json keeps bytes that are not UTF-8 in its
            // strings (str), as for a `json` parameter.
            None if matches!(parser.on_invalid_utf8(), InvalidUtf8::Keeps) => {
                text_keeping_bytes(content, &mut kept)
            }
            None => String::from_utf8_lossy(content),
        };
        let mut out = Vec::new();
        if kept {
            parser.parse_invalid_utf8(&text, &mut out);
        } else {
            parser.parse(&text, &mut out);
        }
        let text = String::from_utf8_lossy(content);
        for res in out {
            match res {
                Ok((t, v)) if mapped.is_some() => {
                    records.push((t, unmap(v, parser.keeps_text_bytes())))
                }
                Ok((t, v)) => records.push((t, v)),
                // Fluentd: a parser that finds no record gives "Received event is not TYPE:
                // BODY"; one that raises (a time it cannot read) gives its own message.
                Err(e) if e.starts_with("pattern not matched") => {
                    return Err(format!("Received event is not {name}: {text}"))
                }
                Err(e) => return Err(e),
            }
        }
    } else if let Some(mp) = params.get("msgpack") {
        if mp.is_empty() {
            return Ok(None);
        }
        // Fluentd reads it into Ruby Hashes: a repeated key keeps its first place, its last value.
        let mut folded = Vec::new();
        let mp = if logferry_msgpack::has_repeated_keys(mp)
            && logferry_msgpack::fold_repeated_keys(mp, &mut folded).is_ok()
        {
            &folded[..]
        } else {
            mp
        };
        let (v, mapped) =
            decode_keeping_bytes_flagged(mp).map_err(|e| format!("invalid msgpack: {e}"))?;
        kept |= mapped;
        if v == Value::Nil {
            // Fluentd: "Skip nil record", answered as a success.
            return Ok(None);
        }
        flatten(v, &mut records)?;
    } else if let Some(js) = params.get("json") {
        let text = text_keeping_bytes(js, &mut kept);
        if text.trim().is_empty() {
            return Ok(None);
        }
        // Fluentd reads it with its json parser plugin, whose default `json_parser` is Oj: as
        // the json parser does.
        let v = logferry_formats::parser::yajl::parse_as(&text, Flavor::Oj)
            .map_err(|e| format!("invalid JSON: {e}"))?;
        if v == Value::Nil {
            return Ok(None);
        }
        flatten(v, &mut records)?;
    } else if let Some(nd) = params.get("ndjson") {
        let text = text_keeping_bytes(nd, &mut kept);
        for (i, line) in text.split('\n').enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.trim().is_empty() {
                continue;
            }
            let v = logferry_formats::parser::yajl::parse_as(line, Flavor::Oj)
                .map_err(|e| format!("invalid JSON on line {}: {e}", i + 1))?;
            flatten(v, &mut records)?;
        }
    } else {
        return Err("'json', 'ndjson' or 'msgpack' parameter is required".into());
    }
    if records.is_empty() {
        return Ok(None);
    }
    let param_time = params.get("time").map(|t| {
        let f = ruby_to_f(&String::from_utf8_lossy(t));
        if f == 0.0 {
            EventTime::now()
        } else {
            EventTime::from_f64(f)
        }
    });
    let mut b = BatchBuilder::new();
    for (parsed_time, mut rec) in records {
        add_params(r, params, &mut rec);
        let time = match (param_time, parsed_time) {
            (Some(t), _) => t,
            (None, Some(t)) => t,
            (None, None) if r.custom.is_some() => EventTime::now(),
            (None, None) => time_field(r, &mut rec)?,
        };
        if kept {
            b.push_with(time, |buf| encode_unmapped(&rec, buf, false));
        } else {
            b.push_value(time, &rec);
        }
    }
    Ok(Some(b.finish()))
}

/// The text of a `json` or `ndjson` parameter: itself when UTF-8, else with each byte that is not
/// UTF-8 mapped ([`utf8_text`]), setting `kept`.
fn text_keeping_bytes<'a>(bytes: &'a [u8], kept: &mut bool) -> std::borrow::Cow<'a, str> {
    match std::str::from_utf8(bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => {
            *kept = true;
            std::borrow::Cow::Owned(utf8_text(bytes))
        }
    }
}

/// One record (a map) or a batch (an array of maps).
fn flatten(v: Value, out: &mut Vec<(Option<EventTime>, Value)>) -> Result<(), String> {
    match v {
        Value::Map(_) => out.push((None, v)),
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Map(_) => out.push((None, item)),
                    other => return Err(not_a_record(&other)),
                }
            }
        }
        other => return Err(not_a_record(&other)),
    }
    Ok(())
}

fn not_a_record(v: &Value) -> String {
    let kind = match v {
        Value::Nil => "null",
        Value::Bool(_) => "a boolean",
        Value::Int(_) | Value::UInt(_) => "an integer",
        Value::F32(_) | Value::F64(_) => "a float",
        Value::Str(_) | Value::Bin(_) => "a string",
        Value::Array(_) => "an array",
        _ => "not a map",
    };
    format!("an event record must be an object (a map), got {kind}")
}

/// The fields `add_http_headers`, `add_query_params` and `add_remote_addr` ask for. Fluentd's
/// header and query values are binary strings: their bytes as they are, msgpack bin when one
/// is past ASCII (README "Differences from Fluentd": ASCII alone is str).
fn add_params(r: &Recipe, params: &Params, rec: &mut Value) {
    let text = |v: &[u8]| match std::str::from_utf8(v) {
        Ok(s) if s.is_ascii() => Value::Str(s.to_owned()),
        _ => Value::Bin(v.to_vec()),
    };
    if r.add_http_headers {
        for (k, v) in params.0.iter().filter(|(k, _)| k.starts_with("HTTP_")) {
            let v = match params.all(k) {
                // A header given more than once: all its values (http_parser.rb's array).
                Some(all) => Value::Array(all.iter().map(|v| text(v)).collect()),
                None => text(v),
            };
            set_field(rec, k, v);
        }
    }
    if r.add_query_params {
        for (k, v) in params.0.iter().filter(|(k, _)| k.starts_with("QUERY_")) {
            set_field(rec, k, text(v));
        }
    }
    if r.add_remote_addr {
        let v = params.get("REMOTE_ADDR").map_or(Value::Nil, text);
        set_field(rec, "REMOTE_ADDR", v);
    }
}

/// Fluentd's `convert_time_field`: the time key's value (removed unless `keep_time_key`) read
/// by the time parser, or as epoch seconds without one; absent, null or false: now.
fn time_field(r: &Recipe, rec: &mut Value) -> Result<EventTime, String> {
    let Value::Map(m) = rec else {
        return Ok(EventTime::now());
    };
    let Some(i) = m
        .iter()
        .position(|(k, _)| k.as_str() == Some(r.time_key.as_str()))
    else {
        return Ok(EventTime::now());
    };
    let v = if r.keep_time_key {
        m[i].1.clone()
    } else {
        m.remove(i).1
    };
    if let (Some(p), false) = (&r.time_parser, matches!(v, Value::Nil | Value::Bool(false))) {
        return p.parse(&v);
    }
    match v {
        Value::Nil | Value::Bool(false) => Ok(EventTime::now()),
        Value::Int(s) if (0..=i64::from(u32::MAX)).contains(&s) => Ok(EventTime::new(s as u32, 0)),
        Value::Int(s) => Ok(EventTime::from_f64(s as f64)),
        Value::UInt(s) => Ok(EventTime::from_f64(s as f64)),
        Value::F32(f) => Ok(EventTime::from_f64(f64::from(f))),
        Value::F64(f) => Ok(EventTime::from_f64(f)),
        Value::Ext(0, p) => EventTime::from_payload(&p).ok_or_else(|| "invalid EventTime".into()),
        Value::Str(_) | Value::Bin(_) => Err("can't convert String into an exact number".into()),
        other => Err(format!(
            "can't convert {} into an exact number",
            match other {
                Value::Array(_) => "Array",
                Value::Map(_) => "Hash",
                _ => "this value",
            }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipe() -> Recipe {
        Recipe {
            custom: None,
            time_key: "time".into(),
            keep_time_key: false,
            time_parser: None,
            add_http_headers: true,
            add_query_params: false,
            add_remote_addr: true,
        }
    }

    fn records(b: &EventBatch) -> Vec<(f64, String)> {
        b.iter()
            .map(|e| (e.time.as_f64(), e.decode_record().to_text()))
            .collect()
    }

    #[test]
    fn as_fluentd_records_them() {
        // Recorded from Fluentd 1.16.11: {"a":2,"time":1700000000} -> time 1700000000, the
        // time key removed, HTTP_* then REMOTE_ADDR appended.
        let mut p = Params::default();
        p.set("json".into(), br#"{"a":2,"time":1700000000}"#.to_vec());
        p.set("HTTP_HOST".into(), b"h".to_vec());
        p.set("REMOTE_ADDR".into(), b"127.0.0.1".to_vec());
        let b = events(&recipe(), &p).unwrap().unwrap();
        assert_eq!(
            records(&b),
            [(
                1700000000.0,
                r#"{"a":2,"HTTP_HOST":"h","REMOTE_ADDR":"127.0.0.1"}"#.to_string()
            )]
        );
        // An array with ?time= is a batch at that time.
        let mut p = Params::default();
        p.set("json".into(), br#"[{"a":3},{"a":4}]"#.to_vec());
        p.set("time".into(), b"1700000001.5".to_vec());
        let mut r = recipe();
        r.add_http_headers = false;
        r.add_remote_addr = false;
        let b = events(&r, &p).unwrap().unwrap();
        assert_eq!(
            records(&b),
            [
                (1700000001.5, r#"{"a":3}"#.to_string()),
                (1700000001.5, r#"{"a":4}"#.to_string())
            ]
        );
    }

    #[test]
    fn bad_requests() {
        let r = recipe();
        let req = |k: &str, v: &[u8]| {
            let mut p = Params::default();
            p.set(k.into(), v.to_vec());
            events(&r, &p)
        };
        assert!(req("json", b"{bad")
            .unwrap_err()
            .starts_with("invalid JSON"));
        assert!(req("json", b"42")
            .unwrap_err()
            .contains("must be an object"));
        assert!(req("json", b"[1,2]")
            .unwrap_err()
            .contains("must be an object"));
        assert_eq!(
            req("json", br#"{"time":"x"}"#).unwrap_err(),
            "can't convert String into an exact number"
        );
        assert_eq!(
            req("foo", b"bar").unwrap_err(),
            "'json', 'ndjson' or 'msgpack' parameter is required"
        );
        assert!(req("json", b"").unwrap().is_none());
        assert!(req("json", b" null ").unwrap().is_none());
        assert!(req("msgpack", b"\xc0").unwrap().is_none());
        assert!(req("json", b"[]").unwrap().is_none());
        assert!(req("ndjson", b"{\"n\":1}\n{bad}\n")
            .unwrap_err()
            .contains("line 2"));
        assert_eq!(
            req("ndjson", b"{\"n\":1}\r\n\n{\"n\":2}")
                .unwrap()
                .unwrap()
                .len(),
            2
        );
    }
}
