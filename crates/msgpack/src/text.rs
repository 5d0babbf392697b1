//! Text helpers shared by the JSON and `to_s` renderers: Ruby float
//! formatting and JSON string escaping.

/// Append `v` the way Ruby's `Float#to_s` prints it (`1.0`, `0.0001`,
/// `1.0e+16`, `1.0e-05`, `NaN`, `Infinity`, `-Infinity`).
///
/// The shortest digits that round-trip (as Ruby's), from `zmij`, laid out as Ruby does: plain
/// for decimal exponents -4 to 14 (as Ruby 3.1: `1e15.to_s` is `1.0e+15`), scientific with a two-digit signed exponent otherwise.
pub fn ruby_float(v: f64, out: &mut Vec<u8>) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
        return;
    }
    if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"Infinity" } else { b"-Infinity" });
        return;
    }
    let mut buf = zmij::Buffer::new();
    ruby_layout(buf.format_finite(v).as_bytes(), out);
}

/// Lay out a finite float's shortest round-trip text `s` (any of `-1.25e-7`, `1e16`,
/// `0.0001`, `100.0`) as Ruby's `Float#to_s`.
fn ruby_layout(s: &[u8], out: &mut Vec<u8>) {
    let (neg, s) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let (mantissa, exp) = match s.iter().position(|&c| c == b'e' || c == b'E') {
        Some(e) => (&s[..e], parse_exp(&s[e + 1..])),
        None => (s, 0),
    };
    // The significant digits (at most 17, plus the zeros of `0.000ddd`) and where the decimal
    // point goes: value = 0.DIGITS * 10^decpt.
    let mut digits = [0u8; 32];
    let mut n = 0;
    // Digits before the point from the first non-zero one, zeros after the point before it.
    let mut int_len = 0i32;
    let mut lead_zeros = 0i32;
    let mut seen_point = false;
    for &c in mantissa {
        if c == b'.' {
            seen_point = true;
        } else if c == b'0' && n == 0 {
            lead_zeros += i32::from(seen_point);
        } else if c.is_ascii_digit() {
            // Past 17 significant digits a shortest text has only zeros.
            if let Some(slot) = digits.get_mut(n) {
                *slot = c;
                n += 1;
            }
            int_len += i32::from(!seen_point);
        }
    }
    let end = n - digits[..n].iter().rev().take_while(|&&c| c == b'0').count();
    let (digits, decpt) = if end == 0 {
        (&b"0"[..], 1)
    } else {
        (&digits[..end], int_len - lead_zeros + exp)
    };
    let digs = digits.len() as i32;
    if neg {
        out.push(b'-');
    }
    // Ruby's `flo_to_s`: a fraction is written out up to 16 digits before the point
    // (`2618630342051599.5`), a whole number up to 15 (`1.0e+15`, `9.999999999999998e+15`).
    if decpt > 0 && (decpt <= 15 || (decpt == 16 && decpt < digs)) {
        let d = decpt as usize;
        if decpt < digs {
            out.extend_from_slice(&digits[..d]);
            out.push(b'.');
            out.extend_from_slice(&digits[d..]);
        } else {
            out.extend_from_slice(digits);
            out.extend(std::iter::repeat_n(b'0', (decpt - digs) as usize));
            out.extend_from_slice(b".0");
        }
    } else if decpt <= 0 && decpt > -4 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-decpt) as usize));
        out.extend_from_slice(digits);
    } else {
        out.push(digits[0]);
        out.push(b'.');
        if digits.len() > 1 {
            out.extend_from_slice(&digits[1..]);
        } else {
            out.push(b'0');
        }
        let e = decpt - 1;
        out.push(b'e');
        out.push(if e < 0 { b'-' } else { b'+' });
        let e = e.unsigned_abs();
        if e >= 100 {
            out.push(b'0' + (e / 100) as u8);
        }
        out.push(b'0' + (e / 10 % 10) as u8);
        out.push(b'0' + (e % 10) as u8);
    }
}

