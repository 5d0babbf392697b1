//! The file buffer's on-disk chunk store: one directory of chunk files, laid out as Fluentd's
//! `buf_file` lays them out, with commits that survive `kill -9` (and, with
//! [`Durability::PowerLoss`], power loss) and a resume that never stops start-up.
//!
//! [`FileStore::open_single`] opens the same store in the layout of Fluentd's `buf_file_single`
//! instead (one file per chunk, its key in the name, no `.meta`): see [`single`]. What follows
//! is the `file` layout.
//!
//! # Files
//!
//! For a chunk with id `<hex>` (32 lowercase hex digits of the 16-byte [`ChunkId`]) and the
//! configured suffix (Fluentd's `path_suffix`, `.log` by default):
//!
//! | file | what |
//! |---|---|
//! | `buffer.b<hex><suffix>` | data of a **staged** chunk (still being appended) |
//! | `buffer.q<hex><suffix>` | data of a **queued** chunk (waiting to be flushed) |
//! | `<data name>.meta` | its metadata (below), renamed along with the data on enqueue |
//! | `<meta name>.tmp` | a metadata commit in progress; deleted on resume |
//! | `quarantine/` | chunks that could not be recovered whole, moved aside with a `<name>.reason` |
//!
//! The data file holds opaque bytes (the engine's encoded records). Files are created `0644`,
//! directories `0755`.
//!
//! # The `.meta` file
//!
//! `C1 00` ‖ u32 big-endian body length ‖ body, the body a msgpack map with string keys:
//!
//! | key | value |
//! |---|---|
//! | `timekey` | int or nil: the time slice (chunk key `time`) |
//! | `tag` | str or nil (chunk key `tag`) |
//! | `variables` | map of str → the value, or nil (record-key chunk keys: nil, bool, int, float, str as such) |
//! | `seq` | uint, 0 |
//! | `id` | bin 16: the chunk id |
//! | `s` | uint: records committed |
//! | `c` | int: created, seconds since the epoch |
//! | `m` | int: last commit, seconds since the epoch |
//! | `z` | uint: **bytes committed** (logferry's key; readers that do not know it skip it) |
//! | `k` | array of uint, only when a variable is an Array, a Hash or an extension: each variable's kind (logferry's key; such a value is written as its Ruby text) |
//!
//! This is byte for byte what Fluentd writes, plus `z` (and `k`), so Fluentd can resume a logferry buffer
//! directory and logferry a Fluentd one. [`encode_meta`] writes it and [`decode_meta`] reads it
//! (a pure function that never panics, for fuzzing); Fluentd's older header-less map is read too.
//!
//! # Commits
//!
//! * [`FileStore::create`] commits the `.meta` (0 records, 0 bytes) **before** the data file
//!   exists, so a data file never lacks its metadata.
//! * [`FileStore::append`] writes the bytes at the committed offset, then commits a new `.meta`
//!   by writing `<meta>.tmp` and renaming it over the old one — atomic, so the metadata is always
//!   the old or the new one, never a mix. The commit point is the rename: bytes past `z` are an
//!   uncommitted tail. On any error the data file is cut back to `z` and the chunk stays usable.
//!   With [`Durability::PowerLoss`] (the default) the data, the `.meta` and the directory are
//!   fsynced before `append` returns; with [`Durability::Process`] nothing is, and a commit
//!   survives the death of the process but not of the machine.
//! * [`FileStore::enqueue`] renames the data `b` → `q`, then the `.meta`.
//! * [`FileStore::purge`] deletes the data, then the `.meta`.
//!
//! No file descriptor is kept per chunk: every call opens what it needs and closes it, so open
//! descriptors are bounded by the number of concurrent calls, not by the number of chunks.
//!
//! # Resume
//!
//! [`FileStore::open`] scans the directory once (reading every `.meta`, but no chunk data) and
//! brings every crash state back to a consistent one. Nothing it finds is an error that stops
//! start-up, and every chunk is either recovered whole or quarantined:
//!
//! | found | done |
//! |---|---|
//! | data longer than `z` (torn or uncommitted tail) | truncated to `z`; counted in [`ResumeReport::truncated`] |
//! | `b` data with `q` meta or the reverse (crash mid-enqueue) | queued, names normalised to `q` |
//! | staged chunk with 0 records, or any chunk with 0 bytes | purged (never acknowledged) |
//! | `.meta` without data (crash mid-purge or mid-create) | `.meta` deleted |
//! | `*.tmp` | deleted |
//! | `.meta` without `z` (written by Fluentd) | recovered if the data is exactly `s` msgpack values or exactly `s` newline-terminated lines, else quarantined |
//! | data shorter than `z`, undecodable or short `.meta`, `.meta` id ≠ name, data without `.meta`, a name whose id is not 32 lowercase hex digits, staged and queued files of one id | **quarantined** |
//! | anything not named `buffer.[bq]…<suffix>[.meta]`, directories, symlinks | left alone |
//!
//! Quarantining moves the chunk's files to `<dir>/quarantine/` (a numeric suffix is added
//! rather than overwrite), writes `<data name>.reason`, logs one `warn` per chunk (the first
//! 100; then one summary), and counts it in [`FileStore::quarantined`]. Unlike Fluentd, a data
//! file without `.meta` is quarantined rather than queued with unknown tag and time key: logferry
//! never creates one, and its chunk keys (hence its destination) are unknown.
//!
//! Recovered chunks are returned ordered by last commit time (`m`), oldest first, then by id.

