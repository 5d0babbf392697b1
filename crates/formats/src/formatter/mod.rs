//! Formatters: a record to bytes, as Fluentd's `formatter_*` plugins (`<format>` sections and the
//! v0.12 flat `format` parameter).

mod csv;
mod hash;
mod json;
mod ltsv;
mod msgpack;
mod out_file;
pub mod params;
mod single_value;
mod stdout;
mod tsv;

use logferry_config::{build_error, BuildError, Section};
use logferry_msgpack::{EventTime, Value};

/// Turns one event into bytes.
pub trait Formatter: Send + Sync {
    /// Format a decoded record.
    fn format(&self, tag: &str, time: EventTime, record: &Value, out: &mut Vec<u8>);

    /// Format a raw msgpack record; formatters that can work on bytes override this.
    fn format_raw(&self, tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        self.format(tag, time, &crate::record::decode(record), out);
    }

    /// Whether [`check`](Self::check) can fail: a formatter Fluentd's counterpart of which
    /// raises on some records.
    fn checks_records(&self) -> bool {
        false
    }

    /// Why `record` (raw msgpack) cannot be formatted, where Fluentd's formatter raises on it;
    /// the output then sends the event to `@ERROR`. Asked only when
    /// [`checks_records`](Self::checks_records).
    fn check(&self, _record: &[u8]) -> Result<(), String> {
        Ok(())
    }

    /// The Content-Type this format implies (out_http uses it).
    fn content_type(&self) -> &'static str {
        "text/plain"
    }
}

/// Formatter types known to this build.
pub const TYPES: &[&str] = &[
    "csv",
    "hash",
    "json",
    "ltsv",
    "msgpack",
    "out_file",
    "single_value",
    "stdout",
    "tsv",
];

/// Build the formatter of a plugin: its `<format>` section if present (a flat `format` beside it
/// is not read), else the v0.12 flat `format` parameter with the flat parameters Fluentd copies into
/// a `<format>` (`FLAT_FORMATTER_PARAMS`), else
/// `default_type`.
pub fn from_plugin(plugin: &Section, default_type: &str) -> Result<Box<dyn Formatter>, BuildError> {
    if let Some(f) = plugin.section("format")? {
        // A flat `format` beside the section is not read (Fluentd's compat layer converts it only
        // without a <format> section), and is reported as unused.
        let ty = f
            .str("@type")
            .or_else(|| f.str("type"))
            .unwrap_or(default_type)
            .to_string();
        return build(&ty, &f);
    }
    // Fluentd's compat layer (`compat_parameters_formatter`) copies only these flat parameters
    // into the `<format>` it makes; any other (a flat `time_format`, say) never reaches the
    // formatter (out_file/out_s3 hand `time_format` to `<inject>`, used with `include_time_key`).
    let mut el = logferry_config::Element::new("format", "", plugin.pos().clone());
    for key in FLAT_FORMATTER_PARAMS {
        if let (Some(p), Some(_)) = (plugin.param(key), plugin.str(key)) {
            el.set_param(*key, p.value.clone(), p.pos.clone());
        }
    }
    let ty = plugin.str("format").unwrap_or(default_type).to_string();
    build(&ty, &Section::new(&el, plugin.plugin()))
}

/// The flat parameters Fluentd's compat layer turns into `<format>` parameters
/// (`CompatParameters::FORMATTER_PARAMS`, `format` aside, which becomes the type).
const FLAT_FORMATTER_PARAMS: &[&str] = &[
    "delimiter",
    "force_quotes",
    "keys",
    "fields",
    "json_parser",
    "label_delimiter",
    "output_time",
    "output_tag",
    "localtime",
    "utc",
    "timezone",
    "message_key",
    "add_newline",
    "output_type",
];

/// Build the formatter of a plugin that takes only a `<format>` section (no v0.12 flat
/// parameters: Fluentd's plugin converts none, so a flat `format` is reported unused): the
/// section if present, else `default_type` with its own defaults.
pub fn from_section_only(
    plugin: &Section,
    default_type: &str,
) -> Result<Box<dyn Formatter>, BuildError> {
    if plugin.section("format")?.is_some() {
        return from_plugin(plugin, default_type);
    }
    let empty = logferry_config::Element::new("format", "", plugin.pos().clone());
    build(default_type, &Section::new(&empty, plugin.plugin()))
}

