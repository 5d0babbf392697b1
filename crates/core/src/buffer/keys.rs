//! Chunk keys: which chunk an event goes to (tag, time slice, record values).

use logferry_msgpack::EventTime;

use super::config::BufferConfig;
use super::meta::ChunkMeta;

/// The start of the time slice of `t`: `t − ((t + utc_offset) mod timekey)`.
pub fn timekey_of(cfg: &BufferConfig, timekey: i64, t: EventTime) -> i64 {
    let sec = i64::from(t.sec);
    let off = i64::from(cfg.timekey_zone.offset_at(sec));
    sec - (sec + off).rem_euclid(timekey)
}

/// The chunk metadata (keys only; counters zero) of one event. A record key's value is its
/// Ruby `to_s` (a map `{"z"=>1}`, nil and a missing key `""`) and its kind (nil and `""` are two
/// chunks, as in Fluentd); a path that steps into a value
/// that is not a container is Fluentd's `TypeError` from `dig` (`Integer does not have #dig
/// method`): the error, and the event goes to `@ERROR` as in Fluentd.
pub fn meta_for(
    cfg: &BufferConfig,
    tag: &str,
    time: EventTime,
    record: &[u8],
) -> Result<ChunkMeta, String> {
    let mut m = ChunkMeta::default();
    if cfg.key_tag {
        m.tag = Some(tag.to_string());
    }
    if let Some(tk) = cfg.timekey {
        m.timekey = Some(timekey_of(cfg, tk, time));
    }
    let mut scratch = String::new();
    let single = matches!(
        cfg.store,
        super::config::StoreKind::File {
            single: Some(_),
            ..
        }
    );
    for k in &cfg.record_keys {
        let raw = k.accessor.dig_raw(record)?;
        if single && !matches!(super::meta::value_kind(raw), 0 | 4) {
            // file_single escapes the value into the chunk file name with `URI::Parser#escape`,
            // which only a String (or nil, read as "") has: Fluentd's NoMethodError.
            if let Some(Ok((v, _))) = raw.map(logferry_msgpack::Value::decode) {
                return Err(logferry_formats::ruby::no_method_error("gsub", &v));
            }
        }
        let v = logferry_formats::ruby::raw_to_s(raw, &mut scratch).to_string();
        m.variables.push((k.name.clone(), v));
        m.variable_kinds.push(super::meta::value_kind(raw));
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timefmt::Zone;
    use logferry_msgpack::Value;

    fn cfg(zone: Zone) -> BufferConfig {
        let root = logferry_config::parse_str(
            "<match **>\n@type x\n<buffer tag,time,$.k.v>\ntimekey 3600\n</buffer>\n</match>\n",
            "t.conf",
            std::path::Path::new("."),
        )
        .unwrap();
        let s = crate::section::Section::new(&root.elements[0], "x");
        let mut c = BufferConfig::from_output(&s, &Default::default()).unwrap();
        c.timekey_zone = zone;
        c
    }

    // Reference §7.9 case 91.
    #[test]
    fn case_91_timekeys() {
        let c = cfg(Zone::utc());
        assert_eq!(
            timekey_of(&c, 3600, EventTime::new(1_700_000_000, 0)),
            1_699_999_200
        );
        let c = cfg(Zone::parse("+0900").unwrap());
        assert_eq!(
            timekey_of(&c, 86400, EventTime::new(1_700_000_000, 0)),
            1_699_974_000
        );
    }

    #[test]
    fn meta_from_record_keys() {
        let c = cfg(Zone::utc());
        let mut rec = Vec::new();
        Value::Map(vec![(
            Value::Str("k".into()),
            Value::Map(vec![(Value::Str("v".into()), Value::Int(7))]),
        )])
        .encode(&mut rec);
        let m = meta_for(&c, "app", EventTime::new(1_700_000_000, 0), &rec).unwrap();
        assert_eq!(m.tag.as_deref(), Some("app"));
        assert_eq!(m.timekey, Some(1_699_999_200));
        assert_eq!(m.variables, vec![("$.k.v".to_string(), "7".to_string())]);
    }

    /// A record key's value is its Ruby `to_s`; a path into a value that is not a container is
    /// Fluentd's `TypeError`.
    #[test]
    fn record_key_texts_and_dig_errors() {
        let c = cfg(Zone::utc());
        let t = EventTime::new(1_700_000_000, 0);
        let raw = |k: Value| {
            let mut rec = Vec::new();
            Value::Map(vec![(Value::Str("k".into()), k)]).encode(&mut rec);
            rec
        };
        let map = Value::Map(vec![(
            Value::Str("v".into()),
            Value::Map(vec![(Value::Str("z".into()), Value::Int(1))]),
        )]);
        let m = meta_for(&c, "app", t, &raw(map)).unwrap();
        assert_eq!(m.variables[0].1, r#"{"z"=>1}"#);
        let m = meta_for(&c, "app", t, &raw(Value::Nil)).unwrap();
        assert_eq!(m.variables[0].1, "");
        let e = meta_for(&c, "app", t, &raw(Value::Int(5))).unwrap_err();
        assert_eq!(e, "Integer does not have #dig method");
        let e = meta_for(&c, "app", t, &raw(Value::Array(vec![]))).unwrap_err();
        assert_eq!(e, "no implicit conversion of String into Integer");
    }

    /// file_single names chunk files by the record key's value, which Fluentd escapes as a
    /// String: any other value but nil is its NoMethodError.
    #[test]
    fn file_single_key_values_must_be_strings() {
        let root = logferry_config::parse_str(
            "<match **>\n@type x\n<buffer k>\n@type file_single\npath /nonexistent/b\n</buffer>\n</match>\n",
            "t.conf",
            std::path::Path::new("."),
        )
        .unwrap();
        let s = crate::section::Section::new(&root.elements[0], "x");
        let c = BufferConfig::from_output(&s, &Default::default()).unwrap();
        let t = EventTime::new(1_700_000_000, 0);
        let rec = |v: Value| {
            let mut r = Vec::new();
            Value::Map(vec![(Value::Str("k".into()), v)]).encode(&mut r);
            r
        };
        let m = meta_for(&c, "app", t, &rec(Value::Str("a/b".into()))).unwrap();
        assert_eq!(m.variables, vec![("k".to_string(), "a/b".to_string())]);
        let m = meta_for(&c, "app", t, &rec(Value::Nil)).unwrap();
        assert_eq!(m.variables[0].1, "");
        let m = meta_for(&c, "app", t, &Vec::from([0x80u8])).unwrap();
        assert_eq!(m.variables[0].1, "");
        assert_eq!(
            meta_for(&c, "app", t, &rec(Value::Int(1))).unwrap_err(),
            "undefined method `gsub' for 1:Integer"
        );
        assert!(meta_for(&c, "app", t, &rec(Value::Bool(true))).is_err());
    }

    /// Values of the same text but another Ruby class are other chunk keys (Fluentd compares
    /// the values); a missing key is nil.
    #[test]
    fn record_key_kinds_split_chunks() {
        let c = cfg(Zone::utc());
        let t = EventTime::new(1_700_000_000, 0);
        let meta = |v: Option<Value>| {
            let inner = match v {
                Some(v) => Value::Map(vec![(Value::Str("v".into()), v)]),
                None => Value::Map(vec![]),
            };
            let mut rec = Vec::new();
            Value::Map(vec![(Value::Str("k".into()), inner)]).encode(&mut rec);
            meta_for(&c, "app", t, &rec).unwrap()
        };
        let empty = meta(Some(Value::Str(String::new())));
        let nil = meta(Some(Value::Nil));
        assert_eq!(empty.variables, nil.variables);
        assert!(!empty.same_keys(&nil));
        assert!(nil.same_keys(&meta(None)));
        assert!(!meta(Some(Value::Int(1))).same_keys(&meta(Some(Value::Str("1".into())))));
        assert!(meta(Some(Value::Int(1))).same_keys(&meta(Some(Value::Int(1)))));
        assert!(!meta(Some(Value::F64(1.5))).same_keys(&meta(Some(Value::Str("1.5".into())))));
        assert!(!meta(Some(Value::Bool(true))).same_keys(&meta(Some(Value::Str("true".into())))));
    }
}
