//! concat's parameters, with fluent-plugin-concat 2.5's names, defaults and start-up checks.

use std::time::Duration;

use logferry_core::error::build_error;
use logferry_core::params::{p, ParamType::*, Spec};
use logferry_core::{BuildError, Section};
use logferry_formats::ruby::{self, RubyRegex};

/// `concat` filter (fluent-plugin-concat).
pub static PARAMS: Spec = Spec::new(
    "concat",
    "Joins the lines of multiline messages (by count, regexps, partial flags or CRI log tags).",
)
.params(&[
    p("key", Str, "The field holding the text to join.").required(),
    p("separator", Str, "Between joined lines.").default("\n"),
    p("n_lines", Integer, "Join this many lines."),
    p(
        "multiline_start_regexp",
        Regexp,
        "A line matching it starts a message (`/…/`, no flags).",
    ),
    p(
        "multiline_end_regexp",
        Regexp,
        "A line matching it ends a message (`/…/`, no flags).",
    ),
    p(
        "continuous_line_regexp",
        Regexp,
        "A line matching it continues a message (`/…/`, no flags).",
    ),
    p(
        "stream_identity_key",
        Str,
        "Field that tells streams apart (besides the tag).",
    ),
    p(
        "flush_interval",
        Time,
        "Flush a message that got no line for this long (0: never).",
    )
    .default("60"),
    p(
        "timeout_label",
        Str,
        "Emit timed-out messages into this label.",
    ),
    p(
        "use_first_timestamp",
        Bool,
        "The joined event keeps its first line's time.",
    )
    .default("false"),
    p("partial_key", Str, "Field marking partial lines."),
    p(
        "partial_value",
        Str,
        "Value of partial_key on partial lines.",
    ),
    p(
        "keep_partial_key",
        Bool,
        "Keep partial_key in the joined record.",
    )
    .default("false"),
    p(
        "use_partial_metadata",
        Bool,
        "Join by Docker's partial-message metadata.",
    )
    .default("false"),
    p(
        "partial_metadata_format",
        Enum(&[
            "docker-fluentd",
            "docker-journald",
            "docker-journald-lowercase",
        ]),
        "Which partial metadata fields.",
    )
    .default("docker-fluentd"),
    p(
        "keep_partial_metadata",
        Bool,
        "Keep the partial metadata fields.",
    )
    .default("false"),
    p(
        "use_partial_cri_logtag",
        Bool,
        "Join by CRI log tags (P/F).",
    )
    .default("false"),
    p(
        "partial_cri_logtag_key",
        Str,
        "Field holding the CRI log tag.",
    ),
    p(
        "partial_cri_stream_key",
        Str,
        "Field holding the CRI stream.",
    )
    .default("stream"),
    p(
        "stream_limit_size",
        Size,
        "Most bytes one stream holds before it is flushed (logferry's own).",
    )
    .default("8m"),
    p(
        "total_limit_size",
        Size,
        "Most bytes all streams together hold (logferry's own).",
    )
    .default("64m"),
]);

/// The field names of one `partial_metadata_format`.
#[derive(Clone, Debug)]
pub struct MetadataFields {
    /// `partial_message` / `CONTAINER_PARTIAL_MESSAGE` …
    pub message: &'static str,
    /// `partial_id` …
    pub id: &'static str,
    /// `partial_ordinal` …
    pub ordinal: &'static str,
    /// `partial_last` …
    pub last: &'static str,
    /// The field whose presence marks a piece (journald leaves `…_MESSAGE` off the last one).
    pub indicator: &'static str,
}

