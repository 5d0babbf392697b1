//! [`DecoderOptions`]: the in_forward parameters the codec applies.

/// Decoding limits and validation switches (in_forward parameters).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecoderOptions {
    /// Drop invalid entries (default `true`); when false entries are only
    /// normalized (nil records dropped, time 0 → now).
    pub skip_invalid_event: bool,
    /// Objects larger than this are dropped unacked ([`Frame::TooLarge`](crate::Frame::TooLarge)).
    pub chunk_size_limit: Option<usize>,
    /// Objects larger than this are flagged with `over_warn_limit`.
    pub chunk_size_warn_limit: Option<usize>,
    /// Cap on decompressed bytes of one object (default 256 MiB).
    pub decompression_size_limit: usize,
    /// Hard cap on one buffered top-level object (default 256 MiB).
    pub max_object_size: usize,
}

/// 256 MiB, the default of both size caps.
pub const DEFAULT_SIZE_LIMIT: usize = 256 * 1024 * 1024;

impl Default for DecoderOptions {
    fn default() -> Self {
        DecoderOptions {
            skip_invalid_event: true,
            chunk_size_limit: None,
            chunk_size_warn_limit: None,
            decompression_size_limit: DEFAULT_SIZE_LIMIT,
            max_object_size: DEFAULT_SIZE_LIMIT,
        }
    }
}
