//! Fluentd's parser-side time handling (`lib/fluent/time.rb`): `TimeParser` (strptime, `%iso8601`,
//! or `Time.parse` when there is no format), `NumericTimeParser` (`unixtime`, `float`) and
//! `MixedTimeParser` (`time_format` then `time_format_fallbacks`).

use crate::timefmt::Zone;
use logferry_msgpack::{EventTime, Value};

use super::strptime::{event_time, resolve, Fields, Strptime};
use super::time_parse::{make_time, time_parse, Now, Parts};

/// How a parser turns a time field into an event time.
#[derive(Clone, Debug)]
pub(crate) enum TimeParser {
    /// `time_format` (Ruby strptime); `zone` applies when the format has no `%z`/`%Z`.
    Strptime(Strptime, Zone, LastParsed),
    /// `time_format %iso8601`: Ruby's `Time.iso8601`.
    Iso8601,
    /// No `time_format`: Ruby's lenient `Time.parse`, local zone when the text has no offset.
    Lenient,
    /// `time_type unixtime`.
    Unixtime,
    /// `time_type float`.
    Float,
    /// `time_type mixed`: each parser in turn.
    Mixed(Vec<TimeParser>),
}

/// The last text parsed and its time, as Fluentd's TimeParser caches it: consecutive records of
/// a log usually share their second, so most parses are a string comparison. Records of the same
/// minute differ in the `%S` digits only: their time is the cached one shifted by the difference.
#[derive(Debug, Default)]
pub(crate) struct LastParsed(std::sync::Mutex<Option<Last>>);

/// The cached parse.
#[derive(Debug)]
pub(crate) struct Last {
    text: String,
    time: EventTime,
    /// Where `%S` read two digits in `text`.
    sec_at: Option<usize>,
}

/// Two ASCII digits as a number.
fn two_digits(b: &[u8]) -> Option<i64> {
    match b {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => {
            Some(i64::from(a - b'0') * 10 + i64::from(b - b'0'))
        }
        _ => None,
    }
}

impl Clone for LastParsed {
    fn clone(&self) -> Self {
        LastParsed::default()
    }
}

impl LastParsed {
    fn get(&self, s: &str) -> Option<EventTime> {
        let g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let last = g.as_ref()?;
        if last.text == s {
            return Some(last.time);
        }
        // Same text but for the two `%S` digits (both seconds within 0..=59, so no leap-second
        // normalisation): the same minute.
        let p = last.sec_at?;
        let (a, b) = (last.text.as_bytes(), s.as_bytes());
        if a.len() != b.len() || a[..p] != b[..p] || a.get(p + 2..) != b.get(p + 2..) {
            return None;
        }
        let (old, new) = (two_digits(&a[p..p + 2])?, two_digits(&b[p..p + 2])?);
        if old > 59 || new > 59 {
            return None;
        }
        let sec = u32::try_from(i64::from(last.time.sec) - old + new).ok()?;
        Some(EventTime::new(sec, last.time.nsec))
    }

    fn set(&self, s: &str, t: EventTime, sec_at: Option<usize>) {
        let mut g = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match g.as_mut() {
            Some(last) => {
                last.text.clear();
                last.text.push_str(s);
                last.time = t;
                last.sec_at = sec_at;
            }
            None => {
                *g = Some(Last {
                    text: s.to_string(),
                    time: t,
                    sec_at,
                })
            }
        }
    }
}

/// The time settings of one parser.
pub(crate) struct TimeSettings<'a> {
    pub time_type: &'a str,
    pub format: Option<&'a str>,
    pub localtime: bool,
    pub utc: bool,
    pub timezone: Option<&'a str>,
    pub fallbacks: &'a [String],
}

