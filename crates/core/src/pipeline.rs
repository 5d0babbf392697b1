//! From a parsed config to a running pipeline: `<system>`, sources, filters, matches, labels.
//!
//! Build order follows Vector's component model: the whole config is turned into plugin objects
//! first (every error reported with its `file:line:col` before anything binds a port), the router
//! is assembled and installed behind the emitters, then inputs start.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use logferry_config::{Element, Pos};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::EmitError;
use crate::error::{build_error, BuildError};
use crate::event::EventBatch;
use crate::log::{parse_level, PluginLog};
use crate::metrics::{Flow, Metrics, PluginEntry};
use crate::plugin::{Input, InputContext, Lifecycle, Output};
use crate::registry::Registry;
use crate::router::{Agent, Emitter, Router, Rule, RuleKind, ERROR_LABEL, ROOT_LABEL};
use crate::section::Section;
use crate::tag::MatchPattern;

pub use crate::system::{system_config, SystemConfig};

/// What every plugin factory gets.
pub struct BuildCtx<'r> {
    /// The plugin types.
    pub registry: &'r Registry,
    /// Emits into the router where the plugin is declared (root or its enclosing label), or into
    /// the plugin's own `@label` when it has one.
    pub emitter: Emitter,
    /// `<system>` settings.
    pub system: Arc<SystemConfig>,
    /// The plugin's logger.
    pub log: PluginLog,
    /// The daemon's metrics: plugins attach their counters with `metrics.attach(log.name(), ..)`.
    pub metrics: Arc<Metrics>,
    /// The plugin's monitor id: `@id`, or `object:<n>`.
    pub plugin_id: String,
    /// The plugin's event counters, kept by the router (or by the counted emitter of an input,
    /// or the counted wrapper of a nested output).
    flow: Arc<Flow>,
    shared: &'r Shared,
}

/// State shared across one build.
#[derive(Default)]
struct Shared {
    metrics: Arc<Metrics>,
    object_ids: std::cell::Cell<u64>,
    lifecycles: RefCell<Vec<Arc<dyn Lifecycle>>>,
    /// Every label a plugin names, where, and inside which `<label>` its `@label` is (None: the
    /// root, or a label looked up only when events flow).
    label_refs: RefCell<Vec<(String, Pos, Option<String>)>>,
    /// The `<label>` whose plugins are being built (None: the root).
    building_label: RefCell<Option<String>>,
    ids: RefCell<HashSet<String>>,
    warnings: RefCell<Vec<String>>,
    /// The `file_single` buffer paths (`DIR/PREFIX.*.buf`) taken, and by which output type.
    single_buffer_paths: RefCell<HashMap<String, String>>,
}

impl BuildCtx<'_> {
    /// Take a `file_single` buffer path (`DIR/PREFIX.*.buf`) for an output of type `ty`: Fluentd's
    /// error when another output has it.
    pub fn claim_single_buffer_path(&self, path: &str, ty: &str) -> Result<(), String> {
        let mut taken = self.shared.single_buffer_paths.borrow_mut();
        if let Some(other) = taken.get(path) {
            return Err(format!("Other '{other}' plugin already uses same buffer path: type = {ty}, buffer path = {path}"));
        }
        taken.insert(path.to_string(), ty.to_string());
        Ok(())
    }

    /// Record that the config refers to `label` at `pos`; it must exist once the build completes.
    /// (A label looked up when events flow, as rewrite_tag_filter's rule `label` and concat's
    /// `timeout_label` are in Fluentd, may be @ERROR from inside any label.)
    pub fn require_label(&self, label: &str, pos: &Pos) {
        self.shared
            .label_refs
            .borrow_mut()
            .push((label.to_string(), pos.clone(), None));
    }

    /// Register a plugin's lifecycle: started before the inputs, drained after them.
    pub fn register(&self, l: Arc<dyn Lifecycle>) {
        self.shared.lifecycles.borrow_mut().push(l);
    }

    /// Build a nested output (a `<store>` of copy, a `<secondary>`), in the same router context.
    /// Its events in and out are counted (once per batch) for the monitor, as the router counts
    /// the outputs of `<match>`.
    pub fn build_output(&self, section: &Element) -> Result<Arc<dyn Output>, BuildError> {
        let o = build_output_with_id(
            self.registry,
            &self.emitter,
            &self.system,
            self.shared,
            section,
        )?;
        Ok(Arc::new(Counted {
            inner: o.output,
            flow: o.flow,
        }))
    }
}

