//! Credentials of every AWS output, read from the union of the plugins' parameters.
//!
//! fluent-plugin-s3: `aws_key_id`/`aws_sec_key`, `aws_profile`, `aws_credential_process`,
//! `<web_identity_credentials>`, `<instance_profile_credentials>`, `<shared_credentials>`,
//! `<assume_role_credentials>`. aws-fluent-plugin-kinesis adds `aws_ses_token` and
//! `<process_credentials>`. fluent-plugin-cloudwatch-logs adds `aws_use_sts` with its
//! `aws_sts_*` parameters, `aws_ecs_authentication` and `aws_instance_profile_credentials_retries`.
//! Whatever is not set falls back to the SDK's default chain: environment, shared profile, web
//! identity, ECS task role, EC2 instance metadata.

use std::time::Duration;

use logferry_core::error::build_error;
use logferry_core::{BuildError, Section};

use super::params::AWS_CREDS;

/// Where the base credentials come from. The first one configured wins, in this order: key
/// pair, `aws_profile`, credential process, web identity, ECS (`aws_ecs_authentication`),
/// instance profile, shared credentials file, else the default chain.
#[derive(Clone, Debug)]
pub enum Creds {
    /// The SDK's default chain.
    Default {
        /// `aws_instance_profile_credentials_retries`: retries of its instance metadata step.
        imds_retries: Option<u32>,
    },
    /// `aws_key_id` / `aws_sec_key` (/ `aws_ses_token`).
    Static {
        /// Access key id.
        key_id: String,
        /// Secret access key.
        secret: String,
        /// Session token.
        session_token: Option<String>,
    },
    /// `aws_profile`: that profile of the shared config and credentials files.
    Profile(String),
    /// `aws_credential_process` or `<process_credentials> process`.
    Process(String),
    /// `<web_identity_credentials>`.
    WebIdentity {
        /// `role_arn`.
        role_arn: String,
        /// `role_session_name`.
        session_name: String,
        /// `web_identity_token_file`.
        token_file: String,
        /// `policy`.
        policy: Option<String>,
        /// `sts_region`.
        sts_region: Option<String>,
    },
    /// `aws_ecs_authentication true`: the ECS task role
    /// (`$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`).
    Ecs,
    /// `<instance_profile_credentials>`: the ECS task role when
    /// `$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` is set, else EC2 instance metadata.
    Instance {
        /// `retries`.
        retries: Option<u32>,
        /// `ip_address` / `port` as an endpoint URL.
        endpoint: Option<String>,
        /// `http_open_timeout`.
        connect_timeout: Option<Duration>,
        /// `http_read_timeout`.
        read_timeout: Option<Duration>,
    },
    /// `<shared_credentials>`.
    Shared {
        /// `path` (default `~/.aws/credentials`).
        path: Option<String>,
        /// `profile_name` (default `$AWS_PROFILE` or `default`).
        profile: Option<String>,
    },
}

/// `<assume_role_credentials>` (or cloudwatch_logs' `aws_use_sts`): a role assumed with the
/// base credentials.
#[derive(Clone, Debug)]
pub struct AssumeRole {
    /// `role_arn`.
    pub role_arn: String,
    /// `role_session_name`.
    pub session_name: String,
    /// `external_id`.
    pub external_id: Option<String>,
    /// `duration_seconds`.
    pub duration: Option<Duration>,
    /// `policy`.
    pub policy: Option<String>,
    /// `sts_region` (default: the output's region).
    pub sts_region: Option<String>,
    /// `sts_endpoint_url`.
    pub sts_endpoint_url: Option<String>,
}

