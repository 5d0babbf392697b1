//! [`Decoder`]: the per-connection streaming decoder.

use crate::dispatch::on_message;
use crate::error::DecodeError;
use crate::frame::Frame;
use crate::options::DecoderOptions;
use crate::scan::check_ext;
use bytes::{Buf, BytesMut};
use logferry_msgpack::{json_to_msgpack, Error, EventTime, Scanner};

/// Buffer capacity above which consumed space is returned to the allocator.
const SHRINK_ABOVE: usize = 1 << 20;

/// [`Decoder::read_hint`] sizes reads to the object being received from this length on ...
const HINT_FROM: usize = 32 << 10;
/// ... up to this much at once (a larger object is read in the caller's usual reads) ...
const HINT_AT_MOST: usize = 4 << 20;
/// ... plus this much for what follows the payload (its option map).
const HINT_TAIL: usize = 256;

/// The next top-level object, as msgpack bytes.
enum Obj {
    /// `buf[start..start + len]` of a msgpack connection.
    Range(usize, usize),
    /// A JSON value converted to msgpack, with its size on the wire.
    Converted(Vec<u8>, usize),
}

/// Streaming decoder of one forward connection (msgpack or JSON, sniffed
/// from the first byte). Feed it every read, then drain frames.
#[derive(Debug)]
pub struct Decoder {
    opts: DecoderOptions,
    /// Received bytes; frames are split off it, so a frame's entries can be handed on without
    /// a copy (see [`EventsFrame::tight`](crate::EventsFrame::tight)).
    buf: BytesMut,
    /// The size of the allocation `buf` last moved to (0 before any).
    slab: usize,
    pos: usize,
    json: Option<bool>,
    scanner: Scanner,
    failed: Option<DecodeError>,
}

impl Decoder {
    /// A decoder for a new connection.
    pub fn new(opts: DecoderOptions) -> Self {
        Decoder {
            opts,
            buf: BytesMut::new(),
            slab: 0,
            pos: 0,
            json: None,
            scanner: Scanner::new(),
            failed: None,
        }
    }

    /// The options in force.
    pub fn options(&self) -> &DecoderOptions {
        &self.opts
    }

