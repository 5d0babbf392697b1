//! UTF-16 and UTF-32 files, as Fluentd 1.16's in_tail reads them with `from_encoding`: a line
//! ends in the newline *unit* (`0A 00` in UTF-16LE, `00 00 00 0A` in UTF-32BE ...) found at a
//! unit boundary counted from where the reading started, never in a `0x0A` byte inside another
//! character; each line is decoded to UTF-8 with every invalid unit (an unpaired surrogate, a
//! code point over U+10FFFF) replaced by U+FFFD, as Ruby's `String#encode` with `invalid:
//! :replace` does. A byte-order mark of an explicit-order encoding (`UTF-16LE` ...) stays in the
//! first line as U+FEFF, as in Fluentd. The BOM-dependent `UTF-16` and `UTF-32` (which Fluentd
//! never splits into lines) take their byte order from the file's first unit, big-endian
//! without a BOM (RFC 2781), and drop the BOM.

/// The byte order of a wide encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// Least significant byte first (`UTF-16LE`, `UTF-32LE`).
    Little,
    /// Most significant byte first (`UTF-16BE`, `UTF-32BE`).
    Big,
    /// Decided by the file's byte-order mark (`UTF-16`, `UTF-32`).
    Bom,
}

/// A UTF-16 or UTF-32 encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wide {
    /// Bytes per unit: 2 or 4.
    pub unit: usize,
    /// Byte order.
    pub order: Order,
}

/// The wide encodings by their Ruby names and aliases.
pub const NAMES: &[(&str, Wide)] = &[
    ("UTF-16LE", Wide::new(2, Order::Little)),
    ("UTF-16BE", Wide::new(2, Order::Big)),
    ("UCS-2BE", Wide::new(2, Order::Big)),
    ("UTF-16", Wide::new(2, Order::Bom)),
    ("UTF-32LE", Wide::new(4, Order::Little)),
    ("UCS-4LE", Wide::new(4, Order::Little)),
    ("UTF-32BE", Wide::new(4, Order::Big)),
    ("UCS-4BE", Wide::new(4, Order::Big)),
    ("UTF-32", Wide::new(4, Order::Bom)),
];

impl Wide {
    const fn new(unit: usize, order: Order) -> Wide {
        Wide { unit, order }
    }

    /// Look a wide encoding up by its Ruby name (any case).
    pub fn lookup(name: &str) -> Option<Wide> {
        NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, w)| *w)
    }
}

/// Splits and decodes the lines of one file in a wide encoding.
#[derive(Clone, Copy, Debug)]
pub struct Decoder {
    wide: Wide,
    /// The byte order in use (`None`: not known yet, the file's first unit decides).
    little: Option<bool>,
}

impl Decoder {
    /// A decoder for `wide`.
    pub fn new(wide: Wide) -> Decoder {
        let little = match wide.order {
            Order::Little => Some(true),
            Order::Big => Some(false),
            Order::Bom => None,
        };
        Decoder { wide, little }
    }

    /// Bytes per unit.
    pub fn unit(&self) -> usize {
        self.wide.unit
    }

    /// The byte order is still to be read from the file's first unit ([`Decoder::resolve`]).
    pub fn needs_head(&self) -> bool {
        self.little.is_none()
    }

    /// Take the byte order from the file's first unit: a BOM, else big-endian.
    pub fn resolve(&mut self, head: &[u8]) {
        let le_bom: &[u8] = if self.unit() == 2 {
            b"\xff\xfe"
        } else {
            b"\xff\xfe\x00\x00"
        };
        self.little = Some(head == le_bom);
    }

    /// Forget a byte order read from the file (it was truncated: read it again).
    pub fn forget(&mut self) {
        if self.wide.order == Order::Bom {
            self.little = None;
        }
    }

    fn little(&self) -> bool {
        self.little.unwrap_or(false)
    }

    /// The number one unit's bytes stand for.
    fn value(&self, unit: &[u8]) -> u32 {
        let add = |v: u32, &b: &u8| (v << 8) | u32::from(b);
        if self.little() {
            unit.iter().rev().fold(0, add)
        } else {
            unit.iter().fold(0, add)
        }
    }

    /// Is `unit` (one unit's bytes) the newline?
    pub fn is_newline(&self, unit: &[u8]) -> bool {
        self.value(unit) == u32::from(b'\n')
    }

