//! The UDP heartbeat: every datagram is answered with one `00` byte to its sender.

use std::net::SocketAddr;

use tokio::net::UdpSocket;
use tokio::sync::watch;

/// Bind the heartbeat socket on the same address and port as the TCP listener (from the
/// process's pool, so a reload keeps it).
pub async fn bind(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let (u, _) = logferry_core::listeners::udp(addr)?;
    UdpSocket::from_std(u)
}

/// Answer heartbeats until shutdown.
pub async fn serve(sock: UdpSocket, mut shutdown: watch::Receiver<bool>) {
    let mut buf = [0u8; 128];
    loop {
        if *shutdown.borrow() {
            break;
        }
        tokio::select! {
            r = sock.recv_from(&mut buf) => {
                if let Ok((_, peer)) = r {
                    let _ = sock.send_to(&[0u8], peer).await;
                }
            }
            _ = shutdown.changed() => break,
        }
    }
}
