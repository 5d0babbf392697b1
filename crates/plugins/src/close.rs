//! Closing a connection so that the peer loses nothing it was sent.
//!
//! A TCP socket closed while bytes it received are still unread is ended by the kernel with a
//! reset, not a FIN, and a reset makes the peer's kernel throw away whatever that peer had not
//! read yet. Over TLS 1.3 this is the usual case, not a corner: servers send session tickets after
//! the handshake, and a client that writes its frame and closes without reading them resets the
//! connection under its own last frame. So every close here is orderly: TLS `close_notify`, a
//! TCP shutdown of the write side, then reading (and discarding) until the peer closes too. Only
//! when the peer has closed after reading our FIN do we know it read everything before it — or,
//! for a peer that resets at its close as Fluentd's in_forward does, when its kernel had
//! acknowledged every byte before the reset (see [`orderly_close_into`]).

use std::io::ErrorKind;
use std::os::fd::RawFd;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Bytes of what the peer still sent during the close that are kept for the caller to inspect.
const KEEP: usize = 4096;

/// What the peer still sent while the connection was being closed.
#[derive(Debug, Default)]
pub struct Drained {
    /// Total bytes read and discarded.
    pub bytes: usize,
    /// The first of them (at most 4 KiB), for a diagnosis.
    pub head: Vec<u8>,
    /// The peer reset the connection instead of closing it, after its kernel had acknowledged
    /// every byte we sent (see [`orderly_close_into`]).
    pub reset: bool,
}

/// Why a close was not orderly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseError {
    /// The peer did not close its side within the time allowed.
    Timeout,
    /// Shutting down or reading failed: typically a reset, which may have lost what the peer
    /// had not read yet.
    Io(String),
}

impl std::fmt::Display for CloseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CloseError::Timeout => f.write_str("the peer did not close the connection in time"),
            CloseError::Io(e) => write!(f, "the connection did not close cleanly: {e}"),
        }
    }
}

/// Close `s` in order — TLS `close_notify` and TCP FIN (both are what `shutdown` sends on a TLS
/// stream), then read until the peer's own close — within `timeout`. `Ok` means the peer closed
/// after our FIN, so it read everything we sent before it.
pub async fn orderly_close<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    timeout: Duration,
) -> Result<Drained, CloseError> {
    let mut d = Drained::default();
    orderly_close_into(s, timeout, &mut d, None)
        .await
        .map(|()| d)
}

/// How often a close that waits for the peer looks at what the peer's kernel acknowledged.
const POLL: Duration = Duration::from_millis(50);
/// How long the peer may keep its side open once its kernel acknowledged all we sent.
const GRACE: Duration = Duration::from_secs(2);

/// Bytes of `fd`'s send queue the peer has not acknowledged yet (Linux `SIOCOUTQ`).
fn unacknowledged(fd: RawFd) -> Option<i32> {
    let mut n: libc::c_int = 0;
    // SAFETY: TIOCOUTQ (SIOCOUTQ on a TCP socket) writes one int; `n` is valid for it.
    let rc = unsafe { libc::ioctl(fd, libc::TIOCOUTQ, &mut n as *mut libc::c_int) };
    (rc == 0).then_some(n)
}

