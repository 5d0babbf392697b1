//! The rest of the subset's Ruby, as published configs use it in `${…}`: comparisons (`<`, `>=`,
//! `<=>`), `to_json`, and String, Array, Hash and Integer/Float methods beyond the first ones
//! (`capitalize`, `chomp`, `tr`, `keys`, `fetch`, `uniq`, `max`, `round`, `even?` …), each as
//! Ruby 3.1 runs it.

use std::cmp::Ordering;

use super::{eql, equal, int_arg, no_method, unsupported, RValue};

/// Ruby's `a <=> b` where the subset models it: `Ok(None)` is Ruby's `nil` (not comparable).
pub fn spaceship(a: &RValue, b: &RValue) -> Result<Option<Ordering>, String> {
    use RValue::*;
    Ok(match (a, b) {
        (Int(x), Int(y)) => Some(x.cmp(y)),
        (Float(x), Float(y)) => x.partial_cmp(y),
        (Int(x), Float(y)) => int_float_cmp(*x, *y),
        (Float(x), Int(y)) => int_float_cmp(*y, *x).map(Ordering::reverse),
        (Str(x) | Bytes(x), Str(y) | Bytes(y)) => {
            let (p, q) = (crate::ruby::text_bytes(x), crate::ruby::text_bytes(y));
            let o = p.cmp(&q);
            if o == Ordering::Equal && !eql(a, b) && !x.is_ascii() {
                // Equal bytes of two encodings that are not compatible: Ruby orders them by
                // their encodings.
                return Err(unsupported(
                    "<=> of equal bytes in a UTF-8 and a binary string",
                ));
            }
            Some(o)
        }
        (Sym(x), Sym(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Array(x), Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                match spaceship(p, q)? {
                    Some(Ordering::Equal) => {}
                    o => return Ok(o),
                }
            }
            Some(x.len().cmp(&y.len()))
        }
        (Time(x), Time(y)) => match x.compare(y) {
            Some(o) => Some(o),
            None => return Err(unsupported("<=> of Times made from Floats")),
        },
        (Nil, Nil) => Some(Ordering::Equal),
        (Bool(x), Bool(y)) => (x == y).then_some(Ordering::Equal),
        (Hash(..), Hash(..)) => equal(a, b)?.then_some(Ordering::Equal),
        (Other(_) | Match(_) | Class(_), _) | (_, Other(_) | Match(_) | Class(_)) => {
            return Err(unsupported(&format!(
                "<=> of {} and {}",
                a.class(),
                b.class()
            )))
        }
        _ => None,
    })
}

