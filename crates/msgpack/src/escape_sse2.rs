//! JSON string escaping 16 bytes at a time with SSE2 (part of every x86_64 CPU, so there is no
//! runtime detection): one compare pass flags the bytes to escape and the non-ASCII ones, and
//! every flagged byte of a 16-byte chunk is handled from that one bit mask. A chunk whose only
//! escapes are quotes and backslashes (JSON inside a string, as in a Docker `log` line) is
//! written by two SSSE3 shuffles instead, whatever their number (SSSE3 is detected at run time;
//! measured on `log`-shaped lines: 86 ns a line against 106 with the per-escape loop alone).
//!
//! Same output as the portable 8-byte loop in `text.rs`, byte for byte: both are tested against
//! the same char-by-char oracle there, at every offset, byte value and length.

use std::arch::x86_64::{
    __m128i, _mm_cmpeq_epi8, _mm_loadl_epi64, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8,
    _mm_or_si128, _mm_set1_epi8, _mm_shuffle_epi8, _mm_storeu_si128, _mm_unpacklo_epi64,
};

use crate::text::{escape_mask, put_escape, ESCAPE, HIGH};

/// Bit `j` of the first mask: `chunk[j]` must be escaped (below 0x20, `"` or `\`); of the
/// second: `chunk[j]` is not ASCII; of the third: `chunk[j]` is `"` or `\` (escaped by a
/// backslash before it).
#[inline(always)]
fn masks(chunk: &[u8; 16]) -> (u32, u32, u32) {
    // SAFETY: SSE2 is in the x86_64 baseline, so every intrinsic here is available; the one
    // pointer access, `_mm_loadu_si128`, reads exactly the 16 bytes of `chunk` (a `&[u8; 16]`,
    // valid for reads) and has no alignment requirement.
    unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        // Unsigned `v <= 0x1f` is `max(v, 0x1f) == 0x1f`.
        let low = _mm_set1_epi8(0x1f);
        let control = _mm_cmpeq_epi8(_mm_max_epu8(v, low), low);
        let slashed = _mm_or_si128(quote, backslash);
        let esc = _mm_or_si128(slashed, control);
        (
            _mm_movemask_epi8(esc) as u32,
            _mm_movemask_epi8(v) as u32, // the high bit of each byte
            _mm_movemask_epi8(slashed) as u32,
        )
    }
}

/// The stage buffer's size.
const STAGE: usize = 256;
/// The most one chunk can take of the stage: 16 bytes each escaped as `\u00XX` (96 bytes), the
/// last store of the bytes after an escape reaching 16 past it.
const ROOM: usize = 16 * 6 + 16;

/// Output staged on the stack, flushed to `out` when it could not take another chunk.
/// `LOWER`: `\u00xx` escapes in lower case (Oj's), else upper case (yajl's).
struct Stage<const LOWER: bool> {
    buf: [u8; STAGE],
    n: usize,
    /// The rest of the string is known to be valid UTF-8: high bits are no longer flagged.
    utf8_ok: bool,
}

/// `pshufb` controls writing an 8-byte group (source lanes 0–7) with a backslash (source lane
/// 8) before each byte whose bit is set in the index, the group's escape mask.
static EXPAND: [[u8; 16]; 256] = {
    let mut t = [[0x80u8; 16]; 256];
    let mut m = 0;
    while m < 256 {
        let (mut p, mut j) = (0, 0);
        while j < 8 {
            if (m >> j) & 1 == 1 {
                t[m][p] = 8;
                p += 1;
            }
            t[m][p] = j as u8;
            p += 1;
            j += 1;
        }
        m += 1;
    }
    t
};

/// Write `chunk` to `dst` with a backslash before each byte flagged in `m` (only `"` and `\\`,
/// whose escapes are a backslash and the byte itself), one shuffle per 8 bytes however many
/// escapes they hold; the bytes written (16 + escapes). `dst` must hold 32 bytes.
///
/// # Safety
/// The CPU must have SSSE3.
#[target_feature(enable = "ssse3")]
unsafe fn expand(chunk: &[u8; 16], m: u32, dst: &mut [u8]) -> usize {
    assert!(dst.len() >= 32);
    let backslashes = _mm_set1_epi8(b'\\' as i8);
    let mut n = 0;
    for half in 0..2 {
        let bits = (m >> (8 * half)) & 0xff;
        // SAFETY: the loads read 8 bytes of `chunk` (16 long) at 0 or 8 and the control's 16
        // bytes; the store writes 16 bytes at `n` ≤ 16 of `dst`, which holds 32. SSSE3 is
        // available (the caller's promise).
        unsafe {
            let group = _mm_loadl_epi64(chunk.as_ptr().add(8 * half).cast::<__m128i>());
            let src = _mm_unpacklo_epi64(group, backslashes);
            let ctl = _mm_loadu_si128(EXPAND[bits as usize].as_ptr().cast::<__m128i>());
            _mm_storeu_si128(
                dst.as_mut_ptr().add(n).cast::<__m128i>(),
                _mm_shuffle_epi8(src, ctl),
            );
        }
        n += 8 + bits.count_ones() as usize;
    }
    n
}

