//! The buffered output: events are formatted into chunks by their keys, chunks are enqueued by
//! size, timer or time slice, and flush workers write them with retries, a secondary, and a backup
//! of what is given up. Drains at shutdown; a file buffer persists what it could not send.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use logferry_msgpack::EventTime;
use tokio::sync::{watch, Notify};

use super::backend::{Backend, Handle, Memory};
use super::config::{BufferConfig, FlushMode, Overflow};
use super::keys::meta_for;
use super::meta::{ChunkId, ChunkMeta};
use super::retry::{mono_now, secs, AfterFailure, RetryState};
use super::split::{self, Limits, Target};
use crate::error::EmitError;
use crate::event::EventBatch;
use crate::log::PluginLog;
use crate::plugin::{ErrorEvents, Lifecycle, Output};

/// For a writer that [takes pieces](ChunkWriter::takes_parts), a batch taken verbatim
/// (out_forward's format) whose bytes are an allocation of their own ([`EventBatch::is_tight`])
/// goes into a memory chunk without a copy when its piece is at least this long; shorter ones
/// are copied, so a chunk of many small batches (one event per message) stays one buffer
/// instead of thousands of pieces. Measured with fwdbench (forward → forward, 4M events,
/// alternated): see docs/performance.md "Session 13". Formatted batches (out_http) are still
/// copied: their buffers kept in chunks cost more in page faults than the copy (measured).
const SHARE_AT_LEAST: usize = 16 << 10;

/// Seconds between retries of a failing chunk during the shutdown drain.
const DRAIN_RETRY_PACE: f64 = 0.5;

/// A chunk handed to a writer.
#[derive(Clone, Debug)]
pub struct Chunk {
    /// The chunk id (`${chunk_id}`).
    pub id: ChunkId,
    /// Its keys and counters.
    pub meta: ChunkMeta,
    /// The stored bytes in the pieces the buffer holds them in (at least one).
    parts: Arc<[Bytes]>,
    /// The pieces joined, made on first use when there are several (shared by clones).
    joined: Arc<std::sync::OnceLock<Bytes>>,
    gzip: bool,
}

impl Chunk {
    /// A chunk (for writers' tests and secondaries).
    pub fn new(id: ChunkId, meta: ChunkMeta, raw: Bytes, gzip: bool) -> Self {
        Self::from_parts(id, meta, vec![raw], gzip)
    }

    /// A chunk whose stored bytes are `parts`, in order.
    pub fn from_parts(id: ChunkId, meta: ChunkMeta, mut parts: Vec<Bytes>, gzip: bool) -> Self {
        if parts.is_empty() {
            parts.push(Bytes::new());
        }
        Chunk {
            id,
            meta,
            parts: parts.into(),
            joined: Default::default(),
            gzip,
        }
    }

    /// The stored bytes: gzip members when the buffer compresses (`compress gzip`). A chunk
    /// held in pieces is joined (copied) once, on the first call.
    pub fn raw(&self) -> &Bytes {
        match &*self.parts {
            [one] => one,
            parts => self.joined.get_or_init(|| super::backend::join(parts)),
        }
    }

    /// The stored bytes in the pieces the buffer holds them in, for writers that can send
    /// pieces without joining them ([`raw`](Self::raw) joins them).
    pub fn parts(&self) -> &[Bytes] {
        &self.parts
    }

    /// The length of the stored bytes.
    pub fn raw_len(&self) -> usize {
        self.parts.iter().map(Bytes::len).sum()
    }

    /// Is `raw` gzip-compressed?
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// The formatted bytes, decompressed if needed.
    pub fn bytes(&self) -> std::io::Result<Bytes> {
        if !self.gzip {
            return Ok(self.raw().clone());
        }
        Ok(Bytes::from(logferry_compress::gunzip(
            self.raw(),
            usize::MAX,
        )?))
    }

    /// Records in the chunk.
    pub fn records(&self) -> u64 {
        self.meta.records
    }
}

/// Why a write failed.
#[derive(Debug, Clone)]
pub enum WriteError {
    /// Try again later (network errors, 5xx, throttling).
    Retryable(String),
    /// Try again, but not sooner than this (a server's `Retry-After`): the next attempt waits for
    /// the later of the retry schedule and this delay. Counts against the retry limits as
    /// [`WriteError::Retryable`] does.
    RetryAfter(String, Duration),
    /// Trying again cannot help: send to the secondary or back the chunk up.
    Unrecoverable(String),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Retryable(e) => write!(f, "{e}"),
            WriteError::RetryAfter(e, d) => write!(f, "{e} (retry after {:.1}s)", d.as_secs_f64()),
            WriteError::Unrecoverable(e) => write!(f, "unrecoverable: {e}"),
        }
    }
}

/// The part of a buffered output that differs per plugin: how events become chunk bytes, and
/// how a chunk is written.
#[async_trait]
pub trait ChunkWriter: Send + Sync + 'static {
    /// Append the formatted event to `out`.
    fn format(&self, tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>);
    /// True when the writer sends a chunk's pieces ([`Chunk::parts`]) without joining them
    /// (out_forward's vectored writes): a memory buffer then keeps large batches taken verbatim
    /// as they are instead of copying them into the chunk.
    fn takes_parts(&self) -> bool {
        false
    }
    /// True when [`format`](Self::format) writes each entry exactly as the batch holds it
    /// (`92 D7 00 <time> <record>`, as out_forward does): a batch is then appended in one copy.
    fn formats_verbatim(&self) -> bool {
        false
    }
    /// Fluentd's `formatted_to_msgpack_binary?` for this output: its own `format` writes msgpack
    /// (out_http with a msgpack `<format>`, cloudwatch_logs, kinesis). A `file_single` buffer's
    /// `chunk_format auto` counts resumed records as msgpack values then, else as lines (also
    /// for out_forward, whose Fluentd counterpart says false).
    fn formatted_to_msgpack_binary(&self) -> bool {
        false
    }
    /// Whether [`format`](Self::format) can fail on a record ([`check`](Self::check) is asked
    /// before each one is formatted); false for most writers.
    fn checks_records(&self) -> bool {
        false
    }
    /// Why `record` cannot be formatted, where Fluentd's formatter raises on it (a csv field
    /// `$.m.k` over a value that is not a map): the event then goes to `@ERROR` instead of the
    /// chunk, as Fluentd sends it. Asked only when [`checks_records`](Self::checks_records).
    fn check(&self, _record: &[u8]) -> Result<(), String> {
        Ok(())
    }
    /// Write one chunk.
    async fn write(&self, chunk: &Chunk) -> Result<(), WriteError>;
    /// The CPU-heavy part of writing `chunk` that depends on its bytes alone (out_http
    /// compressing its body), if the writer has one. A memory buffer runs it on the blocking
    /// pool as soon as the chunk is queued, with at most as many outstanding as there are cores
    /// (none on one core), and gives the result to [`write_prepared`](Self::write_prepared): with
    /// a backlog, chunks are compressed in parallel although `flush_thread_count` writes them one
    /// by one.
    fn prepare(&self, _chunk: &Chunk) -> Option<Prepare> {
        None
    }
    /// Does [`prepare`](Self::prepare) give work for some chunks? (Asked before building a
    /// chunk for it.)
    fn prepares(&self) -> bool {
        false
    }
    /// Write one chunk with what its [`prepare`](Self::prepare) closure returned.
    async fn write_prepared(
        &self,
        chunk: &Chunk,
        _prepared: std::io::Result<Bytes>,
    ) -> Result<(), WriteError> {
        self.write(chunk).await
    }
    /// Called when a new staged chunk is created, with its data file for file buffers (out_file's
    /// `symlink_path` links to it). Runs under the buffer's lock: keep it short.
    fn chunk_created(
        &self,
        _meta: &super::meta::ChunkMeta,
        _id: &super::meta::ChunkId,
        _data_path: Option<&std::path::Path>,
    ) {
    }
    /// Called once at shutdown after the buffer's last write: release what the writer holds
    /// (close kept connections in order). Bounded by the shutdown deadline.
    async fn close(&self) {}
}

