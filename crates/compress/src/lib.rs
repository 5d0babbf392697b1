//! Gzip for whole buffers: buffer chunks, S3 objects, HTTP bodies, CompressedPackedForward
//! frames. logferry always has the whole input in memory when it compresses, so each call
//! compresses one buffer in one go.
//!
//! Compression is [zlib-rs](https://github.com/trifectatechfoundation/zlib-rs) (a Rust port of
//! zlib-ng's deflate) at level 6: of the candidates measured on log-shaped data (libdeflate
//! levels 4 to 9, zlib-rs and zlib-ng 1 to 9, against C zlib's 6, the level Fluentd and Fluent
//! Bit write; `cargo run --release -p logferry-compress --example levels`, figures in
//! docs/performance.md), the fastest whose output is no larger than zlib 6's on every data set:
//! 1.5–2.0 % smaller, at 1.3–1.8× C zlib's speed. libdeflate's level 5, used before, wrote 5.5 %
//! more than zlib 6 on the seed pipeline's records, and its 6 ties zlib 6 there (0.06 % larger on
//! one of two samples, 5.4 % on generated ones). The output is standard gzip (RFC 1952): one member per call, readable by
//! `gzip -d`, Ruby's Zlib, Athena, and every forward receiver.
//!
//! Decompression is libdeflate's, one-shot per member (about twice zlib's speed); it reads
//! concatenated members (a `compress gzip` buffer chunk is one member per append; `cat a.gz
//! b.gz` is valid gzip) and stops at a size limit so that a small hostile input cannot allocate
//! gigabytes.

use std::cell::RefCell;

use zlib_rs::{Deflate, DeflateConfig, DeflateFlush, Status};

/// The compression level of every gzip logferry writes (zlib-rs's 6; see the crate's doc).
pub const LEVEL: i32 = 6;

/// Window bits 15 plus 16: a gzip header and trailer around the deflate stream.
const GZIP_WINDOW_BITS: i32 = 31;

thread_local! {
    // A compressor holds a few hundred KiB of window and hash tables: one per thread, made once
    // and reset for each member.
    static COMPRESSOR: RefCell<Option<Deflate>> = const { RefCell::new(None) };
    // Room for the worst case, kept by each compressing thread (see `gzip`).
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The largest worst-case room a thread keeps for the next call of [`gzip`] (a default 8 MiB
/// chunk needs a little over 8 MiB); larger inputs get room of their own, freed after the call.
const SCRATCH_KEPT: usize = 16 << 20;

/// Room enough for `len` bytes compressed as one gzip member: deflate's stored-block worst case
/// (zlib's `compressBound`, which counts a 6-byte zlib wrapper) plus gzip's larger wrapper (18).
fn bound(len: usize) -> usize {
    zlib_rs::compress_bound(len).saturating_add(18)
}

/// Gzip `data` (one member) into `room` from `from` on, grown to the worst case for it if
/// shorter (room already that long is written over as it is: no zeroing again); the bytes
/// written.
fn gzip_to(data: &[u8], room: &mut Vec<u8>, from: usize) -> usize {
    COMPRESSOR.with_borrow_mut(|slot| {
        let c = slot.get_or_insert_with(|| {
            let mut cfg = DeflateConfig::new(LEVEL);
            cfg.window_bits = GZIP_WINDOW_BITS;
            Deflate::new_with_config(cfg)
        });
        c.reset();
        let end = from.saturating_add(bound(data.len()));
        if room.len() < end {
            room.resize(end, 0);
        }
        // One call with room for the worst case ends the member. A call stops early only past
        // 4 GiB of input or output (zlib's 32-bit counters): then it goes on from where it
        // stopped, with more room if it ran out.
        let mut at = from;
        loop {
            let (in_before, out_before) = (c.total_in(), c.total_out());
            let input = &data[usize::try_from(in_before)
                .unwrap_or(usize::MAX)
                .min(data.len())..];
            let status = c.compress(input, &mut room[at..], DeflateFlush::Finish);
            at += usize::try_from(c.total_out() - out_before).unwrap_or(0);
            match status {
                Ok(Status::StreamEnd) => return at - from,
                // Out of room (or no progress with what is left): more of it.
                Ok(_) if room.len() - at < 64 || c.total_out() == out_before => {
                    room.resize(room.len() + (1 << 20), 0)
                }
                Ok(_) => {}
                // Only a stream in a bad state errs; the state was reset above.
                Err(e) => unreachable!("zlib-rs deflate of a reset stream failed: {e:?}"),
            }
        }
    })
}

/// Append `data` gzipped (one member) to `out`.
pub fn gzip_into(data: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    let n = gzip_to(data, out, start);
    out.truncate(start + n);
}

/// `data` gzipped as one member, in an allocation of its size.
///
/// Compressing needs room for the worst case (about the input's size): each thread compresses
/// into room it keeps (up to [`SCRATCH_KEPT`]) and the result (~1/10 of it on log lines) is
/// copied out. Fresh room for every chunk cost its pages' faults and zeroing (in a VM whose host
/// reclaims free memory, ~7 % of the seed pipeline with gzip), and a body held while it is sent
/// or queued kept all of it (8 MiB for ~1 MiB of gzip from a full chunk).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    SCRATCH.with_borrow_mut(|room| {
        let n = gzip_to(data, room, 0);
        let out = room[..n].to_vec();
        if room.len() > SCRATCH_KEPT {
            *room = Vec::new();
        }
        out
    })
}

