//! Ruby-compatible `strptime` for parsers' `time_format`.
//!
//! Fluentd compiles a `time_format` with the `strptime` gem when it only uses the gem's directives
//! (`%B %H %M %N %S %Y %b %d %e %h %m %n %y %z`) and falls back to Ruby's `Time.strptime`
//! (`Date._strptime`) otherwise. Both accept trailing text, fill fields missing before the first
//! given one from the current time ("`%b %d %H:%M:%S`" gets the current year) and default the
//! others to their minimum. The gem's `%z` accepts only `+hh[:]mm` (and a lowercase `z`), not
//! `Z`/`UTC`; that difference is kept.

use logferry_msgpack::EventTime;

use crate::timefmt::Zone;

/// Month names as `Date._strptime` matches them (full name first, case-insensitive).
pub(crate) const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];
const WEEKDAYS: [&str; 7] = [
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Field {
    Year,
    Year2,
    Century,
    Mon,
    Day,
    Hour,
    Hour12,
    Min,
    Sec,
    Yday,
    Wday,
}

#[derive(Clone, Debug, PartialEq)]
enum Item {
    /// Literal text that must appear as is.
    Lit(Box<str>),
    /// Whitespace in the format: skips any whitespace in the text.
    Ws,
    /// A number: field, maximum width, whether a leading space may pad it (`%e`, `%k`, `%l`).
    Num(Field, usize, bool),
    /// Month name, full or abbreviated.
    MonName,
    /// Weekday name, full or abbreviated (checked, not used).
    WdayName,
    /// `AM`/`PM` (`A.M.`/`P.M.`).
    AmPm,
    /// Fraction of a second, at most this many digits.
    Frac(usize),
    /// Zone offset or name.
    Zone,
    /// Seconds since the epoch.
    Epoch,
    /// Milliseconds since the epoch.
    EpochMs,
}

/// The fields read from a text.
#[derive(Default, Debug, Clone)]
pub(crate) struct Fields {
    pub year: Option<i64>,
    pub mon: Option<i64>,
    pub mday: Option<i64>,
    pub hour: Option<i64>,
    pub min: Option<i64>,
    pub sec: Option<i64>,
    pub nsec: Option<u32>,
    pub yday: Option<i64>,
    pub pm: Option<bool>,
    pub offset: Option<i32>,
    pub epoch: Option<(i64, u32)>,
    pub century: Option<i64>,
    pub year2: Option<i64>,
    /// Where `%S` read exactly two digits, when the format has one `%S` and no epoch (then a
    /// text differing only in those digits is the same minute).
    pub sec_at: Option<usize>,
}

/// A compiled Ruby `strptime` format.
#[derive(Clone, Debug)]
pub(crate) struct Strptime {
    items: Vec<Item>,
    gem: bool,
    has_zone: bool,
    sec_shift: bool,
}

const GEM_DIRECTIVES: &[u8] = b"BHMNSYbdehmnyz";

impl Strptime {
    /// Compile `fmt`; an unsupported directive is an error naming it.
    pub(crate) fn new(fmt: &str) -> Result<Self, String> {
        let mut raw: Vec<Item> = Vec::new();
        let mut gem = true;
        let mut has_zone = false;
        let b = fmt.as_bytes();
        let mut i = 0;
        let mut lit = String::new();
        let flush = |lit: &mut String, raw: &mut Vec<Item>| {
            if !lit.is_empty() {
                raw.push(Item::Lit(std::mem::take(lit).into_boxed_str()));
            }
        };
        while i < b.len() {
            let c = b[i];
            if c.is_ascii_whitespace() {
                flush(&mut lit, &mut raw);
                if raw.last() != Some(&Item::Ws) {
                    raw.push(Item::Ws);
                }
                i += 1;
                continue;
            }
            if c != b'%' {
                // Copy one whole UTF-8 character.
                let ch = fmt[i..].chars().next().unwrap_or('\u{fffd}');
                lit.push(ch);
                i += ch.len_utf8().max(1);
                continue;
            }
            let start = i;
            i += 1;
            // Ruby's strptime takes no flags or widths (`%-d`, `%3N` are strftime-only: Fluentd
            // would fail on every record); colons are allowed before `z` (`%:z`).
            let mut colons = 0;
            while i < b.len() && b[i] == b':' {
                colons += 1;
                i += 1;
            }
            if i < b.len()
                && (matches!(b[i], b'-' | b'_' | b'0' | b'^' | b'#') || b[i].is_ascii_digit())
            {
                let mut j = i;
                while j < b.len()
                    && (matches!(b[j], b'-' | b'_' | b'^' | b'#') || b[j].is_ascii_digit())
                {
                    j += 1;
                }
                let dir = String::from_utf8_lossy(&b[start..(j + 1).min(b.len())]).into_owned();
                return Err(format!(
                    "time_format '{fmt}': the directive '{dir}' is not supported: Ruby's strptime \
                     takes no flags or widths (they are strftime-only; %N and %L read any number \
                     of digits)"
                ));
            }
            let Some(&d) = b.get(i) else {
                return Err(format!(
                    "time_format '{fmt}' ends with an incomplete directive"
                ));
            };
            i += 1;
            if !GEM_DIRECTIVES.contains(&d) || colons > 0 {
                gem = false;
            }
            if colons > 0 && d != b'z' {
                return Err(format!(
                    "time_format '{fmt}': the directive '%{}{}' is not supported",
                    ":".repeat(colons),
                    d as char
                ));
            }
            let push = |items: &[Item], lit: &mut String, raw: &mut Vec<Item>| {
                flush(lit, raw);
                raw.extend_from_slice(items);
            };
            use Field::*;
            use Item::*;
            match d {
                b'%' => lit.push('%'),
                b'Y' => push(&[Num(Year, 0, false)], &mut lit, &mut raw),
                b'C' => push(&[Num(Century, 2, false)], &mut lit, &mut raw),
                b'y' => push(&[Num(Year2, 2, false)], &mut lit, &mut raw),
                b'm' => push(&[Num(Mon, 2, false)], &mut lit, &mut raw),
                b'd' => push(&[Num(Day, 2, false)], &mut lit, &mut raw),
                b'e' => push(&[Num(Day, 2, !gem)], &mut lit, &mut raw),
                b'j' => push(&[Num(Yday, 3, false)], &mut lit, &mut raw),
                b'H' => push(&[Num(Hour, 2, false)], &mut lit, &mut raw),
                b'k' => push(&[Num(Hour, 2, true)], &mut lit, &mut raw),
                b'I' => push(&[Num(Hour12, 2, false)], &mut lit, &mut raw),
                b'l' => push(&[Num(Hour12, 2, true)], &mut lit, &mut raw),
                b'M' => push(&[Num(Min, 2, false)], &mut lit, &mut raw),
                b'S' => push(&[Num(Sec, 2, false)], &mut lit, &mut raw),
                b'u' | b'w' => push(&[Num(Wday, 1, false)], &mut lit, &mut raw),
                b'L' => push(&[Frac(if gem { 3 } else { 0 })], &mut lit, &mut raw),
                b'N' => push(&[Frac(if gem { 9 } else { 0 })], &mut lit, &mut raw),
                b'b' | b'B' | b'h' => push(&[MonName], &mut lit, &mut raw),
                b'a' | b'A' => push(&[WdayName], &mut lit, &mut raw),
                b'p' | b'P' => push(&[AmPm], &mut lit, &mut raw),
                b'z' | b'Z' => {
                    has_zone = true;
                    push(&[Zone], &mut lit, &mut raw)
                }
                b's' => push(&[Epoch], &mut lit, &mut raw),
                b'Q' => push(&[EpochMs], &mut lit, &mut raw),
                b'n' | b't' => push(&[Ws], &mut lit, &mut raw),
                b'T' | b'X' => push(
                    &[
                        Num(Hour, 2, false),
                        Lit(":".into()),
                        Num(Min, 2, false),
                        Lit(":".into()),
                        Num(Sec, 2, false),
                    ],
                    &mut lit,
                    &mut raw,
                ),
                b'R' => push(
                    &[Num(Hour, 2, false), Lit(":".into()), Num(Min, 2, false)],
                    &mut lit,
                    &mut raw,
                ),
                b'r' => push(
                    &[
                        Num(Hour12, 2, false),
                        Lit(":".into()),
                        Num(Min, 2, false),
                        Lit(":".into()),
                        Num(Sec, 2, false),
                        Ws,
                        AmPm,
                    ],
                    &mut lit,
                    &mut raw,
                ),
                b'D' | b'x' => push(
                    &[
                        Num(Mon, 2, false),
                        Lit("/".into()),
                        Num(Day, 2, false),
                        Lit("/".into()),
                        Num(Year2, 2, false),
                    ],
                    &mut lit,
                    &mut raw,
                ),
                b'F' => push(
                    &[
                        Num(Year, 0, false),
                        Lit("-".into()),
                        Num(Mon, 2, false),
                        Lit("-".into()),
                        Num(Day, 2, false),
                    ],
                    &mut lit,
                    &mut raw,
                ),
                b'c' => push(
                    &[
                        WdayName,
                        Ws,
                        MonName,
                        Ws,
                        Num(Day, 2, true),
                        Ws,
                        Num(Hour, 2, false),
                        Lit(":".into()),
                        Num(Min, 2, false),
                        Lit(":".into()),
                        Num(Sec, 2, false),
                        Ws,
                        Num(Year, 0, false),
                    ],
                    &mut lit,
                    &mut raw,
                ),
                _ => {
                    let dir = String::from_utf8_lossy(&b[start..i.min(b.len())]).into_owned();
                    return Err(format!(
                        "time_format '{fmt}': the directive '{dir}' is not supported (supported: \
                         %Y %C %y %m %d %e %j %H %k %I %l %M %S %L %N %b %B %h %a %A %p %P %z %Z \
                         %s %Q %u %w %T %X %R %r %D %x %F %c %n %t %%)"
                    ));
                }
            }
        }
        flush(&mut lit, &mut raw);
        // Unbounded numbers (`%Y`, `%N` with no width) read at most their natural width when the
        // next item starts with a digit, as `Date._strptime` does.
        let n = raw.len();
        for k in 0..n {
            let numeric_next = match raw.get(k + 1) {
                Some(Item::Num(..) | Item::Frac(_) | Item::Epoch | Item::EpochMs) => true,
                Some(Item::Lit(l)) => l.as_bytes().first().is_some_and(u8::is_ascii_digit),
                _ => false,
            };
            match &mut raw[k] {
                Item::Num(Field::Year, w @ 0, _) => *w = if numeric_next { 4 } else { 18 },
                Item::Frac(w @ 0) => *w = if numeric_next { 9 } else { 18 },
                _ => {}
            }
        }
        // One `%S` and no epoch: two texts that differ only in those two digits are the same
        // minute, their times that many seconds apart.
        let secs = raw
            .iter()
            .filter(|i| matches!(i, Item::Num(Field::Sec, ..)))
            .count();
        let epoch = raw.iter().any(|i| matches!(i, Item::Epoch | Item::EpochMs));
        Ok(Strptime {
            items: raw,
            gem,
            has_zone,
            sec_shift: secs == 1 && !epoch,
        })
    }

    /// Does the format carry a zone (`%z`/`%Z`)? Then the configured zone is not used.
    pub(crate) fn has_zone(&self) -> bool {
        self.has_zone
    }

    /// Read the fields of `s`; `None` if it does not match.
    pub(crate) fn scan(&self, s: &str) -> Option<Fields> {
        let b = s.as_bytes();
        let mut p = 0usize;
        let mut f = Fields::default();
        for item in &self.items {
            match item {
                Item::Lit(l) => {
                    if !b[p..].starts_with(l.as_bytes()) {
                        return None;
                    }
                    p += l.len();
                }
                Item::Ws => {
                    while p < b.len() && b[p].is_ascii_whitespace() {
                        p += 1;
                    }
                }
                Item::Num(field, width, space) => {
                    if *space && b.get(p) == Some(&b' ') {
                        p += 1;
                    }
                    let signed = matches!(field, Field::Year);
                    let (v, used) = read_int(&b[p..], *width, signed)?;
                    p += used;
                    let ok = match field {
                        Field::Year => {
                            f.year = Some(v);
                            true
                        }
                        Field::Year2 => {
                            f.year2 = Some(v);
                            true
                        }
                        Field::Century => {
                            f.century = Some(v);
                            true
                        }
                        Field::Mon => {
                            f.mon = Some(v);
                            (1..=12).contains(&v)
                        }
                        Field::Day => {
                            f.mday = Some(v);
                            (1..=31).contains(&v)
                        }
                        Field::Hour => {
                            f.hour = Some(v);
                            (0..=24).contains(&v)
                        }
                        Field::Hour12 => {
                            f.hour = Some(v);
                            (1..=12).contains(&v)
                        }
                        Field::Min => {
                            f.min = Some(v);
                            (0..=59).contains(&v)
                        }
                        Field::Sec => {
                            f.sec = Some(v);
                            if used == 2 && self.sec_shift {
                                f.sec_at = Some(p - 2);
                            }
                            (0..=60).contains(&v)
                        }
                        Field::Yday => {
                            f.yday = Some(v);
                            (1..=366).contains(&v)
                        }
                        Field::Wday => (0..=7).contains(&v),
                    };
                    if !ok {
                        return None;
                    }
                }
                Item::MonName => {
                    let (m, used) = month_name(&b[p..])?;
                    f.mon = Some(m);
                    p += used;
                }
                Item::WdayName => {
                    let rest = &b[p..];
                    let used = WEEKDAYS.iter().find_map(|w| {
                        if starts_with_ci(rest, w.as_bytes()) {
                            Some(w.len())
                        } else if starts_with_ci(rest, &w.as_bytes()[..3]) {
                            Some(3)
                        } else {
                            None
                        }
                    })?;
                    p += used;
                }
                Item::AmPm => {
                    let rest = &b[p..];
                    let pm = match rest.first().map(u8::to_ascii_lowercase) {
                        Some(b'a') => false,
                        Some(b'p') => true,
                        _ => return None,
                    };
                    if starts_with_ci(rest, if pm { b"p.m." } else { b"a.m." }) {
                        p += 4;
                    } else if rest.get(1).map(u8::to_ascii_lowercase) == Some(b'm') {
                        p += 2;
                    } else {
                        return None;
                    }
                    f.pm = Some(pm);
                }
                Item::Frac(width) => {
                    let start = p;
                    let mut ns: u64 = 0;
                    let mut n = 0;
                    while p < b.len() && b[p].is_ascii_digit() && p - start < *width {
                        if n < 9 {
                            ns = ns * 10 + u64::from(b[p] - b'0');
                            n += 1;
                        }
                        p += 1;
                    }
                    if p == start {
                        return None;
                    }
                    while n < 9 {
                        ns *= 10;
                        n += 1;
                    }
                    f.nsec = Some(ns as u32);
                }
                Item::Zone => {
                    let (off, used) = if self.gem {
                        gem_zone(&b[p..])?
                    } else {
                        zone_offset(&b[p..])?
                    };
                    // An unknown zone name leaves the offset unset (Ruby then uses local time).
                    if off.is_some() {
                        f.offset = off;
                    }
                    p += used;
                }
                Item::Epoch | Item::EpochMs => {
                    let (v, used) = read_int(&b[p..], 18, true)?;
                    p += used;
                    f.epoch = Some(if matches!(item, Item::Epoch) {
                        (v, 0)
                    } else {
                        (v.div_euclid(1000), (v.rem_euclid(1000) * 1_000_000) as u32)
                    });
                }
            }
        }
        if let Some(y2) = f.year2 {
            f.year = Some(match f.century {
                Some(c) => c * 100 + y2,
                None if y2 < 69 => 2000 + y2,
                None => 1900 + y2,
            });
        } else if let (Some(c), None) = (f.century, f.year) {
            f.year = Some(c * 100);
        }
        Some(f)
    }

    /// Parse `s` to an event time; `zone` applies when the text has no offset.
    #[cfg(test)]
    pub(crate) fn parse(&self, s: &str, zone: &Zone) -> Result<EventTime, String> {
        self.parse_at(s, zone).map(|(t, _)| t)
    }

    /// [`parse`](Self::parse), also telling where `%S` read two digits (see [`Fields::sec_at`]).
    pub(crate) fn parse_at(
        &self,
        s: &str,
        zone: &Zone,
    ) -> Result<(EventTime, Option<usize>), String> {
        let f = self
            .scan(s)
            .ok_or_else(|| {
                format!("invalid time format: value = {s}, error_class = ArgumentError, error = string doesn't match")
            })?;
        Ok((resolve(&f, zone, s)?, f.sec_at))
    }
}

/// Read an optionally signed decimal of at most `width` digits (at least one).
fn read_int(b: &[u8], width: usize, signed: bool) -> Option<(i64, usize)> {
    let mut p = 0;
    let mut neg = false;
    if signed && matches!(b.first(), Some(b'+' | b'-')) {
        neg = b[0] == b'-';
        p = 1;
    }
    let start = p;
    let mut v: i64 = 0;
    while p < b.len() && b[p].is_ascii_digit() && p - start < width {
        v = v.saturating_mul(10).saturating_add(i64::from(b[p] - b'0'));
        p += 1;
    }
    if p == start {
        return None;
    }
    Some((if neg { -v } else { v }, p))
}

fn starts_with_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay[..needle.len()].eq_ignore_ascii_case(needle)
}

