//! `parser` filter: parses one field of each record with a `<parse>` parser (or the v0.12 flat
//! `format` parameters), as Fluentd's `filter_parser`.
//!
//! Parameters: `key_name` (required; a record accessor, `$.a.b` allowed), `reserve_data` (keep the
//! original fields; parsed fields win), `reserve_time` (keep the original event time),
//! `remove_key_name_field` (drop the parsed field when parsing succeeded), `replace_invalid_sequence`
//! (scrub invalid UTF-8 to `?` and parse anyway), `inject_key_prefix` (prefix every parsed key),
//! `hash_value_field` (nest the parsed fields under this key), `emit_invalid_record_to_error`
//! (default true: a record that cannot be parsed is raised as an error event, which goes to
//! `<label @ERROR>`, or is logged).
//!
//! Per record: a missing or nil field is an error event "`<key_name> does not exist`" (with
//! `reserve_data` the record still passes, plus `{hash_value_field: {}}`). Each parse result that
//! succeeded is emitted at the parser's time (the parser's "now" when the text has none), or the
//! original time with `reserve_time`; a result that failed is an error event
//! "`pattern not matched with data '<text>'`" and, with `reserve_data`, the original record passes
//! at its original time. A parser that fails with an error rather than a non-match (a time it
//! cannot read, a null time, an unterminated CSV quote) makes an error event "`parse failed …`" and
//! the original record passes on unchanged at its original time, as Fluentd's (optimised) filter
//! chain does with a raised error; Fluentd drops it when another filter of the chain has its own
//! `filter_stream`, logferry never does. Without `emit_invalid_record_to_error` it is dropped,
//! unless `reserve_data` (Fluentd drops it then too, logferry keeps it). A field that is not a string
//! cannot be parsed: error event, dropped.
//!
//! Text that is not UTF-8 goes as in Fluentd, parser by parser ([`InvalidUtf8`]): where Ruby
//! raises `ArgumentError` (regexp-based parsers, `ltsv`, `tsv`), `replace_invalid_sequence`
//! scrubs it and parses again, and without it the record goes to `@ERROR` and on unchanged;
//! `json` does not match, `csv` fails ("parse failed"), scrubbing or not; `none` takes it as it
//! is. A `timeout` that a backtracking regexp runs past is a non-match, with the warning
//! "parsing timed out".

use std::ops::Range;
use std::sync::Arc;

use logferry_core::error::build_error;
use logferry_core::params::{one, p, Body, ParamType::*, PluginKind, Spec};
use logferry_core::{
    BatchBuilder, BuildCtx, BuildError, ErrorEvents, EventBatch, EventTime, Filter, FilterOutput,
    PluginLog, Section, Value,
};
use logferry_formats::accessor::Accessor;
use logferry_formats::parser::{self, Field, InvalidUtf8, ParseResult, Parser, RawRecord};
use logferry_formats::ruby;
use logferry_msgpack::Reader;

use crate::net::bytemap::{
    binary_text, decode_record_keeping_bytes, encode_unmapped, protect, unmap, utf8_text,
};

/// The parser filter.
pub struct ParserFilter {
    key: Accessor,
    reserve_data: bool,
    reserve_time: bool,
    remove_key_name_field: bool,
    replace_invalid_sequence: bool,
    inject_key_prefix: Option<String>,
    hash_value_field: Option<String>,
    emit_invalid_record_to_error: bool,
    parser: Box<dyn Parser>,
    /// Where "parsing timed out" is reported (none in unit tests).
    log: Option<PluginLog>,
}

/// `parser` filter.
pub static PARAMS: Spec = Spec::new(
    "parser",
    "Parses one field of each record with a `<parse>` parser and merges the result.",
)
.params(&[
    p("key_name", Str, "The field to parse (a record accessor).").required(),
    p("reserve_data", Bool, "Keep the original fields.").default("false"),
    p(
        "reserve_time",
        Bool,
        "Keep the event's time instead of the parsed one.",
    )
    .default("false"),
    p(
        "remove_key_name_field",
        Bool,
        "Drop key_name after a successful parse.",
    )
    .default("false"),
    p(
        "replace_invalid_sequence",
        Bool,
        "Replace invalid UTF-8 before parsing.",
    )
    .default("false"),
    p("inject_key_prefix", Str, "Prefix of the parsed fields."),
    p(
        "hash_value_field",
        Str,
        "Put the parsed fields under this key.",
    ),
    p(
        "emit_invalid_record_to_error",
        Bool,
        "Send records that do not parse to @ERROR.",
    )
    .default("true"),
])
.sections(&[one(
    "parse",
    Body::Plugin(PluginKind::Parser, None),
    "The parser.",
)])
.extends(&[&parser::params::FLAT]);

