//! `kinesis_firehose` and `kinesis_streams` outputs (aws-fluent-plugin-kinesis 3.6): each
//! chunk's records are sent with PutRecordBatch (Firehose) or PutRecords (Data Streams).
//!
//! * Records are made when events are buffered ([`record`]): `data_key`, or `<inject>`
//!   (time_type `string`, `%Y-%m-%dT%H:%M:%S.%N%z` by default) + `<format>` (default json),
//!   `chomp_record`, `compression` zlib/gzip, Firehose's `append_new_line` (default true); Data
//!   Streams' `partition_key` (default: 32 random hex digits). A record over `max_record_size`
//!   (data + key; Firehose at most 1,000 KiB, Data Streams 1 MiB), or whose `data_key` /
//!   `partition_key` is missing, takes the error path (`@ERROR`, else a log line with the
//!   record, cut at `log_truncate_max_size`), and the rest of the chunk is delivered.
//! * Batches: at most `batch_request_max_count` (500) records and `batch_request_max_size`
//!   (Firehose 4 MiB, Data Streams 5 MiB). The records of a batch that failed (throttling, an
//!   internal error; or the whole call throttled, 5xx, network) are retried, exactly those, up to
//!   `retries_on_batch_request` (8) times with the plugin's backoff (`reset_backoff_if_success`).
//!   Then the chunk goes back to the buffer's retry schedule, and only the records not yet
//!   delivered are sent again; after that `<secondary>` or the backup directory takes it, as for
//!   every output. No record is dropped (aws-fluent-plugin-kinesis drops them by default:
//!   `drop_failed_records_after_batch_request_retries true` is warned about and not followed).
//! * Stream names take placeholders (`${tag}` …), rendered per chunk.

pub mod batch;
pub mod put;
pub mod record;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use logferry_core::buffer::params::BUFFERED;
use logferry_core::buffer::{
    BufferConfig, BufferDefaults, Chunk, ChunkId, ChunkWriter, Template, WriteError,
};
use logferry_core::error::build_error;
use logferry_core::params::{one, p, Body, ParamType::*, PluginKind, Spec};
use logferry_core::{BuildCtx, BuildError, Emitter, EventBatch, EventTime, PluginLog, Section};
use logferry_formats::formatter;
use logferry_formats::inject::{Inject, INJECT, INJECT_V012};
use tokio::sync::OnceCell;

use crate::aws::error::Failure;
use crate::aws::params::AWS;
use crate::aws::AwsSettings;
use batch::Backoff;
use put::Api;
use record::{Compression, RecordMaker};

/// What `kinesis_firehose` and `kinesis_streams` share (aws-fluent-plugin-kinesis 3.6).
pub static COMMON: Spec = Spec::new("kinesis", "Kinesis outputs.")
    .params(&[
        p("data_key", Str, "Send only this key's value as the record's data."),
        p("compression", Enum(&["zlib", "gzip"]), "Compress each record's data."),
        p("chomp_record", Bool, "Remove the formatter's trailing newline.").default("false"),
        p("max_record_size", Integer, "Largest record (data + partition key); larger ones take the error path.").computed("1024000 (Firehose), 1048576 (Data Streams)"),
        p("batch_request_max_count", Integer, "Records per request (at most 500).").default("500"),
        p("batch_request_max_size", Integer, "Bytes per request.").computed("4194304 (Firehose), 5242880 (Data Streams)"),
        p("retries_on_batch_request", Integer, "Retries of a batch's failed records before the chunk goes back to the buffer's retry schedule.").default("8"),
        p("reset_backoff_if_success", Bool, "Restart the backoff when some records of an attempt were accepted.").default("true"),
        p("drop_failed_records_after_batch_request_retries", Bool, "Not followed: logferry never drops records (warned when set true).").default("true"),
        p("monitor_num_of_batch_request_retries", Bool, "Count batch retries as errors (only false).").default("false"),
        p("log_truncate_max_size", Integer, "Cut log lines that show records to this many bytes (0: no cut).").default("1024"),
        p("debug", Bool, "Log each request at info.").default("false"),
    ])
    .sections(&[
        one("format", Body::Plugin(PluginKind::Formatter, Some("json")), "Record format."),
        one("inject", Body::Spec(&INJECT), "Fields added when the event is buffered (time as %Y-%m-%dT%H:%M:%S.%N%z strings by default)."),
    ])
    .extends(&[&AWS, &formatter::params::FLAT, &INJECT_V012, &BUFFERED]);

