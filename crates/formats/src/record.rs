//! Record helpers: decode on demand and set a field on raw bytes. Record accessors are in
//! [`crate::accessor`].

use logferry_msgpack::{write, Reader, Value};

/// Decode raw record bytes into a map value (an undecodable record becomes an empty map).
pub fn decode(raw: &[u8]) -> Value {
    match Value::decode(raw) {
        Ok((v @ Value::Map(_), _)) => v,
        _ => Value::Map(Vec::new()),
    }
}

/// Decode raw record bytes like [`decode`], but a string that is not valid UTF-8 keeps its bytes
/// (as a [`Value::Bin`]) instead of being decoded lossily: for the text formatters, which write a
/// value's bytes as they are, as Fluentd's do.
pub fn decode_keep_bytes(raw: &[u8]) -> Value {
    let mut r = Reader::new(raw);
    match keep_bytes(&mut r, 0) {
        Some(v @ Value::Map(_)) => v,
        _ => decode(raw),
    }
}

fn keep_bytes(r: &mut Reader, depth: usize) -> Option<Value> {
    if depth > logferry_msgpack::MAX_DEPTH {
        return None;
    }
    match r.peek()? {
        0xa0..=0xbf | 0xd9..=0xdb => {
            let b = r.read_str().ok()?;
            Some(match std::str::from_utf8(b) {
                Ok(s) => Value::Str(s.to_string()),
                Err(_) => Value::Bin(b.to_vec()),
            })
        }
        0x80..=0x8f | 0xde | 0xdf => {
            let n = r.read_map_len().ok()?;
            let mut pairs = Vec::with_capacity((n as usize).min(r.remaining().len()));
            for _ in 0..n {
                let k = keep_bytes(r, depth + 1)?;
                let v = keep_bytes(r, depth + 1)?;
                pairs.push((k, v));
            }
            Some(Value::Map(pairs))
        }
        0x90..=0x9f | 0xdc | 0xdd => {
            let n = r.read_array_len().ok()?;
            let mut items = Vec::with_capacity((n as usize).min(r.remaining().len()));
            for _ in 0..n {
                items.push(keep_bytes(r, depth + 1)?);
            }
            Some(Value::Array(items))
        }
        _ => Value::decode(r.read_raw().ok()?).ok().map(|(v, _)| v),
    }
}

/// Set `key` to a string value on a raw record, writing the new record to `out`.
pub fn set_str_field(raw: &[u8], key: &str, value: &str, out: &mut Vec<u8>) {
    set_fields(raw, &[(key, Value::Str(value.to_string()))], out);
}

/// Set several fields on a raw record (existing keys are replaced), writing the record to `out`.
/// See [`set_raw_fields`].
pub fn set_fields(raw: &[u8], fields: &[(&str, Value)], out: &mut Vec<u8>) {
    // The common case (no key in the record, none given twice): appended, written directly.
    if let Some((n, body)) = appendable(raw, fields.iter().map(|(k, _)| k.as_bytes())) {
        write::map_len(out, n.saturating_add(fields.len() as u32));
        out.extend_from_slice(body);
        for (k, v) in fields {
            write::str(out, k);
            v.encode(out);
        }
        return;
    }
    // A key the record has, or one given twice (rare): each value as msgpack.
    let values: Vec<Vec<u8>> = fields
        .iter()
        .map(|(_, v)| {
            let mut b = Vec::new();
            v.encode(&mut b);
            b
        })
        .collect();
    let raw_fields: Vec<(&[u8], &[u8])> = fields
        .iter()
        .zip(&values)
        .map(|((k, _), v)| (k.as_bytes(), v.as_slice()))
        .collect();
    set_raw_fields(raw, &raw_fields, out);
}

/// The map header's count and the body of `raw` when `keys` can be appended to it as they are:
/// it is a map holding none of them, and none is given twice.
fn appendable<'a, 'k>(
    raw: &'a [u8],
    keys: impl Iterator<Item = &'k [u8]> + Clone,
) -> Option<(u32, &'a [u8])> {
    let mut r = Reader::new(raw);
    let n = r.read_map_len().ok()?;
    let body = r.remaining();
    for (i, k) in keys.clone().enumerate() {
        if has_key(body, n, k) || keys.clone().take(i).any(|earlier| earlier == k) {
            return None;
        }
    }
    Some((n, body))
}

