//! `<inject>`: add the tag, time, hostname or worker id to records before formatting, as
//! Fluentd's inject helper (and its v0.12 flat `include_time_key` / `include_tag_key`).

use logferry_config::params::{p, ParamType::*, Spec};
use logferry_config::{build_error, BuildError, Section};
use logferry_msgpack::{EventTime, Value};

use crate::record::set_fields;
use crate::timefmt::{TimeFormatter, Zone};

/// How the time is written.
#[derive(Clone, Debug)]
enum TimeType {
    Float,
    Unixtime,
    Millis,
    Micros,
    Nanos,
    String(TimeFormatter),
}

/// A compiled inject setting.
#[derive(Clone, Debug, Default)]
pub struct Inject {
    tag_key: Option<String>,
    time: Option<(String, TimeType)>,
    hostname: Option<(String, String)>,
    worker_id_key: Option<String>,
}

const TIME_TYPES: &[&str] = &[
    "float",
    "unixtime",
    "unixtime_millis",
    "unixtime_micros",
    "unixtime_nanos",
    "string",
];

/// `<inject>`: fields added to each record before it is formatted.
pub static INJECT: Spec = Spec::new(
    "inject",
    "Fields added to each record before it is formatted.",
)
.params(&[
    p("hostname_key", Str, "Add the host name under this key."),
    p("hostname", Str, "The host name to add.").computed("this host's name"),
    p(
        "worker_id_key",
        Str,
        "Add the worker id (0) under this key.",
    ),
    p("tag_key", Str, "Add the tag under this key."),
    p("time_key", Str, "Add the event time under this key."),
    p("time_type", Enum(TIME_TYPES), "How the time is written.").default("float"),
    p(
        "time_format",
        Str,
        "strftime format with time_type string (default ISO 8601 seconds).",
    ),
    p("localtime", Bool, "Write the time in local time.").default("true"),
    p("utc", Bool, "Write the time in UTC.").default("false"),
    p(
        "timezone",
        Str,
        "Zone of the time (`+09:00`, `Asia/Tokyo`).",
    ),
]);

/// Fluentd v0.12's flat inject parameters, read on the plugin when it has no `<inject>`.
pub static INJECT_V012: Spec = Spec::new("v0.12 inject", "v0.12 flat inject parameters.")
    .legacy()
    .params(&[
        p("include_tag_key", Bool, "v0.12: add the tag under tag_key.").default("false"),
        p("tag_key", Str, "v0.12: key of the added tag.").default("tag"),
        p(
            "include_time_key",
            Bool,
            "v0.12: add the time under time_key.",
        )
        .default("false"),
        p("time_key", Str, "v0.12: key of the added time.").default("time"),
        p(
            "time_type",
            Enum(TIME_TYPES),
            "v0.12: how the added time is written.",
        )
        .default("string"),
        p(
            "time_format",
            Str,
            "v0.12: strftime format of the added time.",
        ),
        p("localtime", Bool, "v0.12: the added time in local time.").default("true"),
        p("utc", Bool, "v0.12: the added time in UTC.").default("false"),
        p("timezone", Str, "v0.12: zone of the added time."),
    ]);

/// A plugin's own defaults for `<inject>`'s time settings.
#[derive(Clone, Copy, Debug)]
pub struct Defaults<'a> {
    /// `time_type` when not given.
    pub time_type: &'a str,
    /// `time_format` when not given (`None`: ISO 8601 in seconds).
    pub time_format: Option<&'a str>,
    /// `localtime` when not given (Fluentd's own default: true).
    pub localtime: bool,
}

impl Inject {
    /// Read `<inject>`, or the v0.12 flat parameters on the plugin section when there is none.
    pub fn from_plugin(plugin: &Section) -> Result<Inject, BuildError> {
        if let Some(s) = plugin.section("inject")? {
            return Self::from_section(&s.declared(&INJECT), None);
        }
        let flat = &plugin.declared(&INJECT_V012);
        let mut inj = Inject::default();
        if flat.has("include_tag_key") || flat.has("tag_key") {
            if flat.get("include_tag_key")? {
                inj.tag_key = Some(flat.get("tag_key")?);
            } else {
                flat.str("tag_key");
            }
        }
        if flat.has("include_time_key") && flat.get("include_time_key")? {
            let key = flat.get("time_key")?;
            let tt = Self::time_type(flat, None)?;
            inj.time = Some((key, tt));
        }
        Ok(inj)
    }

