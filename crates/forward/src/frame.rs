//! Decoded frames: what one top-level object of a connection meant.

/// Forward protocol mode of an events frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// `[tag, time, record, option?]`.
    Message,
    /// `[tag, [[time, record], ...], option?]`.
    Forward,
    /// `[tag, str|bin of back-to-back entries, option?]`.
    PackedForward,
    /// PackedForward whose payload is gzip-compressed.
    CompressedPackedForward,
}

/// Events of one top-level object, normalized.
#[derive(Clone, Debug)]
pub struct EventsFrame {
    /// The tag (lossy UTF-8); empty when the tag was not a string.
    pub tag: String,
    /// `count` back-to-back msgpack arrays
    /// `92 D7 00 <sec BE u32> <nsec BE u32> <record map raw bytes verbatim>`: a PackedForward
    /// payload already in that form is the received bytes themselves (no copy).
    pub entries: bytes::Bytes,
    /// `entries` is most of the allocation it lives in (a copy of its own, or a good part of
    /// the receive buffer), so a buffer may keep it instead of a copy without holding much
    /// more memory than it counts.
    pub tight: bool,
    /// End offset in `entries` of each entry (so the router need not re-scan them).
    pub ends: Vec<u32>,
    /// Kept entries.
    pub count: usize,
    /// Dropped invalid entries.
    pub invalid: usize,
    /// The `chunk` option value to echo in the ack: raw msgpack bytes of the
    /// value (msgpack connection) or its JSON text (JSON connection).
    pub ack: Option<Vec<u8>>,
    /// The mode of the object.
    pub mode: Mode,
    /// Size of the object on the wire.
    pub wire_size: usize,
    /// `wire_size` is over `chunk_size_warn_limit`.
    pub over_warn_limit: bool,
}

impl PartialEq for EventsFrame {
    /// The same events and replies (how `entries` is allocated, `tight`, aside).
    fn eq(&self, o: &Self) -> bool {
        (
            &self.tag,
            &self.entries,
            &self.ends,
            self.count,
            self.invalid,
            &self.ack,
            self.mode,
            self.wire_size,
            self.over_warn_limit,
        ) == (
            &o.tag,
            &o.entries,
            &o.ends,
            o.count,
            o.invalid,
            &o.ack,
            o.mode,
            o.wire_size,
            o.over_warn_limit,
        )
    }
}

/// One decoded top-level object.
#[derive(Clone, Debug, PartialEq)]
pub enum Frame {
    /// Top-level nil: a TCP heartbeat, no reply.
    Heartbeat,
    /// Not an array: warn ("incoming chunk is broken"), ignore, stay open.
    NotArray,
    /// Events (possibly zero of them) and maybe an ack to send.
    Events(EventsFrame),
    /// Over `chunk_size_limit`: object dropped, no ack.
    TooLarge {
        /// Size of the object on the wire.
        size: usize,
    },
}
