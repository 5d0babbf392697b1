//! `unix` input: Fluentd's forward protocol over a unix socket, as Fluentd's `in_unix` — the
//! input ECS FireLens puts first in the config it generates (`path /var/run/fluent.sock`), where
//! Docker's `fluentd` log driver of every app container connects (`fluentd-address
//! unix:///…`).
//!
//! Parameters: Fluentd's `path` (default `/var/run/fluent/fluent.sock`, or `$FLUENT_SOCKET`),
//! `backlog` and `tag`, plus everything of in_forward that has a meaning on a local socket:
//! `add_tag_prefix`, `chunk_size_limit`, `chunk_size_warn_limit`, `skip_invalid_event`,
//! `decompression_size_limit`, `deny_keepalive`, `frame_timeout`. Connections are served by
//! in_forward's connection code (one implementation for TCP, TLS and unix): every forward mode
//! (Message, Forward, PackedForward, CompressedPackedForward, and JSON arrays), acks when the
//! client asks for them, the frame timeout, the limits, the counters (`connections`,
//! `malformed_connections`, `invalid_events`, `stalled_connections`).
//!
//! The socket file: a stale socket (left by a killed process: nobody accepts on it) is replaced
//! at start; the parent directory is created; the file is removed when the input stops.
//!
//! Differences from Fluentd's in_unix: acks are sent when a frame asks for one (Fluentd's in_unix
//! never acks, so Docker's driver with `fluentd-request-ack` waits forever on it); a socket
//! file that a live process still accepts on is not taken over (start-up fails), and a path that
//! is not a socket is never deleted (Fluentd unlinks whatever is there); the socket file is
//! removed at stop. Parameters about peer addresses and TCP (`port`, `bind`, `<transport>`,
//! `<security>`, `source_address_key`, `source_hostname_key`, `resolve_hostname`,
//! `send_keepalive_packet`) are refused: access to a unix socket is governed by its file
//! permissions.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use async_trait::async_trait;
use logferry_core::{BuildCtx, BuildError, Input, InputContext, PluginLog, Section};
use tokio::net::UnixListener;
use tokio::task::JoinHandle;

use crate::in_forward::conn::{Conn, Peer};
use crate::in_forward::{ForwardConfig, ForwardMetrics, ForwardStats};

/// Fluentd's default socket path (`Fluent::DEFAULT_SOCKET_PATH`).
pub const DEFAULT_PATH: &str = "/var/run/fluent/fluent.sock";

/// The unix input.
pub struct UnixInput {
    path: PathBuf,
    backlog: i32,
    cfg: Arc<ForwardConfig>,
    log: PluginLog,
    stats: Arc<ForwardStats>,
}

/// Build from `<source>`.
pub fn build(ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Input>, BuildError> {
    let s = &s.declared(&crate::in_forward::params::IN_UNIX);
    s.refuse_declared()?;
    s.refuse_section("transport", "a unix socket is neither TCP nor TLS")?;
    s.refuse_section("security", crate::in_forward::params::UNIX_WHY)?;
    let default = std::env::var("FLUENT_SOCKET").unwrap_or_else(|_| DEFAULT_PATH.to_string());
    let path = s.get::<Option<String>>("path")?.unwrap_or(default);
    if path.is_empty() {
        return Err(logferry_core::error::build_error(
            s.pos(),
            "path: expected the socket file's path",
        ));
    }
    let backlog: i64 = s.get("backlog")?;
    let backlog = i32::try_from(backlog)
        .ok()
        .filter(|b| *b > 0)
        .ok_or_else(|| {
            logferry_core::error::build_error(
                s.pos(),
                format!("backlog {backlog}: expected a positive integer"),
            )
        })?;
    let cfg = ForwardConfig::from_section(s)?;
    let stats = Arc::new(ForwardStats::default());
    ctx.metrics
        .attach(&ctx.plugin_id, Arc::new(ForwardMetrics(stats.clone())));
    Ok(Arc::new(UnixInput {
        path: PathBuf::from(path),
        backlog,
        cfg: Arc::new(cfg),
        log: ctx.log.clone(),
        stats,
    }))
}

impl UnixInput {
    /// The input's counters.
    pub fn stats(&self) -> &Arc<ForwardStats> {
        &self.stats
    }
}

/// Make room for the socket: create the directory; replace a stale socket; refuse to take over
/// a live one or to delete anything that is not a socket.
fn prepare(path: &Path, log: &PluginLog) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create the directory {}: {e}", dir.display()))?;
    }
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("cannot inspect {}: {e}", path.display())),
    };
    if !meta.file_type().is_socket() {
        return Err(format!(
            "{} exists and is not a socket; logferry does not delete it (remove it or choose another path)",
            path.display()
        ));
    }
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Err(format!(
            "another process is accepting connections on {} (is another logferry or Fluentd running?)",
            path.display()
        )),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            log.warn(format_args!(
                "found a stale socket {} (nobody accepts on it): replacing it",
                path.display()
            ));
            std::fs::remove_file(path)
                .map_err(|e| format!("cannot remove the stale socket {}: {e}", path.display()))
        }
        Err(e) => Err(format!("cannot check the socket {}: {e}", path.display())),
    }
}