/// An Integer and a Float compared exactly, as Ruby does (`2**53 + 1 > 2.0**53`).
pub fn int_float_cmp(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    // 2^63 as an f64 is exact: every Float at or past it is beyond any i64.
    let two_63 = -(i64::MIN as f64);
    if f >= two_63 {
        return Some(Ordering::Less);
    }
    if f < -two_63 {
        return Some(Ordering::Greater);
    }
    let t = f.trunc();
    let ti = t as i64;
    Some(match i.cmp(&ti) {
        Ordering::Equal => {
            let fr = f - t;
            if fr > 0.0 {
                Ordering::Less
            } else if fr < 0.0 {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        }
        o => o,
    })
}

/// Ruby's `<`, `<=`, `>`, `>=` (`op` the operator's text).
pub fn compare(op: &str, a: &RValue, b: &RValue) -> Result<RValue, String> {
    use RValue::*;
    let ok = |o: Option<Ordering>| {
        RValue::Bool(o.is_some_and(|o| match op {
            "<" => o == Ordering::Less,
            "<=" => o != Ordering::Greater,
            ">" => o == Ordering::Greater,
            _ => o != Ordering::Less,
        }))
    };
    match (a, b) {
        (Int(_) | Float(_), Int(_) | Float(_)) => Ok(ok(spaceship(a, b)?)),
        (Str(_) | Bytes(_), Str(_) | Bytes(_)) | (Sym(_), Sym(_)) | (Time(_), Time(_)) => {
            Ok(ok(spaceship(a, b)?))
        }
        (Int(_) | Float(_) | Str(_) | Bytes(_) | Sym(_) | Time(_), _) => Err(format!(
            "comparison of {} with {} failed",
            a.class(),
            describe(b)
        )),
        (Nil | Bool(_) | Array(_), _) => Err(no_method(op, a)),
        _ => Err(unsupported(&format!("`{op}` of {}", a.class()))),
    }
}

/// How Ruby's comparison error names its argument (`comparison of String with 10 failed`).
fn describe(v: &RValue) -> String {
    match v {
        RValue::Nil => "nil".into(),
        RValue::Int(i) => i.to_string(),
        RValue::Float(_) | RValue::Bool(_) => v.to_s().unwrap_or_default(),
        o => o.class().into(),
    }
}

/// Ruby's `to_json` (the json gem 2.6's generator): `/` and characters past ASCII as they are,
/// control characters escaped (`\n`, `\u001f`), floats as `Float#to_s`, hash keys by `to_s`.
pub fn to_json(v: &RValue, out: &mut String, depth: usize) -> Result<(), String> {
    // The generator's max_nesting (100) counts arrays and hashes.
    if matches!(v, RValue::Array(_) | RValue::Hash(..)) && depth >= 100 {
        return Err("nesting of 101 is too deep".into());
    }
    match v {
        RValue::Nil => out.push_str("null"),
        RValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        RValue::Int(i) => out.push_str(&i.to_string()),
        RValue::Float(f) => {
            if !f.is_finite() {
                return Err(format!("{} not allowed in JSON", v.to_s()?));
            }
            out.push_str(&v.to_s()?);
        }
        RValue::Str(s) | RValue::Sym(s) => json_str(s, out)?,
        RValue::Bytes(s) => {
            // A binary string is read as UTF-8: its bytes must be.
            let text = String::from_utf8(crate::ruby::text_bytes(s))
                .map_err(|_| "source sequence is illegal/malformed utf-8".to_string())?;
            json_str(&text, out)?;
        }
        RValue::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                to_json(x, out, depth + 1)?;
            }
            out.push(']');
        }
        RValue::Hash(m, _) => {
            out.push('{');
            for (i, (k, x)) in hash_pairs(m)?.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let key = match k {
                    RValue::Str(s) | RValue::Sym(s) => s.clone(),
                    RValue::Bytes(_) => {
                        let mut t = String::new();
                        to_json(k, &mut t, depth + 1)?;
                        out.push_str(&t);
                        out.push(':');
                        to_json(x, out, depth + 1)?;
                        continue;
                    }
                    o => o.to_s()?,
                };
                json_str(&key, out)?;
                out.push(':');
                to_json(x, out, depth + 1)?;
            }
            out.push('}');
        }
        RValue::Time(_) => json_str(&v.to_s()?, out)?,
        RValue::Match(_) | RValue::Other(_) | RValue::Class(_) => {
            return Err(unsupported(&format!("to_json of {}", v.class())))
        }
    }
    Ok(())
}

fn json_str(s: &str, out: &mut String) -> Result<(), String> {
    if s.chars().any(crate::ruby::stands_for_byte) {
        return Err("source sequence is illegal/malformed utf-8".into());
    }
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(())
}

