//! `syslog` (Fluentd's `parser_syslog.rb`): `message_format rfc3164|rfc5424|auto`,
//! `with_priority` (a line without `<n>` then fails), `time_format` (`%b %d %H:%M:%S`: current
//! year, local zone unless `utc`/`timezone`), `rfc5424_time_format` (`%Y-%m-%dT%H:%M:%S.%L%z`,
//! falling back to no fraction), `parser_engine regexp|string` and `support_colonless_ident`
//! (string engine). Records: RFC 3164 `pri` (with_priority), `host`, `ident`, `pid`, `message`;
//! RFC 5424 also `msgid` and `extradata` (`-` kept). `auto` takes RFC 5424 when the line starts
//! with `<pri>version`. Like Fluentd, no `types`/null conversions and no `time_key`;
//! `keep_time_key` adds the raw `time`. Where Fluentd's parser raises rather than not matching
//! (a line with fewer spaces than its time needs, an unreadable time), the result is an error
//! with Ruby's message, not "pattern not matched": filter_parser treats the two apart.

use logferry_config::BuildError;
use logferry_msgpack::{EventTime, Value};
use regex::Regex;

use super::common::{Conf, TimeConf};
use super::ruby_regex;
use super::time::TimeParser;
use super::{ParseResult, Parser};

const RFC3164: &str =
    r"(?<host>[^ ]*) (?<ident>[^ :\[]*)(?:\[(?<pid>[0-9]+)\])?(?:[^\:]*\:)? *(?<message>.*)$";
/// Rust syntax: Fluentd's `\[.*?(?<!\\)\]` written without the lookbehind.
const RFC5424: &str = r"(?s)(?<host>[!-~]{1,255}) (?<ident>[!-~]{1,48}) (?<pid>[!-~]{1,128}) (?<msgid>[!-~]{1,32}) (?<extradata>(?:-|\[(?:.*?[^\\])??\]))(?: (?<message>.+))?\z";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Format {
    Rfc3164,
    Rfc5424,
    Auto,
}

/// The `syslog` parser.
#[derive(Debug)]
pub struct SyslogParser {
    format: Format,
    with_priority: bool,
    regexp_engine: bool,
    support_colonless_ident: bool,
    keep_time_key: bool,
    time3164: TimeParser,
    time5424: TimeParser,
    time5424_nosub: TimeParser,
    spaces3164: usize,
    spaces5424: usize,
    skip3164: bool,
    skip5424: bool,
    re3164: Regex,
    re5424: Regex,
    pri3164: Regex,
    pri5424: Regex,
    detect5424: Regex,
}

fn space_count(fmt: &str) -> usize {
    let mut n = 0;
    let mut prev = false;
    for c in fmt.chars() {
        if c == ' ' {
            if !prev {
                n += 1;
            }
            prev = true;
        } else {
            prev = false;
        }
    }
    n + 1
}

fn squeeze(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev = false;
    for c in s.chars() {
        if c == ' ' && prev {
            continue;
        }
        prev = c == ' ';
        out.push(c);
    }
    out
}

/// Ruby's `String#chomp!`: one trailing `\r\n`, `\n` or `\r`.
fn chomp(s: &str) -> &str {
    s.strip_suffix("\r\n")
        .or_else(|| s.strip_suffix('\n'))
        .or_else(|| s.strip_suffix('\r'))
        .unwrap_or(s)
}

fn find_from(text: &str, pat: &str, from: usize) -> Option<usize> {
    text.get(from..)?.find(pat).map(|i| i + from)
}

fn byte(text: &str, i: usize) -> Option<u8> {
    text.as_bytes().get(i).copied()
}

fn key(k: &str) -> Value {
    Value::Str(k.to_string())
}

fn s(v: &str) -> Value {
    Value::Str(v.to_string())
}

/// Fluentd's string engine raises this on a time with a run of spaces (it names a variable it
/// does not have).
const UNDEFINED_IDX: &str =
    "undefined local variable or method `idx' for #<Fluent::Plugin::SyslogParser>";

fn fail(text: &str) -> ParseResult {
    Err(format!("pattern not matched with data '{text}'"))
}

