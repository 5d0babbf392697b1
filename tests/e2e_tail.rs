//! The tail input end to end: what Fluentd 1.16.11 emitted and wrote in its pos file on the same
//! files (recorded, tests/tail/), taking up a Fluentd pos file, every way Debian's `logrotate`
//! rotates under a writer at 10,000 lines a second (every line exactly once), `kill -9` resuming
//! at-least-once, memory bounded on a large file read from its head, and a full buffer that
//! stops the reading without losing anything.

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use support::tail::{out_lines, read_big_file_with_bounded_memory, recorded_pos};
use support::*;

const WAIT: Duration = Duration::from_secs(30);

/// Every `"seq":N` in the files of `dir` whose name starts with `prefix`, with its count.
fn seqs(dir: &Path, prefix: &str) -> BTreeMap<u64, u32> {
    let mut out = BTreeMap::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        if !e.file_name().to_string_lossy().starts_with(prefix) {
            continue;
        }
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        for line in text.lines() {
            if let Some(i) = line.find("\"seq\":") {
                let digits: String = line[i + 6..]
                    .chars()
                    .take_while(|c| c.is_ascii_digit())
                    .collect();
                if let Ok(n) = digits.parse() {
                    *out.entry(n).or_insert(0) += 1;
                }
            }
        }
    }
    out
}

/// A tail of `{DIR}/app.log{glob}` (json lines) with `extra` source parameters, into
/// `{DIR}/out/seq*` written as each batch arrives.
fn seq_conf(glob: &str, extra: &str) -> String {
    format!(
        "<source>\n  @type tail\n  path {{DIR}}/app.log{glob}\n  pos_file {{DIR}}/app.pos\n  tag app\n{extra}  <parse>\n    @type json\n  </parse>\n</source>\n<match app>\n  @type file\n  path {{DIR}}/out/seq\n  append true\n</match>\n"
    )
}

fn inode(p: &Path) -> u64 {
    std::fs::metadata(p).unwrap().ino()
}

// ---------------------------------------------------------------------------------------------
// What Fluentd 1.16.11 emitted for tests/tail/fluentd-recorded.conf (paths under /tmp/tailref),
// and its pos file (positions 0x35, 0x08, 0x19; inodes of the files).

const RECORDED_OUT: &[&str] = &[
    r#"{"b":1,"src":"/tmp/tailref/logs/other.log","tag":"app.tmp.tailref.logs.other.log.x"}"#,
    r#"{"a":1,"src":"/tmp/tailref/logs/sub/app.log","tag":"app.tmp.tailref.logs.sub.app.log.x"}"#,
    r#"{"a":2,"src":"/tmp/tailref/logs/sub/app.log","tag":"app.tmp.tailref.logs.sub.app.log.x"}"#,
    r#"{"unmatched_line":"not json","src":"/tmp/tailref/logs/sub/app.log","tag":"app.tmp.tailref.logs.sub.app.log.x"}"#,
    r#"{"n":"1","msg":"one\n  cont a\n  cont b","tag":"ml"}"#,
    r#"{"n":"2","msg":"two","tag":"ml"}"#,
    r#"{"n":"3","msg":"three","tag":"ml"}"#,
];

#[test]
fn emits_and_records_positions_as_fluentd() {
    // The recorded config, with its /tmp/tailref paths moved into the test's directory.
    let conf = std::fs::read_to_string(repo_root().join("tests/tail/fluentd-recorded.conf"))
        .unwrap()
        .replace("/tmp/tailref", "{DIR}");
    let d = Daemon::start_prepared(&conf, &[], &[], &|dir| {
        std::fs::create_dir_all(dir.join("logs/sub")).unwrap();
        std::fs::write(
            dir.join("logs/sub/app.log"),
            "{\"a\":1}\n{\"a\":2}\nnot json\n",
        )
        .unwrap();
        std::fs::write(dir.join("logs/other.log"), "{\"b\":1}\n").unwrap();
        std::fs::write(dir.join("logs/skip.gz"), "x\n").unwrap();
        std::fs::write(
            dir.join("logs/ml.txt"),
            "junk before\n1: one\n  cont a\n  cont b\n2: two\n3: three\n",
        )
        .unwrap();
    });
    let dir = d.dir.path().to_path_buf();
    let root = dir.display().to_string();
    // "3: three" is held until multiline_flush_interval (2s) passes: wait for it. The tags
    // carry the path with `/` as `.`: the temp dir shows up in them as /tmp/tailref did.
    // (squeezed: the temp dir's name starts with a dot)
    let dotted = root
        .trim_start_matches('/')
        .replace('/', ".")
        .replace("..", ".");
    let start = Instant::now();
    let mut have: Vec<serde_json::Value> = Vec::new();
    while have.len() < RECORDED_OUT.len() {
        assert!(
            start.elapsed() < WAIT,
            "got {have:?}; stderr:\n{}",
            d.stderr()
        );
        thread::sleep(Duration::from_millis(50));
        have.clear();
        let Ok(rd) = std::fs::read_dir(dir.join("out")) else {
            continue;
        };
        for p in rd.flatten().map(|e| e.path()).filter(|p| p.is_file()) {
            for l in std::fs::read_to_string(p).unwrap().lines() {
                let l = l
                    .replace(&root, "/tmp/tailref")
                    .replace(&dotted, "tmp.tailref");
                have.push(serde_json::from_str(&l).unwrap());
            }
        }
    }
    let mut want: Vec<serde_json::Value> = RECORDED_OUT
        .iter()
        .map(|s| serde_json::from_str(s).unwrap())
        .collect();
    want.sort_by_key(|v| v.to_string());
    have.sort_by_key(|v| v.to_string());
    assert_eq!(have, want);
    // The pos file: Fluentd's bytes, with this run's paths and inodes.
    let pos = d.wait_file_text(&dir.join("pos/tail.pos"), WAIT, |t| t.lines().count() == 2);
    let mut lines: Vec<&str> = pos.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        [
            format!(
                "{root}/logs/other.log\t0000000000000008\t{:016x}",
                inode(&dir.join("logs/other.log"))
            ),
            format!(
                "{root}/logs/sub/app.log\t0000000000000019\t{:016x}",
                inode(&dir.join("logs/sub/app.log"))
            ),
        ]
    );
    let ml = d.wait_file_text(&dir.join("pos/ml.pos"), WAIT, |t| {
        t.contains("\t0000000000000035\t")
    });
    assert_eq!(
        ml,
        format!(
            "{root}/logs/ml.txt\t0000000000000035\t{:016x}\n",
            inode(&dir.join("logs/ml.txt"))
        )
    );
}

