//! `on_message`: turning one whole top-level object into a [`Frame`].

use crate::entries::{is_array, is_map, Entries, KEPT_HEADER};
use crate::error::DecodeError;
use crate::frame::{EventsFrame, Frame, Mode};
use crate::option::{lookup, truthy};
use crate::options::DecoderOptions;
use crate::packed::{canonical_ends, decode_blob, gunzip};
use bytes::Bytes;
use logferry_msgpack::{fold_records, walk_keys, write_json, EventTime, Reader};

/// Interpret one validated top-level msgpack object. `wire_size` is its size
/// on the wire; `json` selects the ack representation. `shared`: `raw` as shared bytes, and
/// the size of the allocation they are in, so that a PackedForward payload already in the form
/// entries are kept in is taken without a copy.
pub(crate) fn on_message(
    raw: &[u8],
    shared: Option<(&Bytes, usize)>,
    wire_size: usize,
    opts: &DecoderOptions,
    now: EventTime,
    json: bool,
) -> Result<Frame, DecodeError> {
    let mut r = Reader::new(raw);
    if r.peek() == Some(0xc0) {
        return Ok(Frame::Heartbeat);
    }
    let Ok(n) = r.read_array_len() else {
        return Ok(Frame::NotArray);
    };
    if opts.chunk_size_limit.is_some_and(|l| wire_size > l) {
        return Ok(Frame::TooLarge { size: wire_size });
    }
    // Each element read whole, noting whether a map in it may repeat a key (`walk_keys`: the
    // record of a Message, the entries of a Forward frame are read as Fluentd reads them).
    let mut msg: [Option<&[u8]>; 4] = [None; 4];
    let mut repeats = [false; 4];
    let mut rest = r.remaining();
    for (slot, maybe) in msg.iter_mut().zip(&mut repeats).take(n as usize) {
        let (len, flagged) = walk_keys(rest, |_, _| Ok::<(), logferry_msgpack::Error>(()))?;
        let (value, tail) = rest.split_at(len);
        (*slot, *maybe, rest) = (Some(value), flagged, tail);
    }
    let tag = msg[0].and_then(|t| Reader::new(t).read_str().ok());
    let strict = opts.skip_invalid_event;
    if tag.is_none() && !strict {
        return Err(DecodeError::InvalidTag);
    }
    let mut entries = Entries::new(now, strict);
    let second = msg[1];
    let marker = second.and_then(|s| s.first().copied());
    let blob = second.and_then(|s| Reader::new(s).read_str().ok());
    let (mode, option) = if let Some(blob) = blob {
        entries.keep_zero = true;
        let option = msg[2];
        // Fluentd reads `(msg[2] || {})['size']`: nil, a map or a string (String#[]) pass, any
        // other value raises and closes the connection.
        let indexable = |o: &[u8]| {
            let m = o.first().copied();
            m == Some(0xc0) || is_map(m) || Reader::new(o).read_str().is_ok()
        };
        if option.is_some_and(|o| !indexable(o)) {
            return Err(DecodeError::InvalidOption);
        }
        let compressed = option
            .and_then(|o| lookup(o, "compressed"))
            .filter(|c| truthy(c));
        let mode = match compressed.map(|c| Reader::new(c).read_str()) {
            None | Some(Ok(b"text")) => {
                let taken = shared.and_then(|(bytes, slab)| {
                    let ends = canonical_ends(blob, tag.is_some(), strict)?;
                    let off = (blob.as_ptr() as usize).checked_sub(raw.as_ptr() as usize)?;
                    let len = *ends.last()? as usize;
                    let data = bytes
                        .get(off..off + len)
                        .map(|_| bytes.slice(off..off + len))?;
                    // The allocation stays alive while the entries are kept: only where they
                    // are a good part of it (at most four such frames share one).
                    let tight = len.saturating_mul(4) >= slab;
                    Some((data, ends, tight))
                });
                match taken {
                    Some((data, ends, tight)) => entries.take_shared(data, ends, tight),
                    None => decode_blob(blob, &mut entries, tag.is_some())?,
                }
                Mode::PackedForward
            }
            Some(Ok(b"gzip")) => {
                let mut plain = gunzip(blob, opts.decompression_size_limit)?;
                // Entries already in the kept form: the decompressed bytes are the batch.
                match canonical_ends(&plain, tag.is_some(), strict) {
                    Some(ends) => {
                        plain.truncate(ends.last().map_or(0, |&e| e as usize));
                        entries.take_owned(plain, ends);
                    }
                    None => decode_blob(&plain, &mut entries, tag.is_some())?,
                }
                Mode::CompressedPackedForward
            }
            Some(_) => {
                let mut name = Vec::new();
                let _ = compressed.map(|c| write_json(c, &mut name));
                return Err(DecodeError::UnsupportedCompression(
                    String::from_utf8_lossy(&name).into_owned(),
                ));
            }
        };
        (mode, option)
    } else if is_array(marker) {
        let mut er = Reader::new(second.unwrap_or_default());
        let count = er.read_array_len()?;
        for _ in 0..count {
            entries.add_entry(er.read_raw()?, tag.is_some());
        }
        entries.maybe_repeated = repeats[1];
        (Mode::Forward, msg[2])
    } else {
        let time = match msg[1] {
            Some(t) => entries.time(t),
            None if !strict => Some(now),
            None => None,
        };
        let record = msg[2].filter(|rec| *rec != [0xc0]);
        match (time, record) {
            // skip_invalid_event false: a nil record is dropped without ack.
            (_, None) if !strict => {
                return Ok(events(tag, entries, None, Mode::Message, wire_size, opts));
            }
            (Some(t), Some(rec)) if tag.is_some() && is_map(rec.first().copied()) => {
                entries.maybe_repeated = repeats[2];
                entries.push(t, rec)
            }
            _ => entries.invalid += 1,
        }
        (Mode::Message, msg[3])
    };
    let ack = option
        .and_then(|o| lookup(o, "chunk"))
        .filter(|c| truthy(c))
        .map(|c| {
            if json {
                let mut text = Vec::new();
                let _ = write_json(c, &mut text);
                text
            } else {
                c.to_vec()
            }
        });
    Ok(events(tag, entries, ack, mode, wire_size, opts))
}

