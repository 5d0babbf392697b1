//! Error types shared by plugins and the router.
//!
//! [`BuildError`] and [`build_error`] are defined in `logferry-config`, beside
//! [`Section`](crate::Section), and re-exported here.

pub use logferry_config::{build_error, BuildError};

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
