//! Log output: tracing to stderr (stdout is left to the stdout output's events), and each line
//! also as a Fluentd log event (`fluent.<level>`, see [`logferry_core::log_events`]).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use logferry_msgpack::Value;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

use crate::cli::LogFormat;

/// `<system>`'s suppression of repeated log lines (Fluentd's `ignore_repeated_log_interval` and
/// `ignore_same_log_interval`), read at start.
#[derive(Clone, Copy, Debug, Default)]
pub struct Suppression {
    /// A line the same as the one before it within this time is not logged.
    pub repeated: Option<f64>,
    /// A line the same as any logged within this time is not logged (wins).
    pub same: Option<f64>,
}

/// Install the global subscriber.
pub fn init(level: Level, format: LogFormat, time_format: Option<&str>, suppression: Suppression) {
    // rustls logs normal peer behaviour at warn ("Illegal SNI extension: ignoring IP address"
    // for every Fluent Bit client that connects by address); its handshake failures reach the
    // plugins as errors, which they log with the side and the setting to change.
    let filter = tracing_subscriber::EnvFilter::builder().parse_lossy(format!(
        "{},rustls=error",
        level.as_str().to_ascii_lowercase()
    ));
    tracing_subscriber::registry()
        .with(filter)
        .with(Suppress::new(suppression))
        .with(Lines::new(format, time_format))
        .init();
}

/// Each line to stderr as Fluentd writes its own (`Fluent::Log`): text
/// `2026-12-07 04:49:33 +0000 [warn]: #0 message key="value"` (`#0 `, worker 0's mark, on the
/// lines of plugins, which Fluentd's worker writes), or JSON `{"time":…,"level":"warn",
/// "message":…}` (with `"worker_id":0` on plugin lines). The time is local, in `<system> <log>
/// time_format` (default `%Y-%m-%d %H:%M:%S %z`, as Fluentd's).
struct Lines {
    json: bool,
    time: Option<logferry_core::timefmt::TimeFormatter>,
}

impl Lines {
    fn new(format: LogFormat, time_format: Option<&str>) -> Self {
        Lines {
            json: matches!(format, LogFormat::Json),
            time: logferry_core::timefmt::TimeFormatter::new(
                time_format.unwrap_or("%Y-%m-%d %H:%M:%S %z"),
                logferry_core::timefmt::Zone::Local,
            )
            .ok(),
        }
    }

    /// The whole line (with its newline) of an event at `level` with these fields.
    #[cfg(test)]
    fn render(&self, now: logferry_msgpack::EventTime, level: &str, v: &Fields) -> String {
        self.format(now, level, v.is_plugin_line(), &v.line())
    }

    /// The whole line (with its newline) of `message` ([`Fields::line`]) at `level`; `worker`:
    /// a plugin's line.
    fn format(
        &self,
        now: logferry_msgpack::EventTime,
        level: &str,
        worker: bool,
        message: &str,
    ) -> String {
        let mut time = String::new();
        if let Some(f) = &self.time {
            f.format_into(now, &mut time);
        }
        if self.json {
            let mut out = String::with_capacity(message.len() + 64);
            out.push_str("{\"time\":");
            push_json_str(&mut out, &time);
            out.push_str(",\"level\":");
            push_json_str(&mut out, level);
            out.push_str(",\"message\":");
            push_json_str(&mut out, message);
            if worker {
                out.push_str(",\"worker_id\":0");
            }
            out.push_str("}\n");
            out
        } else {
            let mark = if worker { "#0 " } else { "" };
            format!("{time} [{level}]: {mark}{message}\n")
        }
    }
}

/// `s` as a JSON string.
fn push_json_str(out: &mut String, s: &str) {
    out.push_str(&serde_json::Value::from(s).to_string());
}

/// Every line logged (past the level filter) to stderr ([`Lines::format`]) and as a Fluentd log
/// event (`fluent.<level>`), its fields read once.
impl<S: Subscriber> Layer<S> for Lines {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let level = level_text(*event.metadata().level());
        let mut v = Fields::default();
        event.record(&mut v);
        let message = v.line();
        let line = self.format(
            logferry_msgpack::EventTime::now(),
            level,
            v.is_plugin_line(),
            &message,
        );
        // One write a line, so lines of several threads do not interleave.
        let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), line.as_bytes());
        if logferry_core::log_events::wanted() {
            logferry_core::log_events::push(level, v.fields, message);
        }
    }
}

