//! `<system>`: the daemon's own settings, declared as data like a plugin's parameters (see
//! [`logferry_config::params`]) so they appear in `logferry plugins`, the JSON schema,
//! docs/plugins.md and `--dry-run`'s defaults.

use logferry_config::params::{one, p, Body, ParamType::*, Spec};
use logferry_config::Element;
use tracing::Level;

use crate::error::{build_error, BuildError};
use crate::log::parse_level;
use crate::section::Section;

/// `<system> <log>`.
pub static LOG: Spec = Spec::new("log", "logferry's own log lines.").params(&[
    p(
        "format",
        Enum(&["text", "json"]),
        "Log line format (`--log-format` overrides it).",
    )
    .default("text"),
    p("rotate_age", Str, "Log-file rotation.")
        .refused("logferry logs to stderr; rotate with the container runtime or journald"),
    p("rotate_size", Size, "Log-file rotation.")
        .refused("logferry logs to stderr; rotate with the container runtime or journald"),
]);

/// `<system>` (Fluentd's `SystemConfig`: the parameters logferry honours).
pub static SYSTEM: Spec = Spec::new("system", "The daemon's own settings (a top-level section).")
    .params(&[
        p(
            "log_level",
            Enum(&["trace", "debug", "info", "warn", "error", "fatal"]),
            "Level of logferry's own log (`-v`/`-q` move from it; fatal is error).",
        )
        .default("info"),
        p(
            "workers",
            Integer,
            "Worker count: the ids `<worker N>` sections may name (logferry runs one process whatever the number).",
        )
        .default("1"),
        p("root_dir", Str, "Where file buffers of plugins with an `@id` live."),
        p("without_source", Bool, "Build inputs but do not start them.").default("false"),
        p("rpc_endpoint", Str, "`host:port` of Fluentd's HTTP RPC endpoint (`/api/config.reload`…)."),
        p("enable_get_dump", Bool, "The RPC endpoint serves `/api/config.getDump`.").default("false"),
        p("enable_input_metrics", Bool, "monitor_agent shows the inputs' `emit_records` (0 otherwise, as in Fluentd).").default("false"),
        p("enable_size_metrics", Bool, "monitor_agent shows `emit_size`: the events' msgpack bytes (0 otherwise, as in Fluentd).").default("false"),
    ])
    .sections(&[one("log", Body::Spec(&LOG), "logferry's own log lines.")]);

/// Settings from `<system>`.
#[derive(Clone, Debug, Default)]
pub struct SystemConfig {
    /// `log_level` (None = info).
    pub log_level: Option<Level>,
    /// `root_dir`, where file buffers of plugins with an `@id` live.
    pub root_dir: Option<String>,
    /// `<log> format json` → JSON log lines.
    pub log_json: bool,
    /// `without_source`: build inputs but do not start them.
    pub without_source: bool,
    /// `workers` (1 when not set): the worker ids `<worker N>` sections may name; logferry
    /// itself runs one process whatever the number.
    pub workers: i64,
    /// `rpc_endpoint` (`host:port`): Fluentd's HTTP RPC endpoint, served by the daemon.
    pub rpc_endpoint: Option<String>,
    /// `enable_get_dump`: the RPC endpoint serves `/api/config.getDump`.
    pub enable_get_dump: bool,
    /// `enable_input_metrics`: monitor_agent counts the inputs' events.
    pub enable_input_metrics: bool,
    /// `enable_size_metrics`: monitor_agent counts `emit_size`.
    pub enable_size_metrics: bool,
}

/// Read the `<system>` section, every default the declared one ([`SYSTEM`]). A second
/// `<system>` is refused, as Fluentd refuses it.
pub fn system_config(root: &Element) -> Result<(SystemConfig, Vec<String>), BuildError> {
    let blank = Element::new("system", "", root.pos.clone());
    let mut sys = SystemConfig::default();
    read(
        &Section::new(&blank, "system").declared(&SYSTEM),
        &mut sys,
        true,
    )?;
    let mut warnings = Vec::new();
    let mut sections = root.elements.iter().filter(|e| e.name == "system");
    if let (Some(first), Some(second)) = (sections.next(), sections.next()) {
        return Err(build_error(
            &second.pos,
            format!(
                "<system> is duplicated (the first is at {}). <system> should be only one",
                first.pos
            ),
        ));
    }
    for el in root.elements.iter().filter(|e| e.name == "system") {
        let s = Section::new(el, "system").declared(&SYSTEM);
        read(&s, &mut sys, false)?;
        warnings.extend(s.warn_unused());
    }
    Ok((sys, warnings))
}

/// Read one `<system>` into `sys` (`all`: every parameter, given or not).
fn read(s: &Section, sys: &mut SystemConfig, all: bool) -> Result<(), BuildError> {
    s.refuse_declared()?;
    if all || s.has("log_level") {
        sys.log_level = Some(parse_level(s.get("log_level")?).unwrap_or(Level::ERROR));
    }
    if all || s.has("workers") {
        let n: i64 = s.get("workers")?;
        if n < 1 {
            let p = s.param("workers").map(|p| &p.pos).unwrap_or(s.pos());
            let v = s.param("workers").map(|p| p.value.as_str()).unwrap_or("");
            return Err(build_error(p, format!("workers: '{v}' must be 1 or more")));
        }
        sys.workers = n;
    }
    sys.root_dir = s.get("root_dir")?;
    sys.without_source = s.get("without_source")?;
    sys.rpc_endpoint = s.get("rpc_endpoint")?;
    sys.enable_get_dump = s.get("enable_get_dump")?;
    sys.enable_input_metrics = s.get("enable_input_metrics")?;
    sys.enable_size_metrics = s.get("enable_size_metrics")?;
    if let Some(log) = s.section("log")? {
        log.refuse_declared()?;
        sys.log_json = log.get::<&str>("format")? == "json";
    }
    Ok(())
}
