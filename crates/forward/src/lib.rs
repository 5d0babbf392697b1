//! Fluentd forward protocol for logferry: a runtime-free, fuzz-friendly
//! streaming [`Decoder`] (msgpack or JSON connections, every mode, acks,
//! limits), the `<security>` [`handshake`], and client-side [`encode`]rs.
//!
//! Decoded events are normalized to back-to-back msgpack
//! `[EventTime, record]` arrays with each record's bytes kept verbatim.
//!
//! ```
//! use logferry_forward::{Decoder, DecoderOptions, EventTime, Frame};
//!
//! let mut dec = Decoder::new(DecoderOptions::default());
//! let mut replies = Vec::new();
//! // ["t", 1700000000, {"a": 1}, {"chunk": "x"}], as one read
//! dec.feed(&[0x94, 0xa1, b't', 0xce, 0x65, 0x53, 0xf1, 0x00, 0x81, 0xa1, b'a', 0x01,
//!            0x81, 0xa5, b'c', b'h', b'u', b'n', b'k', 0xa1, b'x']).unwrap();
//! while let Some(frame) = dec.next_frame(EventTime::now()).unwrap() {
//!     if let Frame::Events(ev) = frame {
//!         assert_eq!((ev.tag.as_str(), ev.count), ("t", 1));
//!         // route ev.entries, then acknowledge
//!         if let Some(ack) = &ev.ack {
//!             dec.encode_ack(ack, &mut replies);
//!         }
//!     }
//! }
//! assert_eq!(replies, [0x81, 0xa3, b'a', b'c', b'k', 0xa1, b'x']);
//! ```
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
