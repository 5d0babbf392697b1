//! The two batch APIs behind one call: Firehose's PutRecordBatch and Data Streams' PutRecords.
//! A call returns, per record, whether it failed (and why).

use aws_sdk_firehose::primitives::Blob as FirehoseBlob;
use aws_sdk_kinesis::primitives::Blob as KinesisBlob;

use super::record::Record;
use crate::aws::error::{classify, describe, Failure};

/// A client of either service.
#[derive(Clone, Debug)]
pub enum Api {
    /// `kinesis_firehose`.
    Firehose(aws_sdk_firehose::Client),
    /// `kinesis_streams`.
    Streams(aws_sdk_kinesis::Client),
}

/// A call that failed as a whole.
#[derive(Debug)]
pub struct CallFailure {
    /// Throttled, transient or permanent.
    pub kind: Failure,
    /// The error code, if the service sent one.
    pub code: Option<String>,
    /// What happened.
    pub message: String,
}

fn fail<E>(
    what: &str,
    e: aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> CallFailure
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
{
    CallFailure {
        kind: classify(&e),
        code: aws_smithy_types::error::metadata::ProvideErrorMetadata::code(&e).map(str::to_string),
        message: describe(what, &e),
    }
}

/// Each record's result from its `(error_code, error_message)`: `None` when it was accepted.
fn outcomes<'a>(
    results: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> Vec<Option<(String, String)>> {
    results
        .map(|(code, message)| {
            code.map(|c| (c.to_string(), message.unwrap_or_default().to_string()))
        })
        .collect()
}

impl Api {
    /// Send `records` to `stream`. `Ok` holds one entry per record: `None` if it was accepted,
    /// else its error code and message.
    pub async fn put(
        &self,
        stream: &str,
        records: &[Record<'_>],
    ) -> Result<Vec<Option<(String, String)>>, CallFailure> {
        match self {
            Api::Firehose(c) => {
                let batch = records
                    .iter()
                    .map(|r| {
                        aws_sdk_firehose::types::Record::builder()
                            .data(FirehoseBlob::new(r.data.to_vec()))
                            .build()
                            .expect("data is set")
                    })
                    .collect();
                let out = c
                    .put_record_batch()
                    .delivery_stream_name(stream)
                    .set_records(Some(batch))
                    .send()
                    .await
                    .map_err(|e| {
                        fail(
                            &format!("PutRecordBatch {stream} ({} records)", records.len()),
                            e,
                        )
                    })?;
                Ok(outcomes(
                    out.request_responses()
                        .iter()
                        .map(|r| (r.error_code(), r.error_message())),
                ))
            }
            Api::Streams(c) => {
                let batch = records
                    .iter()
                    .map(|r| {
                        aws_sdk_kinesis::types::PutRecordsRequestEntry::builder()
                            .data(KinesisBlob::new(r.data.to_vec()))
                            .partition_key(r.key.unwrap_or_default())
                            .build()
                            .expect("data and key are set")
                    })
                    .collect();
                let out = c
                    .put_records()
                    .stream_name(stream)
                    .set_records(Some(batch))
                    .send()
                    .await
                    .map_err(|e| {
                        fail(
                            &format!("PutRecords {stream} ({} records)", records.len()),
                            e,
                        )
                    })?;
                Ok(outcomes(
                    out.records()
                        .iter()
                        .map(|r| (r.error_code(), r.error_message())),
                ))
            }
        }
    }
}