#[test]
fn takes_up_a_fluentd_pos_file_where_fluentd_stopped() {
    let conf = &seq_conf("", "");
    let d = Daemon::start_prepared(conf, &[], &[], &|dir| {
        let mut text = String::new();
        for i in 0..5 {
            text.push_str(&format!("{{\"seq\":{i}}}\n"));
        }
        std::fs::write(dir.join("app.log"), &text).unwrap();
        // As Fluentd writes it: three lines (3 x 10 bytes) read, then stopped; plus an entry
        // Fluentd had unwatched, and another of a file that is gone (both dropped at start).
        let ino = inode(&dir.join("app.log"));
        std::fs::write(
            dir.join("app.pos"),
            format!(
                "{d}/gone.log\t0000000000000010\t0000000000000001\n{d}/app.log\t000000000000001e\t{ino:016x}\n{d}/old.log\tffffffffffffffff\t0000000000000002\n",
                d = dir.display()
            ),
        )
        .unwrap();
    });
    let out = d.dir.path().join("out");
    // Fluentd had read 0..2: only 3 and 4 come, then what is appended.
    let got = wait_until(&d, &out, "seq", |g| g.contains_key(&4));
    assert_eq!(got, BTreeMap::from([(3, 1), (4, 1)]));
    append(&d.dir.path().join("app.log"), 5..7);
    let got = wait_until(&d, &out, "seq", |g| g.contains_key(&6));
    assert_eq!(got, BTreeMap::from([(3, 1), (4, 1), (5, 1), (6, 1)]));
    let ino = inode(&d.dir.path().join("app.log"));
    d.wait_file_text(&d.dir.path().join("app.pos"), WAIT, |t| {
        t == format!(
            "{}/app.log\t0000000000000046\t{ino:016x}\n",
            d.dir.path().display()
        )
    });
}

/// Append `{"seq":N}` lines.
fn append(path: &Path, seqs: std::ops::Range<u64>) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap();
    let mut text = String::new();
    for i in seqs {
        text.push_str(&format!("{{\"seq\":{i}}}\n"));
    }
    f.write_all(text.as_bytes()).unwrap();
}

