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
    p(
        "time_format",
        Str,
        "strftime format of the time at the start of each log line (local time).",
    )
    .default("%Y-%m-%d %H:%M:%S %z"),
    p(
        "rotate_age",
        Str,
        "Log-file rotation: checked as Fluentd checks it (`daily`, `weekly`, `monthly` or an integer), then not used (logferry logs to stderr, as Fluentd does without `-o`).",
    ),
    p(
        "rotate_size",
        Size,
        "Log-file rotation: not used (logferry logs to stderr, as Fluentd does without `-o`).",
    ),
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
        p("without_source", Bool, "Ignore the <source> sections (as Fluentd, which does not even configure them).").default("false"),
        p("rpc_endpoint", Str, "`host:port` of Fluentd's HTTP RPC endpoint (`/api/config.reload`…)."),
        p("enable_get_dump", Bool, "The RPC endpoint serves `/api/config.getDump`.").default("false"),
        p("enable_input_metrics", Bool, "monitor_agent shows the inputs' `emit_records` (0 otherwise, as in Fluentd).").default("false"),
        p("enable_size_metrics", Bool, "monitor_agent shows `emit_size`: the events' msgpack bytes (0 otherwise, as in Fluentd).").default("false"),
        p("ignore_repeated_log_interval", Time, "A log line the same as the one before it (text and fields) within this time of it is not logged (process-wide; Fluentd keeps one per thread)."),
        p("ignore_same_log_interval", Time, "A log line the same as any logged within this time is not logged (the last 1,000 kept, as Fluentd); wins over ignore_repeated_log_interval."),
        p("suppress_repeated_stacktrace", Bool, "Nothing to do: logferry logs no Ruby stack traces."),
        p("suppress_config_dump", Bool, "Nothing to do: logferry does not log its configuration at start (`--dry-run` prints it)."),
        p("file_permission", Str, "Mode (octal, read as Ruby's `to_i(8)`) of the files logferry creates: out_file's and secondary_file's output, file buffer chunks (unless the buffer sets its own), backups, in_tail's pos file; the umask applies, as in Fluentd.").computed("0644"),
        p("dir_permission", Str, "Mode (octal) of the directories logferry creates for them, set exactly (as Fluentd's `mkdir_p`); existing directories keep theirs.").computed("0755"),
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
    /// `<log> time_format` (None: Fluentd's `%Y-%m-%d %H:%M:%S %z`).
    pub log_time_format: Option<String>,
    /// `without_source`: the `<source>` sections are ignored (not built, not started).
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
    /// `file_permission`: mode of the files plugins create (see [`crate::perms`]).
    pub file_permission: Option<u32>,
    /// `dir_permission`: mode of the directories plugins create.
    pub dir_permission: Option<u32>,
    /// `ignore_repeated_log_interval` (seconds).
    pub ignore_repeated_log_interval: Option<f64>,
    /// `ignore_same_log_interval` (seconds).
    pub ignore_same_log_interval: Option<f64>,
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
    let strict = strict_config_value(s);
    if all || s.has("log_level") {
        sys.log_level = Some(parse_level(s.get("log_level")?).unwrap_or(Level::ERROR));
    }
    if all || s.has("workers") {
        let n: i64 = match s.param("workers").filter(|_| strict) {
            // Strictly read, an integer is Ruby's Integer() (`2x` is refused, `0x2` is 2).
            Some(p) => logferry_config::types::ruby_integer(&p.value).ok_or_else(|| {
                build_error(
                    &p.pos,
                    format!("workers: invalid value for Integer(): {:?}", p.value),
                )
            })?,
            None => s.get("workers")?,
        };
        if n < 1 {
            let p = s.param("workers").map(|p| &p.pos).unwrap_or(s.pos());
            let v = s.param("workers").map(|p| p.value.as_str()).unwrap_or("");
            return Err(build_error(p, format!("workers: '{v}' must be 1 or more")));
        }
        sys.workers = n;
    }
    sys.root_dir = s.get("root_dir")?;
    if let (Some(""), Some(p)) = (sys.root_dir.as_deref(), s.param("root_dir")) {
        // Fluentd's supervisor fails to create it, even with --dry-run.
        return Err(build_error(
            &p.pos,
            "failed to create root directory: root_dir is empty",
        ));
    }
    sys.without_source = lenient_bool(s, "without_source", strict)?;
    sys.rpc_endpoint = s.get("rpc_endpoint")?;
    sys.enable_get_dump = lenient_bool(s, "enable_get_dump", strict)?;
    sys.enable_input_metrics = lenient_bool(s, "enable_input_metrics", strict)?;
    sys.enable_size_metrics = lenient_bool(s, "enable_size_metrics", strict)?;
    if all || s.has("ignore_repeated_log_interval") {
        sys.ignore_repeated_log_interval = s.get::<Option<f64>>("ignore_repeated_log_interval")?;
    }
    if all || s.has("ignore_same_log_interval") {
        sys.ignore_same_log_interval = s.get::<Option<f64>>("ignore_same_log_interval")?;
    }
    // Both are true of logferry already: read, nothing to do.
    for key in ["suppress_repeated_stacktrace", "suppress_config_dump"] {
        if s.has(key) {
            lenient_bool(s, key, strict)?;
        }
    }
    if all || s.has("file_permission") {
        sys.file_permission = permission(s, "file_permission")?;
    }
    if all || s.has("dir_permission") {
        sys.dir_permission = permission(s, "dir_permission")?;
    }
    if let Some(p) = s.param("enable_jit") {
        // Not used by logferry, but its default is false, not nil: a value that is not a bool
        // (nil when not strict) is "required but nil is specified" in Fluentd.
        if logferry_config::types::bool(&p.value).is_none() {
            return Err(build_error(
                &p.pos,
                format!(
                    "'enable_jit' parameter is required but '{}' is not a bool",
                    p.value
                ),
            ));
        }
    }
    if let Some(log) = s.section("log")? {
        log.refuse_declared()?;
        sys.log_json = log.get::<&str>("format")? == "json";
        if let Some(p) = log.param("time_format") {
            // Checked here: a format logferry cannot write stops the start.
            crate::timefmt::TimeFormatter::new(&p.value, crate::timefmt::Zone::Local).map_err(
                |e| build_error(&p.pos, format!("<log> time_format {:?}: {e}", p.value)),
            )?;
            sys.log_time_format = Some(p.value.clone());
        }
        for p in ["rotate_age", "rotate_size"]
            .into_iter()
            .filter_map(|k| log.param(k))
        {
            tracing::warn!(
                "{}: '{}' in <log> is not used: logferry logs to stderr (as Fluentd does without -o)",
                p.pos,
                p.key
            );
        }
        if let Some(p) = log.param("rotate_age") {
            let v = p.value.as_str();
            if !matches!(v, "daily" | "weekly" | "monthly")
                && logferry_config::types::ruby_integer(v).is_none()
            {
                return Err(build_error(
                    &p.pos,
                    format!("rotate_age: invalid value for Integer(): {v:?} (expected daily, weekly, monthly or an integer)"),
                ));
            }
        }
    }
    Ok(())
}

