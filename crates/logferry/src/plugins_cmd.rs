//! `logferry plugins`: every plugin's parameters from their declarations, as text, Markdown
//! (docs/plugins.md) or a JSON schema.

use std::fmt::Write;
use std::io::Write as _;
use std::process::ExitCode;

use logferry_config::params::{Declarations, PluginDecl, PluginKind, Spec};
use logferry_config::{reference, schema};

use crate::cli::PluginsArgs;

/// Print the listing `args` asks for.
pub fn run(args: &PluginsArgs) -> ExitCode {
    let registry = crate::registry();
    if args.json_schema {
        return print(&format!("{:#}\n", schema::schema(&registry)));
    }
    if args.markdown {
        return print(&format!("{}\n", reference::markdown(&registry)));
    }
    let wanted = |name: &str| args.names.is_empty() || args.names.iter().any(|n| n == name);
    let plugins: Vec<PluginDecl> = registry
        .plugins()
        .into_iter()
        .filter(|p| wanted(p.name))
        .collect();
    let top: Vec<&'static Spec> = registry
        .top_sections()
        .into_iter()
        .filter(|s| wanted(s.name))
        .collect();
    if plugins.is_empty() && top.is_empty() {
        eprintln!("logferry: no plugin named {}", args.names.join(", "));
        return ExitCode::from(1);
    }
    let mut out = listing(&plugins);
    for s in top {
        let _ = writeln!(out, "section {}", s.name);
        spec_listing(s, &mut out);
    }
    print(&out)
}

/// Write to stdout; a closed pipe (`| head`) is not an error worth a panic.
fn print(text: &str) -> ExitCode {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    ExitCode::SUCCESS
}

/// The text listing: each plugin, then its parameters one a line.
fn listing(plugins: &[PluginDecl]) -> String {
    let mut out = String::new();
    for kind in PluginKind::ALL {
        for p in plugins.iter().filter(|p| p.kind == kind) {
            let _ = writeln!(out, "{} {}", kind.name(), p.name);
            let Some(spec) = p.spec else {
                out.push_str("    (parameters not declared yet)\n\n");
                continue;
            };
            spec_listing(spec, &mut out);
        }
    }
    out
}

/// One declaration's doc, parameters (one a line) and sections.
fn spec_listing(spec: &Spec, out: &mut String) {
    let _ = writeln!(out, "    {}", spec.doc);
    let (params, legacy) = spec.current_and_legacy();
    for d in params {
        let default = match d.default {
            logferry_config::params::DefaultValue::Value(v) => format!(" = {v:?}"),
            logferry_config::params::DefaultValue::Required => " (required)".into(),
            logferry_config::params::DefaultValue::Computed(how) => format!(" = ({how})"),
            logferry_config::params::DefaultValue::None => String::new(),
        };
        let _ = writeln!(out, "  {} {}{default}", d.name, d.ty.name());
        if let Some(why) = d.refused {
            let _ = writeln!(out, "      not supported: {why}");
        }
        let _ = writeln!(out, "      {}", d.doc);
    }
    if !legacy.is_empty() {
        let names: Vec<&str> = legacy.iter().map(|d| d.name).collect();
        let _ = writeln!(out, "  v0.12 flat parameters: {}", names.join(", "));
    }
    for s in spec.all_sections() {
        let _ = writeln!(out, "  <{}>  {}", s.name, s.doc);
    }
    out.push('\n');
}
