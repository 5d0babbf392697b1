//! Ruby's text of a record value, as Fluentd writes it: `to_s` (a string's bytes, nil `""`,
//! numbers and booleans their Ruby text, a map or an array its `inspect`) and `inspect`
//! (`"s"`, `nil`, `{"a"=>1, "b"=>[1, nil]}`, Ruby 3.3's form).
//!
//! A nested EventTime is written by the caller's `time` function (Fluentd's `EventTime#inspect`
//! is the time in the process's zone, which this crate does not know).

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::{EventTime, Value};

/// How an EventTime nested in a value is written by `inspect`.
pub type TimeText<'a> = &'a dyn Fn(EventTime, &mut String);

/// Ruby's `scrub('?')`: each invalid UTF-8 sequence becomes one `?`.
pub fn scrub(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => {
            let mut s = String::with_capacity(bytes.len());
            for chunk in bytes.utf8_chunks() {
                s.push_str(chunk.valid());
                if !chunk.invalid().is_empty() {
                    s.push('?');
                }
            }
            Cow::Owned(s)
        }
    }
}

/// Append Ruby's `to_s` of a value.
pub fn to_s_into(v: &Value, out: &mut String, time: TimeText) {
    match v {
        Value::Str(s) => out.push_str(s),
        Value::Bin(b) => out.push_str(&scrub(b)),
        Value::Array(_) | Value::Map(_) => inspect_into(v, out, time),
        other => out.push_str(&other.to_text()),
    }
}

/// Append Ruby's `inspect` of a value.
pub fn inspect_into(v: &Value, out: &mut String, time: TimeText) {
    match v {
        Value::Nil => out.push_str("nil"),
        Value::Str(s) => inspect_str(s.as_bytes(), out),
        Value::Bin(b) => inspect_binary(b, out),
        Value::Array(items) => {
            out.push('[');
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                inspect_into(x, out, time);
            }
            out.push(']');
        }
        Value::Map(pairs) => {
            out.push('{');
            for (i, (k, x)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                inspect_into(k, out, time);
                out.push_str("=>");
                inspect_into(x, out, time);
            }
            out.push('}');
        }
        Value::Ext(0, payload) => match EventTime::from_payload(payload) {
            Some(t) => time(t, out),
            None => out.push_str(&v.to_text()),
        },
        other => out.push_str(&other.to_text()),
    }
}

/// A binary (ASCII-8BIT) string's inspect: printable ASCII as it is, other bytes `\xNN`.
fn inspect_binary(bytes: &[u8], out: &mut String) {
    out.push('"');
    let mut it = bytes.iter().peekable();
    while let Some(&b) = it.next() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x0c => out.push_str("\\f"),
            0x0b => out.push_str("\\v"),
            0x08 => out.push_str("\\b"),
            0x07 => out.push_str("\\a"),
            0x1b => out.push_str("\\e"),
            b'#' if matches!(it.peek(), Some(b'{' | b'$' | b'@')) => out.push_str("\\#"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02X}");
            }
        }
    }
    out.push('"');
}

fn inspect_str(bytes: &[u8], out: &mut String) {
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid();
        let mut it = valid.chars().peekable();
        while let Some(c) = it.next() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\x0c' => out.push_str("\\f"),
                '\x0b' => out.push_str("\\v"),
                '\x08' => out.push_str("\\b"),
                '\x07' => out.push_str("\\a"),
                '\x1b' => out.push_str("\\e"),
                '#' if matches!(it.peek(), Some('{' | '$' | '@')) => out.push_str("\\#"),
                // The private-use characters logferry reads the bytes of a string that are not
                // UTF-8 as (U+10FF80–U+10FFFF, see logferry-plugins' `bytemap`): the byte.
                c if ('\u{10FF80}'..='\u{10FFFF}').contains(&c) => {
                    let _ = write!(out, "\\x{:02X}", c as u32 - 0x10FF00);
                }
                // Fluentd's workers run with `-Eascii-8bit:ascii-8bit`, so inspect escapes every
                // character outside ASCII too: `"é"` → `"\u00E9"`, `"😀"` → `"\u{1F600}"`.
                c if c.is_control() || !c.is_ascii() => {
                    if (c as u32) > 0xFFFF {
                        let _ = write!(out, "\\u{{{:X}}}", c as u32);
                    } else {
                        let _ = write!(out, "\\u{:04X}", c as u32);
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02X}");
        }
    }
    out.push('"');
}
