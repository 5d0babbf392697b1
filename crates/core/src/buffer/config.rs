//! `<buffer CHUNK_KEYS>` parameters with Fluentd's defaults, and the v0.12 flat parameters
//! (`buffer_path`, `buffer_chunk_limit`, `time_slice_format` …) translated into them.

use std::time::Duration;

use logferry_config::FromParam;

use super::params::{BUFFER, BUFFERED};
use crate::error::{build_error, BuildError};
use crate::section::Section;
use crate::timefmt::Zone;
use logferry_formats::accessor::Accessor;

/// Where chunks live.
#[derive(Clone, Debug, PartialEq)]
pub enum StoreKind {
    /// In memory: lost on crash; flushed at shutdown.
    Memory,
    /// On disk under this directory: survives crashes and restarts.
    File {
        /// The directory.
        path: String,
        /// Suffix of chunk file names.
        suffix: String,
        /// fsync at every commit (`durability power_loss`; logferry's own parameter).
        fsync: bool,
        /// The buffer's own `file_permission` (else `<system>`'s).
        file_permission: Option<u32>,
        /// The buffer's own `dir_permission` (else `<system>`'s).
        dir_permission: Option<u32>,
        /// `@type file_single`: one file per chunk, no `.meta` (its settings); `None` for
        /// `@type file`.
        single: Option<SingleConfig>,
    },
}

/// `@type file_single`'s own settings (Fluentd's `buf_file_single`). Its `path` rules are applied
/// by [`super::build::build_buffered`], which knows `<system>`.
#[derive(Clone, Debug, PartialEq)]
pub struct SingleConfig {
    /// The record key whose value names the chunk files, or `None`: the tag.
    pub key: Option<String>,
    /// `calc_num_records`: count the records of resumed chunks.
    pub calc_num_records: bool,
    /// `chunk_format`: `Some(true)` msgpack, `Some(false)` text, `None` auto (msgpack when the
    /// output's format is msgpack, as Fluentd's `formatted_to_msgpack_binary?`).
    pub msgpack: Option<bool>,
}

/// When staged chunks are enqueued for flushing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FlushMode {
    /// After `flush_interval` from the chunk's creation.
    Interval,
    /// After the chunk's time slice ended plus `timekey_wait`.
    Lazy,
    /// At every emit.
    Immediate,
}

/// What happens when the buffer is full.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Overflow {
    /// Refuse the events (the input does not ack them).
    ThrowException,
    /// Wait for room (the input stops reading).
    Block,
    /// Drop the oldest queued chunk and count it.
    DropOldestChunk,
}

/// The retry schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct RetryConfig {
    /// `retry_type exponential_backoff` (else periodic).
    pub exponential: bool,
    /// `retry_wait` (1 s).
    pub wait: f64,
    /// `retry_exponential_backoff_base` (2).
    pub base: f64,
    /// `retry_max_interval`.
    pub max_interval: Option<f64>,
    /// `retry_randomize` (true: ±12.5 %).
    pub randomize: bool,
    /// `retry_timeout` (72 h).
    pub timeout: f64,
    /// `retry_max_times`.
    pub max_times: Option<u32>,
    /// `retry_forever`.
    pub forever: bool,
    /// `retry_secondary_threshold` (0.8).
    pub secondary_threshold: f64,
}

/// A record-key chunk key.
#[derive(Clone, Debug)]
pub struct RecordKey {
    /// As written (`$.a.b` or `name`): the placeholder name.
    pub name: String,
    /// The accessor.
    pub accessor: Accessor,
}

