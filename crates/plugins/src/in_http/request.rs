//! One HTTP request, answered as Fluentd's in_http answers it (status codes, bodies, CORS).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use logferry_core::{Emitter, PluginLog};
use tokio::sync::Semaphore;

use super::events::{events, Recipe, EVENT_RECORD};
use super::params::{tag_of, Params};

/// A 1x1 transparent GIF (`respond_with_empty_img`), Fluentd's bytes.
const EMPTY_GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\xff\x00\xff\xff\xff\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

/// Counters of the http input.
#[derive(Debug, Default)]
pub struct HttpStats {
    /// Requests answered.
    pub requests: AtomicU64,
    /// Events accepted by the router.
    pub events: AtomicU64,
    /// Requests answered 400 (bad body or parameters).
    pub bad_requests: AtomicU64,
    /// Requests answered 413 (body larger than `body_size_limit`).
    pub too_large: AtomicU64,
    /// Requests answered 403 (CORS).
    pub forbidden: AtomicU64,
    /// Requests answered 500 (the router refused the events).
    pub emit_errors: AtomicU64,
    /// Connections closed because what the client sent was not HTTP/1 (hyper answered 400 or
    /// 431 first when it could).
    pub malformed: AtomicU64,
}

impl logferry_core::metrics::PluginMetrics for HttpStats {
    fn snapshot(&self) -> logferry_core::metrics::Snapshot {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        logferry_core::metrics::Snapshot {
            emit_records: l(&self.events),
            extra: vec![
                ("requests", l(&self.requests)),
                ("bad_requests", l(&self.bad_requests)),
                ("too_large_requests", l(&self.too_large)),
                ("forbidden_requests", l(&self.forbidden)),
                ("emit_errors", l(&self.emit_errors)),
                ("malformed_connections", l(&self.malformed)),
            ],
            ..Default::default()
        }
    }
}

/// `cors_allow_origins` and `cors_allow_credentials`.
#[derive(Clone, Debug)]
pub struct Cors {
    /// Allowed origins; `*` allows any, `https://*.example.com` a pattern.
    pub origins: Vec<String>,
    /// Send `Access-Control-Allow-Credentials: true` with a specific origin.
    pub credentials: bool,
}

impl Cors {
    fn any(&self) -> bool {
        self.origins.iter().any(|o| o == "*")
    }

    /// Fluentd's `include_cors_allow_origin`.
    fn allows(&self, origin: Option<&str>) -> bool {
        let Some(origin) = origin else {
            return false;
        };
        self.origins.iter().any(|o| {
            o == origin
                || o.split_once('*').is_some_and(|(start, end)| {
                    origin.len() >= start.len() + end.len()
                        && origin.starts_with(start)
                        && origin.ends_with(end)
                })
        })
    }
}

/// Everything a request needs, shared by the input's connections.
pub struct Server {
    /// How records are made.
    pub recipe: Arc<Recipe>,
    /// `body_size_limit`
    pub body_limit: usize,
    /// Bytes of request bodies held at once, over all connections.
    pub budget: Arc<Semaphore>,
    /// Idle time allowed between reads of a body (`keepalive_timeout`).
    pub idle: Duration,
    /// CORS, when `cors_allow_origins` is set.
    pub cors: Option<Cors>,
    /// `respond_with_empty_img`
    pub empty_img: bool,
    /// `use_204_response`
    pub use_204: bool,
    /// `dump_error_log`
    pub dump_error_log: bool,
    /// Where events go.
    pub emitter: Emitter,
    /// The plugin's log.
    pub log: PluginLog,
    /// Counters.
    pub stats: Arc<HttpStats>,
}

type Resp = Response<Full<Bytes>>;

fn respond(status: StatusCode, body: impl Into<Bytes>, close: bool) -> Resp {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    if close {
        r.headers_mut()
            .insert("connection", HeaderValue::from_static("close"));
    }
    r
}

fn set(r: &mut Resp, name: &'static str, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
}

/// What the request head says.
#[derive(Default)]
struct Head {
    env: Params,
    content_type: String,
    content_encoding: String,
    origin: Option<String>,
    remote_addr: String,
    request_method: Option<String>,
    request_headers: Option<String>,
    expect: Option<String>,
    length: Option<u64>,
    keep_alive: bool,
}