/// A decimal exponent (`16`, `+16`, `-7`); shortest float texts have at most three digits.
fn parse_exp(s: &[u8]) -> i32 {
    let (sign, digits) = match s.split_first() {
        Some((b'-', rest)) => (-1, rest),
        Some((b'+', rest)) => (1, rest),
        _ => (1, s),
    };
    let mut e = 0i32;
    for &c in digits.iter().take(4) {
        e = e * 10 + i32::from(c.wrapping_sub(b'0').min(9));
    }
    sign * e
}

/// Append a float as JSON: Ruby text, `null` for NaN and infinities.
pub(crate) fn json_float(v: f64, out: &mut Vec<u8>) {
    if v.is_finite() {
        ruby_float(v, out);
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Append a float as Oj writes it in the mode Fluentd sets (`compat`): zero (either sign) is
/// `0.0`; a whole number from -2^63 up to (not including) 2^63 is its exact digits and `.0`
/// (Oj prints it with `%.1f`: `1e16` is `10000000000000000.0`, `1.2345678901234567e18` is
/// `1234567890123456768.0`, where Ruby writes `1.0e+16`); any other finite float Ruby's
/// `Float#to_s` text, as [`json_float`]. NaN and the infinities are `null`, as [`json_float`]
/// (Oj writes the bare words `NaN` and `Infinity`, which are not JSON: README "Differences
/// from Fluentd").
pub(crate) fn json_float_oj(v: f64, out: &mut Vec<u8>) {
    // 2^63 as f64; every whole float in [-2^63, 2^63) fits an i64 exactly.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if v == 0.0 {
        out.extend_from_slice(b"0.0");
    } else if (-TWO_63..TWO_63).contains(&v) && v.trunc() == v {
        // Sign, 19 digits at most, ".0": on the stack.
        let mut buf = [0u8; 24];
        let mut i = buf.len() - 2;
        buf[i..].copy_from_slice(b".0");
        let mut m = (v as i64).unsigned_abs();
        loop {
            i -= 1;
            buf[i] = b'0' + (m % 10) as u8;
            m /= 10;
            if m == 0 {
                break;
            }
        }
        if v < 0.0 {
            i -= 1;
            buf[i] = b'-';
        }
        out.extend_from_slice(&buf[i..]);
    } else {
        json_float(v, out);
    }
}

/// Append `bytes` as a quoted JSON string (invalid UTF-8 becomes U+FFFD,
/// non-ASCII stays raw, `/` is not escaped).
/// Control characters without a short escape are `\u001F` (yajl's upper-case hex).
pub fn json_string(bytes: &[u8], out: &mut Vec<u8>) {
    json_string_as::<false>(bytes, out);
}

/// [`json_string`] as Oj writes it: control characters without a short escape are `\u001f`
/// (lower-case hex), all else the same.
pub fn json_string_oj(bytes: &[u8], out: &mut Vec<u8>) {
    json_string_as::<true>(bytes, out);
}

/// [`json_string`] (`LOWER` false) or [`json_string_oj`]: each its own copy of the escaper.
#[inline]
fn json_string_as<const LOWER: bool>(bytes: &[u8], out: &mut Vec<u8>) {
    let mark = out.len();
    if !escape_into::<LOWER>(bytes, out) {
        out.truncate(mark);
        escape_into::<LOWER>(String::from_utf8_lossy(bytes).as_bytes(), out);
    }
}

/// How many bytes at the start of `b` are plain JSON string content: neither `"`, `\\` nor a
/// control character (below 0x20). A JSON parser's string scan: the run it can copy as is.
/// SSE2, 16 bytes at a time, on x86_64.
pub fn json_plain_len(b: &[u8]) -> usize {
    #[cfg(target_arch = "x86_64")]
    return crate::escape_sse2::prefix(b, false);
    #[cfg(not(target_arch = "x86_64"))]
    return json_plain_len_swar(b);
}

/// [`json_plain_len`] 8 bytes at a time.
#[cfg_attr(all(target_arch = "x86_64", not(test)), allow(dead_code))]
fn json_plain_len_swar(b: &[u8]) -> usize {
    let mut i = 0;
    while let Some(w) = b.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let m = escape_mask(u64::from_le_bytes(*w));
        if m != 0 {
            return i + (m.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + b[i..]
        .iter()
        .position(|&c| ESCAPE[usize::from(c)] != 0)
        .unwrap_or(b.len() - i)
}

/// The high bit of each byte of `w` (little-endian) that needs escaping: below 0x20, `"` or
/// `\`. Bits above the lowest one may be false positives (a borrow carries into the next byte);
/// the lowest one is exact.
#[inline]
pub(crate) fn escape_mask(w: u64) -> u64 {
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    control | zero_byte(w ^ (ONES * u64::from(b'"'))) | zero_byte(w ^ (ONES * u64::from(b'\\')))
}

const ONES: u64 = 0x0101_0101_0101_0101;
pub(crate) const HIGH: u64 = 0x8080_8080_8080_8080;

/// How each byte is written inside a JSON string: 0 as itself, `u` as `\u00XX`, else `\` and
/// that letter.
pub(crate) const ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = b'u';
        c += 1;
    }
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\t' as usize] = b't';
    t[0x08] = b'b';
    t[0x0c] = b'f';
    t
};

/// Upper-case hex digits, as yajl (Fluentd's out_file format, and its `json` format without Oj)
/// writes `\u001F`.
pub(crate) const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Lower-case hex digits, as Oj (Fluentd's `json` format as its images ship it) and Ruby's
/// `JSON.generate` write `\u001f`.
pub(crate) const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";

/// Write the escape of byte `c` (`e` = its non-zero [`ESCAPE`] entry) at the start of `dst`:
/// `\u00XX` (hex digits in lower case with `LOWER`, Oj's, else upper case, yajl's) or `\` and the
/// letter. Returns how many bytes it took (6 or 2).
#[inline(always)]
pub(crate) fn put_escape<const LOWER: bool>(c: u8, e: u8, dst: &mut [u8]) -> usize {
    let hex = if LOWER { HEX_LOWER } else { HEX };
    if e == b'u' {
        dst[..6].copy_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            hex[usize::from(c >> 4)],
            hex[usize::from(c & 0xf)],
        ]);
        6
    } else {
        dst[0] = b'\\';
        dst[1] = e;
        2
    }
}

