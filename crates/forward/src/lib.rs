//! Fluentd forward protocol for logferry: a runtime-free, fuzz-friendly
//! streaming [`Decoder`] (msgpack or JSON connections, every mode, acks,
//! limits), the `<security>` [`handshake`], and client-side [`encode`]rs.
//!
//! Decoded events are normalized to back-to-back msgpack
//! `[EventTime, record]` arrays with each record's bytes kept verbatim.
#![warn(missing_docs)]

mod decoder;
mod dispatch;
pub mod encode;
mod entries;
mod error;
mod frame;
pub mod handshake;
mod option;
mod options;
mod packed;
mod scan;

pub use decoder::Decoder;
pub use error::DecodeError;
pub use frame::{EventsFrame, Frame, Mode};
pub use logferry_msgpack::EventTime;
pub use options::{DecoderOptions, DEFAULT_SIZE_LIMIT};
