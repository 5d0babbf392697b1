//! The CloudWatch Logs calls: PutLogEvents with backoff on throttling and 5xx, and the log
//! group and stream created when missing (`auto_create_stream`).

use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata;
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_sdk_cloudwatchlogs::Client;
use logferry_core::PluginLog;
use tokio::sync::Semaphore;

use super::events::Event;
use crate::aws::error::{backoff, classify, describe, Failure};

/// The longest single wait between two attempts of one batch.
const MAX_WAIT_SECS: f64 = 30.0;

/// Why a batch was not delivered.
#[derive(Debug)]
pub enum PutFailure {
    /// Worth trying again later (throttling or 5xx past the retry limit, credentials, network):
    /// the chunk goes back to the buffer's retry schedule.
    Retry(String),
    /// The events cannot be accepted as they are (the group or stream does not exist and
    /// `auto_create_stream` is off, a parameter is invalid): they take the error path.
    Reject(String),
}

/// How one stream's batches are sent.
#[derive(Clone)]
pub struct PutSettings {
    /// `auto_create_stream`.
    pub auto_create: bool,
    /// `retention_in_days` for groups logferry creates.
    pub retention_in_days: Option<i32>,
    /// `log_group_aws_tags` (rendered) for groups logferry creates.
    pub tags: Option<Vec<(String, String)>>,
    /// `put_log_events_retry_wait`.
    pub retry_wait: f64,
    /// `put_log_events_retry_limit` (`None`: `put_log_events_disable_retry_limit`).
    pub retry_limit: Option<u32>,
    /// `log_rejected_request`.
    pub log_rejected: bool,
}

/// Send one batch to `group`/`stream`, creating them when missing and allowed. Holds a permit
/// of `slots` only while a request is in flight: a stream waiting out its backoff lets the
/// others go on.
#[allow(clippy::too_many_arguments)]
pub async fn put_batch(
    client: &Client,
    slots: &Semaphore,
    set: &PutSettings,
    log: &PluginLog,
    group: &str,
    stream: &str,
    events: &[Event],
    group_tags: Option<&[(String, String)]>,
    group_retention: Option<i32>,
) -> Result<(), PutFailure> {
    let batch: Vec<InputLogEvent> = events
        .iter()
        .map(|e| {
            InputLogEvent::builder()
                .timestamp(e.ts_ms)
                .message(e.message.clone())
                .build()
                .expect("timestamp and message are set")
        })
        .collect();
    let mut attempt: u32 = 0;
    let mut created = false;
    loop {
        let permit = slots.acquire().await.expect("never closed");
        let sent = client
            .put_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .set_log_events(Some(batch.clone()))
            .send()
            .await;
        drop(permit);
        let err = match sent {
            Ok(out) => {
                if let Some(r) = out.rejected_log_events_info() {
                    log.warn(format_args!(
                        "PutLogEvents {group}/{stream}: CloudWatch Logs rejected some of {} events (too new before index {:?}, too old up to index {:?}, expired up to index {:?}){}",
                        events.len(),
                        r.too_new_log_event_start_index(),
                        r.too_old_log_event_end_index(),
                        r.expired_log_event_end_index(),
                        if set.log_rejected { format!(": {r:?}") } else { String::new() }
                    ));
                }
                if attempt > 0 {
                    log.warn(format_args!(
                        "PutLogEvents {group}/{stream}: retry succeeded"
                    ));
                }
                return Ok(());
            }
            Err(e) => e,
        };
        let what = format!("PutLogEvents {group}/{stream} ({} events)", events.len());
        match classify(&err) {
            Failure::Throttled | Failure::Transient => {
                if set.retry_limit.is_some_and(|l| attempt >= l) {
                    return Err(PutFailure::Retry(describe(&what, &err)));
                }
                let wait = backoff(set.retry_wait, attempt, MAX_WAIT_SECS);
                attempt += 1;
                log.warn(format_args!(
                    "{} (attempt {attempt}, next in {:.1}s)",
                    describe(&what, &err),
                    wait.as_secs_f64()
                ));
                tokio::time::sleep(wait).await;
            }
            Failure::Permanent => match err.code() {
                Some("ResourceNotFoundException") if set.auto_create && !created => {
                    log.warn(format_args!(
                        "{}: creating the log group and stream",
                        describe(&what, &err)
                    ));
                    create(client, set, log, group, stream, group_tags, group_retention)
                        .await
                        .map_err(PutFailure::Retry)?;
                    created = true;
                }
                Some("ResourceNotFoundException")
                | Some("InvalidParameterException")
                | Some("DataAlreadyAcceptedException") => {
                    return Err(PutFailure::Reject(describe(&what, &err)))
                }
                _ => return Err(PutFailure::Retry(describe(&what, &err))),
            },
        }
    }
}

/// Create the group (tags, retention) and the stream; "already exists" is success.
pub async fn create(
    client: &Client,
    set: &PutSettings,
    log: &PluginLog,
    group: &str,
    stream: &str,
    record_tags: Option<&[(String, String)]>,
    record_retention: Option<i32>,
) -> Result<(), String> {
    let tags = record_tags.or(set.tags.as_deref());
    let mut req = client.create_log_group().log_group_name(group);
    for (k, v) in tags.unwrap_or_default() {
        req = req.tags(k, v);
    }
    match req.send().await {
        Ok(_) => {
            log.info(format_args!("created log group {group}"));
            if let Some(days) = record_retention.or(set.retention_in_days) {
                if let Err(e) = client
                    .put_retention_policy()
                    .log_group_name(group)
                    .retention_in_days(days)
                    .send()
                    .await
                {
                    log.warn(format_args!(
                        "{}",
                        describe(&format!("PutRetentionPolicy {group} ({days} days)"), &e)
                    ));
                }
            }
        }
        Err(e) if e.code() == Some("ResourceAlreadyExistsException") => {}
        Err(e) => return Err(describe(&format!("CreateLogGroup {group}"), &e)),
    }
    match client
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("ResourceAlreadyExistsException") => Ok(()),
        Err(e) => Err(describe(&format!("CreateLogStream {group}/{stream}"), &e)),
    }
}