impl TimeParser {
    /// Fluentd's `time_parser_create`.
    pub(crate) fn create(t: &TimeSettings) -> Result<TimeParser, String> {
        match t.time_type {
            "unixtime" => Ok(TimeParser::Unixtime),
            "float" => Ok(TimeParser::Float),
            "mixed" => {
                let mut v = Vec::new();
                for f in t
                    .format
                    .into_iter()
                    .chain(t.fallbacks.iter().map(String::as_str))
                {
                    v.push(match f {
                        // Fluentd's MixedTimeParser hands the string "unixtime" to
                        // NumericTimeParser, which tests for the symbol :unixtime: a `unixtime`
                        // fallback reads floats (keeps the fraction) there.
                        "unixtime" | "float" => TimeParser::Float,
                        _ => TimeParser::string(
                            Some(f),
                            t.localtime && t.timezone.is_none() && !t.utc,
                            t.timezone,
                        )?,
                    });
                }
                Ok(TimeParser::Mixed(v))
            }
            _ => TimeParser::string(
                t.format,
                t.localtime && t.timezone.is_none() && !t.utc,
                t.timezone,
            ),
        }
    }

    /// Fluentd's `TimeParser.new(format, localtime, timezone)`.
    pub(crate) fn string(
        format: Option<&str>,
        localtime: bool,
        timezone: Option<&str>,
    ) -> Result<TimeParser, String> {
        let Some(format) = format else {
            if timezone.is_some() || !localtime {
                return Err(
                    "specifying timezone requires time format (utc, localtime false and \
                            timezone apply only with time_format)"
                        .into(),
                );
            }
            return Ok(TimeParser::Lenient);
        };
        if format == "%iso8601" {
            return Ok(TimeParser::Iso8601);
        }
        let zone = match timezone {
            Some(tz) => Zone::parse(tz)?,
            None if localtime => Zone::Local,
            None => Zone::utc(),
        };
        Ok(TimeParser::Strptime(
            Strptime::new(format)?,
            zone,
            LastParsed::default(),
        ))
    }

    /// Parse a time field value.
    pub(crate) fn parse(&self, v: &Value) -> Result<EventTime, String> {
        match self {
            TimeParser::Unixtime => match v {
                Value::Str(s) => Ok(event_time(logferry_config::types::integer_wrapping(s), 0)),
                Value::Int(i) => Ok(event_time(*i, 0)),
                Value::UInt(u) => Ok(event_time(*u as i64, 0)),
                Value::F64(f) => Ok(event_time(f.trunc() as i64, 0)),
                Value::F32(f) => Ok(event_time(f.trunc() as i64, 0)),
                other => Err(not_string_or_number(other)),
            },
            TimeParser::Float => match v {
                Value::Str(s) => float_time(s),
                Value::Int(_) | Value::UInt(_) | Value::F64(_) | Value::F32(_) => {
                    float_time(&v.to_text())
                }
                other => Err(not_string_or_number(other)),
            },
            TimeParser::Mixed(ps) => {
                for p in ps {
                    if matches!(p, TimeParser::Unixtime | TimeParser::Float) && !ruby_float_ok(v) {
                        continue;
                    }
                    if let Ok(t) = p.parse(v) {
                        return Ok(t);
                    }
                }
                Err(format!(
                    "invalid time format: value = {}, even though fallbacks",
                    v.to_text()
                ))
            }
            _ => match v {
                Value::Str(s) => self.parse_str(s),
                other => Err(format!("value must be string: {}", other.to_text())),
            },
        }
    }

    /// Parse a time string (string time types).
    pub(crate) fn parse_str(&self, s: &str) -> Result<EventTime, String> {
        match self {
            TimeParser::Strptime(p, zone, last) => {
                if let Some(t) = last.get(s) {
                    return Ok(t);
                }
                let (t, sec_at) = if p.has_zone() {
                    // The embedded offset wins; without one Ruby uses local time.
                    p.parse_at(s, &Zone::Local)
                } else {
                    p.parse_at(s, zone)
                }?;
                last.set(s, t, sec_at);
                Ok(t)
            }
            TimeParser::Iso8601 => iso8601_strict(s),
            TimeParser::Lenient => lenient(s, &Zone::Local),
            _ => self.parse(&Value::Str(s.to_string())),
        }
    }
}

