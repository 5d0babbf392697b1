//! Parsers: text to records, as Fluentd's `parser_*` plugins (`<parse>` sections and the v0.12 flat
//! `format` parameter). Used by `filter_parser` and by any plugin with a `<parse>` section.
//!
//! Types: `json`, `regexp`, `apache2`, `apache`, `apache_error`, `nginx`, `syslog`, `ltsv`, `csv`,
//! `tsv`, `none`, `multiline` and `multi_format` (fluent-plugin-multi-format-parser). Every parser
//! takes Fluentd's common parameters (`time_key`, `time_format`, `time_type`, `types`,
//! `null_value_pattern`, …); regular expressions are Ruby's, translated to Rust's
//! linear-time engine where it keeps their meaning (see [`ruby_regex`]), else run on Oniguruma
//! (see [`crate::ruby_regexp`]).

use logferry_config::{build_error, BuildError, Pos, Section};
use logferry_msgpack::{EventTime, Value};

pub mod apache2;
mod common;
pub mod csv;
mod date_parse;
pub mod field_time;
pub mod json;
pub mod ltsv;
pub mod msgpack;
pub mod multi_format;
pub mod multiline;
pub mod none;
pub mod params;
pub mod regexp;
pub mod ruby_regex;
mod strptime;
pub mod syslog;
pub(crate) mod time;
mod time_parse;

pub(crate) use time_parse::{ruby_time_parse, ParsedZone};
pub mod tsv;
pub mod yajl;

#[cfg(test)]
mod tests;

/// Fluentd's `TimeParser.new(format, localtime, timezone).parse(text)`, for the differential test
/// of time parsing against Fluentd (`tests/timefmt_vs_ruby.rs`): the outer `Err` is a refusal at
/// start-up, the inner one a text that does not parse.
#[doc(hidden)]
pub fn time_parse_probe(
    format: &str,
    localtime: bool,
    timezone: Option<&str>,
    text: &str,
) -> Result<Result<EventTime, String>, String> {
    let p = time::TimeParser::string(Some(format), localtime, timezone)?;
    Ok(p.parse_str(text))
}

/// Fluentd's `time_parser_create` for `time_type` (`string`, `unixtime`, `float`, `mixed`) with
/// `time_format` (none: Ruby's `Time.parse`), `localtime`, `timezone` and
/// `time_format_fallbacks`, then `parse(text)`: for the differential test
/// (`tests/timefmt_vs_ruby.rs`), as [`time_parse_probe`].
#[doc(hidden)]
pub fn time_parse_probe_typed(
    time_type: &str,
    format: Option<&str>,
    localtime: bool,
    timezone: Option<&str>,
    fallbacks: &[String],
    text: &str,
) -> Result<Result<EventTime, String>, String> {
    let p = time::TimeParser::create(&time::TimeSettings {
        time_type,
        format,
        localtime,
        utc: false,
        timezone,
        fallbacks,
    })?;
    Ok(p.parse(&Value::Str(text.to_string())))
}

/// Ruby's `Date._parse(text)` as logferry ports it, for the differential test against Ruby
/// (`tests/dateparse_vs_ruby.rs`): the fields by Ruby's names, each as Ruby's `to_s` writes it
/// (`offset` is not computed), or the error.
#[doc(hidden)]
pub fn date_parse_probe(text: &str) -> Result<Vec<(&'static str, String)>, String> {
    let h = date_parse::date_parse(text)?;
    let mut v = Vec::new();
    for (k, x) in [
        ("year", h.year),
        ("mon", h.mon),
        ("mday", h.mday),
        ("yday", h.yday),
        ("cwyear", h.cwyear),
        ("cweek", h.cweek),
        ("cwday", h.cwday),
        ("wday", h.wday),
        ("hour", h.hour),
        ("min", h.min),
        ("sec", h.sec),
    ] {
        if let Some(x) = x {
            v.push((k, x.to_string()));
        }
    }
    if let Some(f) = h.sec_fraction_text() {
        v.push(("sec_fraction", f));
    }
    if let Some(z) = h.zone {
        v.push(("zone", z));
    }
    Ok(v)
}

