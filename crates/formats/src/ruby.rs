//! Ruby semantics the plugins need without a Ruby: regexps written in Ruby syntax, compiled to
//! Rust's `regex`, and Ruby's `to_s` / `inspect` text of record values.
//!
//! Regexps: [`RubyRegex`] (defined in [`crate::ruby_regexp`]) runs a Ruby regexp on Rust's
//! linear-time engine where the translator keeps Ruby's meaning, else on Oniguruma.
//!
//! Text: `to_s` of a string is its bytes (an invalid UTF-8 sequence scrubbed to `?`, as Fluentd
//! does before matching), of nil `""`, of numbers and booleans their Ruby text, of a map or an
//! array its Ruby `inspect` text (`{"a"=>1, "b"=>[1, nil]}`, Ruby 3.3's form).

use std::fmt::Write as _;

use logferry_msgpack::{ruby_text, Reader, Value};

pub use crate::ruby_regexp::{compile, regexp, Captures, Locations, RubyRegex};

/// Does `c` stand for a byte from 0x80 up of a string that is not UTF-8 (U+10FF80–U+10FFFF, the
/// private-use characters logferry-plugins' `bytemap` maps such bytes to while text is read)?
/// Ruby raises on such a string where a method must read its characters (a regexp, `upcase`,
/// `split`).
pub fn stands_for_byte(c: char) -> bool {
    ('\u{10FF80}'..='\u{10FFFF}').contains(&c)
}

/// Ruby's `String#capitalize`: the first character in titlecase (which differs from uppercase
/// for the digraphs `ǆ`→`ǅ`, `ß`→`Ss`, the ligatures `ﬁ`→`Fi`, Georgian, which stays as it is,
/// and Greek with ypogegrammeni), the rest in lowercase (no final-sigma rule).
pub fn capitalize_into(s: &str, out: &mut String) {
    let mut chars = s.chars();
    if let Some(first) = chars.next() {
        titlecase_into(first, out);
        for c in chars {
            out.extend(c.to_lowercase());
        }
    }
}

/// The titlecase mapping of one character (Unicode's, where it is not the uppercase one).
pub fn titlecase_into(c: char, out: &mut String) {
    let special: &str = match c as u32 {
        0xDF => "Ss",
        0x1C4..=0x1C6 => "\u{1C5}",
        0x1C7..=0x1C9 => "\u{1C8}",
        0x1CA..=0x1CC => "\u{1CB}",
        0x1F1..=0x1F3 => "\u{1F2}",
        0x587 => "\u{535}\u{582}",
        0x10D0..=0x10FA | 0x10FD..=0x10FF | 0x1F88..=0x1F8F | 0x1F98..=0x1F9F | 0x1FA8..=0x1FAF => {
            out.push(c);
            return;
        }
        0x1F80..=0x1F87 | 0x1F90..=0x1F97 | 0x1FA0..=0x1FA7 => {
            out.extend(char::from_u32(c as u32 + 8));
            return;
        }
        0x1FB3 | 0x1FBC => "\u{1FBC}",
        0x1FC3 | 0x1FCC => "\u{1FCC}",
        0x1FF3 | 0x1FFC => "\u{1FFC}",
        0x1FB2 => "\u{1FBA}\u{345}",
        0x1FB4 => "\u{386}\u{345}",
        0x1FB7 => "\u{391}\u{342}\u{345}",
        0x1FC2 => "\u{1FCA}\u{345}",
        0x1FC4 => "\u{389}\u{345}",
        0x1FC7 => "\u{397}\u{342}\u{345}",
        0x1FF2 => "\u{1FFA}\u{345}",
        0x1FF4 => "\u{38F}\u{345}",
        0x1FF7 => "\u{3A9}\u{342}\u{345}",
        0xFB00 => "Ff",
        0xFB01 => "Fi",
        0xFB02 => "Fl",
        0xFB03 => "Ffi",
        0xFB04 => "Ffl",
        0xFB05 | 0xFB06 => "St",
        0xFB13 => "\u{544}\u{576}",
        0xFB14 => "\u{544}\u{565}",
        0xFB15 => "\u{544}\u{56B}",
        0xFB16 => "\u{54E}\u{576}",
        0xFB17 => "\u{544}\u{56D}",
        _ => {
            out.extend(c.to_uppercase());
            return;
        }
    };
    out.push_str(special);
}

