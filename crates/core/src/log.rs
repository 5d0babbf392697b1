//! Per-plugin log levels (`@log_level`).

use std::fmt;
use std::sync::Arc;

use tracing::Level;

/// A plugin's logger: its name for context and its own `@log_level`, if set.
///
/// A plugin level can make a plugin quieter than the global level; the global level (`<system>
/// log_level`, `-v`, `-q`) still bounds how verbose any message can be.
#[derive(Clone, Debug)]
pub struct PluginLog {
    name: Arc<str>,
    level: Option<Level>,
}

/// Parse Fluentd's level names: `trace`, `debug`, `info`, `warn`, `error`, `fatal`.
pub fn parse_level(s: &str) -> Option<Level> {
    match s {
        "trace" => Some(Level::TRACE),
        "debug" => Some(Level::DEBUG),
        "info" => Some(Level::INFO),
        "warn" => Some(Level::WARN),
        "error" | "fatal" => Some(Level::ERROR),
        _ => None,
    }
}

impl PluginLog {
    /// A logger for `name` (`@id` or type) with an optional level of its own.
    pub fn new(name: &str, level: Option<Level>) -> Self {
        PluginLog {
            name: name.into(),
            level,
        }
    }

    /// The plugin name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Would a message at `level` be written by this plugin?
    pub fn enabled(&self, level: Level) -> bool {
        self.level.is_none_or(|min| level <= min)
    }

    /// Log at warn.
    pub fn warn(&self, msg: fmt::Arguments<'_>) {
        if self.enabled(Level::WARN) {
            tracing::warn!(plugin = %self.name, "{msg}");
        }
    }

    /// Log at info.
    pub fn info(&self, msg: fmt::Arguments<'_>) {
        if self.enabled(Level::INFO) {
            tracing::info!(plugin = %self.name, "{msg}");
        }
    }

    /// Log at debug.
    pub fn debug(&self, msg: fmt::Arguments<'_>) {
        if self.enabled(Level::DEBUG) {
            tracing::debug!(plugin = %self.name, "{msg}");
        }
    }

    /// Log at error.
    pub fn error(&self, msg: fmt::Arguments<'_>) {
        if self.enabled(Level::ERROR) {
            tracing::error!(plugin = %self.name, "{msg}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_gate_messages() {
        let l = PluginLog::new("x", parse_level("error"));
        assert!(!l.enabled(Level::WARN));
        assert!(l.enabled(Level::ERROR));
        let l = PluginLog::new("x", None);
        assert!(l.enabled(Level::DEBUG));
        assert_eq!(parse_level("fatal"), Some(Level::ERROR));
        assert_eq!(parse_level("loud"), None);
    }
}
