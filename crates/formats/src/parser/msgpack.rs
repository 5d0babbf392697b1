//! `msgpack` (Fluentd's `parser_msgpack.rb`): the text's bytes are a stream of msgpack objects,
//! each map one record, its time from `time_key` when one is given (none by default), else now
//! (`estimate_current_event`). Binary text (a msgpack bin field, in_udp's datagrams, in_http's
//! body) reaches the parser with its bytes from 0x80 up standing as [`crate::ruby::stands_for_byte`]
//! characters, read back into bytes here.
//!
//! Where Fluentd's reading loses or corrupts a record, logferry's is a failure instead (README
//! "Differences from Fluentd"): an object that is not a map (Fluentd makes it the record itself)
//! and an object cut short (Fluentd's unpacker keeps the bytes and reads them in front of the
//! next text the parser is given, another record's) are not matched, and so are bytes that are
//! not msgpack after objects read (Fluentd keeps them for the next text, which then raises);
//! such bytes first raise (msgpack-ruby's `MalformedFormatError`), as in Fluentd; a text with no
//! object at all is no record.

use logferry_config::BuildError;
use logferry_msgpack::{Error, Value};

use super::common::{Common, Conf, Defaults};
use super::{InvalidUtf8, ParseResult, Parser};

/// The `msgpack` parser.
#[derive(Debug)]
pub struct MsgpackParser {
    common: Common,
}

impl MsgpackParser {
    pub(crate) fn build(c: &Conf) -> Result<Self, BuildError> {
        let c = &c.or_declared(&super::params::MSGPACK);
        Ok(MsgpackParser {
            common: Common::read(c, &Defaults::default())?,
        })
    }
}

impl Parser for MsgpackParser {
    /// A str field holding msgpack (bytes that are rarely UTF-8) is read by its bytes.
    fn on_invalid_utf8(&self) -> InvalidUtf8 {
        InvalidUtf8::Keeps
    }

    /// Each object in turn: a map is a record, an array one record per map in it (in_http's
    /// batch). The first object that is not a map (or an array of maps), is cut short or is not
    /// msgpack ends the reading with one failure for the text: bytes that are not msgpack
    /// first raise, as msgpack-ruby does; so does any object that is not a map where `types`
    /// or the null options make Fluentd convert its values; the rest is not matched.
    fn parse(&self, text: &str, out: &mut Vec<ParseResult>) {
        let bytes = crate::ruby::text_bytes(text);
        let mut rest = &bytes[..];
        let first = out.len();
        while !rest.is_empty() {
            let failure = match Value::decode(rest) {
                Ok((v, n)) => {
                    rest = &rest[n..];
                    match v {
                        Value::Map(rec) => {
                            out.push(self.common.finish(rec));
                            continue;
                        }
                        Value::Array(items) if items.iter().all(|i| matches!(i, Value::Map(_))) => {
                            for item in items {
                                if let Value::Map(rec) = item {
                                    out.push(self.common.finish(rec));
                                }
                            }
                            continue;
                        }
                        v if self.common.conv.is_some() => {
                            crate::ruby::no_method_error("each_key", &v)
                        }
                        _ => "pattern not matched: a msgpack object that is not a map".into(),
                    }
                }
                Err(Error::Incomplete) => "pattern not matched: a msgpack object cut short".into(),
                Err(e) if out.len() == first => format!("invalid msgpack: {e}"),
                Err(e) => format!("pattern not matched: invalid msgpack: {e}"),
            };
            out.push(Err(failure));
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{build, Parser};
    use logferry_config::Section;
    use std::path::Path;

    fn parser() -> Box<dyn Parser> {
        let root = logferry_config::parse_str(
            "<parse>\n@type msgpack\n</parse>\n",
            "t.conf",
            Path::new("."),
        )
        .unwrap();
        build("msgpack", &Section::new(&root.elements[0], "msgpack")).unwrap()
    }

    /// Maps are records, each in turn; what is left unread is a failure, raised when first.
    #[test]
    fn objects_in_turn() {
        let p = parser();
        let text = |b: &[u8]| crate::ruby::bytes_as_text(b);
        let run = |t: &str| {
            let mut out = Vec::new();
            p.parse(t, &mut out);
            out
        };
        // {"a":1}{"b":2}
        let two = run(&text(&[0x81, 0xa1, b'a', 1, 0x81, 0xa1, b'b', 2]));
        assert_eq!(two.len(), 2);
        assert!(two.iter().all(|r| r.is_ok()));
        // a map cut short, a non-map: not matched
        for bad in [&[0x81, 0xa1][..], &[0x0c][..]] {
            let r = run(&text(bad));
            assert!(
                matches!(&r[..], [Err(e)] if e.starts_with("pattern not matched")),
                "{r:?}"
            );
        }
        // 0xc1 first raises; after a map it is not matched
        assert!(
            matches!(&run(&text(&[0xc1]))[..], [Err(e)] if !e.starts_with("pattern not matched"))
        );
        let after = run(&text(&[0x80, 0xc1]));
        assert!(matches!(&after[..], [Ok(_), Err(e)] if e.starts_with("pattern not matched")));
        assert!(run("").is_empty());
        // One failure a text, however many objects are not maps (no error event per byte).
        assert_eq!(run(&"\0".repeat(2000)).len(), 1);
        // An array of maps is a record each (in_http's batch).
        assert_eq!(run(&text(&[0x92, 0x80, 0x81, 0xa1, b'a', 1])).len(), 2);
    }
}