/// A writer's preparation of a chunk (see [`ChunkWriter::prepare`]).
pub type Prepare = Box<dyn FnOnce() -> std::io::Result<Bytes> + Send>;

/// Counters of one buffered output (named after fluent-plugin-prometheus's metrics).
#[derive(Debug, Default)]
pub struct BufferStats {
    /// Events accepted.
    pub emit_records: AtomicU64,
    /// Emit calls.
    pub emit_count: AtomicU64,
    /// Chunks written successfully.
    pub write_count: AtomicU64,
    /// Failed writes that will be retried.
    pub retry_count: AtomicU64,
    /// Failed writes of any kind.
    pub error_count: AtomicU64,
    /// Chunks dropped by `drop_oldest_chunk`.
    pub dropped_chunks: AtomicU64,
    /// Chunks given up and backed up (or written to the secondary).
    pub given_up_chunks: AtomicU64,
    /// Emits refused because the buffer was full.
    pub overflows: AtomicU64,
    /// Emits that waited for a healthy but busy output to catch up (memory buffers).
    pub paced: AtomicU64,
    /// Flushes that took longer than `slow_flush_log_threshold`.
    pub slow_flush_count: AtomicU64,
    /// Milliseconds spent in flushes (Fluentd's `flush_time_count`).
    pub flush_time_ms: AtomicU64,
}

/// The chunk keys of a staged chunk: time slice, tag, record values.
type Key = (Option<i64>, Option<String>, Vec<(String, String)>, Vec<u8>);

/// Lists the persisted chunks when the output starts.
pub type Resume = Box<dyn FnOnce() -> std::io::Result<Vec<Handle>> + Send>;

struct State {
    staged: HashMap<Key, Slot>,
    queue: VecDeque<Slot>,
    in_flight: usize,
    total_bytes: u64,
    closed: bool,
    draining: bool,
    retry: Option<RetryState>,
    last_failure: f64,
    /// A failure during the shutdown drain was logged at warn (later ones go to debug).
    drain_failure_logged: bool,
    /// Chunks handed to a writer and not finished, with their bytes: a memory buffer backs them
    /// up if the shutdown deadline passes while they are still being written.
    flying: HashMap<ChunkId, Chunk>,
    /// The queue holds a backlog left by failed writes: inputs are not paced until it drained.
    outage_backlog: bool,
    /// When staged chunks are next looked at for flush_interval / timekey_wait (see
    /// [`enqueue_interval`]).
    next_check: f64,
}

struct Slot {
    h: Handle,
    created: f64,
    /// The writer's preparation of the queued chunk, running or done.
    prepared: Option<Prepared>,
    /// Resumed from the file buffer at start (with flush_mode immediate, only such a chunk stays
    /// staged: see `resume_chunks`).
    resumed: bool,
}

/// A chunk's preparation on the blocking pool, counted among the output's outstanding ones
/// (running, or done and not yet written) until it is taken or dropped.
struct Prepared {
    task: Option<tokio::task::JoinHandle<std::io::Result<Bytes>>>,
    outstanding: Arc<AtomicUsize>,
}

impl Prepared {
    /// Its result, once done.
    async fn take(mut self) -> std::io::Result<Bytes> {
        let task = self.task.take().expect("taken once");
        drop(self); // no longer outstanding: the next queued chunk may be prepared
        task.await
            .unwrap_or_else(|e| Err(std::io::Error::other(format!("chunk preparation: {e}"))))
    }
}

impl Drop for Prepared {
    fn drop(&mut self) {
        self.outstanding.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Slot {
    fn new(h: Handle, created: f64) -> Slot {
        Slot {
            h,
            created,
            prepared: None,
            resumed: false,
        }
    }
}

/// One chunk key's share of a batch: its keys, the formatted bytes, the end of each record.
type Group<'b> = (ChunkMeta, Cow<'b, [u8]>, Vec<usize>);

/// The chunks one emit touched, for [`BufferedOutput::finish_write`].
#[derive(Default)]
struct Written {
    /// Staged chunks touched, in order (their id and key), unstaged ones too: the order in
    /// which they are considered for the queue.
    ops: Vec<(ChunkId, Key)>,
    /// Chunks not staged, waiting for the end of the write.
    held: Vec<(ChunkId, Key, Slot)>,
    /// The ids of `held` by chunk key, in order.
    unstaged_by_key: HashMap<Key, Vec<ChunkId>>,
    /// A chunk was queued already (a staged chunk queued before a write into a new one).
    enqueued: bool,
}

impl Written {
    fn hold(&mut self, id: ChunkId, key: Key, slot: Slot) {
        self.ops.push((id, key.clone()));
        self.unstaged_by_key
            .entry(key.clone())
            .or_default()
            .push(id);
        self.held.push((id, key, slot));
    }
}

/// Fluentd's `Metadata#<=>` (the order `Buffer#write` takes chunk keys in): time slice, tag,
/// then the record keys' values by key name, a missing one first.
fn fluentd_order(a: &ChunkMeta, b: &ChunkMeta) -> std::cmp::Ordering {
    let vars = |m: &ChunkMeta| {
        let mut v: Vec<(String, String)> = m.variables.clone();
        v.sort();
        v
    };
    a.timekey
        .cmp(&b.timekey)
        .then_with(|| a.tag.cmp(&b.tag))
        .then_with(|| vars(a).cmp(&vars(b)))
}

/// Room to ask for when formatting `batch`: formatted lines (JSON, with keys quoted and strings
/// escaped) run longer than the msgpack they come from, and growing the buffer mid-batch copies
/// it.
fn formatted_size(batch: &EventBatch) -> usize {
    batch.bytes().len().saturating_mul(2).saturating_add(64)
}

fn key_of(m: &ChunkMeta) -> Key {
    (
        m.timekey,
        m.tag.clone(),
        m.variables.clone(),
        m.variable_kinds.clone(),
    )
}

/// A buffered output: implements [`Output`] (emit = buffer) and [`Lifecycle`] (flush workers).
pub struct BufferedOutput {
    cfg: BufferConfig,
    writer: Arc<dyn ChunkWriter>,
    secondary: Option<Arc<dyn ChunkWriter>>,
    backend: Arc<dyn Backend>,
    state: Mutex<State>,
    work: Notify,
    space: Notify,
    log: PluginLog,
    backup_dir: PathBuf,
    stats: BufferStats,
    stop: watch::Sender<bool>,
    workers: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    resume: Mutex<Option<Resume>>,
    /// Chunk preparations outstanding ([`ChunkWriter::prepare`]: running on the blocking pool,
    /// or done and waiting to be written), and the most at once (the cores): so at most that many
    /// prepared bodies are held beside the queued chunks.
    preparing: Arc<AtomicUsize>,
    prepare_limit: usize,
    /// Where events this output cannot take (a chunk key or format raising in Fluentd) go: the
    /// router's `@ERROR`, set by [`set_error_emitter`](Self::set_error_emitter) when built.
    error_emitter: std::sync::OnceLock<crate::router::Emitter>,
    /// The buffers batches are formatted into, reused from one emit to the next.
    scratch: super::scratch::ScratchPool,
}

impl BufferedOutput {
    /// A buffered output over a memory store. (File stores: [`BufferedOutput::with_backend`].)
    pub fn new(
        cfg: BufferConfig,
        writer: Arc<dyn ChunkWriter>,
        secondary: Option<Arc<dyn ChunkWriter>>,
        log: PluginLog,
        backup_dir: PathBuf,
    ) -> Self {
        Self::with_backend(
            cfg,
            writer,
            secondary,
            log,
            backup_dir,
            Arc::new(Memory),
            None,
        )
    }

