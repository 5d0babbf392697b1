//! Fluentd's `EventTime` (msgpack ext type 0) and event-time decoding.

use crate::error::Result;
use crate::head::{head, Kind};
use crate::reader::Reader;
use std::time::{SystemTime, UNIX_EPOCH};

/// Fluentd event time: seconds and nanoseconds since the Unix epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EventTime {
    /// Seconds since the epoch.
    pub sec: u32,
    /// Nanoseconds within the second.
    pub nsec: u32,
}

impl EventTime {
    /// Build from seconds and nanoseconds.
    pub fn new(sec: u32, nsec: u32) -> Self {
        EventTime { sec, nsec }
    }

    /// The current wall-clock time.
    pub fn now() -> Self {
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        EventTime {
            sec: u32::try_from(d.as_secs()).unwrap_or(u32::MAX),
            nsec: d.subsec_nanos(),
        }
    }

    /// Convert float seconds (clamped to the `u32` range; NaN gives zero).
    pub fn from_f64(v: f64) -> Self {
        if v.is_nan() || v <= 0.0 {
            return EventTime::default();
        }
        if v >= f64::from(u32::MAX) + 1.0 {
            return EventTime::new(u32::MAX, 999_999_999);
        }
        let sec = v.trunc();
        let nsec = ((v - sec) * 1e9).round().min(999_999_999.0);
        EventTime::new(sec as u32, nsec as u32)
    }

    /// Float seconds.
    pub fn as_f64(&self) -> f64 {
        f64::from(self.sec) + f64::from(self.nsec) / 1e9
    }

    /// True for `0.0` (both fields zero).
    pub fn is_zero(&self) -> bool {
        self.sec == 0 && self.nsec == 0
    }

    /// Append as fixext8: `D7 00 sec(BE u32) nsec(BE u32)`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[0xd7, 0x00]);
        out.extend_from_slice(&self.sec.to_be_bytes());
        out.extend_from_slice(&self.nsec.to_be_bytes());
    }

    /// Decode the first 8 bytes of a type-0 ext payload.
    pub fn from_payload(p: &[u8]) -> Option<Self> {
        let sec = p.get(0..4)?;
        let nsec = p.get(4..8)?;
        Some(EventTime::new(
            u32::from_be_bytes(sec.try_into().ok()?),
            u32::from_be_bytes(nsec.try_into().ok()?),
        ))
    }
}

/// Consume one value and interpret it as an event time.
///
/// Any integer in `0..=u32::MAX` gives `Some(sec)`; an ext of type 0 with at
/// least 8 payload bytes gives `Some` of its first 8 bytes. Floats, negative
/// or too large integers and any other value give `Ok(None)` (the value is
/// still consumed). Malformed or truncated input is an error and consumes
/// nothing.
pub fn read_time(r: &mut Reader) -> Result<Option<EventTime>> {
    let h = head(r.remaining())?;
    match h.kind {
        Kind::UInt(v) => {
            r.read_u64()?;
            Ok(u32::try_from(v).ok().map(|s| EventTime::new(s, 0)))
        }
        Kind::Ext(_) => {
            let (ty, payload) = r.read_ext()?;
            Ok(if ty == 0 {
                EventTime::from_payload(payload)
            } else {
                None
            })
        }
        _ => r.skip().map(|_| None),
    }
}

/// The proleptic Gregorian date `(year, month, day)` of a count of days since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}