mod codec;
mod resume;
pub mod single;

use crate::perms::Perms;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

pub use single::{CountFormat, SingleLayout};

pub use codec::{
    decode_meta, decode_meta_record, encode_meta, MetaRecord, MAX_META_LEN, META_HEADER,
};

use bytes::Bytes;
use std::collections::HashMap;

use super::meta::{ChunkId, ChunkMeta};

/// Name of the quarantine subdirectory.
pub const QUARANTINE_DIR: &str = "quarantine";
/// Quarantined chunks logged one by one before a single summary line.
const WARN_LIMIT: u64 = 100;

/// A chunk on disk. Holds no open file descriptor.
#[derive(Clone, Debug)]
pub struct FileChunk {
    /// The chunk id.
    pub id: ChunkId,
    /// Its metadata as last committed.
    pub meta: ChunkMeta,
    /// Staged (`b`) or queued (`q`).
    pub queued: bool,
}

/// What resuming a buffer directory found.
#[derive(Debug, Default)]
pub struct ResumeReport {
    /// Chunks moved aside, with the reason: the path of the moved data file (or `.meta` when
    /// there was no data) inside `<dir>/quarantine/`.
    pub quarantined: Vec<(PathBuf, String)>,
    /// Chunks whose uncommitted tail (a torn write) was cut off.
    pub truncated: u64,
    /// Empty chunks deleted (staged with 0 records, or 0 bytes).
    pub purged: u64,
    /// `.meta` files without data deleted (a crash during purge or create).
    pub orphan_metas: u64,
    /// Leftover `*.tmp` files deleted (a crash during a commit).
    pub tmp_removed: u64,
    /// Chunks whose names were normalised to queued (a crash during enqueue).
    pub renamed: u64,
}

/// How far a commit survives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Durability {
    /// Data, `.meta` and directory are fsynced at each commit: a returned `append` survives power
    /// loss and kernel crashes. Costs two or three fsyncs per append.
    #[default]
    PowerLoss,
    /// No fsync: a returned `append` survives the death of the process (`kill -9`, OOM kill) but
    /// not of the machine. Resume after a machine crash is still consistent (torn tails cut,
    /// anything else quarantined); commits of the last seconds may be lost.
    Process,
}

/// A directory of chunk files. `Send + Sync`: calls on different chunks may run concurrently;
/// one chunk must not be appended from two threads at once.
#[derive(Debug)]
pub struct FileStore {
    dir: PathBuf,
    suffix: String,
    durability: Durability,
    quarantined: AtomicU64,
    /// Modes of chunk files and of the directories the store creates.
    perms: Perms,
    /// The `file_single` layout, with each chunk's file name; `None`: the `file` layout.
    single: Option<(SingleLayout, Mutex<HashMap<ChunkId, single::SingleName>>)>,
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn tmp_of(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".tmp");
    PathBuf::from(s)
}

fn ignore_not_found(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        r => r,
    }
}

