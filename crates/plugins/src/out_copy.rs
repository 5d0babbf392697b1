//! `copy` output: sends every batch to each `<store>` in order, as Fluentd's `out_copy`.
//!
//! `<store>` arguments (words in the section argument, as Fluentd checks them):
//! `ignore_error` — an error of this store is logged and the next stores still run;
//! `ignore_if_prev_success` — skip this store when the previous store ran and succeeded (not
//! allowed on the first store). An error of a store without `ignore_error` ends the emit with
//! that error: later stores are skipped and the caller sees the failure (`@ERROR` or no ack).
//!
//! `copy_mode` (`no_copy`, `shallow`, `deep`, `marshal`) and the deprecated `deep_copy` are
//! accepted and all behave the same: a batch is immutable msgpack bytes, so no store can change
//! what another store receives — every mode already gives each store its own untouched events.

use std::sync::Arc;

use async_trait::async_trait;
use logferry_core::error::build_error;
use logferry_core::params::{many, p, Body, ParamType::*, PluginKind, Spec};
use logferry_core::{BuildCtx, BuildError, EmitError, EventBatch, Output, PluginLog, Section};

/// One `<store>`.
pub struct Store {
    /// The store's output plugin.
    pub output: Arc<dyn Output>,
    /// `ignore_error` was given.
    pub ignore_error: bool,
    /// `ignore_if_prev_success` was given.
    pub ignore_if_prev_success: bool,
}

/// The copy output.
pub struct CopyOutput {
    stores: Vec<Store>,
    log: PluginLog,
}

/// Mark every parameter and sub-section of a store as read by copy: the store's own plugin
/// reports what it does not use, so copy must not report it a second time.
pub(crate) fn mark_all(s: &Section) {
    for p in &s.element().params {
        s.str(&p.key);
    }
    let mut names: Vec<&str> = s
        .element()
        .elements
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    names.dedup();
    for name in names {
        for child in s.sections(name) {
            mark_all(&child);
        }
    }
}

/// `copy` output.
pub static PARAMS: Spec = Spec::new("copy", "Sends every event to each `<store>`.")
    .params(&[
        p(
            "deep_copy",
            Bool,
            "Accepted: batches are immutable, so every copy method is the same.",
        )
        .default("false"),
        p(
            "copy_mode",
            Enum(&["no_copy", "shallow", "deep", "marshal"]),
            "Accepted: batches are immutable, so every copy method is the same.",
        )
        .default("no_copy"),
    ])
    .sections(&[many(
        "store",
        Body::Plugin(PluginKind::Output, None),
        "An output; `ignore_error` in its argument keeps going when it fails.",
    )]);

