//! `forward` output (Fluentd's `out_forward`): each buffer chunk goes to one of the `<server>`s
//! as one PackedForward frame, the way Fluentd sends it —
//! `93` ‖ tag ‖ `DB` + u32 length ‖ entries ‖ `{"size": N, "compressed": "text"|"gzip"}`
//! (+ `"chunk": base64(id)+"\n"` with `require_ack_response`).
//!
//! * Chunks hold the normalized entries `92 D7 00 <sec> <nsec> <record>` (`time_as_integer`:
//!   whole seconds), so a chunk is sent without decoding it. `compress gzip` sends
//!   CompressedPackedForward: a `compress gzip` buffer's chunk as stored, else gzipped at send.
//! * Servers ([`node`]): `host` (a DNS name is resolved again per `expire_dns_cache`, one random
//!   record with `dns_round_robin`), `port`, `weight`, `standby`, `name`, and per-server
//!   `shared_key`/`username`/`password`. Chunks rotate over the available primaries by weight;
//!   standbys join only for the weight of primaries that are down.
//! * Failure detection ([`failure`], [`heartbeat`]): `heartbeat_type transport|tcp|udp|none`,
//!   `heartbeat_interval`, `phi_failure_detector`, `phi_threshold`, `hard_timeout`, `recover_wait`.
//!   A server whose connect, handshake, write or ack fails is also taken out of the rotation at
//!   once (Fluentd does this for ack failures only) until its heartbeats answer again; with
//!   `heartbeat_type none` it is skipped for `recover_wait`.
//! * At-least-once ([`ack`]): with `require_ack_response` a chunk is committed only after the
//!   server's ack (`ack_response_timeout`). A missing or wrong ack, or a closed connection, sends
//!   the chunk again at once to the next available server; only when every server failed does the
//!   chunk go back to the buffer's retry schedule.
//! * Connections ([`conn`], [`tls`]): `connect_timeout` (default: `send_timeout`), `send_timeout`,
//!   `keepalive` + `keepalive_timeout` (idle time after which a kept connection is closed). A kept
//!   connection that fails (a flow a load balancer forgot) is dropped and the chunk is sent again
//!   on a new connection. **TCP keepalive probes are on by default** (first after 60 s idle, then
//!   every 10 s, 6 probes) so that idle connections survive AWS NLB's 350 s idle timeout;
//!   `send_keepalive_packet false` turns them off. `<security>` `self_hostname` + `shared_key`
//!   runs the HELO/PING/PONG handshake; `transport tls` (or `<transport tls>`) with
//!   `tls_ca_cert_path`, `tls_client_cert_path`/`tls_client_private_key_path`, `tls_version`,
//!   `tls_verify_hostname`, `tls_allow_self_signed_cert`, `tls_insecure_mode`.
//! * Differences from Fluentd: names are resolved at start rather than at configure time (an
//!   unresolvable name is retried, never a start-up error; `--dry-run` needs no DNS); when
//!   `delayed_commit_timeout` is set below `ack_response_timeout`, the ack wait is capped at 90 %
//!   of it (the buffer cuts longer writes);
//!   `compress zstd` is refused.

pub mod ack;
pub mod config;
pub mod conn;
pub mod failure;
pub mod heartbeat;
pub mod node;
pub mod params;
pub mod tls;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use logferry_core::buffer::{BufferConfig, BufferDefaults, Chunk, ChunkWriter, WriteError};
use logferry_core::error::build_error;
use logferry_core::{BuildCtx, BuildError, EventTime, Lifecycle, PluginLog, Section};
use logferry_forward::encode::{self, Compression};
use logferry_msgpack::write;
use tokio::sync::watch;

use config::ForwardOutConfig;
use conn::{Conn, Connector, Pool};
use node::{Balancer, Node, NodeOptions};

/// Buffer defaults of out_forward: chunk key `tag`, which is mandatory.
pub const DEFAULTS: BufferDefaults = BufferDefaults {
    chunk_keys: &["tag"],
    timekey: None,
    tag_required: true,
    file_at_output_path: false,
    chunk_limit_size: None,
    flush_at_shutdown: None,
    v012_time_key: false,
};