/// Every buffer setting.
#[derive(Clone, Debug)]
pub struct BufferConfig {
    /// memory or file.
    pub store: StoreKind,
    /// Chunk key `tag`.
    pub key_tag: bool,
    /// Chunk key `time` with its `timekey` in seconds.
    pub timekey: Option<i64>,
    /// Record-key chunk keys.
    pub record_keys: Vec<RecordKey>,
    /// `timekey_wait` (600 s).
    pub timekey_wait: f64,
    /// Zone of time slices (`timekey_use_utc`, `timekey_zone`; local by default).
    pub timekey_zone: Zone,
    /// `chunk_limit_size`.
    pub chunk_limit_size: u64,
    /// `chunk_limit_records`.
    pub chunk_limit_records: Option<u64>,
    /// `total_limit_size`.
    pub total_limit_size: u64,
    /// `queued_chunks_limit_size` (default: flush_thread_count).
    pub queued_chunks_limit_size: usize,
    /// `chunk_full_threshold` (0.95).
    pub chunk_full_threshold: f64,
    /// `compress gzip`.
    pub compress_gzip: bool,
    /// The flush mode after `default` was resolved.
    pub flush_mode: FlushMode,
    /// `flush_interval` (60 s).
    pub flush_interval: Duration,
    /// `flush_thread_count` (1).
    pub flush_thread_count: usize,
    /// `flush_thread_interval` (1 s): how often idle flush threads look for work.
    pub flush_thread_interval: Duration,
    /// `flush_at_shutdown` (memory true, file false).
    pub flush_at_shutdown: bool,
    /// `delayed_commit_timeout`, when set: the longest a chunk write may take before it counts as
    /// failed and is retried. Unset by default: each output's own network timeouts apply (a
    /// 256 MiB upload on a slow link must not be cut off and retried forever).
    pub delayed_commit_timeout: Option<Duration>,
    /// `slow_flush_log_threshold` (20 s).
    pub slow_flush_log_threshold: Duration,
    /// `overflow_action`.
    pub overflow: Overflow,
    /// Retries.
    pub retry: RetryConfig,
    /// `disable_chunk_backup`.
    pub disable_chunk_backup: bool,
    /// Modes of the backup directory and files (`<system>`'s, set by the build).
    pub backup_perms: crate::perms::Perms,
    /// v0.12 `time_slice_format`, when given (outputs use it for `%{time_slice}`).
    pub time_slice_format: Option<String>,
}

/// What an output plugin brings to its buffer: defaults that differ per plugin.
#[derive(Clone, Debug, Default)]
pub struct BufferDefaults {
    /// Chunk keys when `<buffer>` has none (`"tag"`, `"time"`, or empty).
    pub chunk_keys: &'static [&'static str],
    /// `timekey` default when `time` is a chunk key (s3 and file: 86400).
    pub timekey: Option<i64>,
    /// Is the tag chunk key mandatory (forward)?
    pub tag_required: bool,
    /// A `<buffer>` without `@type` is a file buffer at the output's own `path` (out_file).
    pub file_at_output_path: bool,
    /// `chunk_limit_size` when not given, if not the buffer type's own (out_null: 10 KiB).
    pub chunk_limit_size: Option<u64>,
    /// `flush_at_shutdown` when not given, if not the buffer type's own (out_null: true).
    pub flush_at_shutdown: Option<bool>,
    /// With v0.12 flat buffer parameters and no `<buffer>`, `time` is the chunk key (with
    /// `timekey`'s default), as Fluentd's compat layer makes it for out_exec
    /// (`default_chunk_key: 'time'`).
    pub v012_time_key: bool,
}

/// v0.12 flat parameter → v1 `<buffer>` parameter.
const V012: &[(&str, &str)] = &[
    ("buffer_type", "@type"),
    ("buffer_path", "path"),
    ("num_threads", "flush_thread_count"),
    ("flush_interval", "flush_interval"),
    ("try_flush_interval", "flush_thread_interval"),
    ("queued_chunk_flush_interval", "flush_thread_burst_interval"),
    ("disable_retry_limit", "retry_forever"),
    ("retry_limit", "retry_max_times"),
    ("max_retry_wait", "retry_max_interval"),
    ("buffer_chunk_limit", "chunk_limit_size"),
    ("buffer_queue_limit", "queue_limit_length"),
    ("buffer_queue_full_action", "overflow_action"),
    ("flush_at_shutdown", "flush_at_shutdown"),
    ("time_slice_wait", "timekey_wait"),
    ("timezone", "timekey_zone"),
    // Fluentd v1 ignores a flat retry_wait (with an "unused" warning); logferry honours it.
    ("retry_wait", "retry_wait"),
];

/// A setting read either from `<buffer>` or from a v0.12 flat parameter on the output.
struct Src<'s, 'a> {
    buffer: Option<&'s Section<'a>>,
    output: &'s Section<'a>,
    plugin: String,
    pos: logferry_config::Pos,
}