/// Fluentd's message, `#{value}(#{value.class})`.
fn not_string_or_number(v: &Value) -> String {
    let class = match v {
        Value::Nil => "NilClass",
        Value::Bool(true) => "TrueClass",
        Value::Bool(false) => "FalseClass",
        Value::Array(_) => "Array",
        Value::Map(_) => "Hash",
        Value::Int(_) | Value::UInt(_) => "Integer",
        Value::F32(_) | Value::F64(_) => "Float",
        Value::Str(_) | Value::Bin(_) => "String",
        Value::Ext(..) => "Fluent::EventTime",
    };
    format!(
        "value must be a string or a number: {}({class})",
        crate::ruby::to_s(v)
    )
}

/// Ruby `Float(v)` succeeds? For strings: blanks around, a sign, then decimal digits (single
/// `_` between digits) with an optional `.digits` and exponent, or `.digits`, or hexadecimal
/// `0x…` (with an optional `.hex` fraction and `p` exponent).
fn ruby_float_ok(v: &Value) -> bool {
    match v {
        Value::Int(_) | Value::UInt(_) | Value::F64(_) | Value::F32(_) => true,
        Value::Str(s) => ruby_float_str(s),
        _ => false,
    }
}

fn ruby_float_str(s: &str) -> bool {
    let ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0b' | '\x0c');
    let t = s.trim_matches(ws).as_bytes();
    let t = t
        .strip_prefix(b"+")
        .or_else(|| t.strip_prefix(b"-"))
        .unwrap_or(t);
    // Digits of `radix` with single underscores between them; the length used.
    let run = |b: &[u8], hex: bool| -> usize {
        let ok = |c: &u8| {
            if hex {
                c.is_ascii_hexdigit()
            } else {
                c.is_ascii_digit()
            }
        };
        let mut i = 0;
        while i < b.len() {
            let underscore = b[i] == b'_' && i > 0 && ok(&b[i - 1]) && b.get(i + 1).is_some_and(ok);
            if !(ok(&b[i]) || underscore) {
                break;
            }
            i += 1;
        }
        i
    };
    let exponent = |b: &[u8], marks: &[u8]| -> Option<usize> {
        if !b.first().is_some_and(|c| marks.contains(c)) {
            return Some(0);
        }
        let sign = usize::from(matches!(b.get(1), Some(b'+' | b'-')));
        let n = run(&b[1 + sign..], false);
        (n > 0).then_some(1 + sign + n)
    };
    if t.len() > 2 && (t.starts_with(b"0x") || t.starts_with(b"0X")) {
        let h = &t[2..];
        let mut i = run(h, true);
        if i == 0 {
            return false;
        }
        if h.get(i) == Some(&b'.') {
            let n = run(&h[i + 1..], true);
            if n == 0 {
                return false;
            }
            i += 1 + n;
        }
        return exponent(&h[i..], b"pP").is_some_and(|n| i + n == h.len());
    }
    let mut i = run(t, false);
    if t.get(i) == Some(&b'.') {
        let n = run(&t[i + 1..], false);
        if n == 0 {
            return false;
        }
        i += 1 + n;
    } else if i == 0 {
        return false;
    }
    exponent(&t[i..], b"eE").is_some_and(|n| i + n == t.len())
}

/// `NumericTimeParser#parse_float`: split at `.`, seconds `to_i`, fraction padded to 9 digits.
fn float_time(s: &str) -> Result<EventTime, String> {
    let mut parts = s.splitn(3, '.');
    let sec = logferry_config::types::integer_wrapping(parts.next().unwrap_or(""));
    let nsec = match parts.next() {
        None => 0,
        Some(frac) => {
            // Ruby takes `nsec_s[0..9]` (ten characters), pads to nine, then `to_i`.
            let mut f: String = frac.chars().take(10).collect();
            while f.len() < 9 {
                f.push('0');
            }
            logferry_config::types::integer(&f).clamp(0, i64::from(u32::MAX)) as u32
        }
    };
    Ok(event_time(sec, nsec))
}