impl<const LOWER: bool> Stage<LOWER> {
    /// Escape the chunk `win[..16]`, of which the first `len` bytes are the string's (the rest
    /// are padding spaces, never flagged); `win[16..]` is what follows it (string or padding).
    /// `rest` is the string from the chunk's first byte on, for the UTF-8 check. False if that
    /// check fails.
    ///
    /// The chunk is stored whole, then at each flagged byte `k` the escape is written at its
    /// place and the 16 bytes after it, `win[k + 1..k + 17]`, are stored right after the escape:
    /// one compare pass per chunk however many escapes it holds.
    #[inline(always)]
    fn chunk(&mut self, win: &[u8; 32], len: usize, rest: &[u8]) -> bool {
        let chunk: [u8; 16] = std::array::from_fn(|j| win[j]);
        let (esc, high, _) = masks(&chunk);
        let mut m = if self.utf8_ok { esc } else { esc | high };
        // Where `chunk[0]` goes: chunk byte `j` after the last escape is at `d + j`.
        let mut d = self.n;
        self.buf[d..d + 16].copy_from_slice(&chunk);
        while m != 0 {
            let k = m.trailing_zeros() as usize;
            m &= m - 1;
            let c = chunk[k];
            match ESCAPE[usize::from(c)] {
                0 => {
                    // The first non-ASCII byte: validate the rest of the string once.
                    if std::str::from_utf8(rest.get(k..).unwrap_or_default()).is_err() {
                        return false;
                    }
                    self.utf8_ok = true;
                    m &= esc;
                    continue;
                }
                // The byte took one place in the copy; its escape takes 6 or 2.
                e => d += put_escape::<LOWER>(c, e, &mut self.buf[d + k..]) - 1,
            }
            self.buf[d + k + 1..d + k + 17].copy_from_slice(&win[k + 1..k + 17]);
        }
        self.n = d + len;
        true
    }

    /// Escape `rest` (fewer than 32 bytes, the end of the string) run by run; false if the
    /// UTF-8 check fails.
    fn tail(&mut self, rest: &[u8], out: &mut Vec<u8>) -> bool {
        let mut j = 0;
        while j < rest.len() {
            self.flush_if_full(out);
            let run = prefix(&rest[j..], !self.utf8_ok);
            self.buf[self.n..self.n + run].copy_from_slice(&rest[j..j + run]);
            self.n += run;
            j += run;
            let Some(&c) = rest.get(j) else {
                break;
            };
            match ESCAPE[usize::from(c)] {
                0 => {
                    // The first non-ASCII byte: validate the rest of the string once.
                    if std::str::from_utf8(&rest[j..]).is_err() {
                        return false;
                    }
                    self.utf8_ok = true;
                    self.buf[self.n] = c;
                    self.n += 1;
                }
                e => self.n += put_escape::<LOWER>(c, e, &mut self.buf[self.n..]),
            }
            j += 1;
        }
        true
    }

    /// Escape the 16 bytes of `chunk` by shuffles if they hold no escape but `"` and `\\` and
    /// no byte of unchecked UTF-8 (and the CPU has SSSE3); false, and nothing written, if not.
    /// JSON text inside a string (a `log` line) is quote-dense: this costs the same for any
    /// number of quotes, where [`Stage::chunk`] pays per escape.
    /// The escape mask of `chunk` if shuffles can write it: its only escapes are quotes and
    /// backslashes, and it holds no byte of unchecked UTF-8.
    #[inline(always)]
    fn shuffle_mask(&self, chunk: &[u8; 16]) -> Option<u32> {
        let (esc, high, slashed) = masks(chunk);
        (esc == slashed && (high == 0 || self.utf8_ok)).then_some(esc)
    }

