//! The differential suite: every case under `tests/differential/cases` was recorded from Fluentd
//! 1.16.11 itself (`tests/differential/record.sh`); here logferry runs each case and must write the
//! same. A case with a `DIFFERS` file is a known, deliberate difference (listed in README's
//! "Differences from Fluentd"): logferry must then write exactly its `logferry.expected`, and still
//! differ from Fluentd, so that a change either way is noticed.
//!
//! Each case is a `fluent.conf` (`{PORT}`, `{DIR}`, and `{PORT2}` to `{PORT4}` for further inputs),
//! an `input` (forward frames and lines for other inputs, sent by `tests/differential/send.py`,
//! the same script the recorder uses) and `expected` (what send.py
//! reported, then `tests/differential/collect.py` over the files written under `{DIR}/out`). A
//! case without `input` is a config check: `--dry-run` must succeed or fail as Fluentd's did; a
//! case whose `expected` is `start: error` (Fluentd refused to start) must fail `--dry-run`.
//!
//! A case whose config names `{AWS}` runs beside a local AWS (`tests/differential/aws.py`, moto:
//! S3, CloudWatch Logs, Kinesis, Firehose) whose endpoint replaces it, and one naming `{HTTP}` or
//! `{FWDPORT}` beside receivers (`tests/differential/sink.py`) for out_http and out_forward;
//! collect.py then lists what the daemon wrote there.
//!
//! A case with a `files/` directory (in_tail cases: files that exist before the daemon starts) has
//! its content copied into `{DIR}` before the start; send.py's `file` lines write files under
//! `{DIR}` (given to it as `DIFF_DIR`) while the daemon runs.
//!
//! A case with a `YEAR` file has `{YEAR}` in its `expected` for the year Fluentd ran in (record.sh
//! writes it so).
//!
//! `DIFF_CASES=prefix,...` runs only the cases whose names start with one of the prefixes;
//! `DIFF_JOBS=N` runs N at a time (default 4); `DIFF_BLESS=1` writes `logferry.expected` of the
//! `DIFFERS` cases from what logferry writes now.

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use support::*;

/// A case with a `YEAR` file has `{YEAR}` where Fluentd wrote the year it ran in (RFC 3164 syslog
/// times have none: the parser takes the current one): the current year is put back.
fn this_year(case: &Path, expected: Vec<u8>) -> Vec<u8> {
    if !case.join("YEAR").exists() {
        return expected;
    }
    let year = chrono::Utc::now().format("%Y").to_string();
    // Byte by byte: an expected output may hold bytes that are not UTF-8.
    let mut out = Vec::with_capacity(expected.len());
    let mut rest = &expected[..];
    while let Some(i) = rest.windows(6).position(|w| w == b"{YEAR}") {
        out.extend_from_slice(&rest[..i]);
        out.extend_from_slice(year.as_bytes());
        rest = &rest[i + 6..];
    }
    out.extend_from_slice(rest);
    out
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".into())
}

fn script(name: &str) -> PathBuf {
    repo_root().join("tests/differential").join(name)
}

/// A process a case runs beside (`tests/differential/aws.py` for `{AWS}`, `sink.py` for
/// `{HTTP}` / `{FWDPORT}`), killed on drop. Its directory holds the file it writes its
/// addresses to once it listens, which collect.py reads too.
struct Beside {
    child: Child,
    dir: tempfile::TempDir,
    file: &'static str,
    lines: Vec<String>,
}

