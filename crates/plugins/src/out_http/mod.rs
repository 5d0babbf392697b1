//! `http` output (Fluentd's `out_http`): each chunk of the buffer is sent as one HTTP request.
//!
//! * `endpoint` (required, placeholders such as `${tag}` rendered per chunk), `http_method post|put`.
//! * Body: the chunk's formatted events — `<format>` (default `json`, so NDJSON). `json_array true`
//!   (json only) sends `[{"a":1}\n,{"b":2}\n]`. `compress gzip` compresses the body and adds
//!   `Content-Encoding: gzip` (done on a blocking thread, as is the decompression of a `compress
//!   gzip` buffer's chunk).
//! * `content_type` defaults by format as Fluentd: json → `application/x-ndjson`
//!   (`application/json` with `json_array`), csv → `text/csv`, ltsv → `text/tab-separated-values`,
//!   msgpack → `application/x-msgpack`, out_file/single_value/stdout → `text/plain`.
//! * Headers in Fluentd's order (a later one wins): `<auth> method basic` (`username`,
//!   `password`; Net::HTTP's `basic_auth` comes first), `headers` (a hash),
//!   `headers_from_placeholders` (a hash rendered per chunk; a `${tag}` or `${key}` that is not a
//!   chunk key stays as written), `Content-Encoding`, `Content-Type`. `aws_sigv4` is refused at start-up.
//! * Responses: 2xx is success. A code in `retryable_response_codes` (default **`[503]`**, Fluentd's
//!   default, which Fluentd v2 plans to drop: list it explicitly, e.g. `[429, 500, 502, 503, 504]`,
//!   to retry more) is retried on the buffer's schedule; a `Retry-After` (seconds or an HTTP date)
//!   on such a response delays the next attempt by at least that. Any other code: with
//!   `error_response_as_unrecoverable true` (the default) the chunk goes to `<secondary>` or is
//!   backed up; with `false` the error is logged and the chunk counts as sent. Redirects are not
//!   followed (as Net::HTTP). Connection errors and timeouts are retried.
//! * A host rendered from placeholders that differs from the template's host must be listed in
//!   `allowed_hosts`, else the chunk is unrecoverable (as Fluentd).
//! * `open_timeout`, `read_timeout` (seconds; the TLS handshake counts against `open_timeout` +
//!   `ssl_timeout`), `proxy` (default `$HTTP_PROXY`/`$http_proxy`, used for every request; `NO_PROXY`
//!   is not consulted, as Fluentd), `reuse_connections` (keep-alive; default off: one connection per
//!   request).
//! * TLS (https endpoints): `tls_ca_cert_path` (only that CA is trusted; default: the system store
//!   and Mozilla's roots), `tls_verify_mode peer|none`, `tls_client_cert_path` +
//!   `tls_private_key_path`, `tls_version` (pins that version; unset: TLS 1.2 and 1.3, as logferry's
//!   other TLS settings). TLS 1.1, `tls_private_key_passphrase` and OpenSSL `tls_ciphers` cannot
//!   apply to rustls: the first two are refused, a non-default `tls_ciphers` is warned about.
//!
//! Always buffered: memory buffer, no chunk keys, `flush_interval 60s` by default; chunks flush in
//! parallel with `flush_thread_count`. No `<inject>` (Fluentd's out_http has none).

#[cfg(test)]
mod test_server;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use logferry_core::buffer::params::BUFFERED;
use logferry_core::buffer::{
    BufferConfig, BufferDefaults, Chunk, ChunkWriter, Prepare, Template, WriteError,
};
use logferry_core::error::build_error;
use logferry_core::params::{one, p, Body, ParamType::*, PluginKind, Spec};
use logferry_core::{BuildCtx, BuildError, EventTime, PluginLog, Section};
use logferry_formats::formatter::{self, Formatter};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};

/// Buffer defaults of out_http: no chunk keys, memory, interval flush.
pub const DEFAULTS: BufferDefaults = BufferDefaults {
    chunk_keys: &[],
    timekey: None,
    tag_required: false,
    file_at_output_path: false,
    chunk_limit_size: None,
    flush_at_shutdown: None,
    v012_time_key: false,
};

