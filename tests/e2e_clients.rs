//! End-to-end tests with REAL third-party forward clients: Docker's own `fluentd` log driver
//! (`target/e2e-clients/docker-driver`, built from `tests/clients/docker-driver`) and the PyPI
//! `fluent-logger` (`tests/clients/fluent_logger_send.py`). Both are installed by
//! `bash .ci/install-deps.sh`; when they are missing the tests fail (they never skip).
//!
//! Every test sends into a daemon whose `file` output writes one JSON line per event with the tag
//! and the event time injected (`t` = `%s.%N` in UTC), waits until every expected line is there,
//! stops the daemon with SIGTERM (exit status 0), and then compares the full output exactly:
//! nothing missing, nothing duplicated, per-connection order kept, every field as sent.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use support::{repo_root, Daemon};

const INSTALL_HINT: &str = "run `bash .ci/install-deps.sh` (installs Go + Docker sources, builds target/e2e-clients/docker-driver, pip-installs fluent-logger 0.11.1 and msgpack)";

/// How long one client process may run.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for the daemon to write everything once the clients are done.
const ARRIVAL_TIMEOUT: Duration = Duration::from_secs(30);

/// One output line, parsed.
type Rec = serde_json::Map<String, Value>;

const DEFAULT_CID: &str = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";

// ------------------------------------------------------------------------------------------------
// Clients

/// The Docker log-driver client; panics (test failure) when it was not built.
fn docker_driver() -> PathBuf {
    let p = repo_root().join("target/e2e-clients/docker-driver");
    assert!(
        p.is_file(),
        "the Docker fluentd log-driver client {} is missing: {INSTALL_HINT}",
        p.display()
    );
    p
}

/// The fluent-logger sender script; panics (test failure) unless `python3` can import a
/// fluent-logger 0.11.1 and msgpack.
fn python_sender() -> PathBuf {
    let script = repo_root().join("tests/clients/fluent_logger_send.py");
    assert!(script.is_file(), "{} is missing", script.display());
    let probe = "import fluent.sender, msgpack\nfrom importlib.metadata import version\nprint(version('fluent-logger'))";
    let out = Command::new("python3")
        .arg("-c")
        .arg(probe)
        .stdin(Stdio::null())
        .output();
    match out {
        Err(e) => panic!("cannot run python3 ({e}): {INSTALL_HINT}"),
        Ok(o) if !o.status.success() => {
            panic!(
                "python3 cannot import fluent-logger/msgpack ({}): {INSTALL_HINT}",
                String::from_utf8_lossy(&o.stderr).trim()
            )
        }
        Ok(o) => {
            let v = String::from_utf8_lossy(&o.stdout).trim().to_string();
            assert_eq!(
                v, "0.11.1",
                "python3 has fluent-logger {v}, the tests expect 0.11.1: {INSTALL_HINT}"
            );
        }
    }
    script
}

/// A running client process with its output collected.
struct Running {
    what: String,
    child: Child,
    out: Option<JoinHandle<Vec<u8>>>,
    err: Option<JoinHandle<Vec<u8>>>,
}

struct Finished {
    what: String,
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

fn collect(mut r: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut v = Vec::new();
        let _ = r.read_to_end(&mut v);
        v
    })
}

fn spawn(mut cmd: Command) -> Running {
    let what = format!("{cmd:?}");
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e} ({INSTALL_HINT})"));
    let out = Some(collect(child.stdout.take().unwrap()));
    let err = Some(collect(child.stderr.take().unwrap()));
    Running {
        what,
        child,
        out,
        err,
    }
}

