//! The S3 client: region, endpoint, credentials (fluent-plugin-s3's precedence, then the SDK's
//! default chain), HTTPS over rustls with ring. Built on the first write, so `--dry-run` and
//! start-up make no request.

use std::time::Duration;

use aws_config::sts::AssumeRoleProvider;
use aws_config::BehaviorVersion;
use aws_sdk_s3::config::{
    Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
    SharedCredentialsProvider,
};
use aws_sdk_s3::Client;
use aws_smithy_http_client::tls;
use logferry_core::error::build_error;
use logferry_core::{BuildError, Section};

/// Where the base credentials come from (fluent-plugin-s3's order: key pair, `aws_profile`,
/// `aws_credential_process`, `<web_identity_credentials>`, `<instance_profile_credentials>`,
/// `<shared_credentials>`, else the SDK's default chain: environment, shared profile, web
/// identity, ECS task role, EC2 instance metadata).
#[derive(Clone)]
pub enum Creds {
    /// The SDK's default chain.
    Default,
    /// `aws_key_id` / `aws_sec_key`.
    Static {
        /// Access key id.
        key_id: String,
        /// Secret access key.
        secret: String,
    },
    /// `aws_profile`: that profile of the shared config and credentials files.
    Profile(String),
    /// `aws_credential_process`.
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

/// `<assume_role_credentials>`: a role assumed with the base credentials.
#[derive(Clone)]
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
    /// `sts_region` (default `s3_region`).
    pub sts_region: Option<String>,
    /// `sts_endpoint_url`.
    pub sts_endpoint_url: Option<String>,
}

/// Everything the client is built from.
#[derive(Clone)]
pub struct ClientSettings {
    /// `s3_region`.
    pub region: String,
    /// `s3_endpoint` (with a scheme).
    pub endpoint: Option<String>,
    /// `force_path_style`.
    pub force_path_style: bool,
    /// `enable_transfer_acceleration`.
    pub accelerate: bool,
    /// `enable_dual_stack`.
    pub dual_stack: bool,
    /// Send and check checksums whenever S3 supports them (the SDK default on AWS); off for
    /// S3-compatible endpoints, many of which reject the SDK's trailing checksums.
    pub checksums: bool,
    /// Base credentials.
    pub creds: Creds,
    /// `<assume_role_credentials>`.
    pub assume_role: Option<AssumeRole>,
    /// Extra trusted CA certificates (`ssl_ca_bundle`, PEM).
    pub ca_bundle: Option<Vec<u8>>,
}

