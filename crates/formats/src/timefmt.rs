//! Ruby-compatible time formatting (`strftime` with `%N`, `%L`, `%3N` …) and time zones
//! (`localtime`, `utc`, `+09:00`, `Asia/Tokyo`), as Fluentd's `TimeFormatter` has them.

use std::fmt::Write as _;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, FixedOffset, Local, Offset, TimeZone, Utc};
use logferry_msgpack::EventTime;

/// A time zone setting.
#[derive(Clone, Debug, PartialEq)]
pub enum Zone {
    /// The process's local zone (`TZ`, `/etc/localtime`).
    Local,
    /// A fixed offset (`+09:00`, `UTC`).
    Fixed(FixedOffset),
    /// A named IANA zone.
    Named(chrono_tz::Tz),
}

impl Zone {
    /// Parse Fluentd's `timezone` values: `+09:00`, `+0900`, `-05`, `UTC`, `Z`, `Asia/Tokyo`.
    pub fn parse(s: &str) -> Result<Zone, String> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("utc") || t == "Z" || t.eq_ignore_ascii_case("gmt") {
            return Ok(Zone::utc());
        }
        if let Some(rest) = t
            .strip_prefix('+')
            .map(|r| (1, r))
            .or_else(|| t.strip_prefix('-').map(|r| (-1, r)))
        {
            let (sign, digits) = rest;
            let d: String = digits.chars().filter(|c| *c != ':').collect();
            if d.chars().all(|c| c.is_ascii_digit()) && (d.len() == 2 || d.len() == 4) {
                let h: i32 = d[..2]
                    .parse()
                    .map_err(|_| format!("invalid timezone '{s}'"))?;
                let m: i32 = if d.len() == 4 {
                    d[2..]
                        .parse()
                        .map_err(|_| format!("invalid timezone '{s}'"))?
                } else {
                    0
                };
                if h < 24 && m < 60 {
                    if let Some(o) = FixedOffset::east_opt(sign * (h * 3600 + m * 60)) {
                        return Ok(Zone::Fixed(o));
                    }
                }
            }
            return Err(format!("invalid timezone '{s}': expected +HH:MM, +HHMM, +HH, UTC or a zone name like Asia/Tokyo"));
        }
        t.parse::<chrono_tz::Tz>()
            .map(Zone::Named)
            .map_err(|_| format!("invalid timezone '{s}': expected +HH:MM, +HHMM, +HH, UTC or a zone name like Asia/Tokyo"))
    }

    /// UTC (named, so that `%Z` writes `UTC`; an explicit `+00:00` is a fixed offset, whose `%Z`
    /// is empty as in Ruby).
    pub fn utc() -> Zone {
        Zone::Named(chrono_tz::UTC)
    }

    /// The offset in seconds east of UTC at the given instant.
    pub fn offset_at(&self, sec: i64) -> i32 {
        match self {
            Zone::Local => local_offset(sec),
            Zone::Fixed(o) => o.local_minus_utc(),
            Zone::Named(tz) => offset_in(tz, sec),
        }
    }

    /// Resolve Fluentd's `localtime` / `utc` / `timezone` trio (timezone wins, then utc).
    pub fn from_settings(
        localtime: bool,
        utc: bool,
        timezone: Option<&str>,
    ) -> Result<Zone, String> {
        if let Some(tz) = timezone {
            return Zone::parse(tz);
        }
        if utc || !localtime {
            return Ok(Zone::utc());
        }
        Ok(Zone::Local)
    }
}

/// A compiled time format.
#[derive(Clone, Debug)]
pub struct TimeFormatter {
    chrono_fmt: String,
    zone: Zone,
    /// The format has `%Z` or an upper-casing flag: the output goes through [`finish_marks`].
    marked: bool,
}

/// Stands for `%Z` in a chrono format until the zone's name is known.
const ZONE_MARK: char = '\u{E000}';
/// Open and close the text of a `%^X` conversion, upper-cased afterwards.
const UPPER_OPEN: char = '\u{E001}';
const UPPER_CLOSE: char = '\u{E002}';
/// `PAD_OPEN width fill PAD_MID text PAD_CLOSE`: the text padded on the left to the width.
const PAD_OPEN: char = '\u{E003}';
const PAD_MID: char = '\u{E004}';
const PAD_CLOSE: char = '\u{E005}';

