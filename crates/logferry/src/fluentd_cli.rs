//! Fluentd's own command-line options (`fluentd --help`, Fluentd 1.16), read as Fluentd reads
//! them, so that a `fluentd …` command line (a systemd unit, an image's entrypoint, a Kubernetes
//! manifest) runs logferry unchanged. What logferry cannot honour is refused with a message
//! saying what to do instead; options whose only effect is on Fluentd's Ruby runtime or its
//! supervisor process are accepted, each for the reason given on it.

use std::path::{Path, PathBuf};

use clap::Args;
use logferry_config::types::ruby_to_i;
use logferry_config::{Element, Param, Pos};

/// Fluentd's options (README "Command line", "Fluentd's options").
#[derive(Args, Debug, Default)]
pub struct FluentdArgs {
    /// Fluentd: add a Ruby plugin directory. logferry loads no Ruby: accepted; the `*.rb` files
    /// there are named in a warning, and a plugin type the config uses that logferry lacks is
    /// refused as unknown, as without the directory.
    #[arg(short = 'p', long = "plugin", value_name = "DIR")]
    pub plugin: Vec<PathBuf>,

    /// Fluentd: add a Ruby library path (warning: no Ruby is loaded).
    #[arg(short = 'I', value_name = "PATH")]
    pub lib_path: Vec<String>,

    /// Fluentd: load a Ruby library (warning: no Ruby is loaded).
    #[arg(short = 'r', value_name = "NAME")]
    pub require: Vec<String>,

    /// Fluentd: a Gemfile of Ruby plugins to install (warning: no Ruby is loaded).
    #[arg(short = 'g', long = "gemfile", value_name = "GEMFILE")]
    pub gemfile: Option<String>,

    /// Fluentd: where the Gemfile's gems go (warning: no Ruby is loaded).
    #[arg(short = 'G', long = "gem-path", value_name = "GEM_INSTALL_PATH")]
    pub gem_path: Option<String>,

    /// Fluentd: run in the background, writing PIDFILE (systemd `Type=forking`). The command
    /// returns 0 once the daemon has started (listeners open), 1 if it could not.
    #[arg(short = 'd', long = "daemon", value_name = "PIDFILE")]
    pub daemon: Option<PathBuf>,

    /// Fluentd: run without its supervisor process. logferry is one process: accepted (with
    /// `workers` above 1 refused, as Fluentd refuses it).
    #[arg(long)]
    pub no_supervisor: bool,

    /// Fluentd-internal (the supervisor starts workers with it): accepted, as --no-supervisor.
    #[arg(long, hide = true)]
    pub under_supervisor: bool,

    /// Fluentd: the number of worker processes, as `<system> workers` (which it overrides).
    #[arg(long, value_name = "NUM")]
    pub workers: Option<String>,

    /// Fluentd: change user. Refused: start logferry as that user (systemd `User=`, Docker
    /// `USER`).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,

    /// Fluentd: change group. Refused, as --user.
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,

    /// Fluentd: the process's umask (octal).
    #[arg(long, value_name = "UMASK")]
    pub umask: Option<String>,

    /// Fluentd: write logs to PATH (appended) instead of stderr; the stdout output's events go
    /// there too, as Fluentd's stdout output writes to its log. SIGUSR1 reopens it.
    #[arg(short = 'o', long = "log", value_name = "PATH")]
    pub log: Option<PathBuf>,

    /// Fluentd: rotate the -o log file by age. Refused: rotate it with logrotate and SIGUSR1
    /// (fluent-package's own logrotate rule does so).
    #[arg(long, value_name = "AGE")]
    pub log_rotate_age: Option<String>,

    /// Fluentd: rotate the -o log file by size. Refused, as --log-rotate-age.
    #[arg(long, value_name = "BYTES")]
    pub log_rotate_size: Option<String>,

    /// Fluentd: log events while starting and stopping. Accepted with a warning: logferry routes
    /// its log lines as events until the stop begins, as Fluentd does without the option.
    #[arg(long)]
    pub log_event_verbose: bool,

    /// Fluentd: config text appended to the config file (each `\n` in it a line break; `-`
    /// reads it from standard input).
    #[arg(short = 'i', long = "inline-config", value_name = "CONFIG_STRING")]
    pub inline_config: Option<String>,

