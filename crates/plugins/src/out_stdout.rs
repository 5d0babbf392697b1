//! `stdout` output: prints each event as `<time> <tag>: <json>` (Fluentd's line format).
//! logferry's own logs go to stderr, so stdout carries events only.

use std::io::Write;
use std::sync::Arc;

use async_trait::async_trait;
use logferry_core::{BuildCtx, BuildError, EmitError, EventBatch, Output, Section};

use logferry_core::buffer::config::wants_buffer;
use logferry_core::buffer::params::BUFFERED;
use logferry_core::buffer::{
    build::build_buffered, BufferConfig, BufferDefaults, Chunk, ChunkWriter, WriteError,
};
use logferry_core::params::{one, Body, PluginKind, Spec};
use logferry_core::EventTime;
use logferry_formats::formatter::{self, Formatter};
use logferry_formats::inject::{Inject, INJECT, INJECT_V012};

/// `<format>` and `<inject>` of the stdout plugins, with their v0.12 flat forms.
static PRINTER: Spec = Spec::new("stdout printer", "How events are printed.")
    .sections(&[
        one(
            "format",
            Body::Plugin(PluginKind::Formatter, Some("stdout")),
            "How each event is printed.",
        ),
        one(
            "inject",
            Body::Spec(&INJECT),
            "Fields added before formatting.",
        ),
    ])
    .extends(&[&FLAT_STDOUT, &INJECT_V012]);

/// v0.12: the stdout formatter's parameters on the plugin itself.
static FLAT_STDOUT: Spec = Spec::new(
    "v0.12 stdout format",
    "v0.12 flat stdout formatter parameters.",
)
.extends(&[&formatter::params::STDOUT])
.legacy();

/// `stdout` output.
pub static PARAMS: Spec = Spec::new(
    "stdout",
    "Prints each event as `<time> <tag>: <json>`, as it arrives or by chunk with a `<buffer>`.",
)
.extends(&[&PRINTER, &BUFFERED]);

/// `stdout` filter.
pub static FILTER_PARAMS: Spec = Spec::new(
    "stdout",
    "Prints each event passing through as `<time> <tag>: <json>` and passes it on.",
)
.extends(&[&PRINTER]);

/// The stdout output.
pub struct StdoutOutput {
    formatter: Box<dyn Formatter>,
    inject: Inject,
}

/// Build from `<match>`: printed as events arrive, or by chunk with a `<buffer>` (as Fluentd).
pub fn build(ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Output>, BuildError> {
    if wants_buffer(s) {
        return build_buffered(ctx, s, "stdout", writer, &BufferDefaults::default());
    }
    Ok(Arc::new(parts(s)?))
}

/// Chunk writer for the buffered stdout output.
pub fn writer(
    _ctx: &BuildCtx,
    s: &Section,
    _cfg: &BufferConfig,
) -> Result<Arc<dyn ChunkWriter>, BuildError> {
    Ok(Arc::new(parts(s)?))
}

#[async_trait]
impl ChunkWriter for StdoutOutput {
    fn checks_records(&self) -> bool {
        self.formatter.checks_records()
    }

    fn check(&self, record: &[u8]) -> Result<(), String> {
        self.formatter.check(record)
    }

    fn format(&self, tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        self.inject
            .format_raw(&*self.formatter, tag, time, record, out);
    }

    async fn write(&self, chunk: &Chunk) -> Result<(), WriteError> {
        let data = chunk
            .bytes()
            .map_err(|e| WriteError::Unrecoverable(e.to_string()))?;
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(&data)
            .and_then(|_| stdout.flush())
            .map_err(|e| WriteError::Retryable(format!("stdout: {e}")))
    }
}

/// The formatter and `<inject>` of a stdout plugin (`<format>`, default `@type stdout`, or the
/// v0.12 `output_type` on the section itself); shared with the `stdout` filter.
pub fn parts(s: &Section) -> Result<StdoutOutput, BuildError> {
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
    Ok(StdoutOutput {
        formatter,
        inject: Inject::from_plugin(s)?,
    })
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
