//! The code as it was before the change (logferry e93e333, `crates/msgpack/src/text.rs`), kept
//! verbatim but for visibility, as the "before" column of the same run.
#![allow(missing_docs, clippy::all)]

//! Text helpers shared by the JSON and `to_s` renderers: Ruby float
//! formatting and JSON string escaping.

/// Append `v` the way Ruby's `Float#to_s` prints it (`1.0`, `0.0001`,
/// `1.0e+16`, `1.0e-05`, `NaN`, `Infinity`, `-Infinity`).
pub fn ruby_float(v: f64, out: &mut Vec<u8>) {
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
    if decpt > 0 && decpt <= 16 {
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

/// Append a float as JSON: Ruby text, `null` for NaN and infinities.
pub fn json_float(v: f64, out: &mut Vec<u8>) {
    if v.is_finite() {
        ruby_float(v, out);
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Append `bytes` as a quoted JSON string (invalid UTF-8 becomes U+FFFD,
/// non-ASCII stays raw, `/` is not escaped).
pub fn json_string(bytes: &[u8], out: &mut Vec<u8>) {
    let mark = out.len();
    if !escape_into(bytes, out) {
        out.truncate(mark);
        escape_into(String::from_utf8_lossy(bytes).as_bytes(), out);
    }
}

/// The high bit of each byte of `w` (little-endian) that needs escaping: below 0x20, `"` or
/// `\`. Bits above the lowest one may be false positives (a borrow carries into the next byte);
/// the lowest one is exact.
#[inline]
fn escape_mask(w: u64) -> u64 {
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    control | zero_byte(w ^ (ONES * u64::from(b'"'))) | zero_byte(w ^ (ONES * u64::from(b'\\')))
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// How each byte is written inside a JSON string: 0 as itself, `u` as `\u00XX`, else `\` and
/// that letter.
const ESCAPE: [u8; 256] = {
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

/// Quote `b` as a JSON string. Output goes through a small stack buffer, clean runs copied 8
/// bytes at a time, so a quote-dense string (a JSON log line) costs no call per escape. The
/// UTF-8 check is fused in: the bytes from the first non-ASCII one on are validated once; if they
/// are not valid UTF-8 this returns false (and `out` holds a partial string).
fn escape_into(b: &[u8], out: &mut Vec<u8>) -> bool {
    const STAGE: usize = 256;
    // Upper-case hex digits, as Fluentd's JSON writers (yajl, Ruby's json) write `\u001F`.
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
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
            b'u' => {
                buf[n..n + 6].copy_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(c >> 4)],
                    HEX[usize::from(c & 0xf)],
                ]);
                n += 6;
            }
            e => {
                buf[n] = b'\\';
                buf[n + 1] = e;
                n += 2;
            }
        }
        i += 1;
    }
    out.extend_from_slice(&buf[..n]);
    out.push(b'"');
    true
}