/// `kinesis_firehose`.
pub static FIREHOSE: Spec = Spec::new(
    "kinesis_firehose",
    "Sends records to Kinesis Data Firehose with PutRecordBatch (aws-fluent-plugin-kinesis); failed records are retried, never dropped.",
)
.params(&[
    p("delivery_stream_name", Str, "Delivery stream (placeholders allowed).").required(),
    p("append_new_line", Bool, "End each record with a newline.").default("true"),
    p("partition_key", Str, "Data Streams only.").refused("Firehose records have no partition key"),
])
.extends(&[&COMMON]);

/// `kinesis_streams`.
pub static STREAMS: Spec = Spec::new(
    "kinesis_streams",
    "Sends records to Kinesis Data Streams with PutRecords (aws-fluent-plugin-kinesis); failed records are retried, never dropped.",
)
.params(&[
    p("stream_name", Str, "Data stream (placeholders allowed).").required(),
    p("partition_key", Str, "Record key holding the partition key.").computed("32 random hex digits"),
    p("append_new_line", Bool, "Firehose only.").refused("a kinesis_firehose parameter"),
])
.extends(&[&COMMON]);

/// Buffer defaults of the kinesis outputs: memory, no chunk keys.
pub const DEFAULTS: BufferDefaults = BufferDefaults {
    chunk_keys: &[],
    timekey: None,
    tag_required: false,
    file_at_output_path: false,
    chunk_limit_size: None,
    flush_at_shutdown: None,
    v012_time_key: false,
};

/// Chunks whose partial progress is remembered at most.
const PROGRESS_CHUNKS: usize = 4096;

/// Which service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Kinesis Data Firehose.
    Firehose,
    /// Kinesis Data Streams.
    Streams,
}

impl Kind {
    fn max_count(self) -> usize {
        500
    }
    fn max_batch_bytes(self) -> usize {
        match self {
            Kind::Firehose => 4 << 20,
            Kind::Streams => 5 << 20,
        }
    }
    fn max_record(self) -> usize {
        match self {
            Kind::Firehose => 1000 * 1024,
            Kind::Streams => 1 << 20,
        }
    }
    fn stream_param(self) -> &'static str {
        match self {
            Kind::Firehose => "delivery_stream_name",
            Kind::Streams => "stream_name",
        }
    }
}

/// The kinesis_firehose / kinesis_streams chunk writer.
pub struct KinesisWriter {
    kind: Kind,
    maker: RecordMaker,
    stream: Template,
    max_count: usize,
    max_bytes: usize,
    retries: u32,
    reset_backoff: bool,
    debug: bool,
    log_truncate: usize,
    aws: AwsSettings,
    api: OnceCell<Api>,
    /// Per chunk: which records were delivered.
    progress: Mutex<HashMap<ChunkId, Vec<bool>>>,
    emitter: Emitter,
    log: PluginLog,
}

fn pos<'a>(s: &Section<'a>, key: &str) -> &'a logferry_config::Pos {
    s.param(key).map(|p| &p.pos).unwrap_or(s.pos())
}

/// `kinesis_firehose` writer factory.
pub fn firehose(
    ctx: &BuildCtx,
    s: &Section,
    cfg: &BufferConfig,
) -> Result<Arc<dyn ChunkWriter>, BuildError> {
    build(ctx, s, cfg, Kind::Firehose)
}

