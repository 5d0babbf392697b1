//! PutLogEvents batches of one stream's time-ordered events: at most `max_events` events
//! (10,000, or `max_events_per_batch`), at most 1,048,576 bytes counting 26 per event, and a
//! span under 24 hours.

use super::events::{Event, EVENT_OVERHEAD};

/// CloudWatch Logs' largest batch in bytes (messages + 26 per event).
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// CloudWatch Logs' most events per batch.
pub const MAX_BATCH_EVENTS: usize = 10_000;
/// The widest time span of one batch, exclusive.
pub const MAX_SPAN_MS: i64 = 24 * 3600 * 1000;

/// Ranges of `events` (sorted by time), one per PutLogEvents call.
pub fn batches(events: &[Event], max_events: usize) -> Vec<std::ops::Range<usize>> {
    let max_events = max_events.clamp(1, MAX_BATCH_EVENTS);
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, e) in events.iter().enumerate() {
        let size = e.message.len() + EVENT_OVERHEAD;
        let full = i > start
            && (i - start >= max_events
                || bytes + size > MAX_BATCH_BYTES
                || e.ts_ms - events[start].ts_ms >= MAX_SPAN_MS);
        if full {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < events.len() {
        out.push(start..events.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ts_ms: i64, len: usize) -> Event {
        Event {
            ts_ms,
            message: "x".repeat(len),
            entry: 0,
        }
    }

    #[test]
    fn count_bytes_and_span_limits() {
        let many: Vec<Event> = (0..25_000).map(|i| ev(i, 10)).collect();
        let b = batches(&many, 10_000);
        assert_eq!(b, vec![0..10_000, 10_000..20_000, 20_000..25_000]);
        assert_eq!(batches(&many[..10], 3).len(), 4);

        // 1,048,576 bytes with the 26-byte overhead: two events of (524,288 - 26) fit, a third
        // does not.
        let half = MAX_BATCH_BYTES / 2 - EVENT_OVERHEAD;
        let big = vec![ev(0, half), ev(0, half), ev(0, 1)];
        assert_eq!(batches(&big, 10_000), vec![0..2, 2..3]);

        let span = vec![ev(0, 1), ev(MAX_SPAN_MS - 1, 1), ev(MAX_SPAN_MS, 1)];
        assert_eq!(batches(&span, 10_000), vec![0..2, 2..3]);
        assert!(batches(&[], 10).is_empty());
    }
}
