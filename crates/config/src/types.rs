//! Fluentd's lenient (non-strict) parameter coercions (`lib/fluent/config/types.rb`).
//!
//! None of these fail: like Fluentd without `strict_config_value`, unparsable text
//! yields `0`, `0.0`, `None` or a best-effort split.

/// Ruby's `\s`.
fn is_ruby_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{b}' | '\u{c}' | '\r')
}

/// The first maximal run of ASCII digits immediately followed by a character
/// accepted by `suffix` (the first unanchored match of `/([0-9]+)X/`).
fn digits_before(s: &str, suffix: impl Fn(u8) -> bool) -> Option<u64> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i < b.len() && suffix(b[i]) {
            return Some(b[start..i].iter().fold(0u64, |n, d| {
                n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
            }));
        }
    }
    None
}

/// Size in bytes: the first `N[kK]`, else `N[mM]`, `N[gG]`, `N[tT]` anywhere in the
/// text (×1024ⁿ), else Ruby `to_i` (negative → 0). `"8MB"` → 8 MiB, `"1.5m"` → 5 MiB
/// (the match is `5m`), `"abc"` → 0.
pub fn size(s: &str) -> u64 {
    for (i, unit) in [b'k', b'm', b'g', b't'].into_iter().enumerate() {
        if let Some(n) = digits_before(s, |c| c.to_ascii_lowercase() == unit) {
            return n.saturating_mul(1024u64.pow(i as u32 + 1));
        }
    }
    u64::try_from(integer(s)).unwrap_or(0)
}

/// Duration in seconds: the first `Ns`, else `Nm`, `Nh`, `Nd` anywhere in the text
/// (case-sensitive; integer N), else Ruby `to_f`. `"10ms"` → 600, `"1.5s"` → 5,
/// `"2h30m"` → 1800, `"30M"` → 30, `"0.5"` → 0.5.
pub fn time(s: &str) -> f64 {
    for (unit, mult) in [(b's', 1.0), (b'm', 60.0), (b'h', 3600.0), (b'd', 86400.0)] {
        if let Some(n) = digits_before(s, |c| c == unit) {
            return n as f64 * mult;
        }
    }
    float(s)
}

/// Boolean: `true`/`yes`/`""` → true, `false`/`no` → false, text starting with `#`
/// (a value that was only a comment) → true, anything else → `None`.
pub fn bool(s: &str) -> Option<bool> {
    match s {
        "true" | "yes" | "" => Some(true),
        "false" | "no" => Some(false),
        s if s.starts_with('#') => Some(true),
        _ => None,
    }
}

/// Leading whitespace and an optional sign, as Ruby's `to_i` / `to_f` read them.
fn sign_and_rest(s: &str) -> (bool, &str) {
    let s = s.trim_start_matches(is_ruby_space);
    match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    }
}

/// Leading ASCII digits, allowing single `_` between digits (Ruby numeric literal
/// style); returns the digits and the number of bytes consumed.
fn ruby_digits(s: &str) -> (String, usize) {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            out.push(char::from(b[i]));
        } else if !(b[i] == b'_'
            && i > 0
            && b[i - 1].is_ascii_digit()
            && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            break;
        }
        i += 1;
    }
    (out, i)
}

