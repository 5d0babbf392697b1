//! Ruby's `Date._parse(text)` (the date gem 3.2.2 of Ruby 3.1, `date__parse` in
//! `ext/date/date_parse.c`): the fields hash `Time.parse` builds a time from. Each step of Ruby's
//! parser is one regular expression whose first match is read and then blanked out of the text
//! (replaced by one space), in Ruby's order: weekday, time of day, then the first date form that
//! matches (European, American, ISO 8601, JIS X 0301, VMS, slashes, dots, ISO 8601 week and
//! ordinal forms, an apostrophe year, a month name, an ordinal day, a digit run), then BC and a
//! lone one- or two-digit fragment. Recorded against Ruby in `tests/dateparse_vs_ruby.rs`.

use std::sync::OnceLock;

use regex::Regex;

/// The fields `Date._parse` returns (`offset` is not computed: `Time.parse` reads `zone` with
/// `Time.zone_offset` instead).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct DateHash {
    pub year: Option<i128>,
    pub mon: Option<i128>,
    pub mday: Option<i128>,
    pub yday: Option<i128>,
    pub cwyear: Option<i128>,
    pub cweek: Option<i128>,
    pub cwday: Option<i128>,
    pub wday: Option<i128>,
    pub hour: Option<i128>,
    pub min: Option<i128>,
    pub sec: Option<i128>,
    /// `sec_fraction`: the digits of the fraction (over 10 to the number of digits).
    pub sec_fraction: Option<String>,
    pub zone: Option<String>,
    /// `_comp`: whether a two-digit year is completed to 19xx/20xx.
    comp: bool,
    /// `_bc`.
    bc: bool,
}

impl DateHash {
    /// `sec_fraction` as Ruby writes the Rational, reduced (`1/2`, `0/1`), for digits of any
    /// length.
    pub(crate) fn sec_fraction_text(&self) -> Option<String> {
        let f = self.sec_fraction.as_deref()?;
        // The numerator without leading zeros, the denominator 10^k.
        let mut n: Vec<u8> = f
            .bytes()
            .map(|c| c - b'0')
            .skip_while(|d| *d == 0)
            .collect();
        if n.is_empty() {
            return Some("0/1".into());
        }
        let mut k = f.len();
        while n.last() == Some(&0) {
            n.pop();
            k -= 1;
        }
        // 10^k = 2^k 5^k: take the factors 2 (or 5) the numerator still has.
        let (mut twos, mut fives) = (k, k);
        while twos > 0 && n.last().is_some_and(|d| d % 2 == 0) {
            div_small(&mut n, 2);
            twos -= 1;
        }
        while fives > 0 && n.last().is_some_and(|d| d % 5 == 0) {
            div_small(&mut n, 5);
            fives -= 1;
        }
        let mut d = vec![1u8];
        for _ in 0..twos {
            mul_small(&mut d, 2);
        }
        for _ in 0..fives {
            mul_small(&mut d, 5);
        }
        let text = |v: &[u8]| v.iter().map(|d| char::from(b'0' + d)).collect::<String>();
        Some(format!("{}/{}", text(&n), text(&d)))
    }

    /// Nanoseconds of `sec_fraction` (its first nine digits).
    pub(crate) fn nsec(&self) -> Option<u32> {
        let f = self.sec_fraction.as_deref()?;
        Some(
            f.bytes()
                .chain(std::iter::repeat(b'0'))
                .take(9)
                .fold(0u32, |a, c| a * 10 + u32::from(c - b'0')),
        )
    }
}

/// Decimal digits (most significant first) divided by `d`, exactly divisible.
fn div_small(n: &mut Vec<u8>, d: u8) {
    let mut r = 0u16;
    for x in n.iter_mut() {
        let v = r * 10 + u16::from(*x);
        *x = (v / u16::from(d)) as u8;
        r = v % u16::from(d);
    }
    let lead = n.iter().take_while(|x| **x == 0).count();
    n.drain(..lead.min(n.len() - 1));
}

/// Decimal digits (most significant first) times `m`.
fn mul_small(n: &mut Vec<u8>, m: u8) {
    let mut carry = 0u16;
    for x in n.iter_mut().rev() {
        let v = u16::from(*x) * u16::from(m) + carry;
        *x = (v % 10) as u8;
        carry = v / 10;
    }
    while carry > 0 {
        n.insert(0, (carry % 10) as u8);
        carry /= 10;
    }
}