/// `kinesis_streams` writer factory.
pub fn streams(
    ctx: &BuildCtx,
    s: &Section,
    cfg: &BufferConfig,
) -> Result<Arc<dyn ChunkWriter>, BuildError> {
    build(ctx, s, cfg, Kind::Streams)
}

fn limit(s: &Section, key: &str, max: usize) -> Result<usize, BuildError> {
    if !s.has(key) {
        return Ok(max);
    }
    let v = s.integer(key, max as i64);
    if v < 1 || v as u64 > max as u64 {
        return Err(build_error(
            pos(s, key),
            format!("{key} can't be greater than {max} (the service's limit), nor below 1"),
        ));
    }
    Ok(v as usize)
}

fn build(
    ctx: &BuildCtx,
    s: &Section,
    cfg: &BufferConfig,
    kind: Kind,
) -> Result<Arc<dyn ChunkWriter>, BuildError> {
    let aws = AwsSettings::from_section(s)?;
    let name = kind.stream_param();
    let stream =
        Template::new(name, s.required(name)?, cfg).map_err(|e| build_error(pos(s, name), e))?;
    let compression = match s.str("compression") {
        None | Some("") => Compression::None,
        Some("zlib") => Compression::Zlib,
        Some("gzip") => Compression::Gzip,
        Some(other) => {
            return Err(build_error(
                pos(s, "compression"),
                format!("compression '{other}' is not one of: zlib, gzip"),
            ))
        }
    };
    let partition_key = match kind {
        Kind::Firehose => {
            s.refuse("partition_key", "Firehose records have no partition key")?;
            None
        }
        Kind::Streams => Some(s.str("partition_key").map(str::to_string)),
    };
    let append_new_line = match kind {
        Kind::Firehose => s.bool("append_new_line", true)?,
        Kind::Streams => {
            s.refuse("append_new_line", "a kinesis_firehose parameter")?;
            false
        }
    };
    if s.bool("drop_failed_records_after_batch_request_retries", true)?
        && s.has("drop_failed_records_after_batch_request_retries")
    {
        tracing::warn!(
            "{}: drop_failed_records_after_batch_request_retries true is not followed: logferry never drops records; after retries_on_batch_request the chunk goes back to the buffer's retry schedule, then to <secondary> or the backup directory",
            pos(s, "drop_failed_records_after_batch_request_retries")
        );
    }
    if s.bool("monitor_num_of_batch_request_retries", false)? {
        return Err(build_error(
            pos(s, "monitor_num_of_batch_request_retries"),
            "'monitor_num_of_batch_request_retries' is not supported by logferry: batch retries are logged at warn; the buffer's retry_count counts chunk retries",
        ));
    }
    // The plugin takes up to 1 MiB for both services (its own bound); Firehose's service limit
    // is 1,000 KiB, so a larger value there means that limit.
    let max_record_size = if s.has("max_record_size") {
        let v = s.integer("max_record_size", 1 << 20);
        if !(1..=1 << 20).contains(&v) {
            return Err(build_error(
                pos(s, "max_record_size"),
                "max_record_size can't be greater than 1024 KB (fluent-plugin-kinesis's bound), nor below 1",
            ));
        }
        v as usize
    } else {
        kind.max_record()
    };
    let asked = max_record_size;
    let max_record_size = asked.min(kind.max_record());
    if asked > max_record_size {
        tracing::warn!(
            "{}: max_record_size {asked} is above Firehose's limit of {max_record_size} bytes a record: that limit is used",
            pos(s, "max_record_size")
        );
    }
    let maker = RecordMaker {
        data_key: s.str("data_key").map(str::to_string),
        formatter: formatter::from_section_only(s, "json")?,
        inject: Inject::from_plugin_with(s, "string", "%Y-%m-%dT%H:%M:%S.%N%z")?,
        chomp: s.bool("chomp_record", false)?,
        compression,
        append_new_line,
        partition_key,
        max_record_size,
    };
    let retries = s.integer("retries_on_batch_request", 8);
    if retries < 0 {
        return Err(build_error(
            pos(s, "retries_on_batch_request"),
            "retries_on_batch_request must be 0 or more",
        ));
    }
    Ok(Arc::new(KinesisWriter {
        kind,
        maker,
        stream,
        max_count: limit(s, "batch_request_max_count", kind.max_count())?,
        max_bytes: limit(s, "batch_request_max_size", kind.max_batch_bytes())?,
        retries: retries as u32,
        reset_backoff: s.bool("reset_backoff_if_success", true)?,
        debug: s.bool("debug", false)?,
        log_truncate: s.integer("log_truncate_max_size", 1024).max(0) as usize,
        aws,
        api: OnceCell::new(),
        progress: Mutex::new(HashMap::new()),
        emitter: ctx.emitter.clone(),
        log: ctx.log.clone(),
    }))
}

