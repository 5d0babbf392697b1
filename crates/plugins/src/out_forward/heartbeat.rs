//! Heartbeats (`heartbeat_type`): every `heartbeat_interval`, each server is probed — with
//! `transport`, a connection (TLS and handshake included) opened and closed; with `udp`, a `00`
//! datagram answered by in_forward — then its failure detector is ticked. A server that stops
//! answering is detached (phi above `phi_threshold`, or `hard_timeout`), and comes back after
//! `recover_wait` worth of answered heartbeats.

use std::net::SocketAddr;
use std::sync::{Arc, Weak};

use tokio::net::UdpSocket;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::Inner;

/// Probe node `idx` by connecting, every `heartbeat_interval`, until `stop` or the output is gone.
pub async fn transport(inner: Weak<Inner>, idx: usize, mut stop: watch::Receiver<bool>) {
    let Some(interval) = inner.upgrade().map(|i| i.cfg.heartbeat_interval) else {
        return;
    };
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => return,
        }
        let Some(inner) = inner.upgrade() else { return };
        let node = &inner.balancer.nodes()[idx];
        let probe = async {
            let addr = node.resolve().await?;
            let conn = inner.connector.connect(node, addr).await?;
            // In order: a probe that resets the connection makes TLS servers log a failed
            // handshake (they are still writing session tickets).
            let _ = conn.close(inner.cfg.send_timeout).await;
            Ok::<(), String>(())
        };
        // Not cut short by `stop`: a probe dropped mid-handshake ends its connection without
        // close_notify, which the server logs. Its own timeouts bound it.
        let result = probe.await;
        match result {
            Ok(()) => {
                node.heartbeat(true);
            }
            Err(e) => node.heartbeat_failed(&e),
        }
        node.tick();
        if idx == 0 {
            if let Some(pool) = &inner.pool {
                pool.purge();
            }
        }
    }
}

/// Probe every node with UDP datagrams and count the answers as heartbeats.
pub async fn udp(inner: Weak<Inner>, mut stop: watch::Receiver<bool>) {
    let Some(interval) = inner.upgrade().map(|i| i.cfg.heartbeat_interval) else {
        return;
    };
    let v4 = UdpSocket::bind("0.0.0.0:0").await.ok();
    let v6 = UdpSocket::bind("[::]:0").await.ok();
    if v4.is_none() && v6.is_none() {
        if let Some(i) = inner.upgrade() {
            i.log
                .error(format_args!("cannot bind a UDP socket for heartbeats"));
        }
        return;
    }
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let (mut b4, mut b6) = ([0u8; 128], [0u8; 128]);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                let Some(inner) = inner.upgrade() else { return };
                for node in inner.balancer.nodes() {
                    let sent = match node.resolve().await {
                        Ok(addr) => {
                            let sock = if addr.is_ipv4() { v4.as_ref() } else { v6.as_ref() };
                            match sock {
                                Some(s) => s.send_to(&[0], addr).await.map(|_| ()).map_err(|e| e.to_string()),
                                None => Err(format!("no UDP socket for {addr}")),
                            }
                        }
                        Err(e) => Err(e),
                    };
                    if let Err(e) = sent {
                        node.heartbeat_failed(&e);
                    }
                    node.tick();
                }
                if let Some(pool) = &inner.pool {
                    pool.purge();
                }
            }
            r = recv(v4.as_ref(), &mut b4) => answered(&inner, r),
            r = recv(v6.as_ref(), &mut b6) => answered(&inner, r),
            _ = stop.changed() => return,
        }
    }
}

async fn recv(sock: Option<&UdpSocket>, buf: &mut [u8]) -> std::io::Result<SocketAddr> {
    match sock {
        Some(s) => s.recv_from(buf).await.map(|(_, from)| from),
        None => std::future::pending().await,
    }
}

fn answered(inner: &Weak<Inner>, r: std::io::Result<SocketAddr>) {
    let Ok(from) = r else { return };
    let Some(inner) = inner.upgrade() else { return };
    match inner
        .balancer
        .nodes()
        .iter()
        .find(|n| n.resolved() == Some(from))
    {
        Some(node) => {
            node.heartbeat(true);
        }
        None => inner.log.debug(format_args!(
            "unknown heartbeat response received from {from}"
        )),
    }
}

/// Start the heartbeat tasks of `inner`'s configuration; they end when `stop` turns true (after
/// the probe under way) or the output is dropped.
pub fn spawn(inner: &Arc<Inner>, stop: &watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    use super::config::HeartbeatType;
    let weak = Arc::downgrade(inner);
    match inner.cfg.heartbeat_type {
        HeartbeatType::None => Vec::new(),
        HeartbeatType::Udp => vec![tokio::spawn(udp(weak, stop.clone()))],
        HeartbeatType::Transport => (0..inner.balancer.nodes().len())
            .map(|idx| tokio::spawn(transport(weak.clone(), idx, stop.clone())))
            .collect(),
    }
}