impl SyslogParser {
    pub(crate) fn build(c: &Conf) -> Result<Self, BuildError> {
        let c = &c.or_declared(&super::params::SYSLOG);
        let with_priority = c.get("with_priority")?;
        let format = match c.get::<&str>("message_format")? {
            "rfc5424" => Format::Rfc5424,
            "auto" => Format::Auto,
            _ => Format::Rfc3164,
        };
        let rfc5424_time_format: String = c.get("rfc5424_time_format")?;
        let engine: String = c.get("parser_engine")?;
        let support_colonless_ident = c.get("support_colonless_ident")?;
        let keep_time_key = c.get("keep_time_key")?;
        // The time always comes from the text here.
        c.get::<bool>("estimate_current_event")?;
        let _ = c.param("timeout");
        let tc = TimeConf::read(c, "string", Some("%b %d %H:%M:%S"), false)?;
        let fmt3164 = tc.format.clone().unwrap_or_else(|| "%b %d %H:%M:%S".into());
        let fmt5424 = if format == Format::Rfc5424 && c.has("time_format") {
            fmt3164.clone()
        } else {
            rfc5424_time_format
        };
        let time3164 = tc.create(None, Some(Some(&fmt3164)), None)?;
        let time5424 = tc.create(None, Some(Some(&fmt5424)), None)?;
        let time5424_nosub = tc.create(None, Some(Some("%Y-%m-%dT%H:%M:%S%z")), None)?;
        let re = |p: &str| ruby_regex::compile(p, "").expect("static syslog regexp");
        Ok(SyslogParser {
            format,
            with_priority,
            regexp_engine: engine == "regexp",
            support_colonless_ident,
            keep_time_key,
            time3164,
            time5424,
            time5424_nosub,
            spaces3164: space_count(&fmt3164),
            spaces5424: space_count(&fmt5424),
            skip3164: fmt3164 == "%b %d %H:%M:%S" || fmt3164 == "%b %d %H:%M:%S.%N",
            skip5424: !fmt5424.contains(' '),
            re3164: re(RFC3164),
            re5424: Regex::new(RFC5424).expect("static syslog regexp"),
            pri3164: re(r"\A<(?<pri>[0-9]{1,3})>"),
            pri5424: re(r"\A<(?<pri>\d{1,3})>\d\d{0,2}\s"),
            detect5424: re(r"\A\<[0-9]{1,3}\>[1-9]\d{0,2}"),
        })
    }

    /// Fluentd's space counting: the time ends at the n-th space (runs of spaces count once).
    /// Fewer spaces make Fluentd's regexp-engine parser raise (it goes on with a nil index):
    /// `NoMethodError` on the next look (`+`), or on the time's length after the last (`-`);
    /// its message is the error, which filter_parser treats as a raise, not a non-match.
    fn time_end(&self, text: &str, idx: usize, spaces: usize) -> Result<(usize, bool), String> {
        let b = text.as_bytes();
        let mut i = idx as isize - 1;
        let mut sq = false;
        for n in 0..spaces {
            while b.get((i + 1) as usize) == Some(&b' ') {
                sq = true;
                i += 1;
            }
            i = match find_from(text, " ", (i + 1) as usize) {
                Some(j) => j as isize,
                None => {
                    let op = if n + 1 < spaces { '+' } else { '-' };
                    return Err(format!("undefined method `{op}' for nil:NilClass"));
                }
            };
        }
        Ok((i as usize, sq))
    }

    fn time5424(&self, ts: &str) -> Result<EventTime, String> {
        self.time5424
            .parse_str(ts)
            .or_else(|_| self.time5424_nosub.parse_str(ts))
    }

    fn finish(&self, time: EventTime, mut rec: Vec<(Value, Value)>, ts: &str) -> ParseResult {
        if self.keep_time_key {
            rec.push((key("time"), s(ts)));
        }
        Ok((Some(time), Value::Map(rec)))
    }

    fn regex_3164(&self, text: &str) -> ParseResult {
        let mut rec = Vec::with_capacity(6);
        let mut idx = 0;
        if self.with_priority {
            if !self.pri3164.is_match(text) {
                return fail(text);
            }
            let v = text.find('>').unwrap_or(0);
            rec.push((
                key("pri"),
                Value::Int(logferry_config::types::integer(&text[1..=v])),
            ));
            idx = v + 1;
        }
        let (i, sq) = self.time_end(text, idx, self.spaces3164)?;
        let raw = &text[idx..i];
        let ts = if sq { squeeze(raw) } else { raw.to_string() };
        let time = self.time3164.parse_str(&ts)?;
        if self.keep_time_key {
            rec.push((key("time"), s(&ts)));
        }
        self.plain(&self.re3164, time, text, i + 1, rec)
    }

