//! Record accessors exactly as Fluentd's `record_accessor` helper parses them, with lookups on a
//! decoded record, lookups on the raw msgpack bytes (no decoding), and deletion.
//!
//! * `name` (anything not starting with `$.` or `$[`) — one top-level key, dots literal;
//! * `$.a.b`, `$.a[0]`, `$.a[0][1]` — dot notation (whitespace in a key is an error);
//! * `$['a.b']['c']`, `$["a"][0]` — bracket notation.
//!
//! A missing path, or a step that does not fit the value (a key on an array, an index on a map),
//! reads as missing through [`Accessor::get`] and [`Accessor::get_raw`]; [`Accessor::dig_raw`]
//! reports Fluentd's `TypeError` there instead, for plugins whose Fluentd counterpart handles it
//! (grep passes such a record on).

use logferry_msgpack::{value_len, Reader, Value};

/// One step of a path.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// A map key.
    Key(String),
    /// An array index (negative counts from the end).
    Index(i64),
}

/// A compiled record accessor.
#[derive(Clone, Debug, PartialEq)]
pub struct Accessor {
    steps: Vec<Step>,
    source: String,
}

impl Accessor {
    /// Parse an accessor parameter; the error says what is wrong with it.
    pub fn new(param: &str) -> Result<Accessor, String> {
        let steps = if param.starts_with("$.") {
            parse_dot(param)?
        } else if param.starts_with("$[") {
            parse_bracket(param)?
        } else {
            vec![Step::Key(param.to_string())]
        };
        Ok(Accessor {
            steps,
            source: param.to_string(),
        })
    }

    /// The parameter as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The steps of the path.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    /// Look the value up in a decoded record.
    pub fn get<'v>(&self, record: &'v Value) -> Option<&'v Value> {
        let mut cur = record;
        for step in &self.steps {
            cur = step_into(cur, step)?;
        }
        Some(cur)
    }

    /// Look the value up in a raw msgpack record without decoding it; returns the raw bytes of
    /// the value (for a duplicated key, the last one, as a decoder would keep).
    pub fn get_raw<'a>(&self, record: &'a [u8]) -> Option<&'a [u8]> {
        let mut cur = record;
        for step in &self.steps {
            cur = match step {
                Step::Key(k) => raw_map_get(cur, k.as_bytes())?,
                Step::Index(i) => raw_array_get(cur, *i)?,
            };
        }
        Some(cur)
    }

    /// Ruby's `record.dig(*path)` on a raw msgpack record, as Fluentd's accessor reads a path of
    /// several steps: `Ok(None)` when a step finds nothing (or nil), `Err` with Ruby's
    /// `TypeError` text when a step meets a value it cannot step into (a key on a string,
    /// number, boolean or array). A one-step path is a plain lookup and never fails.
    pub fn dig_raw<'a>(&self, record: &'a [u8]) -> Result<Option<&'a [u8]>, String> {
        if self.steps.len() < 2 {
            return Ok(self.get_raw(record));
        }
        let mut cur = record;
        for (n, step) in self.steps.iter().enumerate() {
            if n > 0 {
                // Ruby calls `dig` on the value found so far.
                match cur.first() {
                    Some(0xc0) | None => return Ok(None),
                    Some(0x80..=0x8f | 0xde | 0xdf) => {}
                    Some(0x90..=0x9f | 0xdc | 0xdd) => {
                        if let Step::Key(_) = step {
                            return Err("no implicit conversion of String into Integer".into());
                        }
                    }
                    Some(&m) => {
                        return Err(format!("{} does not have #dig method", ruby_class(m)));
                    }
                }
            }
            let next = match step {
                Step::Key(k) => {
                    if !is_map(cur) {
                        return Ok(None);
                    }
                    raw_map_get(cur, k.as_bytes())
                }
                // An integer on a map looks up an integer key, which records do not have.
                Step::Index(i) => raw_array_get(cur, *i),
            };
            match next {
                Some(v) => cur = v,
                None => return Ok(None),
            }
        }
        Ok((cur.first() != Some(&0xc0)).then_some(cur))
    }

    /// Delete the addressed field from a decoded record (no effect when it is missing).
    pub fn delete(&self, record: &mut Value) {
        let Some((last, parents)) = self.steps.split_last() else {
            return;
        };
        let mut cur = record;
        for step in parents {
            let next = match (step, cur) {
                (Step::Key(k), v @ Value::Map(_)) => v.get_mut(k),
                (Step::Index(i), Value::Array(a)) => {
                    let idx = resolve_index(*i, a.len());
                    idx.and_then(|i| a.get_mut(i))
                }
                _ => None,
            };
            match next {
                Some(n) => cur = n,
                None => return,
            }
        }
        match (last, cur) {
            (Step::Key(k), Value::Map(pairs)) => pairs.retain(|(key, _)| !key_is(key, k)),
            (Step::Index(i), Value::Array(a)) => {
                if let Some(idx) = resolve_index(*i, a.len()) {
                    a.remove(idx);
                }
            }
            _ => {}
        }
    }
}

