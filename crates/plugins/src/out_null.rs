//! `null` output: accepts and discards events; with a `<buffer>`, discards them by chunk.
//!
//! As Fluentd's out_null: without `<buffer>` each emit is discarded as it arrives; with one the
//! events go through the buffer (chunk key `tag`, chunks of 10 KiB, flushed at shutdown unless
//! told otherwise) and each flushed chunk is discarded. `never_flush true` (Fluentd's switch for
//! testing an output that never succeeds) fails every emit, or every chunk write, which is then
//! retried as any failed write is.

use std::sync::Arc;

use async_trait::async_trait;
use logferry_core::buffer::build::build_buffered;
use logferry_core::buffer::config::wants_buffer;
use logferry_core::buffer::params::BUFFERED;
use logferry_core::buffer::{BufferConfig, BufferDefaults, Chunk, ChunkWriter, WriteError};
use logferry_core::params::{p, ParamType::Bool, Spec};
use logferry_core::{BuildCtx, BuildError, EmitError, EventBatch, EventTime, Output, Section};

/// The null output.
pub struct NullOutput {
    /// `never_flush`: every emit or chunk write fails.
    never_flush: bool,
}

/// What Fluentd's out_null's error says.
const FAILED: &str = "failed to flush";

/// `null` output.
pub static PARAMS: Spec = Spec::new(
    "null",
    "Discards every event (as it arrives, or by chunk with a `<buffer>`).",
)
.params(&[p(
    "never_flush",
    Bool,
    "Fail every emit or chunk write instead (for testing retries and secondaries).",
)
.default("false")])
.extends(&[&BUFFERED]);

/// Buffer defaults of out_null (Fluentd's): chunk key tag, 10 KiB chunks, flushed at shutdown.
pub const DEFAULTS: BufferDefaults = BufferDefaults {
    chunk_keys: &["tag"],
    timekey: None,
    tag_required: false,
    file_at_output_path: false,
    chunk_limit_size: Some(10 * 1024),
    flush_at_shutdown: Some(true),
    v012_time_key: false,
};

fn parts(s: &Section) -> Result<NullOutput, BuildError> {
    Ok(NullOutput {
        never_flush: s.get::<bool>("never_flush")?,
    })
}

/// Build from `<match>`: discarded as events arrive, or by chunk with a `<buffer>`.
pub fn build(ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Output>, BuildError> {
    if wants_buffer(s) {
        return build_buffered(ctx, s, "null", writer, &DEFAULTS);
    }
    Ok(Arc::new(parts(s)?))
}

#[async_trait]
impl Output for NullOutput {
    async fn emit(&self, _tag: &str, _batch: EventBatch) -> Result<(), EmitError> {
        if self.never_flush {
            return Err(EmitError::Failed(FAILED.into()));
        }
        Ok(())
    }

    fn reads_records(&self) -> bool {
        false
    }
}

/// The null output as a chunk writer (buffered, or a `<secondary>` of type null): every chunk
/// is discarded, as Fluentd's out_null takes it.
pub fn writer(
    _ctx: &BuildCtx,
    s: &Section,
    _cfg: &BufferConfig,
) -> Result<Arc<dyn ChunkWriter>, BuildError> {
    Ok(Arc::new(parts(s)?))
}

#[async_trait]
impl ChunkWriter for NullOutput {
    /// Each entry as the chunk of Fluentd's out_null holds it (`[time, record]` in msgpack), so
    /// that chunks fill to their limits as there.
    fn format(&self, _tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        out.push(0x92);
        time.encode(out);
        out.extend_from_slice(record);
    }

    fn formats_verbatim(&self) -> bool {
        true
    }

    fn takes_parts(&self) -> bool {
        true
    }

    async fn write(&self, _chunk: &Chunk) -> Result<(), WriteError> {
        if self.never_flush {
            return Err(WriteError::Retryable(FAILED.into()));
        }
        Ok(())
    }
}
