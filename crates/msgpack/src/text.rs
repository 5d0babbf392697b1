//! Text helpers shared by the JSON and `to_s` renderers: Ruby float
//! formatting and JSON string escaping.

/// Append `v` the way Ruby's `Float#to_s` prints it (`1.0`, `0.0001`,
/// `1.0e+16`, `1.0e-05`, `NaN`, `Infinity`, `-Infinity`).
pub(crate) fn ruby_float(v: f64, out: &mut Vec<u8>) {
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
pub(crate) fn json_float(v: f64, out: &mut Vec<u8>) {
    if v.is_finite() {
        ruby_float(v, out);
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Append `bytes` as a quoted JSON string (invalid UTF-8 becomes U+FFFD,
/// non-ASCII stays raw, `/` is not escaped).
pub(crate) fn json_string(bytes: &[u8], out: &mut Vec<u8>) {
    // ASCII (the usual case) is valid UTF-8 and checked faster than by a full validation.
    if bytes.is_ascii() || std::str::from_utf8(bytes).is_ok() {
        escape_into(bytes, out)
    } else {
        escape_into(String::from_utf8_lossy(bytes).as_bytes(), out)
    }
}

/// The high bit of each byte of `w` (little-endian) that needs escaping: below 0x20, `"` or
/// `\`. Bits above the lowest one may be false positives (a borrow carries into the next byte);
/// the lowest one is exact.
#[inline]
fn escape_mask(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    control | zero_byte(w ^ (ONES * u64::from(b'"'))) | zero_byte(w ^ (ONES * u64::from(b'\\')))
}

/// Quote valid UTF-8 `b` as a JSON string, copying runs without escapes in bulk.
fn escape_into(b: &[u8], out: &mut Vec<u8>) {
    out.reserve(b.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        // Skip clean bytes 8 at a time, and straight to the first byte that needs escaping.
        if let Some(w) = b.get(i..i + 8) {
            let m = escape_mask(u64::from_le_bytes(w.try_into().unwrap_or_default()));
            if m == 0 {
                i += 8;
                continue;
            }
            i += (m.trailing_zeros() / 8) as usize;
        }
        let c = b[i];
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(&b[start..i]);
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(c >> 4)]);
            out.push(HEX[usize::from(c & 0xf)]);
        } else {
            out.extend_from_slice(esc);
        }
        i += 1;
        start = i;
    }
    out.extend_from_slice(&b[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::{json_string, ruby_float};

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
                (0x1f, "\\u001f"),
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

    fn f(v: f64) -> String {
        let mut out = Vec::new();
        ruby_float(v, &mut out);
        String::from_utf8(out).unwrap()
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
        assert_eq!(f(1e15), "1000000000000000.0");
        assert_eq!(f(1e16), "1.0e+16");
        assert_eq!(f(1.5e20), "1.5e+20");
        assert_eq!(f(-2.5e300), "-2.5e+300");
        assert_eq!(f(1700000000.5), "1700000000.5");
        assert_eq!(f(f64::NAN), "NaN");
        assert_eq!(f(f64::NEG_INFINITY), "-Infinity");
    }
}
