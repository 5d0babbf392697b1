//! Tag routing, as Fluentd's `EventRouter`: per router (root or a label) the `<filter>` and
//! `<match>` rules in file order; a tag collects the matching filters up to the first matching
//! `<match>` (filters after it never run); first match wins; resolutions are cached per tag.
//! Emit errors go to `<label @ERROR>` when it exists, else back to the input.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use crate::error::EmitError;
use crate::event::EventBatch;
use crate::metrics::Flow;
use crate::plugin::{ErrorEvents, Filter, FilterOutput, Output};
use crate::tag::MatchPattern;

/// Most tags a router keeps resolved; past that the cache starts over.
const ROUTE_CACHE_SIZE: usize = 1024;

/// The label that receives events whose output failed, and error events of filters.
pub const ERROR_LABEL: &str = "@ERROR";
/// The reserved name that designates the root router in `@label`.
pub const ROOT_LABEL: &str = "@ROOT";

/// What a rule does.
pub enum RuleKind {
    /// A `<filter>`.
    Filter(Arc<dyn Filter>),
    /// A `<match>`.
    Match(Arc<dyn Output>),
}

/// One `<filter>` or `<match>` with its patterns.
pub struct Rule {
    /// The compiled patterns.
    pub pattern: MatchPattern,
    /// The plugin.
    pub kind: RuleKind,
    /// The plugin's monitor id (`@id` or `object:<n>`), for taps.
    pub id: Arc<str>,
    /// The plugin's event counters (the monitor lists the same `Arc`).
    pub flow: Arc<Flow>,
}

/// The resolved path of one tag.
pub struct Route {
    filters: Vec<Arc<dyn Filter>>,
    output: Option<Arc<dyn Output>>,
    /// The monitor ids of `filters`, then of `output`, for taps.
    ids: Vec<Arc<str>>,
    /// The counters of `filters`, then of `output`.
    flows: Vec<Arc<Flow>>,
}

/// The rules of the root or of one label.
pub struct Agent {
    name: String,
    rules: Vec<Rule>,
    cache: RwLock<HashMap<String, Arc<Route>>>,
    unmatched: AtomicU64,
}

impl Agent {
    /// A router over `rules` (in file order) named `name` (`@ROOT` or the label).
    pub fn new(name: &str, rules: Vec<Rule>) -> Self {
        Agent {
            name: name.to_string(),
            rules,
            cache: RwLock::new(HashMap::new()),
            unmatched: AtomicU64::new(0),
        }
    }

    fn resolve(&self, tag: &str) -> Arc<Route> {
        if let Some(r) = self.cache.read().ok().and_then(|c| c.get(tag).cloned()) {
            return r;
        }
        let mut filters = Vec::new();
        let mut output = None;
        let mut ids = Vec::new();
        let mut flows = Vec::new();
        for rule in &self.rules {
            if !rule.pattern.matches(tag) {
                continue;
            }
            ids.push(rule.id.clone());
            flows.push(rule.flow.clone());
            match &rule.kind {
                RuleKind::Filter(f) => filters.push(f.clone()),
                RuleKind::Match(o) => {
                    output = Some(o.clone());
                    break;
                }
            }
        }
        let route = Arc::new(Route {
            filters,
            output,
            ids,
            flows,
        });
        if let Ok(mut c) = self.cache.write() {
            if c.len() >= ROUTE_CACHE_SIZE {
                c.clear();
            }
            c.insert(tag.to_string(), route.clone());
        }
        route
    }

    fn warn_unmatched(&self, tag: &str) {
        // Fluentd warns on the 1st, 2nd, 4th … 256th unmatched emit, then every 512th.
        let n = self.unmatched.fetch_add(1, Ordering::Relaxed) + 1;
        if (n <= 256 && n.is_power_of_two()) || n.is_multiple_of(512) {
            if self.name == ROOT_LABEL {
                tracing::warn!(tag, count = n, "no patterns matched");
            } else {
                tracing::warn!(tag, label = %self.name, count = n, "no patterns matched");
            }
        }
    }
}

/// The root router and every label.
pub struct Router {
    root: Agent,
    labels: HashMap<String, Agent>,
}

