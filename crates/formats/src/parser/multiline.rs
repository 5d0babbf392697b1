//! `multiline` (Fluentd's `parser_multiline.rb`): `format1` … `format20` (each `/…/`, no gaps)
//! are joined into one regexp with Ruby's `m` flag (`.` matches newlines) and applied repeatedly
//! over the text, one record per match; `format_firstline` (`/…/`) tells where an event starts
//! (for line-oriented inputs, see [`MultilineParser::firstline`]). `unmatched_lines` turns text
//! that does not match into `{"unmatched_line": text}`. The common parameters apply, with
//! `time_key time`.

use logferry_config::BuildError;
use logferry_msgpack::{EventTime, Value};

use super::common::Conf;
use super::regexp::RegexpParser;
use super::{ParseResult, Parser};
use crate::ruby_regexp::{self as ruby_regex, RubyRegex};

const FORMAT_MAX_NUM: u32 = 20;

/// The `multiline` parser.
#[derive(Debug)]
pub struct MultilineParser {
    inner: RegexpParser,
    firstline: Option<RubyRegex>,
    unmatched_lines: bool,
}

fn slashed<'v>(c: &Conf, key: &str, v: &'v str) -> Result<&'v str, BuildError> {
    if v.len() >= 2 && v.starts_with('/') && v.ends_with('/') {
        Ok(&v[1..v.len() - 1])
    } else {
        Err(c.err(
            key,
            format!("format should be Regexp, need //, in {key}: '{v}'"),
        ))
    }
}

impl MultilineParser {
    pub(crate) fn build(c: &Conf) -> Result<Self, BuildError> {
        let c = &c.or_declared(&super::params::MULTILINE);
        let unmatched_lines = c.param("unmatched_lines").is_some();
        for p in &c.s.element().params {
            if let Some(n) = p
                .key
                .strip_prefix("format")
                .and_then(|n| n.parse::<u32>().ok())
            {
                if !(1..=FORMAT_MAX_NUM).contains(&n) {
                    return Err(logferry_config::build_error(
                        &p.pos,
                        format!(
                            "Invalid formatN found. N should be 1 - {FORMAT_MAX_NUM}: {}",
                            p.key
                        ),
                    ));
                }
            }
        }
        let mut joined = String::new();
        let mut prev = true;
        for i in 1..=FORMAT_MAX_NUM {
            let key = format!("format{i}");
            let v = c.str(&key);
            if i > 1 && !prev && v.is_some() {
                return Err(c.err(
                    &key,
                    format!("Jump of format index found. format{} is missing.", i - 1),
                ));
            }
            prev = v.is_some();
            if let Some(v) = v {
                let body = slashed(c, &key, v)?;
                ruby_regex::compile(body, "m")
                    .map_err(|e| c.err(&key, format!("Invalid regexp in {key}: {e}")))?;
                joined.push_str(body);
            }
        }
        let pos = c.pos("format1").clone();
        let re = ruby_regex::compile(&joined, "m")
            .map_err(|e| c.err("format1", format!("Invalid regexp '{joined}': {e}")))?;
        if re.names().is_empty() {
            return Err(c.err(
                "format1",
                format!("Invalid regexp '{joined}': No named captures"),
            ));
        }
        let inner = RegexpParser::with_regex(c, re, &pos, None)?;
        let firstline = match c.str("format_firstline") {
            Some(v) => {
                let body = slashed(c, "format_firstline", v)?;
                ruby_regex::compile(body, "m").map_err(|e| {
                    c.err(
                        "format_firstline",
                        format!("Invalid regexp in format_firstline: {e}"),
                    )
                })?;
                Some(ruby_regex::compile(body, "").map_err(|e| {
                    c.err(
                        "format_firstline",
                        format!("Invalid regexp in format_firstline: {e}"),
                    )
                })?)
            }
            None => None,
        };
        Ok(MultilineParser {
            inner,
            firstline,
            unmatched_lines,
        })
    }

    /// Is `format_firstline` set?
    pub fn has_firstline(&self) -> bool {
        self.firstline.is_some()
    }

    /// Does `line` start an event (`format_firstline` matches)? False without `format_firstline`.
    pub fn firstline(&self, line: &str) -> bool {
        self.firstline.as_ref().is_some_and(|r| r.is_match(line))
    }
}

impl Parser for MultilineParser {
    fn firstline(&self, line: &str) -> Option<bool> {
        self.firstline.as_ref().map(|r| r.is_match(line))
    }

    fn parse(&self, text: &str, out: &mut Vec<ParseResult>) {
        let mut pos = 0;
        loop {
            let rest = &text[pos..];
            match self.inner.parse_at(rest, 0) {
                None => {
                    if self.unmatched_lines {
                        let rec = vec![(
                            Value::Str("unmatched_line".into()),
                            Value::Str(rest.to_string()),
                        )];
                        out.push(Ok((Some(EventTime::now()), Value::Map(rec))));
                    } else {
                        out.push(Err(format!("pattern not matched with data '{rest}'")));
                    }
                    return;
                }
                Some((r, _start, end)) => {
                    let r = match r {
                        Err(_) if self.unmatched_lines => {
                            let rec = vec![(
                                Value::Str("unmatched_line".into()),
                                Value::Str(rest.to_string()),
                            )];
                            Ok((Some(EventTime::now()), Value::Map(rec)))
                        }
                        other => other,
                    };
                    out.push(r);
                    if end == 0 {
                        // An empty match would repeat forever.
                        return;
                    }
                    pos += end;
                    if text[pos..].starts_with('\n') {
                        pos += 1;
                    }
                    if pos >= text.len() {
                        return;
                    }
                }
            }
        }
    }
}
