//! The error type shared by every decoding function of this crate.

use std::fmt;

/// Why a msgpack value could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The buffer ends before the value does; more bytes may complete it.
    Incomplete,
    /// The bytes are not valid msgpack, or not of the requested type.
    Invalid(&'static str),
    /// Containers are nested deeper than [`MAX_DEPTH`](crate::MAX_DEPTH).
    TooDeep,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Incomplete => f.write_str("incomplete msgpack value"),
            Error::Invalid(why) => f.write_str(why),
            Error::TooDeep => f.write_str("msgpack nesting too deep"),
        }
    }
}

impl std::error::Error for Error {}

/// Result alias using this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;
