//! Where chunk bytes live: memory, or the file store. The engine sees one interface.

use std::io;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::meta::{ChunkId, ChunkMeta};

/// A chunk as the engine holds it.
#[derive(Debug)]
pub struct Handle {
    /// The chunk id.
    pub id: ChunkId,
    /// Keys and committed counters.
    pub meta: ChunkMeta,
    /// Enqueued for flushing.
    pub queued: bool,
    /// Memory chunks: the bytes while staged.
    pub(crate) mem: Vec<u8>,
    /// Memory chunks: the bytes once queued (cheap to hand to a writer again on retry).
    pub(crate) frozen: Option<Bytes>,
    /// The size the chunk may grow to (`chunk_limit_size`; 0 when unknown): a memory chunk that
    /// grows past [`GROW_STRAIGHT`] reserves it at once instead of doubling and copying.
    pub limit: usize,
}

/// Below this a memory chunk grows by doubling; above it, straight to its limit (a busy stream's
/// chunk was copied about once more in reallocations otherwise).
pub const GROW_STRAIGHT: usize = 1 << 20;

impl Handle {
    /// A new handle.
    pub fn new(id: ChunkId, meta: ChunkMeta, queued: bool) -> Self {
        Handle {
            id,
            meta,
            queued,
            mem: Vec::new(),
            frozen: None,
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
    /// Mark the chunk queued.
    fn enqueue(&self, h: &mut Handle) -> io::Result<()>;
    /// The committed bytes.
    fn read(&self, h: &Handle) -> io::Result<Bytes>;
    /// Delete the chunk.
    fn purge(&self, h: &Handle) -> io::Result<()>;
    /// Copy the committed bytes to `dir/<hex>.log`.
    fn backup(&self, h: &Handle, dir: &Path) -> io::Result<PathBuf>;
    /// Persisted across restarts?
    fn durable(&self) -> bool;
    /// The file holding a chunk's data, for stores that have one.
    fn data_path(&self, _h: &Handle) -> Option<PathBuf> {
        None
    }
}

/// Chunks in memory.
///
/// Each chunk gets a fresh buffer, although faulting in and zeroing its pages is ~13 % of the
/// pass-through case's CPU: keeping a flushed chunk's buffer for the next chunk was measured
/// (fwdbench, alternating, same binary) at 2.7–2.9 M events per CPU-second against 3.4–3.75 M
/// without, the sends from the reused buffer costing three times as much.
pub struct Memory;

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Write bytes to `dir/<hex>.log` (creating the directory).
pub fn write_backup(id: &ChunkId, data: &[u8], dir: &Path) -> io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{}.log", id.hex()));
    std::fs::write(&path, data)?;
    Ok(path)
}

impl Backend for Memory {
    fn create(&self, mut meta: ChunkMeta) -> io::Result<Handle> {
        let now = now_secs();
        meta.created = now;
        meta.modified = now;
        Ok(Handle::new(ChunkId::generate(), meta, false))
    }

    fn append(&self, h: &mut Handle, data: &[u8], records: u64) -> io::Result<()> {
        let need = h.mem.len() + data.len();
        // (Past 32 MiB glibc's realloc remaps pages instead of copying; doubling is cheap there.)
        let straight = h.limit.min(32 << 20);
        if need > h.mem.capacity() && need > GROW_STRAIGHT && straight >= need {
            h.mem.reserve_exact(straight - h.mem.len());
        }
        h.mem.extend_from_slice(data);
        h.meta.records += records;
        h.meta.bytes += data.len() as u64;
        h.meta.modified = now_secs();
        Ok(())
    }

    fn enqueue(&self, h: &mut Handle) -> io::Result<()> {
        h.frozen = Some(Bytes::from(std::mem::take(&mut h.mem)));
        h.queued = true;
        Ok(())
    }

    fn read(&self, h: &Handle) -> io::Result<Bytes> {
        Ok(match &h.frozen {
            Some(b) => b.clone(),
            None => Bytes::copy_from_slice(&h.mem),
        })
    }

    fn purge(&self, _h: &Handle) -> io::Result<()> {
        Ok(())
    }

    fn backup(&self, h: &Handle, dir: &Path) -> io::Result<PathBuf> {
        write_backup(&h.id, &self.read(h)?, dir)
    }

    fn durable(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_memory_chunk_reserves_its_limit_once() {
        let m = Memory;
        let mut h = m.create(ChunkMeta::default()).unwrap();
        h.limit = 8 << 20;
        let piece = vec![7u8; 300 << 10];
        m.append(&mut h, &piece, 1).unwrap();
        assert!(
            h.mem.capacity() < GROW_STRAIGHT,
            "small chunks double as usual"
        );
        for _ in 0..4 {
            m.append(&mut h, &piece, 1).unwrap();
        }
        assert_eq!(
            h.mem.capacity(),
            8 << 20,
            "past 1 MiB, straight to the limit"
        );
        let at = h.mem.as_ptr();
        for _ in 0..20 {
            m.append(&mut h, &piece, 1).unwrap();
        }
        assert_eq!(h.mem.as_ptr(), at, "no reallocation up to the limit");
        assert_eq!(h.meta.bytes, 25 * (300 << 10));
        assert_eq!(m.read(&h).unwrap().len(), 25 * (300 << 10));
    }
}
