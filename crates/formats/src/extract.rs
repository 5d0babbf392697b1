//! `<extract>`: the tag and the time of an event taken from fields of its record, as Fluentd's
//! extract plugin helper (the `tcp` and `udp` inputs). The tag is Ruby's `to_s` of the field's
//! value (`123`, `1.5`, `true`, `["a", 1]`, `{"a"=>1}`, an empty tag for `null`), the field
//! removed unless `keep_tag_key`. The time is read from `time_key` as `time_type` says (`float`,
//! `unixtime`, or `string` with `time_format`, `localtime`/`utc`/`timezone`), the field removed
//! unless `keep_time_key`; the inputs ask for it only when the parser gave no time, as Fluentd's
//! `time ||= extract_time_from_record(record)` does.

use logferry_config::params::{p, ParamType::*, Spec};
use logferry_config::{build_error, BuildError, Section};
use logferry_msgpack::{EventTime, Value};

use crate::parser::time::{TimeParser, TimeSettings};
use crate::ruby;

/// `<extract>`'s parameters.
pub static EXTRACT: Spec = Spec::new("extract", "The tag or time taken from a record field.")
    .params(&[
        p("tag_key", Str, "Take the event's tag from this field."),
        p("keep_tag_key", Bool, "Keep the tag field in the record.").default("false"),
        p(
            "time_key",
            Str,
            "Take the event's time from this field when the parser gave none.",
        ),
        p("keep_time_key", Bool, "Keep the time field in the record.").default("false"),
        p(
            "time_type",
            Enum(&["float", "unixtime", "string"]),
            "How the time field is read.",
        )
        .default("float"),
        p(
            "time_format",
            Str,
            "strptime format of the time field (time_type string; Ruby's Time.parse without it).",
        ),
        p("localtime", Bool, "Read a time without zone as local time.").default("true"),
        p("utc", Bool, "Read a time without zone as UTC.").default("false"),
        p(
            "timezone",
            Str,
            "Zone of a time without one (`+09:00`, `Asia/Tokyo`).",
        ),
    ]);

/// A compiled `<extract>`.
#[derive(Clone, Debug)]
pub struct Extract {
    tag_key: Option<String>,
    keep_tag_key: bool,
    time: Option<ExtractTime>,
}

#[derive(Clone, Debug)]
struct ExtractTime {
    key: String,
    keep: bool,
    parser: TimeParser,
}

impl Extract {
    /// Read the `<extract>` sub-section of `s`; `None` without one (or with neither `tag_key`
    /// nor `time_key`, which Fluentd ignores). `warn` logs Fluentd's configuration warnings.
    pub fn from_section(s: &Section, warn: &dyn Fn(&str)) -> Result<Option<Extract>, BuildError> {
        Self::read(s, warn, false)
    }

    /// [`Extract::from_section`] for in_exec, which reads a `time_format` given without a
    /// `time_type` as `time_type string`.
    pub fn from_section_string_if_format(
        s: &Section,
        warn: &dyn Fn(&str),
    ) -> Result<Option<Extract>, BuildError> {
        Self::read(s, warn, true)
    }

    fn read(
        s: &Section,
        warn: &dyn Fn(&str),
        string_if_format: bool,
    ) -> Result<Option<Extract>, BuildError> {
        let Some(e) = s.section("extract")? else {
            return Ok(None);
        };
        let e = e.declared(&EXTRACT);
        let tag_key: Option<String> = e.get::<Option<&str>>("tag_key")?.map(str::to_string);
        let keep_tag_key = e.get("keep_tag_key")?;
        let format = e.get::<Option<&str>>("time_format")?;
        let time_type = if string_if_format && format.is_some() && !e.has("time_type") {
            "string"
        } else {
            e.get::<&str>("time_type")?
        };
        let localtime: bool = e.get("localtime")?;
        let utc: bool = e.get("utc")?;
        let timezone = e.get::<Option<&str>>("timezone")?;
        let time = match e.get::<Option<&str>>("time_key")? {
            Some(key) => {
                let parser = TimeParser::create(&TimeSettings {
                    time_type,
                    format,
                    localtime: localtime && !utc,
                    utc,
                    timezone,
                    fallbacks: &[],
                })
                .map_err(|m| {
                    let at = ["time_format", "timezone", "time_type"]
                        .iter()
                        .find_map(|k| e.param(k))
                        .map_or(e.pos(), |p| &p.pos);
                    build_error(at, m)
                })?;
                Some(ExtractTime {
                    key: key.to_string(),
                    keep: e.get("keep_time_key")?,
                    parser,
                })
            }
            None => {
                if format.is_some() {
                    warn("'time_format' specified without 'time_key', will be ignored");
                }
                let _ = e.get::<bool>("keep_time_key")?;
                None
            }
        };
        if tag_key.is_none() && time.is_none() {
            return Ok(None);
        }
        Ok(Some(Extract {
            tag_key,
            keep_tag_key,
            time,
        }))
    }