/// Quote `b` as a JSON string; false (and `out` holds a partial string) if `b` is not valid
/// UTF-8. SSE2, 16 bytes at a time, on x86_64; the portable 8-byte loop elsewhere.
/// `LOWER`: `\u00xx` escapes in lower case.
#[inline]
fn escape_into<const LOWER: bool>(b: &[u8], out: &mut Vec<u8>) -> bool {
    #[cfg(target_arch = "x86_64")]
    return crate::escape_sse2::escape_into::<LOWER>(b, out);
    #[cfg(not(target_arch = "x86_64"))]
    return escape_into_swar::<LOWER>(b, out);
}

/// Quote `b` as a JSON string. Output goes through a small stack buffer, clean runs copied 8
/// bytes at a time, so a quote-dense string (a JSON log line) costs no call per escape. The
/// UTF-8 check is fused in: the bytes from the first non-ASCII one on are validated once; if they
/// are not valid UTF-8 this returns false (and `out` holds a partial string).
#[cfg_attr(all(target_arch = "x86_64", not(test)), allow(dead_code))]
fn escape_into_swar<const LOWER: bool>(b: &[u8], out: &mut Vec<u8>) -> bool {
    const STAGE: usize = 256;
    let mut buf = [0u8; STAGE];
    let mut n = 0;
    // High bits flag non-ASCII bytes until the rest of the string is known to be valid UTF-8.
    let mut high = HIGH;
    out.reserve(b.len() + 2);
    out.push(b'"');
    let mut i = 0;
    while i < b.len() {
        if n > STAGE - 16 {
            out.extend_from_slice(&buf[..n]);
            n = 0;
        }
        if let Some(w) = b.get(i..i + 8) {
            let w = u64::from_le_bytes(w.try_into().unwrap_or_default());
            buf[n..n + 8].copy_from_slice(&w.to_le_bytes());
            let m = escape_mask(w) | (w & high);
            if m == 0 {
                n += 8;
                i += 8;
                continue;
            }
            // The bytes before the first flagged one are clean and already staged.
            let k = (m.trailing_zeros() / 8) as usize;
            n += k;
            i += k;
        }
        let c = b[i];
        match ESCAPE[usize::from(c)] {
            0 => {
                if c >= 0x80 && high != 0 {
                    if std::str::from_utf8(&b[i..]).is_err() {
                        return false;
                    }
                    high = 0;
                }
                buf[n] = c;
                n += 1;
            }
            e => n += put_escape::<LOWER>(c, e, &mut buf[n..]),
        }
        i += 1;
    }
    out.extend_from_slice(&buf[..n]);
    out.push(b'"');
    true
}

