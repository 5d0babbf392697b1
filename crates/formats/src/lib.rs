//! Fluentd's parsers, formatters, Ruby regexps and time formats: pure code, no runtime or I/O.
//!
//! Everything here turns text or msgpack into other text or msgpack, built from a plugin's
//! config [`Section`](logferry_config::Section); nothing here starts a task, opens a socket or
//! reads a file. The plugins of `logferry-plugins` use it, and so do the Ruby differential test
//! (`tests/ruby_regex_vs_ruby.rs`), the parser fuzz targets and the parser benches, which link
//! this crate alone.
//!
//! * [`parser`] — `<parse>`: Fluentd's parsers (`json`, `regexp`, `ltsv`, `csv`, `tsv`, `nginx`,
//!   `apache2`, `apache`, `apache_error`, `syslog`, `none`, `multiline`, `multi_format`), their
//!   time parsing (Ruby `strptime`) and the Ruby-regexp translator ([`parser::ruby_regex`]).
//! * [`formatter`] — `<format>`: Fluentd's formatters (`out_file`, `json`, `ltsv`, `csv`,
//!   `single_value`, `msgpack`, `stdout`).
//! * [`inject`] — `<inject>`: the tag, time, hostname or worker id added to records.
//! * [`ruby_regexp`] — [`ruby_regexp::RubyRegex`]: a Ruby regexp on Rust's linear-time engine
//!   where it keeps Ruby's meaning, else on Oniguruma in Ruby syntax.
//! * [`ruby`] — Ruby's `to_s` / `inspect` text of record values (and the regexp re-exports).
//! * [`accessor`] — record accessors (`key`, `$.a.b`, `$['a.b'][0]`) as Fluentd's
//!   `record_accessor` helper parses them, on decoded records and on raw msgpack.
//! * [`timefmt`] — Ruby-compatible strftime and time zones.
//! * [`record`] — decoding a record only when a plugin needs its fields, setting fields on raw
//!   msgpack, and the record accessor of buffer chunk keys.
//!
//! `logferry-core` re-exports [`timefmt`] and [`record`] under their old paths
//! (`logferry_core::timefmt`, `logferry_core::record`), and `logferry-plugins` re-exports the
//! other modules (`logferry_plugins::parser`, …).
#![warn(missing_docs)]

pub mod accessor;
pub mod extract;
pub mod formatter;
pub mod inject;
pub mod parser;
pub mod record;
pub mod ruby;
pub mod ruby_expr;
pub mod ruby_regexp;
pub mod timefmt;
