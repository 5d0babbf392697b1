//! `json` (Fluentd's `parser_json.rb`): an object is one record, an array one record per element
//! (non-objects fail), anything else fails. `time_key time`, `time_type float` (`string` when a
//! `time_format` is given). `json_parser oj|yajl|json` picks whose reading of the text this is
//! ([`super::yajl::Flavor`]: Oj's by default, as Fluentd with Oj installed, which its images
//! ship; yajl-ruby's; Ruby's json): a flat object of strict JSON (which all three read alike)
//! takes a fast path straight to msgpack pairs, anything else (and every error) the full reader.

use logferry_config::BuildError;
use logferry_msgpack::{EventTime, Value};

use super::common::{Common, Conf, Defaults};
use super::{ParseResult, Parser, RawRecord};

/// The `json` parser.
#[derive(Debug)]
pub struct JsonParser {
    common: Common,
    /// `time_key` as msgpack str, as the fast path writes keys: found by comparing bytes.
    time_key_msgpack: Option<Vec<u8>>,
    /// `json_parser`: whose reading of JSON.
    flavor: super::yajl::Flavor,
}

impl JsonParser {
    pub(crate) fn build(c: &Conf) -> Result<Self, BuildError> {
        let c = &c.or_declared(&super::params::JSON);
        // The enum's values are checked by `get`; each names a flavor.
        let flavor = super::yajl::Flavor::named(c.get::<&str>("json_parser")?).unwrap_or_default();
        let _ = c.param("stream_buffer_size");
        let common = Common::read(
            c,
            &Defaults {
                time_key: Some("time"),
                time_type: "float",
                time_format: None,
                string_if_format: true,
            },
        )?;
        let time_key_msgpack = common.time_key.as_ref().map(|k| {
            let mut enc = Vec::new();
            logferry_msgpack::write::str(&mut enc, k);
            enc
        });
        Ok(JsonParser {
            common,
            time_key_msgpack,
            flavor,
        })
    }

    fn one(&self, v: Value) -> ParseResult {
        match v {
            Value::Map(rec) => self.common.finish(rec),
            _ => Err(
                "pattern not matched with data: a parsed JSON element is not an object".to_string(),
            ),
        }
    }
}

impl JsonParser {
    /// The fast path; `clock`: read the clock for a record without a time field.
    fn raw(&self, text: &str, out: &mut RawRecord, clock: bool) -> Option<Option<EventTime>> {
        if self.common.conv.is_some() || !flat::object(text, out) {
            return None;
        }
        let c = &self.common;
        let now = |c: &Common| if clock { c.no_time() } else { None };
        let Some(key) = &self.time_key_msgpack else {
            return Some(now(c));
        };

        let found = out
            .pairs
            .iter()
            .position(|(k, _)| k.len() == key.len() && out.buf[k.clone()] == key[..]);
        let Some(i) = found else {
            return Some(now(c));
        };
        let (_, v) = out.pair(i);
        // A time that is not a string, or does not parse: the full parser says why.
        if v.first().is_some_and(|m| matches!(m, 0xc4..=0xc6)) {
            return None;
        }
        let s = logferry_msgpack::Reader::new(v).read_str().ok()?;
        let t = c.time.parse_str(std::str::from_utf8(s).ok()?).ok()?;
        if !c.keep_time_key {
            out.pairs.remove(i);
        }
        Some(Some(t))
    }
}

impl Parser for JsonParser {
    fn keeps_text_bytes(&self) -> bool {
        false
    }

    /// yajl refuses text that is not UTF-8 (no record); Oj and Ruby's json take its bytes as
    /// they are (here the lossy text: U+FFFD in each string, as logferry's JSON writes them).
    fn on_invalid_utf8(&self) -> super::InvalidUtf8 {
        match self.flavor {
            super::yajl::Flavor::Yajl => super::InvalidUtf8::NotMatched,
            super::yajl::Flavor::Oj | super::yajl::Flavor::Json => super::InvalidUtf8::Keeps,
        }
    }

    /// Fluentd's json parser rescues what yajl raises on a value that is not a string; Oj
    /// takes such a value (a number, `true`, an array) as the result, which is no record here
    /// (README "Differences from Fluentd"), and refuses a map. Ruby's `JSON.load` raises
    /// (`NoMethodError`, `TypeError`), which the parser does not rescue.
    fn non_string_raises(&self) -> bool {
        self.flavor == super::yajl::Flavor::Json
    }

