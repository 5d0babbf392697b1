//! `msgpack`: the record's msgpack bytes, no newline.

use super::Formatter;
use logferry_msgpack::{EventTime, Value};

/// The msgpack formatter.
pub struct Msgpack;

impl Formatter for Msgpack {
    fn format(&self, _tag: &str, _time: EventTime, record: &Value, out: &mut Vec<u8>) {
        let mut v = record.clone();
        widen_floats(&mut v);
        v.encode(out);
    }

    fn format_raw(&self, tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        // Fluentd re-packs the record, and a Ruby Float is a float64: a record with a float32
        // (rare: 0xca may also be a byte inside a string) is re-encoded, any other is copied.
        if record.contains(&0xca) {
            if let Ok((v, _)) = Value::decode(record) {
                if has_f32(&v) {
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
}