/// Ruby's `String#to_i` (base 10) of a string's bytes: leading white space, one sign, an
/// optional `0d`, then digits with single underscores between them; anything else ends the
/// number (none: 0). `None` past 64 bits (Ruby's Integer has no bound).
pub fn str_to_i(b: &[u8]) -> Option<i64> {
    let mut i = 0;
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
        i += 1;
    }
    let neg = match b.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    if b.get(i) == Some(&b'0') && matches!(b.get(i + 1), Some(b'd' | b'D')) {
        i += 2;
    }
    // Accumulated negative, so that i64::MIN fits.
    let mut n: i64 = 0;
    let mut last_digit = false;
    while i < b.len() {
        match b[i] {
            d @ b'0'..=b'9' => {
                n = n.checked_mul(10)?.checked_sub(i64::from(d - b'0'))?;
                last_digit = true;
            }
            b'_' if last_digit && b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                last_digit = false;
            }
            _ => break,
        }
        i += 1;
    }
    if neg {
        Some(n)
    } else {
        n.checked_neg()
    }
}

/// The text of a binary (ASCII-8BIT) string as logferry reads one: ASCII as it is, each byte
/// from 0x80 up as the character that stands for it ([`stands_for_byte`]), so that a character
/// is a byte as in Ruby (`"é".b.length` is 2) and the bytes come back whole
/// ([`extend_text_bytes`]).
pub fn bytes_as_text(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii() {
                char::from(b)
            } else {
                char::from_u32(0x10FF00 + u32::from(b)).unwrap_or(char::REPLACEMENT_CHARACTER)
            }
        })
        .collect()
}

/// The bytes of `s` ([`extend_text_bytes`] into a new buffer).
pub fn text_bytes(s: &str) -> Vec<u8> {
    let mut b = Vec::with_capacity(s.len());
    extend_text_bytes(&mut b, s);
    b
}

/// Append the bytes of `s` to `buf`: each character that stands for a byte
/// ([`stands_for_byte`]) as that byte, the others as UTF-8.
pub fn extend_text_bytes(buf: &mut Vec<u8>, s: &str) {
    for c in s.chars() {
        if stands_for_byte(c) {
            buf.push((c as u32 - 0x10FF00) as u8);
        } else {
            buf.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
        }
    }
}

/// Ruby's class name of a value, as `NoMethodError` names it after the value's inspect text
/// (`12:Integer`, `true:TrueClass`, `nil:NilClass`).
pub fn class_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "NilClass",
        Value::Bool(true) => "TrueClass",
        Value::Bool(false) => "FalseClass",
        Value::Int(_) | Value::UInt(_) => "Integer",
        Value::F32(_) | Value::F64(_) => "Float",
        Value::Str(_) | Value::Bin(_) => "String",
        Value::Array(_) => "Array",
        Value::Map(_) => "Hash",
        Value::Ext(0, _) => "Fluent::EventTime",
        Value::Ext(..) => "MessagePack::ExtensionValue",
    }
}

/// Ruby's `NoMethodError` message for `method` called on `v`: "undefined method `map' for
/// 12:Integer" (the value's inspect text and [`class_name`]).
pub fn no_method_error(method: &str, v: &Value) -> String {
    let mut why = format!("undefined method `{method}' for ");
    inspect_into(v, &mut why);
    why.push(':');
    why.push_str(class_name(v));
    why
}

/// The engine group indices that are Ruby's numbered captures `$1`, `$2` …: the named groups
/// when the regexp has any (Ruby then does not capture plain groups), else every group.
pub fn capture_groups(re: &RubyRegex) -> Vec<usize> {
    re.numbered().to_vec()
}

pub use logferry_msgpack::ruby_text::scrub;

/// Ruby's `to_s` of one raw msgpack value (missing or unreadable → `""`). Strings are borrowed
/// from `raw` when valid UTF-8; anything else is written into `scratch`.
pub fn raw_to_s<'a>(raw: Option<&'a [u8]>, scratch: &'a mut String) -> &'a str {
    let Some(raw) = raw else { return "" };
    let mut r = Reader::new(raw);
    if let Ok(b) = r.read_str() {
        return match std::str::from_utf8(b) {
            Ok(s) => s,
            Err(_) => {
                scratch.clear();
                scratch.push_str(&scrub(b));
                scratch.as_str()
            }
        };
    }
    scratch.clear();
    if let Ok(i) = r.read_i64() {
        let _ = write!(scratch, "{i}");
    } else if let Ok(u) = r.read_u64() {
        let _ = write!(scratch, "{u}");
    } else if let Ok((v, _)) = Value::decode_with(raw, &str_keeping_invalid_bytes) {
        // An array or a map: its `inspect`, where a string's bytes that are not UTF-8 are
        // `\xFF` as Ruby writes them (not the replacement character).
        to_s_into(&v, scratch);
    }
    scratch.as_str()
}

