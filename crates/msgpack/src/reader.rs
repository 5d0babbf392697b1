//! [`Reader`]: a zero-copy cursor reading typed values from a byte slice.

use crate::error::{Error, Result};
use crate::head::{head, Head, Kind};
use crate::scan::value_len;

/// The whole length (header and payload) of the value starting `buf` when its marker tells it
/// at once: fixed-size scalars and ext, fixstr, and str8/bin8/str16/bin16 (whose length bytes
/// must be there). `None` for everything else (containers, 32-bit lengths, variable ext, `0xc1`,
/// an empty or cut header), which [`value_len`] handles. Whether that many bytes follow is not
/// checked.
#[inline]
pub fn short_len(buf: &[u8]) -> Option<usize> {
    let m = *buf.first()?;
    Some(match m {
        0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => 1,
        0xa0..=0xbf => 1 + usize::from(m & 0x1f),
        0xcc | 0xd0 => 2,
        0xcd | 0xd1 | 0xd4 => 3,
        0xd5 => 4,
        0xca | 0xce | 0xd2 => 5,
        0xd6 => 6,
        0xcb | 0xcf | 0xd3 => 9,
        0xd7 => 10,
        0xd8 => 18,
        0xc4 | 0xd9 => 2 + usize::from(*buf.get(1)?),
        0xc5 | 0xda => 3 + usize::from(u16::from_be_bytes([*buf.get(1)?, *buf.get(2)?])),
        _ => return None,
    })
}

/// Cursor over a msgpack byte slice. A failed read never advances it.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// A reader positioned at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The bytes not consumed yet.
    pub fn remaining(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }

    /// True when every byte was consumed.
    pub fn is_empty(&self) -> bool {
        self.remaining().is_empty()
    }

    /// The next marker byte, if any.
    pub fn peek(&self) -> Option<u8> {
        self.remaining().first().copied()
    }

    fn head(&self) -> Result<Head> {
        head(self.remaining())
    }

    /// Consume a scalar whose header and payload must be present.
    fn take(&mut self, h: Head) -> Result<&'a [u8]> {
        let rest = self.remaining();
        let total = h.total();
        if rest.len() < total {
            return Err(Error::Incomplete);
        }
        self.pos += total;
        Ok(&rest[h.hdr..total])
    }

    /// Read `nil`.
    pub fn read_nil(&mut self) -> Result<()> {
        let h = self.head()?;
        match h.kind {
            Kind::Nil => self.take(h).map(|_| ()),
            _ => Err(Error::Invalid("expected nil")),
        }
    }

    /// Read a boolean.
    pub fn read_bool(&mut self) -> Result<bool> {
        let h = self.head()?;
        match h.kind {
            Kind::Bool(b) => self.take(h).map(|_| b),
            _ => Err(Error::Invalid("expected bool")),
        }
    }

    /// Read an integer of any width (non-minimal encodings accepted);
    /// unsigned values above `i64::MAX` are `Invalid`.
    pub fn read_i64(&mut self) -> Result<i64> {
        let h = self.head()?;
        let v = match h.kind {
            Kind::UInt(u) => {
                i64::try_from(u).map_err(|_| Error::Invalid("integer overflows i64"))?
            }
            Kind::NegInt(i) => i,
            _ => return Err(Error::Invalid("expected integer")),
        };
        self.take(h).map(|_| v)
    }

    /// Read a non-negative integer of any width.
    pub fn read_u64(&mut self) -> Result<u64> {
        let h = self.head()?;
        match h.kind {
            Kind::UInt(u) => self.take(h).map(|_| u),
            Kind::NegInt(_) => Err(Error::Invalid("negative integer")),
            _ => Err(Error::Invalid("expected integer")),
        }
    }

    /// Read a float32 or float64 as `f64`.
    pub fn read_f64(&mut self) -> Result<f64> {
        let h = self.head()?;
        let v = match h.kind {
            Kind::F32(f) => f64::from(f),
            Kind::F64(f) => f,
            _ => return Err(Error::Invalid("expected float")),
        };
        self.take(h).map(|_| v)
    }

    /// Read a str or bin value and return its payload.
    pub fn read_str(&mut self) -> Result<&'a [u8]> {
        let h = self.head()?;
        match h.kind {
            Kind::Str | Kind::Bin => self.take(h),
            _ => Err(Error::Invalid("expected str or bin")),
        }
    }

    /// Read an array header and return its element count.
    pub fn read_array_len(&mut self) -> Result<u32> {
        let h = self.head()?;
        match h.kind {
            Kind::Array(n) => self.take(h).map(|_| n),
            _ => Err(Error::Invalid("expected array")),
        }
    }

    /// Read a map header and return its pair count.
    pub fn read_map_len(&mut self) -> Result<u32> {
        let h = self.head()?;
        match h.kind {
            Kind::Map(n) => self.take(h).map(|_| n),
            _ => Err(Error::Invalid("expected map")),
        }
    }

    /// Read an ext value: `(type, payload)`.
    pub fn read_ext(&mut self) -> Result<(i8, &'a [u8])> {
        let h = self.head()?;
        match h.kind {
            Kind::Ext(ty) => self.take(h).map(|p| (ty, p)),
            _ => Err(Error::Invalid("expected ext")),
        }
    }

    /// Read the raw bytes of the next whole value (containers included).
    pub fn read_raw(&mut self) -> Result<&'a [u8]> {
        let rest = self.remaining();
        // A scalar, string, bin or ext is its header and payload: no walk needed (and for the
        // usual markers, no header decoding either).
        let n = match short_len(rest) {
            Some(n) => n,
            None => {
                let h = crate::head::head(rest)?;
                match h.kind {
                    crate::head::Kind::Array(_) | crate::head::Kind::Map(_) => value_len(rest)?,
                    _ => h.total(),
                }
            }
        };
        if rest.len() < n {
            return Err(Error::Incomplete);
        }
        self.pos += n;
        Ok(&rest[..n])
    }

    /// Skip the next whole value.
    pub fn skip(&mut self) -> Result<()> {
        self.read_raw().map(|_| ())
    }
}