    /// [`Inject::from_plugin`] for a plugin whose `<inject>` has its own defaults of `time_type`
    /// and `time_format` (aws-fluent-plugin-kinesis: `string`, `%Y-%m-%dT%H:%M:%S.%N%z`); the
    /// v0.12 flat parameters keep theirs.
    pub fn from_plugin_with(
        plugin: &Section,
        time_type: &str,
        time_format: &str,
    ) -> Result<Inject, BuildError> {
        Self::from_plugin_defaults(
            plugin,
            Defaults {
                time_type,
                time_format: Some(time_format),
                localtime: true,
            },
        )
    }

    /// [`Inject::from_plugin`] for a plugin whose `<inject>` has its own defaults (out_exec:
    /// `time_type string`, `localtime false`); the v0.12 flat parameters keep theirs.
    pub fn from_plugin_defaults(plugin: &Section, d: Defaults) -> Result<Inject, BuildError> {
        match plugin.section("inject")? {
            Some(s) => Self::from_section(&s.declared(&INJECT), Some(d)),
            None => Self::from_plugin(plugin),
        }
    }

    fn from_section(s: &Section, defaults: Option<Defaults>) -> Result<Inject, BuildError> {
        let mut inj = Inject {
            tag_key: s.str("tag_key").map(str::to_string),
            worker_id_key: s.str("worker_id_key").map(str::to_string),
            ..Default::default()
        };
        if let Some(key) = s.str("hostname_key") {
            let host = match s.str("hostname") {
                Some(h) => h.to_string(),
                None => hostname::get()
                    .map(|h| h.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            };
            inj.hostname = Some((key.to_string(), host));
        }
        if let Some(key) = s.str("time_key") {
            inj.time = Some((key.to_string(), Self::time_type(s, defaults)?));
        } else {
            // Read (and validate) the time settings even when unused, so they are not reported.
            s.str("time_type");
        }
        Ok(inj)
    }

    /// The time type and its settings (default: `float` in `<inject>`, `string` flat).
    fn time_type(s: &Section, defaults: Option<Defaults>) -> Result<TimeType, BuildError> {
        let ty = match defaults {
            Some(d) if !s.has("time_type") => d.time_type,
            _ => s.get::<&str>("time_type")?,
        };
        let format_default = defaults.and_then(|d| d.time_format);
        Ok(match ty {
            "float" => TimeType::Float,
            "unixtime" => TimeType::Unixtime,
            "unixtime_millis" => TimeType::Millis,
            "unixtime_micros" => TimeType::Micros,
            "unixtime_nanos" => TimeType::Nanos,
            _ => {
                let utc = s.get("utc")?;
                let localtime = match defaults {
                    Some(d) if !s.has("localtime") => d.localtime,
                    _ => s.get("localtime")?,
                };
                let tz = s.get::<Option<&str>>("timezone")?;
                let zone =
                    Zone::from_settings(localtime, utc, tz).map_err(|e| build_error(s.pos(), e))?;
                match s.param("time_format") {
                    Some(p) => TimeType::String(
                        TimeFormatter::new(&p.value, zone).map_err(|e| build_error(&p.pos, e))?,
                    ),
                    None if format_default.is_some() => TimeType::String(
                        TimeFormatter::new(format_default.unwrap_or_default(), zone)
                            .map_err(|e| build_error(s.pos(), e))?,
                    ),
                    None => TimeType::String(TimeFormatter::iso8601_seconds(
                        zone,
                        (utc || !localtime) && tz.is_none(),
                    )),
                }
            }
        })
    }

    /// Does this inject anything?
    pub fn is_empty(&self) -> bool {
        self.tag_key.is_none()
            && self.time.is_none()
            && self.hostname.is_none()
            && self.worker_id_key.is_none()
    }

    /// Format the event with `formatter`, the injected keys first added to its record (none:
    /// the record as it is, without a copy).
    pub fn format_raw(
        &self,
        formatter: &dyn crate::formatter::Formatter,
        tag: &str,
        time: EventTime,
        record: &[u8],
        out: &mut Vec<u8>,
    ) {
        if self.is_empty() {
            formatter.format_raw(tag, time, record, out);
        } else {
            let mut rec = Vec::with_capacity(record.len() + 64);
            self.apply_raw(tag, time, record, &mut rec);
            formatter.format_raw(tag, time, &rec, out);
        }
    }

    /// Write the record with the injected keys to `out` (keys appended; existing keys replaced).
    pub fn apply_raw(&self, tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        let mut fields: Vec<(&str, Value)> = Vec::with_capacity(4);
        if let Some((k, h)) = &self.hostname {
            fields.push((k, Value::Str(h.clone())));
        }
        if let Some(k) = &self.worker_id_key {
            fields.push((k, Value::Int(0)));
        }
        if let Some(k) = &self.tag_key {
            fields.push((k, Value::Str(tag.to_string())));
        }
        if let Some((k, tt)) = &self.time {
            let (s, ns) = (i64::from(time.sec), i64::from(time.nsec));
            let v = match tt {
                // Fluentd: Float of the time truncated to microseconds.
                TimeType::Float => Value::F64(s as f64 + (ns / 1000) as f64 / 1e6),
                TimeType::Unixtime => Value::Int(s),
                TimeType::Millis => Value::Int(s * 1000 + ns / 1_000_000),
                TimeType::Micros => Value::Int(s * 1_000_000 + ns / 1000),
                TimeType::Nanos => Value::Int(s * 1_000_000_000 + ns),
                TimeType::String(f) => Value::Str(f.format(time)),
            };
            fields.push((k, v));
        }
        // Fluentd assigns them one after another into a Hash: a key given twice (`hostname_key a`
        // and `time_key a`) keeps its first place and the last value.
        let mut i = 0;
        while i < fields.len() {
            if let Some(first) = fields[..i].iter().position(|(k, _)| *k == fields[i].0) {
                let (_, v) = fields.remove(i);
                fields[first].1 = v;
            } else {
                i += 1;
            }
        }
        set_fields(record, &fields, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn inject(body: &str) -> Inject {
        let text = format!("<match **>\n@type file\n{body}\n</match>\n");
        let root = logferry_config::parse_str(&text, "t.conf", Path::new(".")).unwrap();
        let s = Section::new(&root.elements[0], "file");
        Inject::from_plugin(&s).unwrap()
    }

    fn json(inj: &Inject) -> String {
        let mut raw = Vec::new();
        Value::Map(vec![(Value::Str("a".into()), Value::Int(1))]).encode(&mut raw);
        let mut out = Vec::new();
        inj.apply_raw(
            "app.web",
            EventTime::new(1_700_000_000, 123_456_789),
            &raw,
            &mut out,
        );
        let mut j = Vec::new();
        logferry_msgpack::write_json(&out, &mut j).unwrap();
        String::from_utf8(j).unwrap()
    }

    // Reference §7.8 case 90.
    #[test]
    fn case_90_time_types() {
        assert_eq!(
            json(&inject("<inject>\ntime_key t\n</inject>")),
            r#"{"a":1,"t":1700000000.123456}"#
        );
        assert_eq!(
            json(&inject(
                "<inject>\ntime_key t\ntime_type unixtime_millis\n</inject>"
            )),
            r#"{"a":1,"t":1700000000123}"#
        );
        assert_eq!(
            json(&inject("<inject>\ntag_key tag\ntime_key t\ntime_type string\ntime_format %Y-%m-%dT%H:%M:%S.%N%z\nutc true\n</inject>")),
            r#"{"a":1,"tag":"app.web","t":"2023-11-14T22:13:20.123456789+0000"}"#
        );
        assert_eq!(
            json(&inject("<inject>\nhostname_key h\nhostname box\n</inject>")),
            r#"{"a":1,"h":"box"}"#
        );
    }

    #[test]
    fn v012_flat_parameters() {
        let inj = inject(
            "include_time_key true\ntime_format %Y-%m-%d %H:%M:%S\nutc true\ninclude_tag_key true",
        );
        assert_eq!(
            json(&inj),
            r#"{"a":1,"tag":"app.web","time":"2023-11-14 22:13:20"}"#
        );
        assert!(inject("").is_empty());
    }
}
