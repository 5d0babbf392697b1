//! [`DecodeError`]: why a forward connection must be closed.

/// A fatal decoding error: the connection should be closed (frames already
/// returned stay valid, the failing object is not acked).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Malformed msgpack (e.g. "invalid msgpack byte 0xc1") or nesting too deep.
    #[error("{0}")]
    Msgpack(logferry_msgpack::Error),
    /// An ext type other than 0 (EventTime) appeared in an object.
    #[error("unknown ext type {0}")]
    UnknownExt(i8),
    /// Malformed JSON on a JSON connection.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// A gzip payload could not be decompressed.
    #[error("gzip: {0}")]
    Gzip(String),
    /// Decompressed data exceeded `decompression_size_limit`.
    #[error("decompressed size over limit")]
    DecompressedTooLarge,
    /// A buffered top-level object exceeded `max_object_size`.
    #[error("object larger than max_object_size")]
    ObjectTooLarge,
    /// The `compressed` option named an unsupported algorithm.
    #[error("unsupported compression {0}")]
    UnsupportedCompression(String),
    /// The tag is not a string and `skip_invalid_event` is false.
    #[error("tag is not a string")]
    InvalidTag,
    /// A PackedForward option that Ruby cannot index by a key (an array, a number, a boolean):
    /// Fluentd's `option['size']` raises there and the connection is closed.
    #[error("PackedForward option is not a map")]
    InvalidOption,
}

impl From<logferry_msgpack::Error> for DecodeError {
    fn from(e: logferry_msgpack::Error) -> Self {
        DecodeError::Msgpack(e)
    }
}
