//! Ruby-compatible `strptime` for parsers' `time_format`.
//!
//! Fluentd compiles a `time_format` with the `strptime` gem when it only uses the gem's directives
//! (`%B %H %M %N %S %Y %b %d %e %h %m %n %y %z`) and falls back to Ruby's `Time.strptime`
//! (`Date._strptime`) otherwise. [`Strptime`] runs `date_strptime.c`'s matcher over the format
//! (composite directives as sub-formats, `%Y`/`%N` bounded only before a number, a directive
//! Ruby does not know matching itself as text), with the gem's differences where Fluentd uses
//! the gem (its `%z` takes only `+hh[:]mm` and `z`, no space before `%d`/`%e`/`%H`, no hour 24).
//! [`resolve`] is `Time.strptime`'s `make_time`: trailing text is ignored, fields missing before
//! the first given one come from the current time ("`%b %d %H:%M:%S`" gets the current year),
//! the others default to their minimum. `tests/timefmt_vs_ruby.rs` compares it with Fluentd.

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
    /// Whether the count `%s` read was negative (and not zero), when `%s` gave the epoch: its
    /// seconds, kept modulo 2^64, may not show it.
    pub epoch_neg: Option<bool>,
    /// Where `%S` read exactly two digits, when the format has one `%S` and no epoch (then a
    /// text differing only in those digits is the same minute).
    pub sec_at: Option<usize>,
    /// ISO 8601 week-based year, week and weekday (`%G %V %u`).
    pub cwyear: Option<i64>,
    pub cweek: Option<i64>,
    pub cwday: Option<i64>,
    /// Weekday (`%w`, `%a`), 0 = Sunday.
    pub wday: Option<i64>,
    /// Week of the year from the first Sunday (`%U`) or Monday (`%W`).
    pub wnum0: Option<i64>,
    pub wnum1: Option<i64>,
    /// A wall-clock time that happens twice takes the first (daylight saving) offset, as the
    /// strptime gem's does; Ruby's `Time.local` takes the second.
    pub dst_first: bool,
}

/// A compiled Ruby `strptime` format: `Date._strptime` run over the format as Ruby does, with
/// the flags and widths of strftime (`%-d`, `%9N`) taken out (README, "Differences from
/// Fluentd": Ruby matches them as text, so Fluentd fails on every record).
#[derive(Clone, Debug)]
pub(crate) struct Strptime {
    fmt: Box<[u8]>,
    gem: bool,
    has_zone: bool,
    sec_shift: bool,
}

const GEM_DIRECTIVES: &[u8] = b"BHMNSYbdehmnyz";

/// Does the format at `s` start with a number (`num_pattern_p` of `date_strptime.c`)?
fn num_pattern(s: &[u8]) -> bool {
    match s.first() {
        Some(c) if c.is_ascii_digit() => true,
        Some(b'%') => {
            let mut i = 1;
            if matches!(s.get(i), Some(b'E' | b'O')) {
                i += 1;
            }
            s.get(i).is_some_and(|c| {
                b"CDdeFGgHIjkLlMmNQRrSsTUuVvWwXxYy".contains(c) || c.is_ascii_digit()
            })
        }
        _ => false,
    }
}

/// Ruby's `isspace`.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The format without strftime's flags and widths before a conversion (`%-d` → `%d`, `%9N` →
/// `%N`), and whether it had any.
fn without_flags(fmt: &str) -> String {
    let b = fmt.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        if b.get(i + 1) == Some(&b'%') {
            out.extend_from_slice(b"%%");
            i += 2;
            continue;
        }
        let mut j = i + 1;
        while j < b.len() && matches!(b[j], b'-' | b'_' | b'0' | b'^' | b'#') {
            j += 1;
        }
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        out.push(b'%');
        if j > i + 1
            && b.get(j)
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'+')
        {
            i = j;
        } else {
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| fmt.to_string())
}

/// Is `fmt` one the strptime gem compiles (Fluentd then uses it, not `Time.strptime`)?
fn gem_compiles(fmt: &[u8]) -> bool {
    let mut i = 0;
    while i < fmt.len() {
        if fmt[i] == b'%' {
            match fmt.get(i + 1) {
                Some(c) if GEM_DIRECTIVES.contains(c) => i += 2,
                _ => return false,
            }
        } else {
            i += 1;
        }
    }
    true
}

