//! `exec` output, as Fluentd's out_exec: each chunk is written to a temporary file whose path is
//! given to `command` as its last argument (`sh -c "COMMAND PATH"`, as Ruby's `spawn` runs a
//! command line).
//!
//! Records are formatted by `<format>` (default `tsv`, whose `keys` are then required), each line
//! ending in one newline (a text format's own trailing newline is replaced, as Fluentd's
//! `format(...).chomp + "\n"`; `msgpack` is written as it is), after `<inject>` (whose defaults
//! here are `time_type string` and `localtime false`). With a file buffer the file holds the chunk
//! as stored (gzip members under `compress gzip`), as Fluentd gives the command the chunk's own
//! file; from a memory buffer it is written decompressed. With v0.12 flat buffer parameters and
//! no `<buffer>`, `time` is the chunk key (timekey 1 day), as Fluentd's compat layer makes it
//! for this plugin. The command's stderr is logferry's, its
//! stdout is dropped. Exit status 0 commits the chunk; another status, a signal, or running past
//! `command_timeout` (then it is killed) fails the write, which is retried as the buffer's retry
//! settings say (Fluentd rolls the chunk back the same way). The file is removed afterwards.
//! Commands run one at a time per flush thread (`flush_thread_count`), each awaited, where Fluentd
//! starts one per chunk and commits when it exits (its `delayed_commit_timeout` default of 300 s
//! is then moot here: `command_timeout` bounds a write); at shutdown a running command is waited
//! for, where Fluentd kills it.

use std::io::Write;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use logferry_core::buffer::params::BUFFERED;
use logferry_core::buffer::{
    BufferConfig, BufferDefaults, Chunk, ChunkWriter, StoreKind, WriteError,
};
use logferry_core::error::build_error;
use logferry_core::params::{one, p, Body, ParamType::*, PluginKind, Spec};
use logferry_core::{BuildCtx, BuildError, EventTime, PluginLog, Section};

use crate::formatter::Formatter;
use crate::inject::{Defaults, Inject};

/// What runs `command`, as Ruby's `spawn` runs a command line.
const SHELL: &str = "/bin/sh";

/// Buffer defaults of out_exec (Fluentd's): no chunk keys.
pub const DEFAULTS: BufferDefaults = BufferDefaults {
    chunk_keys: &[],
    timekey: None,
    tag_required: false,
    file_at_output_path: false,
    chunk_limit_size: None,
    flush_at_shutdown: None,
    v012_time_key: true,
};

/// `exec` output.
pub static PARAMS: Spec = Spec::new(
    "exec",
    "Writes each chunk to a file and runs a command with its path as the last argument.",
)
.params(&[
    p(
        "command",
        Str,
        "The command line, run by `sh -c` with the chunk file's path appended.",
    )
    .required(),
    p(
        "command_timeout",
        Time,
        "Kill the command and fail the write (to be retried) after this long.",
    )
    .default("270"),
])
.sections(&[
    one(
        "format",
        Body::Plugin(PluginKind::Formatter, Some("tsv")),
        "The format of the chunk file (default `tsv`).",
    ),
    one(
        "inject",
        Body::Spec(&crate::inject::INJECT),
        "Fields added to each record (`time_type string`, `localtime false` by default).",
    ),
])
.extends(&[&crate::formatter::params::FLAT, &BUFFERED]);

/// The exec output's chunk writer.
pub struct ExecOutput {
    command: String,
    timeout: Duration,
    formatter: Box<dyn Formatter>,
    /// The format writes lines (not `msgpack`): each ends in exactly one newline.
    lines: bool,
    inject: Inject,
    /// A file buffer: the command reads the chunk as stored (gzip members with `compress
    /// gzip`), as Fluentd hands it the chunk's own file; a memory chunk is written out
    /// decompressed, as Fluentd's `write_to` does.
    stored_bytes: bool,
    log: PluginLog,
}

