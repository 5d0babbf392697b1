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
use std::hash::Hash;
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tokio::sync::watch;

struct Held<S> {
    sock: S,
    /// The reload generation that last claimed it.
    generation: u64,
    /// The number of claims; a claim's receiver sees it change when a later claim takes over.
    claims: watch::Sender<u64>,
}

/// A unix socket held by the pool, and the identity of the file it created (removed with it).
struct UnixHeld {
    listener: UnixListener,
    file: (u64, u64),
}

#[derive(Default)]
struct Pool {
    generation: u64,
    tcp: HashMap<SocketAddr, Held<std::net::TcpListener>>,
    udp: HashMap<SocketAddr, Held<std::net::UdpSocket>>,
    unix: HashMap<PathBuf, Held<UnixHeld>>,
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
    /// What a claim gets.
    type Out;
    fn dup(&self) -> io::Result<Self::Out>;
}

impl Sock for std::net::TcpListener {
    type Out = Self;
    fn dup(&self) -> io::Result<Self> {
        self.try_clone()
    }
}

impl Sock for std::net::UdpSocket {
    type Out = Self;
    fn dup(&self) -> io::Result<Self> {
        self.try_clone()
    }
}

impl Sock for UnixHeld {
    type Out = UnixListener;
    fn dup(&self) -> io::Result<UnixListener> {
        self.listener.try_clone()
    }
}

/// The socket held under `key` (a duplicate), else a new one from `bind`, kept under the key
/// `bind` gives (a TCP/UDP port 0 binds anew every time: its key is the bound address).
fn claim<K: Hash + Eq, S: Sock>(
    map: &mut HashMap<K, Held<S>>,
    generation: u64,
    key: &K,
    bind: impl FnOnce() -> io::Result<(S, K)>,
) -> io::Result<(S::Out, Superseded)> {
    if let Some(h) = map.get_mut(key) {
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
    let (kept, key) = bind()?;
    let sock = kept.dup()?;
    let (claims, rx) = watch::channel(0);
    map.insert(
        key,
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
        let (l, s) = claim(&mut p.tcp, generation, &addr, || {
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
            let l: std::net::TcpListener = sock.into();
            let key = l.local_addr()?;
            Ok((l, key))
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
        let (u, s) = claim(&mut p.udp, generation, &addr, || {
            let u = std::net::UdpSocket::bind(addr)?;
            let key = u.local_addr()?;
            Ok((u, key))
        })?;
        u.set_nonblocking(true)?;
        Ok((u, s))
    })
}

/// A unix listening socket at `path`, shared across reloads: `bind` makes it the first time (its
/// checks of what is at `path` included). Non-blocking.
pub fn unix(
    path: &Path,
    bind: impl FnOnce() -> io::Result<UnixListener>,
) -> io::Result<(UnixListener, Superseded)> {
    with_pool(|p| {
        let generation = p.generation;
        let (l, s) = claim(&mut p.unix, generation, &path.to_path_buf(), || {
            let listener = bind()?;
            let m = std::fs::symlink_metadata(path)?;
            let held = UnixHeld {
                listener,
                file: (m.dev(), m.ino()),
            };
            Ok((held, path.to_path_buf()))
        })?;
        l.set_nonblocking(true)?;
        Ok((l, s))
    })
}

/// Does the process hold the unix socket at `path` (so an input stopping for a reload must leave
/// its file in place)?
pub fn holds_unix(path: &Path) -> bool {
    with_pool(|p| p.unix.contains_key(path))
}

/// Remove a released unix socket's file, if it is still the one the pool bound.
fn remove_unix(path: &Path, h: &UnixHeld) {
    if let Ok(m) = std::fs::symlink_metadata(path) {
        if (m.dev(), m.ino()) == h.file {
            let _ = std::fs::remove_file(path);
        }
    }
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
        p.unix.retain(|path, h| {
            let kept = keep(h, g);
            if !kept {
                remove_unix(path, &h.sock);
            }
            kept
        });
    });
}

/// The process stops: hold no socket open any more (each closes when its input lets go).
pub fn close_all() {
    with_pool(|p| {
        p.tcp.clear();
        p.udp.clear();
        // Each unix input removes its own file as it stops, once the pool no longer holds it.
        p.unix.clear();
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpStream;

    /// One test: the pool and its reload generations are process-wide, so the cases must not
    /// run in parallel with each other.
    #[tokio::test]
    async fn reloads_keep_sockets_and_close_what_is_no_longer_claimed() {
        tcp_case().await;
        unix_case();
    }

    async fn tcp_case() {
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

    fn unix_case() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.sock");
        let bind = || UnixListener::bind(&path);
        let (first, _) = unix(&path, bind).unwrap();
        drop(first);
        assert!(holds_unix(&path));
        begin_reload();
        let early = std::os::unix::net::UnixStream::connect(&path).expect("queued, not refused");
        let (second, _) = unix(&path, || panic!("must not bind again")).unwrap();
        end_reload();
        second.set_nonblocking(false).unwrap();
        second.accept().unwrap();
        drop((early, second));
        begin_reload();
        end_reload();
        assert!(
            !holds_unix(&path) && !path.exists(),
            "released: closed and its file removed"
        );
    }
}
