//! Messages as binary strings through the parsers (the `tcp`, `udp` and `syslog` inputs).
//! Fluentd reads these sockets as binary strings: a parser sees bytes (a regexp's `.` is one
//! byte, `é` is no word character), and the bytes reach the record as they are, UTF-8 or not (no
//! U+FFFD). logferry's parsers read UTF-8 text, so each byte from 0x80 up stands in the text as
//! a private-use character ([`binary_text`]) and the record's strings are written back as bytes
//! ([`encode_unmapped`]), as msgpack bin, the type Fluentd's out_forward gives a binary string
//! ([`write_binary`]).

use logferry_core::Value;
use logferry_formats::ruby::RubyRegex;
use logferry_msgpack::write;

/// The first of 128 private-use characters that stand for the bytes from 0x80 up of a message
/// while it is parsed (Fluentd's strings are binary: the bytes reach the record as they are).
const BYTE_CHARS: u32 = 0x10FF00;

/// The text of `msg` as Fluentd's parsers see it, a binary string: `None` when it is ASCII (the
/// text is `msg` itself), else each byte from 0x80 up as the character `BYTE_CHARS + byte`, so
/// that a regexp's `.`, `\w` or `[^ ]{2}` counts bytes as Ruby does on a binary string (`é` is
/// two bytes, neither a word character), and bytes that are not UTF-8 are kept.
pub fn binary_text(msg: &[u8]) -> Option<String> {
    if msg.is_ascii() {
        return None;
    }
    Some(logferry_formats::ruby::bytes_as_text(msg))
}

/// Ruby's message when a pattern fixed to UTF-8 (text past ASCII, `\p{…}`) is matched against a
/// binary string with a byte past ASCII (`Encoding::CompatibilityError`).
pub const INCOMPATIBLE_MATCH: &str =
    "incompatible encoding regexp match (UTF-8 regexp with ASCII-8BIT string)";

/// The text `re` reads in `bytes`, a binary string, as Ruby matches one: `Ok(None)` when they are
/// ASCII (read as text), else [`binary_text`] (`.` is one byte, `é` no `\w`), or Ruby's error
/// ([`INCOMPATIBLE_MATCH`]) when `re` is fixed to UTF-8.
pub fn binary_match_text(bytes: &[u8], re: &RubyRegex) -> Result<Option<String>, &'static str> {
    match binary_text(bytes) {
        Some(_) if re.fixed_encoding() => Err(INCOMPATIBLE_MATCH),
        text => Ok(text),
    }
}

/// [`binary_match_text`] of a raw msgpack value when it is a binary string (msgpack bin: from
/// in_tail, tcp, udp or syslog, or a Fluentd forwarder); `Ok(None)` for any other value.
pub fn binary_value_match_text(
    raw: Option<&[u8]>,
    re: &RubyRegex,
) -> Result<Option<String>, &'static str> {
    match raw {
        Some(raw) if matches!(raw.first(), Some(0xc4..=0xc6)) => {
            match logferry_msgpack::Reader::new(raw).read_str() {
                Ok(bytes) => binary_match_text(bytes, re),
                Err(_) => Ok(None),
            }
        }
        _ => Ok(None),
    }
}

/// The text of `line`, a UTF-8 string holding bytes that are not UTF-8 (in_tail with
/// `encoding UTF-8`: Fluentd keeps them, and its `none` and `json` parsers keep them in the
/// record; the caller has found it is not UTF-8): its characters as they are and each byte that
/// is not UTF-8 as the character [`binary_text`] gives it, so that a parser reads the text and
/// the record keeps the bytes ([`encode_unmapped`]). A line that also holds characters read back
/// as bytes (U+10FF80–U+10FFFF) is [`binary_text`] whole, so no byte is ever changed.
pub fn utf8_text(line: &[u8]) -> String {
    let mut text = String::with_capacity(line.len() + 16);
    for chunk in line.utf8_chunks() {
        if chunk.valid().chars().any(is_byte_char) {
            return binary_text(line).unwrap_or_default();
        }
        text.push_str(chunk.valid());
        text.extend(chunk.invalid().iter().map(|&b| byte_char(b)));
    }
    text
}

/// A value (a record) decoded as [`Value::decode`] does, but each str keeps its bytes: those
/// that are not UTF-8 stand in its text as [`utf8_text`] maps them, for [`encode_unmapped`] (with
/// `binary` false) to write back. A UTF-8 string of Fluentd's holding such bytes (from Oj, or
/// in_tail with `encoding`), or a Fluent Bit string of a file's bytes, then goes through a filter
/// that rewrites the record with its bytes, as through Fluentd's. `None` when `raw` is no value.
pub fn decode_keeping_bytes(raw: &[u8]) -> Option<Value> {
    decode_keeping_bytes_flagged(raw).ok().map(|(v, _)| v)
}

