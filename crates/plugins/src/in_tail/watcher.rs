//! One watched file (Fluentd's `TailWatcher` with its `RotateHandler`): where it is in the file
//! (its position entry), its reader, the multi-line event it holds, the batch waiting to be
//! accepted downstream, and what a fresh `stat` of its path means — nothing, a truncation
//! (read again from the start), or a rotation (the file at the path is another one, or is gone).

use std::os::unix::fs::MetadataExt;
use std::time::Instant;

use logferry_core::EventBatch;

use super::events::LineBuffer;
use super::pos_file::{EntryId, PositionFile};
use super::reader::Reader;

/// Where a watcher's position lives.
#[derive(Clone, Copy, Debug)]
pub enum Pe {
    /// An entry of the pos file.
    File(EntryId),
    /// In memory only (no pos file, or a rotated file during `rotate_wait`).
    Memory {
        /// Inode.
        ino: u64,
        /// Position.
        pos: u64,
    },
}

impl Pe {
    /// (inode, position).
    pub fn read(&self, pf: &Option<PositionFile>) -> (u64, u64) {
        match (self, pf) {
            (Pe::File(id), Some(pf)) => pf.read(*id),
            (Pe::Memory { ino, pos }, _) => (*ino, *pos),
            (Pe::File(_), None) => (0, 0),
        }
    }

    /// Record inode and position.
    pub fn update(
        &mut self,
        pf: &mut Option<PositionFile>,
        ino: u64,
        pos: u64,
    ) -> std::io::Result<()> {
        match (self, pf) {
            (Pe::File(id), Some(pf)) => pf.update(*id, ino, pos),
            (Pe::Memory { ino: i, pos: p }, _) => {
                *i = ino;
                *p = pos;
                Ok(())
            }
            (Pe::File(_), None) => Ok(()),
        }
    }

    /// Record the position.
    pub fn update_pos(&mut self, pf: &mut Option<PositionFile>, pos: u64) -> std::io::Result<()> {
        match (self, pf) {
            (Pe::File(id), Some(pf)) => pf.update_pos(*id, pos),
            (Pe::Memory { pos: p, .. }, _) => {
                *p = pos;
                Ok(())
            }
            (Pe::File(_), None) => Ok(()),
        }
    }
}

/// The reading side of a watcher.
pub enum Io {
    /// Not set up yet (the first notification decides where to start).
    None,
    /// The path had no file at set-up.
    Null,
    /// Reading.
    Open(Reader),
}

impl Io {
    /// Is a file open?
    pub fn opened(&self) -> bool {
        matches!(self, Io::Open(r) if r.opened())
    }
}

/// A batch built from read lines, waiting to be accepted downstream.
pub struct Pending {
    /// The events.
    pub batch: EventBatch,
    /// The position to record once they are accepted.
    pub pos: u64,
}

/// One watched file.
pub struct Watcher {
    /// The path.
    pub path: String,
    /// The inode when it was set up.
    pub ino: u64,
    /// The events' tag.
    pub tag: String,
    /// The position entry.
    pub pe: Pe,
    /// Start a new file at its head (not at its end).
    pub read_from_head: bool,
    /// Last (inode, size) seen; `None` once a rotation to a missing file was handled.
    pub rotate: Option<(Option<u64>, i64)>,
    /// The reader.
    pub io: Io,
    /// Drop the pos entry when detached (the file left the path list).
    pub unwatched: bool,
    /// The multi-line event held.
    pub lb: LineBuffer,
    /// When the held multi-line event was last added to (for `multiline_flush_interval`).
    pub flush_start: Option<Instant>,
    /// A batch not accepted yet.
    pub pending: Option<Pending>,
    /// `read_bytes_limit_per_second`: bytes read in the current window and when it started.
    pub window: (u64, Option<Instant>),
}

/// What a `stat` of the path means for a watcher.
pub enum Rotation {
    /// Nothing to do.
    None,
    /// The file at the path is another one (`Some(inode)`) or is gone (`None`): hand the path
    /// to a new watcher, keep reading this file during `rotate_wait`.
    Rotated(Option<u64>),
}

