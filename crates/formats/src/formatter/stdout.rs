//! `stdout`: `<time> <tag>: <record>` as Fluentd's stdout output prints it.

use super::out_file::time_formatter;
use super::Formatter;
use crate::timefmt::{TimeFormatter, Zone};
use logferry_config::{BuildError, Section};
use logferry_msgpack::{EventTime, Value};

/// The stdout formatter: a time, the tag, and the record in `output_type` (json by default).
pub struct Stdout {
    time: TimeFormatter,
    inner: Box<dyn Formatter>,
}

impl Stdout {
    /// Build from a section (`output_type`, `time_format`; the zone is always the local one).
    pub fn new(s: &Section) -> Result<Self, BuildError> {
        // Fluentd's stdout formatter reads the time settings (a bad `timezone` is refused) but
        // writes the time by `time_format` in the process's local zone whatever `utc`,
        // `localtime`, `timezone` or `time_type` say: so does logferry.
        time_formatter(s, None)?;
        s.get::<&str>("time_type")?;
        let format = s.get::<&str>("time_format")?;
        let time = TimeFormatter::new(format, Zone::Local)
            .map_err(|e| logferry_config::build_error(s.pos(), e))?;
        let ty: String = s.get("output_type")?;
        if ty == "stdout" {
            return Err(logferry_config::build_error(
                s.pos(),
                "output_type stdout would nest itself",
            ));
        }
        let inner = super::build(&ty, s)?;
        Ok(Stdout { time, inner })
    }

    fn finish(&self, tag: &str, time: EventTime, body: &[u8], out: &mut Vec<u8>) {
        let mut ts = String::with_capacity(40);
        self.time.format_into(time, &mut ts);
        out.extend_from_slice(ts.as_bytes());
        out.push(b' ');
        out.extend_from_slice(tag.as_bytes());
        out.extend_from_slice(b": ");
        // Ruby's `chomp`: one `\r\n`, `\n` or `\r` off the end, no more (a value ending in a
        // line break keeps the rest of it, msgpack's last byte 0x0a or 0x0d goes).
        let body = body
            .strip_suffix(b"\r\n")
            .or_else(|| body.strip_suffix(b"\n"))
            .or_else(|| body.strip_suffix(b"\r"))
            .unwrap_or(body);
        out.extend_from_slice(body);
        out.push(b'\n');
    }
}

impl Formatter for Stdout {
    fn format(&self, tag: &str, time: EventTime, record: &Value, out: &mut Vec<u8>) {
        let mut body = Vec::new();
        self.inner.format(tag, time, record, &mut body);
        self.finish(tag, time, &body, out);
    }

    fn format_raw(&self, tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        let mut body = Vec::new();
        self.inner.format_raw(tag, time, record, &mut body);
        self.finish(tag, time, &body, out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    #[test]
    fn stdout_line() {
        // Seconds and nanoseconds read the same in every zone the test may run in.
        assert_eq!(
            run(&*formatter("stdout", "time_format %S.%N")),
            "20.123456789 app: {\"a\":1,\"b\":\"x\\ty\",\"c\":null}\n"
        );
        assert_eq!(
            run(&*formatter("stdout", "time_format %S\noutput_type ltsv")),
            "20 app: a:1\tb:x y\tc:\n"
        );
    }

    // One Ruby `chomp` of the inner formatter's text, whatever it ends with (differential case
    // format-stdout-line-end-chomp).
    #[test]
    fn one_chomp_of_the_inner_text() {
        use logferry_msgpack::Value;
        let f = formatter(
            "stdout",
            "time_format %S\noutput_type single_value\nmessage_key m",
        );
        for (value, line) in [
            ("x\r\n", "x\r\n\n"),
            ("x\n", "x\n\n"),
            ("x\r", "x\n"),
            ("x\n\r", "x\n\n"),
            ("", "\n"),
        ] {
            let rec = Value::Map(vec![(Value::Str("m".into()), Value::Str(value.into()))]);
            let mut out = Vec::new();
            f.format("t", T, &rec, &mut out);
            assert_eq!(out, format!("20 t: {line}").into_bytes(), "{value:?}");
        }
    }

    // Fluentd writes the local time whatever the zone settings (differential case
    // format-stdout-timezone).
    #[test]
    fn zone_settings_leave_local_time() {
        let local = run(&*formatter("stdout", ""));
        for body in [
            "timezone +09:00",
            "utc true",
            "localtime false",
            "time_type unixtime",
        ] {
            assert_eq!(run(&*formatter("stdout", body)), local, "{body}");
        }
    }
}
