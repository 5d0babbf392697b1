//! Ruby's `Time` in the subset: record_transformer's `time` (the event time, `Time.at(time)`
//! in Fluentd), `Time.now` and `Time.at(x)`, with the methods configs call on them
//! (`iso8601`, `utc`, `strftime`, `year` …), as Ruby 3.1 with `time` loaded (Fluentd loads it).

use logferry_msgpack::EventTime;

use chrono::FixedOffset;

use super::{no_method, not_here, unsupported, RValue};
use crate::parser::{ruby_time_parse, ParsedZone};
use crate::timefmt::{TimeFormatter, Zone};

/// A Time.
#[derive(Clone, Copy, Debug)]
pub struct RTime {
    /// The instant (from 1970 to 2106: the subset's range).
    pub t: EventTime,
    /// Ruby's `utc?`: shown in UTC (`Z`, `UTC`), else in the process's local zone or at
    /// `fixed`.
    pub utc: bool,
    /// A fixed UTC offset in seconds it is shown at (`Time.parse` of a text with an offset the
    /// local zone does not have then): `%z` is it, `%Z` and `zone` are empty.
    pub fixed: Option<i32>,
    /// The scope's `time`: `utc`, `gmtime` and `localtime` change the object in place, so the
    /// record's later placeholders see the change too.
    pub shared: bool,
    /// Made by `Time.at` of a Float with a fraction: Ruby keeps its exact value (`to_f` gives
    /// it back; `t` holds it cut to nanoseconds).
    pub float: Option<f64>,
}

/// Both zones' formatters of one `strftime` format (a Time is shown in UTC or in the local zone).
#[derive(Clone, Debug)]
pub struct TimeFmt {
    src: String,
    local: TimeFormatter,
    utc: TimeFormatter,
}

impl TimeFmt {
    /// Compile `fmt` for both zones.
    pub fn new(fmt: &str) -> Result<TimeFmt, String> {
        Ok(TimeFmt {
            src: fmt.to_string(),
            local: TimeFormatter::new(fmt, Zone::Local)?,
            utc: TimeFormatter::new(fmt, Zone::utc())?,
        })
    }

    fn format(&self, t: &RTime) -> Result<String, String> {
        if t.float.is_some() && wide_fraction(&self.src) {
            return Err(unsupported(
                "%N with more than 9 digits of a Time made from a Float",
            ));
        }
        Ok(match (t.utc, t.fixed) {
            (true, _) => self.utc.format(t.t),
            (false, None) => self.local.format(t.t),
            // A fixed offset (`Time.parse` of `+09:00`): compiled for it.
            (false, Some(_)) => TimeFormatter::new(&self.src, t.zone())?.format(t.t),
        })
    }
}

/// Whether a strftime format asks for more than 9 fraction digits (`%12N`).
fn wide_fraction(fmt: &str) -> bool {
    let b = fmt.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < b.len() && matches!(b[j], b'-' | b'_' | b'0' | b'^' | b'#' | b':') {
            j += 1;
        }
        let st = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if b.get(j) == Some(&b'N') && fmt[st..j].parse::<usize>().unwrap_or(0) > 9 {
            return true;
        }
        // Past the directive (`%%` as a whole).
        i = if b.get(i + 1) == Some(&b'%') {
            i + 2
        } else {
            j.max(i + 1)
        };
    }
    false
}

impl RTime {
    /// A Time in the local zone, not the scope's.
    pub fn local(t: EventTime) -> RTime {
        RTime {
            t,
            utc: false,
            fixed: None,
            shared: false,
            float: None,
        }
    }

    fn zone(&self) -> Zone {
        match (self.utc, self.fixed) {
            (true, _) => Zone::utc(),
            (false, Some(o)) => FixedOffset::east_opt(o).map_or(Zone::Local, Zone::Fixed),
            (false, None) => Zone::Local,
        }
    }

    /// This Time in UTC (`utc`, `getutc`) or the local zone (`localtime`, `getlocal`).
    pub fn in_zone(&self, utc: bool) -> RTime {
        RTime {
            utc,
            fixed: None,
            ..*self
        }
    }

    fn fmt(&self, f: &str) -> Result<String, String> {
        Ok(TimeFormatter::new(f, self.zone())?.format(self.t))
    }

    /// Ruby's `Time#to_s`.
    pub fn to_s(&self) -> Result<String, String> {
        self.fmt(if self.utc {
            "%Y-%m-%d %H:%M:%S UTC"
        } else {
            "%Y-%m-%d %H:%M:%S %z"
        })
    }

    /// Ruby's `to_f` (the exact Float of a Time made from one).
    pub fn to_f(&self) -> Result<f64, String> {
        match self.float {
            Some(f) => Ok(f),
            // Ruby rounds the exact rational once: so does parsing its decimal text.
            None => format!("{}.{:09}", self.t.sec, self.t.nsec)
                .parse()
                .map_err(|_| "bad time".to_string()),
        }
    }

