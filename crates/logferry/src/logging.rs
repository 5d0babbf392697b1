//! Log output: tracing to stderr (stdout is left to the stdout output's events).

use std::io::IsTerminal;

use tracing::Level;

use crate::cli::LogFormat;

/// Install the global subscriber.
pub fn init(level: Level, format: LogFormat) {
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
