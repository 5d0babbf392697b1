//! JSON text read as Fluentd's `json` parser reads it: yajl-ruby (`Yajl.load`), the parser
//! Fluentd falls back to when Oj is not installed, and the one it was checked against.
//!
//! Where yajl departs from RFC 8259 this reader does as yajl does (checked with Ruby 3.1's
//! yajl-ruby, the library Fluentd 1.16.11 loads):
//! * `/* … */` and `// …` comments and the vertical tab and form feed are white space;
//! * `-0` is the integer 0 (`-0.0` stays the float -0.0); a float past the float64 range is
//!   ±Infinity, one below it 0.0;
//! * a `\u` escape of a high surrogate followed by another `\u` escape takes that escape's low
//!   ten bits as its low half, whatever it is (`\ud800\u00e9` is U+100E9); a high surrogate not
//!   followed by `\u` is `?`; a lone low surrogate is written in three bytes as if it were a
//!   character (`\udc00` is `ED B0 80`, which is not UTF-8: the string is kept with those bytes
//!   replaced, as every invalid UTF-8 string of a record is).
//!
//! * text that ends early is not an error: `Yajl.load` gives what its builder holds on top of
//!   its stack at the end — the innermost open array or object with the values read so far
//!   (`{"a":1,"b":{"c":1` gives `{"c":1}`), or a key still waiting for its value (`{"a":"x`
//!   gives `"a"`: no record); a value cut short is left out and a number at the end is whole;
//!   an open comment at the end is ignored. After one whole value, a second one is an error when
//!   it is an array or object that closes, else it is the result (`{"a":1} [` gives `[]`).
//!
//! Integers past the 64-bit range (Ruby's Bignum, written back digit for digit by Fluentd's JSON
//! formatter) become float64 here: a record has no wider integer (README "Differences from
//! Fluentd"). A key repeated in an object keeps its first position and its last value.
//!
//! [`parse_as`] reads as the other two libraries Fluentd's `json_parser` names do (each checked
//! with Ruby 3.1): [`Flavor::Oj`] (Oj 3.14 `Oj.load` in the `compat` mode Fluentd sets; the
//! default `json_parser oj`, as Fluentd's images ship it) and [`Flavor::Json`] (Ruby's
//! `JSON.load`). Both refuse text that ends early or has anything after the value (no yajl
//! builder stack), and both read `\x` as `x` (any character after a backslash but `u` is
//! itself). Besides:
//! * Oj: the text ends at its first NUL byte (a C string); white space is space, tab, CR, LF and
//!   form feed (not the vertical tab), and comments (`/* … */`, `// …`) are white space before
//!   and within the value but not after it; `NaN` (any case of the two `n`s: `nan`, `naN`),
//!   `Infinity`, each with an optional `-`, are floats; a `-` without digits is the integer 0,
//!   leading zeros are skipped (`00` is 0, `00.5` is 0.5) unless a non-zero digit follows them
//!   (`01` is an error); control characters but NUL may stand in a string as they are; any
//!   surrogate escape must be followed by another `\u` escape, whose low ten bits make the
//!   low half (as yajl), so a lone one is an error.
//! * Json: white space is space, tab, CR and LF, `/* … */` and `// …` (ended by a line feed)
//!   comments anywhere; `NaN`, `Infinity` and `-Infinity` are floats; numbers are strict JSON;
//!   a control character in a string is an error; a high surrogate escape must be followed by
//!   another `\u` escape (combined as yajl's), a lone low one is written as its three bytes
//!   (replaced, as yajl's).
//!
//! Ruby's `JSON.load` also turns an object with `"json_class":"String"` into a string (its
//! `create_additions`); that is not done here.

use std::collections::HashMap;
use std::fmt;

use logferry_msgpack::Value;

/// Why a text is not JSON, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// What was found.
    pub what: &'static str,
    /// The byte offset in the text.
    pub at: usize,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{} at byte {}", self.what, self.at)
    }
}

impl std::error::Error for JsonError {}

/// Nesting deeper than this is refused (a record is written as msgpack, whose readers stop at
/// [`logferry_msgpack::MAX_DEPTH`]).
const MAX_NESTING: usize = 250;

/// Objects this large get a hash index for repeated-key checks.
const INDEX_AT: usize = 24;

/// Which library's reading of JSON text: Fluentd's `json_parser`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Flavor {
    /// Oj (`Oj.load`, `compat` mode): Fluentd's default, as its images ship it.
    #[default]
    Oj,
    /// yajl-ruby (`Yajl.load`): `json_parser yajl`, and the default when Oj is not installed.
    Yajl,
    /// Ruby's json (`JSON.load`): `json_parser json`.
    Json,
}

impl Flavor {
    /// The flavor a `json_parser` value names (`oj`, `yajl`, `json`); None for any other.
    pub fn named(name: &str) -> Option<Flavor> {
        match name {
            "oj" => Some(Flavor::Oj),
            "yajl" => Some(Flavor::Yajl),
            "json" => Some(Flavor::Json),
            _ => None,
        }
    }
}