/// Ruby's `Date._parse` length limit (`limit: 128`).
const LIMIT: usize = 128;

/// A space, ASCII as Ruby's `\s`.
macro_rules! sp {
    () => {
        r"[\t\n\x0B\x0C\r ]"
    };
}
const MONS: &str = "(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)";
const ABBR_DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const ABBR_MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const BC: &str = r"(c(?:e|\.e\.)|b(?:ce|\.c\.e\.)|a(?:d|\.d\.)|b(?:c|\.c\.))?";

struct Res {
    junk: Regex,
    day: Regex,
    time: Regex,
    time2: Regex,
    eu: Regex,
    us: Regex,
    iso: Regex,
    iso21: Regex,
    iso22: Regex,
    iso23: Regex,
    iso24: Regex,
    iso25_guard: Regex,
    iso25: Regex,
    iso26_guard: Regex,
    iso26: Regex,
    jis: Regex,
    vms11: Regex,
    vms12: Regex,
    sla: Regex,
    dot: Regex,
    year: Regex,
    mon: Regex,
    mday: Regex,
    ddd: Regex,
    bc: Regex,
    frag: Regex,
}

fn res() -> &'static Res {
    static R: OnceLock<Res> = OnceLock::new();
    R.get_or_init(|| {
        let re = |s: &str| Regex::new(s).expect("static Date._parse regex");
        let ci = |s: &str| Regex::new(&format!("(?i){s}")).expect("static Date._parse regex");
        Res {
            // Ruby's `[^-+',./:@[:alnum:]\[\]]+` ([:alnum:] is Unicode there).
            junk: re(r"[^-+',./:@\p{Alphabetic}\p{Nd}\[\]]+"),
            day: ci(r"\b(sun|mon|tue|wed|thu|fri|sat)[^-/0-9\t\n\x0B\x0C\r ]*"),
            time: ci(concat!(
                    r"((?:[0-9]+",
                    sp!(),
                    r"*:",
                    sp!(),
                    r"*[0-9]+(?:",
                    sp!(),
                    r"*:",
                    sp!(),
                    r"*[0-9]+(?:[,.][0-9]*)?)?|[0-9]+",
                    sp!(),
                    r"*h(?:",
                    sp!(),
                    r"*[0-9]+m?(?:",
                    sp!(),
                    r"*[0-9]+s?)?)?)(?:",
                    sp!(),
                    r"*[ap](?:m\b|\.m\.))?|[0-9]+",
                    sp!(),
                    r"*[ap](?:m\b|\.m\.))(?:",
                    sp!(),
                    r"*((?:gmt|utc?)?[-+][0-9]+(?:[,.:][0-9]+(?::[0-9]+)?)?|(?-i:[\p{Alphabetic}.\t\n\x0B\x0C\r ]+)(?:standard|daylight)",
                    sp!(),
                    r"time\b|(?-i:\p{Alphabetic}+)(?:",
                    sp!(),
                    r"dst)?\b))?"
                )),
            time2: ci(concat!(
                    r"\A([0-9]+)h?(?:",
                    sp!(),
                    r"*:?",
                    sp!(),
                    r"*([0-9]+)m?(?:",
                    sp!(),
                    r"*:?",
                    sp!(),
                    r"*([0-9]+)(?:[,.]([0-9]+))?s?)?)?(?:",
                    sp!(),
                    r"*([ap])(?:m\b|\.m\.))?"
                )),
            eu: ci(&format!(
                concat!(
                    r"('?[0-9]+)[^-0-9\t\n\x0B\x0C\r ]*",
                    sp!(),
                    r"*{}[^-0-9\t\n\x0B\x0C\r ']*(?:",
                    sp!(),
                    r"*{}",
                    sp!(),
                    r"*('?-?[0-9]+(?:(?:st|nd|rd|th)\b)?))?"
                ),
                MONS, BC
            )),
            us: ci(&format!(
                concat!(
                    r"\b{}[^-0-9\t\n\x0B\x0C\r ']*",
                    sp!(),
                    r"*('?[0-9]+)[^-0-9\t\n\x0B\x0C\r ']*(?:",
                    sp!(),
                    r"*,?",
                    sp!(),
                    r"*{}",
                    sp!(),
                    r"*('?-?[0-9]+))?"
                ),
                MONS, BC
            )),
            iso: re(r"('?[-+]?[0-9]+)-([0-9]+)-('?-?[0-9]+)"),
            iso21: ci(r"\b([0-9]{2}|[0-9]{4})?-?w([0-9]{2})(?:-?([0-9]))?\b"),
            iso22: ci(r"-w-([0-9])\b"),
            iso23: re(r"--([0-9]{2})?-([0-9]{2})\b"),
            iso24: re(r"--([0-9]{2})([0-9]{2})?\b"),
            iso25_guard: re(r"[,.]([0-9]{2}|[0-9]{4})-[0-9]{3}\b"),
            iso25: re(r"\b([0-9]{2}|[0-9]{4})-([0-9]{3})\b"),
            iso26_guard: re(r"[0-9]-[0-9]{3}\b"),
            iso26: re(r"\b-([0-9]{3})\b"),
            jis: ci(r"\b([mtshr])([0-9]+)\.([0-9]+)\.([0-9]+)"),
            vms11: ci(&format!(r"('?-?[0-9]+)-{MONS}[^-/.]*-('?-?[0-9]+)")),
            vms12: ci(&format!(r"\b{MONS}[^-/.]*-('?-?[0-9]+)(?:-('?-?[0-9]+))?")),
            sla: ci(concat!(
                    r"('?-?[0-9]+)/",
                    sp!(),
                    r"*('?[0-9]+)(?:[^0-9]",
                    sp!(),
                    r"*('?-?[0-9]+))?"
                )),
            dot: ci(concat!(
                    r"('?-?[0-9]+)\.",
                    sp!(),
                    r"*('?[0-9]+)\.",
                    sp!(),
                    r"*('?-?[0-9]+)"
                )),
            year: re(r"'([0-9]+)\b"),
            mon: ci(&format!(r"\b{MONS}[^\t\n\x0B\x0C\r ]*")),
            mday: ci(r"([0-9]+)(st|nd|rd|th)\b"),
            ddd: ci(concat!(
                    r"([-+]?)([0-9]{2,14})(?:",
                    sp!(),
                    r"*t?",
                    sp!(),
                    r"*([0-9]{2,6})?(?:[,.]([0-9]*))?)?(?:",
                    sp!(),
                    r"*(z\b|[-+][0-9]{1,4}\b|\[[-+]?[0-9][^\]]*\]))?"
                )),
            bc: ci(r"\b(bc\b|bce\b|b\.c\.|b\.c\.e\.)"),
            frag: re(concat!(r"\A", sp!(), r"*([0-9]{1,2})", sp!(), r"*\z")),
        }
    })
}

