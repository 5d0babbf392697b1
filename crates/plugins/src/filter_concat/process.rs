//! concat's per-stream state and the processing of one event, after fluent-plugin-concat 2.5's
//! `filter_stream`, `process_*` and `flush_buffer`.

use std::collections::HashMap;
use std::time::Instant;

use logferry_core::{BatchBuilder, ErrorEvents, EventBatch, EventTime, PluginLog, Value};
use logferry_formats::accessor::raw_map_get;
use logferry_formats::ruby;

use super::config::{ConcatConfig, Mode};
use crate::net::bytemap::{decode_record_keeping_bytes, encode_unmapped, protect, utf8_text};

/// Bytes counted per pending line on top of its text (its slot and time).
const LINE_OVERHEAD: usize = 32;

/// Is this one of Fluentd's own log tags (`fluent.info` …), which concat leaves alone?
pub fn is_fluent_log_tag(tag: &str) -> bool {
    matches!(
        tag.strip_prefix("fluent."),
        Some("trace" | "debug" | "info" | "warn" | "error" | "fatal")
    )
}

/// One pending line.
struct Line {
    time: EventTime,
    /// `partial_ordinal.to_i` in the metadata mode (the error when it has none).
    ordinal: Result<i64, String>,
    /// The key's value as `Array#join` renders it (its bytes: see `binary`).
    text: Vec<u8>,
    /// The value is a binary string with bytes past ASCII (msgpack bin: from in_tail, tcp, udp
    /// or syslog, or a Fluentd forwarder): the joined text keeps its bytes and is a binary
    /// string too, as Ruby's `Array#join` makes it.
    binary: bool,
}

/// The lines of one stream.
struct Stream {
    tag: String,
    /// The first line's whole record (raw msgpack).
    first: Vec<u8>,
    lines: Vec<Line>,
    bytes: usize,
    /// When the stream last saw an event (the plugin's timeout map).
    updated: Instant,
}

/// A group released outside the event flow (timeout, size limit, shutdown).
pub struct Flushed {
    /// Its tag.
    pub tag: String,
    /// The stream identity, for the log.
    pub stream: String,
    /// The first line's time.
    pub time: EventTime,
    /// The group's record (raw msgpack).
    pub record: Vec<u8>,
    /// Keep `time` even without `use_first_timestamp` (a size-limit flush).
    pub keep_time: bool,
}

/// Every stream of one filter.
#[derive(Default)]
pub struct State {
    streams: HashMap<String, Stream>,
    /// The plugin's timeout map: each stream identity by when it was first seen since its last
    /// timeout flush. Idle groups leave in this order (the map's, a Ruby Hash).
    seen: HashMap<String, u64>,
    next_seen: u64,
    /// The plugin's `@buffer`: each stream identity by when it was first looked up there (it
    /// keeps its place for good). What is pending at shutdown leaves in this order.
    buffered: HashMap<String, u64>,
    next_buffered: u64,
    total: usize,
    spill: Vec<Flushed>,
    limit_warned: bool,
}

/// Ends the identity of a stream whose identity Ruby makes a binary string (see
/// `stream_identity`); left out of the log.
const BINARY_MARK: &str = "\u{0}binary";

/// Entries of the timeout map past this count are pruned (those of streams holding nothing).
const SEEN_LIMIT: usize = 16_384;

/// What processing one event produced: groups to emit in its place, as `(time, record)` where
/// the record is the plugin's `new_record` (a map).
type Produced = Vec<(EventTime, Vec<(Value, Value)>)>;

/// The record's pairs, each str keeping its bytes ([`decode_record_keeping_bytes`]): written back
/// with [`encode_unmapped`].
fn map_of(raw: &[u8]) -> Vec<(Value, Value)> {
    match decode_record_keeping_bytes(raw) {
        Value::Map(m) => m,
        _ => Vec::new(),
    }
}

fn set(map: &mut Vec<(Value, Value)>, key: &str, v: Value) {
    match map.iter_mut().find(|(k, _)| k.as_str() == Some(key)) {
        Some((_, slot)) => *slot = v,
        None => map.push((Value::Str(key.to_string()), v)),
    }
}

