//! The receive loop of the datagram inputs (`udp`, `syslog` over UDP): one socket, datagrams
//! read in batches (everything already queued, up to [`BATCH`]) and emitted together. UDP has
//! no backpressure: while an emit waits, new datagrams queue in the socket's receive buffer
//! (`receive_buffer_size`) and the kernel drops what does not fit, as for any UDP receiver.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;

use logferry_core::error::EmitError;
use logferry_core::PluginLog;
use tokio::net::UdpSocket;
use tokio::sync::watch;

use super::stream::TextStats;

/// Most datagrams handled per emit.
pub const BATCH: usize = 256;

/// Where the datagrams go.
pub trait DatagramSink: Send {
    /// One datagram (at most the limit), from `peer`.
    fn datagram(&mut self, data: &[u8], peer: SocketAddr) -> impl Future<Output = ()> + Send;
    /// Emit what the datagrams since the last flush made.
    fn flush(&mut self) -> impl Future<Output = Result<(), EmitError>> + Send;
}

/// Bind a UDP socket on `addr`, with `SO_RCVBUF` when given.
pub fn bind(addr: SocketAddr, receive_buffer: Option<usize>) -> std::io::Result<UdpSocket> {
    let domain = if addr.is_ipv6() {
        socket2::Domain::IPV6
    } else {
        socket2::Domain::IPV4
    };
    let sock = socket2::Socket::new(domain, socket2::Type::DGRAM, Some(socket2::Protocol::UDP))?;
    sock.set_reuse_address(true)?;
    if let Some(n) = receive_buffer {
        sock.set_recv_buffer_size(n)?;
    }
    sock.set_nonblocking(true)?;
    sock.bind(&addr.into())?;
    UdpSocket::from_std(sock.into())
}

/// Receive until `shutdown`; a datagram longer than `limit` bytes is cut to `limit` (as
/// Fluentd's `max_bytes`), counted and logged the first time.
pub async fn receive<K: DatagramSink>(
    sock: UdpSocket,
    limit: usize,
    sink: &mut K,
    mut shutdown: watch::Receiver<bool>,
    stats: &TextStats,
    log: &PluginLog,
) {
    // One byte more than the limit tells a datagram that was longer (and cut) from one that fit.
    let mut buf = vec![0u8; limit + 1];
    let mut warned = false;
    loop {
        let first = tokio::select! {
            r = sock.recv_from(&mut buf) => r,
            _ = shutdown.changed() => break,
        };
        let mut next = Some(first);
        let mut n_batch = 0;
        while let Some(r) = next.take() {
            match r {
                Ok((n, peer)) => {
                    if n > limit {
                        stats.too_long.fetch_add(1, Ordering::Relaxed);
                        if !warned {
                            warned = true;
                            log.warn(format_args!(
                                "a datagram from {peer} is larger than message_length_limit ({limit} bytes): its first {limit} bytes are used, as in Fluentd (further ones are only counted)"
                            ));
                        }
                    }
                    sink.datagram(&buf[..n.min(limit)], peer).await;
                }
                Err(e) => log.debug(format_args!("receive failed: {e}")),
            }
            n_batch += 1;
            if n_batch < BATCH {
                match sock.try_recv_from(&mut buf) {
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    r => next = Some(r),
                }
            }
        }
        if let Err(e) = sink.flush().await {
            log.warn(format_args!("cannot emit received datagrams: {e}"));
        }
    }
}