impl Running {
    /// Wait for the client to exit, killing it (and failing) after `timeout`.
    fn wait(mut self, timeout: Duration, d: &Daemon) -> Finished {
        let start = Instant::now();
        let status = loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                break st;
            }
            if start.elapsed() > timeout {
                let _ = self.child.kill();
                let _ = self.child.wait();
                let stdout =
                    String::from_utf8_lossy(&self.out.take().unwrap().join().unwrap()).into_owned();
                let stderr =
                    String::from_utf8_lossy(&self.err.take().unwrap().join().unwrap()).into_owned();
                panic!(
                    "client did not finish within {timeout:?}: {}\nstdout: {stdout}\nstderr: {stderr}\ndaemon stderr:\n{}",
                    self.what,
                    d.stderr()
                );
            }
            thread::sleep(Duration::from_millis(10));
        };
        let stdout =
            String::from_utf8_lossy(&self.out.take().unwrap().join().unwrap()).into_owned();
        let stderr =
            String::from_utf8_lossy(&self.err.take().unwrap().join().unwrap()).into_owned();
        Finished {
            what: std::mem::take(&mut self.what),
            status,
            stdout,
            stderr,
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.out.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Finished {
    /// Assert a clean exit that printed exactly `sent N`.
    fn assert_sent(&self, n: usize, d: &Daemon) {
        assert!(
            self.status.success() && self.stdout.trim_end() == format!("sent {n}"),
            "client {} should exit 0 printing `sent {n}`; got {:?}\nstdout: {}\nstderr: {}\ndaemon stderr:\n{}",
            self.what,
            self.status,
            self.stdout,
            self.stderr,
            d.stderr()
        );
    }
}

/// Options for one docker-driver run.
#[derive(Clone, Default)]
struct DockerRun {
    count: usize,
    prefix: String,
    request_ack: bool,
    sub_second: bool,
    async_mode: bool,
    line_bytes: usize,
    tag: Option<String>,
    container_id: Option<String>,
}

impl DockerRun {
    fn new(count: usize, prefix: &str) -> DockerRun {
        DockerRun {
            count,
            prefix: prefix.to_string(),
            ..Default::default()
        }
    }

    fn cid(&self) -> &str {
        self.container_id.as_deref().unwrap_or(DEFAULT_CID)
    }

    /// The tag the driver uses: the template, or the 12-char short id.
    fn expected_tag(&self) -> String {
        self.tag
            .clone()
            .unwrap_or_else(|| self.cid()[..12].to_string())
    }

    /// The lines the driver generates (line i = prefix + i, padded with `x`).
    fn lines(&self) -> Vec<String> {
        (0..self.count)
            .map(|i| {
                let mut l = format!("{}{i}", self.prefix);
                while l.len() < self.line_bytes {
                    l.push('x');
                }
                l
            })
            .collect()
    }

    fn command(&self, port: u16) -> Command {
        let mut c = Command::new(docker_driver());
        c.arg("-address").arg(format!("tcp://127.0.0.1:{port}"));
        c.arg("-count")
            .arg(self.count.to_string())
            .arg("-prefix")
            .arg(&self.prefix);
        c.arg("-name").arg("/web").arg("-timeout").arg("15s");
        if self.request_ack {
            c.arg("-request-ack");
        }
        if self.sub_second {
            c.arg("-sub-second");
        }
        if self.async_mode {
            // The driver's Close discards what is still queued: give the queue ample time to drain
            // on a loaded machine (this waits before Close; it does not slow a fast run's checks).
            c.arg("-async").arg("-close-delay").arg("4s");
        }
        if self.line_bytes > 0 {
            c.arg("-line-bytes").arg(self.line_bytes.to_string());
        }
        if let Some(t) = &self.tag {
            c.arg("-tag").arg(t);
        }
        if let Some(id) = &self.container_id {
            c.arg("-container-id").arg(id);
        }
        c
    }
}

/// Options for one fluent_logger_send.py run.
#[derive(Clone)]
struct PyRun {
    tag: String,
    count: usize,
    label: Option<String>,
    record_json: Option<String>,
    nanosecond: bool,
}

impl PyRun {
    fn expected_tag(&self) -> String {
        match &self.label {
            Some(l) => format!("{}.{l}", self.tag),
            None => self.tag.clone(),
        }
    }

    fn command(&self, port: u16) -> Command {
        let mut c = Command::new("python3");
        c.arg(python_sender())
            .arg("--host")
            .arg("127.0.0.1")
            .arg("--port")
            .arg(port.to_string());
        c.arg("--tag")
            .arg(&self.tag)
            .arg("--count")
            .arg(self.count.to_string());
        if let Some(l) = &self.label {
            c.arg("--label").arg(l);
        }
        if let Some(r) = &self.record_json {
            c.arg("--record-json").arg(r);
        }
        if self.nanosecond {
            c.arg("--nanosecond");
        }
        c
    }
}

// ------------------------------------------------------------------------------------------------
// Daemon and output files

/// One file output per `(pattern, name)`: JSON lines with `tag` and `t` (`%s.%N`, UTC) injected,
/// written to `{DIR}/<name>.%Y%m%d.log`.
fn config(matches: &[(&str, &str)]) -> String {
    let mut c =
        String::from("<source>\n  @type forward\n  port {PORT}\n  bind 127.0.0.1\n</source>\n");
    for (pattern, name) in matches {
        c.push_str(&format!(
            "<match {pattern}>\n  @type file\n  path {{DIR}}/{name}\n  append true\n  <format>\n    @type json\n  </format>\n  \
             <inject>\n    tag_key tag\n    time_key t\n    time_type string\n    time_format %s.%N\n    utc true\n  </inject>\n</match>\n"
        ));
    }
    c
}

/// The day files of output `name` (`name.YYYYMMDD.log`), oldest first.
fn output_files(dir: &Path, name: &str) -> Vec<PathBuf> {
    let prefix = format!("{name}.");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let f = p.file_name().unwrap().to_string_lossy();
            f.starts_with(&prefix)
                && f.ends_with(".log")
                && f[prefix.len()..f.len() - 4]
                    .chars()
                    .all(|c| c.is_ascii_digit())
        })
        .collect();
    files.sort();
    files
}

