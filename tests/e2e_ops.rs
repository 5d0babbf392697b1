//! Operations end to end: the monitor_agent / prometheus endpoints over real HTTP, readiness on
//! overload and at SIGTERM.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use logferry_forward::encode;
use logferry_msgpack::{EventTime, Value};
use support::*;

fn get(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = resp
        .split_once("\r\n\r\n")
        .map(|x| x.1.to_string())
        .unwrap_or_default();
    (status, body)
}

fn events(d: &Daemon, tag: &str, n: usize) {
    let mut s = d.connect();
    let mut entries = Vec::new();
    for i in 0..n {
        entries.push(0x92);
        EventTime::new(1_700_000_000, 0).encode(&mut entries);
        Value::Map(vec![
            (Value::Str("i".into()), Value::Int(i as i64)),
            (Value::Str("pad".into()), Value::Str("x".repeat(100))),
        ])
        .encode(&mut entries);
    }
    let mut f = Vec::new();
    encode::packed_forward(
        tag,
        &entries,
        n,
        Some("c"),
        encode::Compression::Text,
        &mut f,
    );
    send(&mut s, &f);
    read_msgpack(&mut s);
}

fn conf(mon: u16, prom: u16) -> String {
    format!(
        "
<source>
  @type forward
  @id in
  port {{PORT}}
  bind 127.0.0.1
</source>
<source>
  @type monitor_agent
  bind 127.0.0.1
  port {mon}
</source>
<source>
  @type prometheus
  bind 127.0.0.1
  port {prom}
</source>
<match ok.**>
  @type file
  @id out
  path {{DIR}}/out
  append true
  <buffer>
    @type memory
    flush_mode immediate
  </buffer>
</match>
<match stuck.**>
  @type file
  @id stuck
  path {{DIR}}/blocked/out
  <buffer>
    @type memory
    flush_mode immediate
    retry_wait 60
    total_limit_size 4k
    overflow_action drop_oldest_chunk
  </buffer>
</match>
"
    )
}

