//! The `exec` input run for real: a command on a `run_interval`, a run still going when the next
//! is due, and a long-running command at shutdown (Fluentd's behaviours the differential cases,
//! which run each command once, cannot show). The parsing of a command's output is compared with
//! Fluentd's in the differential suite (`exec-*` cases).

mod support;

use std::time::Duration;

use support::*;

const SRC: &str = "<source>\n  @type forward\n  bind 127.0.0.1\n  port {PORT}\n</source>\n";

fn file_out(tag: &str) -> String {
    format!(
        "<match {tag}>\n  @type file\n  path {{DIR}}/{tag}\n  append true\n  <format>\n    @type json\n  </format>\n  <buffer []>\n    @type memory\n    flush_mode immediate\n  </buffer>\n</match>\n"
    )
}

/// With `run_interval`, the command runs again and again, each run's output parsed.
#[test]
fn runs_the_command_every_interval() {
    let conf = format!(
        "{SRC}<source>\n  @type exec\n  command printf 'tick\\ttock\\n'\n  tag t\n  run_interval 0.2\n  <parse>\n    keys a,b\n  </parse>\n</source>\n{}",
        file_out("t")
    );
    let mut d = Daemon::start(&conf);
    let text = d.wait_file_text(&d.path("t.log"), Duration::from_secs(30), |t| {
        t.lines().count() >= 3
    });
    for line in text.lines() {
        assert_eq!(line, r#"{"a":"tick","b":"tock"}"#);
    }
    assert!(d.terminate().success());
}

/// A run still going when the next is due: that run is skipped, with Fluentd's warning.
#[test]
fn a_run_still_going_skips_the_next() {
    let conf = format!(
        "{SRC}<source>\n  @type exec\n  command printf 'one\\n'; sleep 1\n  tag t\n  run_interval 0.1\n  <parse>\n    @type none\n  </parse>\n</source>\n{}",
        file_out("t")
    );
    let mut d = Daemon::start(&conf);
    d.wait_for_log(
        "previous child process is still running. skipped.",
        Duration::from_secs(30),
    );
    d.wait_file_text(&d.path("t.log"), Duration::from_secs(30), |t| {
        t.contains(r#"{"message":"one"}"#)
    });
    assert!(d.terminate().success());
}

/// A command that keeps running: what it wrote is delivered as it comes, and at shutdown it
/// gets SIGTERM, so the daemon stops without waiting for it (and its last words are read).
#[test]
fn a_long_running_command_is_stopped_at_shutdown() {
    let conf = format!(
        "{SRC}<source>\n  @type exec\n  command trap 'printf \"bye\\n\"; exit 0' TERM; printf 'hello\\n'; while :; do sleep 0.05; done\n  tag t\n  <parse>\n    @type none\n  </parse>\n</source>\n{}",
        file_out("t")
    );
    let mut d = Daemon::start(&conf);
    d.wait_file_text(&d.path("t.log"), Duration::from_secs(30), |t| {
        t.contains(r#"{"message":"hello"}"#)
    });
    assert!(d.terminate().success());
    let text = std::fs::read_to_string(d.path("t.log")).unwrap();
    assert_eq!(
        text,
        "{\"message\":\"hello\"}\n{\"message\":\"bye\"}\n",
        "{}",
        d.stderr()
    );
}

/// A command that fails is logged with its exit status; what it wrote before is kept.
#[test]
fn a_failing_command_is_logged() {
    let conf = format!(
        "{SRC}<source>\n  @type exec\n  command printf 'kept\\n'; exit 7\n  tag t\n  <parse>\n    @type none\n  </parse>\n</source>\n{}",
        file_out("t")
    );
    let mut d = Daemon::start(&conf);
    d.wait_for_log("exited with exit status: 7", Duration::from_secs(30));
    d.wait_file_text(&d.path("t.log"), Duration::from_secs(30), |t| {
        t == "{\"message\":\"kept\"}\n"
    });
    assert!(d.terminate().success());
}

/// The exec output: a command that fails is retried (the chunk kept) until it succeeds, and
/// the chunk file it is given holds the formatted records.
#[test]
fn the_exec_output_retries_a_failing_command() {
    let conf = format!(
        "{SRC}<source>\n  @type exec\n  command printf 'a\\tb\\n'\n  tag t\n  <parse>\n    keys k1,k2\n  </parse>\n</source>\n<match t>\n  @type exec\n  command test -e {{DIR}}/go && cat >> {{DIR}}/out.log\n  <format>\n    keys k2,k1\n  </format>\n  <buffer>\n    flush_mode immediate\n    retry_wait 0.1\n    retry_max_interval 0.2\n  </buffer>\n</match>\n"
    );
    let mut d = Daemon::start(&conf);
    d.wait_for_log("command exits with error code", Duration::from_secs(30));
    std::fs::write(d.path("go"), "").unwrap();
    d.wait_file_text(&d.path("out.log"), Duration::from_secs(30), |t| {
        t == "b\ta\n"
    });
    assert!(d.terminate().success());
}

/// A command that runs past `command_timeout` is killed and the write retried, until a run
/// ends in time (3 s: ample for `test` and `cat` on a loaded machine, so the run that appends is
/// never killed and retried, which would append twice).
#[test]
fn the_exec_output_kills_a_command_past_its_timeout() {
    let conf = format!(
        "{SRC}<source>\n  @type exec\n  command printf 'a\\n'\n  tag t\n  <parse>\n    @type none\n  </parse>\n</source>\n<match t>\n  @type exec\n  command test -e {{DIR}}/go || sleep 30; cat >> {{DIR}}/out.log\n  command_timeout 3\n  <format>\n    @type json\n  </format>\n  <buffer>\n    flush_mode immediate\n    retry_wait 0.1\n  </buffer>\n</match>\n"
    );
    let mut d = Daemon::start(&conf);
    d.wait_for_log("ran past command_timeout", Duration::from_secs(30));
    assert!(!d.path("out.log").exists());
    std::fs::write(d.path("go"), "").unwrap();
    d.wait_file_text(&d.path("out.log"), Duration::from_secs(30), |t| {
        t == "{\"message\":\"a\"}\n"
    });
    assert!(d.terminate().success());
}

/// A line longer than 16 MiB is skipped with a warning (as in_tail skips one) and the lines
/// after it are read.
#[test]
fn a_line_past_the_limit_is_skipped() {
    let conf = format!(
        "{SRC}<source>\n  @type exec\n  command head -c 17000000 /dev/zero | tr '\\\\0' a; echo; echo end\n  tag t\n  <parse>\n    @type none\n  </parse>\n</source>\n{}",
        file_out("t")
    );
    let mut d = Daemon::start(&conf);
    d.wait_file_text(&d.path("t.log"), Duration::from_secs(60), |t| {
        t.contains(r#"{"message":"end"}"#)
    });
    assert!(d.terminate().success());
    let text = std::fs::read_to_string(d.path("t.log")).unwrap();
    assert_eq!(text, "{\"message\":\"end\"}\n");
    assert!(
        d.stderr().contains("longer than 16777216 bytes: skipped"),
        "{}",
        d.stderr()
    );
}
