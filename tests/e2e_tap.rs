//! `logferry tap` and `logferry top` against a running daemon's monitor endpoint.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use support::acked::{send_and_ack, tagged};
use support::*;

fn conf(mon: u16) -> String {
    format!(
        "
<source>
  @type forward
  port {{PORT}}
  bind 127.0.0.1
</source>
<source>
  @type monitor_agent
  bind 127.0.0.1
  port {mon}
</source>
<filter app.**>
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
    let out = Command::new(bin())
        .args(["top", "--once", "--interval", "0.2", "--monitor", &monitor])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
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
        out_app[3].parse::<f64>().is_ok() && out_app[4].parse::<f64>().is_ok(),
        "{text}"
    );
    assert_eq!(&out_app[5..], ["0", "0", "0.0", "0", "0"], "{text}");
    let filter = row("add_secret");
    assert_eq!(
        &filter[1..],
        [
            "record_transformer",
            "filter",
            "-",
            "-",
            "-",
            "-",
            "-",
            "-",
            "-"
        ]
    );
    // A daemon that is not there: exit 1 with the reason.
    drop(d);
    let out = Command::new(bin())
        .args(["top", "--once", "--monitor", &monitor])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot connect to the monitor endpoint"));
}
