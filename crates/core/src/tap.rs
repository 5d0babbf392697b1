//! Taps: copies of the events passing a plugin or a tag pattern, for `logferry tap`.
//!
//! The router offers a batch at each point of its route (after each filter, before the output)
//! only while someone taps: [`active`] is one relaxed atomic load, and that is all a route costs
//! when nobody does. A tap samples (one event in `sample`), limits its rate (at most `rate`
//! events a second, a token bucket), masks the values of secret-looking keys (as `--dry-run`
//! masks the config) and hands JSON lines to a bounded queue without waiting: a slow reader
//! loses lines (they are counted), never slows the pipeline.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use logferry_msgpack::Value;
use tokio::sync::mpsc;

use crate::event::EventBatch;
use crate::tag::MatchPattern;

/// Lines a tap queues for its reader before it drops.
pub const QUEUE: usize = 1024;

static ACTIVE: AtomicBool = AtomicBool::new(false);
static TAPS: Mutex<Vec<Arc<Tap>>> = Mutex::new(Vec::new());

/// True while at least one tap is attached (a relaxed load: the hot-path check).
#[inline]
pub fn active() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

/// What a tap selects.
#[derive(Debug)]
pub enum Select {
    /// The events passing the plugin with this `@id` (or `object:<n>`).
    Plugin(String),
    /// The events whose tag matches, wherever they pass (each event once: at its output).
    Tag(MatchPattern),
}

/// One attached tap.
pub struct Tap {
    select: Select,
    sample: u64,
    rate: f64,
    seen: AtomicU64,
    /// (tokens, last refill).
    bucket: Mutex<(f64, Instant)>,
    /// Lines dropped (queue full or over the rate).
    pub dropped: AtomicU64,
    tx: mpsc::Sender<String>,
}

/// A reader's end of a tap; detaches when dropped.
pub struct Subscription {
    /// The JSON lines.
    pub rx: mpsc::Receiver<String>,
    tap: Arc<Tap>,
}

impl Subscription {
    /// Lines dropped so far.
    pub fn dropped(&self) -> u64 {
        self.tap.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut taps = TAPS.lock().unwrap_or_else(|e| e.into_inner());
        taps.retain(|t| !Arc::ptr_eq(t, &self.tap));
        ACTIVE.store(!taps.is_empty(), Ordering::Relaxed);
    }
}

/// Attach a tap: one event in `sample` (at least 1), at most `rate` a second.
pub fn subscribe(select: Select, sample: u64, rate: f64) -> Subscription {
    let (tx, rx) = mpsc::channel(QUEUE);
    let rate = if rate > 0.0 { rate } else { f64::INFINITY };
    let tap = Arc::new(Tap {
        select,
        sample: sample.max(1),
        rate,
        seen: AtomicU64::new(0),
        bucket: Mutex::new((rate.min(1e9), Instant::now())),
        dropped: AtomicU64::new(0),
        tx,
    });
    let mut taps = TAPS.lock().unwrap_or_else(|e| e.into_inner());
    taps.push(tap.clone());
    ACTIVE.store(true, Ordering::Relaxed);
    Subscription { rx, tap }
}

impl Tap {
    fn wants(&self, plugin: &str, tag: &str, at_output: bool) -> bool {
        match &self.select {
            Select::Plugin(id) => id == plugin,
            Select::Tag(p) => at_output && p.matches(tag),
        }
    }

    /// Take up to `want` tokens from the rate bucket (one lock per batch); how many were given.
    fn take_tokens(&self, want: u64) -> u64 {
        if self.rate.is_infinite() || want == 0 {
            return want;
        }
        let mut b = self.bucket.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        b.0 = (b.0 + now.duration_since(b.1).as_secs_f64() * self.rate).min(self.rate.max(1.0));
        b.1 = now;
        let got = (b.0.floor() as u64).min(want);
        b.0 -= got as f64;
        got
    }
}

