//! Maps that repeat a key, read as Fluentd reads them.
//!
//! msgpack-ruby builds a Ruby Hash by assigning each pair in turn, so a key that comes again
//! keeps its first place and takes its last value; Fluentd reads every record that way (in_forward
//! decodes Message and Forward entries, and a filter or formatter decodes PackedForward ones).
//! Keys are told apart as Ruby's `eql?` does: an Integer whatever its width, a Float by value
//! (`0.0` is `-0.0`, NaN is no other key), `nil`, `true`, `false`, and a str or bin by its bytes,
//! a str and a bin being one key only when ASCII (Ruby's binary and UTF-8 strings are `eql?`
//! then). Other keys (arrays, maps, ext values) are compared by their bytes.
//!
//! [`has_repeated_keys`] tells whether a value holds such a map at any depth, without
//! allocating for maps of up to [`SMALL_MAP`] keys; [`fold_repeated_keys`] writes the value with
//! each such map folded.

use std::hash::{BuildHasher, Hasher};

use crate::error::{Error, Result};
use crate::head::{head, Kind};
use crate::scan::{value_len, MAX_DEPTH};
use crate::write;

/// Keys of one map compared by fingerprint pairwise, on the stack, up to this many.
const SMALL_MAP: usize = 16;

/// A map key as a Ruby Hash tells keys apart.
#[derive(Clone, Copy, Debug)]
enum Key<'a> {
    Int(i128),
    Float(f64),
    Nil,
    Bool(bool),
    /// A str (`bin` false) or bin body.
    Text {
        bytes: &'a [u8],
        bin: bool,
    },
    /// An array, map or ext key: its bytes.
    Raw(&'a [u8]),
}

impl Key<'_> {
    /// Ruby's `eql?` on the keys' values.
    fn same(&self, other: &Key<'_>) -> bool {
        match (self, other) {
            (Key::Int(a), Key::Int(b)) => a == b,
            (Key::Float(a), Key::Float(b)) => a == b,
            (Key::Nil, Key::Nil) => true,
            (Key::Bool(a), Key::Bool(b)) => a == b,
            (Key::Text { bytes: a, bin: x }, Key::Text { bytes: b, bin: y }) => {
                a == b && (x == y || a.is_ascii())
            }
            (Key::Raw(a), Key::Raw(b)) => a == b,
            _ => false,
        }
    }

    /// A hash of the key, equal for keys that are [`same`](Self::same).
    fn hash_into(&self, h: &mut impl Hasher) {
        match self {
            Key::Int(i) => {
                h.write_u8(1);
                h.write_i128(*i);
            }
            Key::Float(f) => {
                h.write_u8(2);
                h.write_u64(if *f == 0.0 { 0 } else { f.to_bits() });
            }
            Key::Nil => h.write_u8(3),
            Key::Bool(b) => h.write_u8(4 + u8::from(*b)),
            Key::Text { bytes, .. } => {
                h.write_u8(6);
                h.write(bytes);
            }
            Key::Raw(bytes) => {
                h.write_u8(7);
                h.write(bytes);
            }
        }
    }
}

/// FNV-1a: the fingerprint of the keys of a small map (a few pairwise comparisons; a crafted
/// collision costs at most [`SMALL_MAP`] squared byte comparisons).
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3);
        }
    }
}

fn fnv(key: &Key<'_>) -> u64 {
    let mut h = Fnv(0xcbf2_9ce4_8422_2325);
    key.hash_into(&mut h);
    h.finish()
}

/// The key at the start of `buf`, and its length.
fn key_at(buf: &[u8]) -> Result<(Key<'_>, usize)> {
    let h = head(buf)?;
    let total = h.total();
    let body = || buf.get(h.hdr..total).ok_or(Error::Incomplete);
    let key = match h.kind {
        Kind::UInt(u) => Key::Int(i128::from(u)),
        Kind::NegInt(i) => Key::Int(i128::from(i)),
        Kind::F32(f) => Key::Float(f64::from(f)),
        Kind::F64(f) => Key::Float(f),
        Kind::Nil => Key::Nil,
        Kind::Bool(b) => Key::Bool(b),
        Kind::Str => Key::Text {
            bytes: body()?,
            bin: false,
        },
        Kind::Bin => Key::Text {
            bytes: body()?,
            bin: true,
        },
        Kind::Array(_) | Kind::Map(_) => {
            let n = value_len(buf)?;
            return Ok((Key::Raw(&buf[..n]), n));
        }
        Kind::Ext(_) => Key::Raw(buf.get(..total).ok_or(Error::Incomplete)?),
    };
    Ok((key, total))
}

