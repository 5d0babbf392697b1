//! What every parser shares (Fluentd's `Fluent::Plugin::Parser` base): the parameter view (a
//! `<parse>` section or the v0.12 flat parameters of a plugin), the time field, `types`
//! conversions and null patterns.

use logferry_config::params::{DefaultValue, Spec};
use logferry_config::{build_error, BuildError, FromParam, Param, Pos, Section};
use logferry_msgpack::{EventTime, Value};

use crate::timefmt::Zone;

use super::time::{TimeParser, TimeSettings};
use super::ParseResult;
use crate::ruby_regexp::RubyRegex;

/// Flat (v0.12) parser parameters read from a plugin section when it has no `<parse>`.
const FLAT: &[&str] = &[
    "format",
    "types",
    "types_delimiter",
    "types_label_delimiter",
    "keys",
    "time_key",
    "time_format",
    "localtime",
    "utc",
    "timezone",
    "delimiter",
    "keep_time_key",
    "null_empty_string",
    "null_value_pattern",
    "json_parser",
    "label_delimiter",
    "format_firstline",
    "message_key",
    "with_priority",
    "message_format",
    "rfc5424_time_format",
    "estimate_current_event",
];

fn is_flat(key: &str) -> bool {
    FLAT.contains(&key)
        || key
            .strip_prefix("format")
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| (1..=20).contains(&n))
}

/// The parameters a parser reads: a `<parse>`-like section, or a plugin section's flat ones.
#[derive(Clone)]
pub(crate) struct Conf<'a> {
    pub(crate) s: Section<'a>,
    flat: bool,
    expression: Option<(String, Pos)>,
    spec: Option<&'static Spec>,
    /// Defaults the plugin owning the `<parse>` sets (Fluentd's `config_set_default` in the
    /// plugin's `config_section :parse`), as config text: they win over the parser's own.
    plugin_defaults: &'static [(&'static str, &'static str)],
}

impl<'a> Conf<'a> {
    /// A `<parse>` (or `<pattern>`) section.
    pub(crate) fn new(s: Section<'a>) -> Self {
        Conf {
            s,
            flat: false,
            expression: None,
            spec: None,
            plugin_defaults: &[],
        }
    }

    /// The flat parameters of a plugin section.
    pub(crate) fn flat(s: Section<'a>) -> Self {
        Conf {
            s,
            flat: true,
            expression: None,
            spec: None,
            plugin_defaults: &[],
        }
    }

    /// With `expression` set by a `format /re/` parameter.
    pub(crate) fn with_expression(&self, body: &str, pos: &Pos) -> Self {
        let mut c = self.clone();
        c.expression = Some((body.to_string(), pos.clone()));
        c
    }

    /// With the owning plugin's defaults for some parser parameters.
    pub(crate) fn with_plugin_defaults(
        mut self,
        d: &'static [(&'static str, &'static str)],
    ) -> Self {
        self.plugin_defaults = d;
        self
    }