/// [`decode_keeping_bytes`] that tells whether any str was mapped (`true`: the value must be
/// written back with [`encode_unmapped`]; `false`: it is what [`Value::decode`] gives), with
/// the decoding error when `raw` is no value.
pub fn decode_keeping_bytes_flagged(raw: &[u8]) -> logferry_msgpack::Result<(Value, bool)> {
    let mapped = std::cell::Cell::new(false);
    let (v, _) = Value::decode_with(raw, &|b| {
        let s = str_keeping_bytes(b);
        if s.len() != b.len() {
            mapped.set(true);
        }
        s
    })?;
    Ok((v, mapped.get()))
}

/// [`decode_keeping_bytes`] of a record: a map (an empty one when `raw` is not a map), to be
/// written back with [`encode_unmapped`] (`binary` false).
pub fn decode_record_keeping_bytes(raw: &[u8]) -> Value {
    decode_record_keeping_bytes_flagged(raw).0
}

/// [`decode_record_keeping_bytes`], telling whether any str was mapped (see
/// [`decode_keeping_bytes_flagged`]).
pub fn decode_record_keeping_bytes_flagged(raw: &[u8]) -> (Value, bool) {
    match decode_keeping_bytes_flagged(raw) {
        Ok((v @ Value::Map(_), mapped)) => (v, mapped),
        _ => (Value::Map(Vec::new()), false),
    }
}

/// `s` as text that [`encode_unmapped`] writes back as `s`'s own bytes: itself, unless it holds
/// characters that read back as bytes (U+10FF80–U+10FFFF: a parser's `"\udbff\udfff"`), then
/// its bytes mapped ([`binary_text`]). Text that did not come from [`decode_keeping_bytes`] goes
/// through this before it is written with [`encode_unmapped`] beside text that did.
pub fn protect_str(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(is_byte_char) {
        std::borrow::Cow::Owned(binary_text(s.as_bytes()).unwrap_or_default())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// [`protect_str`] of every string in `v`, keys too.
pub fn protect(v: Value) -> Value {
    match v {
        Value::Str(s) if s.chars().any(is_byte_char) => Value::Str(protect_str(&s).into_owned()),
        Value::Array(items) => Value::Array(items.into_iter().map(protect).collect()),
        Value::Map(fields) => Value::Map(
            fields
                .into_iter()
                .map(|(k, x)| (protect(k), protect(x)))
                .collect(),
        ),
        other => other,
    }
}

/// The text of a str's bytes for [`decode_keeping_bytes`]: itself when UTF-8 (as
/// [`binary_text`] when it holds characters that read back as bytes, so that none is changed).
fn str_keeping_bytes(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) if !s.chars().any(is_byte_char) => s.to_owned(),
        Ok(_) => binary_text(bytes).unwrap_or_default(),
        Err(_) => utf8_text(bytes),
    }
}

/// Does `c` stand for a byte (see [`binary_text`])? Only bytes from 0x80 up are mapped, so a
/// character of U+10FF00–U+10FF7F (private use, as rare as the rest) stays itself.
fn is_byte_char(c: char) -> bool {
    (BYTE_CHARS + 0x80..=BYTE_CHARS + 0xff).contains(&(c as u32))
}

/// The character standing for byte `b` (see [`binary_text`]).
fn byte_char(b: u8) -> char {
    char::from_u32(BYTE_CHARS + u32::from(b)).unwrap_or(char::REPLACEMENT_CHARACTER)
}

/// Write `bytes`, read from a file or socket, as the string Fluentd makes of them: a binary
/// (ASCII-8BIT) string, which its out_forward packs as msgpack bin. A Fluentd aggregator then
/// treats them as Fluentd's own forwarder's: a string of bytes that are not UTF-8 goes through
/// its regexps, `upcase`, `sub`, … where a UTF-8 string of the same bytes raises ("invalid byte
/// sequence in UTF-8", the event to `@ERROR`), and `é` is two bytes. ASCII stays str: Fluentd's
/// strings behave the same either way, and the parsers' fast paths write str.
pub fn write_binary(buf: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.is_ascii() {
        write::str_bytes(buf, bytes);
    } else {
        write::bin(buf, bytes);
    }
}

/// Write `v` as msgpack, each [`byte_char`] in its strings as its byte: as a binary string
/// ([`write_binary`]) when `binary` (the strings are pieces of the message, see
/// [`Parser::keeps_text_bytes`](logferry_formats::parser::Parser::keeps_text_bytes)), else as
/// str (the `json` parser's strings, UTF-8 strings in Fluentd whatever their bytes).
pub fn encode_unmapped(v: &Value, buf: &mut Vec<u8>, binary: bool) {
    match v {
        Value::Str(s) if s.chars().any(is_byte_char) => {
            if binary {
                write_binary(buf, &unmapped_bytes(s));
            } else {
                write::str_bytes(buf, &unmapped_bytes(s));
            }
        }
        Value::Array(items) => {
            write::array_len(buf, items.len() as u32);
            for x in items {
                encode_unmapped(x, buf, binary);
            }
        }
        Value::Map(fields) => {
            write::map_len(buf, fields.len() as u32);
            for (k, x) in fields {
                encode_unmapped(k, buf, binary);
                encode_unmapped(x, buf, binary);
            }
        }
        other => other.encode(buf),
    }
}