/// A nested output with its counters: nothing routes to it, its parent calls it.
struct Counted {
    inner: Arc<dyn Output>,
    flow: Arc<Flow>,
}

#[async_trait::async_trait]
impl Output for Counted {
    async fn emit(&self, tag: &str, batch: EventBatch) -> Result<(), EmitError> {
        let (n, bytes) = (batch.len(), batch.bytes().len());
        self.flow.add_in(n, bytes);
        self.inner.emit(tag, batch).await?;
        self.flow.add_out(n, bytes);
        Ok(())
    }

    async fn shutdown(&self) {
        self.inner.shutdown().await
    }

    fn reads_records(&self) -> bool {
        self.inner.reads_records()
    }
}

/// A built pipeline, ready to start.
pub struct Pipeline {
    /// The router, installed behind every emitter.
    pub router: Arc<Router>,
    /// `<system>` settings.
    pub system: Arc<SystemConfig>,
    inputs: Vec<(String, Arc<dyn Input>, Emitter)>,
    outputs: Vec<Arc<dyn Output>>,
    lifecycles: Vec<Arc<dyn Lifecycle>>,
    /// Plugins and their counters, for the monitor.
    pub metrics: Arc<Metrics>,
    /// Every "not used" warning the build produced.
    pub warnings: Vec<String>,
}

/// A started pipeline.
pub struct Running {
    stop: watch::Sender<bool>,
    inputs: Vec<JoinHandle<()>>,
    /// Routes logferry's own log lines as Fluentd's log events ([`crate::log_events`]).
    log_events: Option<JoinHandle<()>>,
    outputs: Vec<Arc<dyn Output>>,
    lifecycles: Vec<Arc<dyn Lifecycle>>,
    metrics: Arc<Metrics>,
}

fn plugin_type<'a>(el: &'a Element, what: &str) -> Result<&'a str, BuildError> {
    match (el.param("@type"), el.param("type")) {
        (Some(p), _) => Ok(p.value.as_str()),
        (None, Some(p)) => {
            tracing::warn!(
                "{}: 'type' is deprecated parameter name. use '@type' instead.",
                p.pos
            );
            Ok(p.value.as_str())
        }
        (None, None) => Err(build_error(
            &el.pos,
            format!("missing @type parameter in <{what}>"),
        )),
    }
}

/// Common per-plugin work: `@id` uniqueness, `@log_level`, the logger.
fn plugin_log(el: &Element, ty: &str, shared: &Shared) -> Result<PluginLog, BuildError> {
    let id = el.value("@id").or_else(|| el.value("id"));
    if let Some(id) = id {
        if !shared.ids.borrow_mut().insert(id.to_string()) {
            let pos = el
                .param("@id")
                .or_else(|| el.param("id"))
                .map(|p| &p.pos)
                .unwrap_or(&el.pos);
            return Err(build_error(pos, format!("duplicated plugin id '{id}'")));
        }
    }
    let level = match el.param("@log_level").or_else(|| el.param("log_level")) {
        // Fluentd's Log.str_to_level downcases a plugin's level (`WARN` is warn).
        Some(p) => Some(parse_level(&p.value.to_ascii_lowercase()).ok_or_else(|| {
            build_error(
                &p.pos,
                format!(
                    "@log_level: '{}' is not one of trace, debug, info, warn, error, fatal",
                    p.value
                ),
            )
        })?),
        None => None,
    };
    Ok(PluginLog::new(id.unwrap_or(ty), level))
}