    /// Send the events this output cannot take to `emitter`'s `@ERROR` (or log them where there
    /// is none); until set they are logged and dropped.
    pub fn set_error_emitter(&self, emitter: crate::router::Emitter) {
        let _ = self.error_emitter.set(emitter);
    }

    /// A buffered output over any backend; `resume` lists persisted chunks at start.
    pub fn with_backend(
        cfg: BufferConfig,
        writer: Arc<dyn ChunkWriter>,
        secondary: Option<Arc<dyn ChunkWriter>>,
        log: PluginLog,
        backup_dir: PathBuf,
        backend: Arc<dyn Backend>,
        resume: Option<Resume>,
    ) -> Self {
        let (stop, _) = watch::channel(false);
        BufferedOutput {
            cfg,
            writer,
            secondary,
            backend,
            state: Mutex::new(State {
                staged: HashMap::new(),
                queue: VecDeque::new(),
                in_flight: 0,
                total_bytes: 0,
                closed: false,
                draining: false,
                retry: None,
                last_failure: 0.0,
                drain_failure_logged: false,
                flying: HashMap::new(),
                outage_backlog: false,
                next_check: 0.0,
            }),
            work: Notify::new(),
            space: Notify::new(),
            log,
            backup_dir,
            stats: BufferStats::default(),
            stop,
            workers: Mutex::new(Vec::new()),
            resume: Mutex::new(resume),
            error_emitter: std::sync::OnceLock::new(),
            scratch: Default::default(),
            preparing: Arc::new(AtomicUsize::new(0)),
            // On one core a preparation ahead only competes with the input for it.
            prepare_limit: match std::thread::available_parallelism().map_or(1, |n| n.get()) {
                1 => 0,
                n => n,
            },
        }
    }

    /// The counters.
    pub fn stats(&self) -> &BufferStats {
        &self.stats
    }

    /// The configuration.
    pub fn config(&self) -> &BufferConfig {
        &self.cfg
    }

