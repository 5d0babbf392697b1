//! The `<source @type tail>` parameters, checked as Fluentd 1.16 checks them at start-up.

use logferry_config::{build_error, BuildError, Section};
use logferry_formats::parser::{self, Parser};
use logferry_formats::timefmt::Zone;

use super::encoding::{self, Converter, Enc};
use super::paths::Pattern;
use super::reader::DEFAULT_LINE_LIMIT;

/// Fluentd's `BYTES_TO_READ`: the smallest `read_bytes_limit_per_second`.
const MIN_BYTES_PER_SECOND: u64 = 8192;

/// Everything the tail input was configured with.
pub struct TailConfig {
    /// `path`, split on `path_delimiter`.
    pub paths: Vec<Pattern>,
    /// The raw `path` values (for messages).
    pub path_texts: Vec<String>,
    /// `exclude_path`.
    pub exclude: Vec<Pattern>,
    /// `tag`, or its parts around `*`.
    pub tag: TagRule,
    /// `pos_file`.
    pub pos_file: Option<String>,
    /// Modes of the pos file and its directory (`<system>` file_permission/dir_permission; set
    /// by the build).
    pub pos_file_perms: logferry_core::perms::Perms,
    /// `pos_file_compaction_interval` (seconds).
    pub compaction_interval: Option<f64>,
    /// `read_from_head`.
    pub read_from_head: bool,
    /// `refresh_interval` (seconds).
    pub refresh_interval: f64,
    /// `rotate_wait` (seconds).
    pub rotate_wait: f64,
    /// `follow_inodes`.
    pub follow_inodes: bool,
    /// `enable_watch_timer`.
    pub watch_timer: bool,
    /// `enable_stat_watcher`.
    pub stat_watcher: bool,
    /// `read_lines_limit`.
    pub read_lines_limit: usize,
    /// `read_bytes_limit_per_second` (None: unlimited).
    pub bytes_per_second: Option<u64>,
    /// `open_on_every_update`.
    pub open_on_every_update: bool,
    /// `from_encoding` → `encoding`.
    pub encoding: Option<(Option<Enc>, Enc)>,
    /// `path_key`.
    pub path_key: Option<String>,
    /// `limit_recently_modified` (seconds).
    pub limit_recently_modified: Option<f64>,
    /// `ignore_repeated_permission_error`.
    pub ignore_repeated_permission_error: bool,
    /// `skip_refresh_on_startup`.
    pub skip_refresh_on_startup: bool,
    /// `emit_unmatched_lines`.
    pub emit_unmatched_lines: bool,
    /// `max_line_size`, or logferry's cap.
    pub line_limit: usize,
    /// `multiline_flush_interval` (seconds).
    pub multiline_flush_interval: Option<f64>,
    /// The `<parse>` parser.
    pub parser: Box<dyn Parser>,
    /// The parser is `multiline`.
    pub multiline: bool,
    /// The parser is `none`: its `message_key` and `estimate_current_event`, so that a line
    /// that is not UTF-8 is kept byte for byte as Fluentd keeps it.
    pub none: Option<(String, bool)>,
}

/// How the tag is made.
pub enum TagRule {
    /// A fixed tag.
    Fixed(String),
    /// `prefix*suffix`: the `*` becomes the path with `/` turned into `.`.
    Expand(String, String),
}

impl TagRule {
    fn new(tag: &str) -> TagRule {
        if !tag.contains('*') {
            return TagRule::Fixed(tag.to_string());
        }
        // Ruby's `tag.split('*')`: trailing empty parts dropped, only the first two used.
        let mut parts: Vec<&str> = tag.split('*').collect();
        while parts.last() == Some(&"") {
            parts.pop();
        }
        let prefix = parts.first().copied().unwrap_or("").to_string();
        let suffix = parts.get(1).copied().unwrap_or("").to_string();
        TagRule::Expand(prefix, suffix)
    }

    /// The tag of the events of the file at `path`.
    pub fn for_path(&self, path: &str) -> String {
        match self {
            TagRule::Fixed(t) => t.clone(),
            TagRule::Expand(pre, suf) => {
                // path.tr('/', '.').squeeze('.').gsub(/^\./, '')
                let mut mid = String::with_capacity(path.len());
                for c in path.chars() {
                    let c = if c == '/' { '.' } else { c };
                    if c == '.' && mid.ends_with('.') {
                        continue;
                    }
                    mid.push(c);
                }
                let mid = mid.strip_prefix('.').unwrap_or(&mid);
                format!("{pre}{mid}{suf}")
            }
        }
    }
}

