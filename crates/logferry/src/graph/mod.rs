//! `logferry graph CONFIG`: the routing graph of a config as DOT or Mermaid.

pub mod model;
pub mod render;

use std::path::Path;
use std::process::ExitCode;

use clap::ValueEnum;

/// Output format of `logferry graph`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// Graphviz DOT (`dot -Tsvg`).
    Dot,
    /// A Mermaid flowchart (GitHub renders it in a ```mermaid block).
    Mermaid,
}

/// Print the graph of `config`; a config that does not build is refused as at start-up.
pub fn run(config: &Path, format: Format) -> ExitCode {
    let root = match crate::cmd_test::load_config(config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("logferry: config error: {e}");
            return ExitCode::from(1);
        }
    };
    let g = model::build(&root);
    match format {
        Format::Dot => print!("{}", render::dot(&g)),
        Format::Mermaid => print!("{}", render::mermaid(&g)),
    }
    ExitCode::SUCCESS
}
