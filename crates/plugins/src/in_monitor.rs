//! `monitor_agent` and `prometheus` sources: an HTTP endpoint with every plugin's counters.
//!
//! Both types serve the same paths (each on its own `bind`/`port`; defaults 24220 and 24231, as
//! Fluentd's monitor_agent and fluent-plugin-prometheus):
//! * `/api/plugins.json` — monitor_agent's JSON (`plugin_id`, `plugin_category`, `type`, `config`,
//!   `output_plugin`, `buffer_queue_length`, `buffer_total_queued_size`, `retry_count`, …);
//! * `/metrics` — Prometheus text, named as fluent-plugin-prometheus names them
//!   (`fluentd_output_status_buffer_queue_length{plugin_id,type}` …) plus logferry's own counters;
//! * `/healthz` — 200 while the process runs (liveness);
//! * `/api/tap?plugin_id=ID` or `?tag=PATTERN` — the events passing there, as JSON lines, for
//!   `logferry tap` ([`crate::monitor_tap`]);
//! * `/readyz` — 200 when listeners are up, no buffer is over 90 % of its `total_limit_size`, and no
//!   output has been failing for more than 300 s; 503 with the reason otherwise, and from the moment
//!   SIGTERM arrives (before the listeners close), so a load balancer stops sending first.
//!
//! The endpoint keeps answering during the shutdown drain, and ends with the process.

use std::fmt::Write as _;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use async_trait::async_trait;
use logferry_core::error::build_error;
use logferry_core::metrics::{Metrics, Readiness};
use logferry_core::params::{p, ParamType::*, Spec};
use logferry_core::{BuildCtx, BuildError, Input, InputContext, PluginLog, Section};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The monitor source.
pub struct MonitorInput {
    bind: String,
    port: u16,
    metrics_path: String,
    metrics: Arc<Metrics>,
    include_config: bool,
    log: PluginLog,
}

/// What monitor_agent and prometheus share.
static COMMON: Spec = Spec::new("monitor", "The monitor endpoint.").params(&[
    p("bind", Str, "Address to listen on.").default("0.0.0.0"),
    p("metrics_path", Str, "Path of the Prometheus text.").default("/metrics"),
    p(
        "include_config",
        Bool,
        "Include each plugin's config in /api/plugins.json.",
    )
    .default("true"),
    p("tag", Str, "Emit metrics as events with this tag.")
        .refused("emitting metrics as events is not supported; scrape the HTTP endpoint"),
]);

/// `monitor_agent` input.
pub static MONITOR_AGENT: Spec = Spec::new(
    "monitor_agent",
    "HTTP endpoint: /api/plugins.json, /metrics, /healthz, /readyz.",
)
.params(&[p("port", Integer, "Port.").default("24220")])
.extends(&[&COMMON]);

/// `prometheus` input.
pub static PROMETHEUS: Spec = Spec::new(
    "prometheus",
    "HTTP endpoint: /metrics (fluent-plugin-prometheus names), /api/plugins.json, /healthz, /readyz.",
)
.params(&[p("port", Integer, "Port.").default("24231")])
.extends(&[&COMMON]);

