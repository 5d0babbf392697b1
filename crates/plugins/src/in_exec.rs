//! `exec` input, as Fluentd's in_exec: runs `command` (by `sh -c`, as Ruby's `spawn` runs a
//! command line) once at start, or every `run_interval`, and parses what it writes to stdout into
//! events.
//!
//! How the output is read follows the parser, as Fluentd's `run`: the `json` parser reads a stream
//! of JSON values (`{"a":1}{"b":2}` is two records; a value cut short at the end is dropped; text
//! that is not JSON is counted as not matched and skipped, where Fluentd stops reading that run),
//! the `msgpack` parser a stream of objects, every other parser one line at a time (without its
//! `\n`, `\r\n` or `\r`). `<parse>`
//! defaults to `tsv`, with `time_type float`, no `time_key` and `estimate_current_event false`
//! (a `time_format` without `time_type` is read as `time_type string`); `<extract>` likewise. The
//! tag is `<extract>`'s `tag_key` field, else `tag` (one of them is required); the time is the
//! parser's, else `<extract>`'s `time_key`, else now. stderr is dropped, or with
//! `connect_mode read_with_stderr` read with stdout. With `run_interval`, the first run starts one
//! interval after start-up, and a run still going when the next is due makes that one skipped
//! (logged), as in Fluentd. At shutdown a running command gets SIGTERM, what it still writes
//! within 5 s is read, then it is killed.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use logferry_core::error::build_error;
use logferry_core::params::{one, p, Body, ParamType::*, PluginKind, Spec};
use logferry_core::{BuildCtx, BuildError, Emitter, Input, InputContext, PluginLog, Section};
use logferry_formats::extract::Extract;
use tokio::io::AsyncReadExt;
use tokio::task::JoinHandle;

use crate::in_udp::chomp;
use crate::net::stream::TextStats;
use crate::net::text::TextEvents;
use crate::parser::Parser;

/// What runs `command`, as Ruby's `spawn` runs a command line.
const SHELL: &str = "/bin/sh";

/// The most bytes held for one line or one value not yet complete; a longer line is cut there,
/// a longer JSON or msgpack value ends the run's reading (logged).
const PENDING_LIMIT: usize = 16 << 20;

/// What a run's output is read as.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Stream {
    /// One text a line (Fluentd's `text_per_line` parsers).
    Lines,
    /// A stream of JSON values (the json parser's `parse_io`).
    Json,
    /// A stream of msgpack objects (the msgpack parser's `parse_io`).
    Msgpack,
}

/// The exec input.
pub struct ExecInput {
    command: String,
    with_stderr: bool,
    tag: Option<String>,
    run_interval: Option<Duration>,
    stream: Stream,
    /// How much is read at a time: `read_block_size`, or the json parser's `stream_buffer_size`.
    read_size: usize,
    parser: Arc<dyn Parser>,
    extract: Option<Extract>,
    log: PluginLog,
    stats: Arc<TextStats>,
}

/// `exec` input.
pub static PARAMS: Spec = Spec::new(
    "exec",
    "Runs a command, once or every `run_interval`, and parses its output into events.",
)
.params(&[
    p("command", Str, "The command line, run by `sh -c`.").required(),
    p(
        "connect_mode",
        Enum(&["read", "read_with_stderr"]),
        "Read stdout only (stderr is dropped), or stdout and stderr together.",
    )
    .default("read"),
    p(
        "tag",
        Str,
        "Tag of the events (required unless `<extract>` has `tag_key`).",
    ),
    p(
        "run_interval",
        Time,
        "Run the command this often; without it, once at start-up.",
    ),
    p(
        "read_block_size",
        Size,
        "How much is read from the command at a time (the json parser's `stream_buffer_size` instead, as in Fluentd); at most 1 MiB is read at once.",
    )
    .default("10240"),
])
.sections(&[
    one(
        "parse",
        Body::Plugin(PluginKind::Parser, Some("tsv")),
        "How the output is parsed (default `tsv`, `time_type float`, no `time_key`).",
    ),
    one(
        "extract",
        Body::Spec(&logferry_formats::extract::EXTRACT),
        "The tag and time from record fields.",
    ),
])
.extends(&[&crate::parser::params::FLAT]);

