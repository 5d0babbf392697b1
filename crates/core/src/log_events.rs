//! Fluentd's log events: logferry's own log lines, as events tagged `fluent.<level>` (`trace`,
//! `debug`, `info`, `warn`, `error`), routed where Fluentd routes its own: into the
//! `<label @FLUENT_LOG>` when the config has one, else into the top level when one of its
//! `<match>` sections names `fluent` and takes a `fluent.*` tag (`<match fluent.**>`: Fluentd's
//! deprecated way, with its warning), else nowhere. A top-level `<match **>` alone does not take
//! them (Fluentd's does: README "Differences from Fluentd"). A record is Fluentd's shape: the
//! line's fields, and `message`, the line as text.
//!
//! Lines are queued as they are logged (the binary's logging layer calls [`push`]) from the start
//! of the process, so the start-up warnings are routed too, as Fluentd queues them until its
//! router runs. The queue is bounded ([`QUEUE_LEN`]): a line that finds it full is dropped and
//! counted. The lines logged while a log event is being routed (a filter of `@FLUENT_LOG` warning
//! about it) are not queued again, as Fluentd excludes its log-event thread: no loop.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use logferry_msgpack::{EventTime, Value};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::event::BatchBuilder;
use crate::router::{Emitter, Router};

/// The label Fluentd routes its log events into.
pub const LABEL: &str = "@FLUENT_LOG";

/// The tags of log events, one per level (Fluentd's `Log.event_tags`, less `fatal`, which
/// logferry does not log).
pub const TAGS: [&str; 5] = [
    "fluent.trace",
    "fluent.debug",
    "fluent.info",
    "fluent.warn",
    "fluent.error",
];

/// Lines queued before the oldest waiting ones are routed; more are dropped.
pub const QUEUE_LEN: usize = 4096;

type Line = (&'static str, EventTime, Vec<u8>);

struct Queue {
    tx: mpsc::Sender<Line>,
    rx: Mutex<Option<mpsc::Receiver<Line>>>,
    dropped: AtomicU64,
}

fn queue() -> &'static Queue {
    static QUEUE: OnceLock<Queue> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let (tx, rx) = mpsc::channel(QUEUE_LEN);
        Queue {
            tx,
            rx: Mutex::new(Some(rx)),
            dropped: AtomicU64::new(0),
        }
    })
}

/// Lines are queued: true until a pipeline starts that routes them nowhere.
static WANTED: AtomicBool = AtomicBool::new(true);

tokio::task_local! {
    /// Set while a log event is routed: what is logged then is not queued again.
    static ROUTING: ();
}

/// Should a line be made into a log event? False once the running config routes them nowhere,
/// and for lines logged while a log event is routed.
pub fn wanted() -> bool {
    WANTED.load(Ordering::Relaxed) && ROUTING.try_with(|_| ()).is_err()
}

/// Queue a log line: `level` (`"warn"`), the line's fields (each key once) and its text.
pub fn push(level: &str, fields: Vec<(String, Value)>, message: String) {
    let Some(tag) = TAGS
        .iter()
        .find(|t| t.strip_prefix("fluent.") == Some(level))
    else {
        return;
    };
    let mut pairs: Vec<(Value, Value)> = fields
        .into_iter()
        .filter(|(k, _)| k != "message")
        .map(|(k, v)| (Value::Str(k), v))
        .collect();
    pairs.push((Value::Str("message".into()), Value::Str(message)));
    let mut record = Vec::new();
    Value::Map(pairs).encode(&mut record);
    if queue()
        .tx
        .try_send((tag, EventTime::now(), record))
        .is_err()
    {
        queue().dropped.fetch_add(1, Ordering::Relaxed);
    }
}

/// How many log lines found the queue full.
pub fn dropped() -> u64 {
    queue().dropped.load(Ordering::Relaxed)
}

