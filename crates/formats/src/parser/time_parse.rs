//! Ruby's `Time.parse(text, now)` (`lib/time.rb` of Ruby 3.1): [`date_parse`]'s fields made into
//! a time by `make_time`, leading missing fields taken from `now`, the zone read with
//! `Time.zone_offset` (not `Date._parse`'s offset), a day of the year moved until the time's own
//! day of the year is the one read, and `Time.utc`/`Time.local`'s range checks. Times are
//! seconds since the epoch as `i128`: Ruby's years are unbounded.

use crate::timefmt::{zone_abbreviation, Zone};

use super::date_parse::{date_parse, DateHash};
use super::strptime::offset_for_local;

/// A parsed time: seconds since the epoch, nanoseconds, and its UTC offset (Ruby's
/// `Time#utc_offset`, for its `yday`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Parsed {
    pub sec: i128,
    pub nsec: u32,
    off: i128,
}

/// The fields `make_time` reads from `Date._parse`'s hash.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Parts<'a> {
    pub year: Option<i128>,
    pub yday: Option<i128>,
    pub mon: Option<i128>,
    pub mday: Option<i128>,
    pub hour: Option<i128>,
    pub min: Option<i128>,
    pub sec: Option<i128>,
    pub nsec: Option<u32>,
    pub zone: Option<&'a str>,
}

impl<'a> Parts<'a> {
    fn of(h: &'a DateHash) -> Parts<'a> {
        Parts {
            year: h.year,
            yday: h.yday,
            mon: h.mon,
            mday: h.mday,
            hour: h.hour,
            min: h.min,
            sec: h.sec,
            nsec: h.nsec(),
            zone: h.zone.as_deref(),
        }
    }
}

/// The current time as epoch seconds and nanoseconds, asked for only when a text has no year.
pub(crate) type Now<'a> = &'a dyn Fn() -> (i64, u32);

/// `Time.parse(text, now)` with `zone` as the process's local zone.
/// Ruby's `make_time` fill after the year (`break if mon; mon = now.mon; break if mday; …`): the
/// month, day, hour, minute and second up to the first one given take `now`'s, and so does the
/// fraction (`now.nsec`, whole microseconds as Ruby's `now.usec`) when none of them is given.
/// Shared by `Time.parse` and `Time.strptime`.
pub(crate) fn fill_from_now<T: Copy>(
    fields: [&mut Option<T>; 5],
    now: [T; 5],
    nsec: &mut Option<u32>,
    now_nsec: u32,
) {
    for (field, value) in fields.into_iter().zip(now) {
        if field.is_some() {
            return;
        }
        *field = Some(value);
    }
    if nsec.is_none() {
        *nsec = Some(now_nsec / 1000 * 1000);
    }
}

pub(crate) fn time_parse(text: &str, zone: &Zone, now: Now) -> Result<Parsed, String> {
    let h = date_parse(text)?;
    make_time(text, Parts::of(&h), zone, now)
}

/// How Ruby shows a time `Time.parse` made (its `force_zone!`): in UTC for the zones
/// `zone_utc?` names (`Z`, `UTC`, `UT`, `-00:00`), at the zone's fixed offset when the local
/// zone has another offset then, else in the local zone.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum ParsedZone {
    Local,
    Utc,
    Fixed(i32),
}

/// Ruby's `Time.parse(text)` with the process's local zone: epoch seconds, nanoseconds, and how
/// Ruby shows the time.
pub(crate) fn ruby_time_parse(text: &str, now: Now) -> Result<(i128, u32, ParsedZone), String> {
    let h = date_parse(text)?;
    // Ruby keeps every digit of the fraction (a Rational); nanoseconds hold nine.
    if h.sec_fraction
        .as_deref()
        .is_some_and(|f| f.bytes().skip(9).any(|d| d != b'0'))
    {
        return Err(
            "a time with more than 9 fraction digits is not supported by logferry's Ruby subset"
                .into(),
        );
    }
    let p = make_time(text, Parts::of(&h), &Zone::Local, now)?;
    let zone = match h.zone.as_deref() {
        Some(z)
            if ["-00:00", "-0000", "-00", "UTC", "Z", "UT"]
                .iter()
                .any(|u| u.eq_ignore_ascii_case(z)) =>
        {
            ParsedZone::Utc
        }
        Some(z) => {
            let year = h.year.unwrap_or_else(|| {
                let (sec, _) = now();
                civil(i128::from(sec).div_euclid(86_400)).0
            });
            let local = clamp(p.sec);
            match zone_offset(z, year, &Zone::Local) {
                Some(off) if off != i128::from(Zone::Local.offset_at(local)) => {
                    ParsedZone::Fixed(off as i32)
                }
                _ => ParsedZone::Local,
            }
        }
        None => ParsedZone::Local,
    };
    Ok((p.sec, p.nsec, zone))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1..=12; the day may overflow).
