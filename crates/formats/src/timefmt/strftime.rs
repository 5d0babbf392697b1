//! Ruby's `Time#strftime` (Ruby 3.1's `strftime.c`), byte for byte: flags `- _ 0 ^ #`, widths,
//! colons before `z`, the `E`/`O` modifiers, and unknown directives written as they are.
//!
//! A format is compiled once into [`Piece`]s; [`write`] formats a broken-down time ([`Tm`]).

use std::fmt::Write as _;

/// `-`: no padding (and `%-z` writes `-` for UTC, RFC 3339's unknown offset).
const LEFT: u8 = 1;
/// `^`: upper case.
const UPPER: u8 = 2;
/// `#`: change case (upper for names, lower for `%p` and `%Z`).
const CHCASE: u8 = 4;
/// Set by a conversion: lower case.
const LOWER: u8 = 8;

/// One conversion: `%` [flags] [width] [`E`|`O`|colons] conversion.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Dir {
    conv: u8,
    flags: u8,
    /// `_` or `0`, the last one given (a `-` clears it).
    padding: Option<u8>,
    /// The width; `-1` when none was given, `0` after a `-`.
    precision: i64,
    colons: u8,
}

impl Dir {
    /// Does the conversion write the zone's name (`%Z`)?
    pub(crate) fn is_zone_name(&self) -> bool {
        self.conv == b'Z'
    }
}

/// A compiled format item.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Piece {
    /// Text written as it is (including directives Ruby does not know).
    Lit(String),
    /// A conversion.
    Dir(Dir),
}

/// The largest width logferry writes (Ruby takes up to `INT_MAX` and fails past its buffer).
const MAX_WIDTH: i64 = 1 << 16;

/// Compile a format as Ruby reads it. A format that ends inside a directive (`x%`, `%-`, `%5`),
/// which Ruby fails on at every time, is an error; so is a width past [`MAX_WIDTH`].
pub(crate) fn compile(fmt: &str) -> Result<Vec<Piece>, String> {
    let b = fmt.as_bytes();
    let mut out: Vec<Piece> = Vec::new();
    let mut lit: Vec<u8> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            lit.push(b[i]);
            i += 1;
            continue;
        }
        let sp = i;
        let mut d = Dir {
            conv: 0,
            flags: 0,
            padding: None,
            precision: -1,
            colons: 0,
        };
        // `i` is at the last byte read; Ruby's `again:` reads the next one.
        let known = loop {
            i += 1;
            let Some(&c) = b.get(i) else {
                return Err(format!(
                    "time format '{fmt}' ends inside the directive '{}' (Ruby's strftime fails \
                     on it)",
                    String::from_utf8_lossy(&b[sp..])
                ));
            };
            match c {
                b'-' | b'^' | b'#' | b'_' if d.precision > 0 => break false,
                b'-' => {
                    d.flags |= LEFT;
                    d.padding = None;
                    d.precision = 0;
                }
                b'^' => d.flags |= UPPER,
                b'#' => d.flags |= CHCASE,
                b'_' => d.padding = Some(b' '),
                b':' => {
                    let l = b[i..].iter().take_while(|&&c| c == b':').count();
                    if l > 3 || b.get(i + l) != Some(&b'z') {
                        break false;
                    }
                    d.colons = l as u8;
                    i += l - 1;
                }
                b'0'..=b'9' => {
                    if c == b'0' {
                        d.padding = Some(b'0');
                    }
                    let n = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
                    let digits = std::str::from_utf8(&b[i..i + n]).unwrap_or("");
                    match digits.parse::<i64>() {
                        Ok(w) if w <= i64::from(i32::MAX) => {
                            if w > MAX_WIDTH {
                                return Err(format!(
                                    "time format '{fmt}': the width {w} is more than logferry \
                                     writes ({MAX_WIDTH})"
                                ));
                            }
                            d.precision = w;
                            i += n - 1;
                        }
                        _ => break false,
                    }
                }
                b'E' => {
                    if !b.get(i + 1).is_some_and(|c| b"cCxXyY".contains(c)) {
                        break false;
                    }
                }
                b'O' => {
                    if !b.get(i + 1).is_some_and(|c| b"deHkIlmMSuUVwWy".contains(c)) {
                        break false;
                    }
                }
                b'%' | b'a' | b'A' | b'b' | b'B' | b'h' | b'c' | b'C' | b'd' | b'D' | b'e'
                | b'F' | b'g' | b'G' | b'H' | b'I' | b'j' | b'k' | b'l' | b'L' | b'm' | b'M'
                | b'n' | b'N' | b'p' | b'P' | b'r' | b'R' | b's' | b'S' | b't' | b'T' | b'u'
                | b'U' | b'v' | b'V' | b'w' | b'W' | b'x' | b'X' | b'y' | b'Y' | b'z' | b'Z' => {
                    d.conv = c;
                    break true;
                }
                _ => break false,
            }
        };
        if known {
            if !lit.is_empty() {
                out.push(Piece::Lit(String::from_utf8_lossy(&lit).into_owned()));
                lit.clear();
            }
            out.push(Piece::Dir(d));
        } else {
            // Ruby writes the directive as far as it read it; the rest is text.
            lit.extend_from_slice(&b[sp..=i]);
        }
        i += 1;
    }
    if !lit.is_empty() {
        out.push(Piece::Lit(String::from_utf8_lossy(&lit).into_owned()));
    }
    Ok(out)
}