/// The groups of a match, owned (the text is changed right after).
type Groups = Vec<Option<String>>;

/// Ruby's `subx`: the first match of `re`, its text replaced by one space.
fn sub(s: &mut String, re: &Regex) -> Option<Groups> {
    let c = re.captures(s)?;
    let g: Groups = c
        .iter()
        .map(|m| m.map(|m| m.as_str().to_string()))
        .collect();
    let r = c.get(0).expect("group 0").range();
    s.replace_range(r, " ");
    Some(g)
}

/// Ruby's `rb_cstr_to_inum(s, 10, false)` for the texts the patterns give: an optional sign and
/// digits (saturating far beyond any date).
fn num(s: &str) -> i128 {
    let b = s.as_bytes();
    let (neg, d) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    let mut v: i128 = 0;
    for c in d.iter().take_while(|c| c.is_ascii_digit()) {
        v = v.saturating_mul(10).saturating_add(i128::from(c - b'0'));
    }
    if neg {
        -v
    } else {
        v
    }
}

/// Ruby's `n2i`: `w` digits from `f`.
fn n2i(s: &str, f: usize, w: usize) -> i128 {
    num(&s[f..f + w])
}

fn digit_span(b: &[u8], from: usize) -> usize {
    b[from..].iter().take_while(|c| c.is_ascii_digit()).count()
}

