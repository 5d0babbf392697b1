//! `msgpack`: the record's msgpack bytes, no newline.

use super::Formatter;
use logferry_msgpack::{EventTime, Value};

/// The msgpack formatter.
pub struct Msgpack;

impl Formatter for Msgpack {
    fn format(&self, _tag: &str, _time: EventTime, record: &Value, out: &mut Vec<u8>) {
        record.encode(out);
    }

    fn format_raw(&self, _tag: &str, _time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        out.extend_from_slice(record);
    }

    fn content_type(&self) -> &'static str {
        "application/x-msgpack"
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
