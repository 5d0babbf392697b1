//! The tail input's loop (Fluentd's `TailInput` event loop, in one task): the path list is
//! refreshed every `refresh_interval`; each watched file is looked at again when inotify says
//! it changed and every second (`enable_watch_timer`); a look reads batches of at most
//! `read_lines_limit` lines and emits each, and only once the router accepted a batch is its
//! end recorded in the pos file (a full buffer stops the reading of that file, nothing is
//! dropped; `kill -9` resumes at-least-once). A rotated file keeps being read for
//! `rotate_wait`, and is closed only once read to its end and accepted.

use std::collections::{HashMap, HashSet, VecDeque};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use logferry_core::metrics::{PluginMetrics, Snapshot};
use logferry_core::{BatchBuilder, Emitter, EventTime, PluginLog};
use tokio::sync::watch;

use super::config::TailConfig;
use super::events::{Events, Scratch};
use super::inotify::Inotify;
use super::paths::{Expand, Target};
use super::pos_file::{Key, PositionFile};
use super::reader::{Lines, Reader};
use super::watcher::{Io, Pe, Pending, Rotation, Watcher};

/// Batches one look at a file reads before the other files get their turn.
const BATCHES_PER_TURN: usize = 8;
/// How long the final reads at shutdown may take (Fluentd's `SHUTDOWN_TIMEOUT`).
const SHUTDOWN_READ: Duration = Duration::from_secs(5);

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

/// How a look at a file ended.
#[derive(PartialEq, Debug)]
enum Step {
    /// Read to the end (or throttled): wait for the next change.
    Done,
    /// More to read: look again soon.
    More,
    /// The router refused the batch: try again at the next tick.
    Blocked,
}

/// The state of one tail input.
pub struct Tail {
    cfg: Arc<TailConfig>,
    log: PluginLog,
    stats: Arc<TailStats>,
    emitter: Emitter,
    pf: Option<PositionFile>,
    slots: Vec<Option<Watcher>>,
    tails: HashMap<String, usize>,
    /// Rotated (or removed) files still read until their deadline.
    rotating: Vec<(usize, Instant)>,
    queue: VecDeque<usize>,
    queued: HashSet<usize>,
    inotify: Option<Inotify>,
    /// The inode each path's file watch was added for.
    watched: HashMap<String, u64>,
    startup: bool,
    ignore_list: HashSet<String>,
    lines: Lines,
    scratch: Scratch,
    /// Refusals already logged, so a long outage logs once.
    refusing: bool,
}

fn stat(path: &str) -> Option<std::fs::Metadata> {
    std::fs::metadata(path).ok()
}

impl Tail {
    /// Open the pos file (compacting it to the files the paths match now) and set up.
    pub fn new(
        cfg: Arc<TailConfig>,
        log: PluginLog,
        stats: Arc<TailStats>,
        emitter: Emitter,
    ) -> Result<Tail, String> {
        let inotify = if cfg.stat_watcher {
            Some(Inotify::new().map_err(|e| format!("inotify: {e}"))?)
        } else {
            None
        };
        let mut t = Tail {
            cfg: cfg.clone(),
            log,
            stats,
            emitter,
            pf: None,
            slots: Vec::new(),
            tails: HashMap::new(),
            rotating: Vec::new(),
            queue: VecDeque::new(),
            queued: HashSet::new(),
            inotify,
            watched: HashMap::new(),
            startup: true,
            ignore_list: HashSet::new(),
            lines: Lines::default(),
            scratch: Scratch::default(),
            refusing: false,
        };
        if let Some(p) = &cfg.pos_file {
            let targets = t.expand();
            let keys: HashSet<Key> = targets.into_values().map(|(k, _)| k).collect();
            let keep = |k: &Key| keys.contains(k);
            let (pf, warnings) =
                PositionFile::open(std::path::Path::new(p), cfg.follow_inodes, Some(&keep))
                    .map_err(|e| format!("cannot open the pos_file {p}: {e}"))?;
            for w in warnings {
                t.log.warn(format_args!("{w}"));
            }
            t.pf = Some(pf);
        }
        Ok(t)
    }

    fn expand(&mut self) -> std::collections::BTreeMap<String, (Key, Target)> {
        let log = self.log.clone();
        let warn = move |m: String| log.warn(format_args!("{m}"));
        let cfg = self.cfg.clone();
        let mut e = Expand {
            paths: &cfg.paths,
            exclude: &cfg.exclude,
            limit_recently_modified: cfg.limit_recently_modified,
            ignore_list: cfg
                .ignore_repeated_permission_error
                .then_some(&mut self.ignore_list),
            warn: &warn,
        };
        e.run(EventTime::now(), cfg.follow_inodes)
    }

    fn enqueue(&mut self, id: usize) {
        if self.queued.insert(id) {
            self.queue.push_back(id);
        }
    }

