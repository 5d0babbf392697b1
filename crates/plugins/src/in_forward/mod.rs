//! `forward` input: Fluentd's forward protocol over TCP (optionally TLS), with the UDP heartbeat
//! on the same port.
//!
//! Each connection runs in its own task on the multi-threaded runtime, so decoding spreads over
//! every core. Frames are decoded into normalized msgpack entries (no record is decoded unless a
//! parameter such as `source_address_key` needs to add a field) and emitted into the router; an
//! ack is written only after the router accepted the events. A malformed frame closes that
//! connection only, after logging it once; events of earlier frames stay accepted.
//!
//! Differences from Fluentd: TCP keepalive is on by default (idle 60 s, see [`config::KEEPALIVE_IDLE`])
//! so that idle connections survive load balancers such as AWS NLB (which drops flows idle for
//! 350 s); `send_keepalive_packet false` turns it off.

mod config;
pub(crate) mod conn;
pub mod params;
mod udp;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use logferry_core::{BuildCtx, BuildError, Input, InputContext, PluginLog, Section};
use tokio::task::JoinHandle;

pub use config::{ForwardConfig, KEEPALIVE_IDLE, KEEPALIVE_INTERVAL};

/// Counters of one forward input.
#[derive(Debug, Default)]
pub struct ForwardStats {
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Connections closed because of a malformed frame.
    pub malformed: AtomicU64,
    /// Events accepted by the router.
    pub events: AtomicU64,
    /// Invalid events skipped.
    pub invalid_events: AtomicU64,
    /// Connections closed because a frame did not complete within `frame_timeout`.
    pub stalled: AtomicU64,
}

/// The forward input.
pub struct ForwardInput {
    cfg: Arc<ForwardConfig>,
    log: PluginLog,
    stats: Arc<ForwardStats>,
}

/// The forward input's counters for the monitor.
pub(crate) struct ForwardMetrics(pub(crate) Arc<ForwardStats>);

impl logferry_core::metrics::PluginMetrics for ForwardMetrics {
    fn snapshot(&self) -> logferry_core::metrics::Snapshot {
        let s = &self.0;
        logferry_core::metrics::Snapshot {
            emit_records: s.events.load(Ordering::Relaxed),
            extra: vec![
                ("connections", s.connections.load(Ordering::Relaxed)),
                ("malformed_connections", s.malformed.load(Ordering::Relaxed)),
                ("invalid_events", s.invalid_events.load(Ordering::Relaxed)),
                ("stalled_connections", s.stalled.load(Ordering::Relaxed)),
            ],
            ..Default::default()
        }
    }
}

/// Build from `<source>`.
pub fn build(ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Input>, BuildError> {
    let cfg = ForwardConfig::from_section(s)?;
    let stats = Arc::new(ForwardStats::default());
    ctx.metrics
        .attach(&ctx.plugin_id, Arc::new(ForwardMetrics(stats.clone())));
    Ok(Arc::new(ForwardInput {
        cfg: Arc::new(cfg),
        log: ctx.log.clone(),
        stats,
    }))
}

impl ForwardInput {
    /// The input's counters.
    pub fn stats(&self) -> &Arc<ForwardStats> {
        &self.stats
    }
}

#[async_trait]
impl Input for ForwardInput {
    async fn start(self: Arc<Self>, ctx: InputContext) -> Result<JoinHandle<()>, String> {
        let addr = self.cfg.addr().map_err(|e| e.to_string())?;
        let listener = crate::net::accept::tcp_listener(addr, self.cfg.backlog)
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        let udp = udp::bind(local)
            .await
            .map_err(|e| format!("cannot bind the UDP heartbeat on {local}: {e}"))?;
        let tls = match &self.cfg.tls {
            Some(t) => Some(crate::net::tls::acceptor(t).map_err(|e| format!("TLS: {e}"))?),
            None => None,
        };
        self.log.info(format_args!(
            "listening on {local} ({}, heartbeat on udp)",
            if tls.is_some() { "tls" } else { "tcp" }
        ));
        let this = self.clone();
        Ok(tokio::spawn(async move {
            let udp_task = tokio::spawn(udp::serve(udp, ctx.shutdown.clone()));
            let serve = |stream, peer| {
                this.stats.connections.fetch_add(1, Ordering::Relaxed);
                let c = conn::Conn {
                    cfg: this.cfg.clone(),
                    log: this.log.clone(),
                    stats: this.stats.clone(),
                    emitter: ctx.emitter.clone(),
                    peer: conn::Peer::Tcp(peer),
                    shutdown: ctx.shutdown.clone(),
                };
                let tls = tls.clone();
                async move { c.run(stream, tls).await }
            };
            crate::net::accept::serve(
                listener,
                ctx.shutdown.clone(),
                crate::net::accept::MAX_CONNECTIONS,
                &this.log,
                serve,
                || {},
            )
            .await;
            let _ = udp_task.await;
            this.log.info(format_args!("stopped listening on {local}"));
        }))
    }
}