/// Ruby's `Time.parse(text, now)` in the local zone as logferry ports it (`now` in epoch
/// seconds and nanoseconds): the time's `to_i` and `nsec`, for `tests/dateparse_vs_ruby.rs`.
#[doc(hidden)]
pub fn time_parse_at_probe(text: &str, now_sec: i64, now_nsec: u32) -> Result<(i128, u32), String> {
    time_parse::time_parse(text, &crate::timefmt::Zone::Local, &|| (now_sec, now_nsec))
        .map(|t| (t.sec, t.nsec))
}

/// What a parser without `time_format` makes of a time text (`Fluent::EventTime.parse`), with
/// `now` given, in the local zone: for `tests/dateparse_vs_ruby.rs`.
#[doc(hidden)]
pub fn lenient_at_probe(text: &str, now_sec: i64, now_nsec: u32) -> Result<EventTime, String> {
    time::lenient_at(text, &crate::timefmt::Zone::Local, &|| (now_sec, now_nsec))
}

use common::Conf;

/// One parse result: the event time (`None` when the text had none and `estimate_current_event`
/// is false) and the record (a map), or the reason the text did not parse.
pub type ParseResult = Result<(Option<EventTime>, Value), String>;

/// Turns one text into zero or more records.
pub trait Parser: Send + Sync {
    /// Parse `text`, pushing one result per record found (a JSON array yields several; a
    /// multiline parser may yield several).
    fn parse(&self, text: &str, out: &mut Vec<ParseResult>);

    /// Fast path for the common case: when `text` is exactly one record this parser can write as
    /// msgpack directly (no [`Value`] tree, no allocation once `out` is warm), fill `out` and
    /// return the record's time (as [`parse`](Self::parse) would: `Some(None)` when the text had
    /// none and `estimate_current_event` is false). `None`: use [`parse`](Self::parse), which
    /// gives the same result, or the error. The default has no fast path.
    fn parse_raw(&self, _text: &str, _out: &mut RawRecord) -> Option<Option<EventTime>> {
        None
    }

    /// [`parse_raw`](Self::parse_raw) for a caller that keeps the event's own time
    /// (filter_parser's `reserve_time`): the same record and the same failures (a time field
    /// that does not parse still sends the text to [`parse`](Self::parse)), but no clock read for
    /// a record without a time field. True when `out` holds the record.
    fn parse_raw_untimed(&self, text: &str, out: &mut RawRecord) -> bool {
        self.parse_raw(text, out).is_some()
    }

    /// For line-oriented inputs (in_tail): does `line` start an event? `None` unless this is a
    /// `multiline` parser with `format_firstline`.
    fn firstline(&self, _line: &str) -> Option<bool> {
        None
    }

    /// What Fluentd's parser does with text that is not valid UTF-8 (filter_parser acts on it).
    fn on_invalid_utf8(&self) -> InvalidUtf8 {
        InvalidUtf8::Raises
    }

    /// [`parse`](Self::parse) of the text of a UTF-8 string holding bytes that are not UTF-8,
    /// for a parser whose [`on_invalid_utf8`](Self::on_invalid_utf8) is [`InvalidUtf8::Keeps`]:
    /// each such byte stands in `text` as logferry-plugins' `bytemap` maps it
    /// ([`crate::ruby::stands_for_byte`]).
    fn parse_invalid_utf8(&self, text: &str, out: &mut Vec<ParseResult>) {
        self.parse(text, out)
    }

    /// For a parser that puts the whole text under one field with the time of now (`none`, with
    /// `estimate_current_event` on): that field's name, so that an input can keep text that is
    /// not UTF-8 byte for byte there, as Fluentd does. `None` for every other parser.
    fn whole_text_field(&self) -> Option<&str> {
        None
    }

    /// Whether the strings this parser puts in a record are pieces of the text itself, as with
    /// most of Fluentd's parsers (regexp captures, split fields: binary strings when the text is
    /// one, as from in_tail, tcp, udp and syslog, which out_forward packs as msgpack bin), rather
    /// than strings it decodes (`json`: Oj and yajl make UTF-8 strings, packed as str).
    fn keeps_text_bytes(&self) -> bool {
        true
    }