    /// `SSSE3`: the CPU has it (checked by the caller).
    #[inline(always)]
    fn expand_chunk<const SSSE3: bool>(&mut self, chunk: &[u8; 16]) -> bool {
        if !SSSE3 {
            return false;
        }
        let Some(esc) = self.shuffle_mask(chunk) else {
            return false;
        };
        let d = self.n;
        // SAFETY: the caller checked SSSE3; `buf[d..]` holds ROOM ≥ 32 bytes (flush_if_full).
        self.n = d + unsafe { expand(chunk, esc, &mut self.buf[d..]) };
        true
    }

    /// [`Stage::expand_chunk`] for a string's last 16 bytes `win`, of which only the last `rest`
    /// (1 to 15) are still to be written: the whole window is expanded aside and the output of
    /// its first `16 - rest` bytes (written before, escapes included) is left out. Only on a CPU
    /// with SSSE3.
    #[inline(always)]
    fn expand_last(&mut self, win: &[u8; 16], rest: usize) -> bool {
        let Some(esc) = self.shuffle_mask(win) else {
            return false;
        };
        let mut aside = [0u8; 32];
        // SAFETY: only called where SSSE3 was checked (escape_rest::<true>); `aside` holds 32.
        let n = unsafe { expand(win, esc, &mut aside) };
        let done = 16 - rest;
        let from = done + (esc & ((1u32 << done) - 1)).count_ones() as usize;
        self.buf[self.n..self.n + n - from].copy_from_slice(&aside[from..n]);
        self.n += n - from;
        true
    }

    fn flush_if_full(&mut self, out: &mut Vec<u8>) {
        if self.n > STAGE - ROOM {
            out.extend_from_slice(&self.buf[..self.n]);
            self.n = 0;
        }
    }
}

/// Quote `b` as a JSON string into `out`; false (with `out` holding a partial string) when `b`
/// is not valid UTF-8.
///
/// The clean prefix (no byte to escape, ASCII) is found first, 16 bytes at a time straight from
/// `b`, and copied with one `extend_from_slice`: most short strings (keys, levels, ids) end
/// there. From the first flagged byte on, chunks are read straight from `b` while 16 bytes remain
/// ([`Stage::expand_chunk`]; a chunk with a control byte or unchecked UTF-8 needs the 16 bytes
/// after it too, [`Stage::chunk`]); the last bytes go run by run ([`prefix`]). The UTF-8 check is
/// fused in: from the first non-ASCII byte on, the rest of the string is validated once.
/// `LOWER`: `\u00xx` escapes in lower case.
pub(crate) fn escape_into<const LOWER: bool>(b: &[u8], out: &mut Vec<u8>) -> bool {
    escape_with::<LOWER>(b, out, std::arch::is_x86_feature_detected!("ssse3"))
}

/// [`escape_into`] on a CPU without SSSE3 (for the tests on one that has it).
#[cfg(test)]
pub(crate) fn escape_into_sse2_only(b: &[u8], out: &mut Vec<u8>) -> bool {
    escape_with::<false>(b, out, false)
}

/// [`escape_into`], shuffles used if `ssse3` (which the CPU must then have).
#[inline(always)]
fn escape_with<const LOWER: bool>(b: &[u8], out: &mut Vec<u8>, ssse3: bool) -> bool {
    out.reserve(b.len() + 2);
    out.push(b'"');
    let start = clean_prefix(b);
    out.extend_from_slice(&b[..start]);
    if start == b.len() {
        out.push(b'"');
        return true;
    }
    if ssse3 {
        // SAFETY: the caller checked SSSE3.
        unsafe { escape_rest_ssse3::<LOWER>(b, start, out) }
    } else {
        escape_rest::<false, LOWER>(b, start, out)
    }
}

/// [`escape_rest`] compiled with SSSE3, so that [`expand`] is inlined into its loop.
///
/// # Safety
/// The CPU must have SSSE3.
#[target_feature(enable = "ssse3")]
unsafe fn escape_rest_ssse3<const LOWER: bool>(b: &[u8], start: usize, out: &mut Vec<u8>) -> bool {
    escape_rest::<true, LOWER>(b, start, out)
}