    /// `tag_key` is set: events may each have their own tag.
    pub fn has_tag_key(&self) -> bool {
        self.tag_key.is_some()
    }

    /// `time_key` is set.
    pub fn has_time_key(&self) -> bool {
        self.time.is_some()
    }

    /// The tag in `record` (Ruby's `to_s` of the `tag_key` field), the field removed unless
    /// `keep_tag_key`; `None` when the record has no such field.
    pub fn tag(&self, record: &mut Value) -> Option<String> {
        let key = self.tag_key.as_deref()?;
        let v = take(record, key, self.keep_tag_key)?;
        Some(ruby::to_s(&v))
    }

    /// The time in `record`'s `time_key` field, the field removed unless `keep_time_key`;
    /// `None` when the record has no such field, an error when it does not read as a time.
    pub fn time(&self, record: &mut Value) -> Option<Result<EventTime, String>> {
        let t = self.time.as_ref()?;
        let v = take(record, &t.key, t.keep)?;
        Some(t.parser.parse(&v))
    }
}

/// The value of field `key` of a map record (removed from it unless `keep`).
fn take(record: &mut Value, key: &str, keep: bool) -> Option<Value> {
    let Value::Map(m) = record else {
        return None;
    };
    let i = m
        .iter()
        .position(|(k, _)| matches!(k, Value::Str(s) if s == key))?;
    if keep {
        Some(m[i].1.clone())
    } else {
        Some(m.remove(i).1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parser::yajl::parse as parse_value;
    use std::path::Path;

    fn extract(body: &str) -> Option<Extract> {
        let text = format!("<source>\n<extract>\n{body}</extract>\n</source>\n");
        let conf = logferry_config::parse_str(&text, "t.conf", Path::new(".")).unwrap();
        Extract::from_section(&Section::new(&conf.elements[0], "tcp"), &|_| {}).unwrap()
    }

    fn rec(json: &str) -> Value {
        parse_value(json).unwrap()
    }

    fn json(v: &Value) -> String {
        let mut out = Vec::new();
        v.to_json(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn tags_as_fluentd_recorded_them() {
        // tests/net_inputs/fluentd-extract-events.txt
        let x = extract("tag_key tag\n").unwrap();
        for (text, tag) in [
            (r#"{"tag":"x.y","msg":1}"#, Some("x.y")),
            (r#"{"msg":2}"#, None),
            (r#"{"tag":123}"#, Some("123")),
            (r#"{"tag":null}"#, Some("")),
            (r#"{"tag":1.5}"#, Some("1.5")),
            (r#"{"tag":["a",1]}"#, Some(r#"["a", 1]"#)),
            (r#"{"tag":{"a":1}}"#, Some(r#"{"a"=>1}"#)),
            (r#"{"tag":true}"#, Some("true")),
        ] {
            let mut r = rec(text);
            assert_eq!(x.tag(&mut r).as_deref(), tag, "{text}");
            assert!(!json(&r).contains("\"tag\""), "{text}");
        }
        let keep = extract("tag_key tag\nkeep_tag_key true\n").unwrap();
        let mut r = rec(r#"{"tag":"u.x"}"#);
        assert_eq!(keep.tag(&mut r).as_deref(), Some("u.x"));
        assert_eq!(json(&r), r#"{"tag":"u.x"}"#);
    }

    #[test]
    fn times_by_type() {
        let x = extract("time_key t\ntime_type unixtime\n").unwrap();
        let mut r = rec(r#"{"t":"1700000000","a":1}"#);
        assert_eq!(x.time(&mut r).unwrap().unwrap().sec, 1_700_000_000);
        assert_eq!(json(&r), r#"{"a":1}"#);
        let x = extract("time_key t\n").unwrap();
        let t = x.time(&mut rec(r#"{"t":1700000000.25}"#)).unwrap().unwrap();
        assert_eq!((t.sec, t.nsec), (1_700_000_000, 250_000_000));
        assert!(x.time(&mut rec(r#"{"t":[1]}"#)).unwrap().is_err());
        assert!(x.time(&mut rec(r#"{"u":1}"#)).is_none());
        let x = extract(
            "time_key t\nkeep_time_key true\ntime_type string\ntime_format %Y-%m-%d %H:%M:%S\nutc true\n",
        )
        .unwrap();
        let mut r = rec(r#"{"t":"2023-11-14 22:13:20"}"#);
        assert_eq!(x.time(&mut r).unwrap().unwrap().sec, 1_700_000_000);
        assert_eq!(json(&r), r#"{"t":"2023-11-14 22:13:20"}"#);
        assert!(extract("keep_tag_key true\n").is_none());
    }
}