/// `v` with each string that holds [`byte_char`]s turned back into its bytes: a binary string
/// (`Value::Bin`) when `binary` (see [`encode_unmapped`]), else text (`Value::Str`; bin where the
/// bytes are not UTF-8, which a Rust string cannot hold).
pub fn unmap(v: Value, binary: bool) -> Value {
    match v {
        Value::Str(s) if s.chars().any(is_byte_char) => {
            let b = unmapped_bytes(&s);
            if binary {
                return Value::Bin(b);
            }
            match String::from_utf8(b) {
                Ok(s) => Value::Str(s),
                Err(e) => Value::Bin(e.into_bytes()),
            }
        }
        Value::Array(items) => Value::Array(items.into_iter().map(|x| unmap(x, binary)).collect()),
        Value::Map(fields) => Value::Map(
            fields
                .into_iter()
                .map(|(k, x)| (unmap(k, binary), unmap(x, binary)))
                .collect(),
        ),
        other => other,
    }
}

/// The bytes of `s`, each [`byte_char`] as its byte (a tag taken from a mapped record).
pub fn unmapped_bytes(s: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(s.len());
    extend_unmapped(&mut bytes, s);
    bytes
}

/// Append the bytes of `s` to `buf`, each [`byte_char`] as its byte.
pub fn extend_unmapped(buf: &mut Vec<u8>, s: &str) {
    logferry_formats::ruby::extend_text_bytes(buf, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_not_utf8_written_back() {
        assert_eq!(binary_text(b"plain"), None);
        let text = binary_text(b"a\xff b\xc3\xa9").unwrap();
        assert_eq!(text.chars().count(), 6);
        let rec = Value::Map(vec![(Value::Str("m".into()), Value::Str(text))]);
        let mut buf = Vec::new();
        encode_unmapped(&rec, &mut buf, true);
        // As Fluentd's out_forward packs a binary string: bin.
        assert_eq!(buf, b"\x81\xa1m\xc4\x06a\xff b\xc3\xa9");
        // A string the json parser decoded: str, the bytes as they are (as Fluentd's Oj).
        let mut buf = Vec::new();
        encode_unmapped(&rec, &mut buf, false);
        assert_eq!(buf, b"\x81\xa1m\xa6a\xff b\xc3\xa9");
        // ASCII stays str.
        let mut buf = Vec::new();
        write_binary(&mut buf, b"ab");
        assert_eq!(buf, b"\xa2ab");
    }

    #[test]
    fn utf8_text_maps_only_the_bytes_that_are_not_utf8() {
        let line = b"\xc3\xa9\xff x\xe3\x81";
        let text = utf8_text(line);
        // `é` stays one character; 0xff and the cut sequence are one character a byte.
        assert!(text.starts_with('é'));
        assert_eq!(text.chars().count(), 6);
        assert_eq!(unmapped_bytes(&text), line);
        // A character that reads back as a byte: the whole line as binary, bytes unchanged.
        let odd = "\u{10FFC3}\u{10FFA9}".as_bytes();
        let line = [odd, b"\xff"].concat();
        let text = utf8_text(&line);
        assert_eq!(unmapped_bytes(&text), line);
        assert_eq!(Some(text), binary_text(&line));
    }

    #[test]
    fn decoded_strings_keep_their_bytes() {
        // {"s": str a\xff, "b": bin \xff, "u": str U+10FFC3, "n": [str "é"]}
        let raw =
            b"\x84\xa1s\xa2a\xff\xa1b\xc4\x01\xff\xa1u\xa4\xf4\x8f\xbf\x83\xa1n\x91\xa2\xc3\xa9";
        let v = decode_keeping_bytes(raw).unwrap();
        assert_eq!(
            v.get("n"),
            Some(&Value::Array(vec![Value::Str("é".into())]))
        );
        let mut buf = Vec::new();
        encode_unmapped(&v, &mut buf, false);
        assert_eq!(buf, raw);
        // Text of a parser's beside them: a real U+10FFFF stays itself.
        let parsed = protect(Value::Str("x\u{10FFFF}".into()));
        let mut buf = Vec::new();
        encode_unmapped(&parsed, &mut buf, false);
        assert_eq!(buf, b"\xa5x\xf4\x8f\xbf\xbf");
    }

    #[test]
    fn flagged_decoding_says_when_a_string_was_mapped() {
        let (v, mapped) = decode_keeping_bytes_flagged(b"\x81\xa1k\xa2\xc3\xa9").unwrap();
        assert!(!mapped);
        assert_eq!(v.get("k"), Some(&Value::Str("é".into())));
        for raw in [
            &b"\x81\xa1k\xa2a\xff"[..],
            b"\x81\xa2k\xff\x01",
            b"\x91\xa4\xf4\x8f\xbf\x83",
        ] {
            let (v, mapped) = decode_keeping_bytes_flagged(raw).unwrap();
            assert!(mapped, "{raw:?}");
            let mut buf = Vec::new();
            encode_unmapped(&v, &mut buf, false);
            assert_eq!(buf, raw);
        }
        assert!(decode_keeping_bytes_flagged(b"\x92\x01").is_err());
    }
}