/// A broken-down time in the zone it is written in.
#[derive(Clone, Debug)]
pub(crate) struct Tm {
    /// Seconds since the epoch.
    pub epoch: i64,
    /// Nanoseconds.
    pub nsec: u32,
    pub year: i64,
    /// 1..=12.
    pub mon: u32,
    /// 1..=31.
    pub mday: u32,
    pub hour: u32,
    pub min: u32,
    pub sec: u32,
    /// 0 = Sunday.
    pub wday: u32,
    /// 1..=366.
    pub yday: u32,
    /// ISO 8601 week-based year and week.
    pub iso_year: i64,
    pub iso_week: u32,
    /// Seconds east of UTC.
    pub offset: i32,
    /// Ruby's `gmt`: the time is UTC (Fluentd's `utc`), not merely a zero offset.
    pub gmt: bool,
    /// The zone's name for `%Z` (empty for a fixed offset).
    pub zone: String,
}

const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn sub(fmt: &'static str) -> &'static [Piece] {
    use std::sync::OnceLock;
    static SUBS: OnceLock<Vec<(&'static str, Vec<Piece>)>> = OnceLock::new();
    let subs = SUBS.get_or_init(|| {
        [
            "%a %b %e %H:%M:%S %Y",
            "%m/%d/%y",
            "%Y-%m-%d",
            "%I:%M:%S %p",
            "%H:%M",
            "%H:%M:%S",
            "%e-%^b-%4Y",
        ]
        .into_iter()
        .map(|f| (f, compile(f).unwrap_or_default()))
        .collect()
    });
    subs.iter()
        .find(|(f, _)| *f == fmt)
        .map(|(_, p)| p.as_slice())
        .unwrap_or(&[])
}

/// Append `tm` formatted by `pieces` to `out`.
pub(crate) fn write(pieces: &[Piece], tm: &Tm, out: &mut String) {
    for p in pieces {
        match p {
            Piece::Lit(s) => out.push_str(s),
            Piece::Dir(d) => write_dir(d, tm, out),
        }
    }
}

/// Ruby's `FMT(def_pad, def_prec, "d", val)`.
fn num(d: &Dir, def_pad: u8, def_prec: i64, v: i64, out: &mut String) {
    let w = if d.flags & LEFT != 0 {
        1
    } else if d.precision <= 0 {
        def_prec
    } else {
        d.precision
    } as usize;
    let zero = d.padding == Some(b'0') || (d.padding.is_none() && def_pad == b'0');
    let _ = if zero {
        write!(out, "{v:0w$}")
    } else {
        write!(out, "{v:w$}")
    };
}

/// Ruby's `FILL_PADDING(len)` then the text, with the case flags.
fn text(d: &Dir, flags: u8, s: &str, out: &mut String) {
    if s.is_empty() {
        return;
    }
    let len = s.len() as i64;
    if flags & LEFT == 0 && d.precision > len {
        let fill = char::from(d.padding.unwrap_or(b' '));
        out.extend(std::iter::repeat_n(fill, (d.precision - len) as usize));
    }
    match flags & (UPPER | LOWER) {
        UPPER => out.push_str(&s.to_ascii_uppercase()),
        LOWER => out.push_str(&s.to_ascii_lowercase()),
        _ => out.push_str(s),
    }
}

fn write_dir(d: &Dir, tm: &Tm, out: &mut String) {
    let mut flags = d.flags;
    let upper_names = |flags: u8| {
        if flags & CHCASE != 0 {
            (flags & !(LOWER | CHCASE)) | UPPER
        } else {
            flags
        }
    };
    match d.conv {
        b'%' => text(d, flags, "%", out),
        b'n' => text(d, flags, "\n", out),
        b't' => text(d, flags, "\t", out),
        b'a' => text(d, upper_names(flags), &DAYS[tm.wday as usize][..3], out),
        b'A' => text(d, upper_names(flags), DAYS[tm.wday as usize], out),
        b'b' | b'h' => text(
            d,
            upper_names(flags),
            &MONTHS[tm.mon as usize - 1][..3],
            out,
        ),
        b'B' => text(d, upper_names(flags), MONTHS[tm.mon as usize - 1], out),
        b'p' | b'P' => {
            if (d.conv == b'p' && flags & CHCASE != 0)
                || (d.conv == b'P' && flags & (CHCASE | UPPER) == 0)
            {
                flags = (flags & !(UPPER | CHCASE)) | LOWER;
            }
            text(d, flags, if tm.hour < 12 { "AM" } else { "PM" }, out)
        }
        b'Z' => {
            if flags & CHCASE != 0 {
                flags = (flags & !(UPPER | CHCASE)) | LOWER;
            }
            text(d, flags, if tm.gmt { "UTC" } else { &tm.zone }, out)
        }
        b'd' => num(d, b'0', 2, tm.mday.into(), out),
        b'e' => num(d, b' ', 2, tm.mday.into(), out),
        b'H' => num(d, b'0', 2, tm.hour.into(), out),
        b'k' => num(d, b' ', 2, tm.hour.into(), out),
        b'I' | b'l' => {
            let h = if tm.hour.is_multiple_of(12) {
                12
            } else {
                tm.hour % 12
            };
            num(
                d,
                if d.conv == b'I' { b'0' } else { b' ' },
                2,
                h.into(),
                out,
            )
        }
        b'j' => num(d, b'0', 3, tm.yday.into(), out),
        b'm' => num(d, b'0', 2, tm.mon.into(), out),
        b'M' => num(d, b'0', 2, tm.min.into(), out),
        b'S' => num(d, b'0', 2, tm.sec.into(), out),
        b's' => num(d, b'0', 1, tm.epoch, out),
        b'u' => num(
            d,
            b'0',
            1,
            if tm.wday == 0 { 7 } else { tm.wday.into() },
            out,
        ),
        b'w' => num(d, b'0', 1, tm.wday.into(), out),
        b'U' | b'W' => {
            let yday0 = i64::from(tm.yday) - 1;
            let wday = i64::from(tm.wday);
            let first = if d.conv == b'U' { wday } else { (wday + 6) % 7 };
            num(d, b'0', 2, (yday0 + 7 - first) / 7, out)
        }
        b'V' => num(d, b'0', 2, tm.iso_week.into(), out),
        b'y' => num(d, b'0', 2, tm.year.rem_euclid(100), out),
        b'Y' => num(d, b'0', if tm.year >= 0 { 4 } else { 5 }, tm.year, out),
        b'C' => num(d, b'0', 2, tm.year.div_euclid(100), out),
        b'G' => num(
            d,
            b'0',
            if tm.iso_year >= 0 { 4 } else { 5 },
            tm.iso_year,
            out,
        ),
        b'g' => num(d, b'0', 2, tm.iso_year.rem_euclid(100), out),
        b'L' | b'N' => {
            let w = if d.precision <= 0 {
                if d.conv == b'L' {
                    3
                } else {
                    9
                }
            } else {
                d.precision as usize
            };
            let digits = format!("{:09}", tm.nsec.min(999_999_999));
            if w <= 9 {
                out.push_str(&digits[..w]);
            } else {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', w - 9));
            }
        }
        b'z' => zone_offset(d, tm, out),
        b'c' | b'D' | b'x' | b'F' | b'r' | b'R' | b'T' | b'X' | b'v' => {
            let f = match d.conv {
                b'c' => "%a %b %e %H:%M:%S %Y",
                b'D' | b'x' => "%m/%d/%y",
                b'F' => "%Y-%m-%d",
                b'r' => "%I:%M:%S %p",
                b'R' => "%H:%M",
                b'T' | b'X' => "%H:%M:%S",
                _ => "%e-%^b-%4Y",
            };
            // Written in place, then upper-cased and padded on the left as Ruby does (the width
            // applies even with `-`).
            let start = out.len();
            write(sub(f), tm, out);
            if flags & UPPER != 0 {
                out[start..].make_ascii_uppercase();
            }
            let len = (out.len() - start) as i64;
            if d.precision > len {
                let fill = char::from(d.padding.unwrap_or(b' '));
                let pad: String = std::iter::repeat_n(fill, (d.precision - len) as usize).collect();
                out.insert_str(start, &pad);
            }
        }
        _ => {}
    }
}

/// Ruby's `%z`, `%:z`, `%::z`, `%:::z` with their widths and padding.
fn zone_offset(d: &Dir, tm: &Tm, out: &mut String) {
    let mut off = i64::from(if tm.gmt { 0 } else { tm.offset });
    let neg = off < 0 || (tm.gmt && d.flags & LEFT != 0);
    off = off.abs();
    let p = d.precision;
    let prec = match d.colons {
        0 => {
            if p <= 5 {
                2
            } else {
                p - 3
            }
        }
        1 => {
            if p <= 6 {
                2
            } else {
                p - 4
            }
        }
        2 => {
            if p <= 9 {
                2
            } else {
                p - 7
            }
        }
        _ => {
            if off % 3600 == 0 {
                if p <= 3 {
                    2
                } else {
                    p - 1
                }
            } else if off % 60 == 0 {
                if p <= 6 {
                    2
                } else {
                    p - 4
                }
            } else if p <= 9 {
                2
            } else {
                p - 7
            }
        }
    } as usize;
    let hours = off / 3600;
    let sign = if neg { '-' } else { '+' };
    if d.padding == Some(b' ') {
        // `%+*ld`: the sign right before the digits, spaces before it.
        let body = format!("{sign}{hours}");
        let width = prec + 1;
        if body.len() < width {
            out.extend(std::iter::repeat_n(' ', width - body.len()));
        }
        out.push_str(&body);
    } else {
        // `%+.*ld`: the sign, then the digits zero-padded to the precision.
        let _ = write!(out, "{sign}{hours:0prec$}");
    }
    let off = off % 3600;
    if d.colons == 3 && off == 0 {
        return;
    }
    if d.colons >= 1 {
        out.push(':');
    }
    let _ = write!(out, "{:02}", off / 60);
    let off = off % 60;
    if d.colons == 3 && off == 0 {
        return;
    }
    if d.colons >= 2 {
        let _ = write!(out, ":{off:02}");
    }
}
