//! `none` (Fluentd's `parser_none.rb`): the whole text under `message_key` (`message`); the time
//! is now (or none with `estimate_current_event false`).

use logferry_config::BuildError;
use logferry_msgpack::{EventTime, Value};

use super::common::Conf;
use super::{ParseResult, Parser};

/// The `none` parser.
#[derive(Debug)]
pub struct NoneParser {
    message_key: String,
    estimate: bool,
}

impl NoneParser {
    pub(crate) fn build(c: &Conf) -> Result<Self, BuildError> {
        let c = &c.or_declared(&super::params::NONE);
        Ok(NoneParser {
            message_key: c.get("message_key")?,
            estimate: c.get("estimate_current_event")?,
        })
    }
}

impl Parser for NoneParser {
    fn on_invalid_utf8(&self) -> super::InvalidUtf8 {
        super::InvalidUtf8::Keeps
    }

    fn whole_text_field(&self) -> Option<&str> {
        self.estimate.then_some(self.message_key.as_str())
    }

    /// Fluentd's none parser puts any value under `message_key` as it is.
    fn parse_value(&self, v: &Value, out: &mut Vec<ParseResult>) -> bool {
        let rec = vec![(Value::Str(self.message_key.clone()), v.clone())];
        out.push(Ok((self.estimate.then(EventTime::now), Value::Map(rec))));
        true
    }

    fn parse(&self, text: &str, out: &mut Vec<ParseResult>) {
        let rec = vec![(
            Value::Str(self.message_key.clone()),
            Value::Str(text.to_string()),
        )];
        out.push(Ok((self.estimate.then(EventTime::now), Value::Map(rec))));
    }
}
