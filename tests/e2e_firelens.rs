//! ECS FireLens end to end: the `unix` input, the config the ECS agent generates, Docker's own
//! `fluentd` log driver (`target/e2e-clients/docker-driver`, built by `bash .ci/install-deps.sh`
//! from `tests/clients/docker-driver`: it runs Docker 20.10's driver behind Docker's own log
//! copier, `daemon/logger/copier.go`, so a line over 16 KiB really arrives as partial messages
//! with `partial_message`/`partial_id`/`partial_ordinal`/`partial_last`), the `concat` filter,
//! and a task stop as ECS performs it.

#[path = "firelens/render.rs"]
mod render;
mod support;
#[path = "../crates/plugins/src/out_http/test_server.rs"]
mod test_server;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use logferry_forward::encode::{self, Compression};
use logferry_msgpack::{EventTime, Value};
use render::{Firelens, Metadata};
use serde_json::Value as Json;
use support::*;

const INSTALL_HINT: &str =
    "run `bash .ci/install-deps.sh` (builds target/e2e-clients/docker-driver)";
const WAIT: Duration = Duration::from_secs(30);
const TASK_ID: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

fn docker_driver() -> PathBuf {
    let p = repo_root().join("target/e2e-clients/docker-driver");
    assert!(
        p.is_file(),
        "the Docker fluentd log-driver client {} is missing: {INSTALL_HINT}",
        p.display()
    );
    p
}

/// The generated config of a task whose container `app` sends to `options`' output, with the
/// socket and the user's file in the daemon's directory and the forward input on its port.
fn firelens(options: &[(&str, &str)]) -> String {
    render::render(&Firelens {
        network_mode: "bridge",
        socket: "{DIR}/fluent.sock".into(),
        port: "{PORT}".into(),
        metadata: Some(Metadata {
            ec2_instance_id: "i-0123456789abcdef0".into(),
            cluster: "prod".into(),
            task_arn: format!("arn:aws:ecs:us-east-1:123456789012:task/prod/{TASK_ID}"),
            task_definition: "web:7".into(),
        }),
        external: Some("{DIR}/external.conf".into()),
        containers: vec![(
            "app".into(),
            options
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )],
    })
}

/// The file output for container `app`, as logConfiguration.options would give it.
const FILE_OUTPUT: &[(&str, &str)] = &[
    ("@type", "file"),
    ("path", "{DIR}/app"),
    ("append", "true"),
    ("format", "json"),
];

/// Start logferry on the generated config, with `external` as the user's file.
fn start_firelens(options: &[(&str, &str)], external: &str, args: &[&str]) -> Daemon {
    let external = external.to_string();
    let d = Daemon::start_prepared(&firelens(options), args, &[], &move |dir: &Path| {
        std::fs::write(dir.join("external.conf"), &external).unwrap();
    });
    d.wait_for_log("listening fluent socket on", WAIT);
    d
}

fn sock(d: &Daemon) -> PathBuf {
    d.path("fluent.sock")
}

/// Every JSON line the `app` file output wrote.
fn app_lines(d: &Daemon) -> Vec<serde_json::Map<String, Json>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(d.dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let f = p.file_name().unwrap().to_string_lossy();
            f.starts_with("app.") && f.ends_with(".log")
        })
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        for l in text.lines() {
            // A line still being written does not parse yet.
            if let Ok(Json::Object(m)) = serde_json::from_str(l) {
                out.push(m);
            }
        }
    }
    out
}

