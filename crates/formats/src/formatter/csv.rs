//! `csv`: the listed fields as one CSV line.

use super::{text_of, Formatter, Newline};
use crate::accessor::Accessor;
use logferry_config::{build_error, BuildError, Section};
use logferry_msgpack::{EventTime, Value};

/// The csv formatter.
pub struct Csv {
    fields: Vec<String>,
    /// When any field is record_accessor syntax (`$.a.b`, `$['a']`), Fluentd reads every field
    /// through an accessor; otherwise each is a literal key.
    accessors: Option<Vec<Accessor>>,
    delimiter: char,
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
        let delimiter = match s.get::<&str>("delimiter")? {
            "\\t" | "TAB" | "\t" => '\t',
            d if d.chars().count() == 1 => d.chars().next().unwrap_or(','),
            d => {
                return Err(build_error(
                    s.pos(),
                    format!("csv format: delimiter must be one character, got '{d}'"),
                ))
            }
        };
        let accessors = if fields
            .iter()
            .any(|f| f.starts_with("$.") || f.starts_with("$["))
        {
            let list = fields
                .iter()
                .map(|f| Accessor::new(f))
                .collect::<Result<Vec<_>, _>>();
            Some(list.map_err(|e| build_error(s.pos(), format!("csv format: fields: {e}")))?)
        } else {
            None
        };
        Ok(Csv {
            fields,
            accessors,
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
        self.accessors
            .as_ref()
            .is_some_and(|a| a.iter().any(|a| a.steps().len() > 1))
    }

    fn check(&self, record: &[u8]) -> Result<(), String> {
        for a in self.accessors.iter().flatten() {
            a.dig_raw(record)?;
        }
        Ok(())
    }

    fn format_raw(&self, tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        // Strings that are not UTF-8 keep their bytes, as Fluentd writes them.
        self.format(tag, time, &crate::record::decode_keep_bytes(record), out);
    }

    fn format(&self, _tag: &str, _time: EventTime, record: &Value, out: &mut Vec<u8>) {
        for (i, f) in self.fields.iter().enumerate() {
            if i > 0 {
                let mut b = [0u8; 4];
                out.extend_from_slice(self.delimiter.encode_utf8(&mut b).as_bytes());
            }
            let v = match &self.accessors {
                Some(a) => a[i].get(record),
                None => record.get(f),
            };
            let text = text_of(v);
            let mut d = [0u8; 4];
            let d = self.delimiter.encode_utf8(&mut d).as_bytes();
            let needs = self.force_quotes
                || text.iter().any(|b| matches!(b, b'"' | b'\r' | b'\n'))
                || text.windows(d.len()).any(|w| w == d);
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

    fn content_type(&self) -> &'static str {
        "text/csv"
    }
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
}
