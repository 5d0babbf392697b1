//! Log output: tracing to stderr (stdout is left to the stdout output's events).

use std::io::IsTerminal;

use tracing::Level;

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
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
