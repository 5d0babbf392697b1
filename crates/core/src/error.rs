//! Error types shared by plugins and the router.

use logferry_config::{ConfigError, Pos};

/// A failure while building the pipeline from the config: always fatal at start-up.
pub type BuildError = ConfigError;

/// Make a [`BuildError`] at a config position.
pub fn build_error(pos: &Pos, message: impl Into<String>) -> BuildError {
    ConfigError {
        pos: Some(pos.clone()),
        message: message.into(),
    }
}

/// An error raised by an output while accepting events (Fluentd's emit error).
///
/// The input that emitted the events must not acknowledge them.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EmitError {
    /// The output's buffer is full and its overflow action refuses the events.
    #[error("buffer overflow: {0}")]
    Overflow(String),
    /// The output failed to accept the events.
    #[error("{0}")]
    Failed(String),
    /// The daemon is shutting down and accepts no more events.
    #[error("shutting down")]
    ShuttingDown,
}