    /// (staged chunks, queued chunks, bytes held).
    pub fn usage(&self) -> (usize, usize, u64) {
        let s = self.lock();
        (s.staged.len(), s.queue.len() + s.in_flight, s.total_bytes)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn enqueue_slot(&self, s: &mut State, mut slot: Slot) {
        // Fluentd's memory buffer closes a chunk without bytes instead of queueing it
        // (`Buffer#enqueue_chunk`: a memory chunk is `empty?` when its bytes are): events a format
        // writes as nothing (`add_newline false` over missing keys) leave no file, no request.
        if !self.backend.durable() && slot.h.meta.bytes == 0 {
            self.purge(s, &slot.h);
            return;
        }
        if let Err(e) = self.backend.enqueue(&mut slot.h) {
            // The chunk stays whole either way; it is flushed from memory of its handle.
            self.log.warn(format_args!(
                "cannot mark chunk {:?} queued: {e}",
                slot.h.id
            ));
        }
        self.prepare_ahead(&mut slot);
        s.queue.push_back(slot);
    }

    /// Start the preparation of the first queued chunks that have none, as far as the limit
    /// allows (called when a flush takes a chunk, so a backlog keeps being prepared ahead).
    fn prepare_queue(&self, s: &mut State) {
        if self.backend.durable() || !self.writer.prepares() {
            return;
        }
        for slot in s.queue.iter_mut().take(2 * self.prepare_limit) {
            if self.preparing.load(Ordering::Acquire) >= self.prepare_limit {
                break;
            }
            self.prepare_ahead(slot);
        }
    }

    /// Start the writer's preparation of a queued memory chunk on the blocking pool, unless as
    /// many as there are cores are outstanding (the flush then prepares it itself). File chunks
    /// are read from disk only when flushed, so they are not prepared ahead.
    fn prepare_ahead(&self, slot: &mut Slot) {
        if self.backend.durable() || slot.prepared.is_some() || !self.writer.prepares() {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Ok(parts) = self.backend.read_parts(&slot.h) else {
            return;
        };
        let chunk = Chunk::from_parts(
            slot.h.id,
            slot.h.meta.clone(),
            parts,
            self.cfg.compress_gzip,
        );
        let Some(work) = self.writer.prepare(&chunk) else {
            return;
        };
        if self.preparing.fetch_add(1, Ordering::AcqRel) >= self.prepare_limit {
            self.preparing.fetch_sub(1, Ordering::AcqRel);
            return;
        }
        slot.prepared = Some(Prepared {
            task: Some(rt.spawn_blocking(work)),
            outstanding: self.preparing.clone(),
        });
    }

    /// Move due staged chunks to the queue (timers). Returns whether anything was enqueued.
    fn enqueue_interval(&self) -> f64 {
        enqueue_interval(&self.cfg)
    }

    fn enqueue_due(&self, s: &mut State, force: bool) -> bool {
        let now = mono_now();
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let limit = self.cfg.queued_chunks_limit_size;
        // The timed conditions are looked at on Fluentd's enqueue thread's schedule; chunks of
        // flush_mode immediate at every call.
        let periodic = force || now >= s.next_check;
        if periodic && !force {
            s.next_check = now + self.enqueue_interval();
        }
        let due: Vec<(f64, Key)> = s
            .staged
            .iter()
            .filter(|(_, slot)| {
                force
                    || match self.cfg.flush_mode {
                        FlushMode::Immediate if !slot.resumed => true,
                        _ if !periodic => false,
                        FlushMode::Interval => {
                            slot.created + self.cfg.flush_interval.as_secs_f64() <= now
                        }
                        FlushMode::Lazy => match (slot.h.meta.timekey, self.cfg.timekey) {
                            (Some(tk), Some(len)) => {
                                (tk + len) as f64 + self.cfg.timekey_wait <= wall
                            }
                            _ => slot.created + self.cfg.flush_interval.as_secs_f64() <= now,
                        },
                        // A resumed chunk stays staged with immediate (see `resume_chunks`):
                        // queued once its time key is past `timekey_wait` (Fluentd's enqueue
                        // thread runs for a time key) or, without one, once flush_interval has
                        // passed; any other staged chunk at the next tick.
                        FlushMode::Immediate if slot.resumed => {
                            match (slot.h.meta.timekey, self.cfg.timekey) {
                                (Some(tk), Some(len)) => {
                                    (tk + len) as f64 + self.cfg.timekey_wait <= wall
                                }
                                _ => slot.created + self.cfg.flush_interval.as_secs_f64() <= now,
                            }
                        }
                        FlushMode::Immediate => true,
                    }
            })
            .map(|(k, slot)| (slot.created, k.clone()))
            .collect();
        // Oldest first, as Fluentd enqueues its staged chunks (in the order they were made): with
        // `append false` the order names the files (`_0`, `_1` …).
        let mut due = due;
        due.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut any = false;
        for (_, k) in due {
            if !force && s.queue.len() + s.in_flight >= limit {
                break;
            }
            if let Some(slot) = s.staged.remove(&k) {
                // Empty (Fluentd's `chunk.empty?`: no bytes; a file_single chunk resumed without
                // calc_num_records has bytes and counts 0 records).
                if slot.h.meta.records == 0 && slot.h.meta.bytes == 0 {
                    let _ = self.backend.purge(&slot.h);
                    continue;
                }
                self.enqueue_slot(s, slot);
                any = true;
            }
        }
        any
    }

    fn purge(&self, s: &mut State, h: &Handle) {
        if let Err(e) = self.backend.purge(h) {
            self.log
                .warn(format_args!("cannot delete chunk {:?}: {e}", h.id));
        }
        s.total_bytes = s.total_bytes.saturating_sub(h.meta.bytes);
        if s.outage_backlog && s.retry.is_none() && s.queue.len() < self.pace_limit() {
            s.outage_backlog = false;
        }
        self.space.notify_waiters();
    }

    /// Queued chunks above which a memory buffer's healthy output paces its inputs.
    fn pace_limit(&self) -> usize {
        self.cfg.queued_chunks_limit_size.max(1)
    }

    /// Back a chunk up (unless disabled) and drop it.
    fn give_up(&self, s: &mut State, h: &Handle, why: &str) {
        self.stats.given_up_chunks.fetch_add(1, Ordering::Relaxed);
        if self.cfg.disable_chunk_backup {
            self.log.error(format_args!(
                "chunk {:?} ({} records) dropped: {why} (disable_chunk_backup)",
                h.id, h.meta.records
            ));
        } else {
            match self
                .backend
                .backup(h, &self.backup_dir, self.cfg.backup_perms)
            {
                Ok(p) => self.log.error(format_args!(
                    "chunk {:?} ({} records) given up: {why}; backed up to {}",
                    h.id,
                    h.meta.records,
                    p.display()
                )),
                Err(e) => self.log.error(format_args!(
                    "chunk {:?} ({} records) given up: {why}; BACKUP FAILED: {e}",
                    h.id, h.meta.records
                )),
            }
        }
        self.purge(s, h);
    }

    /// The batch formatted per chunk key: (keys, formatted bytes, end of each record in them).
    /// An event whose chunk keys or format fail (Fluentd raises there) goes to `failed` instead.
    fn format_groups<'b>(
        &self,
        tag: &str,
        batch: &'b EventBatch,
        failed: &mut ErrorEvents,
    ) -> Vec<Group<'b>> {
        let mut groups: Vec<Group<'b>> = Vec::new();
        let plain_keys = self.cfg.timekey.is_none() && self.cfg.record_keys.is_empty();
        let checks = self.writer.checks_records();
        let Some(first) = batch.iter().next() else {
            return groups;
        };
        if plain_keys && self.writer.formats_verbatim() && !checks {
            // One group, the batch's bytes as they are (no per-event work, no copy).
            let meta = meta_for(&self.cfg, tag, first.time, first.record).unwrap_or_default();
            let ends: Vec<usize> = batch.ends().iter().map(|&e| e as usize).collect();
            let len = ends.last().copied().unwrap_or(0);
            groups.push((meta, Cow::Borrowed(&batch.bytes()[..len]), ends));
            return groups;
        }
        if plain_keys {
            // One group: the keys are the tag's only (record keys, which can fail, are none).
            let meta = meta_for(&self.cfg, tag, first.time, first.record).unwrap_or_default();
            let mut data = self.scratch.take(formatted_size(batch));
            let mut ends = Vec::with_capacity(batch.len());
            for e in batch {
                if checks {
                    if let Err(why) = self.writer.check(e.record) {
                        failed.push(e.time, e.record, why);
                        continue;
                    }
                }
                self.writer.format(tag, e.time, e.record, &mut data);
                ends.push(data.len());
            }
            if ends.is_empty() {
                self.scratch.give(data);
            } else {
                groups.push((meta, Cow::Owned(data), ends));
            }
            return groups;
        }
        for e in batch {
            let meta = match meta_for(&self.cfg, tag, e.time, e.record) {
                Ok(m) => m,
                Err(why) => {
                    failed.push(e.time, e.record, why);
                    continue;
                }
            };
            if checks {
                if let Err(why) = self.writer.check(e.record) {
                    failed.push(e.time, e.record, why);
                    continue;
                }
            }
            let idx = match groups.iter().position(|(m, _, _)| m.same_keys(&meta)) {
                Some(i) => i,
                None => {
                    // The first group takes a pooled buffer; further ones (several chunk keys
                    // in one batch) grow their own.
                    let data = if groups.is_empty() {
                        self.scratch.take(formatted_size(batch))
                    } else {
                        Vec::new()
                    };
                    groups.push((meta, Cow::Owned(data), Vec::new()));
                    groups.len() - 1
                }
            };
            let g = &mut groups[idx];
            let data = g.1.to_mut();
            self.writer.format(tag, e.time, e.record, data);
            g.2.push(data.len());
        }
        groups
    }

    /// Hand the events this output could not take to `@ERROR` (Fluentd's "send an error event
    /// stream to @ERROR"), or log each one where no router was given.
    async fn reject(&self, tag: &str, mut failed: ErrorEvents) {
        let (events, reasons) = failed.take();
        match self.error_emitter.get() {
            Some(em) => em.emit_error_events(tag, events, &reasons).await,
            None => {
                for (e, reason) in events.iter().zip(&reasons) {
                    let mut json = Vec::new();
                    let _ = logferry_msgpack::write_json(e.record, &mut json);
                    self.log.warn(format_args!(
                        "dump an error event: {reason} (tag {tag}, record {})",
                        String::from_utf8_lossy(&json)
                    ));
                }
            }
        }
    }

