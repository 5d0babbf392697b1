//! Record helpers: decode on demand, set a field on raw bytes, and record accessors
//! (`key`, `$.a.b`, `$.a[0]`, `$['a.b']['c']`) as Fluentd's `record_accessor` helper has them.

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

/// One step of an accessor path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(i64),
}

/// A compiled record accessor.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordAccessor {
    steps: Vec<Step>,
    source: String,
}

impl RecordAccessor {
    /// Parse `name`, `$.a.b`, `$.a[0]` or `$['a.b']['c']`.
    pub fn new(spec: &str) -> Result<Self, String> {
        let steps = if let Some(rest) = spec.strip_prefix('$') {
            parse_path(rest).map_err(|e| format!("invalid record accessor '{spec}': {e}"))?
        } else {
            vec![Step::Key(spec.to_string())]
        };
        if steps.is_empty() {
            return Err(format!("invalid record accessor '{spec}': empty path"));
        }
        Ok(RecordAccessor {
            steps,
            source: spec.to_string(),
        })
    }

    /// The accessor as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Look the value up in a decoded record.
    pub fn get<'v>(&self, record: &'v Value) -> Option<&'v Value> {
        let mut cur = record;
        for step in &self.steps {
            cur = match (step, cur) {
                (Step::Key(k), Value::Map(_)) => cur.get(k)?,
                (Step::Index(i), Value::Array(a)) => {
                    let idx = if *i < 0 { a.len() as i64 + i } else { *i };
                    a.get(usize::try_from(idx).ok()?)?
                }
                _ => return None,
            };
        }
        Some(cur)
    }
}

fn parse_path(mut s: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    while !s.is_empty() {
        if let Some(rest) = s.strip_prefix('.') {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            let key = &rest[..end];
            if key.is_empty() {
                return Err("empty key after '.'".into());
            }
            if key.contains(char::is_whitespace) {
                return Err("whitespace in dot notation; use $['key'] instead".into());
            }
            steps.push(Step::Key(key.to_string()));
            s = &rest[end..];
        } else if let Some(rest) = s.strip_prefix('[') {
            let close = rest.find(']').ok_or("missing ']'")?;
            let inner = rest[..close].trim();
            if let Some(q) = inner.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
                steps.push(Step::Key(q.to_string()));
            } else if let Some(q) = inner.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
                steps.push(Step::Key(q.to_string()));
            } else {
                let i: i64 = inner
                    .parse()
                    .map_err(|_| format!("invalid index '{inner}'"))?;
                steps.push(Step::Index(i));
            }
            s = &rest[close + 1..];
        } else {
            return Err(format!("unexpected '{}'", s.chars().next().unwrap_or(' ')));
        }
    }
    Ok(steps)
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
    fn accessors() {
        let v = decode(&rec(vec![
            ("a.b", Value::Int(1)),
            (
                "k8s",
                Value::Map(vec![(Value::Str("ns".into()), Value::Str("kube".into()))]),
            ),
            ("arr", Value::Array(vec![Value::Int(7), Value::Int(8)])),
        ]));
        assert_eq!(
            RecordAccessor::new("a.b").unwrap().get(&v),
            Some(&Value::Int(1))
        );
        assert_eq!(
            RecordAccessor::new("$.k8s.ns")
                .unwrap()
                .get(&v)
                .and_then(Value::as_str),
            Some("kube")
        );
        assert_eq!(
            RecordAccessor::new("$['k8s']['ns']")
                .unwrap()
                .get(&v)
                .and_then(Value::as_str),
            Some("kube")
        );
        assert_eq!(
            RecordAccessor::new("$['a.b']").unwrap().get(&v),
            Some(&Value::Int(1))
        );
        assert_eq!(
            RecordAccessor::new("$.arr[1]").unwrap().get(&v),
            Some(&Value::Int(8))
        );
        assert_eq!(
            RecordAccessor::new("$.arr[-1]").unwrap().get(&v),
            Some(&Value::Int(8))
        );
        assert_eq!(RecordAccessor::new("$.missing.x").unwrap().get(&v), None);
        assert!(RecordAccessor::new("$.a b").is_err());
        assert!(RecordAccessor::new("$").is_err());
    }
}
