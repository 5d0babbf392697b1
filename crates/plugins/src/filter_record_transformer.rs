//! `record_transformer` filter: adds, replaces and removes fields, as Fluentd's
//! `filter_record_transformer` (with `enable_ruby true`: the subset of Ruby in
//! [`logferry_formats::ruby_expr`]).
//!
//! `<record>` holds `KEY VALUE` pairs; a value starting with `{` or `[` is JSON (its strings and
//! keys are expanded too). Placeholders: `${record["key"]}` (a top-level field of the incoming
//! record), `${tag}`, `${tag_parts[N]}`, `${tag_prefix[N]}`, `${tag_suffix[N]}` (N may be negative,
//! counting from the end), `${hostname}`, `${time}` (the event time as Ruby's `Time#to_s`,
//! `2023-11-14 22:13:20 +0000`, in the local zone). With `auto_typecast true` (the default) a value
//! that is exactly one placeholder keeps the field's type; otherwise placeholders are replaced by
//! their Ruby `to_s` text, a missing field or an out-of-range index by `""`.
//!
//! Other parameters: `renew_record` (start from an empty record), `keep_keys` (with
//! `renew_record`: copy these fields over), `remove_keys` (record accessors, removed last),
//! `renew_time_key` (set the event time from this field of the result, as a float of seconds).
//!
//! With `enable_ruby true`, see README "record_transformer with enable_ruby". Without it, a
//! `${...}` that is not one of the placeholders above (`${unknown}`, `${record['a']}`,
//! `${record["a"]["b"]}`) and the `__WORD__` forms are what Fluentd's non-Ruby expander makes of
//! them: nil when the value is that placeholder alone, `""` inside a longer value; each is warned
//! about at start-up.

use std::sync::Arc;

use logferry_core::error::build_error;
use logferry_core::params::{many, p, Body, ParamType::*, Spec};
use logferry_core::record::set_raw_fields;
use logferry_core::timefmt::{TimeFormatter, Zone};
use logferry_core::{
    BatchBuilder, BuildCtx, BuildError, ErrorEvents, EventBatch, EventTime, Filter, FilterOutput,
    PluginLog, Section, Value,
};
use logferry_formats::accessor::{raw_map_get, Accessor};
use logferry_formats::{ruby, ruby_expr};

use crate::net::bytemap::{
    decode_keeping_bytes, decode_record_keeping_bytes_flagged, encode_unmapped, extend_unmapped,
    protect, protect_str, unmapped_bytes,
};

/// One placeholder.
#[derive(Clone, Debug, PartialEq)]
enum Ph {
    Tag,
    TagParts(i64),
    TagPrefix(i64),
    TagSuffix(i64),
    Hostname,
    Time,
    Record(String),
    /// A `__WORD__` form: always nil in Fluentd's non-Ruby expander.
    Unknown,
}

#[derive(Clone, Debug, PartialEq)]
enum Part {
    Lit(String),
    Ph(Ph),
    /// `#{expr}` with enable_ruby: the `to_s` of a Ruby expression.
    Ruby(Code),
}

/// A parsed Ruby expression (compared by identity).
#[derive(Clone, Debug)]
struct Code(Arc<ruby_expr::Expr>);

impl PartialEq for Code {
    fn eq(&self, o: &Code) -> bool {
        Arc::ptr_eq(&self.0, &o.0)
    }
}

/// A compiled `<record>` value.
#[derive(Clone, Debug, PartialEq)]
enum Tpl {
    Const(Value),
    /// Exactly one placeholder with `auto_typecast`: the value keeps its type.
    Single(Ph),
    /// With enable_ruby and auto_typecast, a value that is one `${expr}`: the Ruby value.
    RubySingle(Code),
    Str(Vec<Part>),
    Map(Vec<(Vec<Part>, Tpl)>),
    Array(Vec<Tpl>),
}

/// The record_transformer filter.
pub struct RecordTransformer {
    map: Vec<(Vec<Part>, Tpl)>,
    remove_keys: Vec<Accessor>,
    keep_keys: Vec<String>,
    renew_record: bool,
    renew_time_key: Option<String>,
    hostname: String,
    time_fmt: TimeFormatter,
    uses_time: bool,
    /// enable_ruby: records are decoded into Ruby values for the expressions.
    ruby: bool,
}

/// `<record>`: each parameter a field and its value (placeholders allowed).
static RECORD: Spec = Spec::new(
    "record_transformer.record",
    "Each parameter sets a field: `KEY VALUE`, with ${record[\"k\"]}, ${tag}, ${tag_parts[N]}, ${hostname}, ${time} placeholders.",
)
.open();

/// `record_transformer` filter.
pub static PARAMS: Spec = Spec::new(
    "record_transformer",
    "Adds, changes and removes fields with placeholders.",
)
.params(&[
    p(
        "enable_ruby",
        Bool,
        "Evaluate ${…} as Ruby: a subset of Ruby expressions (logferry_formats::ruby_expr); anything else is refused.",
    )
    .default("false"),
    p(
        "auto_typecast",
        Bool,
        "A value that is only a placeholder keeps the field's type.",
    )
    .default("true"),
    p("renew_record", Bool, "Start from an empty record.").default("false"),
    p(
        "keep_keys",
        Array,
        "With renew_record: fields kept from the original.",
    ),
    p("remove_keys", Array, "Fields removed (record accessors)."),
    p("renew_time_key", Str, "Set the event time from this field."),
])
.sections(&[many("record", Body::Spec(&RECORD), "The fields to set.")]);

