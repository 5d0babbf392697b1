//! Escapers to compare with `logferry_msgpack::json_string`: memchr-driven, serde_json's and
//! sonic-rs's string serializers (both valid UTF-8 only, so the caller checks first, as
//! logferry must).

/// memchr2 finds the next `"` or `\`; the run before it is checked for control characters and
/// copied. Invalid UTF-8 goes through `from_utf8_lossy` first.
pub fn memchr_escape(b: &[u8], out: &mut Vec<u8>) {
    let lossy;
    let b = match std::str::from_utf8(b) {
        Ok(_) => b,
        Err(_) => {
            lossy = String::from_utf8_lossy(b).into_owned();
            lossy.as_bytes()
        }
    };
    out.reserve(b.len() + 2);
    out.push(b'"');
    let mut rest = b;
    loop {
        let stop = memchr::memchr2(b'"', b'\\', rest).unwrap_or(rest.len());
        let run = &rest[..stop];
        if run.iter().any(|&c| c < 0x20) {
            for &c in run {
                push_escaped(c, out);
            }
        } else {
            out.extend_from_slice(run);
        }
        match rest.get(stop) {
            Some(&c) => {
                out.push(b'\\');
                out.push(c);
                rest = &rest[stop + 1..];
            }
            None => break,
        }
    }
    out.push(b'"');
}

fn push_escaped(c: u8, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    match c {
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        c if c < 0x20 => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(c >> 4)],
            HEX[usize::from(c & 0xf)],
        ]),
        c => out.push(c),
    }
}

/// serde_json's string serializer (lower-case `\u001f`: not Fluentd's bytes for control
/// characters; the bench data has none).
pub fn serde_json_escape(b: &[u8], out: &mut Vec<u8>) {
    let s = String::from_utf8_lossy(b);
    let _ = serde_json::to_writer(&mut *out, &*s);
}

/// sonic-rs's SIMD string serializer (same caveat as serde_json's).
pub fn sonic_escape(b: &[u8], out: &mut Vec<u8>) {
    let s = String::from_utf8_lossy(b);
    let _ = sonic_rs::to_writer(&mut *out, &*s);
}
