//! Validation and normalization of single `[time, record]` entries.

use bytes::Bytes;
use logferry_msgpack::{read_time, EventTime, Reader};

/// Normalized entries being collected for one frame.
pub(crate) struct Entries {
    pub out: Vec<u8>,
    /// Entries taken as they arrived instead of `out` (see [`Entries::take_shared`]).
    shared: Option<(Bytes, bool)>,
    /// End offset in `out` of each entry.
    pub ends: Vec<u32>,
    pub count: usize,
    pub invalid: usize,
    now: EventTime,
    strict: bool,
    /// PackedForward: a zero time is kept as it is (Fluentd's `MessagePackEventStream` keeps it);
    /// Message and Forward modes replace it with now.
    pub keep_zero: bool,
    /// A record may hold a map that repeats a key ([`logferry_msgpack::walk_keys`]): the frame's
    /// records are then folded as Fluentd reads them.
    pub maybe_repeated: bool,
}

/// Bytes before the record in the kept form: `92 D7 00 <sec> <nsec>`.
pub(crate) const KEPT_HEADER: usize = 11;

/// True when the marker starts a map (fixmap, map16, map32).
pub(crate) fn is_map(marker: Option<u8>) -> bool {
    matches!(marker, Some(0x80..=0x8f | 0xde | 0xdf))
}

/// The time and record of a whole entry already in the form entries are kept in,
/// `[EventTime, map]` (`92 D7 00 <sec> <nsec> <map>`), read in place; `None` for any other form.
pub(crate) fn kept_form(raw: &[u8]) -> Option<(EventTime, &[u8])> {
    match raw {
        [0x92, 0xd7, 0x00, s0, s1, s2, s3, n0, n1, n2, n3, record @ ..]
            if is_map(record.first().copied()) =>
        {
            Some((
                EventTime::new(
                    u32::from_be_bytes([*s0, *s1, *s2, *s3]),
                    u32::from_be_bytes([*n0, *n1, *n2, *n3]),
                ),
                record,
            ))
        }
        _ => None,
    }
}

/// True when the marker starts an array (fixarray, array16, array32).
pub(crate) fn is_array(marker: Option<u8>) -> bool {
    matches!(marker, Some(0x90..=0x9f | 0xdc | 0xdd))
}

impl Entries {
    /// `strict` = `skip_invalid_event`; `now` replaces zero times.
    pub fn new(now: EventTime, strict: bool) -> Self {
        Entries {
            out: Vec::new(),
            shared: None,
            ends: Vec::new(),
            count: 0,
            invalid: 0,
            now,
            strict,
            keep_zero: false,
            maybe_repeated: false,
        }
    }

    /// Resolve a time value: an integer, an EventTime or a float (its fraction kept, as Fluentd's
    /// default `skip_invalid_event false` keeps a float time); a negative one wraps to 32 bits
    /// as Fluentd's EventTime does on the wire. Strict (`skip_invalid_event`): any
    /// other value makes the entry invalid; lenient: it becomes now. Zero seconds → now (except in
    /// PackedForward, see `keep_zero`).
    pub fn time(&self, raw: &[u8]) -> Option<EventTime> {
        let mut r = Reader::new(raw);
        let negative = || match Reader::new(raw).read_i64() {
            Ok(i) if i < 0 => Some(i as f64),
            _ => None,
        };
        // The low 32 bits of an integer of any width (two's complement for a negative one).
        let integer = || {
            let mut r = Reader::new(raw);
            r.read_i64()
                .map(|i| i as u32)
                .or_else(|_| Reader::new(raw).read_u64().map(|u| u as u32))
                .ok()
        };
        let t = match read_time(&mut r) {
            Ok(Some(t)) => t,
            _ => match Reader::new(raw).read_f64().or_else(|e| negative().ok_or(e)) {
                Ok(f) if (0.0..4_294_967_296.0).contains(&f) => EventTime::from_f64(f),
                // A time before 1970 is kept, as Fluentd's forward protocol carries it on to the
                // next hop: a 32-bit unsigned EventTime (Ruby's pack('NN'), so -1 becomes
                // 4294967295). Dropping the event would lose it.
                Ok(f) if (-2_147_483_648.0..0.0).contains(&f) => {
                    EventTime::from_f64(f + 4_294_967_296.0)
                }
                // Any other integer is an Integer to Fluentd, valid even with
                // `skip_invalid_event`: kept, its seconds wrapped to 32 bits as Fluentd's msgpack
                // wraps them on the next hop.
                _ => match integer() {
                    Some(sec) => EventTime::new(sec, 0),
                    None if self.strict => return None,
                    None => EventTime::default(),
                },
            },
        };
        Some(self.zero_to_now(t))
    }

    fn zero_to_now(&self, t: EventTime) -> EventTime {
        if t.sec == 0 && !self.keep_zero {
            self.now
        } else {
            t
        }
    }