    /// Fluentd: suppress repeated emit-error logs for SECONDS. Accepted with a warning: not
    /// used (logferry logs each failed emit).
    #[arg(long, value_name = "SECONDS")]
    pub emit_error_log_interval: Option<String>,

    /// Fluentd: suppress repeated Ruby stack traces. Accepted: logferry logs no stack traces.
    #[arg(long, value_name = "VALUE", num_args = 0..=1, default_missing_value = "true")]
    pub suppress_repeated_stacktrace: Option<String>,

    /// Fluentd: ignore the `<source>` sections, as `<system> without_source true`.
    #[arg(long)]
    pub without_source: bool,

    /// Fluentd: the config file's syntax (`yaml`, `yml` or `guess`). YAML configs are refused;
    /// `guess` reads a file ending in `.yaml` or `.yml` as YAML (refused), others as logferry
    /// always does.
    #[arg(long, value_name = "VALU")]
    pub config_file_type: Option<String>,

    /// Fluentd: the v1 config syntax (the default, and logferry's).
    #[arg(long)]
    pub use_v1_config: bool,

    /// Fluentd: the v0 config syntax. Refused: logferry reads the v1 syntax (with v0.12's
    /// parameters).
    #[arg(long)]
    pub use_v0_config: bool,

    /// Fluentd: read `<system>` values strictly, as `<system> strict_config_value true`.
    #[arg(long)]
    pub strict_config_value: bool,

    /// Fluentd: count the inputs' events, as `<system> enable_input_metrics true`.
    #[arg(long)]
    pub enable_input_metrics: bool,

    /// Fluentd: count the events' sizes, as `<system> enable_size_metrics true`.
    #[arg(long)]
    pub enable_size_metrics: bool,

    /// Fluentd: do not dump the config when starting. Accepted: logferry does not dump it
    /// (`--dry-run` prints it).
    #[arg(long)]
    pub suppress_config_dump: bool,

    /// Fluentd: the config file's encoding. UTF-8 (any spelling) is accepted; others are refused.
    #[arg(long, value_name = "ENCODING")]
    pub conf_encoding: Option<String>,

    /// Fluentd: no socket shared between worker processes. Accepted: logferry is one process.
    #[arg(long)]
    pub disable_shared_socket: bool,

    /// Fluentd: install a sample config. Refused: `docker/fluent.conf` and `conf/` hold
    /// logferry's.
    #[arg(short = 's', long = "setup", value_name = "DIR", num_args = 0..=1, default_missing_value = "/etc/fluent")]
    pub setup: Option<String>,

    /// Fluentd (deprecated): show a plugin's parameters. Refused: `logferry plugins NAME`.
    #[arg(long, value_name = "PLUGIN")]
    pub show_plugin_config: Option<String>,
}