/// [`escape_into`] from the first byte to escape or check (`start`) on; `SSSE3`: the CPU has it.
#[inline(always)]
/// `LOWER`: `\u00xx` escapes in lower case.
fn escape_rest<const SSSE3: bool, const LOWER: bool>(
    b: &[u8],
    start: usize,
    out: &mut Vec<u8>,
) -> bool {
    let mut st = Stage::<LOWER> {
        buf: [0u8; STAGE],
        n: 0,
        utf8_ok: false,
    };
    let mut i = start;
    while let Some(chunk) = b.get(i..).and_then(<[u8]>::first_chunk::<16>) {
        st.flush_if_full(out);
        if !st.expand_chunk::<SSSE3>(chunk) {
            // A control byte or unchecked UTF-8: the chunk and the 16 bytes after it, if there.
            let Some(win) = b.get(i..).and_then(<[u8]>::first_chunk::<32>) else {
                break;
            };
            if !st.chunk(win, 16, &b[i..]) {
                return false;
            }
        }
        i += 16;
    }
    // The last 1 to 15 bytes, if the string's last 16 hold no escape but quotes and backslashes:
    // those 16 expanded, the part already written left out.
    let rest = b.len() - i;
    if SSSE3 && (1..16).contains(&rest) {
        if let Some(win) = b.last_chunk::<16>() {
            st.flush_if_full(out);
            if st.expand_last(win, rest) {
                i = b.len();
            }
        }
    }
    // Else the last 0 to 31 bytes: plain runs found by `prefix` (no padded copy), escapes one
    // by one.
    if !st.tail(b.get(i..).unwrap_or_default(), out) {
        return false;
    }
    out.extend_from_slice(&st.buf[..st.n]);
    out.push(b'"');
    true
}

/// How many bytes at the start of `b` need no escape and are ASCII.
#[inline(always)]
fn clean_prefix(b: &[u8]) -> usize {
    prefix(b, true)
}

/// How many bytes at the start of `b` are neither `"`, `\\` nor below 0x20 (and, with
/// `ascii`, not above 0x7f).
///
/// Strings of 16 bytes or more: 16-byte chunks, the last one overlapping the one before (no
/// copy into a padded buffer: a vector load of bytes just stored one by one waits for the
/// stores, which cost more than the rest of a short string's escaping). Shorter strings: two
/// overlapping 8- or 4-byte words, or byte by byte below 4.
#[inline(always)]
pub(crate) fn prefix(b: &[u8], ascii: bool) -> usize {
    let n = b.len();
    if n < 16 {
        return prefix_short(b, ascii);
    }
    let high_mask = if ascii { u32::MAX } else { 0 };
    let mut i = 0;
    while let Some(chunk) = b.get(i..).and_then(<[u8]>::first_chunk::<16>) {
        let (esc, high, _) = masks(chunk);
        let m = esc | (high & high_mask);
        if m != 0 {
            return i + m.trailing_zeros() as usize;
        }
        i += 16;
    }
    // 1 to 15 bytes left: the last 16 bytes of `b`, of which the first `16 - rest` are the
    // (clean) end of the chunk before.
    let rest = n - i;
    if let Some(last) = b.get(n - 16..).and_then(<[u8]>::first_chunk::<16>) {
        let (esc, high, _) = masks(last);
        let m = (esc | (high & high_mask)) >> (16 - rest);
        if m != 0 {
            return i + m.trailing_zeros() as usize;
        }
    }
    n
}

/// [`prefix`] of fewer than 16 bytes.
#[inline(always)]
fn prefix_short(b: &[u8], ascii: bool) -> usize {
    let high = if ascii { HIGH } else { 0 };
    let flags = |w: u64| escape_mask(w) | (w & high);
    let n = b.len();
    if let (Some(a), Some(z)) = (b.first_chunk::<8>(), b.last_chunk::<8>()) {
        // 8 to 15 bytes: the first 8, then the last 8 (flags in the overlap were in the first).
        let m = flags(u64::from_le_bytes(*a));
        if m != 0 {
            return (m.trailing_zeros() / 8) as usize;
        }
        let m = flags(u64::from_le_bytes(*z));
        if m != 0 {
            return n - 8 + (m.trailing_zeros() / 8) as usize;
        }
        return n;
    }
    if let (Some(a), Some(z)) = (b.first_chunk::<4>(), b.last_chunk::<4>()) {
        // 4 to 7 bytes: the first 4 in the low half of a word, the last 4 in the high half.
        let w = u64::from(u32::from_le_bytes(*a)) | u64::from(u32::from_le_bytes(*z)) << 32;
        let m = flags(w);
        if m == 0 {
            return n;
        }
        let lane = (m.trailing_zeros() / 8) as usize;
        return if lane < 4 { lane } else { n + lane - 8 };
    }
    b.iter()
        .position(|&c| ESCAPE[usize::from(c)] != 0 || (ascii && c >= 0x80))
        .unwrap_or(n)
}
