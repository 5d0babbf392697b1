//! The S3 client: the shared AWS layer ([`crate::aws`]) plus S3's own settings (path style,
//! transfer acceleration, dual stack, checksums).

use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::Client;

use crate::aws::AwsSettings;

/// Everything the client is built from.
#[derive(Clone, Debug)]
pub struct ClientSettings {
    /// Region (`s3_region`, always set), endpoint (`s3_endpoint`), credentials, CA bundle. The
    /// SDK keeps its standard three attempts per request (a part of a multipart upload is
    /// retried alone); the buffer's schedule retries the chunk after that.
    pub aws: AwsSettings,
    /// `force_path_style`.
    pub force_path_style: bool,
    /// `enable_transfer_acceleration`.
    pub accelerate: bool,
    /// `enable_dual_stack`.
    pub dual_stack: bool,
    /// Send and check checksums whenever S3 supports them (the SDK default on AWS); off for
    /// S3-compatible endpoints, many of which reject the SDK's trailing checksums.
    pub checksums: bool,
}

impl ClientSettings {
    /// `s3_region`.
    pub fn region(&self) -> &str {
        self.aws.region.as_deref().unwrap_or("us-east-1")
    }

    /// Build the client (no request is made).
    pub async fn build(&self) -> Result<Client, String> {
        let sdk = self.aws.sdk_config().await?;
        let mut conf = aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(self.force_path_style)
            .accelerate(self.accelerate)
            .use_dual_stack(self.dual_stack);
        if !self.checksums {
            conf = conf
                .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
                .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        }
        Ok(Client::from_conf(conf.build()))
    }
}
