//! Errors and warnings.

use std::fmt;

use crate::Pos;

/// A configuration error, with the position of the offending token when known.
#[derive(Clone, Debug)]
pub struct ConfigError {
    /// Where the error is (absent e.g. when the top-level file cannot be read).
    pub pos: Option<Pos>,
    /// What is wrong / what was expected.
    pub message: String,
}

impl ConfigError {
    /// An error at `pos`.
    pub fn at(pos: Pos, message: impl Into<String>) -> Self {
        ConfigError {
            pos: Some(pos),
            message: message.into(),
        }
    }

    /// An error without a position.
    pub fn new(message: impl Into<String>) -> Self {
        ConfigError {
            pos: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.pos {
            Some(pos) => write!(f, "{pos}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// A failure while building the pipeline from the config: always fatal at start-up.
pub type BuildError = ConfigError;

/// Make a [`BuildError`] at a config position.
pub fn build_error(pos: &Pos, message: impl Into<String>) -> BuildError {
    ConfigError {
        pos: Some(pos.clone()),
        message: message.into(),
    }
}

/// A non-fatal problem found while parsing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// Where the problem is.
    pub pos: Pos,
    /// Description.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.pos, self.message)
    }
}