/// How lines are grouped.
#[derive(Clone, Debug)]
pub enum Mode {
    /// `n_lines`.
    Lines(usize),
    /// `partial_key` / `partial_value`.
    Partial {
        /// `partial_key`.
        key: String,
        /// `partial_value`.
        value: String,
    },
    /// `use_partial_metadata`.
    Metadata(MetadataFields),
    /// `use_partial_cri_logtag`.
    Cri {
        /// `partial_cri_logtag_key`.
        logtag_key: String,
        /// `partial_cri_stream_key`.
        stream_key: String,
    },
    /// `multiline_start_regexp` / `multiline_end_regexp` / `continuous_line_regexp`.
    Regexp {
        /// Start of a group.
        start: Option<RubyRegex>,
        /// End of a group.
        end: Option<RubyRegex>,
        /// Lines that continue a group (any line when unset).
        continuous: Option<RubyRegex>,
    },
}

/// Everything concat reads from its section.
#[derive(Clone, Debug)]
pub struct ConcatConfig {
    /// `key`.
    pub key: String,
    /// `separator`.
    pub separator: String,
    /// The grouping mode.
    pub mode: Mode,
    /// `stream_identity_key`.
    pub stream_identity_key: Option<String>,
    /// `flush_interval` (None = 0 = no timeout flush).
    pub flush_interval: Option<Duration>,
    /// `timeout_label`.
    pub timeout_label: Option<String>,
    /// `use_first_timestamp`.
    pub use_first_timestamp: bool,
    /// `keep_partial_key`.
    pub keep_partial_key: bool,
    /// `keep_partial_metadata`.
    pub keep_partial_metadata: bool,
    /// `stream_limit_size` (logferry).
    pub stream_limit: usize,
    /// `total_limit_size` (logferry).
    pub total_limit: usize,
}

/// fluent-plugin-concat takes `/body/` and drops the first and last characters; logferry
/// requires the slashes (and refuses flags, which the plugin would have kept in the body).
fn slashed(s: &Section, key: &str) -> Result<Option<RubyRegex>, BuildError> {
    let Some(p) = s.param(key) else {
        return Ok(None);
    };
    let v = p.value.as_str();
    if v.len() < 2 || !v.starts_with('/') || !v.ends_with('/') {
        return Err(build_error(
            &p.pos,
            format!("{key} {v}: expected a regexp between slashes, such as /^\\d{{4}}-/ (fluent-plugin-concat takes no flags)"),
        ));
    }
    ruby::compile(&v[1..v.len() - 1], "")
        .map(Some)
        .map_err(|e| build_error(&p.pos, format!("{key}: {e}")))
}

