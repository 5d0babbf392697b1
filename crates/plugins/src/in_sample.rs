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

#[async_trait]
impl Input for SampleInput {
    async fn start(self: Arc<Self>, mut ctx: InputContext) -> Result<JoinHandle<()>, String> {
        Ok(tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            let mut counter: i64 = 0;
            let mut next = 0usize;
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = ctx.shutdown.changed() => break,
                }
                if *ctx.shutdown.borrow() {
                    break;
                }
                for _ in 0..self.rate {
                    let mut b = BatchBuilder::new();
                    for _ in 0..self.size {
                        let mut rec = self.samples[next % self.samples.len()].clone();
                        next = next.wrapping_add(1);
                        if let (Some(k), Value::Map(m)) = (&self.auto_increment_key, &mut rec) {
                            // Fluentd's `d[key] = n`: a key the sample has keeps its place.
                            let n = Value::Int(counter);
                            match m.iter_mut().find(|(mk, _)| mk.as_str() == Some(k.as_str())) {
                                Some((_, v)) => *v = n,
                                None => m.push((Value::Str(k.clone()), n)),
                            }
                            counter += 1;
                        }
                        b.push_value(EventTime::now(), &rec);
                    }
                    if let Err(e) = ctx.emitter.emit(&self.tag, b.finish()).await {
                        self.log.warn(format_args!("emit failed: {e}"));
                    }
                }
            }
        }))
    }
}