/// Set several fields on a raw record, each key a string's bytes and each value msgpack
/// already, writing the record to `out`. A key the record has gets the value in its place (the
/// last of a key given twice); the others are appended in order. The record's other keys and
/// values are copied as they are (a string that is not UTF-8 keeps its bytes).
///
/// When none of the keys is present and none is given twice (the common case) the map header
/// is bumped and the pairs appended.
pub fn set_raw_fields(raw: &[u8], fields: &[(&[u8], &[u8])], out: &mut Vec<u8>) {
    let mut r = Reader::new(raw);
    let Ok(n) = r.read_map_len() else {
        // Not a map: leave it untouched.
        out.extend_from_slice(raw);
        return;
    };
    if let Some((n, body)) = appendable(raw, fields.iter().map(|(k, _)| *k)) {
        write::map_len(out, n.saturating_add(fields.len() as u32));
        out.extend_from_slice(body);
        for (k, v) in fields {
            write::str_bytes(out, k);
            out.extend_from_slice(v);
        }
        return;
    }
    let Some(mut pairs) = raw_pairs(raw, n, &mut r) else {
        // Cut short: the fields set on what a decoder reads of it (an empty map).
        let mut v = decode(raw);
        if let Value::Map(m) = &mut v {
            for (key, value) in fields {
                let value = Value::decode(value).map_or(Value::Nil, |(v, _)| v);
                let key = String::from_utf8_lossy(key);
                match m.iter_mut().rfind(|(k, _)| k.as_str() == Some(&key)) {
                    Some((_, slot)) => *slot = value,
                    None => m.push((Value::Str(key.into_owned()), value)),
                }
            }
        }
        v.encode(out);
        return;
    };
    // Replace in place (the last pair of a key), or append (once a key).
    let mut appended: Vec<(&[u8], &[u8])> = Vec::new();
    for &(k, v) in fields {
        if let Some(p) = pairs.iter_mut().rfind(|p| p.0 == Some(k)) {
            p.2 = v;
        } else if let Some(a) = appended.iter_mut().find(|a| a.0 == k) {
            a.1 = v;
        } else {
            appended.push((k, v));
        }
    }
    write::map_len(out, n.saturating_add(appended.len() as u32));
    for (_, k, v) in &pairs {
        out.extend_from_slice(k);
        out.extend_from_slice(v);
    }
    for (k, v) in appended {
        write::str_bytes(out, k);
        out.extend_from_slice(v);
    }
}

/// A pair of a raw record: its key's bytes when the key is a string, the key's msgpack, the
/// value's msgpack.
type RawPair<'a> = (Option<&'a [u8]>, &'a [u8], &'a [u8]);

/// The `n` pairs of the map `raw` that `r` reads after its header; `None` when it is cut short.
fn raw_pairs<'a>(raw: &'a [u8], n: u32, r: &mut Reader<'a>) -> Option<Vec<RawPair<'a>>> {
    let mut pairs = Vec::with_capacity((n as usize).min(raw.len() / 2));
    for _ in 0..n {
        let at = r.pos();
        let key = match r.read_str() {
            Ok(k) => Some(k),
            Err(_) => {
                r.skip().ok()?;
                None
            }
        };
        let key_bytes = &raw[at..r.pos()];
        let value_at = r.pos();
        r.skip().ok()?;
        pairs.push((key, key_bytes, &raw[value_at..r.pos()]));
    }
    Some(pairs)
}

fn has_key(body: &[u8], n: u32, key: &[u8]) -> bool {
    let mut r = Reader::new(body);
    for _ in 0..n {
        match r.read_str() {
            Ok(k) if k == key => return true,
            Ok(_) => {}
            Err(_) => {
                if r.skip().is_err() {
                    return false;
                }
            }
        }
        if r.skip().is_err() {
            return false;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(pairs: Vec<(&str, Value)>) -> Vec<u8> {
        let mut out = Vec::new();
        Value::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (Value::Str(k.into()), v))
                .collect(),
        )
        .encode(&mut out);
        out
    }

    #[test]
    fn set_new_and_existing_field() {
        let raw = rec(vec![("a", Value::Int(1))]);
        let mut out = Vec::new();
        set_str_field(&raw, "ip", "127.0.0.1", &mut out);
        let v = decode(&out);
        assert_eq!(v.get("a"), Some(&Value::Int(1)));
        assert_eq!(v.get("ip").and_then(Value::as_str), Some("127.0.0.1"));

        let mut out2 = Vec::new();
        set_str_field(&out, "ip", "10.0.0.1", &mut out2);
        let v2 = decode(&out2);
        assert_eq!(v2.get("ip").and_then(Value::as_str), Some("10.0.0.1"));
        assert!(matches!(v2, Value::Map(ref m) if m.len() == 2));
    }

    #[test]
    fn setting_an_existing_field_copies_the_rest_as_it_is() {
        // {"s": str a\xff, "k": 1, "k": 2, 3: "x"}: a string that is not UTF-8, a key twice, a
        // key that is no string.
        let raw = b"\x84\xa1s\xa2a\xff\xa1k\x01\xa1k\x02\x03\xa1x";
        let mut out = Vec::new();
        set_fields(
            raw,
            &[
                ("k", Value::Int(9)),
                ("n", Value::Int(1)),
                ("n", Value::Int(2)),
            ],
            &mut out,
        );
        // The last "k" replaced where it stands, "n" appended once with its last value.
        assert_eq!(
            out,
            b"\x85\xa1s\xa2a\xff\xa1k\x01\xa1k\x09\x03\xa1x\xa1n\x02"
        );
        // A key given twice that the record lacks: once, with its last value.
        let mut out = Vec::new();
        set_fields(
            b"\x81\xa1a\x01",
            &[("t", Value::Int(1)), ("t", Value::Int(2))],
            &mut out,
        );
        assert_eq!(out, b"\x82\xa1a\x01\xa1t\x02");
        // A record cut short: what a decoder reads of it (nothing), and the fields.
        let mut out = Vec::new();
        set_fields(&raw[..9], &[("k", Value::Int(9))], &mut out);
        assert_eq!(out, b"\x81\xa1k\x09");
    }
}
