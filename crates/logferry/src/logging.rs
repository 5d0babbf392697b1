//! Log output: tracing to stderr (stdout is left to the stdout output's events), and each line
//! also as a Fluentd log event (`fluent.<level>`, see [`logferry_core::log_events`]).

use std::fmt::Write as _;
use std::io::IsTerminal;

use logferry_msgpack::Value;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

use crate::cli::LogFormat;

/// Install the global subscriber.
pub fn init(level: Level, format: LogFormat) {
    // rustls logs normal peer behaviour at warn ("Illegal SNI extension: ignoring IP address"
    // for every Fluent Bit client that connects by address); its handshake failures reach the
    // plugins as errors, which they log with the side and the setting to change.
    let filter = tracing_subscriber::EnvFilter::builder().parse_lossy(format!(
        "{},rustls=error",
        level.as_str().to_ascii_lowercase()
    ));
    let lines = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal());
    let registry = tracing_subscriber::registry().with(filter).with(LogEvents);
    match format {
        LogFormat::Text => registry.with(lines).init(),
        LogFormat::Json => registry.with(lines.json()).init(),
    }
}

/// Every line logged (past the level filter) as a Fluentd log event.
struct LogEvents;

impl<S: Subscriber> Layer<S> for LogEvents {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if !logferry_core::log_events::wanted() {
            return;
        }
        let level = match *event.metadata().level() {
            Level::ERROR => "error",
            Level::WARN => "warn",
            Level::INFO => "info",
            Level::DEBUG => "debug",
            Level::TRACE => "trace",
        };
        let mut v = Fields::default();
        event.record(&mut v);
        // Fluentd's message: the text, then each field as ` key=value`.
        let mut message = v.message;
        for (k, val) in &v.fields {
            let _ = match val {
                Value::Str(s) => write!(message, " {k}={s:?}"),
                Value::Int(i) => write!(message, " {k}={i}"),
                Value::Bool(b) => write!(message, " {k}={b}"),
                Value::UInt(u) => write!(message, " {k}={u}"),
                other => write!(message, " {k}={other:?}"),
            };
        }
        logferry_core::log_events::push(level, v.fields, message);
    }
}

/// A line's text and fields.
#[derive(Default)]
struct Fields {
    message: String,
    fields: Vec<(String, Value)>,
}

impl Fields {
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

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, Value::Str(format!("{value:?}")));
    }
}