/// Build a formatter of type `ty` whose parameters are read from `s`.
pub fn build(ty: &str, s: &Section) -> Result<Box<dyn Formatter>, BuildError> {
    let Some(spec) = params::spec(ty) else {
        return Err(unknown(ty, s));
    };
    let s = &s.declared(spec);
    let common = Newline::from_section(s)?;
    Ok(match ty {
        "json" => Box::new(json::Json::new(s, common)?),
        "ltsv" => Box::new(ltsv::Ltsv::new(s, common)?),
        "out_file" => Box::new(out_file::OutFile::new(s, common)?),
        "single_value" => Box::new(single_value::SingleValue::new(s, common)?),
        "csv" => Box::new(csv::Csv::new(s, common)?),
        "tsv" => Box::new(tsv::Tsv::new(s, common)?),
        "hash" => Box::new(hash::Hash::new(s, common)?),
        "msgpack" => Box::new(msgpack::Msgpack),
        "stdout" => Box::new(stdout::Stdout::new(s)?),
        other => return Err(unknown(other, s)),
    })
}

/// The error for an unknown formatter type.
fn unknown(ty: &str, s: &Section) -> BuildError {
    let pos = s
        .param("@type")
        .or_else(|| s.param("format"))
        .map(|p| &p.pos)
        .unwrap_or(s.pos());
    build_error(
        pos,
        format!(
            "unknown format '{ty}'; supported formats: {}",
            TYPES.join(", ")
        ),
    )
}

/// The `newline` and `add_newline` settings shared by text formatters.
#[derive(Clone, Copy, Debug)]
pub struct Newline {
    crlf: bool,
    add: bool,
}

impl Newline {
    fn from_section(s: &Section) -> Result<Self, BuildError> {
        Ok(Newline {
            crlf: s.get::<&str>("newline")? == "crlf",
            add: true,
        })
    }

    fn with_add(mut self, s: &Section) -> Result<Self, BuildError> {
        self.add = s.get("add_newline")?;
        Ok(self)
    }

    fn push(&self, out: &mut Vec<u8>) {
        if self.crlf {
            out.extend_from_slice(b"\r\n");
        } else {
            out.push(b'\n');
        }
    }

    fn push_if_add(&self, out: &mut Vec<u8>) {
        if self.add {
            self.push(out);
        }
    }
}

/// A field's text as Ruby `to_s` gives it: nil → empty, a string's bytes as they are (a binary
/// string's too), a map or an array in Ruby's `inspect` form (`{"k"=>1}`, `[1, nil]`), as
/// Fluentd's text formatters write them.
pub(crate) fn text_of(v: Option<&Value>) -> std::borrow::Cow<'_, [u8]> {
    use std::borrow::Cow;
    match v {
        None | Some(Value::Nil) => Cow::Borrowed(b""),
        Some(Value::Str(s)) => Cow::Borrowed(s.as_bytes()),
        Some(Value::Bin(b)) => Cow::Borrowed(b),
        Some(v @ (Value::Map(_) | Value::Array(_))) => {
            let mut out = Vec::new();
            crate::ruby::inspect_bytes(v, &mut out);
            Cow::Owned(out)
        }
        Some(v) => Cow::Owned(v.to_text().into_bytes()),
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;
    use std::path::Path;

    /// Parse `<format>` body text and build a formatter of type `ty` from it.
    pub fn formatter(ty: &str, body: &str) -> Box<dyn Formatter> {
        let text = format!("<format>\n@type {ty}\n{body}\n</format>\n");
        let root = logferry_config::parse_str(&text, "t.conf", Path::new(".")).unwrap();
        let s = Section::new(&root.elements[0], ty);
        build(ty, &s).unwrap()
    }

    /// The record of reference §7.8: `{"a":1,"b":"x\ty","c":nil}`.
    pub fn record() -> Value {
        Value::Map(vec![
            (Value::Str("a".into()), Value::Int(1)),
            (Value::Str("b".into()), Value::Str("x\ty".into())),
            (Value::Str("c".into()), Value::Nil),
        ])
    }

    /// 1700000000.123456789
    pub const T: EventTime = EventTime {
        sec: 1_700_000_000,
        nsec: 123_456_789,
    };

    /// Format the §7.8 record with tag `app`.
    pub fn run(f: &dyn Formatter) -> String {
        let mut out = Vec::new();
        f.format("app", T, &record(), &mut out);
        String::from_utf8(out).unwrap()
    }
}