/// Bytes that two values share exactly when they are `eql?` (how Ruby's Hash keys and `uniq`
/// tell values apart), written to `out`; false for a value hashed otherwise here (a NaN, a Time
/// made from a Float, a MatchData, a value the subset does not model).
pub fn canon(v: &RValue, out: &mut Vec<u8>) -> bool {
    let text = |tag: u8, s: &str, out: &mut Vec<u8>| {
        out.push(tag);
        out.extend((s.len() as u64).to_le_bytes());
        out.extend(s.as_bytes());
    };
    match v {
        RValue::Nil => out.push(b'n'),
        RValue::Bool(b) => out.push(if *b { b't' } else { b'f' }),
        RValue::Int(i) => {
            out.push(b'i');
            out.extend(i.to_le_bytes());
        }
        RValue::Float(f) if f.is_nan() => return false,
        RValue::Float(f) => {
            out.push(b'd');
            // 0.0 and -0.0 are eql.
            out.extend(
                (if *f == 0.0 { 0.0f64 } else { *f })
                    .to_bits()
                    .to_le_bytes(),
            );
        }
        // A binary string and a UTF-8 one are eql only as ASCII.
        RValue::Str(s) | RValue::Bytes(s) if s.is_ascii() => text(b's', s, out),
        RValue::Str(s) => text(b'u', s, out),
        RValue::Bytes(s) => text(b'b', s, out),
        RValue::Sym(s) => text(b'y', s, out),
        RValue::Class(c) => text(b'c', c, out),
        RValue::Time(t) if t.float.is_none() => {
            out.push(b'T');
            out.extend(t.t.sec.to_le_bytes());
            out.extend(t.t.nsec.to_le_bytes());
        }
        RValue::Array(a) => {
            out.push(b'[');
            out.extend((a.len() as u64).to_le_bytes());
            for x in a {
                if !canon(x, out) {
                    return false;
                }
            }
        }
        RValue::Hash(m, _) => {
            // Order does not count: the pairs' bytes sorted.
            let Ok(pairs) = hash_pairs(m) else {
                return false;
            };
            let mut each = Vec::with_capacity(pairs.len());
            for (k, x) in pairs {
                let mut b = Vec::new();
                if !canon(k, &mut b) || !canon(x, &mut b) {
                    return false;
                }
                each.push(b);
            }
            each.sort();
            out.push(b'{');
            out.extend((each.len() as u64).to_le_bytes());
            for b in each {
                out.extend((b.len() as u64).to_le_bytes());
                out.extend(b);
            }
        }
        _ => return false,
    }
    true
}

/// The most values told apart by comparing each with every other (those [`canon`] cannot key).
const MAX_UNKEYED: usize = 1024;

/// `items` with those `eql?` to an earlier one folded into it by `fold(kept, later)`: keyed by
/// [`canon`], the others compared one by one (at most [`MAX_UNKEYED`]).
fn dedupe<T>(
    items: impl Iterator<Item = T>,
    key: impl Fn(&T) -> &RValue,
    mut fold: impl FnMut(&mut T, T),
) -> Result<Vec<T>, String> {
    let mut out: Vec<T> = Vec::new();
    let mut keyed: std::collections::HashMap<Vec<u8>, usize> = std::collections::HashMap::new();
    let mut unkeyed: Vec<usize> = Vec::new();
    for item in items {
        let mut k = Vec::new();
        if canon(key(&item), &mut k) {
            match keyed.get(&k) {
                Some(&i) => fold(&mut out[i], item),
                None => {
                    keyed.insert(k, out.len());
                    out.push(item);
                }
            }
            continue;
        }
        match unkeyed.iter().find(|&&i| eql(key(&out[i]), key(&item))) {
            Some(&i) => fold(&mut out[i], item),
            None => {
                if unkeyed.len() >= MAX_UNKEYED {
                    return Err(unsupported(
                        "more than 1024 NaNs, Times or such to tell apart",
                    ));
                }
                unkeyed.push(out.len());
                out.push(item);
            }
        }
    }
    Ok(out)
}