    /// The owning plugin's default for a parser parameter, if it sets one.
    pub(crate) fn plugin_default(&self, key: &str) -> Option<&'static str> {
        self.plugin_defaults
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }

    /// Read through the declaration of parser `spec` (a `<parse>` section is marked with it too).
    pub(crate) fn declared(&self, spec: &'static Spec) -> Self {
        let mut c = self.clone();
        if !c.flat {
            c.s = c.s.declared(spec);
        }
        c.spec = Some(spec);
        c
    }

    /// Read through `spec` unless already read through a parser's declaration (parsers built
    /// directly, as tests do, declare themselves).
    pub(crate) fn or_declared(&self, spec: &'static Spec) -> Self {
        match self.spec {
            Some(_) => self.clone(),
            None => self.declared(spec),
        }
    }

    /// A declared parameter as `T`, typed and defaulted by the parser's declaration (aliases
    /// read too; flat views see only flat parameter names).
    pub(crate) fn get<T: FromParam<'a>>(&self, key: &str) -> Result<T, BuildError> {
        let def = self.spec.and_then(|s| s.find(key));
        debug_assert!(def.is_some(), "parser parameter '{key}' is not declared");
        let def = def.ok_or_else(|| {
            self.err(
                key,
                format!("internal error: parser parameter '{key}' is not declared"),
            )
        })?;
        let given = std::iter::once(def.name)
            .chain(def.aliases.iter().copied())
            .find_map(|k| self.param(k));
        if let Some(p) = given {
            return T::from_text(def, &p.value, &p.pos);
        }
        if let Some((_, text)) = self.plugin_defaults.iter().find(|(k, _)| *k == def.name) {
            return T::from_text(def, text, self.section_pos());
        }
        match def.default {
            DefaultValue::Value(text) => T::from_text(def, text, self.section_pos()),
            _ => T::absent()
                .ok_or_else(|| self.err(key, format!("internal error: '{key}' has no default"))),
        }
    }

    /// The `expression` given by `format /re/`, if any.
    pub(crate) fn expression_override(&self) -> Option<(&str, &Pos)> {
        self.expression.as_ref().map(|(b, p)| (b.as_str(), p))
    }

    /// The plugin name, for messages.
    pub(crate) fn plugin(&self) -> &str {
        self.s.plugin()
    }

    /// A parameter (marked used); flat views see only flat parameter names.
    pub(crate) fn param(&self, key: &str) -> Option<&'a Param> {
        if self.flat && !is_flat(key) {
            return None;
        }
        let _ = self.s.str(key);
        self.s.param(key)
    }

    /// Is the parameter present (without marking it)?
    pub(crate) fn has(&self, key: &str) -> bool {
        (!self.flat || is_flat(key)) && self.s.has(key)
    }

    /// A string parameter.
    pub(crate) fn str(&self, key: &str) -> Option<&'a str> {
        self.param(key).map(|p| p.value.as_str())
    }

    /// Where a parameter is (or the section, when absent).
    pub(crate) fn pos(&self, key: &str) -> &'a Pos {
        match self.s.element().params.iter().rev().find(|p| p.key == key) {
            Some(p) => &p.pos,
            None => self.s.pos(),
        }
    }

    /// The section position.
    pub(crate) fn section_pos(&self) -> &'a Pos {
        self.s.pos()
    }

    /// An error at a parameter.
    pub(crate) fn err(&self, key: &str, msg: impl Into<String>) -> BuildError {
        build_error(self.pos(key), msg)
    }

    /// An enum parameter.
    pub(crate) fn choice(
        &self,
        key: &str,
        allowed: &[&str],
        default: &str,
    ) -> Result<String, BuildError> {
        match self.param(key) {
            None => Ok(default.to_string()),
            Some(p) if allowed.contains(&p.value.as_str()) => Ok(p.value.clone()),
            Some(p) => Err(build_error(
                &p.pos,
                format!(
                    "'{key}': '{}' is not one of: {}",
                    p.value,
                    allowed.join(", ")
                ),
            )),
        }
    }

    /// An array parameter (JSON or comma-separated; not a JSON array after `[` is an error).
    pub(crate) fn array(&self, key: &str) -> Result<Option<Vec<String>>, BuildError> {
        self.param(key)
            .map(|p| {
                logferry_config::types::array(&p.value)
                    .map_err(|e| build_error(&p.pos, format!("'{key}': {e}")))
            })
            .transpose()
    }

    /// A Ruby regexp parameter (Fluentd's `:regexp` type), compiled.
    pub(crate) fn regexp(&self, key: &str) -> Result<Option<RubyRegex>, BuildError> {
        match self.param(key) {
            None => Ok(None),
            // Fluentd's `:regexp` type: `/body/flags` (only `i` and `m` kept) or a bare body, and
            // more than two characters after the last `/` refused.
            Some(p) => crate::ruby_regexp::regexp(&p.value)
                .map(Some)
                .map_err(|e| build_error(&p.pos, format!("'{key}': {e}"))),
        }
    }

    /// Flat `localtime` and `utc` together are an error (Fluentd's compat layer).
    pub(crate) fn check_flat_zone(&self) -> Result<(), BuildError> {
        if self.s.has("localtime") && self.s.has("utc") {
            return Err(self.err(
                "utc",
                "both of utc and localtime are specified, use only one of them",
            ));
        }
        Ok(())
    }
}