fn head(req: &Request<Incoming>, peer: SocketAddr) -> Head {
    let mut h = Head {
        remote_addr: peer.ip().to_string(),
        keep_alive: req.version() == hyper::Version::HTTP_11,
        ..Head::default()
    };
    for (name, value) in req.headers() {
        let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
        let key = format!(
            "HTTP_{}",
            name.as_str().replace('-', "_").to_ascii_uppercase()
        );
        match name.as_str() {
            "expect" => h.expect = Some(v.clone()),
            "content-length" => h.length = v.trim().parse().ok(),
            "content-type" => h.content_type = v.clone(),
            "content-encoding" => h.content_encoding = v.clone(),
            "connection" => {
                let l = v.to_ascii_lowercase();
                if l.contains("close") {
                    h.keep_alive = false;
                } else if l.contains("keep-alive") {
                    h.keep_alive = true;
                }
            }
            "origin" => h.origin = Some(v.clone()),
            // Repeated, the first one counts (as Fluentd).
            "x-forwarded-for" if h.env.get(&key).is_none() => {
                h.remote_addr = v.split(',').next().unwrap_or("").to_string();
            }
            "access-control-request-method" => h.request_method = Some(v.clone()),
            "access-control-request-headers" => h.request_headers = Some(v.clone()),
            _ => {}
        }
        h.env.add_repeated(key, v.into_bytes());
    }
    h
}

/// The CORS headers a connection's requests gave so far. Fluentd keeps `Origin`,
/// `Access-Control-Request-Method` and `Access-Control-Request-Headers` per connection, not per
/// request: a later keep-alive request without them is answered by the last ones given.
#[derive(Debug, Default)]
pub struct ConnCors {
    origin: Option<String>,
    request_method: Option<String>,
    request_headers: Option<String>,
}

impl ConnCors {
    /// Fill what the request does not give from earlier requests, and keep what it gives.
    fn carry(&mut self, h: &mut Head) {
        for (now, before) in [
            (&mut h.origin, &mut self.origin),
            (&mut h.request_method, &mut self.request_method),
            (&mut h.request_headers, &mut self.request_headers),
        ] {
            match now {
                Some(v) => *before = Some(v.clone()),
                None => now.clone_from(before),
            }
        }
    }
}

impl Server {
    /// Answer one request (`cors`: the state of its connection).
    pub async fn handle(
        self: Arc<Self>,
        peer: SocketAddr,
        req: Request<Incoming>,
        cors: Arc<std::sync::Mutex<ConnCors>>,
    ) -> Result<Resp, std::convert::Infallible> {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let mut h = head(&req, peer);
        if let Ok(mut c) = cors.lock() {
            c.carry(&mut h);
        }
        let r = self.answer(peer, req, h).await;
        Ok(r)
    }

    fn too_large(&self) -> Resp {
        self.stats.too_large.fetch_add(1, Ordering::Relaxed);
        let mut r = respond(StatusCode::PAYLOAD_TOO_LARGE, "Too large", true);
        // Fluentd's (RFC 2616's) reason phrase.
        r.extensions_mut()
            .insert(hyper::ext::ReasonPhrase::from_static(
                b"Request Entity Too Large",
            ));
        r
    }

    fn forbidden(&self) -> Resp {
        self.stats.forbidden.fetch_add(1, Ordering::Relaxed);
        respond(StatusCode::FORBIDDEN, "", true)
    }

    fn preflight(&self, h: &Head) -> Resp {
        let Some(cors) = &self.cors else {
            return self.forbidden();
        };
        if h.request_method.as_deref() != Some("POST") {
            return self.forbidden();
        }
        let origin = if cors.any() {
            "*".to_string()
        } else if cors.allows(h.origin.as_deref()) {
            h.origin.clone().unwrap_or_default()
        } else {
            return self.forbidden();
        };
        let mut r = respond(StatusCode::OK, "", true);
        set(&mut r, "access-control-allow-methods", "POST");
        set(
            &mut r,
            "access-control-allow-headers",
            h.request_headers.as_deref().unwrap_or(""),
        );
        set(&mut r, "access-control-allow-origin", &origin);
        if origin != "*" && cors.credentials {
            set(&mut r, "access-control-allow-credentials", "true");
        }
        r
    }

