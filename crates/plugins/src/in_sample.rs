//! `sample` input (alias `dummy`): emits sample records at a steady rate, for demos and tests.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use logferry_core::error::build_error;
use logferry_core::params::{p, ParamType::*, Spec};
use logferry_core::{
    BatchBuilder, BuildCtx, BuildError, EventTime, Input, InputContext, PluginLog, Section, Value,
};
use tokio::task::JoinHandle;

/// The sample input.
pub struct SampleInput {
    tag: String,
    rate: u64,
    size: u64,
    auto_increment_key: Option<String>,
    samples: Vec<Value>,
    log: PluginLog,
}

/// `sample` (and its old name `dummy`) input.
pub static PARAMS: Spec = Spec::new("sample", "Emits sample events at a fixed rate.").params(&[
    p("tag", Str, "Tag of the events.").required(),
    p("rate", Integer, "Batches a second.").default("1"),
    p("size", Integer, "Events a batch.").default("1"),
    p(
        "sample",
        Str,
        "A JSON object, or an array of them used in turn.",
    )
    .aliases(&["dummy"])
    .default("{\"message\":\"sample\"}"),
    p("auto_increment_key", Str, "Add a counter under this key."),
    p(
        "suspend",
        Bool,
        "Deprecated and ignored, as in Fluentd 1.16 (a warning says so).",
    )
    .default("false"),
]);

/// Build from `<source>`.
pub fn build(ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Input>, BuildError> {
    let s = &s.declared(&PARAMS);
    s.refuse_declared()?;
    let tag: String = s.get("tag")?;
    let rate: i64 = s.get("rate")?;
    let size: i64 = s.get("size")?;
    if rate < 1 || size < 1 {
        return Err(build_error(
            s.pos(),
            "sample: rate and size must be at least 1",
        ));
    }
    if s.has("suspend") {
        s.get::<bool>("suspend")?;
        // Fluentd's own words: it reads the parameter and does nothing with it.
        ctx.log.warn(format_args!(
            "'suspend' parameter is deprecated: This parameters is ignored"
        ));
    }
    let text: &str = s.get("sample")?;
    let p = s
        .param("sample")
        .or_else(|| s.param("dummy"))
        .map_or(s.pos(), |p| &p.pos);
    let json: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| build_error(p, format!("sample: invalid JSON: {e}")))?;
    let items = match json {
        serde_json::Value::Array(a) => a,
        other => vec![other],
    };
    let mut samples = Vec::new();
    for item in &items {
        if !item.is_object() {
            return Err(build_error(p, "sample: every sample must be a JSON object"));
        }
        let mut buf = Vec::new();
        logferry_msgpack::json_to_msgpack(item, &mut buf);
        let (v, _) = Value::decode(&buf).map_err(|e| build_error(p, format!("sample: {e}")))?;
        samples.push(v);
    }
    if samples.is_empty() {
        return Err(build_error(
            p,
            "sample: at least one sample record is needed",
        ));
    }
    Ok(Arc::new(SampleInput {
        tag,
        rate: rate as u64,
        size: size as u64,
        auto_increment_key: s.get("auto_increment_key")?,
        samples,
        log: ctx.log.clone(),
    }))
}

/// Fluentd splits a second into this many bins.
const BIN_NUM: u64 = 10;

/// Seconds since the epoch, as Fluentd's `Time.now.to_i`.
fn unix_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The record generator: the samples in turn, with the counter.
struct Generator {
    next: usize,
    counter: i64,
}

impl SampleInput {
    /// Emit `n` batches of `size` events, as Fluentd's `emit(n)`.
    async fn emit(&self, n: u64, gen: &mut Generator, ctx: &mut InputContext) {
        for _ in 0..n {
            let mut b = BatchBuilder::new();
            for _ in 0..self.size {
                let mut rec = self.samples[gen.next % self.samples.len()].clone();
                gen.next = gen.next.wrapping_add(1);
                if let (Some(k), Value::Map(m)) = (&self.auto_increment_key, &mut rec) {
                    // Fluentd's `d[key] = n`: a key the sample has keeps its place.
                    let n = Value::Int(gen.counter);
                    match m.iter_mut().find(|(mk, _)| mk.as_str() == Some(k.as_str())) {
                        Some((_, v)) => *v = n,
                        None => m.push((Value::Str(k.clone()), n)),
                    }
                    gen.counter += 1;
                }
                b.push_value(EventTime::now(), &rec);
            }
            if let Err(e) = ctx.emitter.emit(&self.tag, b.finish()).await {
                self.log.warn(format_args!("emit failed: {e}"));
            }
        }
    }
}

#[async_trait]
impl Input for SampleInput {
    /// Fluentd's schedule: each wall-clock second, `rate / 10` batches every 0.1 s while the
    /// second lasts, then the other `rate % 10` batches once it is over (so at `rate 1` the
    /// first event comes at the end of the current second).
    async fn start(self: Arc<Self>, mut ctx: InputContext) -> Result<JoinHandle<()>, String> {
        Ok(tokio::spawn(async move {
            let (batch_num, residual_num) = (self.rate / BIN_NUM, self.rate % BIN_NUM);
            let mut gen = Generator {
                next: 0,
                counter: 0,
            };
            let mut shutdown = ctx.shutdown.clone();
            'run: loop {
                let current = unix_secs();
                for _ in 0..BIN_NUM {
                    if unix_secs() > current {
                        break;
                    }
                    let bin_end = tokio::time::Instant::now() + Duration::from_millis(100);
                    self.emit(batch_num, &mut gen, &mut ctx).await;
                    tokio::select! {
                        _ = tokio::time::sleep_until(bin_end) => {}
                        _ = shutdown.changed() => break 'run,
                    }
                }
                if *shutdown.borrow() {
                    break;
                }
                self.emit(residual_num, &mut gen, &mut ctx).await;
                // Wait for the next second.
                while unix_secs() <= current {
                    let into = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.subsec_nanos());
                    let left =
                        Duration::from_nanos(u64::from(1_000_000_000 - into.min(999_999_999)));
                    tokio::select! {
                        _ = tokio::time::sleep(left) => {}
                        _ = shutdown.changed() => break 'run,
                    }
                }
            }
        }))
    }
}
