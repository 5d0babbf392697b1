//! Where chunk bytes live: memory, or the file store. The engine sees one interface.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::meta::{ChunkId, ChunkMeta};
use super::pages::PageBuf;
use crate::perms::Perms;

/// A chunk as the engine holds it.
#[derive(Debug)]
pub struct Handle {
    /// The chunk id.
    pub id: ChunkId,
    /// Keys and committed counters.
    pub meta: ChunkMeta,
    /// Enqueued for flushing.
    pub queued: bool,
    /// Memory chunks: the bytes while staged and small.
    pub(crate) mem: Vec<u8>,
    /// Memory chunks: the bytes while staged, once the chunk grew past [`GROW_STRAIGHT`].
    pub(crate) mapped: Option<PageBuf>,
    /// Memory chunks: the bytes once queued (cheap to hand to a writer again on retry).
    pub(crate) frozen: Option<Bytes>,
    /// Memory chunks: pieces taken without a copy ([`Backend::append_shared`]), in order; the
    /// staged bytes (`mem` or `mapped`) come after them, and are sealed into one more piece
    /// before the next shared one and at enqueue.
    pub(crate) parts: Vec<Bytes>,
    /// The size the chunk may grow to (`chunk_limit_size`; 0 when unknown): a memory chunk that
    /// grows past [`GROW_STRAIGHT`] reserves it at once instead of doubling and copying.
    pub limit: usize,
}

/// Below this a memory chunk grows on the heap by doubling; above it, it moves into a mapping of
/// its limit (see [`Memory`]).
pub const GROW_STRAIGHT: usize = 1 << 20;

/// The largest mapping a memory chunk reserves; a larger limit grows on the heap past it.
const MAP_AT_MOST: usize = 32 << 20;

impl Handle {
    /// A new handle.
    pub fn new(id: ChunkId, meta: ChunkMeta, queued: bool) -> Self {
        Handle {
            id,
            meta,
            queued,
            mem: Vec::new(),
            mapped: None,
            frozen: None,
            parts: Vec::new(),
            limit: 0,
        }
    }
}

/// Chunk storage operations. File implementations make `append` survive a crash of the process
/// once it returns.
pub trait Backend: Send + Sync {
    /// Create a staged chunk.
    fn create(&self, meta: ChunkMeta) -> io::Result<Handle>;
    /// Append bytes holding `records` records and commit them.
    fn append(&self, h: &mut Handle, data: &[u8], records: u64) -> io::Result<()>;
    /// [`append`](Self::append) for bytes the caller shares: a store that can keep them as they
    /// are (memory) takes them without a copy.
    fn append_shared(&self, h: &mut Handle, data: Bytes, records: u64) -> io::Result<()> {
        self.append(h, &data, records)
    }
    /// Mark the chunk queued.
    fn enqueue(&self, h: &mut Handle) -> io::Result<()>;
    /// The committed bytes.
    fn read(&self, h: &Handle) -> io::Result<Bytes>;
    /// The committed bytes as the pieces the store holds them in (one, unless shared pieces
    /// were appended to a memory chunk): writers that take pieces (out_forward's vectored
    /// writes) then need no copy.
    fn read_parts(&self, h: &Handle) -> io::Result<Vec<Bytes>> {
        Ok(vec![self.read(h)?])
    }
    /// Delete the chunk.
    fn purge(&self, h: &Handle) -> io::Result<()>;
    /// Copy the committed bytes to `dir/<hex>.log` (creating `dir` and the file with `perms`).
    fn backup(&self, h: &Handle, dir: &Path, perms: Perms) -> io::Result<PathBuf>;
    /// Persisted across restarts?
    fn durable(&self) -> bool;
    /// The file holding a chunk's data, for stores that have one.
    fn data_path(&self, _h: &Handle) -> Option<PathBuf> {
        None
    }
}