fn positive(s: &Section, key: &str, v: f64) -> Result<f64, BuildError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(build_error(
            s.param(key).map_or(s.pos(), |p| &p.pos),
            format!("'{key}' must be a positive time"),
        ))
    }
}

impl TailConfig {
    /// Read and check the section.
    pub fn from_section(s: &Section, warn: &dyn Fn(String)) -> Result<TailConfig, BuildError> {
        s.refuse_section(
            "group",
            "per-group line limits (<group>/<rule>) are not implemented",
        )?;
        let path = s.required("path")?;
        let tag = s.required("tag")?;
        let delim = s.string("path_delimiter", ",");
        if ["/", "*", "%"].contains(&delim.as_str()) {
            return Err(build_error(
                &s.param("path_delimiter").expect("given").pos,
                format!("/, *, % are reserved words: {delim}"),
            ));
        }
        let zone = match s.param("path_timezone") {
            Some(p) => Zone::parse_validated(&p.value).map_err(|e| build_error(&p.pos, e))?,
            None => Zone::Local,
        };
        let mut path_texts: Vec<String> = Vec::new();
        for p in path.split(delim.as_str()).map(str::trim) {
            if !path_texts.iter().any(|x| x == p) {
                path_texts.push(p.to_string());
            }
        }
        path_texts.retain(|p| !p.is_empty());
        let ppos = &s.param("path").expect("required").pos;
        if path_texts.is_empty() {
            return Err(build_error(
                ppos,
                "tail: 'path' parameter is required on tail input",
            ));
        }
        let mut paths = Vec::new();
        for p in &path_texts {
            paths.push(Pattern::new(p, &zone).map_err(|e| build_error(ppos, e))?);
        }
        let mut exclude = Vec::new();
        if let Some(list) = s.array("exclude_path")? {
            let epos = &s.param("exclude_path").expect("given").pos;
            for p in list {
                exclude.push(Pattern::new(&p, &zone).map_err(|e| build_error(epos, e))?);
            }
        }
        let watch_timer = s.bool("enable_watch_timer", true)?;
        let stat_watcher = s.bool("enable_stat_watcher", true)?;
        if !watch_timer && !stat_watcher {
            return Err(build_error(
                s.pos(),
                "either of enable_watch_timer or enable_stat_watcher must be true",
            ));
        }
        let pos_file = s.non_empty("pos_file")?.map(str::to_string);
        let follow_inodes = s.bool("follow_inodes", false)?;
        if pos_file.is_none() {
            if follow_inodes {
                return Err(build_error(
                    &s.param("follow_inodes").expect("given").pos,
                    "Can't follow inodes without pos_file configuration parameter",
                ));
            }
            warn("'pos_file PATH' parameter is not set to a 'tail' source.".into());
            warn(
                "this parameter is highly recommended to save the position to resume tailing."
                    .into(),
            );
        }
        // Encodings.
        let enc = |key: &str| -> Result<Option<Enc>, BuildError> {
            match s.param(key) {
                None => Ok(None),
                Some(p) => encoding::lookup(&p.value)
                    .map(Some)
                    .map_err(|e| build_error(&p.pos, e)),
            }
        };
        let to = enc("encoding")?;
        let from = enc("from_encoding")?;
        let encoding =
            match (from, to) {
                (Some(_), None) => return Err(build_error(
                    &s.param("from_encoding").expect("given").pos,
                    "tail: 'from_encoding' parameter must be specified with 'encoding' parameter.",
                )),
                (from, Some(to)) => {
                    Converter::new(from, Some(to)).map_err(|e| {
                        build_error(
                            &s.param("from_encoding")
                                .unwrap_or_else(|| s.param("encoding").expect("given"))
                                .pos,
                            e,
                        )
                    })?;
                    if from == Some(to) {
                        warn("'encoding' and 'from_encoding' are same encoding. No effect".into());
                    }
                    Some((from, to))
                }
                (None, None) => None,
            };
        let bytes_per_second = match s.param("read_bytes_limit_per_second") {
            None => None,
            Some(p) => {
                let v = if p.value.trim().starts_with('-') {
                    -1
                } else {
                    logferry_config::types::size(&p.value) as i64
                };
                if v <= 0 {
                    None
                } else {
                    if !watch_timer {
                        return Err(build_error(
                            &p.pos,
                            "Need to enable watch timer when using log throttling feature",
                        ));
                    }
                    if (v as u64) < MIN_BYTES_PER_SECOND {
                        warn(format!("Should specify greater equal than {MIN_BYTES_PER_SECOND}. Use {MIN_BYTES_PER_SECOND} for read_bytes_limit_per_second"));
                        Some(MIN_BYTES_PER_SECOND)
                    } else {
                        Some(v as u64)
                    }
                }
            }
        };
        let read_lines_limit = s.integer("read_lines_limit", 1000);
        if read_lines_limit < 1 {
            return Err(build_error(
                &s.param("read_lines_limit").expect("given").pos,
                "'read_lines_limit' must be at least 1",
            ));
        }
        let line_limit = match s.opt_size("max_line_size") {
            Some(0) | None => DEFAULT_LINE_LIMIT,
            Some(n) => n.min(usize::MAX as u64) as usize,
        };
        let refresh_interval = positive(s, "refresh_interval", s.time("refresh_interval", 60.0))?;
        let rotate_wait = s.time("rotate_wait", 5.0).max(0.0);
        let compaction_interval = match s.param("pos_file_compaction_interval") {
            None => None,
            Some(_) => Some(positive(
                s,
                "pos_file_compaction_interval",
                s.time("pos_file_compaction_interval", 0.0),
            )?),
        };
        let multiline_flush_interval = match s.param("multiline_flush_interval") {
            None => None,
            Some(_) => Some(positive(
                s,
                "multiline_flush_interval",
                s.time("multiline_flush_interval", 0.0),
            )?),
        };
        let limit_recently_modified = s
            .param("limit_recently_modified")
            .map(|_| s.time("limit_recently_modified", 0.0));
        let emit_unmatched_lines = s.bool("emit_unmatched_lines", false)?;
        let parse = s.section("parse")?;
        if parse.is_none() && !s.has("format") {
            return Err(build_error(s.pos(), "<parse> section is required."));
        }
        let ty = match &parse {
            Some(ps) => ps.str("@type").or_else(|| ps.str("type")).unwrap_or(""),
            None => s.str("format").unwrap_or(""),
        };
        let multiline = ty.contains("multiline");
        let none = if ty == "none" {
            let p = parse.as_ref().unwrap_or(s);
            Some((
                p.str("message_key").unwrap_or("message").to_string(),
                p.bool("estimate_current_event", true)?,
            ))
        } else {
            None
        };
        let mut parser = parser::from_plugin(s, None)?;
        if multiline && emit_unmatched_lines {
            // Fluentd hands emit_unmatched_lines to the multiline parser as `unmatched_lines`.
            let mut el = s.element().clone();
            let target = match el.elements.iter_mut().find(|e| e.name == "parse") {
                Some(e) => e,
                None => &mut el,
            };
            target.params.push(logferry_config::Param {
                key: "unmatched_lines".into(),
                value: "true".into(),
                pos: s.pos().clone(),
            });
            parser = parser::from_plugin(&Section::new(&el, s.plugin()), None)?;
        }
        Ok(TailConfig {
            pos_file_perms: Default::default(),
            paths,
            path_texts,
            exclude,
            tag: TagRule::new(tag),
            pos_file,
            compaction_interval,
            read_from_head: s.bool("read_from_head", false)?,
            refresh_interval,
            rotate_wait,
            follow_inodes,
            watch_timer,
            stat_watcher,
            read_lines_limit: read_lines_limit as usize,
            bytes_per_second,
            open_on_every_update: s.bool("open_on_every_update", false)?,
            encoding,
            path_key: s.non_empty("path_key")?.map(str::to_string),
            limit_recently_modified,
            ignore_repeated_permission_error: s.bool("ignore_repeated_permission_error", false)?,
            skip_refresh_on_startup: s.bool("skip_refresh_on_startup", false)?,
            emit_unmatched_lines,
            line_limit,
            multiline_flush_interval,
            parser,
            multiline,
            none,
        })
    }

    /// The line converter of one file.
    pub fn converter(&self) -> Option<Converter> {
        let (from, to) = self.encoding?;
        Converter::new(from, Some(to)).ok().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_expansion_as_fluentd() {
        // Recorded from Fluentd 1.16.11 (tests/tail/fluentd-recorded.conf): tag app.*.x.
        let t = TagRule::new("app.*.x");
        assert_eq!(
            t.for_path("/tmp/tailref/logs/sub/app.log"),
            "app.tmp.tailref.logs.sub.app.log.x"
        );
        assert_eq!(TagRule::new("*").for_path("/a//b..log"), "a.b.log");
        assert_eq!(TagRule::new("a.*.b.*.c").for_path("/x"), "a.x.b.");
        assert_eq!(TagRule::new("fixed").for_path("/x"), "fixed");
    }
}