/// The complete lines written so far by output `name`.
fn complete_lines(dir: &Path, name: &str) -> usize {
    output_files(dir, name)
        .iter()
        .map(|p| {
            std::fs::read(p)
                .unwrap()
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
        })
        .sum()
}

/// Every line of output `name`, parsed (each must be a JSON object).
fn read_output(dir: &Path, name: &str) -> Vec<(String, Rec)> {
    let mut out = Vec::new();
    for p in output_files(dir, name) {
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "{} does not end with a newline",
            p.display()
        );
        for line in text.lines() {
            match serde_json::from_str::<Value>(line) {
                Ok(Value::Object(m)) => out.push((line.to_string(), m)),
                other => panic!(
                    "{}: line is not a JSON object ({other:?}): {line:?}",
                    p.display()
                ),
            }
        }
    }
    out
}

/// Wait until output `name` holds at least `n` complete lines.
fn wait_lines(d: &Daemon, name: &str, n: usize) {
    let start = Instant::now();
    loop {
        let got = complete_lines(d.dir.path(), name);
        if got >= n {
            return;
        }
        if start.elapsed() > ARRIVAL_TIMEOUT {
            panic!(
                "timed out waiting for {n} lines in output {name:?}, got {got}; daemon stderr:\n{}",
                d.stderr()
            );
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// SIGTERM the daemon and require exit status 0.
fn stop(d: &mut Daemon) {
    let st = d.terminate();
    assert!(
        st.success() && st.code() == Some(0),
        "logferry should exit 0 on SIGTERM, got {st:?}; stderr:\n{}",
        d.stderr()
    );
}

/// Nothing alarming in the daemon's log (no dropped/broken frames, no failed emits).
fn assert_quiet_log(d: &Daemon) {
    let log = d.stderr();
    for line in log.lines() {
        assert!(
            !(line.contains("[warn]") || line.contains("[error]") || line.contains("broken")),
            "unexpected warning/error in the daemon log: {line}\nfull log:\n{log}"
        );
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Split the injected `t` (`SECONDS.NNNNNNNNN`) into seconds and nanoseconds.
fn event_time(rec: &Rec) -> (u64, u32) {
    let t = rec
        .get("t")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("record without a string `t`: {rec:?}"));
    let (s, ns) = t
        .split_once('.')
        .unwrap_or_else(|| panic!("`t` should be %s.%N, got {t:?}"));
    assert_eq!(ns.len(), 9, "`t` should have 9 fractional digits: {t:?}");
    (
        s.parse().unwrap_or_else(|_| panic!("bad seconds in {t:?}")),
        ns.parse()
            .unwrap_or_else(|_| panic!("bad nanoseconds in {t:?}")),
    )
}

/// Check the event times: all within `[from-2, to+2]` seconds; with `sub_second` at least 90 %
/// have non-zero nanoseconds, without it every one has exactly 0.
fn check_times(what: &str, recs: &[&Rec], from: u64, to: u64, sub_second: bool) {
    let mut nonzero = 0;
    for r in recs {
        let (s, ns) = event_time(r);
        assert!(
            s + 2 >= from && s <= to + 2,
            "{what}: event time {s} is outside the test's run [{from}, {to}]: {r:?}"
        );
        if ns != 0 {
            nonzero += 1;
        }
        if !sub_second {
            assert_eq!(
                ns, 0,
                "{what}: without sub-second precision the nanoseconds must be 0: {r:?}"
            );
        }
    }
    if sub_second {
        assert!(
            nonzero * 10 >= recs.len() * 9,
            "{what}: with sub-second precision most event times should have non-zero nanoseconds; only {nonzero} of {} do",
            recs.len()
        );
    }
}

fn str_field<'a>(r: &'a Rec, k: &str) -> &'a str {
    r.get(k)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("record without string field {k:?}: {r:?}"))
}

fn keys(r: &Rec) -> BTreeSet<&str> {
    r.keys().map(String::as_str).collect()
}

/// Check that `recs` are exactly the non-partial Docker records of `run`, in order.
fn check_docker_records(run: &DockerRun, recs: &[&Rec]) {
    let want_tag = run.expected_tag();
    let want_keys: BTreeSet<&str> = [
        "container_id",
        "container_name",
        "source",
        "log",
        "tag",
        "t",
    ]
    .into();
    for r in recs {
        assert_eq!(keys(r), want_keys, "unexpected record fields: {r:?}");
        assert_eq!(str_field(r, "tag"), want_tag, "tag: {r:?}");
        assert_eq!(
            str_field(r, "container_id"),
            run.cid(),
            "container_id: {r:?}"
        );
        assert_eq!(
            str_field(r, "container_name"),
            "/web",
            "container_name: {r:?}"
        );
        assert_eq!(str_field(r, "source"), "stdout", "source: {r:?}");
    }
    let got: Vec<&str> = recs.iter().map(|r| str_field(r, "log")).collect();
    let want = run.lines();
    if got != want {
        let gs: BTreeMap<&str, usize> = got.iter().fold(BTreeMap::new(), |mut m, l| {
            *m.entry(*l).or_default() += 1;
            m
        });
        let missing: Vec<&String> = want
            .iter()
            .filter(|l| !gs.contains_key(l.as_str()))
            .collect();
        let dups: Vec<(&&str, &usize)> = gs.iter().filter(|(_, &n)| n > 1).collect();
        let unknown: Vec<&&str> = got
            .iter()
            .filter(|l| !want.iter().any(|w| w == **l))
            .collect();
        panic!(
            "tag {want_tag}: the `log` values differ from the {} lines sent ({} received).\nmissing: {missing:?}\nduplicated: {dups:?}\nunexpected: {unknown:?}\nfirst differing index: {:?}",
            want.len(),
            got.len(),
            got.iter().zip(&want).position(|(g, w)| g != w)
        );
    }
}

/// Run one docker-driver against a fresh daemon and check everything.
fn docker_case(run: DockerRun) {
    docker_driver();
    let mut d = Daemon::start(&config(&[("**", "out")]));
    let from = now_secs();
    let done = spawn(run.command(d.port)).wait(CLIENT_TIMEOUT, &d);
    done.assert_sent(run.count, &d);
    wait_lines(&d, "out", run.count);
    let to = now_secs();
    stop(&mut d);
    let recs = read_output(d.dir.path(), "out");
    let maps: Vec<&Rec> = recs.iter().map(|(_, m)| m).collect();
    check_docker_records(&run, &maps);
    check_times(
        &format!(
            "docker-driver ack={} sub-second={}",
            run.request_ack, run.sub_second
        ),
        &maps,
        from,
        to,
        run.sub_second,
    );
    assert_quiet_log(&d);
}

// ------------------------------------------------------------------------------------------------
// 1. Docker driver: request-ack × sub-second

#[test]
fn docker_plain() {
    docker_case(DockerRun::new(200, "plain-"));
}

#[test]
fn docker_request_ack() {
    docker_case(DockerRun {
        request_ack: true,
        ..DockerRun::new(200, "ack-")
    });
}

#[test]
fn docker_sub_second() {
    docker_case(DockerRun {
        sub_second: true,
        ..DockerRun::new(200, "subsec-")
    });
}

#[test]
fn docker_request_ack_sub_second() {
    docker_case(DockerRun {
        request_ack: true,
        sub_second: true,
        ..DockerRun::new(200, "ack-subsec-")
    });
}

// ------------------------------------------------------------------------------------------------
// 2. Docker driver: lines over 16 KiB become partial messages

#[test]
fn docker_long_lines_are_partial_messages() {
    docker_driver();
    const LINE: usize = 40960;
    // Two long lines (6 frames), sub-second precision so the shared piece timestamp is visible.
    let run = DockerRun {
        line_bytes: LINE,
        sub_second: true,
        request_ack: true,
        ..DockerRun::new(2, "long-")
    };
    let mut d = Daemon::start(&config(&[("**", "out")]));
    let from = now_secs();
    let done = spawn(run.command(d.port)).wait(CLIENT_TIMEOUT, &d);
    done.assert_sent(6, &d);
    wait_lines(&d, "out", 6);
    let to = now_secs();
    stop(&mut d);
    let recs = read_output(d.dir.path(), "out");
    assert_eq!(
        recs.len(),
        6,
        "two 40960-byte lines must give exactly 6 partial records"
    );
    let maps: Vec<&Rec> = recs.iter().map(|(_, m)| m).collect();
    check_times("docker-driver long lines", &maps, from, to, true);

    let want_keys: BTreeSet<&str> = [
        "container_id",
        "container_name",
        "source",
        "log",
        "partial_message",
        "partial_id",
        "partial_ordinal",
        "partial_last",
        "tag",
        "t",
    ]
    .into();
    let lines = run.lines();
    let mut ids = BTreeSet::new();
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line.len(), LINE);
        let pieces = &maps[i * 3..i * 3 + 3];
        let id = str_field(pieces[0], "partial_id");
        assert!(!id.is_empty(), "empty partial_id: {:?}", pieces[0]);
        assert!(
            ids.insert(id.to_string()),
            "partial_id {id} reused by two lines"
        );
        let mut joined = String::new();
        for (k, r) in pieces.iter().enumerate() {
            assert_eq!(
                keys(r),
                want_keys,
                "unexpected fields in a partial record: {:?}",
                keys(r)
            );
            assert_eq!(str_field(r, "tag"), &DEFAULT_CID[..12]);
            assert_eq!(str_field(r, "container_id"), DEFAULT_CID);
            assert_eq!(str_field(r, "container_name"), "/web");
            assert_eq!(str_field(r, "source"), "stdout");
            assert_eq!(str_field(r, "partial_message"), "true");
            assert_eq!(
                str_field(r, "partial_id"),
                id,
                "pieces of one line must share partial_id"
            );
            assert_eq!(str_field(r, "partial_ordinal"), (k + 1).to_string());
            assert_eq!(
                str_field(r, "partial_last"),
                if k == 2 { "true" } else { "false" }
            );
            assert_eq!(
                r.get("t"),
                pieces[0].get("t"),
                "every piece carries the timestamp of the first piece"
            );
            joined.push_str(str_field(r, "log"));
        }
        let sizes: Vec<usize> = pieces.iter().map(|r| str_field(r, "log").len()).collect();
        assert_eq!(sizes, [16384, 16384, 8192], "piece sizes of line {i}");
        assert!(
            joined == *line,
            "line {i}: the concatenated pieces differ from the 40960-byte line sent"
        );
    }
    assert_quiet_log(&d);
}

