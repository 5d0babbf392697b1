//! Fault injection on the built binary: stalled and trickling clients, 10,000 idle connections and
//! 10,000 connect-then-close probes, the buffer's disk filling up (a real tmpfs), and an HTTP or
//! S3 output that is down for a while and comes back while the backlog spills to the file buffer.
//! Each test is bounded in time; none asserts a speed.

mod support;
#[path = "../crates/plugins/src/out_http/test_server.rs"]
mod test_server;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use support::acked::*;
use support::*;

/// Lines at warn level or above in a log text.
fn warnings(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains("[warn]") || l.contains("[error]"))
        .collect()
}

/// Wait until `cond` holds; panics with `what` and the daemon's log on timeout.
fn wait_until(d: &Daemon, timeout: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let t = Instant::now();
    while !cond() {
        assert!(
            t.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}; log:\n{}",
            d.stderr()
        );
        thread::sleep(Duration::from_millis(50));
    }
}

const STALL: &str = "
<source>
  @type forward
  port {PORT}
  bind 127.0.0.1
  frame_timeout 5s
</source>
<match **>
  @type null
</match>
";

/// A client that sends half a frame and stalls, and one that trickles a byte a second, are closed
/// once `frame_timeout` passes, each logged once; meanwhile another client is served without
/// delay, and a connection that is merely idle between frames stays open.
#[test]
fn stalled_and_trickling_clients_are_closed_and_block_nobody() {
    let d = Daemon::start(STALL);
    let frame = tagged("stall", 0, 20, "s");
    assert!(frame.len() > 100);

    let mut idle = d.connect();
    let mut half = d.connect();
    half.write_all(&frame[..frame.len() / 2]).unwrap();
    let half_sent = Instant::now();

    let trickle = {
        let mut s = d.connect();
        s.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        let frame = frame.clone();
        thread::spawn(move || {
            let start = Instant::now();
            for b in &frame {
                if s.write_all(std::slice::from_ref(b)).is_err() {
                    return start.elapsed();
                }
                // One byte a second; the read doubles as the pause and sees the close.
                let mut buf = [0u8; 16];
                match s.read(&mut buf) {
                    Ok(0) => return start.elapsed(),
                    Ok(_) => panic!("no reply expected for an unfinished frame"),
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => return start.elapsed(),
                }
            }
            panic!("the trickling client was never closed");
        })
    };

    // Another client is served promptly the whole time.
    let mut good = d.connect();
    // A blocked client would wait the whole 5 s frame_timeout; 2.5 s leaves a loaded CI
    // machine room for a slow round trip and still tells the two apart.
    good.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let t = Instant::now();
    let mut n = 0u64;
    while t.elapsed() < Duration::from_secs(6) {
        let id = format!("g{n}");
        let sent = Instant::now();
        assert!(
            send_and_ack(&mut good, &tagged("good", n, 10, &id), &id),
            "a healthy client was not acknowledged while others stalled; log:\n{}",
            d.stderr()
        );
        let took = sent.elapsed();
        assert!(
            took < Duration::from_millis(2500),
            "a healthy client waited {took:?} for its ack while others stalled"
        );
        n += 10;
        thread::sleep(Duration::from_millis(100));
    }
    assert!(n >= 100, "{n}");

    // The half frame: closed after the timeout (5 s), not before.
    half.set_read_timeout(Some(Duration::from_secs(12)))
        .unwrap();
    assert!(is_closed(&mut half), "the stalled connection is still open");
    let took = half_sent.elapsed();
    assert!(
        took >= Duration::from_millis(4900) && took < Duration::from_secs(15),
        "stalled connection closed after {took:?}"
    );
    let took = trickle.join().unwrap();
    assert!(
        took >= Duration::from_millis(4900) && took < Duration::from_secs(15),
        "trickling connection closed after {took:?}"
    );

    // Idle between frames is fine: the idle connection still works.
    idle.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    assert!(!is_closed(&mut idle), "an idle connection must stay open");
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert!(send_and_ack(&mut idle, &tagged("idle", 0, 1, "i"), "i"));

    // Both closes were seen by the clients; their log lines come through a pipe.
    let t = Instant::now();
    while d.stderr().matches("frame_timeout").count() < 2 && t.elapsed() < Duration::from_secs(10) {
        thread::sleep(Duration::from_millis(20));
    }
    let log = d.stderr();
    assert_eq!(
        log.matches("frame_timeout").count(),
        2,
        "each stalled connection is logged once:\n{log}"
    );
}

