//! Lines to events (Fluentd's `convert_line_to_event`, `parse_singleline`, `parse_multilines`
//! and `flush_buffer`): each line (or assembled multi-line text) goes through the `<parse>`
//! parser; `path_key` adds the file's path unless the record has that key; a line that does not
//! parse is dropped with a warning, or with `emit_unmatched_lines` emitted as
//! `{"unmatched_line": line}` at the current time. As Fluentd's `chomp!`, a line (or assembled
//! text) ending in `\r\n` loses the `\r` too; the lines inside a multi-line event keep theirs.

use std::borrow::Cow;

use logferry_core::{BatchBuilder, EventTime, PluginLog, Value};
use logferry_formats::parser::{ParseResult, Parser, RawRecord};
use logferry_formats::ruby;
use logferry_msgpack::write;

use super::config::TailConfig;
use super::encoding::Enc;
use super::reader::Lines;
use crate::net::bytemap::{binary_text, encode_unmapped, utf8_text, write_binary};

/// What turns lines into events.
pub struct Events<'a> {
    /// The parser.
    pub parser: &'a dyn Parser,
    /// `path_key`.
    pub path_key: Option<&'a str>,
    /// `emit_unmatched_lines`.
    pub emit_unmatched: bool,
    /// The `none` parser's message key and `estimate_current_event`.
    pub none: Option<(&'a str, bool)>,
    /// The plugin's log.
    pub log: &'a PluginLog,
    /// No `encoding`: lines are Fluentd's binary strings through the parser (a regexp's `.` is
    /// one byte, bytes that are not UTF-8 reach the record as they are; see
    /// [`crate::net::bytemap`]).
    pub binary: bool,
}

/// Scratch space reused across lines.
#[derive(Default)]
pub struct Scratch {
    results: Vec<ParseResult>,
    raw: RawRecord,
}

/// The multi-line event being assembled for one file.
#[derive(Default)]
pub struct LineBuffer {
    /// The text so far (lines joined by `\n`).
    pub text: Vec<u8>,
    /// File offset where its first line starts (`None`: empty).
    pub start: Option<u64>,
}

impl LineBuffer {
    fn push(&mut self, line: &[u8], start: u64) {
        if self.start.is_none() {
            self.start = Some(start);
            self.text.clear();
        } else {
            self.text.push(b'\n');
        }
        self.text.extend_from_slice(line);
    }

    /// Take the held text.
    pub fn take(&mut self) -> Option<Vec<u8>> {
        self.start.take()?;
        Some(std::mem::take(&mut self.text))
    }
}

