//! `cloudwatch_logs` output (fluent-plugin-cloudwatch-logs 0.15): each chunk's events are sent
//! to CloudWatch Logs with PutLogEvents, per log group and stream.
//!
//! * Names: exactly one of `log_group_name` (placeholders rendered per chunk),
//!   `use_tag_as_group`, `log_group_name_key` (+ `remove_log_group_name_key`); the same for the
//!   stream. `auto_create_stream` creates a missing group (with `log_group_aws_tags` or the
//!   record's `log_group_aws_tags_key`, and `retention_in_days` or `retention_in_days_key`) and
//!   stream, also when one is deleted while logferry runs.
//! * Messages: `<format>` if given, else `message_keys` (values joined by a space), else the
//!   record as JSON (`json_handler` yajl or json: the same compact JSON); top-level keys whose
//!   value is `""` are left out first, as Fluentd does. `max_message_length` cuts messages
//!   (characters). `<inject>` applies when the event is buffered.
//! * Limits kept by logferry: at most `max_events_per_batch` (10,000) events and 1,048,576 bytes
//!   (each message + 26) per call, events in time order, a batch spans less than 24 hours. An
//!   event over `max_event_size` (default 1 MiB, CloudWatch's limit since 2025; set `256k` where
//!   the old limit holds) is split into several events of the same timestamp, in order
//!   (`oversize_event split`, the default) or cut (`oversize_event truncate`); fluent-plugin-
//!   cloudwatch-logs discards it.
//! * Failures: throttling and 5xx are retried per batch with backoff
//!   (`put_log_events_retry_wait` doubling, at most 30 s a wait) up to
//!   `put_log_events_retry_limit` times (`put_log_events_disable_retry_limit`: no limit); after
//!   that the chunk goes back to the buffer's retry schedule, and only the batches not yet
//!   delivered are sent again. Streams are sent independently, `concurrency` requests at a time;
//!   a stream waiting out its backoff holds no slot, so it never holds back the others. Events
//!   CloudWatch cannot take (no group or stream name in the record, a missing group or stream
//!   without `auto_create_stream`) take the error path (`@ERROR`, else a log line per event),
//!   never dropped silently.

pub mod batch;
pub mod events;
pub mod put;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::Client;
use logferry_core::buffer::params::BUFFERED;
use logferry_core::buffer::{
    BufferConfig, BufferDefaults, Chunk, ChunkId, ChunkWriter, Template, WriteError,
};
use logferry_core::error::build_error;
use logferry_core::params::{one, p, Body, ParamType::*, PluginKind, Spec};
use logferry_core::{BatchBuilder, BuildCtx, BuildError, Emitter, EventTime, PluginLog, Section};
use logferry_formats::formatter;
use logferry_formats::inject::{Inject, INJECT, INJECT_V012};
use tokio::sync::{OnceCell, Semaphore};

use crate::aws::params::AWS;
use crate::aws::AwsSettings;
use events::{decode_entries, encode_entry, Message, NameFrom, Oversize, Shaped, Shaper};
use put::{put_batch, PutFailure, PutSettings};