/// `Time.iso8601` (`Time.xmlschema`): `\s*-?YYYY-MM-DDTHH:MM:SS[.frac][Z|±HH[[:]MM]]\s*`,
/// `T` and `Z` in either case; without a zone, local time.
fn iso8601_strict(s: &str) -> Result<EventTime, String> {
    let bad = || format!("invalid time format: value = {s}, invalid xmlschema format");
    let b = s.as_bytes();
    let ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let start = b.iter().take_while(|c| ws(c)).count();
    let end = b.len() - b[start..].iter().rev().take_while(|c| ws(c)).count();
    let t = &b[start..end];
    let neg = t.first() == Some(&b'-');
    let y0 = usize::from(neg);
    let yl = t[y0..].iter().take_while(|c| c.is_ascii_digit()).count();
    if yl == 0 || yl > 9 {
        return Err(bad());
    }
    let year = digits(t, y0, yl).ok_or_else(bad)?;
    let p = y0 + yl;
    let two = |at: usize, sep: Option<u8>| -> Option<i64> {
        if let Some(c) = sep {
            if t.get(at) != Some(&c) {
                return None;
            }
        }
        digits(t, at + 1, 2)
    };
    let mon = two(p, Some(b'-')).ok_or_else(bad)?;
    let mday = two(p + 3, Some(b'-')).ok_or_else(bad)?;
    if !matches!(t.get(p + 6), Some(b'T' | b't')) {
        return Err(bad());
    }
    let hour = digits(t, p + 7, 2).ok_or_else(bad)?;
    let min = two(p + 9, Some(b':')).ok_or_else(bad)?;
    let sec = two(p + 12, Some(b':')).ok_or_else(bad)?;
    let mut q = p + 15;
    let mut f = Fields::default();
    if t.get(q) == Some(&b'.') {
        let n = t[q + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return Err(bad());
        }
        let d = std::str::from_utf8(&t[q + 1..q + 1 + n]).map_err(|_| bad())?;
        f.nsec = Some(frac_ns(d));
        q += 1 + n;
    }
    match t.get(q) {
        None => {}
        Some(b'Z' | b'z') if q + 1 == t.len() => f.offset = Some(0),
        Some(&c @ (b'+' | b'-')) => {
            let z = &t[q + 1..];
            let hm = match z.len() {
                2 => digits(z, 0, 2).map(|h| (h, 0)),
                4 => digits(z, 0, 2).zip(digits(z, 2, 2)),
                5 if z[2] == b':' => digits(z, 0, 2).zip(digits(z, 3, 2)),
                _ => None,
            };
            let (h, m) = hm.ok_or_else(bad)?;
            let off = (h * 3600 + m * 60) as i32;
            f.offset = Some(if c == b'-' { -off } else { off });
        }
        Some(_) => return Err(bad()),
    }
    // `Time.utc`/`Time.local` take days up to 31 in any month and 24:00:00.
    if !(1..=12).contains(&mon) || !(1..=31).contains(&mday) || hour > 24 || min > 59 || sec > 60 {
        return Err(format!(
            "invalid time format: value = {s}, error_class = ArgumentError, error = argument out \
             of range"
        ));
    }
    f.year = Some(if neg { -year } else { year });
    f.mon = Some(mon);
    f.mday = Some(mday);
    f.hour = Some(hour);
    f.min = Some(min);
    f.sec = Some(sec);
    resolve(&f, &Zone::Local, s)
}

fn digits(b: &[u8], p: usize, n: usize) -> Option<i64> {
    let d = b.get(p..p + n)?;
    if !d.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(d.iter().fold(0i64, |a, c| a * 10 + i64::from(c - b'0')))
}

