//! `single_value`: one field's text per line.

use super::{text_of, Formatter, Newline};
use logferry_config::{BuildError, Section};
use logferry_msgpack::{EventTime, Value};

/// The single_value formatter.
pub struct SingleValue {
    key: String,
    nl: Newline,
}

impl SingleValue {
    /// Build from a section.
    pub fn new(s: &Section, nl: Newline) -> Result<Self, BuildError> {
        Ok(SingleValue {
            key: s.get("message_key")?,
            nl: nl.with_add(s)?,
        })
    }
}

impl Formatter for SingleValue {
    fn format_raw(&self, tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        // Strings that are not UTF-8 keep their bytes, as Fluentd writes them.
        self.format(tag, time, &crate::record::decode_keep_bytes(record), out);
    }

    fn format(&self, _tag: &str, _time: EventTime, record: &Value, out: &mut Vec<u8>) {
        out.extend_from_slice(&text_of(record.get(&self.key)));
        self.nl.push_if_add(out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use logferry_msgpack::Value;

    // Reference §7.8 case 89.
    #[test]
    fn case_89_single_value() {
        let rec = Value::Map(vec![(
            Value::Str("log".into()),
            Value::Str("hello\n".into()),
        )]);
        let mut out = Vec::new();
        formatter("single_value", "message_key log\nadd_newline false")
            .format("t", T, &rec, &mut out);
        assert_eq!(out, b"hello\n");
        let mut out = Vec::new();
        formatter("single_value", "message_key log").format("t", T, &rec, &mut out);
        assert_eq!(out, b"hello\n\n");
        let mut out = Vec::new();
        formatter("single_value", "message_key nope").format("t", T, &rec, &mut out);
        assert_eq!(out, b"\n");
    }
}