impl Router {
    /// Assemble a router.
    pub fn new(root: Agent, labels: Vec<Agent>) -> Self {
        Router {
            root,
            labels: labels.into_iter().map(|a| (a.name.clone(), a)).collect(),
        }
    }

    fn agent(&self, label: Option<&str>) -> Option<&Agent> {
        match label {
            None | Some(ROOT_LABEL) => Some(&self.root),
            Some(l) => self.labels.get(l),
        }
    }

    /// Is there a label of this name?
    pub fn has_label(&self, label: &str) -> bool {
        label == ROOT_LABEL || self.labels.contains_key(label)
    }

    /// Does a `<match>` of `label` (None = root) take `tag`? (Filters do not count, as in
    /// Fluentd's `EventRouter#match?`.)
    pub fn has_match(&self, label: Option<&str>, tag: &str) -> bool {
        self.agent(label).is_some_and(|a| {
            a.rules
                .iter()
                .any(|r| matches!(r.kind, RuleKind::Match(_)) && r.pattern.matches(tag))
        })
    }

    /// Does a top-level `<match>` whose pattern names `word` in its text take `tag`?
    pub fn has_named_match(&self, word: &str, tag: &str) -> bool {
        self.root.rules.iter().any(|r| {
            matches!(r.kind, RuleKind::Match(_)) && r.pattern.names(word) && r.pattern.matches(tag)
        })
    }

    /// How many events reached no output in `label` (None = root), for tests and metrics.
    pub fn unmatched_count(&self, label: Option<&str>) -> u64 {
        self.agent(label)
            .map(|a| a.unmatched.load(Ordering::Relaxed))
            .unwrap_or(0)
    }
}

/// A handle that emits into one router (the root, or a label). Cheap to clone.
///
/// Handles are created before the router exists (plugins are built first and need them), and
/// resolve it on first use.
#[derive(Clone)]
pub struct Emitter {
    router: Arc<OnceLock<Arc<Router>>>,
    label: Option<Arc<str>>,
    /// An input's counters: every batch emitted through this handle.
    flow: Option<Arc<Flow>>,
}

impl Emitter {
    /// A handle to a router that will be installed later with [`Emitter::install`].
    pub fn unbound() -> Self {
        Emitter {
            router: Arc::new(OnceLock::new()),
            label: None,
            flow: None,
        }
    }

    /// Install the router behind this handle and every handle derived from it.
    pub fn install(&self, router: Arc<Router>) {
        let _ = self.router.set(router);
    }

    /// A handle to the same router system, emitting into `label` (`None` or `@ROOT` = root).
    pub fn for_label(&self, label: Option<&str>) -> Emitter {
        Emitter {
            router: self.router.clone(),
            label: label.filter(|l| *l != ROOT_LABEL).map(Arc::from),
            flow: None,
        }
    }

    /// The same handle, counting what it emits in `flow` (an input's): in = events emitted,
    /// out = events the router accepted. Handles derived with [`Emitter::for_label`] do not count.
    pub fn counted(&self, flow: Arc<Flow>) -> Emitter {
        Emitter {
            flow: Some(flow),
            ..self.clone()
        }
    }

    /// The label this handle emits into (`None` = root).
    pub fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    /// Does the label this handle emits into exist? (Also true while no router is installed.)
    /// For plugins that, as Fluentd's, look a label up only when they emit into it.
    pub fn label_exists(&self) -> bool {
        self.router
            .get()
            .is_none_or(|r| r.agent(self.label.as_deref()).is_some())
    }

    /// The router, once installed.
    pub fn router(&self) -> Option<&Arc<Router>> {
        self.router.get()
    }

    /// The installed router and this handle's label in it.
    fn target(&self) -> Result<(&Arc<Router>, &Agent), EmitError> {
        let Some(router) = self.router.get() else {
            return Err(EmitError::Failed("router not ready".into()));
        };
        let Some(agent) = router.agent(self.label.as_deref()) else {
            return Err(EmitError::Failed(format!(
                "label {} does not exist",
                self.label.as_deref().unwrap_or("")
            )));
        };
        Ok((router, agent))
    }