impl Strptime {
    /// Compile `fmt`. Every format is taken, as Ruby takes it (a directive Ruby does not know
    /// matches itself as text).
    pub(crate) fn new(fmt: &str) -> Result<Self, String> {
        let meant = without_flags(fmt);
        let b = meant.as_bytes();
        let gem = gem_compiles(b);
        // Fluentd's test is on the text of the format; `%:z` and `%+` carry a zone too (README,
        // "Differences from Fluentd").
        let has_zone = meant.contains("%z") || meant.contains("%Z");
        let epoch = b.windows(2).any(|w| w == b"%s" || w == b"%Q");
        let secs = count_secs(b);
        Ok(Strptime {
            fmt: b.into(),
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
        let mut st = Scan {
            s: s.as_bytes(),
            si: 0,
            f: Fields::default(),
            cent: None,
            merid: None,
            zone: None,
            frac: None,
            gem: self.gem,
            sec_shift: self.sec_shift,
        };
        if !st.run(&self.fmt) {
            return None;
        }
        let mut f = st.f;
        if let Some(c) = st.cent {
            let c = c.saturating_mul(100);
            if let Some(y) = f.cwyear.as_mut() {
                *y = y.saturating_add(c);
            }
            if let Some(y) = f.year.as_mut() {
                *y = y.saturating_add(c);
            }
        }
        if let (Some(m), Some(h)) = (st.merid, f.hour) {
            f.hour = Some(h % 12 + m);
        }
        if let Some(ns) = st.frac {
            f.nsec = Some(ns);
        }
        f.dst_first = self.gem;
        if let Some((z0, z1)) = st.zone {
            let z = &s.as_bytes()[z0..z1];
            f.offset = if self.gem {
                gem_zone(z).and_then(|(o, _)| o)
            } else {
                time_zone_offset(z)
            };
        }
        if let Some((secs, _)) = f.epoch {
            // `Time.at(seconds, usec)`: the fraction counts away from zero.
            let ns = f.nsec.unwrap_or(0);
            let negative = f.epoch_neg.unwrap_or(secs < 0);
            f.epoch = Some(if negative && ns > 0 {
                (secs.wrapping_sub(1), 1_000_000_000 - ns)
            } else {
                (secs, ns)
            });
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
        let sec_at = if f.hour == Some(24) { None } else { f.sec_at };
        Ok((resolve(&f, zone, s)?, sec_at))
    }
}

/// How many conversions of the format read seconds (`%S`, `%T`, `%X`, `%r`, `%c`, `%+`).
fn count_secs(b: &[u8]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let mut j = i + 1;
            if matches!(b.get(j), Some(b'E' | b'O')) {
                j += 1;
            }
            if b.get(j).is_some_and(|c| b"STXrc+".contains(c)) {
                n += 1;
            }
            i = j.max(i + 1) + usize::from(b.get(i + 1) == Some(&b'%'));
            continue;
        }
        i += 1;
    }
    n
}

/// The state of one `Date._strptime` run.
struct Scan<'a> {
    s: &'a [u8],
    si: usize,
    f: Fields,
    cent: Option<i64>,
    /// 0 or 12.
    merid: Option<i64>,
    zone: Option<(usize, usize)>,
    frac: Option<u32>,
    gem: bool,
    sec_shift: bool,
}

