//! logferry's own log lines as Fluentd's log events (`fluent.<level>`): into `<label
//! @FLUENT_LOG>`, else into a top-level `<match fluent.**>` (with Fluentd's deprecation
//! warning), with Fluentd's record shape (the line's fields, then `message`), start-up warnings
//! included, and no loop when routing a log event logs again.

mod support;

use std::time::Duration;

use support::*;

const T: Duration = Duration::from_secs(20);

/// A file output writing `{DIR}/<name>.log` as events come (no buffering delay).
fn file_out(name: &str) -> String {
    format!(
        "@type file\n  path {{DIR}}/{name}\n  append true\n  <buffer []>\n    @type memory\n    flush_mode immediate\n  </buffer>"
    )
}

/// `config` with each `{FILE_<NAME>}` replaced by [`file_out`] of that name.
fn with_files(config: &str) -> String {
    ["log", "warn", "all"]
        .iter()
        .fold(config.to_string(), |c, n| {
            c.replace(&format!("{{FILE_{}}}", n.to_uppercase()), &file_out(n))
        })
}

/// A malformed frame: the connection is closed with a warning (a log event).
fn send_garbage(d: &Daemon) {
    let mut s = d.connect();
    send(&mut s, b"\xc1garbage");
}

fn records(text: &str) -> Vec<(String, serde_json::Value)> {
    text.lines()
        .map(|l| {
            let mut f = l.splitn(3, '\t');
            let (_time, tag, json) = (f.next(), f.next().unwrap(), f.next().unwrap());
            (tag.to_string(), serde_json::from_str(json).unwrap())
        })
        .collect()
}

#[test]
fn log_events_go_to_the_fluent_log_label() {
    let mut d = Daemon::start(&with_files(
        r#"
<source>
  @type forward
  port {PORT}
  bind 127.0.0.1
</source>
<source>
  @type sample
  tag sample.x
  not_a_parameter 1
</source>
<match sample.**>
  @type null
</match>
<label @FLUENT_LOG>
  <match fluent.*>
    {FILE_LOG}
  </match>
</label>
"#,
    ));
    let path = d.path("log.log");
    send_garbage(&d);
    let text = d.wait_file_text(&path, T, |t| t.contains("invalid msgpack"));
    let recs = records(&text);
    // The start-up warning (logged before the pipeline ran) is routed too.
    assert!(recs.iter().any(|(tag, r)| tag == "fluent.warn"
        && r["message"].as_str().unwrap().contains("not_a_parameter")));
    let (_, warn) = recs
        .iter()
        .find(|(tag, r)| {
            tag == "fluent.warn" && r["message"].as_str().unwrap().contains("invalid msgpack")
        })
        .unwrap();
    // Fluentd's shape: the fields, then `message` (the line, fields appended as key=value).
    assert_eq!(warn["plugin"], "forward");
    let keys: Vec<&String> = warn.as_object().unwrap().keys().collect();
    assert_eq!(keys.last().unwrap().as_str(), "message");
    assert!(warn["message"]
        .as_str()
        .unwrap()
        .ends_with("plugin=\"forward\""));
    assert!(recs.iter().any(|(tag, r)| tag == "fluent.info"
        && r["message"].as_str().unwrap().contains("logferry started")));
    d.terminate();
    // Lines logged until the stop are routed before the outputs flush.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("received SIGTERM"), "{text}");
}

#[test]
fn top_level_match_takes_them_with_fluentds_warning() {
    let mut d = Daemon::start(&with_files(
        r#"
<source>
  @type forward
  port {PORT}
  bind 127.0.0.1
</source>
<match fluent.warn>
  {FILE_WARN}
</match>
"#,
    ));
    d.wait_for_log(
        "define <match fluent.warn> to capture fluentd logs in top level is deprecated",
        T,
    );
    d.wait_for_log(
        "match for some tags of log events are not defined in top level",
        T,
    );
    send_garbage(&d);
    let text = d.wait_file_text(&d.path("warn.log"), T, |t| t.contains("invalid msgpack"));
    // Only warn lines: the other levels have no match (and no "no patterns matched" warning).
    assert!(
        records(&text).iter().all(|(tag, _)| tag == "fluent.warn"),
        "{text}"
    );
    d.terminate();
    assert!(
        !d.stderr().contains("no patterns matched"),
        "{}",
        d.stderr()
    );
}

