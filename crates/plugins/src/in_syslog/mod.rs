//! `syslog` input, as Fluentd's in_syslog: RFC 3164 and RFC 5424 messages over UDP (the
//! default), TCP or TLS (`<transport udp|tcp|tls>`), framed by newlines (`frame_type
//! traditional`, `delimiter`) or by octet counting (`frame_type octet_count`, RFC 6587).
//! Each event is tagged `TAG.FACILITY.SEVERITY` (`sys.local3.warn`), with Fluentd's names.
//!
//! Parameters: `tag` (required), `port` (5140), `bind`, `<transport>`, `protocol_type`
//! (deprecated form of `<transport>`), `frame_type`, `delimiter`, `message_length_limit`
//! (2048; UDP, as Fluentd; a longer datagram is cut to it and counted), `<parse>` (default
//! `@type syslog` with `with_priority true`: see [`crate::parser::syslog`]; another parser gets
//! the message without its `<PRI>`), `severity_key` (`priority_key`, deprecated),
//! `facility_key`, `source_address_key`, `source_hostname_key`, `resolve_hostname`,
//! `include_source_host` + `source_host_key` (deprecated form of `source_address_key`),
//! `emit_unmatched_lines` (a message that does not parse is emitted as `{"unmatched_line":
//! ...}` with tag `TAG.unmatched`), `send_keepalive_packet` (TCP), `backlog`.
//! `blocking_timeout` tunes Fluentd's Ruby event loop and has no effect here.
//!
//! Over TCP a message is bounded by 8 MiB (Fluentd: unbounded); a longer one is dropped and
//! counted. A connection whose octet counting breaks is closed, counted and logged once. A
//! message that does not parse is logged (first per connection or socket) and counted.
//! Differences from Fluentd, both keeping data Fluentd drops: over TCP with newline framing the
//! last message of a connection closed without a final newline is emitted; with a parser other
//! than `syslog` the whole message after `<PRI>` is parsed (Fluentd keeps its first line).

mod handler;

use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use logferry_core::error::build_error;
use logferry_core::{BuildCtx, BuildError, Input, InputContext, PluginLog, Section};
use tokio::task::JoinHandle;

use crate::in_tcp::{message_limit, Listen, HARD_LIMIT};
use crate::net::accept::{serve, MAX_CONNECTIONS};
use crate::net::datagram::{bind, receive};
use crate::net::framing::{Framer, Framing};
use crate::net::peer::{name_for, SourceKeys};
use crate::net::stream::{serve_text, Conn, TextStats};
use crate::parser::Parser;

pub use handler::{facility_name, severity_name};
use handler::{Handler, Sink};

/// What the input reads from its section.
pub struct Config {
    listen: Listen,
    protocol: String,
    tag: String,
    /// `TAG.FACILITY.SEVERITY`, made once (see [`handler::all_tags`]).
    tags: Vec<String>,
    framing: Framing,
    udp_limit: usize,
    severity_key: Option<String>,
    facility_key: Option<String>,
    keys: SourceKeys,
    emit_unmatched: bool,
    parser: Box<dyn Parser>,
    parses_priority: bool,
}

/// The syslog input.
pub struct SyslogInput {
    cfg: Config,
    log: PluginLog,
    stats: Arc<TextStats>,
}