/// Fluentd's default `tls_ciphers` (OpenSSL syntax; anything else is warned about).
const OPENSSL_DEFAULT_CIPHERS: &str = "ALL:!aNULL:!eNULL:!SSLv2";

/// `<auth>`.
static AUTH: Spec = Spec::new("http.auth", "Request authentication.").params(&[
    p(
        "method",
        Enum(&["basic", "aws_sigv4"]),
        "basic (aws_sigv4 is refused: logferry cannot sign requests).",
    )
    .default("basic"),
    p("username", Str, "Basic auth user.").default(""),
    p("password", Str, "Basic auth password.")
        .default("")
        .secret(),
]);

/// `http` output.
pub static PARAMS: Spec = Spec::new(
    "http",
    "Sends chunks as HTTP requests (one request per chunk), as Fluentd's out_http.",
)
.params(&[
    p("endpoint", Str, "URL (placeholders allowed with chunk keys).").required(),
    p("allowed_hosts", Array, "Hosts a placeholder endpoint may resolve to."),
    p("http_method", Enum(&["post", "put"]), "Request method.").default("post"),
    p("json_array", Bool, "Send a chunk as one JSON array (json format only).").default("false"),
    p("compress", Enum(&["text", "gzip"]), "Gzip request bodies.").default("text"),
    p("content_type", Str, "Content-Type header.").computed("application/json with json_array, else the format's"),
    p("headers", Hash, "Extra headers."),
    p("headers_from_placeholders", Hash, "Extra headers rendered per chunk."),
    p("retryable_response_codes", Array, "Status codes that are retried.").computed("503"),
    p("error_response_as_unrecoverable", Bool, "Give up chunks answered with other error codes.").default("true"),
    p("open_timeout", Time, "Connect timeout."),
    p("read_timeout", Time, "Response timeout."),
    p("ssl_timeout", Time, "TLS handshake timeout (added to open_timeout)."),
    p("reuse_connections", Bool, "Keep connections open between requests.").default("false"),
    p("proxy", Str, "Proxy URL.").computed("$HTTP_PROXY"),
    p("tls_ca_cert_path", Str, "CA certificate (PEM) for https endpoints."),
    p("tls_client_cert_path", Str, "Client certificate (PEM)."),
    p("tls_private_key_path", Str, "Its private key (PEM)."),
    p("tls_private_key_passphrase", Str, "Passphrase of an encrypted key.").secret().refused("encrypted private keys are not supported; decrypt the key (openssl pkey -in KEY -out PLAIN_KEY)"),
    p("tls_verify_mode", Enum(&["peer", "none"]), "Verify the server certificate.").default("peer"),
    p("tls_version", Enum(&["TLSv1_1", "TLSv1_2", "TLSv1_3", "TLS1_1", "TLS1_2", "TLS1_3"]), "Only this TLS version (1.1 is refused)."),
    p("tls_ciphers", Str, "OpenSSL cipher list: logferry warns and uses rustls's safe suites.").default(OPENSSL_DEFAULT_CIPHERS),
])
.sections(&[
    one("format", Body::Plugin(PluginKind::Formatter, Some("json")), "Body format."),
    one("auth", Body::Spec(&AUTH), "Authentication."),
])
.extends(&[&formatter::params::FLAT, &BUFFERED]);

/// The most of a response body kept for logs and error messages.
const BODY_IN_MESSAGES: usize = 1024;

/// The most of a response body read (to keep the connection reusable); larger bodies are dropped.
const BODY_DRAIN_LIMIT: usize = 64 * 1024;

/// Replaces placeholders when finding the template's host (".invalid" never resolves, RFC 2606).
const HOST_PLACEHOLDER: &str = "logferry-placeholder.invalid";