impl<'a> Events<'a> {
    /// From the input's configuration.
    pub fn new(cfg: &'a TailConfig, log: &'a PluginLog) -> Events<'a> {
        Events {
            parser: cfg.parser.as_ref(),
            path_key: cfg.path_key.as_deref(),
            emit_unmatched: cfg.emit_unmatched_lines,
            none: cfg.none.as_ref().map(|(k, e)| (k.as_str(), *e)),
            log,
            // `encoding ASCII-8BIT` (or BINARY) keeps them binary strings too.
            binary: matches!(cfg.encoding, None | Some((_, Enc::Binary))),
        }
    }

    /// The text the parser reads of `line`, and whether bytes of it are mapped to characters
    /// that [`encode_unmapped`] writes back: without `encoding` every byte from 0x80 up
    /// ([`binary_text`]: a binary string, `.` is one byte); with `encoding`, a UTF-8 string, only
    /// the bytes that are not UTF-8 ([`utf8_text`]: Fluentd keeps them, and where its parser
    /// raises on them logferry parses the line and keeps them too).
    fn text<'l>(&self, line: &'l [u8]) -> (Cow<'l, str>, bool) {
        if self.binary {
            return match binary_text(line) {
                Some(t) => (Cow::Owned(t), true),
                // ASCII: borrowed as it is.
                None => (ruby::scrub(line), false),
            };
        }
        match std::str::from_utf8(line) {
            Ok(t) => (Cow::Borrowed(t), false),
            Err(_) => (Cow::Owned(utf8_text(line)), true),
        }
    }

    /// Write the line's bytes as a string value: binary without `encoding` ([`write_binary`]),
    /// else a UTF-8 string (msgpack str, whatever its bytes, as Fluentd packs one).
    fn write_line(&self, buf: &mut Vec<u8>, line: &[u8]) {
        if self.binary {
            write_binary(buf, line);
        } else {
            write::str_bytes(buf, line);
        }
    }

    fn with_path(&self, rec: &mut Value, path: &str) {
        let (Some(k), Value::Map(m)) = (self.path_key, rec) else {
            return;
        };
        // Ruby's `record[k] ||= path`: set when missing, nil or false.
        match m
            .iter_mut()
            .find(|(key, _)| matches!(key, Value::Str(s) if s == k))
        {
            Some((_, v @ (Value::Nil | Value::Bool(false)))) => *v = Value::Str(path.into()),
            Some(_) => {}
            None => m.push((Value::Str(k.into()), Value::Str(path.into()))),
        }
    }

    fn unmatched(&self, line: &[u8], path: &str, out: &mut BatchBuilder) {
        if self.emit_unmatched {
            out.push_with(EventTime::now(), |buf| {
                write::map_len(buf, if self.path_key.is_some() { 2 } else { 1 });
                write::str(buf, "unmatched_line");
                self.write_line(buf, line);
                if let Some(k) = self.path_key {
                    write::str(buf, k);
                    write::str(buf, path);
                }
            });
        }
    }

    /// One line (or assembled text) to zero or more events. A `\r` before the line's end is
    /// dropped with it (Ruby's `chomp!`).
    pub fn line(&self, line: &[u8], path: &str, out: &mut BatchBuilder, s: &mut Scratch) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let (Some((key, true)), Err(_)) = (self.none, std::str::from_utf8(line)) {
            // `none` keeps the line's bytes as they are (Fluentd's strings are binary, or UTF-8
            // strings holding them with `encoding`).
            out.push_with(EventTime::now(), |buf| {
                write::map_len(buf, if self.path_key.is_some() { 2 } else { 1 });
                write::str(buf, key);
                self.write_line(buf, line);
                if let Some(k) = self.path_key {
                    write::str(buf, k);
                    write::str(buf, path);
                }
            });
            return;
        }
        let (text, mapped) = self.text(line);
        if mapped {
            return self.parse(line, (&text, true), path, out, s, &|| {
                format!("pattern not matched: {:?}", String::from_utf8_lossy(line))
            });
        }
        // The fast path: one record written straight as msgpack.
        if let Some(Some(t)) = self.parser.parse_raw(&text, &mut s.raw) {
            let has_key = self.path_key.is_some_and(|k| {
                let mut enc = Vec::new();
                write::str(&mut enc, k);
                (0..s.raw.pairs.len()).any(|i| s.raw.pair(i).0 == enc.as_slice())
            });
            if !has_key {
                let raw = &s.raw;
                out.push_with(t, |buf| {
                    let extra = u32::from(self.path_key.is_some());
                    write::map_len(buf, raw.pairs.len() as u32 + extra);
                    for i in 0..raw.pairs.len() {
                        let (k, v) = raw.pair(i);
                        buf.extend_from_slice(k);
                        buf.extend_from_slice(v);
                    }
                    if let Some(k) = self.path_key {
                        write::str(buf, k);
                        write::str(buf, path);
                    }
                });
                return;
            }
        }
        self.parse(line, (&text, false), path, out, s, &|| {
            format!("pattern not matched: {:?}", text.as_ref())
        });
    }

    /// Parse `text` (the line `raw`; `mapped`: bytes of it mapped, see [`Self::text`]): each
    /// record found is emitted; a failure emits the line as unmatched (with
    /// `emit_unmatched_lines`) and logs `why`.
    fn parse(
        &self,
        raw: &[u8],
        (text, mapped): (&str, bool),
        path: &str,
        out: &mut BatchBuilder,
        s: &mut Scratch,
        why: &dyn Fn() -> String,
    ) {
        s.results.clear();
        self.parser.parse(text, &mut s.results);
        // A line is unmatched once, however many of its records failed (a JSON array gives one
        // result per element): Fluentd's parser yields once per line.
        let mut failed = false;
        for r in s.results.drain(..) {
            match r {
                Ok((Some(t), mut rec)) => {
                    self.with_path(&mut rec, path);
                    if mapped {
                        out.push_with(t, |buf| {
                            let binary = self.binary && self.parser.keeps_text_bytes();
                            encode_unmapped(&rec, buf, binary)
                        });
                    } else {
                        out.push_value(t, &rec);
                    }
                }
                _ => failed = true,
            }
        }
        if failed {
            self.unmatched(raw, path, out);
            self.log.warn(format_args!("{}", why()));
        }
    }

    /// A batch of lines, one event per line (or per record the parser finds).
    pub fn single(&self, lines: &Lines, path: &str, out: &mut BatchBuilder, s: &mut Scratch) {
        for i in 0..lines.len() {
            self.line(lines.line(i), path, out, s);
        }
    }

    /// A batch of lines through a multi-line parser, `lb` holding the event still open.
    pub fn multi(
        &self,
        lines: &Lines,
        path: &str,
        lb: &mut LineBuffer,
        out: &mut BatchBuilder,
        s: &mut Scratch,
    ) {
        for i in 0..lines.len() {
            let line = lines.line(i);
            let (text, _) = self.text(line);
            match self.parser.firstline(&text) {
                Some(true) => {
                    if let Some(held) = lb.take() {
                        self.line(&held, path, out, s);
                    }
                    lb.push(line, lines.start(i));
                }
                Some(false) => {
                    if lb.start.is_some() {
                        lb.push(line, lines.start(i));
                    } else {
                        if self.emit_unmatched {
                            self.line(line, path, out, s);
                        }
                        self.log.warn(format_args!(
                            "got incomplete line before first line from {path}: {:?}",
                            format!("{}\n", String::from_utf8_lossy(line))
                        ));
                    }
                }
                None => {
                    // No format_firstline: an event ends as soon as the text so far parses.
                    lb.push(line, lines.start(i));
                    s.results.clear();
                    let held = String::from_utf8_lossy(&lb.text).into_owned();
                    self.parser.parse(&held, &mut s.results);
                    if s.results.iter().any(|r| matches!(r, Ok((Some(_), _)))) {
                        let held = lb.take().unwrap_or_default();
                        self.line(&held, path, out, s);
                    }
                }
            }
        }
    }

    /// Emit the held multi-line event (flush interval, rotation, shutdown).
    pub fn flush(&self, lb: &mut LineBuffer, path: &str, out: &mut BatchBuilder, s: &mut Scratch) {
        let Some(held) = lb.take() else { return };
        let held = held.strip_suffix(b"\r").unwrap_or(&held);
        let (text, mapped) = self.text(held);
        self.parse(held, (&text, mapped), path, out, s, &|| {
            format!(
                "got incomplete line at shutdown from {path}: {:?}",
                String::from_utf8_lossy(held)
            )
        });
    }
}
