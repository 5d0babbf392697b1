//! Outputs captured instead of sent: the config is rewritten so that every output that would
//! deliver events (stdout, file, forward, s3, http, null …) becomes a capture point, while the
//! outputs that route (relabel, rewrite_tag_filter, copy's and roundrobin's stores) stay what they
//! are.
//!
//! A capture point keeps its `@id` (so ids stay unique and the monitor names stay the same) and
//! loses everything else: nothing is buffered, formatted, connected or written.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use logferry_config::{Element, Pos};
use logferry_core::error::build_error;
use logferry_core::{BuildCtx, BuildError, EmitError, EventBatch, Output, Section};

/// The `@type` of a capture point (not a name any config can use: it starts with a space).
pub const CAPTURE_TYPE: &str = " test_capture";

/// Output types that route events on instead of delivering them; they run for real.
const ROUTING: &[&str] = &["relabel", "rewrite_tag_filter", "copy", "roundrobin"];

/// One output of the config replaced by a capture point.
#[derive(Clone, Debug)]
pub struct Point {
    /// The output's own `@id`.
    pub id: Option<String>,
    /// The `@id` of the enclosing `<match>` (for a `<store>` of copy or roundrobin).
    pub match_id: Option<String>,
    /// The enclosing `<match>` pattern as written.
    pub pattern: String,
    /// The label it is declared in (None = root).
    pub label: Option<String>,
    /// Its original `@type`.
    pub ty: String,
    /// Where it is declared.
    pub pos: Pos,
}

impl Point {
    /// How a report names it: `@id`, type, pattern and position.
    pub fn describe(&self) -> String {
        let id = self
            .id
            .as_deref()
            .map(|i| format!("{i}, "))
            .unwrap_or_default();
        let label = self
            .label
            .as_deref()
            .map(|l| format!(" in <label {l}>"))
            .unwrap_or_default();
        format!(
            "{id}{} of <match {}>{label} at {}",
            self.ty, self.pattern, self.pos
        )
    }
}

/// A `<match>` that routes (relabel, rewrite_tag_filter, copy, roundrobin), for naming errors.
#[derive(Clone, Debug)]
pub struct RoutingMatch {
    /// Its `@id`.
    pub id: Option<String>,
    /// Its pattern.
    pub pattern: String,
    /// Its label.
    pub label: Option<String>,
    /// Its type.
    pub ty: String,
}

/// The rewritten config and its capture points (index = `capture_id`).
pub struct Rewritten {
    /// The config to build: capture points in, sources not started.
    pub root: Element,
    /// The capture points.
    pub points: Vec<Point>,
    /// The routing matches.
    pub routing: Vec<RoutingMatch>,
}

/// Rewrite a parsed config for a test run.
pub fn rewrite(root: &Element) -> Rewritten {
    let mut out = Rewritten {
        root: root.clone(),
        points: Vec::new(),
        routing: Vec::new(),
    };
    let mut elements = std::mem::take(&mut out.root.elements);
    for el in &mut elements {
        match el.name.as_str() {
            "match" => rewrite_match(el, None, &mut out),
            "label" => {
                let label = el.arg.trim().to_string();
                for m in el.elements.iter_mut().filter(|e| e.name == "match") {
                    rewrite_match(m, Some(&label), &mut out);
                }
            }
            _ => {}
        }
    }
    // Sources are built (so their config is checked) but not started: no port is bound.
    let pos = root.pos.clone();
    match elements.iter_mut().find(|e| e.name == "system") {
        Some(sys) => sys.set_param("without_source", "true", pos),
        None => {
            let mut sys = Element::new("system", "", pos.clone());
            sys.set_param("without_source", "true", pos);
            elements.push(sys);
        }
    }
    out.root.elements = elements;
    out
}

fn type_of(el: &Element) -> String {
    el.plugin_type()
        .map(|p| p.value.clone())
        .unwrap_or_default()
}