fn delete(map: &mut Vec<(Value, Value)>, key: &str) {
    map.retain(|(k, _)| k.as_str() != Some(key));
}

/// Ruby's `Hash#merge`: `over`'s values win, new keys are appended in `over`'s order.
fn merge(mut base: Vec<(Value, Value)>, over: Vec<(Value, Value)>) -> Vec<(Value, Value)> {
    for (k, v) in over {
        match base.iter_mut().find(|(bk, _)| *bk == k) {
            Some((_, slot)) => *slot = v,
            None => base.push((k, v)),
        }
    }
    base
}

/// `Array#join` of one element, as bytes: arrays are joined recursively, a binary string with
/// bytes past ASCII goes in as its bytes (true is returned), everything else is `to_s`.
fn join_piece(v: &Value, sep: &str, out: &mut Vec<u8>) -> bool {
    match v {
        Value::Array(items) => {
            let mut binary = false;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(sep.as_bytes());
                }
                binary |= join_piece(item, sep, out);
            }
            binary
        }
        Value::Bin(b) if !b.is_ascii() => {
            out.extend_from_slice(b);
            true
        }
        Value::Str(s) => {
            out.extend_from_slice(s.as_bytes());
            false
        }
        other => {
            let mut s = String::new();
            ruby::to_s_into(other, &mut s);
            out.extend_from_slice(s.as_bytes());
            false
        }
    }
}

/// Ruby's `to_i` of a raw value (`String#to_i`, `Integer#to_i`, `Float#to_i`, `nil.to_i`), or
/// the error Ruby raises: `true`, a map or an array has no `to_i`, an infinite or NaN float
/// cannot be one.
fn to_i(raw: Option<&[u8]>) -> Result<i64, String> {
    let v = match raw.map(Value::decode) {
        Some(Ok((v, _))) => v,
        _ => return Ok(0),
    };
    let float = |f: f64| {
        if f.is_finite() {
            Ok(f as i64)
        } else {
            Err(format!("{f} (FloatDomainError)"))
        }
    };
    match v {
        Value::Nil => Ok(0),
        Value::Int(i) => Ok(i),
        Value::UInt(u) => Ok(u as i64),
        Value::F64(f) => float(f),
        Value::F32(f) => float(f as f64),
        Value::Str(s) => Ok(str_to_i(s.as_bytes())),
        Value::Bin(b) => Ok(str_to_i(&b)),
        // Fluentd's EventTime#to_i: its seconds.
        Value::Ext(0, p) if p.len() == 8 => Ok(u32::from_be_bytes([p[0], p[1], p[2], p[3]]) as i64),
        other => Err(format!(
            "undefined method `to_i' for {}",
            ruby_class(&other)
        )),
    }
}

/// Ruby's `String#to_i` of a value's bytes (past 64 bits, which Ruby's Integer holds, the
/// largest: such an ordinal sorts last).
fn str_to_i(b: &[u8]) -> i64 {
    logferry_formats::ruby::str_to_i(b).unwrap_or(i64::MAX)
}

/// Ruby's `String#==` of a config string and a raw value: a str of the same bytes, or a binary
/// string of the same bytes when they are ASCII (strings of two encodings compare only then).
fn ruby_str_eq(raw: Option<&[u8]>, s: &str) -> bool {
    match raw.map(Value::decode) {
        Some(Ok((Value::Str(v), _))) => v == s,
        Some(Ok((Value::Bin(b), _))) => b == s.as_bytes() && b.is_ascii(),
        _ => false,
    }
}

/// The raw value as a Ruby string, when it is one (str or bin).
fn as_string(raw: Option<&[u8]>) -> Option<String> {
    match raw.map(Value::decode) {
        Some(Ok((Value::Str(s), _))) => Some(s),
        Some(Ok((Value::Bin(b), _))) => Some(ruby::scrub(&b).into_owned()),
        _ => None,
    }
}