// ------------------------------------------------------------------------------------------------
// 3. Docker driver: async mode

#[test]
fn docker_async() {
    docker_case(DockerRun {
        async_mode: true,
        ..DockerRun::new(500, "async-")
    });
}

// ------------------------------------------------------------------------------------------------
// 4. Docker driver: tag template, routed by pattern

#[test]
fn docker_tag_template_is_routed() {
    docker_driver();
    let run = DockerRun {
        tag: Some("docker.{{.Name}}".into()),
        ..DockerRun::new(100, "tmpl-")
    };
    let mut d = Daemon::start(&config(&[("docker.**", "docker"), ("**", "other")]));
    let from = now_secs();
    let done = spawn(run.command(d.port)).wait(CLIENT_TIMEOUT, &d);
    done.assert_sent(run.count, &d);
    wait_lines(&d, "docker", run.count);
    let to = now_secs();
    stop(&mut d);
    let recs = read_output(d.dir.path(), "docker");
    let maps: Vec<&Rec> = recs.iter().map(|(_, m)| m).collect();
    let expect = DockerRun {
        tag: Some("docker.web".into()),
        ..run
    };
    check_docker_records(&expect, &maps);
    check_times("docker-driver tag template", &maps, from, to, false);
    assert!(
        output_files(d.dir.path(), "other").is_empty(),
        "nothing may reach the catch-all <match **>"
    );
    assert_quiet_log(&d);
}