const FORWARD_NULL: &str = "
<source>
  @type forward
  port {PORT}
  bind 127.0.0.1
</source>
<match **>
  @type null
</match>
";

/// Raise this process's descriptor limit to its hard limit (the test holds 10,000 sockets).
fn raise_nofile(want: u64) {
    let out = Command::new("prlimit")
        .args([
            "--pid",
            &std::process::id().to_string(),
            &format!("--nofile={want}:{want}"),
        ])
        .output();
    // Without prlimit (or the right to raise the hard limit) the soft limit may still do.
    let _ = out;
}

/// 10,000 idle connections, then 10,000 connect-then-close probes (an NLB health check): every
/// one is served, the daemon keeps working, its descriptors return to the baseline, memory
/// returns near it, and nothing is logged at warn level.
#[test]
fn ten_thousand_idle_connections_and_probes_leave_nothing_behind() {
    const N: usize = 10_000;
    raise_nofile(4 * N as u64);
    let d = Daemon::start(FORWARD_NULL);
    // Warm up once (first connection, first frame) so the baseline includes the steady state.
    {
        let mut s = d.connect();
        assert!(send_and_ack(&mut s, &tagged("warm", 0, 1, "w"), "w"));
    }
    thread::sleep(Duration::from_millis(500));
    let base_fds = d.fds();
    let base_rss = d.status("VmRSS");
    let base_threads = d.status("Threads");
    let warn_before = warnings(&d.stderr()).len();

    let mut conns = Vec::with_capacity(N);
    for i in 0..N {
        match TcpStream::connect(("127.0.0.1", d.port)) {
            Ok(s) => conns.push(s),
            Err(e) => panic!("connection {i} failed: {e} (raise `ulimit -n` to 20000 or more)"),
        }
    }
    wait_until(&d, Duration::from_secs(60), "10,000 accepted", || {
        d.fds() >= base_fds + N
    });
    let loaded_rss = d.status("VmRSS");
    // The daemon still serves while holding them.
    {
        let mut s = d.connect();
        assert!(send_and_ack(&mut s, &tagged("busy", 0, 5, "b"), "b"));
    }
    drop(conns);
    wait_until(&d, Duration::from_secs(60), "descriptors back", || {
        d.fds() <= base_fds
    });

    for i in 0..N {
        match TcpStream::connect(("127.0.0.1", d.port)) {
            Ok(s) => drop(s),
            Err(e) => panic!("probe {i} failed: {e}"),
        }
    }
    wait_until(
        &d,
        Duration::from_secs(60),
        "descriptors back after probes",
        || d.fds() <= base_fds,
    );
    // Still serving after all that.
    {
        let mut s = d.connect();
        assert!(send_and_ack(&mut s, &tagged("after", 0, 5, "a"), "a"));
    }
    // Freed memory goes back to the system within a few seconds (the daemon trims its heap).
    let t = Instant::now();
    let mut end_rss = d.status("VmRSS");
    while end_rss >= base_rss + 8 * 1024 && t.elapsed() < Duration::from_secs(20) {
        thread::sleep(Duration::from_millis(250));
        end_rss = d.status("VmRSS");
    }
    let end_threads = d.status("Threads");
    eprintln!(
        "fds: base {base_fds}, end {}; RSS KiB: base {base_rss}, with {N} idle {loaded_rss}, end {end_rss}; threads {base_threads} → {end_threads}",
        d.fds()
    );
    assert!(
        loaded_rss < base_rss + 100 * 1024,
        "10,000 idle connections cost {} KiB (over 10 KiB each)",
        loaded_rss - base_rss
    );
    assert!(
        end_rss < base_rss + 8 * 1024,
        "memory did not return near the baseline: {base_rss} → {end_rss} KiB"
    );
    assert!(
        end_threads <= base_threads,
        "threads grew: {base_threads} → {end_threads}"
    );
    let log = d.stderr();
    let new_warnings: Vec<&str> = warnings(&log).into_iter().skip(warn_before).collect();
    assert!(
        new_warnings.is_empty(),
        "no warning is expected for idle connections and probes: {new_warnings:#?}"
    );
}