fn is_map(b: &[u8]) -> bool {
    matches!(b.first(), Some(0x80..=0x8f | 0xde | 0xdf))
}

/// The Ruby class of a msgpack scalar, by its marker.
fn ruby_class(marker: u8) -> &'static str {
    match marker {
        0xc2 => "FalseClass",
        0xc3 => "TrueClass",
        0xca | 0xcb => "Float",
        0x00..=0x7f | 0xe0..=0xff | 0xcc..=0xd3 => "Integer",
        _ => "String",
    }
}

fn key_is(k: &Value, key: &str) -> bool {
    match k {
        Value::Str(s) => s == key,
        Value::Bin(b) => b.as_slice() == key.as_bytes(),
        _ => false,
    }
}

fn resolve_index(i: i64, len: usize) -> Option<usize> {
    let idx = if i < 0 { len as i64 + i } else { i };
    usize::try_from(idx).ok().filter(|&i| i < len)
}

fn step_into<'v>(cur: &'v Value, step: &Step) -> Option<&'v Value> {
    match (step, cur) {
        (Step::Key(k), Value::Map(_)) => cur.get(k),
        (Step::Index(i), Value::Array(a)) => a.get(resolve_index(*i, a.len())?),
        _ => None,
    }
}

/// A str value's payload range at `pos`, read inline for the common encodings (fixstr, str8,
/// str16); `None` for anything else.
#[inline]
fn str_at(b: &[u8], pos: usize) -> Option<(usize, usize)> {
    let m = *b.get(pos)?;
    let (hdr, len) = match m {
        0xa0..=0xbf => (1, usize::from(m & 0x1f)),
        0xd9 => (2, usize::from(*b.get(pos + 1)?)),
        0xda => (
            3,
            usize::from(u16::from_be_bytes([*b.get(pos + 1)?, *b.get(pos + 2)?])),
        ),
        _ => return None,
    };
    let start = pos + hdr;
    let end = start.checked_add(len)?;
    (end <= b.len()).then_some((start, end))
}

/// The end of the value at `pos`: strings and small scalars inline, the rest by a full scan.
#[inline]
fn value_end(b: &[u8], pos: usize) -> Option<usize> {
    if let Some((_, end)) = str_at(b, pos) {
        return Some(end);
    }
    let rest = b.get(pos..)?;
    match logferry_msgpack::short_len(rest) {
        Some(n) => (n <= rest.len()).then_some(pos + n),
        None => Some(pos + value_len(rest).ok()?),
    }
}

/// Byte equality with the first bytes compared inline, so that keys of the same length rarely
/// reach `memcmp`.
#[inline]
fn key_bytes_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.first() == b.first() && a.last() == b.last() && a == b
}

/// The raw bytes of the value under `key` in a raw map (last duplicate wins).
pub fn raw_map_get<'a>(map: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let mut r = Reader::new(map);
    let n = r.read_map_len().ok()?;
    let mut pos = r.pos();
    let mut found = None;
    for _ in 0..n {
        let is_key = match str_at(map, pos) {
            Some((s, e)) => {
                let hit = key_bytes_eq(&map[s..e], key);
                pos = e;
                hit
            }
            None => {
                // Other key types (str32, bin, numbers …): the reader handles every form.
                let mut kr = Reader::new(map.get(pos..)?);
                let hit = matches!(kr.read_str(), Ok(k) if k == key);
                if !hit {
                    kr = Reader::new(map.get(pos..)?);
                    kr.skip().ok()?;
                }
                pos += kr.pos();
                hit
            }
        };
        let end = value_end(map, pos)?;
        if is_key {
            found = Some(&map[pos..end]);
        }
        pos = end;
    }
    found
}

fn raw_array_get(arr: &[u8], i: i64) -> Option<&[u8]> {
    let mut r = Reader::new(arr);
    let n = r.read_array_len().ok()?;
    let idx = resolve_index(i, n as usize)?;
    for _ in 0..idx {
        r.skip().ok()?;
    }
    let rest = r.remaining();
    let len = value_len(rest).ok()?;
    Some(&rest[..len])
}