/// The bytes `0..len` of the file, or an error if it holds fewer (a chunk-sized read lands in
/// pages outside the heap, see [`super::pages`]).
fn read_prefix(path: &Path, len: u64) -> io::Result<Bytes> {
    let f = File::open(path)?;
    let have = f.metadata()?.len();
    if have < len {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "{}: {have} bytes on disk, fewer than the {len} committed",
                path.display()
            ),
        ));
    }
    let len = usize::try_from(len).map_err(|_| io::Error::other("chunk too large"))?;
    super::pages::read_exact_at_start(&f, len).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{}: file shrank while read", path.display()),
            )
        } else {
            e
        }
    })
}

impl FileStore {
    /// Open (creating, as Fluentd's default 0755 in `open`) the directory and resume: returns the staged and queued chunks
    /// found, ordered by modified time (`m`), oldest first, then by id. Fails only when the
    /// directory itself cannot be created or listed, or `suffix` contains `/` or NUL; a broken
    /// chunk is quarantined, never an error. [`Durability::PowerLoss`], Fluentd's default modes.
    pub fn open(dir: &Path, suffix: &str) -> io::Result<(FileStore, Vec<FileChunk>, ResumeReport)> {
        Self::open_with(dir, suffix, Durability::default(), Perms::default())
    }

