//! The network inputs end to end — `http`, `tcp`, `udp`, `syslog` — driven by clients nobody
//! here wrote: curl and Python `requests` for http, util-linux `logger` (RFC 3164 and 5424 over
//! UDP and TCP, octet counting) and Python's `logging.handlers.SysLogHandler` for syslog, Python
//! sockets (plain and `ssl`) for tcp, udp and TLS. What logferry answers and emits is checked
//! against what Fluentd 1.16.11 answered and emitted on the same input, recorded in
//! `tests/net_inputs/` (see its README); where logferry differs on purpose it is said here.

mod support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpStream, UdpSocket};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use support::*;

const WAIT: Duration = Duration::from_secs(20);

fn dir() -> PathBuf {
    repo_root().join("tests/net_inputs")
}

/// Run a client program; panics with its output when it fails.
fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?} ({e}); see .ci/install-deps.sh"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn python(script: &str) -> String {
    run(Command::new("python3").arg("-c").arg(script))
}

/// Per case of a `run_cases.sh` transcript: (status code, body).
fn answers(transcript: &str) -> BTreeMap<usize, (u16, String)> {
    let mut out = BTreeMap::new();
    for block in transcript.split("== ").skip(1) {
        let n: usize = block.split(':').next().unwrap().parse().unwrap();
        let mut rest = block.split_once('\n').unwrap().1;
        // Skip an interim `100 Continue`.
        if rest.starts_with("HTTP/1.1 100") {
            rest = rest.split_once("\n\n").unwrap().1;
        }
        let (head, body) = rest.split_once("\n\n").unwrap_or((rest, ""));
        let code = head.split(' ').nth(1).unwrap().parse().unwrap();
        out.insert(n, (code, body.trim_end().to_string()));
    }
    out
}

/// Stdout lines with the times of "now" replaced by `NOW` and the port by `PORT`.
fn normalized(lines: &[String], port: Option<u16>) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            let l = match port {
                Some(p) => l.replace(&p.to_string(), "PORT"),
                None => l.clone(),
            };
            if l.starts_with("2023-") || l.contains(" 10:00:00.000000000 ") {
                l
            } else {
                format!("NOW{}", &l[29..])
            }
        })
        .collect()
}

/// Fluentd's recorded stdout lines whose tag satisfies `pick`.
fn fluentd_lines(pick: impl Fn(&str) -> bool) -> Vec<String> {
    let text = std::fs::read_to_string(dir().join("fluentd-events.txt")).unwrap();
    text.lines()
        .filter(|l| pick(&parse_stdout_line(l).1))
        .map(str::to_string)
        .collect()
}

/// Fluentd's recorded events whose tag satisfies `pick`, normalized as [`normalized`].
fn fluentd_events(pick: impl Fn(&str) -> bool) -> Vec<String> {
    normalized(&fluentd_lines(pick), None)
}

fn http_tag(t: &str) -> bool {
    t.starts_with("t.") || t == "a.b.c" || t.is_empty()
}

#[test]
fn http_answers_and_events_as_fluentd() {
    let d = Daemon::start(
        r#"
<source>
  @type http
  port {PORT}
  bind 127.0.0.1
  body_size_limit 1k
  add_remote_addr true
  add_http_headers true
</source>
<match **>
  @type stdout
</match>
"#,
    );
    let ours = run(Command::new("bash")
        .arg("run_cases.sh")
        .arg(d.port.to_string())
        .arg("http_cases.txt")
        .current_dir(dir()));
    let ours = answers(&ours);
    let theirs =
        answers(&std::fs::read_to_string(dir().join("fluentd-http-responses.txt")).unwrap());
    assert_eq!(ours.len(), theirs.len());
    // Deliberate differences (README): Fluentd answers 200 to a body that is not JSON and
    // drops it, and 400 with a Ruby NoMethodError to a record that is not an object.
    let differs = [4, 16, 22];
    for (n, (code, body)) in &theirs {
        let (our_code, our_body) = &ours[n];
        if differs.contains(n) {
            assert_eq!(*our_code, 400, "case {n}: {our_body}");
            assert!(our_body.starts_with("400 Bad Request\n"), "case {n}");
            continue;
        }
        assert_eq!(
            (our_code, our_body),
            (code, body),
            "case {n} answered differently from Fluentd"
        );
    }
    assert!(ours[&4].1.contains("invalid JSON"), "{}", ours[&4].1);
    assert!(ours[&16].1.contains("must be an object"), "{}", ours[&16].1);
    // The events: the same records, tags, times and header fields in the same order.
    let want = fluentd_events(http_tag);
    let got = d.wait_stdout_lines(want.len(), WAIT);
    assert_eq!(
        normalized(&got, Some(d.port)),
        want,
        "stderr:\n{}",
        d.stderr()
    );
}

