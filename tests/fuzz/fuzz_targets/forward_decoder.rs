//! The forward protocol decoder: every mode (Message, Forward, PackedForward,
//! CompressedPackedForward, JSON connections, heartbeats), fed in pieces split at
//! fuzzer-chosen points, with small size caps so that no allocation is sized from a
//! length field. Byte 0 picks options and how the rest is framed; bytes 1..3 split.
//!
//! Framings (bits 4-5 of byte 0):
//!   0: the rest is the raw connection stream (msgpack, or JSON when it starts with `{`/`[`);
//!   1: `[tag, bin(gzip(rest)), {"compressed": "gzip", "chunk": ..}]`, so the fuzzer controls
//!      the decompressed entries;
//!   2: `[tag, bin(rest), {"size": 1, "chunk": ..}]` (PackedForward, plain);
//!   3: `[tag, bin(gzip(a) ++ gzip(b) or gzip(a) ++ b), {"compressed": "gzip"}]` (several gzip
//!      members, or a member followed by garbage), `a`/`b` split at the split point.
//!
//! Every frame's entries are `count` values ending where `ends` says, and no Message or Forward
//! record in them repeats a map key (in_forward folds such maps as Fluentd reads them).
#![no_main]

use libfuzzer_sys::fuzz_target;
use logferry_forward::encode::gzip;
use logferry_forward::{Decoder, DecoderOptions, EventTime, Frame, Mode};
use logferry_msgpack::{has_repeated_keys, value_len, write};

const NOW: EventTime = EventTime {
    sec: 1_700_000_000,
    nsec: 0,
};

fn wrap(payload: &[u8], gzipped: bool, chunk: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 64);
    write::array_len(&mut out, 3);
    write::str(&mut out, "fuzz.tag");
    write::bin(&mut out, payload);
    write::map_len(&mut out, 1 + u32::from(gzipped) + u32::from(chunk));
    write::str(&mut out, "size");
    write::uint(&mut out, 1);
    if gzipped {
        write::str(&mut out, "compressed");
        write::str(&mut out, "gzip");
    }
    if chunk {
        write::str(&mut out, "chunk");
        write::str(&mut out, "Y2h1bmstaWQ=");
    }
    out
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let (head, rest) = data.split_at(3);
    let flags = head[0];
    let split = usize::from(u16::from_le_bytes([head[1], head[2]]));
    let opts = DecoderOptions {
        skip_invalid_event: flags & 1 != 0,
        chunk_size_limit: (flags & 2 != 0).then_some(512),
        chunk_size_warn_limit: (flags & 4 != 0).then_some(64),
        // 1 KiB or 64 KiB: both far below what a forged length field could ask for.
        decompression_size_limit: if flags & 8 != 0 { 1 << 10 } else { 64 << 10 },
        max_object_size: if flags & 0x40 != 0 { 1 << 10 } else { 64 << 10 },
    };
    let stream = match (flags >> 4) & 3 {
        0 => rest.to_vec(),
        1 => wrap(&gzip(rest), true, flags & 0x80 != 0),
        2 => wrap(rest, false, flags & 0x80 != 0),
        _ => {
            let at = split % (rest.len() + 1);
            let (a, b) = rest.split_at(at);
            let mut payload = gzip(a);
            if flags & 0x80 != 0 {
                payload.extend_from_slice(&gzip(b));
            } else {
                payload.extend_from_slice(b);
            }
            wrap(&payload, true, false)
        }
    };

    // Feed in up to three pieces; drain frames after each.
    let at1 = split % (stream.len() + 1);
    let at2 = at1 + (split / 7) % (stream.len() - at1 + 1);
    let mut dec = Decoder::new(opts);
    let mut replies = Vec::new();
    for piece in [&stream[..at1], &stream[at1..at2], &stream[at2..]] {
        if dec.feed(piece).is_err() {
            return;
        }
        loop {
            match dec.next_frame(NOW) {
                Ok(Some(Frame::Events(ev))) => {
                    // `entries` must be exactly `count` back-to-back msgpack values.
                    // Each ends where `ends` says, and in Message and Forward modes no record map
                    // repeats a key (folded; PackedForward streams are folded by the router).
                    let packed =
                        matches!(ev.mode, Mode::PackedForward | Mode::CompressedPackedForward);
                    let mut off = 0;
                    for i in 0..ev.count {
                        let n = value_len(&ev.entries[off..]).expect("entries hold valid msgpack");
                        assert!(packed || !has_repeated_keys(&ev.entries[off + 11..off + n]));
                        off += n;
                        assert_eq!(ev.ends[i] as usize, off, "ends match the entries");
                    }
                    assert_eq!(off, ev.entries.len(), "entries hold exactly `count` values");
                    if let Some(ack) = &ev.ack {
                        dec.encode_ack(ack, &mut replies);
                    }
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});
