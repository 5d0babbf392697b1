//! `roundrobin` output: sends each emit to the next `<store>` in turn, as Fluentd's
//! `out_roundrobin`.
//!
//! Each emit (what one input hands on at once: a forward message, an HTTP request's events)
//! goes whole to one store. With every `weight` 1 (the default) the stores take turns in the order
//! written, the first emit going to the first store; with weights, each store appears
//! `weight / gcd(weights)` times in a cycle shuffled once at start-up, as Fluentd builds its
//! weight array (so which store takes the first emit is random, the shares are the weights').
//! A store of weight 0 or less takes nothing. An error of the store whose turn it is ends the emit
//! with that error (no other store is tried), as in Fluentd.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use logferry_core::error::build_error;
use logferry_core::params::{many, p, Body, ParamType::*, PluginKind, Spec};
use logferry_core::{BuildCtx, BuildError, EmitError, EventBatch, Output, Section};
use rand::seq::SliceRandom;

use crate::out_forward::node::gcd;

/// The longest cycle built: Fluentd would allocate one entry per unit of weight.
const MAX_CYCLE: u64 = 1_000_000;

/// The roundrobin output.
pub struct RoundRobinOutput {
    stores: Vec<Arc<dyn Output>>,
    /// Store indexes, each repeated by its weight (divided by the weights' gcd).
    cycle: Vec<u32>,
    /// Emits so far: the next one goes to `cycle[turn % cycle.len()]`.
    turn: AtomicUsize,
}

/// A `<store>`'s own parameter (the rest are the store's plugin's).
pub static STORE: Spec = Spec::new("roundrobin.store", "A store of `roundrobin`.").params(&[p(
    "weight",
    Integer,
    "This store's share of the emits (0 or less: none).",
)
.default("1")]);

/// `roundrobin` output.
pub static PARAMS: Spec = Spec::new(
    "roundrobin",
    "Sends each emit to one `<store>`, in turn, by their `weight`s.",
)
.sections(&[many(
    "store",
    Body::Plugin(PluginKind::Output, None),
    "An output; `weight` (integer, default 1) is its share of the emits.",
)]);