/// in_exec's defaults for its parser (Fluentd's `config_set_default` in `<parse>`).
const PARSE_DEFAULTS: &[(&str, &str)] = &[
    ("time_type", "float"),
    ("time_key", ""),
    ("estimate_current_event", "false"),
];
/// The same, with a `time_format` given and no `time_type`: `time_type string`.
const PARSE_DEFAULTS_FORMAT: &[(&str, &str)] = &[
    ("time_type", "string"),
    ("time_key", ""),
    ("estimate_current_event", "false"),
];

/// Build from `<source>`.
pub fn build(ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Input>, BuildError> {
    let s = &s.declared(&PARAMS);
    let command = s.get::<&str>("command")?.to_string();
    if !std::path::Path::new(SHELL).exists() {
        return Err(build_error(
            s.pos(),
            format!("the exec input runs its command with {SHELL}, which this system lacks (logferry's distroless image has no shell: build an image with one)"),
        ));
    }
    let with_stderr = s.get::<&str>("connect_mode")? == "read_with_stderr";
    let tag = s.get::<Option<&str>>("tag")?.map(str::to_string);
    let run_interval = s
        .get::<Option<f64>>("run_interval")?
        .map(|t| {
            if t.is_finite() && t > 0.0 {
                Ok(Duration::from_secs_f64(t))
            } else {
                Err(build_error(
                    s.pos(),
                    format!("run_interval {t}: expected a positive time"),
                ))
            }
        })
        .transpose()?;
    let read_block_size = usize::try_from(s.get::<i64>("read_block_size")?)
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| build_error(s.pos(), "read_block_size: expected a positive size"))?;
    // Which parser, for how the output is read; a `time_format` without `time_type` (in
    // `<parse>` or flat) makes the default time_type string.
    let parse = s.section("parse")?;
    let (ty, format_only) = match &parse {
        Some(p) => (
            p.param("@type")
                .or_else(|| p.param("type"))
                .map_or("tsv", |x| x.value.as_str()),
            p.has("time_format") && !p.has("time_type"),
        ),
        None => (
            s.param("format").map_or("tsv", |x| x.value.as_str()),
            s.has("time_format") && !s.has("time_type"),
        ),
    };
    let stream = match ty {
        "json" => Stream::Json,
        "msgpack" => Stream::Msgpack,
        _ => Stream::Lines,
    };
    // The json parser's stream reader reads `stream_buffer_size` (8192) at a time, as Fluentd's
    // Yajl stream does; the others `read_block_size`.
    let read_size = if stream == Stream::Json {
        let given = match &parse {
            Some(p) => p.param("stream_buffer_size"),
            None => s.param("stream_buffer_size"),
        };
        given.map_or(8192, |p| logferry_config::types::size(&p.value) as usize)
    } else {
        read_block_size
    }
    .clamp(1, 1 << 20);
    let defaults = if format_only {
        PARSE_DEFAULTS_FORMAT
    } else {
        PARSE_DEFAULTS
    };
    let parser: Arc<dyn Parser> =
        Arc::from(crate::parser::from_plugin_with(s, Some("tsv"), defaults)?);
    let extract =
        Extract::from_section_string_if_format(s, &|m| ctx.log.warn(format_args!("{m}")))?;
    if tag.is_none() && !extract.as_ref().is_some_and(|x| x.has_tag_key()) {
        return Err(build_error(
            s.pos(),
            "'tag' or 'tag_key' option is required on exec input",
        ));
    }
    let stats = Arc::new(TextStats::default());
    ctx.metrics.attach(&ctx.plugin_id, stats.clone());
    Ok(Arc::new(ExecInput {
        command,
        with_stderr,
        tag,
        run_interval,
        stream,
        read_size,
        parser,
        extract,
        log: ctx.log.clone(),
        stats,
    }))
}

#[async_trait]
impl Input for ExecInput {
    async fn start(self: Arc<Self>, ctx: InputContext) -> Result<JoinHandle<()>, String> {
        let this = self.clone();
        Ok(tokio::spawn(async move {
            let mut shutdown = ctx.shutdown.clone();
            let Some(every) = this.run_interval else {
                this.run(&ctx.emitter, shutdown).await;
                return;
            };
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut running: Option<JoinHandle<()>> = None;
            loop {
                tokio::select! {
                    _ = ticks.tick() => {}
                    _ = shutdown.changed() => break,
                }
                if *shutdown.borrow() {
                    break;
                }
                if running.as_ref().is_some_and(|r| !r.is_finished()) {
                    this.log.warn(format_args!(
                        "previous child process is still running. skipped. command=\"{}\" interval={}",
                        this.command,
                        every.as_secs_f64()
                    ));
                    continue;
                }
                let run = this.clone();
                let emitter = ctx.emitter.clone();
                let stop = ctx.shutdown.clone();
                running = Some(tokio::spawn(async move { run.run(&emitter, stop).await }));
            }
            if let Some(r) = running {
                let _ = r.await;
            }
        }))
    }
}