/// What a regexp test of the key's value gives: Ruby's `Regexp#match?` is false for nil and
/// raises for anything but a string.
fn regexp_test(re: Option<&ruby::RubyRegex>, raw: &[u8]) -> Result<bool, String> {
    let Some(re) = re else { return Ok(false) };
    match Value::decode(raw) {
        Ok((Value::Str(s), _)) => Ok(re.is_match(&s)),
        // Past ASCII: matched by its bytes, as Ruby matches a binary string (a pattern fixed to
        // UTF-8 raises on it).
        Ok((Value::Bin(b), _)) => match crate::net::bytemap::binary_match_text(&b, re)? {
            Some(text) => Ok(re.is_match(&text)),
            None => Ok(re.is_match(&ruby::scrub(&b))),
        },
        Ok((Value::Nil, _)) => Ok(false),
        Ok((v, _)) => Err(format!(
            "no implicit conversion of {} into String",
            ruby_class(&v)
        )),
        Err(e) => Err(e.to_string()),
    }
}

fn ruby_class(v: &Value) -> &'static str {
    match v {
        Value::Int(_) | Value::UInt(_) => "Integer",
        Value::F32(_) | Value::F64(_) => "Float",
        Value::Bool(true) => "true",
        Value::Bool(false) => "false",
        Value::Array(_) => "Array",
        Value::Map(_) => "Hash",
        _ => "Object",
    }
}

impl State {
    /// Bytes pending over all streams.
    pub fn total_bytes(&self) -> usize {
        self.total
    }

    /// Streams with pending lines.
    pub fn stream_count(&self) -> usize {
        self.streams.len()
    }

    /// Did a size limit force groups out that still wait to be released?
    pub fn has_spilled(&self) -> bool {
        !self.spill.is_empty()
    }

    /// Take what a size limit forced out.
    pub fn take_spilled(&mut self) -> Vec<Flushed> {
        std::mem::take(&mut self.spill)
    }

    /// Process one batch; `None` when every event passed untouched.
    pub fn filter_batch(
        &mut self,
        cfg: &ConcatConfig,
        tag: &str,
        batch: &EventBatch,
        errors: &mut ErrorEvents,
        log: &PluginLog,
    ) -> Option<BatchBuilder> {
        let mut out: Option<BatchBuilder> = None;
        let key = cfg.key.as_bytes();
        for (i, e) in batch.iter().enumerate() {
            let raw_key = raw_map_get(e.record, key);
            let takes = raw_key.is_some()
                && match &cfg.mode {
                    Mode::Partial { key, .. } => raw_map_get(e.record, key.as_bytes()).is_some(),
                    Mode::Metadata(f) => raw_map_get(e.record, f.indicator.as_bytes()).is_some(),
                    _ => true,
                };
            if !takes {
                if let Some(b) = out.as_mut() {
                    b.push_raw(e.time, e.record);
                }
                continue;
            }
            let b = out.get_or_insert_with(|| {
                let mut b = BatchBuilder::with_capacity(batch.bytes().len());
                for prev in batch.iter().take(i) {
                    b.push_raw(prev.time, prev.record);
                }
                b
            });
            match self.process(cfg, tag, e.time, e.record, raw_key.unwrap_or(&[0xc0])) {
                Ok(produced) => {
                    for (time, new_record) in produced {
                        let mut merged = merge(map_of(e.record), new_record);
                        strip(cfg, &mut merged);
                        let merged = Value::Map(merged);
                        b.push_with(time, |buf| encode_unmapped(&merged, buf, false));
                    }
                }
                Err(reason) => errors.push(e.time, e.record, reason),
            }
            self.enforce_limits(cfg, tag, log);
        }
        out
    }

