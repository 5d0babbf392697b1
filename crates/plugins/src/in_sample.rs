//! `sample` input (alias `dummy`): emits sample records at a steady rate, for demos and tests.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use logferry_core::error::build_error;
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

/// Build from `<source>`.
pub fn build(ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Input>, BuildError> {
    s.refuse(
        "suspend",
        "it needs plugin storage, which logferry does not have yet",
    )?;
    let tag = s.required("tag")?.to_string();
    let rate = s.integer("rate", 1);
    let size = s.integer("size", 1);
    if rate < 1 || size < 1 {
        return Err(build_error(
            s.pos(),
            "sample: rate and size must be at least 1",
        ));
    }
    let text = match (s.param("sample"), s.param("dummy")) {
        (Some(p), _) | (None, Some(p)) => Some(p),
        (None, None) => None,
    };
    let samples = match text {
        None => vec![Value::Map(vec![(
            Value::Str("message".into()),
            Value::Str("sample".into()),
        )])],
        Some(p) => {
            let json: serde_json::Value = serde_json::from_str(&p.value)
                .map_err(|e| build_error(&p.pos, format!("sample: invalid JSON: {e}")))?;
            let items = match json {
                serde_json::Value::Array(a) => a,
                other => vec![other],
            };
            let mut out = Vec::new();
            for item in &items {
                if !item.is_object() {
                    return Err(build_error(
                        &p.pos,
                        "sample: every sample must be a JSON object",
                    ));
                }
                let mut buf = Vec::new();
                logferry_msgpack::json_to_msgpack(item, &mut buf);
                let (v, _) =
                    Value::decode(&buf).map_err(|e| build_error(&p.pos, format!("sample: {e}")))?;
                out.push(v);
            }
            if out.is_empty() {
                return Err(build_error(
                    &p.pos,
                    "sample: at least one sample record is needed",
                ));
            }
            out
        }
    };
    Ok(Arc::new(SampleInput {
        tag,
        rate: rate as u64,
        size: size as u64,
        auto_increment_key: s.str("auto_increment_key").map(str::to_string),
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
                            m.push((Value::Str(k.clone()), Value::Int(counter)));
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
