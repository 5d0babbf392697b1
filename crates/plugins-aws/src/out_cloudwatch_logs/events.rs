//! A chunk's entries (`[tag, time, record]`, as fluent-plugin-cloudwatch-logs buffers them)
//! turned into log events per log group and stream: names from the tag, a record key or the
//! configured template; the message formatted (`<format>`, `message_keys` or the record as
//! JSON), `max_message_length` applied, and an event over the per-event limit split into parts
//! (or truncated), never discarded.

use std::collections::HashMap;

use logferry_core::EventTime;
use logferry_formats::formatter::Formatter;
use logferry_formats::ruby;
use logferry_msgpack::{read_time, Reader, Value};

/// Bytes CloudWatch Logs counts per event on top of its message.
pub const EVENT_OVERHEAD: usize = 26;

/// Where the group (or stream) name comes from.
pub enum NameFrom {
    /// `log_group_name` / `log_stream_name` (rendered per chunk, passed to [`Shaper::shape`]).
    Fixed,
    /// `use_tag_as_group` / `use_tag_as_stream`.
    Tag,
    /// `log_group_name_key` / `log_stream_name_key`, removed from the record when `remove`.
    Key {
        /// The record key.
        key: String,
        /// `remove_log_*_name_key`.
        remove: bool,
    },
}

/// How the message is made from the record.
pub enum Message {
    /// The record as JSON (`json_handler` yajl or json: the same compact JSON, json's `\u`
    /// escapes in lower case as Ruby's `JSON.generate` writes them).
    Json {
        /// `json_handler json`.
        ruby_json: bool,
    },
    /// `message_keys`: their values' Ruby `to_s`, empty ones left out, joined by a space.
    Keys(Vec<String>),
    /// A `<format>` section.
    Format(Box<dyn Formatter>),
}

/// What is done with an event over the per-event limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Oversize {
    /// Split it into several events of the same timestamp, in order.
    Split,
    /// Cut it at the limit (logged).
    Truncate,
}

/// How a chunk's entries become events.
pub struct Shaper {
    /// Group name source.
    pub group: NameFrom,
    /// Stream name source.
    pub stream: NameFrom,
    /// Message format.
    pub message: Message,
    /// `max_message_length` (characters).
    pub max_message_length: Option<usize>,
    /// Per-event limit in bytes, the 26 bytes of overhead included.
    pub max_event_size: usize,
    /// Over the limit: split or truncate.
    pub oversize: Oversize,
    /// `log_group_aws_tags_key` and whether to remove it.
    pub tags_key: Option<(String, bool)>,
    /// `retention_in_days_key` and whether to remove it.
    pub retention_key: Option<(String, bool)>,
}

/// One log event.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Milliseconds since the epoch.
    pub ts_ms: i64,
    /// The message (one part of a split event).
    pub message: String,
    /// Index of the chunk entry it came from.
    pub entry: usize,
}

/// The events of one log group and stream, in time order.
#[derive(Debug, Default)]
pub struct StreamEvents {
    /// Log group name.
    pub group: String,
    /// Log stream name.
    pub stream: String,
    /// Events sorted by timestamp (stable: equal timestamps keep chunk order).
    pub events: Vec<Event>,
    /// Tags for the group if it is created (from `log_group_aws_tags_key` of its first record).
    pub tags: Option<Vec<(String, String)>>,
    /// Retention for the group if it is created (from `retention_in_days_key`).
    pub retention: Option<i32>,
}

/// An entry of the chunk, kept for the error path.
#[derive(Clone, Debug)]
pub struct Entry {
    /// The tag.
    pub tag: String,
    /// The event time.
    pub time: EventTime,
    /// The record, msgpack, as buffered.
    pub record: Vec<u8>,
}

/// A chunk shaped for PutLogEvents.
#[derive(Debug, Default)]
pub struct Shaped {
    /// Per group and stream, in order of first appearance.
    pub streams: Vec<StreamEvents>,
    /// Every entry, by index (for the error path).
    pub entries: Vec<Entry>,
    /// Entries that cannot be sent (no group or stream name), with the reason.
    pub unroutable: Vec<(usize, String)>,
    /// Entries whose message is empty (skipped with a warning, as Fluentd does).
    pub empty: usize,
    /// Events split into parts.
    pub split: usize,
    /// Events truncated.
    pub truncated: usize,
}