    /// Route a batch: filters, then the first matching output.
    ///
    /// `Ok` means every event was either accepted by an output, dropped by a filter, or matched
    /// nothing (Fluentd's semantics). An output error is sent to `@ERROR` when that label exists
    /// (and this is not already `@ERROR`); otherwise it is returned so the input does not ack.
    pub async fn emit(&self, tag: &str, batch: EventBatch) -> Result<(), EmitError> {
        if batch.is_empty() {
            return Ok(());
        }
        let Some(flow) = &self.flow else {
            let (router, agent) = self.target()?;
            let route = agent.resolve(tag);
            return self.run_route(router, agent, &route, 0, tag, batch).await;
        };
        let (n, bytes) = (batch.len(), batch.bytes().len());
        flow.add_in(n, bytes);
        let (router, agent) = self.target()?;
        let route = agent.resolve(tag);
        self.run_route(router, agent, &route, 0, tag, batch).await?;
        flow.add_out(n, bytes);
        Ok(())
    }

    /// Route a batch as if it had just left `filter`: the filters after it on this tag's route,
    /// then the output. For filters that hold events back and release them later (concat's
    /// timeout and shutdown flushes). A filter that is not on the tag's route is an error.
    pub async fn emit_after(
        &self,
        filter: &dyn Filter,
        tag: &str,
        batch: EventBatch,
    ) -> Result<(), EmitError> {
        if batch.is_empty() {
            return Ok(());
        }
        let (router, agent) = self.target()?;
        let route = agent.resolve(tag);
        let at = {
            // Scoped: a raw pointer must not live across the await below.
            let me = filter as *const dyn Filter;
            route
                .filters
                .iter()
                .position(|f| std::ptr::addr_eq(Arc::as_ptr(f), me))
        };
        let Some(at) = at else {
            return Err(EmitError::Failed(format!(
                "the filter is not on the route of tag {tag}"
            )));
        };
        self.run_route(router, agent, &route, at + 1, tag, batch)
            .await
    }

    async fn run_route(
        &self,
        router: &Router,
        agent: &Agent,
        route: &Route,
        first: usize,
        tag: &str,
        batch: EventBatch,
    ) -> Result<(), EmitError> {
        let mut batch = batch;
        // Records a filter or the output reads are read as Fluentd reads them: a map that
        // repeats a key folded (a PackedForward stream only they read is passed on as it came).
        if batch.is_unfolded()
            && (route.filters.len() > first
                || route.output.as_ref().is_some_and(|o| o.reads_records()))
        {
            batch = batch.folded();
        }
        let mut errors = ErrorEvents::default();
        // The one check a route makes for taps while nobody taps.
        let tapping = crate::tap::active();
        if first > 0 {
            // Events a filter held back and releases now leave it now.
            route.flows[first - 1].add_out(batch.len(), batch.bytes().len());
        }
        for (i, f) in route.filters.iter().enumerate().skip(first) {
            let flow = &route.flows[i];
            flow.add_in(batch.len(), batch.bytes().len());
            let out = f.filter(tag, batch, &mut errors);
            if !errors.is_empty() {
                let (events, reasons) = errors.take();
                Box::pin(self.emit_error_events(tag, events, &reasons)).await;
            }
            match out {
                FilterOutput::Keep(b) if !b.is_empty() => {
                    flow.add_out(b.len(), b.bytes().len());
                    batch = b;
                }
                _ => return Ok(()),
            }
            if tapping {
                crate::tap::offer(&route.ids[i], tag, &batch, false);
            }
        }
        let Some(output) = &route.output else {
            agent.warn_unmatched(tag);
            return Ok(());
        };
        if tapping {
            crate::tap::offer(&route.ids[route.filters.len()], tag, &batch, true);
        }
        let flow = &route.flows[route.filters.len()];
        let (n, bytes) = (batch.len(), batch.bytes().len());
        flow.add_in(n, bytes);
        match output.emit(tag, batch.clone()).await {
            Ok(()) => {
                flow.add_out(n, bytes);
                Ok(())
            }
            Err(e)
                if self.label.as_deref() != Some(ERROR_LABEL)
                    && router.labels.contains_key(ERROR_LABEL) =>
            {
                tracing::warn!(tag, error = %e, "emit failed; sending the events to @ERROR");
                Box::pin(self.for_label(Some(ERROR_LABEL)).emit(tag, batch)).await
            }
            Err(e) => Err(e),
        }
    }

