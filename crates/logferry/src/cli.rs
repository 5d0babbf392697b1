//! Command-line options.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tracing::Level;

/// Log line format.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// A Fluentd-compatible log router.
#[derive(Parser, Debug)]
#[command(name = "logferry", version, about, long_about = None)]
pub struct Cli {
    /// A tool instead of the daemon.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Config file (Fluentd syntax). Default: $FLUENTD_CONF (the fluent/fluentd images'), else
    /// $FLUENT_CONF (Fluentd's own), else /etc/fluent/fluent.conf.
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Parse the config, build every plugin, print the resolved config and exit.
    #[arg(long)]
    pub dry_run: bool,

    /// With --dry-run: print the resolved config as JSON, the shape `plugins --json-schema`
    /// describes (to validate configs with any JSON-schema validator).
    #[arg(long, requires = "dry_run")]
    pub json: bool,

    /// More log output (-v debug, -vv trace).
    #[arg(short, long, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Less log output (-q warn, -qq error).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub quiet: u8,

    /// Log line format (default: `<system> <log> format`, else text).
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,

    /// Probe a health endpoint (e.g. http://127.0.0.1:24220/readyz) and exit 0 on a 2xx answer,
    /// 1 otherwise: a container health check that needs no curl.
    #[arg(long, value_name = "URL", conflicts_with = "dry_run")]
    pub healthcheck: Option<String>,

    /// Send one event (TAG and a JSON object record) to a forward input, wait for its ack and
    /// exit 0 once acknowledged: a first event, or a probe of a deployed daemon, with nothing else
    /// installed. The receiver must not require a shared key.
    #[arg(long, num_args = 2, value_names = ["TAG", "JSON"], conflicts_with_all = ["dry_run", "healthcheck"])]
    pub send: Option<Vec<String>>,

    /// Where `--send` sends (default: 127.0.0.1:$LOGFERRY_PORT, else 127.0.0.1:24224).
    #[arg(long, value_name = "HOST:PORT", requires = "send")]
    pub to: Option<String>,

    /// Seconds to finish in-flight work after SIGTERM/SIGINT before exiting anyway.
    #[arg(long, default_value_t = 25.0, value_name = "SECONDS")]
    pub shutdown_timeout: f64,

    /// Fluentd's own options (`fluentd --help`), so a Fluentd command line runs unchanged.
    #[command(flatten, next_help_heading = "Fluentd's options")]
    pub fluentd: crate::fluentd_cli::FluentdArgs,
}

/// Tools besides the daemon.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// List every plugin with its parameters, types, defaults and docs.
    Plugins(PluginsArgs),
    /// test, graph, tap, top (crate::commands).
    #[command(flatten)]
    Tools(crate::commands::Command),
}

/// `logferry plugins` options.
#[derive(Args, Debug)]
pub struct PluginsArgs {
    /// Only these plugins (by @type name).
    pub names: Vec<String>,

    /// Print a JSON schema of every plugin's parameters instead (as Fluent Bit's -J).
    #[arg(long, conflicts_with = "markdown")]
    pub json_schema: bool,

    /// Print the plugin reference as Markdown instead (docs/plugins.md).
    #[arg(long)]
    pub markdown: bool,
}

impl Cli {
    /// The config file to read.
    pub fn config_path(&self) -> PathBuf {
        if let Some(p) = &self.config {
            return p.clone();
        }
        // The images' entrypoint turns FLUENTD_CONF into `-c`, which wins over Fluentd's own
        // default, FLUENT_CONF (fluent-package's systemd unit sets it).
        ["FLUENTD_CONF", "FLUENT_CONF"]
            .iter()
            .find_map(|k| std::env::var_os(k).filter(|p| !p.is_empty()))
            .map_or_else(|| PathBuf::from("/etc/fluent/fluent.conf"), PathBuf::from)
    }

    /// The log level: `-v`/`-q` move from `<system> log_level` (default info).
    pub fn level(&self, system: Option<Level>) -> Level {
        let levels = [
            Level::ERROR,
            Level::WARN,
            Level::INFO,
            Level::DEBUG,
            Level::TRACE,
        ];
        let base = system.unwrap_or(Level::INFO);
        let idx = levels.iter().position(|l| *l == base).unwrap_or(2) as i32;
        let idx = (idx + i32::from(self.verbose) - i32::from(self.quiet)).clamp(0, 4);
        levels[idx as usize]
    }
}
