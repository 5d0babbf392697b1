//! PackedForward payloads: back-to-back entries, optionally gzip-compressed.

use crate::entries::Entries;
use crate::error::DecodeError;
use crate::scan::check_ext;
use flate2::read::MultiGzDecoder;
use logferry_msgpack::{walk, Error};
use std::io::Read;

/// Decode every complete entry of `blob` (incomplete trailing bytes are
/// ignored; malformed bytes or unknown ext types are fatal).
pub(crate) fn decode_blob(
    blob: &[u8],
    entries: &mut Entries,
    tag_ok: bool,
) -> Result<(), DecodeError> {
    let mut rest = blob;
    while !rest.is_empty() {
        let n = match walk(rest, check_ext) {
            Ok(n) => n,
            Err(DecodeError::Msgpack(Error::Incomplete)) => break,
            Err(e) => return Err(e),
        };
        let (entry, tail) = rest.split_at(n);
        entries.add_entry(entry, tag_ok);
        rest = tail;
    }
    Ok(())
}

/// Decompress one or more concatenated gzip members, reading in bounded
/// pieces and failing once more than `limit` bytes come out.
pub(crate) fn gunzip(data: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    if data.is_empty() {
        return Ok(out);
    }
    let mut dec = MultiGzDecoder::new(data);
    let mut piece = vec![0u8; 64 * 1024];
    loop {
        let n = dec
            .read(&mut piece)
            .map_err(|e| DecodeError::Gzip(e.to_string()))?;
        if n == 0 {
            return Ok(out);
        }
        if out.len().saturating_add(n) > limit {
            return Err(DecodeError::DecompressedTooLarge);
        }
        out.extend_from_slice(&piece[..n]);
    }
}