impl KinesisWriter {
    async fn api(&self) -> Result<&Api, WriteError> {
        self.api
            .get_or_try_init(|| async {
                let sdk = self.aws.sdk_config().await?;
                Ok::<_, String>(match self.kind {
                    Kind::Firehose => Api::Firehose(aws_sdk_firehose::Client::new(&sdk)),
                    Kind::Streams => Api::Streams(aws_sdk_kinesis::Client::new(&sdk)),
                })
            })
            .await
            .map_err(WriteError::Retryable)
    }

    fn truncate(&self, msg: String) -> String {
        if self.log_truncate == 0 || msg.len() <= self.log_truncate {
            return msg;
        }
        let mut n = self.log_truncate;
        while !msg.is_char_boundary(n) {
            n -= 1;
        }
        msg[..n].to_string()
    }

    fn delivered(&self, id: &ChunkId, n: usize) -> Vec<bool> {
        let p = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        p.get(id)
            .filter(|v| v.len() == n)
            .cloned()
            .unwrap_or_else(|| vec![false; n])
    }

    fn remember(&self, id: &ChunkId, done: Vec<bool>) {
        let mut p = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        if p.len() >= PROGRESS_CHUNKS && !p.contains_key(id) {
            if let Some(k) = p.keys().next().copied() {
                p.remove(&k);
            }
        }
        p.insert(*id, done);
    }