    async fn answer(&self, peer: SocketAddr, req: Request<Incoming>, h: Head) -> Resp {
        if let Some(e) = &h.expect {
            if !e.eq_ignore_ascii_case("100-continue") {
                return respond(StatusCode::EXPECTATION_FAILED, "", true);
            }
        }
        if h.length.is_some_and(|n| n >= self.body_limit as u64) && h.expect.is_some() {
            return self.too_large();
        }
        // Fluentd answers 413 while the body comes in, whatever the method, and the rest once
        // the request is complete: a body over the limit is 413 for GET, OPTIONS and a CORS
        // origin not allowed as well.
        if h.length.is_some_and(|n| n > self.body_limit as u64) {
            return self.too_large();
        }
        let get = req.method() == Method::GET;
        let options = req.method() == Method::OPTIONS;
        let cors_denied = self
            .cors
            .as_ref()
            .is_some_and(|c| !c.any() && !c.allows(h.origin.as_deref()));
        if get || options || cors_denied {
            // A body of unknown length (chunked) is read (and dropped) up to the limit to tell.
            if h.length.is_none() && self.body_over_limit(req.into_body()).await {
                return self.too_large();
            }
            return if get {
                respond(StatusCode::OK, "", true)
            } else if options {
                self.preflight(&h)
            } else {
                self.forbidden()
            };
        }
        let uri = req.uri().clone();
        // Hold the body's size in the shared budget while it is in memory.
        let want = h.length.map_or(self.body_limit, |n| n as usize).max(1) as u32;
        let Ok(_permit) = self.budget.acquire_many(want).await else {
            return respond(StatusCode::SERVICE_UNAVAILABLE, "", true);
        };
        let body = match self.read_body(req.into_body()).await {
            Ok(b) => b,
            Err(BodyError::TooLarge) => return self.too_large(),
            Err(BodyError::Io(e)) => {
                self.log
                    .debug(format_args!("reading a request from {peer} failed: {e}"));
                return respond(StatusCode::BAD_REQUEST, "", true);
            }
        };
        let body = match self.decode(&h.content_encoding, body) {
            Ok(b) => b,
            Err(BodyError::TooLarge) => return self.too_large(),
            Err(BodyError::Io(e)) => {
                self.log
                    .warn(format_args!("fails to decode payload from {peer}: {e}"));
                self.stats.bad_requests.fetch_add(1, Ordering::Relaxed);
                return respond(StatusCode::BAD_REQUEST, "", false);
            }
        };
        let mut params = Params::default();
        let query = uri.query().unwrap_or("").as_bytes();
        params.add_query(query);
        if self.recipe.custom.is_some() {
            params.set(EVENT_RECORD.into(), body.to_vec());
        } else if h
            .content_type
            .starts_with("application/x-www-form-urlencoded")
        {
            let mut form = Params::default();
            form.add_query(&body);
            for (k, v) in form.0 {
                params.set(k, v);
            }
        } else if let Some(b) = h
            .content_type
            .strip_prefix("multipart/form-data; boundary=")
        {
            let boundary = b.trim().trim_matches('"');
            match super::params::multipart(&body, boundary) {
                Some(fields) => {
                    for (k, v) in fields {
                        params.set(k, v);
                    }
                }
                None => {
                    self.stats.bad_requests.fetch_add(1, Ordering::Relaxed);
                    return self.finish(
                        &h,
                        respond(
                            StatusCode::BAD_REQUEST,
                            "400 Bad Request\nmalformed multipart/form-data body\n",
                            false,
                        ),
                    );
                }
            }
        } else if h.content_type.starts_with("application/json") {
            params.set("json".into(), body.to_vec());
        } else if h.content_type.starts_with("application/msgpack") {
            params.set("msgpack".into(), body.to_vec());
        } else if h.content_type.starts_with("application/x-ndjson") {
            params.set("ndjson".into(), body.to_vec());
        }
        if self.recipe.add_query_params {
            let mut q = Params::default();
            q.add_query(query);
            for (k, v) in q.0 {
                params.set(
                    format!("QUERY_{}", k.replace('-', "_").to_ascii_uppercase()),
                    v,
                );
            }
        }
        for (k, v) in h.env.0.iter() {
            params.set(k.clone(), v.clone());
        }
        params.1.clone_from(&h.env.1);
        params.set("REMOTE_ADDR".into(), h.remote_addr.clone().into_bytes());
        let tag = tag_of(uri.path());
        let r = match events(&self.recipe, &params) {
            Err(e) => {
                let n = self.stats.bad_requests.fetch_add(1, Ordering::Relaxed);
                if self.dump_error_log && (n < 10 || n.is_power_of_two()) {
                    self.log.error(format_args!(
                        "failed to process request from {peer} (bad requests so far: {}): {e}",
                        n + 1
                    ));
                }
                respond(
                    StatusCode::BAD_REQUEST,
                    format!("400 Bad Request\n{e}\n"),
                    false,
                )
            }
            Ok(None) => self.ok(),
            Ok(Some(batch)) => {
                let n = batch.len() as u64;
                match self.emitter.emit(&tag, batch).await {
                    Ok(()) => {
                        self.stats.events.fetch_add(n, Ordering::Relaxed);
                        self.ok()
                    }
                    Err(e) => {
                        self.stats.emit_errors.fetch_add(1, Ordering::Relaxed);
                        if self.dump_error_log {
                            self.log.error(format_args!("failed to emit data: {e}"));
                        }
                        respond(
                            StatusCode::INTERNAL_SERVER_ERROR,
                            format!("500 Internal Server Error\n{e}\n"),
                            false,
                        )
                    }
                }
            }
        };
        self.finish(&h, r)
    }

