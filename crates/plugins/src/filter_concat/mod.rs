//! `concat` filter: joins the lines of one message that arrived as several events, as
//! fluent-plugin-concat 2.5 — Docker's partial messages (a line over 16 KiB is cut into pieces
//! carrying `partial_message`, `partial_id`, `partial_ordinal`, `partial_last`), CRI's `P`/`F`
//! log tags, and multi-line messages such as stack traces (one event per line).
//!
//! Modes (exactly one): `n_lines`; `multiline_start_regexp` / `multiline_end_regexp` (with
//! `continuous_line_regexp`); `partial_key` + `partial_value` (`keep_partial_key`);
//! `use_partial_metadata` (`partial_metadata_format` `docker-fluentd`, `docker-journald`,
//! `docker-journald-lowercase`; `keep_partial_metadata`); `use_partial_cri_logtag`
//! (`partial_cri_logtag_key`, `partial_cri_stream_key`, `keep_partial_key`). Lines are grouped
//! per stream: the tag and `stream_identity_key`'s value (and the partial id in the metadata
//! mode). A completed group leaves as one event, in place of the event that completed it: the
//! completing record, overlaid with the group's first record whose `key` holds the lines joined
//! with `separator` (time: the completing event's, or the first line's with
//! `use_first_timestamp`). Events without `key`, and events tagged `fluent.<level>`, pass.
//!
//! Pending lines are never lost. A stream idle for `flush_interval` (default 60 s; 0 = never) is
//! flushed (time: now, or the first line's with `use_first_timestamp`), and so is everything
//! pending when the daemon stops (SIGTERM, SIGINT) or reloads (SIGHUP): to `timeout_label` when
//! set, else on down the pipeline (the filters after this one, then the `<match>`). A stream over
//! `stream_limit_size` (default 8 MiB), or the oldest streams while all of them hold over
//! `total_limit_size` (default 64 MiB), are flushed the same way at once, so memory stays bounded.
//! As in the plugin, timed-out groups leave in the order of its timeout map (each stream by when
//! it was first seen since its last timeout) with the tag taken back from the stream identity
//! (the text before its first `:`), and those pending at stop in the order of its buffer (each
//! stream by when it was first looked up).
//!
//! Differences from fluent-plugin-concat (README "Differences from Fluentd"): without
//! `timeout_label`, timed-out and shutdown-flushed groups go on down the pipeline (the plugin
//! raises them as error events: logged and dropped unless `<label @ERROR>` exists); memory is
//! bounded by the two size limits (the plugin has none, and keeps an entry per partial id
//! forever); the regexps must be written `/…/` (the plugin cuts the first and last character of
//! whatever is given); `use_partial_cri_logtag` without `partial_cri_logtag_key` is refused at
//! start-up (the plugin fails on every record); a group flushed at shutdown has its partial
//! pieces in `partial_ordinal` order, as at a timeout (the plugin keeps arrival order there);
//! idle streams are checked every `flush_interval`/4 (at most every second, at least every
//! 50 ms) rather than every second; what a filter outside any label holds at stop is delivered
//! (Fluentd's outputs have stopped by then, so it loses those groups); a `timeout_label` naming
//! no label is refused at start-up (the plugin looks it up only when it needs it, and loses the
//! group).

mod config;
mod process;

pub use config::PARAMS;
#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use logferry_core::{
    BatchBuilder, BuildCtx, BuildError, Emitter, ErrorEvents, EventBatch, EventTime, Filter,
    FilterOutput, Lifecycle, PluginLog, Section,
};
use tokio::sync::{watch, Notify};

pub use config::{ConcatConfig, Mode};
use process::{Flushed, State};