impl Scan<'_> {
    /// The byte at `i`, or 0 past the end (C's terminating NUL).
    fn at(&self, i: usize) -> u8 {
        self.s.get(i).copied().unwrap_or(0)
    }

    /// Up to `w` digits (at least one).
    fn digits(&mut self, w: usize) -> Option<i64> {
        let (v, used) = read_int(self.s.get(self.si..).unwrap_or(&[]), w, false)?;
        self.si += used;
        Some(v)
    }

    /// `%d %e %H %k %I %l`: a space and one digit, or two digits (the strptime gem takes no
    /// space).
    fn spaced(&mut self) -> Option<i64> {
        if self.at(self.si) == b' ' && !self.gem {
            self.si += 1;
            self.digits(1)
        } else {
            self.digits(2)
        }
    }

    /// Run `date__strptime_internal` over `fmt`.
    fn run(&mut self, fmt: &[u8]) -> bool {
        let mut fi = 0;
        while fi < fmt.len() {
            let c = fmt[fi];
            if is_space(c) {
                while is_space(self.at(self.si)) {
                    self.si += 1;
                }
                fi += 1;
                continue;
            }
            if c != b'%' {
                if self.at(self.si) != c {
                    return false;
                }
                self.si += 1;
                fi += 1;
                continue;
            }
            // `again:`
            let start = fi;
            fi += 1;
            loop {
                let d = fmt.get(fi).copied().unwrap_or(0);
                let next = fmt.get(fi + 1).copied().unwrap_or(0);
                let ordinal = match d {
                    b'E' => !(next != 0 && b"cCxXyY".contains(&next)),
                    b'O' => !(next != 0 && b"deHImMSuUVwWy".contains(&next)),
                    b':' => {
                        // `%:z`, `%::z`, `%:::z`; any other colon fails the match.
                        let l = fmt[fi..].iter().take_while(|&&c| c == b':').count();
                        if l <= 3 && fmt.get(fi + l) == Some(&b'z') {
                            fi += l;
                            continue;
                        }
                        return false;
                    }
                    _ => false,
                };
                if ordinal {
                    // The `%` matches itself; the rest is text.
                    if self.at(self.si) != b'%' {
                        return false;
                    }
                    self.si += 1;
                    fi = start + 1;
                    break;
                }
                if matches!(d, b'E' | b'O') {
                    fi += 1;
                    continue;
                }
                let num_next = num_pattern(fmt.get(fi + 1..).unwrap_or(&[]));
                if !self.conversion(d, num_next) {
                    return false;
                }
                fi += 1;
                break;
            }
        }
        true
    }

    /// One conversion; false when the text does not match.
    fn conversion(&mut self, c: u8, num_next: bool) -> bool {
        self.conv(c, num_next).is_some()
    }

    fn conv(&mut self, c: u8, num_next: bool) -> Option<()> {
        let range = |v: i64, lo: i64, hi: i64| (lo..=hi).contains(&v).then_some(v);
        match c {
            b'A' | b'a' => {
                let rest = self.s.get(self.si..).unwrap_or(&[]);
                let (i, l) = WEEKDAYS
                    .iter()
                    .enumerate()
                    .find(|(_, w)| starts_with_ci(rest, w.as_bytes()))
                    .map(|(i, w)| (i, w.len()))
                    .or_else(|| {
                        WEEKDAYS
                            .iter()
                            .enumerate()
                            .find(|(_, w)| starts_with_ci(rest, &w.as_bytes()[..3]))
                            .map(|(i, _)| (i, 3))
                    })?;
                self.si += l;
                self.f.wday = Some(i as i64);
            }
            b'B' | b'b' | b'h' => {
                let (m, l) = month_name(self.s.get(self.si..).unwrap_or(&[]))?;
                self.si += l;
                self.f.mon = Some(m);
            }
            b'C' => {
                let v = self.digits(if num_next { 2 } else { usize::MAX })?;
                self.cent = Some(v);
            }
            b'c' => self.sub(b"%a %b %e %H:%M:%S %Y")?,
            b'D' | b'x' => self.sub(b"%m/%d/%y")?,
            b'd' | b'e' => {
                let v = self.spaced()?;
                self.f.mday = Some(range(v, 1, 31)?);
            }
            b'F' => self.sub(b"%Y-%m-%d")?,
            b'G' => {
                let v = self.signed_year(num_next)?;
                self.f.cwyear = Some(v);
            }
            b'g' => {
                let v = range(self.digits(2)?, 0, 99)?;
                self.f.cwyear = Some(v);
                if self.cent.is_none() {
                    self.cent = Some(if v >= 69 { 19 } else { 20 });
                }
            }
            b'H' | b'k' => {
                let v = self.spaced()?;
                self.f.hour = Some(range(v, 0, if self.gem { 23 } else { 24 })?);
            }
            b'I' | b'l' => {
                let v = self.spaced()?;
                self.f.hour = Some(range(v, 1, 12)?);
            }
            b'j' => {
                let v = self.digits(3)?;
                self.f.yday = Some(range(v, 1, 366)?);
            }
            b'L' | b'N' => {
                let neg = self.sign();
                let w = if num_next || (self.gem && c == b'N') {
                    if c == b'L' {
                        3
                    } else {
                        9
                    }
                } else {
                    usize::MAX
                };
                let start = self.si;
                let mut ns: u64 = 0;
                let mut n = 0;
                while self.at(self.si).is_ascii_digit() && self.si - start < w {
                    if n < 9 {
                        ns = ns * 10 + u64::from(self.at(self.si) - b'0');
                        n += 1;
                    }
                    self.si += 1;
                }
                if self.si == start {
                    return None;
                }
                while n < 9 {
                    ns *= 10;
                    n += 1;
                }
                if neg && ns > 0 {
                    // A negative fraction: before the second (rare; Ruby takes it).
                    return None;
                }
                self.frac = Some(ns as u32);
            }
            b'M' => {
                let v = self.digits(2)?;
                self.f.min = Some(range(v, 0, 59)?);
            }
            b'm' => {
                let v = self.digits(2)?;
                self.f.mon = Some(range(v, 1, 12)?);
            }
            b'n' | b't' => self.sub(b" ")?,
            b'P' | b'p' => {
                let rest = self.s.get(self.si..).unwrap_or(&[]);
                let (i, l) = ["am", "pm", "a.m.", "p.m."]
                    .iter()
                    .enumerate()
                    .find(|(_, m)| starts_with_ci(rest, m.as_bytes()))
                    .map(|(i, m)| (i, m.len()))?;
                self.si += l;
                self.merid = Some(if i % 2 == 0 { 0 } else { 12 });
                self.f.pm = Some(i % 2 == 1);
            }
            b'Q' => {
                let neg = self.at(self.si) == b'-';
                if neg {
                    self.si += 1;
                }
                let v = self.digits(usize::MAX)?;
                let v = if neg { -v } else { v };
                self.f.epoch = Some((v.div_euclid(1000), 0));
                self.f.epoch_neg = None;
                self.frac = Some((v.rem_euclid(1000) * 1_000_000) as u32);
            }
            b'R' => self.sub(b"%H:%M")?,
            b'r' => self.sub(b"%I:%M:%S %p")?,
            b'S' => {
                let at = self.si;
                let v = self.digits(2)?;
                self.f.sec = Some(range(v, 0, 60)?);
                if self.sec_shift && self.si - at == 2 {
                    self.f.sec_at = Some(at);
                }
            }
            b's' => {
                let neg = self.at(self.si) == b'-';
                if neg {
                    self.si += 1;
                }
                // Seconds past 64 bits keep their low bits, all an event time takes of them.
                let rest = self.s.get(self.si..).unwrap_or(&[]);
                let (v, used) = read_int_wrapping(rest)?;
                self.f.epoch_neg = Some(neg && rest[..used].iter().any(|&d| d != b'0'));
                self.si += used;
                self.f.epoch = Some((if neg { v.wrapping_neg() } else { v }, 0));
            }
            b'T' | b'X' => self.sub(b"%H:%M:%S")?,
            b'U' | b'W' => {
                let v = range(self.digits(2)?, 0, 53)?;
                if c == b'U' {
                    self.f.wnum0 = Some(v);
                } else {
                    self.f.wnum1 = Some(v);
                }
            }
            b'u' => {
                let v = self.digits(1)?;
                self.f.cwday = Some(range(v, 1, 7)?);
            }
            b'V' => {
                let v = self.digits(2)?;
                self.f.cweek = Some(range(v, 1, 53)?);
            }
            b'v' => self.sub(b"%e-%b-%Y")?,
            b'w' => {
                let v = self.digits(1)?;
                self.f.wday = Some(range(v, 0, 6)?);
            }
            b'Y' => {
                let v = self.signed_year(num_next)?;
                self.f.year = Some(v);
            }
            b'y' => {
                let v = range(self.digits(2)?, 0, 99)?;
                if self.gem {
                    self.f.year = Some(if v < 69 { 2000 + v } else { 1900 + v });
                } else {
                    self.f.year = Some(v);
                    if self.cent.is_none() {
                        self.cent = Some(if v >= 69 { 19 } else { 20 });
                    }
                }
            }
            b'Z' | b'z' => {
                let rest = self.s.get(self.si..).unwrap_or(&[]);
                let used = if self.gem {
                    gem_zone(rest)?.1
                } else {
                    zone_match(rest)?
                };
                self.zone = Some((self.si, self.si + used));
                self.si += used;
            }
            b'%' => {
                if self.at(self.si) != b'%' {
                    return None;
                }
                self.si += 1;
            }
            b'+' => self.sub(b"%a %b %e %H:%M:%S %Z %Y")?,
            other => {
                // Not a conversion: `%` and the letter match themselves.
                if self.at(self.si) != b'%' {
                    return None;
                }
                self.si += 1;
                if other != 0 && self.at(self.si) != other {
                    return None;
                }
                self.si += 1;
            }
        }
        Some(())
    }

    /// An optional `-` or `+` at the text's position, taken; true for `-`.
    fn sign(&mut self) -> bool {
        match self.at(self.si) {
            b'-' => {
                self.si += 1;
                true
            }
            b'+' => {
                self.si += 1;
                false
            }
            _ => false,
        }
    }

    /// `%Y`, `%G`: a sign, then 4 digits before a number or any number of them.
    fn signed_year(&mut self, num_next: bool) -> Option<i64> {
        let neg = self.sign();
        // The strptime gem reads four digits at most.
        let w = if num_next || self.gem { 4 } else { usize::MAX };
        let v = self.digits(w)?;
        Some(if neg { -v } else { v })
    }

    /// `recur(fmt)`: a format within the format.
    fn sub(&mut self, fmt: &[u8]) -> Option<()> {
        self.run(fmt).then_some(())
    }
}

