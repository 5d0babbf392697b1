//! `s3` output (fluent-plugin-s3): each buffer chunk becomes one S3 object.
//!
//! Runs on the buffer engine with fluent-plugin-s3's defaults: chunk key `time`, `timekey` one
//! day (so by default one object per day and chunk, uploaded ten minutes after midnight), events
//! formatted by `<inject>` + `<format>` (default `out_file`; v0.12 `format`, `include_time_key`,
//! `time_format` work), then stored as `store_as` `gzip` (default, `.gz`; a `compress gzip`
//! buffer chunk is uploaded as it is), `json` (`.json`), `text` (`.txt`) or `zstd` (`.zst`).
//! Compression runs on the blocking pool, never on the I/O threads. Chunks of
//! `multipart_threshold` (default 64 MiB) or more are sent as a multipart upload in parts of
//! `multipart_chunk_size` (default 16 MiB, at least S3's 5 MiB), four at a time.
//!
//! **Object keys never collide.** logferry's default `s3_object_key_format` is
//! `%{path}%{time_slice}_%{hostname}_%{chunk_id}.%{file_extension}` — the host name and the
//! 128-bit buffer chunk id make every key unique across hosts, processes and flush threads, with
//! no HEAD request (a chunk sent again after a crash rewrites its own object). Fluentd's default
//! (`%{path}%{time_slice}_%{index}.%{file_extension}`) finds a free `%{index}` by HEAD requests,
//! which race between threads, workers and hosts; a user who writes `%{index}` (or any
//! `s3_object_key_format`) gets exactly Fluentd's `check_object` / `overwrite` behaviour. Every
//! placeholder of fluent-plugin-s3 is supported — see [`key`] — plus `%{chunk_id}`. With
//! `check_object false` and no `s3_object_key_format`, Fluentd switches to
//! `%{path}/%{time_slice}_%{hms_slice}.%{file_extension}`, which two chunks flushed in the same
//! second share; logferry's default then keeps Fluentd's `%{path}/` prefix and its own unique name
//! (`%{path}/%{time_slice}_%{hostname}_%{chunk_id}.%{file_extension}`).
//!
//! Credentials: `aws_key_id`/`aws_sec_key`, `aws_profile`, `aws_credential_process`,
//! `<web_identity_credentials>`, `<instance_profile_credentials>`, `<shared_credentials>`, else
//! the SDK's default chain (environment, shared profile, web identity, ECS task role, EC2
//! metadata); `<assume_role_credentials>` assumes a role with them. `check_bucket` /
//! `auto_create_bucket` / `check_apikey_on_start` run before the first upload rather than at
//! start-up (a failure there is retried like any write), so `--dry-run` makes no request.

pub mod client;
pub mod key;

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart,
    CreateBucketConfiguration, ObjectCannedAcl, ServerSideEncryption, StorageClass,
};
use aws_sdk_s3::Client;
use bytes::Bytes;
use logferry_core::buffer::params::BUFFERED;
use logferry_core::buffer::{
    BufferConfig, BufferDefaults, Chunk, ChunkWriter, Prepare, Template, WriteError,
};
use logferry_core::error::build_error;
use logferry_core::params::{one, p, Body, ParamType::*, PluginKind, Spec};
use logferry_core::{BuildCtx, BuildError, EventTime, PluginLog, Section};
use logferry_formats::formatter;
use logferry_formats::inject::{INJECT, INJECT_V012};
use tokio::sync::OnceCell;

use crate::aws::params::AWS_CREDS;
use crate::aws::{self, AwsSettings};
use client::ClientSettings;
use key::{IndexFormat, KeyBuilder, KeyOptions};
use logferry_plugins::out_file::FileFormat;