/// State shared by the writer and its heartbeat tasks.
pub struct Inner {
    cfg: Arc<ForwardOutConfig>,
    balancer: Balancer,
    connector: Connector,
    pool: Option<Pool>,
    log: PluginLog,
    ack_timeout: Duration,
    /// The heartbeat tasks and their stop signal, once started.
    heartbeats: Mutex<Option<HeartbeatTasks>>,
}

type HeartbeatTasks = (watch::Sender<bool>, Vec<tokio::task::JoinHandle<()>>);

/// The chunk writer of the `forward` output.
pub struct ForwardWriter {
    inner: Arc<Inner>,
}

/// Starts the heartbeats, and stops them at the shutdown deadline if the buffer's last flush
/// (after which [`ForwardWriter`] stops them itself) has not come by then.
struct Heartbeats {
    inner: std::sync::Weak<Inner>,
}

/// Build the writer from `<match>` (and register its heartbeats for start).
pub fn writer(
    ctx: &BuildCtx,
    s: &Section,
    buf: &BufferConfig,
) -> Result<Arc<dyn ChunkWriter>, BuildError> {
    let cfg = Arc::new(ForwardOutConfig::from_section(s)?);
    let tls = match &cfg.tls {
        Some(t) => Some(tls::connector(t).map_err(|e| build_error(s.pos(), format!("TLS: {e}")))?),
        None => None,
    };
    let mut ack_timeout = cfg.ack_response_timeout;
    if let Some(limit) = buf.delayed_commit_timeout {
        if cfg.require_ack_response && ack_timeout >= limit {
            ack_timeout = limit.mul_f64(0.9);
            ctx.log.info(format_args!(
                "waiting at most {:.1}s for an ack: ack_response_timeout ({:.0}s) must stay under delayed_commit_timeout ({:.0}s), which bounds a chunk's write",
                ack_timeout.as_secs_f64(),
                cfg.ack_response_timeout.as_secs_f64(),
                limit.as_secs_f64()
            ));
        }
    }
    let opts = NodeOptions::from_config(&cfg);
    let nodes = cfg
        .servers
        .iter()
        .map(|sv| Arc::new(Node::new(sv.clone(), opts.clone(), ctx.log.clone())))
        .collect();
    let inner = Arc::new(Inner {
        balancer: Balancer::new(nodes, ctx.log.clone()),
        connector: Connector::new(cfg.clone(), tls),
        pool: cfg
            .keepalive
            .then(|| Pool::new(cfg.keepalive_timeout, cfg.send_timeout)),
        log: ctx.log.clone(),
        ack_timeout,
        cfg,
        heartbeats: Mutex::new(None),
    });
    ctx.register(Arc::new(Heartbeats {
        inner: Arc::downgrade(&inner),
    }));
    Ok(Arc::new(ForwardWriter { inner }))
}

#[async_trait]
impl Lifecycle for Heartbeats {
    async fn start(self: Arc<Self>) -> Result<(), String> {
        let Some(inner) = self.inner.upgrade() else {
            return Ok(());
        };
        for n in inner.balancer.nodes() {
            inner.log.info(format_args!(
                "adding forwarding server '{}' (host {}, port {}, weight {}{})",
                n.label,
                n.cfg.host,
                n.cfg.port,
                n.cfg.weight,
                if n.cfg.standby { ", standby" } else { "" }
            ));
            if let Err(e) = n.resolve().await {
                inner.log.warn(format_args!("{e}; retrying when sending"));
            }
        }
        if inner.cfg.verify_connection_at_startup {
            for n in inner.balancer.nodes() {
                let addr = n.resolve().await?;
                let c = inner
                    .connector
                    .connect(n, addr)
                    .await
                    .map_err(|e| format!("forward's connection setting error: {e}"))?;
                let _ = c.close(inner.cfg.send_timeout).await;
            }
        }
        let (tx, rx) = watch::channel(false);
        let tasks = heartbeat::spawn(&inner, &rx);
        *inner.heartbeats.lock().unwrap_or_else(|e| e.into_inner()) = Some((tx, tasks));
        Ok(())
    }

