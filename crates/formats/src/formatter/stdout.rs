//! `stdout`: `<time> <tag>: <record>` as Fluentd's stdout output prints it.

use super::out_file::time_formatter;
use super::Formatter;
use crate::timefmt::TimeFormatter;
use logferry_config::{BuildError, Section};
use logferry_msgpack::{EventTime, Value};

/// The stdout formatter: a time, the tag, and the record in `output_type` (json by default).
pub struct Stdout {
    time: TimeFormatter,
    inner: Box<dyn Formatter>,
}

impl Stdout {
    /// Build from a section (`output_type`, `time_format`, zone settings).
    pub fn new(s: &Section) -> Result<Self, BuildError> {
        let time = time_formatter(s, Some("%Y-%m-%d %H:%M:%S.%N %z"))?;
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

    fn finish(&self, tag: &str, time: EventTime, body: &mut Vec<u8>, out: &mut Vec<u8>) {
        let mut ts = String::with_capacity(40);
        self.time.format_into(time, &mut ts);
        out.extend_from_slice(ts.as_bytes());
        out.push(b' ');
        out.extend_from_slice(tag.as_bytes());
        out.extend_from_slice(b": ");
        while body.last() == Some(&b'\n') {
            body.pop();
        }
        out.extend_from_slice(body);
        out.push(b'\n');
    }
}

impl Formatter for Stdout {
    fn format(&self, tag: &str, time: EventTime, record: &Value, out: &mut Vec<u8>) {
        let mut body = Vec::new();
        self.inner.format(tag, time, record, &mut body);
        self.finish(tag, time, &mut body, out);
    }

    fn format_raw(&self, tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        let mut body = Vec::new();
        self.inner.format_raw(tag, time, record, &mut body);
        self.finish(tag, time, &mut body, out);
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    #[test]
    fn stdout_line() {
        assert_eq!(
            run(&*formatter("stdout", "timezone +00:00")),
            "2023-11-14 22:13:20.123456789 +0000 app: {\"a\":1,\"b\":\"x\\ty\",\"c\":null}\n"
        );
        assert_eq!(
            run(&*formatter("stdout", "utc true\noutput_type ltsv")),
            "2023-11-14 22:13:20.123456789 +0000 app: a:1\tb:x y\tc:\n"
        );
    }
}