/// The chunk writer of the `http` output.
pub struct HttpWriter {
    endpoint: Template,
    /// The endpoint template's host (placeholders replaced), to detect rendered hosts.
    endpoint_host: Option<String>,
    allowed_hosts: Vec<String>,
    method: Method,
    json_array: bool,
    /// `<format> @type msgpack` (Fluentd's `formatted_to_msgpack_binary?`).
    msgpack: bool,
    gzip: bool,
    formatter: Box<dyn Formatter>,
    /// `headers`, applied first.
    headers: HeaderMap,
    /// `headers_from_placeholders`, rendered per chunk.
    placeholder_headers: Vec<(HeaderName, Template)>,
    /// Content-Encoding, Content-Type: applied last.
    fixed_headers: HeaderMap,
    retryable: Vec<u16>,
    error_unrecoverable: bool,
    client: reqwest::Client,
    log: PluginLog,
}

/// Writer factory for the buffer engine and `<secondary>`.
pub fn writer(
    ctx: &BuildCtx,
    s: &Section,
    cfg: &BufferConfig,
) -> Result<Arc<dyn ChunkWriter>, BuildError> {
    Ok(Arc::new(HttpWriter::new(s, cfg, ctx.log.clone())?))
}

fn param_pos<'a>(s: &Section<'a>, key: &str) -> &'a logferry_config::Pos {
    s.param(key).map(|p| &p.pos).unwrap_or(s.pos())
}

/// A positive number of seconds, when given.
fn seconds(s: &Section, key: &str) -> Result<Option<Duration>, BuildError> {
    if !s.has(key) {
        return Ok(None);
    }
    let v: f64 = s.get(key)?;
    if !(v > 0.0 && v.is_finite()) {
        return Err(build_error(
            param_pos(s, key),
            format!("'{key}' must be a positive number of seconds"),
        ));
    }
    Ok(Some(Duration::from_secs_f64(v)))
}

fn header_name(s: &Section, key: &str, name: &str) -> Result<HeaderName, BuildError> {
    HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
        build_error(
            param_pos(s, key),
            format!("'{key}': '{name}' is not a valid HTTP header name"),
        )
    })
}

fn header_value(s: &Section, key: &str, v: &str) -> Result<HeaderValue, BuildError> {
    HeaderValue::from_str(v).map_err(|_| {
        build_error(
            param_pos(s, key),
            format!("'{key}': {v:?} is not a valid HTTP header value"),
        )
    })
}

/// The host of an endpoint template, with every `${…}`/`%{…}` placeholder replaced by a dummy.
fn template_host(endpoint: &str) -> Result<Option<String>, String> {
    let re = regex::Regex::new(r"[$%]\{[^}]+\}").map_err(|e| e.to_string())?;
    let replaced = re.replace_all(endpoint, HOST_PLACEHOLDER);
    let url = Url::parse(&replaced).map_err(|e| e.to_string())?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!("scheme '{}' is not http or https", url.scheme()));
    }
    Ok(url.host_str().map(str::to_string))
}

impl HttpWriter {
    /// Read the plugin's section: endpoint, format, headers, auth, TLS, timeouts, proxy, response
    /// handling.
    pub fn new(s: &Section, cfg: &BufferConfig, log: PluginLog) -> Result<HttpWriter, BuildError> {
        let s = &s.declared(&PARAMS);
        let endpoint_text: &str = s.get("endpoint")?;
        let endpoint_pos = param_pos(s, "endpoint");
        let endpoint = Template::new("endpoint", endpoint_text, cfg)
            .map_err(|e| build_error(endpoint_pos, e))?;
        let endpoint_host = template_host(endpoint_text).map_err(|e| {
            build_error(
                endpoint_pos,
                format!("Invalid endpoint URI: {endpoint_text} ({e})"),
            )
        })?;
        let allowed_hosts: Vec<String> = s.get::<Option<_>>("allowed_hosts")?.unwrap_or_default();
        let method = match s.get::<&str>("http_method")? {
            "put" => Method::PUT,
            _ => Method::POST,
        };

        // Body format: only a `<format>` section (Fluentd's out_http has no compat layer, so a
        // flat v0.12 `format` is not read, and reported unused).
        let format_type = match s.section("format")? {
            Some(f) => f
                .str("@type")
                .or_else(|| f.str("type"))
                .unwrap_or("json")
                .to_string(),
            None => "json".to_string(),
        };
        let formatter = formatter::from_section_only(s, "json")?;
        let json_array: bool = s.get("json_array")?;
        if json_array && format_type != "json" {
            return Err(build_error(
                param_pos(s, "json_array"),
                "json_array option could be used with json formatter only",
            ));
        }
        let gzip = s.get::<&str>("compress")? == "gzip";
        let content_type = match s.str("content_type") {
            Some(ct) => ct.to_string(),
            None if json_array => "application/json".to_string(),
            None => formatter.content_type().to_string(),
        };

        // Headers, in Fluentd's order: Net::HTTP's `basic_auth` sets Authorization first, so a
        // `headers` or `headers_from_placeholders` Authorization replaces it.
        let mut headers = HeaderMap::new();
        if let Some(auth) = s.section("auth")? {
            let method: &str = auth.get("method")?;
            if method == "aws_sigv4" {
                return Err(build_error(
                    param_pos(&auth, "method"),
                    "'method aws_sigv4' is not supported by logferry's http plugin: it cannot sign requests with AWS credentials; use basic auth or put a signing proxy (e.g. aws-sigv4-proxy) in 'proxy'/'endpoint'",
                ));
            }
            let user: &str = auth.get("username")?;
            let pass: &str = auth.get("password")?;
            let mut v = header_value(
                &auth,
                "username",
                &format!("Basic {}", base64(format!("{user}:{pass}").as_bytes())),
            )?;
            v.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, v);
        }

