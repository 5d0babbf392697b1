//! `on_message`: turning one whole top-level object into a [`Frame`].

use crate::entries::{is_array, is_map, Entries};
use crate::error::DecodeError;
use crate::frame::{EventsFrame, Frame, Mode};
use crate::option::{lookup, truthy};
use crate::options::DecoderOptions;
use crate::packed::{decode_blob, gunzip};
use logferry_msgpack::{write_json, EventTime, Reader};

/// Interpret one validated top-level msgpack object. `wire_size` is its size
/// on the wire; `json` selects the ack representation.
pub(crate) fn on_message(
    raw: &[u8],
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
    let mut msg: [Option<&[u8]>; 4] = [None; 4];
    for slot in msg.iter_mut().take(n as usize) {
        *slot = Some(r.read_raw()?);
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
        let compressed = option
            .and_then(|o| lookup(o, "compressed"))
            .filter(|c| truthy(c));
        let mode = match compressed.map(|c| Reader::new(c).read_str()) {
            None | Some(Ok(b"text")) => {
                decode_blob(blob, &mut entries, tag.is_some())?;
                Mode::PackedForward
            }
            Some(Ok(b"gzip")) => {
                let plain = gunzip(blob, opts.decompression_size_limit)?;
                decode_blob(&plain, &mut entries, tag.is_some())?;
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
    entries: Entries,
    ack: Option<Vec<u8>>,
    mode: Mode,
    wire_size: usize,
    opts: &DecoderOptions,
) -> Frame {
    Frame::Events(EventsFrame {
        tag: tag
            .map(|t| String::from_utf8_lossy(t).into_owned())
            .unwrap_or_default(),
        entries: entries.out,
        ends: entries.ends,
        count: entries.count,
        invalid: entries.invalid,
        ack,
        mode,
        wire_size,
        over_warn_limit: opts.chunk_size_warn_limit.is_some_and(|l| wire_size > l),
    })
}