/// Build from `<match>`: every `<store>` is built as an output in the same router context.
pub fn build(ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Output>, BuildError> {
    // Both select a copy method; with immutable batches every method is the same (module doc).
    let s = &s.declared(&PARAMS);
    s.get::<bool>("deep_copy")?;
    s.get::<&str>("copy_mode")?;
    let sections = s.sections("store");
    if sections.is_empty() {
        return Err(build_error(
            s.pos(),
            "copy needs at least one <store> section",
        ));
    }
    let mut stores = Vec::new();
    for (i, st) in sections.iter().enumerate() {
        let arg = st.arg();
        let ignore_if_prev_success = arg.contains("ignore_if_prev_success");
        if i == 0 && ignore_if_prev_success {
            return Err(build_error(
                st.pos(),
                "ignore_if_prev_success must specify 2nd or later <store> directives",
            ));
        }
        mark_all(st);
        stores.push(Store {
            output: ctx.build_output(st.element())?,
            ignore_error: arg.contains("ignore_error"),
            ignore_if_prev_success,
        });
    }
    if stores.iter().all(|s| s.ignore_error) && !stores.iter().any(|s| s.ignore_if_prev_success) {
        ctx.log.warn(format_args!(
            "ignore_errors are specified in all <store>, but ignore_if_prev_success is not specified. Is this intended?"
        ));
    }
    Ok(Arc::new(CopyOutput::new(stores, ctx.log.clone())))
}

impl CopyOutput {
    /// A copy output over built stores.
    pub fn new(stores: Vec<Store>, log: PluginLog) -> Self {
        CopyOutput { stores, log }
    }
}

#[async_trait]
impl Output for CopyOutput {
    async fn emit(&self, tag: &str, batch: EventBatch) -> Result<(), EmitError> {
        let mut prev_success = false;
        // Each store reads the records or not, as Fluentd's copy hands each the same stream: a
        // PackedForward stream's repeated map keys are folded for the stores that read them.
        let mut folded: Option<EventBatch> = None;
        for (i, store) in self.stores.iter().enumerate() {
            if i > 0 && prev_success && store.ignore_if_prev_success {
                self.log.debug(format_args!(
                    "ignore copy because prev_success in store {}",
                    i + 1
                ));
                // Fluentd leaves this store's success unset: the next store sees "not succeeded".
                prev_success = false;
                continue;
            }
            let batch = if batch.is_unfolded() && store.output.reads_records() {
                folded.get_or_insert_with(|| batch.clone().folded()).clone()
            } else {
                batch.clone()
            };
            match store.output.emit(tag, batch).await {
                Ok(()) => prev_success = true,
                Err(e) if store.ignore_error => {
                    self.log
                        .error(format_args!("ignore emit error in store {}: {e}", i + 1));
                    prev_success = false;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    async fn shutdown(&self) {
        for s in &self.stores {
            s.output.shutdown().await;
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
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    struct Mock {
        name: &'static str,
        fail: bool,
        log: Arc<Mutex<Vec<String>>>,
        shutdowns: Arc<AtomicUsize>,
    }

    #[async_trait]
    impl Output for Mock {
        async fn emit(&self, tag: &str, batch: EventBatch) -> Result<(), EmitError> {
            self.log
                .lock()
                .unwrap()
                .push(format!("{}:{tag}:{}", self.name, batch.len()));
            if self.fail {
                Err(EmitError::Failed(format!("{} failed", self.name)))
            } else {
                Ok(())
            }
        }
        async fn shutdown(&self) {
            self.shutdowns.fetch_add(1, Ordering::SeqCst);
        }
    }

    type Spec = (&'static str, bool, bool, bool);

    /// Stores given as (name, fails, ignore_error, ignore_if_prev_success).
    async fn run(specs: &[Spec]) -> (Result<(), EmitError>, Vec<String>) {
        let log = Arc::new(Mutex::new(Vec::new()));
        let shutdowns = Arc::new(AtomicUsize::new(0));
        let stores = specs
            .iter()
            .map(|&(name, fail, ie, ips)| Store {
                output: Arc::new(Mock {
                    name,
                    fail,
                    log: log.clone(),
                    shutdowns: shutdowns.clone(),
                }),
                ignore_error: ie,
                ignore_if_prev_success: ips,
            })
            .collect();
        let copy = CopyOutput::new(stores, PluginLog::new("copy", None));
        let mut b = BatchBuilder::new();
        b.push_raw(EventTime::new(1, 0), &[0x80]);
        let r = copy.emit("t", b.finish()).await;
        copy.shutdown().await;
        assert_eq!(shutdowns.load(Ordering::SeqCst), specs.len());
        let l = log.lock().unwrap().clone();
        (r, l)
    }

    #[tokio::test]
    async fn every_store_in_order() {
        let (r, l) = run(&[("a", false, false, false), ("b", false, false, false)]).await;
        assert!(r.is_ok());
        assert_eq!(l, ["a:t:1", "b:t:1"]);
    }

    #[tokio::test]
    async fn error_stops_later_stores_and_is_returned() {
        let (r, l) = run(&[
            ("a", false, false, false),
            ("b", true, false, false),
            ("c", false, false, false),
        ])
        .await;
        assert!(matches!(r, Err(EmitError::Failed(m)) if m == "b failed"));
        assert_eq!(l, ["a:t:1", "b:t:1"]);
    }

    #[tokio::test]
    async fn ignore_error_goes_on() {
        let (r, l) = run(&[("a", true, true, false), ("b", false, false, false)]).await;
        assert!(r.is_ok());
        assert_eq!(l, ["a:t:1", "b:t:1"]);
    }

    #[tokio::test]
    async fn ignore_if_prev_success_is_a_fallback() {
        // Primary works: the fallback is skipped.
        let (_, l) = run(&[("a", false, false, false), ("b", false, false, true)]).await;
        assert_eq!(l, ["a:t:1"]);
        // Primary fails (ignored): the fallback runs.
        let (r, l) = run(&[("a", true, true, false), ("b", false, false, true)]).await;
        assert!(r.is_ok());
        assert_eq!(l, ["a:t:1", "b:t:1"]);
        // A skipped store does not count as a success for the next one.
        let (_, l) = run(&[
            ("a", false, false, false),
            ("b", false, false, true),
            ("c", false, false, true),
        ])
        .await;
        assert_eq!(l, ["a:t:1", "c:t:1"]);
    }

    fn dry(conf: &str) -> Result<Vec<String>, String> {
        let mut reg = Registry::new();
        reg.add_output("copy", build);
        reg.add_output("null", crate::out_null::build);
        reg.declare(PluginKind::Output, "null", &crate::out_null::PARAMS);
        reg.add_output("relabel", crate::out_relabel::build);
        let root = logferry_config::parse_str(conf, "t.conf", Path::new(".")).unwrap();
        Pipeline::build(&root, &reg)
            .map(|p| p.warnings)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn config_checks() {
        let w = dry("<match **>\n@type copy\ncopy_mode deep\n<store>\n@type null\n</store>\n<store ignore_error>\n@type null\nbogus 1\n</store>\n</match>\n").unwrap();
        assert_eq!(w.len(), 1, "{w:?}");
        assert!(w[0].contains("'bogus'") && w[0].contains("null"), "{w:?}");
        let e = dry("<match **>\n@type copy\n</match>\n").unwrap_err();
        assert!(e.contains("<store>"), "{e}");
        let e = dry("<match **>\n@type copy\n<store ignore_if_prev_success>\n@type null\n</store>\n</match>\n").unwrap_err();
        assert!(e.contains("2nd or later"), "{e}");
        let e = dry("<match **>\n@type copy\n<store>\nx 1\n</store>\n</match>\n").unwrap_err();
        assert!(e.contains("@type"), "{e}");
        let e = dry(
            "<match **>\n@type copy\ncopy_mode weird\n<store>\n@type null\n</store>\n</match>\n",
        )
        .unwrap_err();
        assert!(e.contains("copy_mode"), "{e}");
        let e = dry(
            "<match **>\n@type copy\n<store>\n@type relabel\n@label @nowhere\n</store>\n</match>\n",
        )
        .unwrap_err();
        assert!(e.contains("@nowhere"), "{e}");
    }
}