/// `%Z` as Ruby's `Time#strftime` writes it in Fluentd: the local zone's abbreviation for local
/// time (`UTC`, `JST`, `EST`), `UTC` for `utc`, and nothing for an explicit `timezone` (Fluentd
/// formats such times with a fixed offset, whose name is empty).
fn zone_name(zone: &Zone, utc: &DateTime<Utc>) -> String {
    match zone {
        Zone::Named(chrono_tz::Tz::UTC) => "UTC".to_string(),
        Zone::Named(_) | Zone::Fixed(_) => String::new(),
        Zone::Local => match local_tz() {
            Some(tz) => utc.with_timezone(&tz).format("%Z").to_string(),
            None => String::new(),
        },
    }
}

/// The local zone as a named zone, from `TZ` or `/etc/timezone`, when it names one.
fn local_tz() -> Option<chrono_tz::Tz> {
    static TZ: std::sync::OnceLock<Option<chrono_tz::Tz>> = std::sync::OnceLock::new();
    *TZ.get_or_init(|| {
        let name = match std::env::var("TZ") {
            Ok(v) => v.trim_start_matches(':').trim().to_string(),
            Err(_) => std::fs::read_to_string("/etc/timezone")
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|_| "UTC".to_string()),
        };
        name.parse::<chrono_tz::Tz>().ok()
    })
}

/// Replace the zone mark, upper-case and pad the marked conversions of a formatted time.
fn finish_marks(text: &str, zone: &Zone, utc: &DateTime<Utc>, out: &mut String) {
    let mut upper = false;
    let mut it = text.chars();
    while let Some(c) = it.next() {
        match c {
            ZONE_MARK => {
                let name = zone_name(zone, utc);
                if upper {
                    out.push_str(&name.to_uppercase());
                } else {
                    out.push_str(&name);
                }
            }
            UPPER_OPEN => upper = true,
            UPPER_CLOSE => upper = false,
            PAD_OPEN => {
                let head: String = it.by_ref().take_while(|&c| c != PAD_MID).collect();
                let inner: String = it.by_ref().take_while(|&c| c != PAD_CLOSE).collect();
                let fill = head.chars().last().unwrap_or(' ');
                let width: usize = head[..head.len() - fill.len_utf8()].parse().unwrap_or(0);
                let mut done = String::new();
                finish_marks(&inner, zone, utc, &mut done);
                let n = done.chars().count();
                if n < width {
                    out.extend(std::iter::repeat_n(fill, width - n));
                }
                out.push_str(&done);
            }
            c if upper => out.extend(c.to_uppercase()),
            c => out.push(c),
        }
    }
}

/// Translate Ruby strftime extensions into chrono's dialect.
///
/// Ruby's flags (`-`, `_`, `0`, `^`, `#`) and widths (`%05d`, `%10N`) are kept; what chrono cannot
/// do itself (upper case, widths, `%Z`) is marked in the chrono format and finished by
/// [`finish_marks`]. A conversion Ruby does not know (`%+`, `%q`, `%Q`, `%E`) is written as it is,
/// as Ruby writes it.
fn ruby_to_chrono(fmt: &str) -> String {
    const RUBY: &str = "aAbBcCdDeFgGhHIjkLlmMnNpPrRsStTuUvVwWxXyYzZ";
    let chars: Vec<char> = fmt.chars().collect();
    let mut out = String::with_capacity(fmt.len() + 8);
    let literal = |cs: &[char], out: &mut String| {
        for &c in cs {
            if c == '%' {
                out.push_str("%%");
            } else {
                out.push(c);
            }
        }
    };
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '%' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        let mut flags = String::new();
        while i < chars.len() && "-_0^#:".contains(chars[i]) {
            flags.push(chars[i]);
            i += 1;
        }
        let mut width = String::new();
        while i < chars.len() && chars[i].is_ascii_digit() {
            width.push(chars[i]);
            i += 1;
        }
        let Some(&conv) = chars.get(i) else {
            literal(&chars[start..], &mut out);
            break;
        };
        i += 1;
        if conv == '%' && flags.is_empty() && width.is_empty() {
            out.push_str("%%");
            continue;
        }
        let colons = flags.matches(':').count();
        if !RUBY.contains(conv) || (colons > 0 && (conv != 'z' || colons > 3)) {
            literal(&chars[start..i], &mut out);
            continue;
        }
        let upper = flags.contains('^') || (flags.contains('#') && conv != 'p');
        let pad = if flags.contains('-') {
            "-"
        } else if flags.contains('_') {
            "_"
        } else if flags.contains('0') {
            "0"
        } else {
            ""
        };
        let mut body = match conv {
            'Z' => ZONE_MARK.to_string(),
            // Ruby's `%v` is `%e-%^b-%4Y`.
            'v' => format!("%e-{UPPER_OPEN}%b{UPPER_CLOSE}-%Y"),
            'N' => {
                let w = width.parse::<usize>().unwrap_or(9).max(1);
                let d = w.min(9);
                // chrono has 3, 6 and 9 digits only; other widths stay `%wN`, which chrono
                // rejects, so `TimeFormatter::new` refuses them at start-up. Past 9, Ruby pads
                // with zeros on the right.
                let base = if matches!(d, 3 | 6 | 9) {
                    format!("%{d}f")
                } else {
                    format!("%{d}N")
                };
                width.clear();
                base + &"0".repeat(w - d)
            }
            'L' => "%3f".to_string(),
            'z' => format!("%{}z", ":".repeat(colons)),
            'p' if flags.contains('#') => "%P".to_string(),
            other => format!("%{pad}{other}"),
        };
        if upper {
            body = format!("{UPPER_OPEN}{body}{UPPER_CLOSE}");
        }
        if width.is_empty() {
            out.push_str(&body);
        } else {
            let fill = if flags.contains('_')
                || (!flags.contains('0') && !"CdGgHIjLlmMsSuUVwWyY".contains(conv))
            {
                ' '
            } else {
                '0'
            };
            out.push(PAD_OPEN);
            out.push_str(&width);
            out.push(fill);
            out.push(PAD_MID);
            out.push_str(&body);
            out.push(PAD_CLOSE);
        }
    }
    out
}