    fn ok(&self) -> Resp {
        if self.empty_img {
            let mut r = respond(StatusCode::OK, EMPTY_GIF, false);
            set(&mut r, "content-type", "image/gif; charset=utf-8");
            r
        } else if self.use_204 {
            respond(StatusCode::NO_CONTENT, "", false)
        } else {
            respond(StatusCode::OK, "", false)
        }
    }

    /// The CORS and keep-alive headers of an answer to a POST.
    fn finish(&self, h: &Head, mut r: Resp) -> Resp {
        if let Some(cors) = &self.cors {
            if cors.any() {
                set(&mut r, "access-control-allow-origin", "*");
            } else if cors.allows(h.origin.as_deref()) {
                set(
                    &mut r,
                    "access-control-allow-origin",
                    h.origin.as_deref().unwrap_or(""),
                );
                if cors.credentials {
                    set(&mut r, "access-control-allow-credentials", "true");
                }
            }
        }
        if h.keep_alive {
            set(&mut r, "connection", "Keep-Alive");
        } else {
            set(&mut r, "connection", "close");
        }
        r
    }

    /// Whether a body the request has no use for is longer than `body_size_limit`; what is
    /// read is dropped (a read that fails or stalls ends it: not over).
    async fn body_over_limit(&self, mut body: Incoming) -> bool {
        let mut n = 0usize;
        loop {
            match tokio::time::timeout(self.idle, body.frame()).await {
                Ok(Some(Ok(f))) => {
                    if let Ok(data) = f.into_data() {
                        n += data.len();
                        if n > self.body_limit {
                            return true;
                        }
                    }
                }
                _ => return false,
            }
        }
    }

    async fn read_body(&self, mut body: Incoming) -> Result<Bytes, BodyError> {
        let mut buf: Vec<u8> = Vec::new();
        loop {
            let frame = match tokio::time::timeout(self.idle, body.frame()).await {
                Err(_) => return Err(BodyError::Io("the client stopped sending the body".into())),
                Ok(None) => break,
                Ok(Some(Err(e))) => return Err(BodyError::Io(e.to_string())),
                Ok(Some(Ok(f))) => f,
            };
            if let Ok(data) = frame.into_data() {
                if buf.len() + data.len() > self.body_limit {
                    return Err(BodyError::TooLarge);
                }
                buf.extend_from_slice(&data);
            }
        }
        Ok(Bytes::from(buf))
    }

    /// `Content-Encoding: gzip` or `deflate`, inflated to at most `body_size_limit` bytes.
    fn decode(&self, encoding: &str, body: Bytes) -> Result<Bytes, BodyError> {
        use std::io::Read;
        let limit = self.body_limit as u64;
        let mut out = Vec::new();
        let r = match encoding {
            "gzip" => flate2::read::MultiGzDecoder::new(&body[..])
                .take(limit + 1)
                .read_to_end(&mut out),
            "deflate" => flate2::read::ZlibDecoder::new(&body[..])
                .take(limit + 1)
                .read_to_end(&mut out),
            _ => return Ok(body),
        };
        r.map_err(|e| BodyError::Io(e.to_string()))?;
        if out.len() as u64 > limit {
            return Err(BodyError::TooLarge);
        }
        Ok(Bytes::from(out))
    }
}

enum BodyError {
    TooLarge,
    Io(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_headers_stay_with_the_connection() {
        let mut c = ConnCors::default();
        let mut first = Head {
            origin: Some("http://a.example".into()),
            request_method: Some("POST".into()),
            ..Head::default()
        };
        c.carry(&mut first);
        let mut second = Head::default();
        c.carry(&mut second);
        assert_eq!(second.origin.as_deref(), Some("http://a.example"));
        assert_eq!(second.request_method.as_deref(), Some("POST"));
        assert_eq!(second.request_headers, None);
        let mut third = Head {
            origin: Some("http://b.example".into()),
            ..Head::default()
        };
        c.carry(&mut third);
        assert_eq!(third.origin.as_deref(), Some("http://b.example"));
        let mut fourth = Head::default();
        c.carry(&mut fourth);
        assert_eq!(fourth.origin.as_deref(), Some("http://b.example"));
    }

    #[test]
    fn origins_as_fluentd() {
        let c = Cors {
            origins: vec!["http://ok.example".into(), "https://*.wild.example".into()],
            credentials: true,
        };
        assert!(c.allows(Some("http://ok.example")));
        assert!(c.allows(Some("https://a.wild.example")));
        assert!(!c.allows(Some("http://evil.example")));
        assert!(!c.allows(None));
        assert!(!c.any());
    }
}
