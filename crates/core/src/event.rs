//! The event representation: a batch of entries kept as msgpack bytes.
//!
//! A batch is `count` back-to-back msgpack arrays `[EventTime, record]`, each encoded as
//! `92 D7 00 <sec u32 BE> <nsec u32 BE> <record map>` — the same bytes a Fluentd PackedForward
//! chunk carries. The forward input produces this form directly from the wire, the router passes it
//! along without decoding, and a record is decoded only by a plugin that needs its fields.

use std::sync::Arc;

use bytes::Bytes;
use logferry_msgpack::{value_len, EventTime, Value};

/// Bytes of an entry header: array(2) marker plus the fixext8 EventTime.
const HEADER_LEN: usize = 1 + 2 + 8;

/// An immutable, cheaply clonable batch of events that share one tag.
///
/// Besides the bytes it keeps where each entry ends (4 bytes per event, computed once when the
/// batch is made), so that every plugin iterating the batch gets each record's bounds without
/// re-scanning the msgpack structure.
#[derive(Clone, Debug, Default)]
pub struct EventBatch {
    data: Bytes,
    count: usize,
    /// End offset in `data` of each well-formed entry, in order.
    ends: Arc<[u32]>,
    /// `data` is an allocation of its own, at most an eighth larger (see [`EventBatch::is_tight`]).
    tight: bool,
    /// The records may hold maps that repeat a key, as a PackedForward stream came (see
    /// [`EventBatch::folded`]).
    unfolded: bool,
}

impl PartialEq for EventBatch {
    /// The same events (how the bytes are allocated aside).
    fn eq(&self, other: &Self) -> bool {
        self.data == other.data && self.count == other.count && self.ends == other.ends
    }
}

/// True when `v`'s allocation is at most an eighth larger than its bytes.
fn is_tight(v: &[u8], capacity: usize) -> bool {
    capacity - v.len() <= v.len() / 8
}

/// End offsets of the well-formed entries at the start of `data` (stopping at the first one
/// that is not `92 D7 00 <time> <map>`).
fn index(data: &[u8], count: usize) -> Arc<[u32]> {
    let mut ends = Vec::with_capacity(count);
    let mut pos = 0usize;
    while pos < data.len() {
        let b = &data[pos..];
        if b.len() < HEADER_LEN || b[0] != 0x92 || b[1] != 0xd7 || b[2] != 0 {
            break;
        }
        let Ok(n) = value_len(&b[HEADER_LEN..]) else {
            break;
        };
        pos += HEADER_LEN + n;
        let Ok(end) = u32::try_from(pos) else {
            break;
        };
        ends.push(end);
    }
    ends.into()
}

/// One event of a batch, borrowed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Entry<'a> {
    /// The event time.
    pub time: EventTime,
    /// The record: the raw bytes of one msgpack map.
    pub record: &'a [u8],
}

impl Entry<'_> {
    /// Decode the record into a [`Value`] (a map).
    pub fn decode_record(&self) -> Value {
        match Value::decode(self.record) {
            Ok((v, _)) => v,
            Err(_) => Value::Map(Vec::new()),
        }
    }
}

impl EventBatch {
    /// Wrap bytes already in normalized entry form (as produced by the forward decoder or a
    /// [`BatchBuilder`]). Entries that do not have that form are skipped when iterating.
    pub fn from_normalized(data: impl Into<Bytes>, count: usize) -> Self {
        let data = data.into();
        let ends = index(&data, count);
        EventBatch {
            data,
            count,
            ends,
            tight: false,
            unfolded: false,
        }
    }

    /// Wrap normalized entry bytes with the end offset of each entry, as the forward decoder
    /// produces them. Offsets that are out of order or out of bounds end the batch there.
    pub fn from_indexed(data: impl Into<Bytes>, ends: Vec<u32>) -> Self {
        let data: Bytes = data.into();
        let mut prev = 0u32;
        let valid = ends
            .iter()
            .take_while(|&&e| {
                let ok = e as usize <= data.len() && e as usize >= prev as usize + HEADER_LEN;
                prev = e;
                ok
            })
            .count();
        let mut ends = ends;
        ends.truncate(valid);
        EventBatch {
            data,
            count: ends.len(),
            ends: ends.into(),
            tight: false,
            unfolded: false,
        }
    }

    /// [`from_indexed`](Self::from_indexed) for bytes whose owner says whether they are tight
    /// (see [`is_tight`](Self::is_tight)): the forward decoder's frames.
    pub fn from_indexed_tight(data: Bytes, ends: Vec<u32>, tight: bool) -> Self {
        EventBatch {
            tight,
            ..Self::from_indexed(data, ends)
        }
    }

    /// Mark the records as maps that may repeat a key, as in_forward takes a PackedForward
    /// stream: Fluentd keeps such a stream's bytes until something reads a record, so a stream
    /// that out_forward sends on untouched keeps its repeated keys, and one that a filter or
    /// formatter reads is read as Ruby Hashes ([`folded`](Self::folded)).
    pub fn with_unfolded(mut self, unfolded: bool) -> Self {
        self.unfolded = unfolded;
        self
    }

    /// True for a batch marked by [`with_unfolded`](Self::with_unfolded) and not folded since.
    pub fn is_unfolded(&self) -> bool {
        self.unfolded
    }

