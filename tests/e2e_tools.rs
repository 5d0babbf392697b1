//! `logferry test` and `logferry graph` end to end: the binary on the configs in conf/ and their
//! tests in conf/tests/, a failing test's diff and exit status, and proof that a test run sends
//! nothing anywhere.

mod support;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

use support::*;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn logferry_test(config: &Path, tests: &[&Path]) -> Output {
    Command::new(bin())
        .arg("test")
        .arg(config)
        .args(tests)
        .env("TZ", "UTC")
        .output()
        .unwrap()
}

/// Each config in conf/ passes its own tests (conf/tests/<name>.toml or .yaml), and so does the
/// routing example (rewrite_tag_filter, parser, copy, relabel, @ERROR) whose expectations were
/// recorded from Fluentd 1.16.11.
#[test]
fn the_configs_in_conf_pass_their_tests() {
    let root = repo_root();
    let cases: [(&str, &[&str]); 4] = [
        ("conf/dev.conf", &["conf/tests/dev.toml"]),
        ("conf/sidecar.conf", &["conf/tests/sidecar.yaml"]),
        ("conf/aggregator.conf", &["conf/tests/aggregator.toml"]),
        (
            "conf/tests/routing.conf",
            &["conf/tests/routing.toml", "conf/tests/routing.yaml"],
        ),
    ];
    for (config, tests) in cases {
        let tests: Vec<_> = tests.iter().map(|t| root.join(t)).collect();
        let refs: Vec<&Path> = tests.iter().map(|p| p.as_path()).collect();
        let out = logferry_test(&root.join(config), &refs);
        let stdout = text(&out.stdout);
        assert!(
            out.status.success(),
            "{config}: {stdout}\n{}",
            text(&out.stderr)
        );
        assert!(stdout.contains(" 0 failed"), "{stdout}");
        assert!(!stdout.contains("FAILED"), "{stdout}");
    }
}

/// A wrong expectation fails with exit status 1 and a diff naming the output; the other tests
/// of the file still run.
#[test]
fn a_failing_test_prints_the_diff_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("f.conf");
    std::fs::write(
        &conf,
        "<source>\n  @type forward\n  @id in\n  @label @APP\n</source>\n<label @APP>\n  <filter **>\n    @type record_transformer\n    <record>\n      env prod\n    </record>\n  </filter>\n  <match app.**>\n    @type stdout\n    @id app_out\n  </match>\n</label>\n",
    )
    .unwrap();
    let tests = dir.path().join("t.toml");
    std::fs::write(
        &tests,
        r#"
[[tests]]
name = "wrong"
  [[tests.inputs]]
  source = "in"
  tag = "app.x"
  records = [{ n = 1 }, { n = 2 }]
  [[tests.outputs]]
  match = "app_out"
  events = [{ record = { n = 1, env = "prod" } }, { tag = "app.x", record = { n = 2, env = "dev" } }]

[[tests]]
name = "right"
  [[tests.inputs]]
  label = "@APP"
  tag = "app.y"
  record = { n = 3 }
  [[tests.outputs]]
  match = "app.**"
  label = "@APP"
  events = [{ tag = "app.y", time = "2024-01-01T00:00:00Z", record = { n = 3, env = "prod" } }]
"#,
    )
    .unwrap();
    let out = logferry_test(&conf, &[&tests]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("t.toml: wrong ... FAILED"), "{stdout}");
    assert!(stdout.contains("t.toml: right ... ok"), "{stdout}");
    assert!(
        stdout.contains("at app_out, stdout of <match app.**> in <label @APP>"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            r#"  {"tag":"app.x","time":"2024-01-01T00:00:00Z","record":{"n":1,"env":"prod"}}"#
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"- {"tag":"app.x","record":{"n":2,"env":"dev"}}"#),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            r#"+ {"tag":"app.x","time":"2024-01-01T00:00:00Z","record":{"n":2,"env":"prod"}}"#
        ),
        "{stdout}"
    );
    assert!(stdout.contains("1 passed, 1 failed"), "{stdout}");
}

/// Invalid input exits 2 with the reason: a config error with its position, an unknown key in a
/// test file, an output name that names nothing (listing the outputs there are).
#[test]
fn invalid_configs_and_test_files_exit_2_or_fail_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.conf");
    std::fs::write(&bad, "<match **>\n  @type nope\n</match>\n").unwrap();
    let good = repo_root().join("conf/dev.conf");
    let t = dir.path().join("t.toml");
    std::fs::write(&t, "[[tests]]\nname = \"x\"\n[[tests.inputs]]\ntag = \"a\"\nrecord = {}\n[[tests.outputs]]\nmatch = \"**\"\nevents = []\n").unwrap();
    let out = logferry_test(&bad, &[&t]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("bad.conf:2:3"),
        "{}",
        text(&out.stderr)
    );

    let typo = dir.path().join("typo.yaml");
    std::fs::write(&typo, "tests:\n  - name: x\n    input: []\n").unwrap();
    let out = logferry_test(&good, &[&typo]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("unknown key 'input'"),
        "{}",
        text(&out.stderr)
    );

    let nowhere = dir.path().join("nowhere.toml");
    std::fs::write(&nowhere, "[[tests]]\nname = \"x\"\n[[tests.inputs]]\ntag = \"a\"\nrecord = {}\n[[tests.outputs]]\nmatch = \"out_missing\"\nevents = []\n").unwrap();
    let out = logferry_test(&good, &[&nowhere]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout)
            .contains("no output is named 'out_missing'; the outputs: stdout of <match **>"),
        "{}",
        text(&out.stdout)
    );
}