    /// Send per-record error events (a filter's bad records) to `@ERROR`, or log each one and
    /// drop it (Fluentd's "dump an error event").
    pub async fn emit_error_events(&self, tag: &str, batch: EventBatch, reasons: &[String]) {
        let has_error_label = self
            .router
            .get()
            .is_some_and(|r| r.labels.contains_key(ERROR_LABEL));
        if has_error_label && self.label.as_deref() != Some(ERROR_LABEL) {
            let error_label = self.for_label(Some(ERROR_LABEL));
            if let Err(e) = Box::pin(error_label.emit(tag, batch)).await {
                tracing::warn!(tag, error = %e, "@ERROR label failed to accept error events");
            }
            return;
        }
        for (e, reason) in batch.iter().zip(reasons) {
            let mut json = Vec::new();
            let _ = logferry_msgpack::write_json(e.record, &mut json);
            tracing::warn!(
                tag,
                time = %e.time.as_f64(),
                record = %String::from_utf8_lossy(&json),
                "dump an error event: {reason}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::BatchBuilder;
    use async_trait::async_trait;
    use logferry_msgpack::EventTime;
    use std::sync::Mutex;

    /// Records (name, tag, count) for each emit; fails when `fail` is set.
    struct Sink {
        name: &'static str,
        log: Arc<Mutex<Vec<String>>>,
        fail: bool,
    }

    #[async_trait]
    impl Output for Sink {
        async fn emit(&self, tag: &str, batch: EventBatch) -> Result<(), EmitError> {
            if self.fail {
                return Err(EmitError::Overflow("full".into()));
            }
            self.log
                .lock()
                .unwrap()
                .push(format!("{}:{}:{}", self.name, tag, batch.len()));
            Ok(())
        }
    }

    struct Mark {
        name: &'static str,
        log: Arc<Mutex<Vec<String>>>,
    }

    impl Filter for Mark {
        fn filter(&self, tag: &str, batch: EventBatch, _errors: &mut ErrorEvents) -> FilterOutput {
            self.log
                .lock()
                .unwrap()
                .push(format!("{}:{}", self.name, tag));
            FilterOutput::Keep(batch)
        }
    }

    fn batch() -> EventBatch {
        let mut b = BatchBuilder::new();
        b.push_raw(EventTime::new(1, 0), &[0x80]);
        b.finish()
    }

    fn rule(p: &str, kind: RuleKind) -> Rule {
        Rule {
            pattern: MatchPattern::new(p).unwrap(),
            kind,
            id: Arc::from(p),
            flow: Arc::default(),
        }
    }

    /// Keeps the record bytes of each batch it is given; `reads` is its `reads_records`.
    struct Keep {
        reads: bool,
        got: Arc<Mutex<Vec<Vec<u8>>>>,
    }

    #[async_trait]
    impl Output for Keep {
        async fn emit(&self, _tag: &str, batch: EventBatch) -> Result<(), EmitError> {
            let mut got = self.got.lock().unwrap();
            got.extend(batch.iter().map(|e| e.record.to_vec()));
            Ok(())
        }
        fn reads_records(&self) -> bool {
            self.reads
        }
    }

    // A batch marked unfolded (a PackedForward stream) reaches an output that does not read
    // records as it came, and one that does, or any filter, folded as Fluentd's Hash holds it.
    #[tokio::test]
    async fn repeated_keys_are_folded_for_whatever_reads_the_records() {
        let repeated = [0x82, 0xa1, b'a', 1, 0xa1, b'a', 2];
        let folded = [0x81, 0xa1, b'a', 2];
        let unfolded = || {
            let mut b = BatchBuilder::new();
            b.push_raw(EventTime::new(1, 0), &repeated);
            b.finish().with_unfolded(true)
        };
        let log = Arc::new(Mutex::new(Vec::new()));
        for (reads, filtered, want) in [
            (false, false, &repeated[..]),
            (true, false, &folded[..]),
            (false, true, &folded[..]),
        ] {
            let got = Arc::new(Mutex::new(Vec::new()));
            let mut rules = Vec::new();
            if filtered {
                rules.push(rule(
                    "**",
                    RuleKind::Filter(Arc::new(Mark {
                        name: "F",
                        log: log.clone(),
                    })),
                ));
            }
            rules.push(rule(
                "**",
                RuleKind::Match(Arc::new(Keep {
                    reads,
                    got: got.clone(),
                })),
            ));
            let e = Emitter::unbound();
            e.install(Arc::new(Router::new(Agent::new(ROOT_LABEL, rules), vec![])));
            e.emit("t", unfolded()).await.unwrap();
            assert_eq!(*got.lock().unwrap(), [want.to_vec()], "{reads} {filtered}");
        }
        // Not marked: as it is, whatever reads it.
        let plain = {
            let mut b = BatchBuilder::new();
            b.push_raw(EventTime::new(1, 0), &repeated);
            b.finish()
        };
        assert!(!plain.is_unfolded());
        assert_eq!(plain.clone().folded(), plain);
        let f = unfolded().folded();
        assert!(!f.is_unfolded());
        assert_eq!(f.iter().next().unwrap().record, folded);
    }

    // Reference §7.2 case 13: filters only up to the first matching <match>.
    #[tokio::test]
    async fn case_13_filters_before_first_match() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let f = |n| {
            RuleKind::Filter(Arc::new(Mark {
                name: n,
                log: log.clone(),
            }))
        };
        let m = |n| {
            RuleKind::Match(Arc::new(Sink {
                name: n,
                log: log.clone(),
                fail: false,
            }))
        };
        let root = Agent::new(
            ROOT_LABEL,
            vec![
                rule("app.**", f("F1")),
                rule("app.web", m("M1")),
                rule("app.**", f("F2")),
                rule("app.**", m("M2")),
            ],
        );
        let e = Emitter::unbound();
        e.install(Arc::new(Router::new(root, vec![])));
        e.emit("app.web", batch()).await.unwrap();
        e.emit("app.db", batch()).await.unwrap();
        e.emit("app.db", batch()).await.unwrap(); // cached route, same result
        assert_eq!(
            *log.lock().unwrap(),
            [
                "F1:app.web",
                "M1:app.web:1",
                "F1:app.db",
                "F2:app.db",
                "M2:app.db:1",
                "F1:app.db",
                "F2:app.db",
                "M2:app.db:1"
            ]
        );
    }

    // A filter that releases held events later sends them through the rest of the route only.
    #[tokio::test]
    async fn emit_after_runs_only_the_rest_of_the_route() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let held: Arc<dyn Filter> = Arc::new(Mark {
            name: "HOLD",
            log: log.clone(),
        });
        let root = Agent::new(
            ROOT_LABEL,
            vec![
                rule(
                    "**",
                    RuleKind::Filter(Arc::new(Mark {
                        name: "F1",
                        log: log.clone(),
                    })),
                ),
                rule("**", RuleKind::Filter(held.clone())),
                rule(
                    "**",
                    RuleKind::Filter(Arc::new(Mark {
                        name: "F2",
                        log: log.clone(),
                    })),
                ),
                rule(
                    "**",
                    RuleKind::Match(Arc::new(Sink {
                        name: "M",
                        log: log.clone(),
                        fail: false,
                    })),
                ),
            ],
        );
        let e = Emitter::unbound();
        e.install(Arc::new(Router::new(root, vec![])));
        e.emit_after(&*held, "t", batch()).await.unwrap();
        assert_eq!(*log.lock().unwrap(), ["F2:t", "M:t:1"]);
        let other = Mark {
            name: "X",
            log: log.clone(),
        };
        assert!(e.emit_after(&other, "t", batch()).await.is_err());
    }

    /// Keeps nothing: a filter that holds (or drops) every event.
    struct Hold;

    impl Filter for Hold {
        fn filter(&self, _: &str, _: EventBatch, _: &mut ErrorEvents) -> FilterOutput {
            FilterOutput::Keep(EventBatch::default())
        }
    }

    // Each plugin on a route counts its events in and out once per batch; events a filter held
    // leave it when it releases them; an output counts out what it accepted; an input's
    // counted emitter counts what it emitted and what the router accepted.
    #[tokio::test]
    async fn flows_count_events_in_and_out_per_plugin() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let held: Arc<dyn Filter> = Arc::new(Hold);
        let mark = RuleKind::Filter(Arc::new(Mark {
            name: "F",
            log: log.clone(),
        }));
        let sink = |name, fail| {
            RuleKind::Match(Arc::new(Sink {
                name,
                log: log.clone(),
                fail,
            }))
        };
        let rules = vec![
            rule("**", mark),
            rule("held.**", RuleKind::Filter(held.clone())),
            rule("fail.**", sink("X", true)),
            rule("**", sink("M", false)),
        ];
        let flows: Vec<Arc<Flow>> = rules.iter().map(|r| r.flow.clone()).collect();
        let e = Emitter::unbound();
        e.install(Arc::new(Router::new(Agent::new(ROOT_LABEL, rules), vec![])));
        let input = Arc::new(Flow::default());
        let counted = e.counted(input.clone());
        let two = || {
            let mut b = BatchBuilder::new();
            b.push_raw(EventTime::new(1, 0), &[0x80]);
            b.push_raw(EventTime::new(2, 0), &[0x80]);
            b.finish()
        };
        counted.emit("app", two()).await.unwrap();
        counted.emit("held.x", two()).await.unwrap();
        assert!(counted.emit("fail.x", batch()).await.is_err());
        e.emit_after(&*held, "held.x", batch()).await.unwrap();
        let n = |f: &Flow| (f.records_in(), f.records_out());
        assert_eq!(n(&input), (5, 4));
        assert_eq!(n(&flows[0]), (5, 5));
        assert_eq!(n(&flows[1]), (2, 1));
        assert_eq!(n(&flows[2]), (1, 0));
        assert_eq!(n(&flows[3]), (3, 3));
    }