    fn bare_value(
        &self,
        field: super::Field<'_>,
        raises_only: bool,
    ) -> Option<Result<(Option<EventTime>, Value), String>> {
        if raises_only && self.common.conv.is_none() {
            return None;
        }
        let v = match field {
            // yajl-ruby's builder makes something of several values in one text (`1 2` is 1,
            // `[1] 2` is [1, 2]), which logferry's reader does not: only a text of one value.
            super::Field::Text(text)
                if self.flavor == super::yajl::Flavor::Yajl
                    && super::yajl::parse_as(text, super::yajl::Flavor::Json).is_err() =>
            {
                return None
            }
            super::Field::Text(text) => super::yajl::parse_as(text, self.flavor).ok()?,
            // `Oj.load` gives back what is not a string; yajl's parse error is rescued (no
            // match), Ruby's json raises before (`non_string_raises`).
            super::Field::Other(
                v @ (Value::Int(_)
                | Value::UInt(_)
                | Value::F32(_)
                | Value::F64(_)
                | Value::Bool(_)
                | Value::Array(_)),
            ) if self.flavor == super::yajl::Flavor::Oj => v.clone(),
            _ => return None,
        };
        match v {
            Value::Map(_) => None,
            // Fluentd's convert_values runs before filter_parser looks at the value.
            v if self.common.conv.is_some() => {
                Some(Err(crate::ruby::no_method_error("each_key", &v)))
            }
            Value::Nil | Value::Bool(false) => None,
            v => Some(Ok((self.common.no_time(), v))),
        }
    }

    fn parse_raw(&self, text: &str, out: &mut RawRecord) -> Option<Option<EventTime>> {
        self.raw(text, out, true)
    }

    fn parse_raw_untimed(&self, text: &str, out: &mut RawRecord) -> bool {
        self.raw(text, out, false).is_some()
    }

    fn parse(&self, text: &str, out: &mut Vec<ParseResult>) {
        match super::yajl::parse_as(text, self.flavor) {
            Ok(Value::Map(rec)) => out.push(self.common.finish(rec)),
            Ok(Value::Array(items)) => {
                // Each object is a record; elements that are not objects make one failure for
                // the whole text (one error event for the record, however many there are).
                let mut failed = None;
                for item in items {
                    match self.one(item) {
                        Err(e) => failed = Some(e),
                        ok => out.push(ok),
                    }
                }
                out.extend(failed.map(Err));
            }
            Ok(_) => out.push(Err(format!(
                "pattern not matched with data '{text}': not a JSON object or array"
            ))),
            // Fluentd's JSON parser yields no record for text it cannot parse (a non-match, not
            // a raised error).
            Err(e) => out.push(Err(format!(
                "pattern not matched with data '{text}': invalid JSON: {e}"
            ))),
        }
    }
}

/// The fast path of [`JsonParser`]: a flat JSON object (no nested object or array, no repeated
/// key) written straight as msgpack pairs. Anything else, and any error, is left to the full
/// parser, which gives the same records and the error messages.
mod flat {
    use logferry_msgpack::write;

    use super::super::RawRecord;

    fn ws(b: &[u8], mut i: usize) -> usize {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(i) {
            i += 1;
        }
        i
    }

    fn hex4(b: &[u8], i: usize) -> Option<u32> {
        let s = std::str::from_utf8(b.get(i..i + 4)?).ok()?;
        if !s.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(s, 16).ok()
    }