fn build_with(ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Input>, BuildError> {
    s.refuse_declared()?;
    s.refuse_section("labels", "custom Prometheus labels are not supported yet")?;
    let port: i64 = s.get("port")?;
    let port = u16::try_from(port)
        .map_err(|_| build_error(s.pos(), format!("port {port} is out of range")))?;
    Ok(Arc::new(MonitorInput {
        bind: s.get("bind")?,
        port,
        metrics_path: s.get("metrics_path")?,
        metrics: ctx.metrics.clone(),
        include_config: s.get("include_config")?,
        log: ctx.log.clone(),
    }))
}

/// Build `monitor_agent` (port 24220).
pub fn build_monitor_agent(ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Input>, BuildError> {
    build_with(ctx, &s.declared(&MONITOR_AGENT))
}

/// Build `prometheus` (port 24231).
pub fn build_prometheus(ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Input>, BuildError> {
    build_with(ctx, &s.declared(&PROMETHEUS))
}

#[async_trait]
impl Input for MonitorInput {
    async fn start(self: Arc<Self>, mut ctx: InputContext) -> Result<JoinHandle<()>, String> {
        let addr: SocketAddr = (
            self.bind.trim_start_matches('[').trim_end_matches(']'),
            self.port,
        )
            .to_socket_addrs()
            .map_err(|e| e.to_string())?
            .next()
            .ok_or("bind address does not resolve")?;
        // From the process's pool: a reload keeps the port open (the next pipeline's monitor
        // takes the socket over, and this one stops then).
        let (listener, superseded) = logferry_core::listeners::tcp(addr, 1024)
            .and_then(|(l, s)| Ok((TcpListener::from_std(l)?, s)))
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        self.log.info(format_args!(
            "monitor listening on http://{addr} (/api/plugins.json, {}, /healthz, /readyz)",
            self.metrics_path
        ));
        let me = self.clone();
        // Detached: the endpoint answers (readyz = 503) through the whole shutdown drain, until
        // the process ends or a reloaded pipeline's monitor took the socket over.
        tokio::spawn(async move {
            let superseded = superseded.wait();
            tokio::pin!(superseded);
            loop {
                let accepted = tokio::select! {
                    a = listener.accept() => a,
                    _ = &mut superseded => break,
                };
                let Ok((mut sock, _)) = accepted else {
                    continue;
                };
                let me = me.clone();
                tokio::spawn(async move {
                    let Some(head) = read_head(&mut sock).await else {
                        return;
                    };
                    let target = head.split_whitespace().nth(1).unwrap_or("/");
                    let (path, query) = target.split_once('?').unwrap_or((target, ""));
                    if path == "/api/tap" {
                        let query = query.to_string();
                        return crate::monitor_tap::serve(sock, &query).await;
                    }
                    let path = path.to_string();
                    let (status, ctype, body) = me.route(&path);
                    let resp = format!("HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                    let _ = sock.write_all(resp.as_bytes()).await;
                    let _ = sock.write_all(body.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Ok(tokio::spawn(async move {
            let _ = ctx.shutdown.changed().await;
        }))
    }
}

/// The head of an HTTP request (up to the blank line; 8 KiB at most, within 5 s), or None.
pub async fn read_head(sock: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buf = vec![0u8; 8192];
    let mut n = 0;
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(5), sock.read(&mut buf[n..]))
            .await
        {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return None,
            Ok(Ok(k)) => n += k,
        }
        if let Some(end) = buf[..n].windows(4).position(|w| w == b"\r\n\r\n") {
            return Some(String::from_utf8_lossy(&buf[..end]).into_owned());
        }
        if n == buf.len() {
            return None;
        }
    }
}

impl MonitorInput {
    fn route(&self, path: &str) -> (&'static str, &'static str, String) {
        match path {
            "/healthz" => ("200 OK", "text/plain", "ok\n".into()),
            "/readyz" => match self.metrics.ready(Readiness::default()) {
                Ok(()) => ("200 OK", "text/plain", "ready\n".into()),
                Err(why) => (
                    "503 Service Unavailable",
                    "text/plain",
                    format!("not ready: {why}\n"),
                ),
            },
            "/api/plugins.json" => ("200 OK", "application/json", self.plugins_json()),
            p if p == self.metrics_path => {
                ("200 OK", "text/plain; version=0.0.4", self.prometheus())
            }
            _ => ("404 Not Found", "text/plain", "not found\n".into()),
        }
    }

    fn plugins_json(&self) -> String {
        let mut list = Vec::new();
        for p in self.metrics.plugins() {
            let mut o = serde_json::Map::new();
            o.insert("plugin_id".into(), p.id.clone().into());
            o.insert("plugin_category".into(), p.category.into());
            o.insert("type".into(), p.ty.clone().into());
            if self.include_config {
                let cfg: serde_json::Map<String, serde_json::Value> = p
                    .config
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone().into()))
                    .collect();
                o.insert("config".into(), cfg.into());
            }
            let is_output = p.category == "output";
            o.insert("output_plugin".into(), is_output.into());
            match &p.metrics {
                Some(m) if is_output => {
                    let s = m.snapshot();
                    o.insert("buffer_queue_length".into(), s.buffer_queue_length.into());
                    o.insert("buffer_stage_length".into(), s.buffer_stage_length.into());
                    o.insert(
                        "buffer_total_queued_size".into(),
                        s.buffer_total_bytes.into(),
                    );
                    o.insert(
                        "buffer_available_buffer_space_ratios".into(),
                        available(&s).into(),
                    );
                    o.insert("retry_count".into(), s.retry_count.into());
                    o.insert("emit_records".into(), s.emit_records.into());
                    o.insert("emit_count".into(), s.emit_count.into());
                    o.insert("write_count".into(), s.write_count.into());
                    o.insert("rollback_count".into(), s.num_errors.into());
                }
                Some(m) => {
                    let s = m.snapshot();
                    o.insert("emit_records".into(), s.emit_records.into());
                    o.insert("retry_count".into(), serde_json::Value::Null);
                }
                None => {
                    o.insert("retry_count".into(), serde_json::Value::Null);
                }
            }
            list.push(serde_json::Value::Object(o));
        }
        let mut s = serde_json::json!({ "plugins": list }).to_string();
        s.push('\n');
        s
    }

    fn prometheus(&self) -> String {
        let plugins = self.metrics.plugins();
        let mut out = String::new();
        let outputs: Vec<_> = plugins
            .iter()
            .filter(|p| p.category == "output")
            .filter_map(|p| p.metrics.as_ref().map(|m| (p, m.snapshot())))
            .collect();
        let gauges: &[(&str, Gauge)] = &[
            ("fluentd_output_status_buffer_queue_length", |s| {
                s.buffer_queue_length as f64
            }),
            ("fluentd_output_status_buffer_stage_length", |s| {
                s.buffer_stage_length as f64
            }),
            ("fluentd_output_status_buffer_total_bytes", |s| {
                s.buffer_total_bytes as f64
            }),
            ("fluentd_output_status_buffer_available_space_ratio", |s| {
                available(s)
            }),
            ("fluentd_output_status_retry_count", |s| {
                s.retry_count as f64
            }),
            ("fluentd_output_status_num_errors", |s| s.num_errors as f64),
            ("fluentd_output_status_emit_count", |s| s.emit_count as f64),
            ("fluentd_output_status_emit_records", |s| {
                s.emit_records as f64
            }),
            ("fluentd_output_status_write_count", |s| {
                s.write_count as f64
            }),
            ("logferry_output_dropped_chunks_total", |s| {
                s.dropped_chunks as f64
            }),
            ("logferry_output_given_up_chunks_total", |s| {
                s.given_up_chunks as f64
            }),
        ];
        for (name, f) in gauges {
            let ty = if name.ends_with("_total") {
                "counter"
            } else {
                "gauge"
            };
            let _ = writeln!(out, "# TYPE {name} {ty}");
            for (p, s) in &outputs {
                let _ = writeln!(
                    out,
                    "{name}{{plugin_id=\"{}\",type=\"{}\"}} {}",
                    esc(&p.id),
                    esc(&p.ty),
                    f(s)
                );
            }
        }
        let _ = writeln!(out, "# TYPE logferry_input_records_total counter");
        let inputs: Vec<_> = plugins
            .iter()
            .filter(|p| p.category == "input")
            .filter_map(|p| p.metrics.as_ref().map(|m| (p, m.snapshot())))
            .collect();
        for (p, s) in &inputs {
            let _ = writeln!(
                out,
                "logferry_input_records_total{{plugin_id=\"{}\",type=\"{}\"}} {}",
                esc(&p.id),
                esc(&p.ty),
                s.emit_records
            );
        }
        let mut extras: Vec<(&str, String)> = Vec::new();
        for (p, s) in inputs.iter().chain(outputs.iter()) {
            for (k, v) in &s.extra {
                extras.push((
                    k,
                    format!(
                        "{{plugin_id=\"{}\",type=\"{}\"}} {v}",
                        esc(&p.id),
                        esc(&p.ty)
                    ),
                ));
            }
        }
        extras.sort_by(|a, b| a.0.cmp(b.0));
        let mut last = "";
        for (k, line) in &extras {
            if *k != last {
                let _ = writeln!(out, "# TYPE logferry_{k}_total counter");
                last = k;
            }
            let _ = writeln!(out, "logferry_{k}_total{line}");
        }
        let ready = self.metrics.ready(Readiness::default()).is_ok();
        let _ = writeln!(
            out,
            "# TYPE logferry_ready gauge\nlogferry_ready {}",
            u8::from(ready)
        );
        out
    }
}

/// Reads one gauge from a snapshot.
type Gauge = fn(&logferry_core::metrics::Snapshot) -> f64;

fn available(s: &logferry_core::metrics::Snapshot) -> f64 {
    if s.buffer_limit_bytes == 0 {
        return 100.0;
    }
    (100.0 * (1.0 - s.buffer_total_bytes as f64 / s.buffer_limit_bytes as f64)).max(0.0)
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
