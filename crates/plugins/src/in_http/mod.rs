//! `http` input, as Fluentd's in_http: events POSTed to `http://HOST:9880/TAG`.
//!
//! Bodies: `application/json` (an object, or an array of objects as one batch),
//! `application/x-ndjson`, `application/msgpack`, and forms (`json=` or `msgpack=` fields,
//! urlencoded or `multipart/form-data`); with a `<parse>` of another type the body is that
//! parser's text. The tag is the
//! path (`/a/b` → `a.b`); the time is `?time=` (epoch seconds), else the record's `time` field
//! (removed unless `keep_time_key`), else now. Answers as Fluentd: 200 with an empty body (or
//! 204 with `use_204_response`, or a GIF with `respond_with_empty_img`), 400 with the reason
//! for a bad body, 413 `Too large` beyond `body_size_limit` (whatever the method), 403 for a
//! CORS origin not allowed, 500 when the events cannot be emitted, 200 for GET, preflight
//! answers to OPTIONS; a `null` body is answered as a good one and emits nothing. As in
//! Fluentd, `Origin` and `Access-Control-Request-*` hold for the connection's later requests
//! that do not give them (`X-Forwarded-For` does not: README).
//!
//! Parameters: `port` (9880), `bind`, `body_size_limit` (32m), `keepalive_timeout` (10s: an
//! idle keep-alive connection is closed), `backlog`, `add_http_headers` (`HTTP_*` fields),
//! `add_query_params` (`QUERY_*`), `add_remote_addr` (`REMOTE_ADDR`, from `X-Forwarded-For`
//! when present), `cors_allow_origins`, `cors_allow_credentials`, `respond_with_empty_img`,
//! `use_204_response`, `dump_error_log`, `<parse>` (`in_http` with `time_key`,
//! `keep_time_key`, and `time_type`/`time_format`/`localtime`/`utc`/`timezone`/
//! `time_format_fallbacks` to read the time field otherwise than as epoch seconds; or any parser), `<transport tls>` (as in_forward), `linger_timeout` in
//! `<transport>`, `send_keepalive_packet` (logferry; TCP keepalive probes). `blocking_timeout`
//! tunes Fluentd's Ruby event loop and has no effect here.
//!
//! Bounded: at most [`crate::net::accept::MAX_CONNECTIONS`] connections; request bodies held
//! in memory at once are limited to four times `body_size_limit` (at least 64 MiB) in total —
//! further requests wait, which slows their clients; the answer is sent after the router took
//! the events (a full buffer delays it: backpressure).
//!
//! Differences from Fluentd, where it answers 200 and drops the events: a body that is not
//! valid JSON or msgpack is answered 400 with the reason; a record that is not an object is
//! answered 400. A gzip or deflate body is inflated to at most `body_size_limit` (413 beyond).

mod events;
mod params;
mod request;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hyper_util::rt::{TokioIo, TokioTimer};
use logferry_core::error::build_error;
use logferry_core::{BuildCtx, BuildError, Input, InputContext, PluginLog, Section};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

use crate::in_tcp::Listen;
use crate::net::accept::{serve, MAX_CONNECTIONS};
use crate::net::stream::tls_handshake;
use logferry_formats::parser::field_time::FieldTime;
use logferry_formats::parser::params::IN_HTTP as IN_HTTP_PARSER;

pub use events::Recipe;
use request::Server;
pub use request::{Cors, HttpStats};

/// The http input.
pub struct HttpInput {
    listen: Listen,
    settings: Settings,
    log: PluginLog,
    stats: Arc<HttpStats>,
}

struct Settings {
    recipe: Arc<Recipe>,
    body_limit: usize,
    keepalive: Duration,
    cors: Option<Cors>,
    empty_img: bool,
    use_204: bool,
    dump_error_log: bool,
}

