//! `tcp` input, as Fluentd's in_tcp: text lines (or messages ended by `delimiter`) over TCP or
//! `<transport tls>`, each parsed by `<parse>` into a record emitted with `tag`.
//!
//! Parameters: `tag` (required), `port` (5170), `bind` (0.0.0.0), `<parse>` (required; or the
//! v0.12 flat `format`), `delimiter` ("\n"), `message_length_limit` (a longer message is dropped
//! and counted, as Fluentd; unset, logferry still bounds a message to 8 MiB), `source_address_key`,
//! `source_hostname_key` (`source_host_key`), `send_keepalive_packet`, `backlog`,
//! `<security>` with `<client>` `host`/`network` (other peers are disconnected), `<transport
//! tls>` (as in_forward), `<extract>` (`tag_key`, `keep_tag_key`, `time_key`, `keep_time_key`,
//! `time_type`, `time_format`, `localtime`, `utc`, `timezone`: each event's tag from a record
//! field; its time from one when the parser gave none). `blocking_timeout` tunes Fluentd's Ruby
//! event loop and has no counterpart here: it is accepted and has no effect.
//!
//! Events of one read are emitted together, and the next read waits for the router: a full
//! buffer slows the client through TCP. A line the parser does not match is logged (first per
//! connection) and counted. Difference from Fluentd: the last message of a connection that
//! closes without a final delimiter is emitted (Fluentd drops it).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use logferry_core::error::{build_error, EmitError};
use logferry_core::{BuildCtx, BuildError, Emitter, Input, InputContext, PluginLog, Section};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::net::accept::{resolve, serve, tcp_listener, MAX_CONNECTIONS};
use crate::net::framing::{Framer, Framing};
use crate::net::peer::{name_for, AllowList, SourceKeys};
use crate::net::stream::{serve_text, Conn, MessageSink, TextStats};
use crate::net::text::TextEvents;
use crate::net::tls::TlsConfig;
use crate::parser::Parser;
use logferry_formats::extract::Extract;

/// A message is never longer than this, whatever the config says (memory stays bounded).
pub const HARD_LIMIT: usize = 8 * 1024 * 1024;

/// What TCP-based text inputs read from their section besides the framing.
#[derive(Clone, Debug)]
pub struct Listen {
    /// `bind`
    pub bind: String,
    /// `port`
    pub port: u16,
    /// `backlog`
    pub backlog: Option<i32>,
    /// `send_keepalive_packet`
    pub keepalive: bool,
    /// `linger_timeout` of `<transport>`: SO_LINGER on accepted connections.
    pub linger: Option<Duration>,
    /// `<transport tls>`
    pub tls: Option<TlsConfig>,
}

impl Listen {
    /// Read `port` (default `default_port`), `bind`, `backlog`, `blocking_timeout`,
    /// `send_keepalive_packet` and `<transport>` (one of `protocols`, else `default_protocol`,
    /// with `linger_timeout` and the TLS settings); returns the protocol too.
    pub fn from_section(
        s: &Section,
        default_port: u16,
        protocols: &[&str],
        default_protocol: &str,
    ) -> Result<(Self, String), BuildError> {
        let port = s.integer("port", i64::from(default_port));
        let port = u16::try_from(port)
            .map_err(|_| build_error(s.pos(), format!("port {port} is out of range")))?;
        let backlog = match s.param("backlog") {
            Some(p) => Some(
                logferry_config::types::integer(&p.value)
                    .try_into()
                    .ok()
                    .filter(|b: &i32| *b > 0)
                    .ok_or_else(|| {
                        build_error(
                            &p.pos,
                            format!("backlog {}: expected a positive integer", p.value),
                        )
                    })?,
            ),
            None => None,
        };
        let blocking = s.time("blocking_timeout", 0.5);
        if blocking <= 0.0 {
            return Err(build_error(
                s.pos(),
                "blocking_timeout: expected a positive time",
            ));
        }
        let mut protocol = default_protocol.to_string();
        let mut tls = None;
        let mut linger = None;
        if let Some(t) = s.section("transport")? {
            let arg = t.arg().trim();
            protocol = if arg.is_empty() {
                "tcp".into()
            } else {
                arg.to_string()
            };
            if !protocols.contains(&protocol.as_str()) {
                return Err(build_error(
                    t.pos(),
                    format!(
                        "<transport {protocol}>: expected {}",
                        protocols.join(" or ")
                    ),
                ));
            }
            linger = t.opt_size("linger_timeout").map(Duration::from_secs);
            if protocol == "tls" {
                tls = Some(crate::net::tls::config(&t)?);
            }
        }
        Ok((
            Listen {
                bind: s.string("bind", "0.0.0.0"),
                port,
                backlog,
                keepalive: s.bool("send_keepalive_packet", false)?,
                linger,
                tls,
            },
            protocol,
        ))
    }

    /// The address to listen on.
    pub fn addr(&self) -> Result<SocketAddr, String> {
        resolve(&self.bind, self.port).map_err(|e| format!("bind {}: {e}", self.bind))
    }

    /// Listen (and build the TLS acceptor of `<transport tls>`): the listener, its address.
    pub fn bind(
        &self,
    ) -> Result<(tokio::net::TcpListener, SocketAddr, Option<TlsAcceptor>), String> {
        let addr = self.addr()?;
        let listener = tcp_listener(addr, self.backlog)
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        let tls = match &self.tls {
            Some(t) => Some(crate::net::tls::acceptor(t).map_err(|e| format!("TLS: {e}"))?),
            None => None,
        };
        Ok((listener, local, tls))
    }