/// Fluentd's time parameters of one parser, resolved (`localtime`/`utc`/`timezone`, …).
#[derive(Clone, Debug)]
pub(crate) struct TimeConf {
    pub time_type: String,
    pub format: Option<String>,
    pub localtime: bool,
    pub utc: bool,
    pub timezone: Option<String>,
    pub fallbacks: Vec<String>,
    pos: Pos,
}

impl TimeConf {
    /// Read `time_type`, `time_format`, `localtime`, `utc`, `timezone`, `time_format_fallbacks`.
    /// `json` sets `string_if_format`: a `time_format` makes the default type `string`.
    pub(crate) fn read(
        c: &Conf,
        default_type: &str,
        default_format: Option<&str>,
        string_if_format: bool,
    ) -> Result<TimeConf, BuildError> {
        let format = c.str("time_format").or(default_format).map(str::to_string);
        let default_type = if string_if_format && c.has("time_format") {
            "string"
        } else {
            // The owning plugin's default (in_exec's `time_type float`) before the parser's.
            c.plugin_default("time_type").unwrap_or(default_type)
        };
        let time_type = c.choice(
            "time_type",
            &["string", "unixtime", "float", "mixed"],
            default_type,
        )?;
        let has_local = c.has("localtime");
        let has_utc = c.has("utc");
        let utc: bool = c.get("utc")?;
        let localtime = if has_local {
            c.get("localtime")?
        } else if has_utc {
            !utc
        } else {
            true
        };
        if has_local && has_utc && !(localtime ^ utc) {
            return Err(c.err(
                "utc",
                "both of utc and localtime are specified, use only one of them",
            ));
        }
        let timezone = c.str("timezone").map(str::to_string);
        if let Some(tz) = &timezone {
            Zone::parse_validated(tz).map_err(|e| c.err("timezone", e))?;
        }
        let fallbacks = c.array("time_format_fallbacks")?.unwrap_or_default();
        if time_type == "mixed" && c.has("time_type") && format.is_none() && fallbacks.is_empty() {
            return Err(c.err(
                "time_type",
                "time_type is :mixed but time_format and time_format_fallbacks is empty.",
            ));
        }
        let pos = if c.has("time_format") {
            c.pos("time_format")
        } else if c.has("timezone") {
            c.pos("timezone")
        } else if has_utc {
            c.pos("utc")
        } else if has_local {
            c.pos("localtime")
        } else {
            c.section_pos()
        };
        Ok(TimeConf {
            time_type,
            format,
            localtime,
            utc,
            timezone,
            fallbacks,
            pos: pos.clone(),
        })
    }

    /// Fluentd's `time_parser_create`, optionally with another type or format.
    pub(crate) fn create(
        &self,
        time_type: Option<&str>,
        format: Option<Option<&str>>,
        timezone: Option<Option<&str>>,
    ) -> Result<TimeParser, BuildError> {
        let format = format.unwrap_or(self.format.as_deref());
        TimeParser::create(&TimeSettings {
            time_type: time_type.unwrap_or(&self.time_type),
            format,
            localtime: self.localtime,
            utc: self.utc,
            timezone: timezone.unwrap_or(self.timezone.as_deref()),
            fallbacks: &self.fallbacks,
        })
        .map_err(|e| build_error(&self.pos, e))
    }
}

/// One `types` conversion.
#[derive(Clone, Debug)]
enum Conv {
    String,
    Integer,
    Float,
    Bool,
    Time(TimeParser),
    Array(String),
}

