//! `csv`: the listed fields as one CSV line.

use super::{text_of, Formatter, Newline};
use crate::accessor::Accessor;
use logferry_config::{build_error, BuildError, Section};
use logferry_msgpack::{EventTime, Value};

/// The csv formatter.
pub struct Csv {
    /// Each field's lookup: record_accessor syntax (`$.a.b`, `$['a']`) as Fluentd reads it, any
    /// other name one literal key.
    fields: Vec<Accessor>,
    /// `col_sep`: one or more characters.
    delimiter: String,
    force_quotes: bool,
    nl: Newline,
}

impl Csv {
    /// Build from a section; `fields` is required.
    pub fn new(s: &Section, nl: Newline) -> Result<Self, BuildError> {
        let mut fields: Vec<String> = s.get::<Option<_>>("fields")?.unwrap_or_default();
        // Fluentd drops empty names (`a,,b`).
        fields.retain(|f| !f.is_empty());
        if fields.is_empty() {
            return Err(build_error(
                s.pos(),
                "csv format: 'fields' parameter is required",
            ));
        }
        // Any text, as Ruby's CSV `col_sep`; `\t` and `TAB` are a tab.
        let delimiter = match s.get::<&str>("delimiter")? {
            "\\t" | "TAB" => "\t".to_string(),
            "" => {
                return Err(build_error(
                    s.pos(),
                    "csv format: delimiter must be 1 or more characters",
                ))
            }
            d => d.to_string(),
        };
        let fields = fields
            .iter()
            .map(|f| Accessor::new(f))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| build_error(s.pos(), format!("csv format: fields: {e}")))?;
        Ok(Csv {
            fields,
            delimiter,
            force_quotes: s.get("force_quotes")?,
            nl: nl.with_add(s)?,
        })
    }
}

impl Formatter for Csv {
    /// A field path of several steps (`$.m.k`) raises in Fluentd over a value that is not a
    /// container (Ruby's `dig`).
    fn checks_records(&self) -> bool {
        self.fields.iter().any(|a| a.steps().len() > 1)
    }

    fn check(&self, record: &[u8]) -> Result<(), String> {
        for a in &self.fields {
            a.dig_raw(record)?;
        }
        Ok(())
    }

    fn format_raw(&self, _tag: &str, _time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        // Strings that are not UTF-8 keep their bytes, as Fluentd writes them.
        self.write(&crate::record::decode_keep_bytes(record), Some(record), out);
    }

    fn format(&self, _tag: &str, _time: EventTime, record: &Value, out: &mut Vec<u8>) {
        self.write(record, None, out);
    }

    fn content_type(&self) -> &'static str {
        "text/csv"
    }
}

impl Csv {
    /// One line, as Ruby's CSV writes it (csv 3.2, Ruby 3.1): nil (or a missing field) is
    /// empty, an empty string is `""`, and a string holding a character of the delimiter, a
    /// quote, CR or LF is quoted, unless it is a UTF-8 string that is not valid UTF-8
    /// (`valid_encoding?` false; told from a binary string by `raw`, the record as it came,
    /// when given).
    fn write(&self, record: &Value, raw: Option<&[u8]>, out: &mut Vec<u8>) {
        let d = self.delimiter.as_bytes();
        for (i, f) in self.fields.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(d);
            }
            let v = f.get(record);
            let text = text_of(v);
            let needs = self.force_quotes
                || (text.is_empty() && !matches!(v, None | Some(Value::Nil)))
                || ((text.iter().any(|b| matches!(b, b'"' | b'\r' | b'\n'))
                    || self.delimiter.chars().any(|c| {
                        let mut b = [0u8; 4];
                        let c = c.encode_utf8(&mut b).as_bytes();
                        text.windows(c.len()).any(|w| w == c)
                    }))
                    && !(matches!(v, Some(Value::Bin(_)))
                        && raw.and_then(|r| f.get_raw(r)).is_some_and(invalid_utf8_str)));
            if needs {
                out.push(b'"');
                for &b in text.iter() {
                    if b == b'"' {
                        out.push(b'"');
                    }
                    out.push(b);
                }
                out.push(b'"');
            } else {
                out.extend_from_slice(&text);
            }
        }
        self.nl.push_if_add(out);
    }
}

/// Whether a raw msgpack value is a str that is not valid UTF-8 (a Ruby UTF-8 string whose
/// `valid_encoding?` is false; a bin is a binary string, always valid).
fn invalid_utf8_str(raw: &[u8]) -> bool {
    let body = match raw.first() {
        Some(0xa0..=0xbf) => raw.get(1..),
        Some(0xd9) => raw.get(2..),
        Some(0xda) => raw.get(3..),
        Some(0xdb) => raw.get(5..),
        _ => return false,
    };
    body.is_some_and(|b| std::str::from_utf8(b).is_err())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    // Reference §7.8 case 88.
    #[test]
    fn case_88_csv() {
        assert_eq!(
            run(&*formatter("csv", "fields a,b,c,zz")),
            "\"1\",\"x\ty\",\"\",\"\"\n"
        );
        assert_eq!(
            run(&*formatter("csv", "fields a,b\nforce_quotes false")),
            "1,x\ty\n"
        );
        assert_eq!(
            run(&*formatter(
                "csv",
                "fields b\nforce_quotes false\ndelimiter TAB"
            )),
            "\"x\ty\"\n"
        );
    }

    /// Ruby's CSV without force_quotes: `""` for an empty string, nothing for nil or a missing
    /// field; a binary string holding the delimiter quoted, a UTF-8 one that is not valid UTF-8
    /// not (`valid_encoding?` false).
    #[test]
    fn unquoted_values_as_ruby_writes_them() {
        use logferry_msgpack::Value;
        let f = formatter("csv", "fields a,b,c,d,e,zz\nforce_quotes false");
        let rec = Value::Map(vec![
            (Value::Str("a".into()), Value::Str(String::new())),
            (Value::Str("b".into()), Value::Nil),
            (Value::Str("c".into()), Value::Bin(b"x,\xff".to_vec())),
            (Value::Str("d".into()), Value::Bin(Vec::new())),
            (Value::Str("e".into()), Value::Str("p\"q".into())),
        ]);
        let mut raw = Vec::new();
        rec.encode(&mut raw);
        let mut out = Vec::new();
        f.format_raw("t", T, &raw, &mut out);
        assert_eq!(out, b"\"\",,\"x,\xff\",\"\",\"p\"\"q\",\n");
        // The same bytes as a str (invalid UTF-8): never quoted.
        let mut raw = Vec::new();
        logferry_msgpack::write::map_len(&mut raw, 1);
        logferry_msgpack::write::str(&mut raw, "c");
        raw.extend_from_slice(&[0xa3, b'x', b',', 0xff]);
        out.clear();
        f.format_raw("t", T, &raw, &mut out);
        assert_eq!(out, b",,x,\xff,,,\n");
    }
}