// ------------------------------------------------------------------------------------------------
// 5. Python fluent-logger

/// The JSON object merged into every Python record (and the exact text the json formatter
/// must write for it, in insertion order, raw UTF-8).
const PY_RECORD: &str = r#"{"host":"web-1","msg":"héllo ✓ \"q\"","n":1.5,"ok":true,"none":null,"nested":{"a":[1,2,"x"]}}"#;

fn python_case(run: PyRun) {
    python_sender();
    let mut d = Daemon::start(&config(&[("**", "out")]));
    let from = now_secs();
    let done = spawn(run.command(d.port)).wait(CLIENT_TIMEOUT, &d);
    done.assert_sent(run.count, &d);
    wait_lines(&d, "out", run.count);
    let to = now_secs();
    stop(&mut d);
    let recs = read_output(d.dir.path(), "out");
    check_python_records(
        &run,
        &recs
            .iter()
            .map(|(l, m)| (l.as_str(), m))
            .collect::<Vec<_>>(),
    );
    let maps: Vec<&Rec> = recs.iter().map(|(_, m)| m).collect();
    check_times(
        &format!("fluent-logger nanosecond={}", run.nanosecond),
        &maps,
        from,
        to,
        run.nanosecond,
    );
    assert_quiet_log(&d);
}