    /// Append received bytes (compacting the consumed prefix first). Errors
    /// when the pending object already exceeds `max_object_size`.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), DecodeError> {
        self.read_buffer(data.len())?.extend_from_slice(data);
        self.commit_read()
    }

    /// How much to read next, at most `max`: when the object being received is large and the
    /// scan knows its length (a PackedForward payload's header arrived), the rest of it and a
    /// little more (its option), so that the object ends its receive buffer and the buffer
    /// holds little else while the object's entries are kept (see
    /// [`EventsFrame::tight`](crate::EventsFrame::tight)).
    pub fn read_hint(&self, max: usize) -> usize {
        if self.json != Some(false) {
            return max;
        }
        let known = self.scanner.known_len();
        let buffered = self.buffered();
        if known < HINT_FROM || known > self.opts.max_object_size || known <= buffered {
            return max;
        }
        let rest = known - buffered + HINT_TAIL;
        if rest > HINT_AT_MOST {
            max
        } else {
            rest
        }
    }

    /// Zero-copy alternative to [`feed`](Self::feed): compact the consumed prefix, reserve
    /// `want` bytes and return the buffer for the caller to append received bytes to (e.g. with
    /// `read_buf`); then call [`commit_read`](Self::commit_read). The buffer must only be
    /// appended to.
    pub fn read_buffer(&mut self, want: usize) -> Result<&mut BytesMut, DecodeError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        self.compact();
        let before = self.buf.as_ptr();
        self.buf.reserve(want);
        if self.buf.as_ptr() != before {
            self.slab = self.buf.capacity();
        }
        Ok(&mut self.buf)
    }

    /// Check what was appended to [`read_buffer`](Self::read_buffer). Errors when the pending
    /// object already exceeds `max_object_size`.
    pub fn commit_read(&mut self) -> Result<(), DecodeError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.json.is_none() {
            self.json = self.buf.first().map(|b| matches!(b, b'{' | b'['));
        }
        if self.buffered() > self.opts.max_object_size {
            let pending = if self.json == Some(true) {
                self.json_next().map(|o| o.is_none())
            } else {
                match self.scan() {
                    Ok(len) => Ok(len > self.opts.max_object_size),
                    Err(DecodeError::Msgpack(Error::Incomplete)) => Ok(true),
                    // reported by next_frame
                    Err(_) => Ok(false),
                }
            };
            if pending.unwrap_or(false) {
                return self.fail(DecodeError::ObjectTooLarge);
            }
        }
        Ok(())
    }

    /// Give the buffer's memory back when nothing is pending, so that an idle connection holds
    /// no receive buffer. Returns whether it did.
    pub fn release_if_idle(&mut self) -> bool {
        if self.buffered() > 0 || self.buf.capacity() == 0 {
            return false;
        }
        self.buf = BytesMut::new();
        self.slab = 0;
        self.pos = 0;
        true
    }

    fn compact(&mut self) {
        if self.pos > 0 {
            self.buf.advance(self.pos);
            self.pos = 0;
        }
        // give back memory after an unusually large object
        if self.buf.capacity() > SHRINK_ABOVE && self.buf.len() < self.buf.capacity() / 4 {
            let mut small = BytesMut::with_capacity(self.buf.len().max(SHRINK_ABOVE / 4));
            small.extend_from_slice(&self.buf);
            self.slab = small.capacity();
            self.buf = small;
        }
    }

    /// Decode the next frame. `Ok(None)`: more bytes are needed. `Err`: close
    /// the connection (frames already returned stay valid). `now` replaces
    /// zero event times.
    pub fn next_frame(&mut self, now: EventTime) -> Result<Option<Frame>, DecodeError> {
        let Some(obj) = self.next_object()? else {
            return Ok(None);
        };
        let json = self.json == Some(true);
        let res = match &obj {
            Obj::Range(start, len) => {
                // The object is split off the buffer (with what was consumed before it), so its
                // entries can be handed on as they are.
                let taken = self.buf.split_to(self.pos.min(self.buf.len())).freeze();
                self.pos = 0;
                let frame = taken.slice(*start..(start + len).min(taken.len()));
                on_message(
                    &frame,
                    Some((&frame, self.slab)),
                    *len,
                    &self.opts,
                    now,
                    json,
                )
            }
            Obj::Converted(raw, wire) => on_message(raw, None, *wire, &self.opts, now, json),
        };
        match res {
            Ok(frame) => Ok(Some(frame)),
            Err(e) => self.fail(e),
        }
    }

    /// The next whole top-level object as raw msgpack (a JSON value is
    /// converted), without interpreting it; used for the handshake PING.
    pub fn next_raw(&mut self) -> Result<Option<Vec<u8>>, DecodeError> {
        Ok(self.next_object()?.map(|obj| match obj {
            Obj::Range(start, len) => self
                .buf
                .get(start..start + len)
                .unwrap_or_default()
                .to_vec(),
            Obj::Converted(raw, _) => raw,
        }))
    }

    /// `Some(true)` for a JSON connection (first byte `{` or `[`),
    /// `Some(false)` for msgpack, `None` before any byte arrived.
    pub fn is_json(&self) -> Option<bool> {
        self.json
    }

    /// Append the reply for an ack value taken from
    /// [`EventsFrame::ack`](crate::EventsFrame::ack): msgpack
    /// `81 A3 "ack" <ack>` or JSON `{"ack":<ack>}`.
    pub fn encode_ack(&self, ack: &[u8], out: &mut Vec<u8>) {
        if self.json == Some(true) {
            out.extend_from_slice(b"{\"ack\":");
            out.extend_from_slice(ack);
            out.push(b'}');
        } else {
            out.extend_from_slice(&[0x81, 0xa3, b'a', b'c', b'k']);
            out.extend_from_slice(ack);
        }
    }

    /// Bytes received but not consumed yet.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn fail<T>(&mut self, e: DecodeError) -> Result<T, DecodeError> {
        self.failed = Some(e.clone());
        Err(e)
    }

    fn scan(&mut self) -> Result<usize, DecodeError> {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        self.scanner.scan_with(rest, check_ext)
    }

    /// Find and consume the next object.
    fn next_object(&mut self) -> Result<Option<Obj>, DecodeError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.buffered() == 0 {
            return Ok(None);
        }
        if self.json == Some(true) {
            return match self.json_next() {
                Ok(Some((raw, consumed, wire))) => {
                    self.pos += consumed;
                    Ok(Some(Obj::Converted(raw, wire)))
                }
                Ok(None) if self.buffered() > self.opts.max_object_size => {
                    self.fail(DecodeError::ObjectTooLarge)
                }
                Ok(None) => Ok(None),
                Err(e) => self.fail(e),
            };
        }
        match self.scan() {
            Ok(len) if len > self.opts.max_object_size => self.fail(DecodeError::ObjectTooLarge),
            Ok(len) => {
                let start = self.pos;
                self.pos += len;
                self.scanner.reset();
                Ok(Some(Obj::Range(start, len)))
            }
            Err(DecodeError::Msgpack(Error::Incomplete)) => {
                if self.buffered() > self.opts.max_object_size {
                    self.fail(DecodeError::ObjectTooLarge)
                } else {
                    Ok(None)
                }
            }
            Err(e) => self.fail(e),
        }
    }

    /// Parse the next JSON value without consuming it: `Ok(None)` when
    /// incomplete, else its msgpack form, the bytes to consume (leading
    /// whitespace included) and its own size. Whitespace alone is consumed.
    fn json_next(&mut self) -> Result<Option<(Vec<u8>, usize, usize)>, DecodeError> {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        let blank = rest
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
            .count();
        let mut stream =
            serde_json::Deserializer::from_slice(rest).into_iter::<serde_json::Value>();
        match stream.next() {
            None => {
                self.pos = self.buf.len();
                Ok(None)
            }
            Some(Ok(v)) => {
                let mut raw = Vec::new();
                json_to_msgpack(&v, &mut raw);
                let end = stream.byte_offset();
                Ok(Some((raw, end, end.saturating_sub(blank))))
            }
            Some(Err(e)) if e.is_eof() => Ok(None),
            Some(Err(e)) => Err(DecodeError::Json(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{packed_forward, Compression};
    use crate::frame::Frame;

    fn frame(entries: usize) -> Vec<u8> {
        let mut blob = Vec::new();
        for i in 0..entries {
            blob.push(0x92);
            EventTime::new(1_700_000_000, i as u32).encode(&mut blob);
            blob.extend_from_slice(&[0x81, 0xa1, b'k', 0xa8]);
            blob.extend_from_slice(b"abcdefgh");
        }
        let mut raw = Vec::new();
        packed_forward("t", &blob, entries, Some("c"), Compression::Text, &mut raw);
        raw
    }

    // A large frame whose payload header arrived: the next read asks for the rest of it and a
    // little more, so the frame ends its buffer and is then taken as it is.
    #[test]
    fn reads_are_sized_to_a_large_frame_being_received() {
        let big = frame(3000); // ~72 kB
        let mut d = Decoder::new(DecoderOptions::default());
        assert_eq!(d.read_hint(1000), 1000, "nothing received yet");
        d.feed(&big[..100]).unwrap();
        assert!(d.next_frame(EventTime::default()).unwrap().is_none());
        let want = d.read_hint(1000);
        assert_eq!(
            want,
            big.len() - 100 + HINT_TAIL - (big.len() - blob_end(&big))
        );
        // Read exactly that (the rest of the frame, and nothing follows yet).
        d.feed(&big[100..]).unwrap();
        let Some(Frame::Events(ev)) = d.next_frame(EventTime::default()).unwrap() else {
            panic!("a frame")
        };
        assert_eq!(ev.count, 3000);
        assert!(ev.tight, "the frame is most of its buffer");
        assert_eq!(d.read_hint(1000), 1000, "between frames: the usual reads");
        // Small frames, JSON connections and lengths over max_object_size: the usual reads.
        let small = frame(10);
        let mut d = Decoder::new(DecoderOptions::default());
        d.feed(&small[..40]).unwrap();
        assert!(d.next_frame(EventTime::default()).unwrap().is_none());
        assert_eq!(d.read_hint(1000), 1000);
        let mut d = Decoder::new(DecoderOptions {
            max_object_size: 50_000,
            ..Default::default()
        });
        d.feed(&big[..100]).unwrap();
        assert!(d.next_frame(EventTime::default()).unwrap().is_none());
        assert_eq!(d.read_hint(1000), 1000);
        let mut d = Decoder::new(DecoderOptions::default());
        d.feed(b"[\"t\", [[1, {\"k\": 1}]").unwrap();
        assert!(d.next_frame(EventTime::default()).unwrap().is_none());
        assert_eq!(d.read_hint(1000), 1000);
    }

    /// Where the payload of a `[tag, bin32, option]` frame ends.
    fn blob_end(raw: &[u8]) -> usize {
        let tag_len = usize::from(raw[1] & 0x1f);
        let at = 2 + tag_len;
        assert_eq!(raw[at], 0xdb);
        let len = u32::from_be_bytes(raw[at + 1..at + 5].try_into().unwrap()) as usize;
        at + 5 + len
    }
}