    /// Ruby's `<=>` of two Times (`None` where the subset cannot tell: sub-nanosecond parts).
    pub fn compare(&self, o: &RTime) -> Option<std::cmp::Ordering> {
        if self.float.is_some() || o.float.is_some() {
            return match (self.float, o.float) {
                (Some(a), Some(b)) => a.partial_cmp(&b),
                _ => None,
            };
        }
        Some((self.t.sec, self.t.nsec).cmp(&(o.t.sec, o.t.nsec)))
    }

    fn int_part(&self, f: &str) -> Result<RValue, String> {
        self.fmt(f)?
            .trim()
            .parse()
            .map(RValue::Int)
            .map_err(|_| format!("bad {f}"))
    }
}

/// `Time.at(x)`: an Integer or a Float of seconds since the epoch, or a Time (a copy, in its
/// zone).
pub fn at(v: &RValue) -> Result<RValue, String> {
    let range = || unsupported("a Time before 1970 or from 2106 on");
    Ok(RValue::Time(match v {
        RValue::Int(i) => RTime::local(EventTime::new(u32::try_from(*i).map_err(|_| range())?, 0)),
        RValue::Float(f) => {
            if f.is_nan() {
                return Err("NaN".into());
            }
            if f.is_infinite() {
                return Err(if *f > 0.0 { "Infinity" } else { "-Infinity" }.into());
            }
            if *f < 0.0 || *f >= 4_294_967_296.0 {
                return Err(range());
            }
            let sec = f.floor();
            let frac = f - sec;
            let mut t = RTime::local(EventTime::new(sec as u32, frac_nanos(frac)));
            if frac != 0.0 {
                t.float = Some(*f);
            }
            t
        }
        RValue::Time(t) => RTime {
            shared: false,
            ..*t
        },
        RValue::Nil => return Err("can't convert nil into an exact number".into()),
        o => return Err(format!("can't convert {} into an exact number", o.class())),
    }))
}

/// `Time.parse(text)` (Ruby's `time` library, as Fluentd loads it): `now` fills what the text
/// leaves out before its first field.
pub fn parse(v: &RValue, now: EventTime) -> Result<RValue, String> {
    let text = match v {
        RValue::Str(s) | RValue::Bytes(s) => s,
        RValue::Nil => return Err("no implicit conversion of nil into String".into()),
        o => {
            return Err(format!(
                "no implicit conversion of {} into String",
                o.class()
            ))
        }
    };
    let now = move || (i64::from(now.sec), now.nsec);
    let (sec, nsec, zone) = ruby_time_parse(text, &now)?;
    let sec = u32::try_from(sec).map_err(|_| unsupported("a Time before 1970 or from 2106 on"))?;
    let mut t = RTime::local(EventTime::new(sec, nsec));
    match zone {
        ParsedZone::Local => {}
        ParsedZone::Utc => t.utc = true,
        ParsedZone::Fixed(o) => t.fixed = Some(o),
    }
    Ok(RValue::Time(t))
}

/// `a - b` of two Times: the seconds between them, a Float.
pub fn diff(a: &RTime, b: &RTime) -> Result<f64, String> {
    if a.float.is_some() || b.float.is_some() {
        return Err(unsupported("the difference of Times made from Floats"));
    }
    let ns = |t: &RTime| i128::from(t.t.sec) * 1_000_000_000 + i128::from(t.t.nsec);
    let d = ns(a) - ns(b);
    // Ruby's Float of the exact Rational: parsing its decimal text rounds once, as it does.
    let sign = if d < 0 { "-" } else { "" };
    let m = d.unsigned_abs();
    format!("{sign}{}.{:09}", m / 1_000_000_000, m % 1_000_000_000)
        .parse()
        .map_err(|_| "bad time".to_string())
}

/// `t + n` / `t - n` of whole seconds: a Time in the same zone.
pub fn shift(t: &RTime, n: i64) -> Result<RValue, String> {
    if t.float.is_some() {
        return Err(unsupported("arithmetic on a Time made from a Float"));
    }
    let sec = i64::from(t.t.sec)
        .checked_add(n)
        .and_then(|s| u32::try_from(s).ok())
        .ok_or_else(|| unsupported("a Time before 1970 or from 2106 on"))?;
    Ok(RValue::Time(RTime {
        t: EventTime::new(sec, t.t.nsec),
        shared: false,
        ..*t
    }))
}

/// `floor(frac * 10^9)` of a Float in [0, 1), exactly (as Ruby's rational).
fn frac_nanos(frac: f64) -> u32 {
    if frac <= 0.0 {
        return 0;
    }
    let bits = frac.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64;
    let frac_bits = bits & ((1u64 << 52) - 1);
    let mant = if exp == 0 {
        frac_bits
    } else {
        frac_bits | (1u64 << 52)
    };
    // frac = mant * 2^(exp - 1075), exp >= 1 (or 1 for subnormals, as mant has no hidden bit).
    let shift = 1075 - exp.max(1);
    if shift >= 128 {
        return 0;
    }
    ((u128::from(mant) * 1_000_000_000u128) >> shift) as u32
}