/// A tmpfs mounted by the test (root, or a user namespace, is needed), unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "logferry-test",
            ])
            .arg(dir.path())
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "this test mounts a small tmpfs to fill a real disk and needs root (CI runs as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn resize(&self, size: &str) {
        let st = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.dir.path())
            .status()
            .unwrap();
        assert!(st.success(), "remount");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// Total size of the files under `dir`.
fn du(dir: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.filter_map(Result::ok)
        .map(|e| {
            let p: PathBuf = e.path();
            if p.is_dir() {
                du(&p)
            } else {
                e.metadata().map(|m| m.len()).unwrap_or(0)
            }
        })
        .sum()
}

/// The file buffer's disk fills up: no crash, nothing acknowledged is lost, new input is refused
/// (no ack, so the client keeps it) instead of accepted and dropped, and input flows again once
/// there is space.
#[test]
fn disk_full_backpressures_and_recovers() {
    let disk = Tmpfs::mount("256k");
    let conf = format!(
        "
<source>
  @type forward
  port {{PORT}}
  bind 127.0.0.1
</source>
<match **>
  @type file
  path {{DIR}}/blocked/out
  append true
  <format>
    @type json
  </format>
  <buffer>
    @type file
    path {}/buf
    chunk_limit_size 16k
    flush_mode interval
    flush_interval 0.5
    retry_wait 0.5
    retry_max_interval 1
    flush_at_shutdown true
  </buffer>
</match>
",
        disk.path().display()
    );
    let mut d = Daemon::start(&conf);
    // The output is blocked too (a file where its directory should be), so chunks stay on the
    // small disk until it is full.
    std::fs::write(d.path("blocked"), "not a directory").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let client = acked_client_padded(d.port, "disk", 0, stop.clone(), 20, 100);
    d.wait_for_log("No space left on device", Duration::from_secs(30));
    thread::sleep(Duration::from_millis(500));
    assert!(d.alive(), "the daemon died on a full disk:\n{}", d.stderr());
    // Input is backpressured: a new batch gets no ack while the disk is full.
    let mut s = d.connect();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    assert!(
        !send_and_ack(&mut s, &padded("disk", 900_000, 20, "full", 100), "full"),
        "a batch was acknowledged though the buffer's disk is full"
    );
    let used = du(disk.path());
    assert!(used > 128 * 1024, "the disk was not filled: {used} bytes");

    // Space returns (and the output too): input flows again.
    disk.resize("64m");
    std::fs::remove_file(d.path("blocked")).unwrap();
    let t = Instant::now();
    loop {
        let mut s = d.connect();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        if send_and_ack(&mut s, &padded("disk", 1_000_000, 20, "back", 100), "back") {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "input did not recover after space returned:\n{}",
            d.stderr()
        );
        thread::sleep(Duration::from_millis(200));
    }
    thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    let mut acked = client.join().unwrap();
    acked.extend(1_000_000..1_000_020);
    assert!(acked.len() > 100, "too little load: {}", acked.len());
    // Flush everything (flush_at_shutdown) and check nothing acknowledged is missing.
    assert!(d.terminate().success(), "{}", d.stderr());
    let got = delivered(&d.path("blocked"), "out");
    let missing: Vec<_> = acked.iter().filter(|s| !got.contains_key(s)).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged events lost (first {:?}); log:\n{}",
        missing.len(),
        &missing[..missing.len().min(10)],
        d.stderr()
    );
}