/// [`orderly_close`], keeping what the peer sent in `d` whatever the outcome (a server that
/// refuses a client sends its reason, then resets).
///
/// With `socket` (the TCP socket under `s`), two more things are known from the kernel:
///
/// * **A peer that resets at its close.** Fluentd's in_forward closes every connection with
///   `SO_LINGER` 0 (its `linger_timeout` default), i.e. with a reset right after it read our
///   FIN, never with a FIN. So before our own close the wait is for the peer's kernel to
///   acknowledge every byte we wrote (Linux `SIOCOUTQ` at 0: a delayed acknowledgement is not
///   lost under the reset); a reset after that counts as a close ([`Drained::reset`] set): the
///   peer held everything, as it does when it closes with a FIN. A reset while bytes were still
///   unacknowledged is an error: they may never have arrived. (What the peer's process did with
///   bytes its kernel held cannot be seen from here: a server killed with them unread resets the
///   same way. Acks, `require_ack_response`, are what tell.)
/// * **A peer that does not close its side.** It is not waited for to the end of `timeout`: once
///   its kernel has acknowledged everything we sent — the last record, our close_notify and our
///   FIN — and `GRACE` has passed, the close counts as orderly. The peer then holds every byte;
///   nothing unread on our side means our close sends no reset. (Fluent Bit 4.x sometimes leaves
///   a TLS connection open after the client's close_notify.)
pub async fn orderly_close_into<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    timeout: Duration,
    d: &mut Drained,
    socket: Option<RawFd>,
) -> Result<(), CloseError> {
    let fut = async {
        // On the heap: this future lives inside every connection's task, idle ones included.
        let mut buf = vec![0u8; 4096];
        let mut peer_closed = false;
        let acked = match socket {
            Some(fd) => wait_acknowledged(s, fd, &mut buf, d, &mut peer_closed).await?,
            None => false,
        };
        if let Err(e) = s.shutdown().await {
            // A reset that arrived after the peer's kernel acknowledged everything: the write of
            // our close_notify or FIN finds the connection gone.
            if acked && is_reset(&e) {
                d.reset = true;
                return Ok(());
            }
            return Err(CloseError::Io(format!("shutdown: {e}")));
        }
        if peer_closed {
            return Ok(());
        }
        let mut all_acked_at: Option<tokio::time::Instant> = None;
        loop {
            let r = tokio::select! {
                r = s.read(&mut buf) => r,
                _ = tokio::time::sleep(POLL), if socket.is_some() => {
                    match socket.and_then(unacknowledged) {
                        Some(0) => {
                            let at = *all_acked_at.get_or_insert_with(tokio::time::Instant::now);
                            if at.elapsed() >= GRACE {
                                return Ok(());
                            }
                        }
                        _ => all_acked_at = None,
                    }
                    continue;
                }
            };
            match r {
                Ok(0) => return Ok(()),
                Ok(n) => keep(d, &buf[..n]),
                // A TLS peer that closed TCP without its own close_notify (as many do once they
                // have read ours): closed all the same.
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(()),
                Err(e) if acked && is_reset(&e) => {
                    d.reset = true;
                    return Ok(());
                }
                Err(e) => return Err(CloseError::Io(e.to_string())),
            }
        }
    };
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(CloseError::Timeout),
    }
}

/// Count and keep (the first [`KEEP`] bytes of) what the peer sent during the close.
fn keep(d: &mut Drained, b: &[u8]) {
    d.bytes += b.len();
    let room = KEEP.saturating_sub(d.head.len());
    d.head.extend_from_slice(&b[..b.len().min(room)]);
}

/// Is `e` what a connection the peer reset (or aborted) reports?
fn is_reset(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::BrokenPipe
            | ErrorKind::NotConnected
    )
}