impl ExecInput {
    /// One run of the command: read and emit its output until it closes it, then reap it.
    async fn run(&self, emitter: &Emitter, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        if *shutdown.borrow() {
            return;
        }
        let mut cmd = tokio::process::Command::new(SHELL);
        cmd.arg("-c")
            .arg(&self.command)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        let (reader, writer) = match std::io::pipe() {
            Ok(p) => p,
            Err(e) => {
                self.log
                    .error(format_args!("exec: cannot make a pipe: {e}"));
                return;
            }
        };
        cmd.stdout(match writer.try_clone() {
            Ok(w) => Stdio::from(w),
            Err(e) => {
                self.log
                    .error(format_args!("exec: cannot make a pipe: {e}"));
                return;
            }
        });
        cmd.stderr(if self.with_stderr {
            Stdio::from(writer)
        } else {
            drop(writer);
            Stdio::null()
        });
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                self.log.error(format_args!(
                    "exec: cannot run command \"{}\": {e}",
                    self.command
                ));
                return;
            }
        };
        // The parent's copies of the pipe's write end are gone with `cmd`: EOF comes when the
        // command (and whatever it started that kept its stdout) has closed it.
        drop(cmd);
        let mut out = match tokio::net::unix::pipe::Receiver::from_owned_fd(reader.into()) {
            Ok(r) => r,
            Err(e) => {
                self.log
                    .error(format_args!("exec: cannot read the command's output: {e}"));
                let _ = child.kill().await;
                return;
            }
        };
        let mut events = TextEvents::new(
            &*self.parser,
            NO_KEYS.get_or_init(Default::default),
            self.extract.as_ref(),
            &self.stats,
            &self.log,
        );
        let mut reading = Reading::new(self.stream);
        let mut chunk = vec![0u8; self.read_size];
        let mut stop_at: Option<tokio::time::Instant> = None;
        loop {
            let read = match stop_at {
                None => tokio::select! {
                    r = out.read(&mut chunk) => r,
                    _ = shutdown.changed() => {
                        // SIGTERM, then read what it still writes for a while.
                        if let Some(pid) = child.id() {
                            // SAFETY: kill(2) on our own child's pid, not yet reaped.
                            unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
                        }
                        stop_at = Some(tokio::time::Instant::now() + Duration::from_secs(5));
                        continue;
                    }
                },
                Some(at) => match tokio::time::timeout_at(at, out.read(&mut chunk)).await {
                    Ok(r) => r,
                    Err(_) => break,
                },
            };
            match read {
                Ok(0) => break,
                Ok(n) => {
                    if let Err(e) = reading.feed(&chunk[..n], &mut events, &self.log) {
                        self.log.error(format_args!(
                            "exec: {e}; the rest of this run's output is not read (command \"{}\")",
                            self.command
                        ));
                        break;
                    }
                }
                Err(e) => {
                    self.log
                        .error(format_args!("exec: reading the command's output: {e}"));
                    break;
                }
            }
            self.emit(&mut events, emitter).await;
        }
        reading.finish(&mut events);
        self.emit(&mut events, emitter).await;
        drop(out);
        let status = if stop_at.is_some() {
            let _ = child.start_kill();
            child.wait().await
        } else {
            child.wait().await
        };
        match status {
            Ok(st) if !st.success() && stop_at.is_none() => self.log.error(format_args!(
                "exec: command \"{}\" exited with {st}",
                self.command
            )),
            Ok(_) => {}
            Err(e) => self.log.error(format_args!("exec: {e}")),
        }
    }

    async fn emit(&self, events: &mut TextEvents<'_>, emitter: &Emitter) {
        let tag = self.tag.as_deref().unwrap_or("");
        if let Err(e) = events.emit(emitter, tag).await {
            self.log.error(format_args!("exec failed to emit: {e}"));
        }
    }
}

/// No source fields: a command's output comes from no peer.
static NO_KEYS: std::sync::OnceLock<crate::net::peer::SourceKeys> = std::sync::OnceLock::new();

