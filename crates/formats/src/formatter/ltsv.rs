//! `ltsv`: `label:value` pairs separated by tabs.

use super::{text_of, Formatter, Newline};
use logferry_config::{BuildError, Section};
use logferry_msgpack::{EventTime, Value};

/// The ltsv formatter.
pub struct Ltsv {
    delimiter: String,
    label_delimiter: String,
    replacement: String,
    nl: Newline,
}

impl Ltsv {
    /// Build from a section.
    pub fn new(s: &Section, nl: Newline) -> Result<Self, BuildError> {
        Ok(Ltsv {
            delimiter: s.get("delimiter")?,
            label_delimiter: s.get("label_delimiter")?,
            replacement: s.get("replacement")?,
            nl: nl.with_add(s)?,
        })
    }
}

impl Formatter for Ltsv {
    fn format_raw(&self, tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        // Strings that are not UTF-8 keep their bytes, as Fluentd writes them.
        self.format(tag, time, &crate::record::decode_keep_bytes(record), out);
    }

    fn format(&self, _tag: &str, _time: EventTime, record: &Value, out: &mut Vec<u8>) {
        if let Value::Map(m) = record {
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(self.delimiter.as_bytes());
                }
                out.extend_from_slice(&text_of(Some(k)));
                out.extend_from_slice(self.label_delimiter.as_bytes());
                let text = text_of(Some(v));
                replace_into(
                    &text,
                    self.delimiter.as_bytes(),
                    self.replacement.as_bytes(),
                    out,
                );
            }
        }
        self.nl.push_if_add(out);
    }

    fn content_type(&self) -> &'static str {
        "text/tab-separated-values"
    }
}

/// Append `text` with every `from` replaced by `to` (bytes, so invalid UTF-8 passes through).
fn replace_into(text: &[u8], from: &[u8], to: &[u8], out: &mut Vec<u8>) {
    if from.is_empty() {
        out.extend_from_slice(text);
        return;
    }
    let mut i = 0;
    while i < text.len() {
        if text[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(text[i]);
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    // Reference §7.8 case 87.
    #[test]
    fn case_87_ltsv() {
        assert_eq!(run(&*formatter("ltsv", "")), "a:1\tb:x y\tc:\n");
        assert_eq!(
            run(&*formatter("ltsv", "delimiter |\nlabel_delimiter =")),
            "a=1|b=x\ty|c=\n"
        );
    }
}
