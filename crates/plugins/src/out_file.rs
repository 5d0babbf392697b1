//! `file` output: writes formatted events to files named as Fluentd's out_file names them.
//!
//! With a `<buffer>` section (or v0.12 buffer parameters such as `buffer_path`,
//! `time_slice_format`), it runs on the buffer engine exactly like Fluentd's out_file: default
//! chunk key `time`, timekey 1 day, and one file per chunk named by Fluentd's
//! `generate_path_template` — `path` → `path.%Y%m%d_N.log` (`append true`: `path.%Y%m%d.log`), a
//! `*` in `path` replaced by the time part (and `_N`), `compress gzip` adding `.gz`; placeholders
//! (`${tag}`, `%Y` …) are rendered per chunk.
//!
//! `symlink_path` keeps a link to the file being written ([`crate::out_file_symlink`]).
//!
//! Without a buffer, each batch is written as it arrives (Fluentd's `flush_mode immediate`), into
//! the file of its day — a deliberate difference: Fluentd's default would hold a day's data in a
//! buffer until ten minutes after midnight. Without `append`, a day's batches go to one file per
//! run (the first free `_N` when its first batch comes), as Fluentd's one chunk of the day makes
//! one file, not a file per batch (per log line behind Docker's log driver); gzip files excepted
//! (one per batch: a file stays one gzip member).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use logferry_core::buffer::config::wants_buffer;
use logferry_core::buffer::params::BUFFERED;
use logferry_core::buffer::{
    build::build_buffered, BufferConfig, BufferDefaults, Chunk, ChunkId, ChunkMeta, ChunkWriter,
    StoreKind, Template, WriteError,
};
use logferry_core::error::build_error;
use logferry_core::params::{one, p, Body, ParamType::*, PluginKind, Spec};
use logferry_core::perms::Perms;
use logferry_core::timefmt::{TimeFormatter, Zone};
use logferry_core::{BuildCtx, BuildError, EmitError, EventBatch, EventTime, Output, Section};
use logferry_formats::formatter::{self, Formatter};
use logferry_formats::inject::{Inject, INJECT, INJECT_V012};
use tokio::sync::Mutex;

use crate::out_file_symlink::Symlink;

const TIMEKEY: i64 = 86_400;

/// Buffer defaults of out_file: chunk key time, one day.
pub const DEFAULTS: BufferDefaults = BufferDefaults {
    chunk_keys: &["time"],
    timekey: Some(TIMEKEY),
    tag_required: false,
    file_at_output_path: true,
    chunk_limit_size: None,
    flush_at_shutdown: None,
    v012_time_key: false,
};

/// `file` output.
pub static PARAMS: Spec = Spec::new(
    "file",
    "Writes formatted events to files named as Fluentd's out_file names them (by time slice, with a `<buffer>` per chunk).",
)
.params(&[
    p("path", Str, "Path prefix of the files (`*` marks where the time part goes; placeholders need chunk keys).").required(),
    p("append", Bool, "Append to one file per slice instead of one file per chunk.").default("false"),
    p("compress", Enum(&["text", "gz", "gzip"]), "Gzip the files (`.gz` added).").default("text"),
    p("recompress", Bool, "With a `compress gzip` buffer, decompress each chunk and gzip it again as one member, instead of writing the chunk's gzip bytes as they are.").default("false"),
    p("add_path_suffix", Bool, "Add path_suffix to file names.").default("true"),
    p("path_suffix", Str, "Suffix of file names.").default(".log"),
    p("symlink_path", Str, "Keep a symlink to the file being written."),
])
.sections(&[
    one("format", Body::Plugin(PluginKind::Formatter, Some("out_file")), "How each event is written."),
    one("inject", Body::Spec(&INJECT), "Fields added before formatting."),
])
.extends(&[&formatter::params::FLAT, &INJECT_V012, &BUFFERED]);

/// How events become bytes: `<inject>` then `<format>` (out_file by default).
pub struct FileFormat {
    formatter: Box<dyn Formatter>,
    inject: Inject,
}

impl FileFormat {
    /// Read `<format>`/`<inject>` (or their v0.12 flat parameters).
    pub fn from_section(s: &Section) -> Result<Self, BuildError> {
        Ok(FileFormat {
            formatter: formatter::from_plugin(s, "out_file")?,
            inject: Inject::from_plugin(s)?,
        })
    }

