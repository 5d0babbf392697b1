//! Plugin metrics and readiness, for the `monitor_agent` and `prometheus` sources.
//!
//! Every plugin is listed at build time with its id, category, type and config, and a [`Flow`]:
//! the events in and out of it, counted by the router once per batch. Plugins with counters of
//! their own (buffered outputs, the network inputs) register a [`PluginMetrics`] source. Readiness:
//! the listeners are up, no buffer is above its high watermark, no output has been failing for
//! longer than a threshold, and the daemon is not shutting down.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A snapshot of one plugin's counters (the names of fluent-plugin-prometheus / monitor_agent).
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Events accepted.
    pub emit_records: u64,
    /// Emit calls.
    pub emit_count: u64,
    /// Chunks written.
    pub write_count: u64,
    /// Failed writes that are retried.
    pub retry_count: u64,
    /// Failed writes of any kind.
    pub num_errors: u64,
    /// Chunks queued for flushing (including in flight).
    pub buffer_queue_length: u64,
    /// Staged chunks.
    pub buffer_stage_length: u64,
    /// Bytes held in the buffer.
    pub buffer_total_bytes: u64,
    /// `total_limit_size`.
    pub buffer_limit_bytes: u64,
    /// Chunks dropped by `drop_oldest_chunk`.
    pub dropped_chunks: u64,
    /// Chunks given up (backed up).
    pub given_up_chunks: u64,
    /// Seconds the output has been failing (retrying), if it is.
    pub failing_for: Option<f64>,
    /// Extra counters specific to the plugin (`name`, value), e.g. malformed connections.
    pub extra: Vec<(&'static str, u64)>,
    /// Flushes slower than `slow_flush_log_threshold`.
    pub slow_flush_count: u64,
    /// Milliseconds spent flushing.
    pub flush_time_ms: u64,
    /// Bytes in staged chunks.
    pub buffer_stage_bytes: u64,
    /// Bytes in queued chunks (including those being written).
    pub buffer_queue_bytes: u64,
    /// The time slices (`timekey`) of the staged and queued chunks, ascending.
    pub buffer_timekeys: Vec<i64>,
    /// The retry state while the output is failing.
    pub retry: Option<RetryInfo>,
}

/// An output's retry state, as monitor_agent's `retry` shows it.
#[derive(Clone, Debug, Default)]
pub struct RetryInfo {
    /// When the first failure happened (seconds since the epoch).
    pub start: f64,
    /// Failed attempts so far, counted as Fluentd's `steps` (0 after the first failure).
    pub steps: u32,
    /// When the next attempt is due (seconds since the epoch).
    pub next_time: f64,
}

/// The wall clock, in seconds since the epoch.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The events in and out of one plugin, added to once per batch (a relaxed atomic add each, never
/// per event) by the router, a counted emitter or a counted `<store>`:
/// * a filter: in = events given to it, out = events it passed on (held events count out when
///   they are released);
/// * an output: in = events routed to it, out = events it accepted (its `emit` succeeded);
/// * an input: in = events it emitted into the router, out = events the router accepted.
#[derive(Debug, Default)]
pub struct Flow {
    records_in: AtomicU64,
    records_out: AtomicU64,
    batches_in: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
}