/// A month name (full or three letters) at the start of `b`: (1..=12, bytes used).
pub(crate) fn month_name(b: &[u8]) -> Option<(i64, usize)> {
    for (i, m) in MONTHS.iter().enumerate() {
        if starts_with_ci(b, m.as_bytes()) {
            return Some((i as i64 + 1, m.len()));
        }
    }
    for (i, m) in MONTHS.iter().enumerate() {
        if starts_with_ci(b, &m.as_bytes()[..3]) {
            return Some((i as i64 + 1, 3));
        }
    }
    None
}

/// The strptime gem's `%z`: `z`, or optional sign, two digits, optional `:` and two digits.
fn gem_zone(b: &[u8]) -> Option<(Option<i32>, usize)> {
    if matches!(b.first(), Some(b'z' | b'Z')) {
        return Some((Some(0), 1));
    }
    let mut p = 0;
    let neg = b.first() == Some(&b'-');
    if matches!(b.first(), Some(b'+' | b'-')) {
        p = 1;
    }
    let (h, used) = read_int(&b[p..], 2, false)?;
    p += used;
    let mut off = h * 60;
    if b.get(p) == Some(&b':') {
        p += 1;
    }
    if let Some((m, used)) = read_int(&b[p..], 2, false) {
        p += used;
        off += m;
    }
    let off = (off * 60) as i32;
    Some((Some(if neg { -off } else { off }), p))
}

