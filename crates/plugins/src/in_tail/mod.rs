//! `tail` input, as Fluentd 1.16's `in_tail`: follows files named by `path` (comma lists, globs,
//! strftime placeholders, minus `exclude_path`), parses each new line with `<parse>` (any
//! parser, `multiline` with `format_firstline` and `multiline_flush_interval`) and emits the
//! events tagged `tag` (a `*` in it becomes the file's path with `/` turned into `.`).
//!
//! Positions are kept in `pos_file` in Fluentd's own format, so logferry takes a Fluentd pos
//! file up where Fluentd stopped (and Fluentd one of logferry's). Files are watched with inotify
//! (`enable_stat_watcher`) and a one-second timer (`enable_watch_timer`); rotations by rename
//! (logrotate's `create`, compression of the old file, rename chains), by truncation
//! (`copytruncate`: the file is read again from its start) and by deletion are followed, the
//! old file read to its end during `rotate_wait`; `follow_inodes` keys positions by inode.
//!
//! Parameters: every one of Fluentd 1.16's in_tail except `<group>` (refused at start-up):
//! `path`, `path_delimiter`, `path_timezone`, `tag`, `exclude_path`, `pos_file`,
//! `pos_file_compaction_interval`, `read_from_head`, `refresh_interval`, `rotate_wait`,
//! `follow_inodes`, `enable_watch_timer`, `enable_stat_watcher`, `read_lines_limit`,
//! `read_bytes_limit_per_second`, `open_on_every_update`, `encoding`, `from_encoding`,
//! `path_key`, `limit_recently_modified`, `ignore_repeated_permission_error`,
//! `skip_refresh_on_startup`, `emit_unmatched_lines`, `max_line_size`,
//! `multiline_flush_interval`, and the v0.12 flat `format` with its parser parameters.
//!
//! Differences from Fluentd (where Fluentd loses data): a batch the router refuses (a full buffer)
//! is kept and sent again, and reading that file stops until it is accepted (Fluentd drops it
//! unless the error is BufferOverflowError); a multi-line event still held is not counted as read
//! in the pos file (after `kill -9` it is read again; Fluentd loses it); a rotated file is closed
//! only once read to its end and accepted, even after `rotate_wait`; a truncation is also
//! recognised when the file grew again between two looks but is still shorter than what was read of
//! it; a line longer than `max_line_size` (default 16 MiB here, unlimited in Fluentd) is skipped as
//! it is read, never held whole; `encoding` without `from_encoding` keeps the bytes (Fluentd
//! replaces every non-ASCII byte); `from_encoding UTF-16`/`UTF-32` take the byte order from the BOM
//! (Fluentd never finds a line in such a file). Lines that are not valid UTF-8 are kept byte for
//! byte by the `none` parser and in `unmatched_line`, as in Fluentd; other parsers see each invalid
//! sequence replaced by `?` (Fluentd's see the raw bytes).
//!
//! Files: [`config`] (parameters), [`paths`] (expansion), [`pos_file`], [`inotify`], [`reader`]
//! (blocks to lines), [`encoding`], [`wide`] (UTF-16/UTF-32 files), [`events`] (lines to events,
//! multi-line), [`watcher`] (one file and its rotations), [`run`] (the loop; `run/watchers.rs`:
//! refresh, rotation, rotate_wait; `run/pump.rs`: reading, emission, positions), [`stats`]
//! (counters).

pub mod config;
pub mod encoding;
pub mod events;
pub mod inotify;
pub mod params;
pub mod paths;
pub mod pos_file;
pub mod reader;
pub mod run;
pub mod stats;
pub mod watcher;
pub mod wide;

use std::sync::Arc;

use async_trait::async_trait;
use logferry_core::{BuildCtx, BuildError, Input, InputContext, PluginLog, Section};
use tokio::task::JoinHandle;

use config::TailConfig;
use run::Tail;
use stats::{TailMetrics, TailStats};

/// The tail input.
pub struct TailInput {
    cfg: Arc<TailConfig>,
    log: PluginLog,
    stats: Arc<TailStats>,
}

/// Pos files used by the tail inputs of each pipeline build (one config), keyed by the build's
/// metrics: two sources of one config may not share a pos file (Fluentd refuses it), while the
/// config a SIGHUP reload builds next to the running one may use the same.
type PosFiles = Vec<(std::sync::Weak<logferry_core::metrics::Metrics>, String)>;
static POS_FILES: std::sync::Mutex<PosFiles> = std::sync::Mutex::new(Vec::new());

/// Build from `<source>`.
pub fn build(ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Input>, BuildError> {
    let s = &s.declared(&params::PARAMS);
    let log = ctx.log.clone();
    let warn = |m: String| log.warn(format_args!("{m}"));
    let mut cfg = TailConfig::from_section(s, &warn)?;
    cfg.pos_file_perms = logferry_core::perms::Perms::of(&ctx.system);
    if let Some(p) = &cfg.pos_file {
        let mut used = POS_FILES.lock().unwrap_or_else(|e| e.into_inner());
        used.retain(|(build, _)| build.strong_count() > 0);
        let this = Arc::downgrade(&ctx.metrics);
        if used.iter().any(|(b, q)| b.ptr_eq(&this) && q == p) {
            return Err(logferry_core::error::build_error(
                &s.param("pos_file").expect("given").pos,
                format!(
                    "Other 'in_tail' plugin already use same pos_file path: pos_file path = {p}"
                ),
            ));
        }
        used.push((this, p.clone()));
    }
    let stats = Arc::new(TailStats::default());
    ctx.metrics
        .attach(&ctx.plugin_id, Arc::new(TailMetrics(stats.clone())));
    Ok(Arc::new(TailInput {
        cfg: Arc::new(cfg),
        log: ctx.log.clone(),
        stats,
    }))
}

#[async_trait]
impl Input for TailInput {
    async fn start(self: Arc<Self>, ctx: InputContext) -> Result<JoinHandle<()>, String> {
        let tail = Tail::new(
            self.cfg.clone(),
            self.log.clone(),
            self.stats.clone(),
            ctx.emitter.clone(),
        )?;
        Ok(tokio::spawn(tail.run(ctx.shutdown)))
    }
}