/// The output of one run not yet parsed. Every scan resumes where the last one stopped, so a
/// long line or value costs its length once, however many reads it comes in.
struct Reading {
    stream: Stream,
    pending: Vec<u8>,
    /// Lines: how far past the start of `pending` no newline was found.
    scanned: usize,
    /// Lines: a line past [`PENDING_LIMIT`] is being skipped up to its newline.
    skipping: bool,
    /// JSON: the scan of the value at the start of `pending`.
    json: JsonScan,
    /// msgpack: the scan of the object at the start of `pending`.
    msgpack: logferry_msgpack::Scanner,
}

impl Reading {
    fn new(stream: Stream) -> Self {
        Reading {
            stream,
            pending: Vec::new(),
            scanned: 0,
            skipping: false,
            json: JsonScan::default(),
            msgpack: logferry_msgpack::Scanner::new(),
        }
    }

    /// Take `data`: every whole line or value in what is held goes to `events`. An error ends
    /// the run's reading (bytes that are not msgpack, a JSON or msgpack value past
    /// [`PENDING_LIMIT`]); a line past it is skipped with a warning, as in_tail skips one.
    fn feed(
        &mut self,
        data: &[u8],
        events: &mut TextEvents<'_>,
        log: &PluginLog,
    ) -> Result<(), String> {
        self.pending.extend_from_slice(data);
        let used = match self.stream {
            Stream::Lines => {
                let mut at = 0;
                while let Some(n) = memchr::memchr(b'\n', &self.pending[at + self.scanned..]) {
                    let end = at + self.scanned + n + 1;
                    if !std::mem::take(&mut self.skipping) {
                        events.add_local(chomp(&self.pending[at..end]));
                    }
                    at = end;
                    self.scanned = 0;
                }
                self.scanned = self.pending.len() - at;
                if self.scanned > PENDING_LIMIT {
                    if !self.skipping {
                        log.warn(format_args!(
                            "exec: a line of the output is longer than {PENDING_LIMIT} bytes: skipped"
                        ));
                    }
                    self.skipping = true;
                    at = self.pending.len();
                    self.scanned = 0;
                }
                at
            }
            Stream::Json => {
                let mut at = 0;
                while let Some((start, end)) = self.json.next(&self.pending[at..], false) {
                    events.add_local(&self.pending[at + start..at + end]);
                    at += end;
                    self.json = JsonScan::default();
                }
                // The scan's positions are relative to `pending[at..]`, which stays.
                at
            }
            Stream::Msgpack => {
                let mut at = 0;
                loop {
                    match self.msgpack.scan(&self.pending[at..]) {
                        Ok(n) => {
                            events.add_local(&self.pending[at..at + n]);
                            at += n;
                            self.msgpack.reset();
                        }
                        Err(logferry_msgpack::Error::Incomplete) => break,
                        Err(e) => return Err(format!("the output is not msgpack: {e}")),
                    }
                }
                at
            }
        };
        self.pending.drain(..used);
        if self.pending.len() > PENDING_LIMIT {
            return Err(format!(
                "a value of the output is longer than {PENDING_LIMIT} bytes"
            ));
        }
        Ok(())
    }

    /// The command closed its output: a last line without a newline is a line; a value cut
    /// short is dropped, as Fluentd's stream readers drop it.
    fn finish(&mut self, events: &mut TextEvents<'_>) {
        match self.stream {
            Stream::Lines if !self.pending.is_empty() && !self.skipping => {
                events.add_local(chomp(&self.pending))
            }
            Stream::Json => {
                if let Some((start, end)) = self.json.next(&self.pending, true) {
                    events.add_local(&self.pending[start..end]);
                }
            }
            _ => {}
        }
        self.pending.clear();
    }
}

/// A resumable scan for where the first JSON value of a buffer is (the buffer only grows at its
/// end between calls, and starts where the scan started). Text that is not JSON (`nope`) is
/// taken as a value of its own up to white space or the next `{`, `[` or `"`, for the parser to
/// refuse. Bytes, so text that is not UTF-8 is found like any other; no recursion, any depth.
#[derive(Default)]
struct JsonScan {
    /// Where the value starts (white space skipped), once found.
    start: Option<usize>,
    /// How far the scan got.
    pos: usize,
    depth: usize,
    in_str: bool,
    escaped: bool,
}

