//! The `s3` output end to end on the built binary, against a real S3-protocol server that checks
//! SigV4 signatures (`s3s-fs`, installed by `.ci/install-deps.sh`; it stores each object as a file
//! under its root directory, which the tests read back): exact object keys, gzip content line by
//! line, `check_object` collisions (`_1`), `overwrite`, a wrong secret (rejected, retried, nothing
//! written), multipart upload of a large chunk, the seed config of the issue (parser and
//! rewrite_tag_filter in front), and an S3 outage under acknowledged load (file buffer, retries,
//! everything delivered once S3 is back).

mod support;

use std::collections::BTreeMap;
use std::io::Read;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use logferry_forward::encode::{self, Compression};
use logferry_msgpack::{EventTime, Value};
use support::acked::acked_client_from;
use support::*;

const ACCESS_KEY: &str = "AKIALOGFERRYTEST";
const SECRET_KEY: &str = "logferry/secret+key/for/s3s-fs/tests";

/// A running s3s-fs on 127.0.0.1 with SigV4 authentication on.
struct S3Server {
    child: Child,
    port: u16,
    root: tempfile::TempDir,
    log: Arc<Mutex<Vec<u8>>>,
}

fn s3s_fs_binary() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("s3s-fs"))
            .find(|f| f.is_file())
    });
    let in_cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|d| d.join("bin/s3s-fs"))
        .filter(|f| f.is_file());
    on_path
        .or(in_cargo_home)
        .expect("s3s-fs is not installed: run .ci/install-deps.sh")
}

impl S3Server {
    fn start() -> S3Server {
        Self::start_on(free_port(), &[])
    }