fn days_from_civil(y: i128, m: i128, d: i128) -> i128 {
    // i128 division is a library call: the usual years take the i64 one.
    if let (Ok(y), Ok(m), Ok(d)) = (i32::try_from(y), i32::try_from(m), i32::try_from(d)) {
        return super::strptime::days_from_civil(y.into(), m.into(), d.into()).into();
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The year and day of the year of a day count.
fn year_yday(days: i128) -> (i128, i128) {
    let y = civil(days).0;
    (y, days - days_from_civil(y, 1, 1) + 1)
}

/// The proleptic Gregorian date of a day count (the i64 one of the msgpack crate for usual
/// days, as [`days_from_civil`] takes the i64 one back).
fn civil(days: i128) -> (i128, i128, i128) {
    if let Ok(d) = i32::try_from(days) {
        let (y, m, d) = super::strptime::civil_from_days(d.into());
        return (y.into(), m.into(), d.into());
    }
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i128::from(m <= 2), m, d)
}

/// Ruby's `month_days(y, m)`: `[31, 28|29, …][m-1]` (index -1 is December; past 12, nil).
fn month_days(y: i128, m: i128) -> Option<i128> {
    let i = m - 1;
    let i = if i < 0 { i + 12 } else { i };
    if !(0..12).contains(&i) {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    Some(
        [
            31,
            if leap { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ][i as usize],
    )
}

/// The offset of `zone` clamped to what the zone data covers.
fn clamp(v: i128) -> i64 {
    v.clamp(i128::from(i64::MIN / 4), i128::from(i64::MAX / 4)) as i64
}

/// Seconds in 400 Gregorian years, after which weekdays and leap years repeat.
const CYCLE: i128 = 146_097 * 86_400;

/// A time moved by whole 400-year cycles into the years the zone data covers, as the C library
/// Ruby asks sees it: years before 1000 in 1000-1399 (before any zone's first change: local
/// mean time), years after 2800 in 2400-2799 (the zone's last rule). From the year 5881581 to
/// the last the C library's `int` holds (2147485547) it has no daylight saving time: the offset
/// is the one at epoch second 2^31; past that Ruby guesses from the rule again (recorded with
/// Ruby 3.1 on glibc in America/New_York).
fn in_zone_range(t: i128) -> i128 {
    let y = civil(t.div_euclid(86_400)).0;
    if (5_881_581..=2_147_485_547).contains(&y) {
        1 << 31
    } else if y < 1000 {
        t - (y - 1000).div_euclid(400) * CYCLE
    } else if y >= 2800 {
        t - (y - 2400).div_euclid(400) * CYCLE
    } else {
        t
    }
}

/// Ruby's `Time.local(y, m, d)`'s offset at a wall-clock time (seconds as if UTC).
fn local_offset(zone: &Zone, naive: i128) -> i128 {
    i128::from(offset_for_local(zone, clamp(in_zone_range(naive))))
}

/// `Time.zone_offset(zone, year)`: `±HH[:]MM[[:]SS]`, `±HH`, the names of RFC 822 and the
/// military letters, or the local zone's own name in January or July of `year`.
pub(crate) fn zone_offset(zone: &str, year: i128, local: &Zone) -> Option<i128> {
    // Ruby's `upcase` (Unicode: `ı` is `I`); most zones are ASCII and upper case already.
    let u: std::borrow::Cow<str> = if !zone.is_ascii() {
        zone.to_uppercase().into()
    } else if zone.bytes().any(|c| c.is_ascii_lowercase()) {
        zone.to_ascii_uppercase().into()
    } else {
        zone.into()
    };
    let b = u.as_bytes();
    let dig = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    let two = |i: usize| i128::from(b[i] - b'0') * 10 + i128::from(b[i + 1] - b'0');
    let sign = match b.first() {
        Some(b'+') => Some(1),
        Some(b'-') => Some(-1),
        _ => None,
    };
    if let Some(sign) = sign {
        if dig(1) && dig(2) {
            let colon = b.get(3) == Some(&b':');
            let p = 3 + usize::from(colon);
            if dig(p) && dig(p + 1) {
                let rest = &b[p + 2..];
                let secs = match rest.len() {
                    0 => Some(0),
                    2 if !colon && dig(p + 2) && dig(p + 3) => Some(two(p + 2)),
                    3 if colon && rest[0] == b':' && dig(p + 3) && dig(p + 4) => Some(two(p + 3)),
                    _ => None,
                };
                if let Some(s) = secs {
                    return Some(sign * ((two(1) * 60 + two(p)) * 60 + s));
                }
            }
            if b.len() == 3 {
                return Some(sign * two(1) * 3600);
            }
        }
    }
    let named = match &*u {
        "UTC" | "Z" | "UT" | "GMT" => Some(0),
        "EST" => Some(-5),
        "EDT" => Some(-4),
        "CST" => Some(-6),
        "CDT" => Some(-5),
        "MST" => Some(-7),
        "MDT" => Some(-6),
        "PST" => Some(-8),
        "PDT" => Some(-7),
        _ if b.len() == 1 => match b[0] {
            c @ b'A'..=b'I' => Some(i128::from(c - b'A') + 1),
            c @ b'K'..=b'M' => Some(i128::from(c - b'K') + 10),
            c @ b'N'..=b'Y' => Some(-(i128::from(c - b'N') + 1)),
            _ => None,
        },
        _ => None,
    };
    if let Some(h) = named {
        return Some(h * 3600);
    }
    for mon in [1, 7] {
        let naive = days_from_civil(year, mon, 1) * 86_400;
        let off = local_offset(local, naive);
        if zone_abbreviation(local, clamp(in_zone_range(naive) - off)).to_uppercase() == *u {
            return Some(off);
        }
    }
    None
}

/// Ruby's `Integer#divmod(n)` (floored).
fn divmod(a: i128, n: i128) -> (i128, i128) {
    if let (Ok(a), Ok(n)) = (i64::try_from(a), i64::try_from(n)) {
        return (a.div_euclid(n).into(), a.rem_euclid(n).into());
    }
    (a.div_euclid(n), a.rem_euclid(n))
}

/// One field of `Time.apply_offset`: `rest` (the offset still to apply, in this field's unit)
/// split at `unit`; the remainder moves the field by `sign` and its carry moves what is returned
/// for the next field (Ruby's `off, o = off.divmod(60); if o != 0 then sec += o; c, sec =
/// sec.divmod(60); off += c end`, `-=` for a positive offset).
fn shift(field: &mut i128, rest: i128, unit: i128, sign: i128) -> i128 {
    let (mut rest, o) = divmod(rest, unit);
    if o != 0 {
        *field += sign * o;
        let (carry, v) = divmod(*field, unit);
        *field = v;
        rest += sign * carry;
    }
    rest
}

/// `Time.apply_offset`: the wall clock at `off` moved to UTC, field by field as Ruby does it.
#[allow(clippy::too_many_arguments)]
fn apply_offset(
    mut year: i128,
    mut mon: i128,
    mut day: i128,
    mut hour: i128,
    mut min: i128,
    mut sec: i128,
    off: i128,
) -> (i128, i128, i128, i128, i128, i128) {
    if off == 0 {
        return (year, mon, day, hour, min, sec);
    }
    // West of UTC the offset is added, east of it taken away.
    let sign = if off < 0 { 1 } else { -1 };
    let rest = shift(&mut sec, off.abs(), 60, sign);
    let rest = shift(&mut min, rest, 60, sign);
    let days = shift(&mut hour, rest, 24, sign);
    if days != 0 {
        day += sign * days;
        if sign > 0 {
            if month_days(year, mon).is_some_and(|n| n < day) {
                mon += 1;
                if 12 < mon {
                    mon = 1;
                    year += 1;
                }
                day = 1;
            }
        } else if day < 1 {
            mon -= 1;
            if mon < 1 {
                year -= 1;
                mon = 12;
            }
            day = month_days(year, mon).unwrap_or(31);
        }
    }
    (year, mon, day, hour, min, sec)
}

/// `Time.utc`/`Time.local`'s checks (`time_arg`, `validate_vtm`), then the wall clock as
/// seconds since the epoch read as UTC.
fn wall_seconds(
    year: i128,
    mon: i128,
    day: i128,
    hour: i128,
    min: i128,
    sec: i128,
) -> Result<i128, String> {
    let h24 = hour == 24;
    let ok = (1..=12).contains(&mon)
        && (1..=31).contains(&day)
        && (0..=24).contains(&hour)
        && (0..=if h24 { 0 } else { 59 }).contains(&min)
        && (0..=if h24 { 0 } else { 60 }).contains(&sec);
    if !ok {
        return Err("argument out of range".into());
    }
    Ok(days_from_civil(year, mon, day) * 86_400 + hour * 3600 + min * 60 + sec)
}

/// `Time.make_time`.
pub(crate) fn make_time(text: &str, p: Parts, local: &Zone, now: Now) -> Result<Parsed, String> {
    if p.year.is_none()
        && p.yday.is_none()
        && p.mon.is_none()
        && p.mday.is_none()
        && p.hour.is_none()
        && p.min.is_none()
        && p.sec.is_none()
        && p.nsec.is_none()
    {
        return Err(format!("no time information in {text:?}"));
    }
    // Ruby's integers are unbounded; logferry computes with i128 and refuses fields of more
    // than 30 digits (a year of 10^30 is far past any event time).
    let huge = |v: Option<i128>| v.is_some_and(|v| v.abs() > 10i128.pow(30));
    if [p.year, p.yday, p.mon, p.mday, p.hour, p.min, p.sec]
        .into_iter()
        .any(huge)
    {
        return Err(format!("a field of {text:?} has more than 30 digits"));
    }
    // `now` in the local zone: seconds, offset, nanoseconds.
    let now_local = || {
        let (sec, nsec) = now();
        (i128::from(sec), i128::from(local.offset_at(sec)), nsec)
    };
    let off_year = match p.year {
        Some(y) => y,
        None => {
            let (sec, off, _) = now_local();
            civil((sec + off).div_euclid(86_400)).0
        }
    };
    let mut off = p.zone.and_then(|z| zone_offset(z, off_year, local));
    if let Some(yday) = p.yday {
        if !(1..=366).contains(&yday) {
            return Err(format!("yday {yday} out of range"));
        }
        let (mut mon, mut day) = ((yday - 1) / 31 + 1, (yday - 1) % 31 + 1);
        let guess = Parts {
            yday: None,
            mon: Some(mon),
            mday: Some(day),
            ..p
        };
        let t = make_time(text, guess, local, now)?;
        let diff = yday - year_yday((t.sec + t.off).div_euclid(86_400)).1;
        if diff == 0 {
            return Ok(t);
        }
        day += diff;
        if let Some(mdays) = month_days(off_year, mon).filter(|m| day > 28 && day > *m) {
            mon += 1;
            if mon > 12 {
                return Err(format!("yday {yday} out of range"));
            }
            day -= mdays;
        }
        let again = Parts {
            yday: None,
            mon: Some(mon),
            mday: Some(day),
            ..p
        };
        return make_time(text, again, local, now);
    }
    // `now.getlocal(off)` and `Time#localtime(off)` take offsets within a day only.
    let bad_offset = || Err::<Parsed, String>("utc_offset out of range".into());
    if off.is_some_and(|o| o.abs() >= 86_400) {
        return bad_offset();
    }
    let (mut year, mut mon, mut day, mut hour, mut min, mut sec, mut nsec) =
        (p.year, p.mon, p.mday, p.hour, p.min, p.sec, p.nsec);
    // `begin break if year; year = now.year; break if mon; … end until true`, `now` at `off`
    // (or local).
    'fill: {
        if year.is_some() {
            break 'fill;
        }
        let (now_sec, now_local_off, now_nsec) = now_local();
        let wall = now_sec + off.unwrap_or(now_local_off);
        let (ny, nm, nd) = civil(wall.div_euclid(86_400));
        let tod = wall.rem_euclid(86_400);
        year = Some(ny);
        fill_from_now(
            [&mut mon, &mut day, &mut hour, &mut min, &mut sec],
            [nm, nd, tod / 3600, tod / 60 % 60, tod % 60],
            &mut nsec,
            now_nsec,
        );
    }
    let year = year.unwrap_or(1970);
    let (mon, day) = (mon.unwrap_or(1), day.unwrap_or(1));
    let (hour, min, sec) = (hour.unwrap_or(0), min.unwrap_or(0), sec.unwrap_or(0));
    let nsec = nsec.unwrap_or(0);
    if year != off_year {
        off = p.zone.and_then(|z| zone_offset(z, year, local));
    }
    if let Some(o) = off {
        if o.abs() >= 86_400 {
            return bad_offset();
        }
        let (y, mo, d, h, mi, s) = apply_offset(year, mon, day, hour, min, sec, o);
        let secs = wall_seconds(y, mo, d, h, mi, s)?;
        Ok(Parsed {
            sec: secs,
            nsec,
            off: o,
        })
    } else {
        let naive = wall_seconds(year, mon, day, hour, min, sec)?;
        let o = local_offset(local, naive);
        Ok(Parsed {
            sec: naive - o,
            nsec,
            off: o,
        })
    }
}