/// The parameters of `s3` (fluent-plugin-s3's, plus `multipart_threshold`,
/// `multipart_chunk_size`, `checksum_algorithm` and `store_as zstd`).
pub static PARAMS: Spec = Spec::new(
    "s3",
    "Uploads each buffer chunk as one S3 object (fluent-plugin-s3); default object keys never collide.",
)
.params(&[
    p("s3_bucket", Str, "The bucket.").required(),
    p("s3_region", Str, "The bucket's region.").computed("$AWS_REGION, else us-east-1"),
    p("s3_endpoint", Str, "Endpoint of an S3-compatible service (https:// added when no scheme; not for AWS itself)."),
    p("force_path_style", Bool, "Path-style requests (bucket in the path, not the host name).").default("false"),
    p("path", Str, "Key prefix (placeholders allowed).").default(""),
    p("s3_object_key_format", Str, "Object key (placeholders, %{path}, %{time_slice}, %{index}, %{chunk_id}, %{hex_random}, %{uuid_flush}...).")
        .computed("%{path}%{time_slice}_%{hostname}_%{chunk_id}.%{file_extension}"),
    p("store_as", Str, "gzip (.gz), gzip_command (the same, in-process), json (.json), text (.txt) or zstd (.zst); lzo, lzma2 and parquet are refused; another name writes text, with a warning, as fluent-plugin-s3 does.").default("gzip"),
    p("check_object", Bool, "Find a free %{index} with HEAD requests.").default("true"),
    p("overwrite", Bool, "With check_object, overwrite an existing object instead of taking the next %{index}.").default("false"),
    p("index_format", Str, "printf format of %{index}.").default("%d"),
    p("hex_random_length", Integer, "Length of %{hex_random} (at most 16).").default("4"),
    p("storage_class", Str, "S3 storage class.").default("STANDARD"),
    p("reduced_redundancy", Bool, "Deprecated: storage_class REDUCED_REDUNDANCY.").default("false"),
    p("acl", Str, "Canned ACL of the objects."),
    p("grant_full_control", Str, "Grantees given FULL_CONTROL."),
    p("grant_read", Str, "Grantees given READ."),
    p("grant_read_acp", Str, "Grantees given READ_ACP."),
    p("grant_write_acp", Str, "Grantees given WRITE_ACP."),
    p("use_server_side_encryption", Str, "Server-side encryption (AES256, aws:kms, aws:kms:dsse)."),
    p("ssekms_key_id", Str, "KMS key of aws:kms encryption.").secret(),
    p("sse_customer_algorithm", Str, "SSE-C algorithm."),
    p("sse_customer_key", Str, "SSE-C key.").secret(),
    p("sse_customer_key_md5", Str, "SSE-C key MD5.").secret(),
    p("tagging", Str, "Object tags (URL query form)."),
    p("s3_metadata", Hash, "User metadata of the objects (placeholders and %{index} allowed)."),
    p("checksum_algorithm", Str, "Object checksum (CRC32, CRC32C, CRC64NVME, SHA1, SHA256)."),
    p("compute_checksums", Bool, "Send and check checksums.").computed("true on AWS, false with s3_endpoint"),
    p("multipart_threshold", Size, "Objects of this size or more are sent as a multipart upload (at least 5m).").default("64m"),
    p("multipart_chunk_size", Size, "Part size of multipart uploads (at least 5m).").default("16m"),
    p("enable_transfer_acceleration", Bool, "S3 Transfer Acceleration.").default("false"),
    p("enable_dual_stack", Bool, "Dual-stack (IPv6) endpoints.").default("false"),
    p("check_bucket", Bool, "Check the bucket exists before the first upload.").default("true"),
    p("auto_create_bucket", Bool, "Create the bucket when it does not exist.").default("true"),
    p("check_apikey_on_start", Bool, "Check the credentials with a ListObjectsV2 before the first upload.").default("true"),
    p("warn_for_delay", Time, "Warn when a chunk's time slice is this much older than its upload."),
    p("ssl_verify_peer", Bool, "Verify the endpoint's certificate (only true).").default("true"),
    p("ssl_ca_bundle", Str, "A PEM file of CA certificates to trust besides the system's."),
    p("signature_version", Str, "Request signing (only v4)."),
    p("proxy_uri", Str, "Proxy.").secret().refused("proxies are not supported"),
    p("ssl_ca_directory", Str, "A directory of CA certificates.").refused("use ssl_ca_bundle (a PEM file)"),
    p("use_bundled_cert", Bool, "The Ruby SDK's bundled CA (only false: the system's roots are used).").default("false"),
])
.sections(&[
    one("format", Body::Plugin(PluginKind::Formatter, Some("out_file")), "How each event is written."),
    one("inject", Body::Spec(&INJECT), "Fields added before formatting."),
])
.extends(&[&AWS_CREDS, &formatter::params::FLAT, &INJECT_V012, &BUFFERED]);

/// Buffer defaults of out_s3: chunk key `time`, one day.
pub const DEFAULTS: BufferDefaults = BufferDefaults {
    chunk_keys: &["time"],
    timekey: Some(86_400),
    tag_required: false,
    file_at_output_path: false,
    chunk_limit_size: None,
    flush_at_shutdown: None,
    v012_time_key: false,
};

/// S3's smallest part (except the last).
const MIN_PART: u64 = 5 << 20;
/// S3's largest part count.
const MAX_PARTS: u64 = 10_000;
/// Parts in flight at once.
const PART_CONCURRENCY: usize = 4;

/// How objects are stored (`store_as`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreAs {
    /// gzip, `.gz`, `application/x-gzip`.
    Gzip,
    /// as formatted, `.json`, `application/json`.
    Json,
    /// as formatted, `.txt`, `text/plain`.
    Text,
    /// zstd, `.zst`, `application/x-zst`.
    Zstd,
}

impl StoreAs {
    fn ext(self) -> &'static str {
        match self {
            StoreAs::Gzip => "gz",
            StoreAs::Json => "json",
            StoreAs::Text => "txt",
            StoreAs::Zstd => "zst",
        }
    }
    fn content_type(self) -> &'static str {
        match self {
            StoreAs::Gzip => "application/x-gzip",
            StoreAs::Json => "application/json",
            StoreAs::Text => "text/plain",
            StoreAs::Zstd => "application/x-zst",
        }
    }
}

