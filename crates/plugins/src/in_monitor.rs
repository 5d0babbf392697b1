//! `monitor_agent` and `prometheus` sources: an HTTP endpoint with every plugin's counters.
//!
//! Both types serve the same paths (each on its own `bind`/`port`; defaults 24220 and 24231, as
//! Fluentd's monitor_agent and fluent-plugin-prometheus):
//! * `/api/plugins.json` — monitor_agent's JSON with the keys and values Fluentd 1.16 gives
//!   (`plugin_id`, `plugin_category`, `type`, `config`, `output_plugin`, `retry_count`,
//!   `emit_records`, `emit_size`, an output's `emit_count`, `write_count`, `rollback_count`,
//!   `slow_flush_count`, `flush_time_count`, `buffer_*` and `retry`; inputs' counts and
//!   `emit_size` only with `<system> enable_input_metrics` / `enable_size_metrics`, else 0, as
//!   in Fluentd), plus every plugin's `records_in` and `records_out` (see
//!   [`logferry_core::metrics::Flow`]);
//! * `/metrics` — Prometheus text, named as fluent-plugin-prometheus names them
//!   (`fluentd_output_status_buffer_queue_length{plugin_id,type}` …) plus logferry's own counters
//!   (`logferry_{input,filter,output}_records_{in,out}_total{plugin_id,type}` for every plugin);
//! * `/healthz` — 200 while the process runs (liveness);
//! * `/api/tap?plugin_id=ID` or `?tag=PATTERN` — the events passing there, as JSON lines, for
//!   `logferry tap` ([`crate::monitor_tap`]);
//! * `/readyz` — 200 when listeners are up, no buffer is over 90 % of its `total_limit_size`, and no
//!   output has been failing for more than 300 s; 503 with the reason otherwise, and from the moment
//!   SIGTERM arrives (before the listeners close), so a load balancer stops sending first.
//!
//! The endpoint keeps answering during the shutdown drain, and ends with the process.
//!
//! With `tag`, every `emit_interval` the same objects (without `config`, `retry` and logferry's
//! own counters, as Fluentd emits them) are emitted as events with that tag, one per plugin, all
//! at the same time.

use std::fmt::Write as _;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use async_trait::async_trait;
use logferry_core::error::build_error;
use logferry_core::metrics::{Flow, Metrics, PluginEntry, Readiness};
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
    include_retry: bool,
    input_metrics: bool,
    size_metrics: bool,
    log: PluginLog,
    /// `tag`: emit the plugins' objects as events with it.
    tag: Option<String>,
    /// `emit_interval`, seconds.
    emit_interval: f64,
}

/// A time as Ruby's `Time#to_s` writes it (`2026-12-05 20:03:01 +0000`), in the local zone.
fn ruby_time(unix: f64) -> String {
    use logferry_formats::timefmt::{TimeFormatter, Zone};
    let f = TimeFormatter::new("%Y-%m-%d %H:%M:%S %z", Zone::Local).expect("a valid format");
    f.format(logferry_core::EventTime::new(unix.max(0.0) as u32, 0))
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
    p(
        "include_retry",
        Bool,
        "Include each output's retry state in /api/plugins.json.",
    )
    .default("true"),
    p("tag", Str, "Emit every plugin's object (as in /api/plugins.json, without config and retry) as an event with this tag every emit_interval."),
    p("emit_interval", Time, "Period of the events of `tag`.").default("60"),
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
    let emit_interval = s.time("emit_interval", 60.0);
    let tag = s.non_empty("tag")?.map(str::to_string);
    if tag.is_some() && !(emit_interval > 0.0 && emit_interval.is_finite()) {
        let pos = s.param("emit_interval").map(|p| &p.pos).unwrap_or(s.pos());
        return Err(build_error(
            pos,
            format!("emit_interval {emit_interval}: expected a positive time such as 60s"),
        ));
    }
    Ok(Arc::new(MonitorInput {
        bind: s.get("bind")?,
        port,
        metrics_path: s.get("metrics_path")?,
        metrics: ctx.metrics.clone(),
        include_config: s.get("include_config")?,
        include_retry: s.get("include_retry")?,
        input_metrics: ctx.system.enable_input_metrics,
        size_metrics: ctx.system.enable_size_metrics,
        log: ctx.log.clone(),
        tag,
        emit_interval,
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
            let Some(tag) = self.tag.clone() else {
                let _ = ctx.shutdown.changed().await;
                return;
            };
            // Fluentd's timer: the first events one period after start.
            let period = std::time::Duration::from_secs_f64(self.emit_interval);
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    _ = ctx.shutdown.changed() => return,
                }
                let mut b = logferry_core::BatchBuilder::default();
                let now = logferry_core::EventTime::now();
                for o in self.plugin_objects(false, false, false) {
                    let o = serde_json::Value::Object(o);
                    b.push_with(now, |out| logferry_msgpack::json_to_msgpack(&o, out));
                }
                if let Err(e) = ctx.emitter.emit(&tag, b.finish()).await {
                    self.log
                        .warn(format_args!("emitting the plugins' metrics to {tag}: {e}"));
                }
            }
        }))
    }
}