/// Ruby's `s3e`: which of three numbers is the year, the month and the day.
fn s3e(h: &mut DateHash, y: Option<String>, m: Option<String>, d: Option<String>, bc: bool) {
    let (mut y, mut m, mut d) = (y, m, d);
    let mut c: Option<bool> = None;
    if y.is_some() && m.is_some() && d.is_none() {
        (y, m, d) = (None, y, m);
    }
    if y.is_none() {
        if d.as_ref().is_some_and(|d| d.len() > 2) {
            y = d.take();
        }
        if d.as_ref().is_some_and(|d| d.starts_with('\'')) {
            y = d.take();
        }
    }
    if let Some(ys) = y.clone() {
        let b = ys.as_bytes();
        if let Some(bp) = b
            .iter()
            .position(|c| c.is_ascii_digit() || matches!(c, b'+' | b'-'))
        {
            let s = bp + usize::from(matches!(b[bp], b'+' | b'-'));
            let ep = s + digit_span(b, s);
            if ep < b.len() {
                y = d.take();
                d = Some(ys[bp..ep].to_string());
            }
        }
    }
    if m.as_ref()
        .is_some_and(|m| m.starts_with('\'') || m.len() > 2)
    {
        (y, m, d) = (m, d, y);
    }
    if d.as_ref()
        .is_some_and(|d| d.starts_with('\'') || d.len() > 2)
    {
        std::mem::swap(&mut y, &mut d);
    }
    if let Some(ys) = y {
        let b = ys.as_bytes();
        if let Some(bp) = b
            .iter()
            .position(|c| c.is_ascii_digit() || matches!(c, b'+' | b'-'))
        {
            let sign = matches!(b[bp], b'+' | b'-');
            if sign {
                c = Some(false);
            }
            let s = bp + usize::from(sign);
            let l = digit_span(b, s);
            if l > 2 {
                c = Some(false);
            }
            h.year = Some(num(&ys[bp..s + l]));
        }
    }
    if bc {
        h.bc = true;
    }
    let digits_of = |t: &str| -> Option<i128> {
        let b = t.as_bytes();
        let bp = b.iter().position(u8::is_ascii_digit)?;
        Some(num(&t[bp..bp + digit_span(b, bp)]))
    };
    if let Some(v) = m.as_deref().and_then(digits_of) {
        h.mon = Some(v);
    }
    if let Some(v) = d.as_deref().and_then(digits_of) {
        h.mday = Some(v);
    }
    if let Some(c) = c {
        h.comp = c;
    }
}

/// Ruby's `mon_num`: 1-12 from the first three letters, 13 for none.
fn mon_num(s: &str) -> i128 {
    let l = s.get(..3).unwrap_or(s).to_ascii_lowercase();
    ABBR_MONTHS.iter().position(|m| *m == l).unwrap_or(12) as i128 + 1
}

fn day_num(s: &str) -> i128 {
    let l = s.get(..3).unwrap_or(s).to_ascii_lowercase();
    ABBR_DAYS.iter().position(|m| *m == l).unwrap_or(7) as i128
}

/// Which kinds of characters the text has (Ruby's `check_class`, ASCII `isalpha`/`isdigit`).
#[derive(Clone, Copy)]
struct Class {
    alpha: bool,
    digit: bool,
    dash: bool,
    dot: bool,
    slash: bool,
}

fn class(s: &str) -> Class {
    let mut c = Class {
        alpha: false,
        digit: false,
        dash: false,
        dot: false,
        slash: false,
    };
    for b in s.bytes() {
        c.alpha |= b.is_ascii_alphabetic();
        c.digit |= b.is_ascii_digit();
        c.dash |= b == b'-';
        c.dot |= b == b'.';
        c.slash |= b == b'/';
    }
    c
}

fn bc_of(b: &Option<String>) -> bool {
    b.as_deref()
        .is_some_and(|b| b.starts_with('B') || b.starts_with('b'))
}