/// The outputs that emit events (Fluentd's `event_emitter` helper): only these resolve their
/// `@label` at start-up; any other output's `@label` is not read, as in Fluentd (a label that does
/// not exist is then no error).
const EMITTING_OUTPUTS: &[&str] = &["relabel", "rewrite_tag_filter"];

/// The emitter a plugin emits into: its own `@label` if it has one, else where it is declared.
/// `resolve`: the plugin's `@label` must name a label (Fluentd's `find_label`).
fn own_emitter(el: &Element, declared: &Emitter, shared: &Shared, resolve: bool) -> Emitter {
    match el.param("@label") {
        Some(p) if !resolve => {
            shared.warnings.borrow_mut().push(format!(
                "{}: parameter '@label' is not used by this output (only relabel and rewrite_tag_filter emit events)",
                p.pos
            ));
            declared.clone()
        }
        Some(p) => {
            shared.label_refs.borrow_mut().push((
                p.value.clone(),
                p.pos.clone(),
                shared.building_label.borrow().clone(),
            ));
            declared.for_label(Some(&p.value))
        }
        None => declared.clone(),
    }
}

/// The build context of one plugin: its emitter, logger and monitor entry.
fn ctx_for<'r>(
    registry: &'r Registry,
    declared: &Emitter,
    system: &Arc<SystemConfig>,
    shared: &'r Shared,
    el: &Element,
    ty: &str,
    category: &'static str,
) -> Result<BuildCtx<'r>, BuildError> {
    let log = plugin_log(el, ty, shared)?;
    let id = match el.value("@id").or_else(|| el.value("id")) {
        Some(id) => id.to_string(),
        None => {
            let n = shared.object_ids.get() + 1;
            shared.object_ids.set(n);
            format!("object:{n:x}")
        }
    };
    let flow = Arc::new(Flow::default());
    shared.metrics.add(PluginEntry {
        id: id.clone(),
        category,
        ty: ty.to_string(),
        config: el
            .params
            .iter()
            .map(|p| (p.key.clone(), p.value.clone()))
            .collect(),
        metrics: None,
        flow: flow.clone(),
        label: declared.label().map(str::to_string),
    });
    Ok(BuildCtx {
        registry,
        emitter: own_emitter(
            el,
            declared,
            shared,
            category != "output" || EMITTING_OUTPUTS.contains(&ty),
        ),
        system: system.clone(),
        log,
        metrics: shared.metrics.clone(),
        plugin_id: id,
        flow,
        shared,
    })
}

/// A built output with its monitor id and its counters.
struct BuiltOutput {
    output: Arc<dyn Output>,
    id: String,
    flow: Arc<Flow>,
}

/// An output, its monitor id and its counters.
fn build_output_with_id(
    registry: &Registry,
    declared: &Emitter,
    system: &Arc<SystemConfig>,
    shared: &Shared,
    el: &Element,
) -> Result<BuiltOutput, BuildError> {
    let ty = plugin_type(el, &el.name)?;
    let ctx = ctx_for(registry, declared, system, shared, el, ty, "output")?;
    let s = Section::new(el, ty);
    let out = registry.output(ty, &ctx, &s)?;
    shared.warnings.borrow_mut().extend(s.warn_unused());
    Ok(BuiltOutput {
        output: out,
        id: ctx.plugin_id,
        flow: ctx.flow,
    })
}

fn build_rules(
    registry: &Registry,
    system: &Arc<SystemConfig>,
    shared: &Shared,
    emitter: &Emitter,
    elements: &[Element],
    outputs: &mut Vec<Arc<dyn Output>>,
) -> Result<Vec<Rule>, BuildError> {
    let mut rules = Vec::new();
    for el in elements {
        let (kind, id, flow) = match el.name.as_str() {
            "filter" => {
                let ty = plugin_type(el, "filter")?;
                let ctx = ctx_for(registry, emitter, system, shared, el, ty, "filter")?;
                let s = Section::new(el, ty);
                let f = registry.filter(ty, &ctx, &s)?;
                shared.warnings.borrow_mut().extend(s.warn_unused());
                (RuleKind::Filter(f), ctx.plugin_id, ctx.flow)
            }
            "match" => {
                let o = build_output_with_id(registry, emitter, system, shared, el)?;
                outputs.push(o.output.clone());
                (RuleKind::Match(o.output), o.id, o.flow)
            }
            _ => continue,
        };
        let pattern = MatchPattern::new(&el.arg).map_err(|e| build_error(&el.pos, e))?;
        rules.push(Rule {
            pattern,
            kind,
            id: id.into(),
            flow,
        });
    }
    Ok(rules)
}