impl ClientSettings {
    /// Read the credential parameters and sections (marking them used).
    pub fn read_creds(s: &Section) -> Result<(Creds, Option<AssumeRole>), BuildError> {
        s.refuse(
            "aws_iam_retries",
            "deprecated in fluent-plugin-s3; use <instance_profile_credentials> retries",
        )?;
        let key_id = s.str("aws_key_id").filter(|v| !v.is_empty());
        let secret = s.str("aws_sec_key").filter(|v| !v.is_empty());
        if key_id.is_some() != secret.is_some() {
            let p = s.param("aws_key_id").or_else(|| s.param("aws_sec_key"));
            tracing::warn!(
                "{}: only one of aws_key_id and aws_sec_key is set: both are ignored (as fluent-plugin-s3) and the default credential chain is used",
                p.map(|p| p.pos.to_string()).unwrap_or_default()
            );
        }
        let profile = s.str("aws_profile").map(str::to_string);
        let process = s.str("aws_credential_process").map(str::to_string);
        let web = s.section("web_identity_credentials")?;
        let instance = s.section("instance_profile_credentials")?;
        let shared = s.section("shared_credentials")?;
        let creds = if let (Some(k), Some(sec)) = (key_id, secret) {
            Creds::Static {
                key_id: k.to_string(),
                secret: sec.to_string(),
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
                role_arn: w.required("role_arn")?.to_string(),
                session_name: w.required("role_session_name")?.to_string(),
                token_file: w.required("web_identity_token_file")?.to_string(),
                policy: w.str("policy").map(str::to_string),
                sts_region: w.str("sts_region").map(str::to_string),
            }
        } else if let Some(i) = instance {
            let endpoint = match (i.str("ip_address"), i.str("port")) {
                (None, None) => None,
                (ip, port) => Some(format!(
                    "http://{}:{}",
                    ip.unwrap_or("169.254.169.254"),
                    port.unwrap_or("80")
                )),
            };
            let secs = |k: &str| {
                i.has(k)
                    .then(|| Duration::from_secs_f64(i.float(k, 1.0).max(0.001)))
            };
            Creds::Instance {
                retries: i
                    .has("retries")
                    .then(|| i.integer("retries", 0).max(0) as u32),
                endpoint,
                connect_timeout: secs("http_open_timeout"),
                read_timeout: secs("http_read_timeout"),
            }
        } else if let Some(sh) = shared {
            Creds::Shared {
                path: sh.str("path").map(str::to_string),
                profile: sh.str("profile_name").map(str::to_string),
            }
        } else {
            Creds::Default
        };
        let assume = match s.section("assume_role_credentials")? {
            None => None,
            Some(a) => {
                a.refuse("sts_http_proxy", "proxies are not supported")?;
                let duration = a.has("duration_seconds").then(|| {
                    Duration::from_secs(
                        a.integer("duration_seconds", 3600).clamp(900, 43_200) as u64
                    )
                });
                Some(AssumeRole {
                    role_arn: a.required("role_arn")?.to_string(),
                    session_name: a.required("role_session_name")?.to_string(),
                    external_id: a.str("external_id").map(str::to_string),
                    duration,
                    policy: a.str("policy").map(str::to_string),
                    sts_region: a.str("sts_region").map(str::to_string),
                    sts_endpoint_url: a.str("sts_endpoint_url").map(str::to_string),
                })
            }
        };
        Ok((creds, assume))
    }

    /// Check what can be checked without the network.
    pub fn validate(&self, s: &Section) -> Result<(), BuildError> {
        if let Some(ca) = &self.ca_bundle {
            tls::TlsContext::builder()
                .with_trust_store(tls::TrustStore::default().with_pem_certificate(ca.clone()))
                .build()
                .map_err(|e| build_error(s.pos(), format!("ssl_ca_bundle: {e}")))?;
        }
        Ok(())
    }