/// Fluentd's name of a level.
fn level_text(level: Level) -> &'static str {
    match level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

/// Fluentd keeps at most this many lines for `ignore_same_log_interval`
/// (`IGNORE_SAME_LOG_MAX_CACHE_SIZE`).
const SAME_LOG_CACHE: usize = 1000;

/// Drops lines as Fluentd's `Log#event` does with `ignore_same_log_interval` or
/// `ignore_repeated_log_interval` (both the stderr line and its log event): a line is its text
/// and its fields (` key=value`), compared whole. Fluentd keeps these per thread; logferry keeps
/// them for the process.
struct Suppress {
    repeated: Option<Duration>,
    same: Option<Duration>,
    state: Mutex<SuppressState>,
}

#[derive(Default)]
struct SuppressState {
    /// The last line logged and when (`ignore_repeated_log_interval`).
    last: Option<(String, Instant)>,
    /// Lines logged and when (`ignore_same_log_interval`).
    seen: HashMap<String, Instant>,
}

impl Suppress {
    fn new(s: Suppression) -> Self {
        let d = |v: Option<f64>| {
            v.filter(|v| v.is_finite() && *v >= 0.0)
                .map(Duration::from_secs_f64)
        };
        Suppress {
            repeated: d(s.repeated),
            same: d(s.same),
            state: Mutex::new(SuppressState::default()),
        }
    }

    /// Whether the line `text` is logged at `now` (and remember it when it is).
    fn admit(&self, text: String, now: Instant) -> bool {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(iv) = self.same {
            if let Some(t) = st.seen.get(&text) {
                if now.duration_since(*t) <= iv {
                    return false;
                }
            } else if st.seen.len() >= SAME_LOG_CACHE {
                st.seen.retain(|_, t| now.duration_since(*t) <= iv);
                if st.seen.len() >= SAME_LOG_CACHE {
                    st.seen.clear();
                }
            }
            st.seen.insert(text, now);
            return true;
        }
        if let Some(iv) = self.repeated {
            if let Some((last, t)) = &st.last {
                if *last == text && now.duration_since(*t) <= iv {
                    return false;
                }
            }
            st.last = Some((text, now));
        }
        true
    }
}

impl<S: Subscriber> Layer<S> for Suppress {
    fn event_enabled(&self, event: &Event<'_>, _ctx: Context<'_, S>) -> bool {
        if self.same.is_none() && self.repeated.is_none() {
            return true;
        }
        let mut v = Fields::default();
        event.record(&mut v);
        self.admit(v.line(), Instant::now())
    }
}

/// A line's text and fields.
#[derive(Default)]
struct Fields {
    message: String,
    fields: Vec<(String, Value)>,
    /// Fields whose text is written as it is, not quoted: `Debug` text that is already a
    /// value's own form (a list, a map, a quoted string, a number).
    raw: Vec<String>,
}

impl Fields {
    /// A plugin's line (it has the field `plugin`): Fluentd's worker writes those.
    fn is_plugin_line(&self) -> bool {
        self.fields.iter().any(|(k, _)| k == "plugin")
    }

    /// Fluentd's message: the text, then each field as ` key=value`.
    fn line(&self) -> String {
        let mut message = self.message.clone();
        for (k, val) in &self.fields {
            let _ = match val {
                Value::Str(s) if self.raw.contains(k) => write!(message, " {k}={s}"),
                Value::Str(s) => write!(message, " {k}={s:?}"),
                Value::Int(i) => write!(message, " {k}={i}"),
                Value::F64(f) => write!(message, " {k}={f}"),
                Value::Bool(b) => write!(message, " {k}={b}"),
                Value::UInt(u) => write!(message, " {k}={u}"),
                other => write!(message, " {k}={other:?}"),
            };
        }
        message
    }