impl Pipeline {
    /// Build every plugin of a parsed config.
    pub fn build(root: &Element, registry: &Registry) -> Result<Pipeline, BuildError> {
        let (system, sys_warnings) = system_config(root)?;
        let flat = crate::workers::flatten(root, system.workers)?;
        let root = &flat.root;
        if system.workers != 1 || !flat.sections.is_empty() {
            let sections = if flat.sections.is_empty() {
                String::new()
            } else {
                let list: Vec<String> = flat
                    .sections
                    .iter()
                    .map(|a| format!("<worker {a}>"))
                    .collect();
                format!(", the sections of {} included", list.join(", "))
            };
            tracing::info!(
                "workers {}: logferry runs one process whose inputs and outputs already use every core; it serves every worker's sections{sections}, and no worker processes are started",
                system.workers
            );
        }
        let system = Arc::new(system);
        let shared = Shared::default();
        shared.warnings.borrow_mut().extend(sys_warnings);
        let root_emitter = Emitter::unbound();
        let mut outputs = Vec::new();
        let mut inputs = Vec::new();
        let mut labels = Vec::new();
        let mut label_names: HashMap<String, Pos> = HashMap::new();

        for p in &root.params {
            shared.warnings.borrow_mut().push(format!(
                "{}: parameter '{}' at the top level is not used",
                p.pos, p.key
            ));
        }
        for el in &root.elements {
            match el.name.as_str() {
                // Fluentd's `without_source` ignores <source> sections: not even configured.
                "source" if system.without_source => {}
                "source" => {
                    let ty = plugin_type(el, "source")?;
                    let ctx = ctx_for(registry, &root_emitter, &system, &shared, el, ty, "input")?;
                    let s = Section::new(el, ty);
                    let input = registry.input(ty, &ctx, &s)?;
                    shared.warnings.borrow_mut().extend(s.warn_unused());
                    inputs.push((ty.to_string(), input, ctx.emitter.counted(ctx.flow.clone())));
                }
                "filter" | "match" | "system" => {}
                "label" => {
                    let name = el.arg.trim();
                    if name.is_empty() {
                        return Err(build_error(&el.pos, "<label> needs a name, e.g. <label @mylabel>"));
                    }
                    if name == ROOT_LABEL {
                        return Err(build_error(&el.pos, "@ROOT is a reserved label name"));
                    }
                    if let Some(prev) = label_names.insert(name.to_string(), el.pos.clone()) {
                        return Err(build_error(&el.pos, format!("label {name} is already defined at {prev}")));
                    }
                    if let Some(bad) = el.elements.iter().find(|e| e.name != "filter" && e.name != "match") {
                        return Err(build_error(&bad.pos, format!("<{}> is not allowed inside <label>; expected <filter> or <match>", bad.name)));
                    }
                    if !el.elements.iter().any(|e| e.name == "match") {
                        return Err(build_error(&el.pos, format!("label {name} has no <match>")));
                    }
                    let emitter = root_emitter.for_label(Some(name));
                    *shared.building_label.borrow_mut() = Some(name.to_string());
                    let rules = build_rules(registry, &system, &shared, &emitter, &el.elements, &mut outputs);
                    *shared.building_label.borrow_mut() = None;
                    labels.push(Agent::new(name, rules?));
                }
                other => {
                    return Err(build_error(
                        &el.pos,
                        format!("unknown directive <{other}>; expected <source>, <filter>, <match>, <label> or <system>"),
                    ))
                }
            }
        }
        let root_rules = build_rules(
            registry,
            &system,
            &shared,
            &root_emitter,
            &root.elements,
            &mut outputs,
        )?;

        for (label, pos, inside) in shared.label_refs.borrow().iter() {
            if label != ROOT_LABEL && !label_names.contains_key(label) {
                return Err(build_error(pos, format!("label {label} is not defined")));
            }
            // Fluentd configures every other <label> before it adds @ERROR, so a plugin inside
            // one of them that names @ERROR fails its start-up (`@ERROR label not found`).
            if let Some(inside) = inside
                .as_deref()
                .filter(|l| *l != ERROR_LABEL && label == ERROR_LABEL)
            {
                return Err(build_error(
                    pos,
                    format!("@ERROR cannot be named inside <label {inside}>: Fluentd configures every other label before @ERROR and refuses this (route to @ERROR from the top level or from @ERROR itself)"),
                ));
            }
        }
        if label_names.contains_key(ERROR_LABEL) {
            tracing::debug!("@ERROR label defined: failed emits go there");
        }
        let router = Arc::new(Router::new(Agent::new(ROOT_LABEL, root_rules), labels));
        root_emitter.install(router.clone());
        let warnings = shared.warnings.take();
        let lifecycles = shared.lifecycles.take();
        Ok(Pipeline {
            router,
            system,
            inputs,
            outputs,
            lifecycles,
            metrics: shared.metrics.clone(),
            warnings,
        })
    }