/// A Hash's pairs as Ruby holds them: a key given twice keeps its first place and its last
/// value.
pub fn hash_pairs(m: &[(RValue, RValue)]) -> Result<Vec<(&RValue, &RValue)>, String> {
    // Keys that are strings none of which repeats (a record's): the pairs as they are.
    let mut seen = std::collections::HashSet::with_capacity(m.len());
    if m.iter()
        .all(|(k, _)| matches!(k, RValue::Str(s) if seen.insert(s.as_str())))
    {
        return Ok(m.iter().map(|(k, v)| (k, v)).collect());
    }
    dedupe(
        m.iter().map(|(k, v)| (k, v)),
        |p| p.0,
        |kept, later| kept.1 = later.1,
    )
}

/// The most items (characters and ranges) a `tr` list may hold here.
const MAX_LIST: usize = 1024;

/// A `tr` list read as Ruby reads one: characters and ranges (`a-z`; a backslash takes the next
/// character as it is), each range with the position of its first character in the list
/// written out.
struct List {
    ranges: Vec<(char, char, usize)>,
    len: usize,
}

impl List {
    fn parse(body: &[char]) -> Result<List, String> {
        let mut ranges = Vec::new();
        let mut len = 0;
        let mut i = 0;
        while i < body.len() {
            let mut c = body[i];
            if c == '\\' && i + 1 < body.len() {
                i += 1;
                c = body[i];
            }
            let mut hi = c;
            if i + 2 < body.len() && body[i + 1] == '-' {
                let mut hi_at = i + 2;
                hi = body[hi_at];
                if hi == '\\' && hi_at + 1 < body.len() {
                    hi_at += 1;
                    hi = body[hi_at];
                }
                if hi < c {
                    return Err(format!(
                        "invalid range \"{c}-{hi}\" in string transliteration"
                    ));
                }
                i = hi_at + 1;
            } else {
                i += 1;
            }
            ranges.push((c, hi, len));
            len += (hi as usize) - (c as usize) + 1;
            if ranges.len() > MAX_LIST {
                return Err(unsupported("a tr list of more than 1024 items"));
            }
        }
        Ok(List { ranges, len })
    }

    /// The position of `c`'s last appearance in the list written out.
    fn position(&self, c: char) -> Option<usize> {
        self.ranges
            .iter()
            .rev()
            .find(|(lo, hi, _)| (*lo..=*hi).contains(&c))
            .map(|(lo, _, at)| at + (c as usize - *lo as usize))
    }

    /// The character at position `i` of the list written out (its last one past the end).
    fn at(&self, i: usize) -> Option<char> {
        let i = i.min(self.len.checked_sub(1)?);
        let (lo, _, at) = self.ranges.iter().rev().find(|(_, _, at)| *at <= i)?;
        char::from_u32(*lo as u32 + (i - at) as u32)
    }
}

/// A set of characters as `tr`, `delete`, `squeeze` and `count` read one (a list, `^` before
/// it negating it).
struct CharSet {
    list: List,
    negated: bool,
}

impl CharSet {
    fn parse(spec: &str) -> Result<CharSet, String> {
        let raw: Vec<char> = spec.chars().collect();
        let (negated, body) = if raw.len() > 1 && raw[0] == '^' {
            (true, &raw[1..])
        } else {
            (false, &raw[..])
        };
        Ok(CharSet {
            list: List::parse(body)?,
            negated,
        })
    }

    fn has(&self, c: char) -> bool {
        self.list.position(c).is_some() != self.negated
    }
}

/// Ruby's `tr(from, to)`.
pub fn tr(s: &str, from: &str, to: &str) -> Result<String, String> {
    if s.is_empty() {
        return Ok(String::new()); // Ruby reads no list then
    }
    let f = CharSet::parse(from)?;
    let t = List::parse(&to.chars().collect::<Vec<_>>())?;
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if !f.has(c) {
            out.push(c);
            continue;
        }
        if t.len == 0 {
            continue; // an empty `to` deletes
        }
        let i = if f.negated {
            t.len - 1
        } else {
            f.list.position(c).unwrap_or(0)
        };
        out.extend(t.at(i));
    }
    Ok(out)
}