/// Build from `<match>`: every `<store>` is built as an output in the same router context,
/// without its `weight`, which is roundrobin's.
pub fn build(ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Output>, BuildError> {
    let s = &s.declared(&PARAMS);
    let sections = s.sections("store");
    if sections.is_empty() {
        return Err(build_error(
            s.pos(),
            "roundrobin needs at least one <store> section",
        ));
    }
    let mut stores = Vec::new();
    let mut weights = Vec::new();
    for st in &sections {
        weights.push(st.declared(&STORE).get::<i64>("weight")?);
        // The store's plugin reports what it does not use; roundrobin must not report it again.
        crate::out_copy::mark_all(st);
        let mut el = st.element().clone();
        el.params.retain(|p| p.key != "weight");
        stores.push(ctx.build_output(&el)?);
    }
    let cycle = cycle(&weights).map_err(|e| build_error(s.pos(), e))?;
    Ok(Arc::new(RoundRobinOutput {
        stores,
        cycle,
        turn: AtomicUsize::new(0),
    }))
}

/// Fluentd's weight array: each store's index `weight / gcd` times (the gcd of the weights'
/// magnitudes, as Ruby's `Integer#gcd`), shuffled when a weight is above 1.
fn cycle(weights: &[i64]) -> Result<Vec<u32>, String> {
    let g = weights.iter().fold(0u64, |g, w| gcd(g, w.unsigned_abs()));
    let copies: Vec<u64> = weights
        .iter()
        .map(|&w| if w > 0 { w as u64 / g } else { 0 })
        .collect();
    let total: u64 = copies.iter().sum();
    if total == 0 {
        // Fluentd starts (or, with every weight 0, fails with ZeroDivisionError) and then fails
        // every emit: nothing would ever be written.
        return Err(
            "roundrobin: no <store> has a weight above 0, so no store would take the events".into(),
        );
    }
    if total > MAX_CYCLE {
        return Err(format!(
            "roundrobin: the weights divided by their greatest common divisor add up to {total}, more than {MAX_CYCLE}: use smaller weights in the same proportions"
        ));
    }
    let mut cycle = Vec::with_capacity(total as usize);
    for (i, &n) in copies.iter().enumerate() {
        cycle.extend(std::iter::repeat_n(i as u32, n as usize));
    }
    if weights.iter().any(|&w| w > 1) {
        cycle.shuffle(&mut rand::rng());
    }
    Ok(cycle)
}

#[async_trait]
impl Output for RoundRobinOutput {
    async fn emit(&self, tag: &str, batch: EventBatch) -> Result<(), EmitError> {
        let turn = self.turn.fetch_add(1, Ordering::Relaxed) % self.cycle.len();
        let store = &self.stores[self.cycle[turn] as usize];
        // A PackedForward stream's repeated map keys are folded for a store that reads records.
        let batch = if batch.is_unfolded() && store.reads_records() {
            batch.folded()
        } else {
            batch
        };
        store.emit(tag, batch).await
    }

    async fn shutdown(&self) {
        for s in &self.stores {
            s.shutdown().await;
        }
    }

    /// Each store is given the records as it reads them (see `emit`).
    fn reads_records(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use logferry_core::{BatchBuilder, EventTime, Pipeline, Registry};
    use std::path::Path;

    #[test]
    fn cycles_as_fluentd_builds_them() {
        assert_eq!(cycle(&[1, 1, 1]).unwrap(), [0, 1, 2]);
        // Weight 0 or less takes nothing; no weight above 1, so no shuffle.
        assert_eq!(cycle(&[1, 0, -3, 1]).unwrap(), [0, 3]);
        // Shares by weight / gcd: 4 and 2 are 2 and 1 (the order is shuffled).
        let mut c = cycle(&[4, 2]).unwrap();
        c.sort();
        assert_eq!(c, [0, 0, 1]);
        // Ruby's gcd counts a negative weight's magnitude: gcd(4, -6) is 2.
        let mut c = cycle(&[4, -6]).unwrap();
        c.sort();
        assert_eq!(c, [0, 0]);
        assert!(cycle(&[0, 0]).unwrap_err().contains("weight above 0"));
        assert!(cycle(&[-1]).unwrap_err().contains("weight above 0"));
        assert!(cycle(&[2_000_000, 1])
            .unwrap_err()
            .contains("smaller weights"));
    }

    fn dry(conf: &str) -> Result<Vec<String>, String> {
        let mut reg = Registry::new();
        reg.add_output("roundrobin", build);
        reg.declare(PluginKind::Output, "roundrobin", &PARAMS);
        reg.add_output("null", crate::out_null::build);
        reg.declare(PluginKind::Output, "null", &crate::out_null::PARAMS);
        let root = logferry_config::parse_str(conf, "t.conf", Path::new(".")).unwrap();
        Pipeline::build(&root, &reg)
            .map(|p| p.warnings)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn config_checks() {
        // `weight` is roundrobin's: the store's plugin does not report it unused.
        let w = dry("<match **>\n@type roundrobin\n<store>\n@type null\nweight 2\n</store>\n<store>\n@type null\nbogus 1\n</store>\n</match>\n").unwrap();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("'bogus'") && w[0].contains("null"), "{w:?}");
        let e = dry("<match **>\n@type roundrobin\n</match>\n").unwrap_err();
        assert!(e.contains("<store>"), "{e}");
        let e = dry("<match **>\n@type roundrobin\n<store>\nweight 1\n</store>\n</match>\n")
            .unwrap_err();
        assert!(e.contains("@type"), "{e}");
        let e = dry(
            "<match **>\n@type roundrobin\n<store>\n@type null\nweight 0\n</store>\n</match>\n",
        )
        .unwrap_err();
        assert!(
            e.contains("t.conf:1") && e.contains("weight above 0"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn emits_take_turns() {
        use std::sync::Mutex;
        struct Rec(usize, Arc<Mutex<Vec<usize>>>);
        #[async_trait]
        impl Output for Rec {
            async fn emit(&self, _: &str, _: EventBatch) -> Result<(), EmitError> {
                self.1.lock().unwrap().push(self.0);
                if self.0 == 2 {
                    return Err(EmitError::Failed("two".into()));
                }
                Ok(())
            }
        }
        let seen = Arc::new(Mutex::new(Vec::new()));
        let rr = RoundRobinOutput {
            stores: (0..3)
                .map(|i| Arc::new(Rec(i, seen.clone())) as Arc<dyn Output>)
                .collect(),
            cycle: cycle(&[1, 1, 1]).unwrap(),
            turn: AtomicUsize::new(0),
        };
        let mut results = Vec::new();
        for _ in 0..5 {
            let mut b = BatchBuilder::new();
            b.push_raw(EventTime::new(1, 0), &[0x80]);
            results.push(rr.emit("t", b.finish()).await.is_ok());
        }
        assert_eq!(*seen.lock().unwrap(), [0, 1, 2, 0, 1]);
        // The failing store's error is the emit's; no other store is tried for it.
        assert_eq!(results, [true, true, false, true, true]);
    }
}