impl Src<'_, '_> {
    /// The raw value of a v1 key: from `<buffer>`, else from its v0.12 name on the output.
    fn get(&self, key: &str) -> Option<(String, logferry_config::Pos)> {
        if let Some(b) = self.buffer {
            if let Some(p) = b.param(key) {
                return Some((p.value.clone(), p.pos.clone()));
            }
            // With a <buffer> section, flat parameters are not converted (as Fluentd).
            return None;
        }
        for (old, new) in V012 {
            if *new == key {
                if let Some(p) = self.output.param(old) {
                    if old != new {
                        tracing::info!("{}: v0.12 parameter '{old}' of the {} output is used as <buffer> {new}", p.pos, self.plugin);
                    }
                    return Some((p.value.clone(), p.pos.clone()));
                }
            }
        }
        None
    }

    /// A `<buffer>` parameter (or its v0.12 flat name) as `T`, typed and defaulted by its
    /// declaration in [`BUFFER`].
    fn val<T: for<'x> FromParam<'x>>(&self, key: &str) -> Result<T, BuildError> {
        let def = BUFFER.find(key).ok_or_else(|| {
            build_error(
                &self.pos,
                format!("internal error: <buffer> '{key}' is not declared"),
            )
        })?;
        match self.get(key) {
            Some((v, pos)) => T::from_text(def, &v, &pos),
            None => match def.default.text() {
                Some(text) => T::from_text(def, text, &self.pos),
                None => T::absent().ok_or_else(|| {
                    build_error(
                        &self.pos,
                        format!("internal error: <buffer> '{key}' has no default"),
                    )
                }),
            },
        }
    }
}

/// Does the output section ask for a buffer: a `<buffer>` section, or v0.12 buffer parameters?
pub fn wants_buffer(s: &Section) -> bool {
    s.element().elements.iter().any(|e| e.name == "buffer")
        || V012.iter().any(|(old, _)| *old != "timezone" && s.has(old))
        || s.has("time_slice_format")
        || s.has("retry_wait")
}

fn timekey_from_slice_format(f: &str) -> Option<i64> {
    if f.contains("%S") {
        Some(1)
    } else if f.contains("%M") {
        Some(60)
    } else if f.contains("%H") {
        Some(3600)
    } else if f.contains("%d") {
        Some(86400)
    } else {
        None
    }
}

