//! Drop-in fidelity end to end: out_file `symlink_path`, `<filter> @type stdout`, `<worker N>`.
//! Expected behaviour recorded from Fluentd 1.16.11 (see docs/corpus.md and README.md).

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use logferry_forward::encode;
use logferry_msgpack::{EventTime, Value};
use support::*;

const WAIT: Duration = Duration::from_secs(10);

fn send_at(d: &Daemon, tag: &str, sec: u32, record: &Value) {
    let mut s = d.connect();
    let mut entries = vec![0x92];
    EventTime::new(sec, 0).encode(&mut entries);
    record.encode(&mut entries);
    let mut f = Vec::new();
    encode::packed_forward(
        tag,
        &entries,
        1,
        Some("id"),
        encode::Compression::Text,
        &mut f,
    );
    send(&mut s, &f);
    read_msgpack(&mut s);
}

fn rec(k: &str, v: &str) -> Value {
    Value::Map(vec![(Value::Str(k.into()), Value::Str(v.into()))])
}

/// Wait until `link` is a symlink whose target differs from `not` and whose text holds `needle`;
/// returns the target.
fn wait_link(d: &Daemon, link: &Path, not: Option<&Path>, needle: &str) -> PathBuf {
    let start = Instant::now();
    loop {
        if let Ok(target) = std::fs::read_link(link) {
            let text = std::fs::read_to_string(link).unwrap_or_default();
            if Some(target.as_path()) != not && text.contains(needle) {
                return target;
            }
        }
        if start.elapsed() > WAIT {
            panic!(
                "{} never pointed at a file holding {needle:?} (now {:?}); stderr:\n{}",
                link.display(),
                std::fs::read_link(link),
                d.stderr()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn now() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32
}

/// Fluentd 1.16 points `symlink_path` at its newest buffer chunk, by absolute path, as soon as
/// the chunk is created, and moves it when a chunk of a later time slice starts; a late event
/// for an older slice does not move it. The config is the official Docker image's, scaled to
/// one-minute slices (events an hour ahead keep their chunks staged).
#[test]
fn symlink_path_follows_the_chunk_being_written() {
    let d = Daemon::start(
        "<source>\n@type forward\nport {PORT}\nbind 127.0.0.1\n</source>\n<match docker.**>\n@type file\npath {DIR}/log/docker.*.log\nsymlink_path {DIR}/log/docker.log\nappend true\ntime_slice_format %Y%m%d%H%M\ntime_slice_wait 1h\ntime_format %Y%m%dT%H%M%S%z\n</match>\n",
    );
    let link = d.path("log/docker.log");
    let t = (now() / 60 + 60) * 60;
    send_at(&d, "docker.a", t, &rec("m", "first"));
    let first = wait_link(&d, &link, None, "\"first\"");
    assert!(first.is_absolute(), "{}", first.display());
    assert!(first.starts_with(d.path("log")), "{}", first.display());
    // More events of the same slice go into the same chunk: the link stays.
    send_at(&d, "docker.a", t + 1, &rec("m", "second"));
    d.wait_file_text(&link, WAIT, |s| s.contains("\"second\""));
    assert_eq!(std::fs::read_link(&link).unwrap(), first);
    // A later slice: a new chunk, and the link follows it.
    send_at(&d, "docker.a", t + 60, &rec("m", "next-slice"));
    let second = wait_link(&d, &link, Some(&first), "\"next-slice\"");
    let text = std::fs::read_to_string(&link).unwrap();
    assert!(
        text.ends_with("\tdocker.a\t{\"m\":\"next-slice\"}\n"),
        "{text:?}"
    );
    assert!(!text.contains("first"), "{text:?}");
    // A late event of the older slice goes to its own chunk; the link does not move back.
    send_at(&d, "docker.a", t + 2, &rec("m", "late"));
    d.wait_file_text(&first, WAIT, |s| s.contains("\"late\""));
    assert_eq!(std::fs::read_link(&link).unwrap(), second);
}

/// Without a buffer logferry writes each batch straight into the day's file: the link points at
/// that file, and follows the next day's.
#[test]
fn symlink_path_without_buffer_points_at_the_output_file() {
    let d = Daemon::start(
        "<source>\n@type forward\nport {PORT}\nbind 127.0.0.1\n</source>\n<match **>\n@type file\npath {DIR}/out\nappend true\nsymlink_path {DIR}/current.log\n</match>\n",
    );
    let link = d.path("current.log");
    send_at(&d, "app", 1_700_000_000, &rec("m", "day1"));
    let day1 = wait_link(&d, &link, None, "day1");
    assert_eq!(day1, d.path("out.20231114.log"));
    send_at(&d, "app", 1_700_000_000 + 86_400, &rec("m", "day2"));
    let day2 = wait_link(&d, &link, Some(&day1), "day2");
    assert_eq!(day2, d.path("out.20231115.log"));
}

#[test]
fn symlink_path_refusals() {
    let (out, _dir) = run_once(
        "<match **>\n@type file\npath {DIR}/out\nsymlink_path {DIR}/l\n<buffer>\n@type memory\n</buffer>\n</match>\n",
        &["--dry-run"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains(":4:1: symlink_path links to the file buffer's current chunk, and this buffer is in memory"), "{err}");
    let (out, _dir) = run_once(
        "<match **>\n@type forward\n<server>\nhost 127.0.0.1\n</server>\n<secondary>\n@type file\npath {DIR}/s\nsymlink_path {DIR}/l\n</secondary>\n</match>\n",
        &["--dry-run"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains(":9:1: symlink_path option is unavailable in <secondary>: consider to use secondary_file plugin"), "{err}");
}

/// `<filter> @type stdout` prints each event as out_stdout does (its `<inject>` changes the
/// printed line only) and passes it on unchanged.
#[test]
fn stdout_filter_prints_and_passes_on() {
    let d = Daemon::start(
        "<source>\n@type forward\nport {PORT}\nbind 127.0.0.1\n</source>\n<filter **>\n@type stdout\n<inject>\ntag_key printed_tag\n</inject>\n</filter>\n<match **>\n@type file\npath {DIR}/out\nappend true\n<format>\n@type json\n</format>\n</match>\n",
    );
    send_at(&d, "app.x", 1_700_000_000, &rec("a", "1"));
    let lines = d.wait_stdout_lines(1, WAIT);
    assert_eq!(
        lines,
        ["2023-11-14 22:13:20.000000000 +0000 app.x: {\"a\":\"1\",\"printed_tag\":\"app.x\"}"]
    );
    let text = d.wait_file_text(&d.path("out.20231114.log"), WAIT, |s| s.ends_with('\n'));
    assert_eq!(text, "{\"a\":\"1\"}\n");
}

/// `<system> workers 3` with `<worker 0>` and `<worker 1-2>`: one process serves both, each
/// worker's sources routed only through its own sections (as each Fluentd worker process
/// routes), and one info line says so.
#[test]
fn worker_sections_keep_their_own_routing() {
    let d = Daemon::start(
        "<system>\nworkers 3\n</system>\n<worker 0>\n<source>\n@type forward\nport {PORT}\nbind 127.0.0.1\n</source>\n<match fwd.**>\n@type file\npath {DIR}/w0\nappend true\n<format>\n@type json\n</format>\n</match>\n</worker>\n<worker 1-2>\n<source>\n@type sample\ntag side.s\nsample {\"from\":\"sample\"}\n</source>\n<match **>\n@type file\npath {DIR}/w12\nappend true\n<format>\n@type json\n</format>\n</match>\n</worker>\n",
    );
    // Worker 0 has no <match> for side.*: Fluentd's worker 0 drops it, it must not reach the
    // <match **> of workers 1-2.
    send_at(&d, "side.y", 1_700_000_000, &rec("from", "forward-side"));
    d.wait_for_log("no patterns matched", WAIT);
    assert!(d.stderr().contains("side.y"), "{}", d.stderr());
    send_at(&d, "fwd.a", 1_700_000_000, &rec("from", "forward"));
    let w0 = d.wait_file_text(&d.path("w0.20231114.log"), WAIT, |s| s.ends_with('\n'));
    assert_eq!(w0, "{\"from\":\"forward\"}\n");
    // The sample input of workers 1-2 goes to their own <match **> (into the file of today).
    let start = Instant::now();
    let w12 = loop {
        let text: String = std::fs::read_dir(d.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("w12."))
            .map(|n| std::fs::read_to_string(d.path(&n)).unwrap_or_default())
            .collect();
        if text.ends_with('\n') {
            break text;
        }
        assert!(
            start.elapsed() < WAIT,
            "no sample events in w12.*; stderr:\n{}",
            d.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(w12.lines().all(|l| l == "{\"from\":\"sample\"}"), "{w12}");
    let log = d.stderr();
    assert_eq!(
        log.matches("workers 3: logferry runs one process").count(),
        1,
        "{log}"
    );
    assert!(
        log.contains("the sections of <worker 0>, <worker 1-2> included"),
        "{log}"
    );
}