fn parse_dot(param: &str) -> Result<Vec<Step>, String> {
    let mut result = Vec::new();
    // Ruby's String#split drops trailing empty fields only.
    let mut keys: Vec<&str> = param[2..].split('.').collect();
    while keys.last() == Some(&"") {
        keys.pop();
    }
    for key in keys {
        if key.contains('[') {
            result.extend(parse_dot_array_op(key, param)?);
        } else {
            result.push(Step::Key(key.to_string()));
        }
    }
    if result.is_empty() {
        return Err(format!("empty keys in dot notation: {param}"));
    }
    for s in &result {
        if let Step::Key(k) = s {
            if k.contains(char::is_whitespace) {
                return Err(format!(
                    "whitespace character is not allowed in dot notation. Use bracket notation: {k}"
                ));
            }
        }
    }
    Ok(result)
}

/// An index as Ruby's `Integer()` reads it (`1_0`, `0x1`, ` 1 `), as Fluentd's accessor does.
fn parse_index(s: &str, param: &str) -> Result<i64, String> {
    logferry_config::types::ruby_integer(s)
        .ok_or_else(|| format!("invalid array index '{s}' in record accessor: {param}"))
}

fn parse_dot_array_op(key: &str, param: &str) -> Result<Vec<Step>, String> {
    let start = key.find('[').unwrap_or(0);
    let mut result = Vec::new();
    if start > 0 {
        result.push(Step::Key(key[..start].to_string()));
    }
    let mut rest = &key[start + 1..];
    let mut in_bracket = true;
    while !rest.is_empty() {
        if in_bracket {
            let i = rest
                .find(']')
                .ok_or_else(|| format!("'[' found but ']' not found. Invalid syntax: {param}"))?;
            if i == 0 {
                return Err(format!(
                    "missing array index in '[]'. Invalid syntax: {param}"
                ));
            }
            result.push(Step::Index(parse_index(&rest[..i], param)?));
            rest = &rest[i + 1..];
            in_bracket = false;
        } else {
            let i = rest.find('[').ok_or_else(|| {
                format!("found more characters after ']'. Invalid syntax: {param}")
            })?;
            rest = &rest[i + 1..];
            in_bracket = true;
        }
    }
    Ok(result)
}

