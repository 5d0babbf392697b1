//! concat against fluent-plugin-concat 2.5.0: every case of `testdata/concat/cases.json` (the
//! inputs) was run through the plugin in the reference Fluentd 1.16.11 by
//! `testdata/concat/record.py`, which wrote what it emitted to `expected.json`: the events the
//! filter passed on (`out`), the groups flushed by timeout or at shutdown to its `timeout_label`
//! (`remain`), and its error events (`error`). Here the same events go through logferry's concat,
//! one event per batch as they were sent, and everything must be equal: tags, times, records with
//! their keys in the same order.

use std::path::Path;
use std::time::{Duration, Instant};

use logferry_core::{BatchBuilder, ErrorEvents, EventBatch, EventTime, PluginLog, Section};
use serde_json::Value as Json;

use super::config::ConcatConfig;
use super::process::State;

const CASES: &str = include_str!("../../testdata/concat/cases.json");
const EXPECTED: &str = include_str!("../../testdata/concat/expected.json");

/// `[tag, "sec.nsec", [[key, value], ...]]`
type Event = (String, String, Vec<(String, Json)>);

fn cfg(conf: &str) -> ConcatConfig {
    let text = format!("<filter **>\n  @type concat\n{conf}\n</filter>\n");
    let root = logferry_config::parse_str(&text, "t.conf", Path::new(".")).unwrap();
    let s = Section::new(&root.elements[0], "concat");
    ConcatConfig::from_section(&s).unwrap()
}

fn time_text(t: EventTime) -> String {
    format!("{}.{:09}", t.sec, t.nsec)
}

fn record_pairs(raw: &[u8]) -> Vec<(String, Json)> {
    let logferry_core::Value::Map(m) = logferry_formats::record::decode(raw) else {
        panic!("not a map")
    };
    m.into_iter()
        .map(|(k, v)| {
            let mut j = Vec::new();
            v.to_json(&mut j);
            (
                k.as_str().unwrap().to_string(),
                serde_json::from_slice(&j).unwrap(),
            )
        })
        .collect()
}

fn events_of(tag: &str, b: &EventBatch) -> Vec<Event> {
    b.iter()
        .map(|e| (tag.to_string(), time_text(e.time), record_pairs(e.record)))
        .collect()
}

fn expected(list: &Json) -> Vec<Event> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let pairs = e[2]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (p[0].as_str().unwrap().to_string(), p[1].clone()))
                .collect();
            (
                e[0].as_str().unwrap().to_string(),
                e[1].as_str().unwrap().to_string(),
                pairs,
            )
        })
        .collect()
}

fn to_msgpack(j: &Json, out: &mut Vec<u8>) {
    use logferry_msgpack::write;
    match j {
        Json::Null => write::nil(out),
        Json::Bool(b) => write::bool(out, *b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => write::int(out, i),
            None => write::f64(out, n.as_f64().unwrap()),
        },
        Json::String(s) => write::str(out, s),
        Json::Array(a) => {
            write::array_len(out, a.len() as u32);
            for v in a {
                to_msgpack(v, out);
            }
        }
        Json::Object(m) => {
            write::map_len(out, m.len() as u32);
            for (k, v) in m {
                write::str(out, k);
                to_msgpack(v, out);
            }
        }
    }
}