impl ConcatConfig {
    /// Read and check the section as fluent-plugin-concat's `configure` does.
    pub fn from_section(s: &Section) -> Result<Self, BuildError> {
        let s = &s.declared(&PARAMS);
        let key: String = s.get("key")?;
        let separator: String = s.get("separator")?;
        // Ruby's `to_i`; 0 or less (`0x2` is 0) is taken as the plugin takes it: a buffer of
        // one line is already `>= n_lines`, so each line is written alone.
        let n_lines = s
            .param("n_lines")
            .map(|p| logferry_config::types::integer(&p.value).max(1) as usize);
        let start = slashed(s, "multiline_start_regexp")?;
        let end = slashed(s, "multiline_end_regexp")?;
        let continuous = slashed(s, "continuous_line_regexp")?;
        let partial_key: Option<String> = s.get("partial_key")?;
        let partial_value: Option<String> = s.get("partial_value")?;
        let use_meta: bool = s.get("use_partial_metadata")?;
        let use_cri: bool = s.get("use_partial_cri_logtag")?;
        let regexp = start.is_some() || end.is_some();
        let fail = |m: &str| Err(build_error(s.pos(), m.to_string()));
        if n_lines.is_none() && !regexp && partial_key.is_none() && !use_meta && !use_cri {
            return fail("Either n_lines, multiline_start_regexp, multiline_end_regexp, partial_key, use_partial_metadata or use_partial_cri_logtag is required");
        }
        if n_lines.is_some() && regexp {
            return fail("n_lines and multiline_start_regexp/multiline_end_regexp are exclusive");
        }
        if partial_key.is_some() && n_lines.is_some() {
            return fail("partial_key and n_lines are exclusive");
        }
        if partial_key.is_some() && regexp {
            return fail(
                "partial_key and multiline_start_regexp/multiline_end_regexp are exclusive",
            );
        }
        if partial_key.is_some() && partial_value.is_none() {
            return fail("partial_value is required when partial_key is specified");
        }
        if use_meta && n_lines.is_some() {
            return fail("use_partial_metadata and n_lines are exclusive");
        }
        if use_meta && regexp {
            return fail("use_partial_metadata and multiline_start_regexp/multiline_end_regexp are exclusive");
        }
        if use_meta && partial_key.is_some() {
            return fail("use_partial_metadata and partial_key are exclusive");
        }
        if use_cri && n_lines.is_some() {
            return fail("use_partial_cri_logtag and n_lines are exclusive");
        }
        if use_cri && regexp {
            return fail("use_partial_cri_logtag and multiline_start_regexp/multiline_end_regexp are exclusive");
        }
        if use_cri && partial_key.is_some() {
            return fail("use_partial_cri_logtag and partial_key are exclusive");
        }
        let format: &str = s.get("partial_metadata_format")?;
        let logtag_key: Option<String> = s.get("partial_cri_logtag_key")?;
        let stream_key: String = s.get("partial_cri_stream_key")?;
        let mode = if let Some(n) = n_lines {
            Mode::Lines(n)
        } else if let Some(key) = partial_key {
            Mode::Partial {
                key,
                value: partial_value.unwrap_or_default(),
            }
        } else if use_meta {
            Mode::Metadata(match format {
                "docker-fluentd" => MetadataFields {
                    message: "partial_message",
                    id: "partial_id",
                    ordinal: "partial_ordinal",
                    last: "partial_last",
                    indicator: "partial_message",
                },
                "docker-journald" => MetadataFields {
                    message: "CONTAINER_PARTIAL_MESSAGE",
                    id: "CONTAINER_PARTIAL_ID",
                    ordinal: "CONTAINER_PARTIAL_ORDINAL",
                    last: "CONTAINER_PARTIAL_LAST",
                    indicator: "CONTAINER_PARTIAL_ID",
                },
                _ => MetadataFields {
                    message: "container_partial_message",
                    id: "container_partial_id",
                    ordinal: "container_partial_ordinal",
                    last: "container_partial_last",
                    indicator: "container_partial_id",
                },
            })
        } else if use_cri {
            // The plugin accepts a missing key and then fails on every record; refuse it here.
            let Some(logtag_key) = logtag_key else {
                return fail("use_partial_cri_logtag needs partial_cri_logtag_key (the field holding the CRI log tag, e.g. logtag)");
            };
            Mode::Cri {
                logtag_key,
                stream_key,
            }
        } else {
            Mode::Regexp {
                start,
                end,
                continuous,
            }
        };
        let flush: f64 = s.get("flush_interval")?;
        if !(flush >= 0.0 && flush.is_finite()) {
            return fail("flush_interval: expected a time of 0 (no timeout) or more");
        }
        let stream_limit: usize = s.get("stream_limit_size")?;
        let total_limit: usize = s.get("total_limit_size")?;
        if stream_limit == 0 || total_limit < stream_limit {
            return fail("stream_limit_size must be positive and total_limit_size at least stream_limit_size");
        }
        Ok(ConcatConfig {
            key,
            separator,
            mode,
            stream_identity_key: s.get("stream_identity_key")?,
            flush_interval: (flush > 0.0).then(|| Duration::from_secs_f64(flush)),
            timeout_label: s.non_empty("timeout_label")?.map(str::to_string),
            use_first_timestamp: s.get("use_first_timestamp")?,
            keep_partial_key: s.get("keep_partial_key")?,
            keep_partial_metadata: s.get("keep_partial_metadata")?,
            stream_limit,
            total_limit,
        })
    }
}