/// The common ISO 8601 shapes, `YYYY-MM-DD[( |T|t)HH:MM[:SS[(.|,)frac]][ ][Z|z|±HH:MM|±HHMM]]`,
/// read without the regular expressions of `Date._parse`, which gives the same fields for them.
fn iso_fast(s: &str) -> Option<Parts<'_>> {
    let b = s.as_bytes();
    let mut f = Parts {
        year: Some(digits(b, 0, 4)?.into()),
        ..Parts::default()
    };
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    f.mon = Some(digits(b, 5, 2)?.into());
    f.mday = Some(digits(b, 8, 2)?.into());
    let mut p = 10;
    if p == b.len() {
        return Some(f);
    }
    if !matches!(b[p], b'T' | b't' | b' ') || b.get(p + 3) != Some(&b':') {
        return None;
    }
    f.hour = Some(digits(b, p + 1, 2)?.into());
    f.min = Some(digits(b, p + 4, 2)?.into());
    p += 6;
    if b.get(p) == Some(&b':') {
        f.sec = Some(digits(b, p + 1, 2)?.into());
        p += 3;
        if matches!(b.get(p), Some(b'.' | b',')) && b.get(p + 1).is_some_and(u8::is_ascii_digit) {
            p += 1;
            let (mut ns, mut n) = (0u32, 0);
            while p < b.len() && b[p].is_ascii_digit() {
                if n < 9 {
                    ns = ns * 10 + u32::from(b[p] - b'0');
                    n += 1;
                }
                p += 1;
            }
            while n < 9 {
                ns *= 10;
                n += 1;
            }
            f.nsec = Some(ns);
        }
    }
    if b.get(p) == Some(&b' ') {
        p += 1;
    }
    let z = &b[p..];
    let numeric = |z: &[u8]| {
        let d = |i: usize| z[i].is_ascii_digit();
        matches!(z[0], b'+' | b'-')
            && match z.len() {
                5 => d(1) && d(2) && d(3) && d(4),
                6 => d(1) && d(2) && z[3] == b':' && d(4) && d(5),
                _ => false,
            }
    };
    match z {
        [] if b[p - 1] != b' ' => {}
        [b'Z' | b'z'] => f.zone = Some(&s[p..]),
        _ if z.len() >= 5 && numeric(z) => f.zone = Some(&s[p..]),
        _ => return None,
    }
    Some(f)
}

/// The month (1-12) of a three-letter English abbreviation, any case.
fn month_abbr(b: &[u8]) -> Option<i64> {
    const M: [&[u8; 3]; 12] = [
        b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov",
        b"dec",
    ];
    let l = [
        b.first()?.to_ascii_lowercase(),
        b.get(1)?.to_ascii_lowercase(),
        b.get(2)?.to_ascii_lowercase(),
    ];
    M.iter().position(|m| **m == l).map(|i| i as i64 + 1)
}

/// `HH:MM:SS` at `p`.
fn hms(b: &[u8], p: usize, f: &mut Parts) -> Option<()> {
    if b.get(p + 2) != Some(&b':') || b.get(p + 5) != Some(&b':') {
        return None;
    }
    f.hour = Some(digits(b, p, 2)?.into());
    f.min = Some(digits(b, p + 3, 2)?.into());
    f.sec = Some(digits(b, p + 6, 2)?.into());
    Some(())
}