#[cfg(test)]
mod tests {
    use super::{
        escape_into_swar, json_plain_len, json_plain_len_swar, json_string, json_string_oj,
        ruby_float, ruby_layout,
    };

    fn js(b: &[u8]) -> String {
        let mut out = Vec::new();
        json_string(b, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_string_escapes_at_every_position() {
        assert_eq!(js(b""), "\"\"");
        assert_eq!(
            js(b"plain ascii text, longer than 8"),
            "\"plain ascii text, longer than 8\""
        );
        for pos in 0..20 {
            for (c, esc) in [
                (b'"', "\\\""),
                (b'\\', "\\\\"),
                (b'\n', "\\n"),
                (b'\r', "\\r"),
                (b'\t', "\\t"),
                (0x08, "\\b"),
                (0x0c, "\\f"),
                (0x01, "\\u0001"),
                (0x1f, "\\u001F"),
            ] {
                let mut b = vec![b'a'; 20];
                b[pos] = c;
                let want = format!("\"{}{esc}{}\"", "a".repeat(pos), "a".repeat(19 - pos));
                assert_eq!(js(&b), want, "byte {c:#x} at {pos}");
            }
        }
        assert_eq!(
            js("héllo wörld ✓ 日本".as_bytes()),
            "\"héllo wörld ✓ 日本\""
        );
        assert_eq!(js(b"ok \xff\xfe bad"), "\"ok \u{fffd}\u{fffd} bad\"");
        // 0x7f and bytes >= 0x80 in valid UTF-8 are not escaped.
        assert_eq!(js(b"\x7f"), "\"\x7f\"");
    }

    /// Against serde_json's escaping (the same rules) on strings of every length up to 600 (the
    /// stage buffer flushes at 240), mixing clean runs, escapes, multi-byte UTF-8 and invalid bytes.
    #[test]
    fn json_string_matches_serde_json() {
        const PIECES: [&[u8]; 9] = [
            b"abcdefgh",
            b"\"",
            b"\\",
            b"\n",
            b"\x01",
            "\u{e9}".as_bytes(),
            "\u{65e5}\u{672c}".as_bytes(),
            b"\xff",
            b"{\"k\":\"v\"}",
        ];
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..600 {
            for _ in 0..4 {
                let mut b = Vec::new();
                while b.len() < len {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    b.extend_from_slice(PIECES[(rng % 9) as usize]);
                }
                b.truncate(len);
                let want = serde_json::to_string(&String::from_utf8_lossy(&b)).unwrap();
                assert_eq!(js(&b), want, "{b:?}");
            }
        }
    }

    /// The escaping rules spelled out one char at a time: the oracle for the fast loops.
    fn reference(b: &[u8]) -> Vec<u8> {
        reference_hex(b, false)
    }

    /// [`reference`], `\u00xx` in lower case with `lower` (Oj's).
    fn reference_hex(b: &[u8], lower: bool) -> Vec<u8> {
        let mut out = vec![b'"'];
        for c in String::from_utf8_lossy(b).chars() {
            match c {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\t' => out.extend_from_slice(b"\\t"),
                '\u{8}' => out.extend_from_slice(b"\\b"),
                '\u{c}' => out.extend_from_slice(b"\\f"),
                c if (c as u32) < 0x20 && lower => {
                    out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
                }
                c if (c as u32) < 0x20 => {
                    out.extend_from_slice(format!("\\u{:04X}", c as u32).as_bytes())
                }
                c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            }
        }
        out.push(b'"');
        out
    }

    /// `json_string` (the SSE2 loop on x86_64) and the portable loop, each against the oracle.
    fn check(b: &[u8]) {
        let want = reference(b);
        let mut got = Vec::new();
        json_string(b, &mut got);
        assert_eq!(got, want, "json_string of {b:?}");
        let mut oj = Vec::new();
        json_string_oj(b, &mut oj);
        assert_eq!(oj, reference_hex(b, true), "json_string_oj of {b:?}");
        let mut swar = Vec::new();
        if !escape_into_swar::<false>(b, &mut swar) {
            swar.clear();
            assert!(escape_into_swar::<false>(
                String::from_utf8_lossy(b).as_bytes(),
                &mut swar
            ));
        }
        assert_eq!(swar, want, "portable loop on {b:?}");
        #[cfg(target_arch = "x86_64")]
        {
            let mut sse2 = Vec::new();
            if !crate::escape_sse2::escape_into_sse2_only(b, &mut sse2) {
                sse2.clear();
                let lossy = String::from_utf8_lossy(b);
                assert!(crate::escape_sse2::escape_into_sse2_only(
                    lossy.as_bytes(),
                    &mut sse2
                ));
            }
            assert_eq!(sse2, want, "SSE2 loop without SSSE3 on {b:?}");
        }
    }

    /// Every byte value at every offset of strings of every length up to 64 (so at each lane of
    /// a 16-byte chunk, in the padded tail, and in the chunks after): ASCII escapes, clean
    /// bytes, and bytes >= 0x80 (alone, invalid UTF-8: U+FFFD).
    #[test]
    fn every_byte_at_every_offset() {
        for len in 1..=64 {
            for pos in 0..len {
                for c in 0..=255u8 {
                    let mut b = vec![b'a'; len];
                    b[pos] = c;
                    check(&b);
                }
            }
        }
    }

    /// Two flagged bytes in one chunk at every pair of offsets (the shifted stores of one chunk
    /// must compose), with escapes of both lengths and a non-ASCII byte among them.
    #[test]
    fn two_flagged_bytes_at_every_pair_of_offsets() {
        let kinds: [&[u8]; 5] = [b"\"", b"\x01", b"\n", "\u{e9}".as_bytes(), b"\xff"];
        for len in [16usize, 17, 31, 32, 33, 48] {
            for p in 0..len {
                for q in p..len {
                    for x in kinds {
                        for y in kinds {
                            let mut b = vec![b'a'; len];
                            b.splice(q..q + 1, y.iter().copied());
                            b.splice(p..p + 1, x.iter().copied());
                            check(&b);
                        }
                    }
                }
            }
        }
    }

    /// Every pattern of quotes and backslashes in a 16-byte chunk (the shuffle expansion on
    /// CPUs with SSSE3), after a clean start, after a non-ASCII letter, and before one.
    #[test]
    fn every_quote_and_backslash_pattern_of_a_chunk() {
        for m in 0..=0xffffu32 {
            let chunk: Vec<u8> = (0..16)
                .map(|j| match ((m >> j) & 1, j % 3) {
                    (0, _) => b'a' + j as u8,
                    (_, 0) => b'\\',
                    _ => b'"',
                })
                .collect();
            let mut b = b"0123456789abcde\"".to_vec();
            b.extend_from_slice(&chunk);
            b.extend_from_slice(b"0123456789abcdef0");
            check(&b);
            let mut u = "\u{e9}".as_bytes().to_vec();
            u.extend_from_slice(&b);
            check(&u);
            b.splice(35..36, "\u{e9}".bytes());
            check(&b);
            // The pattern's chunk overlapping the string's last 16 bytes (escapes in the part
            // already written).
            for k in [1, 7, 15] {
                let mut t = b"0123456789abcde\"".to_vec();
                t.extend_from_slice(&chunk);
                t.extend_from_slice(&chunk[..k]);
                check(&t);
            }
        }
    }

    /// Valid multi-byte UTF-8 at every offset followed by invalid bytes at every later offset
    /// (the check runs once, from the first non-ASCII byte; what follows must still be checked),
    /// and the reverse.
    #[test]
    fn invalid_utf8_after_valid_at_every_position() {
        for len in [8usize, 15, 16, 17, 31, 32, 33, 40, 64, 70] {
            for p in 0..len {
                for q in p + 2..len.max(p + 2) + 2 {
                    let mut b = vec![b'x'; len.max(q + 1)];
                    b[p..p + 2].copy_from_slice("\u{e9}".as_bytes());
                    b[q] = 0x80;
                    check(&b);
                    b[q] = b'"';
                    check(&b);
                    // A 4-byte sequence cut at the end.
                    let mut cut = b.clone();
                    cut.truncate(q);
                    cut.extend_from_slice(&"\u{1f600}".as_bytes()[..3]);
                    check(&cut);
                }
            }
        }
    }

    /// `json_plain_len` (SSE2 on x86_64) and its portable loop against the obvious scan: every
    /// byte value at every offset of every length to 64, non-ASCII bytes not stopping it.
    #[test]
    fn plain_len_at_every_offset() {
        let want = |b: &[u8]| {
            b.iter()
                .position(|&c| c < 0x20 || c == b'"' || c == b'\\')
                .unwrap_or(b.len())
        };
        for len in 0..=64 {
            for pos in 0..len.max(1) {
                for c in 0..=255u8 {
                    let mut b = vec![b'a'; len];
                    if let Some(x) = b.get_mut(pos) {
                        *x = c;
                    }
                    assert_eq!(json_plain_len(&b), want(&b), "{b:?}");
                    assert_eq!(json_plain_len_swar(&b), want(&b), "{b:?}");
                }
            }
        }
        let long = "é".repeat(1000) + "\"";
        assert_eq!(json_plain_len(long.as_bytes()), 2000);
        assert_eq!(json_plain_len_swar(long.as_bytes()), 2000);
    }

    /// Strings where every byte is escaped (6 or 2 output bytes each), of every length to 600:
    /// the stage buffer fills fastest here and must flush at every point of a chunk.
    #[test]
    fn dense_escapes_fill_and_flush_the_stage() {
        for len in 0..600 {
            check(&vec![0x01u8; len]);
            check(&vec![b'"'; len]);
            let mixed: Vec<u8> = (0..len).map(|i| [0x1f, b'a', b'\\'][i % 3]).collect();
            check(&mixed);
        }
        // Long, clean, and long with a late escape and a late non-ASCII byte.
        let mut long = vec![b'z'; 100_000];
        check(&long);
        long[99_990] = b'\t';
        long[99_995] = 0xc3;
        long[99_996] = 0xa9;
        check(&long);
        long[99_999] = 0xc3;
        check(&long);
    }

    fn f(v: f64) -> String {
        let mut out = Vec::new();
        ruby_float(v, &mut out);
        String::from_utf8(out).unwrap()
    }

    /// The previous implementation (through `format!("{v:e}")`, with its switch to scientific
    /// moved from exponent 16 to 15 as Ruby's): the oracle for [`ruby_layout`].
    /// Append `v` the way Ruby's `Float#to_s` prints it (`1.0`, `0.0001`,
    /// `1.0e+16`, `1.0e-05`, `NaN`, `Infinity`, `-Infinity`).
    fn ruby_float_fmt(v: f64, out: &mut Vec<u8>) {
        if v.is_nan() {
            out.extend_from_slice(b"NaN");
            return;
        }
        if v.is_infinite() {
            out.extend_from_slice(if v > 0.0 { b"Infinity" } else { b"-Infinity" });
            return;
        }
        // Shortest round-trip digits, e.g. "-1.2345e-5".
        let sci = format!("{v:e}");
        let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let (neg, mantissa) = match mantissa.strip_prefix('-') {
            Some(m) => (true, m),
            None => (false, mantissa),
        };
        let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
        let digs = digits.len() as i32;
        let decpt = exp + 1;
        if neg {
            out.push(b'-');
        }
        if decpt > 0 && (decpt <= 15 || (decpt == 16 && decpt < digs)) {
            let d = decpt as usize;
            if decpt < digs {
                out.extend_from_slice(&digits[..d]);
                out.push(b'.');
                out.extend_from_slice(&digits[d..]);
            } else {
                out.extend_from_slice(&digits);
                out.extend(std::iter::repeat_n(b'0', (decpt - digs) as usize));
                out.extend_from_slice(b".0");
            }
        } else if decpt <= 0 && decpt > -4 {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', (-decpt) as usize));
            out.extend_from_slice(&digits);
        } else {
            out.extend_from_slice(&digits[..1.min(digits.len())]);
            out.push(b'.');
            if digits.len() > 1 {
                out.extend_from_slice(&digits[1..]);
            } else {
                out.push(b'0');
            }
            let e = decpt - 1;
            out.push(b'e');
            out.push(if e < 0 { b'-' } else { b'+' });
            out.extend_from_slice(format!("{:02}", e.unsigned_abs()).as_bytes());
        }
    }

    /// The layout against the previous implementation's, on the same digits (Rust's shortest,
    /// through `format!("{v:e}")`): random bit patterns (every exponent, subnormals), integers,
    /// one-decimal values like `latency_ms`, values at the layout boundaries (1e-4/1e-5,
    /// 1e15/1e16). And `ruby_float` itself round-trips on all of them.
    #[test]
    fn ruby_layout_matches_the_format_based_layout() {
        let check = |v: f64| {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            ruby_layout(format!("{v:e}").as_bytes(), &mut a);
            ruby_float_fmt(v, &mut b);
            assert_eq!(a, b, "{v:e} ({:#x})", v.to_bits());
            // The same layout from Rust's plain `{}` text.
            a.clear();
            ruby_layout(format!("{v}").as_bytes(), &mut a);
            assert_eq!(a, b, "{v} ({:#x})", v.to_bits());
            a.clear();
            ruby_float(v, &mut a);
            let back: f64 = std::str::from_utf8(&a).unwrap().parse().unwrap();
            assert_eq!(back.to_bits(), v.to_bits(), "{v:e} round-trips");
        };
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = f64::from_bits(x);
            if v.is_finite() {
                check(v);
            }
            check(f64::from(f32::from_bits(x as u32 & 0x7f7f_ffff)));
            check((x % 2_500_000) as f64 / 10.0);
            check((x % 100_000) as f64 / 1000.0);
            check((x >> 11) as f64);
        }
        for e in -323..=307 {
            for m in [
                1.0,
                1.5,
                2.0,
                9.999_999_999_999_999,
                5.0,
                1.234_567_890_123_456_7,
            ] {
                let v = m * 10f64.powi(e);
                for v in [
                    v,
                    -v,
                    f64::from_bits(v.to_bits().wrapping_add(1)),
                    f64::from_bits(v.to_bits().wrapping_sub(1)),
                ] {
                    if v.is_finite() {
                        check(v);
                    }
                }
            }
        }
        for v in [
            0.0,
            -0.0,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::MIN,
            5e-324,
            1e15,
            1e16,
            1e-5,
        ] {
            check(v);
        }
    }

    /// Against Ruby 3.1's `Float#to_s` itself (what Fluentd's `to_json` writes), recorded in
    /// `tests/data/ruby_float_to_s.txt` (bit pattern, text): random doubles, f32 values widened
    /// (where the shortest digits can tie: Ruby takes the even one, `-1010.4382934570312`, where
    /// Rust's `format!` wrote `...313`), one- and three-decimal values, exponent boundaries, and
    /// 3,000 values with 14 to 18 digits before the point, where Ruby writes a fraction with 16
    /// of them (`2618630342051599.5`) but a whole number of 16 in exponent form (generated by
    /// `ruby -e 'srand(1); 3000.times { e = [13, 14, 15, 16, 17].sample; d = rand(1..17);
    /// m = rand(10**(d - 1)...10**d); f = (m.to_f / 10**(d - 1)) * 10.0**e;
    /// puts [f].pack("G").unpack1("H*") + " " + f.to_s }'`).
    #[test]
    fn ruby_float_matches_ruby() {
        let data = include_str!("../tests/data/ruby_float_to_s.txt");
        let mut n = 0;
        for line in data.lines() {
            let (bits, want) = line.split_once(' ').unwrap();
            let v = f64::from_bits(u64::from_str_radix(bits, 16).unwrap());
            let mut got = Vec::new();
            ruby_float(v, &mut got);
            assert_eq!(std::str::from_utf8(&got).unwrap(), want, "{bits}");
            n += 1;
        }
        assert!(n > 4000, "{n} values");
    }

    #[test]
    fn ruby_float_forms() {
        assert_eq!(f(1.0), "1.0");
        assert_eq!(f(1.5), "1.5");
        assert_eq!(f(0.0), "0.0");
        assert_eq!(f(-0.0), "-0.0");
        assert_eq!(f(100.0), "100.0");
        assert_eq!(f(0.1), "0.1");
        assert_eq!(f(0.0001), "0.0001");
        assert_eq!(f(0.00001), "1.0e-05");
        assert_eq!(f(1.25e-7), "1.25e-07");
        assert_eq!(f(1e15), "1.0e+15");
        assert_eq!(f(1e14), "100000000000000.0");
        assert_eq!(f(999_999_999_999_999.9), "999999999999999.9");
        assert_eq!(f(2_618_630_342_051_599.5), "2618630342051599.5");
        assert_eq!(f(9_999_999_999_999_998.0), "9.999999999999998e+15");
        assert_eq!(f(1e16), "1.0e+16");
        assert_eq!(f(1.5e20), "1.5e+20");
        assert_eq!(f(-2.5e300), "-2.5e+300");
        assert_eq!(f(1700000000.5), "1700000000.5");
        assert_eq!(f(f64::NAN), "NaN");
        assert_eq!(f(f64::NEG_INFINITY), "-Infinity");
    }
}

#[cfg(test)]
mod oj_tests {
    use super::{json_float_oj, json_string_oj};

