//! Decoding of one value header (marker byte plus fixed-size fields).

use crate::error::{Error, Result};

/// What a header announces.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Kind {
    Nil,
    Bool(bool),
    /// Non-negative integer (any width).
    UInt(u64),
    /// Negative integer (any width).
    NegInt(i64),
    F32(f32),
    F64(f64),
    Str,
    Bin,
    Array(u32),
    Map(u32),
    Ext(i8),
}

/// A decoded header: `hdr` bytes of header followed by `body` bytes of payload
/// (containers have `body == 0`; their elements follow).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Head {
    pub kind: Kind,
    pub hdr: usize,
    pub body: usize,
}

impl Head {
    /// Header plus payload length; saturates instead of overflowing.
    pub fn total(&self) -> usize {
        self.hdr.saturating_add(self.body)
    }
}

fn be(buf: &[u8], at: usize, n: usize) -> Result<u64> {
    let bytes = buf.get(at..at + n).ok_or(Error::Incomplete)?;
    Ok(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

fn len_head(kind: Kind, buf: &[u8], n: usize) -> Result<Head> {
    let len = be(buf, 1, n)?;
    Ok(Head {
        kind,
        hdr: 1 + n,
        body: usize::try_from(len).map_err(|_| Error::Invalid("length too large"))?,
    })
}

fn ext_head(buf: &[u8], len_bytes: usize, fixed: Option<usize>) -> Result<Head> {
    let body = match fixed {
        Some(n) => n,
        None => usize::try_from(be(buf, 1, len_bytes)?)
            .map_err(|_| Error::Invalid("length too large"))?,
    };
    let ty = *buf.get(1 + len_bytes).ok_or(Error::Incomplete)? as i8;
    Ok(Head {
        kind: Kind::Ext(ty),
        hdr: 2 + len_bytes,
        body,
    })
}

fn scalar(kind: Kind, hdr: usize) -> Head {
    Head { kind, hdr, body: 0 }
}

/// Decode the header at the start of `buf`. `Incomplete` when the header
/// itself is cut; the payload is not checked.
pub(crate) fn head(buf: &[u8]) -> Result<Head> {
    let m = *buf.first().ok_or(Error::Incomplete)?;
    Ok(match m {
        0x00..=0x7f => scalar(Kind::UInt(u64::from(m)), 1),
        0x80..=0x8f => scalar(Kind::Map(u32::from(m & 0x0f)), 1),
        0x90..=0x9f => scalar(Kind::Array(u32::from(m & 0x0f)), 1),
        0xa0..=0xbf => Head {
            kind: Kind::Str,
            hdr: 1,
            body: usize::from(m & 0x1f),
        },
        0xc0 => scalar(Kind::Nil, 1),
        0xc1 => return Err(Error::Invalid("invalid msgpack byte 0xc1")),
        0xc2 => scalar(Kind::Bool(false), 1),
        0xc3 => scalar(Kind::Bool(true), 1),
        0xc4 => len_head(Kind::Bin, buf, 1)?,
        0xc5 => len_head(Kind::Bin, buf, 2)?,
        0xc6 => len_head(Kind::Bin, buf, 4)?,
        0xc7 => ext_head(buf, 1, None)?,
        0xc8 => ext_head(buf, 2, None)?,
        0xc9 => ext_head(buf, 4, None)?,
        0xca => scalar(Kind::F32(f32::from_bits(be(buf, 1, 4)? as u32)), 5),
        0xcb => scalar(Kind::F64(f64::from_bits(be(buf, 1, 8)?)), 9),
        0xcc => scalar(Kind::UInt(be(buf, 1, 1)?), 2),
        0xcd => scalar(Kind::UInt(be(buf, 1, 2)?), 3),
        0xce => scalar(Kind::UInt(be(buf, 1, 4)?), 5),
        0xcf => scalar(Kind::UInt(be(buf, 1, 8)?), 9),
        0xd0 => signed(be(buf, 1, 1)? as u8 as i8 as i64, 2),
        0xd1 => signed(be(buf, 1, 2)? as u16 as i16 as i64, 3),
        0xd2 => signed(be(buf, 1, 4)? as u32 as i32 as i64, 5),
        0xd3 => signed(be(buf, 1, 8)? as i64, 9),
        0xd4 => ext_head(buf, 0, Some(1))?,
        0xd5 => ext_head(buf, 0, Some(2))?,
        0xd6 => ext_head(buf, 0, Some(4))?,
        0xd7 => ext_head(buf, 0, Some(8))?,
        0xd8 => ext_head(buf, 0, Some(16))?,
        0xd9 => len_head(Kind::Str, buf, 1)?,
        0xda => len_head(Kind::Str, buf, 2)?,
        0xdb => len_head(Kind::Str, buf, 4)?,
        0xdc => scalar(Kind::Array(be(buf, 1, 2)? as u32), 3),
        0xdd => scalar(Kind::Array(be(buf, 1, 4)? as u32), 5),
        0xde => scalar(Kind::Map(be(buf, 1, 2)? as u32), 3),
        0xdf => scalar(Kind::Map(be(buf, 1, 4)? as u32), 5),
        0xe0..=0xff => scalar(Kind::NegInt(i64::from(m as i8)), 1),
    })
}

fn signed(v: i64, hdr: usize) -> Head {
    if v >= 0 {
        scalar(Kind::UInt(v as u64), hdr)
    } else {
        scalar(Kind::NegInt(v), hdr)
    }
}