impl Beside {
    fn start(script_name: &str, file: &'static str) -> Beside {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(python())
            .arg(script(script_name))
            .arg("serve")
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("run {script_name}: {e}"));
        let path = dir.path().join(file);
        let deadline = Instant::now() + Duration::from_secs(60);
        let lines = loop {
            if let Ok(e) = std::fs::read_to_string(&path) {
                break e.lines().map(str::to_string).collect();
            }
            if let Ok(Some(st)) = child.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    let _ = e.read_to_string(&mut err);
                }
                panic!("{script_name} exited with {st} (is moto installed? .ci/install-deps.sh):\n{err}");
            }
            assert!(
                Instant::now() < deadline,
                "{script_name} did not start within 60 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        Beside {
            child,
            dir,
            file,
            lines,
        }
    }

    /// Hand what it wrote to the daemon's directory, where collect.py looks: a copy of its
    /// address file and, for sink.py, a link to the `sink/` directory it records into (so that
    /// collect.py sees what is still being written).
    fn hand_over(&self, to: &Path) {
        std::fs::copy(self.dir.path().join(self.file), to.join(self.file)).unwrap();
        let sink = self.dir.path().join("sink");
        if sink.exists() {
            std::os::unix::fs::symlink(&sink, to.join("sink")).unwrap();
        }
    }
}

impl Drop for Beside {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Copy the files and directories under `from` (if it exists) into `to`.
fn copy_tree(from: &Path, to: &Path) {
    let Ok(entries) = std::fs::read_dir(from) else {
        return;
    };
    for e in entries {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// What logferry did on one case, in the form of `expected`, and the warnings and errors it
/// logged (shown when the case fails).
fn run_case(case: &Path) -> (Vec<u8>, String) {
    let conf = std::fs::read_to_string(case.join("fluent.conf")).unwrap();
    let aws = conf
        .contains("{AWS}")
        .then(|| Beside::start("aws.py", "aws-endpoint"));
    let sink = (conf.contains("{HTTP}") || conf.contains("{FWDPORT}"))
        .then(|| Beside::start("sink.py", "sink-endpoints"));
    let mut conf = conf;
    if let Some(a) = &aws {
        conf = conf.replace("{AWS}", &a.lines[0]);
    }
    if let Some(s) = &sink {
        let port = s.lines[1].rsplit(':').next().unwrap_or_default();
        conf = conf
            .replace("{HTTP}", &s.lines[0])
            .replace("{FWDPORT}", port);
    }
    // `{PORT}` is the daemon's own pick; the further ports are picked here (again when another
    // process took one before the daemon bound it: see `start_daemon`).
    let with_ports = |[p2, p3, p4]: [u16; 3]| {
        conf.replace("{PORT2}", &p2.to_string())
            .replace("{PORT3}", &p3.to_string())
            .replace("{PORT4}", &p4.to_string())
    };
    let input = case.join("input");
    let start_error = std::fs::read(case.join("expected")).is_ok_and(|e| e == b"start: error\n");
    if start_error {
        // Fluentd refused to start on this config: logferry must refuse it too.
        let (out, _dir) = run_once(&with_ports(free_ports::<3>()), &["--dry-run"]);
        let text = if out.status.success() {
            b"start: ok\n".to_vec()
        } else {
            b"start: error\n".to_vec()
        };
        return (text, String::new());
    }
    if !input.exists() {
        let (out, _dir) = run_once(&with_ports(free_ports::<3>()), &["--dry-run"]);
        let text = if out.status.success() {
            b"dry-run: ok\n".to_vec()
        } else {
            b"dry-run: error\n".to_vec()
        };
        return (text, String::new());
    }
    // A case's `files/` (files that exist before the daemon starts, for in_tail) goes into `{DIR}`.
    let files = case.join("files");
    let prepare = |dir: &Path| {
        copy_tree(&files, dir);
        if files.is_dir() {
            // Pos files from an earlier run name `{DIR}` and the inodes of the copied files.
            let st = Command::new(python())
                .arg(script("prep_files.py"))
                .arg(dir)
                .status()
                .expect("run prep_files.py");
            assert!(st.success(), "prep_files.py failed");
        }
    };
    let (mut d, [port2, port3, port4]) = start_daemon(&with_ports, &prepare);
    std::fs::create_dir_all(d.path("out")).unwrap();
    let sent = Command::new(python())
        .env("DIFF_DIR", d.dir.path())
        .arg(script("send.py"))
        .arg(d.port.to_string())
        .arg(&input)
        .arg(port2.to_string())
        .arg(port3.to_string())
        .arg(port4.to_string())
        .output()
        .expect("run send.py");
    assert!(
        sent.status.success(),
        "send.py failed: {}",
        String::from_utf8_lossy(&sent.stderr)
    );
    let st = d.terminate();
    assert!(st.success(), "logferry exited with {st}:\n{}", d.stderr());
    for b in aws.iter().chain(sink.iter()) {
        b.hand_over(d.dir.path());
    }
    let collected = Command::new(python())
        .arg(script("collect.py"))
        .arg(d.dir.path())
        .output()
        .expect("run collect.py");
    assert!(
        collected.status.success(),
        "collect.py failed: {}",
        String::from_utf8_lossy(&collected.stderr)
    );
    let mut actual = sent.stdout;
    actual.extend_from_slice(&collected.stdout);
    (actual, warnings(&d.stderr()))
}

/// Start logferry on the config `with_ports` makes of three free ports (`{PORT2}` to `{PORT4}`).
/// Free when picked, such a port may be taken by another case's process before the daemon binds
/// it (the cases run in parallel): then the daemon exits with "Address already in use" and the
/// start is tried again with other ports (as [`Daemon`] does for `{PORT}`).
fn start_daemon(
    with_ports: &dyn Fn([u16; 3]) -> String,
    prepare: &dyn Fn(&Path),
) -> (Daemon, [u16; 3]) {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let ports = free_ports::<3>();
        let conf = with_ports(ports);
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Daemon::start_prepared(&conf, &[], &[], prepare)
        })) {
            Ok(d) => return (d, ports),
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| e.downcast_ref::<&str>().copied())
                    .unwrap_or_default();
                if attempt < 5 && msg.contains("Address already in use") {
                    continue;
                }
                std::panic::resume_unwind(e);
            }
        }
    }
}