    // Case 14: unmatched events are dropped and counted.
    #[tokio::test]
    async fn case_14_unmatched_dropped() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let root = Agent::new(
            ROOT_LABEL,
            vec![rule(
                "app.**",
                RuleKind::Match(Arc::new(Sink {
                    name: "M",
                    log: log.clone(),
                    fail: false,
                })),
            )],
        );
        let e = Emitter::unbound();
        e.install(Arc::new(Router::new(root, vec![])));
        for _ in 0..3 {
            e.emit("zzz", batch()).await.unwrap();
        }
        assert!(log.lock().unwrap().is_empty());
        assert_eq!(e.router().unwrap().unmatched_count(None), 3);
    }

    // Case 15: a label's events never reach root rules.
    #[tokio::test]
    async fn case_15_label_isolated_from_root() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let root = Agent::new(
            ROOT_LABEL,
            vec![rule(
                "**",
                RuleKind::Match(Arc::new(Sink {
                    name: "A",
                    log: log.clone(),
                    fail: false,
                })),
            )],
        );
        let lab = Agent::new(
            "@in",
            vec![rule(
                "**",
                RuleKind::Match(Arc::new(Sink {
                    name: "B",
                    log: log.clone(),
                    fail: false,
                })),
            )],
        );
        let e = Emitter::unbound();
        e.install(Arc::new(Router::new(root, vec![lab])));
        e.for_label(Some("@in")).emit("t", batch()).await.unwrap();
        e.for_label(Some("@ROOT")).emit("t", batch()).await.unwrap();
        assert_eq!(*log.lock().unwrap(), ["B:t:1", "A:t:1"]);
    }

    // Case 17: an output error goes back to the input, or to @ERROR when it exists.
    #[tokio::test]
    async fn case_17_emit_error_and_error_label() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let failing = || {
            RuleKind::Match(Arc::new(Sink {
                name: "X",
                log: log.clone(),
                fail: true,
            }))
        };
        let e = Emitter::unbound();
        e.install(Arc::new(Router::new(
            Agent::new(ROOT_LABEL, vec![rule("**", failing())]),
            vec![],
        )));
        assert!(matches!(
            e.emit("t", batch()).await,
            Err(EmitError::Overflow(_))
        ));

        let err = Agent::new(
            ERROR_LABEL,
            vec![rule(
                "**",
                RuleKind::Match(Arc::new(Sink {
                    name: "E",
                    log: log.clone(),
                    fail: false,
                })),
            )],
        );
        let e2 = Emitter::unbound();
        e2.install(Arc::new(Router::new(
            Agent::new(ROOT_LABEL, vec![rule("**", failing())]),
            vec![err],
        )));
        e2.emit("t", batch()).await.unwrap();
        assert_eq!(*log.lock().unwrap(), ["E:t:1"]);
    }
}