/// Build from `<source>`.
pub fn build(ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Input>, BuildError> {
    let (listen, _) = Listen::from_section(s, 9880, &["tcp", "tls"], "tcp")?;
    let body_limit = s.size("body_size_limit", 32 * 1024 * 1024);
    if body_limit == 0 || body_limit > u64::from(u32::MAX) {
        return Err(build_error(
            s.pos(),
            format!("body_size_limit {body_limit}: expected a size between 1 and 4g"),
        ));
    }
    let keepalive = s.time("keepalive_timeout", 10.0);
    if !(keepalive > 0.0 && keepalive.is_finite()) {
        return Err(build_error(
            s.pos(),
            "keepalive_timeout: expected a positive time",
        ));
    }
    let cors = match s.array("cors_allow_origins")? {
        Some(origins) => Some(Cors {
            origins,
            credentials: s.bool("cors_allow_credentials", false)?,
        }),
        None => None,
    };
    if s.bool("cors_allow_credentials", false)?
        && cors
            .as_ref()
            .is_none_or(|c| c.origins.iter().any(|o| o == "*"))
    {
        return Err(build_error(
            s.pos(),
            "Cannot enable cors_allow_credentials without specific origins",
        ));
    }
    let recipe = recipe(s)?;
    let stats = Arc::new(HttpStats::default());
    ctx.metrics.attach(&ctx.plugin_id, stats.clone());
    Ok(Arc::new(HttpInput {
        listen,
        settings: Settings {
            recipe: Arc::new(recipe),
            body_limit: body_limit as usize,
            keepalive: Duration::from_secs_f64(keepalive),
            cors,
            empty_img: s.bool("respond_with_empty_img", false)?,
            use_204: s.bool("use_204_response", false)?,
            dump_error_log: s.bool("dump_error_log", true)?,
        },
        log: ctx.log.clone(),
        stats,
    }))
}

fn recipe(s: &Section) -> Result<Recipe, BuildError> {
    let mut r = Recipe {
        custom: None,
        time_key: "time".into(),
        keep_time_key: false,
        time_parser: None,
        add_http_headers: s.bool("add_http_headers", false)?,
        add_query_params: s.bool("add_query_params", false)?,
        add_remote_addr: s.bool("add_remote_addr", false)?,
    };
    let parse = s.section("parse")?;
    let ty = match &parse {
        Some(p) => p
            .str("@type")
            .or_else(|| p.str("type"))
            .unwrap_or("in_http"),
        None => s.str("format").unwrap_or("in_http"),
    };
    if ty == "in_http" {
        // Without a <parse> section, Fluentd's compat layer makes one of the flat v0.12
        // parameters (`time_key`, `keep_time_key`, `time_format` …): read them there.
        let p = parse.as_ref().unwrap_or(s).declared(&IN_HTTP_PARSER);
        if let Some(k) = p.non_empty("time_key")? {
            r.time_key = k.to_string();
        }
        r.keep_time_key = p.get("keep_time_key")?;
        // Fluentd: with time_type or time_format, the time field is read by them.
        if p.has("time_type") || p.has("time_format") {
            r.time_parser = Some(FieldTime::from_section(&p, &IN_HTTP_PARSER)?);
        }
    } else {
        let parser = crate::parser::from_plugin(s, None)?;
        r.custom = Some((Arc::from(parser), ty.to_string()));
    }
    Ok(r)
}

impl HttpInput {
    /// The input's counters.
    pub fn stats(&self) -> &Arc<HttpStats> {
        &self.stats
    }
}

async fn connection(
    server: Arc<Server>,
    listen: Arc<Listen>,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    listen.prepare(&stream);
    match tls {
        None => serve_http(server, TokioIo::new(stream), peer, shutdown).await,
        Some(acc) => {
            if let Some(s) = tls_handshake(stream, &acc, &server.log, peer).await {
                serve_http(server, TokioIo::new(s), peer, shutdown).await
            }
        }
    }
}

async fn serve_http<I>(
    server: Arc<Server>,
    io: I,
    peer: SocketAddr,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let idle = server.idle;
    let (log, stats) = (server.log.clone(), server.stats.clone());
    let cors = Arc::new(std::sync::Mutex::new(request::ConnCors::default()));
    let svc = hyper::service::service_fn(move |req| server.clone().handle(peer, req, cors.clone()));
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(idle)
        .keep_alive(true)
        .serve_connection(io, svc);
    tokio::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        _ = shutdown.changed() => {
            // Finish the request in progress, then close.
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    match result {
        Err(e) if e.is_parse() || e.is_parse_too_large() => {
            let n = stats.malformed.fetch_add(1, Ordering::Relaxed);
            if n == 0 || (n + 1).is_power_of_two() {
                log.warn(format_args!(
                    "closed a connection from {peer} that did not speak HTTP/1: {e} (malformed connections so far: {})",
                    n + 1
                ));
            }
        }
        Err(e) => log.debug(format_args!("connection from {peer} ended: {e}")),
        Ok(()) => {}
    }
}

#[async_trait]
impl Input for HttpInput {
    async fn start(self: Arc<Self>, ctx: InputContext) -> Result<JoinHandle<()>, String> {
        let (listener, local, tls) = self.listen.bind()?;
        let st = &self.settings;
        let budget = (st.body_limit.saturating_mul(4)).max(64 * 1024 * 1024);
        let server = Arc::new(Server {
            recipe: st.recipe.clone(),
            body_limit: st.body_limit,
            budget: Arc::new(Semaphore::new(budget.min(Semaphore::MAX_PERMITS))),
            idle: st.keepalive,
            cors: st.cors.clone(),
            empty_img: st.empty_img,
            use_204: st.use_204,
            dump_error_log: st.dump_error_log,
            emitter: ctx.emitter.clone(),
            log: self.log.clone(),
            stats: self.stats.clone(),
        });
        self.log.info(format_args!(
            "listening http on {local}{}",
            if tls.is_some() { " (tls)" } else { "" }
        ));
        let log = self.log.clone();
        let listen = Arc::new(self.listen.clone());
        Ok(tokio::spawn(async move {
            let handle = |stream, peer| {
                connection(
                    server.clone(),
                    listen.clone(),
                    stream,
                    peer,
                    tls.clone(),
                    ctx.shutdown.clone(),
                )
            };
            serve(
                listener,
                ctx.shutdown.clone(),
                MAX_CONNECTIONS,
                &log,
                handle,
                || {},
            )
            .await;
            log.info(format_args!("stopped listening on {local}"));
        }))
    }
}