/// Build the chunk writer from `<match>`.
pub fn writer(
    ctx: &BuildCtx,
    s: &Section,
    cfg: &BufferConfig,
) -> Result<Arc<dyn ChunkWriter>, BuildError> {
    let s = &s.declared(&PARAMS);
    if !std::path::Path::new(SHELL).exists() {
        return Err(build_error(
            s.pos(),
            format!("the exec output runs its command with {SHELL}, which this system lacks (logferry's distroless image has no shell: build an image with one)"),
        ));
    }
    let command = s.get::<&str>("command")?.to_string();
    let timeout = s.get::<f64>("command_timeout")?;
    if !(timeout.is_finite() && timeout > 0.0) {
        return Err(build_error(
            s.pos(),
            format!("command_timeout {timeout}: expected a positive time"),
        ));
    }
    let format_type = match s.section("format")? {
        Some(f) => f
            .param("@type")
            .or_else(|| f.param("type"))
            .map(|p| p.value.clone()),
        None => s.param("format").map(|p| p.value.clone()),
    };
    Ok(Arc::new(ExecOutput {
        command,
        timeout: Duration::from_secs_f64(timeout),
        formatter: crate::formatter::from_plugin(s, "tsv")?,
        lines: format_type.as_deref() != Some("msgpack"),
        stored_bytes: !matches!(cfg.store, StoreKind::Memory),
        inject: Inject::from_plugin_defaults(
            s,
            Defaults {
                time_type: "string",
                time_format: None,
                localtime: false,
            },
        )?,
        log: ctx.log.clone(),
    }))
}

/// A file name no other write of this process uses.
fn temp_path() -> std::path::PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    std::env::temp_dir().join(format!(
        "fluent-plugin-out-exec-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

#[async_trait]
impl ChunkWriter for ExecOutput {
    fn checks_records(&self) -> bool {
        self.formatter.checks_records()
    }

    fn check(&self, record: &[u8]) -> Result<(), String> {
        self.formatter.check(record)
    }

    fn format(&self, tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        self.inject
            .format_raw(&*self.formatter, tag, time, record, out);
        if self.lines {
            // Ruby's chomp: one trailing "\r\n", "\n" or "\r"; then one "\n".
            let line = &out[start..];
            let cut = if line.ends_with(b"\r\n") {
                2
            } else {
                usize::from(line.ends_with(b"\n") || line.ends_with(b"\r"))
            };
            out.truncate(out.len() - cut);
            out.push(b'\n');
        }
    }

    async fn write(&self, chunk: &Chunk) -> Result<(), WriteError> {
        let data = if self.stored_bytes {
            chunk.raw().clone()
        } else {
            chunk
                .bytes()
                .map_err(|e| WriteError::Unrecoverable(e.to_string()))?
        };
        let path = temp_path();
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut f| f.write_all(&data));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&path);
            return Err(WriteError::Retryable(format!(
                "exec: cannot write {}: {e}",
                path.display()
            )));
        }
        let prog = format!("{} {}", self.command, path.display());
        let result = self.run(&prog).await;
        let _ = std::fs::remove_file(&path);
        result
    }
}

impl ExecOutput {
    /// Run `prog` to its end (or kill it at the timeout).
    async fn run(&self, prog: &str) -> Result<(), WriteError> {
        let mut child = tokio::process::Command::new(SHELL)
            .arg("-c")
            .arg(prog)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| WriteError::Retryable(format!("exec: cannot run \"{prog}\": {e}")))?;
        match tokio::time::timeout(self.timeout, child.wait()).await {
            Ok(Ok(st)) if st.success() => Ok(()),
            Ok(Ok(st)) => {
                use std::os::unix::process::ExitStatusExt;
                self.log.warn(format_args!(
                    "command exits with error code prog=\"{prog}\" status={} signal={}",
                    st.code().map_or("nil".into(), |c| c.to_string()),
                    st.signal().map_or("nil".into(), |c| c.to_string()),
                ));
                Err(WriteError::Retryable(format!(
                    "exec: \"{prog}\" exited with {st}"
                )))
            }
            Ok(Err(e)) => Err(WriteError::Retryable(format!("exec: \"{prog}\": {e}"))),
            Err(_) => {
                let _ = child.kill().await;
                Err(WriteError::Retryable(format!(
                    "exec: \"{prog}\" ran past command_timeout ({} s) and was killed",
                    self.timeout.as_secs_f64()
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::temp_path;

    #[test]
    fn temp_paths_differ() {
        assert_ne!(temp_path(), temp_path());
    }
}