/// Method `m` of a Time (`utc`, `gmtime` and `localtime`, which change the receiver, are the
/// evaluator's: they need the scope).
pub fn method(
    t: &RTime,
    m: &str,
    args: &[RValue],
    fmt: Option<&TimeFmt>,
) -> Result<RValue, String> {
    let v = RValue::Time(*t);
    Ok(match m {
        "to_i" | "tv_sec" => RValue::Int(i64::from(t.t.sec)),
        "to_f" => RValue::Float(t.to_f()?),
        "to_s" => RValue::Str(t.to_s()?),
        "strftime" => RValue::Str(fmt.ok_or("no format")?.format(t)?),
        "iso8601" | "xmlschema" => {
            // time.rb: `fraction_digits.to_i`.
            let n = match args.first() {
                None | Some(RValue::Nil) => 0,
                Some(RValue::Int(i)) => *i,
                Some(RValue::Float(f)) if f.is_finite() => f.trunc().clamp(-1e9, 1e9) as i64,
                Some(RValue::Str(s) | RValue::Bytes(s)) => crate::ruby::str_to_i(s.as_bytes())
                    .ok_or_else(|| unsupported("an Integer beyond 64 bits"))?,
                Some(o) => return Err(no_method("to_i", o)),
            };
            if n > 9 && t.float.is_some() {
                return Err(unsupported(
                    "more than 9 fraction digits of a Time made from a Float",
                ));
            }
            let mut s = t.fmt("%Y-%m-%dT%H:%M:%S")?;
            if n > 0 {
                let digits = format!("{:09}", t.t.nsec);
                s.push('.');
                let n = n.min(1 << 16) as usize;
                s.push_str(&digits[..n.min(9)]);
                s.extend(std::iter::repeat_n('0', n.saturating_sub(9)));
            }
            if t.utc {
                s.push('Z');
            } else {
                s.push_str(&t.fmt("%:z")?);
            }
            RValue::Str(s)
        }
        "year" => t.int_part("%Y")?,
        "month" | "mon" => t.int_part("%m")?,
        "day" | "mday" => t.int_part("%d")?,
        "hour" => t.int_part("%H")?,
        "min" => t.int_part("%M")?,
        "sec" => t.int_part("%S")?,
        "wday" => t.int_part("%w")?,
        "yday" => t.int_part("%j")?,
        "usec" | "tv_usec" => RValue::Int(i64::from(t.t.nsec / 1000)),
        "nsec" | "tv_nsec" => RValue::Int(i64::from(t.t.nsec)),
        "zone" => match (t.utc, t.fixed) {
            (true, _) => RValue::Str("UTC".to_string()),
            (false, Some(_)) => RValue::Nil,
            (false, None) => RValue::Str(t.fmt("%Z")?),
        },
        "utc?" | "gmt?" => RValue::Bool(t.utc),
        "getutc" | "getgm" => RValue::Time(RTime {
            shared: false,
            ..t.in_zone(true)
        }),
        "getlocal" => RValue::Time(RTime {
            shared: false,
            ..t.in_zone(false)
        }),
        "round" => {
            let up = t.t.nsec >= 500_000_000;
            let sec =
                t.t.sec
                    .checked_add(u32::from(up))
                    .ok_or_else(|| unsupported("a Time before 1970 or from 2106 on"))?;
            RValue::Time(RTime {
                t: EventTime::new(sec, 0),
                shared: false,
                float: None,
                ..*t
            })
        }
        "gsub" | "sub" | "scan" | "match" | "match?" | "strip" | "lstrip" | "rstrip" | "upcase"
        | "downcase" | "split" | "start_with?" | "end_with?" | "include?" | "length" | "size"
        | "empty?" | "first" | "last" | "join" | "dig" | "keys" | "values" | "fetch"
        | "capitalize" | "swapcase" | "chomp" | "chop" | "reverse" | "index" | "rindex"
        | "to_sym" | "bytesize" | "chars" | "ord" | "abs" | "zero?" | "even?" | "odd?" | "uniq"
        | "compact" | "flatten" | "take" | "drop" | "sum" | "max" | "sort" | "count" | "tr"
        | "delete" | "squeeze" | "ljust" | "rjust" | "center" | "slice" | "has_key?" | "key?"
        | "member?" => return Err(no_method(m, &v)),
        _ => return Err(not_here(m, &v)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nanoseconds_of_a_float_are_its_exact_value_cut() {
        // Ruby: Time.at(1700000000.123456789).nsec == 123456716 (the Float is below .1234567165).
        let f: f64 = "1700000000.123456789".parse().unwrap_or(0.0);
        assert_eq!(frac_nanos(f - f.floor()), 123_456_716);
        assert_eq!(frac_nanos(0.5), 500_000_000);
        assert_eq!(frac_nanos(0.1), 100_000_000);
        assert_eq!(frac_nanos(1e-10), 0);
        assert_eq!(frac_nanos(0.999_999_999_9), 999_999_999);
    }
}
