//! `null` output: accepts and discards events.

use std::sync::Arc;

use async_trait::async_trait;
use logferry_core::buffer::{BufferConfig, Chunk, ChunkWriter, WriteError};
use logferry_core::params::Spec;
use logferry_core::{BuildCtx, BuildError, EmitError, EventBatch, EventTime, Output, Section};

/// The null output.
pub struct NullOutput;

/// Build from `<match>`.
/// `null` output.
pub static PARAMS: Spec = Spec::new("null", "Discards every event.");

/// Build from `<match>`.
pub fn build(_ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Output>, BuildError> {
    s.refuse_section(
        "buffer",
        "the null output discards events; a buffer would only hold them first",
    )?;
    Ok(Arc::new(NullOutput))
}

#[async_trait]
impl Output for NullOutput {
    async fn emit(&self, _tag: &str, _batch: EventBatch) -> Result<(), EmitError> {
        Ok(())
    }
}

/// The null output as a chunk writer (a `<secondary>` of type null): every chunk is discarded,
/// as Fluentd's out_null takes it.
pub fn writer(
    _ctx: &BuildCtx,
    _s: &Section,
    _cfg: &BufferConfig,
) -> Result<Arc<dyn ChunkWriter>, BuildError> {
    Ok(Arc::new(NullOutput))
}

#[async_trait]
impl ChunkWriter for NullOutput {
    fn format(&self, _tag: &str, _time: EventTime, _record: &[u8], _out: &mut Vec<u8>) {}

    async fn write(&self, _chunk: &Chunk) -> Result<(), WriteError> {
        Ok(())
    }
}