/// `types`, `null_value_pattern` and `null_empty_string` (Fluentd's `convert_values`).
#[derive(Clone, Debug)]
pub(crate) struct Converter {
    null_re: Option<RubyRegex>,
    null_empty: bool,
    types: Vec<(String, Conv)>,
}

/// Fluent::Timezone.validate: `+09`, `+0900`, `+09:00` or `Area/City`.
fn fluent_timezone_valid(tz: &str) -> bool {
    let b = tz.as_bytes();
    let numeric = matches!(b.first(), Some(b'+' | b'-'))
        && match b.len() {
            3 => b[1..].iter().all(u8::is_ascii_digit),
            5 => b[1..].iter().all(u8::is_ascii_digit),
            6 => b[3] == b':' && [1, 2, 4, 5].iter().all(|&i| b[i].is_ascii_digit()),
            _ => false,
        };
    let parts = tz.split('/').count();
    numeric
        || ((2..=3).contains(&parts)
            && !tz.split('/').any(str::is_empty)
            && Zone::parse(tz).is_ok())
}

impl Converter {
    /// Read `types` (with the flat `types_delimiter`/`types_label_delimiter`), `null_value_pattern`
    /// and `null_empty_string`; `None` when none is set.
    pub(crate) fn read(c: &Conf, tc: &TimeConf) -> Result<Option<Converter>, BuildError> {
        let null_re = c.regexp("null_value_pattern")?;
        let null_empty: bool = c.get("null_empty_string")?;
        let mut types = Vec::new();
        if let Some(p) = c.param("types") {
            let pairs: Vec<(String, String)> = if c.flat {
                let d: &str = c.get("types_delimiter")?;
                let ld: &str = c.get("types_label_delimiter")?;
                ruby_split(&p.value, d, 0)
                    .into_iter()
                    .map(|pair| {
                        let mut kv = ruby_split(pair, ld, 2).into_iter();
                        (
                            kv.next().unwrap_or("").to_string(),
                            kv.next().unwrap_or("").to_string(),
                        )
                    })
                    .collect()
            } else {
                logferry_config::types::hash(&p.value)
                    .map_err(|e| build_error(&p.pos, format!("'types': {e}")))?
            };
            for (field, def) in pairs {
                let (ty, option) = match def.split_once(':') {
                    Some((t, o)) => (t, Some(o)),
                    None => (def.as_str(), None),
                };
                let conv = match ty {
                    "string" => Conv::String,
                    "integer" => Conv::Integer,
                    "float" => Conv::Float,
                    "bool" => Conv::Bool,
                    "array" => Conv::Array(option.unwrap_or(",").to_string()),
                    "time" => {
                        let tp = match option {
                            Some(opt) => {
                                let (mut tz, mut fmt) = match opt.split_once(':') {
                                    Some((a, b)) => (Some(a), Some(b)),
                                    None => (Some(opt), None),
                                };
                                if !tz.is_some_and(fluent_timezone_valid) {
                                    tz = None;
                                    fmt = Some(opt);
                                }
                                let mut time_type = "string";
                                if let Some(f) = fmt {
                                    if ["string", "unixtime", "float", "mixed"].contains(&f) {
                                        time_type = f;
                                        fmt = None;
                                    }
                                }
                                tc.create(Some(time_type), Some(fmt), Some(tz))
                            }
                            None => tc.create(Some("string"), Some(None), Some(None)),
                        }
                        .map_err(|e| {
                            build_error(&p.pos, format!("types: key '{field}': {}", e.message))
                        })?;
                        Conv::Time(tp)
                    }
                    other => {
                        return Err(build_error(
                            &p.pos,
                            format!(
                                "unknown value conversion for key:'{field}', type:'{other}' \
                                 (string, integer, float, bool, time, array)"
                            ),
                        ))
                    }
                };
                types.push((field, conv));
            }
        }
        if null_re.is_none() && !null_empty && types.is_empty() && !c.has("types") {
            return Ok(None);
        }
        Ok(Some(Converter {
            null_re,
            null_empty,
            types,
        }))
    }