/// Wait until the delivered seqs satisfy `done`.
fn wait_until(
    d: &Daemon,
    dir: &Path,
    prefix: &str,
    done: impl Fn(&BTreeMap<u64, u32>) -> bool,
) -> BTreeMap<u64, u32> {
    let start = Instant::now();
    loop {
        let got = seqs(dir, prefix);
        if done(&got) {
            return got;
        }
        if start.elapsed() > WAIT {
            // Which lines are missing, as ranges.
            let mut missing: Vec<(u64, u64)> = Vec::new();
            let top = got.keys().last().copied().unwrap_or(0);
            for i in 0..top {
                if !got.contains_key(&i) {
                    match missing.last_mut() {
                        Some((_, b)) if *b + 1 == i => *b = i,
                        _ => missing.push((i, i)),
                    }
                }
            }
            missing.truncate(20);
            let probe = missing.first().map(|m| m.0).unwrap_or(0);
            let where_ = Command::new("sh")
                .arg("-c")
                .arg(format!(
                    "cd {} && ls -li; for f in app.log*; do case $f in *.gz) zcat $f;; *) cat $f;; esac | grep -q '\"seq\":{probe}}}' && echo \"seq {probe} in $f\"; done",
                    dir.parent().unwrap().display()
                ))
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            eprintln!("{where_}");
            panic!(
                "never complete: {} seqs delivered, up to {top}; missing {missing:?}; stderr:\n{}",
                got.len(),
                d.stderr()
            );
        }
        thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------------------------
// Rotation with Debian's logrotate under a writer at 10,000 lines a second.

/// A log writer as applications write: `{"seq":N}` lines appended at `rate` lines a second, the
/// file opened again as soon as its path names another file (as after a SIGHUP).
struct Writer {
    stop: Arc<AtomicBool>,
    pause: Arc<AtomicBool>,
    paused: Arc<AtomicBool>,
    written: Arc<AtomicU64>,
    handle: Option<thread::JoinHandle<()>>,
}

impl Writer {
    fn start(path: PathBuf, rate: u64) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let pause = Arc::new(AtomicBool::new(false));
        let paused = Arc::new(AtomicBool::new(false));
        let written = Arc::new(AtomicU64::new(0));
        let (s, p, pd, w) = (stop.clone(), pause.clone(), paused.clone(), written.clone());
        let handle = thread::spawn(move || {
            let open = |p: &Path| {
                std::fs::OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(p)
                    .unwrap()
            };
            let mut f = open(&path);
            let mut ino = f.metadata().unwrap().ino();
            let mut n = 0u64;
            let mut since = (Instant::now(), 0u64);
            let mut text = String::new();
            while !s.load(Ordering::SeqCst) {
                if p.load(Ordering::SeqCst) {
                    pd.store(true, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(1));
                    since = (Instant::now(), n);
                    continue;
                }
                pd.store(false, Ordering::SeqCst);
                // Like an application told to reopen (logrotate's postrotate): a new file at
                // the path is taken; while there is none, the old one is written on.
                if let Ok(m) = std::fs::metadata(&path) {
                    if m.ino() != ino {
                        f = open(&path);
                        ino = f.metadata().unwrap().ino();
                    }
                }
                let due = (since.0.elapsed().as_secs_f64() * rate as f64) as u64 + since.1;
                let batch = due.saturating_sub(n).min(1000);
                text.clear();
                for i in n..n + batch {
                    text.push_str(&format!("{{\"seq\":{i}}}\n"));
                }
                // One write: appended whole, never interleaved with a rotation.
                f.write_all(text.as_bytes()).unwrap();
                n += batch;
                w.store(n, Ordering::SeqCst);
                thread::sleep(Duration::from_millis(1));
            }
        });
        Writer {
            stop,
            pause,
            paused,
            written,
            handle: Some(handle),
        }
    }

    fn written(&self) -> u64 {
        self.written.load(Ordering::SeqCst)
    }

    /// Stop writing; returns once the writer is idle.
    fn pause(&self) {
        self.pause.store(true, Ordering::SeqCst);
        while !self.paused.load(Ordering::SeqCst) {
            thread::sleep(Duration::from_millis(1));
        }
    }

    fn resume(&self) {
        self.pause.store(false, Ordering::SeqCst);
    }

    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.take().unwrap().join().unwrap();
        self.written()
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Run logrotate (`-f`, its own state file) on `{dir}/app.log` with the given directives.
fn logrotate(dir: &Path, name: &str, directives: &str) {
    let conf = dir.join(format!("logrotate-{name}.conf"));
    std::fs::write(
        &conf,
        format!("{}/app.log {{\n{directives}\n}}\n", dir.display()),
    )
    .unwrap();
    let out = Command::new("logrotate")
        .arg("-f")
        .arg("-s")
        .arg(dir.join("logrotate.state"))
        .arg(&conf)
        .output()
        .expect("logrotate (installed by .ci/install-deps.sh)");
    assert!(
        out.status.success(),
        "logrotate {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Descriptors the daemon holds on `{dir}/app.log*` (rotated and deleted ones included).
fn log_fds(d: &Daemon) -> usize {
    let prefix = d.dir.path().join("app.log").display().to_string();
    std::fs::read_dir(format!("/proc/{}/fd", d.pid()))
        .map(|rd| {
            rd.flatten()
                .filter(|e| {
                    std::fs::read_link(e.path())
                        .is_ok_and(|t| t.display().to_string().starts_with(&prefix))
                })
                .count()
        })
        .unwrap_or(0)
}

fn rotate_conf() -> String {
    seq_conf("", "  read_from_head true\n  rotate_wait 1\n")
}

/// A daemon tailing `{DIR}/app.log` (created empty before it starts) into `{DIR}/out/seq*`, and
/// a writer appending to it at 10,000 lines a second.
struct Rig {
    d: Daemon,
    w: Option<Writer>,
    dir: PathBuf,
}

impl Rig {
    fn start(conf: &str) -> Rig {
        let d = Daemon::start_prepared(conf, &[], &[], &|dir| {
            std::fs::write(dir.join("app.log"), "").unwrap();
        });
        let dir = d.dir.path().to_path_buf();
        let w = Some(Writer::start(dir.join("app.log"), 10_000));
        Rig { d, w, dir }
    }

    fn writer(&self) -> &Writer {
        self.w.as_ref().expect("writing")
    }

    /// Wait until `more` lines more are written, then until everything written is delivered.
    fn step(&self, more: u64) {
        let target = self.writer().written() + more;
        while self.writer().written() < target {
            thread::sleep(Duration::from_millis(5));
        }
        self.delivered(target);
    }

    fn delivered(&self, n: u64) {
        wait_until(&self.d, &self.dir.join("out"), "seq", |g| {
            (0..n).all(|i| g.contains_key(&i))
        });
    }

    /// Stop writing and wait until every line is delivered; returns how many were written.
    fn stop_writing(&mut self) -> u64 {
        let total = self.w.take().expect("writing").finish();
        self.delivered(total);
        total
    }

    /// Stop the daemon; every line written was delivered exactly once.
    fn assert_exactly_once(&mut self, total: u64) {
        assert!(self.d.terminate().success());
        let got = seqs(&self.dir.join("out"), "seq");
        let repeated: Vec<(&u64, &u32)> = got.iter().filter(|(_, c)| **c != 1).take(20).collect();
        assert!(
            repeated.is_empty(),
            "lines delivered more than once: {repeated:?}"
        );
        assert_eq!(
            got.len() as u64,
            total,
            "lines delivered that were never written?"
        );
    }
}

#[test]
fn every_way_logrotate_rotates_under_10k_lines_a_second_every_line_once() {
    let mut r = Rig::start(&rotate_conf());
    let dir = r.dir.clone();
    r.step(3000);
    // create: renamed to app.log.1, a new app.log created.
    logrotate(&dir, "create", "rotate 5\ncreate");
    r.step(3000);
    // compress: renamed, then gzipped and the uncompressed old file deleted.
    logrotate(&dir, "compress", "rotate 5\ncreate\ncompress");
    r.step(3000);
    // A rename chain: app.log.1 → app.log.2 → … three times in a row.
    for _ in 0..3 {
        logrotate(&dir, "chain", "rotate 5\ncreate\ncompress");
        r.step(500);
    }
    r.step(2000);
    // Deleted while open: the writer goes on writing into the deleted file until a new one is
    // there.
    std::fs::remove_file(dir.join("app.log")).unwrap();
    let before = r.writer().written();
    while r.writer().written() < before + 500 {
        thread::sleep(Duration::from_millis(5));
    }
    std::fs::File::create(dir.join("app.log")).unwrap();
    r.step(3000);
    // copytruncate: logrotate copies and truncates in place. Lines written between its copy and
    // its truncation are lost by logrotate itself (logrotate(8)), so the writer pauses around it
    // and the tailer is let catch up: what is tested is that the truncated file is read again
    // from its start.
    r.writer().pause();
    r.delivered(r.writer().written());
    logrotate(&dir, "copytruncate", "rotate 5\ncopytruncate");
    r.d.wait_file_text(&dir.join("app.pos"), WAIT, |t| {
        t.contains("\t0000000000000000\t")
    });
    r.writer().resume();
    r.step(3000);
    let total = r.stop_writing();
    assert!(total >= 20_000, "{total}");
    // Every rotated file is closed once read (rotate_wait 1 s): one descriptor, app.log's.
    let start = Instant::now();
    while log_fds(&r.d) != 1 {
        assert!(
            start.elapsed() < WAIT,
            "{} descriptors on app.log*",
            log_fds(&r.d)
        );
        thread::sleep(Duration::from_millis(50));
    }
    r.assert_exactly_once(total);
    let rotations = r.d.stderr().matches("detected rotation of").count();
    assert!(
        rotations >= 7,
        "{rotations} rotations logged:\n{}",
        r.d.stderr()
    );
}

// ---------------------------------------------------------------------------------------------
// Positions, memory, backpressure.

/// Write `{"seq":N}` lines for `range` into a new file.
fn write_lines(path: &Path, range: std::ops::Range<u64>) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in range {
        writeln!(f, "{{\"seq\":{i}}}").unwrap();
    }
    f.flush().unwrap();
}

#[test]
fn kill_9_resumes_at_least_once_from_the_pos_file() {
    const N: u64 = 300_000;
    let mut d = Daemon::start_prepared(&rotate_conf(), &[], &[], &|dir| {
        write_lines(&dir.join("app.log"), 0..N);
    });
    let out = d.dir.path().join("out");
    wait_until(&d, &out, "seq", |g| g.len() > 30_000);
    d.kill9();
    let at_kill = seqs(&out, "seq").len();
    assert!((at_kill as u64) < N, "everything was read before the kill");
    d.restart();
    let got = wait_until(&d, &out, "seq", |g| g.len() as u64 == N);
    // Only what was written out but not yet recorded comes again: at most one batch.
    let dups: u64 = got.values().map(|c| u64::from(*c - 1)).sum();
    assert!(dups <= 10_000, "{dups} lines delivered twice");
    let size = std::fs::metadata(d.path("app.log")).unwrap().len();
    d.wait_file_text(&d.path("app.pos"), WAIT, |_| {
        recorded_pos(&d.path("app.pos")) == size
    });
}

#[test]
fn read_from_head_on_a_large_file_keeps_memory_bounded() {
    // 256 MiB of 4 KiB lines; the daemon reads it all with its resident memory far below that.
    const SIZE: u64 = 256 << 20;
    let conf = r#"
<source>
  @type tail
  path {DIR}/big.log
  pos_file {DIR}/big.pos
  tag big
  read_from_head true
  <parse>
    @type none
  </parse>
</source>
<match big>
  @type null
</match>
"#;
    let d = Daemon::start_prepared(conf, &[], &[], &|dir| {
        std::fs::write(dir.join("big.log"), "").unwrap();
    });
    // Written after the start, so the daemon reads while it grows, then catches up.
    let line = format!("{}\n", "x".repeat(4095));
    read_big_file_with_bounded_memory(&d, line.as_bytes(), SIZE / 4096);
    std::fs::remove_file(d.path("big.log")).unwrap();
}

/// app.log into an output that cannot write while `{DIR}/blocked` is a file (its small memory
/// buffer fills, then refuses), and writes to `{DIR}/blocked/seq*` once it is removed. The
/// directory comes from the tag (`blocked`): out_file checks at start-up that a test chunk's path
/// (tag `a`) could be written, as Fluentd does, and `{DIR}/a` can be.
fn blocked_conf(rotate_wait: u32) -> String {
    seq_conf("", &format!("  read_from_head true\n  rotate_wait {rotate_wait}\n"))
        .replace("  tag app\n", "  tag blocked\n")
        .replace("<match app>", "<match blocked>")
        .replace(
        "  path {DIR}/out/seq\n  append true\n",
        "  path {DIR}/${tag}/seq\n  append true\n  <buffer tag>\n    @type memory\n    chunk_limit_size 64k\n    total_limit_size 256k\n    flush_mode interval\n    flush_interval 0.2\n    retry_wait 0.2\n    retry_max_interval 0.5\n    retry_forever true\n    overflow_action throw_exception\n  </buffer>\n",
    )
}

#[test]
fn a_file_rotated_while_the_buffer_refuses_is_read_to_its_end() {
    // The buffer refuses while app.log is rotated (logrotate create) and the new app.log is
    // written: the rotated file stays open (rotate_wait 0: its detach is tried at once, refused,
    // tried again) until its lines are accepted; then both files' lines arrive, each once, and
    // the rotated file is closed.
    const N: u64 = 20_000;
    let mut d = Daemon::start_prepared(&blocked_conf(0), &[], &[], &|dir| {
        std::fs::write(dir.join("blocked"), "not a directory").unwrap();
        write_lines(&dir.join("app.log"), 0..N);
    });
    d.wait_for_log("reading stops until the events are accepted", WAIT);
    let dir = d.dir.path().to_path_buf();
    logrotate(&dir, "create", "rotate 5\ncreate");
    append(&dir.join("app.log"), N..N + 5000);
    d.wait_for_log("detected rotation of", WAIT);
    std::fs::remove_file(dir.join("blocked")).unwrap();
    wait_until(&d, &dir.join("blocked"), "seq", |g| {
        g.len() as u64 == N + 5000
    });
    let start = Instant::now();
    while log_fds(&d) != 1 {
        assert!(
            start.elapsed() < WAIT,
            "{} descriptors on app.log*",
            log_fds(&d)
        );
        thread::sleep(Duration::from_millis(50));
    }
    assert!(d.terminate().success());
    let got = seqs(&dir.join("blocked"), "seq");
    assert_eq!(got.len() as u64, N + 5000);
    assert!(got.values().all(|c| *c == 1), "lines delivered twice");
}

#[test]
fn a_full_buffer_stops_the_reading_and_nothing_is_lost() {
    // The output cannot write (its directory is a file): its small buffer fills, the router
    // refuses, the tail input stops reading that file; once the output writes again, every line
    // arrives exactly once.
    const N: u64 = 40_000;
    let conf = blocked_conf(5);
    let d = Daemon::start_prepared(&conf, &[], &[], &|dir| {
        std::fs::write(dir.join("blocked"), "not a directory").unwrap();
        write_lines(&dir.join("app.log"), 0..N);
    });
    d.wait_for_log("reading stops until the events are accepted", WAIT);
    let size = std::fs::metadata(d.path("app.log")).unwrap().len();
    let held = recorded_pos(&d.path("app.pos"));
    assert!(
        held < size,
        "the position went to the end ({held}) though the buffer refused"
    );
    std::fs::remove_file(d.path("blocked")).unwrap();
    let got = wait_until(&d, &d.path("blocked"), "seq", |g| g.len() as u64 == N);
    assert!(got.values().all(|c| *c == 1), "lines delivered twice");
    d.wait_file_text(&d.path("app.pos"), WAIT, |_| {
        recorded_pos(&d.path("app.pos")) == size
    });
    assert!(d.stderr().contains("events are accepted again"));
}

#[test]
fn what_cannot_be_honoured_is_refused_at_start_up_with_file_and_line() {
    let cases = [
        (
            "  <group>\n    <rule>\n      limit 10\n    </rule>\n  </group>\n",
            "<group> is not supported",
        ),
        (
            "  from_encoding Shift_JIS\n",
            "must be specified with 'encoding'",
        ),
        (
            "  encoding UTF-16LE\n  from_encoding UTF-8\n",
            "ASCII-compatible",
        ),
        (
            "  encoding UTF-8\n  from_encoding unicode\n",
            "unknown encoding name",
        ),
        ("  encoding nope\n", "unknown encoding name"),
        (
            "  enable_watch_timer false\n  enable_stat_watcher false\n",
            "either of enable_watch_timer or enable_stat_watcher",
        ),
        (
            "  follow_inodes true\n",
            "Can't follow inodes without pos_file",
        ),
        ("  path_delimiter *\n", "reserved words"),
    ];
    for (extra, want) in cases {
        let conf = format!(
            "<source>\n  @type tail\n  path {{DIR}}/a.log\n  tag a\n{extra}  <parse>\n    @type none\n  </parse>\n</source>\n"
        );
        let (out, _dir) = run_once(&conf, &["--dry-run"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{extra}: accepted");
        assert!(err.contains(want), "{extra}: {err}");
        assert!(
            err.contains("fluent.conf:"),
            "{extra}: no file:line in {err}"
        );
    }
    // Without <parse> or format.
    let (out, _dir) = run_once(
        "<source>\n  @type tail\n  path {DIR}/a.log\n  tag a\n</source>\n",
        &["--dry-run"],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("<parse> section is required"));
}

#[test]
fn follow_inodes_with_a_glob_over_rotated_files_reads_each_line_once() {
    // `path app.log*` names the rotated files too: with follow_inodes they are known by inode,
    // so a rotated file is not read again under its new name, also when the path list is
    // refreshed while it is still being read (rotate_wait 2 s, refresh every second).
    let conf = seq_conf(
        "*",
        "  read_from_head true\n  follow_inodes true\n  rotate_wait 2\n  refresh_interval 1\n",
    );
    let mut r = Rig::start(&conf);
    let dir = r.dir.clone();
    r.step(3000);
    for _ in 0..3 {
        logrotate(&dir, "create", "rotate 5\ncreate");
        r.step(3000);
    }
    // Past rotate_wait and a refresh, the rotated files are followed under their new names,
    // by inode: from where the old name's reading stopped, so nothing is read again.
    let start = Instant::now();
    while !(1..=3).all(|i| {
        r.d.stderr()
            .contains(&format!("following tail of {}/app.log.{i} ", dir.display()))
    }) {
        assert!(
            start.elapsed() < WAIT,
            "rotated files never picked up:\n{}",
            r.d.stderr()
        );
        r.step(500);
    }
    let total = r.stop_writing();
    r.assert_exactly_once(total);
    // The pos file is keyed by inode: one live entry per file.
    let pos = std::fs::read_to_string(dir.join("app.pos")).unwrap();
    let live: Vec<&str> = pos
        .lines()
        .filter(|l| !l.contains("\tffffffffffffffff\t"))
        .collect();
    assert_eq!(live.len(), 4, "{pos}");
}

#[test]
fn a_held_multiline_event_is_not_counted_as_read_and_survives_kill_9() {
    let conf = r#"
<source>
  @type tail
  path {DIR}/ml.log
  pos_file {DIR}/ml.pos
  tag ml
  read_from_head true
  <parse>
    @type multiline
    format_firstline /^\d+:/
    format1 /^(?<n>\d+): (?<msg>.*)/
  </parse>
</source>
<match ml>
  @type file
  path {DIR}/out/ml
  append true
  <format>
    @type json
  </format>
</match>
"#;
    let mut d = Daemon::start_prepared(conf, &[], &[], &|dir| {
        std::fs::write(dir.join("ml.log"), "1: a\n  b\n2: c\n").unwrap();
    });
    let read = |d: &Daemon| {
        let mut lines = Vec::new();
        for e in std::fs::read_dir(d.path("out"))
            .into_iter()
            .flatten()
            .flatten()
        {
            lines.extend(
                std::fs::read_to_string(e.path())
                    .unwrap_or_default()
                    .lines()
                    .map(str::to_string),
            );
        }
        lines
    };
    let start = Instant::now();
    while read(&d).is_empty() {
        assert!(start.elapsed() < WAIT, "{}", d.stderr());
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(read(&d), [r#"{"n":"1","msg":"a\n  b"}"#]);
    // "2: c" is held (its event may go on): the position stays at its start, byte 9.
    d.wait_file_text(&d.path("ml.pos"), WAIT, |_| {
        recorded_pos(&d.path("ml.pos")) == 9
    });
    d.kill9();
    d.restart();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(d.path("ml.log"))
        .unwrap();
    f.write_all(b"  d\n3: e\n").unwrap();
    let start = Instant::now();
    while read(&d).len() < 2 {
        assert!(start.elapsed() < WAIT, "{}", d.stderr());
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        read(&d),
        [r#"{"n":"1","msg":"a\n  b"}"#, r#"{"n":"2","msg":"c\n  d"}"#]
    );
    d.wait_file_text(&d.path("ml.pos"), WAIT, |_| {
        recorded_pos(&d.path("ml.pos")) == 18
    });
}

#[test]
fn pos_file_through_rename_delete_and_recreate_as_fluentd() {
    // tests/tail/pos-scenario.sh on Fluentd 1.16.11 (its output is recorded next to it): the
    // entry is rewritten in place with the new inode after a rename, set to ffffffffffffffff
    // once the deleted file leaves the path list, and a re-created file gets a new entry.
    let conf = r#"
<source>
  @type tail
  path {DIR}/app.log
  pos_file {DIR}/app.pos
  tag app
  read_from_head true
  rotate_wait 1
  refresh_interval 1
  <parse>
    @type none
  </parse>
</source>
<match **>
  @type null
</match>
"#;
    let d = Daemon::start_prepared(conf, &[], &[], &|dir| {
        std::fs::write(dir.join("app.log"), "a\nb\nc\n").unwrap();
    });
    let root = d.dir.path().display().to_string();
    let entry = |pos: &str, ino: u64| format!("{root}/app.log\t{pos}\t{ino:016x}\n");
    let pos_path = d.path("app.pos");
    let first = inode(&d.path("app.log"));
    d.wait_file_text(&pos_path, WAIT, |t| t == entry("0000000000000006", first));
    std::fs::rename(d.path("app.log"), d.path("app.log.1")).unwrap();
    std::fs::write(d.path("app.log"), "dd\nee\n").unwrap();
    let second = inode(&d.path("app.log"));
    d.wait_file_text(&pos_path, WAIT, |t| t == entry("0000000000000006", second));
    std::fs::remove_file(d.path("app.log")).unwrap();
    d.wait_file_text(&pos_path, WAIT, |t| t == entry("ffffffffffffffff", second));
    std::fs::write(d.path("app.log"), "ff\n").unwrap();
    let third = inode(&d.path("app.log"));
    d.wait_file_text(&pos_path, WAIT, |t| {
        t == entry("ffffffffffffffff", second) + &entry("0000000000000003", third)
    });
}

// ---------------------------------------------------------------------------------------------
// Parameters.

fn wait_out(d: &Daemon, n: usize) -> Vec<String> {
    let start = Instant::now();
    loop {
        let l = out_lines(d);
        if l.len() >= n {
            return l;
        }
        assert!(start.elapsed() < WAIT, "got {l:?}; stderr:\n{}", d.stderr());
        thread::sleep(Duration::from_millis(20));
    }
}

/// A tail source with `params` (and `{DIR}/in/` holding the files) into `{DIR}/out/` as JSON.
fn params_conf(path: &str, params: &str, parse: &str) -> String {
    format!(
        "<source>\n  @type tail\n  path {{DIR}}/in/{path}\n  tag t\n{params}  <parse>\n    @type {parse}\n  </parse>\n</source>\n<match t>\n  @type file\n  path {{DIR}}/out/t\n  append true\n  <format>\n    @type json\n  </format>\n</match>\n"
    )
}

#[test]
fn one_watcher_alone_still_follows_the_file() {
    for watcher in ["enable_stat_watcher false", "enable_watch_timer false"] {
        let conf = params_conf("a.log", &format!("  {watcher}\n"), "none");
        let d = Daemon::start_prepared(&conf, &[], &[], &|dir| {
            std::fs::create_dir_all(dir.join("in")).unwrap();
            std::fs::write(dir.join("in/a.log"), "old\n").unwrap();
        });
        d.wait_for_log("following tail of", WAIT);
        // Not read from the head (no pos file, read_from_head false): only what comes next.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(d.path("in/a.log"))
            .unwrap();
        f.write_all(b"new\n").unwrap();
        assert_eq!(wait_out(&d, 1), [r#"{"message":"new"}"#], "{watcher}");
    }
}

#[test]
fn encoding_strftime_paths_and_limit_recently_modified() {
    let year = Command::new("date")
        .args(["-u", "+%Y"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap();
    let conf = params_conf(
        "%Y/*.log",
        "  read_from_head true\n  path_timezone Etc/UTC\n  from_encoding Shift_JIS\n  encoding UTF-8\n  limit_recently_modified 1d\n  path_key file\n",
        "none",
    );
    let d = Daemon::start_prepared(&conf, &[], &[], &|dir| {
        let y = dir.join("in").join(&year);
        std::fs::create_dir_all(&y).unwrap();
        // あ in Shift_JIS.
        std::fs::write(y.join("new.log"), b"\x82\xa0\n").unwrap();
        std::fs::write(y.join("old.log"), b"old\n").unwrap();
        let st = Command::new("touch")
            .args(["-d", "3 days ago"])
            .arg(y.join("old.log"))
            .status()
            .unwrap();
        assert!(st.success());
    });
    let got = wait_out(&d, 1);
    let file = d.path(&format!("in/{year}/new.log")).display().to_string();
    assert_eq!(got, [format!(r#"{{"message":"あ","file":"{file}"}}"#)]);
    assert!(!d.stderr().contains("old.log"), "{}", d.stderr());
}

#[test]
fn open_on_every_update_holds_no_descriptor_between_reads() {
    let conf = params_conf(
        "a.log",
        "  read_from_head true\n  open_on_every_update true\n",
        "none",
    ) + "<source>\n  @type prometheus\n  bind 127.0.0.1\n  port {PORT}\n</source>\n";
    let d = Daemon::start_prepared(&conf, &[], &[], &|dir| {
        std::fs::create_dir_all(dir.join("in")).unwrap();
        std::fs::write(dir.join("in/a.log"), "one\n").unwrap();
    });
    wait_out(&d, 1);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(d.path("in/a.log"))
        .unwrap();
    f.write_all(b"two\n").unwrap();
    assert_eq!(
        wait_out(&d, 2),
        [r#"{"message":"one"}"#, r#"{"message":"two"}"#]
    );
    let target = d.path("in/a.log").display().to_string();
    let open = || {
        std::fs::read_dir(format!("/proc/{}/fd", d.pid()))
            .unwrap()
            .flatten()
            .filter(|e| {
                std::fs::read_link(e.path()).is_ok_and(|t| t.display().to_string() == target)
            })
            .count()
    };
    let start = Instant::now();
    while open() != 0 {
        assert!(start.elapsed() < WAIT, "a.log stays open");
        thread::sleep(Duration::from_millis(20));
    }
    // Opened and closed at each look: the counters on /metrics say so.
    let metrics = http_get(d.port, "/metrics");
    let counter = |name: &str| -> u64 {
        metrics
            .lines()
            .find(|l| l.starts_with(name) && l.contains("type=\"tail\""))
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in:\n{metrics}"))
    };
    assert!(counter("logferry_files_opened_total") >= 2, "{metrics}");
    assert!(counter("logferry_files_closed_total") >= 2, "{metrics}");
    assert_eq!(counter("logferry_input_records_total"), 2, "{metrics}");
}

/// The body of a plain HTTP GET on 127.0.0.1.
fn http_get(port: u16, path: &str) -> String {
    use std::io::Read;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp.split_once("\r\n\r\n")
        .map(|x| x.1.to_string())
        .unwrap_or_default()
}

#[test]
fn compaction_drops_unwatched_entries_from_the_pos_file() {
    let conf = params_conf(
        "*.log",
        "  read_from_head true\n  pos_file {DIR}/t.pos\n  refresh_interval 1\n  rotate_wait 0\n  pos_file_compaction_interval 1\n",
        "none",
    );
    let d = Daemon::start_prepared(&conf, &[], &[], &|dir| {
        std::fs::create_dir_all(dir.join("in")).unwrap();
        std::fs::write(dir.join("in/a.log"), "a\n").unwrap();
        std::fs::write(dir.join("in/b.log"), "b\n").unwrap();
    });
    wait_out(&d, 2);
    let b_ino = inode(&d.path("in/b.log"));
    std::fs::remove_file(d.path("in/a.log")).unwrap();
    // a.log leaves the list (unwatched), then compaction removes its line.
    let root = d.dir.path().display().to_string();
    d.wait_file_text(&d.path("t.pos"), WAIT, |t| {
        t == format!("{root}/in/b.log\t0000000000000002\t{b_ino:016x}\n")
    });
    assert!(d.stderr().contains("Clean up the pos file"));
}

#[test]
fn throttled_reading_still_delivers_every_line() {
    // read_bytes_limit_per_second at its minimum (8 KiB).
    let conf = params_conf(
        "a.log",
        "  read_from_head true\n  read_bytes_limit_per_second 8192\n  read_lines_limit 10\n",
        "json",
    );
    let d = Daemon::start_prepared(&conf, &[], &[], &|dir| {
        std::fs::create_dir_all(dir.join("in")).unwrap();
        let mut text = String::new();
        for i in 0..1000 {
            text.push_str(&format!("{{\"seq\":{i},\"pad\":\"0123456\"}}\n"));
        }
        std::fs::write(dir.join("in/a.log"), text).unwrap();
    });
    let started = Instant::now();
    let got = wait_out(&d, 1000);
    // 28 KiB at 8 KiB a second need at least three one-second windows: a lower bound only a
    // reader ignoring the limit would miss.
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "read in {:?}: not throttled",
        started.elapsed()
    );
    let want: Vec<String> = (0..1000)
        .map(|i| format!("{{\"seq\":{i},\"pad\":\"0123456\"}}"))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn a_file_appearing_after_the_start_is_read_from_its_head() {
    // Fluentd: read_from_head false applies to the files there at start; a file a later refresh
    // finds is new, and read whole.
    let conf = params_conf("*.log", "  refresh_interval 1\n", "none");
    let d = Daemon::start_prepared(&conf, &[], &[], &|dir| {
        std::fs::create_dir_all(dir.join("in")).unwrap();
        std::fs::write(dir.join("in/a.log"), "before the start\n").unwrap();
    });
    d.wait_for_log("following tail of", WAIT);
    std::fs::write(d.path("in/b.log"), "first\nsecond\n").unwrap();
    assert_eq!(
        wait_out(&d, 2),
        [r#"{"message":"first"}"#, r#"{"message":"second"}"#]
    );
}

#[test]
fn the_none_parser_keeps_bytes_that_are_not_utf8() {
    // Recorded from Fluentd 1.16.11 (tail + none + out_file single_value): "caf\xe9\nok\n".
    let conf = "<source>\n  @type tail\n  path {DIR}/in/a.log\n  tag t\n  read_from_head true\n  <parse>\n    @type none\n  </parse>\n</source>\n<match t>\n  @type file\n  path {DIR}/out/t\n  append true\n  <format>\n    @type single_value\n  </format>\n</match>\n";
    let d = Daemon::start_prepared(conf, &[], &[], &|dir| {
        std::fs::create_dir_all(dir.join("in")).unwrap();
        std::fs::write(dir.join("in/a.log"), b"caf\xe9\nok\n").unwrap();
    });
    let start = Instant::now();
    loop {
        let bytes: Vec<u8> = std::fs::read_dir(d.path("out"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().is_file())
            .flat_map(|e| std::fs::read(e.path()).unwrap_or_default())
            .collect();
        if bytes == b"caf\xe9\nok\n" {
            break;
        }
        assert!(
            start.elapsed() < WAIT,
            "got {bytes:?}; stderr:\n{}",
            d.stderr()
        );
        thread::sleep(Duration::from_millis(20));
    }
}
