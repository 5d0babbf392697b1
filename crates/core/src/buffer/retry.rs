//! The retry schedule, as Fluentd's `RetryState`: the first retry after `retry_wait`, then
//! exponential backoff (or periodic), randomized, capped, bounded by `retry_timeout` or
//! `retry_max_times` unless `retry_forever`; the secondary takes over at a threshold.

use std::time::Duration;

use super::config::RetryConfig;

/// Retry state of one output, in seconds since an arbitrary start (a monotonic clock reading).
#[derive(Clone, Debug)]
pub struct RetryState {
    start: f64,
    steps: u32,
    /// When the next attempt is due.
    pub next: f64,
    last_attempt: bool,
}

/// What to do after a failure.
#[derive(Clone, Debug, PartialEq)]
pub enum AfterFailure {
    /// Retry at this time.
    RetryAt(f64),
    /// The retry limit is reached: give up the queued chunks.
    GiveUp,
}

impl RetryState {
    /// The state after the first failure at `now`.
    pub fn first(cfg: &RetryConfig, now: f64) -> (RetryState, AfterFailure) {
        let mut s = RetryState {
            start: now,
            steps: 0,
            next: now,
            last_attempt: false,
        };
        if cfg.max_times == Some(0) && !cfg.forever {
            return (s, AfterFailure::GiveUp);
        }
        s.next = s.clamp(cfg, now + cfg.wait);
        let next = s.next;
        (s, AfterFailure::RetryAt(next))
    }

    /// Record another failure at `now`.
    pub fn failed(&mut self, cfg: &RetryConfig, now: f64) -> AfterFailure {
        if !cfg.forever {
            if self.last_attempt {
                return AfterFailure::GiveUp;
            }
            if let Some(max) = cfg.max_times {
                if self.steps + 1 >= max {
                    return AfterFailure::GiveUp;
                }
            }
        }
        self.steps += 1;
        let interval = self.interval(cfg, rand::random::<f64>());
        self.next = self.clamp(cfg, now + interval);
        AfterFailure::RetryAt(self.next)
    }

    /// The wait before retry number `steps` (exponential or periodic), randomized by `r` in [0,1).
    fn interval(&self, cfg: &RetryConfig, r: f64) -> f64 {
        let base = if cfg.exponential {
            cfg.wait * cfg.base.powi(self.steps as i32)
        } else {
            cfg.wait
        };
        let base = match cfg.max_interval {
            Some(m) if base > m => m,
            _ => base,
        };
        if cfg.randomize {
            // ±12.5 %, as Fluentd's randomize_width 0.125.
            let v = base * (0.875 + 0.25 * r);
            match cfg.max_interval {
                Some(m) if v > m => m,
                _ => v,
            }
        } else {
            base
        }
    }

    fn clamp(&mut self, cfg: &RetryConfig, at: f64) -> f64 {
        if cfg.forever {
            return at;
        }
        let end = self.start + cfg.timeout;
        if at >= end {
            self.last_attempt = true;
            return end;
        }
        at
    }

    /// Should chunks go to the secondary now? (Past `retry_secondary_threshold` of the retry budget.)
    pub fn secondary_due(&self, cfg: &RetryConfig, now: f64) -> bool {
        let budget = match cfg.max_times {
            Some(n) if !cfg.forever => {
                // Total wait of n retries without randomization.
                let mut total = 0.0;
                for i in 0..n {
                    let w = if cfg.exponential {
                        cfg.wait * cfg.base.powi(i as i32)
                    } else {
                        cfg.wait
                    };
                    total += cfg.max_interval.map_or(w, |m| w.min(m));
                }
                total.min(cfg.timeout)
            }
            _ => cfg.timeout,
        };
        now >= self.start + budget * cfg.secondary_threshold
    }

    /// When the first failure happened (the monotonic clock of [`mono_now`]).
    pub fn started(&self) -> f64 {
        self.start
    }

    /// Retries made so far.
    pub fn steps(&self) -> u32 {
        self.steps
    }
}

/// Seconds on the monotonic clock since the process started.
pub fn mono_now() -> f64 {
    use std::sync::OnceLock;
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_secs_f64()
}