    /// Apply to a record in place.
    pub(crate) fn apply(&self, rec: &mut [(Value, Value)]) {
        for (k, v) in rec.iter_mut() {
            // Fluentd's `next unless value`: nil and false are left as they are.
            if matches!(v, Value::Nil | Value::Bool(false)) {
                continue;
            }
            if let Value::Str(s) = v {
                let null = (self.null_empty && s.is_empty())
                    || self.null_re.as_ref().is_some_and(|r| r.is_match(s));
                if null {
                    *v = Value::Nil;
                    continue;
                }
            }
            let Some(key) = k.as_str() else { continue };
            if let Some((_, conv)) = self.types.iter().find(|(f, _)| f == key) {
                *v = convert(conv, v);
            }
        }
    }
}

fn convert(conv: &Conv, v: &Value) -> Value {
    match conv {
        // Ruby's `to_s`: a map or array as Ruby inspects it (`[1, 2]`), not as JSON.
        Conv::String => match v {
            Value::Str(_) => v.clone(),
            other => Value::Str(crate::ruby::to_s(other)),
        },
        Conv::Integer => match v {
            Value::Int(_) | Value::UInt(_) => v.clone(),
            Value::Str(s) => int_value(logferry_config::types::integer_wide(s)),
            Value::F64(f) if f.is_finite() => int_value(f.trunc() as i128),
            Value::F32(f) if f.is_finite() => int_value(f.trunc() as i128),
            _ => Value::Int(0),
        },
        Conv::Float => match v {
            Value::F64(_) => v.clone(),
            Value::F32(f) => Value::F64(f64::from(*f)),
            Value::Int(i) => Value::F64(*i as f64),
            Value::UInt(u) => Value::F64(*u as f64),
            Value::Str(s) => Value::F64(logferry_config::types::float(s)),
            _ => Value::F64(0.0),
        },
        Conv::Bool => {
            let t = v.to_text().to_ascii_lowercase();
            Value::Bool(matches!(t.as_str(), "true" | "yes" | "1"))
        }
        Conv::Time(tp) => match tp.parse(v) {
            Ok(t) => {
                let mut payload = Vec::with_capacity(8);
                payload.extend_from_slice(&t.sec.to_be_bytes());
                payload.extend_from_slice(&t.nsec.to_be_bytes());
                Value::Ext(0, payload)
            }
            Err(_) => Value::Nil,
        },
        Conv::Array(d) => {
            let s = crate::ruby::to_s(v);
            Value::Array(
                ruby_split(&s, d, 0)
                    .into_iter()
                    .map(|x| Value::Str(x.to_string()))
                    .collect(),
            )
        }
    }
}

/// Ruby's Integer as a record value: msgpack's int or uint where 64 bits hold it, else the
/// nearest float (README "Differences from Fluentd": integers past 64 bits become floats).
pub(crate) fn int_value(n: i128) -> Value {
    if let Ok(i) = i64::try_from(n) {
        Value::Int(i)
    } else if let Ok(u) = u64::try_from(n) {
        Value::UInt(u)
    } else {
        Value::F64(n as f64)
    }
}