/// Ruby's `delete(spec)`, `count(spec)` and `squeeze`/`squeeze(spec)`.
pub fn char_set_method(s: &str, m: &str, spec: Option<&str>) -> Result<RValue, String> {
    if s.is_empty() && m == "delete" {
        return Ok(RValue::Str(String::new())); // Ruby reads no list then
    }
    let set = spec.map(CharSet::parse).transpose()?;
    let inset = |c: char| set.as_ref().is_none_or(|x| x.has(c));
    Ok(match m {
        "delete" => RValue::Str(s.chars().filter(|&c| !inset(c)).collect()),
        "count" => RValue::Int(s.chars().filter(|&c| inset(c)).count() as i64),
        _ => {
            let mut out = String::with_capacity(s.len());
            let mut prev = None;
            for c in s.chars() {
                if prev == Some(c) && inset(c) {
                    continue;
                }
                out.push(c);
                prev = Some(c);
            }
            RValue::Str(out)
        }
    })
}

/// Ruby's `ljust`, `rjust` and `center` to `width` characters with `pad` (cycled).
pub fn justify(s: &str, m: &str, width: i64, pad: &str) -> Result<String, String> {
    if pad.is_empty() {
        return Err("zero width padding".into());
    }
    let len = s.chars().count() as i64;
    if width <= len {
        return Ok(s.to_string());
    }
    if width > 1 << 24 {
        return Err(unsupported("a string longer than 16 MiB"));
    }
    let n = (width - len) as usize;
    let fill = |k: usize| pad.chars().cycle().take(k).collect::<String>();
    Ok(match m {
        "ljust" => format!("{s}{}", fill(n)),
        "rjust" => format!("{}{s}", fill(n)),
        _ => format!("{}{s}{}", fill(n / 2), fill(n - n / 2)),
    })
}

/// Ruby's `chomp` (no argument: one `\r\n`, `\n` or `\r`; `""`: every `\n`/`\r\n` at the
/// end; else that suffix).
pub fn chomp(s: &str, arg: Option<&str>) -> String {
    match arg {
        None | Some("\n") => s
            .strip_suffix("\r\n")
            .or_else(|| s.strip_suffix('\n'))
            .or_else(|| s.strip_suffix('\r'))
            .unwrap_or(s)
            .to_string(),
        Some("") => {
            let mut t = s;
            while let Some(r) = t.strip_suffix("\r\n").or_else(|| t.strip_suffix('\n')) {
                t = r;
            }
            t.to_string()
        }
        Some(x) => s.strip_suffix(x).unwrap_or(s).to_string(),
    }
}

/// Ruby's `chop`: the last character off (`\r\n` together).
pub fn chop(s: &str) -> String {
    if let Some(r) = s.strip_suffix("\r\n") {
        return r.to_string();
    }
    let mut c = s.chars();
    c.next_back();
    c.as_str().to_string()
}

/// Greek letters with a iota below and `ŉ`, whose case mappings Ruby's `swapcase` takes by
/// rules of its own: refused there.
fn odd_case(c: char) -> bool {
    matches!(c as u32, 0x1F80..=0x1FFF | 0x0149)
}

/// Ruby's `capitalize` (the first character titlecase, the rest lowercase; see
/// [`crate::ruby::capitalize_into`]).
pub fn capitalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    crate::ruby::capitalize_into(s, &mut out);
    out
}

/// Ruby's `swapcase` (full case mapping: `ß` is `SS`).
pub fn swapcase(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            });
        } else if odd_case(c) || matches!(c as u32, 0x01C5 | 0x01C8 | 0x01CB | 0x01F2) {
            // A titlecase digraph Ruby splits (`ǅ` is `dŽ`).
            return Err(unsupported(&format!("swapcase of `{c}`")));
        } else if c.is_uppercase() {
            out.extend(c.to_lowercase());
        } else if c.is_lowercase() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