    fn put(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            if let Value::Str(s) = value {
                self.message = s;
            }
            return;
        }
        let key = field.name().trim_start_matches("r#").to_string();
        match self.fields.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((key, value)),
        }
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::Str(value.to_string()));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::Int(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(
            field,
            i64::try_from(value).map_or(Value::UInt(value), Value::Int),
        );
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::Bool(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, Value::F64(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        // `%x` fields come here too (as their Display text): a text that is a value's own form
        // is written as it is, any other quoted (as Fluentd's `inspect` of a string).
        let text = format!("{value:?}");
        let own_form = text.starts_with(['[', '{', '"']) || text.parse::<f64>().is_ok();
        if own_form && field.name() != "message" {
            self.raw
                .push(field.name().trim_start_matches("r#").to_string());
        }
        self.put(field, Value::Str(text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fluentd's line: `TIME [level]: #0 message key="value"`, or its JSON object.
    #[test]
    fn lines_in_fluentds_form() {
        let t = logferry_msgpack::EventTime::new(1_700_000_000, 5);
        let fields = Fields {
            message: "pattern not matched: \"a\tx\"".into(),
            fields: vec![
                ("plugin".into(), Value::Str("tail".into())),
                ("n".into(), Value::Int(3)),
            ],
            raw: vec![],
        };
        let mut text = Lines::new(LogFormat::Text, None);
        text.time = logferry_core::timefmt::TimeFormatter::new(
            "%Y-%m-%d %H:%M:%S %z",
            logferry_core::timefmt::Zone::utc(),
        )
        .ok();
        assert_eq!(
            text.render(t, "warn", &fields),
            "2023-11-14 22:13:20 +0000 [warn]: #0 pattern not matched: \"a\tx\" plugin=\"tail\" n=3\n"
        );
        let plain = Fields {
            message: "logferry started".into(),
            fields: vec![
                ("tags".into(), Value::Str("[\"fluent.trace\"]".into())),
                ("took".into(), Value::F64(1.5)),
            ],
            raw: vec!["tags".into()],
        };
        assert_eq!(
            text.render(t, "info", &plain),
            "2023-11-14 22:13:20 +0000 [info]: logferry started tags=[\"fluent.trace\"] took=1.5\n"
        );
        let json = Lines {
            json: true,
            time: text.time.take(),
        };
        let line = json.render(t, "warn", &fields);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["time"], "2023-11-14 22:13:20 +0000");
        assert_eq!(v["level"], "warn");
        assert_eq!(
            v["message"],
            "pattern not matched: \"a\tx\" plugin=\"tail\" n=3"
        );
        assert_eq!(v["worker_id"], 0);
        assert!(line.ends_with("}\n"));
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// Fluentd's `ignore_repeated_log?`: the same line as the one before, within the interval of
    /// the one logged (its time is not moved by the ones dropped).
    #[test]
    fn repeated_lines_within_the_interval_are_dropped() {
        let s = Suppress::new(Suppression {
            repeated: Some(10.0),
            same: None,
        });
        let t0 = Instant::now();
        assert!(s.admit("a".into(), t0));
        assert!(!s.admit("a".into(), t0 + secs(5)));
        assert!(!s.admit("a".into(), t0 + secs(10)));
        assert!(s.admit("a".into(), t0 + secs(11)));
        assert!(s.admit("b".into(), t0 + secs(12)));
        assert!(s.admit("a".into(), t0 + secs(13)), "not the one before");
    }

    /// Fluentd's `ignore_same_log?`: any line logged within the interval, whatever came between.
    #[test]
    fn same_lines_within_the_interval_are_dropped() {
        let s = Suppress::new(Suppression {
            repeated: Some(100.0),
            same: Some(10.0),
        });
        let t0 = Instant::now();
        assert!(s.admit("a".into(), t0));
        assert!(s.admit("b".into(), t0 + secs(1)));
        assert!(!s.admit("a".into(), t0 + secs(2)));
        assert!(!s.admit("b".into(), t0 + secs(3)));
        assert!(s.admit("a".into(), t0 + secs(11)));
        assert!(!s.admit("a".into(), t0 + secs(12)));
        // The cache is bounded: past 1,000 lines the old ones go.
        for i in 0..2 * SAME_LOG_CACHE {
            assert!(s.admit(format!("l{i}"), t0 + secs(30)));
        }
        assert!(s.state.lock().unwrap().seen.len() <= SAME_LOG_CACHE);
    }
}
