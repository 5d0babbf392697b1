//! The plugin traits: inputs produce batches, filters transform them, outputs accept them.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::EmitError;
use crate::event::{BatchBuilder, EventBatch};
use crate::router::Emitter;
use logferry_msgpack::EventTime;

/// What a filter did with a batch.
pub enum FilterOutput {
    /// Pass this batch on (possibly changed, possibly with fewer events).
    Keep(EventBatch),
    /// Drop the whole batch.
    Drop,
}

/// Error events a filter raised for single records (Fluentd's `emit_error_event`): the router
/// sends them to `<label @ERROR>` when it exists, else logs each one, before the batch goes on.
#[derive(Default)]
pub struct ErrorEvents {
    batch: BatchBuilder,
    reasons: Vec<String>,
}

impl ErrorEvents {
    /// Record one error event: the record (raw msgpack map) at `time`, and why it failed.
    pub fn push(&mut self, time: EventTime, record: &[u8], reason: impl Into<String>) {
        self.batch.push_raw(time, record);
        self.reasons.push(reason.into());
    }

    /// No error event was raised.
    pub fn is_empty(&self) -> bool {
        self.reasons.is_empty()
    }

    /// Take the events and their reasons.
    pub fn take(&mut self) -> (EventBatch, Vec<String>) {
        (
            std::mem::take(&mut self.batch).finish(),
            std::mem::take(&mut self.reasons),
        )
    }
}

/// A filter: a synchronous transformation of a batch, run in the router.
pub trait Filter: Send + Sync + 'static {
    /// Transform one batch of events that share `tag`; per-record failures go to `errors`.
    fn filter(&self, tag: &str, batch: EventBatch, errors: &mut ErrorEvents) -> FilterOutput;

    /// Does this filter read record fields? Filters that do not let batches pass undecoded.
    fn needs_fields(&self) -> bool {
        true
    }
}

/// An output: accepts batches. A successful `emit` means the output took responsibility for the
/// events (wrote them, or buffered them); an input may acknowledge them to its client then.
#[async_trait]
pub trait Output: Send + Sync + 'static {
    /// Accept one batch of events that share `tag`.
    async fn emit(&self, tag: &str, batch: EventBatch) -> Result<(), EmitError>;

    /// Does this output read its events' records (format them, key chunks or route by their
    /// fields)? Fluentd passes a PackedForward stream that nothing reads on as it came, maps
    /// that repeat a key and all; an output that reads records gets them folded as Fluentd's
    /// Hashes hold them ([`EventBatch::folded`]). True unless the output says otherwise.
    fn reads_records(&self) -> bool {
        true
    }

    /// Flush and release everything; called once at shutdown after every input stopped.
    async fn shutdown(&self) {}
}

/// What an input gets to run with.
pub struct InputContext {
    /// Where the input sends its events (the root router, or its `@label`).
    pub emitter: Emitter,
    /// Turns `true` when the daemon stops: stop accepting, finish what was read, return.
    pub shutdown: watch::Receiver<bool>,
}

/// An input: binds its sockets in `start` (so bind errors fail start-up) and runs in the background.
#[async_trait]
pub trait Input: Send + Sync + 'static {
    /// Bind and start; the returned task ends when the input has fully stopped after shutdown.
    async fn start(self: Arc<Self>, ctx: InputContext) -> Result<JoinHandle<()>, String>;
}

/// Something with a running life beyond `emit`: buffered outputs start flush workers and resume
/// their file chunks at start, drain at shutdown, and flush at once on SIGUSR1. Registered with
/// [`crate::pipeline::BuildCtx::register`] at build time, started by the pipeline.
#[async_trait]
pub trait Lifecycle: Send + Sync + 'static {
    /// Start background work (flush workers); resume persisted state.
    async fn start(self: Arc<Self>) -> Result<(), String>;
    /// Stop accepting, flush or persist what is held, and return by `deadline`.
    async fn drain(&self, deadline: tokio::time::Instant);
    /// Enqueue and flush everything now (SIGUSR1).
    fn flush_now(&self);
    /// Does `drain` emit events into the pipeline (a filter releasing what it holds)? Such
    /// lifecycles drain first, one after another in config order, before the outputs drain.
    fn drains_into_pipeline(&self) -> bool {
        false
    }
}