/// Wait until the peer's kernel has acknowledged every byte written to `fd` (`true`), reading
/// what the peer sends meanwhile into `d`. `false` when the kernel cannot tell, or the peer
/// closed its side first (`peer_closed` set; the close goes on as usual). A reset before
/// everything was acknowledged is an error. Polls quickly at first (on a local network the
/// acknowledgement is there within a millisecond), then every [`POLL`].
async fn wait_acknowledged<S: AsyncRead + Unpin>(
    s: &mut S,
    fd: RawFd,
    buf: &mut [u8],
    d: &mut Drained,
    peer_closed: &mut bool,
) -> Result<bool, CloseError> {
    let mut pause = Duration::from_millis(1);
    loop {
        match unacknowledged(fd) {
            Some(0) => return Ok(true),
            None => return Ok(false),
            Some(_) => {}
        }
        tokio::select! {
            r = s.read(buf) => match r {
                Ok(0) => {
                    *peer_closed = true;
                    return Ok(false);
                }
                Ok(n) => keep(d, &buf[..n]),
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                    *peer_closed = true;
                    return Ok(false);
                }
                Err(e) => {
                    return Err(CloseError::Io(format!(
                        "{e} (with bytes the server had not acknowledged)"
                    )))
                }
            },
            _ = tokio::time::sleep(pause) => pause = (pause * 2).min(POLL),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::{TcpListener, TcpStream};

    #[tokio::test]
    async fn waits_for_the_peer_and_discards_what_it_sent() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            // Unsolicited bytes, as a TLS 1.3 server's session tickets.
            s.write_all(b"ticket").await.unwrap();
            let mut got = Vec::new();
            s.read_to_end(&mut got).await.unwrap();
            got
        });
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(b"frame").await.unwrap();
        let d = orderly_close(&mut c, Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!(d.head, b"ticket");
        assert_eq!(d.bytes, 6);
        assert_eq!(server.await.unwrap(), b"frame");
    }

    #[tokio::test]
    async fn a_peer_that_never_closes_is_a_timeout() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let (s, _) = l.accept().await.unwrap();
            let _ = rx.await;
            drop(s);
        });
        let mut c = TcpStream::connect(addr).await.unwrap();
        let r = orderly_close(&mut c, Duration::from_millis(200)).await;
        assert_eq!(r.unwrap_err(), CloseError::Timeout);
        let _ = tx.send(());
        server.await.unwrap();
    }

    #[tokio::test]
    async fn a_peer_that_read_everything_but_stays_open_is_closed_after_the_grace() {
        use std::os::fd::AsRawFd;
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let (s, _) = l.accept().await.unwrap();
            let _ = rx.await;
            drop(s);
        });
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(b"frame").await.unwrap();
        let fd = c.as_raw_fd();
        let mut d = Drained::default();
        let t = std::time::Instant::now();
        orderly_close_into(&mut c, Duration::from_secs(60), &mut d, Some(fd))
            .await
            .unwrap();
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "waited for the timeout"
        );
        let _ = tx.send(());
        server.await.unwrap();
    }

    #[tokio::test]
    async fn a_reset_is_an_error() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (s, _) = l.accept().await.unwrap();
            // Linger 0: close() sends a reset.
            socket2::SockRef::from(&s)
                .set_linger(Some(Duration::ZERO))
                .unwrap();
            drop(s);
        });
        let mut c = TcpStream::connect(addr).await.unwrap();
        server.await.unwrap();
        // Whether the reset arrived before the shutdown (which then fails) or after it (the
        // read reports it), the close is not orderly.
        let r = orderly_close(&mut c, Duration::from_secs(10)).await;
        assert!(matches!(r, Err(CloseError::Io(_))), "{r:?}");
    }

    /// A server that reads to the end and then closes with `SO_LINGER` 0, as Fluentd's
    /// in_forward does by default: a reset instead of a FIN.
    async fn fluentd_like_server(l: TcpListener) -> usize {
        let (mut s, _) = l.accept().await.unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).await.unwrap();
        socket2::SockRef::from(&s)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(s);
        got.len()
    }

    #[tokio::test]
    async fn a_reset_after_everything_was_acknowledged_is_a_close() {
        use std::os::fd::AsRawFd;
        // Small and large frames: the last segments of a large one are the ones a delayed
        // acknowledgement leaves unacknowledged when the reset comes.
        for len in [30usize, 3 << 20] {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = l.local_addr().unwrap();
            let server = tokio::spawn(fluentd_like_server(l));
            let mut c = TcpStream::connect(addr).await.unwrap();
            c.write_all(&vec![b'x'; len]).await.unwrap();
            let fd = c.as_raw_fd();
            let mut d = Drained::default();
            let r = orderly_close_into(&mut c, Duration::from_secs(30), &mut d, Some(fd)).await;
            assert_eq!(r, Ok(()), "{len} bytes");
            assert!(d.reset, "{len} bytes: the server reset");
            assert_eq!(server.await.unwrap(), len);
        }
    }

    #[tokio::test]
    async fn a_reset_with_bytes_unacknowledged_is_an_error() {
        use std::os::fd::AsRawFd;
        // A server that reads nothing, with a small receive window, then resets: what it had not
        // acknowledged is lost.
        let ls = tokio::net::TcpSocket::new_v4().unwrap();
        ls.set_recv_buffer_size(4096).unwrap();
        ls.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let l = ls.listen(8).unwrap();
        let addr = l.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let (s, _) = l.accept().await.unwrap();
            let _ = rx.await;
            socket2::SockRef::from(&s)
                .set_linger(Some(Duration::ZERO))
                .unwrap();
            drop(s);
        });
        let cs = tokio::net::TcpSocket::new_v4().unwrap();
        cs.set_send_buffer_size(4 << 20).unwrap();
        let mut c = cs.connect(addr).await.unwrap();
        c.write_all(&vec![b'x'; 256 << 10]).await.unwrap();
        let fd = c.as_raw_fd();
        assert!(unacknowledged(fd).unwrap() > 0, "the window held some back");
        let _ = tx.send(());
        let mut d = Drained::default();
        let r = orderly_close_into(&mut c, Duration::from_secs(30), &mut d, Some(fd)).await;
        assert!(matches!(r, Err(CloseError::Io(_))), "{r:?}");
        assert!(!d.reset);
        server.await.unwrap();
    }
}