#[test]
fn http_cors_as_fluentd() {
    let d = Daemon::start(
        r#"
<source>
  @type http
  port {PORT}
  bind 127.0.0.1
  cors_allow_origins ["http://ok.example","https://*.wild.example"]
  cors_allow_credentials true
</source>
<match **>
  @type stdout
</match>
"#,
    );
    let ours = run(Command::new("bash")
        .arg("run_cases.sh")
        .arg(d.port.to_string())
        .arg("http_cors_cases.txt")
        .current_dir(dir()));
    let text = ours.clone();
    let ours = answers(&ours);
    let theirs =
        answers(&std::fs::read_to_string(dir().join("fluentd-http-cors-responses.txt")).unwrap());
    assert_eq!(ours, theirs, "{text}");
    // The preflight's headers, as Fluentd's.
    let pre = text
        .split("== 2:")
        .nth(1)
        .unwrap()
        .split("== 3:")
        .next()
        .unwrap();
    for h in [
        "access-control-allow-methods: POST",
        "access-control-allow-origin: https://a.wild.example",
        "access-control-allow-credentials: true",
    ] {
        assert!(
            pre.to_ascii_lowercase().contains(&h.to_ascii_lowercase()),
            "{h} missing in {pre}"
        );
    }
    // Only the allowed origin's event got through.
    let got = d.wait_stdout_lines(1, WAIT);
    let want = std::fs::read_to_string(dir().join("fluentd-http-cors-events.txt")).unwrap();
    let want: Vec<String> = want.lines().map(str::to_string).collect();
    assert_eq!(normalized(&got, Some(d.port)), normalized(&want, None));
}