fn listen(path: &Path, backlog: i32) -> std::io::Result<std::os::unix::net::UnixListener> {
    let sock = socket2::Socket::new(socket2::Domain::UNIX, socket2::Type::STREAM, None)?;
    sock.set_nonblocking(true)?;
    sock.bind(&socket2::SockAddr::unix(path)?)?;
    sock.listen(backlog)?;
    Ok(sock.into())
}

/// Remove the socket file if it is still the one this input created.
fn remove_own(path: &Path, id: (u64, u64), log: &PluginLog) {
    match std::fs::symlink_metadata(path) {
        Ok(m) if (m.dev(), m.ino()) == id => {
            if let Err(e) = std::fs::remove_file(path) {
                log.warn(format_args!("cannot remove {}: {e}", path.display()));
            }
        }
        _ => log.debug(format_args!(
            "{} was replaced or removed by someone else; left alone",
            path.display()
        )),
    }
}

#[async_trait]
impl Input for UnixInput {
    async fn start(self: Arc<Self>, ctx: InputContext) -> Result<JoinHandle<()>, String> {
        // From the process's pool: a reload keeps the socket (and its file) in place.
        let (listener, _) = logferry_core::listeners::unix(&self.path, || {
            prepare(&self.path, &self.log).map_err(std::io::Error::other)?;
            listen(&self.path, self.backlog)
        })
        .map_err(|e| format!("cannot listen on {}: {e}", self.path.display()))?;
        let listener = UnixListener::from_std(listener)
            .map_err(|e| format!("cannot listen on {}: {e}", self.path.display()))?;
        let id = std::fs::symlink_metadata(&self.path)
            .map(|m| (m.dev(), m.ino()))
            .map_err(|e| format!("cannot stat {}: {e}", self.path.display()))?;
        let shown: Arc<str> = Arc::from(self.path.display().to_string());
        self.log
            .info(format_args!("listening fluent socket on {shown}"));
        let this = self.clone();
        Ok(tokio::spawn(async move {
            let serve = |stream: tokio::net::UnixStream, _| {
                this.stats.connections.fetch_add(1, Ordering::Relaxed);
                let pid = stream.peer_cred().ok().and_then(|c| c.pid());
                let c = Conn {
                    cfg: this.cfg.clone(),
                    log: this.log.clone(),
                    stats: this.stats.clone(),
                    emitter: ctx.emitter.clone(),
                    peer: Peer::Unix {
                        path: shown.clone(),
                        pid,
                    },
                    shutdown: ctx.shutdown.clone(),
                };
                c.run_unix(stream)
            };
            crate::net::accept::serve(
                listener,
                ctx.shutdown.clone(),
                crate::net::accept::MAX_CONNECTIONS,
                &this.log,
                serve,
                // At a reload the process keeps the socket for the next input: the file stays.
                || {
                    if !logferry_core::listeners::holds_unix(&this.path) {
                        remove_own(&this.path, id, &this.log);
                    }
                },
            )
            .await;
            this.log.info(format_args!("stopped listening on {shown}"));
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log() -> PluginLog {
        PluginLog::new("unix", None)
    }

    #[test]
    fn a_stale_socket_is_replaced_and_a_live_one_is_not() {
        let dir = std::env::temp_dir().join(format!("lf-unix-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("sub/fluent.sock");
        // The directory is created.
        prepare(&path, &log()).unwrap();
        // A live listener is not taken over.
        let live = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let err = prepare(&path, &log()).unwrap_err();
        assert!(err.contains("another process is accepting"), "{err}");
        // Closed without unlinking: a stale socket, replaced.
        drop(live);
        assert!(path.exists());
        prepare(&path, &log()).unwrap();
        assert!(!path.exists());
        // A regular file is never deleted.
        std::fs::write(&path, b"keep").unwrap();
        let err = prepare(&path, &log()).unwrap_err();
        assert!(err.contains("is not a socket"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"keep");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
