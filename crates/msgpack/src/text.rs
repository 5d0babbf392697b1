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
    let text = String::from_utf8_lossy(bytes);
    out.push(b'"');
    for &b in text.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x00..=0x1f => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 0xf)]);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::ruby_float;

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