/// Chunks in memory.
///
/// A chunk starts on the heap and doubles up to [`GROW_STRAIGHT`]; past it, its bytes move once
/// into a mapping the size of its limit ([`PageBuf`], transparent huge pages where the kernel
/// allows), which is unmapped when the last writer drops the flushed chunk. On the heap, the
/// 8 MiB buffers were faulted in 4 KiB at a time (glibc maps and unmaps such sizes, or trims its
/// per-thread arenas under them) and freed into whichever worker's arena flushed them: with two
/// workers, page faults were ~15 % of the pass-through case's CPU and peak RSS grew with the
/// connections. Keeping a flushed chunk's heap buffer for the next chunk was measured slower
/// (fwdbench, alternating: 2.7–2.9 M events per CPU-second against 3.4–3.75 M without).
///
/// Bytes appended with [`Backend::append_shared`] (large batches out_forward takes verbatim)
/// are kept as they are, as pieces of the chunk between the staged runs, and written as pieces
/// ([`super::Chunk::parts`]): the copy into the chunk was 10 % of the pass-through case's CPU.
pub struct Memory;

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Write bytes to `dir/<hex>.log` (creating the directory and the file with `perms`).
pub fn write_backup(id: &ChunkId, data: &[u8], dir: &Path, perms: Perms) -> io::Result<PathBuf> {
    perms.create_dir_all(dir)?;
    let path = dir.join(format!("{}.log", id.hex()));
    perms
        .open_options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)?
        .write_all(data)?;
    Ok(path)
}

/// Append `data` to a staged memory chunk: on the heap while small, then in a mapping of the
/// chunk's limit (capped at [`MAP_AT_MOST`]); past that, or where no mapping can be had, on the
/// heap again.
fn stage(h: &mut Handle, data: &[u8]) {
    if let Some(m) = &mut h.mapped {
        if m.push(data) {
            return;
        }
        // Over the mapping (a limit over MAP_AT_MOST, or one oversized write): the heap takes it.
        h.mem = m.as_ref().to_vec();
        h.mapped = None;
    }
    let need = h.mem.len() + data.len();
    let cap = h.limit.min(MAP_AT_MOST);
    if need > h.mem.capacity() && need > GROW_STRAIGHT && cap >= need {
        if let Ok(mut m) = PageBuf::with_capacity(cap) {
            if m.push(&h.mem) && m.push(data) {
                h.mem = Vec::new();
                h.mapped = Some(m);
                return;
            }
        }
    }
    h.mem.extend_from_slice(data);
}

/// The staged bytes of a memory chunk (heap or mapping) as one shared piece, emptied.
fn take_staged(h: &mut Handle) -> Bytes {
    match h.mapped.take() {
        Some(m) => m.freeze(),
        None => Bytes::from(std::mem::take(&mut h.mem)),
    }
}

/// The staged bytes of a memory chunk (heap or mapping; after its shared pieces, if any).
fn staged(h: &Handle) -> &[u8] {
    match &h.mapped {
        Some(m) => m.as_ref(),
        None => &h.mem,
    }
}

/// True when the chunk holds staged bytes after its shared pieces.
fn has_staged(h: &Handle) -> bool {
    !staged(h).is_empty()
}

/// Pieces joined into one buffer (a copy, unless there is one piece).
pub(crate) fn join(parts: &[Bytes]) -> Bytes {
    match parts {
        [] => Bytes::new(),
        [one] => one.clone(),
        _ => {
            let mut v = Vec::with_capacity(parts.iter().map(Bytes::len).sum());
            for p in parts {
                v.extend_from_slice(p);
            }
            Bytes::from(v)
        }
    }
}

/// A staged chunk's pieces: the shared ones, then a copy of the staged bytes.
fn staged_parts(h: &Handle) -> Vec<Bytes> {
    let mut parts = h.parts.clone();
    if has_staged(h) {
        parts.push(Bytes::copy_from_slice(staged(h)));
    }
    parts
}

