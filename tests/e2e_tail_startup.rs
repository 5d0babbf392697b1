//! The tail input's `ignore_repeated_permission_error` and `skip_refresh_on_startup`, as
//! Fluentd 1.16.11 behaved on the same files (recorded below). Files a daemon cannot read need a
//! daemon without root's privilege to read any file: when the tests run as root, it runs through
//! util-linux `setpriv` without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (still root, so it
//! reaches the binary and its scratch directory wherever they are; Fluentd's comparison ran as
//! `nobody`, which reads the same files).

mod support;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use support::tail::out_lines;
use support::*;

const WAIT: Duration = Duration::from_secs(30);

/// The command that runs the daemon without the privilege to read any file (none when the
/// tests are not root).
fn unprivileged() -> Vec<&'static str> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        vec![
            "setpriv",
            "--bounding-set=-dac_override,-dac_read_search",
            "--inh-caps=-dac_override,-dac_read_search",
        ]
    } else {
        Vec::new()
    }
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn append(p: &Path, text: &str) {
    let mut f = std::fs::OpenOptions::new().append(true).open(p).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

/// The `message` of every record under `{DIR}/out`, in file order.
fn messages(d: &Daemon) -> Vec<String> {
    out_lines(d)
        .iter()
        .filter_map(|l| {
            l.strip_prefix("{\"message\":\"")
                .and_then(|l| l.strip_suffix("\"}"))
                .map(str::to_string)
        })
        .collect()
}

fn wait_messages(d: &Daemon, done: impl Fn(&[String]) -> bool) -> Vec<String> {
    let start = Instant::now();
    loop {
        let m = messages(d);
        if done(&m) {
            return m;
        }
        assert!(start.elapsed() < WAIT, "got {m:?}; stderr:\n{}", d.stderr());
        thread::sleep(Duration::from_millis(20));
    }
}

fn wait_count(d: &Daemon, needle: &str, n: usize) {
    let start = Instant::now();
    while d.stderr().matches(needle).count() < n {
        assert!(
            start.elapsed() < WAIT,
            "{needle:?} not {n} times; stderr:\n{}",
            d.stderr()
        );
        thread::sleep(Duration::from_millis(20));
    }
}

fn source(path: &str, tag: &str, params: &str) -> String {
    format!(
        "<source>\n  @type tail\n  path {{DIR}}/in/{path}\n  pos_file {{DIR}}/{tag}.pos\n  tag {tag}\n{params}  <parse>\n    @type none\n  </parse>\n</source>\n"
    )
}

const OUT: &str = "<match **>\n  @type file\n  path {DIR}/out/all\n  append true\n  <format>\n    @type json\n  </format>\n</match>\n";

/// Recorded from Fluentd 1.16.11 run as `nobody` on `path in/*.log` (`refresh_interval 1`,
/// `read_from_head true`) with `in/secret.log` at mode 000, and `path in/static.txt` at mode 000:
/// - with `ignore_repeated_permission_error true`, "/…/in/secret.log unreadable. It is excluded
///   and would be examined next time." is logged once; with `false`, at every refresh;
/// - the static path logs "Permission denied" at every look, whatever the parameter;
/// - once both are made readable, they are read from their head (secret1, secret2; static1,
///   static2): the glob's file is new to a refresh after the start, the static one was never
///   read.
#[test]
fn an_unreadable_file_is_warned_about_once_or_at_every_refresh_and_read_once_readable() {
    for ignore in [true, false] {
        let params = format!(
            "  refresh_interval 1\n  read_from_head true\n  ignore_repeated_permission_error {ignore}\n"
        );
        let conf = source("*.log", "g", &params) + &source("static.txt", "s", &params) + OUT;
        let d = Daemon::start_wrapped(&conf, &[], &[], &unprivileged(), &|dir| {
            std::fs::create_dir_all(dir.join("in")).unwrap();
            std::fs::write(dir.join("in/ok.log"), "ok1\n").unwrap();
            std::fs::write(dir.join("in/secret.log"), "secret1\n").unwrap();
            std::fs::write(dir.join("in/static.txt"), "static1\n").unwrap();
            chmod(&dir.join("in/secret.log"), 0o000);
            chmod(&dir.join("in/static.txt"), 0o000);
        });
        let dir = d.path("in");
        d.wait_for_log(&format!("following tail of {}/ok.log", dir.display()), WAIT);
        // Two refreshes after the first warning: each one takes up a file created before it.
        for n in ["new1", "new2"] {
            std::fs::write(dir.join(format!("{n}.log")), format!("{n}\n")).unwrap();
            d.wait_for_log(
                &format!("following tail of {}/{n}.log", dir.display()),
                WAIT,
            );
        }
        let warned = format!(
            "{}/secret.log unreadable. It is excluded and would be examined next time.",
            dir.display()
        );
        let count = d.stderr().matches(&warned).count();
        if ignore {
            assert_eq!(count, 1, "ignore {ignore}: {}", d.stderr());
        } else {
            assert!(count >= 3, "ignore {ignore}: {}", d.stderr());
        }
        // The static path is warned about at each look either way.
        let denied = format!("{}/static.txt: Permission denied", dir.display());
        wait_count(&d, &denied, 2);
        assert!(messages(&d)
            .iter()
            .all(|m| !m.contains("secret") && !m.contains("static")));
        // Readable now: both are read from their head, and what comes next too.
        chmod(&dir.join("secret.log"), 0o644);
        chmod(&dir.join("static.txt"), 0o644);
        append(&dir.join("secret.log"), "secret2\n");
        append(&dir.join("static.txt"), "static2\n");
        let got = wait_messages(&d, |m| m.len() >= 7);
        let mut got: Vec<&str> = got.iter().map(String::as_str).collect();
        got.sort();
        assert_eq!(
            got,
            ["new1", "new2", "ok1", "secret1", "secret2", "static1", "static2"],
            "ignore {ignore}"
        );
        let count = d.stderr().matches(&warned).count();
        if ignore {
            assert_eq!(count, 1, "ignore {ignore}: {}", d.stderr());
        }
    }
}

/// Recorded from Fluentd 1.16.11 with `skip_refresh_on_startup true` and `refresh_interval 4`
/// on a file holding "old": nothing is followed at the start; the first refresh, 4 seconds
/// later, follows the file from its end (the start's rule: not `read_from_head`), so "early",
/// written between the start and that refresh, is not read, and "late", written after, is.
#[test]
fn skip_refresh_on_startup_leaves_the_files_to_the_first_refresh() {
    // A refresh an hour away: the file is not followed while the test runs, while another
    // source without the parameter follows its file from the start.
    let conf = source(
        "a.log",
        "a",
        "  skip_refresh_on_startup true\n  refresh_interval 3600\n",
    ) + &source("b.log", "b", "")
        + OUT;
    let mut d = Daemon::start_prepared(&conf, &[], &[], &|dir| {
        std::fs::create_dir_all(dir.join("in")).unwrap();
        std::fs::write(dir.join("in/a.log"), "a-old\n").unwrap();
        std::fs::write(dir.join("in/b.log"), "b-old\n").unwrap();
    });
    let dir = d.path("in");
    d.wait_for_log(&format!("following tail of {}/b.log", dir.display()), WAIT);
    append(&dir.join("a.log"), "a-new\n");
    append(&dir.join("b.log"), "b-new\n");
    wait_messages(&d, |m| !m.is_empty());
    assert!(d.terminate().success());
    assert_eq!(messages(&d), ["b-new"]);
    assert!(
        !d.stderr()
            .contains(&format!("following tail of {}/a.log", dir.display())),
        "{}",
        d.stderr()
    );

    // The first refresh takes the file up from its end.
    let conf = source(
        "a.log",
        "a",
        "  skip_refresh_on_startup true\n  refresh_interval 1\n",
    ) + OUT;
    let d = Daemon::start_prepared(&conf, &[], &[], &|dir| {
        std::fs::create_dir_all(dir.join("in")).unwrap();
        std::fs::write(dir.join("in/a.log"), "old\n").unwrap();
    });
    let dir = d.path("in");
    d.wait_for_log(&format!("following tail of {}/a.log", dir.display()), WAIT);
    append(&dir.join("a.log"), "late\n");
    assert_eq!(wait_messages(&d, |m| !m.is_empty()), ["late"]);
}