#[test]
fn http_python_requests_keepalive_msgpack_and_limits() {
    let d = Daemon::start(
        r#"
<source>
  @type http
  port {PORT}
  bind 127.0.0.1
  body_size_limit 64k
  keepalive_timeout 1s
  add_query_params true
</source>
<match **>
  @type stdout
</match>
"#,
    );
    // One keep-alive session: JSON, a form with msgpack, an array batch, too large a body.
    let out = python(&format!(
        r#"
import json, requests
s = requests.Session()
u = "http://127.0.0.1:{port}"
r1 = s.post(u + "/py.json?time=1700000000&x-y=z", json={{"k": "v"}})
r2 = s.post(u + "/py.form", data={{"msgpack": b"\x81\xa1k\xa2mp"}})
r3 = s.post(u + "/py.batch", data=json.dumps([{{"i": 1}}, {{"i": 2}}]), headers={{"Content-Type": "application/json"}})
r4 = s.post(u + "/py.big", data="x" * 70000, headers={{"Content-Type": "application/json"}})
r5 = s.post(u + "/py.multi", files={{"json": (None, '{{"mp": 1}}'), "other": (None, "x")}})
print(r1.status_code, r2.status_code, r3.status_code, r4.status_code, repr(r4.text), r5.status_code)
"#,
        port = d.port
    ));
    assert_eq!(out.trim(), "200 200 200 413 'Too large' 200");
    let lines = d.wait_stdout_lines(5, WAIT);
    let events: Vec<(String, String, serde_json::Value)> =
        lines.iter().map(|l| parse_stdout_line(l)).collect();
    assert_eq!(events[0].0, "2023-11-14 22:13:20.000000000 +0000");
    assert_eq!(events[0].1, "py.json");
    assert_eq!(
        events[0].2,
        serde_json::json!({"k": "v", "QUERY_TIME": "1700000000", "QUERY_X_Y": "z"})
    );
    assert_eq!(events[1].2, serde_json::json!({"k": "mp"}));
    assert_eq!(
        (events[2].1.as_str(), events[3].1.as_str()),
        ("py.batch", "py.batch")
    );
    assert_eq!(events[3].2, serde_json::json!({"i": 2}));
    // A multipart form's json field, as Fluentd (recorded: curl -F 'json={"mp":1}' gave
    // {"mp":1}).
    assert_eq!(
        (events[4].1.as_str(), &events[4].2),
        ("py.multi", &serde_json::json!({"mp": 1}))
    );
    // keepalive_timeout: an idle kept-alive connection is closed by the server.
    let mut s = TcpStream::connect(("127.0.0.1", d.port)).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    let body = r#"{"idle":1}"#;
    write!(
        s,
        "POST /idle HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut got = Vec::new();
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            // A signal (a child of another test exiting) is no answer: read again.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => panic!("the idle connection was not closed: {e}"),
        }
        assert!(start.elapsed() < WAIT);
    }
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.to_ascii_lowercase().contains("connection: keep-alive"));
    // Not HTTP at all: answered 400 and closed, counted, logged; the daemon goes on.
    let mut s = TcpStream::connect(("127.0.0.1", d.port)).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(b"\x00\x01 this is not http\r\n\r\n").unwrap();
    let mut got = String::new();
    let _ = s.read_to_string(&mut got);
    assert!(got.starts_with("HTTP/1.1 400"), "{got}");
    d.wait_for_log("did not speak HTTP/1", WAIT);
    let out = python(&format!(
        "import requests; print(requests.post('http://127.0.0.1:{}/after', json={{'ok': 1}}).status_code)",
        d.port
    ));
    assert_eq!(out.trim(), "200");
}

#[test]
fn http_over_tls_with_curl() {
    let d = Daemon::start(
        r#"
<source>
  @type http
  port {PORT}
  bind 127.0.0.1
  <transport tls>
    insecure true
  </transport>
</source>
<match **>
  @type stdout
</match>
"#,
    );
    let out = run(Command::new("curl").args([
        "-sk",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-H",
        "Content-Type: application/json",
        "-d",
        r#"{"over":"tls"}"#,
        &format!("https://127.0.0.1:{}/tls.tag", d.port),
    ]));
    assert_eq!(out, "200");
    let got = d.wait_stdout_lines(1, WAIT);
    let (_, tag, rec) = parse_stdout_line(&got[0]);
    assert_eq!(
        (tag.as_str(), rec),
        ("tls.tag", serde_json::json!({"over": "tls"}))
    );
}

fn hostname() -> String {
    run(&mut Command::new("hostname")).trim().to_string()
}

fn logger(args: &[&str], port: u16, msg: &str) {
    run(Command::new("logger")
        .args(args)
        .args(["-n", "127.0.0.1", "-P", &port.to_string()])
        .arg(msg));
}

/// Fluentd's recorded syslog events for `tag`, with the sender's host name of this machine.
fn fluentd_syslog(tag: &str) -> Vec<(String, serde_json::Value)> {
    fluentd_lines(|t| t == tag)
        .iter()
        .map(|l| {
            let (_, t, mut rec) = parse_stdout_line(l);
            if rec.get("host").is_some_and(|h| h == "vm") {
                rec["host"] = serde_json::Value::String(hostname());
            }
            // logger's RFC 5424 timeQuality says whether the clock is synced: machine-dependent.
            if let Some(x) = rec.get("extradata").and_then(|x| x.as_str()) {
                rec["extradata"] =
                    serde_json::Value::String(x.replace("isSynced=\"1\"", "isSynced=\"0\""));
            }
            (t, rec)
        })
        .collect()
}