    /// Start on a given port (an endpoint a daemon may already be pointed at), with `buckets`
    /// made before the server listens.
    fn start_on(port: u16, buckets: &[&str]) -> S3Server {
        let root = tempfile::tempdir().unwrap();
        for b in buckets {
            std::fs::create_dir_all(root.path().join(b)).unwrap();
        }
        let mut child = Command::new(s3s_fs_binary())
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(root.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start s3s-fs");
        let log = Arc::new(Mutex::new(Vec::new()));
        for r in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let log = log.clone();
            thread::spawn(move || {
                let mut r = r;
                let mut buf = [0u8; 4096];
                while let Ok(n) = r.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    log.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            });
        }
        let t = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "s3s-fs did not listen: {}",
                String::from_utf8_lossy(&log.lock().unwrap())
            );
            thread::sleep(Duration::from_millis(20));
        }
        S3Server {
            child,
            port,
            root,
            log,
        }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Make a bucket directly on disk (s3s-fs serves each directory of its root as a bucket).
    fn make_bucket(&self, bucket: &str) {
        std::fs::create_dir_all(self.root.path().join(bucket)).unwrap();
    }

    /// Every object key of a bucket, sorted (s3s-fs's own bookkeeping files left out).
    fn keys(&self, bucket: &str) -> Vec<String> {
        fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
            let Ok(rd) = std::fs::read_dir(dir) else {
                return;
            };
            for e in rd {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(base, &p, out);
                } else {
                    let k = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                    if !k.starts_with('.') && !k.contains("/.") {
                        out.push(k);
                    }
                }
            }
        }
        let base = self.root.path().join(bucket);
        let mut v = Vec::new();
        walk(&base, &base, &mut v);
        v.sort();
        v
    }

    fn object(&self, bucket: &str, key: &str) -> Vec<u8> {
        std::fs::read(self.root.path().join(bucket).join(key))
            .unwrap_or_else(|e| panic!("object {bucket}/{key}: {e}"))
    }

    /// Every `seq` in the bucket's gzip JSON-lines objects, with repeats counted; None while an
    /// object does not decode yet (an upload still being written).
    fn seqs(&self, bucket: &str) -> Option<BTreeMap<u64, u32>> {
        let mut m = BTreeMap::new();
        for k in self.keys(bucket) {
            let data = std::fs::read(self.root.path().join(bucket).join(&k)).ok()?;
            let mut text = String::new();
            flate2::read::MultiGzDecoder::new(&data[..])
                .read_to_string(&mut text)
                .ok()?;
            for line in text.lines() {
                let v: serde_json::Value = serde_json::from_str(line).ok()?;
                *m.entry(v["seq"].as_u64()?).or_insert(0) += 1;
            }
        }
        Some(m)
    }

    /// Wait until the bucket holds `n` objects; returns their keys.
    fn wait_keys(&self, bucket: &str, n: usize, d: &Daemon) -> Vec<String> {
        let t = Instant::now();
        loop {
            let k = self.keys(bucket);
            if k.len() >= n {
                // Let an upload in progress finish its file.
                thread::sleep(Duration::from_millis(100));
                return self.keys(bucket);
            }
            if t.elapsed() > Duration::from_secs(30) {
                panic!(
                    "timed out waiting for {n} objects in {bucket}, got {k:?}\nlogferry:\n{}\ns3s-fs:\n{}",
                    d.stderr(),
                    String::from_utf8_lossy(&self.log.lock().unwrap())
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn hostname() -> String {
    // The same call the plugin makes.
    let out = Command::new("hostname").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn gunzip_lines(data: &[u8]) -> Vec<String> {
    let mut s = String::new();
    flate2::read::MultiGzDecoder::new(data)
        .read_to_string(&mut s)
        .expect("gzip object");
    s.lines().map(str::to_string).collect()
}

fn record(fields: &[(&str, Value)]) -> Vec<u8> {
    let mut out = Vec::new();
    Value::Map(
        fields
            .iter()
            .map(|(k, v)| (Value::Str((*k).into()), v.clone()))
            .collect(),
    )
    .encode(&mut out);
    out
}

/// Send events (time, record) under `tag` as one acked PackedForward frame; waits for the ack.
fn send_acked(d: &Daemon, tag: &str, events: &[(EventTime, Vec<u8>)]) {
    let mut entries = Vec::new();
    for (t, r) in events {
        entries.push(0x92);
        t.encode(&mut entries);
        entries.extend_from_slice(r);
    }
    let mut f = Vec::new();
    encode::packed_forward(
        tag,
        &entries,
        events.len(),
        Some("ack-1"),
        Compression::Text,
        &mut f,
    );
    let mut s = d.connect();
    send(&mut s, &f);
    let reply = read_msgpack(&mut s);
    assert!(
        reply.ends_with(b"ack-1"),
        "no ack: {reply:02x?}\n{}",
        d.stderr()
    );
}

/// `n` events `{"seq": from..}` at t=1700000000 (2023-11-14T22:13:20Z).
fn seq_events(from: i64, n: i64) -> Vec<(EventTime, Vec<u8>)> {
    (from..from + n)
        .map(|i| {
            (
                EventTime::new(1_700_000_000, 0),
                record(&[("seq", Value::Int(i))]),
            )
        })
        .collect()
}

fn s3_config(s3: &S3Server, bucket: &str, body: &str) -> String {
    s3_config_at(&s3.endpoint(), bucket, body)
}

/// [`s3_config`] for an endpoint where no server may be listening yet.
fn s3_config_at(endpoint: &str, bucket: &str, body: &str) -> String {
    format!(
        "<source>\n@type forward\nport {{PORT}}\nbind 127.0.0.1\n</source>\n\
         <match **>\n@type s3\naws_key_id {ACCESS_KEY}\naws_sec_key {SECRET_KEY}\n\
         s3_bucket {bucket}\ns3_region us-east-1\ns3_endpoint {endpoint}\nforce_path_style true\n{body}\n</match>\n"
    )
}

#[test]
fn default_keys_are_unique_and_exact_and_gzip_decodes() {
    let s3 = S3Server::start();
    // The bucket does not exist: check_bucket + auto_create_bucket create it before the upload.
    let conf = s3_config(
        &s3,
        "logs-bucket",
        "path logs/${tag}/\n<buffer tag,time>\ntimekey 3600\ntimekey_use_utc true\n</buffer>",
    );
    let mut d = Daemon::start(&conf);
    send_acked(&d, "app.web", &seq_events(0, 3));
    send_acked(&d, "app.db", &seq_events(100, 2));
    d.signal("USR1");
    let keys = s3.wait_keys("logs-bucket", 2, &d);
    let host = hostname();
    // logs/<tag>/2023111422_<hostname>_<32 hex chunk id>.gz
    let is_key = |k: &str, tag: &str| {
        k.strip_prefix(&format!("logs/{tag}/2023111422_{host}_"))
            .and_then(|r| r.strip_suffix(".gz"))
            .is_some_and(|id| {
                id.len() == 32
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            })
    };
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(is_key(&keys[0], "app.db"), "{keys:?}");
    assert!(is_key(&keys[1], "app.web"), "{keys:?}");
    assert_ne!(keys[0][keys[0].len() - 35..], keys[1][keys[1].len() - 35..]);
    d.wait_for_log("Creating bucket logs-bucket", Duration::from_secs(10));
    let lines = gunzip_lines(&s3.object("logs-bucket", &keys[1]));
    assert_eq!(
        lines,
        [0, 1, 2]
            .iter()
            .map(|i| format!("2023-11-14T22:13:20+00:00\tapp.web\t{{\"seq\":{i}}}"))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        gunzip_lines(&s3.object("logs-bucket", &keys[0])),
        [
            "2023-11-14T22:13:20+00:00\tapp.db\t{\"seq\":100}",
            "2023-11-14T22:13:20+00:00\tapp.db\t{\"seq\":101}"
        ]
    );
    assert!(d.terminate().success());
}

#[test]
fn check_object_collision_takes_the_next_index() {
    let s3 = S3Server::start();
    let conf = s3_config(
        &s3,
        "bucket-b",
        "path x/\ns3_object_key_format %{path}%{time_slice}_%{index}.%{file_extension}\nstore_as json\nformat json\n\
         <buffer time>\ntimekey 3600\ntimekey_use_utc true\n</buffer>",
    );
    let mut d = Daemon::start(&conf);
    send_acked(&d, "t", &seq_events(0, 1));
    d.signal("USR1");
    assert_eq!(s3.wait_keys("bucket-b", 1, &d), ["x/2023111422_0.json"]);
    send_acked(&d, "t", &seq_events(1, 1));
    d.signal("USR1");
    assert_eq!(
        s3.wait_keys("bucket-b", 2, &d),
        ["x/2023111422_0.json", "x/2023111422_1.json"]
    );
    send_acked(&d, "t", &seq_events(2, 1));
    d.signal("USR1");
    assert_eq!(s3.wait_keys("bucket-b", 3, &d)[2], "x/2023111422_2.json");
    assert_eq!(
        s3.object("bucket-b", "x/2023111422_0.json"),
        b"{\"seq\":0}\n"
    );
    assert_eq!(
        s3.object("bucket-b", "x/2023111422_1.json"),
        b"{\"seq\":1}\n"
    );
    assert_eq!(
        s3.object("bucket-b", "x/2023111422_2.json"),
        b"{\"seq\":2}\n"
    );
    assert!(d.terminate().success());
}

/// A key without `%{index}` that exists: "duplicated path" and retries, the object untouched;
/// with `overwrite true` it is replaced.
#[test]
fn duplicated_path_is_retried_and_overwrite_replaces() {
    let s3 = S3Server::start();
    let body = "s3_object_key_format fixed.%{file_extension}\nstore_as text\nformat json\n\
                <buffer time>\ntimekey 3600\ntimekey_use_utc true\nretry_wait 0.2\nretry_randomize false\n</buffer>";
    let mut d = Daemon::start(&s3_config(&s3, "bucket-b", body));
    send_acked(&d, "t", &seq_events(0, 1));
    d.signal("USR1");
    assert_eq!(s3.wait_keys("bucket-b", 1, &d), ["fixed.txt"]);
    send_acked(&d, "t", &seq_events(1, 1));
    d.signal("USR1");
    let t = Instant::now();
    while d
        .stderr()
        .matches(
            "duplicated path is generated. use %{index} in s3_object_key_format: path = fixed.txt",
        )
        .count()
        < 2
    {
        assert!(t.elapsed() < Duration::from_secs(20), "{}", d.stderr());
        thread::sleep(Duration::from_millis(50));
    }
    assert!(d.stderr().contains("retry #"), "{}", d.stderr());
    assert_eq!(s3.object("bucket-b", "fixed.txt"), b"{\"seq\":0}\n");
    d.kill9();

    let mut d = Daemon::start(&s3_config(
        &s3,
        "bucket-b",
        &format!("overwrite true\n{body}"),
    ));
    send_acked(&d, "t", &seq_events(7, 1));
    d.signal("USR1");
    let t = Instant::now();
    while s3.object("bucket-b", "fixed.txt") != b"{\"seq\":7}\n" {
        assert!(t.elapsed() < Duration::from_secs(20), "{}", d.stderr());
        thread::sleep(Duration::from_millis(50));
    }
    d.wait_for_log(
        "fixed.txt already exists, but will overwrite",
        Duration::from_secs(10),
    );
    assert_eq!(s3.keys("bucket-b"), ["fixed.txt"]);
    assert!(d.terminate().success());
}

#[test]
fn wrong_secret_is_rejected_retried_and_writes_nothing() {
    let s3 = S3Server::start();
    s3.make_bucket("bucket-b");
    let conf = s3_config(
        &s3,
        "bucket-b",
        "check_bucket false\ncheck_apikey_on_start false\n\
         <buffer time>\ntimekey 3600\ntimekey_use_utc true\nretry_wait 0.2\nretry_randomize false\n</buffer>",
    )
    .replace(SECRET_KEY, "not-the-secret");
    let mut d = Daemon::start(&conf);
    send_acked(&d, "t", &seq_events(0, 5));
    d.signal("USR1");
    let t = Instant::now();
    while d.stderr().matches("retry #").count() < 3 {
        assert!(t.elapsed() < Duration::from_secs(20), "{}", d.stderr());
        thread::sleep(Duration::from_millis(50));
    }
    let log = d.stderr();
    assert!(
        log.contains("PutObject") && log.contains("SignatureDoesNotMatch"),
        "{log}"
    );
    assert!(s3.keys("bucket-b").is_empty(), "{:?}", s3.keys("bucket-b"));
    d.kill9();
}

#[test]
fn large_chunk_is_a_multipart_upload() {
    let s3 = S3Server::start();
    let conf = s3_config(
        &s3,
        "big",
        "store_as text\nformat json\nmultipart_threshold 5m\nmultipart_chunk_size 5m\n\
         s3_object_key_format %{time_slice}/%{chunk_id}.%{file_extension}\n\
         <buffer time>\ntimekey 3600\ntimekey_use_utc true\nchunk_limit_size 64m\n</buffer>",
    );
    let mut d = Daemon::start(&conf);
    let pad = "x".repeat(1000);
    let mut sent = 0i64;
    // ~12 MiB in one chunk: three parts of 5 MiB (the last one shorter).
    while sent < 12_000 {
        let events: Vec<_> = (sent..sent + 1000)
            .map(|i| {
                (
                    EventTime::new(1_700_000_000, 0),
                    record(&[("seq", Value::Int(i)), ("pad", Value::Str(pad.clone()))]),
                )
            })
            .collect();
        send_acked(&d, "t", &events);
        sent += 1000;
    }
    d.signal("USR1");
    let keys = s3.wait_keys("big", 1, &d);
    assert_eq!(keys.len(), 1);
    let t = Instant::now();
    while !d.stderr().contains("in 3 parts") {
        assert!(t.elapsed() < Duration::from_secs(30), "{}", d.stderr());
        thread::sleep(Duration::from_millis(50));
    }
    let data = s3.object("big", &keys[0]);
    let text = String::from_utf8(data).unwrap();
    let seqs: Vec<i64> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(seqs, (0..12_000).collect::<Vec<_>>());
    assert!(text.len() > 10 << 20);
    assert!(d.terminate().success());
}

/// The seed config of the issue (`forest`/`tdlog` parts dropped, endpoint pointed at the local
/// server), behind the DELISH pipeline's filters.
#[test]
fn seed_config_end_to_end() {
    let s3 = S3Server::start();
    let conf = format!(
        r##"<source>
  @type forward
  port {{PORT}}
  bind 127.0.0.1
</source>
<filter docker.**>
  @type parser
  key_name log
  <parse>
    @type json
    time_format %Y-%m-%dT%H:%M:%SZ
  </parse>
</filter>
<match docker.**>
  @type rewrite_tag_filter
  <rule>
    key log_type
    pattern /^EVENT$/
    tag delish.event
  </rule>
</match>
<match delish.event>
  @type rewrite_tag_filter
  <rule>
    key event_type
    pattern /^([\w_]+)$/
    tag ${{tag}}.$1
  </rule>
</match>
<match delish.event.**>
  type s3
  format json
  include_time_key true
  time_format %Y-%m-%d %H:%M:%S
  aws_key_id "#{{ENV['AWS_ACCESS_KEY']}}"
  aws_sec_key "#{{ENV['AWS_SECRET_ACCESS_KEY']}}"
  s3_bucket "#{{ENV['AWS_S3_BUCKET']}}"
  s3_region ap-northeast-1
  s3_endpoint {endpoint}
  force_path_style true
  s3_object_key_format %{{path}}%{{time_slice}}_%{{index}}_%{{hostname}}.%{{file_extension}}
  path logs/delish-event/${{tag_parts[2]}}/
  buffer_path {{DIR}}/buf-delish-event-${{tag_parts[2]}}
  time_slice_format %Y/%m/%d/%H
  flush_interval 600s
  buffer_chunk_limit 128m
</match>
"##,
        endpoint = s3.endpoint()
    );
    let mut d = Daemon::start_with(
        &conf,
        &[],
        &[
            ("AWS_ACCESS_KEY", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
            ("AWS_S3_BUCKET", "delish"),
        ],
    );
    let log =
        r#"{"log_type":"EVENT","event_type":"recipe_view","time":"2024-01-02T03:04:05Z","id":1}"#;
    let docker = record(&[
        ("container_id", Value::Str("abcdef0123456789".into())),
        ("container_name", Value::Str("/delish-web".into())),
        ("source", Value::Str("stdout".into())),
        ("log", Value::Str(log.into())),
    ]);
    send_acked(
        &d,
        "docker.delish",
        &[(EventTime::new(1_704_164_700, 0), docker)],
    );
    // flush_interval is 600 s and a file buffer does not flush at shutdown: SIGUSR1 flushes.
    d.signal("USR1");
    let keys = s3.wait_keys("delish", 1, &d);
    assert_eq!(
        keys,
        [format!(
            "logs/delish-event/recipe_view/2024/01/02/03_0_{}.gz",
            hostname()
        )]
    );
    assert_eq!(
        gunzip_lines(&s3.object("delish", &keys[0])),
        [r#"{"log_type":"EVENT","event_type":"recipe_view","id":1,"time":"2024-01-02 03:04:05"}"#]
    );
    // The buffer lived in the configured directory.
    assert!(d.path("buf-delish-event-${tag_parts[2]}").is_dir());
    assert!(d.terminate().success());
}

/// S3 is down (nothing listens on the endpoint) for ~5 s while acknowledged load goes into the
/// file buffer; then s3s-fs starts on that endpoint. Every acknowledged event is uploaded (at
/// least once), the failed flushes were retried ("retry #"), and SIGTERM exits 0.
#[test]
fn s3_outage_then_back_delivers_everything() {
    let t0 = Instant::now();
    // Refused until s3s-fs starts there; held so that no client connection takes it.
    let mut held = HeldPort::new();
    let port = held.port;
    let conf = s3_config_at(
        &format!("http://127.0.0.1:{port}"),
        "outage",
        "store_as gzip\nformat json\n\
         <buffer time>\n@type file\npath {DIR}/s3buf\ntimekey 3600\ntimekey_use_utc true\n\
         flush_mode interval\nflush_interval 0.5\n\
         retry_wait 0.5\nretry_randomize false\nretry_max_interval 2\n</buffer>",
    );
    let mut d = Daemon::start(&conf);
    let stop = Arc::new(AtomicBool::new(false));
    let client = acked_client_from(d.port, "outage", 0, stop.clone(), 100);
    let load_start = Instant::now();
    // Down: flushes fail and are retried while the load is acknowledged into the file buffer.
    d.wait_for_log("retry #", Duration::from_secs(10));
    thread::sleep((load_start + Duration::from_secs(5)).saturating_duration_since(Instant::now()));
    let retries_while_down = d.stderr().matches("retry #").count();
    let s3 = S3Server::start_on(held.release(), &["outage"]);
    // Up again, with the load still running for a second.
    thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::Relaxed);
    let acked = client.join().unwrap();
    assert!(acked.len() >= 500, "too little load: {}", acked.len());

    let t = Instant::now();
    let got = loop {
        if let Some(got) = s3.seqs("outage") {
            if acked.iter().all(|s| got.contains_key(s)) {
                break got;
            }
        }
        if t.elapsed() > Duration::from_secs(20) {
            let got = s3.seqs("outage").unwrap_or_default();
            let missing: Vec<_> = acked.iter().filter(|s| !got.contains_key(s)).collect();
            panic!(
                "{} of {} acknowledged events not in S3 (first: {:?}); keys {:?}\nlogferry:\n{}\ns3s-fs:\n{}",
                missing.len(),
                acked.len(),
                &missing[..missing.len().min(10)],
                s3.keys("outage"),
                d.stderr(),
                String::from_utf8_lossy(&s3.log.lock().unwrap())
            );
        }
        thread::sleep(Duration::from_millis(100));
    };
    eprintln!(
        "acked {} events, {} distinct in {} objects ({} repeats); {retries_while_down} retries logged while S3 was down; {:.1}s",
        acked.len(),
        got.len(),
        s3.keys("outage").len(),
        got.values().map(|n| n - 1).sum::<u32>(),
        t0.elapsed().as_secs_f64()
    );
    assert!(d.stderr().contains("retry #"), "{}", d.stderr());
    assert!(d.terminate().success(), "{}", d.stderr());
}

#[test]
fn dry_run_makes_no_request_and_refuses_store_as_needing_a_command() {
    let (out, _dir) = run_once(
        "<match **>\n@type s3\ns3_bucket b\ns3_endpoint http://127.0.0.1:1\n</match>\n",
        &["--dry-run"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (out, _dir) = run_once(
        "<match **>\n@type s3\ns3_bucket b\nstore_as lzo\n</match>\n",
        &["--dry-run"],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("store_as 'lzo' is not supported"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A name that is no compressor at all: fluent-plugin-s3 warns and writes text.
    let (out, _dir) = run_once(
        "<match **>\n@type s3\ns3_bucket b\nstore_as foo\n</match>\n",
        &["--dry-run"],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("'foo' not supported. Use 'text' instead"),
        "{err}"
    );
    let (out, _dir) = run_once(
        "<match **>\n@type s3\ns3_bucket b\ns3_endpoint https://s3.us-east-1.amazonaws.com\n</match>\n",
        &["--dry-run"],
    );
    assert!(!out.status.success());
}
