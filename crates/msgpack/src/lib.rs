//! Zero-copy msgpack primitives for logferry.
//!
//! * [`value_len`] / [`Scanner`]: find where a value ends without allocating;
//! * [`Reader`]: typed zero-copy reads, never advancing on failure;
//! * [`write`]: minimal encoders;
//! * [`EventTime`] / [`read_time`]: Fluentd's ext type 0 time;
//! * [`Value`]: an owned tree when one is really needed;
//! * [`has_repeated_keys`] / [`fold_repeated_keys`]: maps that repeat a key, as Ruby reads them;
//! * [`write_json`] / [`json_to_msgpack`]: JSON conversion with Fluentd's rules;
//! * [`json_string`] / [`ruby_float`]: the string and float texts they write;
//!   [`json_plain_len`]: a JSON string scan.
//!
//! Nothing here panics on untrusted input, and no allocation is sized from a
//! length field beyond the bytes actually present.
#![warn(missing_docs)]

mod error;
#[cfg(target_arch = "x86_64")]
mod escape_sse2;
mod fold;
mod head;
mod json;
mod reader;
pub mod ruby_text;
mod scan;
mod text;
mod time;
mod value;
pub mod write;

pub use error::{Error, Result};
pub use fold::{fold_records, fold_repeated_keys, has_repeated_keys, walk_keys};
pub use json::{json_to_msgpack, write_json, write_json_oj};
pub use reader::{short_len, Reader};
pub use scan::{value_len, walk, Scanner, MAX_DEPTH};
pub use text::{json_plain_len, json_string, json_string_oj, ruby_float};
pub use time::{civil_from_days, read_time, EventTime};
pub use value::Value;