fn events(lines: &[String]) -> Vec<(String, serde_json::Value)> {
    lines
        .iter()
        .map(|l| {
            let (_, t, mut rec) = parse_stdout_line(l);
            if let Some(x) = rec.get("extradata").and_then(|x| x.as_str()) {
                rec["extradata"] =
                    serde_json::Value::String(x.replace("isSynced=\"1\"", "isSynced=\"0\""));
            }
            (t, rec)
        })
        .collect()
}

#[test]
fn syslog_udp_from_logger_as_fluentd() {
    let d = Daemon::start(
        r#"
<source>
  @type syslog
  tag sys.udp
  port {PORT}
  bind 127.0.0.1
  severity_key sev
  facility_key fac
</source>
<match **>
  @type stdout
</match>
"#,
    );
    logger(
        &["--rfc3164", "-d", "-p", "local3.warning", "-t", "myapp"],
        d.port,
        "hello udp 3164",
    );
    // The default parser is RFC 3164: an RFC 5424 message does not parse (as in Fluentd).
    logger(
        &[
            "--rfc5424",
            "-d",
            "-p",
            "auth.err",
            "-t",
            "myapp",
            "--msgid",
            "M1",
        ],
        d.port,
        "hello udp 5424",
    );
    d.wait_for_log("failed to parse message", WAIT);
    let got = d.wait_stdout_lines(1, WAIT);
    assert_eq!(events(&got), fluentd_syslog("sys.udp.local3.warn"));
    // RFC 3164 has whole seconds.
    assert!(got[0].contains(".000000000 +0000 "), "{}", got[0]);
}

#[test]
fn syslog_tcp_from_logger_as_fluentd() {
    let d = Daemon::start(
        r#"
<source>
  @type syslog
  tag sys.tcp
  port {PORT}
  bind 127.0.0.1
  <transport tcp>
  </transport>
  <parse>
    message_format auto
  </parse>
</source>
<match **>
  @type stdout
</match>
"#,
    );
    logger(
        &["--rfc3164", "-T", "-p", "user.info", "-t", "app2"],
        d.port,
        "hello tcp 3164",
    );
    // Connections are served concurrently: wait for each before the next.
    d.wait_stdout_lines(1, WAIT);
    logger(
        &[
            "--rfc5424",
            "-T",
            "-p",
            "daemon.debug",
            "-t",
            "app2",
            "--sd-id",
            "x@1",
            "--sd-param",
            "k=\"v\"",
        ],
        d.port,
        "hello tcp 5424",
    );
    d.wait_stdout_lines(2, WAIT);
    // What Fluentd got wrong or odd, sent as is: no time (dropped), a priority past local7
    // (tag with an empty facility, as Fluentd), no priority (dropped).
    let mut s = TcpStream::connect(("127.0.0.1", d.port)).unwrap();
    s.write_all(b"<13>no time here\n<999>Dec  5 10:00:00 h a: badpri\ngarbage\n")
        .unwrap();
    drop(s);
    let got = d.wait_stdout_lines(3, WAIT);
    let mut want = fluentd_syslog("sys.tcp.user.info");
    want.extend(fluentd_syslog("sys.tcp.daemon.debug"));
    want.extend(fluentd_syslog("sys.tcp..debug"));
    assert_eq!(events(&got), want);
    // The RFC 5424 time keeps its microseconds.
    assert!(!got[1].contains(".000000000 "), "{}", got[1]);
    d.wait_for_log("failed to parse message", WAIT);
}