/// Apply a [`PutOptions`]' storage class, ACL, grants, encryption and tagging to a PutObject or
/// CreateMultipartUpload request builder (different SDK types with the same setters).
macro_rules! object_settings {
    ($req:expr, $p:expr) => {
        $req.set_storage_class($p.storage_class.clone())
            .set_acl($p.acl.clone())
            .set_grant_full_control($p.grant_full_control.clone())
            .set_grant_read($p.grant_read.clone())
            .set_grant_read_acp($p.grant_read_acp.clone())
            .set_grant_write_acp($p.grant_write_acp.clone())
            .set_server_side_encryption($p.sse.clone())
            .set_ssekms_key_id($p.ssekms_key_id.clone())
            .set_sse_customer_algorithm($p.sse_customer_algorithm.clone())
            .set_sse_customer_key($p.sse_customer_key.clone())
            .set_sse_customer_key_md5($p.sse_customer_key_md5.clone())
            .set_tagging($p.tagging.clone())
    };
}

/// What each PUT carries besides the body.
#[derive(Clone, Debug, Default)]
struct PutOptions {
    storage_class: Option<StorageClass>,
    acl: Option<ObjectCannedAcl>,
    grant_full_control: Option<String>,
    grant_read: Option<String>,
    grant_read_acp: Option<String>,
    grant_write_acp: Option<String>,
    sse: Option<ServerSideEncryption>,
    ssekms_key_id: Option<String>,
    sse_customer_algorithm: Option<String>,
    sse_customer_key: Option<String>,
    sse_customer_key_md5: Option<String>,
    tagging: Option<String>,
    checksum_algorithm: Option<ChecksumAlgorithm>,
    metadata: Vec<(String, Template)>,
}

/// The s3 chunk writer.
pub struct S3Writer {
    bucket: String,
    keys: KeyBuilder,
    store_as: StoreAs,
    overwrite: bool,
    check_bucket: bool,
    auto_create_bucket: bool,
    check_apikey_on_start: bool,
    list_prefix: String,
    multipart_threshold: u64,
    part_size: u64,
    warn_for_delay: Option<f64>,
    put: PutOptions,
    settings: ClientSettings,
    format: FileFormat,
    client: OnceCell<Client>,
    ready: OnceCell<()>,
    log: PluginLog,
}