    fn key_of(&self, path: &str, ino: u64) -> Key {
        if self.cfg.follow_inodes {
            Key::Ino(ino)
        } else {
            Key::Path(path.to_string())
        }
    }

    /// Fluentd's `refresh_watchers`.
    pub fn refresh(&mut self) {
        let targets = self.expand();
        let target_keys: HashSet<Key> = targets.values().map(|(k, _)| k.clone()).collect();
        let existing: Vec<(Key, String)> = self
            .tails
            .iter()
            .filter_map(|(p, id)| {
                let w = self.slots[*id].as_ref()?;
                Some((self.key_of(p, w.ino), p.clone()))
            })
            .collect();
        let mut existing_keys: HashSet<Key> = existing.iter().map(|(k, _)| k.clone()).collect();
        if self.cfg.follow_inodes {
            // A rotated file still read during rotate_wait is followed already: a second watcher
            // on it under its new name would read it twice (Fluentd #4237).
            for (id, _) in &self.rotating {
                if let Some(w) = self.slots[*id].as_ref() {
                    existing_keys.insert(Key::Ino(w.ino));
                }
            }
        }
        if self.cfg.follow_inodes {
            if let Some(pf) = &mut self.pf {
                if let Err(e) = pf.unwatch_removed(&|k| target_keys.contains(k)) {
                    self.log.warn(format_args!("pos_file: {e}"));
                }
            }
        } else {
            for (_, t) in targets.values() {
                if let Some(w) = self
                    .tails
                    .get(&t.path)
                    .and_then(|id| self.slots[*id].as_ref())
                {
                    let ino = w.pe.read(&self.pf).0;
                    if ino != t.ino && ino != 0 && !matches!(w.pe, Pe::Memory { .. }) {
                        self.log.warn(format_args!("Could not follow a file (inode: {}) because an existing watcher for that filepath follows a different inode: {ino} (e.g. keeps watching a already rotated file). If you keep getting this message, please restart logferry. filepath={:?}", t.ino, t.path));
                    }
                }
            }
        }
        for (k, path) in existing {
            if !target_keys.contains(&k) {
                if let Some(id) = self.tails.remove(&path) {
                    if let Some(w) = self.slots[id].as_mut() {
                        w.unwatched = !self.cfg.follow_inodes;
                    }
                    self.detach_later(id);
                }
            }
        }
        for (_, (k, t)) in targets {
            if !existing_keys.contains(&k) {
                self.construct(t);
            }
        }
        self.startup = false;
    }

    /// Fluentd's `construct_watcher`.
    fn construct(&mut self, t: Target) {
        let Some(m) = stat(&t.path) else {
            self.log.warn(format_args!(
                "stat() for {} failed. Continuing without tailing it.",
                t.path
            ));
            return;
        };
        let ino = m.ino();
        let pe = match &mut self.pf {
            Some(pf) => match pf.get(&t.path, ino) {
                Ok(id) => {
                    if self.cfg.read_from_head && pf.read(id).0 == 0 {
                        let _ = pf.update(id, ino, 0);
                    }
                    Pe::File(id)
                }
                Err(e) => {
                    self.log.warn(format_args!("pos_file: {e}"));
                    return;
                }
            },
            None => Pe::Memory { ino: 0, pos: 0 },
        };
        let id = self.setup(&t.path, ino, pe);
        if let Some(old) = self.tails.insert(t.path.clone(), id) {
            // follow_inodes: the refresh found the path's new file before the rotation was
            // seen; the old file is read on during rotate_wait, as after a rotation.
            self.log.info(format_args!(
                "detected rotation of {}; waiting {} seconds",
                t.path, self.cfg.rotate_wait
            ));
            self.stats.rotated.fetch_add(1, Ordering::Relaxed);
            self.detach_later(old);
        }
        self.enqueue(id);
    }

    /// Fluentd's `setup_watcher`.
    fn setup(&mut self, path: &str, ino: u64, pe: Pe) -> usize {
        let tag = self.cfg.tag.for_path(path);
        let w = Watcher::new(path, ino, tag, pe, !self.startup || self.cfg.read_from_head);
        self.watch_path(path, ino);
        let id = match self.slots.iter().position(Option::is_none) {
            Some(i) => {
                self.slots[i] = Some(w);
                i
            }
            None => {
                self.slots.push(Some(w));
                self.slots.len() - 1
            }
        };
        id
    }

    fn watch_path(&mut self, path: &str, ino: u64) {
        if let Some(i) = &mut self.inotify {
            i.watch(std::path::Path::new(path));
            self.watched.insert(path.to_string(), ino);
        }
    }