/// Ruby's `index`/`rindex` of a string in a string (character positions).
pub fn index_of(s: &str, pat: &str, last: bool) -> RValue {
    let at = if last { s.rfind(pat) } else { s.find(pat) };
    at.map_or(RValue::Nil, |b| RValue::Int(s[..b].chars().count() as i64))
}

/// Ruby's `Float#round`/`floor`/`ceil`/`truncate` without digits: an Integer.
pub fn float_to_int(f: f64, m: &str) -> Result<RValue, String> {
    if !f.is_finite() {
        return Err(if f.is_nan() {
            "NaN".into()
        } else if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        });
    }
    let r = match m {
        "round" => f.round(),
        "floor" => f.floor(),
        "ceil" => f.ceil(),
        _ => f.trunc(),
    };
    let two_63 = -(i64::MIN as f64);
    if r >= two_63 || r < -two_63 {
        return Err(unsupported("an Integer beyond 64 bits"));
    }
    Ok(RValue::Int(r as i64))
}

/// Ruby's `Integer#to_s(base)`.
pub fn int_to_s(i: i64, base: i64) -> Result<String, String> {
    if !(2..=36).contains(&base) {
        return Err(format!("invalid radix {base}"));
    }
    let mut n = i.unsigned_abs();
    let mut digits = Vec::new();
    loop {
        let d = (n % base as u64) as u32;
        digits.push(char::from_digit(d, base as u32).unwrap_or('?'));
        n /= base as u64;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        digits.push('-');
    }
    Ok(digits.into_iter().rev().collect())
}

/// The Floats Ruby computes with when an Integer meets a Float (the Integer as its nearest
/// Float); an Integer past 2**53 beside a Float is refused (its rounding is not modelled).
pub fn float_operands(a: &RValue, b: &RValue) -> Result<(f64, f64), String> {
    let f = |v: &RValue| match v {
        RValue::Int(i) => *i as f64,
        RValue::Float(f) => *f,
        _ => 0.0,
    };
    if matches!((a, b), (RValue::Int(x), RValue::Float(_)) | (RValue::Float(_), RValue::Int(x)) if x.unsigned_abs() > (1u64 << 53))
    {
        return Err(unsupported("arithmetic of a large Integer and a Float"));
    }
    Ok((f(a), f(b)))
}

/// Ruby's `Integer % Integer`, `Float % …` (the result takes the divisor's sign).
pub fn modulo(a: &RValue, b: &RValue) -> Result<RValue, String> {
    use RValue::*;
    Ok(match (a, b) {
        (Int(_), Int(0)) => return Err("divided by 0".into()),
        // Floored: the remainder takes the divisor's sign (`i64::MIN % -1` is 0).
        (Int(x), Int(y)) => {
            let r = x.checked_rem(*y).unwrap_or(0);
            Int(if r != 0 && ((r < 0) != (*y < 0)) {
                r + y
            } else {
                r
            })
        }
        (Int(_) | Float(_), Int(_) | Float(_)) => {
            let (x, y) = float_operands(a, b)?;
            if y == 0.0 {
                return Err("divided by 0".into());
            }
            let mut m = x % y;
            if y * m < 0.0 {
                m += y;
            }
            Float(m)
        }
        (Str(_) | Bytes(_), _) => return Err(unsupported("String#% (format)")),
        (Nil | Bool(_), _) => return Err(no_method("%", a)),
        (Int(_) | Float(_), _) => {
            return Err(format!("{} can't be coerced into {}", b.class(), a.class()))
        }
        _ => return Err(unsupported(&format!("% of {}", a.class()))),
    })
}