    /// Set up a freshly accepted connection (keepalive probes, linger, when asked for).
    pub fn prepare(&self, stream: &tokio::net::TcpStream) {
        if let Some(l) = self.linger {
            let _ = socket2::SockRef::from(stream).set_linger(Some(l));
        }
        if self.keepalive {
            let ka = socket2::TcpKeepalive::new()
                .with_time(crate::in_forward::KEEPALIVE_IDLE)
                .with_interval(crate::in_forward::KEEPALIVE_INTERVAL);
            let _ = socket2::SockRef::from(stream).set_tcp_keepalive(&ka);
        }
    }
}

/// The tcp input.
pub struct TcpInput {
    listen: Listen,
    tag: String,
    delimiter: Vec<u8>,
    limit: usize,
    keys: SourceKeys,
    allow: Option<AllowList>,
    parser: Arc<dyn Parser>,
    extract: Option<Extract>,
    log: PluginLog,
    stats: Arc<TextStats>,
}

/// Build from `<source>`.
pub fn build(ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Input>, BuildError> {
    let tag = s.required("tag")?.to_string();
    let (listen, _) = Listen::from_section(s, 5170, &["tcp", "tls"], "tcp")?;
    let delimiter = s.string("delimiter", "\n").into_bytes();
    if delimiter.is_empty() {
        return Err(build_error(
            s.pos(),
            "delimiter: expected a non-empty string",
        ));
    }
    let limit = message_limit(s, None)?;
    if s.section("parse")?.is_none() && s.param("format").is_none() {
        return Err(build_error(s.pos(), "<parse> section is required."));
    }
    let parser: Arc<dyn Parser> = Arc::from(crate::parser::from_plugin(s, None)?);
    let extract = crate::net::text::extract(s, &ctx.log)?;
    let stats = Arc::new(TextStats::default());
    ctx.metrics.attach(&ctx.plugin_id, stats.clone());
    Ok(Arc::new(TcpInput {
        listen,
        tag,
        delimiter,
        limit,
        keys: SourceKeys::from_section(s)?,
        allow: AllowList::from_section(s)?,
        parser,
        extract,
        log: ctx.log.clone(),
        stats,
    }))
}

/// `message_length_limit` (a size), at most [`HARD_LIMIT`]; `default` when absent (`None`:
/// the hard limit).
pub fn message_limit(s: &Section, default: Option<u64>) -> Result<usize, BuildError> {
    let limit = s.opt_size("message_length_limit").or(default);
    match limit {
        Some(0) => Err(build_error(
            s.pos(),
            "message_length_limit: expected a positive size",
        )),
        Some(l) if l > HARD_LIMIT as u64 => Err(build_error(
            s.pos(),
            format!("message_length_limit {l}: logferry allows at most {HARD_LIMIT} bytes (8m)"),
        )),
        Some(l) => Ok(l as usize),
        None => Ok(HARD_LIMIT),
    }
}

impl TcpInput {
    /// The input's counters.
    pub fn stats(&self) -> &Arc<TextStats> {
        &self.stats
    }

    async fn connection(
        self: Arc<Self>,
        stream: tokio::net::TcpStream,
        peer: SocketAddr,
        emitter: Emitter,
        tls: Option<TlsAcceptor>,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        self.stats.connections.fetch_add(1, Ordering::Relaxed);
        if let Some(allow) = &self.allow {
            if !allow.allows(peer.ip()) {
                self.log
                    .warn(format_args!("anonymous client '{}' denied", peer.ip()));
                return;
            }
        }
        self.listen.prepare(&stream);
        let mut sink = TcpSink {
            events: TextEvents::new(
                &*self.parser,
                &self.keys,
                self.extract.as_ref(),
                &self.stats,
                &self.log,
            ),
            emitter,
            tag: &self.tag,
            ip: peer.ip(),
            name: name_for(&self.keys, peer).await,
        };
        let framer = Framer::new(Framing::Delimited(self.delimiter.clone()), self.limit);
        let conn = Conn {
            peer,
            stats: &self.stats,
            log: &self.log,
            shutdown,
            limit_name: "message_length_limit",
        };
        serve_text(stream, tls.as_ref(), framer, &mut sink, conn).await;
    }
}

struct TcpSink<'a> {
    events: TextEvents<'a>,
    emitter: Emitter,
    tag: &'a str,
    ip: IpAddr,
    name: Option<String>,
}

impl MessageSink for TcpSink<'_> {
    fn message(&mut self, msg: &[u8]) {
        self.events.add(msg, self.ip, self.name.as_deref());
    }

    async fn flush(&mut self) -> Result<(), EmitError> {
        self.events.emit(&self.emitter, self.tag).await
    }
}

#[async_trait]
impl Input for TcpInput {
    async fn start(self: Arc<Self>, ctx: InputContext) -> Result<JoinHandle<()>, String> {
        let (listener, local, tls) = self.listen.bind()?;
        self.log.info(format_args!(
            "listening tcp socket on {local}{}",
            if tls.is_some() { " (tls)" } else { "" }
        ));
        let this = self.clone();
        Ok(tokio::spawn(async move {
            let handle = |stream, peer| {
                this.clone().connection(
                    stream,
                    peer,
                    ctx.emitter.clone(),
                    tls.clone(),
                    ctx.shutdown.clone(),
                )
            };
            serve(
                listener,
                ctx.shutdown.clone(),
                MAX_CONNECTIONS,
                &this.log,
                handle,
                || {},
            )
            .await;
            this.log.info(format_args!("stopped listening on {local}"));
        }))
    }
}