/// Read the credential parameters and sections (marking them used), as [`AWS_CREDS`] declares
/// them.
pub fn read_creds(s: &Section) -> Result<(Creds, Option<AssumeRole>), BuildError> {
    let s = &s.declared(&AWS_CREDS);
    s.refuse_declared()?;
    let key_id = s
        .get::<Option<&str>>("aws_key_id")?
        .filter(|v| !v.is_empty());
    let secret = s
        .get::<Option<&str>>("aws_sec_key")?
        .filter(|v| !v.is_empty());
    let session_token = s
        .get::<Option<String>>("aws_ses_token")?
        .filter(|v| !v.is_empty());
    if key_id.is_some() != secret.is_some() {
        let p = s.param("aws_key_id").or_else(|| s.param("aws_sec_key"));
        tracing::warn!(
            "{}: only one of aws_key_id and aws_sec_key is set: both are ignored (as the Fluentd plugins do) and the default credential chain is used",
            p.map(|p| p.pos.to_string()).unwrap_or_default()
        );
    }
    let profile: Option<String> = s.get("aws_profile")?;
    let process = match (
        s.get::<Option<String>>("aws_credential_process")?,
        s.section("process_credentials")?,
    ) {
        (Some(c), _) => Some(c),
        (None, Some(p)) => Some(p.get("process")?),
        (None, None) => None,
    };
    let web = s.section("web_identity_credentials")?;
    let ecs: bool = s.get("aws_ecs_authentication")?;
    let instance = s.section("instance_profile_credentials")?;
    let shared = s.section("shared_credentials")?;
    let imds_retries = s
        .get::<Option<i64>>("aws_instance_profile_credentials_retries")?
        .map(|r| r.max(0) as u32);
    let creds = if let (Some(k), Some(sec)) = (key_id, secret) {
        Creds::Static {
            key_id: k.to_string(),
            secret: sec.to_string(),
            session_token,
        }
    } else if let Some(p) = profile {
        Creds::Profile(p)
    } else if let Some(c) = process {
        Creds::Process(c)
    } else if let Some(w) = web {
        w.refuse("sts_http_proxy", "proxies are not supported")?;
        w.refuse(
            "sts_endpoint_url",
            "set the STS endpoint with $AWS_ENDPOINT_URL_STS",
        )?;
        w.refuse(
            "duration_seconds",
            "the SDK's web identity provider uses the role's default session length",
        )?;
        Creds::WebIdentity {
            role_arn: w.get("role_arn")?,
            session_name: w.get("role_session_name")?,
            token_file: w.get("web_identity_token_file")?,
            policy: w.get("policy")?,
            sts_region: w.get("sts_region")?,
        }
    } else if ecs {
        Creds::Ecs
    } else if let Some(i) = instance {
        let endpoint = match (
            i.get::<Option<&str>>("ip_address")?,
            i.get::<Option<&str>>("port")?,
        ) {
            (None, None) => None,
            (ip, port) => Some(format!(
                "http://{}:{}",
                ip.unwrap_or("169.254.169.254"),
                port.unwrap_or("80")
            )),
        };
        let secs = |k: &str| {
            i.get::<Option<f64>>(k)
                .map(|v| v.map(|v| Duration::from_secs_f64(v.max(0.001))))
        };
        Creds::Instance {
            retries: i.get::<Option<i64>>("retries")?.map(|r| r.max(0) as u32),
            endpoint,
            connect_timeout: secs("http_open_timeout")?,
            read_timeout: secs("http_read_timeout")?,
        }
    } else if let Some(sh) = shared {
        Creds::Shared {
            path: sh.get("path")?,
            profile: sh.get("profile_name")?,
        }
    } else if let Some(r) = match s.plugin() {
        // Only fluent-plugin-s3 has it; elsewhere it stays unread ("not used", as in Fluentd).
        "s3" => s.get::<Option<i64>>("aws_iam_retries")?,
        _ => None,
    } {
        // fluent-plugin-s3's last case before the SDK's default chain.
        let pos = s
            .param("aws_iam_retries")
            .map(|p| &p.pos)
            .unwrap_or(s.pos());
        tracing::warn!(
            "{pos}: 'aws_iam_retries' parameter is deprecated. Use 'instance_profile_credentials' instead"
        );
        Creds::Instance {
            retries: Some(r.max(0) as u32),
            endpoint: None,
            connect_timeout: None,
            read_timeout: None,
        }
    } else {
        Creds::Default { imds_retries }
    };
    let assume = match s.section("assume_role_credentials")? {
        Some(a) => {
            a.refuse("sts_http_proxy", "proxies are not supported")?;
            let duration = a
                .get::<Option<i64>>("duration_seconds")?
                .map(|d| Duration::from_secs(d.clamp(900, 43_200) as u64));
            Some(AssumeRole {
                role_arn: a.get("role_arn")?,
                session_name: a.get("role_session_name")?,
                external_id: a.get("external_id")?,
                duration,
                policy: a.get("policy")?,
                sts_region: a.get("sts_region")?,
                sts_endpoint_url: a.get("sts_endpoint_url")?,
            })
        }
        None => sts_params(s)?,
    };
    Ok((creds, assume))
}