    /// Number of inputs.
    pub fn input_count(&self) -> usize {
        self.inputs.len()
    }

    /// Start every input (binding their ports). A failure stops what already started.
    pub async fn start(self) -> Result<Running, String> {
        let (stop, rx) = watch::channel(false);
        for l in &self.lifecycles {
            l.clone().start().await?;
        }
        let mut handles = Vec::new();
        if !self.system.without_source {
            for (ty, input, emitter) in self.inputs {
                match input
                    .start(InputContext {
                        emitter,
                        shutdown: rx.clone(),
                    })
                    .await
                {
                    Ok(h) => handles.push(h),
                    Err(e) => {
                        let _ = stop.send(true);
                        for h in handles {
                            let _ = h.await;
                        }
                        return Err(format!("failed to start {ty} input: {e}"));
                    }
                }
            }
        }
        self.metrics.set_started();
        let log_events = crate::log_events::start(&self.router, rx.clone());
        Ok(Running {
            stop,
            inputs: handles,
            log_events,
            outputs: self.outputs,
            lifecycles: self.lifecycles,
            metrics: self.metrics.clone(),
        })
    }
}

impl Running {
    /// Graceful stop: inputs stop accepting and finish what they read, then every buffer flushes
    /// (or persists) in parallel, all by `deadline`.
    pub async fn stop(self, deadline: tokio::time::Instant) {
        // Readiness turns false before the listeners close.
        self.metrics.set_stopping();
        let _ = self.stop.send(true);
        for h in self.inputs {
            let _ = tokio::time::timeout_at(deadline, h).await;
        }
        // The log lines queued so far are routed while every output still accepts.
        if let Some(mut h) = self.log_events {
            if tokio::time::timeout_at(deadline, &mut h).await.is_err() {
                // An output holds it (overflow_action block): give the queue back for a reload.
                h.abort();
                let _ = h.await;
            }
        }
        // Filters that hold events release them first, in config order (an earlier one may
        // emit into a later one), while every output still accepts.
        for l in self.lifecycles.iter().filter(|l| l.drains_into_pipeline()) {
            l.drain(deadline).await;
        }
        let drains: Vec<_> = self
            .lifecycles
            .iter()
            .filter(|l| !l.drains_into_pipeline())
            .map(|l| l.drain(deadline))
            .collect();
        for d in drains {
            d.await;
        }
        for o in &self.outputs {
            let _ = tokio::time::timeout_at(deadline, o.shutdown()).await;
        }
    }

    /// Flush every buffer now (SIGUSR1).
    pub fn flush_now(&self) {
        for l in &self.lifecycles {
            l.flush_now();
        }
    }
}