/// Why gzip data could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GunzipError {
    /// Not gzip, corrupt, or cut short.
    BadData,
    /// More than the limit would come out.
    TooLarge,
}

impl std::fmt::Display for GunzipError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GunzipError::BadData => f.write_str("invalid or truncated gzip data"),
            GunzipError::TooLarge => f.write_str("decompressed data larger than the limit"),
        }
    }
}

impl std::error::Error for GunzipError {}

impl From<GunzipError> for std::io::Error {
    fn from(e: GunzipError) -> Self {
        std::io::Error::new(std::io::ErrorKind::InvalidData, e)
    }
}

struct Decompressor(*mut libdeflate_sys::libdeflate_decompressor);

impl Decompressor {
    fn new() -> Option<Self> {
        // SAFETY: allocation has no preconditions; a null result is handled.
        let p = unsafe { libdeflate_sys::libdeflate_alloc_decompressor() };
        (!p.is_null()).then_some(Decompressor(p))
    }

    /// One member from the start of `input` into `out` (its whole length): Ok((consumed, written)),
    /// Err(true) when `out` is too small, Err(false) for bad data.
    fn member(&mut self, input: &[u8], out: &mut [u8]) -> Result<(usize, usize), bool> {
        let (mut used, mut wrote) = (0usize, 0usize);
        // SAFETY: the pointers and lengths come from live slices; libdeflate reads at most
        // `input.len()` bytes and writes at most `out.len()`; the out-parameters are valid.
        let r = unsafe {
            libdeflate_sys::libdeflate_gzip_decompress_ex(
                self.0,
                input.as_ptr().cast(),
                input.len(),
                out.as_mut_ptr().cast(),
                out.len(),
                &mut used,
                &mut wrote,
            )
        };
        match r {
            libdeflate_sys::libdeflate_result_LIBDEFLATE_SUCCESS => Ok((used, wrote)),
            libdeflate_sys::libdeflate_result_LIBDEFLATE_INSUFFICIENT_SPACE => Err(true),
            _ => Err(false),
        }
    }
}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: allocated by libdeflate_alloc_decompressor and freed once.
        unsafe { libdeflate_sys::libdeflate_free_decompressor(self.0) }
    }
}

/// The most one byte of deflate data can expand to (a 258-byte match in about 2 bits).
const MAX_EXPANSION: usize = 1032;

/// The size a member says it decompresses to (its ISIZE trailer, mod 2^32), when `input` is
/// exactly one member; a hint only.
fn isize_hint(input: &[u8]) -> usize {
    match input.len().checked_sub(4) {
        Some(at) if input.len() >= 18 => {
            u32::from_le_bytes([input[at], input[at + 1], input[at + 2], input[at + 3]]) as usize
        }
        _ => 0,
    }
}

/// The room first tried for decompressing `data`: the trailer's size for a single member, else
/// 4× the input. The trailer is believed only as far as deflate can expand (1032:1): a corrupt
/// or hostile one would otherwise have gigabytes zeroed for a few bytes of input.
fn first_room(data: &[u8]) -> usize {
    let hint = isize_hint(data).min(data.len().saturating_mul(MAX_EXPANSION));
    hint.max(data.len().saturating_mul(4)).max(4096)
}

/// Decompress every concatenated gzip member of `data`, failing once more than `limit` bytes
/// would come out. Empty input gives empty output.
pub fn gunzip(data: &[u8], limit: usize) -> Result<Vec<u8>, GunzipError> {
    let mut out = Vec::new();
    gunzip_into(data, limit, &mut out)?;
    Ok(out)
}

