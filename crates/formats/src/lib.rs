//! Fluentd's parsers, formatters, Ruby regexps and time formats: pure code, no runtime or I/O.
//!
//! * [`timefmt`] — Ruby-compatible strftime and time zones.
//! * [`record`] — decoding a record only when a plugin needs its fields, setting fields on raw
//!   msgpack, and record accessors.
//!
//! `logferry-core` re-exports these modules under their old paths (`logferry_core::timefmt`,
//! `logferry_core::record`).
#![warn(missing_docs)]

pub mod record;
pub mod timefmt;
