//! The buffer engine end to end on the built binary: kill -9 and SIGTERM under acknowledged load,
//! retries and the secondary, backups, quarantine of broken chunk files, overflow, SIGUSR1, and
//! the v0.12 flat parameters. Delivery is at-least-once: every acknowledged event arrives; a crash
//! between a write and its bookkeeping can repeat a chunk.

mod support;

use std::collections::BTreeSet;
use std::io::Read;
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use support::acked::*;
use support::*;

/// Encode a PackedForward batch of `n` events with seq `from..from+n`, acked with `id`.
fn frame(from: u64, n: u64, id: &str) -> Vec<u8> {
    tagged("load", from, n, id)
}

const FILE_BUFFERED: &str = "
<source>
  @type forward
  port {PORT}
  bind 127.0.0.1
</source>
<match **>
  @type file
  path {DIR}/out
  append true
  <format>
    @type json
  </format>
  <buffer>
    @type file
    path {DIR}/buf
    flush_mode interval
    flush_interval 0.3
    flush_at_shutdown true
  </buffer>
</match>
";

/// kill -9 at random points under acknowledged load, then restart, 20 times: every acknowledged
/// event is delivered (at-least-once).
#[test]
fn kill9_under_acked_load_loses_nothing() {
    let mut d = Daemon::start(FILE_BUFFERED);
    let stop = Arc::new(AtomicBool::new(false));
    let client = acked_client(d.port, stop.clone(), 50);
    // Pseudo-random points (a fixed LCG, so a failure can be replayed).
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    for _cycle in 0..20 {
        rng = rng
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        thread::sleep(Duration::from_millis(100 + (rng >> 33) % 400));
        d.kill9();
        thread::sleep(Duration::from_millis(50));
        d.restart();
    }
    thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    let acked = client.join().unwrap();
    assert!(
        acked.len() > 1000,
        "the load was too small to mean anything: {}",
        acked.len()
    );
    let got = wait_delivered(&d, "out.", &acked, Duration::from_secs(30));
    let dups = got.values().filter(|c| **c > 1).count();
    eprintln!(
        "acked {} events, delivered {} distinct, {dups} repeated (at-least-once)",
        acked.len(),
        got.len()
    );
    assert!(
        d.stderr().matches("resumed").count() > 0,
        "restarts must resume chunks:\n{}",
        d.stderr()
    );
    assert!(d.terminate().success());
}

/// SIGTERM under load, 20 times: exits 0 within the drain deadline (`--shutdown-timeout 10`),
/// and every acknowledged event was flushed (memory buffer, flushed only at shutdown).
#[test]
fn sigterm_under_load_loses_nothing() {
    let conf = FILE_BUFFERED
        .replace("@type file\n    path {DIR}/buf\n", "@type memory\n")
        .replace("flush_interval 0.3", "flush_interval 3600");
    let mut d = Daemon::start_with(&conf, &["--shutdown-timeout", "10"], &[]);
    let mut all = BTreeSet::new();
    for cycle in 0..20u64 {
        let stop = Arc::new(AtomicBool::new(false));
        // Each run sends distinct seqs, so a loss in any run shows.
        let client = acked_client_from(d.port, "load", cycle * 1_000_000, stop.clone(), 20);
        thread::sleep(Duration::from_millis(200 + (cycle * 37) % 200));
        let t = Instant::now();
        d.signal("TERM");
        let st = d.wait_exit(Duration::from_secs(30));
        let took = t.elapsed();
        stop.store(true, Ordering::Relaxed);
        let acked = client.join().unwrap();
        assert!(!acked.is_empty(), "cycle {cycle}: no load was acknowledged");
        all.extend(acked);
        assert!(st.success(), "cycle {cycle}: exit status {st:?}");
        assert!(
            took < Duration::from_secs(11),
            "cycle {cycle}: exit took {took:?}, over the 10 s drain deadline"
        );
        d.restart();
    }
    let got = delivered(d.dir.path(), "out.");
    let missing = all.iter().filter(|s| !got.contains_key(s)).count();
    assert_eq!(
        missing,
        0,
        "acknowledged events lost at SIGTERM; log:\n{}",
        d.stderr()
    );
    assert!(d.terminate().success());
}