/// Ruby `String#to_i`: optional whitespace and sign, then decimal digits (`_`
/// separators allowed); stops at the first other character; saturates.
pub fn integer(s: &str) -> i64 {
    integer_wide(s).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// [`integer`] in 128 bits (saturating there): room for every u64 and i64 a value may hold.
pub fn integer_wide(s: &str) -> i128 {
    let (neg, rest) = sign_and_rest(s);
    let (digits, _) = ruby_digits(rest);
    let mut n: i128 = 0;
    for d in digits.bytes() {
        let d = i128::from(d - b'0');
        n = if neg {
            n.saturating_mul(10).saturating_sub(d)
        } else {
            n.saturating_mul(10).saturating_add(d)
        };
    }
    n
}

/// Ruby `String#to_i` modulo 2^64 (two's complement): where Ruby's Integer outgrows 64 bits,
/// the low bits are still its own, as `[n].pack('N')` takes them for an event time's seconds.
pub fn integer_wrapping(s: &str) -> i64 {
    let (neg, rest) = sign_and_rest(s);
    let (digits, _) = ruby_digits(rest);
    let mut n: i64 = 0;
    for d in digits.bytes() {
        n = n.wrapping_mul(10).wrapping_add(i64::from(d - b'0'));
    }
    if neg {
        n.wrapping_neg()
    } else {
        n
    }
}

/// Ruby's strict `Integer(text)`: surrounding whitespace, a sign, a `0x`/`0b`/`0o`/`0d` prefix
/// or a leading `0` (octal), and single `_` between digits; `None` where Ruby raises (`"08"`,
/// `"1__0"`, `"0x"`, `"1.0"`, `""`) or past 64 bits.
pub fn ruby_integer(s: &str) -> Option<i64> {
    let t = s.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\u{b}' | '\u{c}' | '\r'));
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let b = t.as_bytes();
    let (radix, digits, lead_underscore_ok) =
        match (b.first(), b.get(1).map(u8::to_ascii_lowercase)) {
            (Some(b'0'), Some(b'x')) => (16, &t[2..], false),
            (Some(b'0'), Some(b'b')) => (2, &t[2..], false),
            (Some(b'0'), Some(b'o')) => (8, &t[2..], false),
            (Some(b'0'), Some(b'd')) => (10, &t[2..], false),
            (Some(b'0'), Some(_)) => (8, &t[1..], true),
            _ => (10, t, false),
        };
    let d = digits.as_bytes();
    if d.is_empty()
        || (d[0] == b'_' && !lead_underscore_ok)
        || d.last() == Some(&b'_')
        || digits.contains("__")
    {
        return None;
    }
    let mut n: i128 = 0;
    for c in digits.chars().filter(|&c| c != '_') {
        n = n
            .checked_mul(radix)?
            .checked_add(i128::from(c.to_digit(radix as u32)?))?;
        if n > i128::from(i64::MAX) + 1 {
            return None;
        }
    }
    i64::try_from(if neg { -n } else { n }).ok()
}

/// Ruby `String#to_f`: optional whitespace and sign, digits, fraction and exponent;
/// stops at the first other character; `0.0` if there is no number.
pub fn float(s: &str) -> f64 {
    let (neg, rest) = sign_and_rest(s);
    let (int, mut i) = ruby_digits(rest);
    let mut text = if int.is_empty() { "0".to_string() } else { int };
    let b = rest.as_bytes();
    if b.get(i) == Some(&b'.') {
        let (frac, n) = ruby_digits(&rest[i + 1..]);
        if !frac.is_empty() {
            text.push('.');
            text.push_str(&frac);
            i += 1 + n;
        }
    } else if text == "0" && i == 0 {
        return 0.0;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        let mut exp = String::from("e");
        if let Some(&c @ (b'+' | b'-')) = b.get(j) {
            exp.push(char::from(c));
            j += 1;
        }
        let (digits, _) = ruby_digits(&rest[j..]);
        if !digits.is_empty() {
            text.push_str(&exp);
            text.push_str(&digits);
        }
    }
    let v: f64 = text.parse().unwrap_or(0.0);
    if neg {
        -v
    } else {
        v
    }
}

/// Ruby `s.strip.split(/\s*,\s*/)` (trailing empty fields dropped).
fn split_commas(s: &str) -> Vec<String> {
    let s = s.trim_matches(|c| is_ruby_space(c) || c == '\0');
    let mut parts: Vec<String> = s
        .split(',')
        .map(|p| p.trim_matches(is_ruby_space).to_string())
        .collect();
    while parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    parts
}

/// A JSON value as a parameter string: strings raw, anything else as JSON text.
fn json_to_string(v: serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// Array: a JSON array if the text starts with `[` (elements as strings: strings
/// raw, others as their JSON text), else split on commas with surrounding
/// whitespace. `"a,b , c"` → `["a","b","c"]`. Text starting with `[` that is not a
/// JSON array is an error, as Fluentd's `JSON.parse` raises on it at start-up.
pub fn array(s: &str) -> Result<Vec<String>, String> {
    if s.starts_with('[') {
        return match serde_json::from_str(s) {
            Ok(serde_json::Value::Array(items)) => {
                Ok(items.into_iter().map(json_to_string).collect())
            }
            _ => Err(format!("'{s}' starts with '[' but is not a JSON array")),
        };
    }
    Ok(split_commas(s))
}

/// [`array`] whose items must be strings: a JSON array with a number, `null`, an array or an
/// object in it is an error, as Fluentd's record accessor (`param.start_with?`) raises on one at
/// start-up (`remove_keys [1]`).
pub fn string_array(s: &str) -> Result<Vec<String>, String> {
    if s.starts_with('[') {
        if let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(s) {
            if let Some(bad) = items.iter().find(|v| !v.is_string()) {
                return Err(format!("'{s}' has {bad}, which is not a string"));
            }
        }
    }
    array(s)
}

/// Hash: a JSON object if the text starts with `{` (values as strings: strings raw,
/// others as JSON text), else `k:v,k2:v2` split on the first `:` (a field without
/// `:` maps to `""`). Keys keep their first position, the last value wins.
/// `"k1:v1, k2:v2:x"` → `[("k1","v1"), ("k2","v2:x")]`.
///
/// Errors where Fluentd fails at start-up: text starting with `{` that is not a JSON object,
/// and an empty field before the last (`a:1,,b:2`, `,a:1`: Ruby's `Hash[]` raises on it;
/// trailing empty fields are dropped by Ruby's `split`, as here).
pub fn hash(s: &str) -> Result<Vec<(String, String)>, String> {
    if s.starts_with('{') {
        return match serde_json::from_str(s) {
            Ok(serde_json::Value::Object(map)) => Ok(map
                .into_iter()
                .map(|(k, v)| (k, json_to_string(v)))
                .collect()),
            _ => Err(format!("'{s}' starts with '{{' but is not a JSON object")),
        };
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for (n, field) in split_commas(s).into_iter().enumerate() {
        if field.is_empty() {
            return Err(format!(
                "field {} of '{s}' is empty: expected key:value pairs separated by commas",
                n + 1
            ));
        }
        let (k, v) = field.split_once(':').unwrap_or((&field, ""));
        match out.iter_mut().find(|(key, _)| key == k) {
            Some(entry) => entry.1 = v.to_string(),
            None => out.push((k.to_string(), v.to_string())),
        }
    }
    Ok(out)
}

/// Regexp, as Fluentd's `Config.regexp_value`: text not starting with `/` is the whole body
/// with no flags; else the body is what lies between the first and the last `/`, and the text
/// after the last `/` holds the flags, of which only Ruby's `i` (ignore case) and `m` (`.`
/// matches newline) are kept. Lenient: see [`regexp_checked`] for the texts Fluentd refuses.
/// `"/a/im"` → (`a`, `im`); `"/a"` and `"/"` → an empty body (the last `/` is the first).
pub fn regexp(s: &str) -> (String, String) {
    regexp_checked(s).unwrap_or_else(|_| (s.to_string(), String::new()))
}

/// [`regexp`], with Fluentd's start-up error: more than two characters after the last `/`
/// (`invalid regexp: missing right slash`, so `/a/imx` and `/abc` are refused, `/a/im` and `/ab`
/// are not).
pub fn regexp_checked(s: &str) -> Result<(String, String), String> {
    let Some(rest) = s.strip_prefix('/') else {
        return Ok((s.to_string(), String::new()));
    };
    let (body, after) = match rest.rfind('/') {
        Some(end) => (&rest[..end], &rest[end + 1..]),
        None => ("", rest),
    };
    if after.chars().count() > 2 {
        return Err(format!("invalid regexp: missing right slash: {s}"));
    }
    let mut flags = String::new();
    for f in ['i', 'm'] {
        if after.contains(f) {
            flags.push(f);
        }
    }
    Ok((body.to_string(), flags))
}

/// Ruby's `String#to_i`: leading whitespace, a sign, then decimal digits (single underscores
/// between them allowed) up to the first other character; 0 when there are none.
pub fn ruby_to_i(s: &str) -> i64 {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let mut n: i64 = 0;
    let mut prev_digit = false;
    let bytes = rest.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b.is_ascii_digit() {
            n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
            prev_digit = true;
        } else if b == b'_' && prev_digit && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            prev_digit = false;
        } else {
            break;
        }
    }
    if neg {
        -n
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_like_ruby() {
        assert_eq!(integer(" -12abc"), -12);
        assert_eq!(integer("1_000"), 1000);
        assert_eq!(integer("1__0"), 1);
        assert_eq!(integer("99999999999999999999999"), i64::MAX);
        assert_eq!(integer("x1"), 0);
        assert_eq!(float("1.5e3x"), 1500.0);
        assert_eq!(float(".5"), 0.5);
        assert_eq!(float("-2."), -2.0);
        assert_eq!(float("1e"), 1.0);
        assert_eq!(float("abc"), 0.0);
        assert_eq!(size("-5"), 0);
        assert_eq!(size("1024"), 1024);
        assert_eq!(size("99999999999999999999t"), u64::MAX);
        assert_eq!(time("30M"), 30.0);
        assert_eq!(time("abc"), 0.0);
    }

    #[test]
    fn ruby_integer_as_ruby() {
        for (text, want) in [
            ("1_0", Some(10)),
            ("0x1", Some(1)),
            (" 1 ", Some(1)),
            ("-0x1", Some(-1)),
            ("0b11", Some(3)),
            ("0o17", Some(15)),
            ("017", Some(15)),
            ("0_7", Some(7)),
            ("00", Some(0)),
            ("0d19", Some(19)),
            ("0X1F", Some(31)),
            ("\t2\n", Some(2)),
            ("-9223372036854775808", Some(i64::MIN)),
        ] {
            assert_eq!(ruby_integer(text), want, "{text:?}");
        }
        for bad in [
            "08",
            "0x_1",
            "1__0",
            "_1",
            "1_",
            "0x",
            "1e3",
            "1.0",
            "",
            "0_x1",
            "- 1",
            "+-1",
            "0o",
            "09",
            "9223372036854775808",
        ] {
            assert_eq!(ruby_integer(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn regexp_forms() {
        assert_eq!(regexp("/a.b/im"), ("a.b".to_string(), "im".to_string()));
        assert_eq!(regexp("/a/b/x"), ("a/b".to_string(), String::new()));
        assert_eq!(regexp("^foo$"), ("^foo$".to_string(), String::new()));
        // Fluentd's rindex: a lone or unclosed slash leaves an empty body.
        assert_eq!(regexp("/"), (String::new(), String::new()));
        assert_eq!(regexp("/ab"), (String::new(), String::new()));
        assert_eq!(regexp("/a/x"), ("a".to_string(), String::new()));
        assert_eq!(
            regexp_checked("/a/mi").unwrap(),
            ("a".to_string(), "im".to_string())
        );
        for bad in ["/a/abcd", "/abc", "/a/é12", "/a/imx"] {
            assert!(
                regexp_checked(bad)
                    .unwrap_err()
                    .contains("missing right slash"),
                "{bad}"
            );
        }
    }

    #[test]
    fn arrays_and_hashes() {
        assert_eq!(
            array("[1, \"x\", null, {\"a\":1}]").unwrap(),
            ["1", "x", "null", "{\"a\":1}"]
        );
        assert_eq!(array(" a, b,, c ,").unwrap(), ["a", "b", "", "c"]);
        assert!(array("").unwrap().is_empty());
        assert_eq!(
            hash("{\"a\": 1, \"b\": \"x\"}").unwrap(),
            [("a".into(), "1".into()), ("b".into(), "x".into())]
        );
        assert_eq!(
            hash("a:1,b,a:2").unwrap(),
            [("a".into(), "2".into()), ("b".into(), String::new())]
        );
        // Ruby's split drops trailing empty fields only.
        assert_eq!(hash("a:1,,").unwrap(), [("a".into(), "1".into())]);
        assert!(hash("").unwrap().is_empty());
    }

    /// The texts Fluentd 1.16 fails on at start-up (`ArgumentError` from `Hash[]`,
    /// `JSON::ParserError`) are errors.
    #[test]
    fn texts_fluentd_fails_on() {
        for bad in ["a:1,,b:2", ",a:1", "a:1, ,b:2"] {
            let e = hash(bad).unwrap_err();
            assert!(e.contains("is empty"), "{bad}: {e}");
        }
        assert!(hash("{bad").unwrap_err().contains("not a JSON object"));
        assert!(array("[bad").unwrap_err().contains("not a JSON array"));
        for bad in ["[\"a\", 1]", "[[\"a\"]]", "[null]", "[{}]"] {
            assert!(
                string_array(bad).unwrap_err().contains("not a string"),
                "{bad}"
            );
        }
        assert_eq!(string_array("[\"a\", \"b\"]").unwrap(), ["a", "b"]);
        assert_eq!(string_array("a, 1").unwrap(), ["a", "1"]);
    }
}