/// A file or directory mode parameter, read as Fluentd reads it (see [`crate::perms::parse_mode`]).
pub fn permission(s: &Section, key: &str) -> Result<Option<u32>, BuildError> {
    match s.param(key) {
        None => Ok(None),
        Some(p) => crate::perms::parse_mode(&p.value).map(Some).ok_or_else(|| {
            build_error(
                &p.pos,
                format!("{key} '{}': not a file mode (octal, not negative)", p.value),
            )
        }),
    }
}

/// `strict_config_value`: Fluentd reads `<system>` strictly only when it is true.
fn strict_config_value(s: &Section) -> bool {
    s.param("strict_config_value")
        .and_then(|p| logferry_config::types::bool(&p.value))
        .unwrap_or(false)
}

/// A `<system>` bool whose Fluentd default is nil: unless `strict_config_value`, Fluentd reads a
/// value that is not a bool (`maybe`) as nil, i.e. false, where a plugin's parameter refuses it.
fn lenient_bool(s: &Section, key: &str, strict: bool) -> Result<bool, BuildError> {
    match s.param(key) {
        Some(p) if !strict && logferry_config::types::bool(&p.value).is_none() => Ok(false),
        _ => s.get(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn sys(body: &str) -> Result<SystemConfig, String> {
        let text = format!("<system>\n{body}\n</system>\n");
        let root = logferry_config::parse_str(&text, "s.conf", Path::new(".")).unwrap();
        system_config(&root)
            .map(|(s, _)| s)
            .map_err(|e| e.to_string())
    }

    // Fluentd reads <system> leniently unless strict_config_value (differential cases
    // config-system-*).
    #[test]
    fn bools_not_strict_unless_asked() {
        let s = sys("without_source maybe\nenable_get_dump x\nenable_input_metrics yes").unwrap();
        assert!(!s.without_source && !s.enable_get_dump && s.enable_input_metrics);
        let s = sys("strict_config_value nope\nwithout_source maybe").unwrap();
        assert!(!s.without_source);
        let e = sys("strict_config_value true\nwithout_source maybe").unwrap_err();
        assert!(e.contains("s.conf:3:1"), "{e}");
        assert!(sys("enable_jit x").is_err());
        assert_eq!(sys("workers 2x").unwrap().workers, 2);
        assert!(sys("strict_config_value true\nworkers 2x").is_err());
        assert_eq!(
            sys("strict_config_value true\nworkers 0x2")
                .unwrap()
                .workers,
            2
        );
        assert!(sys("enable_jit false").is_ok());
    }

    #[test]
    fn root_dir_and_rotation_as_fluentd_checks_them() {
        assert!(sys("root_dir ''").unwrap_err().contains("root directory"));
        for ok in [
            "rotate_age 5",
            "rotate_age daily",
            "rotate_age 0x5",
            "rotate_age -1",
            "rotate_size x",
        ] {
            assert!(sys(&format!("<log>\n{ok}\n</log>")).is_ok(), "{ok}");
        }
        for bad in ["rotate_age x", "rotate_age Daily", "rotate_age 5.0"] {
            assert!(sys(&format!("<log>\n{bad}\n</log>")).is_err(), "{bad}");
        }
    }

    #[test]
    fn permissions_read_as_ruby_octal() {
        let s = sys("file_permission 0640\ndir_permission 750").unwrap();
        assert_eq!(
            (s.file_permission, s.dir_permission),
            (Some(0o640), Some(0o750))
        );
        let s = sys("").unwrap();
        assert_eq!((s.file_permission, s.dir_permission), (None, None));
        let e = sys("file_permission -0640").unwrap_err();
        assert!(
            e.contains("s.conf:2:1") && e.contains("not a file mode"),
            "{e}"
        );
    }
}