/// The parameters of `cloudwatch_logs` (fluent-plugin-cloudwatch-logs 0.15's, plus
/// `max_event_size` and `oversize_event`).
pub static PARAMS: Spec = Spec::new(
    "cloudwatch_logs",
    "Sends events to CloudWatch Logs with PutLogEvents (fluent-plugin-cloudwatch-logs); oversize events are split, never discarded.",
)
.params(&[
    p("log_group_name", Str, "Log group (placeholders allowed); one of this, use_tag_as_group, log_group_name_key."),
    p("log_stream_name", Str, "Log stream (placeholders allowed); one of this, use_tag_as_stream, log_stream_name_key."),
    p("use_tag_as_group", Bool, "The tag is the log group.").default("false"),
    p("use_tag_as_stream", Bool, "The tag is the log stream.").default("false"),
    p("log_group_name_key", Str, "Record key holding the log group."),
    p("log_stream_name_key", Str, "Record key holding the log stream."),
    p("remove_log_group_name_key", Bool, "Remove log_group_name_key from the record.").default("false"),
    p("remove_log_stream_name_key", Bool, "Remove log_stream_name_key from the record.").default("false"),
    p("auto_create_stream", Bool, "Create missing log groups and streams (also when deleted while running).").default("false"),
    p("retention_in_days", Integer, "Retention of the groups logferry creates."),
    p("retention_in_days_key", Str, "Record key holding the retention."),
    p("remove_retention_in_days_key", Bool, "Remove retention_in_days_key from the record.").default("false"),
    p("log_group_aws_tags", Hash, "Tags of the groups logferry creates (placeholders allowed)."),
    p("log_group_aws_tags_key", Str, "Record key holding the tags."),
    p("remove_log_group_aws_tags_key", Bool, "Remove log_group_aws_tags_key from the record.").default("false"),
    p("message_keys", Array, "Send these keys' values joined by a space instead of the record as JSON."),
    p("max_message_length", Integer, "Cut messages to this many characters."),
    p("max_events_per_batch", Integer, "Events per PutLogEvents (at most 10000).").default("10000"),
    p("max_event_size", Size, "CloudWatch's per-event limit, its 26 bytes of overhead included (256k where the old limit holds).").default("1048576"),
    p("oversize_event", Enum(&["split", "truncate"]), "An event over max_event_size is split into several events, or cut.").default("split"),
    p("json_handler", Enum(&["yajl", "json"]), "JSON encoder: yajl, or Ruby's json (the same compact JSON, its \\u escapes in lower case).").default("yajl"),
    p("put_log_events_retry_wait", Time, "First wait after throttling or a 5xx (doubling, at most 30 s).").default("1.0"),
    p("put_log_events_retry_limit", Integer, "Retries of a batch before the chunk goes back to the buffer's retry schedule.").default("17"),
    p("put_log_events_disable_retry_limit", Bool, "Retry a batch without limit.").default("false"),
    p("concurrency", Integer, "PutLogEvents requests in flight (one per stream).").default("1"),
    p("log_rejected_request", Bool, "Log the details of events CloudWatch rejected (too old or too new).").default("false"),
])
.sections(&[
    one("format", Body::Plugin(PluginKind::Formatter, Some("json")), "Message format (instead of the record as JSON)."),
    one("inject", Body::Spec(&INJECT), "Fields added when the event is buffered."),
])
.extends(&[&AWS, &formatter::params::FLAT, &INJECT_V012, &BUFFERED]);

/// Buffer defaults of out_cloudwatch_logs: memory, no chunk keys.
pub const DEFAULTS: BufferDefaults = BufferDefaults {
    chunk_keys: &[],
    timekey: None,
    tag_required: false,
    file_at_output_path: false,
    chunk_limit_size: None,
    flush_at_shutdown: None,
    v012_time_key: false,
};

/// Chunks whose partial progress is remembered at most (a chunk given up is forgotten last).
const PROGRESS_CHUNKS: usize = 4096;

/// Marks the error path of a chunk's unroutable entries as done.
const UNROUTABLE: (usize, usize) = (usize::MAX, 0);

/// The cloudwatch_logs chunk writer.
pub struct CloudWatchLogsWriter {
    inner: Arc<Inner>,
}

struct Inner {
    shaper: Shaper,
    inject: Inject,
    group_name: Option<Template>,
    stream_name: Option<Template>,
    tags: Option<Vec<(Template, Template)>>,
    put: PutSettings,
    max_events_per_batch: usize,
    concurrency: usize,
    aws: AwsSettings,
    client: OnceCell<Client>,
    /// Per chunk: (stream index, batch index) delivered or sent to the error path.
    progress: Mutex<HashMap<ChunkId, HashSet<(usize, usize)>>>,
    emitter: Emitter,
    log: PluginLog,
}

fn pos<'a>(s: &Section<'a>, key: &str) -> &'a logferry_config::Pos {
    s.param(key).map(|p| &p.pos).unwrap_or(s.pos())
}

fn name_from(
    s: &Section,
    cfg: &BufferConfig,
    what: &str,
) -> Result<(NameFrom, Option<Template>), BuildError> {
    let name = format!("log_{what}_name");
    let key = format!("log_{what}_name_key");
    let use_tag = format!("use_tag_as_{what}");
    let remove = format!("remove_log_{what}_name_key");
    let fixed = s.str(&name);
    let by_tag = s.bool(&use_tag, false)?;
    let by_key = s.str(&key);
    let remove_key = s.bool(&remove, false)?;
    let set = usize::from(fixed.is_some()) + usize::from(by_tag) + usize::from(by_key.is_some());
    if set != 1 {
        return Err(build_error(
            s.pos(),
            format!("Set only one of {name}, {use_tag} and {key}"),
        ));
    }
    Ok(if let Some(f) = fixed {
        let t = Template::new(&name, f, cfg).map_err(|e| build_error(pos(s, &name), e))?;
        (NameFrom::Fixed, Some(t))
    } else if by_tag {
        (NameFrom::Tag, None)
    } else {
        (
            NameFrom::Key {
                key: by_key.unwrap_or_default().to_string(),
                remove: remove_key,
            },
            None,
        )
    })
}

