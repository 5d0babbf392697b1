//! Fluentd's own command line (`fluentd -c … -o … -d … -p … -i …`) runs logferry unchanged:
//! fluent-package's systemd unit (`--log FILE --daemon PIDFILE`, rotated by logrotate and
//! SIGUSR1), the fluent/fluentd images' entrypoint (`-p /fluentd/plugins`), and refusals that
//! say what to do instead.

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::*;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Wait until `cond` holds (polled), failing with `what` after 20 s.
fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Send one event with an ack requested and wait for the ack: the daemon has routed it.
fn send_acked(port: u16, tag: &str, key: &str) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    // ["tag", 1700000000, {"k": key}, {"chunk": "c1"}]
    let mut frame = vec![0x94, 0xa0 | tag.len() as u8];
    frame.extend_from_slice(tag.as_bytes());
    frame.extend_from_slice(&[0xce, 0x65, 0x53, 0xf1, 0x00, 0x81, 0xa1, b'k']);
    frame.push(0xa0 | key.len() as u8);
    frame.extend_from_slice(key.as_bytes());
    frame.extend_from_slice(&[0x81, 0xa5]);
    frame.extend_from_slice(b"chunk");
    frame.extend_from_slice(&[0xa2, b'c', b'1']);
    s.write_all(&frame).unwrap();
    let reply = read_msgpack(&mut s);
    assert!(
        reply.windows(3).any(|w| w == [0xa2, b'c', b'1']),
        "{reply:02x?}"
    );
}

fn alive(pid: i32) -> bool {
    // SAFETY: kill with signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// Kills the daemon if the test ends early (a failed assertion), so it does not outlive it.
struct KillOnDrop(i32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        // SAFETY: a signal to the daemon this test started (harmless if it is gone).
        unsafe { libc::kill(self.0, libc::SIGKILL) };
    }
}

/// fluent-package's unit: `fluentd --log FILE --daemon PIDFILE`; logrotate moves the log and
/// sends SIGUSR1, which reopens it; stdout events land in the log, as Fluentd's stdout output
/// writes to its log; SIGTERM stops it and the pid file goes.
#[test]
fn daemon_with_log_file_reopened_on_sigusr1() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = dir.path().join("fluent.conf");
    std::fs::write(
        &conf,
        format!("<source>\n  @type forward\n  bind 127.0.0.1\n  port {port}\n</source>\n"),
    )
    .unwrap();
    let log = dir.path().join("fluentd.log");
    let pid_file = dir.path().join("fluentd.pid");
    let started = Instant::now();
    let out = Command::new(bin())
        .arg("-c")
        .arg(&conf)
        .arg("--log")
        .arg(&log)
        .arg("--daemon")
        .arg(&pid_file)
        .args(["-i", r"<match **>\n  @type stdout\n</match>"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(started.elapsed() < Duration::from_secs(20));
    // The parent returned once the daemon listened: its pid file is there already.
    let pid: i32 = read(&pid_file).trim().parse().unwrap();
    let _guard = KillOnDrop(pid);
    assert!(alive(pid));
    assert!(read(&log).contains("logferry started"), "{}", read(&log));

    send_acked(port, "app.first", "one");
    wait_until("the first event in the log", || {
        read(&log).contains("app.first: {\"k\":\"one\"}")
    });
    let rotated = dir.path().join("fluentd.log.1");
    std::fs::rename(&log, &rotated).unwrap();
    // SAFETY: a signal to the daemon started above.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGUSR1) }, 0);
    wait_until("the log reopened", || {
        read(&log).contains("received SIGUSR1")
    });
    send_acked(port, "app.second", "two");
    wait_until("the second event in the new log", || {
        read(&log).contains("app.second: {\"k\":\"two\"}")
    });
    assert!(!read(&rotated).contains("app.second"));
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    // (Not `kill(pid, 0)`: the daemon, reparented, may stay a zombie where nothing reaps it.)
    wait_until("the daemon stopped", || {
        read(&log).contains("logferry stopped") && !pid_file.exists()
    });
}

/// A daemon that cannot start (its port taken) makes the command fail, not succeed blindly.
#[test]
fn daemon_that_cannot_start_fails_the_command() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("fluent.conf");
    std::fs::write(
        &conf,
        format!("<source>\n  @type forward\n  bind 127.0.0.1\n  port {port}\n</source>\n<match **>\n  @type null\n</match>\n"),
    )
    .unwrap();
    let log = dir.path().join("log");
    let out = Command::new(bin())
        .arg("-c")
        .arg(&conf)
        .arg("-o")
        .arg(&log)
        .arg("-d")
        .arg(dir.path().join("pid"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("did not start"));
    assert!(
        read(&log).contains("Address already in use"),
        "{}",
        read(&log)
    );
}

/// The fluent/fluentd images' entrypoint, `-p /fluentd/plugins` (and the Kubernetes daemonset's
/// `--gemfile`): accepted; Ruby files there are named in a warning; `-i` text is part of the
/// config; `<system>` options on the command line override the file's.
#[test]
fn image_entrypoint_options() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("plugins");
    std::fs::create_dir(&empty).unwrap();
    let ruby = dir.path().join("custom");
    std::fs::create_dir(&ruby).unwrap();
    std::fs::write(ruby.join("out_custom.rb"), "# a Ruby plugin").unwrap();
    let (out, _d) = run_once(
        "<system>\n  workers 1\n</system>\n<source>\n  @type forward\n  port {PORT}\n</source>\n<worker 1>\n  <source>\n    @type sample\n    tag s\n  </source>\n</worker>\n",
        &[
            "-p",
            empty.to_str().unwrap(),
            "-p",
            ruby.to_str().unwrap(),
            "--gemfile",
            "/fluentd/Gemfile",
            "--workers",
            "2",
            "--suppress-config-dump",
            "--use-v1-config",
            "-i",
            r"<match **>\n  @type null\n</match>",
            "--dry-run",
        ],
    );
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("out_custom.rb not loaded"), "{err}");
    assert!(err.contains("--gemfile"), "{err}");
    // The empty plugin directory needs no word.
    assert!(!err.contains(&format!("-p {}:", empty.display())), "{err}");
    let printed = text(&out.stdout);
    assert!(printed.contains("@type null"), "{printed}");
    // Without --workers 2, `<worker 1>` names a worker that does not exist (as in Fluentd).
    let (out, _d) = run_once(
        "<system>\n  workers 1\n</system>\n<worker 1>\n  <source>\n    @type sample\n    tag s\n  </source>\n</worker>\n",
        &["--dry-run"],
    );
    assert!(!out.status.success());
}