    /// Fluentd's `TailWatcher#on_notify` for one watcher.
    async fn notify(&mut self, id: usize) {
        let Some(mut w) = self.slots.get_mut(id).and_then(Option::take) else {
            return;
        };
        // A rotated file left the path: only its own reading goes on, the path is another's.
        let is_current = self.tails.get(&w.path) == Some(&id);
        if is_current {
            let m = stat(&w.path);
            if let Some(m) = &m {
                if self.watched.get(&w.path) != Some(&m.ino()) {
                    self.watch_path(&w.path.clone(), m.ino());
                }
            }
            let rotation = {
                let log = self.log.clone();
                let info = move |s: String| log.info(format_args!("{s}"));
                let cfg = self.cfg.clone();
                let make = move |pos| Reader::new(pos, cfg.line_limit, cfg.converter());
                w.on_stat(&mut self.pf, m.as_ref(), &make, &info)
            };
            match rotation {
                Err(e) => self.log.warn(format_args!("pos_file: {e}")),
                Ok(Rotation::Rotated(new_ino)) => {
                    // Read what is left of the old file first (Fluentd #1055).
                    self.pump(&mut w, usize::MAX).await;
                    self.stats.rotated.fetch_add(1, Ordering::Relaxed);
                    self.slots[id] = Some(w);
                    self.update_watcher(id, new_ino);
                    return;
                }
                Ok(Rotation::None) => {}
            }
        }
        self.flush_multiline(&mut w, false).await;
        let step = self.pump(&mut w, BATCHES_PER_TURN).await;
        self.slots[id] = Some(w);
        if step == Step::More {
            self.enqueue(id);
        }
    }

    /// Fluentd's `update_watcher`: the path now names another file (or none).
    fn update_watcher(&mut self, id: usize, new_ino: Option<u64>) {
        let Some(w) = self.slots[id].as_mut() else {
            return;
        };
        let path = w.path.clone();
        if self.cfg.follow_inodes {
            if self.tails.get(&path) == Some(&id) {
                self.tails.remove(&path);
            }
            if let (Some(ino), Some(pf)) = (new_ino, &mut self.pf) {
                self.log.info(format_args!(
                    "detected rotation of {path}; waiting {} seconds",
                    self.cfg.rotate_wait
                ));
                match pf.get(&path, ino) {
                    Ok(e) if pf.read(e).0 == 0 => {
                        let nid = self.setup(&path, ino, Pe::File(e));
                        self.tails.insert(path, nid);
                        self.enqueue(nid);
                    }
                    Ok(_) => {}
                    Err(e) => self.log.warn(format_args!("pos_file: {e}")),
                }
            }
            self.detach_later(id);
            return;
        }
        self.log.info(format_args!(
            "detected rotation of {path}; waiting {} seconds",
            self.cfg.rotate_wait
        ));
        let pe = w.swap_state(&self.pf);
        let nid = self.setup(&path, new_ino.unwrap_or(0), pe);
        self.tails.insert(path, nid);
        self.enqueue(nid);
        self.detach_later(id);
    }

    fn detach_later(&mut self, id: usize) {
        if self.rotating.iter().any(|(i, _)| *i == id) {
            return;
        }
        let wait = if self.cfg.open_on_every_update {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(self.cfg.rotate_wait)
        };
        self.rotating.push((id, Instant::now() + wait));
    }

    /// Detach the rotated files whose wait is over, once each is read to its end and accepted.
    async fn detach_due(&mut self) {
        let now = Instant::now();
        let due: Vec<usize> = self
            .rotating
            .iter()
            .filter(|(_, t)| *t <= now)
            .map(|(i, _)| *i)
            .collect();
        for id in due {
            let Some(mut w) = self.slots[id].take() else {
                self.rotating.retain(|(i, _)| *i != id);
                continue;
            };
            let step = self.pump(&mut w, usize::MAX).await;
            let flushed = step != Step::Blocked && self.flush_multiline(&mut w, true).await;
            if !flushed || !w.drained() {
                // Not accepted downstream yet: keep the file open and try again later.
                self.slots[id] = Some(w);
                continue;
            }
            self.rotating.retain(|(i, _)| *i != id);
            self.close_watcher(id, w);
        }
    }

