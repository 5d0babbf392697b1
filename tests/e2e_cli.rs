//! The command line end to end: `--dry-run`, config errors with positions, warnings, signals.

mod support;

use std::process::Command;
use std::time::Duration;

use support::*;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn version_and_help() {
    let out = Command::new(bin()).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout).trim(),
        format!("logferry {}", env!("CARGO_PKG_VERSION"))
    );
    let out = Command::new(bin()).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = text(&out.stdout);
    for flag in [
        "--config",
        "--dry-run",
        "--verbose",
        "--quiet",
        "--log-format",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help:\n{help}");
    }
}

/// `--dry-run` on every example config in conf/ (CI runs this too).
#[test]
fn dry_run_every_example_config() {
    let dir = repo_root().join("conf");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().and_then(|x| x.to_str()) != Some("conf") {
            continue;
        }
        // As CI's --dry-run loop runs them: with the one secret they read set.
        let out = Command::new(bin())
            .arg("-c")
            .arg(&path)
            .arg("--dry-run")
            .env("FORWARD_SHARED_KEY", "ci-test-key")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            path.display(),
            text(&out.stderr)
        );
        n += 1;
    }
    assert!(n >= 1, "no example configs in {}", dir.display());
}

/// A shipped config whose secret is still the placeholder `CHANGE_ME` (`FORWARD_SHARED_KEY` not set,
/// or set to the placeholder) fails `--dry-run` and start-up, naming the position, the parameter
/// and the variable to set; with the variable set it passes (the test above).
#[test]
fn placeholder_secret_names_the_variable() {
    for name in ["sidecar.conf", "aggregator.conf"] {
        let path = repo_root().join("conf").join(name);
        let line = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .position(|l| l.contains("shared_key \"#{ENV.fetch('FORWARD_SHARED_KEY'"))
            .expect("the shipped config reads FORWARD_SHARED_KEY")
            + 1;
        let want = format!(
            "logferry: config error: {}:{line}:5: shared_key is the placeholder 'CHANGE_ME': \
             set the environment variable FORWARD_SHARED_KEY to the real secret",
            path.display()
        );
        for (args, env) in [
            (&["--dry-run"][..], None),
            (&["--dry-run"][..], Some("CHANGE_ME")),
            // Not only --dry-run: the daemon refuses to start (nothing listens, exit 1).
            (&[][..], None),
        ] {
            let mut cmd = Command::new(bin());
            cmd.arg("-c").arg(&path).args(args);
            match env {
                Some(v) => cmd.env("FORWARD_SHARED_KEY", v),
                None => cmd.env_remove("FORWARD_SHARED_KEY"),
            };
            let out = cmd.output().unwrap();
            assert_eq!(out.status.code(), Some(1), "{name} {args:?} {env:?}");
            let err = text(&out.stderr);
            assert_eq!(err.trim_end(), want, "{name} {args:?} {env:?}");
            assert!(out.stdout.is_empty(), "{name}: nothing printed on stdout");
        }
    }
}

