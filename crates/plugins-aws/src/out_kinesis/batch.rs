//! Batches of records for PutRecordBatch / PutRecords, and aws-fluent-plugin-kinesis' backoff
//! between attempts of a partly failed batch.

/// Split record sizes into consecutive batches of at most `max_count` records and `max_bytes`
/// bytes (a record larger than `max_bytes` alone makes a batch; records are checked against
/// `max_record_size` when they are buffered).
pub fn batches(sizes: &[usize], max_count: usize, max_bytes: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, &size) in sizes.iter().enumerate() {
        if i > start && (i - start + 1 > max_count || bytes + size > max_bytes) {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < sizes.len() {
        out.push(start..sizes.len());
    }
    out
}

/// aws-fluent-plugin-kinesis' backoff: `2^n * (0.3 ± 0.05)` seconds, reset to the first step
/// when some records of the last attempt were shipped (`reset_backoff_if_success`).
#[derive(Debug, Default)]
pub struct Backoff {
    count: u32,
}

impl Backoff {
    /// The next wait, in seconds.
    pub fn next_wait(&mut self) -> f64 {
        let scale = 0.3 + (0.5 - rand::random::<f64>()) * 0.1;
        let v = 2f64.powi(self.count.min(20) as i32) * scale;
        self.count += 1;
        v
    }

    /// Back to the first step.
    pub fn reset(&mut self) {
        self.count = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_and_size_limits() {
        let sizes = vec![10; 1200];
        assert_eq!(
            batches(&sizes, 500, 1 << 20),
            vec![0..500, 500..1000, 1000..1200]
        );
        assert_eq!(batches(&[6, 6, 6], 500, 12), vec![0..2, 2..3]);
        assert_eq!(batches(&[20, 1], 500, 12), vec![0..1, 1..2]);
        assert!(batches(&[], 500, 12).is_empty());
    }

    #[test]
    fn backoff_doubles_and_resets() {
        let mut b = Backoff::default();
        let first = b.next_wait();
        assert!((0.25..=0.35).contains(&first));
        let second = b.next_wait();
        assert!((0.5..=0.7).contains(&second));
        b.reset();
        assert!(b.next_wait() <= 0.35);
    }
}