    /// Fluentd's `detach_watcher` after the last read.
    fn close_watcher(&mut self, id: usize, mut w: Watcher) {
        if let Io::Open(r) = &mut w.io {
            if r.opened() {
                r.close();
                self.stats.closed.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.queued.remove(&id);
        self.queue.retain(|i| *i != id);
        let still_tailed = self.tails.contains_key(&w.path);
        if w.unwatched && !still_tailed {
            if let Some(pf) = &mut self.pf {
                let ino = w.pe.read(&None).0.max(w.ino);
                let ino = match w.pe {
                    Pe::File(e) => pf.read(e).0,
                    Pe::Memory { .. } => ino,
                };
                if let Err(e) = pf.unwatch(&w.path, ino) {
                    self.log.warn(format_args!("pos_file: {e}"));
                }
            }
        }
        if !still_tailed {
            if let Some(i) = &mut self.inotify {
                i.unwatch(std::path::Path::new(&w.path));
                self.watched.remove(&w.path);
            }
        }
        self.slots[id] = None;
    }

    /// Emit a batch; `false` when the router refused it (kept for a retry).
    async fn emit(&mut self, tag: &str, p: &Pending) -> bool {
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
    async fn send_pending(&mut self, w: &mut Watcher) -> bool {
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
    async fn flush_multiline(&mut self, w: &mut Watcher, force: bool) -> bool {
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
    fn throttled(&self, w: &mut Watcher) -> bool {
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
    async fn pump(&mut self, w: &mut Watcher, turns: usize) -> Step {
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

    /// Every watcher id (current and rotating).
    fn all_ids(&self) -> Vec<usize> {
        (0..self.slots.len())
            .filter(|i| self.slots[*i].is_some())
            .collect()
    }

    /// The loop, until `shutdown`.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        if !self.cfg.skip_refresh_on_startup {
            self.refresh();
        }
        let refresh = Duration::from_secs_f64(self.cfg.refresh_interval);
        let mut refresh_tick =
            tokio::time::interval_at(tokio::time::Instant::now() + refresh, refresh);
        let compaction = self
            .cfg
            .compaction_interval
            .map(Duration::from_secs_f64)
            .unwrap_or(Duration::from_secs(86400 * 365));
        let mut compaction_tick =
            tokio::time::interval_at(tokio::time::Instant::now() + compaction, compaction);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut changed: Vec<PathBuf> = Vec::new();
        loop {
            while let Some(id) = self.queue.pop_front() {
                self.queued.remove(&id);
                self.notify(id).await;
                if *shutdown.borrow() {
                    break;
                }
            }
            if *shutdown.borrow() {
                break;
            }
            let next_detach = self.rotating.iter().map(|(_, t)| *t).min();
            let inotify = self.inotify.as_mut();
            let has_inotify = inotify.is_some();
            tokio::select! {
                _ = shutdown.changed() => break,
                r = async {
                    match inotify {
                        Some(i) => i.wait(&mut changed).await,
                        None => std::future::pending().await,
                    }
                }, if has_inotify => {
                    if let Err(e) = r {
                        self.log.warn(format_args!("inotify: {e}; relying on the timer"));
                        self.inotify = None;
                    }
                    // A busy file gives many events a wake-up: look each path up once.
                    changed.sort_unstable();
                    changed.dedup();
                    let paths: HashSet<String> = changed
                        .drain(..)
                        .map(|p| p.to_string_lossy().into_owned())
                        .collect();
                    let ids: Vec<usize> = self
                        .slots
                        .iter()
                        .enumerate()
                        .filter(|(_, w)| w.as_ref().is_some_and(|w| paths.contains(&w.path)))
                        .map(|(i, _)| i)
                        .collect();
                    for id in ids {
                        self.enqueue(id);
                    }
                }
                _ = tick.tick() => {
                    for id in self.all_ids() {
                        let w = self.slots[id].as_ref().expect("listed");
                        let wants = self.cfg.watch_timer
                            || w.pending.is_some()
                            || w.lb.start.is_some()
                            || w.window.0 > 0;
                        if wants {
                            self.enqueue(id);
                        }
                    }
                    if next_detach.is_some_and(|t| t <= Instant::now()) {
                        self.detach_due().await;
                    }
                }
                _ = async {
                    match next_detach {
                        Some(t) => tokio::time::sleep_until(t.into()).await,
                        None => std::future::pending().await,
                    }
                } => self.detach_due().await,
                _ = refresh_tick.tick() => self.refresh(),
                _ = compaction_tick.tick(), if self.cfg.compaction_interval.is_some() => {
                    self.log.info(format_args!("Clean up the pos file"));
                    if let Some(pf) = &mut self.pf {
                        if let Err(e) = pf.try_compact() {
                            self.log.warn(format_args!("pos_file compaction: {e}"));
                        }
                    }
                }
            }
        }
        self.stop().await;
    }

    /// Read what is left (for at most [`SHUTDOWN_READ`]), emit the held multi-line events, close.
    async fn stop(&mut self) {
        let until = Instant::now() + SHUTDOWN_READ;
        for id in self.all_ids() {
            let Some(mut w) = self.slots[id].take() else {
                continue;
            };
            while Instant::now() < until {
                match self.pump(&mut w, 1).await {
                    Step::More => continue,
                    _ => break,
                }
            }
            if w.pending.is_none() {
                self.flush_multiline(&mut w, true).await;
            }
            if let Io::Open(r) = &mut w.io {
                if r.opened() {
                    r.close();
                    self.stats.closed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        if let Some(pf) = &self.pf {
            pf.sync();
        }
    }
}
