//! Lookups in a raw msgpack option map.

use logferry_msgpack::Reader;

/// Raw bytes of the value of `key` in the msgpack map `raw` (str or bin keys,
/// the last duplicate wins). `None` if `raw` is not a map or lacks the key.
pub(crate) fn lookup<'a>(raw: &'a [u8], key: &str) -> Option<&'a [u8]> {
    let mut r = Reader::new(raw);
    let n = r.read_map_len().ok()?;
    let mut found = None;
    for _ in 0..n {
        let k = r.read_raw().ok()?;
        let v = r.read_raw().ok()?;
        if Reader::new(k).read_str().ok() == Some(key.as_bytes()) {
            found = Some(v);
        }
    }
    found
}

/// True for values Ruby treats as truthy (anything but nil and false).
pub(crate) fn truthy(raw: &[u8]) -> bool {
    !matches!(raw.first(), None | Some(0xc0 | 0xc2))
}
