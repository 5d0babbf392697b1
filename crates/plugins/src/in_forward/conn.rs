//! One forward connection: optional handshake, then frames → router → acks.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use logferry_core::record::set_fields;
use logferry_core::{BatchBuilder, Emitter, EventBatch, EventTime, PluginLog, Value};
use logferry_forward::handshake::ServerHandshake;
use logferry_forward::{DecodeError, Decoder, EventsFrame, Frame, Mode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use super::config::{
    ForwardConfig, HANDSHAKE_TIMEOUT, KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_PROBES,
};
use super::ForwardStats;

/// How long a closing connection waits for the client to close its side.
const CLOSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// What a client sent in place of a PING, for the log.
fn first_kind(raw: &[u8]) -> &'static str {
    match raw.first() {
        Some(0x92..=0x94) => "a forward frame of events",
        Some(b'{' | b'[') => "JSON",
        _ => "something else",
    }
}

/// At shutdown, a connection with nothing more to read for this long is done.
const DRAIN_QUIET: std::time::Duration = std::time::Duration::from_millis(200);
/// At shutdown, the most reads (of up to [`READ_SIZE`]) a connection still makes.
const DRAIN_READS: u8 = 64;

/// Size of one socket read.
const READ_SIZE: usize = 256 * 1024;

/// Who is on the other end of a connection.
#[derive(Clone, Debug)]
pub enum Peer {
    /// A TCP (or TLS) client.
    Tcp(SocketAddr),
    /// A client of a unix socket: the socket's path and the client's process id when known.
    Unix {
        /// The socket file.
        path: Arc<str>,
        /// The client's pid (SO_PEERCRED).
        pid: Option<i32>,
    },
}

impl Peer {
    /// The client's IP address (TCP only).
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Peer::Tcp(a) => Some(a.ip()),
            Peer::Unix { .. } => None,
        }
    }
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Peer::Tcp(a) => write!(f, "{a}"),
            Peer::Unix {
                path,
                pid: Some(pid),
            } => write!(f, "pid {pid} on {path}"),
            Peer::Unix { path, pid: None } => write!(f, "a client of {path}"),
        }
    }
}

/// A connection's context.
pub struct Conn {
    pub cfg: Arc<ForwardConfig>,
    pub log: PluginLog,
    pub stats: Arc<ForwardStats>,
    pub emitter: Emitter,
    pub peer: Peer,
    pub shutdown: watch::Receiver<bool>,
}

/// Whether the connection goes on after a frame.
enum Next {
    Continue,
    Close,
}

impl Conn {
    /// Serve a freshly accepted TCP connection.
    pub async fn run(self, stream: TcpStream, tls: Option<TlsAcceptor>) {
        let _ = stream.set_nodelay(true);
        let sock = socket2::SockRef::from(&stream);
        if self.cfg.tcp_keepalive {
            let ka = socket2::TcpKeepalive::new()
                .with_time(KEEPALIVE_IDLE)
                .with_interval(KEEPALIVE_INTERVAL)
                .with_retries(KEEPALIVE_PROBES);
            let _ = sock.set_tcp_keepalive(&ka);
        }
        if let Some(l) = self.cfg.linger_timeout {
            let _ = sock.set_linger(Some(l));
        }
        match tls {
            None => self.serve(stream).await,
            // Boxed: a TLS session is several KiB, which plain connections should not carry.
            Some(acceptor) => Box::pin(self.serve_tls(stream, acceptor)).await,
        }
    }

    /// Serve a freshly accepted unix-socket connection (the same protocol, acks and limits as
    /// TCP; the config has no peer-address features for it).
    pub async fn run_unix(self, stream: UnixStream) {
        self.serve(stream).await
    }

