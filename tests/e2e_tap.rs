//! `logferry tap` and `logferry top` against a running daemon's monitor endpoint.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use support::acked::{send_and_ack, tagged};
use support::*;

/// A forward source (`@id` when given) on the daemon's port and a monitor_agent on `mon`.
fn sources(mon: u16, id: &str) -> String {
    let id = if id.is_empty() {
        String::new()
    } else {
        format!("  @id {id}\n")
    };
    format!(
        "<source>\n  @type forward\n{id}  port {{PORT}}\n  bind 127.0.0.1\n</source>\n<source>\n  @type monitor_agent\n  bind 127.0.0.1\n  port {mon}\n</source>\n"
    )
}

fn conf(mon: u16) -> String {
    let sources = sources(mon, "");
    format!(
        "
{sources}<filter app.**>
  @type record_transformer
  @id add_secret
  <record>
    password hunter2
    env prod
  </record>
</filter>
<match app.**>
  @type file
  @id out_app
  path {{DIR}}/out
  <format>
    @type json
  </format>
  <buffer>
    @type memory
    flush_mode immediate
  </buffer>
</match>
"
    )
}

/// A running `logferry tap`: its stdout lines arrive on `lines`.
struct Tap {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Drop for Tap {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `logferry tap ARGS` and wait until it is attached.
fn tap(args: &[&str]) -> Tap {
    let mut child = Command::new(bin())
        .arg("tap")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, lines) = mpsc::channel();
    let out = child.stdout.take().unwrap();
    thread::spawn(move || {
        for l in BufReader::new(out).lines() {
            let Ok(l) = l else { break };
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    err.read_line(&mut first).unwrap();
    assert!(first.contains("attached to"), "tap did not attach: {first}");
    Tap { child, lines }
}

fn send(d: &Daemon, tag: &str, from: u64, n: u64) {
    let mut s = d.connect();
    let id = format!("{tag}{from}");
    assert!(send_and_ack(&mut s, &tagged(tag, from, n, &id), &id));
}

/// A tap on a filter's @id and one on a tag pattern each get the events passing there, as JSON
/// lines, sampled, secrets masked; events of other tags do not show; a reload does not end them;
/// the daemon's own output is unchanged by the taps.
#[test]
fn tap_streams_the_events_passing_a_plugin_or_a_tag() {
    let mon = free_port();
    let d = Daemon::start(&conf(mon));
    let monitor = format!("127.0.0.1:{mon}");
    let by_id = tap(&["--monitor", &monitor, "--id", "add_secret", "--sample", "2"]);
    let by_tag = tap(&[
        "--monitor",
        &monitor,
        "--tag",
        "app.{web,db}",
        "--rate",
        "0",
    ]);
    send(&d, "other", 0, 3);
    send(&d, "app.web", 0, 10);
    let recv = |t: &Tap| -> serde_json::Value {
        serde_json::from_str(&t.lines.recv_timeout(Duration::from_secs(20)).unwrap()).unwrap()
    };
    // Sampled one in two: seq 0, 2, 4 …
    for want in [0, 2, 4, 6, 8] {
        let v = recv(&by_id);
        assert_eq!(v["plugin_id"], "add_secret");
        assert_eq!(v["tag"], "app.web");
        assert_eq!(v["record"]["seq"], want);
        assert_eq!(v["record"]["password"], "xxxxxx");
        assert_eq!(v["record"]["env"], "prod");
        assert_eq!(v["time"], 1_700_000_000.0);
    }
    for want in 0..10 {
        let v = recv(&by_tag);
        assert_eq!(v["plugin_id"], "out_app");
        assert_eq!(v["record"]["seq"], want);
    }
    // Nothing else arrived on either (the "other" events match neither tap).
    send(&d, "app.db", 100, 2);
    assert_eq!(recv(&by_id)["record"]["seq"], 100);
    assert_eq!(recv(&by_tag)["record"]["seq"], 100);
    assert_eq!(recv(&by_tag)["record"]["seq"], 101);
    // A reload does not end the taps: they see the new pipeline's events.
    d.signal("HUP");
    d.wait_for_log("reload complete", Duration::from_secs(20));
    send(&d, "app.web", 200, 1);
    assert_eq!(recv(&by_tag)["record"]["seq"], 200);
    // The output itself got everything, unmasked.
    let got = support::acked::wait_delivered(
        &d,
        "out",
        &(0..10).chain(100..102).chain(200..201).collect(),
        Duration::from_secs(20),
    );
    assert_eq!(got.len(), 13);
    let text = std::fs::read_dir(d.dir.path())
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("out")
                .then(|| std::fs::read_to_string(p).unwrap())
        })
        .collect::<String>();
    assert!(text.contains("hunter2"), "{text}");
}

/// A bad query is refused with the reason; `--count` ends the tap.
#[test]
fn tap_refuses_bad_queries_and_stops_after_count() {
    let mon = free_port();
    let d = Daemon::start(&conf(mon));
    let monitor = format!("127.0.0.1:{mon}");
    let out = Command::new(bin())
        .args([
            "tap",
            "--monitor",
            &monitor,
            "--sample",
            "0",
            "--count",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("400 Bad Request") && err.contains("sample 0: a whole number, 1 or more"),
        "{err}"
    );
    let mut t = tap(&["--monitor", &monitor, "--count", "3"]);
    send(&d, "app.x", 0, 5);
    for _ in 0..3 {
        t.lines.recv_timeout(Duration::from_secs(20)).unwrap();
    }
    let st = t.child.wait().unwrap();
    assert!(st.success());
}

/// `logferry top --once` against `monitor` (two samples 0.2 s apart): the frame it printed.
fn top_once(monitor: &str) -> String {
    let out = Command::new(bin())
        .args(["top", "--once", "--interval", "0.2", "--monitor", monitor])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `logferry top --once` prints one frame from the daemon's /api/plugins.json: a row per
/// plugin with its type and kind, rates where the plugin counts events, the buffer's queue,
/// bytes and fill, retries and errors, and `-` where a plugin has no such counter.
#[test]
fn top_once_prints_a_frame_of_every_plugin() {
    let mon = free_port();
    let d = Daemon::start(&conf(mon));
    send(&d, "app.web", 0, 10);
    support::acked::wait_delivered(&d, "out", &(0..10).collect(), Duration::from_secs(20));
    let monitor = format!("127.0.0.1:{mon}");
    let text = top_once(&monitor);
    assert!(
        text.starts_with(&format!("logferry top — {monitor} — 4 plugins")),
        "{text}"
    );
    let row = |id: &str| -> Vec<String> {
        text.lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("no row {id} in\n{text}"))
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    let out_app = row("out_app");
    assert_eq!(&out_app[..3], ["out_app", "file", "output"], "{text}");
    // Rates are numbers; nothing is queued any more (flush_mode immediate), no retries, no errors.
    assert!(
        out_app[3..6].iter().all(|r| r.parse::<f64>().is_ok()),
        "{text}"
    );
    assert_eq!(&out_app[6..], ["0", "0", "0.0", "0", "0"], "{text}");
    let filter = row("add_secret");
    assert_eq!(&filter[1..3], ["record_transformer", "filter"], "{text}");
    // Events in and out are numbers; a filter has no chunks, buffer, retries or errors.
    assert!(
        filter[3].parse::<f64>().is_ok() && filter[4].parse::<f64>().is_ok(),
        "{text}"
    );
    assert_eq!(&filter[5..], ["-", "-", "-", "-", "-", "-"], "{text}");
    // A daemon that is not there: exit 1 with the reason.
    drop(d);
    let out = Command::new(bin())
        .args(["top", "--once", "--monitor", &monitor])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot connect to the monitor endpoint"));
}

/// GET `path` from the monitor: the body of its 200 answer.
fn get(monitor: &str, path: &str) -> String {
    let (status, body) = http_get(monitor, path);
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// The entries of the monitor's `/api/plugins.json` by `plugin_id`.
fn plugins(monitor: &str) -> std::collections::HashMap<String, serde_json::Value> {
    let doc: serde_json::Value = serde_json::from_str(&get(monitor, "/api/plugins.json")).unwrap();
    doc["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["plugin_id"].as_str().unwrap().to_string(), p.clone()))
        .collect()
}

/// A forward input `in_fwd`, a monitor on `mon`, a grep filter `keep_low` passing seq 0-4 and a
/// copy `fan` to a stdout store `print` and `store` (`system` goes first, `after` last).
fn fan_conf(mon: u16, system: &str, store: &str, after: &str) -> String {
    let sources = sources(mon, "in_fwd");
    format!(
        "{system}
{sources}<filter app.**>
  @type grep
  @id keep_low
  <regexp>
    key seq
    pattern /^[0-4]$/
  </regexp>
</filter>
<match app.**>
  @type copy
  @id fan
  <store>
    @type stdout
    @id print
  </store>
{store}</match>
{after}"
    )
}

/// Every filter and output is counted in and out, unbuffered outputs and copy's `<store>`s
/// included: 12 events in, a grep filter passes 5, the copy and both its stores (stdout, null)
/// take 5. The monitor's JSON, /metrics and `logferry top --once` show the counts and rates.
#[test]
fn top_once_counts_filters_and_unbuffered_outputs() {
    let mon = free_port();
    let d = Daemon::start(&fan_conf(
        mon,
        "",
        "  <store>\n    @type null\n    @id nothing\n  </store>\n",
        "",
    ));
    // Acked: the router has counted the batch before the ack leaves.
    send(&d, "app.web", 0, 12);
    d.wait_stdout_lines(5, Duration::from_secs(20));
    let monitor = format!("127.0.0.1:{mon}");
    let ps = plugins(&monitor);
    let counts = |id: &str| {
        let p = ps
            .get(id)
            .unwrap_or_else(|| panic!("no plugin {id}: {ps:?}"));
        (p["records_in"].as_u64(), p["records_out"].as_u64())
    };
    assert_eq!(counts("in_fwd"), (Some(12), Some(12)));
    assert_eq!(counts("keep_low"), (Some(12), Some(5)));
    assert_eq!(counts("fan"), (Some(5), Some(5)));
    assert_eq!(counts("print"), (Some(5), Some(5)));
    assert_eq!(counts("nothing"), (Some(5), Some(5)));
    // Fluentd's emit_records: a filter's events out, an output's events in (Fluentd 1.16.11's
    // monitor_agent reports 5 for both on this config and these events).
    assert_eq!(ps["keep_low"]["emit_records"], 5);
    assert_eq!(ps["print"]["emit_records"], 5);

    let metrics = get(&monitor, "/metrics");
    for line in [
        "logferry_filter_records_in_total{plugin_id=\"keep_low\",type=\"grep\"} 12",
        "logferry_filter_records_out_total{plugin_id=\"keep_low\",type=\"grep\"} 5",
        "logferry_output_records_in_total{plugin_id=\"nothing\",type=\"null\"} 5",
        "logferry_output_records_out_total{plugin_id=\"print\",type=\"stdout\"} 5",
        "logferry_input_records_out_total{plugin_id=\"in_fwd\",type=\"forward\"} 12",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no {line} in\n{metrics}"
        );
    }

    let text = top_once(&monitor);
    for (id, ty, kind) in [
        ("in_fwd", "forward", "input"),
        ("keep_low", "grep", "filter"),
        ("fan", "copy", "output"),
        ("print", "stdout", "output"),
        ("nothing", "null", "output"),
    ] {
        let row: Vec<&str> = text
            .lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("no row {id} in\n{text}"))
            .split_whitespace()
            .collect();
        assert_eq!(&row[..3], [id, ty, kind], "{text}");
        // IN/s and OUT/s are numbers, not `-`.
        assert!(
            row[3].parse::<f64>().is_ok() && row[4].parse::<f64>().is_ok(),
            "{text}"
        );
    }
}

/// monitor_agent's `/api/plugins.json` shows the counters Fluentd 1.16.11's shows, with its
/// values, for the same config and the same 12 events (one acked PackedForward message, EventTime
/// times, `{"seq":N}` records), recorded from Fluentd: inputs' `emit_records`/`emit_size` with
/// `<system> enable_input_metrics`/`enable_size_metrics`; copy as a multi-output (no counters);
/// each output's emit/write/rollback/flush counters and an empty `retry`.
#[test]
fn monitor_agent_counters_are_fluentds() {
    let mon = free_port();
    let d = Daemon::start(&fan_conf(
        mon,
        "<system>\n  enable_input_metrics true\n  enable_size_metrics true\n</system>\n",
        "  <store>\n    @type relabel\n    @id hop\n    @label @L\n  </store>\n",
        "<label @L>\n  <match **>\n    @type null\n    @id nothing\n  </match>\n</label>\n",
    ));
    send(&d, "app.web", 0, 12);
    let monitor = format!("127.0.0.1:{mon}");
    let ps = plugins(&monitor);
    let fluentd = |id: &str| {
        let mut p = ps[id].clone();
        let o = p.as_object_mut().unwrap();
        for k in [
            "plugin_id",
            "plugin_category",
            "type",
            "config",
            "records_in",
            "records_out",
        ] {
            o.remove(k);
        }
        p
    };
    // What Fluentd 1.16.11 answered (its plugin_id/category/type/config left out).
    let output = |records: u64, size: u64| {
        serde_json::json!({"output_plugin": true, "retry_count": 0, "emit_records": records,
            "emit_size": size, "emit_count": 1, "write_count": 0, "rollback_count": 0,
            "slow_flush_count": 0, "flush_time_count": 0, "retry": {}})
    };
    assert_eq!(
        fluentd("in_fwd"),
        serde_json::json!({"output_plugin": false, "retry_count": null, "emit_records": 12, "emit_size": 204})
    );
    assert_eq!(
        fluentd("keep_low"),
        serde_json::json!({"output_plugin": false, "retry_count": null, "emit_records": 5, "emit_size": 85})
    );
    assert_eq!(
        fluentd("fan"),
        serde_json::json!({"output_plugin": false, "retry_count": 0})
    );
    for id in ["print", "hop", "nothing"] {
        assert_eq!(fluentd(id), output(5, 85), "{id}");
    }
}

/// A failing buffered output shows its retry state as Fluentd's monitor_agent does: `start` and
/// `next_time` as Ruby's `Time#to_s`, `steps` from 0; the error counted in `retry_count` and
/// `rollback_count`, the chunk in the queue.
#[test]
fn monitor_agent_shows_a_failing_outputs_retry_state() {
    let [mon, closed] = [free_port(), free_port()];
    let sources = sources(mon, "");
    let d = Daemon::start(&format!(
        "
{sources}<match **>
  @type http
  @id web
  endpoint http://127.0.0.1:{closed}/x
  <buffer>
    flush_mode immediate
    retry_wait 60
  </buffer>
</match>
"
    ));
    send(&d, "app.web", 0, 12);
    let monitor = format!("127.0.0.1:{mon}");
    let t = std::time::Instant::now();
    let web = loop {
        let web = plugins(&monitor)["web"].clone();
        if web["retry_count"] == 1 {
            break web;
        }
        assert!(t.elapsed() < Duration::from_secs(30), "{web}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(web["rollback_count"], 1);
    assert_eq!(web["emit_records"], 12);
    assert_eq!(web["write_count"], 0);
    assert_eq!(web["buffer_queue_length"], 1);
    assert_eq!(web["buffer_stage_length"], 0);
    assert_eq!(
        web["buffer_queue_byte_size"],
        web["buffer_total_queued_size"]
    );
    assert_eq!(web["buffer_timekeys"], serde_json::json!([]));
    let retry = web["retry"].as_object().unwrap();
    assert_eq!(retry["steps"], 0);
    let secs = |k: &str| {
        let text = retry[k].as_str().unwrap();
        let t = chrono::DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S %z")
            .unwrap_or_else(|e| panic!("{k} {text:?}: {e}"));
        t.timestamp()
    };
    // retry_wait 60, randomized by up to ±12.5 % (retry_randomize).
    let wait = secs("next_time") - secs("start");
    assert!((52..=68).contains(&wait), "{retry:?}");
}

/// `include_retry false` leaves out each output's `retry`, as Fluentd's monitor_agent does
/// (`obj['retry'] = … if opts[:with_retry]`); the counters stay.
#[test]
fn monitor_agent_include_retry_false_leaves_out_retry() {
    let mon = free_port();
    let d = Daemon::start(
        &(sources(mon, "").replace(
            "@type monitor_agent\n",
            "@type monitor_agent\n  include_retry false\n",
        ) + "<match **>\n  @type null\n  @id nothing\n</match>\n"),
    );
    send(&d, "app.web", 0, 3);
    let nothing = plugins(&format!("127.0.0.1:{mon}"))["nothing"].clone();
    assert_eq!(nothing["emit_records"], 3, "{nothing}");
    assert!(nothing.get("retry").is_none(), "{nothing}");
}

/// What Fluentd 1.16.11 emitted first (`tag monitor.metrics`, `emit_interval 1`) on the config
/// of [`monitor_agent_tag_emits_every_plugins_object`] before any event came, written by out_file
/// as JSON lines: one event per plugin, in monitor_agent's order (the top level's inputs, outputs
/// with copy's stores after it, filters; then each label's outputs and filters, `@ERROR` last
/// although declared first), without config, retry or logferry's own counters.
const FLUENTD_MONITOR_EVENTS: &str = r#"{"plugin_id":"in_fwd","plugin_category":"input","type":"forward","output_plugin":false,"retry_count":null,"emit_records":0,"emit_size":0}
{"plugin_id":"mon","plugin_category":"input","type":"monitor_agent","output_plugin":false,"retry_count":null,"emit_records":0,"emit_size":0}
{"plugin_id":"fan","plugin_category":"output","type":"copy","output_plugin":false,"retry_count":0}
{"plugin_id":"print","plugin_category":"output","type":"null","output_plugin":true,"retry_count":0,"emit_records":0,"emit_size":0,"emit_count":0,"write_count":0,"rollback_count":0,"slow_flush_count":0,"flush_time_count":0}
{"plugin_id":"hop","plugin_category":"output","type":"relabel","output_plugin":true,"retry_count":0,"emit_records":0,"emit_size":0,"emit_count":0,"write_count":0,"rollback_count":0,"slow_flush_count":0,"flush_time_count":0}
{"plugin_id":"monfile","plugin_category":"output","type":"file","output_plugin":true,"buffer_queue_length":0,"buffer_timekeys":[],"buffer_total_queued_size":0,"retry_count":0,"emit_records":0,"emit_size":0,"emit_count":0,"write_count":0,"rollback_count":0,"slow_flush_count":0,"flush_time_count":0,"buffer_stage_length":0,"buffer_stage_byte_size":0,"buffer_queue_byte_size":0,"buffer_available_buffer_space_ratios":100.0}
{"plugin_id":"keep","plugin_category":"filter","type":"grep","output_plugin":false,"retry_count":null,"emit_records":0,"emit_size":0}
{"plugin_id":"nothing","plugin_category":"output","type":"null","output_plugin":true,"retry_count":0,"emit_records":0,"emit_size":0,"emit_count":0,"write_count":0,"rollback_count":0,"slow_flush_count":0,"flush_time_count":0}
{"plugin_id":"mark","plugin_category":"filter","type":"record_transformer","output_plugin":false,"retry_count":null,"emit_records":0,"emit_size":0}
{"plugin_id":"errnull","plugin_category":"output","type":"null","output_plugin":true,"retry_count":0,"emit_records":0,"emit_size":0,"emit_count":0,"write_count":0,"rollback_count":0,"slow_flush_count":0,"flush_time_count":0}
"#;

/// monitor_agent's `tag`: every `emit_interval` each plugin's object is an event with that tag
/// (the same lines Fluentd writes; the second round counts the first one's events).
#[test]
fn monitor_agent_tag_emits_every_plugins_object() {
    let mon = free_port();
    let conf = format!(
        "<source>
  @type forward
  @id in_fwd
  port {{PORT}}
  bind 127.0.0.1
</source>
<filter app.**>
  @type grep
  @id keep
  <regexp>
    key seq
    pattern /./
  </regexp>
</filter>
<match app.**>
  @type copy
  @id fan
  <store>
    @type null
    @id print
  </store>
  <store>
    @type relabel
    @id hop
    @label @L
  </store>
</match>
<label @ERROR>
  <match **>
    @type null
    @id errnull
  </match>
</label>
<label @L>
  <filter **>
    @type record_transformer
    @id mark
    <record>
      m 1
    </record>
  </filter>
  <match **>
    @type null
    @id nothing
  </match>
</label>
<source>
  @type monitor_agent
  @id mon
  bind 127.0.0.1
  port {mon}
  tag monitor.metrics
  emit_interval 1
</source>
<match monitor.**>
  @type file
  @id monfile
  path {{DIR}}/mon
  append true
  <format>
    @type json
  </format>
  <buffer>
    flush_mode immediate
  </buffer>
</match>
"
    );
    let mut d = Daemon::start(&conf);
    let file = || {
        std::fs::read_dir(d.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.to_string_lossy().ends_with(".log"))
    };
    let lines = |n: usize| {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(f) = file() {
                let text = std::fs::read_to_string(&f).unwrap();
                if text.lines().count() >= n {
                    return text;
                }
            }
            assert!(std::time::Instant::now() < deadline, "{}", d.stderr());
            thread::sleep(Duration::from_millis(50));
        }
    };
    let text = lines(20);
    let first: String = text.lines().take(10).map(|l| format!("{l}\n")).collect();
    assert_eq!(first, FLUENTD_MONITOR_EVENTS);
    let monfile: serde_json::Value = serde_json::from_str(text.lines().nth(15).unwrap()).unwrap();
    assert_eq!(monfile["plugin_id"], "monfile");
    assert_eq!(
        monfile["emit_records"], 10,
        "the first round's events: {text}"
    );
    assert!(d.terminate().success());
}