/// Writer factory for the buffer engine (and `<secondary>`).
pub fn writer(
    ctx: &BuildCtx,
    s: &Section,
    cfg: &BufferConfig,
) -> Result<Arc<dyn ChunkWriter>, BuildError> {
    let s = &s.declared(&PARAMS);
    s.refuse_declared()?;
    let pos = |k: &str| {
        s.param(k)
            .map(|p| p.pos.clone())
            .unwrap_or_else(|| s.pos().clone())
    };
    s.refuse_section(
        "bucket_lifecycle_rule",
        "manage lifecycle rules with your infrastructure tooling",
    )?;
    if s.get::<bool>("use_bundled_cert")? {
        return Err(build_error(
            &pos("use_bundled_cert"),
            "'use_bundled_cert true' is not supported by logferry's s3 plugin: the Ruby SDK's bundled CA is not shipped; system roots are used (add one with ssl_ca_bundle)",
        ));
    }
    if !s.get::<bool>("ssl_verify_peer")? {
        return Err(build_error(
            &pos("ssl_verify_peer"),
            "'ssl_verify_peer false' is not supported by logferry's s3 plugin: add the server's CA with ssl_ca_bundle",
        ));
    }
    if let Some(v) = s.get::<Option<&str>>("signature_version")? {
        if v != "v4" {
            return Err(build_error(
                &pos("signature_version"),
                format!("signature_version '{v}' is not supported: logferry signs with SigV4 (v4)"),
            ));
        }
    }

    let bucket: String = s.get("s3_bucket")?;
    if bucket.is_empty() {
        return Err(build_error(
            &pos("s3_bucket"),
            "'s3_bucket' must not be empty",
        ));
    }
    let region = s
        .get::<Option<String>>("s3_region")?
        .or_else(|| std::env::var("AWS_REGION").ok().filter(|r| !r.is_empty()))
        .unwrap_or_else(|| "us-east-1".to_string());
    let endpoint = match s
        .get::<Option<&str>>("s3_endpoint")?
        .filter(|e| !e.is_empty())
    {
        None => None,
        Some(e) => {
            let host = e.trim_end_matches('/');
            if host.ends_with("amazonaws.com")
                && !host.ends_with("vpce.amazonaws.com")
                && !host.contains("fips")
                && !host.contains("gov")
            {
                return Err(build_error(&pos("s3_endpoint"), "s3_endpoint parameter is not supported for S3, use s3_region instead. This parameter is for S3 compatible services"));
            }
            Some(if e.contains("://") {
                e.to_string()
            } else {
                format!("https://{e}")
            })
        }
    };
    let force_path_style = s.get("force_path_style")?;

    let store_as = match s.get::<&str>("store_as")? {
        "gzip" => StoreAs::Gzip,
        "gzip_command" => {
            tracing::info!("{}: store_as gzip_command: logferry compresses in-process (same gzip objects, .gz)", pos("store_as"));
            StoreAs::Gzip
        }
        "json" => StoreAs::Json,
        "text" => StoreAs::Text,
        "zstd" => StoreAs::Zstd,
        // fluent-plugin-s3's compressors that run an external command (lzop, xz, columnify):
        // logferry runs none.
        other @ ("lzo" | "lzma2" | "parquet") => {
            return Err(build_error(
                &pos("store_as"),
                format!("store_as '{other}' is not supported by logferry's s3 plugin (it needs an external command); supported: gzip, json, text, zstd"),
            ))
        }
        // Any other name is no compressor fluent-plugin-s3 knows: it warns and writes text.
        other => {
            tracing::warn!(
                "{}: '{other}' not supported. Use 'text' instead (supported: gzip, gzip_command, json, text, zstd)",
                pos("store_as")
            );
            StoreAs::Text
        }
    };

    let check_object = s.get("check_object")?;
    let overwrite = s.get("overwrite")?;
    let hex_random_length: i64 = s.get("hex_random_length")?;
    if !(0..=16).contains(&hex_random_length) {
        return Err(build_error(
            &pos("hex_random_length"),
            "hex_random_length parameter must be less than or equal to 16",
        ));
    }
    let index_format = IndexFormat::parse(s.get("index_format")?)
        .map_err(|e| build_error(&pos("index_format"), e))?;
    let path: String = s.get("path")?;
    let format: Option<&str> = s.get("s3_object_key_format")?;
    let hostname = hostname::get()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "localhost".to_string());
    let keys = KeyBuilder::new(
        &KeyOptions {
            format,
            path: &path,
            file_extension: store_as.ext(),
            hostname: &hostname,
            check_object,
            index_format,
            hex_random_length: hex_random_length as usize,
        },
        cfg,
    )
    .map_err(|e| build_error(&pos("s3_object_key_format"), e))?;
    if keys.uses_tag() && !cfg.key_tag {
        tracing::warn!("{}: s3_object_key_format/path use ${{tag}}, but 'tag' is not a buffer chunk key: it stays literal (add <buffer tag,time>)", s.pos());
    }
    if format.is_some() && !check_object && !keys.unique_per_chunk() {
        tracing::warn!("{}: 'check_object false' with an s3_object_key_format holding none of ${{chunk_id}}, %{{chunk_id}}, %{{uuid_flush}}, %{{hex_random}}: an existing object of the same key will be overwritten", pos("s3_object_key_format"));
    } else if format.is_some() && cfg.flush_thread_count > 1 && !keys.unique_per_chunk() {
        tracing::warn!("{}: several flush threads and an s3_object_key_format holding none of ${{chunk_id}}, %{{chunk_id}}, %{{uuid_flush}}, %{{hex_random}}: two threads may race for the same %{{index}}", pos("s3_object_key_format"));
    }

    // Object settings.
    let mut storage_class: String = s.get("storage_class")?;
    if s.get("reduced_redundancy")? {
        tracing::warn!(
            "{}: reduced_redundancy is deprecated; use storage_class REDUCED_REDUNDANCY",
            pos("reduced_redundancy")
        );
        storage_class = "REDUCED_REDUNDANCY".to_string();
    }
    if !StorageClass::values().contains(&storage_class.as_str()) {
        return Err(build_error(
            &pos("storage_class"),
            format!(
                "storage_class '{storage_class}' is not one of: {}",
                StorageClass::values().join(", ")
            ),
        ));
    }
    let acl = match s.get::<Option<&str>>("acl")? {
        None => None,
        Some(a) if ObjectCannedAcl::values().contains(&a) => Some(ObjectCannedAcl::from(a)),
        Some(a) => {
            return Err(build_error(
                &pos("acl"),
                format!(
                    "acl '{a}' is not one of: {}",
                    ObjectCannedAcl::values().join(", ")
                ),
            ))
        }
    };
    let sse = match s
        .get::<Option<&str>>("use_server_side_encryption")?
        .filter(|v| !v.is_empty())
    {
        None => None,
        Some(v) if ServerSideEncryption::values().contains(&v) => {
            Some(ServerSideEncryption::from(v))
        }
        Some(v) => {
            return Err(build_error(
                &pos("use_server_side_encryption"),
                format!(
                    "use_server_side_encryption '{v}' is not one of: {}",
                    ServerSideEncryption::values().join(", ")
                ),
            ))
        }
    };
    let ssekms_key_id: Option<String> = s.get("ssekms_key_id")?;
    if ssekms_key_id.is_some() && !matches!(&sse, Some(x) if x.as_str().starts_with("aws:kms")) {
        return Err(build_error(
            &pos("ssekms_key_id"),
            "ssekms_key_id needs use_server_side_encryption aws:kms",
        ));
    }
    let checksum_algorithm = match s.get::<Option<&str>>("checksum_algorithm")? {
        None => None,
        Some(v) if ChecksumAlgorithm::values().contains(&v) => Some(ChecksumAlgorithm::from(v)),
        Some(v) => {
            return Err(build_error(
                &pos("checksum_algorithm"),
                format!(
                    "checksum_algorithm '{v}' is not one of: {}",
                    ChecksumAlgorithm::values().join(", ")
                ),
            ))
        }
    };
    let mut metadata = Vec::new();
    let s3_metadata: Option<Vec<(String, String)>> = s.get("s3_metadata")?;
    for (k, v) in s3_metadata.unwrap_or_default() {
        let t = Template::new("s3_metadata", &v, cfg)
            .map_err(|e| build_error(&pos("s3_metadata"), e))?;
        metadata.push((k, t));
    }
    let put = PutOptions {
        storage_class: (storage_class != "STANDARD")
            .then(|| StorageClass::from(storage_class.as_str())),
        acl,
        grant_full_control: s.get("grant_full_control")?,
        grant_read: s.get("grant_read")?,
        grant_read_acp: s.get("grant_read_acp")?,
        grant_write_acp: s.get("grant_write_acp")?,
        sse,
        ssekms_key_id,
        sse_customer_algorithm: s.get("sse_customer_algorithm")?,
        sse_customer_key: s.get("sse_customer_key")?,
        sse_customer_key_md5: s.get("sse_customer_key_md5")?,
        tagging: s.get("tagging")?,
        checksum_algorithm,
        metadata,
    };

    let multipart_threshold = s.get::<u64>("multipart_threshold")?.max(MIN_PART);
    let part_size: u64 = s.get("multipart_chunk_size")?;
    if part_size < MIN_PART {
        return Err(build_error(
            &pos("multipart_chunk_size"),
            "multipart_chunk_size must be at least 5m (S3's smallest part)",
        ));
    }

    let (creds, assume_role) = aws::read_creds(s)?;
    let ca_bundle =
        match s.get::<Option<&str>>("ssl_ca_bundle")? {
            None => None,
            Some(p) => Some(std::fs::read(p).map_err(|e| {
                build_error(&pos("ssl_ca_bundle"), format!("ssl_ca_bundle {p}: {e}"))
            })?),
        };
    let compute_checksums: Option<bool> = s.get("compute_checksums")?;
    let settings = ClientSettings {
        checksums: compute_checksums.unwrap_or(endpoint.is_none()),
        force_path_style,
        accelerate: s.get("enable_transfer_acceleration")?,
        dual_stack: s.get("enable_dual_stack")?,
        aws: AwsSettings {
            region: Some(region),
            endpoint,
            creds,
            assume_role,
            ca_bundle,
            sdk_attempts: 3,
            attempt_timeout: None,
        },
    };
    settings.aws.validate(s)?;

    let list_prefix: String = path
        .split(['$', '%'])
        .next()
        .unwrap_or_default()
        .to_string();
    let warn_for_delay: Option<f64> = s.get("warn_for_delay")?;
    Ok(Arc::new(S3Writer {
        bucket,
        keys,
        store_as,
        overwrite,
        check_bucket: s.get("check_bucket")?,
        auto_create_bucket: s.get("auto_create_bucket")?,
        check_apikey_on_start: s.get("check_apikey_on_start")?,
        list_prefix,
        multipart_threshold,
        part_size,
        warn_for_delay,
        put,
        settings,
        format: FileFormat::from_section(s)?,
        client: OnceCell::new(),
        ready: OnceCell::new(),
        log: ctx.log.clone(),
    }))
}