/// `Date._parse(text)` (with `comp` true, as `Time.parse` calls it). An error is Ruby's
/// `ArgumentError` (a text over 128 bytes) or `RangeError` (an hour too large for `am`/`pm`).
pub(crate) fn date_parse(text: &str) -> Result<DateHash, String> {
    if text.len() > LIMIT {
        return Err(format!(
            "string length ({}) exceeds the limit {LIMIT}",
            text.len()
        ));
    }
    let r = res();
    let mut s = r.junk.replace_all(text, " ").into_owned();
    let mut h = DateHash {
        comp: true,
        ..DateHash::default()
    };
    if class(&s).alpha {
        if let Some(g) = sub(&mut s, &r.day) {
            h.wday = g[1].as_deref().map(day_num);
        }
    }
    if class(&s).digit {
        parse_time(&mut s, &mut h, r)?;
    }
    date_forms(&mut s, &mut h, r);
    if class(&s).alpha && sub(&mut s, &r.bc).is_some() {
        h.bc = true;
    }
    if class(&s).digit {
        if let Some(g) = sub(&mut s, &r.frag) {
            let n = g[1].as_deref().map(num).unwrap_or(0);
            if h.hour.is_some() && h.mday.is_none() && (1..=31).contains(&n) {
                h.mday = Some(n);
            }
            if h.mday.is_some() && h.hour.is_none() && (0..=24).contains(&n) {
                h.hour = Some(n);
            }
        }
    }
    if h.bc {
        h.cwyear = h.cwyear.map(|y| 1i128.saturating_sub(y));
        h.year = h.year.map(|y| 1i128.saturating_sub(y));
    }
    if h.comp {
        let comp = |y: i128| match y {
            69..=99 => y + 1900,
            0..=68 => y + 2000,
            _ => y,
        };
        h.cwyear = h.cwyear.map(comp);
        h.year = h.year.map(comp);
    }
    Ok(h)
}

fn parse_time(s: &mut String, h: &mut DateHash, r: &Res) -> Result<(), String> {
    let Some(g) = sub(s, &r.time) else {
        return Ok(());
    };
    if let Some(z) = &g[2] {
        h.zone = Some(z.clone());
    }
    let Some(c) = g[1].as_deref().and_then(|t| r.time2.captures(t)) else {
        return Ok(());
    };
    let gs = |i| c.get(i).map(|m| m.as_str());
    let mut hour = gs(1).map(num).unwrap_or(0);
    if let Some(p) = gs(5) {
        // `NUM2INT(h) % 12`.
        if hour > i128::from(i32::MAX) {
            return Err(format!("integer {hour} too big to convert to `int'"));
        }
        hour = hour % 12 + if p.eq_ignore_ascii_case("p") { 12 } else { 0 };
    }
    h.hour = Some(hour);
    if let Some(m) = gs(2) {
        h.min = Some(num(m));
    }
    if let Some(x) = gs(3) {
        h.sec = Some(num(x));
    }
    if let Some(f) = gs(4) {
        h.sec_fraction = Some(fraction(f));
    }
    Ok(())
}

fn fraction(f: &str) -> String {
    f.to_string()
}

/// The date forms, the first that matches (`goto ok`).
fn date_forms(s: &mut String, h: &mut DateHash, r: &Res) {
    let c = class(s);
    if c.alpha && c.digit {
        if let Some(g) = sub(s, &r.eu) {
            let mon = g[2].as_deref().map(|m| mon_num(m).to_string());
            s3e(h, g[4].clone(), mon, g[1].clone(), bc_of(&g[3]));
            return;
        }
        if let Some(g) = sub(s, &r.us) {
            let mon = g[1].as_deref().map(|m| mon_num(m).to_string());
            s3e(h, g[4].clone(), mon, g[2].clone(), bc_of(&g[3]));
            return;
        }
    }
    let c = class(s);
    if c.digit && c.dash {
        if let Some(g) = sub(s, &r.iso) {
            s3e(h, g[1].clone(), g[2].clone(), g[3].clone(), false);
            return;
        }
    }
    let c = class(s);
    if c.digit && c.dot {
        if let Some(g) = sub(s, &r.jis) {
            let era = match g[1]
                .as_deref()
                .map(|e| e.as_bytes()[0].to_ascii_lowercase())
            {
                Some(b'm') => 1867,
                Some(b't') => 1911,
                Some(b's') => 1925,
                Some(b'h') => 1988,
                Some(b'r') => 2018,
                _ => 0,
            };
            h.year = g[2].as_deref().map(|y| num(y).saturating_add(era));
            h.mon = g[3].as_deref().map(num);
            h.mday = g[4].as_deref().map(num);
            return;
        }
    }
    let c = class(s);
    if c.alpha && c.digit && c.dash {
        if let Some(g) = sub(s, &r.vms11) {
            let mon = g[2].as_deref().map(|m| mon_num(m).to_string());
            s3e(h, g[3].clone(), mon, g[1].clone(), false);
            return;
        }
        if let Some(g) = sub(s, &r.vms12) {
            let mon = g[1].as_deref().map(|m| mon_num(m).to_string());
            s3e(h, g[3].clone(), mon, g[2].clone(), false);
            return;
        }
    }
    let c = class(s);
    if c.digit && c.slash {
        if let Some(g) = sub(s, &r.sla) {
            s3e(h, g[1].clone(), g[2].clone(), g[3].clone(), false);
            return;
        }
    }
    let c = class(s);
    if c.digit && c.dot {
        if let Some(g) = sub(s, &r.dot) {
            s3e(h, g[1].clone(), g[2].clone(), g[3].clone(), false);
            return;
        }
    }
    if class(s).digit && parse_iso2(s, h, r) {
        return;
    }
    if class(s).digit {
        if let Some(g) = sub(s, &r.year) {
            h.year = g[1].as_deref().map(num);
            return;
        }
    }
    if class(s).alpha {
        if let Some(g) = sub(s, &r.mon) {
            h.mon = g[1].as_deref().map(mon_num);
            return;
        }
    }
    if class(s).digit {
        if let Some(g) = sub(s, &r.mday) {
            h.mday = g[1].as_deref().map(num);
            return;
        }
    }
    if class(s).digit {
        if let Some(g) = sub(s, &r.ddd) {
            ddd(h, &g);
        }
    }
}