/// Wait until every seq of `acked` arrived at the HTTP test server (NDJSON bodies, `"seq"`
/// fields); panics with the number missing and the daemon's log on timeout.
fn wait_http_seqs(
    d: &Daemon,
    server: &test_server::Server,
    acked: &BTreeSet<u64>,
    timeout: Duration,
) {
    let t = Instant::now();
    let mut got = BTreeSet::new();
    let mut seen = 0;
    loop {
        let reqs = server.requests();
        for r in &reqs[seen..] {
            for line in r.text().lines() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                got.insert(v["seq"].as_u64().unwrap());
            }
        }
        seen = reqs.len();
        if acked.iter().all(|s| got.contains(s)) {
            return;
        }
        assert!(
            t.elapsed() < timeout,
            "{} acknowledged events never arrived; log:\n{}",
            acked.iter().filter(|s| !got.contains(*s)).count(),
            d.stderr()
        );
        thread::sleep(Duration::from_millis(200));
    }
}

/// `(retry number, wait in seconds)` of every "retry #N in Xs" line.
fn retries(log: &str) -> Vec<(u32, f64)> {
    log.lines()
        .filter_map(|l| {
            let rest = &l[l.find("retry #")? + 7..];
            let (n, rest) = rest.split_once(" in ")?;
            let secs = rest.split_once('s')?.0;
            Some((n.parse().ok()?, secs.parse().ok()?))
        })
        .collect()
}

/// The HTTP output is down (connection refused) for a while under acknowledged load, then comes
/// back: every acknowledged event arrives, the retries follow the configured exponential
/// schedule, and memory stays under 64 MiB though the backlog spilled to the file buffer is
/// larger.
#[test]
fn http_outage_spills_to_file_buffer_and_delivers_everything() {
    // Refused until the server starts there; held so that no client connection takes it.
    let mut held = HeldPort::new();
    let port = held.port;
    let conf = format!(
        "
<source>
  @type forward
  port {{PORT}}
  bind 127.0.0.1
</source>
<match **>
  @type http
  endpoint http://127.0.0.1:{port}/ingest
  <buffer>
    @type file
    path {{DIR}}/buf
    chunk_limit_size 1m
    flush_mode interval
    flush_interval 0.5
    retry_wait 0.5
    retry_exponential_backoff_base 2
    retry_max_interval 4
    retry_randomize false
  </buffer>
</match>
"
    );
    let d = Daemon::start(&conf);
    let base_rss = d.status("VmRSS");
    let base_threads = d.status("Threads");
    let stop = Arc::new(AtomicBool::new(false));
    let client = acked_client_padded(d.port, "outage", 0, stop.clone(), 200, 1000);
    // Load until the backlog on disk is well over the memory bound (or 40 s passed); the output
    // stays down at least 8 s in all, for retries #0–#3 (0.5 + 1 + 2 + 4 s).
    let t = Instant::now();
    // The thread count once the load runs and a backlog exists (file-buffer I/O and compression
    // run on blocking-pool threads that live 10 s, so the count right after start is lower).
    let mut warm_threads = None;
    while du(&d.path("buf")) < 80 << 20 && t.elapsed() < Duration::from_secs(40) {
        if warm_threads.is_none() && du(&d.path("buf")) > 8 << 20 {
            warm_threads = Some(d.status("Threads"));
        }
        thread::sleep(Duration::from_millis(100));
    }
    let warm_threads = warm_threads.unwrap_or(base_threads);
    stop.store(true, Ordering::Relaxed);
    let acked = client.join().unwrap();
    assert!(acked.len() > 1000, "too little load: {}", acked.len());
    let backlog = du(&d.path("buf"));
    let hwm_down = d.status("VmHWM");
    // A backlog does not grow threads (flushes are paced by the flush threads, not per chunk):
    // ten times the backlog, no more threads.
    let threads_down = d.status("Threads");
    assert!(
        threads_down <= warm_threads + 2,
        "threads grew with the backlog: {warm_threads} at 8 MiB → {threads_down} at {} MiB (at start {base_threads})",
        du(&d.path("buf")) >> 20
    );
    if let Some(rest) = Duration::from_secs(8).checked_sub(t.elapsed()) {
        thread::sleep(rest);
    }
    let server = test_server::Server::start_on(held.release());

    // Everything acknowledged arrives.
    wait_http_seqs(&d, &server, &acked, Duration::from_secs(90));
    let hwm = d.status("VmHWM");
    eprintln!(
        "acked {} events; backlog on disk {} MiB; RSS KiB: base {base_rss}, peak while down {hwm_down}, peak overall {hwm}",
        acked.len(),
        backlog >> 20
    );
    assert!(
        hwm < 64 * 1024,
        "peak RSS {hwm} KiB is over the 64 MiB bound"
    );
    assert!(
        backlog > (hwm * 1024).saturating_sub(base_rss * 1024),
        "the backlog ({backlog} B) should exceed the memory the daemon used for it"
    );

    // The retry schedule: retry #0 after 0.5 s, doubling, capped at 4 s.
    let r = retries(&d.stderr());
    assert!(r.len() >= 4, "too few retries logged: {r:?}");
    for (n, wait) in &r {
        let want = (0.5 * 2f64.powi(*n as i32)).min(4.0);
        assert!(
            (wait - want).abs() < 0.15,
            "retry #{n} waited {wait}s, the schedule says {want}s: {r:?}"
        );
    }
    d.wait_for_log("retry succeeded", Duration::from_secs(5));
}

