//! One connection of a text stream input (`tcp`, `syslog` over TCP or TLS): read, frame, hand
//! each message to the input's sink, emit after every read. The emit is awaited before the next
//! read, so a full buffer slows the client down through TCP instead of filling memory.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use logferry_core::error::EmitError;
use logferry_core::PluginLog;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use super::framing::{Framer, Piece, READ_SIZE};

/// After shutdown, a connection is read until the client is quiet this long (what it already
/// sent is kept), then closed.
const DRAIN_QUIET: Duration = Duration::from_millis(200);
/// Longest a client may take to complete a TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(60);

/// Counters of a text input.
#[derive(Debug, Default)]
pub struct TextStats {
    /// Connections accepted (or datagrams received, for UDP).
    pub connections: AtomicU64,
    /// Events accepted by the router.
    pub events: AtomicU64,
    /// Messages dropped because they were longer than the limit.
    pub too_long: AtomicU64,
    /// Connections closed because their framing was broken.
    pub malformed: AtomicU64,
    /// Messages the parser did not match.
    pub unparsed: AtomicU64,
}

impl logferry_core::metrics::PluginMetrics for TextStats {
    fn snapshot(&self) -> logferry_core::metrics::Snapshot {
        logferry_core::metrics::Snapshot {
            emit_records: self.events.load(Ordering::Relaxed),
            extra: vec![
                ("connections", self.connections.load(Ordering::Relaxed)),
                ("too_long_messages", self.too_long.load(Ordering::Relaxed)),
                (
                    "malformed_connections",
                    self.malformed.load(Ordering::Relaxed),
                ),
                ("unparsed_messages", self.unparsed.load(Ordering::Relaxed)),
            ],
            ..Default::default()
        }
    }
}

/// Where the messages of one connection go.
pub trait MessageSink: Send {
    /// One framed message.
    fn message(&mut self, msg: &[u8]);
    /// Emit the events the messages since the last flush made.
    fn flush(&mut self) -> impl Future<Output = Result<(), EmitError>> + Send;
}

/// Complete a TLS handshake with a freshly accepted client; `None` (logged) when it fails.
pub async fn tls_handshake(
    stream: TcpStream,
    acceptor: &TlsAcceptor,
    log: &PluginLog,
    peer: SocketAddr,
) -> Option<tokio_rustls::server::TlsStream<TcpStream>> {
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(s)) => Some(s),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            log.debug(format_args!("{peer} closed before a TLS handshake"));
            None
        }
        Ok(Err(e)) => {
            log.warn(format_args!(
                "TLS handshake with {peer} failed: {}",
                crate::tls_errors::server_handshake(&e)
            ));
            None
        }
        Err(_) => {
            log.warn(format_args!("TLS handshake with {peer} timed out"));
            None
        }
    }
}

/// One accepted connection of a text input, and what serving it reports to.
pub struct Conn<'a> {
    /// The client.
    pub peer: SocketAddr,
    /// The input's counters.
    pub stats: &'a TextStats,
    /// The input's log.
    pub log: &'a PluginLog,
    /// The daemon's stop signal.
    pub shutdown: watch::Receiver<bool>,
    /// The name of the message limit, for the log.
    pub limit_name: &'a str,
}

/// Serve one connection (after a TLS handshake with `tls`) until the client closes, the
/// framing breaks, an emit fails, or the daemon stops (then what the client already sent is
/// still read); then close it in order (a TLS client gets its `close_notify`).
pub async fn serve_text<K: MessageSink>(
    stream: TcpStream,
    tls: Option<&TlsAcceptor>,
    framer: Framer,
    sink: &mut K,
    c: Conn<'_>,
) {
    match tls {
        None => read_stream(stream, framer, sink, c).await,
        Some(acc) => {
            if let Some(s) = tls_handshake(stream, acc, c.log, c.peer).await {
                read_stream(s, framer, sink, c).await
            }
        }
    }
}

async fn read_stream<S: AsyncRead + AsyncWrite + Unpin, K: MessageSink>(
    mut s: S,
    framer: Framer,
    sink: &mut K,
    c: Conn<'_>,
) {
    read_all(&mut s, framer, sink, c).await;
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, s.shutdown()).await;
}

/// Longest wait for the close of a connection to go out.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

async fn read_all<S: AsyncRead + Unpin, K: MessageSink>(
    mut s: S,
    mut framer: Framer,
    sink: &mut K,
    c: Conn<'_>,
) {
    let Conn {
        peer,
        stats,
        log,
        mut shutdown,
        limit_name,
    } = c;
    let mut warned_long = false;
    let mut stopping = *shutdown.borrow();
    loop {
        let buf = framer.buffer();
        let read = if stopping {
            match tokio::time::timeout(DRAIN_QUIET, read_chunk(&mut s, buf)).await {
                Ok(r) => r,
                Err(_) => break,
            }
        } else {
            tokio::select! {
                r = read_chunk(&mut s, buf) => r,
                _ = shutdown.changed() => {
                    stopping = true;
                    continue;
                }
            }
        };
        let n = match read {
            Ok(n) => n,
            Err(e) => {
                log.debug(format_args!("read from {peer} failed: {e}"));
                0
            }
        };
        let mut long = None;
        let framed = if n == 0 {
            let lost = framer.finish(|p| deliver(p, sink, &mut long));
            if lost > 0 {
                stats.malformed.fetch_add(1, Ordering::Relaxed);
                log.warn(format_args!(
                    "{peer} closed the connection inside an octet-counted frame: {lost} bytes lost"
                ));
            }
            Ok(())
        } else {
            framer.drain(|p| deliver(p, sink, &mut long))
        };
        if let Some((count, len)) = long {
            stats.too_long.fetch_add(count, Ordering::Relaxed);
            if !warned_long {
                warned_long = true;
                log.warn(format_args!(
                    "a message from {peer} of {len} bytes is larger than {limit_name}: dropped (further ones from this connection are only counted)"
                ));
            }
        }
        if let Err(e) = sink.flush().await {
            log.warn(format_args!(
                "cannot emit what {peer} sent: {e}; closing the connection"
            ));
            return;
        }
        if let Err(m) = framed {
            stats.malformed.fetch_add(1, Ordering::Relaxed);
            log.warn(format_args!("closing the connection from {peer}: {}", m.0));
            return;
        }
        if n == 0 {
            return;
        }
    }
}

/// Read at most [`READ_SIZE`] bytes, appending to `buf`.
async fn read_chunk<S: AsyncRead + Unpin>(s: &mut S, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    s.take(READ_SIZE as u64).read_buf(buf).await
}

fn deliver<K: MessageSink>(p: Piece<'_>, sink: &mut K, long: &mut Option<(u64, usize)>) {
    match p {
        Piece::Message(m) => sink.message(m),
        Piece::TooLong(n) => {
            let (c, _) = long.get_or_insert((0, n));
            *c += 1;
        }
    }
}