/// A failing output retries on its schedule, then the secondary takes the chunk; with no
/// secondary and retry_max_times reached, the chunk is backed up under root_dir.
#[test]
fn retries_then_secondary_then_backup() {
    let conf = "
<system>
  root_dir {DIR}/root
</system>
<source>
  @type forward
  port {PORT}
  bind 127.0.0.1
</source>
<match with.secondary>
  @type file
  @id primary
  path {DIR}/blocked/out
  <buffer>
    @type memory
    flush_mode immediate
    retry_wait 0.2
    retry_max_times 2
    retry_randomize false
  </buffer>
  <secondary>
    @type secondary_file
    directory {DIR}/sec
    basename dump
  </secondary>
</match>
<match without.secondary>
  @type file
  @id lonely
  path {DIR}/blocked/out2
  <format>
    @type json
  </format>
  <buffer>
    @type memory
    flush_mode immediate
    retry_wait 0.1
    retry_max_times 1
  </buffer>
</match>
";
    let mut d = Daemon::start(conf);
    std::fs::write(d.path("blocked"), "a file where a directory should be").unwrap();
    let mut s = d.connect();
    send(&mut s, &tagged("with.secondary", 0, 3, "x"));
    read_msgpack(&mut s);
    send(&mut s, &tagged("without.secondary", 10, 2, "y"));
    read_msgpack(&mut s);
    let dumped = d.wait_file_text(&d.path("sec/dump.0"), Duration::from_secs(10), |s| {
        s.lines().count() >= 3 && s.ends_with('\n')
    });
    assert_eq!(dumped.lines().count(), 3, "{dumped}");
    assert!(dumped.contains("\twith.secondary\t{\"seq\":0}"), "{dumped}");
    // The log is read through a pipe by another thread: wait for it rather than
    // assume it is already there when the file is.
    d.wait_for_log("retry #0", Duration::from_secs(10));
    d.wait_for_log(
        "written to the secondary after retries",
        Duration::from_secs(10),
    );
    let backup = d.path("root/backup/worker0/lonely");
    let t = Instant::now();
    while std::fs::read_dir(&backup).map(|r| r.count()).unwrap_or(0) == 0 {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "no backup; log:\n{}",
            d.stderr()
        );
        thread::sleep(Duration::from_millis(50));
    }
    let f = std::fs::read_dir(&backup)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let want = "{\"seq\":10}\n{\"seq\":11}\n";
    let got = d.wait_file_text(&f, Duration::from_secs(10), |s| s.len() >= want.len());
    assert_eq!(got, want);
    assert!(d.terminate().success());
}

