//! The watched files: the path list refreshed, a file looked at again, a rotation handed to a new
//! watcher, a rotated file detached once read.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::in_tail::paths::Target;
use crate::in_tail::pos_file::Key;
use crate::in_tail::reader::Reader;
use crate::in_tail::watcher::{Io, Pe, Rotation, Watcher};

use super::{stat, Step, Tail, BATCHES_PER_TURN};

impl Tail {
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
    pub(super) fn construct(&mut self, t: Target) {
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
    pub(super) fn setup(&mut self, path: &str, ino: u64, pe: Pe) -> usize {
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

    pub(super) fn watch_path(&mut self, path: &str, ino: u64) {
        if let Some(i) = &mut self.inotify {
            i.watch(std::path::Path::new(path));
            self.watched.insert(path.to_string(), ino);
        }
    }

    /// Fluentd's `TailWatcher#on_notify` for one watcher.
    pub(super) async fn notify(&mut self, id: usize) {
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
    pub(super) fn update_watcher(&mut self, id: usize, new_ino: Option<u64>) {
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

    pub(super) fn detach_later(&mut self, id: usize) {
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
    pub(super) async fn detach_due(&mut self) {
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
                // Not accepted downstream yet: keep the file open and try again in a second.
                self.slots[id] = Some(w);
                for (i, t) in self.rotating.iter_mut() {
                    if *i == id {
                        *t = now + Duration::from_secs(1);
                    }
                }
                continue;
            }
            self.rotating.retain(|(i, _)| *i != id);
            self.close_watcher(id, w);
        }
    }

    /// Fluentd's `detach_watcher` after the last read.
    pub(super) fn close_watcher(&mut self, id: usize, mut w: Watcher) {
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
                let ino = match w.pe {
                    Pe::File(e) => pf.read(e).0,
                    Pe::Memory { ino, .. } => ino.max(w.ino),
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
}