    /// A JSON string starting at the quote `b[i]`, written as a msgpack str; returns the index
    /// after the closing quote.
    fn string(b: &[u8], i: usize, out: &mut Vec<u8>, scratch: &mut Vec<u8>) -> Option<usize> {
        // `b` is the bytes of a `&str`: any run between ASCII delimiters is valid UTF-8 (a
        // multi-byte sequence never contains a byte below 0x80), so no run is validated again.
        let start = i + 1;
        // Plain run: no escape, no control character (16 bytes at a time).
        let mut j = start + logferry_msgpack::json_plain_len(b.get(start..)?);
        match *b.get(j)? {
            b'"' => {
                write::str_bytes(out, &b[start..j]);
                return Some(j + 1);
            }
            b'\\' => {}
            _ => return None, // a control character
        }
        scratch.clear();
        scratch.extend_from_slice(&b[start..j]);
        loop {
            match *b.get(j)? {
                b'"' => {
                    write::str_bytes(out, scratch);
                    return Some(j + 1);
                }
                b'\\' => {
                    let c = match *b.get(j + 1)? {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = hex4(b, j + 2)?;
                            j += 6;
                            let cp = if (0xd800..0xdc00).contains(&hi) {
                                if b.get(j..j + 2)? != b"\\u" {
                                    return None;
                                }
                                let lo = hex4(b, j + 2)?;
                                if !(0xdc00..0xe000).contains(&lo) {
                                    return None;
                                }
                                j += 6;
                                0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                            } else {
                                hi
                            };
                            let c = char::from_u32(cp)?;
                            let mut tmp = [0u8; 4];
                            scratch.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
                            continue;
                        }
                        _ => return None,
                    };
                    let mut tmp = [0u8; 4];
                    scratch.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
                    j += 2;
                }
                c if c < 0x20 => return None,
                _ => {
                    // A plain run (at least this byte), copied as is.
                    let run = logferry_msgpack::json_plain_len(&b[j..]).max(1);
                    scratch.extend_from_slice(&b[j..j + run]);
                    j += run;
                }
            }
        }
    }

    /// A JSON number at `b[i]`, written as msgpack (integers as int/uint, others float64).
    fn number(b: &[u8], i: usize, out: &mut Vec<u8>) -> Option<usize> {
        let mut j = i;
        if b.get(j) == Some(&b'-') {
            j += 1;
        }
        let int_start = j;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        let int_len = j - int_start;
        if int_len == 0 || (int_len > 1 && b[int_start] == b'0') {
            return None;
        }
        let mut float = false;
        if b.get(j) == Some(&b'.') {
            float = true;
            j += 1;
            let s = j;
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            if j == s {
                return None;
            }
        }
        if let Some(b'e' | b'E') = b.get(j) {
            float = true;
            j += 1;
            if let Some(b'+' | b'-') = b.get(j) {
                j += 1;
            }
            let s = j;
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            if j == s {
                return None;
            }
        }
        if float {
            let f: f64 = std::str::from_utf8(&b[i..j]).ok()?.parse().ok()?;
            if !f.is_finite() {
                return None;
            }
            write::f64(out, f);
            return Some(j);
        }
        // An integer: its digits (checked above, no leading zero) accumulated, as
        // `str::parse::<i64>` then `::<u64>` would; past those ranges, the full parser's.
        let mut v: u64 = 0;
        for &d in &b[int_start..j] {
            v = v.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        }
        if int_start == i {
            match i64::try_from(v) {
                Ok(v) => write::int(out, v),
                Err(_) => write::uint(out, v),
            }
        } else if v == 0 {
            // `-0`: left to the full parser (its sign handling decides).
            return None;
        } else if v <= 1 << 63 {
            write::int(out, (v as i64).wrapping_neg());
        } else {
            return None;
        }
        Some(j)
    }

    /// Parse a flat object into `rec`; false when the text is anything else.
    pub(super) fn object(text: &str, rec: &mut RawRecord) -> bool {
        rec.clear();
        let b = text.as_bytes();
        let mut i = ws(b, 0);
        if b.get(i) != Some(&b'{') {
            return false;
        }
        i = ws(b, i + 1);
        if b.get(i) == Some(&b'}') {
            return ws(b, i + 1) == b.len();
        }
        loop {
            if b.get(i) != Some(&b'"') {
                return false;
            }
            let k0 = rec.buf.len();
            let Some(next) = string(b, i, &mut rec.buf, &mut rec.scratch) else {
                return false;
            };
            let k1 = rec.buf.len();
            i = ws(b, next);
            if b.get(i) != Some(&b':') {
                return false;
            }
            i = ws(b, i + 1);
            let v0 = rec.buf.len();
            let next = match b.get(i) {
                Some(b'"') => string(b, i, &mut rec.buf, &mut rec.scratch),
                Some(b't') if b[i..].starts_with(b"true") => {
                    write::bool(&mut rec.buf, true);
                    Some(i + 4)
                }
                Some(b'f') if b[i..].starts_with(b"false") => {
                    write::bool(&mut rec.buf, false);
                    Some(i + 5)
                }
                Some(b'n') if b[i..].starts_with(b"null") => {
                    write::nil(&mut rec.buf);
                    Some(i + 4)
                }
                Some(b'-' | b'0'..=b'9') => number(b, i, &mut rec.buf),
                _ => None,
            };
            let Some(next) = next else {
                return false;
            };
            let key = k0..k1;
            // A repeated key keeps its first position and its last value: the full parser's job.
            let new_key = &rec.buf[key.clone()];
            if rec.pairs.len() > 64
                || rec
                    .pairs
                    .iter()
                    .any(|(k, _)| k.len() == new_key.len() && rec.buf[k.clone()] == *new_key)
            {
                return false;
            }
            rec.pairs.push((key, v0..rec.buf.len()));
            i = ws(b, next);
            match b.get(i) {
                Some(b',') => i = ws(b, i + 1),
                Some(b'}') => return ws(b, i + 1) == b.len(),
                _ => return false,
            }
        }
    }
}

