//! The file store behind the engine's [`Backend`] interface.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;

use super::backend::{Backend, Handle};
use super::file_store::{FileChunk, FileStore};
use super::meta::ChunkMeta;

/// A [`FileStore`] seen as a [`Backend`].
pub struct FileBackend {
    store: Arc<FileStore>,
}

impl FileBackend {
    /// Wrap an opened store.
    pub fn new(store: Arc<FileStore>) -> Self {
        FileBackend { store }
    }
}

fn chunk(h: &Handle) -> FileChunk {
    FileChunk {
        id: h.id,
        meta: h.meta.clone(),
        queued: h.queued,
    }
}

/// Turn resumed chunks into engine handles.
pub fn handles(chunks: Vec<FileChunk>) -> Vec<Handle> {
    chunks
        .into_iter()
        .map(|c| Handle::new(c.id, c.meta, c.queued))
        .collect()
}

impl Backend for FileBackend {
    fn create(&self, meta: ChunkMeta) -> io::Result<Handle> {
        let c = self.store.create(meta)?;
        Ok(Handle::new(c.id, c.meta, c.queued))
    }

    fn append(&self, h: &mut Handle, data: &[u8], records: u64) -> io::Result<()> {
        let mut c = chunk(h);
        let r = self.store.append(&mut c, data, records);
        h.meta = c.meta;
        r
    }

    fn enqueue(&self, h: &mut Handle) -> io::Result<()> {
        let mut c = chunk(h);
        let r = self.store.enqueue(&mut c);
        // Even on an error (a failed directory fsync after both renames) the files may be queued.
        h.queued = c.queued;
        h.meta = c.meta;
        r
    }

    fn read(&self, h: &Handle) -> io::Result<Bytes> {
        self.store.read(&chunk(h))
    }

    fn purge(&self, h: &Handle) -> io::Result<()> {
        self.store.purge(&chunk(h))
    }

    fn backup(&self, h: &Handle, dir: &Path, perms: crate::perms::Perms) -> io::Result<PathBuf> {
        self.store.backup(&chunk(h), dir, perms)
    }

    fn durable(&self) -> bool {
        true
    }
    fn data_path(&self, h: &Handle) -> Option<PathBuf> {
        Some(self.store.data_path(&chunk(h)))
    }
}
