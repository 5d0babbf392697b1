//! `<system> rpc_endpoint`: Fluentd's HTTP RPC endpoint (lib/fluent/supervisor.rb, rpc.rb).
//!
//! Every path answers any method with `200`, `Content-Type: application/json` and `{"ok":true}`
//! once the action is requested (not when it is done), as Fluentd 1.16 does; like WEBrick's
//! mounts, a path also matches below itself (`/api/config.reload/x`) and the query is ignored.
//! Unknown paths get WEBrick's `404` page. What each path does here:
//!
//! | path | Fluentd | logferry |
//! |---|---|---|
//! | `/api/config.reload` | SIGHUP: restart the workers with the config | reload, listeners kept open |
//! | `/api/config.gracefulReload` | SIGUSR2: reload in the worker | the same reload |
//! | `/api/plugins.flushBuffers` | SIGUSR1 | flush every buffer now |
//! | `/api/processes.interruptWorkers` | SIGINT | stop as at SIGINT |
//! | `/api/processes.killWorkers` | SIGTERM | stop as at SIGTERM |
//! | `/api/processes.flushBuffersAndKillWorkers` | SIGUSR1 + SIGTERM | flush, then stop |
//! | `/api/config.dump` | log the config | log the config (secrets masked) |
//! | `/api/config.getDump` | with `enable_get_dump`: `{"conf":…,"ok":true}` | the same, secrets masked |

use std::sync::{Arc, Mutex};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// What an RPC call asks the daemon to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// `/api/config.reload`, `/api/config.gracefulReload`.
    Reload,
    /// `/api/plugins.flushBuffers`.
    Flush,
    /// `/api/processes.interruptWorkers`.
    Interrupt,
    /// `/api/processes.killWorkers`.
    Kill,
    /// `/api/processes.flushBuffersAndKillWorkers`.
    FlushAndKill,
}

/// The paths and what they request (`None`: answered here, nothing to do in the main loop).
const ROUTES: &[(&str, Option<Request>)] = &[
    ("/api/processes.interruptWorkers", Some(Request::Interrupt)),
    ("/api/processes.killWorkers", Some(Request::Kill)),
    (
        "/api/processes.flushBuffersAndKillWorkers",
        Some(Request::FlushAndKill),
    ),
    ("/api/plugins.flushBuffers", Some(Request::Flush)),
    ("/api/config.reload", Some(Request::Reload)),
    ("/api/config.gracefulReload", Some(Request::Reload)),
    ("/api/config.dump", None),
    ("/api/config.getDump", None),
];

/// The config the endpoint dumps: Fluentd's `<ROOT>` text of the running config, secrets masked.
pub type Dump = Arc<Mutex<String>>;

/// Fluentd's dump text of a parsed config, secrets masked as `--dry-run` masks them.
pub fn dump_text(
    root: &logferry_config::Element,
    decls: &dyn logferry_config::params::Declarations,
) -> String {
    let mut out = String::from("<ROOT>\n");
    for l in crate::mask::masked(root, decls).dump().lines() {
        if !l.is_empty() {
            out.push_str("  ");
            out.push_str(l);
        }
        out.push('\n');
    }
    out.push_str("</ROOT>\n");
    out
}

/// Parse `host:port` / `[v6]:port` as Fluentd does; the error is Fluentd's message.
pub fn parse_endpoint(endpoint: &str) -> Result<(String, u16), String> {
    let bad = || format!("Invalid rpc_endpoint: {endpoint}");
    let (host, port) = endpoint.rsplit_once(':').ok_or_else(bad)?;
    let host = host.strip_prefix('[').unwrap_or(host);
    let host = host.strip_suffix(']').unwrap_or(host);
    let ok_host = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '.'));
    if !ok_host || port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let port = port.parse().map_err(|_| bad())?;
    Ok((host.to_string(), port))
}

