//! PackedForward payloads: back-to-back entries, optionally gzip-compressed.

use crate::entries::Entries;
use crate::error::DecodeError;
use crate::scan::check_ext;
use logferry_msgpack::{walk, Error};

/// Decode every complete entry of `blob` (incomplete trailing bytes are
/// ignored; malformed bytes or unknown ext types are fatal).
pub(crate) fn decode_blob(
    blob: &[u8],
    entries: &mut Entries,
    tag_ok: bool,
) -> Result<(), DecodeError> {
    // The usual entry (`[EventTime, {…}]`) is copied as it is: the blob's length is what the
    // entries take, so they are laid out without a reallocation.
    entries.out.reserve(blob.len());
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

/// Decompress one or more concatenated gzip members (libdeflate, one shot per member), failing
/// once more than `limit` bytes would come out.
pub(crate) fn gunzip(data: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    logferry_compress::gunzip(data, limit).map_err(|e| match e {
        logferry_compress::GunzipError::TooLarge => DecodeError::DecompressedTooLarge,
        logferry_compress::GunzipError::BadData => DecodeError::Gzip(e.to_string()),
    })
}