    fn stream_identity(&self, cfg: &ConcatConfig, tag: &str, record: &[u8]) -> String {
        let mut id = String::with_capacity(tag.len() + 16);
        id.push_str(tag);
        id.push(':');
        let mut scratch = String::new();
        match &cfg.stream_identity_key {
            Some(k) => id.push_str(ruby::raw_to_s(
                raw_map_get(record, k.as_bytes()),
                &mut scratch,
            )),
            None if !matches!(cfg.mode, Mode::Metadata(_)) => id.push_str("default"),
            None => {}
        }
        if let Mode::Metadata(f) = &cfg.mode {
            id.push_str(ruby::raw_to_s(
                raw_map_get(record, f.id.as_bytes()),
                &mut scratch,
            ));
        }
        // A binary string past ASCII makes the interpolated identity a binary string, which is
        // never the same Hash key as a UTF-8 one of the same bytes.
        let parts = [
            cfg.stream_identity_key.as_deref(),
            match &cfg.mode {
                Mode::Metadata(f) => Some(f.id),
                _ => None,
            },
        ];
        if parts.iter().flatten().any(|k| {
            raw_map_get(record, k.as_bytes()).is_some_and(|raw| {
                matches!(raw.first(), Some(0xc4..=0xc6))
                    && matches!(Value::decode(raw), Ok((Value::Bin(b), _)) if !b.is_ascii())
            })
        }) {
            id.push_str(BINARY_MARK);
        }
        id
    }

    fn push(
        &mut self,
        cfg: &ConcatConfig,
        stream: &str,
        tag: &str,
        time: EventTime,
        record: &[u8],
        raw_key: &[u8],
    ) {
        let mut text = Vec::new();
        // A str goes in as its bytes, UTF-8 or not (as Ruby joins them); anything else as Ruby's
        // `Array#join` of it.
        let binary = match raw_key.first() {
            Some(0xa0..=0xbf | 0xd9..=0xdb) => {
                if let Ok(bytes) = logferry_msgpack::Reader::new(raw_key).read_str() {
                    text.extend_from_slice(bytes);
                }
                false
            }
            _ => match Value::decode(raw_key) {
                Ok((v, _)) => join_piece(&v, &cfg.separator, &mut text),
                Err(_) => false,
            },
        };
        let ordinal = match &cfg.mode {
            Mode::Metadata(f) => to_i(raw_map_get(record, f.ordinal.as_bytes())),
            _ => Ok(0),
        };
        let size = text.len() + LINE_OVERHEAD;
        self.look_up(stream);
        let s = self
            .streams
            .entry(stream.to_string())
            .or_insert_with(|| Stream {
                tag: tag.to_string(),
                first: record.to_vec(),
                lines: Vec::new(),
                bytes: record.len(),
                updated: Instant::now(),
            });
        if s.lines.is_empty() {
            s.first.clear();
            s.first.extend_from_slice(record);
            s.bytes = record.len();
            s.tag.clear();
            s.tag.push_str(tag);
            self.total += record.len();
        }
        s.lines.push(Line {
            time,
            ordinal,
            text,
            binary,
        });
        s.bytes += size;
        self.total += size;
    }

    /// The plugin's `@buffer[stream_identity].empty?` (which creates the entry).
    fn is_empty(&mut self, stream: &str) -> bool {
        self.look_up(stream);
        self.streams.get(stream).is_none_or(|s| s.lines.is_empty())
    }

    /// A look-up in the plugin's `@buffer` (a Hash whose default block stores the key).
    fn look_up(&mut self, stream: &str) {
        if self.buffered.contains_key(stream) {
            return;
        }
        if self.buffered.len() >= SEEN_LIMIT {
            let streams = &self.streams;
            self.buffered.retain(|k, _| streams.contains_key(k));
        }
        self.buffered.insert(stream.to_string(), self.next_buffered);
        self.next_buffered += 1;
    }