fn parse_bracket(param: &str) -> Result<Vec<Step>, String> {
    let mut result = Vec::new();
    let mut rest = &param[1..];
    let mut in_bracket = false;
    while !rest.is_empty() {
        if in_bracket {
            let first = rest.as_bytes()[0];
            if first == b'\'' || first == b'"' {
                let i = rest
                    .find("']")
                    .or_else(|| rest.find("\"]"))
                    .ok_or_else(|| format!("Incomplete bracket. Invalid syntax: {param}"))?;
                if rest.as_bytes()[i] != first || i == 0 {
                    return Err(format!("Mismatched quotes. Invalid syntax: {param}"));
                }
                result.push(Step::Key(rest[1..i].to_string()));
                rest = &rest[i + 2..];
            } else {
                let i = rest.find(']').ok_or_else(|| {
                    format!("'[' found but ']' not found. Invalid syntax: {param}")
                })?;
                if i == 0 {
                    return Err(format!(
                        "missing array index in '[]'. Invalid syntax: {param}"
                    ));
                }
                result.push(Step::Index(parse_index(&rest[..i], param)?));
                rest = &rest[i + 1..];
            }
            in_bracket = false;
        } else {
            let i = rest.find('[').ok_or_else(|| {
                format!("found more characters after ']'. Invalid syntax: {param}")
            })?;
            rest = &rest[i + 1..];
            in_bracket = true;
        }
    }
    if result.is_empty() {
        return Err(format!("empty keys in bracket notation: {param}"));
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::Str(x.into())
    }

    fn sample() -> Value {
        Value::Map(vec![
            (s("a.b"), Value::Int(1)),
            (
                s("k8s"),
                Value::Map(vec![(s("ns"), s("kube")), (s("x"), Value::Int(2))]),
            ),
            (s("arr"), Value::Array(vec![Value::Int(7), Value::Int(8)])),
            (s("dup"), Value::Int(1)),
            (s("dup"), Value::Int(2)),
        ])
    }

    #[test]
    fn parse_forms() {
        assert_eq!(
            Accessor::new("a.b").unwrap().steps(),
            [Step::Key("a.b".into())]
        );
        assert_eq!(
            Accessor::new("$foo").unwrap().steps(),
            [Step::Key("$foo".into())]
        );
        assert_eq!(
            Accessor::new("$.a.b[0][-1]").unwrap().steps(),
            [
                Step::Key("a".into()),
                Step::Key("b".into()),
                Step::Index(0),
                Step::Index(-1)
            ]
        );
        assert_eq!(
            Accessor::new("$['a.b'][\"c\"][2]").unwrap().steps(),
            [
                Step::Key("a.b".into()),
                Step::Key("c".into()),
                Step::Index(2)
            ]
        );
        assert!(Accessor::new("$.a b").is_err());
        assert!(Accessor::new("$.").is_err());
        assert!(Accessor::new("$['a\"]").is_err());
        assert!(Accessor::new("$.a[x]").is_err());
        assert!(Accessor::new("$.a[]").is_err());
        assert!(Accessor::new("$['a']x").is_err());
    }

    #[test]
    fn get_decoded_and_raw_agree() {
        let v = sample();
        let mut raw = Vec::new();
        v.encode(&mut raw);
        for (spec, want) in [
            ("a.b", Some(Value::Int(1))),
            ("$['a.b']", Some(Value::Int(1))),
            ("$.k8s.ns", Some(s("kube"))),
            ("$.arr[1]", Some(Value::Int(8))),
            ("$.arr[-2]", Some(Value::Int(7))),
            ("$.arr[2]", None),
            ("$.k8s.ns.deeper", None),
            ("$.arr.x", None),
            ("missing", None),
            ("dup", Some(Value::Int(2))),
        ] {
            let a = Accessor::new(spec).unwrap();
            assert_eq!(a.get(&v).cloned(), want, "{spec}");
            let got_raw = a.get_raw(&raw).map(|b| Value::decode(b).unwrap().0);
            assert_eq!(got_raw, want, "raw {spec}");
        }
        assert_eq!(Accessor::new("x").unwrap().get_raw(&[0xc1]), None);
        // Truncated or odd encodings never panic.
        for bad in [
            &[0x81, 0xa1, b'x', 0xd9][..],
            &[0x81, 0xd9, 5, b'x'][..],
            &[0x81, 0xda, 0][..],
            &[0x82, 0xa1, b'x', 0x01][..],
            &[0x81, 0xdb, 0, 0, 0, 1, b'x', 0x05][..],
        ] {
            let _ = Accessor::new("x").unwrap().get_raw(bad);
        }
        let mut long = Vec::new();
        Value::Map(vec![
            (s(&"k".repeat(40_000)), Value::Int(1)),
            (s("x"), s(&"v".repeat(300))),
        ])
        .encode(&mut long);
        assert_eq!(
            Accessor::new("x")
                .unwrap()
                .get_raw(&long)
                .map(|b| Value::decode(b).unwrap().0),
            Some(s(&"v".repeat(300)))
        );
        assert_eq!(Accessor::new("x").unwrap().get_raw(&[0x81, 0xa1]), None);
    }

    /// The map scan skips every scalar width by its marker (a float, wide ints, ext, bin) and
    /// still finds the last duplicate; a value cut short ends the scan with nothing.
    #[test]
    fn raw_get_skips_every_scalar_width() {
        let values = [
            Value::F64(0.5),
            Value::F32(1.5),
            Value::UInt(300),
            Value::UInt(70_000),
            Value::UInt(5_000_000_000),
            Value::Int(-200),
            Value::Int(-40_000),
            Value::Int(-5_000_000_000),
            Value::Bin(vec![1, 2, 3]),
            Value::Ext(5, vec![9; 4]),
            Value::Ext(6, vec![9; 16]),
            Value::Ext(7, vec![9; 3]),
            Value::Nil,
            Value::Bool(true),
        ];
        let mut pairs: Vec<(Value, Value)> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (s(&format!("k{i}")), v.clone()))
            .collect();
        pairs.insert(3, (s("x"), s("first")));
        pairs.push((s("x"), s("last")));
        let mut raw = Vec::new();
        Value::Map(pairs).encode(&mut raw);
        let x = Accessor::new("x").unwrap();
        assert_eq!(x.get_raw(&raw), Some(&[0xa4, b'l', b'a', b's', b't'][..]));
        for (i, v) in values.iter().enumerate() {
            let mut want = Vec::new();
            v.encode(&mut want);
            let got = Accessor::new(&format!("k{i}")).unwrap().get_raw(&raw);
            assert_eq!(got, Some(&want[..]), "{v:?}");
        }
        // A float64 cut short, then the key: not found, no panic.
        assert_eq!(
            x.get_raw(&[0x82, 0xa1, b'f', 0xcb, 0, 0, 0, 0, 0, 0, 0]),
            None
        );
    }

    #[test]
    fn delete_paths() {
        let mut v = sample();
        Accessor::new("$.k8s.ns").unwrap().delete(&mut v);
        Accessor::new("$.arr[0]").unwrap().delete(&mut v);
        Accessor::new("a.b").unwrap().delete(&mut v);
        Accessor::new("$.nope.x").unwrap().delete(&mut v);
        assert_eq!(v.get("a.b"), None);
        assert_eq!(
            v.get("k8s"),
            Some(&Value::Map(vec![(s("x"), Value::Int(2))]))
        );
        assert_eq!(v.get("arr"), Some(&Value::Array(vec![Value::Int(8)])));
    }
}