/// Append one buffered entry: `[tag, time, record]`.
pub fn encode_entry(tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>) {
    logferry_msgpack::write::array_len(out, 3);
    logferry_msgpack::write::str(out, tag);
    time.encode(out);
    out.extend_from_slice(record);
}

/// Read the entries of a chunk's bytes. A malformed tail is reported, what precedes it kept.
pub fn decode_entries(data: &[u8]) -> (Vec<Entry>, Option<String>) {
    let mut r = Reader::new(data);
    let mut out = Vec::new();
    while !r.is_empty() {
        let at = r.pos();
        let one = (|| -> Result<Entry, String> {
            let n = r.read_array_len().map_err(|e| e.to_string())?;
            if n != 3 {
                return Err(format!("an entry of {n} elements"));
            }
            let tag =
                String::from_utf8_lossy(r.read_str().map_err(|e| e.to_string())?).into_owned();
            let time = read_time(&mut r)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| "no event time".to_string())?;
            let record = r.read_raw().map_err(|e| e.to_string())?.to_vec();
            Ok(Entry { tag, time, record })
        })();
        match one {
            Ok(e) => out.push(e),
            Err(e) => {
                return (
                    out,
                    Some(format!("malformed chunk entry at byte {at}: {e}")),
                )
            }
        }
    }
    (out, None)
}

fn take_key(map: &mut Vec<(Value, Value)>, key: &str, remove: bool) -> Option<Value> {
    let i = map.iter().position(|(k, _)| k.as_str() == Some(key))?;
    if remove {
        Some(map.remove(i).1)
    } else {
        Some(map[i].1.clone())
    }
}

fn name_of(
    from: &NameFrom,
    fixed: &str,
    tag: &str,
    map: &mut Vec<(Value, Value)>,
) -> Option<String> {
    match from {
        NameFrom::Fixed => Some(fixed.to_string()),
        NameFrom::Tag => Some(tag.to_string()),
        NameFrom::Key { key, remove } => match take_key(map, key, *remove) {
            None | Some(Value::Nil) => None,
            Some(v) => Some(v.to_text()).filter(|s| !s.is_empty()),
        },
    }
}