impl FluentdArgs {
    /// Refuse the options logferry cannot honour (the message says what to do instead); else
    /// the warnings to log about the accepted ones.
    pub fn check(&self, config: &Path) -> Result<Vec<String>, String> {
        let refuse = |what: &str, instead: &str| Err(format!("{what} is not supported: {instead}"));
        if self.user.is_some() || self.group.is_some() {
            return refuse(
                "--user/--group",
                "start logferry as that user and group (systemd User=/Group=, Docker USER)",
            );
        }
        if self.log_rotate_age.is_some() || self.log_rotate_size.is_some() {
            return refuse(
                "--log-rotate-age/--log-rotate-size",
                "rotate the -o log file with logrotate and send SIGUSR1, which reopens it",
            );
        }
        if self.use_v0_config {
            return refuse(
                "--use-v0-config",
                "logferry reads the v1 config syntax (v0.12's parameters included)",
            );
        }
        if let Some(dir) = &self.setup {
            return refuse(
                &format!("--setup {dir}"),
                "logferry's sample configs are docker/fluent.conf and conf/*.conf",
            );
        }
        if let Some(p) = &self.show_plugin_config {
            return refuse(
                &format!("--show-plugin-config={p}"),
                "`logferry plugins NAME` lists a plugin's parameters",
            );
        }
        match self.config_file_type.as_deref() {
            None => {}
            Some("yaml" | "yml") => {
                return refuse(
                    "--config-file-type yaml",
                    "write the config in Fluentd's v1 syntax",
                )
            }
            Some("guess") => {
                let ext = config.extension().and_then(|e| e.to_str());
                if matches!(ext, Some("yaml" | "yml")) {
                    return refuse(
                        &format!("a YAML config ({})", config.display()),
                        "write the config in Fluentd's v1 syntax",
                    );
                }
            }
            Some(other) => {
                return Err(format!(
                    "--config-file-type: {other:?} is not one of yaml, yml, guess (as Fluentd)"
                ))
            }
        }
        if let Some(enc) = &self.conf_encoding {
            let e = enc.to_ascii_lowercase().replace('_', "-");
            if !matches!(e.as_str(), "utf-8" | "utf8" | "us-ascii" | "ascii") {
                return refuse(
                    &format!("--conf-encoding {enc}"),
                    "convert the config file to UTF-8 (iconv -f ENCODING -t UTF-8)",
                );
            }
        }
        if let Some(m) = &self.umask {
            if libc::mode_t::from_str_radix(m, 8).map_or(true, |v| v > 0o7777) {
                return Err(format!("--umask {m}: expected an octal number such as 022"));
            }
        }
        let mut warnings = Vec::new();
        for dir in &self.plugin {
            let mut rb: Vec<String> = std::fs::read_dir(dir)
                .map(|rd| {
                    rd.filter_map(Result::ok)
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .filter(|n| n.ends_with(".rb"))
                        .collect()
                })
                .unwrap_or_default();
            rb.sort();
            if !rb.is_empty() {
                warnings.push(format!(
                    "-p {}: logferry loads no Ruby plugins ({} not loaded); its plugins are built in (`logferry plugins`), and a type the config uses that it lacks is refused as unknown",
                    dir.display(),
                    rb.join(", ")
                ));
            }
        }
        if self.log_event_verbose {
            warnings.push("--log-event-verbose: not used (logferry routes its log lines as events until the stop begins, as Fluentd does without it)".to_string());
        }
        if let Some(s) = &self.emit_error_log_interval {
            warnings.push(format!(
                "--emit-error-log-interval {s}: not used (logferry logs each failed emit)"
            ));
        }
        for (flag, given) in [
            ("-I", !self.lib_path.is_empty()),
            ("-r", !self.require.is_empty()),
            ("--gemfile", self.gemfile.is_some()),
            ("--gem-path", self.gem_path.is_some()),
        ] {
            if given {
                warnings.push(format!(
                    "{flag}: logferry loads no Ruby libraries or gems; its plugins are built in (`logferry plugins`)"
                ));
            }
        }
        Ok(warnings)
    }

    /// The `-i` text (`-` reads standard input, as Fluentd still does, with its deprecation
    /// warning).
    pub fn inline_config(&self) -> std::io::Result<Option<String>> {
        match self.inline_config.as_deref() {
            Some("-") => {
                eprintln!("logferry: the value \"-\" for inline_config is deprecated (as in Fluentd, fluentd#2711)");
                std::io::read_to_string(std::io::stdin()).map(Some)
            }
            other => Ok(other.map(str::to_string)),
        }
    }

    /// Write the options that stand for `<system>` parameters into the root's `<system>`
    /// (created if there is none), over what the file says: Fluentd prefers the command line.
    /// `--no-supervisor` with more than one worker is then refused by [`Self::check_workers`].
    pub fn apply_system(&self, root: &mut Element) {
        let mut set: Vec<(&str, String)> = Vec::new();
        if let Some(n) = &self.workers {
            // Ruby's `to_i`, as Fluentd reads --workers.
            set.push(("workers", ruby_to_i(n).to_string()));
        }
        for (key, on) in [
            ("without_source", self.without_source),
            ("strict_config_value", self.strict_config_value),
            ("enable_input_metrics", self.enable_input_metrics),
            ("enable_size_metrics", self.enable_size_metrics),
        ] {
            if on {
                set.push((key, "true".into()));
            }
        }
        if set.is_empty() {
            return;
        }
        let pos = Pos::new("command line", 1, 1);
        let at = match root.elements.iter().position(|e| e.name == "system") {
            Some(i) => i,
            None => {
                root.elements
                    .insert(0, Element::new("system", "", pos.clone()));
                0
            }
        };
        let system = &mut root.elements[at];
        for (key, value) in set {
            match system.params.iter_mut().find(|p| p.key == key) {
                Some(p) => {
                    p.value = value;
                    p.pos = pos.clone();
                }
                None => system.params.push(Param {
                    key: key.into(),
                    value,
                    pos: pos.clone(),
                }),
            }
        }
    }

