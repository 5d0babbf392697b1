//! Connections to a server: TCP (keepalive probes on by default, so idle flows survive an NLB),
//! optionally TLS, then the `<security>` handshake (HELO → PING → PONG); and the pool of
//! connections kept open with `keepalive true`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use logferry_forward::handshake::{check_pong, parse_helo, ping};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use super::config::{ForwardOutConfig, KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_PROBES};
use super::node::Node;
use crate::close::{orderly_close, orderly_close_into, CloseError, Drained};

/// The most a server's reply (HELO, PONG, ack) may take; anything larger is a protocol error.
pub const MAX_REPLY: usize = 64 * 1024;
/// Connections kept per server address with `keepalive true`; more are closed on check-in.
pub const POOL_PER_ADDR: usize = 16;

/// A plain or TLS stream.
pub enum Io {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Io::Plain(s) => s.is_write_vectored(),
            Io::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_flush(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Io::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// The most slices one vectored write is given (Linux takes up to 1024).
const SLICES_PER_WRITE: usize = 64;

/// Write every byte of `parts`, in order, with vectored writes (one system call for many pieces
/// on plain TCP).
async fn write_all_parts(io: &mut Io, parts: &[&[u8]]) -> std::io::Result<()> {
    let (mut i, mut off) = (0usize, 0usize);
    while i < parts.len() {
        if off >= parts[i].len() {
            i += 1;
            off = 0;
            continue;
        }
        let mut slices = Vec::with_capacity(SLICES_PER_WRITE.min(parts.len() - i));
        slices.push(std::io::IoSlice::new(&parts[i][off..]));
        for p in parts[i + 1..].iter().filter(|p| !p.is_empty()) {
            if slices.len() == SLICES_PER_WRITE {
                break;
            }
            slices.push(std::io::IoSlice::new(p));
        }
        let mut n = io.write_vectored(&slices).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        while n > 0 && i < parts.len() {
            let left = parts[i].len() - off;
            if n < left {
                off += n;
                n = 0;
            } else {
                n -= left;
                i += 1;
                off = 0;
            }
        }
    }
    Ok(())
}

/// Why reading a reply failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// Nothing complete arrived in time.
    Timeout,
    /// The server closed the connection (or reset it).
    Closed(String),
    /// The bytes are not one msgpack value of at most [`MAX_REPLY`] bytes.
    Invalid(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Timeout => f.write_str("no reply in time"),
            ReadError::Closed(e) => write!(f, "the server closed the connection{e}"),
            ReadError::Invalid(e) => write!(f, "invalid reply: {e}"),
        }
    }
}

/// One connection to a server.
pub struct Conn {
    io: Io,
    /// The address connected to.
    pub addr: SocketAddr,
    /// Bytes read past the last reply.
    pending: Vec<u8>,
    /// Taken from the keepalive pool (rather than just opened).
    pub reused: bool,
    /// When the pool must close it (`keepalive_timeout`).
    expires: Option<Instant>,
}

impl Conn {
    /// Write all of `parts` within `timeout`.
    pub async fn send(&mut self, parts: &[&[u8]], timeout: Duration) -> Result<(), String> {
        let io = &mut self.io;
        let fut = async move {
            write_all_parts(io, parts).await?;
            io.flush().await
        };
        match tokio::time::timeout(timeout, fut).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("write failed: {e}")),
            Err(_) => Err(format!(
                "write timed out after {:.1}s (send_timeout)",
                timeout.as_secs_f64()
            )),
        }
    }

    /// Read one msgpack value (a HELO, a PONG, an ack) within `timeout`.
    pub async fn read_value(&mut self, timeout: Duration) -> Result<Vec<u8>, ReadError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut buf = [0u8; 4096];
        loop {
            match logferry_msgpack::value_len(&self.pending) {
                Ok(n) => {
                    let rest = self.pending.split_off(n);
                    return Ok(std::mem::replace(&mut self.pending, rest));
                }
                Err(logferry_msgpack::Error::Incomplete) => {}
                Err(e) => return Err(ReadError::Invalid(e.to_string())),
            }
            if self.pending.len() > MAX_REPLY {
                return Err(ReadError::Invalid(format!(
                    "more than {MAX_REPLY} bytes without a complete value"
                )));
            }
            match tokio::time::timeout_at(deadline, self.io.read(&mut buf)).await {
                Err(_) => return Err(ReadError::Timeout),
                Ok(Ok(0)) => return Err(ReadError::Closed(String::new())),
                Ok(Ok(n)) => self.pending.extend_from_slice(&buf[..n]),
                Ok(Err(e)) => return Err(ReadError::Closed(format!(": {e}"))),
            }
        }
    }

    /// Is a pooled connection unusable: closed by the server, reset, or holding bytes nobody
    /// asked for (a late ack)? Polls once without waiting.
    pub fn is_stale(&mut self) -> bool {
        if !self.pending.is_empty() {
            return true;
        }
        let mut cx = Context::from_waker(Waker::noop());
        let mut b = [0u8; 64];
        let mut rb = ReadBuf::new(&mut b);
        match Pin::new(&mut self.io).poll_read(&mut cx, &mut rb) {
            // Nothing to read: alive as far as we can tell (TLS session tickets are consumed
            // by rustls and also end here).
            Poll::Pending => false,
            Poll::Ready(Ok(())) => true,
            Poll::Ready(Err(_)) => true,
        }
    }

    /// Close in order (TLS close_notify, FIN, then read until the server closes too; see
    /// [`crate::close`]) within `timeout`. `Ok` means the server read all that was sent.
    pub async fn close(mut self, timeout: Duration) -> Result<Drained, CloseError> {
        orderly_close(&mut self.io, timeout).await
    }

    /// [`close`](Self::close), keeping what the server still sent in `d` whatever the outcome.
    pub async fn close_into(
        mut self,
        timeout: Duration,
        d: &mut Drained,
    ) -> Result<(), CloseError> {
        let fd = self.raw_fd();
        orderly_close_into(&mut self.io, timeout, d, Some(fd)).await
    }

    /// The TCP socket under the connection.
    fn raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        match &self.io {
            Io::Plain(s) => s.as_raw_fd(),
            Io::Tls(s) => s.get_ref().0.as_raw_fd(),
        }
    }

    /// Close in order in the background (a connection no longer wanted).
    pub fn close_later(self, timeout: Duration) {
        tokio::spawn(async move {
            let _ = self.close(timeout).await;
        });
    }
}