/// Bind the endpoint and serve it for the life of the process (reloads keep it).
pub async fn start(
    endpoint: &str,
    get_dump: bool,
    dump: Dump,
    to_main: mpsc::Sender<Request>,
) -> Result<(), String> {
    let (host, port) = parse_endpoint(endpoint)?;
    let listener = TcpListener::bind((host.as_str(), port))
        .await
        .map_err(|e| format!("rpc_endpoint {endpoint}: cannot listen: {e}"))?;
    tracing::info!("listening RPC http server on http://{endpoint}/");
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                continue;
            };
            let (dump, to_main) = (dump.clone(), to_main.clone());
            tokio::spawn(serve(sock, get_dump, dump, to_main));
        }
    });
    Ok(())
}

/// Which route a request path takes: WEBrick matches a mount and every path below it.
fn route(path: &str, get_dump: bool) -> Option<&'static (&'static str, Option<Request>)> {
    ROUTES.iter().find(|(p, _)| {
        (*p != "/api/config.getDump" || get_dump)
            && path
                .strip_prefix(p)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

async fn serve(mut sock: TcpStream, get_dump: bool, dump: Dump, to_main: mpsc::Sender<Request>) {
    let Some(head) = logferry_plugins::in_monitor::read_head(&mut sock).await else {
        return;
    };
    let mut words = head.split_whitespace();
    let method = words.next().unwrap_or("GET").to_string();
    let target = words.next().unwrap_or("/");
    let path = target.split('?').next().unwrap_or("/");
    let (status, ctype, body) = match route(path, get_dump) {
        Some((p, req)) => {
            tracing::debug!("fluentd RPC got {p} request");
            let body = match *p {
                "/api/config.dump" => {
                    let text = dump.lock().map(|d| d.clone()).unwrap_or_default();
                    tracing::info!("dump in-memory config");
                    tracing::info!("{text}");
                    r#"{"ok":true}"#.to_string()
                }
                "/api/config.getDump" => {
                    tracing::info!("get dump in-memory config via HTTP");
                    let text = dump.lock().map(|d| d.clone()).unwrap_or_default();
                    serde_json::json!({ "conf": text, "ok": true }).to_string()
                }
                _ => r#"{"ok":true}"#.to_string(),
            };
            if let Some(r) = req {
                let _ = to_main.send(*r).await;
            }
            ("200 OK", "application/json", body)
        }
        None => (
            "404 Not Found",
            "text/html; charset=ISO-8859-1",
            not_found(path),
        ),
    };
    let mut resp = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    if method != "HEAD" {
        resp.push_str(&body);
    }
    let _ = sock.write_all(resp.as_bytes()).await;
    let _ = sock.shutdown().await;
}

/// WEBrick's 404 page (its ADDRESS line names logferry).
fn not_found(path: &str) -> String {
    let path = path
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.0//EN\">\n<HTML>\n  <HEAD><TITLE>Not Found</TITLE></HEAD>\n  <BODY>\n    <H1>Not Found</H1>\n    `{path}' not found.\n    <HR>\n    <ADDRESS>\n     logferry {}\n    </ADDRESS>\n  </BODY>\n</HTML>\n",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_as_fluentd_parses_them() {
        assert_eq!(
            parse_endpoint("127.0.0.1:24444").unwrap(),
            ("127.0.0.1".into(), 24444)
        );
        assert_eq!(
            parse_endpoint("[::1]:24444").unwrap(),
            ("::1".into(), 24444)
        );
        assert_eq!(
            parse_endpoint("localhost:1").unwrap(),
            ("localhost".into(), 1)
        );
        for bad in ["24444", "host:", ":24444", "a b:1", "h:x1"] {
            assert_eq!(
                parse_endpoint(bad).unwrap_err(),
                format!("Invalid rpc_endpoint: {bad}")
            );
        }
    }

    #[test]
    fn routes_match_below_their_mount_and_get_dump_needs_enabling() {
        assert_eq!(
            route("/api/config.reload", false).unwrap().1,
            Some(Request::Reload)
        );
        assert_eq!(
            route("/api/config.reload/x", false).unwrap().1,
            Some(Request::Reload)
        );
        assert!(route("/api/config.reloadx", false).is_none());
        assert!(route("/api/config.getDump", false).is_none());
        assert!(route("/api/config.getDump", true).is_some());
        assert_eq!(
            route("/api/config.gracefulReload", false).unwrap().1,
            Some(Request::Reload)
        );
    }
}