    async fn serve_tls(self, stream: TcpStream, acceptor: TlsAcceptor) {
        // A load balancer's health check connects and closes without a byte: normal, not a
        // failed handshake.
        let mut b = [0u8; 1];
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, stream.peek(&mut b)).await {
            Ok(Ok(0)) => {
                self.log.debug(format_args!(
                    "connection from {} closed without data",
                    self.peer
                ));
                return;
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                self.log
                    .debug(format_args!("read from {} failed: {e}", self.peer));
                return;
            }
            Err(_) => {
                self.log.warn(format_args!(
                    "TLS handshake with {} timed out: the client sent nothing",
                    self.peer
                ));
                return;
            }
        }
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
            Ok(Ok(s)) => self.serve(s).await,
            Ok(Err(e)) => self.log.warn(format_args!(
                "TLS handshake with {} failed: {}",
                self.peer,
                crate::tls_errors::server_handshake(&e)
            )),
            Err(_) => self
                .log
                .warn(format_args!("TLS handshake with {} timed out", self.peer)),
        }
    }

    async fn serve<S: AsyncRead + AsyncWrite + WaitReadable + Unpin>(mut self, mut s: S) {
        let hostname = match self.peer.ip() {
            Some(ip) if self.cfg.resolve_hostname => crate::net::peer::reverse_dns(ip).await,
            _ => None,
        };
        let mut decoder = Decoder::new(self.cfg.decoder.clone());
        if let Some(sec) = self.cfg.security.clone() {
            let hs = ServerHandshake::new(
                sec,
                !self.cfg.deny_keepalive,
                rand::random(),
                rand::random(),
            );
            match tokio::time::timeout(
                HANDSHAKE_TIMEOUT,
                Box::pin(self.handshake(&mut s, &mut decoder, &hs, hostname.as_deref())),
            )
            .await
            {
                Ok(true) => {}
                Ok(false) => return,
                Err(_) => {
                    self.log
                        .warn(format_args!("handshake with {} timed out", self.peer));
                    return;
                }
            }
        }
        // The handshake's bytes count as received (the connection was not an empty probe).
        let mut received = usize::from(self.cfg.security.is_some());
        // Set while part of a frame is pending: the rest must arrive by then.
        let mut deadline: Option<tokio::time::Instant> = None;
        if decoder.buffered() > 0 {
            // Frames the client sent right behind its PING, read with it: taken now, not when
            // more bytes arrive (which might never happen).
            if self
                .take_frames(&mut s, &mut decoder, hostname.as_deref())
                .await
                .is_none()
            {
                return;
            }
            if decoder.buffered() > 0 {
                deadline = Some(tokio::time::Instant::now() + self.cfg.frame_timeout);
            }
        }
        // Set at shutdown: what the client already sent is still read and accepted (a client
        // that wrote its last lines and closed, as a stopping container's log driver does,
        // loses none of them), until it closes, is quiet for DRAIN_QUIET, or DRAIN_READS reads
        // were made. `deadline` then holds the end of the quiet time.
        let mut drain_reads: Option<u8> = None;
        loop {
            if drain_reads.is_none() && *self.shutdown.borrow() {
                drain_reads = Some(0);
                deadline = Some(tokio::time::Instant::now() + DRAIN_QUIET);
            }
            let stall = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            // Wait for bytes without holding a receive buffer, then read straight into the
            // decoder's buffer (no copy).
            let n = tokio::select! {
                r = read_some(&mut s, &mut decoder) => r,
                _ = stall => {
                    if drain_reads.is_none() {
                        self.stalled(&decoder);
                    }
                    break;
                }
                r = self.shutdown.changed(), if drain_reads.is_none() => match r {
                    Ok(()) => continue,
                    Err(_) => break,
                },
            };
            let n = match n {
                Ok(0) => {
                    if received == 0 {
                        // A load balancer health check: connect, then close without a byte.
                        self.log.debug(format_args!(
                            "connection from {} closed without data",
                            self.peer
                        ));
                    } else if decoder.buffered() > 0 {
                        self.log.debug(format_args!(
                            "connection from {} closed in the middle of a frame ({} bytes dropped)",
                            self.peer,
                            decoder.buffered()
                        ));
                    }
                    break;
                }
                Ok(n) => n,
                Err(ReadError::Io(e)) => {
                    self.log
                        .debug(format_args!("read from {} failed: {e}", self.peer));
                    break;
                }
                Err(ReadError::Decode(e)) => {
                    self.malformed(&e);
                    break;
                }
            };
            received += n;
            let Some(completed) = self
                .take_frames(&mut s, &mut decoder, hostname.as_deref())
                .await
            else {
                return;
            };
            if let Some(reads) = drain_reads.as_mut() {
                *reads += 1;
                if *reads >= DRAIN_READS {
                    break;
                }
                deadline = Some(tokio::time::Instant::now() + DRAIN_QUIET);
            } else if decoder.buffered() == 0 {
                deadline = None;
                if n < READ_SIZE {
                    // The socket is drained: idle connections keep no buffer.
                    decoder.release_if_idle();
                }
            } else if completed || deadline.is_none() {
                deadline = Some(tokio::time::Instant::now() + self.cfg.frame_timeout);
            }
        }
        self.close(&mut s).await;
    }

    /// Take every complete frame in the decoder's buffer: `Some(true)` when there was one,
    /// `None` when the connection was closed (a malformed frame, or a frame after which it ends).
    async fn take_frames<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        s: &mut S,
        decoder: &mut Decoder,
        hostname: Option<&str>,
    ) -> Option<bool> {
        let mut completed = false;
        loop {
            match decoder.next_frame(EventTime::now()) {
                Ok(None) => return Some(completed),
                Ok(Some(frame)) => {
                    completed = true;
                    // Boxed: the emit path's future is large and an idle connection's task
                    // should not carry its space.
                    if let Next::Close = Box::pin(self.handle(frame, s, decoder, hostname)).await {
                        self.close(s).await;
                        return None;
                    }
                }
                Err(e) => {
                    self.malformed(&e);
                    self.close(s).await;
                    return None;
                }
            }
        }
    }

    /// Close in order (TLS close_notify, FIN, then read until the client closes too), so that
    /// the client never sees a reset that could make it drop what it had not read yet (an ack).
    async fn close<S: AsyncRead + AsyncWrite + Unpin>(&self, s: &mut S) {
        // Boxed: an idle connection's task should not carry the closing state's space.
        if let Err(e) = Box::pin(crate::close::orderly_close(s, CLOSE_TIMEOUT)).await {
            self.log
                .debug(format_args!("closing connection from {}: {e}", self.peer));
        }
    }

    /// A client sent part of a frame and not the rest in time: a stalled or trickling peer.
    fn stalled(&self, decoder: &Decoder) {
        let n = self.stats.stalled.fetch_add(1, Ordering::Relaxed) + 1;
        self.log.warn(format_args!(
            "closing connection from {}: {} bytes of a frame pending and the rest not received within frame_timeout ({} s) (stalled connections so far: {n})",
            self.peer,
            decoder.buffered(),
            self.cfg.frame_timeout.as_secs_f64()
        ));
    }

    async fn handshake<S: AsyncRead + AsyncWrite + WaitReadable + Unpin>(
        &self,
        s: &mut S,
        decoder: &mut Decoder,
        hs: &ServerHandshake,
        hostname: Option<&str>,
    ) -> bool {
        if s.write_all(&hs.helo()).await.is_err() || s.flush().await.is_err() {
            return false;
        }
        let ping = loop {
            match decoder.next_raw() {
                Ok(Some(raw)) => break raw,
                Ok(None) => {}
                Err(e) => {
                    self.malformed(&e);
                    return false;
                }
            }
            match read_some(s, decoder).await {
                Ok(0) | Err(ReadError::Io(_)) => {
                    self.log.debug(format_args!(
                        "connection from {} closed during the handshake",
                        self.peer
                    ));
                    return false;
                }
                Ok(_) => {}
                Err(ReadError::Decode(e)) => {
                    self.malformed(&e);
                    return false;
                }
            }
        };
        // A unix client is local (in_unix refuses <security>; this keeps the type total).
        let ip = self
            .peer
            .ip()
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
        let json = decoder.is_json() == Some(true);
        let check = |raw: &[u8]| {
            if json {
                hs.check_json_ping(raw, ip, hostname)
            } else {
                hs.check_ping(raw, ip, hostname)
            }
        };
        let outcome = check(&ping);
        let mut wrote = self.answer(s, decoder, &outcome.reply).await;
        if !outcome.ok && !outcome.reply.is_empty() {
            // Fluentd goes on with what it read together with the refused PING before it
            // closes: every object already here is answered as a PING too, up to one it raises
            // on (where it raised on the first, nothing more is read).
            while wrote {
                let Ok(Some(next)) = decoder.next_raw() else {
                    break;
                };
                let more = check(&next);
                if more.reply.is_empty() {
                    break;
                }
                wrote = self.answer(s, decoder, &more.reply).await;
            }
        }
        if !outcome.ok {
            let reason = outcome.reason.as_deref().unwrap_or("unknown reason");
            // The PONG carries Fluentd's words; the log says what the sender is missing.
            let why = if reason == "invalid ping message" && !ping.starts_with(b"\x96\xa4PING") {
                format!("{reason}: the client sent no PING but {}, so it has no shared key configured; this server's <security> requires one (Fluentd: <security> self_hostname and shared_key; Fluent Bit: shared_key and self_hostname)", first_kind(&ping))
            } else if reason == "shared_key mismatch" {
                format!("{reason}: the client's shared key is not this server's (wrong key)")
            } else {
                reason.to_string()
            };
            self.log
                .warn(format_args!("handshake with {} failed: {why}", self.peer));
            self.close(s).await;
            return false;
        }
        wrote
    }

    /// Write a PONG (in JSON on a JSON connection, as Fluentd's serializer follows the client's
    /// first byte); nothing for an empty one (Fluentd raised on the PING). False when the write
    /// failed.
    async fn answer<S: AsyncWrite + Unpin>(
        &self,
        s: &mut S,
        decoder: &Decoder,
        reply: &[u8],
    ) -> bool {
        if reply.is_empty() {
            return true;
        }
        let mut json = Vec::new();
        let bytes = if decoder.is_json() == Some(true)
            && logferry_msgpack::write_json(reply, &mut json).is_ok()
        {
            &json[..]
        } else {
            reply
        };
        s.write_all(bytes).await.is_ok() && s.flush().await.is_ok()
    }

    fn malformed(&self, e: &DecodeError) {
        let n = self.stats.malformed.fetch_add(1, Ordering::Relaxed) + 1;
        self.log.warn(format_args!(
            "closing connection from {}: {e} (malformed connections so far: {n})",
            self.peer
        ));
    }

    async fn handle<S: AsyncWrite + Unpin>(
        &self,
        frame: Frame,
        s: &mut S,
        decoder: &Decoder,
        hostname: Option<&str>,
    ) -> Next {
        // With deny_keepalive, Fluentd closes after the first frame whatever it was: one
        // without an answer (a heartbeat, one that is not an array, one over chunk_size_limit)
        // closes at once.
        let after = if self.cfg.deny_keepalive {
            Next::Close
        } else {
            Next::Continue
        };
        match frame {
            Frame::Heartbeat => after,
            Frame::NotArray => {
                self.log
                    .warn(format_args!("incoming chunk is broken: from {}", self.peer));
                after
            }
            Frame::TooLarge { size } => {
                self.log.warn(format_args!(
                    "Input chunk size is larger than 'chunk_size_limit', dropped: from {} size {size}",
                    self.peer
                ));
                after
            }
            Frame::Events(ev) => self.events(ev, s, decoder, hostname).await,
        }
    }

    async fn events<S: AsyncWrite + Unpin>(
        &self,
        ev: EventsFrame,
        s: &mut S,
        decoder: &Decoder,
        hostname: Option<&str>,
    ) -> Next {
        if ev.over_warn_limit {
            self.log.warn(format_args!(
                "Input chunk size is larger than 'chunk_size_warn_limit': from {} tag {} size {}",
                self.peer, ev.tag, ev.wire_size
            ));
        }
        if ev.invalid > 0 {
            self.stats
                .invalid_events
                .fetch_add(ev.invalid as u64, Ordering::Relaxed);
            self.log.warn(format_args!(
                "skipped {} invalid event(s) from {} (tag {})",
                ev.invalid, self.peer, ev.tag
            ));
        }
        let tag = self.cfg.tag_for(ev.tag);
        let count = ev.count;
        if count > 0 {
            // A PackedForward stream's records are read only where something reads them (see
            // `EventBatch::with_unfolded`); Message and Forward entries are read as they come.
            let packed = matches!(ev.mode, Mode::PackedForward | Mode::CompressedPackedForward);
            let batch = self.with_source_fields(
                EventBatch::from_indexed_tight(ev.entries, ev.ends, ev.tight).with_unfolded(packed),
                hostname,
            );
            if let Err(e) = self.emitter.emit(&tag, batch).await {
                self.log.warn(format_args!("emit of {count} event(s) with tag {tag} failed, closing the connection without ack: {e}"));
                return Next::Close;
            }
            self.stats.events.fetch_add(count as u64, Ordering::Relaxed);
        }
        if let Some(ack) = ev.ack {
            let mut out = Vec::with_capacity(ack.len() + 8);
            decoder.encode_ack(&ack, &mut out);
            if s.write_all(&out).await.is_err() || s.flush().await.is_err() {
                return Next::Close;
            }
        }
        if self.cfg.deny_keepalive {
            return Next::Close;
        }
        Next::Continue
    }

    fn with_source_fields(&self, batch: EventBatch, hostname: Option<&str>) -> EventBatch {
        let mut fields: Vec<(&str, Value)> = Vec::new();
        let Some(ip) = self.peer.ip() else {
            return batch;
        };
        if let Some(k) = &self.cfg.source_address_key {
            fields.push((k, Value::Str(ip.to_string())));
        }
        if let Some(k) = &self.cfg.source_hostname_key {
            let h = hostname
                .map(str::to_string)
                .unwrap_or_else(|| ip.to_string());
            // The same key as source_address_key: Fluentd sets it twice, the name last.
            fields.retain(|(f, _)| *f != k.as_str());
            fields.push((k, Value::Str(h)));
        }
        if fields.is_empty() {
            return batch;
        }
        // Fluentd sets the fields on each record as a Hash.
        let batch = batch.folded();
        let mut b = BatchBuilder::with_capacity(batch.bytes().len() + batch.len() * 32);
        for e in &batch {
            b.push_with(e.time, |out| set_fields(e.record, &fields, out));
        }
        b.finish()
    }
}