/// A corrupted and a truncated chunk file are quarantined; the good chunk flows.
#[test]
fn broken_chunk_files_are_quarantined() {
    let conf = FILE_BUFFERED
        .replace("flush_interval 0.3", "flush_interval 3600")
        .replace("flush_at_shutdown true", "flush_at_shutdown false");
    let mut d = Daemon::start(&conf);
    let mut s = d.connect();
    send(&mut s, &frame(0, 5, "a"));
    read_msgpack(&mut s);
    d.kill9();
    let buf = d.path("buf");
    let names: Vec<String> = std::fs::read_dir(&buf)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let data = names
        .iter()
        .find(|n| n.starts_with("buffer.b") && n.ends_with(".log"))
        .expect("a staged chunk")
        .clone();
    let hex = &data["buffer.b".len().."buffer.b".len() + 32];
    let twin = |last: char| data.replace(hex, &format!("{}{last}", &hex[..31]));
    // Truncated: data shorter than its committed size.
    let t = twin(if hex.ends_with('0') { '1' } else { '0' });
    let bytes = std::fs::read(buf.join(&data)).unwrap();
    std::fs::write(buf.join(&t), &bytes[..bytes.len() - 3]).unwrap();
    std::fs::copy(
        buf.join(format!("{data}.meta")),
        buf.join(format!("{t}.meta")),
    )
    .unwrap();
    // Corrupted: garbage metadata.
    let c = twin(if hex.ends_with('2') { '3' } else { '2' });
    std::fs::write(buf.join(&c), &bytes).unwrap();
    std::fs::write(
        buf.join(format!("{c}.meta")),
        b"\xc1\x00\x00\x00\x00\x09garbage!!",
    )
    .unwrap();
    d.restart();
    d.signal("USR1");
    let want: BTreeSet<u64> = (0..5).collect();
    let got = wait_delivered(&d, "out.", &want, Duration::from_secs(10));
    assert_eq!(
        got.values().sum::<u32>(),
        5,
        "only the good chunk is delivered: {got:?}"
    );
    let q: Vec<String> = std::fs::read_dir(buf.join("quarantine"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let reasons = q.iter().filter(|n| n.ends_with(".reason")).count();
    assert_eq!(
        q.len() - reasons,
        4,
        "both files of both broken chunks are moved aside: {q:?}"
    );
    assert_eq!(reasons, 2, "each with the reason written beside it: {q:?}");
    d.wait_for_log("quarantine", Duration::from_secs(10));
    assert!(d.terminate().success());
}

/// throw_exception: once the buffer is full, no ack and the connection is closed (the client
/// resends later); SIGUSR1 flushes a memory buffer at once.
#[test]
fn overflow_withholds_acks_and_sigusr1_flushes() {
    let conf = "
<source>
  @type forward
  port {PORT}
  bind 127.0.0.1
</source>
<match full>
  @type file
  path {DIR}/blocked/out
  <buffer>
    @type memory
    flush_mode immediate
    retry_wait 60
    total_limit_size 2k
  </buffer>
</match>
<match held>
  @type file
  path {DIR}/held
  append true
  <format>
    @type json
  </format>
  <buffer>
    @type memory
    flush_interval 3600
  </buffer>
</match>
";
    let mut d = Daemon::start(conf);
    std::fs::write(d.path("blocked"), "x").unwrap();
    let mut s = d.connect();
    let mut refused = false;
    for i in 0..100 {
        send(&mut s, &tagged("full", i * 10, 10, &format!("f{i}")));
        if is_ack_missing(&mut s) {
            refused = true;
            break;
        }
    }
    assert!(refused, "a full buffer must withhold the ack");
    d.wait_for_log("buffer space has too many data", Duration::from_secs(10));

    let mut s = d.connect();
    send(&mut s, &tagged("held", 0, 4, "h"));
    read_msgpack(&mut s);
    thread::sleep(Duration::from_millis(300));
    assert!(
        delivered(d.dir.path(), "held.").is_empty(),
        "held until flushed"
    );
    d.signal("USR1");
    wait_delivered(&d, "held.", &(0..4).collect(), Duration::from_secs(10));
    assert!(d.terminate().success());
}

fn is_ack_missing(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    match s.read(&mut buf) {
        Ok(0) | Err(_) => true,
        Ok(_) => false,
    }
}

/// v0.12 flat parameters are translated with one info line each; buffer_path means a file buffer.
#[test]
fn v012_buffer_parameters_are_translated() {
    let conf = "
<match **>
  type file
  path {DIR}/out
  buffer_path {DIR}/buf-${tag_parts[2]}
  buffer_chunk_limit 1m
  buffer_queue_limit 4
  flush_interval 10s
  retry_limit 3
  max_retry_wait 30s
  num_threads 2
  time_slice_format %Y%m%d%H
</match>
";
    let (out, _dir) = run_once(conf, &["--dry-run"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    for needle in [
        "buffer_path implies a file buffer",
        "'buffer_chunk_limit' of the file output is used as <buffer> chunk_limit_size",
        "'buffer_queue_limit' of the file output is used as <buffer> queue_limit_length",
        "'retry_limit' of the file output is used as <buffer> retry_max_times",
        "'max_retry_wait' of the file output is used as <buffer> retry_max_interval",
        "'num_threads' of the file output is used as <buffer> flush_thread_count",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
    assert!(
        !err.contains("is not used"),
        "every v0.12 parameter is consumed:\n{err}"
    );
    // A file buffer really is used: the chunk lands on disk before it is flushed.
    let live = conf.replace("flush_interval 10s", "flush_interval 3600s");
    let live = format!("<source>\n@type forward\nport {{PORT}}\nbind 127.0.0.1\n</source>\n{live}");
    let mut d = Daemon::start(&live);
    let mut s = d.connect();
    send(&mut s, &frame(0, 2, "v"));
    read_msgpack(&mut s);
    let dirs: Vec<_> = std::fs::read_dir(d.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("buf-"))
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let files = std::fs::read_dir(d.path(&dirs[0])).unwrap().count();
    assert!(files >= 2, "chunk data and meta on disk");
    assert!(d.terminate().success());
    // Flushed at shutdown, as Fluentd v1's memory buffer for this config is (an ECS task's disk
    // goes with the task): both events in the output, no chunk left in the buffer.
    let written: usize = std::fs::read_dir(d.dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("out"))
        .map(|p| std::fs::read_to_string(p).unwrap().lines().count())
        .sum();
    assert_eq!(written, 2, "{}", d.stderr());
    let left = std::fs::read_dir(d.path(&dirs[0])).unwrap().count();
    assert_eq!(left, 0, "the buffer is empty after the shutdown flush");
}

/// `<system>` file_permission/dir_permission and a file buffer's own, as Fluentd 1.16.11 applies
/// them (recorded on the same config with umask 0022): out_file's files and the directories made
/// for them, in_tail's pos file, a buffer's chunk files with the buffer's own modes, and under
/// root_dir the plugin's directories with <system>'s.
#[test]
fn file_and_dir_permissions_are_fluentds() {
    use std::os::unix::fs::PermissionsExt;
    let conf = "
<system>
  file_permission 0640
  dir_permission 0750
  root_dir {DIR}/root
</system>
<source>
  @type forward
  port {PORT}
  bind 127.0.0.1
</source>
<source>
  @type tail
  path {DIR}/in.log
  pos_file {DIR}/pos/in.pos
  tag tail
  read_from_head true
  <parse>
    @type none
  </parse>
</source>
<match tail>
  @type null
</match>
<match direct.**>
  @type file
  path {DIR}/direct/sub/out
  append true
  <buffer>
    flush_mode immediate
  </buffer>
</match>
<match buf.**>
  @type file
  path {DIR}/bufout/out
  <buffer>
    @type file
    path {DIR}/chunks/b
    file_permission 0600
    dir_permission 0700
    flush_interval 3600s
  </buffer>
</match>
<match rooted.**>
  @type file
  @id rooted
  path {DIR}/rootedout/out
  <buffer>
    @type file
    dir_permission 0700
    file_permission 0600
    flush_interval 3600s
  </buffer>
</match>
";
    let mut d = Daemon::start_prepared(conf, &["--umask", "0022"], &[], &|dir| {
        std::fs::write(dir.join("in.log"), "hello\n").unwrap()
    });
    let mut s = d.connect();
    send(&mut s, &tagged("direct.a", 0, 1, "p"));
    send(&mut s, &tagged("buf.a", 0, 1, "p"));
    send(&mut s, &tagged("rooted.a", 0, 1, "p"));
    let mode = |rel: &str| {
        std::fs::metadata(d.path(rel))
            .map(|m| m.permissions().mode() & 0o7777)
            .ok()
    };
    let listing = |rel: &str| -> Vec<String> {
        std::fs::read_dir(d.path(rel))
            .map(|r| {
                r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let direct = listing("direct/sub")
            .into_iter()
            .any(|n| n.starts_with("out.") && n.ends_with(".log"));
        if direct
            && listing("chunks/b").len() >= 2
            && listing("root/worker0/rooted/buffer").len() >= 2
            && mode("pos/in.pos").is_some()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "files not written:\n{}",
            d.stderr()
        );
        thread::sleep(Duration::from_millis(20));
    }
    let out = listing("direct/sub")
        .into_iter()
        .find(|n| n.starts_with("out.") && n.ends_with(".log"))
        .unwrap();
    assert_eq!(mode("direct"), Some(0o750));
    assert_eq!(mode("direct/sub"), Some(0o750));
    assert_eq!(mode(&format!("direct/sub/{out}")), Some(0o640));
    assert_eq!(mode("pos"), Some(0o750));
    assert_eq!(mode("pos/in.pos"), Some(0o640));
    assert_eq!(mode("chunks"), Some(0o700));
    assert_eq!(mode("chunks/b"), Some(0o700));
    for chunk in listing("chunks/b") {
        assert_eq!(mode(&format!("chunks/b/{chunk}")), Some(0o600), "{chunk}");
    }
    // Under root_dir, the plugin's directories are <system>'s, `buffer/` the buffer's own.
    for d in ["root", "root/worker0", "root/worker0/rooted"] {
        assert_eq!(mode(d), Some(0o750), "{d}");
    }
    assert_eq!(mode("root/worker0/rooted/buffer"), Some(0o700));
    for chunk in listing("root/worker0/rooted/buffer") {
        let m = mode(&format!("root/worker0/rooted/buffer/{chunk}"));
        assert_eq!(m, Some(0o600), "{chunk}");
    }
    assert!(d.terminate().success());
}