    /// Parse a value that is not a string (a number, a map …), as Fluentd's parser takes it:
    /// false (nothing pushed) where Fluentd's parser does not take it (see
    /// [`non_string_raises`](Self::non_string_raises)).
    fn parse_value(&self, _v: &Value, _out: &mut Vec<ParseResult>) -> bool {
        false
    }

    /// JSON whose value is not an object, as Fluentd's json parser yields it to filter_parser:
    /// a scalar or an array as it is, and with Oj a field value that is not a string (a number,
    /// a boolean, an array) as it is. `None` where the parser yields no such value: any parser
    /// but json, an object, nil or false (no match), text that is not JSON. Else its time (the
    /// parser's now with `estimate_current_event`, else none) and the value, or, where
    /// `types`, `null_value_pattern` or `null_empty_string` make Fluentd convert the values of
    /// what is not a Hash, the error it raises with. With `raises_only` the caller needs only
    /// that error (nothing is parsed where nothing is converted).
    fn bare_value(
        &self,
        _field: Field<'_>,
        _raises_only: bool,
    ) -> Option<Result<(Option<EventTime>, Value), String>> {
        None
    }

    /// Whether Fluentd's parser raises on a value that is not a string (most do: `no implicit
    /// conversion of Integer into String`, the record going on past filter_parser unchanged
    /// after its error event); false where it reads as not matched (`json`).
    fn non_string_raises(&self) -> bool {
        true
    }
}

/// The field filter_parser hands a parser ([`Parser::bare_value`]): its text, or a value that
/// is not a string.
#[derive(Clone, Copy, Debug)]
pub enum Field<'a> {
    /// A string's text.
    Text(&'a str),
    /// Any other value (a number, a boolean, an array, a map).
    Other(&'a Value),
}

/// What a Fluentd parser does with text that is not valid UTF-8 (Ruby strings carry the bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidUtf8 {
    /// Ruby raises `ArgumentError` ("invalid byte sequence in UTF-8", from a regexp match or a
    /// split): filter_parser's `replace_invalid_sequence` scrubs the text and parses again;
    /// without it the record goes to `@ERROR` and on unchanged.
    Raises,
    /// The parser fails otherwise (`csv`: "parse failed Invalid byte sequence"), scrub or not.
    ParseFails,
    /// The parser yields no record (`json`): "pattern not matched", scrub or not.
    NotMatched,
    /// The parser takes the bytes as they are (`none`, `json` with Oj or Ruby's json): they
    /// reach the record as they are ([`Parser::parse_invalid_utf8`]).
    Keeps,
}

/// One record written by [`Parser::parse_raw`]: msgpack keys and values in one reused buffer.
#[derive(Debug, Default)]
pub struct RawRecord {
    /// Encoded keys (msgpack str) and values, back to back.
    pub buf: Vec<u8>,
    /// `(key, value)` byte ranges in `buf`, in record order; no key repeats.
    pub pairs: Vec<(std::ops::Range<usize>, std::ops::Range<usize>)>,
    /// Scratch for unescaping strings.
    pub scratch: Vec<u8>,
}

impl RawRecord {
    /// Empty it, keeping the allocations.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.pairs.clear();
        self.scratch.clear();
    }

    /// The pairs as one msgpack map, in order.
    pub fn encode_map(&self, out: &mut Vec<u8>) {
        logferry_msgpack::write::map_len(out, self.pairs.len() as u32);
        for (k, v) in &self.pairs {
            out.extend_from_slice(&self.buf[k.clone()]);
            out.extend_from_slice(&self.buf[v.clone()]);
        }
    }

    /// The encoded key and value of pair `i`.
    pub fn pair(&self, i: usize) -> (&[u8], &[u8]) {
        let (k, v) = &self.pairs[i];
        (&self.buf[k.clone()], &self.buf[v.clone()])
    }
}

/// Every parser type this build knows.
pub const TYPES: &[&str] = &[
    "json",
    "regexp",
    "apache2",
    "apache",
    "apache_error",
    "nginx",
    "syslog",
    "ltsv",
    "csv",
    "tsv",
    "none",
    "msgpack",
    "multiline",
    "multi_format",
];

