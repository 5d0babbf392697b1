//! Shared helpers for the forward codec tests.
#![allow(dead_code)]

use logferry_forward::{DecodeError, Decoder, DecoderOptions, EventsFrame, Frame};
use logferry_msgpack::{read_time, write, EventTime, Reader, Value};

/// The `now` passed to every decoder in tests.
pub const NOW: EventTime = EventTime {
    sec: 1_800_000_000,
    nsec: 7,
};

/// Feed `bytes` in one piece and drain every frame; the error (if any) ends the list.
pub fn decode_with(opts: DecoderOptions, bytes: &[u8]) -> (Vec<Frame>, Option<DecodeError>) {
    decode_chunks(opts, &[bytes])
}

/// Feed the chunks one by one, draining frames after each.
pub fn decode_chunks(opts: DecoderOptions, chunks: &[&[u8]]) -> (Vec<Frame>, Option<DecodeError>) {
    let mut d = Decoder::new(opts);
    let mut frames = Vec::new();
    for c in chunks {
        if let Err(e) = d.feed(c) {
            return (frames, Some(e));
        }
        loop {
            match d.next_frame(NOW) {
                Ok(Some(f)) => frames.push(f),
                Ok(None) => break,
                Err(e) => return (frames, Some(e)),
            }
        }
    }
    (frames, None)
}

/// Decode with default options and expect no error.
pub fn decode(bytes: &[u8]) -> Vec<Frame> {
    let (frames, err) = decode_with(DecoderOptions::default(), bytes);
    assert_eq!(err, None);
    frames
}

/// The only frame, which must be `Events`.
pub fn single_events(bytes: &[u8]) -> EventsFrame {
    let mut frames = decode(bytes);
    assert_eq!(frames.len(), 1, "{frames:?}");
    match frames.pop() {
        Some(Frame::Events(e)) => e,
        other => panic!("expected events, got {other:?}"),
    }
}

/// Parse normalized entries back into (time, record) pairs, checking the
/// exact `92 D7 00 …` layout.
pub fn events(f: &EventsFrame) -> Vec<(EventTime, Value)> {
    let mut r = Reader::new(&f.entries);
    let mut out = Vec::new();
    for _ in 0..f.count {
        assert_eq!(r.remaining().get(..3), Some(&[0x92, 0xd7, 0x00][..]));
        assert_eq!(r.read_array_len().unwrap(), 2);
        let t = read_time(&mut r).unwrap().unwrap();
        let rec = r.read_raw().unwrap();
        out.push((t, Value::decode(rec).unwrap().0));
    }
    assert!(r.is_empty(), "trailing bytes in entries");
    out
}

/// `{"a": n}`-style record with one int value.
pub fn rec(key: &str, v: i64) -> Vec<u8> {
    let mut b = Vec::new();
    write::map_len(&mut b, 1);
    write::str(&mut b, key);
    write::int(&mut b, v);
    b
}

/// The Value of `{key: v}`.
pub fn rec_value(key: &str, v: i64) -> Value {
    Value::Map(vec![(Value::Str(key.into()), Value::Int(v))])
}

/// Seconds-only time.
pub fn t(sec: u32) -> EventTime {
    EventTime::new(sec, 0)
}

/// Parse a hex string with optional spaces.
pub fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}