/// Zone names Ruby's `Time.zone_offset` knows (`Time::ZoneOffset`), in hours east of UTC; other
/// names leave the time in the local zone, as Ruby does.
const ZONE_NAMES: &[(&str, i32)] = &[
    ("utc", 0),
    ("z", 0),
    ("ut", 0),
    ("gmt", 0),
    ("est", -5),
    ("edt", -4),
    ("cst", -6),
    ("cdt", -5),
    ("mst", -7),
    ("mdt", -6),
    ("pst", -8),
    ("pdt", -7),
];

/// Military single-letter zones (`A`..`M` east, `N`..`Y` west, no `J`).
fn military(name: &str) -> Option<i32> {
    let c = name.as_bytes();
    if c.len() != 1 {
        return None;
    }
    let c = c[0];
    Some(match c {
        b'a'..=b'i' => i32::from(c - b'a') + 1,
        b'k'..=b'm' => i32::from(c - b'k') + 10,
        b'n'..=b'y' => -(i32::from(c - b'n') + 1),
        _ => return None,
    })
}

/// `Date._strptime`'s `%z`: `Z`, `UTC`, `GMT+9`, `+09`, `+0900`, `+09:00`, `+09:00:00`, zone
/// abbreviations. Returns the offset (`None` for an unknown name) and the bytes used.
pub(crate) fn zone_offset(b: &[u8]) -> Option<(Option<i32>, usize)> {
    let mut p = 0;
    // Optional GMT/UTC/UT prefix before a signed offset.
    for pre in [&b"gmt"[..], b"utc", b"ut"] {
        if starts_with_ci(b, pre) && matches!(b.get(pre.len()), Some(b'+' | b'-')) {
            p = pre.len();
            break;
        }
    }
    if matches!(b.get(p), Some(b'+' | b'-')) {
        let neg = b[p] == b'-';
        p += 1;
        let start = p;
        while p < b.len() && b[p].is_ascii_digit() {
            p += 1;
        }
        let digits = &b[start..p];
        if digits.is_empty() {
            return None;
        }
        let num = |d: &[u8]| d.iter().fold(0i32, |a, c| a * 10 + i32::from(c - b'0'));
        let (h, m, s) = if matches!(b.get(p), Some(b':' | b',' | b'.'))
            && b.get(p + 1).is_some_and(u8::is_ascii_digit)
        {
            let h = num(&digits[..digits.len().min(2)]);
            let sep = b[p];
            p += 1;
            let ms = p;
            while p < b.len() && b[p].is_ascii_digit() && p - ms < 2 {
                p += 1;
            }
            if sep == b':' {
                let m = num(&b[ms..p]);
                let mut s = 0;
                if b.get(p) == Some(&b':') && b.get(p + 1).is_some_and(u8::is_ascii_digit) {
                    p += 1;
                    let ss = p;
                    while p < b.len() && b[p].is_ascii_digit() && p - ss < 2 {
                        p += 1;
                    }
                    s = num(&b[ss..p]);
                }
                (h, m, s)
            } else {
                // Fractional hours: "+9.5".
                let frac = num(&b[ms..p]);
                let scale = if p - ms == 1 { 10 } else { 100 };
                (h, frac * 60 / scale, 0)
            }
        } else {
            match digits.len() {
                1 | 2 => (num(digits), 0, 0),
                3 => (num(&digits[..1]), num(&digits[1..]), 0),
                4 => (num(&digits[..2]), num(&digits[2..]), 0),
                5 => (num(&digits[..1]), num(&digits[1..3]), num(&digits[3..])),
                _ => (
                    num(&digits[..2]),
                    num(&digits[2..4]),
                    num(&digits[4..6.min(digits.len())]),
                ),
            }
        };
        let off = h * 3600 + m * 60 + s;
        return Some((Some(if neg { -off } else { off }), p));
    }
    // A name.
    let start = p;
    while p < b.len() && b[p].is_ascii_alphabetic() {
        p += 1;
    }
    if p == start {
        return None;
    }
    let name = std::str::from_utf8(&b[start..p]).ok()?.to_ascii_lowercase();
    let off = ZONE_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, h)| *h)
        .or_else(|| military(&name))
        .map(|h| h * 3600);
    Some((off, p))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1..=12; day may overflow).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day count since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Seconds east of UTC that `zone` has at the wall-clock time `naive` (seconds as if UTC).