/// Ruby's `**` of Integers and Floats.
pub fn power(a: &RValue, b: &RValue) -> Result<RValue, String> {
    use RValue::*;
    Ok(match (a, b) {
        (Int(x), Int(y)) => {
            if *y < 0 {
                return Err(unsupported("an Integer to a negative power (a Rational)"));
            }
            let e = u32::try_from(*y).map_err(|_| unsupported("an Integer beyond 64 bits"))?;
            Int(x
                .checked_pow(e)
                .ok_or_else(|| unsupported("an Integer beyond 64 bits"))?)
        }
        (Int(_) | Float(_), Int(_) | Float(_)) => {
            let (x, y) = float_operands(a, b)?;
            if x < 0.0 && y.fract() != 0.0 {
                return Err(unsupported(
                    "a negative number to a fractional power (a Complex)",
                ));
            }
            Float(x.powf(y))
        }
        (Nil | Bool(_) | Str(_) | Bytes(_), _) => return Err(no_method("**", a)),
        (Int(_) | Float(_), _) => {
            return Err(format!("{} can't be coerced into {}", b.class(), a.class()))
        }
        _ => return Err(unsupported(&format!("** of {}", a.class()))),
    })
}

/// Ruby's `Array#max`/`min` (the first of equal ones) and `sort` (refused where equal elements
/// differ, which Ruby's unstable sort may order either way).
pub fn array_order(a: &[RValue], m: &str) -> Result<RValue, String> {
    let cmp = |x: &RValue, y: &RValue| -> Result<Ordering, String> {
        spaceship(x, y)?
            .ok_or_else(|| format!("comparison of {} with {} failed", x.class(), describe(y)))
    };
    match m {
        "max" | "min" => {
            let Some(mut best) = a.first() else {
                return Ok(RValue::Nil);
            };
            for x in &a[1..] {
                let o = cmp(x, best)?;
                if (m == "max" && o == Ordering::Greater) || (m == "min" && o == Ordering::Less) {
                    best = x;
                }
            }
            Ok(best.clone())
        }
        _ => {
            let mut v = a.to_vec();
            let mut err = None;
            let mut tie = false;
            v.sort_by(|x, y| match cmp(x, y) {
                Ok(o) => {
                    if o == Ordering::Equal && !eql(x, y) {
                        tie = true;
                    }
                    o
                }
                Err(e) => {
                    err.get_or_insert(e);
                    Ordering::Equal
                }
            });
            if let Some(e) = err {
                return Err(e);
            }
            if tie {
                return Err(unsupported(
                    "sort of equal elements that differ (1 and 1.0)",
                ));
            }
            Ok(RValue::Array(v))
        }
    }
}

/// Ruby's `Array#sum` (Integers exactly, Floats with Kahan-Babuska summation as Ruby does).
pub fn sum(a: &[RValue]) -> Result<RValue, String> {
    let mut i: i64 = 0;
    let mut k = 0;
    while k < a.len() {
        match &a[k] {
            RValue::Int(x) => {
                i = i
                    .checked_add(*x)
                    .ok_or_else(|| unsupported("an Integer beyond 64 bits"))?
            }
            _ => break,
        }
        k += 1;
    }
    if k == a.len() {
        return Ok(RValue::Int(i));
    }
    if !matches!(a[k], RValue::Float(_)) {
        return Err(match &a[k] {
            RValue::Nil => "nil can't be coerced into Integer".into(),
            o => format!("{} can't be coerced into Integer", o.class()),
        });
    }
    if i.unsigned_abs() > (1u64 << 53) {
        return Err(unsupported("arithmetic of a large Integer and a Float"));
    }
    // Ruby's ary_add_one/Kahan-Babuska loop from the first Float on.
    let (mut f, mut c) = (i as f64, 0.0f64);
    for x in &a[k..] {
        let x = match x {
            RValue::Float(x) => *x,
            RValue::Int(n) if n.unsigned_abs() <= (1u64 << 53) => *n as f64,
            RValue::Int(_) => return Err(unsupported("arithmetic of a large Integer and a Float")),
            o => return Err(format!("{} can't be coerced into Float", o.class())),
        };
        if !x.is_finite() || !f.is_finite() {
            // Ruby leaves the loop and adds the rest plainly.
            return Err(unsupported("sum of Floats that are not finite"));
        }
        let t = f + x;
        if f.abs() >= x.abs() {
            c += (f - t) + x;
        } else {
            c += (x - t) + f;
        }
        f = t;
    }
    Ok(RValue::Float(f + c))
}