/// A msgpack str as text, each byte that is not UTF-8 as the private-use character standing for
/// it (U+10FF80–U+10FFFF), which `inspect` writes as `\xHH`.
fn str_keeping_invalid_bytes(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len() + 8);
            for chunk in bytes.utf8_chunks() {
                out.push_str(chunk.valid());
                out.extend(chunk.invalid().iter().map(|&b| {
                    char::from_u32(0x10FF00 + u32::from(b)).unwrap_or(char::REPLACEMENT_CHARACTER)
                }));
            }
            out
        }
    }
}

/// Ruby's `to_s` of a value.
pub fn to_s(v: &Value) -> String {
    let mut s = String::new();
    to_s_into(v, &mut s);
    s
}

/// Append Ruby's `to_s` of a value (a nested EventTime as Fluentd's `EventTime#inspect` in the
/// process's zone).
pub fn to_s_into(v: &Value, out: &mut String) {
    ruby_text::to_s_into(v, out, &inspect_event_time);
}

/// Append Ruby's `inspect` of a value as bytes (see [`inspect_into`]).
pub fn inspect_bytes(v: &Value, out: &mut Vec<u8>) {
    let mut s = String::new();
    inspect_into(v, &mut s);
    out.extend_from_slice(s.as_bytes());
}

/// Append Ruby's `inspect` of a value (`"s"`, `nil`, `{"a"=>1}`, `[1, 2]`).
pub fn inspect_into(v: &Value, out: &mut String) {
    ruby_text::inspect_into(v, out, &inspect_event_time);
}