#[cfg(test)]
mod fast_path_edges {
    use std::path::Path;

    use logferry_config::Section;

    use super::super::{from_plugin, ParseResult, Parser, RawRecord};

    fn parser(body: &str) -> Box<dyn Parser> {
        let text =
            format!("<filter **>\n  @type parser\n  <parse>\n{body}\n  </parse>\n</filter>\n");
        let root = logferry_config::parse_str(&text, "t.conf", Path::new(".")).unwrap();
        from_plugin(&Section::new(&root.elements[0], "parser"), None).unwrap()
    }

    /// If the fast path takes `text`, it gives the full parser's record bytes and time; returns
    /// whether it took it.
    fn agree(p: &dyn Parser, text: &str) -> bool {
        let mut raw = RawRecord::default();
        let Some(t) = p.parse_raw(text, &mut raw) else {
            return false;
        };
        let mut full: Vec<ParseResult> = Vec::new();
        p.parse(text, &mut full);
        let [Ok((want_t, want))] = full.as_slice() else {
            panic!("fast path took {text:?}, the full parser gave {full:?}");
        };
        let (mut got, mut want_bytes) = (Vec::new(), Vec::new());
        raw.encode_map(&mut got);
        want.encode(&mut want_bytes);
        assert_eq!(got, want_bytes, "{text}");
        if want_t.is_some_and(|w| w.sec > 1_700_000_000 && w.sec != 1_700_000_001) {
            assert!(t.is_some(), "{text}: a current time"); // estimate_current_event: "now"
        } else {
            assert_eq!(t, *want_t, "{text}");
        }
        true
    }

