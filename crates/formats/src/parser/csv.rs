//! `csv` (Fluentd's `parser_csv.rb`): `keys` (required), `delimiter` (`,`), `parser_engine`
//! `normal` (Ruby's `CSV.parse_line`: quoted fields, `""` escapes, unquoted empty → nil, quoted
//! empty → `""`, malformed quoting fails) or `fast` (Fluentd's own quick splitter). Extra columns
//! are ignored, missing ones are nil. No time key by default.

use logferry_config::BuildError;
use logferry_msgpack::Value;

use super::common::{put, Common, Conf, Defaults};
use super::{ParseResult, Parser};

/// The `csv` parser.
#[derive(Debug)]
pub struct CsvParser {
    keys: Vec<String>,
    delimiter: String,
    fast: bool,
    common: Common,
}

impl CsvParser {
    pub(crate) fn build(c: &Conf) -> Result<Self, BuildError> {
        let c = &c.or_declared(&super::params::CSV);
        let keys = c.array("keys")?.ok_or_else(|| {
            c.err(
                "keys",
                format!(
                    "'keys' parameter is required by the csv parser (in the {} plugin)",
                    c.plugin()
                ),
            )
        })?;
        let delimiter: String = c.get("delimiter")?;
        if delimiter.is_empty() {
            return Err(c.err("delimiter", "'delimiter' must not be empty"));
        }
        let engine: String = c.get("parser_engine")?;
        let common = Common::read(c, &Defaults::default())?;
        Ok(CsvParser {
            keys,
            delimiter,
            fast: engine == "fast",
            common,
        })
    }

    /// The record; with `fill` keys past the last column are nil, else absent (the fast engine).
    ///
    /// Columns past the keys are dropped by Ruby's CSV engine; the fast engine stores each under
    /// the key `@keys[i]`, nil, so the last of them is kept with a nil key (written `""` in JSON).
    fn record(&self, values: Vec<Option<String>>, fill: bool) -> ParseResult {
        let mut rec = Vec::with_capacity(self.keys.len() + 1);
        let n = values.len();
        let mut it = values.into_iter();
        for (i, k) in self.keys.iter().enumerate() {
            if !fill && i >= n {
                break;
            }
            let v = it.next().flatten().map_or(Value::Nil, Value::Str);
            put(&mut rec, k, v);
        }
        if let (false, Some(last)) = (fill, it.last()) {
            rec.push((Value::Nil, last.map_or(Value::Nil, Value::Str)));
        }
        self.common.finish(rec)
    }
}

impl Parser for CsvParser {
    fn on_invalid_utf8(&self) -> super::InvalidUtf8 {
        super::InvalidUtf8::ParseFails
    }

    fn parse(&self, text: &str, out: &mut Vec<ParseResult>) {
        if self.fast {
            let rec = fast_fields(text, &self.delimiter, self.keys.len());
            out.push(self.record(rec, false));
            return;
        }
        match parse_line(text, &self.delimiter) {
            Ok(Some(values)) => out.push(self.record(values, true)),
            // An empty text is no row (`CSV.parse_line` gives nil), and Fluentd's
            // `@keys.zip(nil)` raises: a parse failure, not a non-match.
            Ok(None) => out.push(Err(
                "wrong argument type NilClass (must respond to :each)".to_string()
            )),
            Err(e) => out.push(Err(format!("{e} in line: '{text}'"))),
        }
    }
}

/// Ruby's `CSV.parse_line(text, col_sep: sep)`: the first row, `None` for an empty text.
pub(crate) fn parse_line(text: &str, sep: &str) -> Result<Option<Vec<Option<String>>>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let b = text.as_bytes();
    let sb = sep.as_bytes();
    let mut fields = Vec::new();
    let mut p = 0;
    loop {
        // One field starting at p.
        if b.get(p) == Some(&b'"') {
            let mut v = String::new();
            let mut q = p + 1;
            loop {
                match text[q..].find('"') {
                    None => return Err("Unclosed quoted field".into()),
                    Some(i) => {
                        v.push_str(&text[q..q + i]);
                        q += i + 1;
                        if b.get(q) == Some(&b'"') {
                            v.push('"');
                            q += 1;
                        } else {
                            break;
                        }
                    }
                }
            }
            fields.push(Some(v));
            p = q;
            if p >= b.len() || is_row_end(&b[p..]) {
                break;
            }
            if b[p..].starts_with(sb) {
                p += sb.len();
                if p >= b.len() {
                    fields.push(None);
                    break;
                }
                continue;
            }
            return Err("Any value after quoted field isn't allowed".into());
        }
        // Unquoted field: up to the separator or the row end.
        let start = p;
        let mut end = None;
        let mut q = p;
        while q < b.len() {
            if b[q..].starts_with(sb) {
                end = Some((q, true));
                break;
            }
            if b[q] == b'\r' || b[q] == b'\n' {
                end = Some((q, false));
                break;
            }
            q += 1;
        }
        let (e, more) = end.unwrap_or((b.len(), false));
        let field = &text[start..e];
        if field.contains('"') {
            return Err("Illegal quoting".into());
        }
        fields.push(if field.is_empty() {
            None
        } else {
            Some(field.to_string())
        });
        if !more {
            break;
        }
        p = e + sb.len();
        if p >= b.len() {
            fields.push(None);
            break;
        }
    }
    Ok(Some(fields))
}

fn is_row_end(b: &[u8]) -> bool {
    b == b"\n"
        || b == b"\r\n"
        || b == b"\r"
        || b.first() == Some(&b'\n')
        || b.first() == Some(&b'\r')
}

/// Fluentd's `parse_fast_internal`.
fn fast_fields(text: &str, sep: &str, nkeys: usize) -> Vec<Option<String>> {
    let text = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .or_else(|| text.strip_suffix('\r'))
        .unwrap_or(text);
    let mut out = Vec::with_capacity(nkeys);
    if text.is_empty() {
        return out;
    }
    let columns: Vec<&str> = text.split(sep).collect();
    let mut j = 0;
    while j < columns.len() {
        let column = columns[j];
        let v = match column.matches('"').count() {
            0 => (!column.is_empty()).then(|| column.to_string()),
            1 => {
                if column.starts_with('"') {
                    let mut merged = vec![column];
                    j += 1;
                    while j < columns.len() {
                        merged.push(columns[j]);
                        if columns[j].ends_with('"') {
                            break;
                        }
                        j += 1;
                    }
                    let joined = merged.join(sep);
                    Some(ruby_inner(&joined))
                } else {
                    Some(column.to_string())
                }
            }
            2 => {
                if column.len() >= 2 && column.starts_with('"') && column.ends_with('"') {
                    Some(column[1..column.len() - 1].to_string())
                } else {
                    Some(column.to_string())
                }
            }
            _ => {
                let c = if column.len() >= 2 && column.starts_with('"') && column.ends_with('"') {
                    &column[1..column.len() - 1]
                } else {
                    column
                };
                Some(c.replace("\"\"", "\""))
            }
        };
        out.push(v);
        j += 1;
    }
    out
}

/// Ruby's `s[1..-2]` on a string of at least one character.
fn ruby_inner(s: &str) -> String {
    let mut it = s.chars();
    it.next();
    it.next_back();
    it.as_str().to_string()
}