/// Ruby's `flatten` (every level).
pub fn flatten(a: &[RValue], out: &mut Vec<RValue>, depth: usize) -> Result<(), String> {
    if depth > 100 {
        return Err(unsupported("flatten deeper than 100"));
    }
    for x in a {
        match x {
            RValue::Array(y) => flatten(y, out, depth + 1)?,
            o => out.push(o.clone()),
        }
    }
    Ok(())
}

/// Ruby's `uniq` (by `eql?`: `1` and `1.0` both stay).
pub fn uniq(a: &[RValue]) -> Result<Vec<RValue>, String> {
    dedupe(a.iter().cloned(), |x| x, |_, _| {})
}

/// Ruby's `take(n)` / `drop(n)`.
pub fn take_drop(a: &[RValue], m: &str, n: &RValue) -> Result<RValue, String> {
    let n = int_arg(n)?;
    if n < 0 {
        return Err(format!("attempt to {m} negative size"));
    }
    let n = (n as usize).min(a.len());
    Ok(RValue::Array(if m == "take" {
        a[..n].to_vec()
    } else {
        a[n..].to_vec()
    }))
}

/// The bytes of a string value as Ruby's UTF-8 string of them: valid sequences as characters,
/// each other byte as the character standing for it ([`crate::ruby::stands_for_byte`]).
fn utf8_keeping_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        out.push_str(&crate::ruby::bytes_as_text(chunk.invalid()));
    }
    out
}

/// The encoding methods of a string (`v` a `Str` or `Bytes`): `scrub` (each invalid sequence,
/// as Ruby and Unicode cut them, replaced), `valid_encoding?`, `force_encoding` (`UTF-8` or
/// `ASCII-8BIT`/`BINARY`) and `b`. `None` for another method.
pub fn encoding_method(v: &RValue, m: &str, args: &[RValue]) -> Result<Option<RValue>, String> {
    let (text, binary) = match v {
        RValue::Str(s) => (s, false),
        RValue::Bytes(s) => (s, true),
        _ => return Ok(None),
    };
    let bytes = || crate::ruby::text_bytes(text);
    Ok(Some(match m {
        "valid_encoding?" => RValue::Bool(binary || std::str::from_utf8(&bytes()).is_ok()),
        "b" => RValue::Bytes(crate::ruby::bytes_as_text(&bytes())),
        "scrub" if binary => v.clone(),
        "scrub" => {
            let rep = match args.first() {
                None => "\u{FFFD}",
                Some(RValue::Str(r)) if !r.chars().any(crate::ruby::stands_for_byte) => r,
                Some(RValue::Nil) => "\u{FFFD}",
                Some(_) => return Err(unsupported("scrub with that replacement")),
            };
            let b = bytes();
            let mut out = String::with_capacity(b.len());
            for chunk in b.utf8_chunks() {
                out.push_str(chunk.valid());
                if !chunk.invalid().is_empty() {
                    out.push_str(rep);
                }
            }
            RValue::Str(out)
        }
        "force_encoding" => {
            let Some(RValue::Str(enc)) = args.first() else {
                return Err(unsupported("force_encoding of other than a string literal"));
            };
            match enc.to_ascii_uppercase().as_str() {
                "UTF-8" => RValue::Str(utf8_keeping_bytes(&bytes())),
                "ASCII-8BIT" | "BINARY" => RValue::Bytes(crate::ruby::bytes_as_text(&bytes())),
                _ => return Err(unsupported(&format!("force_encoding to {enc}"))),
            }
        }
        _ => return Ok(None),
    }))
}
