//! logferry-core: the pieces every plugin and the daemon share.
//!
//! * [`tag`] — Fluentd tag patterns (`*`, `**`, `{a,b}`, `/regex/`).
//! * [`event`] — the event representation: a batch of `[time, record]` entries kept as msgpack bytes.
//! * [`record`] — decoding a record only when a plugin needs its fields, and record accessors
//!   (defined in `logferry-formats`, re-exported).
//! * [`section`] — typed access to a plugin's config section, with warnings for unknown parameters
//!   (defined in `logferry-config`, re-exported).
//! * [`plugin`] — the `Input`, `Filter` and `Output` traits.
//! * [`router`] — tag routing through filters to the first matching output, labels, `@ERROR`.
//! * [`registry`] — plugin factories by `@type` name.
//! * [`timefmt`] — Ruby-compatible strftime and time zones (defined in `logferry-formats`,
//!   re-exported).
#![warn(missing_docs)]

pub mod buffer;
pub mod error;
pub mod event;
pub mod listeners;
pub mod log;
pub mod log_events;
pub mod metrics;
pub mod perms;
pub mod pipeline;
pub mod plugin;
pub mod registry;
pub mod router;
pub mod system;
pub mod tag;
pub mod tap;
pub mod workers;

pub use error::{BuildError, EmitError};
pub use event::{BatchBuilder, Entry, EventBatch};
pub use log::PluginLog;
pub use logferry_config::{params, section};
pub use logferry_formats::{record, timefmt};
pub use logferry_msgpack::{EventTime, Value};
pub use pipeline::{BuildCtx, Pipeline, Running, SystemConfig};
pub use plugin::{ErrorEvents, Filter, FilterOutput, Input, InputContext, Lifecycle, Output};
pub use registry::Registry;
pub use router::{Emitter, Router};
pub use section::Section;