fn rewrite_match(m: &mut Element, label: Option<&str>, out: &mut Rewritten) {
    let ty = type_of(m);
    let pattern = m.arg.trim().to_string();
    let match_id = m.value("@id").map(str::to_string);
    if ROUTING.contains(&ty.as_str()) {
        out.routing.push(RoutingMatch {
            id: match_id.clone(),
            pattern: pattern.clone(),
            label: label.map(str::to_string),
            ty: ty.clone(),
        });
        if ty == "copy" || ty == "roundrobin" {
            rewrite_stores(m, &match_id, &pattern, label, out);
        }
        return;
    }
    capture(m, None, &pattern, label, out);
}

fn rewrite_stores(
    copy: &mut Element,
    match_id: &Option<String>,
    pattern: &str,
    label: Option<&str>,
    out: &mut Rewritten,
) {
    for st in copy.elements.iter_mut().filter(|e| e.name == "store") {
        let ty = type_of(st);
        if ty == "copy" || ty == "roundrobin" {
            rewrite_stores(st, match_id, pattern, label, out);
        } else if !ROUTING.contains(&ty.as_str()) {
            capture(st, match_id.clone(), pattern, label, out);
        }
    }
}

/// Turn `el` into capture point number `out.points.len()`.
fn capture(
    el: &mut Element,
    match_id: Option<String>,
    pattern: &str,
    label: Option<&str>,
    out: &mut Rewritten,
) {
    let n = out.points.len();
    out.points.push(Point {
        id: el.value("@id").map(str::to_string),
        match_id,
        pattern: pattern.to_string(),
        label: label.map(str::to_string),
        ty: type_of(el),
        pos: el.pos.clone(),
    });
    let pos = el.pos.clone();
    el.params.retain(|p| p.key == "@id");
    el.elements.clear();
    el.set_param("@type", CAPTURE_TYPE, pos.clone());
    el.set_param("capture_id", n.to_string(), pos);
}

/// What the capture points received in one run: (capture id, tag, batch), in arrival order.
pub type Captured = Arc<Mutex<Vec<(usize, String, EventBatch)>>>;

/// Where every capture output of the process writes; taken after each test.
static SINK: Mutex<Option<Captured>> = Mutex::new(None);

/// The sink of this process's capture outputs.
pub fn sink() -> Captured {
    let mut s = SINK.lock().unwrap_or_else(|e| e.into_inner());
    s.get_or_insert_with(Captured::default).clone()
}

struct CaptureOutput {
    id: usize,
    sink: Captured,
}

#[async_trait]
impl Output for CaptureOutput {
    async fn emit(&self, tag: &str, batch: EventBatch) -> Result<(), EmitError> {
        self.sink
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((self.id, tag.to_string(), batch));
        Ok(())
    }
}

/// The capture output's factory (registered as [`CAPTURE_TYPE`] for test runs only).
pub fn build(_ctx: &BuildCtx, s: &Section) -> Result<Arc<dyn Output>, BuildError> {
    let id = s
        .required("capture_id")?
        .parse()
        .map_err(|_| build_error(s.pos(), "capture_id must be a number"))?;
    Ok(Arc::new(CaptureOutput { id, sink: sink() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivering_outputs_become_captures_routing_ones_stay() {
        let root = logferry_config::parse_str(
            "<source>\n@type forward\n</source>\n<match a.**>\n@type rewrite_tag_filter\n<rule>\nkey k\npattern /x/\ntag b\n</rule>\n</match>\n<match b.**>\n@type copy\n<store>\n@type relabel\n@label @L\n</store>\n<store>\n@type file\n@id f\npath /x\n<buffer>\n@type file\n</buffer>\n</store>\n</match>\n<label @L>\n<match **>\n@type s3\n@id s\ns3_bucket b\n</match>\n</label>\n",
            "t.conf",
            std::path::Path::new("."),
        )
        .unwrap();
        let r = rewrite(&root);
        let ids: Vec<_> = r.points.iter().map(|p| p.id.clone().unwrap()).collect();
        assert_eq!(ids, ["f", "s"]);
        assert_eq!(r.points[1].label.as_deref(), Some("@L"));
        assert_eq!(r.routing.len(), 2);
        let text = r.root.dump();
        assert!(
            !text.contains("s3_bucket") && !text.contains("<buffer>"),
            "{text}"
        );
        assert!(text.contains("without_source true"), "{text}");
        assert!(text.contains("@type rewrite_tag_filter"), "{text}");
    }
}