    async fn drain(&self, deadline: tokio::time::Instant) {
        // The buffer drains after this returns and may still need live nodes: heartbeats stop
        // after its last flush (ChunkWriter::close), or at the deadline at the latest.
        let inner = self.inner.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(deadline).await;
            if let Some(i) = inner.upgrade() {
                drop(i.stop_heartbeats());
            }
        });
    }

    fn flush_now(&self) {}
}

impl Inner {
    /// Tell the heartbeat tasks to stop; they finish the probe under way.
    fn stop_heartbeats(&self) -> Vec<tokio::task::JoinHandle<()>> {
        match self
            .heartbeats
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            Some((tx, tasks)) => {
                let _ = tx.send(true);
                tasks
            }
            None => Vec::new(),
        }
    }

    /// Send the frame on one connection and wait for its ack; the connection is returned for
    /// reuse only after a complete exchange.
    async fn exchange(
        &self,
        mut conn: Conn,
        parts: &[&[u8]],
        ack_id: Option<&str>,
    ) -> Result<Conn, String> {
        conn.send(parts, self.cfg.send_timeout).await?;
        if let Some(id) = ack_id {
            ack::wait(&mut conn, id, self.ack_timeout)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(conn)
    }

    /// Deliver the frame to `node`: on a kept connection if there is one (and, if that fails,
    /// once more on a new connection), else on a new one.
    async fn send_to(
        &self,
        node: &Node,
        parts: &[&[u8]],
        ack_id: Option<&str>,
    ) -> Result<(), String> {
        let addr = node.resolve().await?;
        if let Some(pool) = &self.pool {
            if let Some(conn) = pool.checkout(addr) {
                match self.exchange(conn, parts, ack_id).await {
                    Ok(conn) => {
                        pool.checkin(conn);
                        return Ok(());
                    }
                    Err(e) => self.log.warn(format_args!(
                        "kept connection to '{}' ({addr}) failed, sending again on a new connection: {e}",
                        node.label
                    )),
                }
            }
        }
        let mut attempt = self.send_new(node, addr, parts, ack_id).await;
        if let Err(e) = &attempt {
            if crate::tls_errors::is_corrupt_record(e) {
                // A record the server encrypted wrongly (Fluent Bit 4.x over TLS 1.3 does this
                // now and then with its HELO, PONG or ack): a fault of that connection, not of
                // the server. Once more at once on a new connection, rather than taking the
                // server out of rotation and waiting out the retry schedule.
                self.log.info(format_args!(
                    "'{}' ({addr}) sent a TLS record that cannot be decrypted, sending again on a new connection: {e}",
                    node.label
                ));
                attempt = self.send_new(node, addr, parts, ack_id).await;
            }
        }
        attempt
    }

    /// [`send_to`](Self::send_to) on a new connection.
    async fn send_new(
        &self,
        node: &Node,
        addr: std::net::SocketAddr,
        parts: &[&[u8]],
        ack_id: Option<&str>,
    ) -> Result<(), String> {
        let conn = self.connector.connect(node, addr).await?;
        let conn = self.exchange(conn, parts, ack_id).await?;
        match &self.pool {
            Some(pool) => pool.checkin(conn),
            None => {
                let mut drained = crate::close::Drained::default();
                let closed = conn.close_into(self.cfg.send_timeout, &mut drained).await;
                if ack_id.is_some() {
                    // Acknowledged already: how the connection ends no longer matters.
                    if let Err(e) = closed {
                        self.log
                            .debug(format_args!("closing the connection to {addr}: {e}"));
                    }
                    return Ok(());
                }
                // Without an ack, the orderly close is the only sign that the server read the
                // frame: it closed its side after reading everything up to our FIN, or reset
                // the connection (Fluentd's in_forward always does, `linger_timeout 0`) after
                // its kernel had acknowledged every byte of it.
                if ack::is_helo(&drained.head) {
                    return Err(ack::HELO_WITHOUT_SECURITY.into());
                }
                match closed {
                    Ok(()) if drained.reset => self.log.debug(format_args!(
                        "'{}' ({addr}) reset the connection after acknowledging the whole chunk (as Fluentd's in_forward closes): sent",
                        node.label
                    )),
                    Ok(()) => {}
                    Err(e) => {
                        return Err(format!(
                            "{e}: the server may not have read the chunk, so it is sent again"
                        ))
                    }
                }
            }
        }
        Ok(())
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, WriteError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| WriteError::Retryable(format!("compression task failed: {e}")))
}