/// Ruby's `String#split(sep, limit)` for a string separator: `" "` splits on runs of whitespace
/// ignoring leading whitespace; `limit > 0` caps the number of fields (the last keeps the rest);
/// `limit == 0` drops trailing empty fields.
pub(crate) fn ruby_split<'t>(s: &'t str, sep: &str, limit: usize) -> Vec<&'t str> {
    let mut out = Vec::new();
    if s.is_empty() {
        return out;
    }
    if sep == " " {
        // Ruby's awk mode (string.c): runs of ASCII whitespace separate fields, leading ones are
        // skipped; with a limit the rest after the last separator run is the last field, even
        // empty (`" ".split(" ", 3)` is `[""]`, `"a b ".split(" ", 3)` is `["a", "b", ""]`).
        let is_ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r');
        let (mut skip, mut beg, mut end, mut fields) = (true, 0, 0, 1);
        for (p, c) in s.char_indices() {
            let next = p + c.len_utf8();
            if skip {
                if is_ws(c) {
                    beg = next;
                } else {
                    end = next;
                    skip = false;
                    if limit > 0 && limit <= fields {
                        break;
                    }
                }
            } else if is_ws(c) {
                out.push(&s[beg..end]);
                skip = true;
                beg = next;
                if limit > 0 {
                    fields += 1;
                }
            } else {
                end = next;
            }
        }
        if limit > 0 || s.len() > beg {
            out.push(&s[beg..]);
        }
        if limit == 0 {
            while out.last().is_some_and(|f| f.is_empty()) {
                out.pop();
            }
        }
        return out;
    }
    if sep.is_empty() {
        for (i, c) in s.char_indices() {
            if limit > 0 && out.len() + 1 == limit {
                out.push(&s[i..]);
                return out;
            }
            out.push(&s[i..i + c.len_utf8()]);
        }
        return out;
    }
    let mut rest = s;
    loop {
        if limit > 0 && out.len() + 1 == limit {
            out.push(rest);
            break;
        }
        match rest.find(sep) {
            Some(i) => {
                out.push(&rest[..i]);
                rest = &rest[i + sep.len()..];
            }
            None => {
                out.push(rest);
                break;
            }
        }
    }
    if limit == 0 {
        while out.last().is_some_and(|x| x.is_empty()) {
            out.pop();
        }
    }
    out
}

/// Ruby `String#split` with a regexp separator (`limit == 0`: trailing empty fields dropped).
pub(crate) fn ruby_split_re<'t>(s: &'t str, re: &RubyRegex) -> Vec<&'t str> {
    re.split(s)
}

/// Insert or replace a key (Ruby hash assignment: a repeated key keeps its first position).
pub(crate) fn put(rec: &mut Vec<(Value, Value)>, k: &str, v: Value) {
    match rec.iter_mut().find(|(key, _)| key.as_str() == Some(k)) {
        Some(e) => e.1 = v,
        None => rec.push((Value::Str(k.to_string()), v)),
    }
}

/// The base-class behaviour every parser shares: the time field and value conversions.
#[derive(Clone, Debug)]
pub(crate) struct Common {
    pub time_key: Option<String>,
    pub keep_time_key: bool,
    pub estimate: bool,
    pub time: TimeParser,
    pub conv: Option<Converter>,
    /// `timeout`: how long one backtracking regexp search may run.
    pub timeout: Option<std::time::Duration>,
}

/// Per-parser defaults of the base parameters.
pub(crate) struct Defaults<'d> {
    pub time_key: Option<&'d str>,
    pub time_type: &'d str,
    pub time_format: Option<&'d str>,
    pub string_if_format: bool,
}

impl Default for Defaults<'_> {
    fn default() -> Self {
        Defaults {
            time_key: None,
            time_type: "string",
            time_format: None,
            string_if_format: false,
        }
    }
}

impl Common {
    /// Read the base parameters.
    pub(crate) fn read(c: &Conf, d: &Defaults) -> Result<Common, BuildError> {
        let time_key = match (c.str("time_key"), c.plugin_default("time_key")) {
            (Some(k), _) => Some(k.to_string()),
            // The owning plugin's default; "" unsets the parser's own (in_exec's `time_key nil`).
            (None, Some(k)) => (!k.is_empty()).then(|| k.to_string()),
            (None, None) => d.time_key.map(str::to_string),
        };
        let keep_time_key = c.get("keep_time_key")?;
        let estimate = c.get("estimate_current_event")?;
        // Fluentd's `timeout` bounds one parse; only a regexp on the backtracking engine can
        // run long enough to need it (see `regexp::TIMED_OUT`).
        let timeout = c
            .get::<Option<f64>>("timeout")?
            .filter(|t| t.is_finite() && *t > 0.0)
            .map(std::time::Duration::from_secs_f64);
        let time_conf = TimeConf::read(c, d.time_type, d.time_format, d.string_if_format)?;
        let time = time_conf.create(None, None, None)?;
        let conv = Converter::read(c, &time_conf)?;
        Ok(Common {
            time_key,
            keep_time_key,
            estimate,
            time,
            conv,
            timeout,
        })
    }