/// What logferry cannot honour is refused, saying what to do instead.
#[test]
fn unsupported_options_are_refused_with_the_alternative() {
    let conf = "<source>\n  @type forward\n  port {PORT}\n</source>\n";
    for (args, needle) in [
        (&["--user", "fluent"][..], "systemd User="),
        (&["--log-rotate-age", "5"][..], "logrotate"),
        (&["--use-v0-config"][..], "v1 config syntax"),
        (&["--config-file-type", "yaml"][..], "v1 syntax"),
        (&["--conf-encoding", "Shift_JIS"][..], "iconv"),
        (&["--setup"][..], "docker/fluent.conf"),
        (
            &["--no-supervisor", "--workers", "2"][..],
            "multi workers is not supported with --no-supervisor",
        ),
        (&["--umask", "9"][..], "octal"),
    ] {
        let (out, _d) = run_once(conf, args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // <system> <log> rotation applies to the -o file in Fluentd: refused with -o, as the flags.
    let rotating = "<system>\n  <log>\n    rotate_age 5\n  </log>\n</system>\n<source>\n  @type forward\n  port {PORT}\n</source>\n";
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let (out, _d) = run_once(rotating, &["-o", log.to_str().unwrap(), "--dry-run"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        read(&log).contains("rotate_age with -o is not supported"),
        "{}",
        read(&log)
    );
    let (out, _d) = run_once(rotating, &["--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (out, _d) = run_once(conf, &["--no-supervisor", "--umask", "022", "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// Without `-c`, Fluentd reads `$FLUENT_CONF` (fluent-package's unit sets it); the images'
/// `$FLUENTD_CONF` wins over it, as their entrypoint turns it into `-c`.
#[test]
fn fluent_conf_names_the_default_config() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("fluentd.conf");
    std::fs::write(&good, "<match **>\n  @type null\n</match>\n").unwrap();
    let bad = dir.path().join("bad.conf");
    std::fs::write(&bad, "<match **>\n  @type nonesuch\n</match>\n").unwrap();
    let run = |env: &[(&str, &Path)]| {
        let mut c = Command::new(bin());
        c.arg("--dry-run")
            .env_remove("FLUENTD_CONF")
            .env_remove("FLUENT_CONF");
        for (k, v) in env {
            c.env(k, v);
        }
        c.stdin(Stdio::null()).output().unwrap()
    };
    let out = run(&[("FLUENT_CONF", &good)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&[("FLUENT_CONF", &bad)]);
    assert!(
        text(&out.stderr).contains("nonesuch"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&[("FLUENT_CONF", &bad), ("FLUENTD_CONF", &good)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}