impl Watcher {
    /// A watcher of `path` (inode `ino`) with position entry `pe`.
    pub fn new(path: &str, ino: u64, tag: String, pe: Pe, read_from_head: bool) -> Watcher {
        Watcher {
            path: path.to_string(),
            ino,
            tag,
            pe,
            read_from_head,
            rotate: Some((None, -1)),
            io: Io::None,
            unwatched: false,
            lb: LineBuffer::default(),
            flush_start: None,
            pending: None,
            window: (0, None),
        }
    }

    /// Where the reader should start.
    fn reader(&self, pf: &Option<PositionFile>, make: &dyn Fn(u64) -> Reader) -> Io {
        Io::Open(make(self.pe.read(pf).1))
    }

    /// Fluentd's `RotateHandler#on_notify` and `TailWatcher#on_rotate`, on a fresh stat.
    /// `make` builds a reader at a position.
    pub fn on_stat(
        &mut self,
        pf: &mut Option<PositionFile>,
        stat: Option<&std::fs::Metadata>,
        make: &dyn Fn(u64) -> Reader,
        info: &dyn Fn(String),
    ) -> std::io::Result<Rotation> {
        let Some((last_ino, last_size)) = self.rotate else {
            return Ok(Rotation::None);
        };
        let (ino, size) = match stat {
            Some(m) => (Some(m.ino()), m.size() as i64),
            None => (None, 0),
        };
        self.rotate = Some((ino, size));
        // Besides Fluentd's test, a file now shorter than what was read of it was truncated
        // (even if it grew again since the last look, to more than the size seen then).
        let (pe_ino, pe_pos) = self.pe.read(pf);
        let shrunk_below_read = match (&self.io, ino) {
            (Io::Open(r), Some(i)) => i == pe_ino && (size as u64) < r.consumed(),
            _ => false,
        };
        if last_ino == ino && size >= last_size && !shrunk_below_read {
            return Ok(Rotation::None);
        }
        if matches!(self.io, Io::None) {
            match stat {
                Some(m) => {
                    let (fsize, inode) = (m.size(), m.ino());
                    if inode == pe_ino {
                        if fsize < pe_pos {
                            self.pe.update(pf, inode, 0)?;
                        }
                    } else if pe_ino != 0 {
                        self.pe.update(pf, inode, 0)?;
                    } else {
                        let pos = if self.read_from_head { 0 } else { fsize };
                        self.pe.update(pf, inode, pos)?;
                    }
                    self.io = self.reader(pf, make);
                }
                None => self.io = Io::Null,
            }
            return Ok(Rotation::None);
        }
        match ino {
            Some(inode) if inode == pe_ino => {
                info(format!("detected rotation of {}", self.path));
                // Truncated: read it again from its start. What was read before and not yet
                // accepted is still sent; its position is the new start.
                self.pe.update_pos(pf, 0)?;
                if let Some(p) = &mut self.pending {
                    p.pos = 0;
                }
                if self.lb.start.is_some() {
                    self.lb.start = Some(0);
                }
                self.io = self.reader(pf, make);
                Ok(Rotation::None)
            }
            Some(inode) if !self.io.opened() => {
                // There was no file: this one is new.
                info(format!("detected rotation of {}", self.path));
                self.pe.update(pf, inode, 0)?;
                self.io = self.reader(pf, make);
                Ok(Rotation::None)
            }
            Some(inode) => Ok(Rotation::Rotated(Some(inode))),
            None => {
                self.rotate = None;
                Ok(Rotation::Rotated(None))
            }
        }
    }

    /// Give the pos entry away (to the watcher taking the path over) and keep a copy in memory.
    pub fn swap_state(&mut self, pf: &Option<PositionFile>) -> Pe {
        let (ino, pos) = self.pe.read(pf);
        std::mem::replace(&mut self.pe, Pe::Memory { ino, pos })
    }

    /// Is everything of the file read and accepted?
    pub fn drained(&self) -> bool {
        self.pending.is_none()
            && match &self.io {
                Io::Open(r) => r.eof() || !r.opened(),
                _ => true,
            }
    }
}