/// A test run delivers nothing: the forward output's server sees no connection, the file
/// output writes no file, the HTTP output's server no request, and no source binds its port.
#[test]
fn a_test_run_sends_nothing_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let forward = TcpListener::bind("127.0.0.1:0").unwrap();
    let http = TcpListener::bind("127.0.0.1:0").unwrap();
    forward.set_nonblocking(true).unwrap();
    http.set_nonblocking(true).unwrap();
    // A port the source would bind: kept taken, so a bind would fail the run.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let conf = dir.path().join("f.conf");
    let out_dir = dir.path().join("out");
    std::fs::write(
        &conf,
        format!(
            "<source>\n  @type forward\n  bind 127.0.0.1\n  port {}\n</source>\n<match **>\n  @type copy\n  <store>\n    @type forward\n    @id fwd\n    <server>\n      host 127.0.0.1\n      port {}\n    </server>\n    <buffer>\n      flush_mode immediate\n    </buffer>\n  </store>\n  <store>\n    @type file\n    @id files\n    path {}/x\n    <buffer>\n      flush_mode immediate\n    </buffer>\n  </store>\n  <store>\n    @type http\n    @id web\n    endpoint http://127.0.0.1:{}/in\n    <buffer>\n      flush_mode immediate\n    </buffer>\n  </store>\n</match>\n",
            taken.local_addr().unwrap().port(),
            forward.local_addr().unwrap().port(),
            out_dir.display(),
            http.local_addr().unwrap().port(),
        ),
    )
    .unwrap();
    let t = dir.path().join("t.toml");
    std::fs::write(
        &t,
        "[[tests]]\nname = \"copy\"\n[[tests.inputs]]\ntag = \"a\"\nrecord = { k = 1 }\n[[tests.outputs]]\nmatch = \"fwd\"\nevents = [{ record = { k = 1 } }]\n[[tests.outputs]]\nmatch = \"files\"\nevents = [{ record = { k = 1 } }]\n[[tests.outputs]]\nmatch = \"web\"\nevents = [{ record = { k = 1 } }]\n",
    )
    .unwrap();
    let out = logferry_test(&conf, &[&t]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    // The run is over: anything it sent would be in the accept queues now.
    assert!(forward.accept().is_err(), "the forward output connected");
    assert!(http.accept().is_err(), "the http output connected");
    assert!(!out_dir.exists(), "the file output wrote");
}

/// A roundrobin's stores are captured and the roundrobin runs for real: each input (one emit)
/// goes to the next store in turn, as in the daemon.
#[test]
fn roundrobin_stores_take_turns_in_a_test_run() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("f.conf");
    std::fs::write(
        &conf,
        "<match **>\n  @type roundrobin\n  <store>\n    @type stdout\n    @id first\n  </store>\n  <store>\n    @type null\n    @id second\n  </store>\n</match>\n",
    )
    .unwrap();
    let t = dir.path().join("t.toml");
    let input = |k: u32| format!("[[tests.inputs]]\ntag = \"a\"\nrecord = {{ k = {k} }}\n");
    std::fs::write(
        &t,
        format!(
            "[[tests]]\nname = \"in turn\"\n{}{}{}[[tests.outputs]]\nmatch = \"first\"\nevents = [{{ record = {{ k = 1 }} }}, {{ record = {{ k = 3 }} }}]\n[[tests.outputs]]\nmatch = \"second\"\nevents = [{{ record = {{ k = 2 }} }}]\n",
            input(1),
            input(2),
            input(3)
        ),
    )
    .unwrap();
    let out = logferry_test(&conf, &[&t]);
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// `logferry graph` draws the routing example: sources, labels, the rewrite_tag_filter edges
/// with their tags, copy's stores, relabel, and @ERROR's dashed edges; in DOT and in Mermaid.
#[test]
fn graph_draws_dot_and_mermaid() {
    let conf = repo_root().join("conf/tests/routing.conf");
    let run = |format: &str| {
        let out = Command::new(bin())
            .args(["graph", "--format", format])
            .arg(&conf)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let dot = run("dot");
    assert!(dot.starts_with("digraph logferry {"), "{dot}");
    for needle in [
        "subgraph cluster_1 {\n    label=\"@METRICS\";",
        "label=\"match docker.**\\nrewrite_tag_filter · route_docker\"",
        "label=\"web.$1, alert.${tag_parts[1]}, app.${tag_parts[1]}\"",
        "label=\"relabel\"",
        "style=dashed, color=red, label=\"errors\"",
        "label=\"forward · in_docker\\n0.0.0.0:24224\"",
    ] {
        assert!(dot.contains(needle), "{needle} not in\n{dot}");
    }
    let mm = run("mermaid");
    assert!(mm.starts_with("flowchart LR\n"), "{mm}");
    for needle in [
        "subgraph c2 [\"@ERROR\"]",
        "[[\"store<br/>s3 · nginx_s3\"]]",
        "-.->|\"errors\"|",
        "-.->|\"other tags\"|",
    ] {
        assert!(mm.contains(needle), "{needle} not in\n{mm}");
    }
    // The README shows each conf/ config's graph as the command prints it now.
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    for c in [
        "conf/dev.conf",
        "conf/sidecar.conf",
        "conf/aggregator.conf",
        "conf/tests/routing.conf",
    ] {
        let out = Command::new(bin())
            .args(["graph", "--format", "mermaid"])
            .arg(repo_root().join(c))
            .output()
            .unwrap();
        let block = format!("```mermaid\n{}```", text(&out.stdout));
        assert!(
            readme.contains(&block),
            "README.md lacks the graph of {c}:\n{block}"
        );
    }
    // A config that does not build gets no graph.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.conf");
    std::fs::write(&bad, "<match **>\n  @type nope\n</match>\n").unwrap();
    let out = Command::new(bin()).arg("graph").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("bad.conf:2:3"),
        "{}",
        text(&out.stderr)
    );
}