/// `recs` must be exactly seq 0..count of `run`, in order, with the base record and tag.
fn check_python_records(run: &PyRun, recs: &[(&str, &Rec)]) {
    let want_tag = run.expected_tag();
    let base = run.record_json.as_deref().unwrap_or("{}");
    let base_inner = &base[1..base.len() - 1];
    let seqs: Vec<i64> = recs
        .iter()
        .map(|(_, r)| r.get("seq").and_then(Value::as_i64).unwrap_or(-1))
        .collect();
    let want: Vec<i64> = (0..run.count as i64).collect();
    if seqs != want {
        let set: BTreeMap<i64, usize> = seqs.iter().fold(BTreeMap::new(), |mut m, s| {
            *m.entry(*s).or_default() += 1;
            m
        });
        let missing: Vec<i64> = want
            .iter()
            .copied()
            .filter(|s| !set.contains_key(s))
            .collect();
        let dups: Vec<(&i64, &usize)> = set.iter().filter(|(_, &n)| n > 1).collect();
        panic!(
            "tag {want_tag}: seq values differ from 0..{} ({} received).\nmissing: {missing:?}\nduplicated: {dups:?}\nfirst differing index: {:?}",
            run.count,
            seqs.len(),
            seqs.iter().zip(&want).position(|(g, w)| g != w)
        );
    }
    for (i, (line, r)) in recs.iter().enumerate() {
        // Exact text: record fields in the order sent, then the injected tag and time.
        let sep = if base_inner.is_empty() { "" } else { "," };
        let prefix = format!(r#"{{{base_inner}{sep}"seq":{i},"tag":"{want_tag}","t":""#);
        assert!(
            line.starts_with(&prefix),
            "line {i} should start with {prefix:?}, got {line:?}"
        );
        assert_eq!(str_field(r, "tag"), want_tag);
    }
}

fn py(tag: &str, count: usize) -> PyRun {
    PyRun {
        tag: tag.into(),
        count,
        label: None,
        record_json: Some(PY_RECORD.into()),
        nanosecond: false,
    }
}

#[test]
fn python_fluent_logger() {
    python_case(py("app.py", 500));
}

#[test]
fn python_fluent_logger_nanosecond() {
    python_case(PyRun {
        nanosecond: true,
        ..py("app.py", 500)
    });
}

#[test]
fn python_fluent_logger_label() {
    python_case(PyRun {
        label: Some("access".into()),
        record_json: None,
        ..py("app.py", 500)
    });
}

// ------------------------------------------------------------------------------------------------
// 6. Several real clients at once

#[test]
fn many_clients_at_once() {
    docker_driver();
    python_sender();
    let cid = |c: char| c.to_string().repeat(64);
    let dockers = [
        DockerRun {
            container_id: Some(cid('1')),
            async_mode: true,
            ..DockerRun::new(1000, "d1-")
        },
        DockerRun {
            container_id: Some(cid('2')),
            request_ack: true,
            ..DockerRun::new(1000, "d2-")
        },
        DockerRun {
            container_id: Some(cid('3')),
            sub_second: true,
            ..DockerRun::new(1000, "d3-")
        },
        DockerRun {
            container_id: Some(cid('4')),
            request_ack: true,
            sub_second: true,
            ..DockerRun::new(1000, "d4-")
        },
    ];
    let pys = [
        py("py.one", 500),
        PyRun {
            nanosecond: true,
            label: Some("two".into()),
            ..py("py", 500)
        },
    ];
    let total: usize =
        dockers.iter().map(|r| r.count).sum::<usize>() + pys.iter().map(|r| r.count).sum::<usize>();

    let mut d = Daemon::start(&config(&[("**", "out")]));
    let from = now_secs();
    let running: Vec<(usize, Running)> = dockers
        .iter()
        .map(|r| (r.count, spawn(r.command(d.port))))
        .chain(pys.iter().map(|r| (r.count, spawn(r.command(d.port)))))
        .collect();
    for (n, r) in running {
        r.wait(CLIENT_TIMEOUT, &d).assert_sent(n, &d);
    }
    wait_lines(&d, "out", total);
    let to = now_secs();
    stop(&mut d);

    let recs = read_output(d.dir.path(), "out");
    let mut by_tag: BTreeMap<String, Vec<(&str, &Rec)>> = BTreeMap::new();
    for (line, m) in &recs {
        by_tag
            .entry(str_field(m, "tag").to_string())
            .or_default()
            .push((line.as_str(), m));
    }
    let mut want_tags: BTreeSet<String> = dockers.iter().map(DockerRun::expected_tag).collect();
    want_tags.extend(pys.iter().map(PyRun::expected_tag));
    assert_eq!(
        by_tag.keys().cloned().collect::<BTreeSet<_>>(),
        want_tags,
        "tags seen"
    );
    for run in &dockers {
        let got: Vec<&Rec> = by_tag[&run.expected_tag()]
            .iter()
            .map(|(_, m)| *m)
            .collect();
        check_docker_records(run, &got);
        check_times(
            &format!("concurrent docker {}", run.prefix),
            &got,
            from,
            to,
            run.sub_second,
        );
    }
    for run in &pys {
        let got = &by_tag[&run.expected_tag()];
        check_python_records(run, got);
        let maps: Vec<&Rec> = got.iter().map(|(_, m)| *m).collect();
        check_times(
            &format!("concurrent python {}", run.expected_tag()),
            &maps,
            from,
            to,
            run.nanosecond,
        );
    }
    assert_eq!(recs.len(), total, "total number of events");
    assert_quiet_log(&d);
    // Not asserted (timing-dependent), but shows the clients really overlapped.
    let switches = recs
        .windows(2)
        .filter(|w| w[0].1.get("tag") != w[1].1.get("tag"))
        .count();
    eprintln!(
        "many_clients_at_once: {total} events, the tag changed {switches} times in the output"
    );
}