fn events(
    tag: Option<&[u8]>,
    mut entries: Entries,
    ack: Option<Vec<u8>>,
    mode: Mode,
    wire_size: usize,
    opts: &DecoderOptions,
) -> Frame {
    let (mut data, mut tight) = entries.finish();
    if entries.maybe_repeated {
        if let Some((folded, ends)) = fold_records(&data, &entries.ends, KEPT_HEADER) {
            (data, tight, entries.ends) = (Bytes::from(folded), true, ends);
        }
    }
    Frame::Events(EventsFrame {
        tag: tag
            .map(|t| String::from_utf8_lossy(t).into_owned())
            .unwrap_or_default(),
        entries: data,
        tight,
        ends: entries.ends,
        count: entries.count,
        invalid: entries.invalid,
        ack,
        mode,
        wire_size,
        over_warn_limit: opts.chunk_size_warn_limit.is_some_and(|l| wire_size > l),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{packed_forward, Compression};

    fn entry(out: &mut Vec<u8>, time: &[u8], record: &[u8]) {
        out.push(0x92);
        out.extend_from_slice(time);
        out.extend_from_slice(record);
    }

    const T: [u8; 10] = [0xd7, 0, 0x65, 0x53, 0xf1, 0, 0, 0, 0, 7];
    const ZERO: [u8; 10] = [0xd7, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    const REC: [u8; 4] = [0x81, 0xa1, b'k', 1];

    // A payload already in the kept form is taken as it is (the frame's own bytes); any other
    // gives what the copying path gives, and both agree on every field.
    #[test]
    fn canonical_payloads_are_taken_without_a_copy_and_agree_with_the_copy() {
        let mut canonical = Vec::new();
        for _ in 0..3 {
            entry(&mut canonical, &T, &REC);
        }
        entry(&mut canonical, &ZERO, &REC); // zero time: kept in PackedForward
        let mut int_time = canonical.clone();
        entry(&mut int_time, &[0xce, 0x65, 0x53, 0xf1, 0], &REC);
        let mut not_map = canonical.clone();
        entry(&mut not_map, &T, &[0x91, 1]);
        let mut trailing = canonical.clone();
        trailing.extend_from_slice(&[0x92, 0xd7]);
        let opts = DecoderOptions::default();
        let strict = DecoderOptions {
            skip_invalid_event: true,
            ..Default::default()
        };
        let now = EventTime::new(1, 2);
        for (name, blob, opts, shared) in [
            ("canonical", &canonical, &opts, true),
            ("canonical, strict", &canonical, &strict, true),
            ("trailing bytes", &trailing, &opts, true),
            ("an integer time", &int_time, &opts, false),
            ("a record that is not a map", &not_map, &opts, false),
        ] {
            let mut raw = Vec::new();
            packed_forward("t", blob, 4, Some("c"), Compression::Text, &mut raw);
            let bytes = Bytes::from(raw.clone());
            let slab = bytes.len();
            let taken =
                on_message(&bytes, Some((&bytes, slab)), raw.len(), opts, now, false).unwrap();
            let copied = on_message(&raw, None, raw.len(), opts, now, false).unwrap();
            assert_eq!(taken, copied, "{name}");
            let Frame::Events(ev) = taken else {
                panic!("{name}: {taken:?}")
            };
            let inside = bytes.as_ptr_range().contains(&ev.entries.as_ptr());
            assert_eq!(inside, shared, "{name}: taken as it is");
            if shared {
                assert!(ev.tight, "{name}: the frame is the whole allocation");
            }
        }
        // Compressed payloads: the decompressed bytes are taken as they are where every entry is
        // in the kept form; the frame is the one the copying path gives.
        for (name, blob) in [
            ("canonical", &canonical),
            ("trailing bytes", &trailing),
            ("an integer time", &int_time),
            ("a record that is not a map", &not_map),
        ] {
            let mut raw = Vec::new();
            packed_forward("t", blob, 4, None, Compression::Gzip, &mut raw);
            let Ok(Frame::Events(ev)) = on_message(&raw, None, raw.len(), &opts, now, false) else {
                panic!("{name}")
            };
            let mut want = Entries::new(now, true);
            want.keep_zero = true;
            crate::packed::decode_blob(blob, &mut want, true).unwrap();
            assert_eq!(ev.entries, want.out, "{name}");
            assert_eq!(ev.ends, want.ends, "{name}");
            assert_eq!(ev.mode, Mode::CompressedPackedForward);
        }
        // A large receive buffer holding a small frame: shared, but not tight.
        let mut raw = Vec::new();
        packed_forward("t", &canonical, 4, None, Compression::Text, &mut raw);
        let bytes = Bytes::from(raw.clone());
        let Ok(Frame::Events(ev)) = on_message(
            &bytes,
            Some((&bytes, 1 << 20)),
            raw.len(),
            &opts,
            now,
            false,
        ) else {
            panic!()
        };
        assert!(bytes.as_ptr_range().contains(&ev.entries.as_ptr()));
        assert!(!ev.tight);
    }

    // A record map that repeats a key is folded as Fluentd's Hash holds it in the modes whose
    // entries Fluentd reads as they come (Message, Forward); one whose keys only share a
    // fingerprint is kept as it came. PackedForward entries are kept as they came (the router
    // folds them where something reads them: `EventBatch::folded`).
    #[test]
    fn records_that_repeat_a_key_are_folded_in_message_and_forward_modes() {
        use crate::encode::{forward, message};
        // {"a":1,"b":{"k":1,"k":2},"a":3} and {"a1bx":0,"a2bx":0} (one fingerprint, two keys).
        let repeated = [
            0x83, 0xa1, b'a', 1, 0xa1, b'b', 0x82, 0xa1, b'k', 1, 0xa1, b'k', 2, 0xa1, b'a', 3,
        ];
        let folded = [0x82, 0xa1, b'a', 3, 0xa1, b'b', 0x81, 0xa1, b'k', 2];
        let alike = [
            0x82, 0xa4, b'a', b'1', b'b', b'x', 0, 0xa4, b'a', b'2', b'b', b'x', 0,
        ];
        let mut entries = Vec::new();
        for rec in [&REC[..], &repeated, &alike, &repeated] {
            entry(&mut entries, &T, rec);
        }
        let mut want = Vec::new();
        for rec in [&REC[..], &folded, &alike, &folded] {
            entry(&mut want, &T, rec);
        }
        let opts = DecoderOptions::default();
        let now = EventTime::new(1, 2);
        let mut frames = Vec::new();
        let mut raw = Vec::new();
        forward("t", &entries, 4, Some("c"), &mut raw);
        frames.push(("forward", raw));
        for compression in [Compression::Text, Compression::Gzip] {
            let mut raw = Vec::new();
            packed_forward("t", &entries, 4, None, compression, &mut raw);
            frames.push(("packed", raw));
        }
        for (name, raw) in frames {
            let bytes = Bytes::from(raw.clone());
            let want = if name == "packed" { &entries } else { &want };
            for shared in [None, Some((&bytes, bytes.len()))] {
                let Ok(Frame::Events(ev)) = on_message(&raw, shared, raw.len(), &opts, now, false)
                else {
                    panic!("{name}")
                };
                assert_eq!(&ev.entries[..], &want[..], "{name}");
                let mut at = 0;
                let sizes = if name == "packed" {
                    [4usize, 16, 13, 16]
                } else {
                    [4, 10, 13, 10]
                };
                let lens: Vec<u32> = sizes
                    .iter()
                    .map(|n| {
                        at += (KEPT_HEADER + n) as u32;
                        at
                    })
                    .collect();
                assert_eq!(ev.ends, lens, "{name}");
                assert_eq!(ev.count, 4);
            }
        }
        for (rec, want) in [(&repeated[..], &folded[..]), (&alike, &alike), (&REC, &REC)] {
            let mut raw = Vec::new();
            message("t", EventTime::new(5, 0), rec, None, &mut raw);
            let Ok(Frame::Events(ev)) = on_message(&raw, None, raw.len(), &opts, now, false) else {
                panic!("message")
            };
            assert_eq!(&ev.entries[KEPT_HEADER..], want);
        }
        let (_, maybe) =
            walk_keys(&alike[..], |_, _| Ok::<(), logferry_msgpack::Error>(())).unwrap();
        assert!(maybe, "the two keys share a fingerprint");
    }
}
