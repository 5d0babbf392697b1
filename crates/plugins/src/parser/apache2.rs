//! `apache2` (Fluentd's `parser_apache2.rb`): the combined log format with typed fields.
//! `-` becomes nil for host, user, size, referer and agent; `code` and `size` are integers
//! (`code` 0 is nil); the time format is fixed (`%d/%b/%Y:%H:%M:%S %z`). Like Fluentd, this
//! parser applies no `types`/null conversions; `keep_time_key` adds the raw `time`.

use logferry_core::{BuildError, Value};
use regex::Regex;

use super::common::{Conf, TimeConf};
use super::regexp::APACHE_TIME_FORMAT;
use super::ruby_regex;
use super::time::TimeParser;
use super::{ParseResult, Parser};

const REGEXP: &str = r#"^(?<host>[^ ]*) [^ ]* (?<user>[^ ]*) \[(?<time>[^\]]*)\] "(?<method>\S+)(?: +(?<path>(?:[^\"]|\\")*?)(?: +\S*)?)?" (?<code>[^ ]*) (?<size>[^ ]*)(?: "(?<referer>(?:[^\"]|\\")*)" "(?<agent>(?:[^\"]|\\")*)")?$"#;

/// The `apache2` parser.
#[derive(Debug)]
pub struct Apache2Parser {
    re: Regex,
    time: TimeParser,
    keep_time_key: bool,
}

/// Capture group indexes in [`REGEXP`].
const HOST: usize = 1;
const USER: usize = 2;
const TIME: usize = 3;
const METHOD: usize = 4;
const PATH: usize = 5;
const CODE: usize = 6;
const SIZE: usize = 7;
const REFERER: usize = 8;
const AGENT: usize = 9;

impl Apache2Parser {
    pub(crate) fn build(c: &Conf) -> Result<Self, BuildError> {
        let keep_time_key = c.bool("keep_time_key", false)?;
        let tc = TimeConf::read(c, "string", None, false)?;
        let time = tc.create(None, Some(Some(APACHE_TIME_FORMAT)), None)?;
        let re = ruby_regex::compile(REGEXP, "").expect("apache2 expression compiles");
        Ok(Apache2Parser {
            re,
            time,
            keep_time_key,
        })
    }
}

fn dash_nil(s: Option<&str>) -> Value {
    match s {
        None | Some("-") => Value::Nil,
        Some(v) => Value::Str(v.to_string()),
    }
}

fn key(k: &str) -> Value {
    Value::Str(k.to_string())
}

impl Parser for Apache2Parser {
    fn parse(&self, text: &str, out: &mut Vec<ParseResult>) {
        let mut locs = self.re.capture_locations();
        if self.re.captures_read(&mut locs, text).is_none() {
            out.push(Err(format!("pattern not matched with data '{text}'")));
            return;
        }
        let g = |i: usize| locs.get(i).map(|(s, e)| &text[s..e]);
        let time_s = g(TIME).unwrap_or("");
        let time = match self.time.parse_str(time_s) {
            Ok(t) => t,
            Err(e) => {
                out.push(Err(e));
                return;
            }
        };
        let code = logferry_config::types::integer(g(CODE).unwrap_or(""));
        let size = match g(SIZE) {
            Some("-") | None => Value::Nil,
            Some(s) => Value::Int(logferry_config::types::integer(s)),
        };
        let mut rec = Vec::with_capacity(9);
        rec.push((key("host"), dash_nil(g(HOST))));
        rec.push((key("user"), dash_nil(g(USER))));
        rec.push((
            key("method"),
            g(METHOD).map_or(Value::Nil, |m| Value::Str(m.to_string())),
        ));
        rec.push((
            key("path"),
            g(PATH).map_or(Value::Nil, |m| Value::Str(m.to_string())),
        ));
        rec.push((
            key("code"),
            if code == 0 {
                Value::Nil
            } else {
                Value::Int(code)
            },
        ));
        rec.push((key("size"), size));
        rec.push((key("referer"), dash_nil(g(REFERER))));
        rec.push((key("agent"), dash_nil(g(AGENT))));
        if self.keep_time_key {
            rec.push((key("time"), Value::Str(time_s.to_string())));
        }
        out.push(Ok((Some(time), Value::Map(rec))));
    }
}