/// Why [`scan`] stopped before the value's end.
enum Stop {
    Repeated,
    /// Cut short or malformed.
    Bad,
}

impl From<Error> for Stop {
    fn from(_: Error) -> Self {
        Stop::Bad
    }
}

/// True when a map in the msgpack value at the start of `value`, at any depth, repeats a key
/// (for bytes cut short or malformed, false or, when the repeat comes before the fault, true).
pub fn has_repeated_keys(value: &[u8]) -> bool {
    matches!(scan(value, 0), Err(Stop::Repeated))
}

/// Where the value at the start of `buf` ends, unless a map in it repeats a key.
fn scan(buf: &[u8], depth: usize) -> std::result::Result<usize, Stop> {
    let h = head(buf)?;
    match h.kind {
        Kind::Array(n) => {
            if depth >= MAX_DEPTH {
                return Err(Error::TooDeep.into());
            }
            let mut pos = h.hdr;
            for _ in 0..n {
                pos += scan(buf.get(pos..).ok_or(Error::Incomplete)?, depth + 1)?;
            }
            Ok(pos)
        }
        Kind::Map(n) => {
            if depth >= MAX_DEPTH {
                return Err(Error::TooDeep.into());
            }
            if n as usize > SMALL_MAP {
                return scan_large_map(buf, h.hdr, n, depth);
            }
            let mut prints = [0u64; SMALL_MAP];
            let mut spans = [(0u32, 0u32); SMALL_MAP];
            let mut pos = h.hdr;
            for i in 0..n as usize {
                let rest = buf.get(pos..).ok_or(Error::Incomplete)?;
                let (key, len) = key_at(rest)?;
                let print = fnv(&key);
                for j in 0..i {
                    if prints[j] == print {
                        let (at, l) = spans[j];
                        let (other, _) = key_at(&buf[at as usize..at as usize + l as usize])?;
                        if key.same(&other) {
                            return Err(Stop::Repeated);
                        }
                    }
                }
                prints[i] = print;
                let at = u32::try_from(pos).map_err(|_| Error::Invalid("value too large"))?;
                spans[i] = (at, len as u32);
                pos += len;
                pos += scan(buf.get(pos..).ok_or(Error::Incomplete)?, depth + 1)?;
            }
            Ok(pos)
        }
        _ => {
            let total = h.total();
            if buf.len() < total {
                return Err(Error::Incomplete.into());
            }
            Ok(total)
        }
    }
}

/// [`scan`] of a map of more than [`SMALL_MAP`] keys: its keys' hashes (keyed by the process's
/// random seed, so no input makes them collide) sorted, equal ones compared.
fn scan_large_map(
    buf: &[u8],
    hdr: usize,
    n: u32,
    depth: usize,
) -> std::result::Result<usize, Stop> {
    let mut pos = hdr;
    let mut keys = Vec::new();
    for _ in 0..n {
        let rest = buf.get(pos..).ok_or(Error::Incomplete)?;
        let (key, len) = key_at(rest)?;
        keys.push(key);
        pos += len;
        pos += scan(buf.get(pos..).ok_or(Error::Incomplete)?, depth + 1)?;
    }
    if first_of_each(&keys)
        .iter()
        .enumerate()
        .any(|(i, f)| *f != i)
    {
        return Err(Stop::Repeated);
    }
    Ok(pos)
}