/// The zone `Date._strptime`'s `%z`/`%Z` takes at the start of `b` (its length):
/// `(?:gmt|utc?)?[-+]\d+(?:[,.:]\d+(?::\d+)?)?`, `[[:alpha:].\s]+(?:standard|daylight)\s+time\b`
/// or `[[:alpha:]]+(?:\sdst)?\b`, case-insensitive.
pub(crate) fn zone_match(b: &[u8]) -> Option<usize> {
    let digits = |p: usize| {
        b[p.min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let word = |p: usize| {
        b.get(p)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    };
    // Offset.
    let mut p = 0;
    for pre in [&b"gmt"[..], b"utc", b"ut"] {
        if starts_with_ci(b, pre) {
            p = pre.len();
            break;
        }
    }
    for start in [p, 0] {
        if matches!(b.get(start), Some(b'+' | b'-')) {
            let n = digits(start + 1);
            if n > 0 {
                let mut e = start + 1 + n;
                if matches!(b.get(e), Some(b',' | b'.' | b':')) && digits(e + 1) > 0 {
                    e += 1 + digits(e + 1);
                    if b.get(e) == Some(&b':') && digits(e + 1) > 0 {
                        e += 1 + digits(e + 1);
                    }
                }
                return Some(e);
            }
        }
    }
    // "… standard time" / "… daylight time": the last such end that the class reaches.
    let class = b
        .iter()
        .take_while(|c| c.is_ascii_alphabetic() || **c == b'.' || is_space(**c))
        .count();
    for k in (1..=class.min(b.len())).rev() {
        for kw in [&b"standard"[..], b"daylight"] {
            if starts_with_ci(&b[k..], kw) {
                let mut e = k + kw.len();
                let sp = b[e..].iter().take_while(|c| is_space(**c)).count();
                if sp > 0 && starts_with_ci(&b[e + sp..], b"time") {
                    e += sp + 4;
                    if !word(e) {
                        return Some(e);
                    }
                }
            }
        }
    }
    // A name, maybe with " dst".
    let n = b.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    if n == 0 {
        return None;
    }
    if b.get(n).is_some_and(|c| is_space(*c)) && starts_with_ci(&b[n + 1..], b"dst") && !word(n + 4)
    {
        return Some(n + 4);
    }
    (!word(n)).then_some(n)
}

/// Ruby's `Time.zone_offset` of a zone text: `±hh[:]mm[[:]ss]`, `±hh`, `UTC`/`GMT`/`Z`/US
/// zones/military letters; `None` (local time) for anything else.
fn time_zone_offset(z: &[u8]) -> Option<i32> {
    let num = |d: &[u8]| d.iter().fold(0i32, |a, c| a * 10 + i32::from(c - b'0'));
    let dig = |d: &[u8]| d.iter().all(u8::is_ascii_digit);
    if matches!(z.first(), Some(b'+' | b'-')) {
        let sign = if z[0] == b'-' { -1 } else { 1 };
        let r = &z[1..];
        let off = match r.len() {
            2 if dig(r) => Some(num(r) * 3600),
            4 if dig(r) => Some(num(&r[..2]) * 3600 + num(&r[2..]) * 60),
            5 if r[2] == b':' && dig(&r[..2]) && dig(&r[3..]) => {
                Some(num(&r[..2]) * 3600 + num(&r[3..]) * 60)
            }
            6 if dig(r) => Some(num(&r[..2]) * 3600 + num(&r[2..4]) * 60 + num(&r[4..])),
            8 if r[2] == b':' && r[5] == b':' && dig(&r[..2]) && dig(&r[3..5]) && dig(&r[6..]) => {
                Some(num(&r[..2]) * 3600 + num(&r[3..5]) * 60 + num(&r[6..]))
            }
            _ => None,
        };
        return off.map(|o| sign * o);
    }
    let name = std::str::from_utf8(z).ok()?.to_ascii_lowercase();
    ZONE_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, h)| *h)
        .or_else(|| military(&name))
        .map(|h| h * 3600)
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

/// Digits at the start of `b` as an integer modulo 2^64, and how many there were (none: None).
fn read_int_wrapping(b: &[u8]) -> Option<(i64, usize)> {
    let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let v = b[..n].iter().fold(0i64, |v, &d| {
        v.wrapping_mul(10).wrapping_add(i64::from(d - b'0'))
    });
    (n > 0).then_some((v, n))
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

pub(crate) use logferry_msgpack::civil_from_days;

/// Seconds east of UTC that `zone` has at the wall-clock time `naive` (seconds as if UTC), as
/// Ruby's `Time.local` resolves it: a wall-clock time that happens twice (the hour a daylight
/// saving time ends) or not at all (the hour it begins) takes the smaller of the two offsets
/// around the change (standard time: the later instant, or the time moved forward).
pub(crate) fn offset_for_local(zone: &Zone, naive: i64) -> i64 {
    match offsets_around(zone, naive) {
        Ok(o) => o,
        Err(((before, true), (_, false))) => before,
        Err(((_, false), (after, true))) => after,
        Err(((before, _), (after, _))) => before.min(after),
    }
}

/// [`offset_for_local`] as the strptime gem resolves a wall-clock time that happens twice: with
/// the offset before the change (the first of the two instants).
fn offset_for_local_dst_first(zone: &Zone, naive: i64) -> i64 {
    match offsets_around(zone, naive) {
        Ok(o) => o,
        Err(((_, false), (after, true))) => after,
        Err(((before, _), _)) => before,
    }
}

/// The zone's offset at the wall-clock time `naive` when it has one offset a day either side,
/// else the offsets a day before and after, each with whether it fits `naive`.
#[allow(clippy::type_complexity)]
fn offsets_around(zone: &Zone, naive: i64) -> Result<i64, ((i64, bool), (i64, bool))> {
    if let Zone::Fixed(_) = zone {
        return Ok(i64::from(zone.offset_at(naive)));
    }
    let before = i64::from(zone.offset_at(naive - 86_400));
    let after = i64::from(zone.offset_at(naive + 86_400));
    if before == after {
        // No change within a day either side (the two lookups stay in the local zone's cache).
        return Ok(before);
    }
    let fits = |o: i64| i64::from(zone.offset_at(naive - o)) == o;
    Err(((before, fits(before)), (after, fits(after))))
}

/// An epoch second count and nanoseconds as an event time: the seconds wrapped to the 32 bits an
/// event time has, as Fluentd's out_forward and msgpack buffers pack them (`[sec,
/// nsec].pack('NN')`; README "Differences from Fluentd", a negative event time). Fluentd keeps a
/// record whatever its parsed time, so no time fails here.
pub(crate) fn event_time(sec: i64, nsec: u32) -> EventTime {
    EventTime::new(sec as u32, nsec)
}

/// Largest magnitude of a date or time field that [`resolve`] computes with (a year of ±1e6 is
/// far outside the u32 seconds of an event time, and keeps every product within i64).
const FIELD_LIMIT: i64 = 1_000_000;

/// The date of a week date where Ruby's `Time.strptime` reads one (`%G-W%V-%u`, `%Y %U %w`,
/// when no month and day are read): ISO weeks when the week-based year and week are read (the
/// weekday defaults to Monday), else weeks of `%Y` from the first Sunday (`%U`) or Monday
/// (`%W`), the weekday defaulting to that day. Ruby's `Date.strptime(…).to_time` there drops
/// the time of day; it is kept (README, "Differences from Fluentd"). Other mixes are left to the
/// other fields.
fn week_date(f: &Fields) -> Option<Option<(i64, i64, i64)>> {
    let civil = f.mon.is_some() && f.mday.is_some();
    let iso = (f.cwyear.is_some() && f.year.is_none())
        || ((f.cwday.is_some() || f.cweek.is_some()) && !civil);
    let weeks = (f.wnum0.is_some() || f.wnum1.is_some()) && f.yday.is_none() && !civil;
    if f.epoch.is_some() || !(iso || weeks) {
        return None;
    }
    // Far outside any event time (and the date arithmetic).
    if [f.year, f.cwyear, f.cweek, f.wnum0, f.wnum1]
        .iter()
        .flatten()
        .any(|v| !(-FIELD_LIMIT..=FIELD_LIMIT).contains(v))
    {
        return Some(None);
    }
    if let (Some(y), Some(w)) = (f.cwyear, f.cweek) {
        let wd = f
            .cwday
            .or(f.wday.map(|d| if d == 0 { 7 } else { d }))
            .unwrap_or(1);
        // Monday of week 1 is the Monday on or before 4 January; week 53 must exist.
        let monday1 = |y: i64| {
            let jan4 = days_from_civil(y, 1, 4);
            jan4 - (jan4 + 3).rem_euclid(7)
        };
        let day = monday1(y) + (w - 1) * 7 + (wd - 1);
        if day >= monday1(y + 1) {
            return Some(None);
        }
        return Some(Some(civil_from_days(day)));
    }
    let y = f.year?;
    let wday = f.wday.or(f.cwday.map(|d| d % 7));
    let jan1 = days_from_civil(y, 1, 1);
    let jan1_wd = (jan1 + 4).rem_euclid(7); // 0 = Sunday
    let day = if let Some(w) = f.wnum0 {
        let first_sunday = jan1 + (7 - jan1_wd) % 7;
        first_sunday + (w - 1) * 7 + wday.unwrap_or(0)
    } else if let Some(w) = f.wnum1 {
        let first_monday = jan1 + (8 - jan1_wd) % 7;
        first_monday + (w - 1) * 7 + (wday.unwrap_or(1) + 6) % 7
    } else {
        return None;
    };
    let date = civil_from_days(day);
    // Ruby's Date refuses a week day outside the year.
    Some((date.0 == y).then_some(date))
}

/// Turn read fields into a time as Ruby's `Time.strptime`/`Time.parse` (`make_time`) do:
/// fields before the first given one come from the current time in the target zone.
pub(crate) fn resolve(f: &Fields, zone: &Zone, src: &str) -> Result<EventTime, String> {
    // Ruby's Time takes offsets within a day only (`utc_offset out of range`), also for a zone
    // read beside epoch seconds.
    if f.offset.is_some_and(|o| o.abs() >= 86_400) {
        return Err(format!(
            "invalid time format: value = {src}, error_class = ArgumentError, error = utc_offset \
             out of range"
        ));
    }
    if let Some((s, ns)) = f.epoch {
        return Ok(event_time(s, ns));
    }
    let mut hour = f.hour;
    if let (Some(pm), Some(h)) = (f.pm, hour) {
        hour = Some(h % 12 + if pm { 12 } else { 0 });
    }
    let (mut mon, mut mday) = (f.mon, f.mday);
    // Fields far outside any representable time (an arbitrarily long `%Y`, `%j`, …) would
    // overflow the date arithmetic: refuse them as out of range (found by fuzzing).
    let out_of_range = [f.year, f.mon, f.mday, hour, f.min, f.sec, f.yday]
        .iter()
        .flatten()
        .any(|v| !(-FIELD_LIMIT..=FIELD_LIMIT).contains(v));
    if out_of_range {
        return Err(format!(
            "invalid time format: value = {src}, time out of range"
        ));
    }
    let mut year = f.year;
    // Week dates (`%G-W%V-%u`, `%Y %U %w`): Ruby's `Time.strptime` turns them into a date at
    // midnight (`Date.strptime(…).to_time`), dropping the time of day; the date and the time
    // read are kept (README, "Differences from Fluentd").
    let week = week_date(f);
    if let Some(date) = week {
        let (y, m, d) = date.ok_or_else(|| {
            format!("invalid time format: value = {src}, error_class = Date::Error, error = invalid date")
        })?;
        year = Some(y);
        mon = Some(m);
        mday = Some(d);
    }
    if week.is_none()
        && f.year.is_none()
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
    let (mut min, mut sec, mut nsec) = (f.min, f.sec, f.nsec);
    let yday_of = |y: i64, yd: i64| -> Result<(i64, i64), String> {
        let leap = days_from_civil(y + 1, 1, 1) - days_from_civil(y, 1, 1) == 366;
        if yd == 366 && !leap {
            return Err(format!(
                "invalid time format: value = {src}, error_class = ArgumentError, error = yday \
                 {yd} out of range"
            ));
        }
        let (_, m, d) = civil_from_days(days_from_civil(y, 1, 1) + yd - 1);
        Ok((m, d))
    };
    if year.is_none() {
        let (ny, nm, nd, tod, nns) = now_fields();
        if let Some(yd) = f.yday {
            // `make_time`: a day of the year wins over a month and day.
            let (m, d) = yday_of(ny, yd)?;
            mon = Some(m);
            mday = Some(d);
        }
        // Ruby's `begin break if year; year = now.year; break if mon; … end until true`.
        year = Some(ny);
        super::time_parse::fill_from_now(
            [&mut mon, &mut mday, &mut hour, &mut min, &mut sec],
            [nm, nd, tod / 3600, tod / 60 % 60, tod % 60],
            &mut nsec,
            nns,
        );
    } else if let (Some(yd), Some(y)) = (f.yday, year) {
        let (m, d) = yday_of(y, yd)?;
        mon = Some(m);
        mday = Some(d);
    }
    // `Time.utc`/`Time.local` take 24:00:00 as the next day, and no other time at hour 24.
    if hour == Some(24) && (min.unwrap_or(0) != 0 || sec.unwrap_or(0) != 0) {
        return Err(format!(
            "invalid time format: value = {src}, error_class = ArgumentError, error = argument \
             out of range"
        ));
    }
    let days = days_from_civil(year.unwrap_or(1970), mon.unwrap_or(1), 1) + mday.unwrap_or(1) - 1;
    let tod = hour.unwrap_or(0) * 3600 + min.unwrap_or(0) * 60 + sec.unwrap_or(0);
    let mut naive = days * 86_400 + tod;
    // `make_time` with a day of the year moves the day until the time's own day of the year is
    // the one read: 24:00:00 (or 23:59:60) stays on that day, at its start.
    if f.yday.is_some() && week.is_none() && tod >= 86_400 {
        naive -= 86_400;
    }
    let off = fixed.unwrap_or_else(|| {
        if f.dst_first {
            offset_for_local_dst_first(zone, naive)
        } else {
            offset_for_local(zone, naive)
        }
    });
    Ok(event_time(naive - off, nsec.unwrap_or(0)))
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
            ("%Y-%m-%d", format!("{mid}-01-01")),
            ("%j %Y", format!("{mid} 2024")),
            ("%Y %j", format!("2024 {mid}")),
            ("%d %H", format!("{mid} {mid}")),
            ("%G-W%V-%u", format!("{big}-W01-1")),
            ("%Y %U %w", format!("{big} 01 1")),
        ] {
            let Ok(p) = Strptime::new(fmt) else {
                continue;
            };
            let r = p.parse(&text, &utc());
            assert!(r.is_err(), "{fmt} / {text}: {r:?}");
        }
        // The strptime gem, which Fluentd uses for `%Y` alone, reads four digits of a long year
        // (6666): kept, wrapped to 32 bits as every time far from now.
        let t = Strptime::new("%Y").unwrap().parse(&big, &utc()).unwrap();
        assert_eq!(t.sec, (148_191_465_600i64 as u32));
        // Epoch seconds of any length are kept with their low 32 bits, as Fluentd packs them
        // (Ruby: `[-6666666666666666666666666].pack('N').unpack1('N')`).
        let t = Strptime::new("%s.%N")
            .unwrap()
            .parse(&format!("-{big}.5"), &utc())
            .unwrap();
        assert_eq!((t.sec, t.nsec), (2_035_635_541, 500_000_000));
        // Lenient parsing (Ruby's Time.parse): Ruby's years are unbounded (a time in the year
        // 999999999999 is kept wrapped); an hour that large is out of range.
        let lenient = crate::parser::time::TimeParser::Lenient;
        assert!(lenient.parse_str(&format!("{mid}-01-01 00:00:00")).is_ok());
        assert!(lenient
            .parse_str(&format!("2024-01-01 {mid}:00:00"))
            .is_err());
        assert!(lenient.parse_str(&format!("{big}-01-01 00:00:00")).is_ok());
        // Past 30 digits logferry refuses the field (README, "Differences from Fluentd").
        let huge = "6".repeat(31);
        assert!(lenient
            .parse_str(&format!("{huge}-01-01 00:00:00"))
            .is_err());
    }

    /// Random formats of directives, flags, widths and text against random texts of digits,
    /// signs, names and zones: no panic (overflow included), in either direction.
    #[test]
    fn random_formats_and_texts_never_panic() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        const PIECES: &[&str] = &[
            "%",
            "%%",
            "-",
            "_",
            "0",
            "^",
            "#",
            ":",
            "::",
            "E",
            "O",
            "9",
            "30",
            "99999999999",
            "Y",
            "G",
            "C",
            "y",
            "g",
            "s",
            "Q",
            "N",
            "L",
            "z",
            "Z",
            "j",
            "U",
            "W",
            "V",
            "u",
            "w",
            "H",
            "e",
            "p",
            "b",
            "c",
            "+",
            "v",
            " ",
            "é",
            "x",
        ];
        const TEXT: &[&str] = &[
            "9",
            "0",
            "99999999999999999999999",
            "-",
            "+",
            ":",
            " ",
            "Jan",
            "pm",
            "UTC",
            "+9900",
            "GMT+9",
            "Eastern Standard Time",
            "W",
            ".",
            "366",
            "24",
            "60",
            "é",
            "%",
        ];
        let zones = [
            Zone::utc(),
            Zone::Local,
            Zone::parse("America/New_York").unwrap(),
        ];
        for _ in 0..20_000 {
            let fmt: String = (0..1 + next(8))
                .map(|_| PIECES[next(PIECES.len())])
                .collect();
            let text: String = (0..next(10)).map(|_| TEXT[next(TEXT.len())]).collect();
            if let Ok(p) = Strptime::new(&fmt) {
                let _ = p.parse(&text, &zones[next(zones.len())]);
            }
            if let Ok(f) =
                crate::timefmt::TimeFormatter::new(&fmt, zones[next(zones.len())].clone())
            {
                let _ = f.format(EventTime::new(next(u32::MAX as usize) as u32, 999_999_999));
            }
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

    /// Ruby's strptime takes every format: a directive it does not know matches itself as
    /// text, `%:` before anything but `z` matches nothing, strftime's flags and widths are what
    /// the user meant without them (Fluentd fails on them; README, "Differences from Fluentd").
    #[test]
    fn every_format_is_taken_as_ruby_takes_it() {
        let t = |f: &str, s: &str| Strptime::new(f).unwrap().parse(s, &utc());
        let day = EventTime::new(1_704_153_600, 0); // 2024-01-02
        assert_eq!(t("%Y-%m-%d %K", "2024-01-02 %K").unwrap(), day);
        assert!(t("%Y-%m-%d %K", "2024-01-02 12").is_err());
        assert_eq!(t("%Y-%m-%d %E", "2024-01-02 %E").unwrap(), day);
        assert_eq!(t("%Y-%m-%d %Ey", "2024-01-02 24").unwrap(), day);
        assert!(t("%Y-%m-%d %:H", "2024-01-02 %:H").is_err());
        assert_eq!(t("%Y-%-m-%-d", "2024-1-2").unwrap(), day);
        assert_eq!(
            t("%Y-%m-%d %H:%M:%S.%9N", "2024-01-02 00:00:00.123456789").unwrap(),
            EventTime::new(1_704_153_600, 123_456_789)
        );
        assert_eq!(
            t("%Y-%m-%d %H:%M:%S.%3N", "2024-01-02 00:00:00.123").unwrap(),
            EventTime::new(1_704_153_600, 123_000_000)
        );
        // A week date keeps the time of day.
        assert_eq!(
            t("%G-W%V-%u %H", "2024-W01-2 05").unwrap(),
            EventTime::new(1_704_153_600 + 5 * 3600, 0)
        );
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