impl Backend for Memory {
    fn create(&self, mut meta: ChunkMeta) -> io::Result<Handle> {
        let now = now_secs();
        meta.created = now;
        meta.modified = now;
        Ok(Handle::new(ChunkId::generate(), meta, false))
    }

    fn append(&self, h: &mut Handle, data: &[u8], records: u64) -> io::Result<()> {
        stage(h, data);
        h.meta.records += records;
        h.meta.bytes += data.len() as u64;
        h.meta.modified = now_secs();
        Ok(())
    }

    fn append_shared(&self, h: &mut Handle, data: Bytes, records: u64) -> io::Result<()> {
        if has_staged(h) {
            let staged = take_staged(h);
            h.parts.push(staged);
        }
        h.meta.bytes += data.len() as u64;
        h.parts.push(data);
        h.meta.records += records;
        h.meta.modified = now_secs();
        Ok(())
    }

    fn enqueue(&self, h: &mut Handle) -> io::Result<()> {
        if h.parts.is_empty() {
            h.frozen = Some(take_staged(h));
        } else if has_staged(h) {
            let staged = take_staged(h);
            h.parts.push(staged);
        }
        h.queued = true;
        Ok(())
    }

    fn read(&self, h: &Handle) -> io::Result<Bytes> {
        if let Some(b) = &h.frozen {
            return Ok(b.clone());
        }
        if h.parts.is_empty() {
            return Ok(Bytes::copy_from_slice(staged(h)));
        }
        // The shared pieces, then the staged bytes (none once queued), in one copy.
        let mut v =
            Vec::with_capacity(h.parts.iter().map(Bytes::len).sum::<usize>() + staged(h).len());
        for p in &h.parts {
            v.extend_from_slice(p);
        }
        v.extend_from_slice(staged(h));
        Ok(Bytes::from(v))
    }

    fn read_parts(&self, h: &Handle) -> io::Result<Vec<Bytes>> {
        if h.parts.is_empty() {
            return Ok(vec![self.read(h)?]);
        }
        Ok(if h.queued {
            h.parts.clone()
        } else {
            staged_parts(h)
        })
    }

    fn purge(&self, _h: &Handle) -> io::Result<()> {
        Ok(())
    }

    fn backup(&self, h: &Handle, dir: &Path, perms: Perms) -> io::Result<PathBuf> {
        write_backup(&h.id, &self.read(h)?, dir, perms)
    }

