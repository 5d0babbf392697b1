//! `null` output: accepts and discards events.

use std::sync::Arc;

use async_trait::async_trait;
use logferry_core::params::Spec;
use logferry_core::{BuildCtx, BuildError, EmitError, EventBatch, Output, Section};

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