        let given: Option<Vec<(String, String)>> = s.get("headers")?;
        for (k, v) in given.unwrap_or_default() {
            headers.insert(
                header_name(s, "headers", &k)?,
                header_value(s, "headers", &v)?,
            );
        }
        let mut placeholder_headers = Vec::new();
        let from_placeholders: Option<Vec<(String, String)>> =
            s.get("headers_from_placeholders")?;
        for (k, v) in from_placeholders.unwrap_or_default() {
            let t = Template::new("headers_from_placeholders", &v, cfg)
                .map_err(|e| build_error(param_pos(s, "headers_from_placeholders"), e))?;
            placeholder_headers.push((header_name(s, "headers_from_placeholders", &k)?, t));
        }
        // A `${tag}` without the tag chunk key stays as written (Fluentd's extract_placeholders):
        // in a header it is sent so; in the endpoint it makes a URI Fluentd cannot parse, so
        // every chunk would fail: refused at start-up.
        if endpoint.uses_tag() && !cfg.key_tag {
            return Err(build_error(
                s.pos(),
                "endpoint uses ${tag}, but chunk key 'tag' is not configured: use <buffer tag>",
            ));
        }
        let mut fixed_headers = HeaderMap::new();
        if gzip {
            fixed_headers.insert(
                reqwest::header::CONTENT_ENCODING,
                HeaderValue::from_static("gzip"),
            );
        }
        fixed_headers.insert(
            reqwest::header::CONTENT_TYPE,
            header_value(s, "content_type", &content_type)?,
        );
        // Responses.
        let retryable = match s.get::<Option<Vec<String>>>("retryable_response_codes")? {
            None => vec![503],
            Some(codes) => codes
                .iter()
                .map(|c| {
                    c.trim()
                        .parse::<u16>()
                        .ok()
                        .filter(|c| (100..=599).contains(c))
                        .ok_or_else(|| {
                            build_error(
                                param_pos(s, "retryable_response_codes"),
                                format!(
                                    "'retryable_response_codes': '{c}' is not an HTTP status code"
                                ),
                            )
                        })
                })
                .collect::<Result<_, _>>()?,
        };
        let error_unrecoverable = s.get("error_response_as_unrecoverable")?;