    fn oj(v: f64) -> String {
        let mut out = Vec::new();
        json_float_oj(v, &mut out);
        String::from_utf8(out).unwrap()
    }

    /// Each as `Oj.dump` wrote it (Oj 3.14.2, `mode: :compat`, Ruby 3.1).
    #[test]
    fn floats_as_oj_writes_them() {
        for (v, want) in [
            (1e20, "1.0e+20"),
            (0.1, "0.1"),
            (100.0, "100.0"),
            (1.0e-5, "1.0e-05"),
            (1e16, "10000000000000000.0"),
            (1e15, "1000000000000000.0"),
            (-1e16, "-10000000000000000.0"),
            (123_456_789_012_345.6, "123456789012345.6"),
            (-0.0, "0.0"),
            (0.0, "0.0"),
            (1e300, "1.0e+300"),
            (5e-324, "5.0e-324"),
            (9_007_199_254_740_993.0, "9007199254740992.0"),
            (1.5e17, "150000000000000000.0"),
            (1.2345678901234567e18, "1234567890123456768.0"),
            (-9.223_372_036_854_776e18, "-9223372036854775808.0"),
            (9.223_372_036_854_776e18, "9.223372036854776e+18"),
            (1e22, "1.0e+22"),
            (1_000_000_000_000_000.5, "1000000000000000.5"),
            (0.30000000000000004, "0.30000000000000004"),
            (-7.0, "-7.0"),
        ] {
            assert_eq!(oj(v), want, "{v:e}");
        }
        // Oj writes the bare words, which are not JSON; logferry writes null (README).
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(oj(v), "null");
        }
    }

    #[test]
    fn control_characters_in_lower_case_hex() {
        let mut out = Vec::new();
        json_string_oj(
            "a\u{1}b\u{1f}c\u{7f}d\u{b}\"/\u{2028}é\n".as_bytes(),
            &mut out,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"a\\u0001b\\u001fc\u{7f}d\\u000b\\\"/\u{2028}é\\n\""
        );
    }
}
