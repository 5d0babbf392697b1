//! `multi_format` (fluent-plugin-multi-format-parser): `<pattern>` sub-sections, each with
//! `format` (or `@type`; `format /re/` is a regexp) and that parser's parameters, tried in order.
//! The first pattern that yields a record with a time wins, and only its first such record is
//! kept (as the plugin does); a pattern that fails or raises is skipped. No pattern → failure.

use logferry_config::{build_error, BuildError};

use super::common::Conf;
use super::{build_conf, InvalidUtf8, ParseResult, Parser};

/// The `multi_format` parser.
pub struct MultiFormatParser {
    parsers: Vec<Box<dyn Parser>>,
}

impl std::fmt::Debug for MultiFormatParser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MultiFormatParser({} patterns)", self.parsers.len())
    }
}

impl MultiFormatParser {
    pub(crate) fn build(c: &Conf) -> Result<Self, BuildError> {
        let mut parsers = Vec::new();
        for p in c.s.sections("pattern") {
            let (ty, pos) = match p.param("format").or_else(|| p.param("@type")) {
                Some(x) => (x.value.as_str(), &x.pos),
                None => {
                    return Err(build_error(
                        p.pos(),
                        "<pattern> in multi_format needs a format (or @type) parameter",
                    ))
                }
            };
            let _ = p.str("format");
            let pc = Conf::new(p.clone());
            let parser = if ty.len() >= 2 && ty.starts_with('/') && ty.ends_with('/') {
                let pc = pc.with_expression(&ty[1..ty.len() - 1], pos);
                build_conf("regexp", pos, &pc)?
            } else if ty == "multi_format" {
                continue;
            } else {
                build_conf(ty, pos, &pc)?
            };
            parsers.push(parser);
        }
        if parsers.is_empty() {
            return Err(build_error(
                c.section_pos(),
                "multi_format needs at least one <pattern> section",
            ));
        }
        Ok(MultiFormatParser { parsers })
    }
}

impl MultiFormatParser {
    /// The first record with a time that a pattern yields, trying each in order (with
    /// `invalid_utf8`, only those that keep such bytes, through their `parse_invalid_utf8`).
    fn first_timed(&self, text: &str, invalid_utf8: bool, out: &mut Vec<ParseResult>) {
        let mut tmp = Vec::new();
        for p in &self.parsers {
            tmp.clear();
            if !invalid_utf8 {
                p.parse(text, &mut tmp);
            } else if matches!(p.on_invalid_utf8(), InvalidUtf8::Keeps) {
                p.parse_invalid_utf8(text, &mut tmp);
            } else {
                continue;
            }
            if let Some(i) = tmp.iter().position(|r| matches!(r, Ok((Some(_), _)))) {
                out.push(tmp.swap_remove(i));
                return;
            }
        }
        out.push(Err(format!("pattern not matched with data '{text}'")));
    }
}

impl Parser for MultiFormatParser {
    fn parse(&self, text: &str, out: &mut Vec<ParseResult>) {
        self.first_timed(text, false, out)
    }

    /// The text of a UTF-8 string with bytes that are not UTF-8 reaches each pattern: the plugin
    /// rescues a pattern that raises on it or yields nothing (a regexp, ltsv, csv, yajl) and tries
    /// the next, so a `none` or `json` pattern after one still keeps the bytes.
    fn on_invalid_utf8(&self) -> InvalidUtf8 {
        InvalidUtf8::Keeps
    }

    fn parse_invalid_utf8(&self, text: &str, out: &mut Vec<ParseResult>) {
        self.first_timed(text, true, out)
    }
}