    fn regex_5424(&self, text: &str) -> ParseResult {
        let mut rec = Vec::with_capacity(8);
        let mut idx = 0;
        if self.with_priority {
            let Some(c) = self.pri5424.captures(text) else {
                return fail(text);
            };
            let pri = c.name("pri").map_or("", |m| m.as_str());
            rec.push((key("pri"), Value::Int(logferry_config::types::integer(pri))));
            idx = c.get(0).map_or(0, |m| m.end());
        }
        let (i, sq) = self.time_end(text, idx, self.spaces5424)?;
        let raw = &text[idx..i];
        let ts = if sq { squeeze(raw) } else { raw.to_string() };
        let time = self.time5424(&ts)?;
        if self.keep_time_key {
            rec.push((key("time"), s(&ts)));
        }
        self.plain(&self.re5424, time, text, i + 1, rec)
    }

    fn plain(
        &self,
        re: &Regex,
        time: EventTime,
        text: &str,
        at: usize,
        mut rec: Vec<(Value, Value)>,
    ) -> ParseResult {
        if at > text.len() {
            return fail(text);
        }
        let mut locs = re.capture_locations();
        if re.captures_read_at(&mut locs, text, at).is_none() {
            return fail(text);
        }
        for (i, name) in re.capture_names().enumerate() {
            let (Some(name), Some((a, b))) = (name, locs.get(i)) else {
                continue;
            };
            let v = &text[a..b];
            let v = if name == "message" { chomp(v) } else { v };
            rec.push((key(name), s(v)));
        }
        Ok((Some(time), Value::Map(rec)))
    }

    fn pri_prefix(&self, text: &str) -> Result<Option<(i64, usize)>, ()> {
        if !self.with_priority {
            return Ok(None);
        }
        if !text.starts_with('<') {
            return Err(());
        }
        let i = find_from(text, ">", 1).ok_or(())?;
        if i < 2 {
            return Err(());
        }
        Ok(Some((logferry_config::types::integer(&text[1..i]), i)))
    }

    fn string_3164(&self, text: &str) -> ParseResult {
        let mut pri = None;
        let mut cursor = 0;
        match self.pri_prefix(text) {
            Err(()) => return fail(text),
            Ok(Some((p, i))) => {
                pri = Some(p);
                cursor = i + 1;
            }
            Ok(None) => {}
        }
        let ts: String;
        if self.skip3164 {
            match byte(text, cursor + 15) {
                Some(b' ') => {
                    ts = match text.get(cursor..cursor + 15) {
                        Some(t) => t.to_string(),
                        None => return fail(text),
                    };
                    cursor += 16;
                }
                Some(b'.') => {
                    let Some(i) = find_from(text, " ", 15) else {
                        return fail(text);
                    };
                    ts = match text.get(cursor..i) {
                        Some(t) => t.to_string(),
                        None => return fail(text),
                    };
                    cursor = i + 1;
                }
                _ => return fail(text),
            }
        } else {
            let (i, sq) = self.time_end(text, cursor, self.spaces3164)?;
            if sq {
                return Err(UNDEFINED_IDX.into());
            }
            ts = text[cursor..i].to_string();
            cursor = i + 1;
        }
        let Some(i) = find_from(text, " ", cursor) else {
            return fail(text);
        };
        let mut rec = Vec::with_capacity(6);
        rec.push((key("host"), s(&text[cursor..i])));
        cursor = i + 1;
        if let Some(p) = pri {
            rec.push((key("pri"), Value::Int(p)));
        }
        let msg: &str = match find_from(text, " ", cursor) {
            None => text.get(cursor..).unwrap_or(""),
            Some(i) => {
                let before = if i >= 1 { byte(text, i - 1) } else { None };
                if before == Some(b':') {
                    if i >= 2 && byte(text, i - 2) == Some(b']') {
                        let Some(lb) = find_from(text, "[", cursor) else {
                            return fail(text);
                        };
                        rec.push((key("ident"), text.get(cursor..lb).map_or(Value::Nil, s)));
                        rec.push((
                            key("pid"),
                            (i >= lb + 3)
                                .then(|| text.get(lb + 1..i - 2))
                                .flatten()
                                .map_or(Value::Nil, s),
                        ));
                    } else {
                        rec.push((
                            key("ident"),
                            text.get(cursor..i.saturating_sub(1).max(cursor))
                                .map_or(Value::Nil, s),
                        ));
                    }
                    &text[i + 1..]
                } else if self.support_colonless_ident {
                    if before == Some(b']') {
                        let Some(lb) = find_from(text, "[", cursor) else {
                            return fail(text);
                        };
                        rec.push((key("ident"), text.get(cursor..lb).map_or(Value::Nil, s)));
                        rec.push((
                            key("pid"),
                            (i >= lb + 2)
                                .then(|| text.get(lb + 1..i - 1))
                                .flatten()
                                .map_or(Value::Nil, s),
                        ));
                    } else {
                        rec.push((key("ident"), s(&text[cursor..i])));
                    }
                    &text[i + 1..]
                } else {
                    &text[cursor..]
                }
            }
        };
        rec.push((key("message"), s(chomp(msg))));
        let time = self.time3164.parse_str(&ts)?;
        self.finish(time, rec, &ts)
    }