/// Build from `<filter>`.
pub fn build(ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Filter>, BuildError> {
    Ok(Arc::new(RecordTransformer::new(s, &ctx.log)?))
}

fn int_text_ok(n: &str) -> Option<i64> {
    let v: i64 = n.parse().ok()?;
    (v.to_string() == n).then_some(v)
}

/// Classify one `${...}` placeholder (the whole text, braces included).
fn classify(ph: &str) -> Option<Ph> {
    match ph {
        "${tag}" => return Some(Ph::Tag),
        "${hostname}" => return Some(Ph::Hostname),
        "${time}" => return Some(Ph::Time),
        _ => {}
    }
    if let Some(k) = ph
        .strip_prefix("${record[\"")
        .and_then(|r| r.strip_suffix("\"]}"))
    {
        // `${record["a"]["b"]}` is Ruby (nested access), not a key named `a"]["b`.
        return (!k.contains("\"]")).then(|| Ph::Record(k.to_string()));
    }
    for (name, mk) in [
        ("${tag_parts[", Ph::TagParts as fn(i64) -> Ph),
        ("${tag_prefix[", Ph::TagPrefix),
        ("${tag_suffix[", Ph::TagSuffix),
    ] {
        if let Some(n) = ph.strip_prefix(name).and_then(|r| r.strip_suffix("]}")) {
            return int_text_ok(n).map(mk);
        }
    }
    None
}

/// Length of a `__[A-Z_]+__` match at `i` (the regex's backtracking: the last `__` of the run).
fn dunder_at(b: &[u8], i: usize) -> Option<usize> {
    if !b[i..].starts_with(b"__") {
        return None;
    }
    let start = i + 2;
    let mut end = start;
    while end < b.len() && (b[end].is_ascii_uppercase() || b[end] == b'_') {
        end += 1;
    }
    let run = &b[start..end];
    if run.len() >= 3 {
        for j in (1..=run.len() - 2).rev() {
            if &run[j..j + 2] == b"__" {
                return Some(2 + j + 2);
            }
        }
    }
    None
}

/// Split a string into literal parts and placeholders (`\${[^}]+}` or `__[A-Z_]+__`).
fn parse_parts(s: &str, warnings: &mut Vec<String>) -> Result<Vec<Part>, String> {
    let b = s.as_bytes();
    let mut parts = Vec::new();
    let mut lit_start = 0;
    let mut i = 0;
    while i < b.len() {
        let len = if b[i..].starts_with(b"${") {
            match s[i + 2..].find('}') {
                Some(end) if end > 0 => Some(end + 3),
                _ => None,
            }
        } else {
            dunder_at(b, i)
        };
        let Some(len) = len else {
            i += 1;
            continue;
        };
        let text = &s[i..i + len];
        let known = if text.starts_with("${") {
            classify(text)
        } else {
            None
        };
        let ph = if let Some(ph) = known {
            ph
        } else {
            // As Fluentd (without enable_ruby): warned about once, and replaced by nil (an
            // empty string inside a longer value).
            warnings.push(format!(
                "unknown placeholder `{text}` found: it is replaced by an empty value"
            ));
            Ph::Unknown
        };
        if lit_start < i {
            parts.push(Part::Lit(s[lit_start..i].to_string()));
        }
        parts.push(Part::Ph(ph));
        i += len;
        lit_start = i;
    }
    if lit_start < b.len() {
        parts.push(Part::Lit(s[lit_start..].to_string()));
    }
    Ok(parts)
}

/// Fluentd's `RubyPlaceholderExpander#preprocess_map` of one string: `${expr}` alone (with
/// auto_typecast) is the expression, anything else the string `%Q[...]` with each `${` read as
/// `#{`.
fn ruby_tpl(s: &str, auto_typecast: bool, force_stringify: bool) -> Result<Tpl, String> {
    if auto_typecast
        && !force_stringify
        && s.matches("${").count() == 1
        && s.starts_with("${")
        && s.ends_with('}')
        && s.len() >= 3
    {
        let e = ruby_expr::parse(&s[2..s.len() - 1])?;
        if ruby_expr::may_be_object(&e) {
            return Err(format!(
                "`{s}`: a value that may be a Time, a MatchData, a Class, a Hash.new or a Regexp object is not supported as a whole value (Fluentd would put the Ruby object in the record); use it inside a longer string or call to_s"
            ));
        }
        return Ok(Tpl::RubySingle(Code(Arc::new(e))));
    }
    let pieces =
        ruby_expr::parse_template(&s.replace("${", "#{")).map_err(|e| format!("`{s}`: {e}"))?;
    Ok(Tpl::Str(
        pieces
            .into_iter()
            .map(|p| match p {
                ruby_expr::Piece::Text(t) => Part::Lit(t),
                ruby_expr::Piece::Expr(e) => Part::Ruby(Code(Arc::new(e))),
            })
            .collect(),
    ))
}

fn ruby_key(s: &str) -> Result<Vec<Part>, String> {
    match ruby_tpl(s, false, true)? {
        Tpl::Str(p) => Ok(p),
        _ => Err("unexpected key template".into()),
    }
}

fn string_tpl(s: &str, auto_typecast: bool, w: &mut Vec<String>) -> Result<Tpl, String> {
    let parts = parse_parts(s, w)?;
    if auto_typecast {
        if let [Part::Ph(ph)] = parts.as_slice() {
            return Ok(Tpl::Single(ph.clone()));
        }
    }
    Ok(Tpl::Str(parts))
}

fn json_tpl(v: &serde_json::Value, auto: bool, w: &mut Vec<String>) -> Result<Tpl, String> {
    Ok(match v {
        serde_json::Value::Null => Tpl::Const(Value::Nil),
        serde_json::Value::Bool(b) => Tpl::Const(Value::Bool(*b)),
        serde_json::Value::Number(n) => Tpl::Const(if let Some(i) = n.as_i64() {
            Value::Int(i)
        } else if let Some(u) = n.as_u64() {
            Value::UInt(u)
        } else {
            Value::F64(n.as_f64().unwrap_or(0.0))
        }),
        serde_json::Value::String(s) => string_tpl(s, auto, w)?,
        serde_json::Value::Array(a) => Tpl::Array(
            a.iter()
                .map(|x| json_tpl(x, auto, w))
                .collect::<Result<_, _>>()?,
        ),
        serde_json::Value::Object(m) => Tpl::Map(
            m.iter()
                .map(|(k, x)| Ok((parse_parts(k, w)?, json_tpl(x, auto, w)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

fn ruby_json_tpl(v: &serde_json::Value, auto: bool) -> Result<Tpl, String> {
    Ok(match v {
        serde_json::Value::String(s) => ruby_tpl(s, auto, false)?,
        serde_json::Value::Array(a) => Tpl::Array(
            a.iter()
                .map(|x| ruby_json_tpl(x, auto))
                .collect::<Result<_, _>>()?,
        ),
        serde_json::Value::Object(m) => Tpl::Map(
            m.iter()
                .map(|(k, x)| Ok((ruby_key(k)?, ruby_json_tpl(x, auto)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => json_tpl(other, auto, &mut Vec::new())?,
    })
}

fn uses_time(t: &Tpl) -> bool {
    let parts = |p: &[Part]| p.contains(&Part::Ph(Ph::Time));
    match t {
        Tpl::Const(_) | Tpl::RubySingle(_) => false,
        Tpl::Single(p) => *p == Ph::Time,
        Tpl::Str(p) => parts(p),
        Tpl::Map(m) => m.iter().any(|(k, v)| parts(k) || uses_time(v)),
        Tpl::Array(a) => a.iter().any(uses_time),
    }
}

impl RecordTransformer {
    /// Configure from the section.
    pub fn new(s: &Section, log: &PluginLog) -> Result<Self, BuildError> {
        let s = &s.declared(&PARAMS);
        let ruby: bool = s.get("enable_ruby")?;
        let auto_typecast = s.get("auto_typecast")?;
        let renew_record: bool = s.get("renew_record")?;
        let keep_keys: Vec<String> = s.get::<Option<_>>("keep_keys")?.unwrap_or_default();
        if s.has("keep_keys") && !renew_record {
            let pos = s.param("keep_keys").map_or(s.pos(), |p| &p.pos);
            return Err(build_error(
                pos,
                "`renew_record` must be true to use `keep_keys`",
            ));
        }
        let mut remove_keys = Vec::new();
        if let Some(p) = s.param("remove_keys") {
            let keys = logferry_config::types::string_array(&p.value)
                .map_err(|e| build_error(&p.pos, format!("'remove_keys': {e}")))?;
            for k in keys {
                remove_keys.push(Accessor::new(&k).map_err(|e| build_error(&p.pos, e))?);
            }
        }
        let renew_time_key = s.get("renew_time_key")?;

        let mut map: Vec<(Vec<Part>, Tpl)> = Vec::new();
        let mut raw_keys: Vec<String> = Vec::new();
        let mut warnings = Vec::new();
        for r in s.sections("record") {
            for p in &r.element().params {
                r.str(&p.key);
                let tpl = if p.value.starts_with('{') || p.value.starts_with('[') {
                    match serde_json::from_str::<serde_json::Value>(&p.value) {
                        Ok(j) if ruby => ruby_json_tpl(&j, auto_typecast),
                        Ok(j) => json_tpl(&j, auto_typecast, &mut warnings),
                        Err(e) => {
                            log.warn(format_args!(
                                "failed to parse {} as json. Assuming {} is a string: {e}",
                                p.value, p.value
                            ));
                            if ruby {
                                ruby_tpl(&p.value, auto_typecast, false)
                            } else {
                                string_tpl(&p.value, auto_typecast, &mut warnings)
                            }
                        }
                    }
                } else if ruby {
                    ruby_tpl(&p.value, auto_typecast, false)
                } else {
                    string_tpl(&p.value, auto_typecast, &mut warnings)
                }
                .map_err(|e| build_error(&p.pos, e))?;
                let key = if ruby {
                    ruby_key(&p.key)
                } else {
                    parse_parts(&p.key, &mut warnings)
                }
                .map_err(|e| build_error(&p.pos, e))?;
                match raw_keys.iter().position(|k| *k == p.key) {
                    Some(i) => map[i].1 = tpl,
                    None => {
                        raw_keys.push(p.key.clone());
                        map.push((key, tpl));
                    }
                }
            }
        }
        for w in warnings {
            log.warn(format_args!("{w}"));
        }
        let uses_time = map
            .iter()
            .any(|(k, v)| k.contains(&Part::Ph(Ph::Time)) || uses_time(v));
        Ok(RecordTransformer {
            map,
            remove_keys,
            keep_keys,
            renew_record,
            renew_time_key,
            hostname: hostname::get()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_default(),
            time_fmt: TimeFormatter::new("%Y-%m-%d %H:%M:%S %z", Zone::Local)
                .map_err(|e| build_error(s.pos(), e))?,
            uses_time,
            ruby,
        })
    }
}

/// Placeholder values for one record.
struct Cx<'a> {
    tag: &'a str,
    parts: &'a [&'a str],
    prefix: &'a [String],
    suffix: &'a [String],
    hostname: &'a str,
    time: &'a str,
    record: &'a [u8],
    /// With enable_ruby: the Ruby scope.
    ruby: Option<ruby_expr::Scope<'a>>,
    /// The Ruby scope's record holds strings with bytes that are not UTF-8, standing in their
    /// text as `bytemap` maps them: Ruby's results are written back as they are, not protected.
    ruby_kept: bool,
}

/// The bytes of a value template once a binary piece past ASCII came: the text so far as its
/// bytes at the first such piece (see `Cx::value_text`).
fn to_bytes<'b>(bytes: &'b mut Option<Vec<u8>>, out: &mut String) -> &'b mut Vec<u8> {
    bytes.get_or_insert_with(|| unmapped_bytes(&std::mem::take(out)))
}

fn index<T>(v: &[T], n: i64) -> Option<&T> {
    let i = if n < 0 { v.len() as i64 + n } else { n };
    v.get(usize::try_from(i).ok()?)
}

impl Cx<'_> {
    fn value(&self, ph: &Ph) -> Value {
        let s = |x: &str| Value::Str(x.to_string());
        match ph {
            Ph::Tag => s(self.tag),
            Ph::Hostname => s(self.hostname),
            Ph::Time => s(self.time),
            Ph::TagParts(n) => index(self.parts, *n).map_or(Value::Nil, |x| s(x)),
            Ph::TagPrefix(n) => index(self.prefix, *n).map_or(Value::Nil, |x| s(x)),
            Ph::TagSuffix(n) => index(self.suffix, *n).map_or(Value::Nil, |x| s(x)),
            // A string keeps its bytes, UTF-8 or not (see `decode_keeping_bytes`).
            Ph::Record(k) => raw_map_get(self.record, k.as_bytes())
                .and_then(decode_keeping_bytes)
                .unwrap_or(Value::Nil),
            Ph::Unknown => Value::Nil,
        }
    }

    fn push_text(&self, ph: &Ph, out: &mut String) {
        match ph {
            // Text beside record values that keep their bytes: protected (`protect_str`).
            Ph::Tag => out.push_str(&protect_str(self.tag)),
            Ph::Hostname => out.push_str(&protect_str(self.hostname)),
            Ph::Time => out.push_str(self.time),
            Ph::TagParts(n) => {
                out.push_str(&protect_str(index(self.parts, *n).copied().unwrap_or("")))
            }
            Ph::TagPrefix(n) => out.push_str(&protect_str(
                index(self.prefix, *n).map_or("", String::as_str),
            )),
            Ph::TagSuffix(n) => out.push_str(&protect_str(
                index(self.suffix, *n).map_or("", String::as_str),
            )),
            // A hash or an array is its `inspect`, which writes each byte that is not UTF-8
            // (standing in the value as `bytemap` maps it) as Ruby does, `\xFF`: ASCII text.
            Ph::Record(_) | Ph::Unknown => ruby::to_s_into(&self.value(ph), out),
        }
    }

    /// Ruby's `to_s` of the expression's value, protected unless the record's strings keep their
    /// bytes ([`Cx::ruby_kept`]).
    fn ruby_text(&self, c: &Code) -> Result<String, String> {
        self.ruby_to_s(self.ruby_eval(c)?)
    }

    /// [`ruby_text`](Self::ruby_text) of a value: a binary string's text holds its bytes as
    /// `bytemap` maps them, written back as they are.
    fn ruby_to_s(&self, v: ruby_expr::RValue) -> Result<String, String> {
        let text = v.to_s()?;
        Ok(
            if self.ruby_kept || matches!(v, ruby_expr::RValue::Bytes(_)) {
                text
            } else {
                protect_str(&text).into_owned()
            },
        )
    }

    fn ruby_eval(&self, c: &Code) -> Result<ruby_expr::RValue, String> {
        let scope = self.ruby.as_ref().ok_or("enable_ruby scope missing")?;
        ruby_expr::eval(&c.0, scope)
    }

    fn text(&self, parts: &[Part]) -> Result<String, String> {
        let mut out = String::new();
        for p in parts {
            match p {
                Part::Lit(l) => out.push_str(&protect_str(l)),
                Part::Ph(ph) => self.push_text(ph, &mut out),
                Part::Ruby(c) => out.push_str(&self.ruby_text(c)?),
            }
        }
        Ok(out)
    }

    /// The string of a value template: [`text`](Self::text), but a record value that is a
    /// binary string with bytes past ASCII (msgpack bin: read from a file or socket, or from a
    /// Fluentd forwarder) goes in as its bytes, and the result is a binary string, as Ruby's
    /// interpolation makes one (`"#{bin} suffix"` is ASCII-8BIT). Its bytes would otherwise be
    /// lost to the UTF-8 text (`a\xE9b` became `a?b`). Ruby raises where the template itself has
    /// text past ASCII beside such a value (incompatible encodings: Fluentd sends the event to
    /// `@ERROR`); logferry joins the bytes.
    fn value_text(&self, parts: &[Part]) -> Result<Value, String> {
        let mut out = String::new();
        // Once a binary piece past ASCII comes: the bytes so far, then every later piece's.
        let mut bytes: Option<Vec<u8>> = None;
        for p in parts {
            match p {
                Part::Ph(ph @ Ph::Record(_)) => match self.value(ph) {
                    Value::Bin(b) if !b.is_ascii() => {
                        to_bytes(&mut bytes, &mut out).extend_from_slice(&b);
                        continue;
                    }
                    v => ruby::to_s_into(&v, &mut out),
                },
                Part::Lit(l) => out.push_str(&protect_str(l)),
                Part::Ph(ph) => self.push_text(ph, &mut out),
                // A binary string past ASCII makes the result binary, as a record's does.
                Part::Ruby(c) => match self.ruby_eval(c)? {
                    ruby_expr::RValue::Bytes(t) if !t.is_ascii() => {
                        extend_unmapped(to_bytes(&mut bytes, &mut out), &t);
                        continue;
                    }
                    v => out.push_str(&self.ruby_to_s(v)?),
                },
            }
            if let Some(b) = &mut bytes {
                extend_unmapped(b, &out);
                out.clear();
            }
        }
        Ok(match bytes {
            Some(b) => Value::Bin(b),
            None => Value::Str(out),
        })
    }

    fn eval(&self, t: &Tpl) -> Result<Value, String> {
        Ok(match t {
            Tpl::Const(v) => protect(v.clone()),
            Tpl::Single(ph @ Ph::Record(_)) => self.value(ph),
            Tpl::Single(ph) => protect(self.value(ph)),
            Tpl::RubySingle(c) if self.ruby_kept => self.ruby_eval(c)?.to_value()?,
            Tpl::RubySingle(c) => protect(self.ruby_eval(c)?.to_value()?),
            Tpl::Str(parts) => self.value_text(parts)?,
            Tpl::Map(m) => Value::Map(
                m.iter()
                    .map(|(k, v)| Ok((Value::Str(self.text(k)?), self.eval(v)?)))
                    .collect::<Result<_, String>>()?,
            ),
            Tpl::Array(a) => {
                Value::Array(a.iter().map(|x| self.eval(x)).collect::<Result<_, _>>()?)
            }
        })
    }
}

/// Whether `v` holds a binary string (msgpack bin) with a byte past ASCII.
fn has_binary_past_ascii(v: &Value) -> bool {
    match v {
        Value::Bin(b) => !b.is_ascii(),
        Value::Array(a) => a.iter().any(has_binary_past_ascii),
        Value::Map(m) => m
            .iter()
            .any(|(k, x)| has_binary_past_ascii(k) || has_binary_past_ascii(x)),
        _ => false,
    }
}

/// Ruby's `to_f` of a field value for `renew_time_key`, then `Time.at`.
fn time_from(v: &Value) -> Result<EventTime, String> {
    let f = match v {
        Value::Nil => 0.0,
        Value::Int(i) => *i as f64,
        Value::UInt(u) => *u as f64,
        Value::F32(f) => f64::from(*f),
        Value::F64(f) => *f,
        Value::Str(s) => logferry_config::types::float(s),
        Value::Bin(b) => logferry_config::types::float(&String::from_utf8_lossy(b)),
        Value::Ext(0, p) => {
            if let Some(t) = EventTime::from_payload(p) {
                return Ok(t);
            }
            return Err("undefined method `to_f' for an extension value".into());
        }
        other => return Err(format!("undefined method `to_f' for {}", ruby::to_s(other))),
    };
    if !f.is_finite() || !(0.0..4_294_967_296.0).contains(&f) {
        return Err(format!("renew_time_key value {f} is not a usable time"));
    }
    let sec = f.floor();
    let nsec = ((f - sec) * 1e9).floor().clamp(0.0, 999_999_999.0);
    Ok(EventTime::new(sec as u32, nsec as u32))
}

fn set(pairs: &mut Vec<(Value, Value)>, k: Value, v: Value) {
    match pairs.iter_mut().rfind(|(key, _)| *key == k) {
        Some((_, slot)) => *slot = v,
        None => pairs.push((k, v)),
    }
}

impl Filter for RecordTransformer {
    fn filter(&self, tag: &str, batch: EventBatch, errors: &mut ErrorEvents) -> FilterOutput {
        let mut parts: Vec<&str> = tag.split('.').collect();
        while parts.last() == Some(&"") {
            parts.pop();
        }
        let prefix: Vec<String> = (1..=parts.len()).map(|n| parts[..n].join(".")).collect();
        let suffix: Vec<String> = (0..parts.len()).map(|n| parts[n..].join(".")).collect();
        let owned_parts: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
        let mut time_text = String::new();
        // The fast path's keys and values as msgpack, reused across events.
        let mut encoded: Vec<u8> = Vec::new();
        let mut spans: Vec<(usize, usize, usize)> = Vec::with_capacity(self.map.len());
        let mut out = BatchBuilder::with_capacity(batch.bytes().len() + batch.len() * 32);
        let fast =
            !self.renew_record && self.remove_keys.is_empty() && self.renew_time_key.is_none();
        for e in &batch {
            if self.uses_time {
                time_text.clear();
                self.time_fmt.format_into(e.time, &mut time_text);
            }
            // A string with bytes that are not UTF-8 keeps them through the expressions (Ruby
            // takes them as they are, `+`, `[]`, `strip`, or raises, `upcase`, a regexp).
            let (ruby_record, ruby_kept) = if self.ruby {
                let (v, kept) = decode_record_keeping_bytes_flagged(e.record);
                // A binary string past ASCII stands in the scope as such bytes too, and
                // `force_encoding("UTF-8")` makes a UTF-8 string of them: written back as bytes.
                let kept = kept || has_binary_past_ascii(&v);
                (ruby_expr::RValue::from_value(&v), kept)
            } else {
                (ruby_expr::RValue::Nil, false)
            };
            let cx = Cx {
                tag,
                parts: &parts,
                prefix: &prefix,
                suffix: &suffix,
                hostname: &self.hostname,
                time: &time_text,
                record: e.record,
                ruby: self.ruby.then(|| ruby_expr::Scope {
                    record: &ruby_record,
                    tag,
                    tag_parts: &owned_parts,
                    tag_prefix: &prefix,
                    tag_suffix: &suffix,
                    hostname: &self.hostname,
                    time: e.time,
                    now: EventTime::now(),
                    time_utc: Default::default(),
                }),
                ruby_kept,
            };
            // Fluentd expands each key, then its value (`time.utc` in a key changes `time`
            // for the value); an exception sends the record to @ERROR unchanged.
            let mut keys: Vec<String> = Vec::with_capacity(self.map.len());
            let mut vals: Vec<Value> = Vec::with_capacity(self.map.len());
            let mut failed = None;
            for (k, v) in &self.map {
                match cx.text(k).and_then(|k| Ok((k, cx.eval(v)?))) {
                    Ok((k, v)) => {
                        keys.push(k);
                        vals.push(v);
                    }
                    Err(reason) => {
                        failed = Some(reason);
                        break;
                    }
                }
            }
            if let Some(reason) = failed {
                errors.push(e.time, e.record, format!("failed to expand: {reason}"));
                continue;
            }
            if fast {
                // Keys and values written as msgpack, bytes kept (`encode_unmapped`); the
                // record's own fields are copied as they are.
                encoded.clear();
                spans.clear();
                for (k, v) in keys.iter().zip(&vals) {
                    let start = encoded.len();
                    extend_unmapped(&mut encoded, k);
                    let key_end = encoded.len();
                    encode_unmapped(v, &mut encoded, false);
                    spans.push((start, key_end, encoded.len()));
                }
                let fields: Vec<(&[u8], &[u8])> = spans
                    .iter()
                    .map(|&(a, b, c)| (&encoded[a..b], &encoded[b..c]))
                    .collect();
                out.push_with(e.time, |buf| set_raw_fields(e.record, &fields, buf));
                continue;
            }
            let Some(Value::Map(orig_pairs)) = decode_keeping_bytes(e.record) else {
                continue;
            };
            let mut rec: Vec<(Value, Value)> = if self.renew_record {
                Vec::new()
            } else {
                orig_pairs.clone()
            };
            if self.renew_record {
                for k in &self.keep_keys {
                    if let Some((kk, v)) = orig_pairs
                        .iter()
                        .rev()
                        .find(|(kk, _)| kk.as_str() == Some(k))
                    {
                        set(&mut rec, kk.clone(), v.clone());
                    }
                }
            }
            for (k, v) in keys.into_iter().zip(vals) {
                set(&mut rec, Value::Str(k), v);
            }
            let mut rec = Value::Map(rec);
            let mut time = e.time;
            if let Some(key) = &self.renew_time_key {
                if let Some(v) = rec.get(key) {
                    match time_from(v) {
                        Ok(t) => time = t,
                        Err(reason) => {
                            errors.push(e.time, e.record, reason);
                            continue;
                        }
                    }
                }
            }
            for k in &self.remove_keys {
                k.delete(&mut rec);
            }
            out.push_with(time, |buf| encode_unmapped(&rec, buf, false));
        }
        if out.is_empty() {
            FilterOutput::Drop
        } else {
            FilterOutput::Keep(out.finish())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logferry_msgpack::json_to_msgpack;
    use std::path::Path;

    const T: EventTime = EventTime {
        sec: 1_700_000_000,
        nsec: 5,
    };

    fn rt(body: &str) -> Result<RecordTransformer, BuildError> {
        let text = format!("<filter **>\n@type record_transformer\n{body}\n</filter>\n");
        let root = logferry_config::parse_str(&text, "t.conf", Path::new(".")).unwrap();
        let s = Section::new(&root.elements[0], "record_transformer");
        let f = RecordTransformer::new(&s, &PluginLog::new("rt", None))?;
        let unused = s.warn_unused();
        assert!(unused.is_empty(), "{unused:?}");
        Ok(f)
    }

    fn json_rec(j: &str) -> Vec<u8> {
        let mut b = Vec::new();
        json_to_msgpack(&serde_json::from_str(j).unwrap(), &mut b);
        b
    }

    fn to_json(raw: &[u8]) -> String {
        let mut o = Vec::new();
        logferry_msgpack::write_json(raw, &mut o).unwrap();
        String::from_utf8(o).unwrap()
    }

    /// (time, JSON) of each output record, and the error reasons.
    fn run(f: &RecordTransformer, tag: &str, rec: &str) -> (Vec<(EventTime, String)>, Vec<String>) {
        let mut errors = ErrorEvents::default();
        let out = f.filter(tag, EventBatch::single(T, &json_rec(rec)), &mut errors);
        let ev = match out {
            FilterOutput::Keep(b) => b.iter().map(|e| (e.time, to_json(e.record))).collect(),
            FilterOutput::Drop => vec![],
        };
        (ev, errors.take().1)
    }

    fn one(f: &RecordTransformer, tag: &str, rec: &str) -> String {
        let (ev, errs) = run(f, tag, rec);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(ev.len(), 1);
        ev[0].1.clone()
    }

    /// A str that is not UTF-8 keeps its bytes wherever it goes (copied, interpolated, beside
    /// remove_keys), and text beside it that holds U+10FFFF stays itself.
    #[test]
    fn strings_that_are_not_utf8_keep_their_bytes() {
        // {"s": str a\xff, "t": "x"}
        let raw = b"\x82\xa1s\xa2a\xff\xa1t\xa1x";
        let out = |f: &RecordTransformer| -> Vec<u8> {
            let mut errors = ErrorEvents::default();
            match f.filter("t", EventBatch::single(T, raw), &mut errors) {
                FilterOutput::Keep(b) => b.iter().next().unwrap().record.to_vec(),
                FilterOutput::Drop => panic!("dropped"),
            }
        };
        let f =
            rt("<record>\nu ${record[\"s\"]}\nw \u{10FFFF}${record[\"s\"]}\n</record>").unwrap();
        assert_eq!(
            out(&f),
            b"\x84\xa1s\xa2a\xff\xa1t\xa1x\xa1u\xa2a\xff\xa1w\xa6\xf4\x8f\xbf\xbfa\xff"
        );
        let f = rt("remove_keys t\n<record>\nt ${record[\"s\"]}\n</record>").unwrap();
        assert_eq!(out(&f), b"\x81\xa1s\xa2a\xff");
    }

    #[test]
    fn placeholders() {
        let f = rt(r#"<record>
t ${tag}
p0 ${tag_parts[0]}
plast ${tag_parts[-1]}
pout ${tag_parts[9]}
pre ${tag_prefix[1]}
suf ${tag_suffix[-2]}
mixed x-${record["n"]}-${record["m"]}-${record["missing"]}-${tag_parts[7]}
time ${time}
</record>"#)
        .unwrap();
        let out = one(&f, "a.b.c", r#"{"n":1,"m":{"k":[1,null]}}"#);
        assert_eq!(
            out,
            r#"{"n":1,"m":{"k":[1,null]},"t":"a.b.c","p0":"a","plast":"c","pout":null,"pre":"a.b","suf":"b.c","mixed":"x-1-{\"k\"=>[1, nil]}--","time":"2023-11-14 22:13:20 +0000"}"#
        );
    }

    #[test]
    fn hostname_placeholder() {
        let f = rt("<record>\nh ${hostname}\n</record>").unwrap();
        let host = hostname::get().unwrap().to_string_lossy().into_owned();
        assert_eq!(one(&f, "t", "{}"), format!("{{\"h\":\"{host}\"}}"));
    }

    #[test]
    fn auto_typecast_keeps_types_of_single_placeholders() {
        let body = "<record>\nn ${record[\"n\"]}\nm ${record[\"m\"]}\ns n=${record[\"n\"]}\nz ${record[\"zz\"]}\n</record>";
        let f = rt(body).unwrap();
        assert_eq!(
            one(&f, "t", r#"{"n":5,"m":{"a":true}}"#),
            r#"{"n":5,"m":{"a":true},"s":"n=5","z":null}"#
        );
        let f = rt(&format!("auto_typecast false\n{body}")).unwrap();
        assert_eq!(
            one(&f, "t", r#"{"n":5,"m":{"a":true}}"#),
            r#"{"n":"5","m":"{\"a\"=>true}","s":"n=5","z":""}"#
        );
    }

    #[test]
    fn json_values_and_expanded_keys() {
        let f = rt(r#"<record>
obj {"k_${tag}": ["${tag_parts[0]}", 1, 2.5, null, "${record[\"n\"]}"]}
${tag}_key v
</record>"#)
        .unwrap();
        assert_eq!(
            one(&f, "a.b", r#"{"n":7}"#),
            r#"{"n":7,"obj":{"k_a.b":["a",1,2.5,null,7]},"a.b_key":"v"}"#
        );
    }

    #[test]
    fn existing_keys_are_replaced_in_place() {
        let f = rt("<record>\na new\n</record>").unwrap();
        assert_eq!(one(&f, "t", r#"{"a":"old","b":1}"#), r#"{"a":"new","b":1}"#);
    }

    #[test]
    fn remove_keys_nested() {
        let f = rt("remove_keys a,$.n.x\n<record>\nc 1\n</record>").unwrap();
        assert_eq!(
            one(&f, "t", r#"{"a":1,"b":2,"n":{"x":1,"y":2}}"#),
            r#"{"b":2,"n":{"y":2},"c":"1"}"#
        );
    }

    #[test]
    fn renew_record_and_keep_keys() {
        let f = rt("renew_record true\nkeep_keys b,zz,a\n<record>\nc ${record[\"a\"]}\n</record>")
            .unwrap();
        assert_eq!(
            one(&f, "t", r#"{"a":1,"b":2,"d":3}"#),
            r#"{"b":2,"a":1,"c":1}"#
        );
        let e = rt("keep_keys a").err().unwrap();
        assert!(e.to_string().contains("renew_record"), "{e}");
    }

    #[test]
    fn renew_time_key() {
        let f = rt("renew_time_key t").unwrap();
        let (ev, _) = run(&f, "x", r#"{"t":1600000000.5}"#);
        assert_eq!(ev[0].0, EventTime::new(1_600_000_000, 500_000_000));
        let (ev, _) = run(&f, "x", r#"{"t":"1600000001"}"#);
        assert_eq!(ev[0].0, EventTime::new(1_600_000_001, 0));
        let (ev, _) = run(&f, "x", r#"{"u":1}"#);
        assert_eq!(ev[0].0, T);
        let (ev, errs) = run(&f, "x", r#"{"t":{"a":1}}"#);
        assert!(ev.is_empty());
        assert_eq!(errs.len(), 1);
        assert!(errs[0].contains("to_f"), "{errs:?}");
        // The key is read after the <record> fields are set, and removed after.
        let f =
            rt("renew_time_key t\nremove_keys t\n<record>\nt ${record[\"s\"]}\n</record>").unwrap();
        let (ev, _) = run(&f, "x", r#"{"s":1600000002}"#);
        assert_eq!(
            ev,
            [(
                EventTime::new(1_600_000_002, 0),
                r#"{"s":1600000002}"#.to_string()
            )]
        );
    }

    #[test]
    fn unknown_placeholders_are_nil_as_in_fluentd() {
        // Fluentd 1.16.11 without enable_ruby: an unknown `${...}` is warned about and is nil
        // alone, empty inside a longer value (tests/differential rt-unknown-placeholder).
        for bad in [
            "${record['a']}",
            "${record[\"a\"][\"b\"]}",
            "${tag.upcase}",
            "${time.to_i}",
            "${tag_parts[01]}",
            "${tag_parts[a]}",
        ] {
            let f = rt(&format!("<record>\nk {bad}\nj x${{unknown}}y\n</record>"))
                .unwrap_or_else(|e| panic!("refused {bad}: {e}"));
            assert_eq!(one(&f, "t", "{}"), r#"{"k":null,"j":"xy"}"#, "{bad}");
        }
    }

    #[test]
    fn enable_ruby_subset() {
        let f = rt(r#"enable_ruby true
<record>
  up ${record["s"].upcase}
  sum ${record["a"] + 1}
  mixed a-${tag_parts[-1]}-${record["a"] * 2}
  ${tag}_k v
  t ${time.strftime('%Y-%m-%dT%H:%M:%S.%N%z')}
  typed ${record["n"].nil? ? [1] : 2}
  nested {"x": "${record['s'].gsub(/t/, '<\\0>')}", "y": ["${record['a']}"]}
</record>"#)
        .unwrap();
        assert_eq!(
            one(&f, "app.web", r#"{"a":1,"s":"str","n":null}"#),
            r#"{"a":1,"s":"str","n":null,"up":"STR","sum":2,"mixed":"a-web-2","app.web_k":"v","t":"2023-11-14T22:13:20.000000005+0000","typed":[1],"nested":{"x":"s<t>r","y":[1]}}"#
        );
        // A Ruby exception sends the record to @ERROR unchanged.
        let (ev, errs) = run(&f, "t", r#"{"a":"x"}"#);
        assert!(ev.is_empty());
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].contains("undefined method `upcase' for nil"),
            "{errs:?}"
        );
        // Outside the subset: refused at start-up, naming the construct.
        for (bad, what) in [
            ("${record['a'].each { |x| x }}", "each"),
            ("${time}", "Time"),
            ("${`ls`}", "`"),
            ("a\\tb ${tag}", "backslash"),
            ("${record['a'].each_slice(2)}", "each_slice"),
        ] {
            let e = rt(&format!("enable_ruby true\n<record>\nk {bad}\n</record>"))
                .err()
                .unwrap_or_else(|| panic!("accepted {bad}"));
            assert!(e.to_string().contains(what), "{bad}: {e}");
            assert!(e.to_string().contains("t.conf:5"), "{bad}: {e}");
        }
    }

    #[test]
    fn dunder_forms_become_empty() {
        let f = rt("<record>\nk a__X__b\nj __Y__\n</record>").unwrap();
        assert_eq!(one(&f, "t", "{}"), r#"{"k":"ab","j":null}"#);
    }

    #[test]
    fn no_record_section_passes_records() {
        let f = rt("").unwrap();
        assert_eq!(one(&f, "t", r#"{"a":1}"#), r#"{"a":1}"#);
    }
}