    /// The plugin's `flush_buffer`: the group's first time and `first_record.merge(key => joined)`
    /// (pieces in `partial_ordinal` order in the metadata mode); the stream is emptied.
    fn flush(
        &mut self,
        cfg: &ConcatConfig,
        stream: &str,
    ) -> Option<(EventTime, Vec<(Value, Value)>)> {
        let mut s = self.streams.remove(stream)?;
        self.total -= s.bytes;
        if s.lines.is_empty() {
            return None;
        }
        // The group's time is its first line's as it arrived (the plugin sorts the pieces only
        // to join them).
        let time = s.lines[0].time;
        // A piece whose ordinal has no `to_i` leaves the pieces in arrival order (only a timeout
        // or the shutdown flush gets here with one: the plugin's flush raises on it).
        if matches!(cfg.mode, Mode::Metadata(_)) && s.lines.iter().all(|l| l.ordinal.is_ok()) {
            s.lines
                .sort_by_key(|l| l.ordinal.as_ref().copied().unwrap_or(0));
        }
        let cap = s
            .lines
            .iter()
            .map(|l| l.text.len() + cfg.separator.len())
            .sum();
        let mut joined = Vec::with_capacity(cap);
        for (i, l) in s.lines.iter().enumerate() {
            if i > 0 {
                joined.extend_from_slice(cfg.separator.as_bytes());
            }
            joined.extend_from_slice(&l.text);
        }
        // Binary beside UTF-8 text past ASCII is an Encoding::CompatibilityError in Ruby (the
        // group is lost in Fluentd): the bytes are joined.
        let joined = if s.lines.iter().any(|l| l.binary) {
            Value::Bin(joined)
        } else {
            // Beside the record's strings that keep their bytes (`map_of`): protected.
            // Bytes that are not UTF-8 stay in the str (as Fluentd's): mapped, and written back.
            match String::from_utf8(joined) {
                Ok(s) => protect(Value::Str(s)),
                Err(e) => Value::Str(utf8_text(e.as_bytes())),
            }
        };
        let mut rec = map_of(&s.first);
        set(&mut rec, &cfg.key, joined);
        Some((time, rec))
    }

    /// Flush a stream outside the event flow.
    fn flush_out(&mut self, cfg: &ConcatConfig, stream: &str, keep_time: bool) -> Option<Flushed> {
        let tag = self.streams.get(stream)?.tag.clone();
        let (time, rec) = self.flush(cfg, stream)?;
        let mut record = Vec::new();
        encode_unmapped(&Value::Map(rec), &mut record, false);
        Some(Flushed {
            tag,
            stream: stream
                .strip_suffix(BINARY_MARK)
                .unwrap_or(stream)
                .to_string(),
            time,
            record,
            keep_time,
        })
    }

    /// Groups of streams idle for `interval`, in the order of the plugin's timeout map (when
    /// each stream was first seen since its last timeout). Each leaves with the tag the plugin
    /// takes back from the stream identity: the text before its first `:`.
    pub fn take_idle(
        &mut self,
        cfg: &ConcatConfig,
        now: Instant,
        interval: std::time::Duration,
    ) -> Vec<Flushed> {
        let mut due: Vec<(u64, String)> = self
            .streams
            .iter()
            .filter(|(_, s)| !s.lines.is_empty() && now.duration_since(s.updated) >= interval)
            .map(|(k, _)| (self.seen.get(k).copied().unwrap_or(u64::MAX), k.clone()))
            .collect();
        due.sort();
        due.into_iter()
            .filter_map(|(_, k)| {
                self.seen.remove(&k);
                let mut f = self.flush_out(cfg, &k, false)?;
                if let Some(tag) = k.split(':').next() {
                    f.tag = tag.to_string();
                }
                Some(f)
            })
            .collect()
    }

    /// The plugin's `@timeout_map[stream_identity] = now`: a stream not in the map goes last.
    fn touch(&mut self, stream: &str) {
        if self.seen.contains_key(stream) {
            return;
        }
        if self.seen.len() >= SEEN_LIMIT {
            let streams = &self.streams;
            self.seen.retain(|k, _| streams.contains_key(k));
        }
        self.seen.insert(stream.to_string(), self.next_seen);
        self.next_seen += 1;
    }

    /// Every pending group (shutdown, reload), in the order of the plugin's `@buffer` (when each
    /// stream was first looked up there).
    pub fn take_all(&mut self, cfg: &ConcatConfig) -> Vec<Flushed> {
        let mut all: Vec<(u64, Instant, String)> = self
            .streams
            .iter()
            .map(|(k, s)| {
                let at = self.buffered.get(k).copied().unwrap_or(u64::MAX);
                (at, s.updated, k.clone())
            })
            .collect();
        all.sort();
        let all = all.into_iter().map(|(_, t, k)| (t, k));
        all.into_iter()
            .filter_map(|(_, k)| self.flush_out(cfg, &k, true))
            .collect()
    }