    fn string_5424(&self, text: &str) -> ParseResult {
        let mut pri = None;
        let mut cursor = 0;
        match self.pri_prefix(text) {
            Err(()) => return fail(text),
            Ok(Some((p, i))) => {
                pri = Some(p);
                let Some(sp) = find_from(text, " ", i) else {
                    return fail(text);
                };
                cursor = sp + 1;
            }
            Ok(None) => {}
        }
        let ts: String;
        if self.skip5424 {
            let Some(i) = find_from(text, " ", cursor) else {
                return fail(text);
            };
            ts = text[cursor..i].to_string();
            cursor = i + 1;
        } else {
            let (i, sq) = self.time_end(text, cursor, self.spaces5424)?;
            if sq {
                return Err(UNDEFINED_IDX.into());
            }
            ts = text[cursor..i].to_string();
            cursor = i + 1;
        }
        let mut parts = [""; 4];
        for part in &mut parts {
            let Some(i) = find_from(text, " ", cursor) else {
                return fail(text);
            };
            *part = &text[cursor..i];
            cursor = i + 1;
        }
        let mut rec = Vec::with_capacity(8);
        for (k, v) in ["host", "ident", "pid", "msgid"].iter().zip(parts) {
            rec.push((key(k), s(v)));
        }
        if let Some(p) = pri {
            rec.push((key("pri"), Value::Int(p)));
        }
        if byte(text, cursor) == Some(b'-') {
            rec.push((key("extradata"), s("-")));
            cursor += 1;
        } else {
            let start = cursor;
            let ed = match find_from(text, "] ", cursor) {
                Some(i) => {
                    cursor = i + 1;
                    &text[start..=i]
                }
                None => {
                    cursor = text.len();
                    text.get(start..).unwrap_or("")
                }
            };
            rec.push((key("extradata"), s(&ed.replace('\\', ""))));
        }
        if cursor < text.len() {
            rec.push((
                key("message"),
                s(chomp(text.get(cursor + 1..).unwrap_or(""))),
            ));
        }
        let time = self.time5424(&ts)?;
        self.finish(time, rec, &ts)
    }

    fn one(&self, text: &str) -> ParseResult {
        let f = match self.format {
            Format::Auto if self.detect5424.is_match(text) => Format::Rfc5424,
            Format::Auto => Format::Rfc3164,
            f => f,
        };
        match (f, self.regexp_engine) {
            (Format::Rfc5424, true) => self.regex_5424(text),
            (Format::Rfc5424, false) => self.string_5424(text),
            (_, true) => self.regex_3164(text),
            (_, false) => self.string_3164(text),
        }
    }
}

impl Parser for SyslogParser {
    fn parse(&self, text: &str, out: &mut Vec<ParseResult>) {
        out.push(self.one(text));
    }
}