/// Seconds → Duration, never negative.
pub fn secs(d: f64) -> Duration {
    Duration::from_secs_f64(d.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> RetryConfig {
        RetryConfig {
            exponential: true,
            wait: 1.0,
            base: 2.0,
            max_interval: None,
            randomize: false,
            timeout: 72.0 * 3600.0,
            max_times: None,
            forever: false,
            secondary_threshold: 0.8,
        }
    }

    // Reference §7.9 case 98: retries at ≈1, +2, +4, +8 s.
    #[test]
    fn case_98_exponential_schedule() {
        let c = cfg();
        let (mut s, a) = RetryState::first(&c, 0.0);
        assert_eq!(a, AfterFailure::RetryAt(1.0));
        assert_eq!(s.failed(&c, 1.0), AfterFailure::RetryAt(3.0));
        assert_eq!(s.failed(&c, 3.0), AfterFailure::RetryAt(7.0));
        assert_eq!(s.failed(&c, 7.0), AfterFailure::RetryAt(15.0));
    }

    // retry_max_times 2 → the original attempt and 2 retries, then give up.
    #[test]
    fn max_times() {
        let c = RetryConfig {
            max_times: Some(2),
            ..cfg()
        };
        let (mut s, a) = RetryState::first(&c, 0.0);
        assert!(matches!(a, AfterFailure::RetryAt(_)));
        assert!(matches!(s.failed(&c, 1.0), AfterFailure::RetryAt(_)));
        assert_eq!(s.failed(&c, 3.0), AfterFailure::GiveUp);
        let c0 = RetryConfig {
            max_times: Some(0),
            ..cfg()
        };
        assert_eq!(RetryState::first(&c0, 0.0).1, AfterFailure::GiveUp);
    }

    #[test]
    fn timeout_clamps_then_gives_up() {
        let c = RetryConfig {
            timeout: 5.0,
            ..cfg()
        };
        let (mut s, _) = RetryState::first(&c, 0.0);
        assert_eq!(s.failed(&c, 1.0), AfterFailure::RetryAt(3.0));
        assert_eq!(
            s.failed(&c, 3.0),
            AfterFailure::RetryAt(5.0),
            "clamped to start + retry_timeout"
        );
        assert_eq!(s.failed(&c, 5.0), AfterFailure::GiveUp);
        let f = RetryConfig {
            timeout: 5.0,
            forever: true,
            max_times: Some(1),
            ..cfg()
        };
        let (mut s, _) = RetryState::first(&f, 0.0);
        for i in 0..10 {
            assert!(matches!(s.failed(&f, i as f64), AfterFailure::RetryAt(_)));
        }
    }

    #[test]
    fn periodic_cap_and_randomize() {
        let c = RetryConfig {
            exponential: false,
            wait: 2.0,
            ..cfg()
        };
        let (mut s, _) = RetryState::first(&c, 0.0);
        assert_eq!(s.failed(&c, 2.0), AfterFailure::RetryAt(4.0));
        let c = RetryConfig {
            max_interval: Some(3.0),
            ..cfg()
        };
        let (mut s, _) = RetryState::first(&c, 0.0);
        s.failed(&c, 1.0);
        assert_eq!(
            s.failed(&c, 3.0),
            AfterFailure::RetryAt(6.0),
            "4 s capped to 3 s"
        );
        let r = RetryConfig {
            randomize: true,
            ..cfg()
        };
        let s = RetryState {
            start: 0.0,
            steps: 3,
            next: 0.0,
            last_attempt: false,
        };
        assert_eq!(s.interval(&r, 0.0), 7.0);
        assert_eq!(s.interval(&r, 1.0), 9.0);
    }

    #[test]
    fn secondary_threshold() {
        let c = RetryConfig {
            max_times: Some(4),
            ..cfg()
        };
        let (s, _) = RetryState::first(&c, 0.0);
        // Budget 1+2+4+8 = 15 s; 80 % = 12 s.
        assert!(!s.secondary_due(&c, 11.9));
        assert!(s.secondary_due(&c, 12.0));
    }
}
