//! `out_file`: `time<TAB>tag<TAB>json`, the default format of out_file and out_s3.

use super::{Formatter, Newline};
use crate::timefmt::{TimeFormatter, Zone};
use logferry_config::{build_error, BuildError, Section};
use logferry_msgpack::{EventTime, Value};
use std::io::Write;

/// The out_file formatter.
pub struct OutFile {
    delimiter: &'static str,
    output_time: bool,
    output_tag: bool,
    time: HeaderTime,
    nl: Newline,
}

/// How out_file writes the time (`time_type`).
enum HeaderTime {
    /// `string`: by `time_format` (ISO 8601 seconds by default).
    String(TimeFormatter),
    /// `unixtime`: whole seconds.
    Unixtime,
    /// `float` (and `mixed`, which Fluentd writes the same): `seconds.nanoseconds`, nine digits.
    /// Fluentd writes a nanosecond part of fewer than nine digits as that many zeros only, losing
    /// it (`…00.005` becomes `….00`); logferry pads it. A zero part is eight zeros, as Fluentd's.
    Float,
}

impl HeaderTime {
    fn write(&self, time: EventTime, out: &mut Vec<u8>) {
        match self {
            HeaderTime::String(f) => {
                let mut s = String::with_capacity(32);
                f.format_into(time, &mut s);
                out.extend_from_slice(s.as_bytes());
            }
            // Writing to a Vec cannot fail.
            HeaderTime::Unixtime => {
                let _ = write!(out, "{}", time.sec);
            }
            HeaderTime::Float if time.nsec == 0 => {
                let _ = write!(out, "{}.00000000", time.sec);
            }
            HeaderTime::Float => {
                let _ = write!(out, "{}.{:09}", time.sec, time.nsec);
            }
        }
    }
}

/// A formatter time setting: `time_format` with `localtime`/`utc`/`timezone`, defaulting to
/// ISO-8601 seconds (`…+00:00`, or `…Z` in UTC by `utc true` or `localtime false`, as Fluentd's
/// `Time#utc.iso8601`).
pub(crate) fn time_formatter(
    s: &Section,
    default_format: Option<&str>,
) -> Result<TimeFormatter, BuildError> {
    let utc = s.get("utc")?;
    let localtime = s.get("localtime")?;
    let tz = s.get::<Option<&str>>("timezone")?;
    // A formatter's `timezone` is checked by `Timezone.validate!` (`<inject>`'s is not).
    if let Some(tz) = tz {
        Zone::parse_validated(tz).map_err(|e| build_error(s.pos(), e))?;
    }
    let zone = Zone::from_settings(localtime, utc, tz).map_err(|e| build_error(s.pos(), e))?;
    match s.param("time_format").map(|p| (p.value.as_str(), &p.pos)) {
        Some((f, pos)) => TimeFormatter::new(f, zone).map_err(|e| build_error(pos, e)),
        None => match default_format {
            Some(f) => TimeFormatter::new(f, zone).map_err(|e| build_error(s.pos(), e)),
            None => Ok(TimeFormatter::iso8601_seconds(
                zone,
                (utc || !localtime) && tz.is_none(),
            )),
        },
    }
}

impl OutFile {
    /// Build from a section.
    pub fn new(s: &Section, nl: Newline) -> Result<Self, BuildError> {
        // Fluentd: `/SPACE/i`, then `/COMMA/i`, anywhere in the value; anything else is a tab.
        let delimiter = s.get::<&str>("delimiter")?.to_ascii_uppercase();
        let delimiter = if delimiter.contains("SPACE") {
            " "
        } else if delimiter.contains("COMMA") {
            ","
        } else {
            "\t"
        };
        let string = time_formatter(s, None)?;
        let time = match s.get::<&str>("time_type")? {
            "unixtime" => HeaderTime::Unixtime,
            "float" => HeaderTime::Float,
            // Fluentd's check: `time_format_fallbacks` is a time parameter of formatters too
            // (used by parsers only), and either one satisfies it.
            "mixed" if !s.has("time_format") && !s.has("time_format_fallbacks") => {
                return Err(build_error(
                    s.pos(),
                    "time_type mixed needs a time_format or time_format_fallbacks (Fluentd: \
                     \"time_type is :mixed but time_format and time_format_fallbacks is empty.\")",
                ))
            }
            "mixed" => HeaderTime::Float,
            _ => HeaderTime::String(string),
        };
        Ok(OutFile {
            delimiter,
            output_time: s.get("output_time")?,
            output_tag: s.get("output_tag")?,
            time,
            nl,
        })
    }
}

impl Formatter for OutFile {
    fn format(&self, tag: &str, time: EventTime, record: &Value, out: &mut Vec<u8>) {
        self.prefix(tag, time, out);
        record.to_json(out);
        self.nl.push(out);
    }

    fn format_raw(&self, tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        self.prefix(tag, time, out);
        if logferry_msgpack::write_json(record, out).is_err() {
            out.extend_from_slice(b"{}");
        }
        self.nl.push(out);
    }
}

impl OutFile {
    fn prefix(&self, tag: &str, time: EventTime, out: &mut Vec<u8>) {
        if self.output_time {
            self.time.write(time, out);
            out.extend_from_slice(self.delimiter.as_bytes());
        }
        if self.output_tag {
            out.extend_from_slice(tag.as_bytes());
            out.extend_from_slice(self.delimiter.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    // Reference §7.8 cases 85 and 86.
    #[test]
    fn case_85_defaults_utc_and_delimiter() {
        // The default is local time; these tests pin the zone explicitly.
        assert_eq!(
            run(&*formatter("out_file", "timezone +00:00")),
            "2023-11-14T22:13:20+00:00\tapp\t{\"a\":1,\"b\":\"x\\ty\",\"c\":null}\n"
        );
        assert_eq!(
            run(&*formatter("out_file", "utc true")),
            run(&*formatter("out_file", "localtime false")),
            "localtime false is UTC as utc true is"
        );
        assert_eq!(
            run(&*formatter("out_file", "utc true")),
            "2023-11-14T22:13:20Z\tapp\t{\"a\":1,\"b\":\"x\\ty\",\"c\":null}\n"
        );
        assert_eq!(
            run(&*formatter("out_file", "utc true\ndelimiter |")),
            "2023-11-14T22:13:20Z\tapp\t{\"a\":1,\"b\":\"x\\ty\",\"c\":null}\n"
        );
    }

    #[test]
    fn case_86_comma_no_tag_custom_time() {
        let f = formatter("out_file", "delimiter COMMA\noutput_tag false\ntime_format %Y-%m-%dT%H:%M:%S.%L%z\ntimezone +09:00");
        assert_eq!(
            run(&*f),
            "2023-11-15T07:13:20.123+0900,{\"a\":1,\"b\":\"x\\ty\",\"c\":null}\n"
        );
    }
}
