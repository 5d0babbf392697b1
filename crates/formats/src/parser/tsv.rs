//! `tsv` (Fluentd's `parser_tsv.rb`): `keys` (required) and `delimiter` (`"\t"`); the text is
//! split into at most as many fields as keys (the last keeps the remaining delimiters), missing
//! fields are nil. No time key by default.

use logferry_config::BuildError;
use logferry_msgpack::Value;

use super::common::{put, ruby_split, Common, Conf, Defaults};
use super::{ParseResult, Parser};

/// The `tsv` parser.
#[derive(Debug)]
pub struct TsvParser {
    keys: Vec<String>,
    delimiter: String,
    common: Common,
}

impl TsvParser {
    pub(crate) fn build(c: &Conf) -> Result<Self, BuildError> {
        let c = &c.or_declared(&super::params::TSV);
        let keys = c.array("keys")?.ok_or_else(|| {
            c.err(
                "keys",
                format!(
                    "'keys' parameter is required by the tsv parser (in the {} plugin)",
                    c.plugin()
                ),
            )
        })?;
        let delimiter: String = c.get("delimiter")?;
        let common = Common::read(c, &Defaults::default())?;
        Ok(TsvParser {
            keys,
            delimiter,
            common,
        })
    }
}

impl Parser for TsvParser {
    fn parse(&self, text: &str, out: &mut Vec<ParseResult>) {
        let values = ruby_split(text, &self.delimiter, self.keys.len());
        let mut rec = Vec::with_capacity(self.keys.len());
        for (i, k) in self.keys.iter().enumerate() {
            let v = values
                .get(i)
                .map_or(Value::Nil, |s| Value::Str((*s).to_string()));
            put(&mut rec, k, v);
        }
        out.push(self.common.finish(rec));
    }
}