/// Opens connections (TCP, TLS, handshake) to nodes.
pub struct Connector {
    cfg: Arc<ForwardOutConfig>,
    tls: Option<TlsConnector>,
}

impl Connector {
    /// A connector; `tls` is built from the configuration at start.
    pub fn new(cfg: Arc<ForwardOutConfig>, tls: Option<TlsConnector>) -> Self {
        Connector { cfg, tls }
    }

    /// Connect to `node` at `addr`: TCP within `connect_timeout`, TLS, then the `<security>`
    /// handshake within `hard_timeout`.
    pub async fn connect(&self, node: &Node, addr: SocketAddr) -> Result<Conn, String> {
        let cfg = &self.cfg;
        let sock = if addr.is_ipv4() {
            TcpSocket::new_v4()
        } else {
            TcpSocket::new_v6()
        }
        .map_err(|e| format!("socket: {e}"))?;
        let stream = match tokio::time::timeout(cfg.connect_timeout, sock.connect(addr)).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => return Err(format!("connect to {addr} failed: {e}")),
            Err(_) => {
                return Err(format!(
                    "connect to {addr} timed out after {:.1}s",
                    cfg.connect_timeout.as_secs_f64()
                ))
            }
        };
        let _ = stream.set_nodelay(true);
        if cfg.tcp_keepalive {
            let ka = socket2::TcpKeepalive::new()
                .with_time(KEEPALIVE_IDLE)
                .with_interval(KEEPALIVE_INTERVAL)
                .with_retries(KEEPALIVE_PROBES);
            let _ = socket2::SockRef::from(&stream).set_tcp_keepalive(&ka);
        }
        let hard = Duration::from_secs_f64(cfg.hard_timeout);
        let io = match &self.tls {
            None => Io::Plain(stream),
            Some(tls) => {
                let name = super::tls::server_name(&node.cfg.host, node.cfg.name.as_deref())?;
                let shown = match &name {
                    rustls::pki_types::ServerName::DnsName(d) => d.as_ref().to_string(),
                    other => format!("{other:?}"),
                };
                match tokio::time::timeout(hard, tls.connect(name, stream)).await {
                    Ok(Ok(s)) => Io::Tls(Box::new(s)),
                    Ok(Err(e)) => {
                        return Err(format!(
                            "TLS handshake with {addr} failed: {}",
                            crate::tls_errors::client_handshake(&e, &shown)
                        ))
                    }
                    Err(_) => return Err(format!("TLS handshake with {addr} timed out")),
                }
            }
        };
        let mut conn = Conn {
            io,
            addr,
            pending: Vec::new(),
            reused: false,
            expires: None,
        };
        if let Some(sec) = &cfg.security {
            let shared_key = node.cfg.shared_key.as_deref().unwrap_or(&sec.shared_key);
            let helo = conn
                .read_value(hard)
                .await
                .map_err(|e| format!("handshake with {addr}: HELO: {e}"))?;
            let helo = parse_helo(&helo).map_err(|e| format!("handshake with {addr}: {e}"))?;
            let salt: String = rand::random::<[u8; 16]>()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            let p = ping(
                &helo,
                &sec.self_hostname,
                shared_key,
                &salt,
                &node.cfg.username,
                &node.cfg.password,
            );
            conn.send(&[&p], cfg.send_timeout).await?;
            let pong = conn
                .read_value(hard)
                .await
                .map_err(|e| format!("handshake with {addr}: PONG: {e}"))?;
            check_pong(&pong, &helo, &salt, shared_key, &sec.self_hostname)
                .map_err(|e| format!("connection refused to {}: {e}", node.label))?;
        }
        Ok(conn)
    }
}