        let client = build_client(s, endpoint_text.starts_with("https"), &log)?;
        Ok(HttpWriter {
            endpoint,
            endpoint_host,
            allowed_hosts,
            method,
            json_array,
            msgpack: format_type == "msgpack",
            gzip,
            formatter,
            headers,
            placeholder_headers,
            fixed_headers,
            retryable,
            error_unrecoverable,
            client,
            log,
        })
    }

    /// The request body of a chunk: its formatted events, as a JSON array with `json_array`,
    /// gzip-compressed with `compress gzip`. CPU-bound: [`ChunkWriter::write`] runs it on a
    /// blocking thread when it compresses or decompresses.
    pub fn body(&self, chunk: &Chunk) -> std::io::Result<Bytes> {
        build_body(chunk, self.json_array, self.gzip)
    }

    fn url_for(&self, chunk: &Chunk) -> Result<Url, WriteError> {
        let text = self.endpoint.render(&chunk.meta, &chunk.id);
        let url = Url::parse(&text)
            .map_err(|e| WriteError::Unrecoverable(format!("invalid endpoint URI {text}: {e}")))?;
        let host = url.host_str().map(str::to_string);
        if host != self.endpoint_host {
            let host = host.unwrap_or_default();
            if self.allowed_hosts.is_empty() {
                return Err(WriteError::Unrecoverable(format!("allowed_hosts is strictly required when using placeholders in the endpoint host (got host '{host}')")));
            }
            if !self.allowed_hosts.contains(&host) {
                return Err(WriteError::Unrecoverable(format!(
                    "Not allowed host: {host}"
                )));
            }
        }
        Ok(url)
    }

    fn headers_for(&self, chunk: &Chunk) -> Result<HeaderMap, WriteError> {
        let mut h = self.headers.clone();
        for (name, t) in &self.placeholder_headers {
            let v = t.render(&chunk.meta, &chunk.id);
            let v = HeaderValue::from_str(&v).map_err(|_| {
                WriteError::Unrecoverable(format!(
                    "header {name} rendered to an invalid value {v:?}"
                ))
            })?;
            h.insert(name.clone(), v);
        }
        for (k, v) in &self.fixed_headers {
            h.insert(k.clone(), v.clone());
        }
        Ok(h)
    }
}

fn build_client(s: &Section, https: bool, log: &PluginLog) -> Result<reqwest::Client, BuildError> {
    let open_timeout = seconds(s, "open_timeout")?;
    let read_timeout = seconds(s, "read_timeout")?;
    let ssl_timeout = seconds(s, "ssl_timeout")?;
    let reuse: bool = s.get("reuse_connections")?;
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none());
    if !reuse {
        b = b.pool_max_idle_per_host(0);
    }
    if open_timeout.is_some() || ssl_timeout.is_some() {
        b = b.connect_timeout(open_timeout.unwrap_or_default() + ssl_timeout.unwrap_or_default());
    }
    if let Some(t) = read_timeout {
        b = b.read_timeout(t);
    }
    let proxy = match s.str("proxy") {
        Some(p) => Some(p.to_string()),
        None => std::env::var("HTTP_PROXY")
            .ok()
            .or_else(|| std::env::var("http_proxy").ok()),
    };
    if let Some(p) = proxy.filter(|p| !p.is_empty()) {
        let proxy = reqwest::Proxy::all(&p).map_err(|e| {
            build_error(
                param_pos(s, "proxy"),
                format!("'proxy' {p:?} is not a usable proxy URL: {e}"),
            )
        })?;
        b = b.proxy(proxy);
    }

    // TLS (read whatever the endpoint; applied and checked for https endpoints, as Fluentd).
    s.refuse_declared()?;
    let ca = s.str("tls_ca_cert_path");
    let client_cert = s.str("tls_client_cert_path");
    let client_key = s.str("tls_private_key_path");
    let verify: &str = s.get("tls_verify_mode")?;
    let version: &str = s.get::<Option<&str>>("tls_version")?.unwrap_or_default();
    if let Some(c) = s.str("tls_ciphers") {
        if c != OPENSSL_DEFAULT_CIPHERS {
            log.warn(format_args!("tls_ciphers {c:?}: OpenSSL cipher lists cannot apply to rustls; its safe defaults are used"));
        }
    }
    if https {
        let read = |key: &str, path: &str| {
            std::fs::read(path)
                .map_err(|e| build_error(param_pos(s, key), format!("{key} is wrong: {path}: {e}")))
        };
        if let Some(path) = ca {
            let certs = reqwest::Certificate::from_pem_bundle(&read("tls_ca_cert_path", path)?)
                .ok()
                .filter(|c| !c.is_empty())
                .ok_or_else(|| {
                    build_error(
                        param_pos(s, "tls_ca_cert_path"),
                        format!("tls_ca_cert_path is wrong: {path}: no PEM certificate in it"),
                    )
                })?;
            b = b.tls_built_in_root_certs(false);
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        match (client_cert, client_key) {
            (Some(cert), Some(key)) => {
                let mut pem = read("tls_client_cert_path", cert)?;
                pem.push(b'\n');
                pem.extend_from_slice(&read("tls_private_key_path", key)?);
                let id = reqwest::Identity::from_pem(&pem).map_err(|e| {
                    build_error(
                        param_pos(s, "tls_client_cert_path"),
                        format!("cannot load the client certificate {cert} with key {key}: {e}"),
                    )
                })?;
                b = b.identity(id);
            }
            (None, None) => {}
            (Some(_), None) | (None, Some(_)) => return Err(build_error(
                s.pos(),
                "a TLS client certificate needs both tls_client_cert_path and tls_private_key_path",
            )),
        }
        if verify == "none" {
            b = b.danger_accept_invalid_certs(true);
        }
        let pinned = match version {
            "TLSv1_2" | "TLS1_2" => Some(reqwest::tls::Version::TLS_1_2),
            "TLSv1_3" | "TLS1_3" => Some(reqwest::tls::Version::TLS_1_3),
            "" => None,
            _ => {
                return Err(build_error(
                    param_pos(s, "tls_version"),
                    format!("'tls_version {version}' is not supported by logferry's http plugin: rustls speaks TLS 1.2 and 1.3 only"),
                ))
            }
        };
        if let Some(v) = pinned {
            b = b.min_tls_version(v).max_tls_version(v);
        }
    }
    b.build().map_err(|e| {
        build_error(
            s.pos(),
            format!("cannot set up the HTTP client: {}", chain(&e)),
        )
    })
}

