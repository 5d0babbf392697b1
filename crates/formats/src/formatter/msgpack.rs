//! `msgpack`: the record's msgpack bytes, no newline.

use super::Formatter;
use logferry_msgpack::{EventTime, Value};

/// The msgpack formatter.
pub struct Msgpack;

impl Formatter for Msgpack {
    fn format(&self, _tag: &str, _time: EventTime, record: &Value, out: &mut Vec<u8>) {
        let mut v = record.clone();
        widen_floats(&mut v);
        whole_event_times_to_seconds(&mut v);
        v.encode(out);
    }

    fn format_raw(&self, tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        // Fluentd re-packs the record, and a Ruby Float is a float64: a record with a float32
        // (rare: 0xca may also be a byte inside a string) is re-encoded, any other is copied.
        // Likewise an EventTime in the record (ext 0, 0xd7 0x00): Ruby's `EventTime#to_msgpack`
        // packs its whole seconds.
        if record.contains(&0xca) || record.windows(2).any(|w| w == [0xd7, 0x00]) {
            if let Ok((v, _)) = Value::decode(record) {
                if has_f32(&v) || has_whole_event_time(&v) {
                    return self.format(tag, time, &v, out);
                }
            }
        }
        out.extend_from_slice(record);
    }

    fn content_type(&self) -> &'static str {
        "application/x-msgpack"
    }
}

fn has_f32(v: &Value) -> bool {
    match v {
        Value::F32(_) => true,
        Value::Array(a) => a.iter().any(has_f32),
        Value::Map(m) => m.iter().any(|(k, x)| has_f32(k) || has_f32(x)),
        _ => false,
    }
}

/// An EventTime (ext type 0, 8 bytes) without a fraction.
fn whole_event_time_seconds(v: &Value) -> Option<i64> {
    match v {
        Value::Ext(0, p) if p.len() == 8 && p[4..] == [0, 0, 0, 0] => {
            Some(i64::from(u32::from_be_bytes([p[0], p[1], p[2], p[3]])))
        }
        _ => None,
    }
}

fn has_whole_event_time(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.iter().any(has_whole_event_time),
        Value::Map(m) => m
            .iter()
            .any(|(k, x)| has_whole_event_time(k) || has_whole_event_time(x)),
        _ => whole_event_time_seconds(v).is_some(),
    }
}

/// Fluentd packs an EventTime inside a record by `EventTime#to_msgpack`: its whole seconds as an
/// integer. One without a fraction is written so; one with a fraction keeps its ext form, since
/// Fluentd's integer would drop the fraction (README "Differences from Fluentd").
fn whole_event_times_to_seconds(v: &mut Value) {
    if let Some(sec) = whole_event_time_seconds(v) {
        *v = Value::Int(sec);
        return;
    }
    match v {
        Value::Array(a) => a.iter_mut().for_each(whole_event_times_to_seconds),
        Value::Map(m) => m.iter_mut().for_each(|(k, x)| {
            whole_event_times_to_seconds(k);
            whole_event_times_to_seconds(x);
        }),
        _ => {}
    }
}

fn widen_floats(v: &mut Value) {
    match v {
        Value::F32(f) => *v = Value::F64(f64::from(*f)),
        Value::Array(a) => a.iter_mut().for_each(widen_floats),
        Value::Map(m) => m.iter_mut().for_each(|(k, x)| {
            widen_floats(k);
            widen_floats(x);
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    #[test]
    fn msgpack_is_record_bytes() {
        let mut want = Vec::new();
        record().encode(&mut want);
        let mut got = Vec::new();
        formatter("msgpack", "").format("t", T, &record(), &mut got);
        assert_eq!(got, want);
        let mut raw = Vec::new();
        formatter("msgpack", "").format_raw("t", T, &want, &mut raw);
        assert_eq!(raw, want);
    }

    #[test]
    fn an_event_time_in_the_record_is_its_seconds_unless_it_has_a_fraction() {
        use logferry_msgpack::Value;
        let et = |nsec: u32| {
            let mut p = 1_700_000_000u32.to_be_bytes().to_vec();
            p.extend_from_slice(&nsec.to_be_bytes());
            Value::Ext(0, p)
        };
        let rec = |a: Value, b: Value| {
            Value::Map(vec![
                (Value::Str("a".into()), a),
                (Value::Str("b".into()), Value::Array(vec![b])),
            ])
        };
        let mut raw = Vec::new();
        rec(et(0), et(5)).encode(&mut raw);
        let mut want = Vec::new();
        rec(Value::Int(1_700_000_000), et(5)).encode(&mut want);
        for raw_path in [false, true] {
            let mut got = Vec::new();
            let f = formatter("msgpack", "");
            if raw_path {
                f.format_raw("t", T, &raw, &mut got);
            } else {
                f.format("t", T, &rec(et(0), et(5)), &mut got);
            }
            assert_eq!(got, want);
        }
    }
}
