//! `stdout` output: prints each event as `<time> <tag>: <json>` (Fluentd's line format).
//! logferry's own logs go to stderr, so stdout carries events only.

use std::io::Write;
use std::sync::Arc;

use async_trait::async_trait;
use logferry_core::{BuildCtx, BuildError, EmitError, EventBatch, Output, Section};

use crate::formatter::{self, Formatter};
use crate::inject::Inject;

/// The stdout output.
pub struct StdoutOutput {
    formatter: Box<dyn Formatter>,
    inject: Inject,
}

/// Build from `<match>`.
pub fn build(_ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Output>, BuildError> {
    s.refuse_section(
        "buffer",
        "buffered stdout output is not implemented yet; events are printed as they arrive",
    )?;
    let formatter = match s.section("format")? {
        Some(f) => {
            let ty = f
                .str("@type")
                .or_else(|| f.str("type"))
                .unwrap_or("stdout")
                .to_string();
            formatter::build(&ty, &f)?
        }
        None => {
            // v0.12 `output_type` lives on the match section itself.
            formatter::build("stdout", s)?
        }
    };
    Ok(Arc::new(StdoutOutput {
        formatter,
        inject: Inject::from_plugin(s)?,
    }))
}

impl StdoutOutput {
    /// Format a whole batch into `out`.
    pub fn render(&self, tag: &str, batch: &EventBatch, out: &mut Vec<u8>) {
        let mut rec = Vec::new();
        for e in batch {
            if self.inject.is_empty() {
                self.formatter.format_raw(tag, e.time, e.record, out);
            } else {
                rec.clear();
                self.inject.apply_raw(tag, e.time, e.record, &mut rec);
                self.formatter.format_raw(tag, e.time, &rec, out);
            }
        }
    }
}

#[async_trait]
impl Output for StdoutOutput {
    async fn emit(&self, tag: &str, batch: EventBatch) -> Result<(), EmitError> {
        let mut out = Vec::with_capacity(batch.bytes().len() * 2);
        self.render(tag, &batch, &mut out);
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(&out)
            .and_then(|_| stdout.flush())
            .map_err(|e| EmitError::Failed(format!("stdout: {e}")))
    }
}