/// Connections kept open between chunks (`keepalive true`), per server address.
pub struct Pool {
    idle: Mutex<HashMap<SocketAddr, Vec<Conn>>>,
    timeout: Option<Duration>,
    /// How long closing one connection in order may take.
    close_timeout: Duration,
}

impl Pool {
    /// A pool closing connections idle for `timeout` (`keepalive_timeout`; none: never), each
    /// close in order within `close_timeout`.
    pub fn new(timeout: Option<Duration>, close_timeout: Duration) -> Self {
        Pool {
            idle: Mutex::new(HashMap::new()),
            timeout,
            close_timeout,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, Vec<Conn>>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An idle connection to `addr` that still looks usable; expired and stale ones are closed.
    pub fn checkout(&self, addr: SocketAddr) -> Option<Conn> {
        let now = Instant::now();
        let mut dead = Vec::new();
        let found = {
            let mut m = self.lock();
            let list = m.get_mut(&addr)?;
            let mut found = None;
            while let Some(mut c) = list.pop() {
                if c.expires.is_some_and(|t| t <= now) || c.is_stale() {
                    dead.push(c);
                    continue;
                }
                found = Some(c);
                break;
            }
            if list.is_empty() {
                m.remove(&addr);
            }
            found
        };
        for c in dead {
            c.close_later(self.close_timeout);
        }
        found.map(|mut c| {
            c.reused = true;
            c
        })
    }

    /// Return a connection after a complete exchange; beyond [`POOL_PER_ADDR`] it is closed.
    pub fn checkin(&self, mut conn: Conn) {
        // As Fluentd's SocketCache: keepalive_timeout counts from the last use.
        conn.expires = self.timeout.map(|t| Instant::now() + t);
        let mut m = self.lock();
        let list = m.entry(conn.addr).or_default();
        if list.len() < POOL_PER_ADDR {
            list.push(conn);
        } else {
            drop(m);
            conn.close_later(self.close_timeout);
        }
    }

    /// Close expired and stale idle connections.
    pub fn purge(&self) {
        let now = Instant::now();
        let mut dead = Vec::new();
        let mut m = self.lock();
        for list in m.values_mut() {
            let mut keep = Vec::with_capacity(list.len());
            for mut c in list.drain(..) {
                if c.expires.is_some_and(|t| t <= now) || c.is_stale() {
                    dead.push(c);
                } else {
                    keep.push(c);
                }
            }
            *list = keep;
        }
        m.retain(|_, l| !l.is_empty());
        drop(m);
        for c in dead {
            c.close_later(self.close_timeout);
        }
    }

    /// Close every idle connection in order, all at once, and wait for them (at shutdown).
    pub async fn close_all(&self) {
        let all: Vec<Conn> = self.lock().drain().flat_map(|(_, l)| l).collect();
        let t = self.close_timeout;
        let closes: Vec<_> = all
            .into_iter()
            .map(|c| tokio::spawn(async move { c.close(t).await }))
            .collect();
        for c in closes {
            let _ = c.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    // Many pieces (empty ones among them), more than one vectored write takes and more than the
    // socket buffers hold, so writes end mid-piece: every byte arrives, in order.
    #[tokio::test]
    async fn pieces_are_written_whole_and_in_order_across_partial_writes() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let reader = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            s.read_to_end(&mut got).await.unwrap();
            got
        });
        let pieces: Vec<Vec<u8>> = (0..300u32)
            .map(|i| {
                let len = match i % 4 {
                    0 => 0,
                    1 => 7,
                    2 => 40_000 + i as usize,
                    _ => 1,
                };
                (0..len)
                    .map(|j| (j as u32 ^ i.wrapping_mul(97)) as u8)
                    .collect()
            })
            .collect();
        let parts: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
        // A small send buffer: a 40 kB piece cannot go in one write.
        let sock = tokio::net::TcpSocket::new_v4().unwrap();
        sock.set_send_buffer_size(8192).unwrap();
        let mut io = Io::Plain(sock.connect(addr).await.unwrap());
        write_all_parts(&mut io, &parts).await.unwrap();
        io.shutdown().await.unwrap();
        drop(io);
        assert_eq!(reader.await.unwrap(), pieces.concat());
    }
}
