//! `json`: compact JSON, one object per line; transcodes msgpack straight to JSON.

use super::{Formatter, Newline};
use logferry_config::{BuildError, Section};
use logferry_msgpack::{EventTime, Value};

/// The json formatter.
pub struct Json {
    nl: Newline,
}

impl Json {
    /// Build from a section.
    pub fn new(s: &Section, nl: Newline) -> Result<Self, BuildError> {
        s.get::<&str>("json_parser")?;
        Ok(Json {
            nl: nl.with_add(s)?,
        })
    }
}

impl Formatter for Json {
    fn format(&self, _tag: &str, _time: EventTime, record: &Value, out: &mut Vec<u8>) {
        record.to_json(out);
        self.nl.push_if_add(out);
    }

    fn format_raw(&self, _tag: &str, _time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        if logferry_msgpack::write_json(record, out).is_err() {
            out.extend_from_slice(b"{}");
        }
        self.nl.push_if_add(out);
    }

    fn content_type(&self) -> &'static str {
        "application/x-ndjson"
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    #[test]
    fn json_line() {
        let f = formatter("json", "");
        assert_eq!(run(&*f), "{\"a\":1,\"b\":\"x\\ty\",\"c\":null}\n");
        let mut raw = Vec::new();
        record().encode(&mut raw);
        let mut out = Vec::new();
        f.format_raw("t", T, &raw, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), run(&*f));
        assert_eq!(
            run(&*formatter("json", "add_newline false\nnewline crlf")),
            "{\"a\":1,\"b\":\"x\\ty\",\"c\":null}"
        );
        assert_eq!(
            run(&*formatter("json", "newline crlf")),
            "{\"a\":1,\"b\":\"x\\ty\",\"c\":null}\r\n"
        );
    }
}