/// Routing a log event that logs again (a filter of @FLUENT_LOG warning on every event) does not
/// feed itself: what routing logs is not made into events, as Fluentd excludes its log-event
/// thread.
#[test]
fn no_loop_when_routing_logs() {
    let mut d = Daemon::start(&with_files(
        r#"
<source>
  @type forward
  port {PORT}
  bind 127.0.0.1
</source>
<label @FLUENT_LOG>
  <filter fluent.**>
    @type parser
    key_name no_such_key
    reserve_data true
    <parse>
      @type json
    </parse>
  </filter>
  <match fluent.**>
    {FILE_LOG}
  </match>
</label>
"#,
    ));
    send_garbage(&d);
    let path = d.path("log.log");
    d.wait_file_text(&path, T, |t| t.contains("invalid msgpack"));
    // The filter's warning about each event was logged, not routed.
    d.wait_for_log("no_such_key does not exist", T);
    d.terminate();
    let text = std::fs::read_to_string(&path).unwrap();
    let n = text.lines().count();
    assert!(n < 20, "{n} log events: a loop\n{text}");
    assert!(!text.contains("no_such_key does not exist"), "{text}");
}

/// A top-level `<match **>` alone does not take them (README "Differences from Fluentd"): only
/// the events sent arrive.
#[test]
fn wildcard_match_alone_takes_none() {
    let mut d = Daemon::start(&with_files(
        r#"
<source>
  @type forward
  port {PORT}
  bind 127.0.0.1
</source>
<match **>
  {FILE_ALL}
</match>
"#,
    ));
    send_garbage(&d);
    d.wait_for_log("invalid msgpack", T);
    let mut s = d.connect();
    // ["app.x", 1700000000, {"k": "v"}]
    send(&mut s, b"\x93\xa5app.x\xce\x65\x53\xf1\x00\x81\xa1k\xa1v");
    drop(s);
    let text = d.wait_file_text(&d.path("all.log"), T, |t| t.contains("app.x"));
    d.terminate();
    let text = std::fs::read_to_string(d.path("all.log")).unwrap_or(text);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        !d.stderr().contains("capture fluentd logs"),
        "{}",
        d.stderr()
    );
}

/// Send one event `{"message": m}` per text, each in its own acknowledged message.
fn send_messages(d: &Daemon, texts: &[&str]) {
    use logferry_msgpack::{EventTime, Value};
    let mut s = d.connect();
    for (i, m) in texts.iter().enumerate() {
        let mut entry = vec![0x92];
        EventTime::new(1_700_000_000, 0).encode(&mut entry);
        Value::Map(vec![(
            Value::Str("message".into()),
            Value::Str((*m).into()),
        )])
        .encode(&mut entry);
        let mut f = Vec::new();
        let id = format!("m{i}");
        logferry_forward::encode::packed_forward(
            "app",
            &entry,
            1,
            Some(&id),
            logferry_forward::encode::Compression::Text,
            &mut f,
        );
        send(&mut s, &f);
        read_msgpack(&mut s);
    }
}

/// `<system> ignore_repeated_log_interval` drops a line the same as the one before it,
/// `ignore_same_log_interval` any line logged within the interval, as Fluentd 1.16.11 does on
/// the same config and events (recorded: `y`, `z`, `y` and `y`, `z`).
#[test]
fn repeated_log_lines_are_dropped_as_fluentd_drops_them() {
    for (setting, want) in [
        ("", vec!["y", "y", "z", "y"]),
        ("ignore_repeated_log_interval 60", vec!["y", "z", "y"]),
        ("ignore_same_log_interval 60", vec!["y", "z"]),
    ] {
        let mut d = Daemon::start(&format!(
            "<system>\n  {setting}\n</system>
<source>\n  @type forward\n  port {{PORT}}\n  bind 127.0.0.1\n</source>
<filter **>\n  @type parser\n  key_name message\n  <parse>\n    @type regexp\n    expression /^(?<a>x)$/\n  </parse>\n</filter>
<match **>\n  @type null\n</match>\n"
        ));
        send_messages(&d, &["y", "y", "z", "y", "end"]);
        d.wait_for_log("with data 'end'", T);
        let log = d.stderr();
        let got: Vec<&str> = log
            .lines()
            .filter_map(|l| l.split("pattern not matched with data '").nth(1))
            .filter_map(|r| r.split('\'').next())
            .filter(|m| *m != "end")
            .collect();
        assert_eq!(got, want, "{setting}:\n{log}");
        assert!(d.terminate().success());
    }
}
