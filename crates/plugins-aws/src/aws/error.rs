//! What an AWS request's failure means for the output: retry soon, back off, or give up.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Error codes AWS services use for throttling (and S3's `SlowDown`).
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// Error codes that are transient whatever their status.
const TRANSIENT: &[&str] = &[
    "ServiceUnavailableException",
    "ServiceUnavailable",
    "InternalFailure",
    "InternalError",
    "InternalServerError",
    "RequestTimeout",
    "RequestTimeoutException",
    "ServiceException",
    "KMSThrottlingException",
];

/// How a failed request should be treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Throttling: back off and try again.
    Throttled,
    /// Network error, timeout, 5xx: try again.
    Transient,
    /// The request itself is wrong (missing resource, bad parameter, credentials): trying the
    /// same request again will fail the same way.
    Permanent,
}

/// Is this error code a throttling one?
pub fn is_throttling_code(code: &str) -> bool {
    THROTTLING.contains(&code)
}

/// Classify an SDK error.
pub fn classify<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> Failure {
    match e {
        SdkError::ConstructionFailure(_) => Failure::Permanent,
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Failure::Transient
        }
        SdkError::ServiceError(ctx) => {
            let code = ctx.err().code().unwrap_or_default();
            let status = ctx.raw().status().as_u16();
            if is_throttling_code(code) || status == 429 {
                Failure::Throttled
            } else if TRANSIENT.contains(&code) || status >= 500 {
                Failure::Transient
            } else {
                Failure::Permanent
            }
        }
        _ => Failure::Transient,
    }
}

/// `what: the error with its sources`.
pub fn describe<E, R>(what: &str, e: &SdkError<E, R>) -> String
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    format!("{what}: {}", DisplayErrorContext(e))
}

/// Exponential backoff with ±12.5 % jitter: `base * 2^attempt`, capped at `cap` seconds.
pub fn backoff(base: f64, attempt: u32, cap: f64) -> std::time::Duration {
    let secs = (base * 2f64.powi(attempt.min(30) as i32)).min(cap);
    let jitter = secs * 0.25 * (rand::random::<f64>() - 0.5);
    std::time::Duration::from_secs_f64((secs + jitter).max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let d = |a| backoff(1.0, a, 10.0).as_secs_f64();
        assert!((0.87..=1.13).contains(&d(0)));
        assert!((3.5..=4.5).contains(&d(2)));
        assert!((8.7..=11.3).contains(&d(9)));
        assert!(is_throttling_code("ThrottlingException"));
        assert!(!is_throttling_code("ResourceNotFoundException"));
    }
}