    /// With `-o`, Fluentd rotates its log file by `<system> <log> rotate_age`/`rotate_size`;
    /// logferry does not rotate it: refused, as `--log-rotate-age` is (without `-o` they are
    /// only warned about: Fluentd then logs to stderr and does not use them either).
    pub fn check_log_rotation(&self, root: &Element) -> Result<(), String> {
        if self.log.is_none() {
            return Ok(());
        }
        let rotation = root
            .elements
            .iter()
            .filter(|e| e.name == "system")
            .flat_map(|s| s.elements.iter().filter(|e| e.name == "log"))
            .flat_map(|l| l.params.iter())
            .find(|p| p.key == "rotate_age" || p.key == "rotate_size");
        match rotation {
            Some(p) => Err(format!(
                "{}: <log> {} with -o is not supported: logferry does not rotate its log file; rotate it with logrotate and send SIGUSR1, which reopens it",
                p.pos, p.key
            )),
            None => Ok(()),
        }
    }

    /// Fluentd refuses `--no-supervisor` with more than one worker (from `--workers`, or from
    /// `<system>`), each with its own message.
    pub fn check_workers(&self, workers: i64) -> Result<(), String> {
        if !self.no_supervisor {
            return Ok(());
        }
        if self.workers.as_deref().is_some_and(|n| ruby_to_i(n) > 1) {
            return Err("multi workers is not supported with --no-supervisor".into());
        }
        if workers > 1 {
            return Err(format!(
                "invalid number of workers (must be 1 or unspecified) with --no-supervisor: {workers}"
            ));
        }
        Ok(())
    }

    /// The `--umask` value, checked by [`Self::check`].
    pub fn umask(&self) -> Option<libc::mode_t> {
        self.umask
            .as_deref()
            .and_then(|m| libc::mode_t::from_str_radix(m, 8).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_options_override_the_file() {
        let mut root = logferry_config::parse_str(
            "<system>\n  workers 4\n  log_level warn\n</system>\n",
            "t.conf",
            Path::new("."),
        )
        .unwrap();
        let args = FluentdArgs {
            workers: Some("2".into()),
            without_source: true,
            ..Default::default()
        };
        args.apply_system(&mut root);
        let sys = &root.elements[0];
        let get = |k: &str| {
            sys.params
                .iter()
                .find(|p| p.key == k)
                .map(|p| p.value.clone())
        };
        assert_eq!(get("workers").as_deref(), Some("2"));
        assert_eq!(get("without_source").as_deref(), Some("true"));
        assert_eq!(get("log_level").as_deref(), Some("warn"));
        assert_eq!(root.elements.len(), 1);
    }

    #[test]
    fn refusals_say_what_to_do() {
        let c = Path::new("fluent.conf");
        let user = FluentdArgs {
            user: Some("fluent".into()),
            ..Default::default()
        };
        assert!(user.check(c).unwrap_err().contains("User="));
        let yaml = FluentdArgs {
            config_file_type: Some("guess".into()),
            ..Default::default()
        };
        assert!(yaml.check(Path::new("x.yaml")).is_err());
        assert!(yaml.check(c).is_ok());
        let enc = FluentdArgs {
            conf_encoding: Some("Shift_JIS".into()),
            ..Default::default()
        };
        assert!(enc.check(c).unwrap_err().contains("iconv"));
        let utf8 = FluentdArgs {
            conf_encoding: Some("UTF-8".into()),
            ..Default::default()
        };
        assert!(utf8.check(c).is_ok());
        let ns = FluentdArgs {
            no_supervisor: true,
            ..Default::default()
        };
        assert!(ns
            .check_workers(2)
            .unwrap_err()
            .contains("with --no-supervisor: 2"));
        assert!(ns.check_workers(1).is_ok());
        let nsw = FluentdArgs {
            no_supervisor: true,
            workers: Some("2".into()),
            ..Default::default()
        };
        assert_eq!(
            nsw.check_workers(2).unwrap_err(),
            "multi workers is not supported with --no-supervisor"
        );
    }
}
