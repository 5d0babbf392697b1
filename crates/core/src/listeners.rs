//! Listening sockets that outlive a pipeline, so a reload refuses no connection.
//!
//! Inputs take their TCP listeners and UDP sockets from here instead of binding them: the first
//! claim of an address binds it and the process keeps a duplicate descriptor; later claims (by
//! the pipeline a reload builds) get a duplicate of the same socket. While the old pipeline
//! drains and the new one starts, the socket stays bound and listening: the kernel completes
//! handshakes and queues connections in the backlog, and the new input accepts them.
//!
//! A reload calls [`begin_reload`] before stopping the old pipeline and [`end_reload`] once the
//! new one started: sockets the new config no longer claims close then. At the final stop,
//! [`close_all`] lets the listeners close with their inputs, so clients see refusals and fail
//! over instead of waiting in a backlog nobody serves.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;

use tokio::sync::watch;

struct Held<S> {
    sock: S,
    /// The reload generation that last claimed it.
    generation: u64,
    /// The number of claims; a claim's receiver sees it change when a later claim takes over.
    claims: watch::Sender<u64>,
}

#[derive(Default)]
struct Pool {
    generation: u64,
    tcp: HashMap<SocketAddr, Held<std::net::TcpListener>>,
    udp: HashMap<SocketAddr, Held<std::net::UdpSocket>>,
}

static POOL: Mutex<Option<Pool>> = Mutex::new(None);

fn with_pool<R>(f: impl FnOnce(&mut Pool) -> R) -> R {
    let mut g = POOL.lock().unwrap_or_else(|e| e.into_inner());
    f(g.get_or_insert_with(Pool::default))
}

/// Resolves when a later claim of the same socket (by the pipeline of a reload) took over, or a
/// reload ended without claiming it (the new config does not have it).
pub struct Superseded {
    rx: watch::Receiver<u64>,
    mine: u64,
}

impl Superseded {
    /// Wait until a later claim took the socket over (never, if none does).
    pub async fn wait(mut self) {
        let mine = self.mine;
        if self.rx.wait_for(|n| *n != mine).await.is_err() {
            // The process is stopping (close_all): serve until the input's own end.
            std::future::pending::<()>().await;
        }
    }
}

/// Operations on one kind of socket.
trait Sock: Sized {
    fn dup(&self) -> io::Result<Self>;
    fn local(&self) -> io::Result<SocketAddr>;
}

impl Sock for std::net::TcpListener {
    fn dup(&self) -> io::Result<Self> {
        self.try_clone()
    }
    fn local(&self) -> io::Result<SocketAddr> {
        self.local_addr()
    }
}

impl Sock for std::net::UdpSocket {
    fn dup(&self) -> io::Result<Self> {
        self.try_clone()
    }
    fn local(&self) -> io::Result<SocketAddr> {
        self.local_addr()
    }
}

/// The socket held for `addr` (a duplicate), else a new one from `bind`, kept under its bound
/// address (port 0 binds anew every time).
fn claim<S: Sock>(
    map: &mut HashMap<SocketAddr, Held<S>>,
    generation: u64,
    addr: SocketAddr,
    bind: impl FnOnce() -> io::Result<S>,
) -> io::Result<(S, Superseded)> {
    if let Some(h) = map.get_mut(&addr) {
        let sock = h.sock.dup()?;
        h.generation = generation;
        h.claims.send_modify(|n| *n += 1);
        let mine = *h.claims.borrow();
        return Ok((
            sock,
            Superseded {
                rx: h.claims.subscribe(),
                mine,
            },
        ));
    }
    let sock = bind()?;
    let kept = sock.dup()?;
    let (claims, rx) = watch::channel(0);
    map.insert(
        sock.local()?,
        Held {
            sock: kept,
            generation,
            claims,
        },
    );
    Ok((sock, Superseded { rx, mine: 0 }))
}

/// A non-blocking TCP listener on `addr` (SO_REUSEADDR, `backlog`), shared across reloads.
pub fn tcp(addr: SocketAddr, backlog: i32) -> io::Result<(std::net::TcpListener, Superseded)> {
    with_pool(|p| {
        let generation = p.generation;
        let (l, s) = claim(&mut p.tcp, generation, addr, || {
            let domain = if addr.is_ipv6() {
                socket2::Domain::IPV6
            } else {
                socket2::Domain::IPV4
            };
            let sock =
                socket2::Socket::new(domain, socket2::Type::STREAM, Some(socket2::Protocol::TCP))?;
            sock.set_reuse_address(true)?;
            sock.bind(&addr.into())?;
            sock.listen(backlog)?;
            Ok(sock.into())
        })?;
        // A reload may change the backlog: listen again on the bound socket applies it.
        socket2::SockRef::from(&l).listen(backlog)?;
        l.set_nonblocking(true)?;
        Ok((l, s))
    })
}

/// A non-blocking UDP socket bound to `addr`, shared across reloads.
pub fn udp(addr: SocketAddr) -> io::Result<(std::net::UdpSocket, Superseded)> {
    with_pool(|p| {
        let generation = p.generation;
        let (u, s) = claim(&mut p.udp, generation, addr, || {
            std::net::UdpSocket::bind(addr)
        })?;
        u.set_nonblocking(true)?;
        Ok((u, s))
    })
}

/// A reload starts: what the next pipeline claims from now on is kept at [`end_reload`].
pub fn begin_reload() {
    with_pool(|p| p.generation += 1);
}

/// The reloaded pipeline started: close the sockets it did not claim.
pub fn end_reload() {
    with_pool(|p| {
        let g = p.generation;
        fn keep<S>(h: &mut Held<S>, g: u64) -> bool {
            if h.generation != g {
                h.claims.send_modify(|n| *n += 1);
            }
            h.generation == g
        }
        p.tcp.retain(|_, h| keep(h, g));
        p.udp.retain(|_, h| keep(h, g));
    });
}

/// The process stops: hold no socket open any more (each closes when its input lets go).
pub fn close_all() {
    with_pool(|p| {
        p.tcp.clear();
        p.udp.clear();
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpStream;

    #[tokio::test]
    async fn a_reload_keeps_the_socket_and_closes_what_is_no_longer_claimed() {
        let (first, first_claim) = tcp("127.0.0.1:0".parse().unwrap(), 16).unwrap();
        let addr = first.local_addr().unwrap();
        // The old pipeline's input stops; the pool still listens.
        drop(first);
        begin_reload();
        let early = TcpStream::connect(addr).expect("queued in the backlog, not refused");
        let (second, _) = tcp(addr, 16).unwrap();
        end_reload();
        tokio::time::timeout(std::time::Duration::from_secs(5), first_claim.wait())
            .await
            .expect("the new claim supersedes the old one");
        second.set_nonblocking(false).unwrap();
        let (_, peer) = second.accept().unwrap();
        assert_eq!(peer, early.local_addr().unwrap());
        drop(second);
        begin_reload();
        end_reload();
        assert!(
            TcpStream::connect(addr).is_err(),
            "not claimed by the next reload: closed"
        );
    }
}