/// Build from `<filter>`.
pub fn build(ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Filter>, BuildError> {
    let mut f = ParserFilter::new(s)?;
    f.log = Some(ctx.log.clone());
    Ok(Arc::new(f))
}

impl ParserFilter {
    /// Configure from the section, building the parser from `<parse>` or the flat `format`.
    pub fn new(s: &Section) -> Result<Self, BuildError> {
        let mut f = Self::with_parser(s, Box::new(NoParser))?;
        f.parser = parser::from_plugin(s, None)?;
        Ok(f)
    }

    /// Configure the filter's own parameters from the section, with a given parser.
    pub fn with_parser(s: &Section, parser: Box<dyn Parser>) -> Result<Self, BuildError> {
        let s = &s.declared(&PARAMS);
        let key_p: &str = s.get("key_name")?;
        let key = Accessor::new(key_p)
            .map_err(|e| build_error(s.param("key_name").map_or(s.pos(), |p| &p.pos), e))?;
        Ok(ParserFilter {
            key,
            reserve_data: s.get("reserve_data")?,
            reserve_time: s.get("reserve_time")?,
            remove_key_name_field: s.get("remove_key_name_field")?,
            replace_invalid_sequence: s.get("replace_invalid_sequence")?,
            inject_key_prefix: s.get("inject_key_prefix")?,
            hash_value_field: s.get("hash_value_field")?,
            emit_invalid_record_to_error: s.get("emit_invalid_record_to_error")?,
            parser,
            log: None,
        })
    }

    /// The output record for parsed `values` (Fluentd's `handle_parsed`).
    fn handle_parsed(&self, record: Option<&Value>, values: Value) -> Value {
        let values = match (&self.inject_key_prefix, values) {
            (Some(prefix), Value::Map(pairs)) => Value::Map(
                pairs
                    .into_iter()
                    .map(|(k, v)| (Value::Str(format!("{prefix}{}", ruby::to_s(&k))), v))
                    .collect(),
            ),
            (_, v) => v,
        };
        self.nest_and_merge(record, values)
    }

    /// The rest of [`handle_parsed`](Self::handle_parsed), after `inject_key_prefix`: the
    /// values under `hash_value_field`, merged into the record with `reserve_data`.
    fn nest_and_merge(&self, record: Option<&Value>, values: Value) -> Value {
        let r = match &self.hash_value_field {
            Some(h) => Value::Map(vec![(Value::Str(h.clone()), values)]),
            None => values,
        };
        match (self.reserve_data, record, r) {
            (true, Some(Value::Map(orig)), Value::Map(add)) => {
                // Ruby's Hash#merge: a key the record has takes the new value in its place, a
                // new one goes last. Many keys on both sides are found by an index of the
                // string keys, not by comparing every pair.
                let mut out = orig.clone();
                let indexed = out.len().saturating_mul(add.len()) > 1024;
                let mut at: std::collections::HashMap<String, usize> = Default::default();
                if indexed {
                    for (i, (k, _)) in out.iter().enumerate() {
                        if let Value::Str(s) = k {
                            at.entry(s.clone()).or_insert(i);
                        }
                    }
                }
                for (k, v) in add {
                    let found = match &k {
                        Value::Str(s) if indexed => at.get(s).copied(),
                        _ => out.iter().position(|(key, _)| *key == k),
                    };
                    match found.and_then(|i| out.get_mut(i)) {
                        Some((_, slot)) => *slot = v,
                        None => {
                            if let (true, Value::Str(s)) = (indexed, &k) {
                                at.insert(s.clone(), out.len());
                            }
                            out.push((k, v));
                        }
                    }
                }
                Value::Map(out)
            }
            (true, Some(orig), _) => orig.clone(),
            (_, _, r) => r,
        }
    }
}

impl ParserFilter {
    /// JSON whose value is not an object ([`Parser::bare_value`]: a scalar or an array; with
    /// Oj a field that is not a string), as Fluentd's `handle_parsed` takes it: nested under
    /// `hash_value_field` it makes a record; `inject_key_prefix` makes pairs of an array of
    /// strings, or of arrays each led by a string, and raises over anything else; the merge
    /// of `reserve_data` raises over what is not a map. A raise (or the parser's own, under
    /// `types`) is an error event and the record goes on, as Fluentd's filter chain passes it,
    /// without the field when `remove_key_name_field` took it out first. False (nothing done)
    /// where there is no such value, or where without these options Fluentd would make the
    /// value itself the record, which logferry reads as not matched (README "Differences
    /// from Fluentd").
    fn bare(
        &self,
        time: EventTime,
        record: &[u8],
        field: Field<'_>,
        out: &mut BatchBuilder,
        errors: &mut ErrorEvents,
    ) -> bool {
        let plain = self.inject_key_prefix.is_none()
            && self.hash_value_field.is_none()
            && !self.reserve_data;
        let Some(bare) = self.parser.bare_value(field, plain) else {
            return false;
        };
        if plain && bare.is_ok() {
            return false;
        }
        let mut rec = decode_record_keeping_bytes(record);
        let removed = bare.is_ok() && self.remove_key_name_field;
        if removed {
            self.key.delete(&mut rec);
        }
        let made = bare.and_then(|(t, v)| {
            let values = match &self.inject_key_prefix {
                Some(prefix) => prefixed_pairs(prefix, v)?,
                None => v,
            };
            if self.reserve_data
                && self.hash_value_field.is_none()
                && !matches!(values, Value::Map(_))
            {
                return Err(format!(
                    "no implicit conversion of {} into Hash",
                    ruby_class(&values)
                ));
            }
            let t = if self.reserve_time {
                time
            } else {
                t.unwrap_or(time)
            };
            Ok((t, self.nest_and_merge(Some(&rec), values)))
        });
        match made {
            Ok((t, v)) => out.push_with(t, |buf| encode_unmapped(&v, buf, false)),
            Err(why) => {
                // The record as it came, or as it is without the field.
                let mut buf = Vec::new();
                if removed {
                    encode_unmapped(&rec, &mut buf, false);
                } else {
                    buf.extend_from_slice(record);
                }
                if self.emit_invalid_record_to_error {
                    errors.push(time, &buf, format!("parse failed {why}"));
                }
                if self.emit_invalid_record_to_error || self.reserve_data {
                    out.push_with(time, |b| b.extend_from_slice(&buf));
                }
            }
        }
        true
    }

    /// `reserve_data` without key rewriting: the merge can be done on the raw record.
    fn plain_merge(&self) -> bool {
        self.reserve_data
            && !self.remove_key_name_field
            && self.inject_key_prefix.is_none()
            && self.hash_value_field.is_none()
    }
}

/// Where a key or value of the merged record comes from.
#[derive(Clone)]
enum Part {
    /// These bytes of the original record.
    Raw(Range<usize>),
    /// The i-th parsed pair.
    Parsed(usize),
}

/// Whether the raw msgpack key equals a parsed key.
fn key_eq(raw: &[u8], key: &Value) -> bool {
    match (Reader::new(raw).read_str(), key) {
        // Byte equality, as Ruby compares strings: an original key with invalid UTF-8 equals
        // no parsed key (the decoded form would see its U+FFFD replacement).
        (Ok(b), Value::Str(k)) if raw.first().is_some_and(|m| !matches!(m, 0xc4..=0xc6)) => {
            b == k.as_bytes()
        }
        _ => Value::decode(raw).map(|(v, _)| v == *key).unwrap_or(false),
    }
}

/// Parsed pairs to merge into a raw record: decoded values, or msgpack pairs written by
/// [`Parser::parse_raw`].
trait ParsedPairs {
    /// True when no two parsed keys are equal: a parsed key then only needs comparing with the
    /// original keys.
    const NO_REPEATS: bool = false;
    fn count(&self) -> usize;
    /// Whether parsed key `j` equals the raw original key.
    fn key_is(&self, j: usize, raw: &[u8]) -> bool;
    /// Whether parsed keys `i` and `j` are equal.
    fn same_key(&self, i: usize, j: usize) -> bool;
    fn write_key(&self, i: usize, out: &mut Vec<u8>);
    fn write_value(&self, i: usize, out: &mut Vec<u8>);
    /// Where the encoded key (or value) of pair `i` lies in [`encoded`](Self::encoded), when
    /// the pairs are held encoded (so that adjacent parts are copied at once).
    fn span(&self, _i: usize, _key: bool) -> Option<Range<usize>> {
        None
    }
    /// The bytes [`span`](Self::span) points into.
    fn encoded(&self) -> &[u8] {
        &[]
    }
}

impl ParsedPairs for [(Value, Value)] {
    fn count(&self) -> usize {
        self.len()
    }
    fn key_is(&self, j: usize, raw: &[u8]) -> bool {
        key_eq(raw, &self[j].0)
    }
    fn same_key(&self, i: usize, j: usize) -> bool {
        self[i].0 == self[j].0
    }
    fn write_key(&self, i: usize, out: &mut Vec<u8>) {
        self[i].0.encode(out)
    }
    fn write_value(&self, i: usize, out: &mut Vec<u8>) {
        self[i].1.encode(out)
    }
}

impl ParsedPairs for RawRecord {
    fn count(&self) -> usize {
        self.pairs.len()
    }
    fn key_is(&self, j: usize, raw: &[u8]) -> bool {
        let key = self.pair(j).0;
        // Parsed keys are minimal str encodings: when the original key is a fixstr too (the usual
        // case), the bytes decide (the header holds the length; the first payload byte is
        // compared inline before the rest). Otherwise compare payloads (a bin original key
        // equals no parsed key).
        match (raw.first(), key.first()) {
            (Some(0xa0..=0xbf), Some(0xa0..=0xbf)) => {
                raw.len() == key.len() && raw.get(1) == key.get(1) && raw == key
            }
            (Some(0xc4..=0xc6), _) => false,
            _ => Reader::new(raw).read_str().ok() == Reader::new(key).read_str().ok(),
        }
    }
    const NO_REPEATS: bool = true;
    fn same_key(&self, _i: usize, _j: usize) -> bool {
        // parse_raw never repeats a key.
        false
    }
    fn write_key(&self, i: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(self.pair(i).0)
    }
    fn write_value(&self, i: usize, out: &mut Vec<u8>) {
        out.extend_from_slice(self.pair(i).1)
    }
    fn span(&self, i: usize, key: bool) -> Option<Range<usize>> {
        let (k, v) = &self.pairs[i];
        Some(if key { k.clone() } else { v.clone() })
    }
    fn encoded(&self) -> &[u8] {
        &self.buf
    }
}

/// The pairs of `record.merge(parsed)` (Ruby's Hash#merge, as [`ParserFilter::handle_parsed`]
/// with reserve_data): the original pairs in order, a parsed key replacing the value of the
/// first equal key in place, new keys appended, into `slots` (cleared first, so that its
/// allocation serves a whole batch). False when the record is not a map.
fn merge_slots<P: ParsedPairs + ?Sized>(
    record: &[u8],
    add: &P,
    slots: &mut Vec<(Part, Part)>,
) -> bool {
    slots.clear();
    let mut r = Reader::new(record);
    let Ok(n) = r.read_map_len() else {
        return false;
    };
    for _ in 0..n {
        let k0 = r.pos();
        let (Ok(_), k1, Ok(_)) = (r.read_raw(), r.pos(), r.read_raw()) else {
            return false;
        };
        slots.push((Part::Raw(k0..k1), Part::Raw(k1..r.pos())));
    }
    let originals = slots.len();
    for j in 0..add.count() {
        let candidates = if P::NO_REPEATS {
            &mut slots[..originals]
        } else {
            &mut slots[..]
        };
        let found = candidates.iter_mut().find(|(key, _)| match key {
            Part::Raw(raw) => add.key_is(j, &record[raw.clone()]),
            Part::Parsed(i) => add.same_key(*i, j),
        });
        match found {
            Some((_, v)) => *v = Part::Parsed(j),
            None => slots.push((Part::Parsed(j), Part::Parsed(j))),
        }
    }
    true
}

/// Encode a map merged by [`merge_slots`] from `record`. Parts that lie back to back in the
/// record (or in the parsed pairs' encoding) are copied at once: a record whose keys the parse
/// does not replace is one copy of its pairs and one of the parsed pairs.
fn write_slots<P: ParsedPairs + ?Sized>(
    record: &[u8],
    slots: &[(Part, Part)],
    add: &P,
    out: &mut Vec<u8>,
) {
    logferry_msgpack::write::map_len(out, slots.len() as u32);
    // The bytes not copied yet: a range of the record (false) or of the parsed encoding (true).
    let mut run: Option<(bool, Range<usize>)> = None;
    let flush = |run: &mut Option<(bool, Range<usize>)>, out: &mut Vec<u8>| {
        if let Some((parsed, r)) = run.take() {
            out.extend_from_slice(if parsed {
                &add.encoded()[r]
            } else {
                &record[r]
            });
        }
    };
    for (k, v) in slots {
        for (part, key) in [(k, true), (v, false)] {
            let next = match part {
                Part::Raw(r) => (false, r.clone()),
                Part::Parsed(i) => match add.span(*i, key) {
                    Some(r) => (true, r),
                    None => {
                        flush(&mut run, out);
                        if key {
                            add.write_key(*i, out)
                        } else {
                            add.write_value(*i, out)
                        }
                        continue;
                    }
                },
            };
            match &mut run {
                Some((src, r)) if *src == next.0 && r.end == next.1.start => r.end = next.1.end,
                _ => {
                    flush(&mut run, out);
                    run = Some(next);
                }
            }
        }
    }
    flush(&mut run, out);
}

/// Placeholder until the real parser is built.
struct NoParser;

impl Parser for NoParser {
    fn parse(&self, _text: &str, out: &mut Vec<ParseResult>) {
        out.push(Err("no parser".into()));
    }
}

/// Ruby's `Hash[value.map { |k, v| [prefix + k, v] }]`, filter_parser's `inject_key_prefix`
/// over a parsed value that is not a Hash: an array's strings become keys of nil, its arrays
/// led by a string pairs (a later key's value replacing an earlier one's in its place); any
/// other element, or a value that is not an array, raises (the error text).
fn prefixed_pairs(prefix: &str, v: Value) -> Result<Value, String> {
    let Value::Array(items) = v else {
        return Err(ruby::no_method_error("map", &v));
    };
    let mut pairs: Vec<(Value, Value)> = Vec::with_capacity(items.len());
    // Where each key is (an array of many strings must not compare every pair).
    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for item in items {
        let (k, val) = match item {
            Value::Str(k) => (k, Value::Nil),
            Value::Array(a) => {
                let mut a = a.into_iter();
                match (a.next(), a.next()) {
                    (Some(Value::Str(k)), v) => (k, v.unwrap_or(Value::Nil)),
                    (first, _) => {
                        let what = first.as_ref().map_or("nil", ruby_class);
                        return Err(format!("no implicit conversion of {what} into String"));
                    }
                }
            }
            other => {
                let what = ruby_class(&other);
                return Err(format!("no implicit conversion of {what} into String"));
            }
        };
        let key = format!("{prefix}{k}");
        match at.get(&key).and_then(|&i| pairs.get_mut(i)) {
            Some((_, slot)) => *slot = val,
            None => {
                at.insert(key.clone(), pairs.len());
                pairs.push((Value::Str(key), val));
            }
        }
    }
    Ok(Value::Map(pairs))
}

/// A value as Ruby's `no implicit conversion of X` names it (`nil`, `true`, `false`, else its
/// class).
fn ruby_class(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Int(_) | Value::UInt(_) => "Integer",
        Value::F32(_) | Value::F64(_) => "Float",
        Value::Bool(true) => "true",
        Value::Bool(false) => "false",
        Value::Str(_) | Value::Bin(_) => "String",
        Value::Map(_) => "Hash",
        Value::Array(_) => "Array",
        Value::Ext(..) => "Object",
    }
}