    /// Force out a stream over `stream_limit_size`, then the oldest streams while all of them
    /// hold more than `total_limit_size`.
    fn enforce_limits(&mut self, cfg: &ConcatConfig, tag: &str, log: &PluginLog) {
        let over: Vec<String> = self
            .streams
            .iter()
            .filter(|(_, s)| s.tag == tag && s.bytes > cfg.stream_limit)
            .map(|(k, _)| k.clone())
            .collect();
        for k in over {
            self.warn_limit(log, &k, "stream_limit_size", cfg.stream_limit);
            if let Some(f) = self.flush_out(cfg, &k, true) {
                self.spill.push(f);
            }
        }
        while self.total > cfg.total_limit {
            let Some(oldest) = self
                .streams
                .iter()
                .min_by_key(|(_, s)| s.updated)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            self.warn_limit(log, &oldest, "total_limit_size", cfg.total_limit);
            match self.flush_out(cfg, &oldest, true) {
                Some(f) => self.spill.push(f),
                None => {
                    self.streams.remove(&oldest);
                }
            }
        }
    }

    fn warn_limit(&mut self, log: &PluginLog, stream: &str, what: &str, limit: usize) {
        if !self.limit_warned {
            self.limit_warned = true;
            log.warn(format_args!(
                "stream {stream} holds more than {what} ({limit} bytes): flushing it as it is (warned once)"
            ));
        }
    }