/// fluent-plugin-cloudwatch-logs' `aws_use_sts true` with `aws_sts_role_arn`,
/// `aws_sts_session_name` (default `fluentd`), `aws_sts_external_id`, `aws_sts_policy`,
/// `aws_sts_duration_seconds`, `aws_sts_endpoint_url`.
fn sts_params(s: &Section) -> Result<Option<AssumeRole>, BuildError> {
    if !s.get::<bool>("aws_use_sts")? {
        for k in [
            "aws_sts_role_arn",
            "aws_sts_session_name",
            "aws_sts_external_id",
            "aws_sts_policy",
            "aws_sts_duration_seconds",
            "aws_sts_endpoint_url",
        ] {
            // Fluentd's plugin ignores them then: so does logferry, saying so.
            if let Some(p) = s.param(k) {
                let _ = s.get::<Option<&str>>(k)?;
                tracing::warn!(
                    "{}: '{k}' is set but 'aws_use_sts' is not true: no role is assumed (as in Fluentd); set aws_use_sts true to assume it",
                    p.pos
                );
            }
        }
        return Ok(None);
    }
    let duration = s
        .get::<Option<f64>>("aws_sts_duration_seconds")?
        .map(|d| Duration::from_secs(d.clamp(900.0, 43_200.0) as u64));
    let role_arn: Option<String> = s.get("aws_sts_role_arn")?;
    let role_arn = role_arn.ok_or_else(|| {
        build_error(
            s.pos(),
            format!(
                "'aws_sts_role_arn' parameter is required by the {} plugin",
                s.plugin()
            ),
        )
    })?;
    Ok(Some(AssumeRole {
        role_arn,
        session_name: s.get("aws_sts_session_name")?,
        external_id: s.get("aws_sts_external_id")?,
        duration,
        policy: s.get("aws_sts_policy")?,
        sts_region: None,
        sts_endpoint_url: s.get("aws_sts_endpoint_url")?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn creds(body: &str) -> Creds {
        let text = format!("<match **>\n@type s3\n{body}\n</match>\n");
        let root = logferry_config::parse_str(&text, "t.conf", Path::new(".")).unwrap();
        let s = Section::new(&root.elements[0], "s3");
        read_creds(&s).unwrap().0
    }

    /// fluent-plugin-s3: the deprecated `aws_iam_retries`, with no other credentials, is the
    /// instance profile with that many retries; other credentials win over it.
    #[test]
    fn aws_iam_retries_is_the_instance_profile() {
        assert!(matches!(
            creds("aws_iam_retries 7"),
            Creds::Instance {
                retries: Some(7),
                endpoint: None,
                ..
            }
        ));
        assert!(matches!(
            creds("aws_iam_retries 7\n<shared_credentials>\nprofile_name p\n</shared_credentials>"),
            Creds::Shared { .. }
        ));
        assert!(matches!(creds(""), Creds::Default { .. }));
    }

    /// Only fluent-plugin-s3 has `aws_iam_retries`: other outputs keep the default chain.
    #[test]
    fn aws_iam_retries_is_s3s_only() {
        let text = "<match **>\n@type kinesis_streams\naws_iam_retries 7\n</match>\n";
        let root = logferry_config::parse_str(text, "t.conf", Path::new(".")).unwrap();
        let s = Section::new(&root.elements[0], "kinesis_streams");
        assert!(matches!(read_creds(&s).unwrap().0, Creds::Default { .. }));
    }

    /// fluent-plugin-cloudwatch-logs ignores `aws_sts_*` without `aws_use_sts true` (a warning
    /// here); with it, they assume the role.
    #[test]
    fn sts_parameters_need_aws_use_sts() {
        let read = |body: &str| {
            let text = format!("<match **>\n@type cloudwatch_logs\n{body}\n</match>\n");
            let root = logferry_config::parse_str(&text, "t.conf", Path::new(".")).unwrap();
            let s = Section::new(&root.elements[0], "cloudwatch_logs");
            read_creds(&s).map(|(_, assume)| assume.map(|a| a.role_arn))
        };
        assert_eq!(
            read("aws_sts_role_arn arn:r\naws_sts_session_name fluentd").unwrap(),
            None
        );
        assert_eq!(
            read("aws_use_sts true\naws_sts_role_arn arn:r").unwrap(),
            Some("arn:r".to_string())
        );
    }
}