/// The body of a chunk (see [`HttpWriter::body`]).
fn build_body(chunk: &Chunk, json_array: bool, gzip: bool) -> std::io::Result<Bytes> {
    let data = chunk.bytes()?;
    let data = if json_array {
        // Fluentd: "[" + chunk.chop + "]" — each record ends with ",", the last one is cut.
        let inner = &data[..data.len().saturating_sub(1)];
        let mut v = Vec::with_capacity(inner.len() + 2);
        v.push(b'[');
        v.extend_from_slice(inner);
        v.push(b']');
        Bytes::from(v)
    } else {
        data
    };
    if !gzip {
        return Ok(data);
    }
    Ok(Bytes::from(logferry_compress::gzip(&data)))
}

impl HttpWriter {
    /// Building `chunk`'s body (decompressed, bracketed, compressed as configured), to run on
    /// the blocking pool.
    fn body_work(&self, chunk: &Chunk) -> Prepare {
        let (c, json_array, gzip) = (chunk.clone(), self.json_array, self.gzip);
        Box::new(move || build_body(&c, json_array, gzip))
    }
}

/// An error with its sources ("error sending request: connection refused").
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = c.source();
    }
    s
}

/// Standard base64 with padding (for basic auth).
fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A `Retry-After` value (delta-seconds or an IMF-fixdate HTTP date) as a delay from `now`;
/// None when absent, unparsable or not in the future.
fn retry_after(v: &str, now: SystemTime) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return (secs > 0).then(|| Duration::from_secs(secs));
    }
    let at = http_date(v)?;
    let now = now.duration_since(SystemTime::UNIX_EPOCH).ok()?.as_secs();
    at.checked_sub(now)
        .filter(|d| *d > 0)
        .map(Duration::from_secs)
}

