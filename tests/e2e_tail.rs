//! The tail input end to end: what Fluentd 1.16.11 emitted and wrote in its pos file on the same
//! files (recorded, tests/tail/), taking up a Fluentd pos file, every way Debian's `logrotate`
//! rotates under a writer at 10,000 lines a second (every line exactly once), `kill -9` resuming
//! at-least-once, memory bounded on a large file read from its head, and a full buffer that
//! stops the reading without losing anything.

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

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
    let conf = r#"
<source>
  @type tail
  path {DIR}/app.log
  pos_file {DIR}/app.pos
  tag app
  <parse>
    @type json
  </parse>
</source>
<match app>
  @type file
  path {DIR}/out/seq
  append true
</match>
"#;
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
        assert!(
            start.elapsed() < WAIT,
            "never complete: {} seqs delivered; stderr:\n{}",
            got.len(),
            d.stderr()
        );
        thread::sleep(Duration::from_millis(50));
    }
}