/// [`gunzip`], appending to `out` (`limit` counts only what this call adds).
pub fn gunzip_into(data: &[u8], limit: usize, out: &mut Vec<u8>) -> Result<(), GunzipError> {
    if data.is_empty() {
        return Ok(());
    }
    let mut d = Decompressor::new().ok_or(GunzipError::BadData)?;
    let base = out.len();
    let mut pos = 0;
    let mut room = first_room(data);
    while pos < data.len() {
        let have = out.len() - base;
        let avail = room.min(limit - have);
        let start = out.len();
        out.resize(start + avail, 0);
        match d.member(&data[pos..], &mut out[start..]) {
            Ok((used, wrote)) => {
                out.truncate(start + wrote);
                if used == 0 {
                    return Err(GunzipError::BadData);
                }
                pos += used;
            }
            Err(true) => {
                out.truncate(start);
                if have + avail >= limit {
                    return Err(GunzipError::TooLarge);
                }
                room = room.saturating_mul(2);
            }
            Err(false) => {
                out.truncate(start);
                return Err(GunzipError::BadData);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn lines(n: usize) -> Vec<u8> {
        let mut v = Vec::new();
        for i in 0..n {
            writeln!(
                v,
                r#"{{"log":"GET /api/v1/items/{i} 200 {}ms","stream":"stdout","container_id":"{:064x}"}}"#,
                i % 97,
                i * 7919
            )
            .unwrap();
        }
        v
    }

    #[test]
    fn standard_gzip_both_ways() {
        let data = lines(5000);
        let gz = gzip(&data);
        assert!(gz.starts_with(&[0x1f, 0x8b, 8]), "gzip magic");
        assert!(gz.len() * 5 < data.len(), "compresses log lines");
        assert!(
            gz.capacity() < data.len() / 4,
            "held in an allocation of its size"
        );
        // flate2 (miniz_oxide, an independent implementation) reads what zlib-rs wrote.
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, data);
        // And we read what flate2 wrote.
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&data).unwrap();
        assert_eq!(gunzip(&e.finish().unwrap(), usize::MAX).unwrap(), data);
    }

    #[test]
    fn members_concatenated_and_empty_ones() {
        let (a, b) = (lines(10), lines(3000));
        let mut gz = gzip(&a);
        gzip_into(b"", &mut gz);
        gzip_into(&b, &mut gz);
        let mut want = a.clone();
        want.extend_from_slice(&b);
        assert_eq!(gunzip(&gz, usize::MAX).unwrap(), want);
        assert_eq!(gunzip(b"", 10).unwrap(), b"");
        let mut out = b"kept".to_vec();
        gunzip_into(&gzip(b"x"), 1, &mut out).unwrap();
        assert_eq!(out, b"keptx");
    }

    #[test]
    fn bounded_and_bad_input() {
        // 10 MB of zeros compress to ~10 KB: the limit stops it, not memory.
        let bomb = gzip(&vec![0u8; 10_000_000]);
        assert_eq!(gunzip(&bomb, 1_000_000), Err(GunzipError::TooLarge));
        assert_eq!(gunzip(&bomb, 10_000_000).unwrap().len(), 10_000_000);
        assert_eq!(gunzip(b"not gzip at all", 100), Err(GunzipError::BadData));
        let gz = gzip(&lines(100));
        assert_eq!(
            gunzip(&gz[..gz.len() - 3], usize::MAX),
            Err(GunzipError::BadData)
        );
        let mut trailing = gz.clone();
        trailing.extend_from_slice(b"junk");
        assert_eq!(gunzip(&trailing, usize::MAX), Err(GunzipError::BadData));
    }

    #[test]
    fn a_huge_size_trailer_does_not_size_the_output() {
        // A member cut short so that its last 4 bytes claim ~4 GiB: the room first tried is
        // bounded by what the input could expand to, not by the claim (this took seconds and
        // gigabytes of zeroed memory before).
        let mut gz = gzip(&lines(100));
        let n = gz.len();
        gz[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(isize_hint(&gz), u32::MAX as usize);
        assert_eq!(first_room(&gz), gz.len() * MAX_EXPANSION);
        assert_eq!(gunzip(&gz, usize::MAX), Err(GunzipError::BadData));
        // An honest trailer sizes the room exactly.
        let data = lines(100);
        assert_eq!(first_room(&gzip(&data)), data.len());
    }

    #[test]
    fn a_lying_size_trailer_is_only_a_hint() {
        let data = lines(2000);
        let mut gz = gzip(&data);
        let n = gz.len();
        gz[n - 4..].copy_from_slice(&1u32.to_le_bytes());
        // libdeflate checks ISIZE against what came out: a wrong trailer is bad data.
        assert_eq!(gunzip(&gz, usize::MAX), Err(GunzipError::BadData));
    }
}
