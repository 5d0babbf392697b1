//! Listening and accepting, one implementation for every stream input (forward, unix, tcp,
//! syslog, http): a bounded number of connections served at once, each in its own task.
//!
//! At the limit no further connection is accepted: new clients wait in the kernel's listen
//! backlog (backpressure) until a served connection ends, instead of each costing a task and
//! its buffers.

use std::future::Future;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

use logferry_core::PluginLog;
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

/// Most connections one input serves at once (an aggregator serves thousands of sidecars; an
/// idle connection costs about 6 KiB).
pub const MAX_CONNECTIONS: usize = 65_536;

/// The address `bind`:`port` resolves to (`[::1]` style brackets allowed).
pub fn resolve(bind: &str, port: u16) -> std::io::Result<SocketAddr> {
    let host = bind.trim_start_matches('[').trim_end_matches(']');
    (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other(format!("bind address '{bind}' does not resolve")))
}

/// A TCP listener on `addr` (SO_REUSEADDR, backlog 1024 unless given), from the process's pool:
/// a reload keeps the socket open for the next pipeline's input (see
/// [`logferry_core::listeners`]).
pub fn tcp_listener(addr: SocketAddr, backlog: Option<i32>) -> std::io::Result<TcpListener> {
    let (l, _) = logferry_core::listeners::tcp(addr, backlog.unwrap_or(1024))?;
    TcpListener::from_std(l)
}

/// A listening socket the accept loop can serve.
pub trait Listener: Send + 'static {
    /// One accepted connection.
    type Stream: Send + 'static;
    /// Its peer address.
    type Addr: Send + 'static;
    /// Accept the next connection.
    fn accept_one(
        &self,
    ) -> impl Future<Output = std::io::Result<(Self::Stream, Self::Addr)>> + Send;
}

impl Listener for TcpListener {
    type Stream = tokio::net::TcpStream;
    type Addr = SocketAddr;
    fn accept_one(
        &self,
    ) -> impl Future<Output = std::io::Result<(Self::Stream, Self::Addr)>> + Send {
        self.accept()
    }
}

impl Listener for UnixListener {
    type Stream = tokio::net::UnixStream;
    type Addr = tokio::net::unix::SocketAddr;
    fn accept_one(
        &self,
    ) -> impl Future<Output = std::io::Result<(Self::Stream, Self::Addr)>> + Send {
        self.accept()
    }
}

/// Accept connections on `listener` until `shutdown` turns true, serving each with `handle` in
/// its own task, at most `limit` at once. Then the connections already waiting in the backlog
/// are served too (they may have sent data), the listener is closed (new clients are refused),
/// `after_close` runs, and this returns once every connection task has ended.
pub async fn serve<L, F, Fut>(
    listener: L,
    mut shutdown: watch::Receiver<bool>,
    limit: usize,
    log: &PluginLog,
    mut handle: F,
    after_close: impl FnOnce(),
) where
    L: Listener,
    F: FnMut(L::Stream, L::Addr) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(limit.max(1)));
    let mut conns = JoinSet::new();
    let mut warned = false;
    loop {
        if *shutdown.borrow() {
            break;
        }
        if slots.available_permits() == 0 && !warned {
            warned = true;
            log.warn(format_args!(
                "serving {limit} connections, the most at once: new clients wait until one closes"
            ));
        }
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => match s {
                Ok(s) => s,
                Err(_) => break,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
            _ = shutdown.changed() => break,
        };
        tokio::select! {
            accepted = listener.accept_one() => match accepted {
                Ok((stream, peer)) => {
                    let fut = handle(stream, peer);
                    conns.spawn(async move {
                        fut.await;
                        drop(slot);
                    });
                }
                Err(e) => {
                    // EMFILE and friends: back off briefly instead of spinning.
                    log.warn(format_args!("accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
            _ = shutdown.changed() => break,
        }
    }
    // Clients the kernel already accepted (in the backlog) have sent what they sent: serve them
    // too, so that nothing a client wrote before the stop is lost to a reset.
    let mut late = 0;
    while late < limit {
        match tokio::time::timeout(Duration::ZERO, listener.accept_one()).await {
            Ok(Ok((stream, peer))) => {
                late += 1;
                conns.spawn(handle(stream, peer));
            }
            _ => break,
        }
    }
    // New clients are refused from here; connections finish what they read, then close.
    drop(listener);
    after_close();
    while conns.join_next().await.is_some() {}
}