/// [`ruby_class`] of a raw value, for the "not a string" error.
fn class_of(raw: &[u8]) -> &'static str {
    Value::decode(raw).map_or("Object", |(v, _)| ruby_class(&v))
}

impl Filter for ParserFilter {
    fn filter(&self, _tag: &str, batch: EventBatch, errors: &mut ErrorEvents) -> FilterOutput {
        // With reserve_data each record grows by its parsed fields (less than the text they come
        // from): room for twice the input spares the copy of growing the buffer mid-batch.
        let grow = if self.reserve_data { 2 } else { 1 };
        let mut out = BatchBuilder::with_capacity(batch.bytes().len().saturating_mul(grow));
        let mut results: Vec<ParseResult> = Vec::new();
        let mut raw = RawRecord::default();
        let mut slots = Vec::new();
        let mut value_text: String;
        for e in &batch {
            // A path of several steps into a value that is not a container raises in Fluentd
            // (Ruby's `dig`) before the parse: the error event, and the chain passes the record
            // on unchanged.
            let raw_value = match self.key.dig_raw(e.record) {
                Ok(v) => v.filter(|v| *v != [0xc0]),
                Err(why) => {
                    errors.push(e.time, e.record, why);
                    out.push_with(e.time, |buf| buf.extend_from_slice(e.record));
                    continue;
                }
            };
            let Some(raw_value) = raw_value else {
                if self.reserve_data {
                    let rec = decode_record_keeping_bytes(e.record);
                    let v = self.handle_parsed(Some(&rec), Value::Map(vec![]));
                    out.push_with(e.time, |buf| encode_unmapped(&v, buf, false));
                }
                if self.emit_invalid_record_to_error {
                    errors.push(
                        e.time,
                        e.record,
                        format!("{} does not exist", self.key.as_str()),
                    );
                }
                continue;
            };
            results.clear();
            // A value that is not a string: the none parser takes it as it is (then `results`
            // holds its record and the text below is empty); json reads it as not matched; the
            // others raise, as in Fluentd, whose filter chain then passes the record on
            // unchanged after the error event (README "Differences from Fluentd" for
            // `emit_invalid_record_to_error false`, where Fluentd loses it).
            let value = || Value::decode(raw_value).map_or(Value::Nil, |(v, _)| v);
            let bytes = match Reader::new(raw_value).read_str() {
                Ok(b) => b,
                Err(_) if self.parser.parse_value(&value(), &mut results) => &[],
                Err(_) if !self.parser.non_string_raises() => {
                    if self.bare(e.time, e.record, Field::Other(&value()), &mut out, errors) {
                        continue;
                    }
                    results.push(Err("pattern not matched".into()));
                    // The text the not-matched error names: the value as Ruby writes it.
                    value_text = ruby::to_s(&value());
                    value_text.as_bytes()
                }
                Err(_) => {
                    if self.emit_invalid_record_to_error {
                        errors.push(
                            e.time,
                            e.record,
                            format!(
                                "parse failed no implicit conversion of {} into String",
                                class_of(raw_value)
                            ),
                        );
                    }
                    if self.emit_invalid_record_to_error || self.reserve_data {
                        out.push_with(e.time, |buf| buf.extend_from_slice(e.record));
                    }
                    continue;
                }
            };
            // A binary string (msgpack bin: from in_tail, tcp, udp, syslog or a Fluentd
            // forwarder) with bytes past ASCII: Fluentd's parser reads its bytes (UTF-8 or not,
            // no "invalid byte sequence"), and the pieces it takes are binary strings too. Its
            // bytes from 0x80 up stand in the text as private-use characters
            // ([`crate::net::bytemap`]), turned back into bytes in the parsed record.
            // (The json parser decodes its text instead: it keeps the UTF-8 reading below, where
            // yajl refuses bytes that are not UTF-8.)
            let mapped = self.parser.keeps_text_bytes()
                && matches!(raw_value.first(), Some(0xc4..=0xc6))
                && !bytes.is_ascii();
            // A str holding bytes that are not UTF-8 (Fluent Bit sends a file's bytes so, and
            // Fluentd's Oj and in_tail with `encoding` make such UTF-8 strings), read by a
            // parser that keeps them (`none`, `json` with Oj or Ruby's json): Fluentd's values
            // hold those bytes. Each of them stands in the text as `utf8_text` maps it, and the
            // parsed record is written back with its bytes (as str), never with U+FFFD.
            let mut kept = false;
            let text = match std::str::from_utf8(bytes) {
                _ if mapped => std::borrow::Cow::Owned(binary_text(bytes).unwrap_or_default()),
                Ok(t) => std::borrow::Cow::Borrowed(t),
                Err(_) => match self.parser.on_invalid_utf8() {
                    InvalidUtf8::Keeps => {
                        kept = true;
                        std::borrow::Cow::Owned(utf8_text(bytes))
                    }
                    // Fluentd's JSON parser yields no record for such text (its parse error is
                    // rescued), before replace_invalid_sequence could apply.
                    InvalidUtf8::NotMatched => {
                        results.push(Err("pattern not matched: invalid byte sequence".into()));
                        ruby::scrub(bytes)
                    }
                    InvalidUtf8::ParseFails => {
                        results.push(Err("Invalid byte sequence in UTF-8".into()));
                        ruby::scrub(bytes)
                    }
                    // Ruby's ArgumentError, which replace_invalid_sequence rescues by scrubbing
                    // and parsing again.
                    InvalidUtf8::Raises if self.replace_invalid_sequence => ruby::scrub(bytes),
                    // Otherwise filter_parser re-raises it whatever emit_invalid_record_to_error
                    // says: Fluentd's filter chain sends the record to @ERROR and passes it on
                    // unchanged.
                    InvalidUtf8::Raises => {
                        errors.push(e.time, e.record, "invalid byte sequence in UTF-8");
                        out.push_with(e.time, |buf| buf.extend_from_slice(e.record));
                        continue;
                    }
                },
            };
            // JSON that is not an object (never text opening with `{`).
            if results.is_empty()
                && !mapped
                && !kept
                && text.trim_start().as_bytes().first() != Some(&b'{')
                && self.bare(e.time, e.record, Field::Text(&text), &mut out, errors)
            {
                continue;
            }
            if results.is_empty() && self.plain_merge() && !mapped && !kept {
                // The fast path: a record the parser writes as msgpack pairs, merged into the raw
                // original (no decoded tree on either side).
                // With reserve_time the parsed time is not used: no clock read for it.
                let parsed = if self.reserve_time {
                    self.parser
                        .parse_raw_untimed(&text, &mut raw)
                        .then_some(None)
                } else {
                    self.parser.parse_raw(&text, &mut raw)
                };
                if let Some(t) = parsed {
                    if merge_slots(e.record, &raw, &mut slots) {
                        let t = if self.reserve_time {
                            e.time
                        } else {
                            t.unwrap_or(e.time)
                        };
                        out.push_with(t, |buf| write_slots(e.record, &slots, &raw, buf));
                        continue;
                    }
                }
            }
            if results.is_empty() {
                if kept {
                    self.parser.parse_invalid_utf8(&text, &mut results);
                } else {
                    self.parser.parse(&text, &mut results);
                }
                // No record at all (JSON's `[]`, which Fluentd makes the record itself, README
                // "Differences from Fluentd"): not matched, never nothing.
                if results.is_empty() {
                    results.push(Err("pattern not matched".into()));
                }
            }
            // The original record, decoded only when a result needs it.
            let mut rec: Option<Value> = None;
            let mut changed = false;
            let needs_rec = self.reserve_data;
            for r in results.drain(..) {
                match r {
                    Ok((t, values)) => {
                        let values = if mapped {
                            unmap(values, self.parser.keeps_text_bytes())
                        } else {
                            values
                        };
                        let t = if self.reserve_time {
                            e.time
                        } else {
                            t.unwrap_or(e.time)
                        };
                        if self.remove_key_name_field {
                            let r =
                                rec.get_or_insert_with(|| decode_record_keeping_bytes(e.record));
                            self.key.delete(r);
                            changed = true;
                        }
                        if needs_rec && rec.is_none() && self.plain_merge() && !kept {
                            // The common reserve_data case, written straight from the raw record.
                            if let Value::Map(add) = &values {
                                if merge_slots(e.record, add.as_slice(), &mut slots) {
                                    out.push_with(t, |buf| {
                                        write_slots(e.record, &slots, add.as_slice(), buf)
                                    });
                                    continue;
                                }
                            }
                        }
                        if needs_rec && rec.is_none() {
                            rec = Some(decode_record_keeping_bytes(e.record));
                        }
                        // Written beside the record's own strings, which keep their bytes
                        // (`decode_record_keeping_bytes`): protected, unless the parsed text
                        // was mapped the same way (`kept`).
                        let values = if kept { values } else { protect(values) };
                        let v = self.handle_parsed(rec.as_ref(), values);
                        out.push_with(t, |buf| encode_unmapped(&v, buf, false));
                    }
                    Err(reason) if !reason.starts_with("pattern not matched") => {
                        // The parser raised (a time it cannot read, a CSV quote left open, a
                        // syslog line short of spaces, …). Fluentd's filter chain then emits an
                        // error event and passes the record on unchanged, at its own time;
                        // without emit_invalid_record_to_error Fluentd drops the record, which
                        // logferry keeps (unchanged) when reserve_data asks for it.
                        if self.emit_invalid_record_to_error {
                            errors.push(e.time, e.record, format!("parse failed {reason}"));
                        }
                        if self.emit_invalid_record_to_error || self.reserve_data {
                            out.push_with(e.time, |buf| buf.extend_from_slice(e.record));
                        }
                    }
                    Err(reason) => {
                        // The text as the error names it: its bytes, not the characters that
                        // stand for them.
                        let text = if mapped || kept {
                            String::from_utf8_lossy(bytes)
                        } else {
                            std::borrow::Cow::Borrowed(text.as_ref())
                        };
                        if reason.starts_with(parser::regexp::TIMED_OUT) {
                            if let Some(log) = &self.log {
                                log.warn(format_args!(
                                    "parsing timed out with Fluent::Plugin::RegexpParser: text = {text}"
                                ));
                            }
                        }
                        if self.emit_invalid_record_to_error {
                            let reason = format!("pattern not matched with data '{text}'");
                            match (&rec, changed) {
                                (Some(r), true) => {
                                    let mut buf = Vec::new();
                                    encode_unmapped(r, &mut buf, false);
                                    errors.push(e.time, &buf, reason);
                                }
                                _ => errors.push(e.time, e.record, reason),
                            }
                        }
                        if self.reserve_data {
                            let r =
                                rec.get_or_insert_with(|| decode_record_keeping_bytes(e.record));
                            let v = self.handle_parsed(Some(r), Value::Map(vec![]));
                            out.push_with(e.time, |buf| encode_unmapped(&v, buf, false));
                        }
                    }
                }
            }
        }
        if out.is_empty() {
            FilterOutput::Drop
        } else {
            FilterOutput::Keep(out.finish())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logferry_core::EventTime;
    use logferry_msgpack::json_to_msgpack;
    use std::path::Path;

    const T: EventTime = EventTime {
        sec: 1_600_000_000,
        nsec: 7,
    };

    /// A JSON parser good enough to test the filter: objects (time = now, as a parser without a
    /// time field returns), arrays of objects, anything else a failure.
    struct StubJson;

    impl Parser for StubJson {
        fn parse(&self, text: &str, out: &mut Vec<ParseResult>) {
            let one = |v: &serde_json::Value| -> ParseResult {
                if !v.is_object() {
                    return Err("pattern not matched: not an object".into());
                }
                let mut b = Vec::new();
                json_to_msgpack(v, &mut b);
                Ok((Some(EventTime::now()), Value::decode(&b).unwrap().0))
            };
            match serde_json::from_str::<serde_json::Value>(text) {
                Ok(serde_json::Value::Array(items)) => out.extend(items.iter().map(one)),
                Ok(v) => out.push(one(&v)),
                // As the real JSON parser: text that does not parse is a non-match.
                Err(e) => out.push(Err(format!("pattern not matched: {e}"))),
            }
        }
    }

    fn filter(body: &str) -> ParserFilter {
        let text = format!("<filter **>\n@type parser\n{body}\n</filter>\n");
        let root = logferry_config::parse_str(&text, "t.conf", Path::new(".")).unwrap();
        let s = Section::new(&root.elements[0], "parser");
        ParserFilter::with_parser(&s, Box::new(StubJson)).unwrap()
    }

    fn json_rec(j: &str) -> Vec<u8> {
        let mut b = Vec::new();
        json_to_msgpack(&serde_json::from_str(j).unwrap(), &mut b);
        b
    }

    fn to_json(raw: &[u8]) -> String {
        let mut o = Vec::new();
        logferry_msgpack::write_json(raw, &mut o).unwrap();
        String::from_utf8(o).unwrap()
    }

    type Events = Vec<(EventTime, String)>;
    type Errors = Vec<(String, String)>;

    /// Run one record through; returns (time, JSON) of each output and (record JSON, reason) of
    /// each error event.
    fn run(f: &ParserFilter, record: &str) -> (Events, Errors) {
        let mut errors = ErrorEvents::default();
        let out = f.filter("t", EventBatch::single(T, &json_rec(record)), &mut errors);
        let events = match out {
            FilterOutput::Keep(b) => b.iter().map(|e| (e.time, to_json(e.record))).collect(),
            FilterOutput::Drop => vec![],
        };
        let (eb, reasons) = errors.take();
        let errs = eb
            .iter()
            .zip(reasons)
            .map(|(e, r)| {
                assert_eq!(e.time, T);
                (to_json(e.record), r)
            })
            .collect();
        (events, errs)
    }

    fn is_now(t: EventTime) -> bool {
        let now = EventTime::now();
        now.sec.abs_diff(t.sec) <= 5
    }

    // §7.6 case 69
    #[test]
    fn case_69_parsed_record_at_now() {
        let f = filter("key_name log");
        let (ev, errs) = run(&f, r#"{"log":"{\"a\":1}","s":"x"}"#);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].1, r#"{"a":1}"#);
        assert!(is_now(ev[0].0), "{:?}", ev[0].0);
        assert!(errs.is_empty());
    }

    // §7.6 case 70
    #[test]
    fn case_70_reserve_data() {
        let rec = r#"{"log":"{\"a\":1}","s":"x"}"#;
        let (ev, _) = run(&filter("key_name log\nreserve_data true"), rec);
        assert_eq!(ev[0].1, r#"{"log":"{\"a\":1}","s":"x","a":1}"#);
        assert!(is_now(ev[0].0));
    }

    // §7.6 case 70, remove_key_name_field
    #[test]
    fn case_70_remove_key_name_field() {
        let rec = r#"{"log":"{\"a\":1}","s":"x"}"#;
        let f = filter("key_name log\nreserve_data true\nremove_key_name_field true");
        let (ev, _) = run(&f, rec);
        assert_eq!(ev[0].1, r#"{"s":"x","a":1}"#);
    }

    // §7.6 case 70, reserve_time
    #[test]
    fn case_70_reserve_time() {
        let rec = r#"{"log":"{\"a\":1}","s":"x"}"#;
        let f = filter(
            "key_name log\nreserve_data true\nremove_key_name_field true\nreserve_time true",
        );
        let (ev, _) = run(&f, rec);
        assert_eq!(ev, [(T, r#"{"s":"x","a":1}"#.to_string())]);
    }

    // §7.6 case 71
    #[test]
    fn case_71_hash_value_field_and_prefix() {
        let f = filter("key_name log\nhash_value_field p\ninject_key_prefix x_\nreserve_data true");
        let (ev, _) = run(&f, r#"{"log":"{\"a\":1}","s":"x"}"#);
        assert_eq!(ev[0].1, r#"{"log":"{\"a\":1}","s":"x","p":{"x_a":1}}"#);
    }

    // §7.6 case 72
    /// The raw merge gives the same bytes as decoding, merging and encoding, including duplicate
    /// keys, non-string keys, bin keys and invalid UTF-8 keys.
    #[test]
    fn raw_merge_matches_the_decoded_merge() {
        let f = filter("key_name log\nreserve_data true");
        let s = |x: &str| Value::Str(x.into());
        let records = vec![
            Value::Map(vec![(s("log"), s("x")), (s("a"), Value::Int(1))]),
            Value::Map(vec![
                (s("a"), Value::Int(1)),
                (s("a"), Value::Int(2)),
                (s("b"), Value::Nil),
            ]),
            Value::Map(vec![
                (Value::Int(7), s("seven")),
                (Value::Bin(b"a".to_vec()), s("bin")),
            ]),
            Value::Map(vec![]),
        ];
        let adds = vec![
            vec![],
            vec![(s("a"), Value::Int(10))],
            vec![
                (s("new"), s("n")),
                (s("a"), Value::Int(3)),
                (s("new"), s("again")),
            ],
            vec![(Value::Int(7), s("int key")), (s("a"), Value::Bool(true))],
        ];
        for rec in &records {
            let mut raw = Vec::new();
            rec.encode(&mut raw);
            for add in &adds {
                let mut slots = Vec::new();
                assert!(merge_slots(&raw, add.as_slice(), &mut slots));
                let mut fast = Vec::new();
                write_slots(&raw, &slots, add.as_slice(), &mut fast);
                let mut slow = Vec::new();
                f.handle_parsed(Some(rec), Value::Map(add.clone()))
                    .encode(&mut slow);
                assert_eq!(fast, slow, "record {rec:?} merged with {add:?}");
                // The same pairs as parse_raw writes them (no repeated key there), laid out in
                // order (copied in runs) and in reverse (every part copied on its own).
                let keys: Vec<&Value> = add.iter().map(|(k, _)| k).collect();
                if (1..keys.len()).any(|i| keys[..i].contains(&keys[i])) {
                    continue;
                }
                for reversed in [false, true] {
                    let mut pairs = RawRecord::default();
                    let order: Vec<usize> = if reversed {
                        (0..add.len()).rev().collect()
                    } else {
                        (0..add.len()).collect()
                    };
                    let mut ranges = vec![(0..0, 0..0); add.len()];
                    for i in order {
                        let k0 = pairs.buf.len();
                        add[i].0.encode(&mut pairs.buf);
                        let k1 = pairs.buf.len();
                        add[i].1.encode(&mut pairs.buf);
                        ranges[i] = (k0..k1, k1..pairs.buf.len());
                    }
                    pairs.pairs = ranges;
                    assert!(merge_slots(&raw, &pairs, &mut slots));
                    let mut fast = Vec::new();
                    write_slots(&raw, &slots, &pairs, &mut fast);
                    assert_eq!(fast, slow, "record {rec:?} merged with raw {add:?}");
                }
            }
        }
        // A key with invalid UTF-8 is kept byte for byte (the decoded form would rewrite it as
        // U+FFFD) and equals no parsed key, as in Ruby.
        let mut raw = vec![0x81, 0xa2, b'a', 0xff, 0x01];
        let add = vec![(s("a\u{fffd}"), Value::Int(2))];
        let mut slots = Vec::new();
        assert!(merge_slots(&raw, add.as_slice(), &mut slots));
        let mut fast = Vec::new();
        write_slots(&raw, &slots, add.as_slice(), &mut fast);
        assert_eq!(
            fast,
            [0x82, 0xa2, b'a', 0xff, 0x01, 0xa4, b'a', 0xef, 0xbf, 0xbd, 0x02]
        );
        raw.clear();
        assert!(
            !merge_slots(&[0x01], add.as_slice(), &mut Vec::new()),
            "not a map"
        );
    }

    #[test]
    fn case_72_parsed_keys_win_in_place() {
        let f = filter("key_name log\nreserve_data true");
        let (ev, _) = run(&f, r#"{"log":"{\"a\":1}","a":0}"#);
        assert_eq!(ev[0].1, r#"{"log":"{\"a\":1}","a":1}"#);
    }

    // §7.6 case 73
    #[test]
    fn case_73_missing_field() {
        let rec = r#"{"s":"x"}"#;
        let (ev, errs) = run(&filter("key_name log"), rec);
        assert!(ev.is_empty());
        assert_eq!(errs, [(rec.to_string(), "log does not exist".to_string())]);

        let (ev, errs) = run(&filter("key_name log\nreserve_data true"), rec);
        assert_eq!(ev, [(T, rec.to_string())]);
        assert_eq!(errs.len(), 1);

        let f = filter("key_name log\nreserve_data true\nhash_value_field p");
        let (ev, _) = run(&f, r#"{"s":"x","log":null}"#);
        assert_eq!(ev[0].1, r#"{"s":"x","log":null,"p":{}}"#);
    }

    // §7.6 case 74
    #[test]
    fn case_74_unparsable_value() {
        let rec = r#"{"log":"not json","s":"x"}"#;
        let (ev, errs) = run(&filter("key_name log\nreserve_data true"), rec);
        assert_eq!(ev, [(T, rec.to_string())]);
        assert_eq!(
            errs,
            [(
                rec.to_string(),
                "pattern not matched with data 'not json'".to_string()
            )]
        );
        let f = filter("key_name log\nreserve_data true\nemit_invalid_record_to_error false");
        let (ev, errs) = run(&f, rec);
        assert_eq!(ev.len(), 1);
        assert!(errs.is_empty());
        let (ev, errs) = run(&filter("key_name log"), rec);
        assert!(ev.is_empty());
        assert_eq!(errs.len(), 1);
    }

    #[test]
    fn nested_key_and_multiple_results() {
        let f = filter(
            "key_name $.d.msg\nreserve_data true\nremove_key_name_field true\nreserve_time true",
        );
        let (ev, errs) = run(&f, r#"{"d":{"msg":"[{\"a\":1},2,{\"b\":2}]","k":1}}"#);
        assert_eq!(
            ev,
            [
                (T, r#"{"d":{"k":1},"a":1}"#.to_string()),
                (T, r#"{"d":{"k":1}}"#.to_string()),
                (T, r#"{"d":{"k":1},"b":2}"#.to_string()),
            ]
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(
            errs[0].0, r#"{"d":{"k":1}}"#,
            "the error event shows the record as it is then"
        );
    }

    #[test]
    fn non_string_and_invalid_utf8() {
        // A parser that raises on a value that is not a string: the error event, and the record
        // goes on unchanged (Fluentd's optimised filter chain; differential case
        // parser-regexp-non-string-values).
        let (ev, errs) = run(&filter("key_name log\nreserve_data true"), r#"{"log":5}"#);
        assert_eq!(ev, [(T, r#"{"log":5}"#.to_string())]);
        assert_eq!(
            errs[0].1,
            "parse failed no implicit conversion of Integer into String"
        );

        let mut raw = Vec::new();
        logferry_msgpack::write::map_len(&mut raw, 1);
        logferry_msgpack::write::str(&mut raw, "log");
        logferry_msgpack::write::str_bytes(&mut raw, b"{\"a\":\"x\xff\"}");
        let mut errors = ErrorEvents::default();
        // Ruby's ArgumentError: to @ERROR, and the record goes on unchanged (as in Fluentd).
        let out = filter("key_name log").filter("t", EventBatch::single(T, &raw), &mut errors);
        let FilterOutput::Keep(b) = out else {
            panic!("dropped")
        };
        assert_eq!(b.iter().next().unwrap().record, raw.as_slice());
        assert_eq!(errors.take().1, ["invalid byte sequence in UTF-8"]);

        let f = filter("key_name log\nreplace_invalid_sequence true");
        let FilterOutput::Keep(b) = f.filter("t", EventBatch::single(T, &raw), &mut errors) else {
            panic!("dropped")
        };
        assert_eq!(to_json(b.iter().next().unwrap().record), r#"{"a":"x?"}"#);
        assert!(errors.is_empty());
    }

    /// A filter with the real parser of its section.
    fn real(body: &str) -> ParserFilter {
        let text = format!("<filter **>\n@type parser\n{body}\n</filter>\n");
        let root = logferry_config::parse_str(&text, "t.conf", Path::new(".")).unwrap();
        let s = Section::new(&root.elements[0], "parser");
        let f = ParserFilter::new(&s).unwrap();
        let unused = s.warn_unused();
        assert!(unused.is_empty(), "{unused:?}");
        f
    }

    #[test]
    fn real_json_parser_flat_and_section() {
        let rec = r#"{"log":"{\"a\":1,\"time\":\"2024-03-05T10:20:30Z\"}","s":"x"}"#;
        let flat = real("format json\nkey_name log\ntime_format %Y-%m-%dT%H:%M:%SZ");
        let sect =
            real("key_name log\n<parse>\n@type json\ntime_format %Y-%m-%dT%H:%M:%SZ\n</parse>");
        for f in [flat, sect] {
            let (ev, errs) = run(&f, rec);
            assert_eq!(
                ev,
                [(EventTime::new(1_709_634_030, 0), r#"{"a":1}"#.to_string())]
            );
            assert!(errs.is_empty());
        }
        // No time in the text: the parser's "now".
        let (ev, _) = run(&real("format json\nkey_name log"), r#"{"log":"{\"a\":1}"}"#);
        assert!(is_now(ev[0].0));
        // Not JSON: pattern not matched, and with reserve_data the original passes at T.
        let f = real("format json\nkey_name log\nreserve_data true");
        let (ev, errs) = run(&f, r#"{"log":"not json"}"#);
        assert_eq!(ev, [(T, r#"{"log":"not json"}"#.to_string())]);
        assert_eq!(errs[0].1, "pattern not matched with data 'not json'");
    }

    #[test]
    fn real_regexp_parser() {
        let f = real("key_name msg\nreserve_data true\nformat /^(?<k>\\w+)=(?<v>\\d+)$/");
        let (ev, errs) = run(&f, r#"{"msg":"n=5"}"#);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].1, r#"{"msg":"n=5","k":"n","v":"5"}"#);
        assert!(errs.is_empty());
    }

    #[test]
    fn missing_parser_is_a_startup_error() {
        let root = logferry_config::parse_str(
            "<filter **>\n@type parser\nkey_name log\n</filter>\n",
            "t.conf",
            Path::new("."),
        )
        .unwrap();
        let s = Section::new(&root.elements[0], "parser");
        assert!(ParserFilter::new(&s).is_err());
    }

    #[test]
    fn key_name_is_required() {
        let root = logferry_config::parse_str(
            "<filter **>\n@type parser\n</filter>\n",
            "t.conf",
            Path::new("."),
        )
        .unwrap();
        let s = Section::new(&root.elements[0], "parser");
        let e = ParserFilter::with_parser(&s, Box::new(StubJson))
            .err()
            .unwrap();
        assert!(e.to_string().contains("key_name"), "{e}");
    }

    /// reserve_data's merge of many keys (the indexed Hash#merge): each key in its place with
    /// the new value, new keys last, the field taken out.
    #[test]
    fn merge_of_many_keys() {
        let f = filter("key_name log\nreserve_data true\nremove_key_name_field true");
        let n = 1500;
        let inner: Vec<String> = (0..n).map(|i| format!("\\\"k{i}\\\":1")).collect();
        let outer: Vec<String> = (0..n).map(|i| format!("\"k{i}\":0")).collect();
        let rec = format!(
            "{{{},\"log\":\"{{{},\\\"new\\\":2}}\"}}",
            outer.join(","),
            inner.join(",")
        );
        let (ev, errs) = run(&f, &rec);
        assert!(errs.is_empty(), "{errs:?}");
        let want: Vec<String> = (0..n).map(|i| format!("\"k{i}\":1")).collect();
        assert_eq!(ev[0].1, format!("{{{},\"new\":2}}", want.join(",")));
    }

    /// `inject_key_prefix` over a parsed array, as Ruby's `Hash[a.map { |k, v| [p + k, v] }]`.
    #[test]
    fn prefixed_pairs_as_ruby_makes_them() {
        let s = |x: &str| Value::Str(x.into());
        let arr = Value::Array(vec![
            s("a"),
            Value::Array(vec![s("b"), Value::Int(1), Value::Int(9)]),
            Value::Array(vec![s("a"), Value::Int(2)]),
        ]);
        assert_eq!(
            prefixed_pairs("x.", arr).unwrap(),
            Value::Map(vec![(s("x.a"), Value::Int(2)), (s("x.b"), Value::Int(1))])
        );
        assert_eq!(
            prefixed_pairs("x.", Value::Array(vec![])).unwrap(),
            Value::Map(vec![])
        );
        for bad in [
            Value::Int(12),
            s("s"),
            Value::Array(vec![Value::Int(1)]),
            Value::Array(vec![Value::Array(vec![])]),
            Value::Array(vec![Value::Map(vec![])]),
        ] {
            assert!(prefixed_pairs("x.", bad).is_err());
        }
    }
}