    /// [`open`](Self::open) with a chosen [`Durability`] and modes for the files and directories
    /// it creates.
    pub fn open_with(
        dir: &Path,
        suffix: &str,
        durability: Durability,
        perms: Perms,
    ) -> io::Result<(FileStore, Vec<FileChunk>, ResumeReport)> {
        if suffix.contains('/') || suffix.contains('\0') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("buffer path suffix {suffix:?} must not contain '/' or NUL"),
            ));
        }
        perms.create_dir_all(dir)?;
        if !fs::metadata(dir)?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("buffer path {} is not a directory", dir.display()),
            ));
        }
        let store = FileStore {
            dir: dir.to_path_buf(),
            suffix: suffix.to_string(),
            durability,
            quarantined: AtomicU64::new(0),
            perms,
            single: None,
        };
        let (chunks, report) = resume::resume(&store)?;
        Ok((store, chunks, report))
    }

    /// Open (creating) the directory of a `file_single` buffer and resume it (see
    /// [`single`]): one file per chunk, named by its key, without `.meta`. Fails only when the
    /// directory cannot be created or listed, or `layout.prefix` holds `/` or NUL.
    pub fn open_single(
        dir: &Path,
        layout: SingleLayout,
        durability: Durability,
        perms: Perms,
    ) -> io::Result<(FileStore, Vec<FileChunk>, ResumeReport)> {
        if layout.prefix.contains('/') || layout.prefix.contains('\0') {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "buffer file name prefix {:?} must not contain '/' or NUL",
                    layout.prefix
                ),
            ));
        }
        perms.create_dir_all(dir)?;
        if !fs::metadata(dir)?.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("buffer path {} is not a directory", dir.display()),
            ));
        }
        let mut store = FileStore {
            dir: dir.to_path_buf(),
            suffix: format!(".{}", single::PATH_EXT),
            durability,
            quarantined: AtomicU64::new(0),
            perms,
            single: None,
        };
        let (chunks, report, names) = single::resume(&store, &layout)?;
        store.single = Some((layout, Mutex::new(names)));
        Ok((store, chunks, report))
    }

    /// The file name of a `file_single` chunk (remembered, else made from its key).
    fn single_name(&self, layout: &SingleLayout, c: &FileChunk) -> single::SingleName {
        let names = self.single_names();
        match names.as_ref().and_then(|n| n.get(&c.id)) {
            Some(n) => n.clone(),
            None => single::new_name(
                &self.dir,
                &layout.prefix,
                single::key_of(layout, &c.meta),
                &c.id,
            ),
        }
    }

    fn single_names(
        &self,
    ) -> Option<std::sync::MutexGuard<'_, HashMap<ChunkId, single::SingleName>>> {
        self.single
            .as_ref()
            .map(|(_, m)| m.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The data file suffix (`path_suffix`).
    pub fn suffix(&self) -> &str {
        &self.suffix
    }

    /// The durability of commits.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// Change the durability of later commits.
    pub fn set_durability(&mut self, durability: Durability) {
        self.durability = durability;
    }

    /// Chunks quarantined since open (resume included): a metric.
    pub fn quarantined(&self) -> u64 {
        self.quarantined.load(Ordering::Relaxed)
    }

    /// The data file of a chunk.
    pub fn data_path(&self, c: &FileChunk) -> PathBuf {
        match &self.single {
            Some((layout, _)) => self.single_name(layout, c).path(c.queued),
            None => self.data_path_of(&c.id, c.queued),
        }
    }

    /// The `.meta` file of a chunk.
    pub fn meta_path(&self, c: &FileChunk) -> PathBuf {
        self.meta_path_of(&c.id, c.queued)
    }

    fn data_name(&self, id: &ChunkId, queued: bool) -> String {
        format!(
            "buffer.{}{}{}",
            if queued { 'q' } else { 'b' },
            id.hex(),
            self.suffix
        )
    }

    fn data_path_of(&self, id: &ChunkId, queued: bool) -> PathBuf {
        self.dir.join(self.data_name(id, queued))
    }

    fn meta_path_of(&self, id: &ChunkId, queued: bool) -> PathBuf {
        self.dir
            .join(format!("{}.meta", self.data_name(id, queued)))
    }

    fn sync(&self) -> bool {
        self.durability == Durability::PowerLoss
    }

    fn sync_dir(&self) -> io::Result<()> {
        if self.sync() {
            File::open(&self.dir)?.sync_all()?;
        }
        Ok(())
    }

    /// Commit a `.meta` atomically (tmp + rename). The error says whether the rename happened
    /// (then the new metadata is visible even though the commit is reported failed).
    fn write_meta(
        &self,
        id: &ChunkId,
        queued: bool,
        meta: &ChunkMeta,
    ) -> Result<(), (bool, io::Error)> {
        let bytes = encode_meta(id, meta);
        if bytes.len() > MAX_META_LEN + 6 {
            return Err((
                false,
                io::Error::new(io::ErrorKind::InvalidInput, "chunk metadata over 1 MiB"),
            ));
        }
        let path = self.meta_path_of(id, queued);
        let tmp = tmp_of(&path);
        let written = (|| {
            let mut f = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(self.perms.file)
                .open(&tmp)?;
            f.write_all(&bytes)?;
            if self.sync() {
                f.sync_all()?;
            }
            fs::rename(&tmp, &path)
        })();
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err((false, e));
        }
        self.sync_dir().map_err(|e| (true, e))
    }

    /// A new staged chunk for `meta`'s keys: its `.meta` (0 records, 0 bytes, `created` kept if
    /// set else now, `modified` now) is committed before the empty data file is created.
    pub fn create(&self, meta: ChunkMeta) -> io::Result<FileChunk> {
        let now = now_secs();
        let mut meta = meta;
        meta.records = 0;
        meta.bytes = 0;
        if meta.created == 0 {
            meta.created = now;
        }
        meta.modified = now;
        if let Some((layout, _)) = &self.single {
            return self.create_single(layout, meta);
        }
        let mut id = ChunkId::generate();
        for _ in 0..16 {
            let taken = [false, true]
                .iter()
                .any(|&q| self.data_path_of(&id, q).exists() || self.meta_path_of(&id, q).exists());
            if !taken {
                break;
            }
            id = ChunkId::generate();
        }
        if let Err((_, e)) = self.write_meta(&id, false, &meta) {
            let _ = fs::remove_file(self.meta_path_of(&id, false));
            return Err(e);
        }
        let data = self.data_path_of(&id, false);
        let made = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(self.perms.file)
            .open(&data)
            .and_then(|_| self.sync_dir());
        if let Err(e) = made {
            let _ = fs::remove_file(&data);
            let _ = fs::remove_file(self.meta_path_of(&id, false));
            return Err(e);
        }
        Ok(FileChunk {
            id,
            meta,
            queued: false,
        })
    }

    /// `create` in the `file_single` layout: the empty staged file (no `.meta`).
    fn create_single(&self, layout: &SingleLayout, meta: ChunkMeta) -> io::Result<FileChunk> {
        let key = single::key_of(layout, &meta).to_string();
        for _ in 0..16 {
            let id = ChunkId::generate();
            let name = single::new_name(&self.dir, &layout.prefix, &key, &id);
            if self.single_names().is_some_and(|n| n.contains_key(&id)) {
                continue;
            }
            let data = name.path(false);
            if name.path(true).symlink_metadata().is_ok() {
                continue;
            }
            let made = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(self.perms.file)
                .open(&data);
            match made {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
            if let Err(e) = self.sync_dir() {
                let _ = fs::remove_file(&data);
                return Err(e);
            }
            if let Some(mut n) = self.single_names() {
                n.insert(id, name);
            }
            return Ok(FileChunk {
                id,
                meta,
                queued: false,
            });
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "no free chunk file name after 16 tries",
        ))
    }

    /// Append `data` holding `records` records to a staged chunk, then commit the metadata
    /// (records, bytes, modified) atomically. When this returns `Ok`, the bytes survive `kill -9`
    /// (and power loss under [`Durability::PowerLoss`]). On any error (ENOSPC, EIO, …) the data
    /// file is cut back to the last committed size, `c` is unchanged, and the chunk stays usable.
    /// Appending to a queued chunk is an error.
    pub fn append(&self, c: &mut FileChunk, data: &[u8], records: u64) -> io::Result<()> {
        if c.queued {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("chunk {:?} is queued: it takes no more data", c.id),
            ));
        }
        let committed = c.meta.bytes;
        let end = committed
            .checked_add(data.len() as u64)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "chunk size overflow"))?;
        let f = OpenOptions::new()
            .write(true)
            .open(if self.single.is_some() {
                self.data_path(c)
            } else {
                self.data_path_of(&c.id, false)
            })?;
        let written = f.write_all_at(data, committed).and_then(|()| {
            if self.sync() {
                f.sync_data()
            } else {
                Ok(())
            }
        });
        if let Err(e) = written {
            let _ = f.set_len(committed);
            return Err(e);
        }
        let mut next = c.meta.clone();
        next.records = next.records.saturating_add(records);
        next.bytes = end;
        next.modified = now_secs();
        if self.single.is_some() {
            // No .meta: the data written is the commit.
            c.meta = next;
            return Ok(());
        }
        match self.write_meta(&c.id, false, &next) {
            Ok(()) => {
                c.meta = next;
                Ok(())
            }
            Err((renamed, e)) => {
                // If the new .meta is visible, put the old one back before cutting the data;
                // if even that fails, the disk holds a consistent newer commit: keep it (a retry
                // rewrites the same bytes at the same offset).
                if !renamed || self.write_meta(&c.id, false, &c.meta).is_ok() {
                    let _ = f.set_len(committed);
                }
                Err(e)
            }
        }
    }

    /// Staged → queued: rename `buffer.b<hex>` → `buffer.q<hex>`, data then `.meta`. A queued
    /// chunk is left as it is. If the `.meta` rename fails the data is renamed back and `c` stays
    /// staged; if only the directory fsync after both renames fails, `c` is already queued (and
    /// the error is returned).
    pub fn enqueue(&self, c: &mut FileChunk) -> io::Result<()> {
        if c.queued {
            return Ok(());
        }
        if let Some((layout, _)) = &self.single {
            let name = self.single_name(layout, c);
            fs::rename(name.path(false), name.path(true))?;
            c.queued = true;
            return self.sync_dir();
        }
        let (bd, qd) = (
            self.data_path_of(&c.id, false),
            self.data_path_of(&c.id, true),
        );
        fs::rename(&bd, &qd)?;
        if let Err(e) = fs::rename(
            self.meta_path_of(&c.id, false),
            self.meta_path_of(&c.id, true),
        ) {
            let _ = fs::rename(&qd, &bd);
            return Err(e);
        }
        c.queued = true;
        self.sync_dir()
    }

    /// Exactly the committed bytes of a chunk (an error if the data file holds fewer).
    pub fn read(&self, c: &FileChunk) -> io::Result<Bytes> {
        read_prefix(&self.data_path(c), c.meta.bytes)
    }

    /// Delete a chunk: data, then `.meta` (files already gone are not an error).
    pub fn purge(&self, c: &FileChunk) -> io::Result<()> {
        ignore_not_found(fs::remove_file(self.data_path(c)))?;
        if let Some(mut names) = self.single_names() {
            names.remove(&c.id);
            return Ok(());
        }
        ignore_not_found(fs::remove_file(self.meta_path(c)))
    }

    /// Copy the committed bytes of a chunk given up to `backup_dir/<hex>.log` (creating the
    /// directories, replacing an older backup of the same id atomically); returns that path.
    pub fn backup(&self, c: &FileChunk, backup_dir: &Path, perms: Perms) -> io::Result<PathBuf> {
        perms.create_dir_all(backup_dir)?;
        let dest = backup_dir.join(format!("{}.log", c.id.hex()));
        let tmp = tmp_of(&dest);
        let copied = (|| {
            let src = File::open(self.data_path(c))?;
            let mut out = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(perms.file)
                .open(&tmp)?;
            let n = io::copy(&mut src.take(c.meta.bytes), &mut out)?;
            if n != c.meta.bytes {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "chunk {:?}: {n} bytes on disk, fewer than the {} committed",
                        c.id, c.meta.bytes
                    ),
                ));
            }
            if self.sync() {
                out.sync_all()?;
            }
            fs::rename(&tmp, &dest)
        })();
        if let Err(e) = copied {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(dest)
    }

    /// Move a chunk that cannot be used (say [`read`](Self::read) failed) to `<dir>/quarantine/`
    /// with `reason`, log it and count it; returns where its data file went.
    pub fn quarantine(&self, c: &FileChunk, reason: &str) -> io::Result<PathBuf> {
        if self.single.is_some() {
            let files = [self.data_path(c)];
            let r = self.quarantine_files(&files, reason);
            if let Some(mut names) = self.single_names() {
                names.remove(&c.id);
            }
            return r;
        }
        let files = [self.data_path(c), self.meta_path(c)];
        self.quarantine_files(&files, reason)
    }

    /// Move whichever of `files` exist to the quarantine dir (under one free numeric suffix),
    /// write `<first name>.reason`, warn, count.
    fn quarantine_files(&self, files: &[PathBuf], reason: &str) -> io::Result<PathBuf> {
        let n = self.quarantined.fetch_add(1, Ordering::Relaxed) + 1;
        let first = files.first().cloned().unwrap_or_default();
        if n <= WARN_LIMIT {
            tracing::warn!(
                dir = %self.dir.display(),
                chunk = %first.file_name().unwrap_or_default().to_string_lossy(),
                reason,
                "file buffer chunk quarantined"
            );
        } else {
            tracing::debug!(chunk = %first.display(), reason, "file buffer chunk quarantined");
        }
        let qdir = self.dir.join(QUARANTINE_DIR);
        self.perms.create_dir_all(&qdir)?;
        let names: Vec<_> = files.iter().filter_map(|f| f.file_name()).collect();
        let dest_of = |name: &std::ffi::OsStr, tail: &str| {
            let mut s = name.to_owned();
            s.push(tail);
            qdir.join(s)
        };
        // The first free tail among "", ".1" … ".999"; then one made of the time (rename
        // replaces an existing file, so never reuse a name).
        let free = |tail: &str| {
            names
                .iter()
                .all(|n| dest_of(n, tail).symlink_metadata().is_err())
        };
        let tail = (0..1000u32)
            .map(|k| {
                if k == 0 {
                    String::new()
                } else {
                    format!(".{k}")
                }
            })
            .find(|t| free(t))
            .unwrap_or_else(|| {
                let ns = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0);
                format!(".{ns}")
            });
        let mut moved = None;
        let mut last_err = None;
        for f in files {
            let Some(name) = f.file_name() else { continue };
            let dest = dest_of(name, &tail);
            match fs::rename(f, &dest) {
                Ok(()) => {
                    moved.get_or_insert(dest);
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => last_err = Some(e),
            }
        }
        if let Some(e) = last_err {
            tracing::warn!(dir = %self.dir.display(), error = %e, "could not move a chunk file to quarantine");
            return Err(e);
        }
        let moved = moved.unwrap_or_else(|| dest_of(first.file_name().unwrap_or_default(), &tail));
        let mut reason_path = moved.clone().into_os_string();
        reason_path.push(".reason");
        let _ = fs::write(reason_path, format!("{reason}\n"));
        Ok(moved)
    }
}