#[async_trait]
impl ChunkWriter for ForwardWriter {
    fn format(&self, _tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        out.push(0x92);
        if self.inner.cfg.time_as_integer {
            write::uint(out, u64::from(time.sec));
        } else {
            time.encode(out);
        }
        out.extend_from_slice(record);
    }

    fn formats_verbatim(&self) -> bool {
        !self.inner.cfg.time_as_integer
    }

    /// Plain entries are sent as the chunk's pieces (vectored writes); gzip joins them.
    fn takes_parts(&self) -> bool {
        matches!(self.inner.cfg.compress, Compression::Text)
    }

    async fn close(&self) {
        // Heartbeats first (each finishes its probe and closes it in order), then the kept
        // connections: all end with close_notify and FIN, never a reset the server would log.
        for t in self.inner.stop_heartbeats() {
            let _ = t.await;
        }
        if let Some(pool) = &self.inner.pool {
            pool.close_all().await;
        }
    }

    async fn write(&self, chunk: &Chunk) -> Result<(), WriteError> {
        let inner = &self.inner;
        if chunk.raw_len() == 0 {
            return Ok(());
        }
        let Some(tag) = chunk.meta.tag.as_deref() else {
            return Err(WriteError::Unrecoverable(
                "the chunk has no tag (a file chunk resumed without its metadata)".into(),
            ));
        };
        // The entries, in the pieces the buffer holds them in (sent as they are, no join).
        let (payload, compressed): (Vec<Bytes>, &str) = match (inner.cfg.compress, chunk.is_gzip())
        {
            (Compression::Gzip, true) => (chunk.parts().to_vec(), "gzip"),
            (Compression::Gzip, false) => {
                let c = chunk.clone();
                let packed = blocking(move || encode::gzip(c.raw())).await?;
                (vec![Bytes::from(packed)], "gzip")
            }
            (Compression::Text, true) => {
                let c = chunk.clone();
                let plain = blocking(move || c.bytes())
                    .await?
                    .map_err(|e| WriteError::Unrecoverable(format!("corrupt gzip chunk: {e}")))?;
                (vec![plain], "text")
            }
            (Compression::Text, false) => (chunk.parts().to_vec(), "text"),
        };
        let payload_len: usize = payload.iter().map(Bytes::len).sum();
        let len = u32::try_from(payload_len).map_err(|_| {
            WriteError::Unrecoverable(format!(
                "chunk of {payload_len} bytes is larger than a forward frame can carry"
            ))
        })?;
        let ack_id = inner
            .cfg
            .require_ack_response
            .then(|| ack::chunk_id_text(&chunk.id));
        let mut head = Vec::with_capacity(tag.len() + 16);
        write::array_len(&mut head, 3);
        write::str(&mut head, tag);
        head.push(0xdb);
        head.extend_from_slice(&len.to_be_bytes());
        let mut option = Vec::with_capacity(64);
        write::map_len(&mut option, if ack_id.is_some() { 3 } else { 2 });
        write::str(&mut option, "size");
        write::uint(&mut option, chunk.records());
        write::str(&mut option, "compressed");
        write::str(&mut option, compressed);
        if let Some(id) = &ack_id {
            write::str(&mut option, "chunk");
            write::str(&mut option, id);
        }
        let mut parts: Vec<&[u8]> = Vec::with_capacity(payload.len() + 2);
        parts.push(&head);
        parts.extend(payload.iter().map(|p| &p[..]));
        parts.push(&option);
        let mut errors = Vec::new();
        for i in inner.balancer.order() {
            let node = &inner.balancer.nodes()[i];
            if !node.available() {
                continue;
            }
            match inner.send_to(node, &parts, ack_id.as_deref()).await {
                Ok(()) => {
                    node.heartbeat(false);
                    return Ok(());
                }
                Err(e) => {
                    node.disable(&e);
                    errors.push(format!("'{}': {e}", node.label));
                }
            }
        }
        Err(WriteError::Retryable(if errors.is_empty() {
            "no nodes are available".into()
        } else {
            errors.join("; ")
        }))
    }
}