fn wait_app_lines(d: &Daemon, n: usize) -> Vec<serde_json::Map<String, Json>> {
    let start = Instant::now();
    loop {
        let v = app_lines(d);
        if v.len() >= n {
            return v;
        }
        assert!(
            start.elapsed() < WAIT,
            "expected {n} records, got {}: {:?}\nstderr:\n{}",
            v.len(),
            v.iter().map(|r| r.get("log")).collect::<Vec<_>>(),
            d.stderr()
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// A docker-driver run: Docker's fluentd driver for container `app` of the task.
fn driver(d: &Daemon, extra: &[&str]) -> Command {
    let mut c = Command::new(docker_driver());
    c.arg("-address")
        .arg(format!("unix://{}", sock(d).display()))
        .arg("-tag")
        .arg(format!("app-firelens-{TASK_ID}"))
        .arg("-name")
        .arg("/app")
        .arg("-sub-second")
        .arg("-timeout")
        .arg("25s")
        .args(extra);
    c
}

fn run_driver(mut c: Command, expect_sent: usize, d: &Daemon) {
    let out = c
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run the docker driver: {e} ({INSTALL_HINT})"));
    assert!(
        out.status.success()
            && String::from_utf8_lossy(&out.stdout).trim() == format!("sent {expect_sent}"),
        "driver {c:?}: {:?}\nstdout: {}\nstderr: {}\ndaemon:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        d.stderr()
    );
}

// ------------------------------------------------------------------------------------------------
// The unix input

fn record(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut r = Vec::new();
    Value::Map(
        fields
            .iter()
            .map(|(k, v)| (Value::Str((*k).into()), Value::Str((*v).into())))
            .collect(),
    )
    .encode(&mut r);
    r
}

fn read_value(s: &mut UnixStream) -> Value {
    let mut buf = Vec::new();
    let mut b = [0u8; 256];
    loop {
        if let Ok((v, _)) = Value::decode(&buf) {
            return v;
        }
        let n = s.read(&mut b).unwrap();
        assert!(n > 0, "closed before a whole reply");
        buf.extend_from_slice(&b[..n]);
    }
}

fn closed(s: &mut UnixStream) -> bool {
    let mut b = [0u8; 64];
    matches!(s.read(&mut b), Ok(0) | Err(_))
}

const UNIX_ONLY: &str = "
<source>
  @type unix
  path {DIR}/run/fluent.sock
  frame_timeout 1s
  chunk_size_limit 64k
</source>
<match **>
  @type file
  path {DIR}/app
  append true
  <format>
    @type json
  </format>
  <inject>
    tag_key tag
  </inject>
</match>
";

/// in_unix: every forward mode with acks, a malformed frame and a stalled one close their
/// connection only (counted, logged), a stale socket is replaced at start, the socket file is
/// removed at stop.
#[test]
fn unix_input_modes_acks_limits_and_socket_file() {
    let mut d = Daemon::start_prepared(UNIX_ONLY, &[], &[], &|dir: &Path| {
        // A stale socket of a killed process: bound, never unlinked, nobody accepting.
        std::fs::create_dir_all(dir.join("run")).unwrap();
        drop(std::os::unix::net::UnixListener::bind(dir.join("run/fluent.sock")).unwrap());
    });
    d.wait_for_log("listening fluent socket on", WAIT);
    assert!(
        d.stderr().contains("found a stale socket"),
        "{}",
        d.stderr()
    );
    let path = d.path("run/fluent.sock");

    // Message mode with an ack, then Forward and gzip PackedForward on the same connection.
    let mut s = UnixStream::connect(&path).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut f = Vec::new();
    encode::message(
        "m",
        EventTime::new(1_700_000_000, 5),
        &record(&[("log", "one")]),
        Some("c1"),
        &mut f,
    );
    s.write_all(&f).unwrap();
    assert_eq!(
        read_value(&mut s).get("ack").and_then(Value::as_str),
        Some("c1")
    );
    let mut entries = Vec::new();
    for l in ["two", "three"] {
        entries.push(0x92);
        EventTime::new(1_700_000_001, 0).encode(&mut entries);
        entries.extend(record(&[("log", l)]));
    }
    let mut f = Vec::new();
    encode::packed_forward("p", &entries, 2, Some("c2"), Compression::Gzip, &mut f);
    s.write_all(&f).unwrap();
    assert_eq!(
        read_value(&mut s).get("ack").and_then(Value::as_str),
        Some("c2")
    );
    drop(s);

    // A malformed frame closes that connection only.
    let mut bad = UnixStream::connect(&path).unwrap();
    bad.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    bad.write_all(&[0xc1, 0xc1, 0xc1]).unwrap();
    assert!(closed(&mut bad));
    d.wait_for_log("malformed connections so far: 1", WAIT);

    // Half a frame, then silence: closed after frame_timeout.
    let mut slow = UnixStream::connect(&path).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut f = Vec::new();
    encode::message(
        "s",
        EventTime::new(1_700_000_000, 0),
        &record(&[("log", "never")]),
        None,
        &mut f,
    );
    slow.write_all(&f[..f.len() / 2]).unwrap();
    assert!(closed(&mut slow));
    d.wait_for_log("stalled connections so far: 1", WAIT);

    // A frame over chunk_size_limit is dropped (logged), the connection goes on.
    let mut s = UnixStream::connect(&path).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let big = "x".repeat(100 * 1024);
    let mut f = Vec::new();
    encode::message(
        "big",
        EventTime::new(1_700_000_000, 0),
        &record(&[("log", &big)]),
        None,
        &mut f,
    );
    encode::message(
        "m",
        EventTime::new(1_700_000_002, 0),
        &record(&[("log", "four")]),
        Some("c4"),
        &mut f,
    );
    s.write_all(&f).unwrap();
    assert_eq!(
        read_value(&mut s).get("ack").and_then(Value::as_str),
        Some("c4")
    );
    d.wait_for_log("chunk_size_limit", WAIT);
    drop(s);

    let v = wait_app_lines(&d, 4);
    let got: Vec<(String, String)> = v
        .iter()
        .map(|r| {
            (
                r["tag"].as_str().unwrap().into(),
                r["log"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [("m", "one"), ("p", "two"), ("p", "three"), ("m", "four")]
            .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    assert!(d.terminate().success());
    assert!(!path.exists(), "the socket file is removed at stop");
}

/// A live socket is never taken over: a second daemon on the same path fails to start.
#[test]
fn unix_input_refuses_a_socket_in_use() {
    let mut d = Daemon::start(UNIX_ONLY);
    d.wait_for_log("listening fluent socket on", WAIT);
    let text = UNIX_ONLY.replace("{DIR}", &d.dir.path().display().to_string());
    let cfg = d.path("second.conf");
    std::fs::write(&cfg, text).unwrap();
    let out = Command::new(bin()).arg("-c").arg(&cfg).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("another process is accepting connections"),
        "{err}"
    );
    assert!(d.path("run/fluent.sock").exists());
    assert!(d.terminate().success());
}

// ------------------------------------------------------------------------------------------------
// The generated config

/// The committed fixtures are what the agent's template renders, and they start unchanged
/// (only the @included file's path points at a file that exists here).
#[test]
fn firelens_generated_configs_start_unchanged() {
    let meta = |ec2: &str| Metadata {
        ec2_instance_id: ec2.into(),
        cluster: "prod".into(),
        task_arn: format!("arn:aws:ecs:us-east-1:123456789012:task/prod/{TASK_ID}"),
        task_definition: "web:7".into(),
    };
    let opts = |v: &[(&str, &str)]| -> BTreeMap<String, String> {
        v.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let cases = [
        (
            "bridge-s3.conf",
            Firelens {
                network_mode: "bridge",
                socket: "/var/run/fluent.sock".into(),
                port: "24224".into(),
                metadata: Some(meta("i-0123456789abcdef0")),
                external: Some("/fluentd/etc/external.conf".into()),
                containers: vec![(
                    "app".into(),
                    opts(&[
                        ("@type", "s3"),
                        ("s3_bucket", "my-app-logs"),
                        ("s3_region", "us-east-1"),
                        ("path", "logs/app/"),
                    ]),
                )],
            },
        ),
        (
            "awsvpc-http.conf",
            Firelens {
                network_mode: "awsvpc",
                socket: "/var/run/fluent.sock".into(),
                port: "24224".into(),
                // Fargate: no EC2 instance id.
                metadata: Some(meta("")),
                external: Some("/fluentd/etc/external.conf".into()),
                containers: vec![(
                    "app".into(),
                    opts(&[
                        ("@type", "http"),
                        ("endpoint", "http://collector.internal:9880/app"),
                        ("open_timeout", "2"),
                        ("include-pattern", "/ERROR|WARN/"),
                        ("exclude-pattern", "/healthcheck/"),
                    ]),
                )],
            },
        ),
    ];
    let fixtures = repo_root().join("tests/firelens");
    let tests_external = std::fs::read_to_string(fixtures.join("external.conf")).unwrap();
    // The user file of docker/ecs/firelens-task-definition.json adds the health endpoint.
    let ecs_external =
        std::fs::read_to_string(repo_root().join("docker/ecs/firelens-external.conf")).unwrap();
    let runs = cases.iter().flat_map(|(file, f)| {
        [
            (file, f, tests_external.as_str(), 2),
            (file, f, ecs_external.as_str(), 3),
        ]
    });
    for (file, f, external, inputs) in runs {
        let committed = std::fs::read_to_string(fixtures.join(file)).unwrap();
        assert_eq!(render::render(f), committed, "{file}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("external.conf"), external).unwrap();
        let text = committed.replace(
            "/fluentd/etc/external.conf",
            &dir.path().join("external.conf").display().to_string(),
        );
        let cfg = dir.path().join("fluent.conf");
        std::fs::write(&cfg, text).unwrap();
        let out = Command::new(bin())
            .arg("-c")
            .arg(&cfg)
            .arg("--dry-run")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{file}: {err}");
        let valid = format!("configuration is valid ({inputs} input(s), 0 warning(s))");
        assert!(err.contains(&valid), "{file}: {err}");
    }
}

/// Docker's fluentd driver delivers over `unix://` into the generated config: synchronous,
/// `fluentd-async`, and `fluentd-request-ack` (which Fluentd's in_unix never answers); every
/// record carries the ECS metadata.
#[test]
fn docker_driver_over_the_unix_socket() {
    let mut d = start_firelens(FILE_OUTPUT, "", &[]);
    run_driver(driver(&d, &["-count", "40", "-prefix", "sync-"]), 40, &d);
    run_driver(
        driver(
            &d,
            &[
                "-count",
                "40",
                "-prefix",
                "async-",
                "-async",
                "-close-delay",
                "4s",
            ],
        ),
        40,
        &d,
    );
    run_driver(
        driver(&d, &["-count", "40", "-prefix", "ack-", "-request-ack"]),
        40,
        &d,
    );
    let v = wait_app_lines(&d, 120);
    assert!(d.terminate().success());
    let v2 = app_lines(&d);
    assert_eq!(v2.len(), 120, "nothing more, nothing less");
    for prefix in ["sync-", "async-", "ack-"] {
        let logs: Vec<&str> = v
            .iter()
            .filter_map(|r| r["log"].as_str())
            .filter(|l| l.starts_with(prefix))
            .collect();
        let want: Vec<String> = (0..40).map(|i| format!("{prefix}{i}")).collect();
        assert_eq!(logs, want, "{prefix}");
    }
    for r in &v {
        assert_eq!(r["ecs_cluster"], "prod");
        assert_eq!(r["ecs_task_definition"], "web:7");
        assert_eq!(r["ec2_instance_id"], "i-0123456789abcdef0");
        assert!(r["ecs_task_arn"].as_str().unwrap().ends_with(TASK_ID));
        assert_eq!(r["container_name"], "/app");
        assert_eq!(r["source"], "stdout");
    }
    assert!(!sock(&d).exists());
}

fn external() -> String {
    std::fs::read_to_string(repo_root().join("tests/firelens/external.conf")).unwrap()
}

/// A 40,000-byte line, cut by Docker's copier into 16 KiB partial messages, arrives as one
/// record equal to the line.
#[test]
fn a_long_line_cut_by_docker_arrives_whole() {
    let mut d = start_firelens(FILE_OUTPUT, &external(), &[]);
    // 2 lines of 40,000 bytes = 3 pieces each (16384 + 16384 + 7232).
    run_driver(
        driver(
            &d,
            &["-count", "2", "-prefix", "long-", "-line-bytes", "40000"],
        ),
        6,
        &d,
    );
    wait_app_lines(&d, 2);
    assert!(d.terminate().success());
    let v = app_lines(&d);
    assert_eq!(v.len(), 2);
    for (i, r) in v.iter().enumerate() {
        let mut want = format!("long-{i}");
        while want.len() < 40_000 {
            want.push('x');
        }
        assert_eq!(r["log"].as_str().unwrap(), want);
        for k in [
            "partial_message",
            "partial_id",
            "partial_ordinal",
            "partial_last",
        ] {
            assert!(!r.contains_key(k), "{k} left in the record");
        }
        assert_eq!(r["ecs_cluster"], "prod");
    }
}

/// A 60-line Java stack trace (one event per line).
fn trace(container: usize) -> Vec<String> {
    let mut v = vec![format!(
        "java.lang.IllegalStateException: container {container} failed"
    )];
    for i in 1..59 {
        v.push(format!(
            "\tat com.example.Service{container}.call{i}(Service.java:{i})"
        ));
    }
    v.push("\t... 12 more".to_string());
    v
}

fn spawn_stdin_driver(d: &Daemon, cid: &str, extra: &[&str]) -> Child {
    let mut c = driver(d, &["-stdin", "-container-id", cid]);
    c.args(extra);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run the docker driver: {e} ({INSTALL_HINT})"))
}

fn finish(c: Child, sent: usize, d: &Daemon) {
    let out = c.wait_with_output().unwrap();
    assert!(
        out.status.success()
            && String::from_utf8_lossy(&out.stdout).trim() == format!("sent {sent}"),
        "{:?} {} {}\ndaemon:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        d.stderr()
    );
}

fn cid(n: usize) -> String {
    format!("{n}").repeat(64)
}

/// Stack traces of three containers, written line by line in turn (so that their events
/// interleave), arrive as three events.
#[test]
fn interleaved_stack_traces_of_three_containers_arrive_as_three_events() {
    let mut d = start_firelens(FILE_OUTPUT, &external(), &[]);
    let mut kids: Vec<Child> = (1..=3)
        .map(|n| spawn_stdin_driver(&d, &cid(n), &[]))
        .collect();
    let traces: Vec<Vec<String>> = (1..=3).map(trace).collect();
    // Line i of every container in turn, so that their events interleave.
    #[allow(clippy::needless_range_loop)]
    for i in 0..60 {
        for (k, c) in kids.iter_mut().enumerate() {
            let stdin = c.stdin.as_mut().unwrap();
            writeln!(stdin, "{}", traces[k][i]).unwrap();
            stdin.flush().unwrap();
        }
    }
    for mut c in kids {
        drop(c.stdin.take());
        finish(c, 60, &d);
    }
    // Nothing ends the last group of each container: flush_interval releases it.
    let v = wait_app_lines(&d, 3);
    assert!(d.terminate().success());
    let v2 = app_lines(&d);
    assert_eq!(v2.len(), 3, "{v:?}");
    let mut got: Vec<(String, String)> = v2
        .iter()
        .map(|r| {
            (
                r["container_id"].as_str().unwrap().to_string(),
                r["log"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    for (n, (c, log)) in got.iter().enumerate() {
        assert_eq!(*c, cid(n + 1));
        assert_eq!(*log, traces[n].join("\n"));
    }
}

/// A stack trace that nothing ends (no next event, a `flush_interval` of ten minutes) is still
/// released whole by a reload (SIGHUP) and by SIGTERM, each time down the pipeline to the output.
#[test]
fn open_groups_are_flushed_at_reload_and_at_stop() {
    let external = external().replace("flush_interval 1s", "flush_interval 600s");
    let mut d = start_firelens(FILE_OUTPUT, &external, &[]);
    let send = |n: usize| {
        // Acked, so the lines are in logferry (in concat's open group) when the driver ends.
        let mut c = spawn_stdin_driver(&d, &cid(n), &["-request-ack"]);
        let stdin = c.stdin.as_mut().unwrap();
        for l in trace(n) {
            writeln!(stdin, "{l}").unwrap();
        }
        drop(c.stdin.take());
        finish(c, 60, &d);
    };
    send(1);
    assert!(app_lines(&d).is_empty(), "flushed before the reload");
    d.signal("HUP");
    d.wait_for_log("reload complete", WAIT);
    let v = wait_app_lines(&d, 1);
    assert_eq!(v[0]["log"].as_str().unwrap(), trace(1).join("\n"));
    send(2);
    assert!(d.terminate().success(), "{}", d.stderr());
    let v = app_lines(&d);
    assert_eq!(v.len(), 2, "{v:?}");
    assert_eq!(v[1]["log"].as_str().unwrap(), trace(2).join("\n"));
}

// ------------------------------------------------------------------------------------------------
// Task stop

/// An ECS task stop: the app container stops first (its driver sends what it holds and closes),
/// then logferry gets SIGTERM and `stopTimeout` (30 s by default) before SIGKILL. The app writes
/// ~400-character lines at ~300 a second, with stack traces among them, over the unix socket,
/// through concat, to an HTTP destination that takes 30 ms per request. Every line is delivered.
#[test]
fn nothing_lost_at_task_stop() {
    let server = test_server::Server::start();
    server.set_default(test_server::Reply::status(200).delay(Duration::from_millis(30)));
    let url = server.url("/logs");
    let opts: Vec<(&str, &str)> = vec![
        ("@type", "http"),
        ("endpoint", &url),
        ("json_array", "true"),
    ];
    let mut d = start_firelens(&opts, &external(), &["--shutdown-timeout", "30"]);

    let mut app = spawn_stdin_driver(&d, &cid(7), &[]);
    let mut want = Vec::new();
    let stdin = app.stdin.as_mut().unwrap();
    let start = Instant::now();
    let mut sent = 0;
    for i in 0..900 {
        if i % 100 == 50 {
            // A stack trace: one event per line, joined by concat.
            let t = trace(i);
            for l in &t {
                writeln!(stdin, "{l}").unwrap();
            }
            sent += t.len();
            want.push(t.join("\n"));
        }
        let mut l = format!("line {i} ");
        while l.len() < 400 {
            l.push('y');
        }
        writeln!(stdin, "{l}").unwrap();
        sent += 1;
        want.push(l);
        // The load's shape: about 300 lines a second.
        if i % 30 == 29 {
            stdin.flush().unwrap();
            let due = Duration::from_millis((i as u64 + 1) * 1000 / 300);
            if let Some(rest) = due.checked_sub(start.elapsed()) {
                thread::sleep(rest);
            }
        }
    }
    // The app container stops: its output ends, the driver sends the rest and closes.
    drop(app.stdin.take());
    finish(app, sent, &d);
    // Then the router gets SIGTERM.
    let st = d.terminate();
    assert!(st.success(), "{}", d.stderr());

    let mut got = Vec::new();
    for r in server.requests() {
        let body: Json = serde_json::from_slice(&r.body).unwrap();
        for rec in body.as_array().unwrap() {
            got.push(rec["log"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(
        got.len(),
        want.len(),
        "delivered {} of {}",
        got.len(),
        want.len()
    );
    assert_eq!(got, want);
}
