//! `udp` input, as Fluentd's in_udp: each datagram is one message, parsed by `<parse>` into a
//! record emitted with `tag`.
//!
//! Parameters: `tag` (required), `port` (5160), `bind` (0.0.0.0), `<parse>` (required; or the
//! v0.12 flat `format`), `message_length_limit` (4096; `body_size_limit` is its deprecated
//! name; a longer datagram is cut to it, as in Fluentd, and counted), `remove_newline` (true:
//! one trailing newline is removed), `receive_buffer_size` (SO_RCVBUF), `source_address_key`,
//! `source_hostname_key` (`source_host_key`; names are looked up once per address), `<extract>`
//! (as in the tcp input). `blocking_timeout` tunes Fluentd's Ruby event loop and has no effect
//! here.

use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use logferry_core::error::{build_error, EmitError};
use logferry_core::{BuildCtx, BuildError, Emitter, Input, InputContext, PluginLog, Section};
use tokio::task::JoinHandle;

use crate::in_tcp::message_limit;
use crate::net::accept::resolve;
use crate::net::datagram::{bind, receive, DatagramSink};
use crate::net::peer::{NameCache, SourceKeys};
use crate::net::stream::TextStats;
use crate::net::text::TextEvents;
use crate::parser::Parser;
use logferry_formats::extract::Extract;

/// The udp input.
pub struct UdpInput {
    bind: String,
    port: u16,
    tag: String,
    limit: usize,
    remove_newline: bool,
    receive_buffer: Option<usize>,
    keys: SourceKeys,
    parser: Arc<dyn Parser>,
    extract: Option<Extract>,
    log: PluginLog,
    stats: Arc<TextStats>,
}

/// Build from `<source>`.
pub fn build(ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Input>, BuildError> {
    let tag = s.required("tag")?.to_string();
    let port = s.integer("port", 5160);
    let port = u16::try_from(port)
        .map_err(|_| build_error(s.pos(), format!("port {port} is out of range")))?;
    if s.time("blocking_timeout", 0.5) <= 0.0 {
        return Err(build_error(
            s.pos(),
            "blocking_timeout: expected a positive time",
        ));
    }
    let limit = match s.opt_size("body_size_limit") {
        Some(l) => message_limit(s, Some(l))?,
        None => message_limit(s, Some(4096))?,
    };
    if limit > 65535 {
        return Err(build_error(
            s.pos(),
            format!("message_length_limit {limit}: a UDP datagram holds at most 65535 bytes"),
        ));
    }
    if s.section("parse")?.is_none() && s.param("format").is_none() {
        return Err(build_error(s.pos(), "<parse> section is required."));
    }
    let parser: Arc<dyn Parser> = Arc::from(crate::parser::from_plugin(s, None)?);
    let extract = crate::net::text::extract(s, &ctx.log)?;
    let stats = Arc::new(TextStats::default());
    ctx.metrics.attach(&ctx.plugin_id, stats.clone());
    Ok(Arc::new(UdpInput {
        bind: s.string("bind", "0.0.0.0"),
        port,
        tag,
        limit,
        remove_newline: s.bool("remove_newline", true)?,
        receive_buffer: s.opt_size("receive_buffer_size").map(|v| v as usize),
        keys: SourceKeys::from_section(s)?,
        parser,
        extract,
        log: ctx.log.clone(),
        stats,
    }))
}

/// Ruby's `String#chomp!`: one trailing `\r\n`, `\n` or `\r`.
pub fn chomp(b: &[u8]) -> &[u8] {
    b.strip_suffix(b"\r\n")
        .or_else(|| b.strip_suffix(b"\n"))
        .or_else(|| b.strip_suffix(b"\r"))
        .unwrap_or(b)
}

struct UdpSink<'a> {
    input: &'a UdpInput,
    events: TextEvents<'a>,
    emitter: Emitter,
    names: NameCache,
}

impl DatagramSink for UdpSink<'_> {
    async fn datagram(&mut self, data: &[u8], peer: SocketAddr) {
        let data = if self.input.remove_newline {
            chomp(data)
        } else {
            data
        };
        let name = if self.input.keys.needs_name() {
            Some(self.names.name(peer.ip()).await)
        } else {
            None
        };
        self.events.add(data, peer.ip(), name.as_deref());
    }

    async fn flush(&mut self) -> Result<(), EmitError> {
        self.events.emit(&self.emitter, &self.input.tag).await
    }
}

#[async_trait]
impl Input for UdpInput {
    async fn start(self: Arc<Self>, ctx: InputContext) -> Result<JoinHandle<()>, String> {
        let addr =
            resolve(&self.bind, self.port).map_err(|e| format!("bind {}: {e}", self.bind))?;
        let sock =
            bind(addr, self.receive_buffer).map_err(|e| format!("cannot bind udp {addr}: {e}"))?;
        let local = sock.local_addr().map_err(|e| e.to_string())?;
        self.log
            .info(format_args!("listening udp socket on {local}"));
        let this = self.clone();
        Ok(tokio::spawn(async move {
            let mut sink = UdpSink {
                input: &this,
                events: TextEvents::new(
                    &*this.parser,
                    &this.keys,
                    this.extract.as_ref(),
                    &this.stats,
                    &this.log,
                ),
                emitter: ctx.emitter.clone(),
                names: NameCache::default(),
            };
            receive(
                sock,
                this.limit,
                &mut sink,
                ctx.shutdown.clone(),
                &this.stats,
                &this.log,
            )
            .await;
            this.log.info(format_args!("stopped listening on {local}"));
        }))
    }
}
