//! Chunk identity and metadata, shared by the memory and file stores.

use std::fmt;

/// A chunk id: 16 bytes, `(epoch_µs << 12 | rand12)` as u64 BE followed by 8 random bytes, as
/// Fluentd's `unique_id` (so ids sort by creation time).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChunkId(pub [u8; 16]);

impl ChunkId {
    /// A new id for now.
    pub fn generate() -> Self {
        let us = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as u64)
            .unwrap_or(0);
        let r: u64 = rand::random();
        let head = (us << 12) | (r & 0xfff);
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&head.to_be_bytes());
        id[8..].copy_from_slice(&rand::random::<[u8; 8]>());
        ChunkId(id)
    }

    /// The 32 lowercase hex digits.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parse 32 hex digits.
    pub fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let mut id = [0u8; 16];
        for (i, b) in id.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(ChunkId(id))
    }
}

impl fmt::Debug for ChunkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

/// What a chunk holds: the values of the chunk keys, and counters.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ChunkMeta {
    /// Start of the time slice (chunk key `time`), seconds since the epoch.
    pub timekey: Option<i64>,
    /// The tag (chunk key `tag`).
    pub tag: Option<String>,
    /// Record-key chunk keys and their values (Ruby's `to_s`, as placeholders write them), in
    /// key order.
    pub variables: Vec<(String, String)>,
    /// The Ruby class of each of `variables`' values ([`value_kind`]): Fluentd keys chunks by
    /// the values themselves, so nil and `""`, or `1` and `"1"`, are two chunks. Empty when
    /// not known (a chunk resumed from disk), then only the texts are compared.
    pub variable_kinds: Vec<u8>,
    /// Fluentd's `seq` (kept for compatibility; 0).
    pub seq: u64,
    /// Records appended and committed.
    pub records: u64,
    /// Bytes appended and committed (after compression when the buffer compresses).
    pub bytes: u64,
    /// Creation time, seconds since the epoch.
    pub created: i64,
    /// Last commit time, seconds since the epoch.
    pub modified: i64,
}

impl ChunkMeta {
    /// Do two chunks hold events of the same keys?
    pub fn same_keys(&self, other: &ChunkMeta) -> bool {
        self.timekey == other.timekey
            && self.tag == other.tag
            && self.variables == other.variables
            && self.variable_kinds == other.variable_kinds
    }
}

/// The kind of a record value a chunk key reads, by Ruby class (`raw` is its msgpack, `None`
/// a missing key, which is nil): nil, boolean, Integer, Float, String (str or bin), Array, Hash,
/// or an extension (EventTime). Two values of different kinds are different chunk keys even where
/// their texts are the same.
pub fn value_kind(raw: Option<&[u8]>) -> u8 {
    match raw.and_then(|r| r.first()) {
        None | Some(0xc0) => 0,
        Some(0xc2 | 0xc3) => 1,
        Some(0x00..=0x7f | 0xe0..=0xff | 0xcc..=0xd3) => 2,
        Some(0xca | 0xcb) => 3,
        Some(0xa0..=0xbf | 0xd9..=0xdb | 0xc4..=0xc6) => 4,
        Some(0x90..=0x9f | 0xdc | 0xdd) => 5,
        Some(0x80..=0x8f | 0xde | 0xdf) => 6,
        Some(_) => 7,
    }
}