    /// Take `data`, entries already in the kept form whose end offsets are `ends`, as they are
    /// (instead of anything appended so far); `tight`: see [`crate::EventsFrame::tight`].
    pub fn take_shared(&mut self, data: Bytes, ends: Vec<u32>, tight: bool) {
        self.take_owned(Vec::new(), ends);
        self.shared = Some((data, tight));
    }

    /// [`take_shared`](Self::take_shared) for entries in a `Vec` of their own (decompressed
    /// ones): [`finish`](Self::finish) tells whether its allocation is tight.
    pub fn take_owned(&mut self, data: Vec<u8>, ends: Vec<u32>) {
        self.out = data;
        self.count = ends.len();
        self.ends = ends;
        self.shared = None;
    }

    /// The entries' bytes, and whether they may be kept without pinning much more memory.
    pub fn finish(&mut self) -> (Bytes, bool) {
        match self.shared.take() {
            Some(s) => s,
            None => {
                let out = std::mem::take(&mut self.out);
                let tight = out.capacity() - out.len() <= out.len() / 8;
                (Bytes::from(out), tight)
            }
        }
    }

    /// Append one event whose parts are already validated.
    pub fn push(&mut self, time: EventTime, record: &[u8]) {
        self.out.push(0x92);
        time.encode(&mut self.out);
        self.out.extend_from_slice(record);
        self.count += 1;
        // A frame is limited far below 4 GiB; past it the index would stop.
        if let Ok(end) = u32::try_from(self.out.len()) {
            self.ends.push(end);
        }
    }

    /// Validate and append one `[time, record]` or `[[time, meta], record]`
    /// entry given as raw bytes of a whole value; count it invalid otherwise.
    pub fn add_entry(&mut self, raw: &[u8], tag_ok: bool) {
        match self.parse_entry(raw) {
            Some((t, rec)) if tag_ok || !self.strict => self.push(t, rec),
            _ => self.invalid += 1,
        }
    }

    fn parse_entry<'a>(&self, raw: &'a [u8]) -> Option<(EventTime, &'a [u8])> {
        // The usual shape, `[EventTime, {…}]`, read in place.
        if let Some((t, record)) = kept_form(raw) {
            return Some((self.zero_to_now(t), record));
        }
        let mut r = Reader::new(raw);
        let len = r.read_array_len().ok()?;
        if len < 2 {
            return None;
        }
        let mut time_raw = r.read_raw().ok()?;
        if is_array(time_raw.first().copied()) {
            // Fluent Bit v2: [[time, metadata], record]
            let mut tr = Reader::new(time_raw);
            if tr.read_array_len().ok()? == 0 {
                return None;
            }
            time_raw = tr.read_raw().ok()?;
        }
        // `raw` is exactly one value, so in the usual 2-element entry the record is the rest (no
        // second walk over it).
        let record = if len == 2 {
            r.remaining()
        } else {
            r.read_raw().ok()?
        };
        if !is_map(record.first().copied()) {
            return None;
        }
        Some((self.time(time_raw)?, record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_before_1970_is_kept_as_fluentd_forwards_it() {
        let now = EventTime::new(1_700_000_000, 0);
        for strict in [true, false] {
            let e = Entries::new(now, strict);
            // -1 (negative fixint), -100000 (int32), -1.5 (float64).
            assert_eq!(e.time(&[0xff]), Some(EventTime::new(u32::MAX, 0)));
            assert_eq!(
                e.time(&[0xd2, 0xff, 0xfe, 0x79, 0x60]),
                Some(EventTime::new(u32::MAX - 99_999, 0))
            );
            let mut f = vec![0xcb];
            f.extend_from_slice(&(-1.5f64).to_be_bytes());
            assert_eq!(e.time(&f), Some(EventTime::new(u32::MAX - 1, 500_000_000)));
        }
        // Before -2^31 or past 2^32 an integer is still a Ruby Integer, valid to Fluentd even
        // with skip_invalid_event: kept with its low 32 bits.
        let mut big = vec![0xd3];
        big.extend_from_slice(&(-5_000_000_000i64).to_be_bytes());
        let wrapped = (-5_000_000_000i64) as u32;
        let mut huge = vec![0xcf];
        huge.extend_from_slice(&(u64::MAX - 1).to_be_bytes());
        for strict in [true, false] {
            let e = Entries::new(now, strict);
            assert_eq!(e.time(&big), Some(EventTime::new(wrapped, 0)));
            assert_eq!(e.time(&huge), Some(EventTime::new(u32::MAX - 1, 0)));
            // 2^63: its low 32 bits are 0, which is "now" as any zero time.
            let mut p = vec![0xcf];
            p.extend_from_slice(&(1u64 << 63).to_be_bytes());
            assert_eq!(e.time(&p), Some(now));
        }
        // A string is not a time: invalid when strict.
        assert_eq!(Entries::new(now, true).time(&[0xa1, b'x']), None);
    }
}