fn parse_iso2(s: &mut String, h: &mut DateHash, r: &Res) -> bool {
    if let Some(g) = sub(s, &r.iso21) {
        if let Some(y) = &g[1] {
            h.cwyear = Some(num(y));
        }
        h.cweek = g[2].as_deref().map(num);
        if let Some(d) = &g[3] {
            h.cwday = Some(num(d));
        }
        return true;
    }
    if let Some(g) = sub(s, &r.iso22) {
        h.cwday = g[1].as_deref().map(num);
        return true;
    }
    if let Some(g) = sub(s, &r.iso23) {
        if let Some(m) = &g[1] {
            h.mon = Some(num(m));
        }
        h.mday = g[2].as_deref().map(num);
        return true;
    }
    if let Some(g) = sub(s, &r.iso24) {
        h.mon = g[1].as_deref().map(num);
        if let Some(d) = &g[2] {
            h.mday = Some(num(d));
        }
        return true;
    }
    if !r.iso25_guard.is_match(s) {
        if let Some(g) = sub(s, &r.iso25) {
            h.year = g[1].as_deref().map(num);
            h.yday = g[2].as_deref().map(num);
            return true;
        }
    }
    if !r.iso26_guard.is_match(s) {
        if let Some(g) = sub(s, &r.iso26) {
            h.yday = g[1].as_deref().map(num);
            return true;
        }
    }
    false
}