/// Fluentd's `EventTime#inspect`: the time in the process's zone to the nanosecond
/// (`2023-11-14 22:13:20.000000005 +0000`), as a record's nested EventTime is written by the
/// formatters that write Ruby's text of a map or an array.
fn inspect_event_time(t: logferry_msgpack::EventTime, out: &mut String) {
    static FORMAT: std::sync::OnceLock<Option<crate::timefmt::TimeFormatter>> =
        std::sync::OnceLock::new();
    let f = FORMAT.get_or_init(|| {
        crate::timefmt::TimeFormatter::new("%Y-%m-%d %H:%M:%S.%N %z", crate::timefmt::Zone::Local)
            .ok()
    });
    match f {
        Some(f) => f.format_into(t, out),
        None => out.push_str(&t.sec.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        Value::Str(x.into())
    }

    #[test]
    fn raw_to_s_inspects_invalid_utf8_as_bytes() {
        // Ruby 3.1 (Fluentd's -Eascii-8bit worker): ["a\xFF", "é\xC3"].inspect.
        let mut raw = vec![0x92, 0xa2, b'a', 0xff, 0xa3, 0xc3, 0xa9, 0xc3];
        let mut scratch = String::new();
        assert_eq!(
            raw_to_s(Some(&raw), &mut scratch),
            r#"["a\xFF", "\u00E9\xC3"]"#
        );
        // A str on its own is scrubbed (matched as `scrub('?')`).
        raw = vec![0xa2, b'a', 0xff];
        assert_eq!(raw_to_s(Some(&raw), &mut scratch), "a?");
    }

    #[test]
    fn ruby_regexp_semantics() {
        let re = regexp("/^b$/").unwrap();
        assert!(re.is_match("a\nb\nc"), "Ruby ^ and $ are line anchors");
        assert!(!regexp("a.b").unwrap().is_match("a\nb"));
        assert!(
            regexp("/a.b/m").unwrap().is_match("a\nb"),
            "Ruby m = dotall"
        );
        assert!(regexp("/ABC/i").unwrap().is_match("xabcx"));
        assert!(
            !regexp("\\d").unwrap().is_match("٣"),
            "\\d is ASCII in Ruby"
        );
        assert!(!regexp("^\\w+$").unwrap().is_match("é"));
        assert!(regexp("^[\\w_]+$").unwrap().is_match("recipe_view"));
        assert!(regexp("[\\d\\s]x").unwrap().is_match(" x"));
        assert!(regexp("\\h\\H").unwrap().is_match("fz"));
        assert!(regexp("foo\\Z").unwrap().is_match("foo\n"));
        assert!(regexp("\\bfoo\\b").unwrap().is_match("a foo b"));
        // Ruby's word boundary is Unicode (unlike its \w): no boundary between é and a.
        assert!(!regexp("\\ba").unwrap().is_match("éa"));
        assert!(regexp("a\\/b").unwrap().is_match("a/b"));
        assert!(regexp("(?m:a.b)").unwrap().is_match("a\nb"));
        assert!(regexp("[]a]").unwrap().is_match("]"));
        assert!(regexp("(?<x>a)(b)").unwrap().is_match("ab"));
        assert!(regexp("^a{,2}b$").unwrap().is_match("aab"));
        assert!(regexp("^a{2}b{1,}c{0,1}$").unwrap().is_match("aabbc"));
        assert!(regexp("^x{y}$").unwrap().is_match("x{y}"));
        assert!(regexp("^a+?b*?c??$").unwrap().is_match("ab"));
        for backtracking in [
            "(?=a)", "(?<!a)b", "(a)\\1", "(?>a)", "a++", "a*+", "a{2}+", "\\Ga", "^$",
        ] {
            let re = regexp(backtracking).unwrap();
            assert_eq!(re.engine(), "oniguruma", "{backtracking}");
        }
        assert!(regexp("^$").unwrap().is_match("a\n\nb"));
        assert!(
            !regexp("^$").unwrap().is_match("a\n"),
            "Ruby's ^ is not after a final newline"
        );
        assert_eq!(
            regexp("(?<=a)b").unwrap().remove_first("abab"),
            "aab",
            "sub on the backtracking engine"
        );
        let re = regexp("/s{10}/i").unwrap();
        assert!(re.is_match("ßßßßß") && re.engine() == "linear");
        // A ligature string in a look-behind under `i`: every spelling of its whole folding.
        let re = regexp(r"/(?<=ß)s/i").unwrap();
        assert!(re.engine() == "oniguruma");
        for (text, found) in [
            ("ßs", true),
            ("ẞs", true),
            ("SSs", true),
            ("ſss", true),
            ("ss", false),
        ] {
            assert_eq!(re.is_match(text), found, "{text}");
        }
        let re = regexp(r"/(?<!x(?:ﬃ|qqq))y/i").unwrap();
        assert!(!re.is_match("xFFIy") && !re.is_match("xﬀiy") && re.is_match("xﬀy"));
        // Ruby's rules for look-behinds still hold: no unbounded repetition.
        let e = regexp(r"/(?<=ß+)s/i").unwrap_err();
        assert!(e.contains("look-behind"), "{e}");
    }

    #[test]
    fn capture_numbering_like_ruby() {
        let re = regexp("(?<a>x)(y)(?<b>z)").unwrap();
        assert_eq!(capture_groups(&re), [1, 3]);
        let re = regexp("(x)(?:y)(z)").unwrap();
        assert_eq!(capture_groups(&re), [1, 2]);
    }

    #[test]
    fn to_s_and_inspect() {
        let mut scratch = String::new();
        let enc = |v: &Value| {
            let mut b = Vec::new();
            v.encode(&mut b);
            b
        };
        let cases = [
            (s("abc"), "abc"),
            (Value::Nil, ""),
            (Value::Int(-5), "-5"),
            (Value::UInt(u64::MAX), "18446744073709551615"),
            (Value::Bool(true), "true"),
            (Value::F64(1.0), "1.0"),
            (
                Value::Map(vec![
                    (s("a"), Value::Int(1)),
                    (s("b"), Value::Array(vec![Value::Nil, s("q\"#{x}\n")])),
                ]),
                "{\"a\"=>1, \"b\"=>[nil, \"q\\\"\\#{x}\\n\"]}",
            ),
            (Value::Map(vec![]), "{}"),
            (Value::Bin(vec![b'a', 0xff]), "a?"),
        ];
        for (v, want) in cases {
            let raw = enc(&v);
            assert_eq!(raw_to_s(Some(&raw), &mut scratch), want);
            assert_eq!(to_s(&v), want);
        }
        assert_eq!(raw_to_s(None, &mut scratch), "");
        assert_eq!(raw_to_s(Some(&[0xa2, b'a', 0xff]), &mut scratch), "a?");
        let mut out = String::new();
        inspect_into(&Value::Bin(vec![0xff, 1]), &mut out);
        assert_eq!(out, "\"\\xFF\\x01\"", "Ruby: \"\\xff\\x01\".b.inspect");
    }

    #[test]
    fn scrub_like_ruby() {
        assert_eq!(scrub(b"a\xffb\xe3\x81"), "a?b?");
        assert_eq!(scrub("ok".as_bytes()), "ok");
    }
}
