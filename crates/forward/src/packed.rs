//! PackedForward payloads: back-to-back entries, optionally gzip-compressed.

use crate::entries::{kept_form, Entries};
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
    for entry in whole_entries(blob) {
        entries.add_entry(entry?, tag_ok);
    }
    Ok(())
}

/// The whole entries of `blob`, in order: incomplete trailing bytes end them; malformed bytes or
/// an unknown ext type are an error.
fn whole_entries(blob: &[u8]) -> impl Iterator<Item = Result<&[u8], DecodeError>> {
    let mut rest = blob;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match walk(rest, check_ext) {
            Ok(n) => {
                let (entry, tail) = rest.split_at(n);
                rest = tail;
                Some(Ok(entry))
            }
            Err(DecodeError::Msgpack(Error::Incomplete)) => None,
            Err(e) => {
                rest = &[];
                Some(Err(e))
            }
        }
    })
}

/// The end offsets of `blob`'s entries when every one is `[EventTime, map]`, the form entries
/// are kept in, and would be kept (`tag_ok`, or not `strict`): the blob can then be taken as it
/// is, without a copy. `None` otherwise, or when it holds no entry or is malformed (the copying
/// path then decides, and reports what is wrong).
pub(crate) fn canonical_ends(blob: &[u8], tag_ok: bool, strict: bool) -> Option<Vec<u32>> {
    if !tag_ok && strict {
        return None;
    }
    let mut ends = Vec::with_capacity(blob.len() / 64 + 1);
    let mut pos = 0usize;
    for entry in whole_entries(blob) {
        let entry = entry.ok()?;
        kept_form(entry)?;
        pos += entry.len();
        ends.push(u32::try_from(pos).ok()?);
    }
    (!ends.is_empty()).then_some(ends)
}

/// Decompress one or more concatenated gzip members (libdeflate, one shot per member), failing
/// once more than `limit` bytes would come out.
pub(crate) fn gunzip(data: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
    logferry_compress::gunzip(data, limit).map_err(|e| match e {
        logferry_compress::GunzipError::TooLarge => DecodeError::DecompressedTooLarge,
        logferry_compress::GunzipError::BadData => DecodeError::Gzip(e.to_string()),
    })
}