/// RFC 2822 / HTTP dates, `Www, DD Mon YYYY HH:MM:SS[ ±HHMM| ZONE]`, and syslog's
/// `Mon DD HH:MM:SS` / `Mon  D HH:MM:SS`, read without the regular expressions of
/// `Date._parse`, which gives the same fields for them (the weekday is not used).
fn rfc_fast(s: &str) -> Option<Parts<'_>> {
    let b = s.as_bytes();
    let mut f = Parts::default();
    if b.get(3) == Some(&b',') {
        const DAYS: [&[u8; 3]; 7] = [b"sun", b"mon", b"tue", b"wed", b"thu", b"fri", b"sat"];
        let day = [
            b[0].to_ascii_lowercase(),
            b[1].to_ascii_lowercase(),
            b[2].to_ascii_lowercase(),
        ];
        if !DAYS.iter().any(|d| **d == day) || b.get(4) != Some(&b' ') {
            return None;
        }
        f.mday = Some(digits(b, 5, 2)?.into());
        if b.get(7) != Some(&b' ') || b.get(11) != Some(&b' ') || b.get(16) != Some(&b' ') {
            return None;
        }
        f.mon = Some(month_abbr(&b[8..])?.into());
        f.year = Some(digits(b, 12, 4)?.into());
        hms(b, 17, &mut f)?;
        match &b[25..] {
            [] => {}
            [b' ', z @ ..] => {
                let numeric = z.len() == 5
                    && matches!(z[0], b'+' | b'-')
                    && z[1..].iter().all(u8::is_ascii_digit);
                // Letters (not `am`/`pm`, which Ruby reads as the half of the day).
                let name = (1..=5).contains(&z.len())
                    && z.iter().all(u8::is_ascii_alphabetic)
                    && !(z.len() == 2
                        && matches!(z[0], b'a' | b'A' | b'p' | b'P')
                        && matches!(z[1], b'm' | b'M'));
                if !(numeric || name) {
                    return None;
                }
                f.zone = Some(&s[26..]);
            }
            _ => return None,
        }
        return Some(f);
    }
    f.mon = Some(month_abbr(b)?.into());
    if b.get(3) != Some(&b' ') {
        return None;
    }
    let p = match (b.get(4), b.get(5)) {
        (Some(b' '), Some(d)) if d.is_ascii_digit() => {
            f.mday = Some(i128::from(d - b'0'));
            6
        }
        (Some(d), Some(b' ')) if d.is_ascii_digit() => {
            f.mday = Some(i128::from(d - b'0'));
            5
        }
        _ => {
            f.mday = Some(digits(b, 4, 2)?.into());
            6
        }
    };
    if b.get(p) != Some(&b' ') || b.len() != p + 9 {
        return None;
    }
    hms(b, p + 1, &mut f)?;
    Some(f)
}

/// Ruby's `Time.parse` as Fluentd calls it (`Fluent::EventTime.parse`) when a parser has no
/// `time_format`: `Date._parse` (a port of Ruby's, [`super::date_parse`]) and `Time.make_time`
/// ([`super::time_parse`]), fields missing before the first one given taken from now, `zone`
/// as the local zone. Times far from now keep their low 32 bits of seconds.
pub(crate) fn lenient(s: &str, zone: &Zone) -> Result<EventTime, String> {
    lenient_at(s, zone, &|| {
        let now = EventTime::now();
        (i64::from(now.sec), now.nsec)
    })
}

/// [`lenient`] with `now` (epoch seconds and nanoseconds, asked for when the text has no year)
/// given.
pub(crate) fn lenient_at(s: &str, zone: &Zone, now: Now) -> Result<EventTime, String> {
    let t = match iso_fast(s).or_else(|| rfc_fast(s)) {
        Some(p) => make_time(s, p, zone, now),
        None => time_parse(s, zone, now),
    }
    .map_err(|e| {
        format!("invalid time format: value = {s}, error_class = ArgumentError, error = {e}")
    })?;
    // The low 32 bits, as `event_time` keeps them.
    Ok(EventTime::new(t.sec as u32, t.nsec))
}

fn frac_ns(d: &str) -> u32 {
    let mut ns: u64 = 0;
    for (n, c) in d.bytes().chain(std::iter::repeat(b'0')).take(9).enumerate() {
        let _ = n;
        ns = ns * 10 + u64::from(c.wrapping_sub(b'0').min(9));
    }
    ns as u32
}