    fn forget(&self, id: &ChunkId) {
        self.progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    /// Send one batch (record indexes into `records`), retrying exactly the failed records.
    /// Marks what was delivered in `done`; `Err` when records remain after the retries.
    async fn send_batch(
        &self,
        api: &Api,
        stream: &str,
        records: &[record::Record<'_>],
        mut todo: Vec<usize>,
        done: &mut [bool],
    ) -> Result<(), String> {
        let mut backoff = Backoff::default();
        let mut attempt = 0u32;
        loop {
            let batch: Vec<record::Record> = todo.iter().map(|&i| records[i].clone()).collect();
            if self.debug {
                self.log.info(format_args!(
                    "{stream}: request of {} records, {} bytes (attempt {})",
                    batch.len(),
                    batch.iter().map(|r| r.size()).sum::<usize>(),
                    attempt + 1
                ));
            }
            let (failed, why, shipped) = match api.put(stream, &batch).await {
                Ok(results) => {
                    let mut failed = Vec::new();
                    let mut why = None;
                    for (j, r) in results.iter().enumerate() {
                        match r {
                            None => done[todo[j]] = true,
                            Some((code, msg)) => {
                                failed.push(todo[j]);
                                why.get_or_insert_with(|| format!("{code}/{msg}"));
                            }
                        }
                    }
                    if results.len() < todo.len() {
                        // A response with fewer results than records: the rest count as failed.
                        failed.extend_from_slice(&todo[results.len()..]);
                        why.get_or_insert_with(|| {
                            "a response without every record's result".into()
                        });
                    }
                    let shipped = failed.len() < todo.len();
                    (failed, why.unwrap_or_default(), shipped)
                }
                Err(f) => {
                    if f.kind == Failure::Permanent {
                        return Err(f.message);
                    }
                    (todo.clone(), f.message, false)
                }
            };
            if failed.is_empty() {
                return Ok(());
            }
            if attempt >= self.retries {
                return Err(self.truncate(format!(
                    "{} records not delivered after {} retries: {why}",
                    failed.len(),
                    self.retries
                )));
            }
            if self.reset_backoff && shipped {
                backoff.reset();
            }
            let wait = backoff.next_wait();
            attempt += 1;
            self.log.warn(format_args!(
                "{}",
                self.truncate(format!(
                    "Retrying to request batch. Retry count: {attempt:3}, Retry records: {:3}, Wait seconds {wait:3.2}: {why}",
                    failed.len()
                ))
            ));
            tokio::time::sleep(Duration::from_secs_f64(wait)).await;
            todo = failed;
        }
    }
}

#[async_trait]
impl ChunkWriter for KinesisWriter {
    /// As the Fluentd plugin: its chunks hold msgpack.
    fn formatted_to_msgpack_binary(&self) -> bool {
        true
    }

    fn format(&self, tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        match self.maker.make(tag, time, record) {
            Ok((data, key)) => record::encode(&data, key.as_deref(), out),
            Err(why) => {
                let mut json = Vec::new();
                let _ = logferry_msgpack::write_json(record, &mut json);
                self.log.error(format_args!(
                    "{}",
                    self.truncate(format!(
                        "{why}: {} (tag {tag}); the record takes the error path",
                        String::from_utf8_lossy(&json)
                    ))
                ));
                let emitter = self.emitter.clone();
                let (tag, batch) = (tag.to_string(), EventBatch::single(time, record));
                match tokio::runtime::Handle::try_current() {
                    Ok(h) => {
                        h.spawn(async move {
                            emitter.emit_error_events(&tag, batch, &[why]).await;
                        });
                    }
                    Err(_) => self.log.error(format_args!(
                        "no runtime to route the record to @ERROR: it is only logged"
                    )),
                }
            }
        }
    }

    async fn write(&self, chunk: &Chunk) -> Result<(), WriteError> {
        let data = chunk
            .bytes()
            .map_err(|e| WriteError::Unrecoverable(format!("chunk decompression: {e}")))?;
        let (records, broken) = record::decode(&data);
        if let Some(b) = &broken {
            if records.is_empty() {
                return Err(WriteError::Unrecoverable(b.clone()));
            }
            self.log.error(format_args!(
                "chunk {:?}: {b}; the {} records before it are sent",
                chunk.id,
                records.len()
            ));
        }
        if records.is_empty() {
            return Ok(());
        }
        let api = self.api().await?;
        let stream = self.stream.render(&chunk.meta, &chunk.id);
        let mut done = self.delivered(&chunk.id, records.len());
        let todo: Vec<usize> = (0..records.len()).filter(|&i| !done[i]).collect();
        let sizes: Vec<usize> = todo.iter().map(|&i| records[i].size()).collect();
        self.log.debug(format_args!(
            "{stream}: write chunk {:?} / {} records",
            chunk.id,
            todo.len()
        ));
        let mut failure = None;
        for range in batch::batches(&sizes, self.max_count, self.max_bytes) {
            let part = todo[range].to_vec();
            if let Err(e) = self
                .send_batch(api, &stream, &records, part, &mut done)
                .await
            {
                failure = Some(e);
                break;
            }
        }
        match failure {
            None => {
                self.forget(&chunk.id);
                Ok(())
            }
            Some(e) => {
                let left = done.iter().filter(|d| !**d).count();
                self.remember(&chunk.id, done);
                Err(WriteError::Retryable(format!(
                    "{e} ({left} of {} records of the chunk left; the delivered ones are not sent again)",
                    records.len()
                )))
            }
        }
    }
}