    /// Whether the formatter can fail on a record (see [`Formatter::check`]).
    pub fn checks_records(&self) -> bool {
        self.formatter.checks_records()
    }

    /// Why the formatter cannot take `record` (Fluentd raises there), if it cannot.
    pub fn check(&self, record: &[u8]) -> Result<(), String> {
        self.formatter.check(record)
    }

    /// Format one event.
    pub fn format(&self, tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        self.inject
            .format_raw(&*self.formatter, tag, time, record, out);
    }
}

/// Common path settings.
struct PathSettings {
    path: String,
    append: bool,
    gzip: bool,
    /// `recompress` (only a buffer's gzipped chunks are affected).
    recompress: bool,
    suffix: String,
    time_slice_format: Option<String>,
    symlink_path: Option<String>,
}

fn path_settings(s: &Section) -> Result<PathSettings, BuildError> {
    let s = &s.declared(&PARAMS);
    let symlink_path = s.get("symlink_path")?;
    let path = s.get("path")?;
    let append = s.get("append")?;
    let gzip = s.get::<&str>("compress")? != "text";
    let recompress = s.get("recompress")?;
    let add_suffix: bool = s.get("add_path_suffix")?;
    let suffix = if add_suffix {
        s.get("path_suffix")?
    } else {
        String::new()
    };
    let time_slice_format = s.str("time_slice_format").map(str::to_string);
    Ok(PathSettings {
        path,
        append,
        gzip,
        recompress,
        suffix,
        time_slice_format,
        symlink_path,
    })
}

/// Fluentd's `generate_path_template`; `_**` marks the index. `time_part` is None without a time
/// chunk key.
fn path_template(
    original: &str,
    time_part: Option<&str>,
    slice_given: bool,
    append: bool,
    gzip: bool,
    suffix: &str,
) -> Result<String, String> {
    let index = if append { "" } else { "_**" };
    let comp = if gzip { ".gz" } else { "" };
    let Some(time_part) = time_part else {
        if original.contains('*') {
            return Err("path including '*' must be used with buffer chunk key 'time'".into());
        }
        return Ok(format!("{original}{index}{suffix}{comp}"));
    };
    if original.contains('*') {
        return Ok(format!(
            "{}{comp}",
            original.replace('*', &format!("{time_part}{index}"))
        ));
    }
    let phs: Vec<String> = time_part
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    if !slice_given && phs.iter().any(|ph| original.contains(ph.as_str())) {
        if !phs.iter().all(|ph| original.contains(ph.as_str())) {
            return Err(format!(
                "insufficient timestamp placeholders in path: this timekey needs {time_part}"
            ));
        }
        return Ok(format!("{original}{index}{suffix}{comp}"));
    }
    Ok(format!("{original}.{time_part}{index}{suffix}{comp}"))
}

fn timekey_to_format(timekey: i64) -> &'static str {
    match timekey {
        t if t < 60 => "%Y%m%d%H%M%S",
        t if t < 3600 => "%Y%m%d%H%M",
        t if t < 86400 => "%Y%m%d%H",
        _ => "%Y%m%d",
    }
}

fn first_free(template: &str) -> PathBuf {
    (0u64..)
        .map(|i| PathBuf::from(template.replacen("_**", &format!("_{i}"), 1)))
        .find(|p| !Path::new(p).exists())
        .unwrap_or_else(|| PathBuf::from(template))
}

fn write_file(
    path_template: &str,
    append: bool,
    gzip: bool,
    data: &[u8],
    already_gzip: bool,
    perms: Perms,
) -> std::io::Result<PathBuf> {
    let path = if append {
        PathBuf::from(path_template)
    } else {
        first_free(path_template)
    };
    write_at(path, append, gzip, data, already_gzip, perms)
}

/// Write `data` at the end of `path` (made with its directories if need be): as
/// [`write_file`], `appending` to a file that may hold earlier writes.
fn write_at(
    path: PathBuf,
    append: bool,
    gzip: bool,
    data: &[u8],
    already_gzip: bool,
    perms: Perms,
) -> std::io::Result<PathBuf> {
    if let Some(dir) = path.parent() {
        perms.create_dir_all(dir)?;
    }
    let mut f = perms
        .open_options()
        .create(true)
        .read(true)
        .append(true)
        .open(&path)?;
    let gzipped;
    let data = if gzip && !already_gzip {
        gzipped = logferry_compress::gzip(data);
        &gzipped[..]
    } else {
        data
    };
    let mut start = f.metadata()?.len();
    if append && !gzip && start > 0 && data.last() == Some(&b'\n') {
        start = cut_torn_tail(&mut f, start, &path)?;
    }
    if let Err(e) = f.write_all(data) {
        // A failed write (a full disk) must not leave half a chunk behind: the chunk is written
        // again in full when it is retried.
        if start == 0 && !append {
            let _ = fs::remove_file(&path);
        } else {
            let _ = f.set_len(start);
        }
        return Err(e);
    }
    Ok(path)
}