/// Parse one JSON text as `flavor`'s library reads it (module doc) into a [`Value`]. White
/// space or comments alone are an error.
pub fn parse_as(text: &str, flavor: Flavor) -> Result<Value, JsonError> {
    if flavor == Flavor::Yajl {
        return parse(text);
    }
    // Oj reads a C string: the text ends at its first NUL.
    let text = match (flavor, text.find('\0')) {
        (Flavor::Oj, Some(nul)) => &text[..nul],
        _ => text,
    };
    let mut r = Reader {
        b: text.as_bytes(),
        i: 0,
        scratch: Vec::new(),
        flavor,
    };
    r.ws()?;
    if r.i == r.b.len() {
        return Err(r.err("no JSON value"));
    }
    let v = match r.value(0) {
        Ok(v) => v,
        Err(Stop::Eof(_)) => return Err(r.err("unexpected end of text")),
        Err(Stop::Error(e)) => return Err(e),
    };
    // After the value: Oj takes white space but no comment.
    if flavor == Flavor::Oj {
        while let Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0c) = r.peek() {
            r.i += 1;
        }
    } else {
        r.ws()?;
    }
    if r.i != r.b.len() {
        return Err(r.err("unexpected characters after the JSON value"));
    }
    Ok(v)
}

/// Parse one JSON text, as yajl-ruby reads it, into a [`Value`]. White space or comments alone
/// are an error here (`Yajl.load` gives nil, which Fluentd's parser does not make a record of).
pub fn parse(text: &str) -> Result<Value, JsonError> {
    let mut r = Reader {
        b: text.as_bytes(),
        i: 0,
        scratch: Vec::new(),
        flavor: Flavor::Yajl,
    };
    r.ws()?;
    if r.i == r.b.len() {
        return Err(r.err("no JSON value"));
    }
    let first = match r.value(0) {
        Ok(v) => v,
        Err(Stop::Eof(Some(top))) => return Ok(top),
        Err(Stop::Eof(None)) => return Err(r.err("unexpected end of text")),
        Err(Stop::Error(e)) => return Err(e),
    };
    r.ws()?;
    if r.i == r.b.len() {
        return Ok(first);
    }
    // A second value: yajl-ruby's builder puts it on top of its stack.
    let second = match r.value(0) {
        Ok(Value::Map(_) | Value::Array(_)) => {
            return Err(r.err("multiple JSON values in the text"))
        }
        Ok(v) => v,
        Err(Stop::Eof(Some(top))) => return Ok(top),
        Err(Stop::Eof(None)) => return Ok(first),
        Err(Stop::Error(e)) => return Err(e),
    };
    r.ws()?;
    if r.i != r.b.len() {
        return Err(r.err("text after the JSON values"));
    }
    Ok(second)
}

/// Why a value was not read whole.
enum Stop {
    /// Not JSON.
    Error(JsonError),
    /// The text ended first: the top of yajl-ruby's builder stack when the value set it (an open
    /// array or object, or a key), None when a cut scalar leaves it to the enclosing container.
    Eof(Option<Value>),
}

impl From<JsonError> for Stop {
    fn from(e: JsonError) -> Self {
        Stop::Error(e)
    }
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
    scratch: Vec<u8>,
    flavor: Flavor,
}

