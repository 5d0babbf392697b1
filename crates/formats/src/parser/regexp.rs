//! `regexp` (Fluentd's `parser_regexp.rb`) and its presets `apache`, `apache_error` and `nginx`:
//! `expression` with Ruby named captures; only captures that took part in the match are stored,
//! as strings; `time_key time`. The presets only change the defaults of `expression` and
//! `time_format`.

use crate::ruby_regexp::{self, RubyRegex};
use logferry_config::BuildError;
use logferry_msgpack::Value;

use super::common::{Common, Conf, Defaults};
use super::{ParseResult, Parser};

/// `apache`'s expression.
pub const APACHE: &str = r#"/^(?<host>[^ ]*) [^ ]* (?<user>[^ ]*) \[(?<time>[^\]]*)\] "(?<method>\S+)(?: +(?<path>[^ ]*) +\S*)?" (?<code>[^ ]*) (?<size>[^ ]*)(?: "(?<referer>[^\"]*)" "(?<agent>[^\"]*)")?$/"#;
/// `apache_error`'s expression.
pub const APACHE_ERROR: &str = r#"/^\[[^ ]* (?<time>[^\]]*)\] \[(?<level>[^\]]*)\](?: \[pid (?<pid>[^\]]*)\])?( \[client (?<client>[^\]]*)\])? (?<message>.*)$/"#;
/// `nginx`'s expression.
pub const NGINX: &str = r#"/^(?<remote>[^ ]*) (?<host>[^ ]*) (?<user>[^ ]*) \[(?<time>[^\]]*)\] "(?<method>\S+)(?: +(?<path>[^\"]*?)(?: +\S*)?)?" (?<code>[^ ]*) (?<size>[^ ]*)(?: "(?<referer>[^\"]*)" "(?<agent>[^\"]*)"(?:\s+\"?(?<http_x_forwarded_for>[^\"]*)\"?)?)?$/"#;
/// The access-log time format of `apache`, `apache2` and `nginx`.
pub const APACHE_TIME_FORMAT: &str = "%d/%b/%Y:%H:%M:%S %z";

/// The `regexp` parser (and its presets).
#[derive(Debug)]
pub struct RegexpParser {
    re: RubyRegex,
    common: Common,
}

impl RegexpParser {
    /// Build with optional preset defaults for `expression` and `time_format`.
    pub(crate) fn build(
        c: &Conf,
        default_expression: Option<&str>,
        default_time_format: Option<&str>,
    ) -> Result<Self, BuildError> {
        let c = &c.or_declared(&super::params::REGEXP);
        let ignorecase = c.get("ignorecase")?;
        let multiline = c.get("multiline")?;
        let (src, pos) = match c.expression_override() {
            Some((body, pos)) => (format!("/{body}/"), pos.clone()),
            None => match c.param("expression") {
                Some(p) => (p.value.clone(), p.pos.clone()),
                None => match default_expression {
                    Some(d) => (d.to_string(), c.section_pos().clone()),
                    None => {
                        return Err(c.err(
                            "expression",
                            format!(
                                "'expression' parameter is required by the regexp parser \
                                 (in the {} plugin)",
                                c.plugin()
                            ),
                        ))
                    }
                },
            },
        };
        let (body, mut flags) = match src.strip_prefix('/').and_then(|r| {
            r.rfind('/').map(|e| {
                (
                    r[..e].to_string(),
                    r[e + 1..]
                        .chars()
                        .filter(|c| matches!(c, 'i' | 'm' | 'x'))
                        .collect::<String>(),
                )
            })
        }) {
            Some(x) => x,
            None => (src.clone(), String::new()),
        };
        if ignorecase || multiline {
            // Fluentd recompiles with only these options when either is set.
            flags.clear();
            if ignorecase {
                flags.push('i');
            }
            if multiline {
                flags.push('m');
            }
        }
        let re = ruby_regexp::compile(&body, &flags)
            .map_err(|e| logferry_config::build_error(&pos, format!("'expression': {e}")))?;
        Self::with_regex(c, re, &pos, default_time_format)
    }

    /// Build around an already compiled expression (used by `multiline`).
    pub(crate) fn with_regex(
        c: &Conf,
        re: RubyRegex,
        pos: &logferry_config::Pos,
        default_time_format: Option<&str>,
    ) -> Result<Self, BuildError> {
        if re.names().is_empty() {
            return Err(logferry_config::build_error(
                pos,
                "No named captures in 'expression' parameter. The regexp must have at least one \
                 named capture",
            ));
        }
        let common = Common::read(
            c,
            &Defaults {
                time_key: Some("time"),
                time_format: default_time_format,
                ..Defaults::default()
            },
        )?;
        Ok(RegexpParser { re, common })
    }

    /// Match once at or after `start`; the result and where the match ended, or `None`. A
    /// backtracking search past the parser's `timeout` gives the failure Fluentd's timeout
    /// gives ([`TIMED_OUT`]).
    pub(crate) fn parse_at(&self, text: &str, start: usize) -> Option<(ParseResult, usize, usize)> {
        let caps = match self.re.captures_within(text, start, self.common.timeout) {
            Ok(c) => c?,
            Err(_) => return Some((Err(timed_out(text)), start, start)),
        };
        let mut rec = Vec::with_capacity(self.re.names().len());
        for (name, groups) in self.re.names() {
            if let Some((s, e)) = caps.any(groups) {
                rec.push((Value::Str(name.clone()), Value::Str(text[s..e].to_string())));
            }
        }
        let (s, e) = caps.whole();
        Some((self.common.finish(rec), s, e))
    }
}

/// How a parse that ran past `timeout` fails: Fluentd logs "parsing timed out" and yields no
/// record, which filter_parser handles as a pattern that did not match.
pub const TIMED_OUT: &str = "pattern not matched (parsing timed out)";

fn timed_out(text: &str) -> String {
    format!("{TIMED_OUT} with data '{text}'")
}

impl Parser for RegexpParser {
    fn parse(&self, text: &str, out: &mut Vec<ParseResult>) {
        match self.parse_at(text, 0) {
            Some((r, _, _)) => out.push(r),
            None => out.push(Err(format!("pattern not matched with data '{text}'"))),
        }
    }
}