/// Seconds since the epoch of a UTC civil date-time (tests).
#[cfg(test)]
pub(crate) fn utc_secs(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> i64 {
    super::strptime::days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s
}

/// The local zone's offset at a wall-clock time (tests).
#[cfg(test)]
pub(crate) fn local_offset(naive: i64) -> i64 {
    super::strptime::offset_for_local(&Zone::Local, naive)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> i64 {
        utc_secs(y, mo, d, h, mi, s)
    }

    #[test]
    fn lenient_forms() {
        let z = Zone::utc();
        let cases: &[(&str, i64, u32)] = &[
            ("2024-01-02T03:04:05Z", at(2024, 1, 2, 3, 4, 5), 0),
            (
                "2024-01-02T03:04:05.5+09:00",
                at(2024, 1, 1, 18, 4, 5),
                500_000_000,
            ),
            ("2024-01-02 03:04:05 +0900", at(2024, 1, 1, 18, 4, 5), 0),
            (
                "Oct 11 14:32:52.123456 2000",
                at(2000, 10, 11, 14, 32, 52),
                123_456_000,
            ),
            (
                "Wed, 11 Oct 2000 14:32:52 GMT",
                at(2000, 10, 11, 14, 32, 52),
                0,
            ),
            ("2013/02/28 12:00:00", at(2013, 2, 28, 12, 0, 0), 0),
            ("01/02/24 12:00:00 PM", at(2001, 2, 24, 12, 0, 0), 0),
            ("20240102T030405Z", at(2024, 1, 2, 3, 4, 5), 0),
            ("2024-01-02", at(2024, 1, 2, 0, 0, 0), 0),
            ("Tue Jan  2 03:04:05 UTC 2024", at(2024, 1, 2, 3, 4, 5), 0),
            ("2 Jan 2024 03:04:05 -0500", at(2024, 1, 2, 8, 4, 5), 0),
        ];
        for (s, sec, ns) in cases {
            let t = lenient(s, &z).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!((i64::from(t.sec), t.nsec), (*sec, *ns), "{s}");
        }
        // As Ruby: the first `d+:d+` is the time, so these are out of range.
        assert!(lenient("28/Feb/2013:12:00:00 +0900", &z).is_err());
        assert!(lenient("02/28/2013 12:00:00", &z).is_err());
        assert!(lenient("hello", &z).is_err());
        assert!(lenient("", &z).is_err());
    }

    #[test]
    fn float_and_unixtime() {
        let f = TimeParser::Float;
        assert_eq!(
            f.parse(&Value::Str("1700000000.5".into())).unwrap(),
            EventTime::new(1_700_000_000, 500_000_000)
        );
        assert_eq!(
            f.parse(&Value::Int(1_700_000_000)).unwrap().sec,
            1_700_000_000
        );
        assert_eq!(
            f.parse(&Value::F64(1_700_000_000.123_456_7)).unwrap(),
            EventTime::new(1_700_000_000, 123_456_700)
        );
        // Ruby `to_i` of an ISO string: the leading digits.
        assert_eq!(
            f.parse(&Value::Str("2024-01-02T03:04:05Z".into())).unwrap(),
            EventTime::new(2024, 0)
        );
        assert!(f.parse(&Value::Bool(true)).is_err());
        assert!(f.parse(&Value::Nil).is_err());
        let u = TimeParser::Unixtime;
        assert_eq!(u.parse(&Value::F64(12.9)).unwrap(), EventTime::new(12, 0));
        assert_eq!(
            u.parse(&Value::Str("77x".into())).unwrap(),
            EventTime::new(77, 0)
        );
    }

    #[test]
    fn mixed_tries_in_order() {
        let fb = vec!["unixtime".to_string()];
        let p = TimeParser::create(&TimeSettings {
            time_type: "mixed",
            format: Some("%Y-%m-%d %H:%M:%S"),
            localtime: false,
            utc: true,
            timezone: None,
            fallbacks: &fb,
        })
        .unwrap();
        assert_eq!(
            p.parse(&Value::Str("2024-01-02 03:04:05".into()))
                .unwrap()
                .sec as i64,
            at(2024, 1, 2, 3, 4, 5)
        );
        assert_eq!(
            p.parse(&Value::Str("1700000000".into())).unwrap().sec,
            1_700_000_000
        );
        assert!(p.parse(&Value::Str("nope".into())).is_err());
    }

    #[test]
    fn timezone_needs_format() {
        let e = TimeParser::string(None, false, None).unwrap_err();
        assert!(e.contains("requires time format"), "{e}");
        assert!(TimeParser::string(None, true, Some("+09:00")).is_err());
        assert!(matches!(
            TimeParser::string(None, true, None).unwrap(),
            TimeParser::Lenient
        ));
    }
}

#[cfg(test)]
mod compare {
    /// Prints `Time.parse` results for the lines of $LENIENT_TIMES (compare with Ruby by hand).
    #[test]
    #[ignore]
    fn print_lenient() {
        let Ok(path) = std::env::var("LENIENT_TIMES") else {
            return;
        };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        for l in text.lines() {
            match super::lenient(l, &crate::timefmt::Zone::Local) {
                Ok(t) if t.nsec == 0 => println!("{l}|{}.0", t.sec),
                Ok(t) => println!("{l}|{}.{:09}", t.sec, t.nsec),
                Err(_) => println!("{l}|ERR"),
            }
        }
    }
}

#[cfg(test)]
mod cache {
    use super::TimeParser;

    /// Every text through one (caching) parser gives what a fresh parser gives: the `%S` shift
    /// across minutes, hours and days, seconds 60, one-digit seconds, trailing text, fractions,
    /// texts that do not parse, in a fixed zone, a DST zone and local time.
    #[test]
    fn cached_and_shifted_times_equal_full_parses() {
        let texts = [
            "2024-03-05T10:20:05Z",
            "2024-03-05T10:20:59Z",
            "2024-03-05T10:20:00Z",
            "2024-03-05T10:21:07Z",
            "2024-03-05T10:21:60Z",
            "2024-03-05T10:21:7Z",
            "2024-03-05T10:21:17Z",
            "2024-03-05T10:21:17Zx",
            "2024-03-05T10:21:1xZ",
            "2024-03-06T10:21:17Z",
            "2024-03-10T02:30:17Z",
            "2024-03-10T02:30:18Z",
            "2024-03-10T03:30:18Z",
            "2024-11-03T01:30:18Z",
            "2024-11-03T01:30:19Z",
            "2024-11-03T01:30:19Z",
        ];
        for (format, zone) in [
            ("%Y-%m-%dT%H:%M:%SZ", None),
            ("%Y-%m-%dT%H:%M:%SZ", Some("America/New_York")),
            ("%Y-%m-%dT%H:%M:%SZ", Some("+09:00")),
            ("%Y-%m-%dT%H:%M:%S", Some("UTC")),
            ("%Y-%m-%dT%H:%M:%S.%NZ", Some("UTC")),
            ("%Y-%m-%dT%H:%M:%S%z", None),
        ] {
            let cached = TimeParser::string(Some(format), true, zone).unwrap();
            for round in 0..2 {
                for t in texts
                    .iter()
                    .map(|t| t.to_string())
                    .chain(texts.iter().map(|t| t.replace('Z', ".250Z")))
                    .chain(texts.iter().map(|t| t.replace('Z', "+0200")))
                {
                    let fresh = TimeParser::string(Some(format), true, zone).unwrap();
                    assert_eq!(
                        cached.parse_str(&t),
                        fresh.parse_str(&t),
                        "{format} {zone:?} {t} (round {round})"
                    );
                }
            }
        }
    }
}