fn key_and_remove(
    s: &Section,
    key: &str,
    remove: &str,
    fixed: &str,
) -> Result<Option<(String, bool)>, BuildError> {
    let k = s.str(key).map(str::to_string);
    let rm = s.bool(remove, false)?;
    if k.is_some() && s.has(fixed) {
        return Err(build_error(
            pos(s, key),
            format!("Set only one of {fixed}, {key}"),
        ));
    }
    Ok(k.map(|k| (k, rm)))
}

/// Writer factory for the buffer engine (and `<secondary>`).
pub fn writer(
    ctx: &BuildCtx,
    s: &Section,
    cfg: &BufferConfig,
) -> Result<Arc<dyn ChunkWriter>, BuildError> {
    let aws = AwsSettings::from_section(s)?;
    let (group, group_name) = name_from(s, cfg, "group")?;
    let (stream, stream_name) = name_from(s, cfg, "stream")?;
    let tags_key = key_and_remove(
        s,
        "log_group_aws_tags_key",
        "remove_log_group_aws_tags_key",
        "log_group_aws_tags",
    )?;
    let retention_key = key_and_remove(
        s,
        "retention_in_days_key",
        "remove_retention_in_days_key",
        "retention_in_days",
    )?;
    let tags = match s.hash("log_group_aws_tags")? {
        None => None,
        Some(pairs) => {
            let mut out = Vec::with_capacity(pairs.len());
            for (k, v) in pairs {
                let t = |x: &str| {
                    Template::new("log_group_aws_tags", x, cfg)
                        .map_err(|e| build_error(pos(s, "log_group_aws_tags"), e))
                };
                out.push((t(&k)?, t(&v)?));
            }
            Some(out)
        }
    };
    let retention_in_days = s
        .has("retention_in_days")
        .then(|| s.integer("retention_in_days", 0) as i32);
    let ruby_json = s.choice("json_handler", &["yajl", "json"], "yajl")? == "json";
    let message_keys = s.array("message_keys")?.unwrap_or_default();
    let message = if s.section("format")?.is_some() {
        Message::Format(formatter::from_section_only(s, "json")?)
    } else if !message_keys.is_empty() {
        Message::Keys(message_keys)
    } else {
        Message::Json { ruby_json }
    };
    let max_message_length = s
        .has("max_message_length")
        .then(|| s.integer("max_message_length", 0).max(0) as usize);
    let max_event_size = s.size("max_event_size", 1 << 20);
    if !(events::EVENT_OVERHEAD as u64 + 4..=batch::MAX_BATCH_BYTES as u64)
        .contains(&max_event_size)
    {
        return Err(build_error(
            pos(s, "max_event_size"),
            format!(
                "max_event_size must be between {} and {} bytes (CloudWatch Logs' limits)",
                events::EVENT_OVERHEAD + 4,
                batch::MAX_BATCH_BYTES
            ),
        ));
    }
    let oversize = match s
        .choice("oversize_event", &["split", "truncate"], "split")?
        .as_str()
    {
        "truncate" => Oversize::Truncate,
        _ => Oversize::Split,
    };
    let max_events_per_batch = s.integer("max_events_per_batch", 10_000);
    if !(1..=batch::MAX_BATCH_EVENTS as i64).contains(&max_events_per_batch) {
        return Err(build_error(
            pos(s, "max_events_per_batch"),
            "max_events_per_batch must be between 1 and 10000 (CloudWatch Logs' limit)",
        ));
    }
    let retry_limit = s.integer("put_log_events_retry_limit", 17).max(0) as u32;
    let disable_limit = s.bool("put_log_events_disable_retry_limit", false)?;
    let concurrency = s.integer("concurrency", 1);
    if concurrency < 1 {
        return Err(build_error(
            pos(s, "concurrency"),
            "concurrency must be at least 1",
        ));
    }
    let put = PutSettings {
        auto_create: s.bool("auto_create_stream", false)?,
        retention_in_days,
        tags: None,
        retry_wait: s.time("put_log_events_retry_wait", 1.0).max(0.0),
        retry_limit: (!disable_limit).then_some(retry_limit),
        log_rejected: s.bool("log_rejected_request", false)?,
    };
    Ok(Arc::new(CloudWatchLogsWriter {
        inner: Arc::new(Inner {
            shaper: Shaper {
                group,
                stream,
                message,
                max_message_length,
                max_event_size: max_event_size as usize,
                oversize,
                tags_key,
                retention_key,
            },
            inject: Inject::from_plugin(s)?,
            group_name,
            stream_name,
            tags,
            put,
            max_events_per_batch: max_events_per_batch as usize,
            concurrency: concurrency as usize,
            aws,
            client: OnceCell::new(),
            progress: Mutex::new(HashMap::new()),
            emitter: ctx.emitter.clone(),
            log: ctx.log.clone(),
        }),
    }))
}