    /// Offset of the first newline unit in `data` (which starts at a unit boundary).
    pub fn find_newline(&self, data: &[u8]) -> Option<usize> {
        let u = self.unit();
        // The 0x0A byte's place inside the unit.
        let at = if self.little() { 0 } else { u - 1 };
        memchr::memchr_iter(b'\n', data).find_map(|i| {
            let start = i.checked_sub(at)?;
            (start % u == 0 && start + u <= data.len() && self.is_newline(&data[start..start + u]))
                .then_some(start)
        })
    }

    /// Append `line` (whole units) decoded to UTF-8 to `out`; `first` says it starts the file
    /// (the BOM of `UTF-16`/`UTF-32` is dropped there).
    pub fn decode_into(&self, line: &[u8], first: bool, out: &mut Vec<u8>) {
        let u = self.unit();
        let mut units = line.chunks_exact(u);
        if first
            && self.wide.order == Order::Bom
            && units.clone().next().map(|b| self.value(b)) == Some(0xFEFF)
        {
            units.next();
        }
        let mut buf = [0u8; 4];
        let mut put = |c: char| out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        if u == 2 {
            let units16 = units.by_ref().map(|b| self.value(b) as u16);
            for c in char::decode_utf16(units16) {
                put(c.unwrap_or(char::REPLACEMENT_CHARACTER));
            }
        } else {
            for b in units.by_ref() {
                put(char::from_u32(self.value(b)).unwrap_or(char::REPLACEMENT_CHARACTER));
            }
        }
        if !units.remainder().is_empty() {
            put(char::REPLACEMENT_CHARACTER);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(name: &str) -> Decoder {
        Decoder::new(Wide::lookup(name).unwrap())
    }

    fn utf8(d: &Decoder, line: &[u8], first: bool) -> String {
        let mut out = Vec::new();
        d.decode_into(line, first, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn newline_units_at_unit_boundaries_only() {
        let le = dec("utf-16le");
        // U+0A41 U+4100 is 41 0A 00 41: a 0A 00 at an odd offset is no newline.
        assert_eq!(le.find_newline(b"\x41\x0a\x00\x41a\x00\n\x00"), Some(6));
        assert_eq!(le.find_newline(b"\x41\x0a\x00\x41"), None);
        let be = dec("UTF-16BE");
        assert_eq!(be.find_newline(b"\x0a\x00\x00\x0a"), Some(2));
        let le32 = dec("UCS-4LE");
        assert_eq!(le32.find_newline(b"a\0\0\0\n\0\0\0"), Some(4));
        assert_eq!(le32.find_newline(b"\0\n\0\0\0\0\0\0"), None);
    }

    #[test]
    fn invalid_units_become_replacement_characters() {
        // As Fluentd 1.16.11 converted them (tests/e2e_tail.rs has the recorded lines).
        let le = dec("UTF-16LE");
        assert_eq!(utf8(&le, b"a\x00\x00\xd8b\x00", false), "a\u{fffd}b");
        assert_eq!(utf8(&le, b"c\x00\x00\xdcd\x00", false), "c\u{fffd}d");
        assert_eq!(utf8(&le, b"\x3d\xd8\x00\xde", false), "\u{1f600}");
        let be32 = dec("UTF-32BE");
        assert_eq!(utf8(&be32, b"\x00\x11\x00\x00", false), "\u{fffd}");
        assert_eq!(utf8(&be32, b"\x00\x00\xd8\x00", false), "\u{fffd}");
    }

    #[test]
    fn bom_dependent_encodings_read_the_order_and_drop_the_bom() {
        let mut d = dec("UTF-16");
        assert!(d.needs_head());
        d.resolve(b"\xff\xfe");
        assert_eq!(utf8(&d, b"\xff\xfea\x00", true), "a");
        assert_eq!(utf8(&d, b"\xff\xfea\x00", false), "\u{feff}a");
        d.forget();
        d.resolve(b"\x00a");
        assert_eq!(utf8(&d, b"\x00a", true), "a");
        let mut d = dec("utf-32");
        d.resolve(b"\x00\x00\xfe\xff");
        assert_eq!(utf8(&d, b"\x00\x00\xfe\xff\x00\x00\x00a", true), "a");
        // An explicit order keeps the BOM as U+FEFF, as Fluentd does.
        let le = dec("UTF-16LE");
        assert!(!le.needs_head());
        assert_eq!(utf8(&le, b"\xff\xfea\x00", true), "\u{feff}a");
    }
}
