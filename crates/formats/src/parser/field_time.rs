//! A time field a plugin reads itself, with a parser's time parameters: Fluentd's
//! `time_parser_create` on a parser that parses no text (in_http's `in_http` parser with
//! `time_type` or `time_format`).

use logferry_config::{BuildError, Section};
use logferry_msgpack::{EventTime, Value};

use super::common::{Conf, TimeConf};
use super::time::TimeParser;

/// Reads a time field as `time_type`, `time_format`, `localtime`, `utc`, `timezone` and
/// `time_format_fallbacks` say.
#[derive(Clone, Debug)]
pub struct FieldTime(TimeParser);

impl FieldTime {
    /// From section `s` (a `<parse>`), read through `spec` (which declares those parameters);
    /// `time_type` defaults to `string`, as for every Fluentd parser.
    pub fn from_section(
        s: &Section,
        spec: &'static logferry_config::params::Spec,
    ) -> Result<FieldTime, BuildError> {
        let c = Conf::new(s.clone()).declared(spec);
        let t = TimeConf::read(&c, "string", None, false)?;
        Ok(FieldTime(t.create(None, None, None)?))
    }

    /// The time a field's value stands for, or Fluentd's error text.
    pub fn parse(&self, v: &Value) -> Result<EventTime, String> {
        self.0.parse(v)
    }
}