/// A SIGHUP reload onto a config whose secret is a placeholder is refused; the pipeline goes on.
#[test]
fn reload_refuses_placeholder_secret() {
    let good = "<source>\n  @type forward\n  bind 127.0.0.1\n  port {PORT}\n</source>\n<match **>\n  @type stdout\n</match>\n";
    let mut d = Daemon::start(good);
    let bad = good.replace(
        "port {PORT}\n",
        "port {PORT}\n  <security>\n    self_hostname h\n    shared_key CHANGE_ME\n  </security>\n",
    );
    std::fs::write(d.path("fluent.conf"), render(&bad, d.port, d.dir.path())).unwrap();
    d.signal("HUP");
    d.wait_for_log("reload refused", Duration::from_secs(10));
    assert!(
        d.stderr()
            .contains("shared_key is the placeholder 'CHANGE_ME': replace it with the real secret"),
        "{}",
        d.stderr()
    );
    let out = Command::new(bin())
        .args(["--send", "after.reload", r#"{"k":"v"}"#])
        .args(["--to", &format!("127.0.0.1:{}", d.port)])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    d.wait_stdout_lines(1, Duration::from_secs(10));
    assert!(d.stdout().contains(r#"after.reload: {"k":"v"}"#));
    assert!(d.terminate().success());
}

/// `--send TAG JSON`: one event to a forward input, acknowledged, printed by the daemon; refused
/// records, and a receiver that requires a shared key, fail with a reason.
#[test]
fn send_one_event() {
    let mut d = Daemon::start(
        "<source>\n  @type forward\n  bind 127.0.0.1\n  port {PORT}\n</source>\n<match **>\n  @type stdout\n</match>\n",
    );
    let to = format!("127.0.0.1:{}", d.port);
    let out = Command::new(bin())
        .args(["--send", "app.test", r#"{"hello":"world"}"#, "--to", &to])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr).trim_end(),
        format!("logferry: 1 event sent to {to} and acknowledged")
    );
    let lines = d.wait_stdout_lines(1, Duration::from_secs(10));
    let (_, tag, record) = parse_stdout_line(&lines[0]);
    assert_eq!(tag, "app.test");
    assert_eq!(record, serde_json::json!({"hello": "world"}));
    // The default destination is 127.0.0.1:$LOGFERRY_PORT.
    let out = Command::new(bin())
        .args(["--send", "app.env", r#"{"n":1}"#])
        .env("LOGFERRY_PORT", d.port.to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    d.wait_stdout_lines(2, Duration::from_secs(10));
    for (record, why) in [("[1]", "must be a JSON object"), ("{", "is not JSON")] {
        let out = Command::new(bin())
            .args(["--send", "app.test", record, "--to", &to])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(text(&out.stderr).contains(why), "{}", text(&out.stderr));
    }
    assert!(d.terminate().success());

    let mut d = Daemon::start(
        "<source>\n  @type forward\n  bind 127.0.0.1\n  port {PORT}\n  <security>\n    self_hostname h\n    shared_key k\n  </security>\n</source>\n<match **>\n  @type stdout\n</match>\n",
    );
    let out = Command::new(bin())
        .args([
            "--send",
            "app.test",
            "{}",
            "--to",
            &format!("127.0.0.1:{}", d.port),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("the receiver requires authentication"),
        "{}",
        text(&out.stderr)
    );
    assert!(d.terminate().success());
}

/// The resolved config is printed: env interpolated, includes inlined in glob order, secrets masked.
#[test]
fn dry_run_prints_resolved_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("conf.d")).unwrap();
    std::fs::write(
        dir.path().join("conf.d/b.conf"),
        "<match b.**>\n  @type null\n</match>\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("conf.d/a.conf"),
        "<match a.**>\n  @type null\n</match>\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("fluent.conf"),
        "<source>\n  @type forward\n  port \"#{ENV['LF_TEST_PORT']}\"\n  <security>\n    self_hostname h\n    shared_key topsecret\n  </security>\n</source>\n@include conf.d/*.conf\n",
    )
    .unwrap();
    let out = Command::new(bin())
        .arg("-c")
        .arg(dir.path().join("fluent.conf"))
        .arg("--dry-run")
        .env("LF_TEST_PORT", "25001")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed = text(&out.stdout);
    assert!(printed.contains("port 25001"), "{printed}");
    assert!(
        !printed.contains("topsecret") && printed.contains("shared_key xxxxxx"),
        "{printed}"
    );
    let a = printed.find("<match a.**>").expect("a.conf inlined");
    let b = printed.find("<match b.**>").expect("b.conf inlined");
    assert!(a < b, "includes in sorted order:\n{printed}");
}

fn expect_error(config: &str, needles: &[&str]) -> String {
    let (out, _dir) = run_once(config, &["--dry-run"]);
    assert!(!out.status.success(), "expected failure for:\n{config}");
    let err = text(&out.stderr);
    for n in needles {
        assert!(err.contains(n), "expected {n:?} in:\n{err}");
    }
    err
}

/// A bad config fails at start-up with file:line:column and what was expected.
#[test]
fn config_errors_have_positions() {
    expect_error(
        "<source>\n  @type forward\n</match>\n",
        &["fluent.conf:3:", "source"],
    );
    expect_error(
        "<match **>\n  @type stdout\n  x \"\\q\"\n</match>\n",
        &["fluent.conf:3:"],
    );
    expect_error(
        "<match **>\n  @type stdout\n",
        &["fluent.conf:", "not closed"],
    );
    expect_error(
        "<source>\n  port 1\n</source>\n",
        &["fluent.conf:1:", "@type"],
    );
    expect_error(
        "<match **>\n  @type file\n</match>\n",
        &["fluent.conf:1:", "'path' parameter is required"],
    );
    expect_error(
        "<match **>\n  @type stdout\n  @foo x\n</match>\n",
        &["fluent.conf:3:", "@foo"],
    );
    expect_error(
        "<match **>\n  @type relabel\n  @label @nowhere\n</match>\n",
        &["fluent.conf:3:", "label @nowhere is not defined"],
    );
    expect_error("<source>\n  @type forward\n  deny_keepalive maybe\n</source>\n<match **>\n@type null\n</match>\n", &["fluent.conf:3:", "expected true or false"]);
    expect_error(
        "<unknown>\n</unknown>\n",
        &["fluent.conf:1:", "unknown directive <unknown>"],
    );
}

/// An unknown @type names itself and lists the supported types.
#[test]
fn unknown_type_lists_supported_types() {
    let err = expect_error(
        "<match **>\n  @type s4\n</match>\n",
        &["fluent.conf:2:", "unknown output plugin 's4'"],
    );
    for t in ["file", "null", "stdout"] {
        assert!(err.contains(t), "{err}");
    }
    expect_error(
        "<source>\n  @type systemd\n</source>\n",
        &["unknown input plugin 'systemd'", "forward", "tail", "exec"],
    );
}

/// An unknown parameter is a warning naming the plugin and the parameter; v0.12 `type` works.
#[test]
fn unknown_parameter_warns_and_v012_type_works() {
    let (out, _dir) = run_once(
        "<match **>\n  type stdout\n  colour blue\n</match>\n",
        &["--dry-run"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("fluent.conf:3:")
            && err.contains("parameter 'colour'")
            && err.contains("stdout plugin"),
        "{err}"
    );
    assert!(err.contains("'type' is deprecated"), "{err}");
}

/// A missing config file is a clear error.
#[test]
fn missing_config_file() {
    let out = Command::new(bin())
        .args(["-c", "/nonexistent/fluent.conf", "--dry-run"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("/nonexistent/fluent.conf"),
        "{}",
        text(&out.stderr)
    );
}

/// A port already in use fails start-up with a clear error and a non-zero exit.
#[test]
fn port_in_use_fails_start() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let conf = format!("<source>\n@type forward\nport {port}\nbind 127.0.0.1\n</source>\n<match **>\n@type null\n</match>\n");
    let (out, _dir) = run_once(&conf, &[]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{}",
        text(&out.stderr)
    );
}

/// SIGINT stops as gracefully as SIGTERM; `<system> log_level` and -q/-v set the log level.
#[test]
fn sigint_and_log_levels() {
    let conf = "<system>\n  log_level warn\n</system>\n<source>\n@type forward\nport {PORT}\nbind 127.0.0.1\n</source>\n<match **>\n@type null\n</match>\n";
    // At warn, "logferry started" (info) is not printed: start with -v to bring info back.
    let mut d = Daemon::start_with(conf, &["-v"], &[]);
    d.signal("INT");
    assert!(d.wait_exit(Duration::from_secs(10)).success());
    assert!(d.stderr().contains("received SIGINT"), "{}", d.stderr());
    let (out, _dir) = run_once(conf, &["--dry-run", "-q"]);
    assert!(out.status.success());
}

/// Labels: a source's @label routes only into that label; relabel moves events between labels;
/// `@ROOT` goes back to the root rules.
#[test]
fn labels_and_relabel() {
    let conf = "
<source>
  @type forward
  port {PORT}
  bind 127.0.0.1
  @label @in
</source>
<match **>
  @type file
  path {DIR}/root
  append true
  <format>
    @type single_value
    message_key m
  </format>
</match>
<label @in>
  <match to.other>
    @type relabel
    @label @other
  </match>
  <match to.root>
    @type relabel
    @label @ROOT
  </match>
  <match **>
    @type file
    path {DIR}/in
    append true
    <format>
      @type single_value
      message_key m
    </format>
  </match>
</label>
<label @other>
  <match **>
    @type file
    path {DIR}/other
    append true
    <format>
      @type single_value
      message_key m
    </format>
  </match>
</label>
";
    let mut d = Daemon::start(conf);
    let py = |tag: &str, m: &str| {
        let mut s = d.connect();
        let mut rec = Vec::new();
        logferry_msgpack::Value::Map(vec![(
            logferry_msgpack::Value::Str("m".into()),
            logferry_msgpack::Value::Str(m.into()),
        )])
        .encode(&mut rec);
        let mut f = Vec::new();
        logferry_forward::encode::message(
            tag,
            logferry_msgpack::EventTime::new(1_700_000_000, 0),
            &rec,
            Some("c"),
            &mut f,
        );
        send(&mut s, &f);
        read_msgpack(&mut s);
    };
    py("x", "stays-in");
    py("to.other", "went-other");
    py("to.root", "went-root");
    let day = |p: &str| d.path(&format!("{p}.20231114.log"));
    assert_eq!(lines_of(&day("in")), ["stays-in"]);
    assert_eq!(lines_of(&day("other")), ["went-other"]);
    assert_eq!(lines_of(&day("root")), ["went-root"]);
    assert!(d.terminate().success());
}

/// SIGHUP reloads the config: a good one takes over (file-buffered data carries over), a bad one
/// is refused with the error and the running pipeline goes on.
#[test]
fn sighup_reload() {
    let first = "<source>\n@type forward\nport {PORT}\nbind 127.0.0.1\n</source>\n<match **>\n@type file\npath {DIR}/first\nappend true\n<format>\n@type single_value\nmessage_key m\n</format>\n<buffer>\n@type file\npath {DIR}/buf\nflush_mode interval\nflush_interval 3600\n</buffer>\n</match>\n";
    let second = "<source>\n@type forward\nport {PORT}\nbind 127.0.0.1\n</source>\n<match **>\n@type file\npath {DIR}/second\nappend true\n<format>\n@type single_value\nmessage_key m\n</format>\n<buffer>\n@type file\npath {DIR}/buf\nflush_mode interval\nflush_interval 0.2\n</buffer>\n</match>\n";
    let mut d = Daemon::start(first);
    let emit = |d: &Daemon, m: &str| {
        let mut s = d.connect();
        let mut rec = Vec::new();
        logferry_msgpack::Value::Map(vec![(
            logferry_msgpack::Value::Str("m".into()),
            logferry_msgpack::Value::Str(m.into()),
        )])
        .encode(&mut rec);
        let mut f = Vec::new();
        logferry_forward::encode::message(
            "t",
            logferry_msgpack::EventTime::new(1_700_000_000, 0),
            &rec,
            Some("c"),
            &mut f,
        );
        send(&mut s, &f);
        read_msgpack(&mut s);
    };
    emit(&d, "held-in-buffer");
    let conf = d.path("fluent.conf");
    // A broken config is refused; the first pipeline goes on.
    std::fs::write(&conf, "<match **>\n@type nope\n</match>\n").unwrap();
    d.signal("HUP");
    d.wait_for_log("reload refused", Duration::from_secs(10));
    assert!(
        d.stderr().contains("unknown output plugin 'nope'"),
        "{}",
        d.stderr()
    );
    emit(&d, "still-first");
    // A good config takes over and flushes what the first one buffered on disk.
    std::fs::write(&conf, render(second, d.port, d.dir.path())).unwrap();
    d.signal("HUP");
    d.wait_for_log("reload complete", Duration::from_secs(20));
    emit(&d, "after-reload");
    let path = d.path("second.20231114.log");
    let t = std::time::Instant::now();
    loop {
        let lines = if path.exists() {
            lines_of(&path)
        } else {
            vec![]
        };
        if lines.len() >= 3 {
            let mut l = lines.clone();
            l.sort();
            assert_eq!(l, ["after-reload", "held-in-buffer", "still-first"]);
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "got {lines:?}; log:\n{}",
            d.stderr()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(d.terminate().success());
}
