//! logferry's plugins, one module per plugin, named as Fluentd names them so users find them.
//!
//! Inputs: `forward` ([`in_forward`]), `unix` ([`in_unix`]), `tail` ([`in_tail`]), `http`
//! ([`in_http`]), `tcp` ([`in_tcp`]), `udp` ([`in_udp`]), `syslog` ([`in_syslog`]),
//! `sample`/`dummy` ([`in_sample`]), `exec` ([`in_exec`]).
//! Filters: `parser`, `record_transformer`, `grep`, `concat`, `stdout`.
//! Outputs: `stdout`, `null`, `file`, `http`, `relabel`, `rewrite_tag_filter`, `copy`,
//! `roundrobin`, `forward`, `exec`
//! (the AWS outputs live in `logferry-plugins-aws`).
//! Shared helpers, defined in `logferry-formats` and re-exported here: [`formatter`]
//! (`<format>`), [`inject`] (`<inject>`), [`parser`] (`<parse>`), [`accessor`] (record
//! accessors), [`ruby`] (Ruby regexps and `to_s`).
#![warn(missing_docs)]

pub mod close;
pub mod filter_concat;
pub mod filter_grep;
pub mod filter_parser;
pub mod filter_record_transformer;
pub mod filter_stdout;
pub mod in_exec;
pub mod in_forward;
pub mod in_http;
pub mod in_monitor;
pub mod in_sample;
pub mod in_syslog;
pub mod in_tail;
pub mod in_tcp;
pub mod in_udp;
pub mod in_unix;
pub mod monitor_tap;
pub mod net;
pub mod out_copy;
pub mod out_exec;
pub mod out_file;
pub mod out_file_symlink;
pub mod out_forward;
pub mod out_http;
pub mod out_null;
pub mod out_relabel;
pub mod out_rewrite_tag_filter;
pub mod out_roundrobin;
pub mod out_secondary_file;
pub mod out_stdout;
pub mod pem;
pub mod tls_errors;

use logferry_core::params::PluginKind;
use logferry_core::Registry;
pub use logferry_formats::{accessor, formatter, inject, parser, ruby};

/// Every plugin this build supports.
pub fn registry() -> Registry {
    let mut r = Registry::new();
    r.add_input("forward", in_forward::build);
    r.add_input("sample", in_sample::build);
    r.add_input("unix", in_unix::build);
    r.add_input("tcp", in_tcp::build);
    r.add_input("http", in_http::build);
    r.add_input("syslog", in_syslog::build);
    r.add_input("udp", in_udp::build);
    r.add_input("tail", in_tail::build);
    r.add_input("dummy", in_sample::build);
    r.add_input("exec", in_exec::build);
    r.add_input("monitor_agent", in_monitor::build_monitor_agent);
    r.add_input("prometheus", in_monitor::build_prometheus);
    r.add_output("stdout", out_stdout::build);
    r.add_output("null", out_null::build);
    r.add_output("file", out_file::build);
    r.add_writer("file", out_file::writer);
    r.add_buffered("http", out_http::writer, out_http::DEFAULTS);
    r.add_buffered("exec", out_exec::writer, out_exec::DEFAULTS);
    r.add_writer("stdout", out_stdout::writer);
    r.add_writer("secondary_file", out_secondary_file::writer);
    r.add_writer("null", out_null::writer);
    r.add_output("relabel", out_relabel::build);
    r.add_output("rewrite_tag_filter", out_rewrite_tag_filter::build);
    r.add_output("copy", out_copy::build);
    r.add_output("roundrobin", out_roundrobin::build);
    r.add_buffered("forward", out_forward::writer, out_forward::DEFAULTS);
    r.add_filter("parser", filter_parser::build);
    r.add_filter("record_transformer", filter_record_transformer::build);
    r.add_filter("grep", filter_grep::build);
    r.add_filter("concat", filter_concat::build);
    r.add_filter("stdout", filter_stdout::build);
    declare(&mut r);
    r
}

/// The parameter declarations of the plugins, parsers and formatters (see
/// [`logferry_core::params`]).
fn declare(r: &mut Registry) {
    use PluginKind::*;
    r.declare(Input, "forward", &in_forward::params::IN_FORWARD);
    r.declare(Input, "unix", &in_forward::params::IN_UNIX);
    r.declare(Input, "http", &net::params::IN_HTTP);
    r.declare(Input, "tcp", &net::params::IN_TCP);
    r.declare(Input, "udp", &net::params::IN_UDP);
    r.declare(Input, "syslog", &net::params::IN_SYSLOG);
    r.declare(Input, "tail", &in_tail::params::PARAMS);
    r.declare(Input, "exec", &in_exec::PARAMS);
    r.declare(Input, "sample", &in_sample::PARAMS);
    r.declare(Input, "dummy", &in_sample::PARAMS);
    r.declare(Input, "monitor_agent", &in_monitor::MONITOR_AGENT);
    r.declare(Input, "prometheus", &in_monitor::PROMETHEUS);
    r.declare(Output, "stdout", &out_stdout::PARAMS);
    r.declare(Output, "null", &out_null::PARAMS);
    r.declare(Output, "relabel", &out_relabel::PARAMS);
    r.declare(Output, "copy", &out_copy::PARAMS);
    r.declare(Output, "roundrobin", &out_roundrobin::PARAMS);
    r.declare(Output, "secondary_file", &out_secondary_file::PARAMS);
    r.declare(Filter, "stdout", &out_stdout::FILTER_PARAMS);
    r.declare(Filter, "grep", &filter_grep::PARAMS);
    r.declare(Filter, "parser", &filter_parser::PARAMS);
    r.declare(
        Filter,
        "record_transformer",
        &filter_record_transformer::PARAMS,
    );
    r.declare(
        Output,
        "rewrite_tag_filter",
        &out_rewrite_tag_filter::PARAMS,
    );
    r.declare(Output, "file", &out_file::PARAMS);
    r.declare(Filter, "concat", &filter_concat::PARAMS);
    r.declare(Output, "forward", &out_forward::params::PARAMS);
    r.declare(Output, "http", &out_http::PARAMS);
    r.declare(Output, "exec", &out_exec::PARAMS);
    for (name, spec) in logferry_formats::formatter::params::SPECS {
        r.declare(Formatter, name, spec);
    }
    for (name, spec) in logferry_formats::parser::params::SPECS {
        r.declare(Parser, name, spec);
    }
}
