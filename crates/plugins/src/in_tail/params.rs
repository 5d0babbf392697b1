//! The tail input's parameters (Fluentd 1.16's in_tail `config_param`s), declared once for
//! `--dry-run`, `logferry plugins`, the JSON schema and docs/plugins.md.

use logferry_config::params::{one, p, Body, ParamType::*, PluginKind, Spec};
use logferry_formats::parser;

/// `tail` input.
pub static PARAMS: Spec = Spec::new(
    "tail",
    "Follows files (globs, strftime, rotation) and emits each line through a `<parse>` parser; positions in a Fluentd-format pos_file.",
)
.params(&[
    p("path", Str, "The files: a list split on path_delimiter, with globs and strftime.")
        .required(),
    p("path_delimiter", Str, "What separates the paths in `path`.").default(","),
    p("path_timezone", Str, "Zone of the strftime placeholders in the paths."),
    p("tag", Str, "The events' tag; a `*` becomes the path with `/` as `.`.").required(),
    p("exclude_path", Array, "Paths (globs, strftime) left out."),
    p("rotate_wait", Time, "How long a rotated file is still read.").default("5"),
    p("pos_file", Str, "Where the positions are kept (Fluentd's format)."),
    p("pos_file_compaction_interval", Time, "How often unwatched entries are dropped from pos_file."),
    p("read_from_head", Bool, "Read files found at start from their head, not their end.")
        .default("false"),
    p("refresh_interval", Time, "How often the path list is expanded again.").default("60"),
    p("read_lines_limit", Integer, "Lines a batch.").default("1000"),
    p("read_bytes_limit_per_second", Size, "Bytes read a second per file (-1: no limit; at least 8192).")
        .default("-1"),
    p("multiline_flush_interval", Time, "Emit a held multi-line event after this long."),
    p("emit_unmatched_lines", Bool, "Emit lines that do not parse as `unmatched_line`.")
        .default("false"),
    p("enable_watch_timer", Bool, "Look at every file every second.").default("true"),
    p("enable_stat_watcher", Bool, "Look at a file when inotify says it changed.").default("true"),
    p("encoding", Str, "The encoding of the events' strings."),
    p("from_encoding", Str, "The encoding of the files (converted to `encoding`)."),
    p("path_key", Str, "Add the file's path under this key."),
    p("open_on_every_update", Bool, "Open the file at each read, close it after.").default("false"),
    p("limit_recently_modified", Time, "Only files (of globs) modified this recently."),
    p("skip_refresh_on_startup", Bool, "Expand the paths first at refresh_interval, not at start.")
        .default("false"),
    p("ignore_repeated_permission_error", Bool, "Warn once about an unreadable file.")
        .default("false"),
    p("follow_inodes", Bool, "Key positions by inode (rotated files under a glob are not read twice).")
        .default("false"),
    p("max_line_size", Size, "Longer lines are skipped (default 16 MiB here)."),
])
.sections(&[one(
    "parse",
    Body::Plugin(PluginKind::Parser, None),
    "The parser of each line.",
)])
.extends(&[&parser::params::FLAT]);