/// Build from `<source>`.
pub fn build(ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Input>, BuildError> {
    let cfg = config(s)?;
    if cfg.protocol != "udp" && s.has("message_length_limit") {
        ctx.log.warn(format_args!(
            "{}: message_length_limit applies to UDP only (as in Fluentd); over {} a message is bounded by {HARD_LIMIT} bytes",
            s.pos(),
            cfg.protocol
        ));
    }
    if s.has("priority_key") {
        ctx.log.warn(format_args!(
            "priority_key is deprecated. Use severity_key instead"
        ));
    }
    let stats = Arc::new(TextStats::default());
    ctx.metrics.attach(&ctx.plugin_id, stats.clone());
    Ok(Arc::new(SyslogInput {
        cfg,
        log: ctx.log.clone(),
        stats,
    }))
}

fn config(s: &Section) -> Result<Config, BuildError> {
    let tag = s.required("tag")?.to_string();
    let (listen, mut protocol) = Listen::from_section(s, 5140, &["udp", "tcp", "tls"], "udp")?;
    if let Some(p) = s.param("protocol_type") {
        match p.value.as_str() {
            "udp" | "tcp" => protocol = p.value.clone(),
            other => {
                return Err(build_error(
                    &p.pos,
                    format!("protocol_type {other}: expected udp or tcp"),
                ))
            }
        }
    }
    if protocol == "udp" && listen.keepalive {
        return Err(build_error(
            s.pos(),
            "send_keepalive_packet is available for tcp/tls",
        ));
    }
    let frame = s.choice("frame_type", &["traditional", "octet_count"], "traditional")?;
    let delimiter = s.string("delimiter", "\n").into_bytes();
    if delimiter.is_empty() {
        return Err(build_error(
            s.pos(),
            "delimiter: expected a non-empty string",
        ));
    }
    let framing = if frame == "octet_count" {
        Framing::OctetCounted
    } else {
        Framing::Delimited(delimiter)
    };
    let udp_limit = message_limit(s, Some(2048))?;
    if udp_limit > 65535 && protocol == "udp" {
        return Err(build_error(
            s.pos(),
            format!("message_length_limit {udp_limit}: a UDP datagram holds at most 65535 bytes"),
        ));
    }
    let severity_key = match s.non_empty("severity_key")? {
        Some(k) => Some(k.to_string()),
        None => s.non_empty("priority_key")?.map(str::to_string),
    };
    let mut keys = SourceKeys {
        address: s.non_empty("source_address_key")?.map(str::to_string),
        hostname: s.non_empty("source_hostname_key")?.map(str::to_string),
    };
    let host_key = s.string("source_host_key", "source_host");
    if s.bool("include_source_host", false)? {
        if keys.address.is_some() {
            return Err(build_error(
                s.pos(),
                "specify either source_address_key or include_source_host",
            ));
        }
        keys.address = Some(host_key);
    }
    if let Some(p) = s.param("resolve_hostname") {
        let v = logferry_config::types::bool(&p.value).ok_or_else(|| {
            build_error(
                &p.pos,
                format!(
                    "resolve_hostname: expected true or false, got '{}'",
                    p.value
                ),
            )
        })?;
        if !v && keys.hostname.is_some() {
            return Err(build_error(
                &p.pos,
                "resolve_hostname must be true with source_hostname_key",
            ));
        }
    }
    // Fluentd's in_syslog: `<parse>` defaults to `@type syslog` with `with_priority true`.
    let parse = s.section("parse")?;
    let ty = match &parse {
        Some(p) => p.str("@type").or_else(|| p.str("type")).unwrap_or("syslog"),
        None => s.str("format").unwrap_or("syslog"),
    }
    .to_string();
    // (An invalid value is reported by the parser's own read below.)
    let with_priority = match &parse {
        Some(p) => p.param("with_priority"),
        None => s.param("with_priority"),
    }
    .is_none_or(|v| logferry_config::types::bool(&v.value).unwrap_or(true));
    let parser = crate::parser::from_plugin_with(s, Some("syslog"), &[("with_priority", "true")])?;
    Ok(Config {
        listen,
        protocol,
        tags: handler::all_tags(&tag),
        tag,
        framing,
        udp_limit,
        severity_key,
        facility_key: s.non_empty("facility_key")?.map(str::to_string),
        keys,
        emit_unmatched: s.bool("emit_unmatched_lines", false)?,
        parser,
        parses_priority: ty == "syslog" && with_priority,
    })
}

impl SyslogInput {
    /// The input's counters.
    pub fn stats(&self) -> &Arc<TextStats> {
        &self.stats
    }

    async fn connection(
        self: Arc<Self>,
        stream: tokio::net::TcpStream,
        peer: SocketAddr,
        ctx: (logferry_core::Emitter, tokio::sync::watch::Receiver<bool>),
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) {
        let (emitter, shutdown) = ctx;
        self.stats
            .connections
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.cfg.listen.prepare(&stream);
        let name = name_for(&self.cfg.keys, peer).await;
        let mut sink = Sink::new(Handler::new(&self.cfg, &self.log, &self.stats, emitter));
        sink.peer = Some((peer, name));
        let framer = Framer::new(self.cfg.framing.clone(), HARD_LIMIT);
        let conn = Conn {
            peer,
            stats: &self.stats,
            log: &self.log,
            shutdown,
            limit_name: "the 8 MiB message limit",
        };
        serve_text(stream, tls.as_ref(), framer, &mut sink, conn).await;
    }
}

#[async_trait]
impl Input for SyslogInput {
    async fn start(self: Arc<Self>, ctx: InputContext) -> Result<JoinHandle<()>, String> {
        let addr = self.cfg.listen.addr()?;
        let proto = self.cfg.protocol.clone();
        let this = self.clone();
        if proto == "udp" {
            let sock = bind(addr, None).map_err(|e| format!("cannot bind udp {addr}: {e}"))?;
            let local = sock.local_addr().map_err(|e| e.to_string())?;
            self.log
                .info(format_args!("listening syslog socket on {local} with udp"));
            return Ok(tokio::spawn(async move {
                let mut sink = handler::DatagramSink::new(Handler::new(
                    &this.cfg,
                    &this.log,
                    &this.stats,
                    ctx.emitter.clone(),
                ));
                receive(
                    sock,
                    this.cfg.udp_limit,
                    &mut sink,
                    ctx.shutdown.clone(),
                    &this.stats,
                    &this.log,
                )
                .await;
                this.log.info(format_args!("stopped listening on {local}"));
            }));
        }
        let (listener, local, tls) = self.cfg.listen.bind()?;
        self.log.info(format_args!(
            "listening syslog socket on {local} with {proto}"
        ));
        Ok(tokio::spawn(async move {
            let handle = |stream, peer| {
                this.clone().connection(
                    stream,
                    peer,
                    (ctx.emitter.clone(), ctx.shutdown.clone()),
                    tls.clone(),
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