impl Inner {
    async fn client(&self) -> Result<&Client, WriteError> {
        self.client
            .get_or_try_init(|| async {
                let sdk = self.aws.sdk_config().await?;
                Ok::<_, String>(Client::new(&sdk))
            })
            .await
            .map_err(WriteError::Retryable)
    }

    fn done(&self, id: &ChunkId) -> HashSet<(usize, usize)> {
        let p = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        p.get(id).cloned().unwrap_or_default()
    }

    fn mark(&self, id: &ChunkId, part: (usize, usize)) {
        let mut p = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        if p.len() >= PROGRESS_CHUNKS && !p.contains_key(id) {
            // Forget some other chunk's progress: at worst its delivered batches are sent again.
            if let Some(k) = p.keys().next().copied() {
                p.remove(&k);
            }
        }
        p.entry(*id).or_default().insert(part);
    }

    fn forget(&self, id: &ChunkId) {
        let mut p = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        p.remove(id);
    }

    /// Send entries (by index) down the error path with one reason.
    async fn error_path(&self, shaped: &Shaped, entries: &[usize], reason: &str) {
        let mut i = 0;
        while i < entries.len() {
            let tag = &shaped.entries[entries[i]].tag;
            let mut b = BatchBuilder::new();
            let mut reasons = Vec::new();
            while i < entries.len() && &shaped.entries[entries[i]].tag == tag {
                let e = &shaped.entries[entries[i]];
                b.push_raw(e.time, &e.record);
                reasons.push(reason.to_string());
                i += 1;
            }
            self.emitter
                .emit_error_events(tag, b.finish(), &reasons)
                .await;
        }
    }
}

#[async_trait]
impl ChunkWriter for CloudWatchLogsWriter {
    /// As the Fluentd plugin: its chunks hold msgpack.
    fn formatted_to_msgpack_binary(&self) -> bool {
        true
    }

    fn format(&self, tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        if self.inner.inject.is_empty() {
            encode_entry(tag, time, record, out);
        } else {
            let mut rec = Vec::with_capacity(record.len() + 64);
            self.inner.inject.apply_raw(tag, time, record, &mut rec);
            encode_entry(tag, time, &rec, out);
        }
    }

