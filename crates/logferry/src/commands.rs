//! The subcommands: tools around a config and a running daemon.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

/// A subcommand (without one, logferry runs the daemon).
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run test files (TOML or YAML) against CONFIG: input events go through the config's own
    /// filters and routing, outputs are captured instead of sent, and what reached each named
    /// output is compared with what the tests expect. Exit 0: all pass; 1: a test failed; 2: the
    /// config or a test file is invalid.
    Test {
        /// The config file (Fluentd syntax).
        config: PathBuf,
        /// Test files (.toml, .yaml, .yml).
        #[arg(required = true)]
        tests: Vec<PathBuf>,
    },
    /// Print the routing graph of CONFIG: sources, labels, filters and matches, and the edges
    /// rewrite_tag_filter, relabel, copy and @ERROR add.
    Graph {
        /// The config file (Fluentd syntax).
        config: PathBuf,
        /// dot (Graphviz) or mermaid.
        #[arg(long, value_enum, default_value = "dot")]
        format: crate::graph::Format,
    },
    /// Stream the events passing a plugin (--id) or a tag pattern (--tag) in a running daemon,
    /// as JSON lines, from its monitor endpoint (a monitor_agent or prometheus source);
    /// sampled, rate-limited, secrets masked.
    Tap(crate::tap::TapArgs),
    /// A live view of every plugin's event rates, buffer fill, retries and errors in a running
    /// daemon, from its monitor endpoint (a monitor_agent or prometheus source).
    Top {
        /// The monitor endpoint.
        #[arg(long, default_value = "127.0.0.1:24220", value_name = "HOST:PORT")]
        monitor: String,
        /// Seconds between redraws (and the window rates are computed over).
        #[arg(long, default_value_t = 1.0, value_name = "SECONDS")]
        interval: f64,
        /// Print one frame and exit.
        #[arg(long)]
        once: bool,
    },
}

/// Run a subcommand.
pub fn run(cmd: Command) -> ExitCode {
    match cmd {
        Command::Test { config, tests } => crate::cmd_test::run(&config, &tests),
        Command::Graph { config, format } => crate::graph::run(&config, format),
        Command::Tap(args) => crate::tap::run(&args),
        Command::Top {
            monitor,
            interval,
            once,
        } => crate::top::run(&monitor, interval, once),
    }
}
