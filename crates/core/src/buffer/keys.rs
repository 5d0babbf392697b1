//! Chunk keys: which chunk an event goes to (tag, time slice, record values).

use logferry_msgpack::{EventTime, Value};

use super::config::BufferConfig;
use super::meta::ChunkMeta;

/// The start of the time slice of `t`: `t − ((t + utc_offset) mod timekey)`.
pub fn timekey_of(cfg: &BufferConfig, timekey: i64, t: EventTime) -> i64 {
    let sec = i64::from(t.sec);
    let off = i64::from(cfg.timekey_zone.offset_at(sec));
    sec - (sec + off).rem_euclid(timekey)
}

/// The chunk metadata (keys only; counters zero) of one event.
pub fn meta_for(cfg: &BufferConfig, tag: &str, time: EventTime, record: &[u8]) -> ChunkMeta {
    let mut m = ChunkMeta::default();
    if cfg.key_tag {
        m.tag = Some(tag.to_string());
    }
    if let Some(tk) = cfg.timekey {
        m.timekey = Some(timekey_of(cfg, tk, time));
    }
    if !cfg.record_keys.is_empty() {
        let rec = crate::record::decode(record);
        for k in &cfg.record_keys {
            let v = match k.accessor.get(&rec) {
                None | Some(Value::Nil) => String::new(),
                Some(v) => v.to_text(),
            };
            m.variables.push((k.name.clone(), v));
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timefmt::Zone;

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
        let m = meta_for(&c, "app", EventTime::new(1_700_000_000, 0), &rec);
        assert_eq!(m.tag.as_deref(), Some("app"));
        assert_eq!(m.timekey, Some(1_699_999_200));
        assert_eq!(m.variables, vec![("$.k.v".to_string(), "7".to_string())]);
    }
}