#[test]
fn same_as_fluent_plugin_concat() {
    let cases: Json = serde_json::from_str(CASES).unwrap();
    let expected_all: Json = serde_json::from_str(EXPECTED).unwrap();
    let log = PluginLog::new("concat", None);
    let mut checked = 0;
    for case in cases.as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let c = cfg(case["conf"].as_str().unwrap());
        let mut st = State::default();
        let (mut out, mut errors_seen) = (Vec::new(), Vec::new());
        for ev in case["events"].as_array().unwrap() {
            let tag = ev[0].as_str().unwrap();
            let time = EventTime::new(
                ev[1].as_u64().unwrap() as u32,
                ev[2].as_u64().unwrap() as u32,
            );
            let mut rec = Vec::new();
            to_msgpack(&ev[3], &mut rec);
            let mut b = BatchBuilder::new();
            b.push_raw(time, &rec);
            let batch = b.finish();
            let mut errors = ErrorEvents::default();
            let kept = if super::process::is_fluent_log_tag(tag) {
                batch
            } else {
                match st.filter_batch(&c, tag, &batch, &mut errors, &log) {
                    None => batch,
                    Some(b) => b.finish(),
                }
            };
            out.extend(events_of(tag, &kept));
            let (err_batch, _) = errors.take();
            errors_seen.extend(events_of(tag, &err_batch));
        }
        let remain_groups = if case["wait_after"].is_null() {
            st.take_all(&c)
        } else {
            // The timeout case: every stream is idle by now + the wait.
            let wait = Duration::from_secs(case["wait_after"].as_u64().unwrap());
            st.take_idle(&c, Instant::now() + wait, c.flush_interval.unwrap())
        };
        assert!(c.use_first_timestamp || case["wait_after"].is_null());
        let remain: Vec<Event> = remain_groups
            .iter()
            .map(|f| (f.tag.clone(), time_text(f.time), record_pairs(&f.record)))
            .collect();
        let exp = &expected_all[name];
        assert_eq!(out, expected(&exp["out"]), "case {name}: passed-on events");
        assert_eq!(
            remain,
            expected(&exp["remain"]),
            "case {name}: flushed groups"
        );
        assert_eq!(
            errors_seen,
            expected(&exp["error"]),
            "case {name}: error events"
        );
        checked += 1;
    }
    assert_eq!(checked, 19);
}

#[test]
fn refused_configs() {
    for (conf, msg) in [
        ("key a", "Either n_lines"),
        ("key a\nn_lines 2\nmultiline_start_regexp /x/", "exclusive"),
        ("key a\npartial_key p", "partial_value is required"),
        (
            "key a\nuse_partial_cri_logtag true",
            "needs partial_cri_logtag_key",
        ),
        ("key a\nmultiline_start_regexp ^x", "between slashes"),
        (
            "key a\nuse_partial_metadata true\npartial_metadata_format x",
            "partial_metadata_format",
        ),
    ] {
        let text = format!("<filter **>\n  @type concat\n{conf}\n</filter>\n");
        let root = logferry_config::parse_str(&text, "t.conf", Path::new(".")).unwrap();
        let s = Section::new(&root.elements[0], "concat");
        let e = ConcatConfig::from_section(&s).unwrap_err().to_string();
        assert!(e.contains(msg), "{conf}: {e}");
        assert!(e.contains("t.conf:"), "{e}");
    }
}

/// A stream that never ends is flushed at the size bound: memory stays bounded.
#[test]
fn a_stream_that_never_ends_is_flushed_at_the_size_bound() {
    // Only an end regexp that never matches: every line joins the pending group.
    let c = cfg(
        "key log\nmultiline_end_regexp /^never$/\nstream_limit_size 64k\ntotal_limit_size 128k",
    );
    let log = PluginLog::new("concat", None);
    let mut st = State::default();
    let mut flushed = Vec::new();
    let line = "x".repeat(1000);
    let mut rec = Vec::new();
    to_msgpack(&serde_json::json!({"log": "never ending"}), &mut rec);
    let mut b = BatchBuilder::new();
    b.push_raw(EventTime::new(1, 0), &rec);
    st.filter_batch(&c, "t", &b.finish(), &mut ErrorEvents::default(), &log);
    let mut sent = 1;
    for _ in 0..1000 {
        let mut rec = Vec::new();
        to_msgpack(&serde_json::json!({ "log": line }), &mut rec);
        let mut b = BatchBuilder::new();
        b.push_raw(EventTime::new(2, 0), &rec);
        st.filter_batch(&c, "t", &b.finish(), &mut ErrorEvents::default(), &log);
        sent += 1;
        assert!(st.total_bytes() <= 64 * 1024 + 2048, "{}", st.total_bytes());
        flushed.extend(st.take_spilled());
    }
    flushed.extend(st.take_all(&c));
    // Every line is in exactly one flushed group, in order.
    let lines: Vec<String> = flushed
        .iter()
        .flat_map(|f| {
            let pairs = record_pairs(&f.record);
            let text = pairs[0].1.as_str().unwrap().to_string();
            text.split('\n').map(str::to_string).collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(lines.len(), sent);
    assert_eq!(lines[0], "never ending");
    assert!(lines[1..].iter().all(|l| *l == line));
    assert!(flushed.len() > 10);
}