#[test]
fn monitor_endpoints_and_readiness() {
    let [mon, prom] = free_ports();
    let mut d = Daemon::start_with(&conf(mon, prom), &["--shutdown-timeout", "3"], &[]);
    std::fs::write(d.path("blocked"), "x").unwrap();
    assert_eq!(get(mon, "/healthz"), (200, "ok\n".into()));
    assert_eq!(get(prom, "/readyz"), (200, "ready\n".into()));
    events(&d, "ok.a", 5);
    let t = Instant::now();
    loop {
        let (st, body) = get(mon, "/api/plugins.json");
        assert_eq!(st, 200);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let plugins = v["plugins"].as_array().unwrap();
        let find = |id: &str| {
            plugins
                .iter()
                .find(|p| p["plugin_id"] == id)
                .cloned()
                .unwrap_or_else(|| panic!("{id} missing in {body}"))
        };
        let input = find("in");
        let out = find("out");
        assert_eq!(input["plugin_category"], "input");
        assert_eq!(input["type"], "forward");
        assert_eq!(input["config"]["port"], d.port.to_string());
        assert_eq!(out["output_plugin"], true);
        if out["write_count"] == 1 && input["records_in"] == 5 {
            assert_eq!(out["emit_records"], 5);
            assert_eq!(out["buffer_queue_length"], 0);
            // Without `<system> enable_input_metrics`, Fluentd reports 0 for inputs.
            assert_eq!(input["emit_records"], 0);
            assert_eq!(input["retry_count"], serde_json::Value::Null);
            assert_eq!(out["retry_count"], 0);
            assert_eq!(out["buffer_timekeys"], serde_json::json!([]));
            assert_eq!(out["retry"], serde_json::json!({}));
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(20), "{body}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (st, metrics) = get(prom, "/metrics");
    assert_eq!(st, 200);
    for line in [
        "fluentd_output_status_buffer_queue_length{plugin_id=\"out\",type=\"file\"} 0",
        "fluentd_output_status_emit_records{plugin_id=\"out\",type=\"file\"} 5",
        "fluentd_output_status_write_count{plugin_id=\"out\",type=\"file\"} 1",
        "logferry_input_records_total{plugin_id=\"in\",type=\"forward\"} 5",
        "logferry_malformed_connections_total{plugin_id=\"in\",type=\"forward\"} 0",
        "logferry_ready 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "missing {line:?} in:\n{metrics}"
        );
    }
    // Overload: the stuck output's buffer fills past the high watermark → not ready.
    for _ in 0..10 {
        events(&d, "stuck.a", 5);
    }
    let (st, body) = get(mon, "/readyz");
    assert_eq!(st, 503, "{body}");
    assert!(body.contains("stuck: buffer at"), "{body}");
    assert!(get(prom, "/metrics")
        .1
        .lines()
        .any(|l| l == "logferry_ready 0"));
    // SIGTERM: readiness is false while the drain runs (the stuck buffer cannot flush).
    d.signal("TERM");
    let t = Instant::now();
    let mut saw_shutting_down = false;
    while t.elapsed() < Duration::from_secs(3) {
        match TcpStream::connect(("127.0.0.1", mon)) {
            Ok(_) => {
                let (st, body) = get(mon, "/readyz");
                if st == 503 && body.contains("shutting down") {
                    saw_shutting_down = true;
                    break;
                }
            }
            Err(_) => break,
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        saw_shutting_down,
        "readyz must say shutting down during the drain"
    );
    let st = d.wait_exit(Duration::from_secs(10));
    assert!(st.success(), "{st:?}");
}

/// `--healthcheck URL` exits 0 on 2xx and 1 otherwise (a container health check without curl).
#[test]
fn healthcheck_flag() {
    let [mon, prom] = free_ports();
    let mut d = Daemon::start(&conf(mon, prom));
    let run = |url: String| {
        std::process::Command::new(bin())
            .args(["--healthcheck", &url])
            .output()
            .unwrap()
    };
    assert!(run(format!("http://127.0.0.1:{mon}/healthz"))
        .status
        .success());
    assert!(run(format!("http://127.0.0.1:{mon}/readyz"))
        .status
        .success());
    let nf = run(format!("http://127.0.0.1:{mon}/nope"));
    assert!(!nf.status.success());
    assert!(String::from_utf8_lossy(&nf.stderr).contains("HTTP 404"));
    let closed = free_port();
    assert!(!run(format!("http://127.0.0.1:{closed}/healthz"))
        .status
        .success());
    assert!(d.terminate().success());
}

/// Log lines are Fluentd's (`TIME [level]: message`), their time in `<system> <log>
/// time_format`.
#[test]
fn text_logs_in_fluentds_form_with_the_system_time_format() {
    let mut d = Daemon::start("<system>\n<log>\ntime_format %Y/%m/%d T%H\n</log>\n</system>\n<source>\n@type forward\nport {PORT}\nbind 127.0.0.1\n</source>\n<match **>\n@type null\n</match>\n");
    let log = d.stderr();
    let line = log
        .lines()
        .find(|l| l.contains("logferry started"))
        .unwrap()
        .to_string();
    let (time, rest) = line
        .split_once(" [info]: ")
        .unwrap_or_else(|| panic!("{line}"));
    let b = time.as_bytes();
    assert!(
        time.len() == 14 && b[4] == b'/' && b[7] == b'/' && b[10] == b' ' && b[11] == b'T',
        "{line}"
    );
    assert!(rest.starts_with("logferry started version=\""), "{line}");
    assert!(d.terminate().success());
}

/// `<system> <log> format json` gives JSON log lines.
#[test]
fn json_logs_from_system_config() {
    let mut d = Daemon::start("<system>\n<log>\nformat json\n</log>\n</system>\n<source>\n@type forward\nport {PORT}\nbind 127.0.0.1\n</source>\n<match **>\n@type null\n</match>\n");
    let line = d
        .stderr()
        .lines()
        .find(|l| l.contains("logferry started"))
        .unwrap()
        .to_string();
    let v: serde_json::Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
    assert_eq!(v["level"], "info");
    assert!(v["message"]
        .as_str()
        .unwrap()
        .starts_with("logferry started"));
    assert!(v["time"].as_str().is_some());
    assert!(d.terminate().success());
}