    /// The time when a record has no time field.
    pub(crate) fn no_time(&self) -> Option<EventTime> {
        self.estimate.then(EventTime::now)
    }

    /// Fluentd's `parse_time`: take (or with `keep_time_key` read) the time field.
    pub(crate) fn take_time(
        &self,
        rec: &mut Vec<(Value, Value)>,
    ) -> Result<Option<EventTime>, String> {
        if let Some(k) = &self.time_key {
            if let Some(i) = rec.iter().position(|(key, _)| key.as_str() == Some(k)) {
                let t = if self.keep_time_key {
                    self.time.parse(&rec[i].1)
                } else {
                    let (_, v) = rec.remove(i);
                    self.time.parse(&v)
                };
                return t.map(Some);
            }
        }
        Ok(self.no_time())
    }

    /// `parse_time` then `convert_values`, giving the result.
    pub(crate) fn finish(&self, mut rec: Vec<(Value, Value)>) -> ParseResult {
        let t = self.take_time(&mut rec)?;
        if let Some(conv) = &self.conv {
            conv.apply(&mut rec);
        }
        Ok((t, Value::Map(rec)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ruby_split_semantics() {
        assert_eq!(ruby_split("a,b,,", ",", 0), vec!["a", "b"]);
        assert_eq!(ruby_split("a,b,,", ",", 3), vec!["a", "b", ","]);
        assert_eq!(ruby_split("a\tb\tc", "\t", 2), vec!["a", "b\tc"]);
        assert_eq!(ruby_split("a\t", "\t", 2), vec!["a", ""]);
        assert_eq!(ruby_split("  a  b ", " ", 0), vec!["a", "b"]);
        assert_eq!(ruby_split("a  b  c", " ", 2), vec!["a", "b  c"]);
        // Ruby's awk mode keeps the (possibly empty) rest as the last field under a limit.
        assert_eq!(ruby_split(" ", " ", 3), vec![""]);
        assert_eq!(ruby_split("a  b ", " ", 3), vec!["a", "b", ""]);
        assert_eq!(ruby_split(" a", " ", 2), vec!["a"]);
        assert_eq!(ruby_split("a b  ", " ", 2), vec!["a", "b  "]);
        assert_eq!(ruby_split("  a b c d", " ", 3), vec!["a", "b", "c d"]);
        assert_eq!(ruby_split("a\0b c", " ", 0), vec!["a\0b", "c"]);
        assert_eq!(ruby_split("", ",", 0), Vec::<&str>::new());
        assert_eq!(ruby_split("k:", ":", 2), vec!["k", ""]);
        let re = crate::ruby_regexp::compile(r"\s+", "").unwrap();
        assert_eq!(re.engine(), "linear");
        assert_eq!(ruby_split_re("a  b\tc ", &re), vec!["a", "b", "c"]);
        let re = crate::ruby_regexp::compile(r"\s++", "").unwrap();
        assert_eq!(re.engine(), "oniguruma");
        assert_eq!(ruby_split_re("a  b\tc ", &re), vec!["a", "b", "c"]);
        let re = crate::ruby_regexp::compile(r"(?<=,)", "").unwrap();
        assert_eq!(ruby_split_re("a,b,c", &re), vec!["a,", "b,", "c"]);
        let re = crate::ruby_regexp::compile(r"x*", "").unwrap();
        assert_eq!(ruby_split_re("axbc", &re), vec!["a", "b", "c"]);
    }
}