/// Compress formatted chunk bytes as `store_as` says (`text`/`json`: a copy). Blocking: the
/// writer calls it on the blocking pool.
pub fn compress(data: &[u8], store_as: StoreAs) -> std::io::Result<Vec<u8>> {
    match store_as {
        StoreAs::Gzip => Ok(logferry_compress::gzip(data)),
        StoreAs::Zstd => zstd::bulk::compress(data, 3),
        StoreAs::Text | StoreAs::Json => Ok(data.to_vec()),
    }
}

/// The work of turning a chunk into its object body, for the blocking pool: None when the body
/// is the chunk's bytes as they are (a gzip buffer chunk for `store_as gzip`, a plain one for
/// `text`/`json`); else decompressing and/or compressing.
pub fn body_work(chunk: &Chunk, store_as: StoreAs) -> Option<Prepare> {
    let plain = matches!(store_as, StoreAs::Text | StoreAs::Json);
    if (store_as == StoreAs::Gzip && chunk.is_gzip()) || (plain && !chunk.is_gzip()) {
        return None;
    }
    let chunk = chunk.clone();
    Some(Box::new(move || {
        let data = chunk
            .bytes()
            .map_err(|e| std::io::Error::other(format!("chunk decompression: {e}")))?;
        if plain {
            return Ok(data);
        }
        compress(&data, store_as)
            .map(Bytes::from)
            .map_err(|e| std::io::Error::other(format!("{store_as:?} compression: {e}")))
    }))
}