    fn durable(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31) ^ seed)
            .collect()
    }

    #[test]
    fn a_busy_memory_chunk_moves_into_one_mapping_of_its_limit() {
        let m = Memory;
        let mut h = m.create(ChunkMeta::default()).unwrap();
        h.limit = 8 << 20;
        let mut want = Vec::new();
        let piece = |i: usize| pattern(300 << 10, i as u8);
        m.append(&mut h, &piece(0), 1).unwrap();
        want.extend(piece(0));
        assert!(h.mapped.is_none(), "small chunks stay on the heap");
        assert!(h.mem.capacity() < GROW_STRAIGHT);
        for i in 1..25 {
            m.append(&mut h, &piece(i), 1).unwrap();
            want.extend(piece(i));
        }
        let mapped = h.mapped.as_ref().expect("past 1 MiB, in a mapping");
        assert_eq!(mapped.capacity(), 8 << 20, "of the chunk's limit");
        assert_eq!(h.mem.capacity(), 0, "the heap buffer is freed");
        assert_eq!(h.meta.bytes, want.len() as u64);
        assert_eq!(m.read(&h).unwrap(), want, "read while staged");
        m.enqueue(&mut h).unwrap();
        let frozen = m.read(&h).unwrap();
        assert_eq!(frozen, want, "read once queued");
        assert!(h.mapped.is_none());
        let tail = frozen.slice(want.len() - 10..);
        drop(frozen);
        drop(h);
        assert_eq!(tail, want[want.len() - 10..], "a clone outlives the chunk");
    }

    #[test]
    fn a_chunk_over_its_mapping_goes_on_on_the_heap() {
        let m = Memory;
        let mut h = m.create(ChunkMeta::default()).unwrap();
        h.limit = 2 << 20;
        let mut want = Vec::new();
        for i in 0..6 {
            let p = pattern(700 << 10, i);
            m.append(&mut h, &p, 1).unwrap();
            want.extend(p);
            if i == 1 {
                assert!(h.mapped.is_some(), "1.4 MiB of a 2 MiB limit: mapped");
            }
        }
        assert!(h.mapped.is_none(), "4.2 MiB: back on the heap");
        assert_eq!(m.read(&h).unwrap(), want);
        m.enqueue(&mut h).unwrap();
        assert_eq!(m.read(&h).unwrap(), want);
    }

    #[test]
    fn shared_pieces_are_kept_as_they_are_and_in_order_with_copied_ones() {
        let m = Memory;
        let mut h = m.create(ChunkMeta::default()).unwrap();
        h.limit = 8 << 20;
        let mut want = Vec::new();
        let shared: Vec<Bytes> = (0..3).map(|i| Bytes::from(pattern(40 << 10, i))).collect();
        m.append(&mut h, b"copied-0", 1).unwrap();
        want.extend_from_slice(b"copied-0");
        m.append_shared(&mut h, shared[0].clone(), 10).unwrap();
        want.extend_from_slice(&shared[0]);
        m.append_shared(&mut h, shared[1].slice(100..), 9).unwrap();
        want.extend_from_slice(&shared[1][100..]);
        m.append(&mut h, b"copied-1", 1).unwrap();
        m.append(&mut h, b"copied-2", 1).unwrap();
        want.extend_from_slice(b"copied-1copied-2");
        assert_eq!(h.meta.bytes, want.len() as u64);
        assert_eq!(h.meta.records, 22);
        // Staged: read joins everything; the parts end with a copy of the staged bytes.
        assert_eq!(m.read(&h).unwrap(), want);
        let parts = m.read_parts(&h).unwrap();
        assert_eq!(parts.len(), 4, "copied, shared, shared, copied");
        assert_eq!(parts.concat(), want);
        m.append_shared(&mut h, shared[2].clone(), 5).unwrap();
        want.extend_from_slice(&shared[2]);
        m.enqueue(&mut h).unwrap();
        let parts = m.read_parts(&h).unwrap();
        assert_eq!(parts.len(), 5);
        assert_eq!(
            parts[1].as_ptr(),
            shared[0].as_ptr(),
            "a shared piece is the caller's bytes, not a copy"
        );
        assert_eq!(parts[4].as_ptr(), shared[2].as_ptr());
        assert_eq!(parts.concat(), want);
        assert_eq!(m.read(&h).unwrap(), want, "read once queued joins them");
    }

    #[test]
    fn a_chunk_of_shared_pieces_only_has_no_staged_piece() {
        let m = Memory;
        let mut h = m.create(ChunkMeta::default()).unwrap();
        let a = Bytes::from(pattern(20 << 10, 1));
        m.append_shared(&mut h, a.clone(), 3).unwrap();
        m.enqueue(&mut h).unwrap();
        let parts = m.read_parts(&h).unwrap();
        assert_eq!(parts, vec![a.clone()]);
        assert_eq!(m.read(&h).unwrap(), a);
    }

    #[test]
    fn without_a_limit_a_chunk_stays_on_the_heap() {
        let m = Memory;
        let mut h = m.create(ChunkMeta::default()).unwrap();
        let p = pattern(3 << 20, 9);
        m.append(&mut h, &p, 1).unwrap();
        assert!(h.mapped.is_none());
        m.enqueue(&mut h).unwrap();
        assert_eq!(m.read(&h).unwrap(), p);
    }
}