    async fn write(&self, chunk: &Chunk) -> Result<(), WriteError> {
        let inner = &self.inner;
        let data = chunk
            .bytes()
            .map_err(|e| WriteError::Unrecoverable(format!("chunk decompression: {e}")))?;
        let (entries, broken) = decode_entries(&data);
        if let Some(b) = &broken {
            if entries.is_empty() {
                return Err(WriteError::Unrecoverable(b.clone()));
            }
            inner.log.error(format_args!(
                "chunk {:?}: {b}; the {} entries before it are sent",
                chunk.id,
                entries.len()
            ));
        }
        let group = inner
            .group_name
            .as_ref()
            .map(|t| t.render(&chunk.meta, &chunk.id))
            .unwrap_or_default();
        let stream = inner
            .stream_name
            .as_ref()
            .map(|t| t.render(&chunk.meta, &chunk.id))
            .unwrap_or_default();
        let shaped = inner.shaper.shape(entries, (&group, &stream));
        if shaped.empty > 0 {
            inner.log.warn(format_args!(
                "{} events have an empty message (message_keys: none of the keys has a value): skipped, as Fluentd does",
                shaped.empty
            ));
        }
        if shaped.split > 0 {
            inner.log.info(format_args!(
                "{} events over max_event_size ({} bytes with 26 of overhead) were split into several events",
                shaped.split, inner.shaper.max_event_size
            ));
        }
        if shaped.truncated > 0 {
            inner.log.warn(format_args!(
                "{} events over max_event_size ({} bytes with 26 of overhead) were truncated (oversize_event truncate)",
                shaped.truncated, inner.shaper.max_event_size
            ));
        }
        let done = inner.done(&chunk.id);
        if !shaped.unroutable.is_empty() && !done.contains(&UNROUTABLE) {
            for (i, reason) in &shaped.unroutable {
                inner.error_path(&shaped, &[*i], reason).await;
            }
            inner.mark(&chunk.id, UNROUTABLE);
        }
        let client = inner.client().await?.clone();
        let rendered_tags: Option<Vec<(String, String)>> = inner.tags.as_ref().map(|t| {
            t.iter()
                .map(|(k, v)| {
                    (
                        k.render(&chunk.meta, &chunk.id),
                        v.render(&chunk.meta, &chunk.id),
                    )
                })
                .collect()
        });
        let shaped = Arc::new(shaped);
        let slots = Arc::new(Semaphore::new(inner.concurrency));
        let mut tasks = tokio::task::JoinSet::new();
        for (si, st) in shaped.streams.iter().enumerate() {
            if st.events.is_empty() {
                // Every event was skipped (empty messages): nothing to put, but Fluentd still
                // creates the group and the stream when they are missing, and so does logferry.
                if inner.put.auto_create {
                    let put = PutSettings {
                        tags: rendered_tags.clone(),
                        ..inner.put.clone()
                    };
                    if let Err(e) = put::create(
                        &client,
                        &put,
                        &inner.log,
                        &st.group,
                        &st.stream,
                        st.tags.as_deref(),
                        st.retention,
                    )
                    .await
                    {
                        inner.log.warn(format_args!("{e}"));
                    }
                }
                continue;
            }
            let todo: Vec<(usize, std::ops::Range<usize>)> =
                batch::batches(&st.events, inner.max_events_per_batch)
                    .into_iter()
                    .enumerate()
                    .filter(|(bi, _)| !done.contains(&(si, *bi)))
                    .collect();
            if todo.is_empty() {
                continue;
            }
            let (inner, shaped, slots, client) = (
                self.inner.clone(),
                shaped.clone(),
                slots.clone(),
                client.clone(),
            );
            let tags = rendered_tags.clone();
            let id = chunk.id;
            tasks.spawn(async move {
                let st = &shaped.streams[si];
                let put = PutSettings {
                    tags,
                    ..inner.put.clone()
                };
                for (bi, range) in todo {
                    let events = &st.events[range.clone()];
                    match put_batch(
                        &client,
                        &slots,
                        &put,
                        &inner.log,
                        &st.group,
                        &st.stream,
                        events,
                        st.tags.as_deref(),
                        st.retention,
                    )
                    .await
                    {
                        Ok(()) => inner.mark(&id, (si, bi)),
                        Err(PutFailure::Reject(why)) => {
                            let mut idx: Vec<usize> = events.iter().map(|e| e.entry).collect();
                            idx.dedup();
                            inner.log.error(format_args!(
                                "{why}: {} events take the error path",
                                idx.len()
                            ));
                            inner.error_path(&shaped, &idx, &why).await;
                            inner.mark(&id, (si, bi));
                        }
                        Err(PutFailure::Retry(why)) => return Err(why),
                    }
                }
                Ok(())
            });
        }
        let mut failures = Vec::new();
        while let Some(r) = tasks.join_next().await {
            match r {
                Ok(Ok(())) => {}
                Ok(Err(why)) => failures.push(why),
                Err(e) => failures.push(format!("PutLogEvents task: {e}")),
            }
        }
        if failures.is_empty() {
            inner.forget(&chunk.id);
            return Ok(());
        }
        let n = failures.len();
        failures.truncate(3);
        Err(WriteError::Retryable(format!(
            "{n} of {} log streams not delivered (the delivered ones are not sent again): {}",
            shaped.streams.len(),
            failures.join("; ")
        )))
    }
}