impl Reader<'_> {
    fn err(&self, what: &'static str) -> JsonError {
        JsonError { what, at: self.i }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// Skip white space and comments.
    fn ws(&mut self) -> Result<(), JsonError> {
        if self.flavor != Flavor::Yajl {
            return self.ws_strict();
        }
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) => self.i += 1,
                Some(b'/') => match self.b.get(self.i + 1) {
                    Some(b'/') => {
                        self.i += 2;
                        while self.peek().is_some_and(|c| c != b'\n') {
                            self.i += 1;
                        }
                    }
                    Some(b'*') => {
                        let body = self.i + 2;
                        match self.b[body..].windows(2).position(|w| w == b"*/") {
                            Some(n) => self.i = body + n + 2,
                            // Cut short: the end of the text.
                            None => self.i = self.b.len(),
                        }
                    }
                    None => self.i += 1,
                    _ => return Err(self.err("invalid character")),
                },
                _ => return Ok(()),
            }
        }
    }

    /// [`Reader::ws`] for Oj and json: their white space (form feed for Oj only); a comment
    /// that is not closed is an error (json's `//` comment needs its line feed).
    fn ws_strict(&mut self) -> Result<(), JsonError> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.i += 1,
                Some(0x0c) if self.flavor == Flavor::Oj => self.i += 1,
                Some(b'/') => match self.b.get(self.i + 1) {
                    Some(b'/') => match self.b[self.i..].iter().position(|&c| c == b'\n') {
                        Some(n) => self.i += n + 1,
                        None if self.flavor == Flavor::Oj => self.i = self.b.len(),
                        None => return Err(self.err("comment not ended by a line feed")),
                    },
                    Some(b'*') => {
                        let body = self.i + 2;
                        match self.b[body..].windows(2).position(|w| w == b"*/") {
                            Some(n) => self.i = body + n + 2,
                            None => return Err(self.err("comment not closed")),
                        }
                    }
                    _ => return Err(self.err("invalid character")),
                },
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, Stop> {
        match (self.flavor, self.peek()) {
            (Flavor::Oj, Some(b'-' | b'0'..=b'9' | b'I' | b'N')) => return self.oj_number(),
            (Flavor::Oj, Some(b'n')) if !self.b[self.i..].starts_with(b"null") => {
                return self.oj_number()
            }
            (Flavor::Json, Some(b'N')) => return self.word(b"NaN", Value::F64(f64::NAN)),
            (Flavor::Json, Some(b'I')) => return self.word(b"Infinity", Value::F64(f64::INFINITY)),
            (Flavor::Json, Some(b'-')) if self.b[self.i..].starts_with(b"-Infinity") => {
                self.i += 9;
                return Ok(Value::F64(f64::NEG_INFINITY));
            }
            _ => {}
        }
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => Ok(Value::Str(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.word(b"true", Value::Bool(true)),
            Some(b'f') => self.word(b"false", Value::Bool(false)),
            Some(b'n') => self.word(b"null", Value::Nil),
            Some(_) => Err(self.err("invalid character").into()),
            None => Err(Stop::Eof(None)),
        }
    }

    fn word(&mut self, w: &[u8], v: Value) -> Result<Value, Stop> {
        let rest = &self.b[self.i..];
        if rest.starts_with(w) {
            self.i += w.len();
            Ok(v)
        } else if w.starts_with(rest) {
            self.i = self.b.len();
            Err(Stop::Eof(None))
        } else {
            Err(self.err("invalid literal").into())
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, Stop> {
        if depth > MAX_NESTING {
            return Err(self.err("nested too deeply").into());
        }
        self.i += 1;
        let mut items = Vec::new();
        self.ws()?;
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.ws()?;
            match self.value(depth) {
                Ok(v) => items.push(v),
                Err(Stop::Eof(None)) => return Err(Stop::Eof(Some(Value::Array(items)))),
                Err(stop) => return Err(stop),
            }
            self.ws()?;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Value::Array(items));
                }
                None => return Err(Stop::Eof(Some(Value::Array(items)))),
                _ => return Err(self.err("expected ',' or ']'").into()),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, Stop> {
        if depth > MAX_NESTING {
            return Err(self.err("nested too deeply").into());
        }
        self.i += 1;
        let mut pairs: Vec<(Value, Value)> = Vec::new();
        let mut index: Option<HashMap<String, usize>> = None;
        self.ws()?;
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Value::Map(pairs));
        }
        loop {
            self.ws()?;
            match self.peek() {
                Some(b'"') => {}
                None => return Err(Stop::Eof(Some(Value::Map(pairs)))),
                _ => return Err(self.err("invalid object key (must be a string)").into()),
            }
            let k = match self.string() {
                Ok(k) => k,
                Err(Stop::Eof(_)) => return Err(Stop::Eof(Some(Value::Map(pairs)))),
                Err(stop) => return Err(stop),
            };
            // From here to the value, an early end leaves the key on top.
            self.ws()?;
            match self.peek() {
                Some(b':') => self.i += 1,
                None => return Err(Stop::Eof(Some(Value::Str(k)))),
                _ => return Err(self.err("expected ':'").into()),
            }
            self.ws()?;
            let v = match self.value(depth) {
                Ok(v) => v,
                Err(Stop::Eof(None)) => return Err(Stop::Eof(Some(Value::Str(k)))),
                Err(stop) => return Err(stop),
            };
            let found = match &index {
                Some(ix) => ix.get(&k).copied(),
                None => pairs.iter().position(|(key, _)| key.as_str() == Some(&k)),
            };
            match found {
                Some(at) => pairs[at].1 = v,
                None => {
                    if let Some(ix) = &mut index {
                        ix.insert(k.clone(), pairs.len());
                    }
                    pairs.push((Value::Str(k), v));
                    if index.is_none() && pairs.len() >= INDEX_AT {
                        index = Some(
                            pairs
                                .iter()
                                .enumerate()
                                .filter_map(|(n, (key, _))| {
                                    key.as_str().map(|s| (s.to_string(), n))
                                })
                                .collect(),
                        );
                    }
                }
            }
            self.ws()?;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Value::Map(pairs));
                }
                None => return Err(Stop::Eof(Some(Value::Map(pairs)))),
                _ => return Err(self.err("expected ',' or '}'").into()),
            }
        }
    }

    /// Four hex digits at `at`.
    fn hex4(&self, at: usize) -> Result<u32, Stop> {
        let end = (at + 4).min(self.b.len());
        let mut v = 0;
        for &c in &self.b[at.min(end)..end] {
            let d = (c as char).to_digit(16).ok_or(JsonError {
                what: "invalid (non-hex) character after '\\u'",
                at,
            })?;
            v = v * 16 + d;
        }
        if end - at.min(end) < 4 {
            return Err(Stop::Eof(None));
        }
        Ok(v)
    }

    /// A string at the opening quote; the text is UTF-8, so every run between escapes is too.
    fn string(&mut self) -> Result<String, Stop> {
        self.i += 1;
        self.scratch.clear();
        loop {
            let run = logferry_msgpack::json_plain_len(&self.b[self.i..]);
            self.scratch
                .extend_from_slice(&self.b[self.i..self.i + run]);
            self.i += run;
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    let bytes = std::mem::take(&mut self.scratch);
                    return Ok(match String::from_utf8(bytes) {
                        Ok(s) => s,
                        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
                    });
                }
                Some(b'\\') => self.escape()?,
                // Oj takes control characters as they are (a NUL has ended the text).
                Some(c) if self.flavor == Flavor::Oj => {
                    self.scratch.push(c);
                    self.i += 1;
                }
                Some(_) => return Err(self.err("invalid character inside string").into()),
                None => return Err(Stop::Eof(None)),
            }
        }
    }

    /// One escape at the backslash, appended to the scratch as yajl decodes it.
    fn escape(&mut self) -> Result<(), Stop> {
        let c = match self.b.get(self.i + 1) {
            Some(b'"') => b'"',
            Some(b'\\') => b'\\',
            Some(b'/') => b'/',
            Some(b'b') => 0x08,
            Some(b'f') => 0x0c,
            Some(b'n') => b'\n',
            Some(b'r') => b'\r',
            Some(b't') => b'\t',
            Some(b'u') => {
                let mut cp = self.hex4(self.i + 2)?;
                self.i += 6;
                // Oj wants another escape after any surrogate, json after a high one.
                let paired = match self.flavor {
                    Flavor::Oj => cp & 0xf800 == 0xd800,
                    _ => cp & 0xfc00 == 0xd800,
                };
                if paired && self.flavor != Flavor::Yajl {
                    if !self.b[self.i..].starts_with(b"\\u") {
                        return Err(self.err("incomplete surrogate pair").into());
                    }
                    let low = self.hex4(self.i + 2)?;
                    self.i += 6;
                    cp = (((cp & 0x3ff) << 10) | (low & 0x3ff)) + 0x10000;
                } else if cp & 0xfc00 == 0xd800 {
                    if self.b[self.i..].starts_with(b"\\u") {
                        let low = self.hex4(self.i + 2)?;
                        self.i += 6;
                        cp = ((cp & 0x3f) << 10) | ((((cp >> 6) & 0xf) + 1) << 16) | (low & 0x3ff);
                    } else {
                        self.scratch.push(b'?');
                        return Ok(());
                    }
                }
                utf32_to_utf8(cp, &mut self.scratch);
                return Ok(());
            }
            // Oj and json: any other character after the backslash is itself (the first byte
            // of a UTF-8 sequence here, the rest follows as text).
            Some(&c) if self.flavor != Flavor::Yajl => c,
            Some(_) => return Err(self.err("'\\' before a character which it may not").into()),
            None => return Err(Stop::Eof(None)),
        };
        self.scratch.push(c);
        self.i += 2;
        Ok(())
    }

    /// A malformed number: cut short when the text ends there.
    fn bad_number(&self, what: &'static str) -> Stop {
        if self.i == self.b.len() {
            Stop::Eof(None)
        } else {
            self.err(what).into()
        }
    }

    /// A number as Oj reads it (module doc), at `-`, a digit, `I`, `N` or `n`.
    fn oj_number(&mut self) -> Result<Value, Stop> {
        let negative = self.peek() == Some(b'-');
        if negative {
            self.i += 1;
        }
        let rest = &self.b[self.i..];
        if rest.first() == Some(&b'I') {
            if !rest.starts_with(b"Infinity") {
                return Err(self.err("not a number or other value").into());
            }
            self.i += 8;
            return Ok(Value::F64(if negative {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }));
        }
        if let Some(b'N' | b'n') = rest.first() {
            if rest.get(1) != Some(&b'a') || !matches!(rest.get(2), Some(b'N' | b'n')) {
                return Err(self.err("not a number or other value").into());
            }
            self.i += 3;
            return Ok(Value::F64(f64::NAN));
        }
        // Leading zeros are skipped; a non-zero digit after them is an error.
        let zeros_start = self.i;
        while self.peek() == Some(b'0') {
            self.i += 1;
        }
        let zeros = self.i > zeros_start;
        let int_start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        if zeros && self.i > int_start {
            return Err(self.err("not a number").into());
        }
        let int_end = self.i;
        let mut float = false;
        let mut frac = int_end..int_end;
        if self.peek() == Some(b'.') {
            float = true;
            self.i += 1;
            let s = self.i;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.i += 1;
            }
            // `1.`, `-.5` are errors (`.5` never gets here).
            if self.i == s || (negative && !zeros && int_start == int_end) {
                return Err(self.err("not a number").into());
            }
            frac = s..self.i;
        }
        let mut exp = self.i..self.i;
        if let Some(b'e' | b'E') = self.peek() {
            float = true;
            self.i += 1;
            let s = self.i;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            let d = self.i;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.i += 1;
            }
            if self.i == d || (!zeros && int_start == int_end) {
                return Err(self.err("invalid float").into());
            }
            exp = s..self.i;
        }
        let digits = std::str::from_utf8(&self.b[int_start..int_end]).unwrap_or_default();
        if float {
            // The same digits without the leading zeros, for Rust's correctly rounded parse
            // (Oj's agrees with it on every float checked).
            let frac = std::str::from_utf8(&self.b[frac]).unwrap_or_default();
            let exp = std::str::from_utf8(&self.b[exp]).unwrap_or_default();
            let text = format!(
                "{}{}.{}e{}",
                if negative { "-" } else { "" },
                if digits.is_empty() { "0" } else { digits },
                if frac.is_empty() { "0" } else { frac },
                if exp.is_empty() { "0" } else { exp }
            );
            return text
                .parse::<f64>()
                .map(Value::F64)
                .map_err(|_| self.err("malformed number").into());
        }
        Ok(integer(digits, negative))
    }

    fn number(&mut self) -> Result<Value, Stop> {
        let start = self.i;
        let digits = |r: &mut Self| {
            let s = r.i;
            while r.peek().is_some_and(|c| c.is_ascii_digit()) {
                r.i += 1;
            }
            r.i - s
        };
        let negative = self.peek() == Some(b'-');
        if negative {
            self.i += 1;
        }
        let int_start = self.i;
        match digits(self) {
            0 => return Err(self.bad_number("a digit is required after the minus sign")),
            // A leading zero ends the number; what follows is the parser's error.
            n if n > 1 && self.b[int_start] == b'0' => self.i = int_start + 1,
            _ => {}
        }
        let int_end = self.i;
        let mut float = false;
        if self.peek() == Some(b'.') {
            float = true;
            self.i += 1;
            if digits(self) == 0 {
                return Err(self.bad_number("a digit is required after the decimal point"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            float = true;
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if digits(self) == 0 {
                return Err(self.bad_number("a digit is required after the exponent"));
            }
        }
        // The number's text is ASCII.
        let text = std::str::from_utf8(&self.b[start..self.i]).unwrap_or_default();
        if float {
            // Rust rounds as strtod does, and overflows to ±inf and underflows to ±0 alike.
            return text
                .parse::<f64>()
                .map(Value::F64)
                .map_err(|_| self.err("malformed number").into());
        }
        let magnitude = std::str::from_utf8(&self.b[int_start..int_end]).unwrap_or_default();
        Ok(integer(magnitude, negative))
    }
}

/// An integer from its decimal digits (none: 0) and sign: i64, else u64, else the nearest float.
fn integer(magnitude: &str, negative: bool) -> Value {
    if magnitude.is_empty() {
        return Value::Int(0);
    }
    match magnitude.parse::<u64>() {
        Ok(0) => Value::Int(0),
        Ok(m) if negative => match 0i64.checked_sub_unsigned(m) {
            Some(v) => Value::Int(v),
            None => Value::F64(-(m as f64)),
        },
        Ok(m) => match i64::try_from(m) {
            Ok(v) => Value::Int(v),
            Err(_) => Value::UInt(m),
        },
        Err(_) => {
            let v = magnitude.parse::<f64>().unwrap_or(f64::NAN);
            Value::F64(if negative { -v } else { v })
        }
    }
}

/// yajl's `Utf32toUtf8`: any code point below 0x200000 in the UTF-8 byte pattern of its length,
/// surrogates included.
fn utf32_to_utf8(cp: u32, out: &mut Vec<u8>) {
    if cp < 0x80 {
        out.push(cp as u8);
    } else if cp < 0x800 {
        out.extend_from_slice(&[0xc0 | (cp >> 6) as u8, 0x80 | (cp & 0x3f) as u8]);
    } else if cp < 0x10000 {
        out.extend_from_slice(&[
            0xe0 | (cp >> 12) as u8,
            0x80 | ((cp >> 6) & 0x3f) as u8,
            0x80 | (cp & 0x3f) as u8,
        ]);
    } else if cp < 0x200000 {
        out.extend_from_slice(&[
            0xf0 | (cp >> 18) as u8,
            0x80 | ((cp >> 12) & 0x3f) as u8,
            0x80 | ((cp >> 6) & 0x3f) as u8,
            0x80 | (cp & 0x3f) as u8,
        ]);
    } else {
        out.push(b'?');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(text: &str) -> Value {
        match parse(text) {
            Ok(Value::Map(mut m)) => m.pop().expect("one pair").1,
            other => panic!("{text}: {other:?}"),
        }
    }

    fn s(x: &str) -> Value {
        Value::Str(x.into())
    }

    /// Each as Ruby 3.1's yajl-ruby reads it (`Yajl.load`).
    #[test]
    fn yajl_readings() {
        assert_eq!(a(r#"{"a":-0}"#), Value::Int(0));
        assert!(matches!(a(r#"{"a":-0.0}"#), Value::F64(f) if f == 0.0 && f.is_sign_negative()));
        assert_eq!(a(r#"{"a":1e400}"#), Value::F64(f64::INFINITY));
        assert_eq!(a(r#"{"a":-1E400}"#), Value::F64(f64::NEG_INFINITY));
        assert_eq!(a(r#"{"a":1e-400}"#), Value::F64(0.0));
        assert_eq!(a(r#"{"a":4.9e-324}"#), Value::F64(5e-324));
        assert_eq!(a(r#"{"a":1.0e+2}"#), Value::F64(100.0));
        assert_eq!(a(r#"{"a":-9223372036854775808}"#), Value::Int(i64::MIN));
        assert_eq!(a(r#"{"a":18446744073709551615}"#), Value::UInt(u64::MAX));
        assert_eq!(
            a(r#"{"a":18446744073709551616}"#),
            Value::F64(18446744073709551616.0)
        );
        assert_eq!(
            a(r#"{"a":-9223372036854775809}"#),
            Value::F64(-9223372036854775809.0)
        );
        assert_eq!(a(r#"{"a":"\ud83d\ude00"}"#), s("😀"));
        assert_eq!(a(r#"{"a":"\udbff\udfff"}"#), s("\u{10FFFF}"));
        assert_eq!(a(r#"{"a":"\ud800\u00e9"}"#), s("\u{100E9}"));
        assert_eq!(a(r#"{"a":"\ud800\u0041"}"#), s("\u{10041}"));
        assert_eq!(a(r#"{"a":"\ud800\ud800"}"#), s("\u{10000}"));
        assert_eq!(a(r#"{"a":"\ud800xy"}"#), s("?xy"));
        assert_eq!(a(r#"{"a":"\ud800"}"#), s("?"));
        assert_eq!(a(r#"{"a":"\ud800\n"}"#), s("?\n"));
        // ED B0 80: kept as a string with the bytes replaced.
        assert_eq!(a(r#"{"a":"\udc00x"}"#), s("\u{FFFD}\u{FFFD}\u{FFFD}x"));
        assert_eq!(a(r#"{"a":"\u0000\/"}"#), s("\0/"));
        assert_eq!(a("{\"a\":\"\u{7f}é\"}"), s("\u{7f}é"));
        assert_eq!(a("{\u{b}\"a\":1 /* c */}\u{c} // end"), Value::Int(1));
        assert_eq!(
            a("{\"a\"/**/:/*x*/[1,/**/2]}"),
            Value::Array(vec![Value::Int(1), Value::Int(2)])
        );
        assert_eq!(
            parse(r#"{"a":1,"b":2,"a":3}"#),
            Ok(Value::Map(vec![
                (s("a"), Value::Int(3)),
                (s("b"), Value::Int(2))
            ]))
        );
        assert_eq!(parse("[]"), Ok(Value::Array(vec![])));
        assert_eq!(parse(" null "), Ok(Value::Nil));
    }

    /// Text that ends early, each as `Yajl.load` reads it (Ruby 3.1, yajl-ruby).
    #[test]
    fn cut_short_as_yajl_ruby() {
        let i = Value::Int;
        let map = |pairs: Vec<(&str, Value)>| {
            Value::Map(pairs.into_iter().map(|(k, v)| (s(k), v)).collect())
        };
        let cases: Vec<(&str, Option<Value>)> = vec![
            (r#"{"a":1"#, Some(map(vec![("a", i(1))]))),
            (r#"{"a":1,"#, Some(map(vec![("a", i(1))]))),
            (r#"{"a":1,"b"#, Some(map(vec![("a", i(1))]))),
            (r#"{"a":1,"b""#, Some(s("b"))),
            (r#"{"a":1,"b":"#, Some(s("b"))),
            (r#"{"a":1,"b":"x"#, Some(s("b"))),
            (r#"{"a":1,"b":tr"#, Some(s("b"))),
            (r#"{"a":1,"b":-"#, Some(s("b"))),
            (r#"{"a":1,"b":1."#, Some(s("b"))),
            (r#"{"a":1,"b":1e"#, Some(s("b"))),
            (r#"{"a":1,"b":"\u00"#, Some(s("b"))),
            (
                r#"{"a":1,"b":12"#,
                Some(map(vec![("a", i(1)), ("b", i(12))])),
            ),
            (r#"{"a":1,"b":[1,2"#, Some(Value::Array(vec![i(1), i(2)]))),
            (r#"{"a":1,"b":[1,"x"#, Some(Value::Array(vec![i(1)]))),
            (r#"{"a":1,"b":{"c":1"#, Some(map(vec![("c", i(1))]))),
            (
                r#"{"a":1,"b":{"c":1}"#,
                Some(map(vec![("a", i(1)), ("b", map(vec![("c", i(1))]))])),
            ),
            (r#"{"a":1} {"b":2"#, Some(map(vec![("b", i(2))]))),
            (r#"{"a":1} ["#, Some(Value::Array(vec![]))),
            (r#"{"a":1} 1"#, Some(i(1))),
            (r#"{"a":1} "x""#, Some(s("x"))),
            (r#"{"a":1} tr"#, Some(map(vec![("a", i(1))]))),
            (r#"{"a":1}{"#, Some(map(vec![]))),
            (r#"[{"a":1},{"b":2"#, Some(map(vec![("b", i(2))]))),
            (
                r#"[{"a":1},"#,
                Some(Value::Array(vec![map(vec![("a", i(1))])])),
            ),
            (r#"{"a":1} /"#, Some(map(vec![("a", i(1))]))),
            (r#"{"a":1} /* open"#, Some(map(vec![("a", i(1))]))),
            (r#"{"a":/* x"#, Some(s("a"))),
            (r#"{"a":1,"a":"#, Some(s("a"))),
            ("{", Some(map(vec![]))),
            ("[", Some(Value::Array(vec![]))),
            ("12", Some(i(12))),
            (r#""abc"#, None),
            ("tru", None),
            ("/* open", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text).ok(), want, "{text:?}");
        }
    }

    /// What yajl-ruby refuses is refused.
    #[test]
    fn yajl_errors() {
        for bad in [
            "",
            " ",
            "/* c */",
            "{\"a\":1}\n# c",
            "{\"a\":1}x",
            "{\"a\":1}{\"a\":2}",
            "{\"a\":1,}",
            "{\"a\":[1,]}",
            "{\"a\":\"\t\"}",
            "{\"a\":\"\u{1}\"}",
            "{\"a\":01}",
            "{\"a\":1.}",
            "{\"a\":.5}",
            "{\"a\":-}",
            "{\"a\":+1}",
            "{\"a\":1e}",
            "{\"a\":NaN}",
            "{\"a\":Infinity}",
            "{\"a\":tru}",
            r#"{"a":"\x"}"#,
            r#"{"a":"\u00zz"}"#,
            r#"{"a":"\ud800\uzzzz"}"#,
            "{\"a\":1}\0",
            "\u{feff}{\"a\":1}",
            "{1:2}",
            "{\"a\" 1}",
            "[1 2]",
            "{\"a\":1} /x",
            "{\"a\":1} {\"b\":2}",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        let deep = "[".repeat(MAX_NESTING) + &"]".repeat(MAX_NESTING);
        assert!(parse(&deep).is_ok());
        let deeper = "[".repeat(MAX_NESTING + 1) + &"]".repeat(MAX_NESTING + 1);
        assert!(parse(&deeper).is_err());
    }

    fn oj(text: &str) -> Result<Value, JsonError> {
        parse_as(text, Flavor::Oj)
    }

    fn rb(text: &str) -> Result<Value, JsonError> {
        parse_as(text, Flavor::Json)
    }

    /// The value of the one pair of an object.
    fn only(v: Result<Value, JsonError>, text: &str) -> Value {
        match v {
            Ok(Value::Map(mut m)) if m.len() == 1 => m.pop().expect("one pair").1,
            other => panic!("{text}: {other:?}"),
        }
    }

    /// Each as `Oj.load` (Oj 3.14.2, `mode: :compat`, `bigdecimal_load: :float`, Ruby 3.1)
    /// read it.
    #[test]
    fn oj_readings() {
        let f = Value::F64;
        for (text, want) in [
            (r#"{"a":-}"#, Value::Int(0)),
            (r#"{"a":[-]}"#, Value::Array(vec![Value::Int(0)])),
            (r#"{"a":00}"#, Value::Int(0)),
            (r#"{"a":-00}"#, Value::Int(0)),
            (r#"{"a":-0}"#, Value::Int(0)),
            (r#"{"a":00.5}"#, f(0.5)),
            (r#"{"a":-00.5}"#, f(-0.5)),
            (r#"{"a":00e5}"#, f(0.0)),
            (r#"{"a":1e20}"#, f(1e20)),
            (r#"{"a":1E400}"#, f(f64::INFINITY)),
            (r#"{"a":-Infinity}"#, f(f64::NEG_INFINITY)),
            (r#"{"a":Infinity}"#, f(f64::INFINITY)),
            (
                r#"{"a":123456789012345678901234567890}"#,
                f(1.2345678901234568e29),
            ),
            (r#"{"a":-9223372036854775809}"#, f(-9223372036854775809.0)),
            (r#"{"a":18446744073709551615}"#, Value::UInt(u64::MAX)),
            (
                r#"{"a":1.23456789012345678901234567890}"#,
                f(1.2345678901234567),
            ),
            ("{\"a\":\"x\ty\"}", s("x\ty")),
            ("{\"a\":\"x\u{1}y\"}", s("x\u{1}y")),
            ("{\"a\":\"x\ny\"}", s("x\ny")),
            (r#"{"a":"\x41"}"#, s("x41")),
            (r#"{"a":"\a\ \0\U00e9"}"#, s("a 0U00e9")),
            (r#"{"a":"\é"}"#, s("é")),
            (r#"{"a":"\ud800\u00e9"}"#, s("\u{100E9}")),
            (r#"{"a":"\udc00\udc00"}"#, s("\u{10000}")),
            (r#"{"a":"\uDFFF\uDBFF"}"#, s("\u{10FFFF}")),
            (r#"{"a":"\ud83d\ude00"}"#, s("😀")),
            ("{\"a\":1}\u{c}", Value::Int(1)),
            (" \u{c}{\"a\":1}", Value::Int(1)),
            ("{\"a\":1}\0junk", Value::Int(1)),
            ("/* c */{\"a\"/**/:1}", Value::Int(1)),
            ("// c\n{\"a\"://c\n1}", Value::Int(1)),
            ("{\"a\":1,\"a\":2}", Value::Int(2)),
        ] {
            assert_eq!(only(oj(text), text), want, "{text}");
        }
        for text in [
            r#"{"a":NaN}"#,
            r#"{"a":nan}"#,
            r#"{"a":naN}"#,
            r#"{"a":-NaN}"#,
            r#"{"a":-nan}"#,
        ] {
            assert!(
                matches!(only(oj(text), text), Value::F64(v) if v.is_nan()),
                "{text}"
            );
        }
        assert!(
            matches!(only(oj(r#"{"a":-0.0}"#), ""), Value::F64(v) if v == 0.0 && v.is_sign_negative())
        );
        assert_eq!(
            oj("[1,2]"),
            Ok(Value::Array(vec![Value::Int(1), Value::Int(2)]))
        );
        assert_eq!(oj("\"a\""), Ok(s("a")));
    }

    /// What `Oj.load` refused (all these yajl-ruby reads, or refuses too).
    #[test]
    fn oj_errors() {
        for bad in [
            "",
            "  ",
            "\u{b}{\"a\":1}",
            "{\u{b}\"a\":1}",
            "{\"a\":1}\u{b}",
            r#"{"a":1"#,
            r#"{"a":1,"b":{"c":1"#,
            r#"{"a":"x"#,
            r#"{"a":"#,
            "[1,2",
            "{",
            "[",
            r#"{"a":1} ["#,
            r#"{"a":1} 5"#,
            r#"{"a":1}{"b":2}"#,
            "{\"a\":1}\n{\"b\":2}",
            r#"{"a":1} x"#,
            r#"{"a":1}   /* c */"#,
            r#"{"a":1} // c"#,
            "{\"a\":1} //c\n",
            r#"{"a":1 /* open"#,
            r#"{"a":1,}"#,
            "[1,]",
            "{'a':1}",
            r#"{"a":01}"#,
            r#"{"a":-01}"#,
            r#"{"a":.5}"#,
            r#"{"a":-.5}"#,
            r#"{"a":1.}"#,
            r#"{"a":0.}"#,
            r#"{"a":1.e5}"#,
            r#"{"a":-e5}"#,
            r#"{"a":1e}"#,
            r#"{"a":1e+}"#,
            r#"{"a":+1}"#,
            r#"{"a":- 1}"#,
            r#"{"a":--1}"#,
            r#"{"a":-a}"#,
            r#"{"a":NAN}"#,
            r#"{"a":Inf}"#,
            r#"{"a":-Inf}"#,
            r#"{"a":+Infinity}"#,
            r#"{"a":NaNx}"#,
            r#"{"a":nul}"#,
            r#"{"a":tru}"#,
            r#"{"a":truex}"#,
            "{\"a\":\"x\0y\"}",
            "{\"a\":\0}",
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\ud800x"}"#,
            r#"{"a":"\udc00x"}"#,
            r#"{"a":"\ud800\u"}"#,
            r#"{"a":"\u00"}"#,
            r#"{"a":"\u12G4"}"#,
            "\u{feff}{\"a\":1}",
            "{1:2}",
            r#"{"a" 1}"#,
            r#"{"a":1 "b":2}"#,
            "}",
            "nul",
            r#""\ud800""#,
        ] {
            assert!(oj(bad).is_err(), "{bad:?} parsed: {:?}", oj(bad));
        }
    }

    /// Each as Ruby 3.1's `JSON.load` read it.
    #[test]
    fn ruby_json_readings() {
        let f = Value::F64;
        for (text, want) in [
            (r#"{"a":-Infinity}"#, f(f64::NEG_INFINITY)),
            (r#"{"a":Infinity}"#, f(f64::INFINITY)),
            (r#"{"a":-0}"#, Value::Int(0)),
            (r#"{"a":1E400}"#, f(f64::INFINITY)),
            (r#"{"a":"\x41"}"#, s("x41")),
            (r#"{"a":"\a\ \0\U00e9\é"}"#, s("a 0U00e9é")),
            (r#"{"a":"\ud800\u00e9"}"#, s("\u{100E9}")),
            (r#"{"a":"\uD800\uDBFF"}"#, s("\u{103FF}")),
            (r#"{"a":"\udc00x"}"#, s("\u{FFFD}\u{FFFD}\u{FFFD}x")),
            ("{\"a\":1}   /* c */", Value::Int(1)),
            ("{\"a\":1} //c\n", Value::Int(1)),
            ("/* c */{\"a\"/**/:1}", Value::Int(1)),
            ("{\"a\"://c\n1}", Value::Int(1)),
            ("\t\r\n{\"a\":1}\r\n", Value::Int(1)),
        ] {
            assert_eq!(only(rb(text), text), want, "{text}");
        }
        assert!(matches!(only(rb(r#"{"a":NaN}"#), ""), Value::F64(v) if v.is_nan()));
    }

    /// What `JSON.load` refused.
    #[test]
    fn ruby_json_errors() {
        for bad in [
            "  ",
            r#"{"a":1"#,
            r#"{"a":"#,
            "[1,2",
            "{",
            r#"{"a":1} x"#,
            r#"{"a":1}{"b":2}"#,
            r#"{"a":1} // c"#,
            r#"{"a":1 /* open"#,
            "{\"a\":1}\u{c}",
            " \u{c}{\"a\":1}",
            "{\"a\":1}\0",
            r#"{"a":1,}"#,
            r#"{"a":00}"#,
            r#"{"a":01}"#,
            r#"{"a":-}"#,
            r#"{"a":1.}"#,
            r#"{"a":-NaN}"#,
            r#"{"a":nan}"#,
            r#"{"a":+1}"#,
            "{\"a\":\"x\ty\"}",
            "{\"a\":\"x\u{1}y\"}",
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\ud800x"}"#,
            r#"{"a":"\uDFFF\uDBFF"}"#,
            r#"{"a":"\u00"}"#,
        ] {
            assert!(rb(bad).is_err(), "{bad:?} parsed: {:?}", rb(bad));
        }
    }
}