#[test]
fn syslog_octet_counted_from_logger_and_a_broken_frame() {
    let d = Daemon::start(
        r#"
<source>
  @type syslog
  tag sys.oc
  port {PORT}
  bind 127.0.0.1
  frame_type octet_count
  source_address_key src
  <transport tcp>
  </transport>
  <parse>
    message_format rfc5424
  </parse>
</source>
<match **>
  @type stdout
</match>
"#,
    );
    logger(
        &[
            "--rfc5424",
            "-T",
            "--octet-count",
            "-p",
            "local0.notice",
            "-t",
            "app3",
        ],
        d.port,
        "hello octet\n two lines",
    );
    let got = d.wait_stdout_lines(1, WAIT);
    assert_eq!(events(&got), fluentd_syslog("sys.oc.local0.notice"));
    // A frame without its octet count: that connection is closed, the daemon goes on.
    let mut s = TcpStream::connect(("127.0.0.1", d.port)).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    s.write_all(b"<13>1 - - - - - - not counted\n").unwrap();
    assert!(is_closed(&mut s), "the connection stays open");
    d.wait_for_log("expected an octet count", WAIT);
    logger(
        &[
            "--rfc5424",
            "-T",
            "--octet-count",
            "-p",
            "local0.err",
            "-t",
            "app3",
        ],
        d.port,
        "still served",
    );
    let got = d.wait_stdout_lines(2, WAIT);
    assert!(
        got[1].contains("sys.oc.local0.err: ") && got[1].contains("still served"),
        "{}",
        got[1]
    );
}

#[test]
fn syslog_from_python_logging_as_fluentd() {
    let d = Daemon::start(
        r#"
<source>
  @type syslog
  tag py.udp
  port {PORT}
  bind 127.0.0.1
  priority_key pri
  <parse>
    @type none
  </parse>
</source>
<match **>
  @type stdout
</match>
"#,
    );
    python(&format!(
        r#"
import logging, logging.handlers
h = logging.handlers.SysLogHandler(address=("127.0.0.1", {port}), facility=logging.handlers.SysLogHandler.LOG_LOCAL7)
h.setFormatter(logging.Formatter("pyapp: %(message)s"))
l = logging.getLogger("x"); l.addHandler(h); l.setLevel(logging.DEBUG)
l.error("py udp error"); l.info("py udp info")
"#,
        port = d.port
    ));
    let got = d.wait_stdout_lines(2, WAIT);
    let mut want = fluentd_syslog("py.udp.local7.err");
    want.extend(fluentd_syslog("py.udp.local7.info"));
    assert_eq!(events(&got), want);
}

#[test]
fn syslog_tcp_from_python_logging_as_fluentd() {
    let d = Daemon::start(
        r#"
<source>
  @type syslog
  tag py.tcp
  port {PORT}
  bind 127.0.0.1
  <transport tcp>
  </transport>
  <parse>
    @type none
  </parse>
</source>
<match **>
  @type stdout
</match>
"#,
    );
    python(&format!(
        r#"
import logging, logging.handlers, socket
h = logging.handlers.SysLogHandler(address=("127.0.0.1", {port}), socktype=socket.SOCK_STREAM)
h.setFormatter(logging.Formatter("pyapp: %(message)s\n")); h.append_nul = False
l = logging.getLogger("y"); l.addHandler(h); l.setLevel(logging.DEBUG)
l.warning("py tcp warning"); l.critical("py tcp crit")
h.close()
"#,
        port = d.port
    ));
    let got = d.wait_stdout_lines(2, WAIT);
    let mut want = fluentd_syslog("py.tcp.user.warn");
    want.extend(fluentd_syslog("py.tcp.user.crit"));
    assert_eq!(events(&got), want);
}

#[test]
fn syslog_over_tls_octet_counted() {
    let d = Daemon::start(
        r#"
<source>
  @type syslog
  tag sys.tls
  port {PORT}
  bind 127.0.0.1
  frame_type octet_count
  <transport tls>
    insecure true
  </transport>
</source>
<match **>
  @type stdout
</match>
"#,
    );
    python(&format!(
        r#"
import socket, ssl
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", {port})))
for m in [b"<86>Dec  5 10:00:00 web sshd[42]: over tls", b"<11>Dec  5 10:00:01 web app: second"]:
    s.sendall(str(len(m)).encode() + b" " + m)
s.unwrap(); s.close()
"#,
        port = d.port
    ));
    let got = d.wait_stdout_lines(2, WAIT);
    assert_eq!(
        events(&got),
        [
            (
                "sys.tls.authpriv.info".to_string(),
                serde_json::json!({"host": "web", "ident": "sshd", "pid": "42", "message": "over tls"})
            ),
            (
                "sys.tls.user.err".to_string(),
                serde_json::json!({"host": "web", "ident": "app", "message": "second"})
            )
        ]
    );
}

