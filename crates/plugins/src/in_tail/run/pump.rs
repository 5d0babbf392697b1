//! Reading and emitting: batches read from a file, emitted, and only once accepted recorded in
//! the pos file; the held multi-line event; throttling.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use logferry_core::BatchBuilder;

use crate::in_tail::events::Events;
use crate::in_tail::watcher::{Io, Pending, Watcher};

use super::{Step, Tail};

impl Tail {
    /// Emit a batch; `false` when the router refused it (kept for a retry).
    pub(super) async fn emit(&mut self, tag: &str, p: &Pending) -> bool {
        let n = p.batch.len() as u64;
        match self.emitter.emit(tag, p.batch.clone()).await {
            Ok(()) => {
                self.stats.records.fetch_add(n, Ordering::Relaxed);
                self.stats.batches.fetch_add(1, Ordering::Relaxed);
                if self.refusing {
                    self.refusing = false;
                    self.log
                        .info(format_args!("events are accepted again; reading resumes"));
                }
                true
            }
            Err(e) => {
                self.stats.refused.fetch_add(1, Ordering::Relaxed);
                if !self.refusing {
                    self.refusing = true;
                    self.log.warn(format_args!(
                        "emit refused ({e}); reading stops until the events are accepted, nothing is dropped"
                    ));
                }
                false
            }
        }
    }

    /// Send the pending batch; on acceptance record its position.
    pub(super) async fn send_pending(&mut self, w: &mut Watcher) -> bool {
        let Some(p) = w.pending.take() else {
            return true;
        };
        if !p.batch.is_empty() && !self.emit(&w.tag, &p).await {
            w.pending = Some(p);
            return false;
        }
        if let Err(e) = w.pe.update_pos(&mut self.pf, p.pos) {
            self.log.warn(format_args!("pos_file: {e}"));
        }
        true
    }

    /// `multiline_flush_interval` (or `force`, at detach and shutdown): emit the held event.
    /// `false` when the router refused it.
    pub(super) async fn flush_multiline(&mut self, w: &mut Watcher, force: bool) -> bool {
        if !self.cfg.multiline || w.lb.start.is_none() {
            return true;
        }
        let due = match (self.cfg.multiline_flush_interval, w.flush_start) {
            _ if force => true,
            (Some(iv), Some(t)) => t.elapsed().as_secs_f64() >= iv,
            _ => false,
        };
        if !due || !self.send_pending(w).await {
            return !due;
        }
        let cfg = self.cfg.clone();
        let ev = Events::new(&cfg, &self.log);
        let mut b = BatchBuilder::new();
        ev.flush(&mut w.lb, &w.path, &mut b, &mut self.scratch);
        w.flush_start = None;
        let pos = match &w.io {
            Io::Open(r) => r.consumed(),
            _ => w.pe.read(&self.pf).1,
        };
        w.pending = Some(Pending {
            batch: b.finish(),
            pos,
        });
        self.send_pending(w).await
    }

    /// `read_bytes_limit_per_second`: is this file's budget for the current second spent?
    pub(super) fn throttled(&self, w: &mut Watcher) -> bool {
        let Some(limit) = self.cfg.bytes_per_second else {
            return false;
        };
        let (n, start) = &mut w.window;
        if *n < limit {
            return false;
        }
        let s = *start.get_or_insert_with(Instant::now);
        if s.elapsed() < Duration::from_secs(1) {
            true
        } else {
            w.window = (0, None);
            false
        }
    }

    /// Fluentd's `IOHandler#handle_notify`: read batches and emit them, at most `turns`.
    pub(super) async fn pump(&mut self, w: &mut Watcher, turns: usize) -> Step {
        let cfg = self.cfg.clone();
        for _ in 0..turns {
            if !self.send_pending(w).await {
                return Step::Blocked;
            }
            if self.throttled(w) {
                return Step::Done;
            }
            let Io::Open(r) = &mut w.io else {
                return Step::Done;
            };
            if !r.opened() {
                match r.open(&w.path) {
                    Ok(true) => {
                        self.stats.opened.fetch_add(1, Ordering::Relaxed);
                        if !std::mem::replace(&mut r.announced, true) {
                            self.log.info(format_args!("following tail of {}", w.path));
                        }
                    }
                    Ok(false) => return Step::Done,
                    Err(e) => {
                        self.log.warn(format_args!("{}: {e}", w.path));
                        return Step::Done;
                    }
                }
            }
            self.lines.clear();
            let skipped_before = r.skipped;
            let mut eof = false;
            loop {
                if w.window.1.is_none() && cfg.bytes_per_second.is_some() {
                    w.window.1 = Some(Instant::now());
                }
                let budget = match cfg.bytes_per_second {
                    Some(l) => l.saturating_sub(w.window.0).max(1) as usize,
                    None => usize::MAX,
                };
                match r.read_block(&mut self.lines, budget) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(n) => w.window.0 += n as u64,
                    Err(e) => {
                        self.log.warn(format_args!("{}: read error: {e}", w.path));
                        r.close();
                        eof = true;
                        break;
                    }
                }
                if self.lines.len() >= cfg.read_lines_limit
                    || cfg.bytes_per_second.is_some_and(|l| w.window.0 >= l)
                {
                    break;
                }
            }
            let skipped = r.skipped - skipped_before;
            if skipped > 0 {
                self.stats.long_lines.fetch_add(skipped, Ordering::Relaxed);
                self.log.warn(format_args!(
                    "received line length is longer than {} in {}: skipped",
                    cfg.line_limit, w.path
                ));
            }
            let consumed = r.consumed();
            if cfg.open_on_every_update && eof {
                r.close();
                self.stats.closed.fetch_add(1, Ordering::Relaxed);
            }
            if self.lines.is_empty() {
                // Skipped lines still move the position on.
                if w.lb.start.is_none() && consumed != w.pe.read(&self.pf).1 {
                    let _ = w.pe.update_pos(&mut self.pf, consumed);
                }
                return Step::Done;
            }
            let ev = Events::new(&cfg, &self.log);
            let mut b = BatchBuilder::with_capacity(self.lines.bytes() + 64 * self.lines.len());
            if cfg.multiline {
                ev.multi(&self.lines, &w.path, &mut w.lb, &mut b, &mut self.scratch);
                if cfg.parser.firstline("").is_some() {
                    w.flush_start = Some(Instant::now());
                }
            } else {
                ev.single(&self.lines, &w.path, &mut b, &mut self.scratch);
            }
            // A held multi-line event is not accepted yet: the position stays at its start.
            let pos = w.lb.start.map_or(consumed, |s| s.min(consumed));
            w.pending = Some(Pending {
                batch: b.finish(),
                pos,
            });
            if !self.send_pending(w).await {
                return Step::Blocked;
            }
            if eof {
                return Step::Done;
            }
            tokio::task::yield_now().await;
        }
        Step::More
    }
}
