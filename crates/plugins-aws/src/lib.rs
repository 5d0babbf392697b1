//! logferry's AWS outputs, kept in their own crate so the AWS SDK's weight stays out of what the
//! rest of the workspace links: `s3` ([`out_s3`]), `cloudwatch_logs` ([`out_cloudwatch_logs`]),
//! `kinesis_firehose` and `kinesis_streams` ([`out_kinesis`]), and the AWS layer they share
//! ([`aws`]: credentials, region, endpoint, retries).
#![warn(missing_docs)]

pub mod aws;
pub mod out_cloudwatch_logs;
pub mod out_kinesis;
pub mod out_s3;

use logferry_core::params::PluginKind;
use logferry_core::Registry;

/// Register the AWS outputs.
pub fn register(r: &mut Registry) {
    r.add_buffered("s3", out_s3::writer, out_s3::DEFAULTS);
    r.add_buffered(
        "cloudwatch_logs",
        out_cloudwatch_logs::writer,
        out_cloudwatch_logs::DEFAULTS,
    );
    r.add_buffered(
        "kinesis_firehose",
        out_kinesis::firehose,
        out_kinesis::DEFAULTS,
    );
    r.add_buffered(
        "kinesis_streams",
        out_kinesis::streams,
        out_kinesis::DEFAULTS,
    );
    r.declare(PluginKind::Output, "s3", &out_s3::PARAMS);
    r.declare(
        PluginKind::Output,
        "cloudwatch_logs",
        &out_cloudwatch_logs::PARAMS,
    );
    r.declare(
        PluginKind::Output,
        "kinesis_firehose",
        &out_kinesis::FIREHOSE,
    );
    r.declare(PluginKind::Output, "kinesis_streams", &out_kinesis::STREAMS);
}
