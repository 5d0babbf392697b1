//! The tail input's loop (Fluentd's `TailInput` event loop, in one task): the path list is
//! refreshed every `refresh_interval`; each watched file is looked at again when inotify says
//! it changed and every second (`enable_watch_timer`); a look reads batches of at most
//! `read_lines_limit` lines and emits each, and only once the router accepted a batch is its
//! end recorded in the pos file (a full buffer stops the reading of that file, nothing is
//! dropped; `kill -9` resumes at-least-once). A rotated file keeps being read for
//! `rotate_wait`, and is closed only once read to its end and accepted.

mod pump;
mod watchers;

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use logferry_core::{Emitter, EventTime, PluginLog};
use tokio::sync::watch;

use crate::in_tail::config::TailConfig;
use crate::in_tail::events::Scratch;
use crate::in_tail::inotify::Inotify;
use crate::in_tail::paths::{Expand, Target};
use crate::in_tail::pos_file::{Key, PositionFile};
use crate::in_tail::reader::Lines;
use crate::in_tail::stats::TailStats;
use crate::in_tail::watcher::{Io, Watcher};

/// Batches one look at a file reads before the other files get their turn.
const BATCHES_PER_TURN: usize = 8;
/// How long the final reads at shutdown may take (Fluentd's `SHUTDOWN_TIMEOUT`).
const SHUTDOWN_READ: Duration = Duration::from_secs(5);

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
            let (pf, warnings) = PositionFile::open(
                std::path::Path::new(p),
                cfg.follow_inodes,
                Some(&keep),
                cfg.pos_file_perms,
            )
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
            // One round over the files waiting for a look (a file with more to read queues
            // itself again), then the timers and inotify get their turn: a large file read from
            // its head does not hold up the others, the refresh or rotate_wait.
            for _ in 0..self.queue.len() {
                let Some(id) = self.queue.pop_front() else {
                    break;
                };
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
            let more = !self.queue.is_empty();
            tokio::select! {
                _ = shutdown.changed() => break,
                _ = std::future::ready(()), if more => {}
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
            let mut flushed = false;
            if w.pending.is_none() {
                flushed = self.flush_multiline(&mut w, true).await;
            }
            if flushed && w.drained() && self.rotating.iter().any(|(i, _)| *i == id) {
                // A file waiting out rotate_wait is detached now, as Fluentd's shutdown does: one
                // no longer named by `path` (deleted, renamed away) gets its pos entry unwatched.
                // One not read to its end keeps its position.
                self.close_watcher(id, w);
                continue;
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