#[test]
fn tcp_and_udp_inputs_as_fluentd() {
    let d = Daemon::start(
        r#"
<source>
  @type tcp
  tag tcp.in
  port {PORT}
  bind 127.0.0.1
  message_length_limit 20
  source_address_key addr
  <parse>
    @type none
  </parse>
</source>
<source>
  @type udp
  tag udp.in
  port {PORT}
  bind 127.0.0.1
  message_length_limit 20
  source_hostname_key host
  <parse>
    @type json
  </parse>
</source>
<match **>
  @type stdout
</match>
"#,
    );
    let mut s = TcpStream::connect(("127.0.0.1", d.port)).unwrap();
    s.write_all(b"line one\nline two is longer than twenty bytes\nthree\r\npartial")
        .unwrap();
    drop(s);
    // Fluentd drops the unterminated "partial" at close; logferry emits it (README).
    let got = d.wait_stdout_lines(3, WAIT);
    let mut want = fluentd_syslog("tcp.in");
    want.push((
        "tcp.in".into(),
        serde_json::json!({"message": "partial", "addr": "127.0.0.1"}),
    ));
    assert_eq!(events(&got), want);
    d.wait_for_log("larger than message_length_limit", WAIT);
    let u = UdpSocket::bind("127.0.0.1:0").unwrap();
    for m in [
        &br#"{"u":1}
"#[..],
        br#"{"u":2,"pad":"xxxxxxxxxxxxxxxxxxxxxxx"}"#,
        b"notjson",
    ] {
        u.send_to(m, ("127.0.0.1", d.port)).unwrap();
    }
    d.wait_for_log("pattern not matched", WAIT);
    let got = d.wait_stdout_lines(4, WAIT);
    assert_eq!(events(&got[3..]), fluentd_syslog("udp.in"));
}