/// Build the parser of a plugin: its `<parse>` section if present, else the v0.12 flat `format`
/// parameter (with flat parser parameters on the plugin section), else `default_type`.
pub fn from_plugin(
    plugin: &Section,
    default_type: Option<&str>,
) -> Result<Box<dyn Parser>, BuildError> {
    from_plugin_with(plugin, default_type, &[])
}

/// [`from_plugin`], with the plugin's own defaults for parser parameters, as config text
/// (in_syslog's `with_priority true`).
pub fn from_plugin_with(
    plugin: &Section,
    default_type: Option<&str>,
    plugin_defaults: &'static [(&'static str, &'static str)],
) -> Result<Box<dyn Parser>, BuildError> {
    if let Some(p) = plugin.section("parse")? {
        let ty = p.str("@type").or_else(|| p.str("type"));
        let pos = p
            .param("@type")
            .or_else(|| p.param("type"))
            .map(|x| &x.pos)
            .unwrap_or(p.pos());
        let Some(ty) = ty.or(default_type) else {
            return Err(build_error(
                p.pos(),
                format!(
                    "<parse> in the {} plugin needs @type (one of: {})",
                    plugin.plugin(),
                    TYPES.join(", ")
                ),
            ));
        };
        return build_conf(ty, pos, &Conf::new(p).with_plugin_defaults(plugin_defaults));
    }
    let flat = Conf::flat(plugin.clone()).with_plugin_defaults(plugin_defaults);
    flat.check_flat_zone()?;
    if let Some(f) = plugin.param("format") {
        let v = f.value.as_str();
        if v.len() >= 2 && v.starts_with('/') && v.ends_with('/') {
            let c = flat.with_expression(&v[1..v.len() - 1], &f.pos);
            return build_conf("regexp", &f.pos, &c);
        }
        return build_conf(v, &f.pos, &flat);
    }
    match default_type {
        Some(d) => build_conf(d, plugin.pos(), &flat),
        None => Err(build_error(
            plugin.pos(),
            format!(
                "the {} plugin needs a <parse> section or a format parameter",
                plugin.plugin()
            ),
        )),
    }
}

/// Build a parser of type `ty` from a `<parse>`-like section (`s` holds its parameters).
pub fn build(ty: &str, s: &Section) -> Result<Box<dyn Parser>, BuildError> {
    build_conf(ty, s.pos(), &Conf::new(s.clone()))
}

/// Build from a parameter view; `pos` is where the type was named.
pub(crate) fn build_conf(ty: &str, pos: &Pos, c: &Conf) -> Result<Box<dyn Parser>, BuildError> {
    let declared = params::spec(ty).map(|spec| c.declared(spec));
    let c = declared.as_ref().unwrap_or(c);
    Ok(match ty {
        "json" => Box::new(json::JsonParser::build(c)?),
        "regexp" => Box::new(regexp::RegexpParser::build(c, None, None)?),
        "apache" => Box::new(regexp::RegexpParser::build(
            c,
            Some(regexp::APACHE),
            Some(regexp::APACHE_TIME_FORMAT),
        )?),
        "apache_error" => Box::new(regexp::RegexpParser::build(
            c,
            Some(regexp::APACHE_ERROR),
            None,
        )?),
        "nginx" => Box::new(regexp::RegexpParser::build(
            c,
            Some(regexp::NGINX),
            Some(regexp::APACHE_TIME_FORMAT),
        )?),
        "apache2" => Box::new(apache2::Apache2Parser::build(c)?),
        "syslog" => Box::new(syslog::SyslogParser::build(c)?),
        "ltsv" => Box::new(ltsv::LtsvParser::build(c)?),
        "csv" => Box::new(csv::CsvParser::build(c)?),
        "tsv" => Box::new(tsv::TsvParser::build(c)?),
        "none" => Box::new(none::NoneParser::build(c)?),
        "msgpack" => Box::new(msgpack::MsgpackParser::build(c)?),
        "multiline" => Box::new(multiline::MultilineParser::build(c)?),
        "multi_format" => Box::new(multi_format::MultiFormatParser::build(c)?),
        other => {
            return Err(build_error(
                pos,
                format!(
                    "unknown parser type '{other}' (logferry has: {})",
                    TYPES.join(", ")
                ),
            ))
        }
    })
}
