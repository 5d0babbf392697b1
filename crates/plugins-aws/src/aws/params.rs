//! The parameter declarations the AWS outputs share: the client (`region`, `endpoint`,
//! `ssl_verify_peer`, `http_proxy`) and the credentials of fluent-plugin-cloudwatch-logs and
//! aws-fluent-plugin-kinesis (see [`super::creds`]).

use logferry_core::params::{one, p, Body, ParamType::*, Spec};

/// `<web_identity_credentials>`.
pub static WEB_IDENTITY: Spec = Spec::new("web_identity_credentials", "AssumeRoleWithWebIdentity.")
    .params(&[
        p("role_arn", Str, "The role to assume.").required(),
        p("role_session_name", Str, "The session name.").required(),
        p("web_identity_token_file", Str, "The OIDC token file.").required(),
        p("policy", Str, "An IAM policy in JSON."),
        p("sts_region", Str, "STS region.").computed("the output's region"),
        p("duration_seconds", Time, "Session length.")
            .refused("the SDK's web identity provider uses the role's default session length"),
        p("sts_endpoint_url", Str, "STS endpoint.")
            .refused("set the STS endpoint with $AWS_ENDPOINT_URL_STS"),
        p("sts_http_proxy", Str, "STS proxy.")
            .secret()
            .refused("proxies are not supported"),
    ]);

/// `<instance_profile_credentials>`.
pub static INSTANCE_PROFILE: Spec = Spec::new(
    "instance_profile_credentials",
    "EC2 instance metadata, or the ECS task role when $AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is set.",
)
.params(&[
    p("retries", Integer, "Retries of a credentials request."),
    p("ip_address", Str, "Metadata service address.").computed("169.254.169.254"),
    p("port", Integer, "Metadata service port.").computed("80"),
    p("http_open_timeout", Float, "Connect timeout (seconds)."),
    p("http_read_timeout", Float, "Read timeout (seconds)."),
]);

/// `<shared_credentials>`.
pub static SHARED: Spec = Spec::new("shared_credentials", "A shared credentials file.").params(&[
    p("path", Str, "The file.").computed("~/.aws/credentials"),
    p("profile_name", Str, "The profile.").computed("$AWS_PROFILE, else default"),
]);

/// `<process_credentials>`.
pub static PROCESS: Spec =
    Spec::new("process_credentials", "Credentials from a command.").params(&[p(
        "process",
        Str,
        "The command (its JSON output, as the AWS CLI's credential_process).",
    )
    .required()]);

/// `<assume_role_credentials>`.
pub static ASSUME_ROLE: Spec = Spec::new(
    "assume_role_credentials",
    "AssumeRole with the base credentials.",
)
.params(&[
    p("role_arn", Str, "The role to assume.")
        .required()
        .secret(),
    p("role_session_name", Str, "The session name.").required(),
    p("policy", Str, "An IAM policy in JSON."),
    p(
        "duration_seconds",
        Integer,
        "Session length (900 to 43200).",
    ),
    p("external_id", Str, "External id.").secret(),
    p("sts_region", Str, "STS region.").computed("the output's region"),
    p("sts_endpoint_url", Str, "STS endpoint."),
    p("sts_http_proxy", Str, "STS proxy.")
        .secret()
        .refused("proxies are not supported"),
]);

/// Region, endpoint, certificate check and proxy of cloudwatch_logs and kinesis_* (s3 has its
/// own `s3_region`, `s3_endpoint`, `ssl_verify_peer` and `proxy_uri`).
pub static AWS_CLIENT: Spec = Spec::new("aws_client", "AWS client.").params(&[
    p("region", Str, "AWS region.")
        .computed("the SDK's chain: $AWS_REGION, the profile, instance metadata"),
    p(
        "endpoint",
        Str,
        "Endpoint override (https:// added when no scheme).",
    ),
    p(
        "ssl_verify_peer",
        Bool,
        "Verify the endpoint's certificate (only true).",
    )
    .default("true"),
    p("http_proxy", Str, "Proxy.")
        .secret()
        .refused("proxies are not supported (route through a VPC endpoint, or set 'endpoint')"),
]);

/// The credentials of every AWS output (the first base credentials configured win: key pair,
/// `aws_profile`, credential process, web identity, `aws_ecs_authentication`, instance profile,
/// shared file, else the SDK's default chain; then an assumed role).
pub static AWS_CREDS: Spec = Spec::new("aws_credentials", "AWS credentials.")
    .params(&[
        p("aws_key_id", Str, "Access key id.").secret(),
        p("aws_sec_key", Str, "Secret access key.").secret(),
        p("aws_ses_token", Str, "Session token.").secret(),
        p(
            "aws_profile",
            Str,
            "A profile of the shared config and credentials files.",
        ),
        p(
            "aws_credential_process",
            Str,
            "A credential_process command.",
        ),
        p("aws_ecs_authentication", Bool, "Use the ECS task role.").default("false"),
        p(
            "aws_instance_profile_credentials_retries",
            Integer,
            "Retries of the default chain's instance metadata step.",
        ),
        p("aws_use_sts", Bool, "Assume aws_sts_role_arn.").default("false"),
        p(
            "aws_sts_role_arn",
            Str,
            "The role to assume with aws_use_sts.",
        ),
        p("aws_sts_session_name", Str, "Its session name.").default("fluentd"),
        p("aws_sts_external_id", Str, "Its external id.").secret(),
        p("aws_sts_policy", Str, "An IAM policy in JSON."),
        p(
            "aws_sts_duration_seconds",
            Time,
            "Session length (900 to 43200).",
        ),
        p("aws_sts_endpoint_url", Str, "STS endpoint."),
        p("aws_iam_retries", Integer, "Deprecated (fluent-plugin-s3; s3 only): without other credentials, the instance profile (or the ECS task role) with this many retries, as `<instance_profile_credentials> retries`; a warning says so."),
    ])
    .sections(&[
        one(
            "web_identity_credentials",
            Body::Spec(&WEB_IDENTITY),
            "Web identity (EKS IRSA).",
        ),
        one(
            "instance_profile_credentials",
            Body::Spec(&INSTANCE_PROFILE),
            "Instance or task role.",
        ),
        one(
            "shared_credentials",
            Body::Spec(&SHARED),
            "A shared credentials file.",
        ),
        one(
            "process_credentials",
            Body::Spec(&PROCESS),
            "A credential process.",
        ),
        one(
            "assume_role_credentials",
            Body::Spec(&ASSUME_ROLE),
            "A role assumed with the base credentials.",
        ),
    ]);

/// Region, endpoint and credentials of cloudwatch_logs and kinesis_*.
pub static AWS: Spec =
    Spec::new("aws", "AWS client and credentials.").extends(&[&AWS_CLIENT, &AWS_CREDS]);