/// Why a read ended the connection.
enum ReadError {
    Io(std::io::Error),
    Decode(DecodeError),
}

/// A stream that can wait until it has bytes to read, without a buffer.
pub trait WaitReadable {
    /// Resolves when a read would make progress (or fail).
    fn wait_readable(&self) -> impl std::future::Future<Output = std::io::Result<()>> + Send;
}

impl WaitReadable for TcpStream {
    fn wait_readable(&self) -> impl std::future::Future<Output = std::io::Result<()>> + Send {
        self.readable()
    }
}

impl WaitReadable for UnixStream {
    fn wait_readable(&self) -> impl std::future::Future<Output = std::io::Result<()>> + Send {
        self.readable()
    }
}

impl WaitReadable for tokio_rustls::server::TlsStream<TcpStream> {
    // TLS may hold decrypted bytes the socket no longer signals; read directly.
    async fn wait_readable(&self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Wait for bytes, then read up to [`READ_SIZE`] of them into the decoder's buffer. `Ok(0)` is
/// the end of the stream.
async fn read_some<S: AsyncRead + WaitReadable + Unpin>(
    s: &mut S,
    decoder: &mut Decoder,
) -> Result<usize, ReadError> {
    s.wait_readable().await.map_err(ReadError::Io)?;
    // Up to READ_SIZE, or the rest of a large frame being received (so it ends its buffer).
    let want = decoder.read_hint(READ_SIZE);
    let buf = decoder.read_buffer(want).map_err(ReadError::Decode)?;
    let n = (&mut *s)
        .take(want as u64)
        .read_buf(buf)
        .await
        .map_err(ReadError::Io)?;
    decoder.commit_read().map_err(ReadError::Decode)?;
    Ok(n)
}