/// Where `router` sends log events: the `@FLUENT_LOG` label, or the top level when one of its
/// matches takes a log event tag; with the warnings Fluentd gives about tags nothing takes.
fn target(router: &Arc<Router>) -> Option<Emitter> {
    // Fluentd gives these warnings before it turns log events on: they are not events.
    ROUTING.sync_scope((), || target_warning(router))
}

fn target_warning(router: &Arc<Router>) -> Option<Emitter> {
    let emitter = Emitter::unbound();
    emitter.install(router.clone());
    let unmatched = |label: Option<&str>| -> Vec<&str> {
        TAGS.iter()
            .copied()
            .filter(|t| !router.has_match(label, t))
            .collect()
    };
    if router.has_label(LABEL) {
        let missing = unmatched(Some(LABEL));
        if !missing.is_empty() {
            tracing::warn!(
                tags = ?missing,
                "match for some tags of log events are not defined in @FLUENT_LOG label (to be ignored)"
            );
        }
        return Some(emitter.for_label(Some(LABEL)));
    }
    if !TAGS.iter().any(|t| router.has_named_match("fluent", t)) {
        return None;
    }
    let missing = unmatched(None);
    if missing.is_empty() {
        tracing::warn!("define <match fluent.**> to capture fluentd logs in top level is deprecated. Use <label @FLUENT_LOG> instead");
    } else {
        let matched: Vec<String> = TAGS
            .iter()
            .filter(|t| !missing.contains(t))
            .map(|t| format!("<match {t}>"))
            .collect();
        tracing::warn!(
            "define {} to capture fluentd logs in top level is deprecated. Use <label @FLUENT_LOG> instead",
            matched.join(", ")
        );
        tracing::warn!(tags = ?missing, "match for some tags of log events are not defined in top level (to be ignored)");
    }
    Some(emitter)
}

/// Route the queued log lines through `router` until `stop` turns true (then the ones queued so
/// far too). None when the config routes log events nowhere (lines are no longer queued then).
pub fn start(router: &Arc<Router>, mut stop: watch::Receiver<bool>) -> Option<JoinHandle<()>> {
    let Some(emitter) = target(router) else {
        WANTED.store(false, Ordering::Relaxed);
        // What was queued before this config was known goes.
        if let Some(rx) = queue().rx.lock().ok().as_mut().and_then(|g| g.as_mut()) {
            while rx.try_recv().is_ok() {}
        }
        return None;
    };
    WANTED.store(true, Ordering::Relaxed);
    let mut lease = Lease(Some(queue().rx.lock().ok()?.take()?));
    let router = router.clone();
    Some(tokio::spawn(async move {
        let Some(rx) = lease.0.as_mut() else { return };
        loop {
            let line = tokio::select! {
                biased;
                line = rx.recv() => line,
                _ = stop.wait_for(|s| *s) => None,
            };
            let Some(line) = line else { break };
            route(&emitter, &router, line).await;
        }
        // The lines logged before the stop still go.
        while let Ok(line) = rx.try_recv() {
            route(&emitter, &router, line).await;
        }
    }))
}

/// The queue's receiver, held by one pipeline's pump and given back when the pump ends or is
/// aborted (a stop that timed out while an output blocked it), for the next pipeline (a reload).
struct Lease(Option<mpsc::Receiver<Line>>);

impl Drop for Lease {
    fn drop(&mut self) {
        if let (Some(rx), Ok(mut g)) = (self.0.take(), queue().rx.lock()) {
            *g = Some(rx);
        }
    }
}

async fn route(emitter: &Emitter, router: &Router, (tag, time, record): Line) {
    // A tag no <match> takes is dropped here, without the router's "no patterns matched"
    // warning (Fluentd suppresses it for log events).
    if !router.has_match(emitter.label(), tag) {
        return;
    }
    let mut b = BatchBuilder::with_capacity(record.len() + 16);
    b.push_with(time, |buf| buf.extend_from_slice(&record));
    let _ = ROUTING.scope((), emitter.emit(tag, b.finish())).await;
}
