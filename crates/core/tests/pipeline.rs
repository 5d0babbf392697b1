//! Building pipelines from config text with a test registry: re-emission enters the router of the
//! label where the plugin is declared (reference §7.2 case 16), filter order, build errors.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use logferry_core::pipeline::BuildCtx;
use logferry_core::{
    BatchBuilder, EmitError, Emitter, EventBatch, EventTime, Filter, FilterOutput, Output,
    Pipeline, Registry, Section,
};

type Log = Arc<Mutex<Vec<String>>>;

fn log() -> &'static Log {
    static LOG: std::sync::OnceLock<Log> = std::sync::OnceLock::new();
    LOG.get_or_init(Default::default)
}

/// Records `name:tag`.
struct Record(String);
#[async_trait]
impl Output for Record {
    async fn emit(&self, tag: &str, _b: EventBatch) -> Result<(), EmitError> {
        log().lock().unwrap().push(format!("{}:{tag}", self.0));
        Ok(())
    }
}

/// Re-emits with the tag prefixed by `x.` into the router where it is declared (a stand-in for
/// rewrite_tag_filter).
struct Retag(Emitter);
#[async_trait]
impl Output for Retag {
    async fn emit(&self, tag: &str, b: EventBatch) -> Result<(), EmitError> {
        self.0.emit(&format!("x.{tag}"), b).await
    }
}

struct Mark(String);
impl Filter for Mark {
    fn filter(
        &self,
        tag: &str,
        b: EventBatch,
        _e: &mut logferry_core::plugin::ErrorEvents,
    ) -> FilterOutput {
        log().lock().unwrap().push(format!("{}:{tag}", self.0));
        FilterOutput::Keep(b)
    }
}

fn registry() -> Registry {
    let mut r = Registry::new();
    r.add_output("record", |_c: &BuildCtx, s: &Section| {
        Ok(Arc::new(Record(s.required("name")?.to_string())) as Arc<dyn Output>)
    });
    r.add_output("retag", |c: &BuildCtx, _s: &Section| {
        Ok(Arc::new(Retag(c.emitter.clone())) as Arc<dyn Output>)
    });
    r.add_filter("mark", |_c: &BuildCtx, s: &Section| {
        Ok(Arc::new(Mark(s.required("name")?.to_string())) as Arc<dyn Filter>)
    });
    r
}

fn batch() -> EventBatch {
    let mut b = BatchBuilder::new();
    b.push_raw(EventTime::new(1, 0), &[0x80]);
    b.finish()
}

fn build(text: &str) -> Result<Pipeline, String> {
    let root =
        logferry_config::parse_str(text, "t.conf", Path::new(".")).map_err(|e| e.to_string())?;
    Pipeline::build(&root, &registry()).map_err(|e| e.to_string())
}

#[tokio::test]
async fn case_16_reemission_stays_in_the_declaring_label() {
    let p = build(
        "<match **>\n@type record\nname root\n</match>\n<label @in>\n<filter x.**>\n@type mark\nname F\n</filter>\n<match x.**>\n@type record\nname in-x\n</match>\n<match **>\n@type retag\n</match>\n</label>\n",
    )
    .unwrap();
    log().lock().unwrap().clear();
    let e = Emitter::unbound();
    e.install(p.router.clone());
    e.for_label(Some("@in")).emit("y", batch()).await.unwrap();
    let got = log().lock().unwrap().clone();
    assert_eq!(
        got,
        ["F:x.y", "in-x:x.y"],
        "re-emitted events are matched from the top of @in, never by root"
    );
}

#[tokio::test]
async fn build_errors() {
    let e = build("<match **>\n@type record\nname a\n@id same\n</match>\n<match **>\n@type record\nname b\n@id same\n</match>\n").err().unwrap();
    assert!(
        e.contains("t.conf:9:") && e.contains("duplicated plugin id 'same'"),
        "{e}"
    );
    let e = build("<label @x>\n<filter **>\n@type mark\nname f\n</filter>\n</label>\n")
        .err()
        .unwrap();
    assert!(e.contains("label @x has no <match>"), "{e}");
    let e = build("<label @x>\n<match **>\n@type record\nname a\n</match>\n</label>\n<label @x>\n<match **>\n@type record\nname a\n</match>\n</label>\n").err().unwrap();
    assert!(e.contains("already defined at t.conf:1:"), "{e}");
    let e = build("<match **>\n@type record\nname a\n@log_level loud\n</match>\n")
        .err()
        .unwrap();
    assert!(e.contains("t.conf:4:") && e.contains("@log_level"), "{e}");
    let e = build("<match **>\n@type nope\n</match>\n").err().unwrap();
    assert!(
        e.contains("unknown output plugin 'nope'; supported output types: record, retag"),
        "{e}"
    );
    let e =
        build("<filter **>\n@type record\n</filter>\n<match **>\n@type record\nname a\n</match>\n")
            .err()
            .unwrap();
    assert!(
        e.contains("unknown filter plugin 'record'; supported filter types: mark"),
        "{e}"
    );
    let e = build("<worker 1>\n</worker>\n").err().unwrap();
    assert!(
        e.contains("worker id 1 specified by <worker> directive is not allowed"),
        "{e}"
    );
    build("<worker 0>\n<match **>\n@type record\nname a\n</match>\n</worker>\n").unwrap();
    let p = build("<match a>\n@type record\nname a\nbogus 1\n</match>\n").unwrap();
    assert_eq!(p.warnings.len(), 1);
    assert!(
        p.warnings[0].contains("parameter 'bogus'") && p.warnings[0].contains("record plugin"),
        "{:?}",
        p.warnings
    );
}
