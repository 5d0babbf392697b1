//! The buffer engine under every buffered output: chunk keys, memory and file chunk stores,
//! flush scheduling, retries, overflow, secondary, graceful drain.

pub mod backend;
pub mod build;
pub mod config;
pub mod file_backend;
pub mod file_store;
pub mod keys;
pub mod meta;
pub mod pages;
pub mod params;
pub mod placeholders;
pub mod retry;
pub mod scratch;
pub mod split;

pub use config::{BufferConfig, BufferDefaults, FlushMode, Overflow, StoreKind};
pub use meta::{ChunkId, ChunkMeta};
pub use placeholders::Template;
pub mod engine;

pub use engine::{BufferedOutput, Chunk, ChunkWriter, Prepare, WriteError};