/// The object body of a chunk ([`body_work`] on the blocking pool, or the chunk's bytes).
pub async fn body_of(chunk: &Chunk, store_as: StoreAs) -> Result<Bytes, WriteError> {
    let Some(work) = body_work(chunk, store_as) else {
        return Ok(chunk.raw().clone());
    };
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| WriteError::Retryable(format!("compression task: {e}")))?
        .map_err(|e| WriteError::Unrecoverable(e.to_string()))
}

impl S3Writer {
    async fn client(&self) -> Result<&Client, WriteError> {
        self.client
            .get_or_try_init(|| self.settings.build())
            .await
            .map_err(WriteError::Retryable)
    }

    /// `check_bucket` / `auto_create_bucket` / `check_apikey_on_start`, once.
    async fn preflight(&self, c: &Client) -> Result<(), WriteError> {
        self.ready
            .get_or_try_init(|| async {
                if self.check_bucket {
                    match c.head_bucket().bucket(&self.bucket).send().await {
                        Ok(_) => Ok(()),
                        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => {
                            if !self.auto_create_bucket {
                                return Err(format!("The specified bucket does not exist: bucket = {} (auto_create_bucket is false)", self.bucket));
                            }
                            self.log.info(format_args!("Creating bucket {} on {}", self.bucket, self.settings.aws.endpoint.as_deref().unwrap_or(self.settings.region())));
                            let mut req = c.create_bucket().bucket(&self.bucket);
                            // As the Ruby SDK's LocationConstraint plugin does, with an endpoint
                            // too (an explicit regional endpoint, MinIO or moto refuse the
                            // bucket without it outside us-east-1).
                            if self.settings.region() != "us-east-1" {
                                req = req.create_bucket_configuration(
                                    CreateBucketConfiguration::builder()
                                        .location_constraint(BucketLocationConstraint::from(self.settings.region()))
                                        .build(),
                                );
                            }
                            match req.send().await {
                                Ok(_) => Ok(()),
                                Err(e) if matches!(e.code(), Some("BucketAlreadyOwnedByYou")) => Ok(()),
                                Err(e) => Err(aws::error::describe(&format!("creating bucket {}", self.bucket), &e)),
                            }
                        }
                        Err(e) => Err(aws::error::describe(&format!("can't call S3 API (HeadBucket {}). Please check your credentials or s3_region configuration", self.bucket), &e)),
                    }
                } else if self.check_apikey_on_start {
                    match c.list_objects_v2().bucket(&self.bucket).prefix(&self.list_prefix).max_keys(1).send().await {
                        Ok(_) => Ok(()),
                        Err(e) if matches!(e.code(), Some("NoSuchBucket")) => Ok(()),
                        Err(e) => Err(aws::error::describe("can't call S3 API (ListObjectsV2). Please check your credentials or s3_region configuration", &e)),
                    }
                } else {
                    Ok(())
                }
            })
            .await
            .map(|_| ())
            .map_err(WriteError::Retryable)
    }