impl Flow {
    /// A batch of `n` events, `bytes` long as msgpack, came in.
    #[inline]
    pub fn add_in(&self, n: usize, bytes: usize) {
        self.records_in.fetch_add(n as u64, Ordering::Relaxed);
        self.batches_in.fetch_add(1, Ordering::Relaxed);
        self.bytes_in.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// `n` events, `bytes` long as msgpack, went out.
    #[inline]
    pub fn add_out(&self, n: usize, bytes: usize) {
        self.records_out.fetch_add(n as u64, Ordering::Relaxed);
        self.bytes_out.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Batches in so far (an output's `emit_count`).
    pub fn batches_in(&self) -> u64 {
        self.batches_in.load(Ordering::Relaxed)
    }

    /// Bytes in so far (the events as msgpack `[time, record]` entries).
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in.load(Ordering::Relaxed)
    }

    /// Bytes out so far.
    pub fn bytes_out(&self) -> u64 {
        self.bytes_out.load(Ordering::Relaxed)
    }

    /// Events in so far.
    pub fn records_in(&self) -> u64 {
        self.records_in.load(Ordering::Relaxed)
    }

    /// Events out so far.
    pub fn records_out(&self) -> u64 {
        self.records_out.load(Ordering::Relaxed)
    }
}

/// A source of counters.
pub trait PluginMetrics: Send + Sync {
    /// Current values.
    fn snapshot(&self) -> Snapshot;
}

/// One plugin as listed by the monitor.
#[derive(Clone)]
pub struct PluginEntry {
    /// `@id`, or `object:<n>`.
    pub id: String,
    /// `input`, `filter` or `output`.
    pub category: &'static str,
    /// The `@type`.
    pub ty: String,
    /// The section's parameters (secrets masked).
    pub config: Vec<(String, String)>,
    /// Its counters, if it has any.
    pub metrics: Option<Arc<dyn PluginMetrics>>,
    /// The events in and out of it.
    pub flow: Arc<Flow>,
    /// The `<label>` it is declared in (None: the top level).
    pub label: Option<String>,
}

/// Readiness thresholds.
#[derive(Clone, Copy, Debug)]
pub struct Readiness {
    /// A buffer above this fraction of `total_limit_size` makes the daemon not ready.
    pub high_watermark: f64,
    /// An output failing for longer than this (seconds) makes the daemon not ready.
    pub failing_threshold: f64,
}

impl Default for Readiness {
    fn default() -> Self {
        Readiness {
            high_watermark: 0.9,
            failing_threshold: 300.0,
        }
    }
}

/// Every plugin of the running pipeline, and the daemon's state.
#[derive(Default)]
pub struct Metrics {
    plugins: Mutex<Vec<PluginEntry>>,
    started: AtomicBool,
    stopping: AtomicBool,
}

impl Metrics {
    /// List a plugin.
    pub fn add(&self, mut e: PluginEntry) {
        for (k, v) in &mut e.config {
            if crate::section::is_secret(k) {
                *v = "xxxxxx".into();
            }
        }
        self.plugins
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(e);
    }

    /// Attach counters to the most recently listed plugin with this id.
    pub fn attach(&self, id: &str, m: Arc<dyn PluginMetrics>) {
        let mut p = self.plugins.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = p.iter_mut().rev().find(|e| e.id == id) {
            e.metrics = Some(m);
        }
    }

    /// Every listed plugin.
    pub fn plugins(&self) -> Vec<PluginEntry> {
        self.plugins
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The listeners are up.
    pub fn set_started(&self) {
        self.started.store(true, Ordering::SeqCst);
    }

    /// Shutdown began: readiness turns false before the listeners close.
    pub fn set_stopping(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    /// Ready to take traffic? `Err` says why not.
    pub fn ready(&self, r: Readiness) -> Result<(), String> {
        if self.stopping.load(Ordering::SeqCst) {
            return Err("shutting down".into());
        }
        if !self.started.load(Ordering::SeqCst) {
            return Err("starting".into());
        }
        for p in self.plugins() {
            let Some(m) = &p.metrics else { continue };
            let s = m.snapshot();
            if s.buffer_limit_bytes > 0
                && s.buffer_total_bytes as f64 > s.buffer_limit_bytes as f64 * r.high_watermark
            {
                return Err(format!(
                    "{}: buffer at {} of {} bytes",
                    p.id, s.buffer_total_bytes, s.buffer_limit_bytes
                ));
            }
            if let Some(f) = s.failing_for {
                if f > r.failing_threshold {
                    return Err(format!("{}: failing for {f:.0}s", p.id));
                }
            }
        }
        Ok(())
    }
}
