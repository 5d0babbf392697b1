//! `relabel` output: re-emits events unchanged into its `@label`.

use std::sync::Arc;

use async_trait::async_trait;
use logferry_core::error::build_error;
use logferry_core::params::Spec;
use logferry_core::{BuildCtx, BuildError, EmitError, Emitter, EventBatch, Output, Section};

/// The relabel output.
pub struct RelabelOutput {
    emitter: Emitter,
}

/// `relabel` output.
pub static PARAMS: Spec = Spec::new(
    "relabel",
    "Sends events to the `<label>` named by its `@label` (required).",
);

/// Build from `<match>`; `@label` is required.
pub fn build(ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Output>, BuildError> {
    if s.param("@label").is_none() {
        return Err(build_error(s.pos(), "relabel needs @label"));
    }
    Ok(Arc::new(RelabelOutput {
        emitter: ctx.emitter.clone(),
    }))
}

#[async_trait]
impl Output for RelabelOutput {
    async fn emit(&self, tag: &str, batch: EventBatch) -> Result<(), EmitError> {
        self.emitter.emit(tag, batch).await
    }

    /// The label's route reads them, if anything does.
    fn reads_records(&self) -> bool {
        false
    }
}
