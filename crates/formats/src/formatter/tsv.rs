//! `tsv`: the listed keys' values joined by a delimiter (Fluentd's `formatter_tsv`).

use super::{text_of, Formatter, Newline};
use logferry_config::{build_error, BuildError, Section};
use logferry_msgpack::{EventTime, Value};

/// The tsv formatter: `keys.map { |k| record[k].to_s }.join(delimiter)`.
pub struct Tsv {
    keys: Vec<String>,
    delimiter: String,
    nl: Newline,
}

impl Tsv {
    /// Build from a section; `keys` is required.
    pub fn new(s: &Section, nl: Newline) -> Result<Self, BuildError> {
        let keys: Vec<String> = s.get::<Option<_>>("keys")?.unwrap_or_default();
        if keys.is_empty() {
            return Err(build_error(
                s.pos(),
                "tsv format: 'keys' parameter is required",
            ));
        }
        Ok(Tsv {
            keys,
            delimiter: s.get("delimiter")?,
            nl: nl.with_add(s)?,
        })
    }
}

impl Formatter for Tsv {
    fn format_raw(&self, tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        // Strings that are not UTF-8 keep their bytes, as Fluentd writes them.
        self.format(tag, time, &crate::record::decode_keep_bytes(record), out);
    }

    fn format(&self, _tag: &str, _time: EventTime, record: &Value, out: &mut Vec<u8>) {
        for (i, k) in self.keys.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(self.delimiter.as_bytes());
            }
            out.extend_from_slice(&text_of(record.get(k)));
        }
        self.nl.push_if_add(out);
    }

    fn content_type(&self) -> &'static str {
        "text/tab-separated-values"
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    #[test]
    fn tsv_line() {
        assert_eq!(run(&*formatter("tsv", "keys a,b,c,zz")), "1\tx\ty\t\t\n");
        assert_eq!(
            run(&*formatter(
                "tsv",
                "keys a,c\ndelimiter ,\nadd_newline false"
            )),
            "1,"
        );
    }
}