#[test]
fn bad_configs_fail_at_start_with_file_and_line() {
    for (conf, want) in [
        (
            "<source>\n  @type tcp\n  tag t\n  port {PORT}\n</source>\n",
            "<parse> section is required",
        ),
        (
            "<source>\n  @type syslog\n  tag t\n  <transport quic>\n  </transport>\n</source>\n",
            "<transport quic>: expected udp or tcp or tls",
        ),
        (
            "<source>\n  @type http\n  cors_allow_credentials true\n</source>\n",
            "Cannot enable cors_allow_credentials without specific origins",
        ),
        (
            "<source>\n  @type syslog\n  tag t\n  send_keepalive_packet true\n</source>\n",
            "send_keepalive_packet is available for tcp/tls",
        ),
        (
            "<source>\n  @type http\n  <parse>\n    @type in_http\n    time_type mixed\n  </parse>\n</source>\n",
            "time_type is :mixed but time_format and time_format_fallbacks is empty",
        ),
    ] {
        let (out, _dir) = run_once(conf, &["--dry-run"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{conf} was accepted");
        assert!(err.contains(want), "{conf}: {err}");
        assert!(err.contains("fluent.conf:"), "no file:line in {err}");
    }
}

#[test]
fn tcp_security_denies_other_networks_and_syslog_emits_unmatched_lines() {
    let d = Daemon::start(
        r#"
<source>
  @type tcp
  tag tcp.in
  port {PORT}
  bind 127.0.0.1
  <parse>
    @type none
  </parse>
  <security>
    <client>
      network 10.0.0.0/8
    </client>
  </security>
</source>
<source>
  @type syslog
  tag sys
  port {PORT}
  bind 127.0.0.1
  emit_unmatched_lines true
  source_address_key addr
</source>
<match **>
  @type stdout
</match>
"#,
    );
    // 127.0.0.1 is not in 10.0.0.0/8: the connection is closed, nothing is emitted.
    let mut s = TcpStream::connect(("127.0.0.1", d.port)).unwrap();
    s.set_read_timeout(Some(WAIT)).unwrap();
    let _ = s.write_all(b"denied line\n");
    assert!(is_closed(&mut s));
    d.wait_for_log("anonymous client '127.0.0.1' denied", WAIT);
    // Fluentd's in_syslog with emit_unmatched_lines: TAG.unmatched {"unmatched_line": ...}.
    let u = UdpSocket::bind("127.0.0.1:0").unwrap();
    u.send_to(b"not syslog at all\n", ("127.0.0.1", d.port))
        .unwrap();
    let got = d.wait_stdout_lines(1, WAIT);
    assert_eq!(
        events(&got),
        [(
            "sys.unmatched".to_string(),
            serde_json::json!({"unmatched_line": "not syslog at all", "addr": "127.0.0.1"})
        )]
    );
}

#[test]
fn tcp_over_tls_with_a_custom_delimiter() {
    let d = Daemon::start(
        r#"
<source>
  @type tcp
  tag tls.in
  port {PORT}
  bind 127.0.0.1
  delimiter "\r\n"
  <parse>
    @type json
  </parse>
  <transport tls>
    insecure true
  </transport>
</source>
<match **>
  @type stdout
</match>
"#,
    );
    python(&format!(
        r#"
import socket, ssl
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", {port})))
s.sendall(b'{{"n":1}}\r\n{{"n":2,"time":1700000000}}\r')
s.sendall(b'\n')
s.unwrap(); s.close()
"#,
        port = d.port
    ));
    let got = d.wait_stdout_lines(2, WAIT);
    assert_eq!(
        events(&got),
        [
            ("tls.in".to_string(), serde_json::json!({"n": 1})),
            ("tls.in".to_string(), serde_json::json!({"n": 2}))
        ]
    );
    assert!(
        got[1].starts_with("2023-11-14 22:13:20.000000000 +0000"),
        "{}",
        got[1]
    );
}

#[test]
fn what_a_tcp_client_sent_before_the_stop_is_delivered() {
    let mut d = Daemon::start(
        r#"
<source>
  @type tcp
  tag tcp.in
  port {PORT}
  bind 127.0.0.1
  <parse>
    @type none
  </parse>
</source>
<match **>
  @type stdout
</match>
"#,
    );
    let mut s = TcpStream::connect(("127.0.0.1", d.port)).unwrap();
    let mut lines = String::new();
    for i in 0..2000 {
        lines.push_str(&format!("line {i}\n"));
    }
    s.write_all(lines.as_bytes()).unwrap();
    // Stop while the client is still connected: what it sent is read and delivered first.
    assert!(d.terminate().success(), "{}", d.stderr());
    let out = d.stdout();
    let got: Vec<&str> = out.lines().collect();
    assert_eq!(got.len(), 2000, "stderr:\n{}", d.stderr());
    assert!(
        got[1999].ends_with(r#"tcp.in: {"message":"line 1999"}"#),
        "{}",
        got[1999]
    );
}

fn extract_send(what: &str, port: u16) {
    run(Command::new("python3")
        .arg(dir().join("extract_send.py"))
        .args([what, &port.to_string()]));
}

/// The `<extract>` sources of tests/net_inputs/fluentd-extract.conf, on one port.
const EXTRACT_CONF: &str = r#"
<source>
  @type tcp
  tag deft
  port {PORT}
  bind 127.0.0.1
  source_address_key addr
  <parse>
    @type json
  </parse>
  <extract>
    tag_key tag
    time_key t
    time_type unixtime
  </extract>
</source>
<source>
  @type udp
  tag defu
  port {PORT}
  bind 127.0.0.1
  <parse>
    @type json
  </parse>
  <extract>
    tag_key tag
    keep_tag_key true
    time_key t
    keep_time_key true
    time_type string
    time_format %Y-%m-%d %H:%M:%S
    utc true
  </extract>
</source>
<match **>
  @type stdout
</match>
"#;

#[test]
fn tcp_and_udp_extract_the_tag_as_fluentd() {
    let d = Daemon::start(EXTRACT_CONF);
    // Fluentd's time_key never takes effect with a parser that gives a time: said at start-up.
    d.wait_for_log("<extract> time_key takes effect only", WAIT);
    extract_send("tcp", d.port);
    let tcp = d.wait_stdout_lines(11, WAIT);
    extract_send("udp", d.port);
    let all = d.wait_stdout_lines(14, WAIT);
    assert_eq!(&all[..11], &tcp[..]);
    let want = normalized(
        &std::fs::read_to_string(dir().join("fluentd-extract-events.txt"))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>(),
        None,
    );
    let got = normalized(&all, None);
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(sorted(got), sorted(want), "{}", d.stderr());
    // The parser's time (the record's `time`), not extract's.
    assert!(
        all.iter()
            .any(|l| l.starts_with("2020-09-13 12:26:40.000000000 +0000 deft: {\"msg\":11,")),
        "{all:?}"
    );
}

#[test]
fn extract_time_key_gives_the_time_the_parser_did_not() {
    // Fluentd 1.16.11 drops each of these ("pattern not matched": with estimate_current_event
    // false the json parser gives no time, and in_tcp checks that before it extracts);
    // logferry takes the time from time_key, as Fluentd's `time ||= extract_time(...)` means.
    let d = Daemon::start(
        r#"
<source>
  @type tcp
  tag noest
  port {PORT}
  bind 127.0.0.1
  <parse>
    @type json
    estimate_current_event false
  </parse>
  <extract>
    tag_key tag
    time_key t
    time_type float
  </extract>
</source>
<match **>
  @type stdout
</match>
"#,
    );
    extract_send("noest", d.port);
    let got = d.wait_stdout_lines(3, WAIT);
    assert_eq!(
        normalized(&got, None),
        [
            r#"2023-11-14 22:13:20.500000000 +0000 n.x: {"msg":1}"#,
            r#"2023-11-14 22:13:21.250000000 +0000 noest: {"msg":2}"#,
            r#"NOW +0000 noest: {"msg":3}"#,
        ]
    );
    assert!(!d.stderr().contains("time_key takes effect only"));
}

#[test]
fn http_default_parser_time_parameters_as_fluentd() {
    // tests/net_inputs/fluentd-http-time.conf: one source per time type.
    let mut got = Vec::new();
    for (name, parse) in [
        (
            "string",
            "    time_key t\n    time_format %Y-%m-%d %H:%M:%S\n    timezone +09:00\n",
        ),
        ("float", "    time_type float\n    keep_time_key true\n"),
        ("unixtime", "    time_type unixtime\n"),
    ] {
        let d = Daemon::start(&format!(
            "<source>\n  @type http\n  port {{PORT}}\n  bind 127.0.0.1\n  <parse>\n    @type in_http\n{parse}  </parse>\n</source>\n<match **>\n  @type stdout\n</match>\n"
        ));
        let ours = run(Command::new("bash")
            .arg("run_cases.sh")
            .arg(d.port.to_string())
            .arg(format!("http_time_{name}_cases.txt"))
            .current_dir(dir()));
        let theirs =
            std::fs::read_to_string(dir().join(format!("fluentd-http-time-{name}-responses.txt")))
                .unwrap();
        assert_eq!(answers(&ours), answers(&theirs), "{name}: {ours}");
        let n = answers(&theirs).values().filter(|(c, _)| *c == 200).count()
            + usize::from(name == "string");
        got.extend(d.wait_stdout_lines(n, WAIT));
    }
    // Times of "now" (recorded on 2026-12-05) are not compared.
    let now = |lines: Vec<String>| -> Vec<String> {
        lines
            .into_iter()
            .map(|l| {
                if l.as_str() >= "2026" {
                    format!("NOW{}", &l[29..])
                } else {
                    l
                }
            })
            .collect()
    };
    let want = std::fs::read_to_string(dir().join("fluentd-http-time-events.txt")).unwrap();
    assert_eq!(now(got), now(want.lines().map(str::to_string).collect()));
}