    fn compress<'d>(&self, data: &'d [u8]) -> std::io::Result<Cow<'d, [u8]>> {
        if !self.cfg.compress_gzip {
            return Ok(Cow::Borrowed(data));
        }
        Ok(Cow::Owned(logferry_compress::gzip(data)))
    }

    /// The chunk limits, for [`split::plan`].
    fn limits(&self) -> Limits {
        Limits {
            bytes: self.cfg.chunk_limit_size,
            records: self.cfg.chunk_limit_records,
            full_threshold: self.cfg.chunk_full_threshold,
        }
    }

    /// A new chunk for `meta`, not staged.
    fn new_slot(&self, meta: &ChunkMeta) -> std::io::Result<Slot> {
        let mut h = self.backend.create(meta.clone())?;
        h.limit = usize::try_from(self.cfg.chunk_limit_size).unwrap_or(usize::MAX);
        self.writer
            .chunk_created(&h.meta, &h.id, self.backend.data_path(&h).as_deref());
        Ok(Slot::new(h, mono_now()))
    }

    /// Append the records `range` of a group (but those in `skip`) to `slot`; the bytes added.
    fn append_records(
        &self,
        slot: &mut Slot,
        data: &[u8],
        ends: &[usize],
        range: std::ops::Range<usize>,
        skip: &[usize],
        shared: Option<&Bytes>,
    ) -> std::io::Result<u64> {
        let before = slot.h.meta.bytes;
        let mut i = range.start;
        while i < range.end {
            if skip.contains(&i) {
                i += 1;
                continue;
            }
            let mut j = i;
            while j < range.end && !skip.contains(&j) {
                j += 1;
            }
            let base = if i == 0 { 0 } else { ends[i - 1] };
            let end = ends[j - 1];
            let n = (j - i) as u64;
            // (`shared` is None where the buffer compresses: see `emit`.)
            match shared {
                Some(b) if end - base >= SHARE_AT_LEAST => {
                    self.backend
                        .append_shared(&mut slot.h, b.slice(base..end), n)?
                }
                _ => {
                    let piece = self.compress(&data[base..end])?;
                    self.backend.append(&mut slot.h, &piece, n)?
                }
            }
            i = j;
        }
        Ok(slot.h.meta.bytes - before)
    }

    /// Append one group's records (one chunk key) where Fluentd's `Buffer#write` puts them
    /// ([`split::plan`]): the staged chunk, new chunks not staged, each chunk noted in `w` for
    /// [`finish_write`](Self::finish_write). `shared`: `data` is the start of these shared bytes
    /// (a batch taken verbatim), which the backend may keep without a copy.
    fn append_group(
        &self,
        s: &mut State,
        meta: ChunkMeta,
        data: &[u8],
        ends: &[usize],
        shared: Option<&Bytes>,
        w: &mut Written,
    ) -> std::io::Result<()> {
        let key = key_of(&meta);
        let sizes: Vec<u64> = ends
            .iter()
            .enumerate()
            .map(|(i, &e)| (e - if i == 0 { 0 } else { ends[i - 1] }) as u64)
            .collect();
        let staged = s
            .staged
            .get(&key)
            .map(|sl| (sl.h.meta.bytes, sl.h.meta.records));
        let plan = split::plan(
            staged,
            &sizes,
            self.limits(),
            self.writer.formats_verbatim(),
        );
        if plan.enqueue_staged_first {
            if let Some(slot) = s.staged.remove(&key) {
                self.enqueue_slot(s, slot);
                w.enqueued = true;
            }
        }
        for piece in &plan.pieces {
            match piece.target {
                Target::Staged if piece.side => {
                    // Staged beside the key's own chunk in Fluentd; queued at the end here.
                    let mut slot = self.new_slot(&meta)?;
                    let added = self.append_records(
                        &mut slot,
                        data,
                        ends,
                        piece.records.clone(),
                        &plan.alone,
                        shared,
                    )?;
                    s.total_bytes += added;
                    if piece.unstage {
                        w.hold(slot.h.id, key.clone(), slot);
                    } else {
                        w.ops.push((slot.h.id, key.clone()));
                        w.held.push((slot.h.id, key.clone(), slot));
                    }
                }
                Target::Staged => {
                    if !s.staged.contains_key(&key) {
                        let slot = self.new_slot(&meta)?;
                        s.staged.insert(key.clone(), slot);
                    }
                    let slot = s.staged.get_mut(&key).expect("just inserted");
                    let added = self.append_records(
                        slot,
                        data,
                        ends,
                        piece.records.clone(),
                        &plan.alone,
                        shared,
                    )?;
                    let id = slot.h.id;
                    s.total_bytes += added;
                    if piece.unstage {
                        let slot = s.staged.remove(&key).expect("present");
                        w.hold(id, key.clone(), slot);
                    } else {
                        w.ops.push((id, key.clone()));
                    }
                }
                Target::Fresh => {
                    let mut slot = self.new_slot(&meta)?;
                    let added = self.append_records(
                        &mut slot,
                        data,
                        ends,
                        piece.records.clone(),
                        &plan.alone,
                        shared,
                    )?;
                    s.total_bytes += added;
                    w.hold(slot.h.id, key.clone(), slot);
                }
            }
        }
        for &i in &plan.alone {
            // One record larger than chunk_limit_size: Fluentd refuses it (and the client
            // resends it forever); logferry keeps it, alone in its own chunk.
            let size = sizes[i];
            let limit = self.cfg.chunk_limit_size;
            self.log.warn(format_args!("a record of {size} bytes is larger than chunk_limit_size {limit}; it is kept in a chunk of its own"));
            let mut slot = self.new_slot(&meta)?;
            s.total_bytes += self.append_records(&mut slot, data, ends, i..i + 1, &[], shared)?;
            w.hold(slot.h.id, key.clone(), slot);
        }
        Ok(())
    }

    /// The end of Fluentd's `Buffer#write`, once every group is appended: in the order the
    /// chunks were touched, a staged chunk that is full (every one with `flush_mode immediate`)
    /// is queued, and the last unstaged chunk of its key that is not full takes its place on the
    /// stage; every other unstaged chunk is queued. True when anything was queued.
    fn finish_write(&self, s: &mut State, mut w: Written) -> bool {
        let immediate = self.cfg.flush_mode == FlushMode::Immediate;
        let limits = self.limits();
        let full = |h: &Handle| limits.full(h.meta.bytes, h.meta.records);
        let mut any = w.enqueued;
        let ops = std::mem::take(&mut w.ops);
        for (id, key) in ops {
            let staged_here = s.staged.get(&key).is_some_and(|sl| sl.h.id == id);
            if staged_here {
                if !(immediate || s.staged.get(&key).is_some_and(|sl| full(&sl.h))) {
                    continue;
                }
                let slot = s.staged.remove(&key).expect("present");
                self.enqueue_slot(s, slot);
                any = true;
                let last = w.unstaged_by_key.get_mut(&key).and_then(Vec::pop);
                if let Some(pos) = last.and_then(|u| w.held.iter().position(|(i, _, _)| *i == u)) {
                    if !full(&w.held[pos].2.h) {
                        let (_, k, slot) = w.held.remove(pos);
                        s.staged.insert(k, slot);
                    }
                }
            } else if let Some(pos) = w.held.iter().position(|(i, _, _)| *i == id) {
                let (_, _, slot) = w.held.remove(pos);
                self.enqueue_slot(s, slot);
                any = true;
            }
        }
        // (Nothing is left held; should anything be, it is queued rather than lost.)
        for (_, _, slot) in w.held.drain(..) {
            self.enqueue_slot(s, slot);
            any = true;
        }
        any
    }

    /// Wait until the buffer may take more. Two limits apply:
    ///
    /// * `total_limit_size`, with the configured `overflow_action` (Fluentd's behaviour);
    /// * pacing (logferry): a memory buffer whose output is healthy but slower than its inputs
    ///   lets at most `queued_chunks_limit_size` chunks (default: `flush_thread_count`) wait in
    ///   the queue; beyond that the emit waits for a flush to finish, so the input reads more
    ///   slowly (TCP backpressure) instead of the buffer growing towards `total_limit_size` at
    ///   full speed. A backlog left by failed writes (an outage) is not paced: it may use the
    ///   whole `total_limit_size` until it has drained.
    async fn wait_for_room(&self) -> Result<(), EmitError> {
        let pace = !self.backend.durable();
        loop {
            let space = self.space.notified();
            tokio::pin!(space);
            // Registered before the checks, so a purge between them and the wait wakes us.
            space.as_mut().enable();
            {
                let mut s = self.lock();
                if s.closed {
                    return Err(EmitError::ShuttingDown);
                }
                let paced = pace
                    && s.retry.is_none()
                    && !s.outage_backlog
                    && !s.draining
                    && s.queue.len() >= self.pace_limit();
                if paced {
                    self.stats.paced.fetch_add(1, Ordering::Relaxed);
                } else if s.total_bytes < self.cfg.total_limit_size {
                    return Ok(());
                } else {
                    match self.cfg.overflow {
                        Overflow::ThrowException => {
                            self.stats.overflows.fetch_add(1, Ordering::Relaxed);
                            return Err(EmitError::Overflow(format!(
                                "buffer space has too many data ({} bytes of total_limit_size {})",
                                s.total_bytes, self.cfg.total_limit_size
                            )));
                        }
                        Overflow::DropOldestChunk => {
                            match s.queue.pop_front() {
                                Some(slot) => {
                                    self.stats.dropped_chunks.fetch_add(1, Ordering::Relaxed);
                                    self.log.warn(format_args!("buffer full: dropping the oldest chunk {:?} ({} records) (drop_oldest_chunk)", slot.h.id, slot.h.meta.records));
                                    self.purge(&mut s, &slot.h);
                                }
                                None => {
                                    self.log.warn(format_args!("buffer full and no queued chunk to drop; accepting the write over total_limit_size"));
                                    return Ok(());
                                }
                            }
                            continue;
                        }
                        Overflow::Block => {
                            self.stats.overflows.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
            // Wait for room (checked at least every second, as Fluentd polls).
            let _ = tokio::time::timeout(Duration::from_secs(1), space).await;
        }
    }

    /// One flush attempt of the queue head. Returns false when there was nothing to do.
    async fn flush_one(&self) -> bool {
        let (h, durable_read) = {
            let mut s = self.lock();
            if let Some(r) = &s.retry {
                // While draining at shutdown, retries are paced by DRAIN_RETRY_PACE instead of the
                // (possibly long) schedule, so the drain neither waits out a backoff nor hammers
                // a failing server.
                let due = if s.draining {
                    r.next.min(s.last_failure + DRAIN_RETRY_PACE)
                } else {
                    r.next
                };
                if mono_now() < due {
                    return false;
                }
            }
            let Some(slot) = s.queue.pop_front() else {
                return false;
            };
            self.prepare_queue(&mut s);
            s.in_flight += 1;
            let read = self.backend.read_parts(&slot.h);
            (slot, read)
        };
        let Slot { h, prepared, .. } = h;
        let parts = match durable_read {
            Ok(p) => p,
            Err(e) => {
                let mut s = self.lock();
                s.in_flight -= 1;
                self.give_up(&mut s, &h, &format!("cannot read the chunk: {e}"));
                return true;
            }
        };
        let chunk = Chunk::from_parts(h.id, h.meta.clone(), parts, self.cfg.compress_gzip);
        self.lock().flying.insert(h.id, chunk.clone());
        let use_secondary = {
            let s = self.lock();
            match (&self.secondary, &s.retry) {
                (Some(_), Some(r)) => r.secondary_due(&self.cfg.retry, mono_now()),
                _ => false,
            }
        };
        let target: &Arc<dyn ChunkWriter> = match (&self.secondary, use_secondary) {
            (Some(sec), true) => sec,
            _ => &self.writer,
        };
        let started = std::time::Instant::now();
        // The writer's preparation started when the chunk was queued (not for the secondary).
        let write = async {
            match prepared {
                Some(p) if !use_secondary => target.write_prepared(&chunk, p.take().await).await,
                _ => target.write(&chunk).await,
            }
        };
        let result = match self.cfg.delayed_commit_timeout {
            None => write.await,
            Some(limit) => match tokio::time::timeout(limit, write).await {
                Ok(r) => r,
                Err(_) => Err(WriteError::Retryable(format!(
                    "write took longer than delayed_commit_timeout ({limit:?})"
                ))),
            },
        };
        let took = started.elapsed();
        self.stats
            .flush_time_ms
            .fetch_add(took.as_millis() as u64, Ordering::Relaxed);
        if took > self.cfg.slow_flush_log_threshold
            && self.cfg.slow_flush_log_threshold > Duration::ZERO
        {
            self.stats.slow_flush_count.fetch_add(1, Ordering::Relaxed);
            self.log.warn(format_args!("buffer flush took longer time than slow_flush_log_threshold: elapsed_time={:.3} slow_flush_log_threshold={:?} chunk={:?}", took.as_secs_f64(), self.cfg.slow_flush_log_threshold, h.id));
        }
        if let Err(WriteError::Unrecoverable(e)) = &result {
            self.stats.error_count.fetch_add(1, Ordering::Relaxed);
            self.log.warn(format_args!(
                "got unrecoverable error writing chunk {:?}: {e}",
                h.id
            ));
            // Once to the secondary (if it is another writer), else a backup.
            let sent = match &self.secondary {
                Some(sec) if !use_secondary => sec.write(&chunk).await.is_ok(),
                _ => false,
            };
            let mut s = self.lock();
            s.in_flight -= 1;
            s.flying.remove(&h.id);
            if sent {
                self.log
                    .warn(format_args!("chunk {:?} written to the secondary", h.id));
                self.purge(&mut s, &h);
            } else {
                self.give_up(&mut s, &h, e);
            }
            return true;
        }
        let mut s = self.lock();
        s.in_flight -= 1;
        s.flying.remove(&h.id);
        match result {
            Ok(()) => {
                self.stats.write_count.fetch_add(1, Ordering::Relaxed);
                if use_secondary {
                    self.log.warn(format_args!(
                        "chunk {:?} written to the secondary after retries",
                        h.id
                    ));
                }
                if s.retry.take().is_some() {
                    self.log
                        .info(format_args!("retry succeeded: chunk {:?}", h.id));
                }
                self.purge(&mut s, &h);
            }
            Err(WriteError::Unrecoverable(_)) => unreachable!("handled above"),
            Err(err @ (WriteError::Retryable(_) | WriteError::RetryAfter(..))) => {
                let e = err.to_string();
                self.stats.error_count.fetch_add(1, Ordering::Relaxed);
                self.stats.retry_count.fetch_add(1, Ordering::Relaxed);
                let now = mono_now();
                let draining = s.draining;
                let mut after = match &mut s.retry {
                    None => {
                        let (r, a) = RetryState::first(&self.cfg.retry, now);
                        s.retry = Some(r);
                        s.outage_backlog = true;
                        a
                    }
                    // During the shutdown drain, attempts come every DRAIN_RETRY_PACE: counting
                    // each as a step of the schedule would run the backoff up to days and hit
                    // the retry limit in seconds. The schedule stays where it was.
                    Some(r) if draining => {
                        r.next = now + DRAIN_RETRY_PACE;
                        AfterFailure::RetryAt(r.next)
                    }
                    Some(r) => r.failed(&self.cfg.retry, now),
                };
                // A server's Retry-After postpones the next attempt past the schedule.
                if let (WriteError::RetryAfter(_, d), AfterFailure::RetryAt(at), Some(r)) =
                    (&err, &mut after, &mut s.retry)
                {
                    let floor = now + d.as_secs_f64();
                    if floor > *at {
                        *at = floor;
                        r.next = floor;
                    }
                }
                s.queue.push_front(Slot::new(h, now));
                s.last_failure = now;
                match after {
                    AfterFailure::RetryAt(_) if draining => {
                        let first = !std::mem::replace(&mut s.drain_failure_logged, true);
                        let msg = format_args!(
                            "failed to flush the buffer while shutting down, trying again every {DRAIN_RETRY_PACE}s until the shutdown deadline: {e}"
                        );
                        if first {
                            self.log.warn(msg);
                        } else {
                            self.log.debug(msg);
                        }
                    }
                    AfterFailure::RetryAt(at) => {
                        let steps = s.retry.as_ref().map_or(0, RetryState::steps);
                        self.log.warn(format_args!(
                            "failed to flush the buffer, retry #{steps} in {:.1}s: {e}",
                            at - now
                        ));
                    }
                    AfterFailure::GiveUp => {
                        // Fluentd discards every queued chunk here; logferry backs each one up.
                        self.log.error(format_args!(
                            "retry limit reached: giving up {} queued chunk(s): {e}",
                            s.queue.len()
                        ));
                        while let Some(slot) = s.queue.pop_front() {
                            self.give_up(&mut s, &slot.h, "retry limit reached");
                        }
                        s.retry = None;
                    }
                }
            }
        }
        true
    }

    async fn worker(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        {
            // Fluentd's enqueue thread first looks half a second after the start (it polls
            // `after_started?` every 0.5 s), then every `enqueue_interval`.
            let mut s = self.lock();
            if s.next_check == 0.0 {
                s.next_check = mono_now() + FIRST_ENQUEUE_CHECK;
            }
        }
        loop {
            let enqueued = {
                let mut s = self.lock();
                let force = s.draining;
                self.enqueue_due(&mut s, force)
            };
            let _ = enqueued;
            if self.flush_one().await {
                continue;
            }
            if *stop.borrow() {
                break;
            }
            let wait = {
                let s = self.lock();
                let tick = self.cfg.flush_thread_interval.as_secs_f64();
                match &s.retry {
                    Some(r) if !s.queue.is_empty() => {
                        (r.next - mono_now()).clamp(0.0, tick.max(0.05))
                    }
                    _ => tick,
                }
            };
            tokio::select! {
                _ = self.work.notified() => {}
                _ = tokio::time::sleep(secs(wait)) => {}
                _ = stop.changed() => {}
            }
        }
    }

    fn resume_chunks(&self) -> std::io::Result<()> {
        let Some(f) = self.resume.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return Ok(());
        };
        let chunks = f()?;
        let mut s = self.lock();
        let (mut staged, mut queued, mut records) = (0, 0, 0u64);
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        for h in chunks {
            s.total_bytes += h.meta.bytes;
            records += h.meta.records;
            // A chunk's age counts from its creation, before the restart (Fluentd's
            // `created_at`): an old staged chunk is due at once with flush_mode interval. With
            // flush_mode immediate, Fluentd keeps a resumed staged chunk until an event with its
            // keys joins it (then queues it) or a shutdown flushes it: with a file buffer,
            // possibly for ever; logferry also queues it once `flush_interval` has passed since
            // the start with none (README "Differences from Fluentd").
            let created = if self.cfg.flush_mode == FlushMode::Immediate {
                mono_now()
            } else {
                mono_now() - (wall - h.meta.created as f64).max(0.0)
            };
            if h.queued {
                queued += 1;
                s.queue.push_back(Slot::new(h, created));
            } else {
                let key = key_of(&h.meta);
                staged += 1;
                // Two staged chunks with the same keys: enqueue the older one.
                let mut slot = Slot::new(h, created);
                slot.resumed = true;
                if let Some(old) = s.staged.insert(key, slot) {
                    self.enqueue_slot(&mut s, old);
                }
            }
        }
        if staged + queued > 0 {
            self.log.info(format_args!(
                "resumed {staged} staged and {queued} queued chunk(s), {records} record(s)"
            ));
        }
        Ok(())
    }
}

/// Run blocking work (file I/O, compression) without holding up the other tasks of this runtime
/// worker: `block_in_place` on a multi-thread runtime; inline on a current-thread one (tests,
/// tools), where it cannot be moved.
fn off_io<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

#[async_trait]
impl Output for BufferedOutput {
    /// Only a writer that writes entries as the batch holds them (out_forward), into chunks keyed
    /// by nothing but the tag, takes records unread: Fluentd's `handle_stream_simple`.
    fn reads_records(&self) -> bool {
        let plain_keys = self.cfg.timekey.is_none() && self.cfg.record_keys.is_empty();
        !(plain_keys && self.writer.formats_verbatim() && !self.writer.checks_records())
    }

    async fn emit(&self, tag: &str, batch: EventBatch) -> Result<(), EmitError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut failed = ErrorEvents::default();
        let groups = self.format_groups(tag, &batch, &mut failed);
        if !failed.is_empty() {
            self.reject(tag, failed).await;
        }
        self.wait_for_room().await?;
        let durable = self.backend.durable();
        let share = !durable && !self.cfg.compress_gzip && self.writer.takes_parts();
        let append = || -> Result<bool, EmitError> {
            let mut s = self.lock();
            if s.closed {
                return Err(EmitError::ShuttingDown);
            }
            let mut written = Written::default();
            // Fluentd writes the chunk keys of one emit in the order of their metadata.
            let mut groups = groups;
            groups.sort_by(|a, b| fluentd_order(&a.0, &b.0));
            for (meta, data, ends) in groups {
                // A batch taken verbatim, in an allocation of its own (see SHARE_AT_LEAST).
                let shared = (share && matches!(data, Cow::Borrowed(_)) && batch.is_tight())
                    .then(|| batch.bytes());
                let r = self.append_group(&mut s, meta, &data, &ends, shared, &mut written);
                if let Cow::Owned(buf) = data {
                    self.scratch.give(buf);
                }
                if let Err(e) = r {
                    // What was appended is kept (queued), as before an error.
                    self.finish_write(&mut s, written);
                    return Err(EmitError::Failed(format!("buffer write failed: {e}")));
                }
            }
            Ok(self.finish_write(&mut s, written))
        };
        // File I/O and `compress gzip` block: off the runtime's I/O workers (block_in_place moves
        // this worker's other tasks, the input connections among them, to another thread).
        let enqueued = if durable || self.cfg.compress_gzip {
            off_io(append)?
        } else {
            append()?
        };
        self.stats
            .emit_records
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        if enqueued {
            self.work.notify_waiters();
        }
        Ok(())
    }
}

#[async_trait]
impl Lifecycle for BufferedOutput {
    async fn start(self: Arc<Self>) -> Result<(), String> {
        self.resume_chunks()
            .map_err(|e| format!("{}: cannot resume the buffer: {e}", self.log.name()))?;
        let mut workers = self.workers.lock().unwrap_or_else(|e| e.into_inner());
        for _ in 0..self.cfg.flush_thread_count {
            let me = self.clone();
            let rx = self.stop.subscribe();
            workers.push(tokio::spawn(me.worker(rx)));
        }
        Ok(())
    }

    async fn drain(&self, deadline: tokio::time::Instant) {
        {
            let mut s = self.lock();
            s.closed = true;
            if self.cfg.flush_at_shutdown {
                s.draining = true;
                self.enqueue_due(&mut s, true);
                // Pending retries are tried at once during the drain.
                if let Some(r) = &mut s.retry {
                    r.next = 0.0;
                }
            }
        }
        self.space.notify_waiters();
        self.work.notify_waiters();
        if self.cfg.flush_at_shutdown {
            loop {
                let done = {
                    let s = self.lock();
                    s.queue.is_empty() && s.in_flight == 0
                };
                if done || tokio::time::Instant::now() >= deadline {
                    break;
                }
                self.work.notify_waiters();
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        let _ = self.stop.send(true);
        self.work.notify_waiters();
        let workers: Vec<_> =
            std::mem::take(&mut *self.workers.lock().unwrap_or_else(|e| e.into_inner()));
        for w in workers {
            if tokio::time::timeout_at(deadline, w).await.is_err() {
                self.log.warn(format_args!(
                    "a flush did not finish by the shutdown deadline"
                ));
            }
        }
        for w in [Some(&self.writer), self.secondary.as_ref()]
            .into_iter()
            .flatten()
        {
            if tokio::time::timeout_at(deadline, w.close()).await.is_err() {
                self.log.debug(format_args!(
                    "closing the output's connections did not finish by the shutdown deadline"
                ));
            }
        }
        let mut s = self.lock();
        let left: u64 = s
            .staged
            .values()
            .chain(s.queue.iter())
            .map(|x| x.h.meta.records)
            .sum::<u64>()
            + s.flying.values().map(|c| c.meta.records).sum::<u64>();
        if left == 0 {
            return;
        }
        if self.backend.durable() {
            self.log.info(format_args!(
                "{left} record(s) stay in the file buffer for the next start"
            ));
            return;
        }
        // A memory buffer: what could not be sent by the deadline is backed up, never dropped
        // (unless disable_chunk_backup).
        let why = "not flushed by the shutdown deadline";
        let staged: Vec<Slot> = s.staged.drain().map(|(_, v)| v).collect();
        let queued: Vec<Slot> = s.queue.drain(..).collect();
        for slot in staged.iter().chain(queued.iter()) {
            self.give_up(&mut s, &slot.h, why);
        }
        let flying: Vec<_> = s.flying.drain().collect();
        drop(s);
        for (id, chunk) in flying {
            let records = chunk.meta.records;
            self.stats.given_up_chunks.fetch_add(1, Ordering::Relaxed);
            if self.cfg.disable_chunk_backup {
                self.log.error(format_args!(
                    "chunk {id:?} ({records} records) dropped: still being written at the shutdown deadline (disable_chunk_backup)"
                ));
                continue;
            }
            match super::backend::write_backup(&id, chunk.raw(), &self.backup_dir, self.cfg.backup_perms) {
                Ok(p) => self.log.error(format_args!(
                    "chunk {id:?} ({records} records) was still being written at the shutdown deadline; backed up to {} (it may also arrive)",
                    p.display()
                )),
                Err(e) => self.log.error(format_args!(
                    "chunk {id:?} ({records} records) was still being written at the shutdown deadline; BACKUP FAILED: {e}"
                )),
            }
        }
    }

    fn flush_now(&self) {
        let mut s = self.lock();
        self.enqueue_due(&mut s, true);
        if let Some(r) = &mut s.retry {
            r.next = 0.0;
        }
        drop(s);
        self.work.notify_waiters();
    }
}

impl crate::metrics::PluginMetrics for BufferedOutput {
    fn snapshot(&self) -> crate::metrics::Snapshot {
        let s = self.lock();
        let st = &self.stats;
        let stage_bytes: u64 = s.staged.values().map(|slot| slot.h.meta.bytes).sum();
        let mut timekeys: Vec<i64> = s
            .staged
            .values()
            .chain(s.queue.iter())
            .filter_map(|slot| slot.h.meta.timekey)
            .collect();
        timekeys.sort_unstable();
        timekeys.dedup();
        let now = mono_now();
        let wall = |mono: f64| crate::metrics::unix_now() - (now - mono);
        crate::metrics::Snapshot {
            slow_flush_count: st.slow_flush_count.load(Ordering::Relaxed),
            flush_time_ms: st.flush_time_ms.load(Ordering::Relaxed),
            buffer_stage_bytes: stage_bytes,
            buffer_queue_bytes: s.total_bytes.saturating_sub(stage_bytes),
            buffer_timekeys: timekeys,
            retry: s.retry.as_ref().map(|r| crate::metrics::RetryInfo {
                start: wall(r.started()),
                steps: r.steps(),
                next_time: wall(r.next),
            }),
            emit_records: st.emit_records.load(Ordering::Relaxed),
            emit_count: st.emit_count.load(Ordering::Relaxed),
            write_count: st.write_count.load(Ordering::Relaxed),
            retry_count: st.retry_count.load(Ordering::Relaxed),
            num_errors: st.error_count.load(Ordering::Relaxed),
            buffer_queue_length: (s.queue.len() + s.in_flight) as u64,
            buffer_stage_length: s.staged.len() as u64,
            buffer_total_bytes: s.total_bytes,
            buffer_limit_bytes: self.cfg.total_limit_size,
            dropped_chunks: st.dropped_chunks.load(Ordering::Relaxed),
            given_up_chunks: st.given_up_chunks.load(Ordering::Relaxed),
            failing_for: s.retry.as_ref().map(|r| mono_now() - r.started()),
            extra: vec![
                ("overflows", st.overflows.load(Ordering::Relaxed)),
                ("paced_emits", st.paced.load(Ordering::Relaxed)),
            ],
        }
    }
}

/// Seconds after the start at which staged chunks are first looked at for `flush_interval` and
/// `timekey_wait` (Fluentd's enqueue thread waits for `after_started?` in steps of 0.5 s).
const FIRST_ENQUEUE_CHECK: f64 = 0.5;

/// How often staged chunks are looked at for `flush_interval` and `timekey_wait`, as Fluentd's
/// enqueue thread (`Output#enqueue_thread_run`): a tenth-and-a-bit (`/ 11`) of flush_interval in
/// interval mode, or of `min(timekey, timekey_wait)` with a time key when the timekey is shorter
/// than that, and at least `flush_thread_interval`. So events of a time slice already past its
/// wait (late or replayed ones) gather in one chunk for that long, as in Fluentd, rather than in
/// one chunk a second.
fn enqueue_interval(cfg: &BufferConfig) -> f64 {
    let mut value =
        (cfg.flush_mode == FlushMode::Interval).then_some(cfg.flush_interval.as_secs_f64());
    if let Some(tk) = cfg.timekey {
        if value.is_none_or(|v| (tk as f64) < v) {
            value = Some((tk as f64).min(cfg.timekey_wait));
        }
    }
    let value = value.unwrap_or(cfg.flush_interval.as_secs_f64());
    (value / 11.0).max(cfg.flush_thread_interval.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buffer::config::BufferDefaults;
    use crate::section::Section;
    use std::path::Path;

    fn interval(body: &str) -> f64 {
        let text = format!("<match **>\n@type t\n{body}\n</match>\n");
        let root = logferry_config::parse_str(&text, "t.conf", Path::new(".")).unwrap();
        let cfg = BufferConfig::from_output(
            &Section::new(&root.elements[0], "t"),
            &BufferDefaults::default(),
        )
        .unwrap();
        enqueue_interval(&cfg)
    }

    /// Fluentd's `enqueue_thread_run` interval for the same settings.
    #[test]
    fn enqueue_checks_run_on_fluentds_schedule() {
        // Time key 1h, timekey_wait 600 (lazy): 600 / 11.
        let lazy = interval("<buffer time>\ntimekey 3600\n</buffer>");
        assert!((lazy - 600.0 / 11.0).abs() < 1e-9, "{lazy}");
        // Interval mode: flush_interval / 11, at least flush_thread_interval.
        let iv = interval("<buffer>\nflush_mode interval\nflush_interval 60s\n</buffer>");
        assert!((iv - 60.0 / 11.0).abs() < 1e-9, "{iv}");
        assert_eq!(interval("<buffer>\nflush_interval 3s\n</buffer>"), 1.0);
        assert_eq!(
            interval("<buffer>\nflush_interval 3s\nflush_thread_interval 0.1\n</buffer>"),
            3.0 / 11.0
        );
        // Interval mode with a time key shorter than flush_interval: min(timekey, timekey_wait).
        let short = interval(
            "<buffer time>\nflush_mode interval\nflush_interval 600s\ntimekey 60\ntimekey_wait 30\n</buffer>",
        );
        assert!((short - 30.0 / 11.0).abs() < 1e-9, "{short}");
    }
}
