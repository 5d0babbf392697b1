//! `ltsv` (Fluentd's `parser_ltsv.rb`): `label:value` pairs separated by `delimiter` (`"\t"`) or
//! `delimiter_pattern`; each pair splits at the first `label_delimiter` (`:`); pairs without it
//! are skipped. `time_key time`.

use crate::ruby_regexp::RubyRegex;
use logferry_config::BuildError;
use logferry_msgpack::Value;

use super::common::{put, ruby_split, ruby_split_re, Common, Conf, Defaults};
use super::{ParseResult, Parser};

/// The `ltsv` parser.
#[derive(Debug)]
pub struct LtsvParser {
    delimiter: String,
    pattern: Option<RubyRegex>,
    label_delimiter: String,
    common: Common,
}

impl LtsvParser {
    pub(crate) fn build(c: &Conf) -> Result<Self, BuildError> {
        let c = &c.or_declared(&super::params::LTSV);
        let delimiter: String = c.get("delimiter")?;
        let pattern = c.regexp("delimiter_pattern")?;
        let label_delimiter: String = c.get("label_delimiter")?;
        let common = Common::read(
            c,
            &Defaults {
                time_key: Some("time"),
                ..Defaults::default()
            },
        )?;
        Ok(LtsvParser {
            delimiter,
            pattern,
            label_delimiter,
            common,
        })
    }

    fn pair(&self, rec: &mut Vec<(Value, Value)>, pair: &str) {
        let ld = self.label_delimiter.as_str();
        let (k, v) = if ld.is_empty() || ld == " " {
            let mut kv = ruby_split(pair, ld, 2).into_iter();
            match (kv.next(), kv.next()) {
                (Some(k), Some(v)) => (k, v),
                _ => return,
            }
        } else {
            match pair.split_once(ld) {
                Some(kv) => kv,
                None => return,
            }
        };
        put(rec, k, Value::Str(v.to_string()));
    }
}

impl Parser for LtsvParser {
    fn parse(&self, text: &str, out: &mut Vec<ParseResult>) {
        let mut rec = Vec::with_capacity(16);
        match &self.pattern {
            Some(re) => {
                for p in ruby_split_re(text, re) {
                    self.pair(&mut rec, p);
                }
            }
            None if self.delimiter.len() == 1 && self.delimiter != " " => {
                let d = self.delimiter.as_bytes()[0] as char;
                for p in text.split(d) {
                    self.pair(&mut rec, p);
                }
            }
            None => {
                for p in ruby_split(text, &self.delimiter, 0) {
                    self.pair(&mut rec, p);
                }
            }
        }
        out.push(self.common.finish(rec));
    }
}