impl JsonScan {
    /// `(start, end)` of the value, or `None` when more bytes may still complete it (at `eof`,
    /// an object, array or string cut short is `None`; a bare word or number ends there).
    fn next(&mut self, buf: &[u8], eof: bool) -> Option<(usize, usize)> {
        let start = match self.start {
            Some(s) => s,
            None => {
                let skip = buf[self.pos..].iter().position(|b| !b" \t\r\n".contains(b));
                let Some(skip) = skip else {
                    self.pos = buf.len();
                    return None;
                };
                let s = self.pos + skip;
                self.start = Some(s);
                self.pos = s;
                s
            }
        };
        match buf[start] {
            b'{' | b'[' | b'"' => {
                let string = buf[start] == b'"';
                if self.pos == start {
                    // The opening byte.
                    self.pos += 1;
                    if string {
                        self.in_str = true;
                    } else {
                        self.depth = 1;
                    }
                }
                while self.pos < buf.len() {
                    let b = buf[self.pos];
                    self.pos += 1;
                    if self.in_str {
                        match b {
                            _ if self.escaped => self.escaped = false,
                            b'\\' => self.escaped = true,
                            b'"' => {
                                self.in_str = false;
                                if string {
                                    return Some((start, self.pos));
                                }
                            }
                            _ => {}
                        }
                        continue;
                    }
                    match b {
                        b'"' => self.in_str = true,
                        b'{' | b'[' => self.depth += 1,
                        b'}' | b']' => {
                            self.depth -= 1;
                            if self.depth == 0 {
                                return Some((start, self.pos));
                            }
                        }
                        _ => {}
                    }
                }
                None
            }
            _ => {
                let from = self.pos.max(start + 1);
                match buf[from..].iter().position(|b| b" \t\r\n{[\"".contains(b)) {
                    Some(n) => Some((start, from + n)),
                    None => {
                        self.pos = buf.len();
                        eof.then_some((start, buf.len()))
                    }
                }
            }
        }
    }
}

/// Where the first JSON value of `buf` is (a fresh [`JsonScan`]).
#[cfg(test)]
fn json_value(buf: &[u8], eof: bool) -> Option<(usize, usize)> {
    JsonScan::default().next(buf, eof)
}

#[cfg(test)]
mod tests {
    use super::json_value;

    /// Every value `json_value` finds in `text` read to its end, as the JSON stream reads it.
    fn values(text: &[u8]) -> Vec<&[u8]> {
        let mut out = Vec::new();
        let mut at = 0;
        while let Some((s, e)) = json_value(&text[at..], true) {
            out.push(&text[at + s..at + e]);
            at += e;
        }
        out
    }

    #[test]
    fn finds_each_value_of_a_stream() {
        assert_eq!(
            values(br#"{"a":1}{"b":"}]"} [1,[2]] "s\"x" 12 true nope{"c":{}}"#),
            [
                &br#"{"a":1}"#[..],
                br#"{"b":"}]"}"#,
                b"[1,[2]]",
                br#""s\"x""#,
                b"12",
                b"true",
                b"nope",
                br#"{"c":{}}"#
            ]
        );
        // Bytes that are not UTF-8 are found as any others (the parser judges them).
        assert_eq!(values(b"{\"a\":\"\xff\"}\n"), [&b"{\"a\":\"\xff\"}"[..]]);
    }

    /// A value that comes a byte at a time is found once whole, each byte scanned once.
    #[test]
    fn resumes_where_it_stopped() {
        for text in [
            &br#"  {"a":["}",{"b":"\"]"}]} x"#[..],
            b"\n\"s\\\"\" ",
            b" 12345 ",
        ] {
            let whole = json_value(text, false).unwrap();
            let mut scan = super::JsonScan::default();
            let mut found = None;
            for k in 1..=text.len() {
                if let Some(v) = scan.next(&text[..k], false) {
                    found = Some((k, v));
                    break;
                }
            }
            let (k, v) = found.unwrap();
            assert_eq!(v, whole, "{}", String::from_utf8_lossy(text));
            // Found as soon as its last byte came (a word: the byte after it).
            assert!(k == whole.1 || k == whole.1 + 1, "{k} {whole:?}");
        }
    }

    #[test]
    fn waits_for_a_value_cut_short() {
        assert_eq!(json_value(br#"  {"a":[1,"#, false), None);
        assert_eq!(json_value(br#"{"a":"b\"#, true), None);
        assert_eq!(json_value(b"\"abc", true), None);
        // A number may go on in the next read, unless the output ended.
        assert_eq!(json_value(b" 12", false), None);
        assert_eq!(json_value(b" 12", true), Some((1, 3)));
        assert_eq!(json_value(b" \n\t", true), None);
    }
}
