//! The phi accrual failure detector of Fluentd's out_forward (`out_forward/failure_detector.rb`),
//! line for line: a weighted moving average of heartbeat gaps, a hard timeout, and a sample count
//! that gates recovery (`recover_wait / heartbeat_interval`).

use std::collections::VecDeque;

/// `1 / ln(10)`.
const PHI_FACTOR: f64 = 1.0 / std::f64::consts::LN_10;
/// Gaps kept (Fluentd's `SAMPLE_SIZE`).
const SAMPLE_SIZE: usize = 1000;

/// One server's heartbeat history. Times are seconds on any monotonic clock.
#[derive(Clone, Debug)]
pub struct FailureDetector {
    heartbeat_interval: f64,
    hard_timeout: f64,
    last: f64,
    init_gap: i64,
    /// Gaps between heartbeats, in microseconds.
    window: VecDeque<i64>,
}

impl FailureDetector {
    /// A detector whose last heartbeat was at `init_last`.
    pub fn new(heartbeat_interval: f64, hard_timeout: f64, init_last: f64) -> Self {
        let init_gap = (heartbeat_interval * 1e6) as i64;
        FailureDetector {
            heartbeat_interval,
            hard_timeout,
            last: init_last,
            init_gap,
            window: VecDeque::from([init_gap]),
        }
    }

    /// No heartbeat for longer than `hard_timeout`?
    pub fn hard_timeout(&self, now: f64) -> bool {
        now - self.last > self.hard_timeout
    }

    /// Record a heartbeat at `now`.
    pub fn add(&mut self, now: f64) {
        if self.window.is_empty() {
            self.window.push_back(self.init_gap);
        } else {
            self.window.push_back(((now - self.last) * 1e6) as i64);
            if self.window.len() > SAMPLE_SIZE {
                self.window.pop_front();
            }
        }
        self.last = now;
    }

    /// The suspicion level at `now`.
    pub fn phi(&self, now: f64) -> f64 {
        if self.window.is_empty() {
            return 0.0;
        }
        let (mut sum, mut fact) = (0i128, 0i128);
        for (i, gap) in self.window.iter().enumerate() {
            sum += i128::from(*gap) * (i as i128 + 1);
            fact += i as i128 + 1;
        }
        // Integer division, as Ruby's.
        let mean_usec = sum / fact;
        let mean = (mean_usec as f64 / 1e6) - self.heartbeat_interval + 1.0;
        let t = now - self.last - self.heartbeat_interval + 1.0;
        PHI_FACTOR * t / mean
    }

    /// Heartbeats recorded since the last [`clear`](Self::clear).
    pub fn sample_size(&self) -> usize {
        self.window.len()
    }

    /// Forget the history (on detach).
    pub fn clear(&mut self) {
        self.window.clear();
        self.last = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_heartbeats_keep_phi_low() {
        let mut f = FailureDetector::new(1.0, 60.0, 0.0);
        for t in 1..=20 {
            f.add(f64::from(t));
        }
        assert!(f.phi(20.5) < 1.0);
        assert!(!f.hard_timeout(20.5));
        assert_eq!(f.sample_size(), 21);
    }

    #[test]
    fn silence_raises_phi_past_the_threshold() {
        let mut f = FailureDetector::new(1.0, 60.0, 0.0);
        for t in 1..=10 {
            f.add(f64::from(t));
        }
        // mean gap 1 s → phi = t / ln 10; 16 is crossed after ~37 s of silence.
        assert!(f.phi(10.0 + 30.0) < 16.0);
        assert!(f.phi(10.0 + 40.0) > 16.0);
        assert!(f.hard_timeout(10.0 + 61.0));
    }

    #[test]
    fn clear_resets_and_add_restarts_the_window() {
        let mut f = FailureDetector::new(0.5, 60.0, 0.0);
        f.add(0.5);
        f.clear();
        assert_eq!(f.sample_size(), 0);
        assert_eq!(f.phi(100.0), 0.0);
        assert!(f.hard_timeout(61.0));
        f.add(100.0);
        assert_eq!(f.sample_size(), 1);
        assert!(!f.hard_timeout(100.5));
    }
}