pub(crate) fn offset_for_local(zone: &Zone, naive: i64) -> i64 {
    if let Zone::Fixed(_) = zone {
        return i64::from(zone.offset_at(naive));
    }
    let o1 = i64::from(zone.offset_at(naive));
    i64::from(zone.offset_at(naive - o1))
}

/// An epoch second count and nanoseconds as an event time, if it fits.
pub(crate) fn event_time(sec: i64, nsec: u32, _src: &str) -> Result<EventTime, String> {
    // Seconds before 1970 or past 2106 are kept in the 32 bits an event time has, wrapped as
    // Fluentd's out_forward packs them (`[sec, nsec].pack('NN')`): README "Differences from
    // Fluentd", a negative event time.
    Ok(EventTime::new(sec as u32, nsec))
}

/// Largest magnitude of a date or time field that [`resolve`] computes with (a year of ±1e6 is
/// far outside the u32 seconds of an event time, and keeps every product within i64).
const FIELD_LIMIT: i64 = 1_000_000;

/// Turn read fields into a time as Ruby's `Time.strptime`/`Time.parse` (`make_time`) do:
/// fields before the first given one come from the current time in the target zone.
pub(crate) fn resolve(f: &Fields, zone: &Zone, src: &str) -> Result<EventTime, String> {
    if let Some((s, ns)) = f.epoch {
        return event_time(s, ns, src);
    }
    let mut hour = f.hour;
    if let (Some(pm), Some(h)) = (f.pm, hour) {
        hour = Some(h % 12 + if pm { 12 } else { 0 });
    }
    let (mut mon, mut mday) = (f.mon, f.mday);
    if f.year.is_none()
        && f.yday.is_none()
        && mon.is_none()
        && mday.is_none()
        && hour.is_none()
        && f.min.is_none()
        && f.sec.is_none()
        && f.nsec.is_none()
    {
        return Err(format!(
            "invalid time format: value = {src}, no time information"
        ));
    }
    let fixed = f.offset.map(i64::from);
    // "now" in the target zone, only when leading fields are missing.
    let now_fields = || {
        let now = EventTime::now();
        let now_sec = i64::from(now.sec);
        let now_off = fixed.unwrap_or_else(|| i64::from(zone.offset_at(now_sec)));
        let local_now = now_sec + now_off;
        let (y, m, d) = civil_from_days(local_now.div_euclid(86_400));
        (y, m, d, local_now.rem_euclid(86_400), now.nsec)
    };
    // Fields far outside any representable time (an arbitrarily long `%Y`, `%j`, …) would
    // overflow the date arithmetic: refuse them as out of range (found by fuzzing).
    let out_of_range = [f.year, mon, mday, hour, f.min, f.sec, f.yday]
        .iter()
        .flatten()
        .any(|v| !(-FIELD_LIMIT..=FIELD_LIMIT).contains(v));
    if out_of_range {
        return Err(format!(
            "invalid time format: value = {src}, time out of range"
        ));
    }
    let mut year = f.year;
    let (mut min, mut sec, mut nsec) = (f.min, f.sec, f.nsec);
    if year.is_none() {
        let (ny, nm, nd, tod, nns) = now_fields();
        if let Some(yd) = f.yday {
            if mon.is_none() || mday.is_none() {
                let (_, m, d) = civil_from_days(days_from_civil(ny, 1, 1) + yd - 1);
                mon = Some(m);
                mday = Some(d);
            }
        }
        // Ruby's `begin break if year; year = now.year; break if mon; … end until true`.
        year = Some(ny);
        'fill: {
            if mon.is_some() {
                break 'fill;
            }
            mon = Some(nm);
            if mday.is_some() {
                break 'fill;
            }
            mday = Some(nd);
            if hour.is_some() {
                break 'fill;
            }
            hour = Some(tod / 3600);
            if min.is_some() {
                break 'fill;
            }
            min = Some(tod / 60 % 60);
            if sec.is_some() {
                break 'fill;
            }
            sec = Some(tod % 60);
            if nsec.is_some() {
                break 'fill;
            }
            nsec = Some(nns / 1000 * 1000);
        }
    } else if let (Some(yd), Some(y)) = (f.yday, year) {
        if mon.is_none() || mday.is_none() {
            let (_, m, d) = civil_from_days(days_from_civil(y, 1, 1) + yd - 1);
            mon = Some(m);
            mday = Some(d);
        }
    }
    let days = days_from_civil(year.unwrap_or(1970), mon.unwrap_or(1), 1) + mday.unwrap_or(1) - 1;
    let naive = days * 86_400 + hour.unwrap_or(0) * 3600 + min.unwrap_or(0) * 60 + sec.unwrap_or(0);
    let off = fixed.unwrap_or_else(|| offset_for_local(zone, naive));
    event_time(naive - off, nsec.unwrap_or(0), src)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> Zone {
        Zone::utc()
    }

    /// Found by fuzzing: a very long year made the date arithmetic overflow (a panic in checked
    /// builds). Out-of-range fields are an error.
    #[test]
    fn huge_fields_are_out_of_range_not_overflow() {
        let big = "6".repeat(25);
        let mid = "9".repeat(12);
        for (fmt, text) in [
            ("%Y", big.clone()),
            ("%Y", mid.clone()),
            ("%Y-%m-%d", format!("{mid}-01-01")),
            ("%j %Y", format!("{mid} 2024")),
            ("%Y %j", format!("2024 {mid}")),
            ("%d %H", format!("{mid} {mid}")),
        ] {
            let Ok(p) = Strptime::new(fmt) else {
                continue;
            };
            let r = p.parse(&text, &utc());
            assert!(r.is_err(), "{fmt} / {text}: {r:?}");
        }
        // Lenient parsing (Ruby's Time.parse) too.
        let lenient = crate::parser::time::TimeParser::Lenient;
        for text in [
            format!("{mid}-01-01 00:00:00"),
            format!("2024-01-01 {mid}:00:00"),
        ] {
            assert!(lenient.parse_str(&text).is_err(), "{text}");
        }
    }

    #[test]
    fn civil_round_trip() {
        for d in [-800_000i64, -1, 0, 1, 19_723, 50_000, 2_000_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(days_from_civil(2024, 1, 2), 19_724);
    }

    #[test]
    fn formats() {
        let p = Strptime::new("%Y-%m-%dT%H:%M:%S%z").unwrap();
        assert_eq!(
            p.parse("2024-01-02T03:04:05+0900", &utc()).unwrap(),
            EventTime::new(1_704_132_245, 0)
        );
        assert_eq!(
            p.parse("2024-01-02T03:04:05Z", &utc()).unwrap(),
            EventTime::new(1_704_164_645, 0)
        );
        assert!(p.parse("2024-01-02T03:04:05UTC", &utc()).is_err());
        let p = Strptime::new("%Y-%m-%dT%H:%M:%S.%L%z").unwrap();
        assert_eq!(
            p.parse("2013-02-28T12:00:00.003Z", &utc()).unwrap(),
            EventTime::new(1_362_052_800, 3_000_000)
        );
        let p = Strptime::new("%d/%b/%Y:%H:%M:%S %z").unwrap();
        assert_eq!(
            p.parse("28/Feb/2013:12:00:00 +0900", &utc()).unwrap(),
            EventTime::new(1_362_020_400, 0)
        );
        let p = Strptime::new("%s").unwrap();
        assert_eq!(p.parse("1700000000", &utc()).unwrap().sec, 1_700_000_000);
        let p = Strptime::new("%F %T").unwrap();
        assert_eq!(
            p.parse("2024-01-02 03:04:05 trailing", &utc()).unwrap(),
            EventTime::new(1_704_164_645, 0)
        );
        let p = Strptime::new("%D %I:%M %p").unwrap();
        assert_eq!(
            p.parse("01/02/24 03:04 PM", &utc()).unwrap(),
            EventTime::new(1_704_207_840, 0)
        );
        let p = Strptime::new("%Y %j").unwrap();
        assert_eq!(
            p.parse("2024 032", &utc()).unwrap(),
            EventTime::new(1_706_745_600, 0)
        );
        let p = Strptime::new("%a %b %e %H:%M:%S %Z %Y").unwrap();
        assert_eq!(
            p.parse("Tue Jan  2 03:04:05 EST 2024", &utc()).unwrap(),
            EventTime::new(1_704_182_645, 0)
        );
        // Names Ruby's Time does not know leave the time in the given zone.
        assert_eq!(
            p.parse("Tue Jan  2 03:04:05 JST 2024", &utc()).unwrap(),
            EventTime::new(1_704_164_645, 0)
        );
        let p = Strptime::new("%Y%m%d%H%M%S.%N").unwrap();
        assert_eq!(
            p.parse("20240102030405.123", &utc()).unwrap(),
            EventTime::new(1_704_164_645, 123_000_000)
        );
        let z9 = Zone::parse("+09:00").unwrap();
        let p = Strptime::new("%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(
            p.parse("2024-01-02 12:04:05", &z9).unwrap(),
            EventTime::new(1_704_164_645, 0)
        );
        assert!(p.parse("2024-13-02 12:04:05", &z9).is_err());
        assert!(p.parse("garbage", &z9).is_err());
    }

    #[test]
    fn unsupported_directives_are_errors() {
        for f in [
            "%Y-%m-%d %K",
            "%G-%V",
            "%Y %",
            "%U",
            "%H:%M:%S.%3N",
            "%-d",
            "%:H",
        ] {
            let e = Strptime::new(f).unwrap_err();
            assert!(
                e.contains("not supported") || e.contains("incomplete"),
                "{f}: {e}"
            );
        }
    }

    #[test]
    fn missing_leading_fields_come_from_now() {
        let p = Strptime::new("%b %d %H:%M:%S").unwrap();
        let t = p.parse("Feb 28 12:00:00", &utc()).unwrap();
        let (y, m, d) = civil_from_days(i64::from(t.sec) / 86_400);
        let (ny, _, _) = civil_from_days(i64::from(EventTime::now().sec) / 86_400);
        assert_eq!((y, m, d), (ny, 2, 28));
        assert_eq!(t.sec % 86_400, 12 * 3600);
    }
}