impl BufferConfig {
    /// Read the output's `<buffer>` (or v0.12 flat parameters) with the plugin's defaults.
    pub fn from_output(
        output: &Section,
        defaults: &BufferDefaults,
    ) -> Result<BufferConfig, BuildError> {
        let output = &output.declared(&BUFFERED);
        let buffer = output.section("buffer")?.map(|b| b.declared(&BUFFER));
        let pos = buffer
            .as_ref()
            .map(|b| b.pos().clone())
            .unwrap_or_else(|| output.pos().clone());
        let src = Src {
            buffer: buffer.as_ref(),
            output,
            plugin: output.plugin().to_string(),
            pos: pos.clone(),
        };

        // Store type. v0.12 `buffer_path` means a file buffer, as its users meant (Fluentd v1
        // keeps such data in memory unless buffer_type file is also given).
        let explicit_type = match &buffer {
            Some(b) => b.str("@type").or_else(|| b.str("type")).map(str::to_string),
            None => output.str("buffer_type").map(str::to_string),
        };
        let mut path = src.get("path").map(|(v, _)| v);
        // A file buffer only v0.12's `buffer_path` asked for: Fluentd v1 keeps this buffer in
        // memory and so flushes it at shutdown; so does logferry, unless told otherwise (what
        // cannot be sent stays on disk).
        let mut implied_file = false;
        let ty = match (explicit_type.as_deref(), &path) {
            (None | Some("file"), None) if defaults.file_at_output_path => {
                // out_file: the buffer lives beside the output, as in Fluentd (`<path>` as a
                // directory; a `*` in it is replaced by `buffer`), `@type file` written or not;
                // with an @id, under <system> root_dir when there is one (see
                // build::build_buffered, which knows it).
                if output.str("@id").is_none() {
                    path = output.str("path").map(|p| p.replace('*', "buffer"));
                }
                "file".to_string()
            }
            (Some(t), _) => t.to_string(),
            (None, Some(_)) if buffer.is_none() => {
                tracing::info!("{pos}: v0.12 buffer_path implies a file buffer (as v0.12 did), flushed at shutdown as Fluentd v1's memory buffer for it would be");
                implied_file = true;
                "file".to_string()
            }
            (None, _) => "memory".to_string(),
        };
        let store = match ty.as_str() {
            "memory" => {
                if path.is_some() && buffer.is_some() {
                    return Err(build_error(
                        &pos,
                        "a memory buffer has no 'path'; use @type file",
                    ));
                }
                StoreKind::Memory
            }
            "file" => {
                // Without a path: empty, for build::build_buffered to put under <system> root_dir
                // (with @id) or refuse.
                let path = path.unwrap_or_default();
                let suffix = src.val::<String>("path_suffix")?;
                let perm = |key| match &buffer {
                    Some(b) => crate::system::permission(b, key),
                    None => Ok(None),
                };
                StoreKind::File {
                    path,
                    suffix,
                    fsync: buffer.is_some() && src.val::<String>("durability")? == "power_loss",
                    file_permission: perm("file_permission")?,
                    dir_permission: perm("dir_permission")?,
                    single: None,
                }
            }
            "file_single" => {
                // Without a path: empty, for build::build_buffered to put under <system> root_dir
                // (with @id) or refuse. Its chunk keys are checked below.
                let perm = |key| match &buffer {
                    Some(b) => crate::system::permission(b, key),
                    None => Ok(None),
                };
                let msgpack = match src.val::<String>("chunk_format")?.as_str() {
                    "msgpack" => Some(true),
                    "text" => Some(false),
                    _ => None,
                };
                StoreKind::File {
                    path: path.unwrap_or_default(),
                    suffix: String::new(),
                    fsync: buffer.is_some() && src.val::<String>("durability")? == "power_loss",
                    file_permission: perm("file_permission")?,
                    dir_permission: perm("dir_permission")?,
                    single: Some(SingleConfig {
                        key: None,
                        calc_num_records: src.val::<bool>("calc_num_records")?,
                        msgpack,
                    }),
                }
            }
            other => {
                return Err(build_error(
                    &pos,
                    format!("unknown buffer type '{other}'; supported: memory, file, file_single"),
                ))
            }
        };
        let is_file = matches!(store, StoreKind::File { .. });
        let is_single = matches!(
            store,
            StoreKind::File {
                single: Some(_),
                ..
            }
        );

        // Chunk keys: the <buffer> argument, else the plugin default; v0.12 time_slice_format adds
        // the time key.
        let time_slice_format = output.str("time_slice_format").map(str::to_string);
        let arg = buffer
            .as_ref()
            .map(|b| b.arg().trim().to_string())
            .unwrap_or_default();
        // Fluentd's compat `default_chunk_key: 'time'` (out_exec): a flat buffer parameter makes
        // `<buffer time>` with timekey 86400 (time_slice_format's default, `%Y%m%d`).
        let v012_time = buffer.is_none()
            && defaults.v012_time_key
            && V012
                .iter()
                .filter(|(flat, _)| *flat != "retry_wait")
                .any(|(flat, _)| output.has(flat));
        let keys: Vec<String> = if arg.is_empty() {
            let mut k: Vec<String> = defaults.chunk_keys.iter().map(|s| s.to_string()).collect();
            if buffer.is_none()
                && (time_slice_format.is_some() || v012_time)
                && !k.iter().any(|x| x == "time")
            {
                k.push("time".into());
            }
            k
        } else {
            // The array type, as Fluentd reads it: the JSON form (`<buffer []>`, `<buffer ["tag",
            // "time"]>`) or `a, b` split on commas, where an empty key before the last (`,tag`,
            // `tag,,time`) stays and is refused below, and trailing ones are dropped.
            logferry_config::types::array(&arg)
                .map_err(|e| build_error(&pos, format!("buffer chunk keys: {e}")))?
        };
        let mut key_tag = false;
        let mut has_time = false;
        let mut record_keys = Vec::new();
        for k in &keys {
            match k.as_str() {
                "tag" => key_tag = true,
                "time" => has_time = true,
                other => {
                    let ok = other.starts_with("$.")
                        || (!other.is_empty()
                            && other
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c)));
                    if !ok || other.starts_with("$[") {
                        return Err(build_error(&pos, format!("invalid chunk key '{other}'")));
                    }
                    let accessor = Accessor::new(other).map_err(|e| build_error(&pos, e))?;
                    record_keys.push(RecordKey {
                        name: other.to_string(),
                        accessor,
                    });
                }
            }
        }
        if buffer.is_none() && !key_tag {
            // v0.12 style (no <buffer>): a tag placeholder in an output parameter meant a chunk per
            // tag (v0.12 and fluent-plugin-forest rendered them per tag); Fluentd v1 would leave
            // the placeholder literal. Add the chunk key, and say so.
            if let Some(p) = output.element().params.iter().find(|p| {
                p.value.contains("${tag}")
                    || p.value.contains("${tag[")
                    || p.value.contains("${tag_parts[")
            }) {
                tracing::info!("{}: '{}' uses a tag placeholder: adding the buffer chunk key 'tag' so it is rendered per tag (Fluentd v1 would leave it literal)", p.pos, p.key);
                key_tag = true;
            }
        }
        let mut store = store;
        if let StoreKind::File {
            single: Some(single),
            ..
        } = &mut store
        {
            // Fluentd's buf_file_single: the tag, or one record key, names the chunk files (a
            // time key is allowed; it is not in the file name).
            if !record_keys.is_empty() {
                if key_tag {
                    return Err(build_error(&pos, "chunk keys must be tag or one field"));
                }
                if record_keys.len() > 1 {
                    return Err(build_error(&pos, "2 or more chunk keys is not allowed"));
                }
                single.key = Some(record_keys[0].name.clone());
            }
        }
        if defaults.tag_required && !key_tag {
            return Err(build_error(
                &pos,
                format!("the {} output needs the chunk key 'tag'", output.plugin()),
            ));
        }
        let timekey = if has_time {
            let tk = match src.val::<Option<f64>>("timekey")? {
                Some(v) => Some(v as i64),
                None => time_slice_format
                    .as_deref()
                    .and_then(timekey_from_slice_format)
                    .or(defaults.timekey)
                    .or(v012_time.then_some(86_400)),
            };
            match tk {
                Some(t) if t > 0 => Some(t),
                _ => {
                    if let Some(f) = &time_slice_format {
                        return Err(build_error(&pos, format!("time_slice_format '{f}' has no %d, %H, %M or %S: cannot derive a timekey")));
                    }
                    return Err(build_error(&pos, "chunk key 'time' needs 'timekey'"));
                }
            }
        } else {
            None
        };
        let use_utc = match (
            src.get("timekey_use_utc"),
            output.has("utc"),
            output.has("localtime"),
        ) {
            (Some(_), _, _) => src.val::<bool>("timekey_use_utc")?,
            (None, true, _) if buffer.is_none() => output.get::<bool>("utc")?,
            (None, _, true) if buffer.is_none() => !output.get::<bool>("localtime")?,
            _ => false,
        };
        // Fluentd validates timekey_zone even where timekey_use_utc overrides it (its zone is
        // then `+0000`, a fixed offset: `%Z` writes nothing, as Ruby's Time#localtime("+00:00")).
        let given_zone = match src.get("timekey_zone") {
            Some((z, zpos)) => Some(Zone::parse_validated(&z).map_err(|e| build_error(&zpos, e))?),
            None => None,
        };
        let timekey_zone = match given_zone {
            _ if use_utc => Zone::zero_offset(),
            Some(z) => z,
            None => Zone::Local,
        };

        let chunk_limit_size = src
            .val::<Option<u64>>("chunk_limit_size")?
            .or(defaults.chunk_limit_size)
            .unwrap_or(if is_file { 256 << 20 } else { 8 << 20 });
        let queue_limit_length = src
            .val::<Option<i64>>("queue_limit_length")?
            .map(|v| v.max(1) as u64);
        let total_default = match queue_limit_length {
            Some(n) => chunk_limit_size.saturating_mul(n),
            None if is_file => 64 << 30,
            None => 512 << 20,
        };
        let total_limit_size = src
            .val::<Option<u64>>("total_limit_size")?
            .unwrap_or(total_default);
        let flush_thread_count = src.val::<i64>("flush_thread_count")?.max(1) as usize;

        // flush_mode default: lazy with a time key, else interval; a flush_interval at match level
        // (v0.12 style) forces interval.
        let mode = src.val::<String>("flush_mode")?;
        let interval_at_match_level = buffer.is_none() && output.has("flush_interval");
        let interval_in_buffer = buffer.as_ref().is_some_and(|b| b.has("flush_interval"));
        let flush_mode = match mode.as_str() {
            "lazy" => FlushMode::Lazy,
            "interval" => FlushMode::Interval,
            "immediate" => FlushMode::Immediate,
            _ if timekey.is_some() && !interval_at_match_level => FlushMode::Lazy,
            _ => FlushMode::Interval,
        };
        // Fluentd: a <buffer> flush_interval where the mode is not interval is an error when
        // flush_mode is written in the section (even `default`), else a warning.
        if flush_mode != FlushMode::Interval && interval_in_buffer {
            let name = if flush_mode == FlushMode::Lazy {
                "lazy"
            } else {
                "immediate"
            };
            if buffer.as_ref().is_some_and(|b| b.has("flush_mode")) {
                return Err(build_error(
                    &pos,
                    format!("'flush_interval' can't be specified when 'flush_mode' is not 'interval' explicitly: '{name}'"),
                ));
            }
            tracing::warn!("{pos}: 'flush_interval' is ignored because default 'flush_mode' is not 'interval': '{name}'; set flush_mode interval to use it");
        }
        let flush_interval = Duration::from_secs_f64(src.val::<f64>("flush_interval")?.max(0.001));

        let overflow = match src.val::<String>("overflow_action")?.as_str() {
            "block" => Overflow::Block,
            "drop_oldest_chunk" => Overflow::DropOldestChunk,
            _ => Overflow::ThrowException,
        };
        let retry = RetryConfig {
            exponential: src.val::<String>("retry_type")? == "exponential_backoff",
            wait: src.val::<f64>("retry_wait")?.max(0.001),
            base: src.val::<f64>("retry_exponential_backoff_base")?,
            max_interval: src.val::<Option<f64>>("retry_max_interval")?,
            randomize: src.val::<bool>("retry_randomize")?,
            timeout: src.val::<f64>("retry_timeout")?,
            max_times: src
                .val::<Option<i64>>("retry_max_times")?
                .map(|v| v.max(0) as u32),
            forever: src.val::<bool>("retry_forever")?,
            secondary_threshold: src.val::<f64>("retry_secondary_threshold")?,
        };
        if !(0.0..=1.0).contains(&retry.secondary_threshold) || retry.secondary_threshold == 0.0 {
            return Err(build_error(
                &pos,
                "retry_secondary_threshold must be in (0, 1]",
            ));
        }
        if output.has("retry_wait") && buffer.is_none() {
            // Fluentd v1 ignores a flat retry_wait; logferry honours it (it is what the user meant).
            let p = output.param("retry_wait").expect("checked");
            tracing::info!(
                "{}: v0.12 parameter 'retry_wait' of the {} output is used as <buffer> retry_wait",
                p.pos,
                output.plugin()
            );
        }
        let cfg = BufferConfig {
            store,
            key_tag,
            timekey,
            record_keys,
            timekey_wait: src.val::<f64>("timekey_wait")?,
            timekey_zone,
            chunk_limit_size: chunk_limit_size.max(1),
            chunk_limit_records: src
                .val::<Option<i64>>("chunk_limit_records")?
                .map(|v| v.max(1) as u64),
            total_limit_size,
            queued_chunks_limit_size: src
                .val::<Option<i64>>("queued_chunks_limit_size")?
                .map_or(flush_thread_count, |v| v.max(1) as usize),
            chunk_full_threshold: src.val::<f64>("chunk_full_threshold")?,
            compress_gzip: src.val::<String>("compress")? == "gzip",
            flush_mode,
            flush_interval,
            flush_thread_count,
            flush_thread_interval: Duration::from_secs_f64(
                src.val::<f64>("flush_thread_interval")?.max(0.01),
            ),
            // Its Fluentd default is nil (memory true, file false): a value that is not a bool
            // reads as nil there, so as the default here.
            flush_at_shutdown: src
                .get("flush_at_shutdown")
                .and_then(|(v, _)| logferry_config::types::bool(&v))
                .or(defaults.flush_at_shutdown)
                .unwrap_or(!is_file || implied_file),
            delayed_commit_timeout: output
                .get::<Option<f64>>("delayed_commit_timeout")?
                .map(|t| Duration::from_secs_f64(t.max(0.001))),
            slow_flush_log_threshold: Duration::from_secs_f64(
                output.get::<f64>("slow_flush_log_threshold")?.max(0.0),
            ),
            overflow,
            retry,
            disable_chunk_backup: src.val::<bool>("disable_chunk_backup")?,
            backup_perms: crate::perms::Perms::default(),
            time_slice_format,
        };
        // Parameters read only for the legacy mapping or accepted by name.
        src.val::<f64>("flush_thread_burst_interval")?;
        if !is_single {
            // file_single has no path_suffix: given there, it is warned about as unused (as
            // Fluentd does).
            src.val::<String>("path_suffix")?;
        }
        Ok(cfg)
    }

    /// Has any chunk key?
    pub fn has_chunk_keys(&self) -> bool {
        self.key_tag || self.timekey.is_some() || !self.record_keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(buffer: &str) -> Result<BufferConfig, String> {
        let text = format!("<match **>\n@type x\n{buffer}\n</match>\n");
        let root = logferry_config::parse_str(&text, "t.conf", std::path::Path::new(".")).unwrap();
        let s = Section::new(&root.elements[0], "x");
        BufferConfig::from_output(&s, &BufferDefaults::default()).map_err(|e| e.to_string())
    }

    fn single(c: &BufferConfig) -> SingleConfig {
        match &c.store {
            StoreKind::File {
                single: Some(s), ..
            } => s.clone(),
            other => panic!("not file_single: {other:?}"),
        }
    }

    /// file_single's defaults are Fluentd's: a file buffer's limits, not flushed at shutdown,
    /// records counted, chunk_format auto; the tag names the files.
    #[test]
    fn file_single_defaults() {
        let c = parse("<buffer tag>\n@type file_single\npath /b\n</buffer>").unwrap();
        assert_eq!(c.chunk_limit_size, 256 << 20);
        assert_eq!(c.total_limit_size, 64 << 30);
        assert!(!c.flush_at_shutdown);
        assert_eq!(
            single(&c),
            SingleConfig {
                key: None,
                calc_num_records: true,
                msgpack: None
            }
        );
        let c = parse(
            "<buffer $.a.b, time>\n@type file_single\ntimekey 60\ncalc_num_records false\nchunk_format msgpack\n</buffer>",
        )
        .unwrap();
        let s = single(&c);
        assert_eq!(s.key.as_deref(), Some("$.a.b"));
        assert!(!s.calc_num_records);
        assert_eq!(s.msgpack, Some(true));
        assert_eq!(c.timekey, Some(60));
        let c = parse("<buffer>\n@type file_single\nchunk_format text\n</buffer>").unwrap();
        assert_eq!(single(&c).msgpack, Some(false));
        // v0.12's buffer_type.
        let c = parse("buffer_type file_single\nbuffer_path /b").unwrap();
        assert!(single(&c).key.is_none());
    }

    /// Fluentd's configure errors of file_single.
    #[test]
    fn file_single_refusals() {
        let e = parse("<buffer tag,a>\n@type file_single\npath /b\n</buffer>").unwrap_err();
        assert!(e.contains("chunk keys must be tag or one field"), "{e}");
        let e = parse("<buffer a,b>\n@type file_single\npath /b\n</buffer>").unwrap_err();
        assert!(e.contains("2 or more chunk keys is not allowed"), "{e}");
        let e = parse("<buffer>\n@type file_single\nchunk_format json\n</buffer>").unwrap_err();
        assert!(e.contains("chunk_format"), "{e}");
        let e =
            parse("<buffer>\n@type file_single\ncalc_num_records maybe\n</buffer>").unwrap_err();
        assert!(e.contains("calc_num_records"), "{e}");
    }
}