    /// The plugin's `process`: add the event to its stream and return the groups it completes.
    fn process(
        &mut self,
        cfg: &ConcatConfig,
        tag: &str,
        time: EventTime,
        record: &[u8],
        raw_key: &[u8],
    ) -> Result<Produced, String> {
        let stream = self.stream_identity(cfg, tag, record);
        self.touch(&stream);
        if let Some(s) = self.streams.get_mut(&stream) {
            s.updated = Instant::now();
        }
        let mut out = Produced::new();
        let first_ts = cfg.use_first_timestamp;
        match &cfg.mode {
            Mode::Lines(n) => {
                self.push(cfg, &stream, tag, time, record, raw_key);
                if self.streams.get(&stream).map_or(0, |s| s.lines.len()) >= *n {
                    if let Some((t, r)) = self.flush(cfg, &stream) {
                        out.push((if first_ts { t } else { time }, r));
                    }
                }
            }
            Mode::Partial { key, value } => {
                self.push(cfg, &stream, tag, time, record, raw_key);
                if !ruby_str_eq(raw_map_get(record, key.as_bytes()), value) {
                    if let Some((t, mut r)) = self.flush(cfg, &stream) {
                        delete(&mut r, key);
                        out.push((if first_ts { t } else { time }, r));
                    }
                }
            }
            Mode::Metadata(f) => {
                self.push(cfg, &stream, tag, time, record, raw_key);
                // Ruby's `==`: a binary string of the same ASCII bytes is equal.
                if ruby_str_eq(raw_map_get(record, f.last.as_bytes()), "true") {
                    // The plugin's sort by `partial_ordinal.to_i` raises on a piece without
                    // `to_i`: this event goes to @ERROR and every piece stays pending.
                    if let Some(Err(e)) = self
                        .streams
                        .get(&stream)
                        .and_then(|s| s.lines.iter().map(|l| &l.ordinal).find(|o| o.is_err()))
                    {
                        return Err(e.clone());
                    }
                    if let Some((t, r)) = self.flush(cfg, &stream) {
                        out.push((if first_ts { t } else { time }, r));
                    }
                }
            }
            Mode::Cri { logtag_key, .. } => {
                // The plugin buffers the line before it reads the tag (a record without one
                // stays buffered and raises an error event).
                self.push(cfg, &stream, tag, time, record, raw_key);
                let Some(logtag) = as_string(raw_map_get(record, logtag_key.as_bytes())) else {
                    return Err(format!(
                        "undefined method `split' for the value of {logtag_key} (not a string)"
                    ));
                };
                if logtag.split(':').next() == Some("F") {
                    if let Some((t, mut r)) = self.flush(cfg, &stream) {
                        delete(&mut r, logtag_key);
                        out.push((if first_ts { t } else { time }, r));
                    }
                }
            }
            Mode::Regexp {
                start,
                end,
                continuous,
            } => {
                let first = regexp_test(start.as_ref(), raw_key)?;
                let orig = time;
                // `time` is reassigned by a flush with use_first_timestamp, as in the plugin: a
                // line passed on after a flushed group carries the group's first time.
                let mut time = time;
                if first {
                    self.look_up(&stream);
                    let last = regexp_test(end.as_ref(), raw_key)?;
                    if self.is_empty(&stream) {
                        self.push(cfg, &stream, tag, time, record, raw_key);
                        if last {
                            if let Some((t, r)) = self.flush(cfg, &stream) {
                                if first_ts {
                                    time = t;
                                }
                                out.push((time, r));
                            }
                        }
                    } else {
                        if let Some((t, r)) = self.flush(cfg, &stream) {
                            if first_ts {
                                time = t;
                            }
                            out.push((time, r));
                        }
                        // The plugin stores the new first line with the event's own time.
                        self.push(cfg, &stream, tag, orig, record, raw_key);
                        if last {
                            if let Some((t, r)) = self.flush(cfg, &stream) {
                                if first_ts {
                                    time = t;
                                }
                                out.push((time, r));
                            }
                        }
                    }
                } else if regexp_test(end.as_ref(), raw_key)? {
                    self.push(cfg, &stream, tag, time, record, raw_key);
                    if let Some((t, r)) = self.flush(cfg, &stream) {
                        if first_ts {
                            time = t;
                        }
                        out.push((time, r));
                    }
                } else if self.is_empty(&stream) {
                    if start.is_none() {
                        self.push(cfg, &stream, tag, time, record, raw_key);
                    } else {
                        out.push((time, map_of(record)));
                    }
                } else if match continuous {
                    Some(re) => regexp_test(Some(re), raw_key)?,
                    None => true,
                } {
                    self.push(cfg, &stream, tag, time, record, raw_key);
                } else {
                    if let Some((t, r)) = self.flush(cfg, &stream) {
                        if first_ts {
                            time = t;
                        }
                        out.push((time, r));
                    }
                    out.push((time, map_of(record)));
                }
            }
        }
        Ok(out)
    }
}

/// The plugin's clean-up of a merged record in `filter_stream`.
fn strip(cfg: &ConcatConfig, rec: &mut Vec<(Value, Value)>) {
    match &cfg.mode {
        Mode::Partial { key, .. } if !cfg.keep_partial_key => delete(rec, key),
        Mode::Metadata(f) if !cfg.keep_partial_metadata => {
            for k in [f.message, f.id, f.ordinal, f.last] {
                delete(rec, k);
            }
        }
        Mode::Cri {
            logtag_key,
            stream_key,
        } => {
            if !cfg.keep_partial_key {
                delete(rec, logtag_key);
            }
            delete(rec, stream_key);
        }
        _ => {}
    }
}

#[cfg(test)]
mod to_i_tests {
    use super::str_to_i;

    /// Ruby 3.1's `String#to_i`.
    #[test]
    fn string_to_i_as_ruby() {
        for (s, n) in [
            ("12", 12),
            (" \t\n12x", 12),
            ("+5", 5),
            ("-3", -3),
            ("1_000", 1000),
            ("1__0", 1),
            ("1_", 1),
            ("_5", 0),
            ("0d12", 12),
            ("0x10", 0),
            ("1e3", 1),
            ("- 3", 0),
            ("", 0),
            ("abc", 0),
            ("007", 7),
        ] {
            assert_eq!(str_to_i(s.as_bytes()), n, "{s:?}");
        }
    }
}