    async fn exists(&self, c: &Client, key: String) -> Result<bool, String> {
        match c.head_object().bucket(&self.bucket).key(&key).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
            Err(e) => Err(aws::error::describe(&format!("HeadObject {key}"), &e)),
        }
    }

    fn metadata(&self, chunk: &Chunk, index: u64) -> Vec<(String, String)> {
        self.put
            .metadata
            .iter()
            .map(|(k, t)| {
                let v = t.render(&chunk.meta, &chunk.id);
                let v = key::gsub_percent(&v, |n| {
                    Some(if n == "index" {
                        index.to_string()
                    } else {
                        String::new()
                    })
                });
                (k.clone(), v)
            })
            .collect()
    }

    async fn put_object(
        &self,
        c: &Client,
        key: &str,
        body: Bytes,
        meta: &[(String, String)],
    ) -> Result<(), String> {
        let p = &self.put;
        let req = c
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(self.store_as.content_type())
            .content_length(body.len() as i64)
            .body(ByteStream::from(body))
            .set_checksum_algorithm(p.checksum_algorithm.clone());
        let mut req = object_settings!(req, p);
        for (k, v) in meta {
            req = req.metadata(k, v);
        }
        req.send()
            .await
            .map(|_| ())
            .map_err(|e| aws::error::describe(&format!("PutObject {key}"), &e))
    }

    async fn multipart(
        &self,
        c: &Client,
        key: &str,
        body: Bytes,
        meta: &[(String, String)],
    ) -> Result<usize, String> {
        let p = &self.put;
        // With checksums on, every part carries one and the completion lists them.
        let algo = p
            .checksum_algorithm
            .clone()
            .or(self.settings.checksums.then_some(ChecksumAlgorithm::Crc32));
        let req = c
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type(self.store_as.content_type())
            .set_checksum_algorithm(algo.clone());
        let mut req = object_settings!(req, p);
        for (k, v) in meta {
            req = req.metadata(k, v);
        }
        let created = req
            .send()
            .await
            .map_err(|e| aws::error::describe(&format!("CreateMultipartUpload {key}"), &e))?;
        let upload_id = created
            .upload_id()
            .ok_or_else(|| format!("CreateMultipartUpload {key}: no upload id"))?
            .to_string();
        let len = body.len() as u64;
        let part = self.part_size.max(len.div_ceil(MAX_PARTS));
        let ranges: Vec<(i32, u64, u64)> = (0..len.div_ceil(part))
            .map(|i| ((i + 1) as i32, i * part, ((i + 1) * part).min(len)))
            .collect();
        let result = self
            .upload_parts(c, key, &upload_id, &body, &ranges, algo.as_ref())
            .await;
        let parts = match result {
            Ok(parts) => parts,
            Err(e) => {
                self.abort(c, key, &upload_id).await;
                return Err(e);
            }
        };
        let n = parts.len();
        let done = c
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(&upload_id)
            .set_sse_customer_algorithm(p.sse_customer_algorithm.clone())
            .set_sse_customer_key(p.sse_customer_key.clone())
            .set_sse_customer_key_md5(p.sse_customer_key_md5.clone())
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await;
        if let Err(e) = done {
            self.abort(c, key, &upload_id).await;
            return Err(aws::error::describe(
                &format!("CompleteMultipartUpload {key}"),
                &e,
            ));
        }
        Ok(n)
    }

    async fn upload_parts(
        &self,
        c: &Client,
        key: &str,
        upload_id: &str,
        body: &Bytes,
        ranges: &[(i32, u64, u64)],
        algo: Option<&ChecksumAlgorithm>,
    ) -> Result<Vec<CompletedPart>, String> {
        let mut set = tokio::task::JoinSet::new();
        let mut parts = Vec::with_capacity(ranges.len());
        let mut next = ranges.iter();
        let p = &self.put;
        loop {
            while set.len() < PART_CONCURRENCY {
                let Some(&(n, from, to)) = next.next() else {
                    break;
                };
                let req = c
                    .upload_part()
                    .bucket(&self.bucket)
                    .key(key)
                    .upload_id(upload_id)
                    .part_number(n)
                    .content_length((to - from) as i64)
                    .body(ByteStream::from(body.slice(from as usize..to as usize)))
                    .set_sse_customer_algorithm(p.sse_customer_algorithm.clone())
                    .set_sse_customer_key(p.sse_customer_key.clone())
                    .set_sse_customer_key_md5(p.sse_customer_key_md5.clone())
                    .set_checksum_algorithm(algo.cloned());
                let key = key.to_string();
                set.spawn(async move {
                    let out = req
                        .send()
                        .await
                        .map_err(|e| aws::error::describe(&format!("UploadPart {key} #{n}"), &e))?;
                    Ok::<_, String>(
                        CompletedPart::builder()
                            .part_number(n)
                            .set_e_tag(out.e_tag().map(str::to_string))
                            .set_checksum_crc32(out.checksum_crc32().map(str::to_string))
                            .set_checksum_crc32_c(out.checksum_crc32_c().map(str::to_string))
                            .set_checksum_crc64_nvme(out.checksum_crc64_nvme().map(str::to_string))
                            .set_checksum_sha1(out.checksum_sha1().map(str::to_string))
                            .set_checksum_sha256(out.checksum_sha256().map(str::to_string))
                            .build(),
                    )
                });
            }
            let Some(r) = set.join_next().await else {
                break;
            };
            match r {
                Ok(Ok(part)) => parts.push(part),
                Ok(Err(e)) => return Err(e),
                Err(e) => return Err(format!("UploadPart task: {e}")),
            }
        }
        parts.sort_by_key(|p| p.part_number());
        Ok(parts)
    }

    async fn abort(&self, c: &Client, key: &str, upload_id: &str) {
        if let Err(e) = c
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await
        {
            self.log.warn(format_args!(
                "{}",
                aws::error::describe(
                    &format!("AbortMultipartUpload {key} (upload {upload_id})"),
                    &e
                )
            ));
        }
    }
}

#[async_trait]
impl ChunkWriter for S3Writer {
    fn format(&self, tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        self.format.format(tag, time, record, out);
    }

    fn checks_records(&self) -> bool {
        self.format.checks_records()
    }

    fn check(&self, record: &[u8]) -> Result<(), String> {
        self.format.check(record)
    }

    /// Compressing the object body is prepared ahead (queued chunks in parallel); a plain copy
    /// is not (it would only double the queued chunks' memory).
    fn prepare(&self, chunk: &Chunk) -> Option<Prepare> {
        self.prepares()
            .then(|| body_work(chunk, self.store_as))
            .flatten()
    }