/// The concat filter.
pub struct ConcatFilter {
    cfg: ConcatConfig,
    state: Mutex<State>,
    /// Where released groups go: the router the filter is declared in.
    emitter: Emitter,
    log: PluginLog,
    /// Wakes the flusher when a size limit forced groups out.
    spilled: Notify,
    stop: watch::Sender<bool>,
    flusher: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// Build from `<filter>`.
pub fn build(ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Filter>, BuildError> {
    let cfg = ConcatConfig::from_section(s)?;
    if let (Some(l), Some(p)) = (&cfg.timeout_label, s.param("timeout_label")) {
        ctx.require_label(l, &p.pos);
    }
    let f = Arc::new(ConcatFilter::new(cfg, ctx.emitter.clone(), ctx.log.clone()));
    ctx.register(f.clone());
    Ok(f)
}

impl ConcatFilter {
    /// A filter emitting released groups through `emitter`.
    pub fn new(cfg: ConcatConfig, emitter: Emitter, log: PluginLog) -> Self {
        ConcatFilter {
            state: Mutex::new(State::default()),
            cfg,
            emitter,
            log,
            spilled: Notify::new(),
            stop: watch::channel(false).0,
            flusher: Mutex::new(None),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bytes and streams pending, for tests and the log.
    pub fn pending(&self) -> (usize, usize) {
        let st = self.lock();
        (st.total_bytes(), st.stream_count())
    }

    /// Take the groups idle for `flush_interval` (`now` is the monotonic clock) and what a size
    /// limit forced out.
    fn take_due(&self, now: std::time::Instant) -> Vec<Flushed> {
        let mut st = self.lock();
        let mut out = st.take_spilled();
        if let Some(iv) = self.cfg.flush_interval {
            let due = st.take_idle(&self.cfg, now, iv);
            for f in &due {
                self.log.info(format_args!("Timeout flush: {}", f.stream));
            }
            out.extend(due);
        }
        out
    }

    /// Send released groups to `timeout_label`, or on down the pipeline.
    async fn release(&self, groups: Vec<Flushed>, at_shutdown: bool) {
        let now = EventTime::now();
        // One batch per run of one tag, in order.
        let mut i = 0;
        while i < groups.len() {
            let tag = groups[i].tag.clone();
            let mut b = BatchBuilder::new();
            while i < groups.len() && groups[i].tag == tag {
                let g = &groups[i];
                let time = if at_shutdown || self.cfg.use_first_timestamp || g.keep_time {
                    g.time
                } else {
                    now
                };
                b.push_raw(time, &g.record);
                i += 1;
            }
            let n = b.len();
            let batch = b.finish();
            let r = match &self.cfg.timeout_label {
                Some(l) => self.emitter.for_label(Some(l)).emit(&tag, batch).await,
                None => self.emitter.emit_after(self, &tag, batch).await,
            };
            if let Err(e) = r {
                self.log.error(format_args!(
                    "failed to flush {n} concatenated event(s) with tag {tag}: {e}"
                ));
            }
        }
    }

    async fn run_flusher(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let tick = self
            .cfg
            .flush_interval
            .map(|iv| (iv / 4).clamp(Duration::from_millis(50), Duration::from_secs(1)))
            .unwrap_or(Duration::from_secs(1));
        let mut timer = tokio::time::interval(tick);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = timer.tick() => {}
                _ = self.spilled.notified() => {}
                _ = stop.changed() => return,
            }
            let due = self.take_due(std::time::Instant::now());
            if !due.is_empty() {
                self.release(due, false).await;
            }
        }
    }
}

impl Filter for ConcatFilter {
    fn filter(&self, tag: &str, batch: EventBatch, errors: &mut ErrorEvents) -> FilterOutput {
        if process::is_fluent_log_tag(tag) {
            return FilterOutput::Keep(batch);
        }
        let mut spilled = false;
        let out = {
            let mut st = self.lock();
            let out = st.filter_batch(&self.cfg, tag, &batch, errors, &self.log);
            spilled |= st.has_spilled();
            out
        };
        if spilled {
            self.spilled.notify_one();
        }
        match out {
            None => FilterOutput::Keep(batch),
            Some(b) => FilterOutput::Keep(b.finish()),
        }
    }
}

#[async_trait]
impl Lifecycle for ConcatFilter {
    async fn start(self: Arc<Self>) -> Result<(), String> {
        let rx = self.stop.subscribe();
        let h = tokio::spawn(self.clone().run_flusher(rx));
        *self.flusher.lock().unwrap_or_else(|p| p.into_inner()) = Some(h);
        Ok(())
    }

    async fn drain(&self, deadline: tokio::time::Instant) {
        let _ = self.stop.send(true);
        let h = self
            .flusher
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(h) = h {
            // The flusher may be releasing groups right now: let it finish.
            let _ = tokio::time::timeout_at(deadline, h).await;
        }
        let rest = {
            let mut st = self.lock();
            let mut v = st.take_spilled();
            v.extend(st.take_all(&self.cfg));
            v
        };
        if !rest.is_empty() {
            for f in &rest {
                self.log
                    .info(format_args!("Flush remaining buffer: {}", f.stream));
            }
            let _ = tokio::time::timeout_at(deadline, self.release(rest, true)).await;
        }
    }

    fn flush_now(&self) {
        // SIGUSR1 flushes output buffers; groups still being assembled stay until they end.
    }

    fn drains_into_pipeline(&self) -> bool {
        true
    }
}