/// Seconds since the epoch of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn http_date(v: &str) -> Option<u64> {
    let parts: Vec<&str> = v.split_ascii_whitespace().collect();
    let [_, day, mon, year, hms, "GMT"] = parts.as_slice() else {
        return None;
    };
    let day: u64 = day.parse().ok()?;
    let mon = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == mon)? as u64
        + 1;
    let year: u64 = year.parse().ok()?;
    let mut t = hms.split(':').map(|x| x.parse::<u64>().ok());
    let (h, m, s) = (t.next()??, t.next()??, t.next()??);
    if t.next().is_some() || !(1..=31).contains(&day) || year < 1970 || h > 23 || m > 59 || s > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm), for years ≥ 1970.
    let (y, mp) = if mon <= 2 {
        (year - 1, mon + 9)
    } else {
        (year, mon - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(days * 86_400 + h * 3600 + m * 60 + s)
}

/// Read at most `limit` bytes of a response body.
async fn read_body(resp: &mut reqwest::Response, limit: usize) -> Vec<u8> {
    let mut out = Vec::new();
    while out.len() < limit {
        match resp.chunk().await {
            Ok(Some(c)) => out.extend_from_slice(&c),
            _ => break,
        }
    }
    out
}

#[async_trait]
impl ChunkWriter for HttpWriter {
    fn formatted_to_msgpack_binary(&self) -> bool {
        self.msgpack
    }

    fn checks_records(&self) -> bool {
        self.formatter.checks_records()
    }

    fn check(&self, record: &[u8]) -> Result<(), String> {
        self.formatter.check(record)
    }

    fn format(&self, tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        self.formatter.format_raw(tag, time, record, out);
        if self.json_array {
            out.push(b',');
        }
    }

    /// Compressing the body (`compress gzip`) is prepared ahead; other bodies (a copy at most,
    /// which would only double the queued chunks' memory) are built when written.
    fn prepare(&self, chunk: &Chunk) -> Option<Prepare> {
        self.prepares().then(|| self.body_work(chunk))
    }

    fn prepares(&self) -> bool {
        self.gzip
    }

    async fn write(&self, chunk: &Chunk) -> Result<(), WriteError> {
        let work = (chunk.is_gzip() || self.gzip || self.json_array).then(|| self.body_work(chunk));
        let body = match work {
            Some(work) => tokio::task::spawn_blocking(work)
                .await
                .map_err(|e| WriteError::Retryable(format!("body preparation failed: {e}")))?,
            None => build_body(chunk, false, false),
        };
        self.write_prepared(chunk, body).await
    }

    /// Send the body (decompressed, bracketed, compressed as configured) of `chunk`.
    async fn write_prepared(
        &self,
        chunk: &Chunk,
        body: std::io::Result<Bytes>,
    ) -> Result<(), WriteError> {
        let body =
            body.map_err(|e| WriteError::Unrecoverable(format!("cannot read the chunk: {e}")))?;
        let url = self.url_for(chunk)?;
        // Never log credentials in the URL.
        let mut shown = url.clone();
        let _ = shown.set_password(None);
        let headers = self.headers_for(chunk)?;
        self.log.debug(format_args!(
            "{} data to {shown} with chunk({})",
            self.method,
            chunk.id.hex()
        ));
        let sent = self
            .client
            .request(self.method.clone(), url)
            .headers(headers)
            .body(body)
            .send()
            .await;
        let mut resp = sent.map_err(|e| {
            let e = e.without_url();
            WriteError::Retryable(format!("{} {shown}: {}", self.method, chain(&e)))
        })?;
        let status = resp.status();
        let retry_after_header = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let limit = if status.is_success() {
            BODY_DRAIN_LIMIT
        } else {
            BODY_IN_MESSAGES
        };
        let body = read_body(&mut resp, limit).await;
        let text = String::from_utf8_lossy(&body[..body.len().min(BODY_IN_MESSAGES)]);
        let msg = format!(
            "{} {} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
            text.trim_start()
        );
        if status.is_success() {
            self.log.debug(format_args!("{msg}"));
            return Ok(());
        }
        if self.retryable.contains(&status.as_u16()) {
            return Err(
                match retry_after_header
                    .as_deref()
                    .and_then(|v| retry_after(v, SystemTime::now()))
                {
                    Some(d) => WriteError::RetryAfter(msg, d),
                    None => WriteError::Retryable(msg),
                },
            );
        }
        if self.error_unrecoverable {
            return Err(WriteError::Unrecoverable(msg));
        }
        self.log.error(format_args!(
            "got error response from '{} {shown}' : {msg}",
            self.method
        ));
        Ok(())
    }
}