/// Cut `s` to at most `max` bytes at a character boundary.
fn floor_boundary(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    let mut i = max;
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Split a message into parts of at most `max` bytes, at character boundaries.
pub fn split_message(s: &str, max: usize) -> Vec<String> {
    let max = max.max(4);
    let mut parts = Vec::with_capacity(s.len() / max + 1);
    let mut rest = s;
    while !rest.is_empty() {
        let n = floor_boundary(rest, max);
        parts.push(rest[..n].to_string());
        rest = &rest[n..];
    }
    parts
}

/// Ruby's `JSON.generate` writes `\u001f` where yajl writes `\u001F`: lower the hex letters of
/// every `\uXXXX` escape of a JSON text (an escaped backslash is skipped whole, so `\\u001F`,
/// a backslash and text, stays).
fn lower_case_escapes(json: &mut [u8]) {
    let mut i = 0;
    while i < json.len() {
        if json[i] != b'\\' {
            i += 1;
            continue;
        }
        if json.get(i + 1) == Some(&b'u') {
            for b in json.iter_mut().skip(i + 2).take(4) {
                b.make_ascii_lowercase();
            }
            i += 6;
        } else {
            i += 2;
        }
    }
}

impl Shaper {
    /// Format one record into its message.
    pub fn message(&self, tag: &str, time: EventTime, record: &Value) -> String {
        match &self.message {
            Message::Json { ruby_json } => {
                let mut out = Vec::with_capacity(256);
                record.to_json(&mut out);
                if *ruby_json {
                    lower_case_escapes(&mut out);
                }
                String::from_utf8(out)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
            }
            Message::Keys(keys) => {
                let mut parts = Vec::with_capacity(keys.len());
                for k in keys {
                    let v = record.get(k).map(ruby::to_s).unwrap_or_default();
                    if !v.is_empty() {
                        parts.push(v);
                    }
                }
                parts.join(" ")
            }
            Message::Format(f) => {
                let mut out = Vec::with_capacity(256);
                f.format(tag, time, record, &mut out);
                String::from_utf8_lossy(&out).into_owned()
            }
        }
    }

    /// Shape the entries of a chunk. `fixed` holds the rendered `log_group_name` and
    /// `log_stream_name` (used where the names are [`NameFrom::Fixed`]).
    pub fn shape(&self, entries: Vec<Entry>, fixed: (&str, &str)) -> Shaped {
        let mut shaped = Shaped::default();
        let mut index: HashMap<(String, String), usize> = HashMap::new();
        let limit = self.max_event_size.saturating_sub(EVENT_OVERHEAD).max(4);
        for (i, e) in entries.iter().enumerate() {
            let mut record = match Value::decode(&e.record) {
                Ok((v @ Value::Map(_), _)) => v,
                Ok(_) => {
                    shaped
                        .unroutable
                        .push((i, "the record is not a map".to_string()));
                    continue;
                }
                Err(err) => {
                    shaped
                        .unroutable
                        .push((i, format!("undecodable record: {err}")));
                    continue;
                }
            };
            let Value::Map(map) = &mut record else {
                continue;
            };
            let group = name_of(&self.group, fixed.0, &e.tag, map);
            let stream = name_of(&self.stream, fixed.1, &e.tag, map);
            let tags = self
                .tags_key
                .as_ref()
                .and_then(|(k, rm)| take_key(map, k, *rm));
            let retention = self
                .retention_key
                .as_ref()
                .and_then(|(k, rm)| take_key(map, k, *rm));
            let (Some(group), Some(stream)) = (group, stream) else {
                shaped.unroutable.push((
                    i,
                    "no log group or log stream name in the record (log_group_name_key / log_stream_name_key)".to_string(),
                ));
                continue;
            };
            // Fluentd's drop_empty_record: top-level keys whose value is "" are left out.
            map.retain(|(_, v)| !matches!(v, Value::Str(s) if s.is_empty()));
            let mut message = self.message(&e.tag, e.time, &record);
            let slot = *index
                .entry((group.clone(), stream.clone()))
                .or_insert_with(|| {
                    shaped.streams.push(StreamEvents {
                        group,
                        stream,
                        tags: tags.as_ref().and_then(tags_of),
                        retention: retention.as_ref().and_then(|v| match v {
                            Value::Int(n) => i32::try_from(*n).ok(),
                            Value::Str(s) => s.trim().parse().ok(),
                            _ => None,
                        }),
                        ..Default::default()
                    });
                    shaped.streams.len() - 1
                });
            // As in Fluentd: an empty message is skipped (its group and stream are still made
            // sure of), and max_message_length cuts the others.
            if message.is_empty() {
                shaped.empty += 1;
                continue;
            }
            if let Some(n) = self.max_message_length {
                if let Some((cut, _)) = message.char_indices().nth(n) {
                    message.truncate(cut);
                }
            }
            let ts_ms = (e.time.as_f64() * 1000.0).floor() as i64;
            let out = &mut shaped.streams[slot].events;
            if message.len() <= limit {
                out.push(Event {
                    ts_ms,
                    message,
                    entry: i,
                });
            } else if self.oversize == Oversize::Truncate {
                shaped.truncated += 1;
                message.truncate(floor_boundary(&message, limit));
                out.push(Event {
                    ts_ms,
                    message,
                    entry: i,
                });
            } else {
                shaped.split += 1;
                for part in split_message(&message, limit) {
                    out.push(Event {
                        ts_ms,
                        message: part,
                        entry: i,
                    });
                }
            }
        }
        for s in &mut shaped.streams {
            s.events.sort_by_key(|e| e.ts_ms);
        }
        shaped.entries = entries;
        shaped
    }
}

/// A tags map from a record value (a map of strings).
fn tags_of(v: &Value) -> Option<Vec<(String, String)>> {
    match v {
        Value::Map(pairs) => Some(
            pairs
                .iter()
                .map(|(k, v)| (k.to_text(), v.to_text()))
                .collect(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ruby_json_lowers_unicode_escapes_only() {
        let mut j = br#"{"k":"a\u001Fb\\u001Fc\n\u00AB"}"#.to_vec();
        lower_case_escapes(&mut j);
        assert_eq!(j, br#"{"k":"a\u001fb\\u001Fc\n\u00ab"}"#.to_vec());
    }

    #[test]
    fn message_keys_are_ruby_to_s() {
        let mut sh = shaper(NameFrom::Fixed, NameFrom::Fixed);
        sh.message = Message::Keys(vec!["a".into(), "b".into(), "c".into()]);
        let rec = Value::Map(vec![
            (
                Value::Str("a".into()),
                Value::Map(vec![(Value::Str("k".into()), Value::Int(1))]),
            ),
            (Value::Str("b".into()), Value::Array(vec![Value::Nil])),
            (Value::Str("c".into()), Value::F64(1e20)),
        ]);
        assert_eq!(
            sh.message("t", EventTime::new(0, 0), &rec),
            r#"{"k"=>1} [nil] 1.0e+20"#
        );
    }

    fn rec(pairs: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (Value::Str(k.to_string()), Value::Str(v.to_string())))
                .collect(),
        )
        .encode(&mut out);
        out
    }

    fn shaper(group: NameFrom, stream: NameFrom) -> Shaper {
        Shaper {
            group,
            stream,
            message: Message::Json { ruby_json: false },
            max_message_length: None,
            max_event_size: 1 << 20,
            oversize: Oversize::Split,
            tags_key: None,
            retention_key: None,
        }
    }

    fn entries(list: &[(&str, f64, Vec<u8>)]) -> Vec<Entry> {
        let mut buf = Vec::new();
        for (tag, t, r) in list {
            encode_entry(tag, EventTime::from_f64(*t), r, &mut buf);
        }
        let (e, err) = decode_entries(&buf);
        assert!(err.is_none());
        e
    }

    #[test]
    fn groups_by_key_sorts_by_time_and_drops_empty_values() {
        let s = shaper(
            NameFrom::Key {
                key: "g".into(),
                remove: true,
            },
            NameFrom::Tag,
        );
        let out = s.shape(
            entries(&[
                ("t1", 20.0, rec(&[("g", "a"), ("m", "2"), ("e", "")])),
                ("t1", 10.5, rec(&[("g", "a"), ("m", "1")])),
                ("t2", 5.0, rec(&[("g", "b"), ("m", "3")])),
                ("t2", 5.0, rec(&[("m", "no group")])),
            ]),
            ("g", "s"),
        );
        assert_eq!(out.streams.len(), 2);
        let a = &out.streams[0];
        assert_eq!((a.group.as_str(), a.stream.as_str()), ("a", "t1"));
        assert_eq!(
            a.events
                .iter()
                .map(|e| (e.ts_ms, e.message.as_str()))
                .collect::<Vec<_>>(),
            vec![(10_500, r#"{"m":"1"}"#), (20_000, r#"{"m":"2"}"#)]
        );
        assert_eq!(out.unroutable.len(), 1);
        assert_eq!(out.unroutable[0].0, 3);
    }

    #[test]
    fn oversize_event_is_split_whole_or_truncated() {
        let big = "é".repeat(700); // 1400 bytes
        let mut s = shaper(NameFrom::Fixed, NameFrom::Fixed);
        s.message = Message::Keys(vec!["m".into()]);
        s.max_event_size = 500 + EVENT_OVERHEAD;
        let out = s.shape(entries(&[("t", 1.0, rec(&[("m", &big)]))]), ("g", "s"));
        let parts: Vec<&str> = out.streams[0]
            .events
            .iter()
            .map(|e| e.message.as_str())
            .collect();
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| p.len() <= 500));
        assert_eq!(parts.concat(), big);
        assert_eq!(out.split, 1);
        s.oversize = Oversize::Truncate;
        let out = s.shape(entries(&[("t", 1.0, rec(&[("m", &big)]))]), ("g", "s"));
        assert_eq!(out.streams[0].events.len(), 1);
        assert_eq!(out.streams[0].events[0].message.len(), 500);
    }

    #[test]
    fn message_keys_and_max_message_length() {
        let mut s = shaper(NameFrom::Fixed, NameFrom::Fixed);
        s.message = Message::Keys(vec!["a".into(), "x".into(), "b".into()]);
        s.max_message_length = Some(5);
        let out = s.shape(
            entries(&[
                ("t", 1.0, rec(&[("a", "héllo"), ("b", "world")])),
                ("t", 1.0, rec(&[("c", "none")])),
            ]),
            ("g", "s"),
        );
        assert_eq!(out.streams[0].events[0].message, "héllo");
        assert_eq!(out.empty, 1);
    }
}
