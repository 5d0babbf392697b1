//! `logferry test CONFIG TESTS…`: unit tests of a config, as `vector test`.
//!
//! The config is built by the daemon's own code ([`Pipeline::build`], the same plugins, the same
//! router); then every output that would deliver events is replaced by a capture point
//! ([`capture`]), sources are built but not started, and each test emits its input events into
//! the router (at a source's `@id`, a label or the root), stops the pipeline (so filters that
//! hold events, as concat, release them) and compares what each named output received with
//! what the test expects. Nothing binds a port, connects or writes. Exit status: 0 when every
//! test passes, 1 when one fails, 2 when the config or a test file is invalid.

pub mod capture;
pub mod diff;
pub mod spec;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use logferry_config::Element;
use logferry_core::{BatchBuilder, Emitter, Pipeline, Registry};

use capture::{Point, Rewritten};
use diff::Actual;
use spec::{Entry, Expect, TestCase};

/// How long the stop at the end of a test may take to release held events.
const DRAIN: Duration = Duration::from_secs(10);

/// Run the tests in `tests` against `config`.
pub fn run(config: &Path, tests: &[PathBuf]) -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("logferry: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    rt.block_on(run_all(config, tests))
}

/// Parse `config` and build it as the daemon does (every plugin, every error with its
/// position, nothing started); the parsed tree with its `<worker>` sections resolved.
pub fn load_config(config: &Path) -> Result<Element, String> {
    let root = logferry_config::parse_file(config).map_err(|e| e.to_string())?;
    Pipeline::build(&root, &crate::registry()).map_err(|e| e.to_string())?;
    let (system, _) = logferry_core::pipeline::system_config(&root).map_err(|e| e.to_string())?;
    let flat = logferry_core::workers::flatten(&root, system.workers).map_err(|e| e.to_string())?;
    Ok(flat.root)
}

