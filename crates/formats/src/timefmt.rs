//! Ruby-compatible time formatting (`strftime` with `%N`, `%L`, `%3N` …) and time zones
//! (`localtime`, `utc`, `+09:00`, `Asia/Tokyo`), as Fluentd's `TimeFormatter` has them.

use chrono::{DateTime, Datelike, FixedOffset, Local, Offset, TimeZone, Utc};
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

    /// Parse a zone where Fluentd checks it with `Fluent::Timezone.validate!` (a `<parse>` or
    /// `<format>` section's `timezone`, a buffer's `timekey_zone`, in_tail's `path_timezone`):
    /// only `[+-]HH:MM`, `[+-]HHMM`, `[+-]HH` and `Region/Zone` (or `Region/Zone/Zone`) names are
    /// taken there, so `UTC`, `GMT` or `Z` alone is refused (`Etc/UTC` is the name). `<inject>`
    /// and `<extract>` take any value [`parse`](Self::parse) reads.
    pub fn parse_validated(s: &str) -> Result<Zone, String> {
        if !fluentd_validates(s) {
            return Err(format!(
                "Unsupported timezone '{s}' (expected +HH:MM, +HHMM, +HH or a zone name like \
                 Asia/Tokyo or Etc/UTC)"
            ));
        }
        Zone::parse(s)
    }

    /// UTC (named, so that `%Z` writes `UTC`; an explicit `+00:00` is a fixed offset, whose `%Z`
    /// is empty as in Ruby).
    pub fn utc() -> Zone {
        Zone::Named(chrono_tz::UTC)
    }

    /// The fixed offset `+00:00` (Fluentd's `+0000`): UTC's times, but `%Z` writes nothing, as
    /// Ruby's `Time#localtime("+00:00")`.
    pub fn zero_offset() -> Zone {
        Zone::Fixed(FixedOffset::east_opt(0).unwrap_or(Utc.fix()))
    }

    /// The offset in seconds east of UTC at the given instant.
    pub fn offset_at(&self, sec: i64) -> i32 {
        match self {
            Zone::Local => local_offset(sec),
            Zone::Fixed(o) => o.local_minus_utc(),
            Zone::Named(tz) => offset_in(tz, in_tz_range(sec)),
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

/// Fluentd's `Timezone.validate` patterns: `\A[+-]\d\d(:?\d\d)?\z` or
/// `\A[^/]+/[^/]+(/[^/]+)?\z` (whether the name exists is for [`Zone::parse`] to say).
fn fluentd_validates(s: &str) -> bool {
    let b = s.as_bytes();
    if matches!(b.first(), Some(b'+' | b'-')) {
        let d = &b[1..];
        let digits = |x: &[u8]| x.iter().all(u8::is_ascii_digit);
        return match d.len() {
            2 | 4 => digits(d),
            5 => d[2] == b':' && digits(&d[..2]) && digits(&d[3..]),
            _ => false,
        };
    }
    let parts: Vec<&str> = s.split('/').collect();
    (parts.len() == 2 || parts.len() == 3) && parts.iter().all(|p| !p.is_empty())
}

mod strftime;

use strftime::{Piece, Tm};

/// A compiled time format: Ruby's `Time#strftime` as Fluentd's `TimeFormatter` runs it.
#[derive(Clone, Debug)]
pub struct TimeFormatter {
    pieces: Vec<Piece>,
    zone: Zone,
    /// `%Z` writes nothing whatever the zone ([`without_zone_name`](Self::without_zone_name)).
    unnamed: bool,
}

/// `%Z` as Ruby's `Time#strftime` writes it in Fluentd: the local zone's abbreviation for local
/// time (`UTC`, `JST`, `EST`), `UTC` for `utc`, and nothing for an explicit `timezone` (Fluentd
/// formats such times with a fixed offset, whose name is empty).
fn zone_name(zone: &Zone, utc: &DateTime<Utc>) -> String {
    match zone {
        Zone::Named(chrono_tz::Tz::UTC) => "UTC".to_string(),
        Zone::Named(_) | Zone::Fixed(_) => String::new(),
        Zone::Local => match local_tz() {
            Some(tz) => DateTime::<Utc>::from_timestamp(in_tz_range(utc.timestamp()), 0)
                .unwrap_or_default()
                .with_timezone(&tz)
                .format("%Z")
                .to_string(),
            None => String::new(),
        },
    }
}

/// The abbreviation a zone has at epoch second `sec` (`EST`, `LMT`; empty for a fixed offset or
/// a local zone that names no IANA zone), as Ruby's `Time#zone` gives it for local times.
pub(crate) fn zone_abbreviation(zone: &Zone, sec: i64) -> String {
    let utc = DateTime::<Utc>::from_timestamp(in_tz_range(sec), 0).unwrap_or_default();
    match zone {
        Zone::Named(tz) => utc.with_timezone(tz).format("%Z").to_string(),
        _ => zone_name(zone, &utc),
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

impl TimeFormatter {
    /// Compile a Ruby strftime format for a zone. Only a format Ruby fails on at every time (one
    /// ending inside a directive, `x%`) is an error; a directive Ruby does not know is text.
    pub fn new(fmt: &str, zone: Zone) -> Result<Self, String> {
        let pieces = strftime::compile(fmt).map_err(|e| format!("unsupported time_format: {e}"))?;
        Ok(TimeFormatter {
            pieces,
            zone,
            unnamed: false,
        })
    }

    /// The same formatter with `%Z` writing nothing, as for a time Ruby holds at a fixed offset:
    /// Fluentd formats buffer placeholders (an out_file path's `%Z`) so in every zone setting,
    /// its default local zone being the fixed offset `Time.now.strftime('%z')` of start-up.
    pub fn without_zone_name(mut self) -> Self {
        self.unnamed = true;
        self
    }

    /// ISO-8601 with seconds and the zone offset (`2023-11-14T22:13:20+00:00`), or `Z` for `utc`.
    pub fn iso8601_seconds(zone: Zone, utc_z: bool) -> Self {
        let fmt = if utc_z {
            "%Y-%m-%dT%H:%M:%SZ"
        } else {
            "%Y-%m-%dT%H:%M:%S%:z"
        };
        TimeFormatter {
            pieces: strftime::compile(fmt).unwrap_or_default(),
            zone,
            unnamed: false,
        }
    }

    /// The zone.
    pub fn zone(&self) -> &Zone {
        &self.zone
    }

    /// Append the formatted time to `out`.
    pub fn format_into(&self, t: EventTime, out: &mut String) {
        let epoch = i64::from(t.sec);
        let offset = self.zone.offset_at(epoch);
        let local = epoch + i64::from(offset);
        let days = local.div_euclid(86_400);
        let tod = local.rem_euclid(86_400) as u32;
        let date = chrono::NaiveDate::from_num_days_from_ce_opt((days + 719_163) as i32)
            .unwrap_or_default();
        let iso = date.iso_week();
        let needs_name = !self.unnamed
            && self
                .pieces
                .iter()
                .any(|p| matches!(p, Piece::Dir(d) if d.is_zone_name()));
        let zone = if needs_name {
            let utc = DateTime::<Utc>::from_timestamp(epoch, 0).unwrap_or_default();
            zone_name(&self.zone, &utc)
        } else {
            String::new()
        };
        let tm = Tm {
            epoch,
            nsec: t.nsec.min(999_999_999),
            year: i64::from(date.year()),
            mon: date.month(),
            mday: date.day(),
            hour: tod / 3600,
            min: tod / 60 % 60,
            sec: tod % 60,
            wday: date.weekday().num_days_from_sunday(),
            yday: date.ordinal(),
            iso_year: i64::from(iso.year()),
            iso_week: iso.week(),
            offset,
            gmt: matches!(self.zone, Zone::Named(chrono_tz::Tz::UTC)),
            zone,
        };
        strftime::write(&self.pieces, &tm, out);
    }

    /// Format to a new string.
    pub fn format(&self, t: EventTime) -> String {
        let mut s = String::with_capacity(32);
        self.format_into(t, &mut s);
        s
    }
}

/// The first second of 2038: chrono-tz's zone data has no transitions from there on, where the
/// zone database (and TZInfo, and the system's zone files) keep applying the zone's last rules.
const TZ_DATA_END: i64 = 2_145_916_800;

/// An instant at which a named zone has the offset and name it has at `sec`: from 2038 on, the
/// same moment of a year before 2038 with the same calendar (weekday of 1 January and leap year),
/// so that the zone's last rules (second Sunday of March …) fall on the same dates.
fn in_tz_range(sec: i64) -> i64 {
    if sec < TZ_DATA_END {
        return sec;
    }
    let days = sec.div_euclid(86_400);
    let Some(date) = chrono::NaiveDate::from_num_days_from_ce_opt((days + 719_163) as i32) else {
        return sec;
    };
    let calendar = |y: i32| {
        let jan1 = chrono::NaiveDate::from_ymd_opt(y, 1, 1).unwrap_or_default();
        (jan1.weekday(), jan1.leap_year())
    };
    let want = calendar(date.year());
    let Some(y) = (2010..2038).rev().find(|&y| calendar(y) == want) else {
        return sec;
    };
    let start = |y: i32| {
        i64::from(
            chrono::NaiveDate::from_ymd_opt(y, 1, 1)
                .unwrap_or_default()
                .num_days_from_ce(),
        )
    };
    sec - (start(date.year()) - start(y)) * 86_400
}

/// Seconds of UTC over which the local zone's offset is cached (every real zone transition
/// falls on a quarter hour).
const LOCAL_SPAN: i64 = 900;

thread_local! {
    /// The local zone's offset in the last two quarter-hour spans asked for (a strptime resolves
    /// a wall-clock time by asking a day before and a day after it), most recent first.
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
        for ok in [
            "+09:00",
            "+0900",
            "-05",
            "Asia/Tokyo",
            "Etc/UTC",
            "America/Argentina/Buenos_Aires",
        ] {
            assert!(Zone::parse_validated(ok).is_ok(), "{ok}");
        }
        for bad in [
            "UTC",
            "GMT",
            "Z",
            "utc",
            "Japan",
            "+9",
            "+09:0",
            "+09:00:00",
            "/Tokyo",
            "Asia/",
            "a/b/c/d",
            "Mars/Olympus",
        ] {
            assert!(Zone::parse_validated(bad).is_err(), "{bad}");
        }
        assert!(TimeFormatter::new("%Y %", Zone::utc()).is_err());
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