/// The plugins in the order of Fluentd's monitor_agent (`all_plugins`): the top level's inputs,
/// outputs, then filters; then each label's outputs and filters, labels in the order they were
/// declared but `@ERROR` last (`RootAgent#configure` adds it after the others); within each
/// group, in the order of the config.
fn fluentd_order(mut plugins: Vec<PluginEntry>) -> Vec<PluginEntry> {
    let mut labels: Vec<Option<String>> = vec![None];
    for p in &plugins {
        if !labels.contains(&p.label) && p.label.as_deref() != Some("@ERROR") {
            labels.push(p.label.clone());
        }
    }
    labels.push(Some("@ERROR".to_string()));
    plugins.sort_by_key(|p| {
        let label = labels.iter().position(|l| *l == p.label).unwrap_or(0);
        let category = match p.category {
            "input" => 0,
            "output" => 1,
            _ => 2,
        };
        (label, category)
    });
    plugins
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
        let list: Vec<serde_json::Value> = self
            .plugin_objects(self.include_config, self.include_retry, true)
            .into_iter()
            .map(serde_json::Value::Object)
            .collect();
        let mut s = serde_json::json!({ "plugins": list }).to_string();
        s.push('\n');
        s
    }

    /// Every plugin's object, as monitor_agent's `get_monitor_info` builds it: with its config
    /// and retry state when asked, and logferry's `records_in`/`records_out` with `extras`.
    fn plugin_objects(
        &self,
        with_config: bool,
        with_retry: bool,
        extras: bool,
    ) -> Vec<serde_json::Map<String, serde_json::Value>> {
        let mut list = Vec::new();
        for p in fluentd_order(self.metrics.plugins()) {
            let mut o = serde_json::Map::new();
            o.insert("plugin_id".into(), p.id.clone().into());
            o.insert("plugin_category".into(), p.category.into());
            o.insert("type".into(), p.ty.clone().into());
            if with_config {
                let cfg: serde_json::Map<String, serde_json::Value> = p
                    .config
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone().into()))
                    .collect();
                o.insert("config".into(), cfg.into());
            }
            self.fluentd_counters(&p, &mut o, with_retry);
            if extras {
                o.insert("records_in".into(), p.flow.records_in().into());
                o.insert("records_out".into(), p.flow.records_out().into());
            }
            list.push(o);
        }
        list
    }

    /// The counters Fluentd's monitor_agent shows for the plugin, under its names: `emit_records`
    /// and `emit_size` for inputs (0 unless `<system>` enables them, as in Fluentd), filters and
    /// outputs; for outputs also `emit_count`, `write_count`, `rollback_count`,
    /// `slow_flush_count`, `flush_time_count`, the `buffer_*` values of a buffered one and
    /// `retry`. `copy` is a multi-output in Fluentd: no counters of its own.
    fn fluentd_counters(
        &self,
        p: &PluginEntry,
        o: &mut serde_json::Map<String, serde_json::Value>,
        with_retry: bool,
    ) {
        let multi = p.category == "output" && matches!(p.ty.as_str(), "copy" | "roundrobin");
        let is_output = p.category == "output" && !multi;
        o.insert("output_plugin".into(), is_output.into());
        let snap = p.metrics.as_ref().map(|m| m.snapshot());
        let size = |bytes: u64| if self.size_metrics { bytes } else { 0 };
        if multi {
            o.insert("retry_count".into(), 0.into());
            return;
        }
        if !is_output {
            o.insert("retry_count".into(), serde_json::Value::Null);
            let (records, bytes) = match p.category {
                "filter" => (p.flow.records_out(), size(p.flow.bytes_out())),
                _ if self.input_metrics => (p.flow.records_in(), size(p.flow.bytes_in())),
                _ => (0, 0),
            };
            o.insert("emit_records".into(), records.into());
            o.insert("emit_size".into(), bytes.into());
            return;
        }
        let s = snap.unwrap_or_default();
        let buffered = p.metrics.is_some();
        if buffered {
            o.insert("buffer_queue_length".into(), s.buffer_queue_length.into());
            o.insert("buffer_timekeys".into(), s.buffer_timekeys.clone().into());
            o.insert(
                "buffer_total_queued_size".into(),
                s.buffer_total_bytes.into(),
            );
        }
        o.insert("retry_count".into(), s.num_errors.into());
        o.insert("emit_records".into(), p.flow.records_in().into());
        o.insert("emit_size".into(), size(p.flow.bytes_in()).into());
        o.insert("emit_count".into(), p.flow.batches_in().into());
        o.insert("write_count".into(), s.write_count.into());
        o.insert("rollback_count".into(), s.retry_count.into());
        o.insert("slow_flush_count".into(), s.slow_flush_count.into());
        o.insert("flush_time_count".into(), s.flush_time_ms.into());
        if buffered {
            o.insert("buffer_stage_length".into(), s.buffer_stage_length.into());
            o.insert("buffer_stage_byte_size".into(), s.buffer_stage_bytes.into());
            o.insert("buffer_queue_byte_size".into(), s.buffer_queue_bytes.into());
            // Rounded to one decimal, as Fluentd's buffer statistics round it.
            o.insert(
                "buffer_available_buffer_space_ratios".into(),
                ((available(&s) * 10.0).round() / 10.0).into(),
            );
        }
        if with_retry {
            let mut r = serde_json::Map::new();
            if let Some(info) = &s.retry {
                r.insert("start".into(), ruby_time(info.start).into());
                r.insert("steps".into(), info.steps.into());
                r.insert("next_time".into(), ruby_time(info.next_time).into());
            }
            o.insert("retry".into(), r.into());
        }
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
        for cat in ["input", "filter", "output"] {
            for (dir, f) in [
                ("in", Flow::records_in as fn(&Flow) -> u64),
                ("out", Flow::records_out),
            ] {
                let name = format!("logferry_{cat}_records_{dir}_total");
                let _ = writeln!(out, "# TYPE {name} counter");
                for p in plugins.iter().filter(|p| p.category == cat) {
                    let _ = writeln!(
                        out,
                        "{name}{{plugin_id=\"{}\",type=\"{}\"}} {}",
                        esc(&p.id),
                        esc(&p.ty),
                        f(&p.flow)
                    );
                }
            }
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
