//! Client-side frame encoders (used by tests now, by out_forward later).

use logferry_msgpack::{write, EventTime, Reader};

/// PackedForward payload compression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Compression {
    /// Plain entries, option `compressed: "text"`.
    #[default]
    Text,
    /// One gzip member, option `compressed: "gzip"`.
    Gzip,
}

fn option_chunk(chunk: Option<&str>, out: &mut Vec<u8>) {
    if let Some(c) = chunk {
        write::map_len(out, 1);
        write::str(out, "chunk");
        write::str(out, c);
    }
}

/// Message mode: `[tag, time, record]`, or `[tag, time, record, {"chunk": c}]`.
pub fn message(
    tag: &str,
    time: EventTime,
    record_raw: &[u8],
    chunk: Option<&str>,
    out: &mut Vec<u8>,
) {
    write::array_len(out, if chunk.is_some() { 4 } else { 3 });
    write::str(out, tag);
    time.encode(out);
    out.extend_from_slice(record_raw);
    option_chunk(chunk, out);
}

/// Forward mode: `[tag, [entries...]]` (+ `{"chunk": c}`), from normalized
/// entries holding `count` events.
pub fn forward(
    tag: &str,
    entries_normalized: &[u8],
    count: usize,
    chunk: Option<&str>,
    out: &mut Vec<u8>,
) {
    write::array_len(out, if chunk.is_some() { 3 } else { 2 });
    write::str(out, tag);
    write::array_len(out, u32::try_from(count).unwrap_or(u32::MAX));
    out.extend_from_slice(entries_normalized);
    option_chunk(chunk, out);
}

/// PackedForward as Fluentd's out_forward writes it: `93`, tag, `DB` + u32
/// length + entries (gzipped for [`Compression::Gzip`]), then the option
/// `{"size": N, "compressed": "text"|"gzip"}` (+ `"chunk"`).
pub fn packed_forward(
    tag: &str,
    entries_normalized: &[u8],
    count: usize,
    chunk: Option<&str>,
    compression: Compression,
    out: &mut Vec<u8>,
) {
    let gz;
    let (payload, name) = match compression {
        Compression::Text => (entries_normalized, "text"),
        Compression::Gzip => {
            gz = gzip(entries_normalized);
            (gz.as_slice(), "gzip")
        }
    };
    write::array_len(out, 3);
    write::str(out, tag);
    out.push(0xdb);
    out.extend_from_slice(
        &u32::try_from(payload.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(payload);
    write::map_len(out, if chunk.is_some() { 3 } else { 2 });
    write::str(out, "size");
    write::uint(out, count as u64);
    write::str(out, "compressed");
    write::str(out, name);
    if let Some(c) = chunk {
        write::str(out, "chunk");
        write::str(out, c);
    }
}

/// Gzip `data` as one member (zlib-rs; see `logferry-compress`).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    logferry_compress::gzip(data)
}

/// Parse an ack reply `{"ack": v}` and return the payload of the str/bin `v`.
pub fn parse_ack(raw: &[u8]) -> Option<Vec<u8>> {
    let mut r = Reader::new(raw);
    let n = r.read_map_len().ok()?;
    let mut ack = None;
    for _ in 0..n {
        let key = r.read_raw().ok()?;
        let val = r.read_raw().ok()?;
        if Reader::new(key).read_str().ok() == Some(&b"ack"[..]) {
            ack = Reader::new(val).read_str().ok().map(<[u8]>::to_vec);
        }
    }
    ack
}