/// Offer the batch passing `plugin` (with `tag`) to the taps; `at_output`: the batch is about
/// to enter its output (where tag taps see it). Call only when [`active`]. Per batch and tap: one
/// counter add and one lock of the rate bucket; only the events let through are decoded.
pub fn offer(plugin: &str, tag: &str, batch: &EventBatch, at_output: bool) {
    let taps: Vec<Arc<Tap>> = {
        let taps = TAPS.lock().unwrap_or_else(|e| e.into_inner());
        taps.iter()
            .filter(|t| t.wants(plugin, tag, at_output))
            .cloned()
            .collect()
    };
    let n = batch.len() as u64;
    for t in taps {
        // Events first + i with (first + i) % sample == 0 are sampled; tokens for them in one go.
        let first = t.seen.fetch_add(n, Ordering::Relaxed);
        let skip = (t.sample - first % t.sample) % t.sample;
        let picked = if skip >= n {
            0
        } else {
            (n - skip - 1) / t.sample + 1
        };
        let allowed = t.take_tokens(picked);
        if picked > allowed {
            t.dropped.fetch_add(picked - allowed, Ordering::Relaxed);
        }
        let events = batch
            .iter()
            .skip(skip as usize)
            .step_by(t.sample as usize)
            .take(allowed as usize);
        for e in events {
            let mut record = e.decode_record();
            mask(&mut record);
            let mut json = Vec::new();
            record.to_json(&mut json);
            // The time as exact decimal seconds (nanoseconds kept).
            let line = format!(
                "{{\"plugin_id\":{},\"tag\":{},\"time\":{}.{:09},\"record\":{}}}",
                serde_json_string(plugin),
                serde_json_string(tag),
                e.time.sec,
                e.time.nsec,
                String::from_utf8_lossy(&json)
            );
            if t.tx.try_send(line).is_err() {
                t.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

fn serde_json_string(s: &str) -> String {
    let mut out = Vec::new();
    Value::Str(s.to_string()).to_json(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Replace the values of secret-looking keys (`password`, `shared_key`, `*_secret` …, the keys
/// `--dry-run` masks) with `xxxxxx`, at any depth.
pub fn mask(v: &mut Value) {
    match v {
        Value::Map(fields) => {
            for (k, val) in fields.iter_mut() {
                let secret = match k {
                    Value::Str(s) => crate::section::is_secret(s),
                    _ => false,
                };
                if secret {
                    *val = Value::Str("xxxxxx".into());
                } else {
                    mask(val);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::BatchBuilder;
    use logferry_msgpack::EventTime;

    fn batch(n: usize) -> EventBatch {
        let mut b = BatchBuilder::new();
        for i in 0..n {
            b.push_value(
                EventTime::new(1, 0),
                &Value::Map(vec![
                    (Value::Str("i".into()), Value::Int(i as i64)),
                    (Value::Str("password".into()), Value::Str("hunter2".into())),
                ]),
            );
        }
        b.finish()
    }

    #[test]
    fn sampled_masked_and_detached_on_drop() {
        let mut sub = subscribe(Select::Plugin("tap_test_out".into()), 2, 0.0);
        assert!(active());
        offer("other", "t", &batch(3), true);
        offer("tap_test_out", "t", &batch(4), true);
        let mut lines = Vec::new();
        while let Ok(l) = sub.rx.try_recv() {
            lines.push(l);
        }
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[1].contains(r#""i":2"#), "{lines:?}");
        assert!(lines[0].contains(r#""password":"xxxxxx""#), "{lines:?}");
        assert!(!lines[0].contains("hunter2"));
        drop(sub);
        // Other tests may tap concurrently; this one's tap is gone.
        assert!(TAPS
            .lock()
            .unwrap()
            .iter()
            .all(|t| !matches!(&t.select, Select::Plugin(p) if p == "tap_test_out")));
    }

    #[test]
    fn the_rate_limit_drops_and_counts() {
        let mut sub = subscribe(Select::Plugin("tap_rate_out".into()), 1, 5.0);
        offer("tap_rate_out", "t", &batch(50), true);
        let mut n = 0;
        while sub.rx.try_recv().is_ok() {
            n += 1;
        }
        assert!((5..=6).contains(&n), "{n}");
        assert!(sub.dropped() >= 44, "{}", sub.dropped());
    }
}
