//! The tail input's counters.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use logferry_core::metrics::{PluginMetrics, Snapshot};

/// The tail input's counters (`/metrics`: `logferry_files_opened_total` …; Fluentd's
/// `files_opened_total`, `files_closed_total`, `files_rotated_total`).
#[derive(Default)]
pub struct TailStats {
    /// Files opened.
    pub opened: AtomicU64,
    /// Files closed.
    pub closed: AtomicU64,
    /// Rotations seen.
    pub rotated: AtomicU64,
    /// Lines skipped for their length.
    pub long_lines: AtomicU64,
    /// Events accepted downstream.
    pub records: AtomicU64,
    /// Batches accepted downstream.
    pub batches: AtomicU64,
    /// Emits refused downstream (retried).
    pub refused: AtomicU64,
}

/// [`TailStats`] as plugin metrics.
pub struct TailMetrics(pub Arc<TailStats>);

impl PluginMetrics for TailMetrics {
    fn snapshot(&self) -> Snapshot {
        let s = &self.0;
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Snapshot {
            emit_records: g(&s.records),
            emit_count: g(&s.batches),
            extra: vec![
                ("files_opened", g(&s.opened)),
                ("files_closed", g(&s.closed)),
                ("files_rotated", g(&s.rotated)),
                ("tail_long_lines_skipped", g(&s.long_lines)),
                ("tail_emits_refused", g(&s.refused)),
            ],
            ..Default::default()
        }
    }
}