impl TimeFormatter {
    /// Compile a Ruby strftime format for a zone; an unknown conversion is an error.
    pub fn new(fmt: &str, zone: Zone) -> Result<Self, String> {
        let chrono_fmt = ruby_to_chrono(fmt);
        if StrftimeItems::new(&chrono_fmt).any(|i| matches!(i, Item::Error)) {
            return Err(format!("unsupported time_format '{fmt}'"));
        }
        let marked = chrono_fmt.contains([ZONE_MARK, UPPER_OPEN, PAD_OPEN]);
        Ok(TimeFormatter {
            chrono_fmt,
            zone,
            marked,
        })
    }

    /// ISO-8601 with seconds and the zone offset (`2023-11-14T22:13:20+00:00`), or `Z` for `utc`.
    pub fn iso8601_seconds(zone: Zone, utc_z: bool) -> Self {
        let fmt = if utc_z {
            "%Y-%m-%dT%H:%M:%SZ"
        } else {
            "%Y-%m-%dT%H:%M:%S%:z"
        };
        TimeFormatter {
            chrono_fmt: fmt.to_string(),
            zone,
            marked: false,
        }
    }

    /// The zone.
    pub fn zone(&self) -> &Zone {
        &self.zone
    }

    /// Append the formatted time to `out`.
    pub fn format_into(&self, t: EventTime, out: &mut String) {
        let utc = DateTime::<Utc>::from_timestamp(i64::from(t.sec), t.nsec.min(999_999_999))
            .unwrap_or_default();
        if self.marked {
            let mut tmp = String::new();
            self.write_chrono(&utc, &mut tmp);
            finish_marks(&tmp, &self.zone, &utc, out);
        } else {
            self.write_chrono(&utc, out);
        }
    }

    fn write_chrono(&self, utc: &DateTime<Utc>, out: &mut String) {
        let _ = match &self.zone {
            Zone::Local => write!(
                out,
                "{}",
                utc.with_timezone(&Local).format(&self.chrono_fmt)
            ),
            Zone::Fixed(o) => write!(out, "{}", utc.with_timezone(o).format(&self.chrono_fmt)),
            Zone::Named(tz) => write!(out, "{}", utc.with_timezone(tz).format(&self.chrono_fmt)),
        };
    }

    /// Format to a new string.
    pub fn format(&self, t: EventTime) -> String {
        let mut s = String::with_capacity(32);
        self.format_into(t, &mut s);
        s
    }
}

/// Seconds of UTC over which the local zone's offset is cached (every real zone transition
/// falls on a quarter hour).
const LOCAL_SPAN: i64 = 900;

thread_local! {
    /// The local zone's offset in the last two quarter-hour spans asked for (a strptime resolves
    /// a wall-clock time by asking at two instants an offset apart), most recent first.
    static LOCAL_SPANS: std::cell::Cell<[(i64, i32); 2]> =
        const { std::cell::Cell::new([(i64::MIN, 0); 2]) };
}