    fn prepares(&self) -> bool {
        matches!(self.store_as, StoreAs::Gzip | StoreAs::Zstd)
    }

    async fn write(&self, chunk: &Chunk) -> Result<(), WriteError> {
        self.put(chunk, None).await
    }

    async fn write_prepared(
        &self,
        chunk: &Chunk,
        body: std::io::Result<Bytes>,
    ) -> Result<(), WriteError> {
        self.put(chunk, Some(body)).await
    }
}

impl S3Writer {
    /// Write `chunk` as an object, with its body if prepared ahead.
    async fn put(
        &self,
        chunk: &Chunk,
        prepared: Option<std::io::Result<Bytes>>,
    ) -> Result<(), WriteError> {
        if let Some(tag) = &chunk.meta.tag {
            if tag.contains("../") || tag.starts_with('/') {
                return Err(WriteError::Unrecoverable(format!(
                    "tag '{tag}' would make an object key leave its prefix"
                )));
            }
        }
        let c = self.client().await?;
        self.preflight(c).await?;
        let chosen = self
            .keys
            .choose(&chunk.meta, &chunk.id, self.overwrite, |k| {
                self.exists(c, k)
            })
            .await
            .map_err(WriteError::Retryable)?;
        let key = chosen.key;
        if key.is_empty() || key.len() > 1024 {
            return Err(WriteError::Unrecoverable(format!(
                "object key of {} bytes (S3 takes 1 to 1024): {key:?}",
                key.len()
            )));
        }
        if chosen.overwrites {
            self.log
                .warn(format_args!("{key} already exists, but will overwrite"));
        }
        let body = match prepared {
            Some(body) => body.map_err(|e| WriteError::Unrecoverable(e.to_string()))?,
            None => body_of(chunk, self.store_as).await?,
        };
        let meta = self.metadata(chunk, chosen.index);
        let size = body.len() as u64;
        self.log.debug(format_args!(
            "write chunk {:?} ({} records, {size} bytes) to s3://{}/{key}",
            chunk.id,
            chunk.records(),
            self.bucket
        ));
        if size >= self.multipart_threshold {
            let parts = self
                .multipart(c, &key, body, &meta)
                .await
                .map_err(WriteError::Retryable)?;
            self.log.info(format_args!(
                "uploaded s3://{}/{key} ({size} bytes) in {parts} parts",
                self.bucket
            ));
        } else {
            self.put_object(c, &key, body, &meta)
                .await
                .map_err(WriteError::Retryable)?;
        }
        if let (Some(delay), Some(tk)) = (self.warn_for_delay, chunk.meta.timekey) {
            let now = EventTime::now().as_f64();
            if (tk as f64) < now - delay {
                self.log.warn(format_args!(
                    "out_s3: delayed events were put to s3://{}/{key}",
                    self.bucket
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logferry_core::buffer::{ChunkId, ChunkMeta};
    use std::io::Read as _;

    const TEXT: &[u8] = b"2023-11-14T22:13:20+00:00\tt\t{\"a\":1}\n";

    fn chunk(raw: Vec<u8>, gzip: bool) -> Chunk {
        Chunk::new(
            ChunkId([7; 16]),
            ChunkMeta::default(),
            Bytes::from(raw),
            gzip,
        )
    }

    fn body(c: &Chunk, s: StoreAs) -> Bytes {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(body_of(c, s)).unwrap()
    }

    fn gunzip(b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(b)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn gzip_buffer_chunk_is_uploaded_as_is() {
        // Two gzip members, as a `compress gzip` buffer writes them.
        let mut raw = compress(&TEXT[..10], StoreAs::Gzip).unwrap();
        raw.extend(compress(&TEXT[10..], StoreAs::Gzip).unwrap());
        let c = chunk(raw.clone(), true);
        assert_eq!(&body(&c, StoreAs::Gzip)[..], &raw[..]);
        assert_eq!(&body(&c, StoreAs::Text)[..], TEXT);
        assert_eq!(
            zstd::decode_all(&body(&c, StoreAs::Zstd)[..]).unwrap(),
            TEXT
        );
    }

    #[test]
    fn plain_chunk_is_compressed() {
        let c = chunk(TEXT.to_vec(), false);
        assert_eq!(gunzip(&body(&c, StoreAs::Gzip)), TEXT);
        assert_eq!(&body(&c, StoreAs::Json)[..], TEXT);
        assert_eq!(
            zstd::decode_all(&body(&c, StoreAs::Zstd)[..]).unwrap(),
            TEXT
        );
    }

    #[test]
    fn broken_gzip_chunk_is_unrecoverable() {
        let c = chunk(b"not gzip".to_vec(), true);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert!(matches!(
            rt.block_on(body_of(&c, StoreAs::Text)),
            Err(WriteError::Unrecoverable(_))
        ));
    }
}
