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
///
/// When none of the keys is present (the common case) the map header is bumped and the pairs
/// appended without decoding the record; otherwise the record is decoded, changed and re-encoded.
pub fn set_fields(raw: &[u8], fields: &[(&str, Value)], out: &mut Vec<u8>) {
    let mut r = Reader::new(raw);
    let Ok(n) = r.read_map_len() else {
        // Not a map: leave it untouched.
        out.extend_from_slice(raw);
        return;
    };
    let body = r.remaining();
    if fields.iter().all(|(k, _)| !has_key(body, n, k)) {
        write::map_len(out, n.saturating_add(fields.len() as u32));
        out.extend_from_slice(body);
        for (k, v) in fields {
            write::str(out, k);
            v.encode(out);
        }
        return;
    }
    let mut v = decode(raw);
    if let Value::Map(m) = &mut v {
        for (key, value) in fields {
            match m.iter_mut().rfind(|(k, _)| k.as_str() == Some(key)) {
                Some((_, slot)) => *slot = value.clone(),
                None => m.push((Value::Str(key.to_string()), value.clone())),
            }
        }
    }
    v.encode(out);
}

fn has_key(body: &[u8], n: u32, key: &str) -> bool {
    let mut r = Reader::new(body);
    for _ in 0..n {
        match r.read_str() {
            Ok(k) if k == key.as_bytes() => return true,
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
}