/// A line-oriented file appended to by chunks must end with a newline; if it does not, a crash
/// (`kill -9`, power loss) tore a chunk write that is written again in full on resume. The torn
/// fragment after the last newline is cut so that it does not glue itself to the next line.
/// Returns the new length.
fn cut_torn_tail(f: &mut fs::File, len: u64, path: &Path) -> std::io::Result<u64> {
    use std::io::{Read, Seek, SeekFrom};
    const BLOCK: u64 = 64 * 1024;
    let mut buf = vec![0u8; BLOCK as usize];
    let mut end = len;
    let mut keep = 0;
    while end > 0 {
        let from = end.saturating_sub(BLOCK);
        let n = (end - from) as usize;
        f.seek(SeekFrom::Start(from))?;
        f.read_exact(&mut buf[..n])?;
        if end == len && buf[n - 1] == b'\n' {
            return Ok(len);
        }
        if let Some(i) = buf[..n].iter().rposition(|b| *b == b'\n') {
            keep = from + i as u64 + 1;
            break;
        }
        end = from;
    }
    tracing::warn!(
        path = %path.display(),
        bytes = len - keep,
        "cut a torn last line left by a crash; its chunk is written again in full"
    );
    f.set_len(keep)?;
    Ok(keep)
}

/// Build from `<match>`: buffered when a buffer is asked for, else direct.
pub fn build(ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Output>, BuildError> {
    if wants_buffer(s) {
        // Fluentd's out_file buffers in a file buffer at `path` unless told otherwise.
        return build_buffered(ctx, s, "file", writer, &DEFAULTS);
    }
    let p = path_settings(s)?;
    if p.path.contains("${") {
        let pos = &s.param("path").expect("required").pos;
        return Err(build_error(
            pos,
            "placeholders like ${tag} in path need buffer chunk keys: add a <buffer tag> section",
        ));
    }
    let zone = Zone::Local;
    let time_part = p
        .time_slice_format
        .clone()
        .unwrap_or_else(|| "%Y%m%d".to_string());
    let template = path_template(
        &p.path,
        Some(&time_part),
        p.time_slice_format.is_some(),
        p.append,
        p.gzip,
        &p.suffix,
    )
    .map_err(|e| build_error(s.pos(), e))?;
    let template =
        TimeFormatter::new(&template, zone.clone()).map_err(|e| build_error(s.pos(), e))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let test = template.format(EventTime::new(u32::try_from(now).unwrap_or(0), 0));
    if !writable_p(Path::new(&test)) {
        let pos = &s.param("path").expect("required").pos;
        return Err(build_error(
            pos,
            format!("out_file: `{test}` is not writable"),
        ));
    }
    let format = FileFormat::from_section(s)?;
    let symlink = match &p.symlink_path {
        None => None,
        Some(link) => {
            let pos = &s.param("symlink_path").expect("present").pos;
            if link.contains("${") {
                return Err(build_error(
                    pos,
                    "placeholders like ${tag} in symlink_path need buffer chunk keys: add a <buffer tag> section",
                ));
            }
            let f = TimeFormatter::new(link, zone.clone()).map_err(|e| build_error(pos, e))?;
            Some((f, Symlink::with_perms(Perms::of(&ctx.system))))
        }
    };
    Ok(Arc::new(DirectFile {
        template,
        append: p.append,
        gzip: p.gzip,
        zone,
        format,
        lock: Mutex::new(Vec::new()),
        symlink,
        perms: Perms::of(&ctx.system),
    }))
}

/// The unbuffered file output.
pub struct DirectFile {
    template: TimeFormatter,
    append: bool,
    gzip: bool,
    zone: Zone,
    format: FileFormat,
    /// Held while writing: the file each day's batches go to in this run, by path template
    /// (without `append` or gzip; the last few days).
    lock: Mutex<Vec<(String, PathBuf)>>,
    symlink: Option<(TimeFormatter, Symlink)>,
    /// `<system>` file_permission/dir_permission.
    perms: Perms,
}

/// Days whose file [`DirectFile`] remembers (events arrive late by a day or two at most).
const DAYS_KEPT: usize = 8;

impl DirectFile {
    /// The file of an event's day, and that day's start.
    fn path_for(&self, time: EventTime) -> (String, i64) {
        let sec = i64::from(time.sec);
        let off = i64::from(self.zone.offset_at(sec));
        let key = sec - (sec + off).rem_euclid(TIMEKEY);
        let path = self
            .template
            .format(EventTime::new(u32::try_from(key).unwrap_or(0), 0));
        (path, key)
    }
}

#[async_trait]
impl Output for DirectFile {
    async fn emit(&self, tag: &str, batch: EventBatch) -> Result<(), EmitError> {
        let mut groups: Vec<(String, i64, Vec<u8>)> = Vec::new();
        for e in &batch {
            let (path, key) = self.path_for(e.time);
            let idx = match groups.iter().position(|(p, _, _)| *p == path) {
                Some(i) => i,
                None => {
                    groups.push((path, key, Vec::with_capacity(batch.bytes().len() * 2)));
                    groups.len() - 1
                }
            };
            self.format
                .format(tag, e.time, e.record, &mut groups[idx].2);
        }
        let mut files = self.lock.lock().await;
        let per_run = !self.append && !self.gzip;
        for (template, key, data) in groups {
            // This day's file of this run, if it is still there (not moved by logrotate).
            let current = files
                .iter()
                .find(|(t, p)| per_run && *t == template && p.exists())
                .map(|(_, p)| p.clone());
            let written = tokio::task::block_in_place(|| match &current {
                Some(path) => write_at(path.clone(), true, false, &data, false, self.perms),
                None => write_file(&template, self.append, self.gzip, &data, false, self.perms),
            })
            .map_err(|e| EmitError::Failed(format!("file output: {template}: {e}")))?;
            if per_run && current.is_none() {
                files.retain(|(t, _)| *t != template);
                if files.len() >= DAYS_KEPT {
                    files.remove(0);
                }
                files.push((template.clone(), written.clone()));
            }
            if let Some((link, state)) = &self.symlink {
                let link = link.format(EventTime::new(u32::try_from(key).unwrap_or(0), 0));
                tokio::task::block_in_place(|| state.update(&link, &written, Some(key)));
            }
        }
        Ok(())
    }
}

/// The path Fluentd's out_file checks at configure: the template rendered for a test chunk of now,
/// tag `a` (`a.a.a` when `${tag[2]}` is the highest part named), every record key `data`, and
/// the index `_**` left as it is.
fn test_path(template: &Template, cfg: &BufferConfig) -> String {
    let text = template.as_str();
    let max_index = text
        .match_indices("${tag[")
        .filter_map(|(i, m)| {
            let rest = &text[i + m.len()..];
            rest[..rest.find(']')?].trim().parse::<usize>().ok()
        })
        .max()
        .unwrap_or(1)
        .max(1);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let meta = ChunkMeta {
        timekey: cfg.timekey.map(|tk| now - now.rem_euclid(tk.max(1))),
        tag: Some(vec!["a"; max_index].join(".")),
        variables: cfg
            .record_keys
            .iter()
            .map(|k| (k.name.clone(), "data".to_string()))
            .collect(),
        ..ChunkMeta::default()
    };
    template.render(&meta, &ChunkId([0; 16]))
}

/// Fluentd's `FileUtil.writable_p?`: not a directory; writable if it exists; else its nearest
/// existing ancestor is a writable directory (`mkdir -p` could make the rest).
fn writable_p(path: &Path) -> bool {
    let writable = |p: &Path| {
        std::ffi::CString::new(p.as_os_str().as_encoded_bytes())
            // SAFETY: a valid NUL-terminated path.
            .is_ok_and(|c| unsafe { libc::access(c.as_ptr(), libc::W_OK) == 0 })
    };
    if path.is_dir() {
        return false;
    }
    if path.exists() {
        return writable(path);
    }
    let mut dir = path.parent();
    while let Some(d) = dir {
        let d = if d.as_os_str().is_empty() {
            Path::new(".")
        } else {
            d
        };
        if d.exists() {
            return d.is_dir() && writable(d);
        }
        dir = d.parent();
    }
    false
}

/// The buffered file output's chunk writer (also usable as a `<secondary>`).
pub struct FileWriter {
    template: Template,
    append: bool,
    gzip: bool,
    recompress: bool,
    format: FileFormat,
    lock: std::sync::Mutex<()>,
    symlink: Option<(Template, Symlink)>,
    /// `<system>` file_permission/dir_permission.
    perms: Perms,
}

/// Writer factory for the buffer engine and `<secondary>`.
pub fn writer(
    ctx: &BuildCtx,
    s: &Section,
    cfg: &BufferConfig,
) -> Result<Arc<dyn ChunkWriter>, BuildError> {
    let p = path_settings(s)?;
    let time_part = cfg.timekey.map(|tk| {
        p.time_slice_format
            .clone()
            .unwrap_or_else(|| timekey_to_format(tk).to_string())
    });
    let text = path_template(
        &p.path,
        time_part.as_deref(),
        p.time_slice_format.is_some(),
        p.append,
        p.gzip,
        &p.suffix,
    )
    .map_err(|e| build_error(s.pos(), e))?;
    // A v1 `<buffer>` section's chunk keys are checked as Fluentd checks them; v0.12 flat
    // parameters carry none (a chunk key logferry adds for a v0.12 placeholder is its own).
    let v1_buffer = s.element().elements.iter().any(|e| e.name == "buffer");
    let template = Template::new("path", &text, cfg).map_err(|e| build_error(s.pos(), e))?;
    if s.element().name != "secondary" && v1_buffer {
        let pos = &s.param("path").expect("required").pos;
        template
            .validate("path", cfg)
            .map_err(|e| build_error(pos, e))?;
    }
    let symlink = match &p.symlink_path {
        None => None,
        Some(link) => {
            let pos = &s.param("symlink_path").expect("present").pos;
            if s.element().name == "secondary" {
                return Err(build_error(
                    pos,
                    "symlink_path option is unavailable in <secondary>: consider to use secondary_file plugin",
                ));
            }
            if matches!(cfg.store, StoreKind::Memory) {
                return Err(build_error(
                    pos,
                    "symlink_path links to the file buffer's current chunk, and this buffer is in memory (Fluentd ignores symlink_path then): use <buffer> @type file, or remove symlink_path",
                ));
            }
            let t = Template::new("symlink_path", link, cfg).map_err(|e| build_error(pos, e))?;
            if t.uses_tag() && !cfg.key_tag {
                return Err(build_error(pos, "symlink_path has ${tag} placeholders, but chunk key 'tag' is not configured: use <buffer tag,time>"));
            }
            if cfg.key_tag && !t.uses_tag() {
                tracing::warn!("{pos}: Parameter 'symlink_path: {link}' doesn't have tag placeholder. This means multiple chunks are competing for a single symlink_path, so some logs may not be taken from the symlink.");
            }
            Some((t, Symlink::with_perms(Perms::of(&ctx.system))))
        }
    };
    if template.uses_tag() && !cfg.key_tag {
        return Err(build_error(s.pos(), "path has ${tag} placeholders, but chunk key 'tag' is not configured: use <buffer tag,time>"));
    }
    if s.element().name != "secondary" {
        let test = test_path(&template, cfg);
        if !writable_p(Path::new(&test)) {
            let pos = &s.param("path").expect("required").pos;
            return Err(build_error(
                pos,
                format!("out_file: `{test}` is not writable"),
            ));
        }
    }
    Ok(Arc::new(FileWriter {
        template,
        append: p.append,
        gzip: p.gzip,
        recompress: p.recompress,
        format: FileFormat::from_section(s)?,
        lock: std::sync::Mutex::new(()),
        symlink,
        perms: Perms::of(&ctx.system),
    }))
}

#[async_trait]
impl ChunkWriter for FileWriter {
    fn format(&self, tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        self.format.format(tag, time, record, out);
    }

    fn checks_records(&self) -> bool {
        self.format.checks_records()
    }

    fn check(&self, record: &[u8]) -> Result<(), String> {
        self.format.check(record)
    }

    fn chunk_created(&self, meta: &ChunkMeta, id: &ChunkId, data_path: Option<&Path>) {
        if let (Some((link, state)), Some(target)) = (&self.symlink, data_path) {
            state.update(&link.render(meta, id), target, meta.timekey);
        }
    }

    async fn write(&self, chunk: &Chunk) -> Result<(), WriteError> {
        let path = self.template.render(&chunk.meta, &chunk.id);
        // A `..` component that a placeholder's value brought in (a file name that merely
        // starts with `..` is fine).
        let parents = |p: &str| {
            Path::new(p)
                .components()
                .filter(|c| matches!(c, std::path::Component::ParentDir))
                .count()
        };
        if parents(&path) > parents(self.template.as_str()) {
            return Err(WriteError::Unrecoverable(format!(
                "refusing a path that leaves its directory: {path}"
            )));
        }
        // Fluentd's out_file: a gzip buffer's chunk is written as it is, unless `recompress`.
        let (data, gz) = if self.gzip && chunk.is_gzip() && !self.recompress {
            (chunk.raw().clone(), true)
        } else {
            (
                chunk
                    .bytes()
                    .map_err(|e| WriteError::Unrecoverable(format!("chunk decompression: {e}")))?,
                false,
            )
        };
        let _g = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        tokio::task::block_in_place(|| {
            write_file(&path, self.append, self.gzip, &data, gz, self.perms)
        })
        .map(|_| ())
        .map_err(|e| WriteError::Retryable(format!("{path}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_follow_fluentd() {
        let day = Some("%Y%m%d");
        assert_eq!(
            path_template("/x/out", day, false, false, false, ".log").unwrap(),
            "/x/out.%Y%m%d_**.log"
        );
        assert_eq!(
            path_template("/x/out", day, false, true, false, ".log").unwrap(),
            "/x/out.%Y%m%d.log"
        );
        assert_eq!(
            path_template("/x/out.*.data", day, false, true, true, ".log").unwrap(),
            "/x/out.%Y%m%d.data.gz"
        );
        assert_eq!(
            path_template("/x/%Y/%m/%d/out", day, false, true, false, ".log").unwrap(),
            "/x/%Y/%m/%d/out.log"
        );
        assert!(path_template("/x/%Y/out", day, false, true, false, ".log").is_err());
        assert_eq!(
            path_template("/x/out", Some("%Y%m%d%H"), true, false, false, "").unwrap(),
            "/x/out.%Y%m%d%H_**"
        );
        assert_eq!(
            path_template("/x/out", None, false, false, false, ".log").unwrap(),
            "/x/out_**.log"
        );
        assert!(path_template("/x/out.*", None, false, false, false, ".log").is_err());
    }

    // Fluentd's FileUtil.writable_p? (differential cases config-file-path-*).
    #[test]
    fn writable_as_fluentd_checks_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        fs::write(&file, b"x").unwrap();
        assert!(writable_p(&dir.path().join("new/deeper/f.log")));
        assert!(writable_p(&file));
        assert!(!writable_p(dir.path()));
        assert!(!writable_p(&file.join("f.log")));
        assert!(!writable_p(&file.join("sub/f.log")));
    }

    #[test]
    fn first_free_index() {
        let dir = tempfile::tempdir().unwrap();
        let t = format!("{}/a_**.log", dir.path().display());
        assert!(first_free(&t).ends_with("a_0.log"));
        fs::write(dir.path().join("a_0.log"), "x").unwrap();
        assert!(first_free(&t).ends_with("a_1.log"));
    }

    #[test]
    fn append_cuts_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.log");
        let t = p.to_str().unwrap();
        // A crash tore the second chunk's write: the fragment is cut, the retry lands whole.
        fs::write(&p, "{\"a\":1}\n{\"b\"").unwrap();
        write_file(t, true, false, b"{\"b\":2}\n", false, Perms::default()).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "{\"a\":1}\n{\"b\":2}\n");
        // A fragment longer than the scan block, with no newline at all: cut to empty.
        fs::write(&p, vec![b'x'; 200_000]).unwrap();
        write_file(t, true, false, b"y\n", false, Perms::default()).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "y\n");
        // A fragment behind a newline more than one block back.
        let mut torn = b"z\n".to_vec();
        torn.extend(vec![b'x'; 150_000]);
        fs::write(&p, &torn).unwrap();
        write_file(t, true, false, b"y\n", false, Perms::default()).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "z\ny\n");
        // Complete lines are never touched; nor is a format without newlines.
        write_file(t, true, false, b"w\n", false, Perms::default()).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "z\ny\nw\n");
        write_file(t, true, false, b"v", false, Perms::default()).unwrap();
        write_file(t, true, false, b"u", false, Perms::default()).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "z\ny\nw\nvu");
    }
}
