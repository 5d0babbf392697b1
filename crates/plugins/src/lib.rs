//! logferry's plugins, one module per plugin, named as Fluentd names them so users find them.
//!
//! Inputs: `forward` ([`in_forward`]), `sample`/`dummy` ([`in_sample`]).
//! Outputs: `stdout`, `null`, `file`, `relabel`.
//! Shared helpers: [`formatter`] (`<format>`), [`inject`] (`<inject>`).
#![warn(missing_docs)]

pub mod formatter;
pub mod in_forward;
pub mod in_sample;
pub mod inject;
pub mod out_file;
pub mod out_null;
pub mod out_relabel;
pub mod out_stdout;
pub mod parser;

use logferry_core::Registry;

/// Every plugin this build supports.
pub fn registry() -> Registry {
    let mut r = Registry::new();
    r.add_input("forward", in_forward::build);
    r.add_input("sample", in_sample::build);
    r.add_input("dummy", in_sample::build);
    r.add_output("stdout", out_stdout::build);
    r.add_output("null", out_null::build);
    r.add_output("file", out_file::build);
    r.add_output("relabel", out_relabel::build);
    r
}
