//! `json`: compact JSON, one object per line; transcodes msgpack straight to JSON.
//!
//! `json_parser oj` (the default) writes it as Oj does (Fluentd's `Oj.dump`: Fluentd prefers
//! Oj, which its images and fluent-package ship); any other value (`yajl`, `json`, or anything
//! else: Fluentd's parameter is a free string) as yajl does (`Yajl.dump`). The two differ only
//! in whole floats from 1e15 on and -0.0 (`10000000000000000.0` and `0.0` for Oj,
//! `1.0e+16` and `-0.0` for yajl) and in the hex case of `\u001f`
//! ([`logferry_msgpack::write_json_oj`]).

use super::{Formatter, Newline};
use logferry_config::{BuildError, Section};
use logferry_msgpack::{EventTime, Value};

/// The json formatter.
pub struct Json {
    nl: Newline,
    /// `json_parser oj`: Oj's JSON, else yajl's.
    oj: bool,
}

impl Json {
    /// Build from a section.
    pub fn new(s: &Section, nl: Newline) -> Result<Self, BuildError> {
        let oj = s.get::<&str>("json_parser")? == "oj";
        Ok(Json {
            nl: nl.with_add(s)?,
            oj,
        })
    }
}

impl Formatter for Json {
    fn format(&self, _tag: &str, _time: EventTime, record: &Value, out: &mut Vec<u8>) {
        if self.oj {
            record.to_json_oj(out);
        } else {
            record.to_json(out);
        }
        self.nl.push_if_add(out);
    }

    fn format_raw(&self, _tag: &str, _time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        let written = if self.oj {
            logferry_msgpack::write_json_oj(record, out)
        } else {
            logferry_msgpack::write_json(record, out)
        };
        if written.is_err() {
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

    /// `json_parser oj` (the default) writes as Oj, any other value as yajl; both through the
    /// record and straight from msgpack.
    #[test]
    fn json_parser_picks_oj_or_yajl() {
        use logferry_msgpack::Value;
        let rec = Value::Map(vec![
            (Value::Str("f".into()), Value::F64(1e16)),
            (Value::Str("z".into()), Value::F64(-0.0)),
            (Value::Str("s".into()), Value::Str("a\u{1f}b".into())),
            (Value::Str("m".into()), Value::F64(0.1)),
        ]);
        let mut raw = Vec::new();
        rec.encode(&mut raw);
        for (body, want) in [
            (
                "",
                "{\"f\":10000000000000000.0,\"z\":0.0,\"s\":\"a\\u001fb\",\"m\":0.1}\n",
            ),
            (
                "json_parser oj",
                "{\"f\":10000000000000000.0,\"z\":0.0,\"s\":\"a\\u001fb\",\"m\":0.1}\n",
            ),
            (
                "json_parser yajl",
                "{\"f\":1.0e+16,\"z\":-0.0,\"s\":\"a\\u001Fb\",\"m\":0.1}\n",
            ),
            (
                "json_parser json",
                "{\"f\":1.0e+16,\"z\":-0.0,\"s\":\"a\\u001Fb\",\"m\":0.1}\n",
            ),
            (
                "json_parser other",
                "{\"f\":1.0e+16,\"z\":-0.0,\"s\":\"a\\u001Fb\",\"m\":0.1}\n",
            ),
        ] {
            let f = formatter("json", body);
            let mut out = Vec::new();
            f.format("t", T, &rec, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), want, "{body}");
            let mut out = Vec::new();
            f.format_raw("t", T, &raw, &mut out);
            assert_eq!(String::from_utf8(out).unwrap(), want, "{body} (raw)");
        }
    }
}