    /// Build the client (no request is made).
    pub async fn build(&self) -> Result<Client, String> {
        let mut http = aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ));
        if let Some(ca) = &self.ca_bundle {
            let ctx = tls::TlsContext::builder()
                .with_trust_store(tls::TrustStore::default().with_pem_certificate(ca.clone()))
                .build()
                .map_err(|e| format!("ssl_ca_bundle: {e}"))?;
            http = http.tls_context(ctx);
        }
        let http = http.build_https();
        let region = Region::new(self.region.clone());
        let timeouts = aws_sdk_s3::config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(10))
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(region.clone())
            .http_client(http.clone())
            .timeout_config(timeouts);
        let provider_config = || {
            aws_config::provider_config::ProviderConfig::default()
                .with_http_client(http.clone())
                .with_region(Some(region.clone()))
        };
        loader = match &self.creds {
            Creds::Default => loader,
            Creds::Static { key_id, secret } => loader.credentials_provider(Credentials::new(
                key_id.clone(),
                secret.clone(),
                None,
                None,
                "logferry-aws_key_id",
            )),
            Creds::Profile(p) => loader.profile_name(p.clone()),
            Creds::Process(cmd) => loader.credentials_provider(
                aws_config::credential_process::CredentialProcessProvider::new(cmd.clone()),
            ),
            Creds::WebIdentity {
                role_arn,
                session_name,
                token_file,
                policy,
                sts_region,
            } => {
                let pc = provider_config().with_region(Some(Region::new(
                    sts_region.clone().unwrap_or_else(|| self.region.clone()),
                )));
                let mut b =
                    aws_config::web_identity_token::WebIdentityTokenCredentialsProvider::builder()
                        .configure(&pc)
                        .static_configuration(
                            aws_config::web_identity_token::StaticConfiguration {
                                web_identity_token_file: token_file.into(),
                                role_arn: role_arn.clone(),
                                session_name: session_name.clone(),
                            },
                        );
                if let Some(p) = policy {
                    b = b.policy(p.clone());
                }
                loader.credentials_provider(b.build())
            }
            Creds::Instance {
                retries,
                endpoint,
                connect_timeout,
                read_timeout,
            } => {
                if std::env::var_os("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI").is_some() {
                    let mut b = aws_config::ecs::EcsCredentialsProvider::builder()
                        .configure(&provider_config());
                    if let Some(t) = connect_timeout {
                        b = b.connect_timeout(*t);
                    }
                    if let Some(t) = read_timeout {
                        b = b.read_timeout(*t);
                    }
                    loader.credentials_provider(b.build())
                } else {
                    let mut c = aws_config::imds::Client::builder().configure(&provider_config());
                    if let Some(r) = retries {
                        c = c.max_attempts(r.saturating_add(1));
                    }
                    if let Some(e) = endpoint {
                        c = c
                            .endpoint(e)
                            .map_err(|e| format!("instance_profile_credentials: {e}"))?;
                    }
                    if let Some(t) = connect_timeout {
                        c = c.connect_timeout(*t);
                    }
                    if let Some(t) = read_timeout {
                        c = c.read_timeout(*t);
                    }
                    loader.credentials_provider(
                        aws_config::imds::credentials::ImdsCredentialsProvider::builder()
                            .configure(&provider_config())
                            .imds_client(c.build())
                            .build(),
                    )
                }
            }
            Creds::Shared { path, profile } => {
                let mut b = aws_config::profile::ProfileFileCredentialsProvider::builder()
                    .configure(&provider_config());
                if let Some(p) = profile {
                    b = b.profile_name(p.clone());
                }
                if let Some(p) = path {
                    // aws-config names these through a deprecated alias of aws-runtime's types.
                    #[allow(deprecated)]
                    let files = aws_config::profile::profile_file::ProfileFiles::builder()
                        .with_file(
                            aws_config::profile::profile_file::ProfileFileKind::Credentials,
                            p,
                        )
                        .build();
                    b = b.profile_files(files);
                }
                loader.credentials_provider(b.build())
            }
        };
        let mut sdk = loader.load().await;
        if let Some(a) = &self.assume_role {
            let mut sts = sdk.clone().into_builder();
            if let Some(u) = &a.sts_endpoint_url {
                sts = sts.endpoint_url(u.clone());
            }
            let mut b = AssumeRoleProvider::builder(a.role_arn.clone())
                .session_name(a.session_name.clone())
                .region(Region::new(
                    a.sts_region.clone().unwrap_or_else(|| self.region.clone()),
                ));
            if let Some(id) = &a.external_id {
                b = b.external_id(id.clone());
            }
            if let Some(d) = a.duration {
                b = b.session_length(d);
            }
            if let Some(p) = &a.policy {
                b = b.policy(p.clone());
            }
            let provider = b.configure(&sts.build()).build().await;
            sdk = sdk
                .into_builder()
                .credentials_provider(SharedCredentialsProvider::new(provider))
                .build();
        }
        let mut conf = aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(self.force_path_style)
            .accelerate(self.accelerate)
            .use_dual_stack(self.dual_stack);
        if let Some(e) = &self.endpoint {
            conf = conf.endpoint_url(e.clone());
        }
        if !self.checksums {
            conf = conf
                .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
                .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        }
        Ok(Client::from_conf(conf.build()))
    }
}