/// The lines of a daemon's log at warn level or above (at most 40), for a failure's report.
fn warnings(log: &str) -> String {
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("[warn]") || l.contains("[error]") || l.contains("[fatal]"))
        .collect();
    let mut out = String::new();
    for l in lines.iter().take(40) {
        out += "  ";
        out += l;
        out += "\n";
    }
    if lines.len() > 40 {
        out += &format!("  … and {} more\n", lines.len() - 40);
    }
    out
}

/// The lines of a text, bytes that are not UTF-8 shown as `\xNN`.
fn lines(text: &[u8]) -> Vec<String> {
    text.split(|&b| b == b'\n')
        .map(|l| {
            let mut s = String::new();
            for chunk in l.utf8_chunks() {
                s.push_str(chunk.valid());
                for b in chunk.invalid() {
                    s.push_str(&format!("\\x{b:02X}"));
                }
            }
            s
        })
        .collect()
}

/// A line diff of two texts (longest common subsequence), `-` for expected, `+` for actual.
fn diff(expected: &[u8], actual: &[u8]) -> String {
    let e = lines(expected);
    let a = lines(actual);
    let (n, m) = (e.len(), a.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if e[i] == a[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    let clip = |s: &str| -> String {
        if s.len() > 300 {
            let mut k = 300;
            while !s.is_char_boundary(k) {
                k -= 1;
            }
            format!("{}… ({} bytes)", &s[..k], s.len())
        } else {
            s.to_string()
        }
    };
    while i < n || j < m {
        if i < n && j < m && e[i] == a[j] {
            out += &format!("   {}\n", clip(&e[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out += &format!("  +{}\n", clip(&a[j]));
            j += 1;
        } else {
            out += &format!("  -{}\n", clip(&e[i]));
            i += 1;
        }
    }
    out
}

/// The text of the README section "Differences from Fluentd".
fn readme_differences() -> String {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let start = readme
        .find("## Differences from Fluentd")
        .expect("README has a \"Differences from Fluentd\" section");
    let rest = &readme[start + 3..];
    let end = rest.find("\n## ").map_or(rest.len(), |i| i);
    rest[..end].to_string()
}

#[test]
fn differential_against_fluentd() {
    let root = repo_root().join("tests/differential/cases");
    let only: Vec<String> = std::env::var("DIFF_CASES")
        .map(|s| s.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("fluent.conf").exists())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            only.is_empty() || only.iter().any(|o| name.starts_with(o.as_str()))
        })
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no differential cases under {root:?}");
    let bless = std::env::var("DIFF_BLESS").is_ok_and(|v| v == "1");
    let differences = readme_differences();
    let jobs: usize = std::env::var("DIFF_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::<String>::new());
    let differing = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(case) = cases.get(i) else { break };
                let name = case.file_name().unwrap().to_string_lossy().into_owned();
                let fail = |msg: String| failures.lock().unwrap().push(format!("{name}: {msg}"));
                let Ok(expected) = std::fs::read(case.join("expected")) else {
                    fail("no `expected`: record it with tests/differential/record.sh".into());
                    continue;
                };
                let expected = this_year(case, expected);
                let (actual, log) = match std::panic::catch_unwind(|| run_case(case)) {
                    Ok(a) => a,
                    Err(e) => {
                        let msg = e
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default();
                        if msg.contains("logferry exited before it started") {
                            // A config logferry refuses where Fluentd runs: compared as such
                            // (the message goes with it when that is not what is expected).
                            if expected != b"start: error\n" && !case.join("DIFFERS").exists() {
                                fail(format!("logferry refused to start:\n{msg}"));
                                continue;
                            }
                            (b"start: error\n".to_vec(), String::new())
                        } else {
                            fail(format!("the run failed: {msg}"));
                            continue;
                        }
                    }
                };
                let differs = std::fs::read_to_string(case.join("DIFFERS")).ok();
                match differs {
                    None => {
                        if actual != expected {
                            fail(format!(
                                "differs from Fluentd (- Fluentd, + logferry):\n{}\nlogferry's warnings and errors:\n{log}",
                                diff(&expected, &actual)
                            ));
                        }
                    }
                    Some(reason) => {
                        differing.fetch_add(1, Ordering::SeqCst);
                        let reason = reason.trim();
                        if !differences.contains(reason) {
                            fail(format!(
                                "its DIFFERS reason {reason:?} is not in README's \"Differences from Fluentd\""
                            ));
                        }
                        if actual == expected {
                            fail("is marked DIFFERS but now matches Fluentd: delete its DIFFERS and logferry.expected".into());
                            continue;
                        }
                        let path = case.join("logferry.expected");
                        if bless {
                            std::fs::write(&path, &actual).unwrap();
                            continue;
                        }
                        let known = std::fs::read(&path).unwrap_or_default();
                        if actual != known {
                            fail(format!(
                                "is a known difference ({reason}) but differs otherwise now (- logferry.expected, + logferry):\n{}\nand from Fluentd (- Fluentd, + logferry):\n{}\nlogferry's warnings and errors:\n{log}",
                                diff(&known, &actual),
                                diff(&expected, &actual)
                            ));
                        }
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    eprintln!(
        "differential: {} cases, {} known differences, {} failed",
        cases.len(),
        differing.load(Ordering::SeqCst),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} differential cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// Writes `n` as README does: thousands separated by commas (`1,374`).
fn with_commas(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// README's "Differential tests against Fluentd" gives the number of cases and of known
/// differences: it must stay true as cases are added.
#[test]
fn readme_counts_the_cases() {
    let root = repo_root().join("tests/differential/cases");
    let cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("fluent.conf").exists())
        .collect();
    let differing = cases.iter().filter(|p| p.join("DIFFERS").exists()).count();
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let sentence = format!(
        "holds {} cases ({} of them marked as a known difference)",
        with_commas(cases.len()),
        with_commas(differing)
    );
    assert!(
        readme.contains(&sentence),
        "README's \"Differential tests against Fluentd\" must say the suite {sentence}"
    );
}
