//! The `json` parser's fast path as it was before the change (logferry e93e333,
//! `crates/formats/src/parser/json.rs`, `mod flat` verbatim but for visibility), with its
//! time-key lookup, as the "before" column of the same run.
#![allow(missing_docs, clippy::all)]

use logferry_formats::parser::RawRecord;

/// The previous `parse_raw` work for `time_key time` (default) with no time in the record:
/// the flat object, then the time key looked for by decoding each key.
pub fn parse_raw(text: &str, rec: &mut RawRecord) -> bool {
    if !flat::object(text, rec) {
        return false;
    }
    let found = rec.pairs.iter().position(|(k, _)| {
        logferry_msgpack::Reader::new(&rec.buf[k.clone()])
            .read_str()
            .is_ok_and(|s| s == b"time")
    });
    std::hint::black_box(found);
    true
}

pub mod flat {
    use logferry_msgpack::write;

    use logferry_formats::parser::RawRecord;

    fn ws(b: &[u8], mut i: usize) -> usize {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(i) {
            i += 1;
        }
        i
    }

    /// High bit set in each byte of `w` that is `"`, `\\` or below 0x20; the lowest set bit is
    /// exact (higher ones may be borrows).
    #[inline]
    fn special(w: u64) -> u64 {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
        (w.wrapping_sub(ONES * 0x20) & !w & HIGH)
            | zero_byte(w ^ (ONES * u64::from(b'"')))
            | zero_byte(w ^ (ONES * u64::from(b'\\')))
    }

    fn hex4(b: &[u8], i: usize) -> Option<u32> {
        let s = std::str::from_utf8(b.get(i..i + 4)?).ok()?;
        if !s.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(s, 16).ok()
    }

    /// A JSON string starting at the quote `b[i]`, written as a msgpack str; returns the index
    /// after the closing quote.
    fn string(b: &[u8], i: usize, out: &mut Vec<u8>, scratch: &mut Vec<u8>) -> Option<usize> {
        // `b` is the bytes of a `&str`: any run between ASCII delimiters is valid UTF-8 (a
        // multi-byte sequence never contains a byte below 0x80), so no run is validated again.
        let start = i + 1;
        let mut j = start;
        // Plain run: no escape, no control character; 8 bytes at a time while clean.
        loop {
            if let Some(w) = b.get(j..j + 8) {
                let m = special(u64::from_le_bytes(w.try_into().unwrap_or_default()));
                if m == 0 {
                    j += 8;
                    continue;
                }
                j += (m.trailing_zeros() / 8) as usize;
            }
            match *b.get(j)? {
                b'"' => {
                    write::str_bytes(out, &b[start..j]);
                    return Some(j + 1);
                }
                b'\\' => break,
                c if c < 0x20 => return None,
                _ => j += 1,
            }
        }
        scratch.clear();
        scratch.extend_from_slice(&b[start..j]);
        loop {
            match *b.get(j)? {
                b'"' => {
                    write::str_bytes(out, scratch);
                    return Some(j + 1);
                }
                b'\\' => {
                    let c = match *b.get(j + 1)? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = hex4(b, j + 2)?;
                            j += 6;
                            let cp = if (0xd800..0xdc00).contains(&hi) {
                                if b.get(j..j + 2)? != b"\\u" {
                                    return None;
                                }
                                let lo = hex4(b, j + 2)?;
                                if !(0xdc00..0xe000).contains(&lo) {
                                    return None;
                                }
                                j += 6;
                                0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                            } else {
                                hi
                            };
                            let c = char::from_u32(cp)?;
                            let mut tmp = [0u8; 4];
                            scratch.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
                            continue;
                        }
                        _ => return None,
                    };
                    let mut tmp = [0u8; 4];
                    scratch.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
                    j += 2;
                }
                c if c < 0x20 => return None,
                c => {
                    scratch.push(c);
                    j += 1;
                }
            }
        }
    }

    /// A JSON number at `b[i]`, written as msgpack (integers as int/uint, others float64).
    fn number(b: &[u8], i: usize, out: &mut Vec<u8>) -> Option<usize> {
        let mut j = i;
        if b.get(j) == Some(&b'-') {
            j += 1;
        }
        let int_start = j;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        let int_len = j - int_start;
        if int_len == 0 || (int_len > 1 && b[int_start] == b'0') {
            return None;
        }
        let mut float = false;
        if b.get(j) == Some(&b'.') {
            float = true;
            j += 1;
            let s = j;
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            if j == s {
                return None;
            }
        }
        if let Some(b'e' | b'E') = b.get(j) {
            float = true;
            j += 1;
            if let Some(b'+' | b'-') = b.get(j) {
                j += 1;
            }
            let s = j;
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            if j == s {
                return None;
            }
        }
        let text = std::str::from_utf8(&b[i..j]).ok()?;
        if float {
            let f: f64 = text.parse().ok()?;
            if !f.is_finite() {
                return None;
            }
            write::f64(out, f);
        } else if text == "-0" {
            // Left to the full parser (its sign handling decides).
            return None;
        } else if let Ok(v) = text.parse::<i64>() {
            write::int(out, v);
        } else {
            write::uint(out, text.parse::<u64>().ok()?);
        }
        Some(j)
    }

    /// Parse a flat object into `rec`; false when the text is anything else.
    pub fn object(text: &str, rec: &mut RawRecord) -> bool {
        rec.clear();
        let b = text.as_bytes();
        let mut i = ws(b, 0);
        if b.get(i) != Some(&b'{') {
            return false;
        }
        i = ws(b, i + 1);
        if b.get(i) == Some(&b'}') {
            return ws(b, i + 1) == b.len();
        }
        loop {
            if b.get(i) != Some(&b'"') {
                return false;
            }
            let k0 = rec.buf.len();
            let Some(next) = string(b, i, &mut rec.buf, &mut rec.scratch) else {
                return false;
            };
            let k1 = rec.buf.len();
            i = ws(b, next);
            if b.get(i) != Some(&b':') {
                return false;
            }
            i = ws(b, i + 1);
            let v0 = rec.buf.len();
            let next = match b.get(i) {
                Some(b'"') => string(b, i, &mut rec.buf, &mut rec.scratch),
                Some(b't') if b[i..].starts_with(b"true") => {
                    write::bool(&mut rec.buf, true);
                    Some(i + 4)
                }
                Some(b'f') if b[i..].starts_with(b"false") => {
                    write::bool(&mut rec.buf, false);
                    Some(i + 5)
                }
                Some(b'n') if b[i..].starts_with(b"null") => {
                    write::nil(&mut rec.buf);
                    Some(i + 4)
                }
                Some(b'-' | b'0'..=b'9') => number(b, i, &mut rec.buf),
                _ => None,
            };
            let Some(next) = next else {
                return false;
            };
            let key = k0..k1;
            // A repeated key keeps its first position and its last value: the full parser's job.
            if rec.pairs.len() > 64
                || rec
                    .pairs
                    .iter()
                    .any(|(k, _)| rec.buf[k.clone()] == rec.buf[key.clone()])
            {
                return false;
            }
            rec.pairs.push((key, v0..rec.buf.len()));
            i = ws(b, next);
            match b.get(i) {
                Some(b',') => i = ws(b, i + 1),
                Some(b'}') => return ws(b, i + 1) == b.len(),
                _ => return false,
            }
        }
    }
}