/// The local zone's offset at `sec`. chrono's `Local` reads the clock on every call (to notice
/// a changed `/etc/localtime`), which cost a time parser two clock reads per event; a span whose
/// first and last second have the same offset is cached instead, so a changed zone file applies
/// from the next span.
fn local_offset(sec: i64) -> i32 {
    LOCAL_SPANS.with(|c| span_cached(c, sec, |s| offset_in(&Local, s)))
}

/// Seconds east of UTC that zone `tz` has at epoch second `sec`.
fn offset_in<T: TimeZone>(tz: &T, sec: i64) -> i32 {
    let utc = DateTime::<Utc>::from_timestamp(sec, 0).unwrap_or_default();
    tz.from_utc_datetime(&utc.naive_utc())
        .offset()
        .fix()
        .local_minus_utc()
}

/// `offset(sec)` through a two-span cache (see [`local_offset`]).
fn span_cached(
    cache: &std::cell::Cell<[(i64, i32); 2]>,
    sec: i64,
    offset: impl Fn(i64) -> i32,
) -> i32 {
    let span = sec.div_euclid(LOCAL_SPAN);
    let spans = cache.get();
    if let Some((_, off)) = spans.iter().find(|(s, _)| *s == span) {
        return *off;
    }
    let off = offset(sec);
    let start = span.saturating_mul(LOCAL_SPAN);
    if offset(start) == off && offset(start.saturating_add(LOCAL_SPAN - 1)) == off {
        cache.set([(span, off), spans[0]]);
    }
    off
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: EventTime = EventTime {
        sec: 1_700_000_000,
        nsec: 123_456_789,
    };

    #[test]
    fn ruby_conversions() {
        let f =
            TimeFormatter::new("%Y-%m-%dT%H:%M:%S.%L%z", Zone::parse("+09:00").unwrap()).unwrap();
        assert_eq!(f.format(T), "2023-11-15T07:13:20.123+0900");
        let f = TimeFormatter::new("%Y-%m-%d %H:%M:%S.%N %z", Zone::utc()).unwrap();
        assert_eq!(f.format(T), "2023-11-14 22:13:20.123456789 +0000");
        let f = TimeFormatter::new("%s.%6N", Zone::utc()).unwrap();
        assert_eq!(f.format(T), "1700000000.123456");
        let f =
            TimeFormatter::new("%H:%M %% x", Zone::Named("Asia/Tokyo".parse().unwrap())).unwrap();
        assert_eq!(f.format(T), "07:13 % x");
        assert_eq!(
            TimeFormatter::iso8601_seconds(Zone::utc(), false).format(T),
            "2023-11-14T22:13:20+00:00"
        );
        assert_eq!(
            TimeFormatter::iso8601_seconds(Zone::utc(), true).format(T),
            "2023-11-14T22:13:20Z"
        );
    }

    #[test]
    fn zones() {
        assert_eq!(Zone::parse("+0900").unwrap().offset_at(0), 9 * 3600);
        assert_eq!(Zone::parse("-05").unwrap().offset_at(0), -5 * 3600);
        assert_eq!(Zone::parse("UTC").unwrap().offset_at(0), 0);
        assert!(Zone::parse("Mars/Olympus").is_err());
        assert!(Zone::parse("+25:00").is_err());
        assert!(TimeFormatter::new("%4N", Zone::utc()).is_err());
    }

    /// The span cache gives what the zone gives, minute by minute across DST transitions of
    /// whole-hour and half-hour zones, asked in the two-instant pattern of a strptime.
    #[test]
    fn span_cache_matches_the_zone() {
        for name in [
            "America/New_York",
            "Australia/Lord_Howe",
            "America/St_Johns",
        ] {
            let Zone::Named(tz) = Zone::parse(name).unwrap() else {
                panic!("{name}")
            };
            let direct = |s: i64| offset_in(&tz, s);
            let cache = std::cell::Cell::new([(i64::MIN, 0); 2]);
            // 2024: a year with transitions in each zone; every 7 minutes, plus each second
            // around the hour marks.
            let mut changes = 0;
            let mut prev = direct(1_704_067_200);
            for s in (1_704_067_200..1_735_689_600).step_by(420) {
                for t in [s, s - 1, s + 1] {
                    let o = span_cached(&cache, t, direct);
                    assert_eq!(o, direct(t), "{name} at {t}");
                    let back = i64::from(o);
                    assert_eq!(span_cached(&cache, t - back, direct), direct(t - back));
                }
                let now = direct(s);
                changes += usize::from(now != prev);
                prev = now;
            }
            assert!(changes >= 2, "{name}: no transition was crossed");
        }
        assert_eq!(
            Zone::Local.offset_at(1_700_000_000),
            local_offset(1_700_000_000)
        );
    }
}