/// Ruby's `parse_ddd_cb`: a run of digits read by its length.
fn ddd(h: &mut DateHash, g: &Groups) {
    let neg = g[1].as_deref().is_some_and(|s| s.starts_with('-'));
    let s2 = g[2].as_deref().unwrap_or("");
    let (s3, s4) = (g[3].as_deref(), g[4].as_deref());
    let l2 = s2.len();
    let time_only = s3.is_none() && s4.is_some();
    let signed = |y: i128| if neg { -y } else { y };
    match l2 {
        2 => {
            if time_only {
                h.sec = Some(n2i(s2, 0, 2));
            } else {
                h.mday = Some(n2i(s2, 0, 2));
            }
        }
        4 => {
            if time_only {
                h.sec = Some(n2i(s2, 2, 2));
                h.min = Some(n2i(s2, 0, 2));
            } else {
                h.mon = Some(n2i(s2, 0, 2));
                h.mday = Some(n2i(s2, 2, 2));
            }
        }
        6 => {
            if time_only {
                h.sec = Some(n2i(s2, 4, 2));
                h.min = Some(n2i(s2, 2, 2));
                h.hour = Some(n2i(s2, 0, 2));
            } else {
                h.year = Some(signed(n2i(s2, 0, 2)));
                h.mon = Some(n2i(s2, 2, 2));
                h.mday = Some(n2i(s2, 4, 2));
            }
        }
        8 | 10 | 12 | 14 => {
            if time_only {
                h.sec = Some(n2i(s2, l2 - 2, 2));
                h.min = Some(n2i(s2, l2 - 4, 2));
                h.hour = Some(n2i(s2, l2 - 6, 2));
                h.mday = Some(n2i(s2, l2 - 8, 2));
                if l2 >= 10 {
                    h.mon = Some(n2i(s2, l2 - 10, 2));
                }
                if l2 == 12 {
                    h.year = Some(signed(n2i(s2, 0, 2)));
                }
                if l2 == 14 {
                    h.year = Some(signed(n2i(s2, 0, 4)));
                    h.comp = false;
                }
            } else {
                h.year = Some(signed(n2i(s2, 0, 4)));
                h.mon = Some(n2i(s2, 4, 2));
                h.mday = Some(n2i(s2, 6, 2));
                if l2 >= 10 {
                    h.hour = Some(n2i(s2, 8, 2));
                }
                if l2 >= 12 {
                    h.min = Some(n2i(s2, 10, 2));
                }
                if l2 >= 14 {
                    h.sec = Some(n2i(s2, 12, 2));
                }
                h.comp = false;
            }
        }
        3 => {
            if time_only {
                h.sec = Some(n2i(s2, 1, 2));
                h.min = Some(n2i(s2, 0, 1));
            } else {
                h.yday = Some(n2i(s2, 0, 3));
            }
        }
        5 => {
            if time_only {
                h.sec = Some(n2i(s2, 3, 2));
                h.min = Some(n2i(s2, 1, 2));
                h.hour = Some(n2i(s2, 0, 1));
            } else {
                h.year = Some(signed(n2i(s2, 0, 2)));
                h.yday = Some(n2i(s2, 2, 3));
            }
        }
        7 => {
            if time_only {
                h.sec = Some(n2i(s2, 5, 2));
                h.min = Some(n2i(s2, 3, 2));
                h.hour = Some(n2i(s2, 1, 2));
                h.mday = Some(n2i(s2, 0, 1));
            } else {
                h.year = Some(signed(n2i(s2, 0, 4)));
                h.yday = Some(n2i(s2, 4, 3));
            }
        }
        _ => {}
    }
    if let Some(s3) = s3 {
        let l3 = s3.len();
        if matches!(l3, 2 | 4 | 6) {
            if s4.is_some() {
                h.sec = Some(n2i(s3, l3 - 2, 2));
                if l3 >= 4 {
                    h.min = Some(n2i(s3, l3 - 4, 2));
                }
                if l3 >= 6 {
                    h.hour = Some(n2i(s3, l3 - 6, 2));
                }
            } else {
                h.hour = Some(n2i(s3, 0, 2));
                if l3 >= 4 {
                    h.min = Some(n2i(s3, 2, 2));
                }
                if l3 >= 6 {
                    h.sec = Some(n2i(s3, 4, 2));
                }
            }
        }
    }
    if let Some(s4) = s4 {
        h.sec_fraction = Some(fraction(s4));
    }
    if let Some(s5) = g[5].as_deref() {
        h.zone = Some(s5.to_string());
        if let Some(inner) = s5.strip_prefix('[') {
            let inner = inner.strip_suffix(']').unwrap_or(inner);
            // `[-5:EST]`: the name after the colon; `[+9]`: the text inside.
            h.zone = Some(match inner.find(':') {
                Some(i) => inner[i + 1..].to_string(),
                None => inner.to_string(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::date_parse;

    /// Found by fuzzing: a JIS era year or a BC year of more digits than an i128 holds
    /// overflowed (a panic in checked builds). Such numbers saturate.
    #[test]
    fn huge_numbers_do_not_overflow() {
        let nines = "9".repeat(60);
        for text in [
            format!("T{}13.45.5320", "7".repeat(50)),
            format!("{nines} BC"),
            format!("W{nines}"),
            format!("-{nines}-W01-1 bc"),
            format!("12:00:00.{nines}"),
        ] {
            let _ = date_parse(&text);
            let _ = crate::parser::time::lenient(&text, &crate::timefmt::Zone::utc());
        }
        let h = date_parse(&format!("T{}13.45.5320", "7".repeat(50))).unwrap();
        assert_eq!(h.year, Some(i128::MAX));
    }
}
