//! The AWS layer every AWS output shares: credentials ([`creds`]), region, endpoint override,
//! HTTPS over rustls with ring, timeouts, and the SDK's own retries kept under the buffer's
//! retry schedule ([`AwsSettings::sdk_attempts`]). The SDK configuration is built on the first
//! write, so `--dry-run` and start-up make no request.

pub mod creds;
pub mod error;
pub mod params;

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_http_client::tls;
use aws_types::region::Region;
use logferry_core::error::build_error;
use logferry_core::{BuildError, Section};

pub use creds::{read_creds, AssumeRole, Creds};

/// Everything an AWS client is built from, whatever the service.
#[derive(Clone, Debug)]
pub struct AwsSettings {
    /// The region; `None`: the SDK's default chain (`$AWS_REGION`, the shared profile, instance
    /// metadata).
    pub region: Option<String>,
    /// Endpoint override (with a scheme).
    pub endpoint: Option<String>,
    /// Base credentials.
    pub creds: Creds,
    /// A role assumed with them.
    pub assume_role: Option<AssumeRole>,
    /// Extra trusted CA certificates (PEM).
    pub ca_bundle: Option<Vec<u8>>,
    /// Attempts the SDK makes per request (1: none of its own retries, the output retries under
    /// the buffer's schedule).
    pub sdk_attempts: u32,
    /// The longest one attempt of a request may take (`None`: no limit, for S3's large bodies).
    pub attempt_timeout: Option<Duration>,
}

impl AwsSettings {
    /// The settings of cloudwatch_logs and kinesis_*: `region`, `endpoint` (a scheme is added
    /// when missing), `ssl_verify_peer` (only `true`), `http_proxy` (refused), the credential
    /// parameters. The SDK makes one attempt per request: the outputs retry themselves.
    pub fn from_section(s: &Section) -> Result<AwsSettings, BuildError> {
        let plugin = s;
        let s = &s.declared(&params::AWS_CLIENT);
        s.refuse_declared()?;
        if !s.get::<bool>("ssl_verify_peer")? {
            let p = s
                .param("ssl_verify_peer")
                .map(|p| &p.pos)
                .unwrap_or(s.pos());
            return Err(build_error(
                p,
                "'ssl_verify_peer false' is not supported by logferry: use an http:// endpoint or a certificate the system trusts",
            ));
        }
        let region = s.get::<Option<String>>("region")?.filter(|r| !r.is_empty());
        let endpoint = s
            .get::<Option<&str>>("endpoint")?
            .filter(|e| !e.is_empty())
            .map(with_scheme);
        let (creds, assume_role) = read_creds(plugin)?;
        Ok(AwsSettings {
            region,
            endpoint,
            creds,
            assume_role,
            ca_bundle: None,
            sdk_attempts: 1,
            attempt_timeout: Some(Duration::from_secs(60)),
        })
    }

    /// Check what can be checked without the network.
    pub fn validate(&self, s: &Section) -> Result<(), BuildError> {
        if let Some(ca) = &self.ca_bundle {
            tls_context(ca).map_err(|e| build_error(s.pos(), format!("ssl_ca_bundle: {e}")))?;
        }
        Ok(())
    }

    /// Build the SDK configuration (no request is made; credentials are fetched on first use).
    pub async fn sdk_config(&self) -> Result<SdkConfig, String> {
        let mut http = aws_smithy_http_client::Builder::new().tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ));
        if let Some(ca) = &self.ca_bundle {
            http = http.tls_context(tls_context(ca).map_err(|e| format!("ssl_ca_bundle: {e}"))?);
        }
        let http = http.build_https();
        let mut timeouts = TimeoutConfig::builder().connect_timeout(Duration::from_secs(10));
        if let Some(t) = self.attempt_timeout {
            timeouts = timeouts.operation_attempt_timeout(t);
        }
        let timeouts = timeouts.build();
        let retry = if self.sdk_attempts <= 1 {
            RetryConfig::disabled()
        } else {
            RetryConfig::standard().with_max_attempts(self.sdk_attempts)
        };
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http.clone())
            .timeout_config(timeouts)
            .retry_config(retry);
        if let Some(r) = &self.region {
            loader = loader.region(Region::new(r.clone()));
        }
        if let Some(e) = &self.endpoint {
            loader = loader.endpoint_url(e.clone());
        }
        let provider_config = || {
            aws_config::provider_config::ProviderConfig::default()
                .with_http_client(http.clone())
                .with_region(self.region.clone().map(Region::new))
        };
        loader = match &self.creds {
            Creds::Default { imds_retries: None } => loader,
            Creds::Default {
                imds_retries: Some(r),
            } => {
                let imds = aws_config::imds::Client::builder()
                    .configure(&provider_config())
                    .max_attempts(r.saturating_add(1))
                    .build();
                let mut b =
                    aws_config::default_provider::credentials::DefaultCredentialsChain::builder()
                        .configure(provider_config())
                        .imds_client(imds);
                if let Some(r) = &self.region {
                    b = b.region(Region::new(r.clone()));
                }
                loader.credentials_provider(b.build().await)
            }
            Creds::Static {
                key_id,
                secret,
                session_token,
            } => loader.credentials_provider(Credentials::new(
                key_id.clone(),
                secret.clone(),
                session_token.clone(),
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
                let region = sts_region.clone().or_else(|| self.region.clone());
                let pc = provider_config().with_region(region.map(Region::new));
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
            Creds::Ecs => loader.credentials_provider(
                aws_config::ecs::EcsCredentialsProvider::builder()
                    .configure(&provider_config())
                    .build(),
            ),
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
            // STS gets the loaded config without the service endpoint override.
            let mut sts = sdk.clone().into_builder();
            sts.set_endpoint_url(a.sts_endpoint_url.clone());
            let region = a
                .sts_region
                .clone()
                .or_else(|| self.region.clone())
                .or_else(|| sdk.region().map(|r| r.to_string()))
                .unwrap_or_else(|| "us-east-1".to_string());
            let mut b = AssumeRoleProvider::builder(a.role_arn.clone())
                .session_name(a.session_name.clone())
                .region(Region::new(region));
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
        Ok(sdk)
    }
}

/// `host` → `https://host`; a URL with a scheme is kept.
pub fn with_scheme(e: &str) -> String {
    if e.contains("://") {
        e.to_string()
    } else {
        format!("https://{e}")
    }
}

fn tls_context(ca: &[u8]) -> Result<tls::TlsContext, String> {
    tls::TlsContext::builder()
        .with_trust_store(tls::TrustStore::default().with_pem_certificate(ca.to_vec()))
        .build()
        .map_err(|e| e.to_string())
}
