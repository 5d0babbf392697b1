//! Minimal-size msgpack encoders appending to a `Vec<u8>`.

fn marker_len(out: &mut Vec<u8>, len: usize, m8: u8, m16: u8, m32: u8) {
    if len <= 0xff {
        out.push(m8);
        out.push(len as u8);
    } else if len <= 0xffff {
        out.push(m16);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(m32);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

/// Append `nil`.
pub fn nil(out: &mut Vec<u8>) {
    out.push(0xc0);
}

/// Append a boolean.
pub fn bool(out: &mut Vec<u8>, v: bool) {
    out.push(if v { 0xc3 } else { 0xc2 });
}

/// Append a signed integer in its smallest encoding.
pub fn int(out: &mut Vec<u8>, v: i64) {
    if v >= 0 {
        uint(out, v as u64);
    } else if v >= -32 {
        out.push(v as i8 as u8);
    } else if v >= i64::from(i8::MIN) {
        out.push(0xd0);
        out.push(v as i8 as u8);
    } else if v >= i64::from(i16::MIN) {
        out.push(0xd1);
        out.extend_from_slice(&(v as i16).to_be_bytes());
    } else if v >= i64::from(i32::MIN) {
        out.push(0xd2);
        out.extend_from_slice(&(v as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// Append an unsigned integer in its smallest encoding.
pub fn uint(out: &mut Vec<u8>, v: u64) {
    if v <= 0x7f {
        out.push(v as u8);
    } else if v <= 0xff {
        out.push(0xcc);
        out.push(v as u8);
    } else if v <= 0xffff {
        out.push(0xcd);
        out.extend_from_slice(&(v as u16).to_be_bytes());
    } else if v <= 0xffff_ffff {
        out.push(0xce);
        out.extend_from_slice(&(v as u32).to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// Append a float64.
pub fn f64(out: &mut Vec<u8>, v: f64) {
    out.push(0xcb);
    out.extend_from_slice(&v.to_bits().to_be_bytes());
}

/// Append a UTF-8 string as msgpack str.
pub fn str(out: &mut Vec<u8>, v: &str) {
    str_bytes(out, v.as_bytes());
}

/// Append arbitrary bytes with a str header.
pub fn str_bytes(out: &mut Vec<u8>, v: &[u8]) {
    if v.len() < 32 {
        out.push(0xa0 | v.len() as u8);
    } else {
        marker_len(out, v.len(), 0xd9, 0xda, 0xdb);
    }
    out.extend_from_slice(v);
}

/// Append bytes as msgpack bin.
pub fn bin(out: &mut Vec<u8>, v: &[u8]) {
    marker_len(out, v.len(), 0xc4, 0xc5, 0xc6);
    out.extend_from_slice(v);
}

/// Append an array header for `n` elements.
pub fn array_len(out: &mut Vec<u8>, n: u32) {
    if n < 16 {
        out.push(0x90 | n as u8);
    } else if n <= 0xffff {
        out.push(0xdc);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xdd);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Append a map header for `n` key/value pairs.
pub fn map_len(out: &mut Vec<u8>, n: u32) {
    if n < 16 {
        out.push(0x80 | n as u8);
    } else if n <= 0xffff {
        out.push(0xde);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        out.push(0xdf);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Append an ext value (fixext when the payload size allows).
pub fn ext(out: &mut Vec<u8>, ty: i8, data: &[u8]) {
    let fixed = match data.len() {
        1 => Some(0xd4),
        2 => Some(0xd5),
        4 => Some(0xd6),
        8 => Some(0xd7),
        16 => Some(0xd8),
        _ => None,
    };
    match fixed {
        Some(m) => out.push(m),
        None => marker_len(out, data.len(), 0xc7, 0xc8, 0xc9),
    }
    out.push(ty as u8);
    out.extend_from_slice(data);
}