    /// The batch with each record map that repeats a key folded as Fluentd's Hash holds it
    /// (each key once, at its first place, with its last value); itself (no longer marked) when
    /// none does or it is not marked. Each record is walked once; only those with a repeat are
    /// copied, into a new batch.
    pub fn folded(self) -> Self {
        if !self.unfolded {
            return self;
        }
        match logferry_msgpack::fold_records(&self.data, &self.ends, HEADER_LEN) {
            Some((data, ends)) => EventBatch {
                data: Bytes::from(data),
                count: ends.len(),
                ends: ends.into(),
                tight: true,
                unfolded: false,
            },
            None => EventBatch {
                unfolded: false,
                ..self
            },
        }
    }

    /// True when the batch's bytes are an allocation of their own, at most an eighth larger
    /// than they are: a store may keep them (or large slices of them) instead of a copy without
    /// holding much more memory than it counts. False for batches sliced from larger ones.
    pub fn is_tight(&self) -> bool {
        self.tight
    }

    /// A batch of a single event.
    pub fn single(time: EventTime, record: &[u8]) -> Self {
        let mut b = BatchBuilder::with_capacity(HEADER_LEN + record.len());
        b.push_raw(time, record);
        b.finish()
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when the batch holds no event.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The normalized entry bytes (a PackedForward payload).
    pub fn bytes(&self) -> &Bytes {
        &self.data
    }

    /// End offset in [`bytes`](Self::bytes) of each well-formed entry, in order.
    pub fn ends(&self) -> &[u32] {
        &self.ends
    }

    /// Iterate over the events without decoding records.
    pub fn iter(&self) -> Entries<'_> {
        Entries {
            data: &self.data,
            ends: &self.ends,
            start: 0,
        }
    }
}

impl<'a> IntoIterator for &'a EventBatch {
    type Item = Entry<'a>;
    type IntoIter = Entries<'a>;
    fn into_iter(self) -> Entries<'a> {
        self.iter()
    }
}

/// Iterator over the entries of a batch.
pub struct Entries<'a> {
    data: &'a [u8],
    ends: &'a [u32],
    start: usize,
}

impl<'a> Iterator for Entries<'a> {
    type Item = Entry<'a>;

    fn next(&mut self) -> Option<Entry<'a>> {
        let (&end, rest) = self.ends.split_first()?;
        self.ends = rest;
        let b = self.data.get(self.start..end as usize)?;
        self.start = end as usize;
        if b.len() < HEADER_LEN {
            return None;
        }
        let sec = u32::from_be_bytes([b[3], b[4], b[5], b[6]]);
        let nsec = u32::from_be_bytes([b[7], b[8], b[9], b[10]]);
        Some(Entry {
            time: EventTime::new(sec, nsec),
            record: &b[HEADER_LEN..],
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.ends.len(), Some(self.ends.len()))
    }
}

/// Builds a batch by appending events; one allocation grows for the whole batch.
#[derive(Debug, Default)]
pub struct BatchBuilder {
    buf: Vec<u8>,
    count: usize,
    ends: Vec<u32>,
}

impl BatchBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty builder with room for `bytes` bytes.
    pub fn with_capacity(bytes: usize) -> Self {
        BatchBuilder {
            buf: Vec::with_capacity(bytes),
            count: 0,
            ends: Vec::new(),
        }
    }

    /// Append an event whose record is raw msgpack map bytes.
    pub fn push_raw(&mut self, time: EventTime, record: &[u8]) {
        self.buf.push(0x92);
        time.encode(&mut self.buf);
        self.buf.extend_from_slice(record);
        self.end_entry();
    }

    /// Append an event whose record is a decoded value.
    pub fn push_value(&mut self, time: EventTime, record: &Value) {
        self.buf.push(0x92);
        time.encode(&mut self.buf);
        record.encode(&mut self.buf);
        self.end_entry();
    }

    /// Append an event by writing the record with a closure into the batch buffer.
    pub fn push_with(&mut self, time: EventTime, write_record: impl FnOnce(&mut Vec<u8>)) {
        self.buf.push(0x92);
        time.encode(&mut self.buf);
        write_record(&mut self.buf);
        self.end_entry();
    }

    fn end_entry(&mut self) {
        self.count += 1;
        // Past 4 GiB the index stops (no batch gets near: frames are limited far below).
        if let Ok(end) = u32::try_from(self.buf.len()) {
            if self.ends.len() + 1 == self.count {
                self.ends.push(end);
            }
        }
    }

    /// Number of events so far.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when nothing was appended.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Finish into an immutable batch.
    pub fn finish(self) -> EventBatch {
        let tight = is_tight(&self.buf, self.buf.capacity());
        EventBatch {
            data: Bytes::from(self.buf),
            count: self.count,
            ends: self.ends.into(),
            tight,
            unfolded: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_and_iterate() {
        let mut b = BatchBuilder::new();
        let mut rec = Vec::new();
        Value::Map(vec![(Value::Str("a".into()), Value::Int(1))]).encode(&mut rec);
        b.push_raw(EventTime::new(1_700_000_000, 5), &rec);
        b.push_value(EventTime::new(1, 2), &Value::Map(vec![]));
        let batch = b.finish();
        assert_eq!(batch.len(), 2);
        let v: Vec<_> = batch.iter().collect();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].time, EventTime::new(1_700_000_000, 5));
        assert_eq!(v[0].record, &rec[..]);
        assert_eq!(v[0].decode_record().get("a"), Some(&Value::Int(1)));
        assert_eq!(v[1].record, &[0x80]);
    }

    #[test]
    fn garbage_stops_iteration() {
        let batch = EventBatch::from_normalized(vec![0x92, 0xd7, 0, 1, 2], 1);
        assert_eq!(batch.iter().count(), 0);
    }
}