    /// The untimed fast path takes what the timed one takes, with the same record (the time key
    /// taken out alike), and declines what it declines (a time field that does not parse).
    #[test]
    fn untimed_is_the_timed_record_without_the_clock() {
        let p = parser("    @type json\n    time_key t\n    time_format %Y");
        for (text, fast) in [
            (r#"{"a":1,"b":"x"}"#, true),
            (r#"{"t":"2024","a":1}"#, true),
            (r#"{"t":"not a year","a":1}"#, false),
            (r#"{"t":5,"a":1}"#, false),
            (r#"[1]"#, false),
        ] {
            let (mut timed, mut untimed) = (RawRecord::default(), RawRecord::default());
            let took = p.parse_raw(text, &mut timed).is_some();
            assert_eq!(took, fast, "{text}");
            assert_eq!(p.parse_raw_untimed(text, &mut untimed), took, "{text}");
            if took {
                let (mut a, mut b) = (Vec::new(), Vec::new());
                timed.encode_map(&mut a);
                untimed.encode_map(&mut b);
                assert_eq!(a, b, "{text}");
            }
        }
    }

    /// Integers at every range boundary, as the full parser reads them or declined.
    #[test]
    fn integers_at_the_boundaries() {
        let p = parser("    @type json");
        let taken = [
            "0",
            "7",
            "-1",
            "9223372036854775807",
            "9223372036854775808",
            "18446744073709551615",
            "-9223372036854775808",
            "-9223372036854775807",
            "1.5",
            "-0.0",
            "2e3",
        ];
        for n in taken {
            assert!(agree(&*p, &format!(r#"{{"n":{n},"m":1}}"#)), "{n} taken");
        }
        for n in [
            "-0",
            "18446744073709551616",
            "-9223372036854775809",
            "01",
            "-",
            "1.",
            "1e",
        ] {
            assert!(!agree(&*p, &format!(r#"{{"n":{n}}}"#)), "{n} declined");
        }
    }

    /// Every kind of string content at every offset of values of every length to 40 (the
    /// plain-run scan works 16 bytes at a time): escapes, a raw control character (declined),
    /// multi-byte UTF-8, `\u` escapes and surrogate pairs.
    #[test]
    fn string_content_at_every_offset() {
        let p = parser("    @type json");
        let pieces = [
            r#"\""#,
            r#"\\"#,
            r#"\n"#,
            r#"\/"#,
            r#"\u00e9"#,
            r#"\ud83d\ude00"#,
            "é",
            "😀",
            "\u{1}",
            "\t",
        ];
        for len in 0..40 {
            for pos in 0..=len {
                for piece in pieces {
                    let mut v = "a".repeat(len);
                    v.insert_str(pos, piece);
                    let text = format!(r#"{{"k{pos}":"{v}","x":"{v}"}}"#);
                    let taken = agree(&*p, &text);
                    assert_eq!(taken, !matches!(piece, "\u{1}" | "\t"), "{text:?}");
                    // After an escape, the rest is copied in plain runs: a second piece
                    // anywhere after it.
                    let mut w = "b".repeat(len);
                    w.insert_str(pos, piece);
                    w.insert_str(0, r#"x\"y"#);
                    let text = format!(r#"{{"k":"{w}"}}"#);
                    let taken = agree(&*p, &text);
                    assert_eq!(taken, !matches!(piece, "\u{1}" | "\t"), "{text:?}");
                }
            }
        }
    }

    /// The time key is found by its msgpack bytes wherever it is, and only that key.
    #[test]
    fn time_key_found_by_bytes() {
        let p = parser("    @type json\n    time_type string\n    time_format %s");
        for text in [
            r#"{"time":"1700000001","a":1}"#,
            r#"{"a":1,"tim":"x","timex":"y","time":"1700000001"}"#,
            r#"{"a":1}"#,
        ] {
            assert!(agree(&*p, text), "{text}");
        }
        let long = parser(&format!(
            "    @type json\n    time_key {}\n    time_type string\n    time_format %s",
            "t".repeat(40)
        ));
        let text = format!(r#"{{"a":1,"{}":"1700000001"}}"#, "t".repeat(40));
        assert!(agree(&*long, &text));
    }

    /// What filter_parser gets for JSON that is not an object: the value (Oj also for a field
    /// that is not a string), nothing for an object, nil or false, a raise under `types`.
    #[test]
    fn bare_values() {
        use super::super::Field::{Other, Text};
        use logferry_msgpack::Value;
        let p = parser("@type json");
        let bare = |f| p.bare_value(f, false).map(|r| r.map(|(_, v)| v));
        assert_eq!(bare(Text("12")), Some(Ok(Value::Int(12))));
        assert_eq!(
            bare(Text(" [1]")),
            Some(Ok(Value::Array(vec![Value::Int(1)])))
        );
        assert_eq!(bare(Other(&Value::Bool(true))), Some(Ok(Value::Bool(true))));
        for none in ["{}", "null", "false", "nope"] {
            assert_eq!(bare(Text(none)), None, "{none}");
        }
        assert_eq!(bare(Other(&Value::Map(vec![]))), None);
        let yajl = parser("@type json\njson_parser yajl");
        assert!(yajl.bare_value(Other(&Value::Int(1)), false).is_none());
        assert!(yajl.bare_value(Text("1 2"), false).is_none());
        assert!(yajl.bare_value(Text("1"), false).is_some());
        assert!(p.bare_value(Text("12"), true).is_none());
        let typed = parser("@type json\ntypes a:integer");
        assert!(matches!(
            typed.bare_value(Text("false"), true),
            Some(Err(_))
        ));
    }
}