async fn run_all(config: &Path, tests: &[PathBuf]) -> ExitCode {
    let root = match load_config(config) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("logferry: config error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut registry = crate::registry();
    registry.add_output(capture::CAPTURE_TYPE, capture::build);
    let rw = capture::rewrite(&root);
    let mut files = Vec::new();
    for path in tests {
        match spec::load(path) {
            Ok(f) => files.push((path, f)),
            Err(e) => {
                eprintln!("logferry: test file error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let (mut passed, mut failed) = (0, 0);
    for (path, file) in &files {
        for case in &file.tests {
            match run_case(&root, &rw, &registry, case).await {
                Ok(()) => {
                    passed += 1;
                    println!("test {}: {} ... ok", path.display(), case.name);
                }
                Err(report) => {
                    failed += 1;
                    println!("test {}: {} ... FAILED", path.display(), case.name);
                    for l in report {
                        println!("    {l}");
                    }
                }
            }
        }
    }
    println!(
        "\n{} passed, {} failed ({})",
        passed,
        failed,
        config.display()
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Run one test on a fresh pipeline; Err holds the report lines.
async fn run_case(
    root: &Element,
    rw: &Rewritten,
    registry: &Registry,
    case: &TestCase,
) -> Result<(), Vec<String>> {
    let targets: Vec<usize> = case
        .outputs
        .iter()
        .map(|o| resolve(rw, o))
        .collect::<Result<_, _>>()
        .map_err(|e| vec![e])?;
    let pipeline = Pipeline::build(&rw.root, registry).map_err(|e| vec![e.to_string()])?;
    let router = pipeline.router.clone();
    let sink = capture::sink();
    sink.lock().unwrap_or_else(|e| e.into_inner()).clear();
    let running = pipeline.start().await.map_err(|e| vec![e])?;
    let emitter = Emitter::unbound();
    emitter.install(router);
    let mut report = Vec::new();
    for (i, input) in case.inputs.iter().enumerate() {
        let (label, tag) = match entry(root, &input.entry, input.tag.as_deref()) {
            Ok(x) => x,
            Err(e) => {
                report.push(format!("inputs[{i}]: {e}"));
                continue;
            }
        };
        let mut b = BatchBuilder::new();
        for (time, record) in &input.events {
            b.push_with(*time, |out| logferry_msgpack::json_to_msgpack(record, out));
        }
        let to = emitter.for_label(label.as_deref());
        if let Err(e) = to.emit(&tag, b.finish()).await {
            report.push(format!("inputs[{i}]: the pipeline refused the events: {e}"));
        }
    }
    running.stop(tokio::time::Instant::now() + DRAIN).await;
    let captured = std::mem::take(&mut *sink.lock().unwrap_or_else(|e| e.into_inner()));
    for (expect, &point) in case.outputs.iter().zip(&targets) {
        let actual: Vec<Actual> = captured
            .iter()
            .filter(|(p, _, _)| *p == point)
            .flat_map(|(_, tag, batch)| {
                batch.iter().map(move |e| Actual {
                    tag: tag.clone(),
                    time: e.time,
                    record: record_json(e.record),
                })
            })
            .collect();
        if let Some(lines) = diff::diff(&expect.events, &actual) {
            report.push(format!(
                "at {} ({} expected, {} arrived):",
                rw.points[point].describe(),
                expect.events.len(),
                actual.len()
            ));
            report.extend(lines.into_iter().map(|l| format!("  {l}")));
        }
    }
    if report.is_empty() {
        Ok(())
    } else {
        Err(report)
    }
}

fn record_json(raw: &[u8]) -> serde_json::Value {
    let mut out = Vec::new();
    match logferry_msgpack::write_json(raw, &mut out) {
        Ok(_) => serde_json::from_slice(&out).unwrap_or(serde_json::Value::Null),
        Err(_) => serde_json::Value::Null,
    }
}

/// Where an input enters: (label, tag).
fn entry(
    root: &Element,
    entry: &Entry,
    tag: Option<&str>,
) -> Result<(Option<String>, String), String> {
    let (label, default_tag) = match entry {
        Entry::Root => (None, None),
        Entry::Label(l) if l == "@ROOT" => (None, None),
        Entry::Label(l) => {
            let exists = root
                .elements_named("label")
                .any(|e| e.arg.trim() == l.as_str());
            if !exists {
                return Err(format!("label {l} is not defined in the config"));
            }
            (Some(l.clone()), None)
        }
        Entry::Source(id) => {
            let src = sources(root)
                .find(|s| s.value("@id").or_else(|| s.value("id")) == Some(id.as_str()))
                .ok_or_else(|| {
                    let ids: Vec<&str> = sources(root).filter_map(|s| s.value("@id")).collect();
                    format!(
                        "no <source> has @id {id}; the sources with an @id: {}",
                        if ids.is_empty() {
                            "none".to_string()
                        } else {
                            ids.join(", ")
                        }
                    )
                })?;
            (
                src.value("@label")
                    .map(str::to_string)
                    .filter(|l| l != "@ROOT"),
                src.value("tag").map(str::to_string),
            )
        }
    };
    let tag = tag
        .map(str::to_string)
        .or(default_tag)
        .ok_or("the input needs a tag (its source has no tag parameter)")?;
    Ok((label, tag))
}

/// Every `<source>`, also those inside `<worker>` sections.
fn sources(root: &Element) -> impl Iterator<Item = &Element> {
    root.elements.iter().flat_map(|e| match e.name.as_str() {
        "source" => vec![e],
        "worker" => e.elements_named("source").collect(),
        _ => Vec::new(),
    })
}

fn same_pattern(a: &str, b: &str) -> bool {
    a.split_whitespace().eq(b.split_whitespace())
}

/// The capture point an expectation names.
fn resolve(rw: &Rewritten, o: &Expect) -> Result<usize, String> {
    let label = o.label.as_deref().filter(|l| *l != "@ROOT");
    let one = |found: Vec<usize>, what: String| -> Result<Option<usize>, String> {
        match found.len() {
            0 => Ok(None),
            1 => Ok(Some(found[0])),
            n => Err(format!(
                "{what} names {n} outputs ({}); name one by its @id",
                found
                    .iter()
                    .map(|&i| rw.points[i].describe())
                    .collect::<Vec<_>>()
                    .join("; ")
            )),
        }
    };
    let ids = |pred: &dyn Fn(&Point) -> bool| -> Vec<usize> {
        (0..rw.points.len())
            .filter(|&i| pred(&rw.points[i]))
            .collect()
    };
    let at = o.at.as_str();
    if let Some(i) = one(ids(&|p| p.id.as_deref() == Some(at)), format!("@id {at}"))? {
        return Ok(i);
    }
    if let Some(i) = one(
        ids(&|p| p.match_id.as_deref() == Some(at)),
        format!("@id {at}"),
    )? {
        return Ok(i);
    }
    let by_pattern = ids(&|p| p.label.as_deref() == label && same_pattern(&p.pattern, at));
    if let Some(i) = one(by_pattern, format!("<match {at}>"))? {
        return Ok(i);
    }
    if let Some(r) = rw.routing.iter().find(|r| {
        r.id.as_deref() == Some(at) || (r.label.as_deref() == label && same_pattern(&r.pattern, at))
    }) {
        return Err(format!(
            "<match {}> is a {} output: it routes events on; name the output where they arrive",
            r.pattern, r.ty
        ));
    }
    let known: Vec<String> = rw.points.iter().map(Point::describe).collect();
    Err(format!(
        "no output is named '{at}'{}; the outputs: {}",
        label
            .map(|l| format!(" in <label {l}>"))
            .unwrap_or_default(),
        known.join("; ")
    ))
}