/// For each key, the index of the first key that is the same (its own index when it is the
/// first).
fn first_of_each(keys: &[Key<'_>]) -> Vec<usize> {
    let state = seed();
    let mut order: Vec<(u64, usize)> = keys
        .iter()
        .enumerate()
        // NaN is no other key (and all NaNs would share a hash).
        .filter(|(_, k)| !matches!(k, Key::Float(f) if f.is_nan()))
        .map(|(i, k)| {
            let mut h = state.build_hasher();
            k.hash_into(&mut h);
            (h.finish(), i)
        })
        .collect();
    order.sort_unstable();
    let mut first: Vec<usize> = (0..keys.len()).collect();
    let mut run = 0;
    while run < order.len() {
        let end = run
            + order[run..]
                .iter()
                .take_while(|(h, _)| *h == order[run].0)
                .count();
        // In index order: each key is the first of its kind or the same as an earlier first.
        let mut firsts: Vec<usize> = Vec::new();
        for &(_, i) in &order[run..end] {
            match firsts.iter().find(|&&f| keys[f].same(&keys[i])) {
                Some(&f) => first[i] = f,
                None => firsts.push(i),
            }
        }
        run = end;
    }
    first
}

/// The process's hash seed for [`first_of_each`].
fn seed() -> std::hash::RandomState {
    static SEED: std::sync::OnceLock<std::hash::RandomState> = std::sync::OnceLock::new();
    SEED.get_or_init(std::hash::RandomState::new).clone()
}

/// Where the msgpack value at the start of `buf` ends (as [`crate::walk`], calling `on_ext` for
/// every ext value), and whether a map in it may repeat a key: a quick test by fingerprints of
/// the keys, for walks that read every value anyway (in_forward's entries). `false` is sure;
/// `true` (a repeat, two keys with one fingerprint, a map of more than [`SMALL_MAP`] keys, or
/// container keys) asks [`has_repeated_keys`].
pub fn walk_keys<E, F>(buf: &[u8], mut on_ext: F) -> std::result::Result<(usize, bool), E>
where
    E: From<Error>,
    F: FnMut(i8, &[u8]) -> std::result::Result<(), E>,
{
    let mut maybe = false;
    let mut failed = None;
    let mut ext = |ty: i8, payload: &[u8]| match on_ext(ty, payload) {
        Ok(()) => true,
        Err(e) => {
            failed = Some(e);
            false
        }
    };
    match walk_value(buf, 0, &mut ext, &mut maybe) {
        Ok(n) => Ok((n, maybe)),
        Err(e) => Err(failed.unwrap_or_else(|| e.into())),
    }
}

/// The length of a value of the markers records are mostly made of (short strings, small
/// integers, nil, booleans), read without a call; `None` for any other, or when cut short.
#[inline(always)]
fn short_value(buf: &[u8]) -> Option<usize> {
    let m = *buf.first()?;
    let n = match m {
        0x00..=0x7f | 0xc0 | 0xc2 | 0xc3 | 0xe0..=0xff => 1,
        0xa0..=0xbf => 1 + usize::from(m & 0x1f),
        0xd9 => 2 + usize::from(*buf.get(1)?),
        _ => return None,
    };
    (n <= buf.len()).then_some(n)
}

/// The value at the start of `buf`: its length. `ext` false stops the walk (its error kept by
/// the caller).
fn walk_value(
    buf: &[u8],
    depth: usize,
    ext: &mut dyn FnMut(i8, &[u8]) -> bool,
    maybe: &mut bool,
) -> Result<usize> {
    let m = *buf.first().ok_or(Error::Incomplete)?;
    let short = match m {
        0x00..=0x7f | 0xc0 | 0xc2 | 0xc3 | 0xe0..=0xff => 1,
        0xa0..=0xbf => 1 + usize::from(m & 0x1f),
        0xd9 => 2 + usize::from(*buf.get(1).ok_or(Error::Incomplete)?),
        0x80..=0x8f => return walk_map(buf, 1, usize::from(m & 0x0f), depth, ext, maybe),
        0x90..=0x9f => return walk_array(buf, 1, usize::from(m & 0x0f), depth, ext, maybe),
        _ => {
            let h = head(buf)?;
            return match h.kind {
                Kind::Array(n) => walk_array(buf, h.hdr, n as usize, depth, ext, maybe),
                Kind::Map(n) => walk_map(buf, h.hdr, n as usize, depth, ext, maybe),
                kind => {
                    let total = h.total();
                    let value = buf.get(..total).ok_or(Error::Incomplete)?;
                    if let Kind::Ext(ty) = kind {
                        if !ext(ty, &value[h.hdr..]) {
                            return Err(Error::Invalid("ext type refused"));
                        }
                    }
                    Ok(total)
                }
            };
        }
    };
    if buf.len() < short {
        return Err(Error::Incomplete);
    }
    Ok(short)
}

fn walk_array(
    buf: &[u8],
    hdr: usize,
    n: usize,
    depth: usize,
    ext: &mut dyn FnMut(i8, &[u8]) -> bool,
    maybe: &mut bool,
) -> Result<usize> {
    if depth >= MAX_DEPTH {
        return Err(Error::TooDeep);
    }
    let mut pos = hdr;
    for _ in 0..n {
        pos += walk_item(buf, pos, depth, ext, maybe)?;
    }
    Ok(pos)
}

/// The length of the item at `pos` of a container at `depth`: a short one read in place, any
/// other walked.
#[inline(always)]
fn walk_item(
    buf: &[u8],
    pos: usize,
    depth: usize,
    ext: &mut dyn FnMut(i8, &[u8]) -> bool,
    maybe: &mut bool,
) -> Result<usize> {
    let rest = buf.get(pos..).ok_or(Error::Incomplete)?;
    match short_value(rest) {
        Some(len) => Ok(len),
        None => walk_value(rest, depth + 1, ext, maybe),
    }
}

fn walk_map(
    buf: &[u8],
    hdr: usize,
    n: usize,
    depth: usize,
    ext: &mut dyn FnMut(i8, &[u8]) -> bool,
    maybe: &mut bool,
) -> Result<usize> {
    if depth >= MAX_DEPTH {
        return Err(Error::TooDeep);
    }
    if n > SMALL_MAP {
        *maybe = true;
    }
    let mut prints = [0u64; SMALL_MAP];
    let mut seen = 0u64;
    let mut pos = hdr;
    for i in 0..n {
        let klen = walk_item(buf, pos, depth, ext, maybe)?;
        if i < SMALL_MAP && !*maybe {
            let print = quick_print(&buf[pos..pos + klen]);
            // A bit per print first: the list is read only when the bit was set before.
            let bit = 1u64 << (print.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58);
            if seen & bit != 0 && prints[..i].contains(&print) {
                *maybe = true;
            }
            seen |= bit;
            prints[i] = print;
        }
        pos += klen;
        pos += walk_item(buf, pos, depth, ext, maybe)?;
    }
    Ok(pos)
}

/// A fingerprint of a whole key value, equal for keys that are [`Key::same`]: a str or bin by
/// its length and three of its bytes (first, middle, last), an integer or float by its value; any other key one
/// fingerprint (two such keys ask for the full test).
#[inline]
fn quick_print(key: &[u8]) -> u64 {
    const TEXT: u64 = 1 << 63;
    let m = key[0];
    let text = match m {
        0xa0..=0xbf => &key[1..],
        0xd9 | 0xc4 => &key[2..],
        0xda | 0xc5 => &key[3..],
        0xdb | 0xc6 => &key[5..],
        _ => {
            return match head(key).map(|h| h.kind) {
                Ok(Kind::UInt(u)) => u & !TEXT,
                Ok(Kind::NegInt(i)) => (i as u64) & !TEXT,
                Ok(Kind::F32(f)) => float_print(f64::from(f)),
                Ok(Kind::F64(f)) => float_print(f),
                Ok(Kind::Nil) => 1,
                Ok(Kind::Bool(b)) => 2 + u64::from(b),
                _ => 4,
            };
        }
    };
    let n = text.len();
    if n == 0 {
        return TEXT;
    }
    let at = |i: usize| u64::from(text[i]);
    TEXT | (n as u64 & 0xff_ffff) | at(0) << 24 | at(n - 1) << 32 | at(n / 2) << 40
}

fn float_print(f: f64) -> u64 {
    // Not an integer's print as often: the top bit set, as texts', but no text's low bits.
    (if f == 0.0 { 0 } else { f.to_bits() }).rotate_left(7) | 1 << 62
}

/// Back-to-back entries (`ends`: where each ends in `data`) whose records start `header` bytes
/// into each, with every record map that repeats a key folded ([`fold_repeated_keys`]), and the
/// new ends, in a buffer of its own no larger than its bytes; `None` when no record repeats a key
/// (each record walked once by [`walk_keys`], the few it flags tested fully; nothing copied).
pub fn fold_records(data: &[u8], ends: &[u32], header: usize) -> Option<(Vec<u8>, Vec<u32>)> {
    let record = |start: usize, end: usize| data.get(start + header..end);
    let repeats = |rec: &[u8]| {
        matches!(walk_keys(rec, |_, _| Ok::<(), Error>(())), Ok((_, true)))
            && has_repeated_keys(rec)
    };
    let mut start = 0usize;
    let first = ends.iter().position(|&end| {
        let found = record(start, end as usize).is_some_and(repeats);
        start = end as usize;
        found
    })?;
    let mut out = Vec::with_capacity(data.len());
    let mut new_ends = Vec::with_capacity(ends.len());
    let mut start = 0usize;
    for (i, &end) in ends.iter().enumerate() {
        let (from, to) = (start, end as usize);
        start = to;
        match record(from, to) {
            Some(rec) if i >= first && repeats(rec) => {
                let mark = out.len();
                out.extend_from_slice(&data[from..from + header]);
                // A whole value: folding it does not fail; if it did, as it came.
                if fold_repeated_keys(rec, &mut out).is_err() {
                    out.truncate(mark);
                    out.extend_from_slice(&data[from..to]);
                }
            }
            _ => out.extend_from_slice(data.get(from..to)?),
        }
        // Folding never lengthens a record, so the ends fit as the old ones did.
        new_ends.push(u32::try_from(out.len()).ok()?);
    }
    // An allocation no larger than its bytes (the callers keep it as a tight batch).
    out.shrink_to_fit();
    Some((out, new_ends))
}

/// Append the msgpack value at the start of `value` to `out` with every map that repeats a key
/// folded as a Ruby Hash holds it: each key once, at its first place, with its last value
/// (itself folded). Returns the length of the value read.
pub fn fold_repeated_keys(value: &[u8], out: &mut Vec<u8>) -> Result<usize> {
    fold(value, out, 0)
}

fn fold(buf: &[u8], out: &mut Vec<u8>, depth: usize) -> Result<usize> {
    let h = head(buf)?;
    match h.kind {
        Kind::Array(n) => {
            if depth >= MAX_DEPTH {
                return Err(Error::TooDeep);
            }
            out.extend_from_slice(&buf[..h.hdr]);
            let mut pos = h.hdr;
            for _ in 0..n {
                pos += fold(buf.get(pos..).ok_or(Error::Incomplete)?, out, depth + 1)?;
            }
            Ok(pos)
        }
        Kind::Map(n) => {
            if depth >= MAX_DEPTH {
                return Err(Error::TooDeep);
            }
            let mut keys = Vec::new();
            let mut spans = Vec::new();
            let mut pos = h.hdr;
            for _ in 0..n {
                let rest = buf.get(pos..).ok_or(Error::Incomplete)?;
                let (key, klen) = key_at(rest)?;
                let vlen = value_len(buf.get(pos + klen..).ok_or(Error::Incomplete)?)?;
                keys.push(key);
                spans.push((pos, klen, vlen));
                pos += klen + vlen;
            }
            let first = first_of_each(&keys);
            let mut last: Vec<usize> = (0..keys.len()).collect();
            for (i, &f) in first.iter().enumerate() {
                last[f] = i;
            }
            let kept = first.iter().enumerate().filter(|(i, f)| i == *f).count();
            if kept == keys.len() {
                out.extend_from_slice(&buf[..h.hdr]);
            } else {
                write::map_len(out, kept as u32);
            }
            for (i, &f) in first.iter().enumerate() {
                if i != f {
                    continue;
                }
                let (at, klen, _) = spans[i];
                out.extend_from_slice(&buf[at..at + klen]);
                let (vat, vklen, _) = spans[last[i]];
                fold(&buf[vat + vklen..], out, depth + 1)?;
            }
            Ok(pos)
        }
        _ => {
            let total = h.total();
            out.extend_from_slice(buf.get(..total).ok_or(Error::Incomplete)?);
            Ok(total)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        write::map_len(&mut out, pairs.len() as u32);
        for (k, v) in pairs {
            out.extend_from_slice(k);
            out.extend_from_slice(v);
        }
        out
    }

    fn s(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        write::str(&mut out, text);
        out
    }

    fn folded(v: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        assert_eq!(fold_repeated_keys(v, &mut out).unwrap(), v.len());
        out
    }

    #[test]
    fn a_repeated_key_keeps_its_first_place_and_its_last_value() {
        let (a, b) = (s("a"), s("b"));
        let rec = map(&[(&a, &[1]), (&b, &s("x")), (&a, &[3])]);
        assert!(has_repeated_keys(&rec));
        assert_eq!(folded(&rec), map(&[(&a, &[3]), (&b, &s("x"))]));
        let plain = map(&[(&a, &[1]), (&b, &[2])]);
        assert!(!has_repeated_keys(&plain));
        assert_eq!(folded(&plain), plain);
    }

    #[test]
    fn nested_maps_are_folded_in_the_value_kept() {
        let (m, k, j) = (s("m"), s("k"), s("j"));
        let inner1 = map(&[(&k, &[1]), (&k, &[2])]);
        let inner2 = map(&[(&k, &[9]), (&j, &[8]), (&k, &[7])]);
        let mut arr = vec![0x91];
        arr.extend(map(&[(&k, &[5]), (&k, &[6])]));
        let rec = map(&[(&m, &inner1), (&s("arr"), &arr), (&m, &inner2)]);
        assert!(has_repeated_keys(&rec));
        let mut arr2 = vec![0x91];
        arr2.extend(map(&[(&k, &[6])]));
        assert_eq!(
            folded(&rec),
            map(&[(&m, &map(&[(&k, &[7]), (&j, &[8])])), (&s("arr"), &arr2)])
        );
        // Only inside an array.
        assert!(has_repeated_keys(&arr));
    }

    #[test]
    fn keys_are_told_apart_as_ruby_hash_keys() {
        let one_str = s("1");
        // 1 as fixint, uint8 and int16 is one Integer; "1" another key.
        assert!(has_repeated_keys(&map(&[(&[1], &[0]), (&[0xcc, 1], &[0])])));
        assert!(has_repeated_keys(&map(&[
            (&[1], &[0]),
            (&[0xd1, 0, 1], &[0])
        ])));
        assert!(!has_repeated_keys(&map(&[(&[1], &[0]), (&one_str, &[0])])));
        // 1.5 as float32 and float64; 0.0 and -0.0; NaN never.
        let f32k = [0xca, 0x3f, 0xc0, 0, 0];
        let mut f64k = vec![0xcb];
        f64k.extend_from_slice(&1.5f64.to_be_bytes());
        assert!(has_repeated_keys(&map(&[(&f32k, &[0]), (&f64k, &[0])])));
        let mut zero = vec![0xcb];
        zero.extend_from_slice(&0.0f64.to_be_bytes());
        let mut negzero = vec![0xcb];
        negzero.extend_from_slice(&(-0.0f64).to_be_bytes());
        assert!(has_repeated_keys(&map(&[(&zero, &[0]), (&negzero, &[0])])));
        let mut nan = vec![0xcb];
        nan.extend_from_slice(&f64::NAN.to_be_bytes());
        assert!(!has_repeated_keys(&map(&[(&nan, &[0]), (&nan, &[0])])));
        // Integer 1 and Float 1.0 differ.
        let mut onef = vec![0xcb];
        onef.extend_from_slice(&1.0f64.to_be_bytes());
        assert!(!has_repeated_keys(&map(&[(&[1], &[0]), (&onef, &[0])])));
        // str and bin: one key when ASCII only.
        assert!(has_repeated_keys(&map(&[
            (&s("a"), &[0]),
            (&[0xc4, 1, b'a'], &[0])
        ])));
        let e = "é".as_bytes();
        let bin_e = [0xc4, 2, e[0], e[1]];
        assert!(!has_repeated_keys(&map(&[(&s("é"), &[0]), (&bin_e, &[0])])));
        assert!(has_repeated_keys(&map(&[(&s("é"), &[0]), (&s("é"), &[0])])));
        assert!(has_repeated_keys(&map(&[(&[0xc0], &[0]), (&[0xc0], &[1])])));
    }

    #[test]
    fn large_maps_are_checked_through_hashes() {
        let keys: Vec<Vec<u8>> = (0..100).map(|i| s(&format!("k{i}"))).collect();
        let pairs: Vec<(&[u8], &[u8])> = keys.iter().map(|k| (k.as_slice(), &[1u8][..])).collect();
        assert!(!has_repeated_keys(&map(&pairs)));
        let mut dup = pairs.clone();
        dup.push((&keys[40], &[2]));
        let rec = map(&dup);
        assert!(has_repeated_keys(&rec));
        let mut want = pairs.clone();
        want[40] = (&keys[40], &[2]);
        assert_eq!(folded(&rec), map(&want));
        // Many NaN keys: none the same as another, each compared with none.
        let mut nan = vec![0xcb];
        nan.extend_from_slice(&f64::NAN.to_be_bytes());
        let nans: Vec<(&[u8], &[u8])> = (0..50_000).map(|_| (&nan[..], &[3u8][..])).collect();
        assert!(!has_repeated_keys(&map(&nans)));
        // Many repeats of one key: one pass.
        let many: Vec<(&[u8], &[u8])> = (0..10_000).map(|_| (&keys[0][..], &[3u8][..])).collect();
        assert_eq!(folded(&map(&many)), map(&[(&keys[0], &[3])]));
    }

    /// `walk_keys` on `v`: its length is `v`'s, and a repeat is always flagged.
    fn quick(v: &[u8]) -> bool {
        let (n, maybe) = walk_keys(v, |_, _| Ok::<(), Error>(())).unwrap();
        assert_eq!(n, v.len());
        assert!(maybe || !has_repeated_keys(v));
        maybe
    }

    #[test]
    fn the_quick_walk_flags_every_repeat_and_few_others() {
        let (a, b) = (s("a"), s("b"));
        assert!(quick(&map(&[(&a, &[1]), (&b, &[2]), (&a, &[3])])));
        assert!(!quick(&map(&[(&a, &[1]), (&b, &[2])])));
        // Keys that are one as Ruby reads them: int widths, float widths, str and bin, -0.0.
        assert!(quick(&map(&[(&[1], &[0]), (&[0xcc, 1], &[0])])));
        assert!(quick(&map(&[(&[0xff], &[0]), (&[0xd0, 0xff], &[0])])));
        let mut f64k = vec![0xcb];
        f64k.extend_from_slice(&1.5f64.to_be_bytes());
        assert!(quick(&map(&[
            (&[0xca, 0x3f, 0xc0, 0, 0], &[0]),
            (&f64k, &[0])
        ])));
        assert!(quick(&map(&[(&s("a"), &[0]), (&[0xc4, 1, b'a'], &[0])])));
        let long = "k".repeat(300);
        let mut str16 = vec![0xda, 1, 44];
        str16.extend_from_slice(long.as_bytes());
        assert!(quick(&map(&[(&s(&long), &[0]), (&str16, &[0])])));
        // Nested, and in arrays.
        let inner = map(&[(&a, &[1]), (&a, &[2])]);
        assert!(quick(&map(&[(&b, &inner)])));
        let mut arr = vec![0x92, 0xc0];
        arr.extend(&inner);
        assert!(quick(&arr));
        // Keys alike but for a byte the print does not read: told apart by the full test.
        let (k1, k2) = (s("ab1defgh-x-ijklmnop"), s("ab2defgh-x-ijklmnop"));
        let rec = map(&[(&k1, &[0]), (&k2, &[0])]);
        assert!(quick(&rec) && !has_repeated_keys(&rec));
        // Records as Docker's log driver sends them.
        let docker = map(&[
            (&s("container_id"), &s("0123456789abcdef")),
            (&s("container_name"), &s("/app")),
            (&s("source"), &s("stdout")),
            (&s("log"), &s("hello")),
        ]);
        assert!(!quick(&docker));
        // An unknown ext value is reported as `walk` reports it.
        let ext = map(&[(&a, &[0xd4, 5, 0])]);
        let got = walk_keys(&ext, |ty, _| {
            if ty == 5 {
                Err(Error::Invalid("ext"))
            } else {
                Ok(())
            }
        });
        assert!(got.is_err());
    }

    #[test]
    fn malformed_bytes_are_not_repeated_keys() {
        let a = s("a");
        let rec = map(&[(&a, &[1]), (&a, &[3])]);
        for cut in 0..rec.len() {
            // The repeat is seen once the second key is read.
            assert_eq!(has_repeated_keys(&rec[..cut]), cut >= 6, "{cut}");
            assert!(fold_repeated_keys(&rec[..cut], &mut Vec::new()).is_err());
        }
        let mut deep = vec![0x91; MAX_DEPTH + 1];
        deep.push(0xc0);
        assert!(!has_repeated_keys(&deep));
        for cut in 0..rec.len() {
            assert!(walk_keys(&rec[..cut], |_, _| Ok::<(), Error>(())).is_err());
        }
        assert_eq!(
            walk_keys(&deep, |_, _| Ok::<(), Error>(())).map_err(|e| e.to_string()),
            crate::value_len(&deep)
                .map(|n| (n, false))
                .map_err(|e| e.to_string())
        );
        assert!(fold_repeated_keys(&deep, &mut Vec::new()).is_err());
    }
}