/// A memory buffer's `total_limit_size` caps the daemon's memory whatever the input does while
/// the output is down: under full-speed acknowledged load against a dead HTTP endpoint, peak RSS
/// stays within the cap plus a fixed allowance; nothing acknowledged is lost once it is back.
#[test]
fn memory_buffer_cap_holds_while_output_is_down() {
    // Refused until the server starts there; held so that no client connection takes it.
    let mut held = HeldPort::new();
    let port = held.port;
    let conf = format!(
        "
<source>
  @type forward
  port {{PORT}}
  bind 127.0.0.1
</source>
<match **>
  @type http
  endpoint http://127.0.0.1:{port}/ingest
  <buffer>
    @type memory
    chunk_limit_size 1m
    total_limit_size 16m
    flush_interval 0.5
    retry_wait 0.5
    retry_max_interval 1
    retry_randomize false
  </buffer>
</match>
"
    );
    let d = Daemon::start(&conf);
    let base = d.status("VmRSS");
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4u64)
        .map(|i| acked_client_padded(d.port, "cap", i * 10_000_000, stop.clone(), 200, 1000))
        .collect();
    d.wait_for_log("buffer space has too many data", Duration::from_secs(30));
    // Keep pushing against the full buffer for a while.
    thread::sleep(Duration::from_secs(3));
    let hwm_down = d.status("VmHWM");
    let server = test_server::Server::start_on(held.release());
    thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::Relaxed);
    let mut acked = BTreeSet::new();
    for c in clients {
        acked.extend(c.join().unwrap());
    }
    assert!(acked.len() > 1000, "too little load: {}", acked.len());
    wait_http_seqs(&d, &server, &acked, Duration::from_secs(60));
    let hwm = d.status("VmHWM");
    eprintln!(
        "acked {}; RSS KiB: base {base}, peak while down {hwm_down}, peak overall {hwm}",
        acked.len()
    );
    // 16 MiB of chunks, a chunk being formatted and sent, four connections' frames in flight.
    assert!(
        hwm_down < base + 48 * 1024,
        "peak RSS {hwm_down} KiB while down: over the 16 MiB buffer cap plus 32 MiB (base {base})"
    );
    assert!(
        hwm < base + 64 * 1024,
        "peak RSS {hwm} KiB while the backlog drained (base {base})"
    );
}
