//! The AWS outputs end to end on the built binary, against a real AWS API server on loopback:
//! `moto_server` (PyPI `moto[server]`, installed by `.ci/install-deps.sh`), started per test on
//! a free 127.0.0.1 port. What arrived is read back through the same APIs with boto3
//! (tests/aws/moto_ops.py): GetLogEvents for `cloudwatch_logs`, the objects Firehose delivered
//! into moto's S3 for `kinesis_firehose`, GetRecords for `kinesis_streams`.
//!
//! Cases: 100,000 events exactly once per output; a 2.5 MiB event delivered whole in parts
//! (CloudWatch Logs); 20,000 events over 50 streams while one stream's log group is deleted
//! midway (the other streams keep flowing, the lost group's events take the error path);
//! `kill -9` under acknowledged load with a file buffer (every acknowledged event delivered);
//! an oversized Kinesis record to the error path while the rest of its chunk is delivered;
//! CloudWatch Logs unreachable, retried with backoff then on the buffer's schedule, delivered
//! once when it is back; configuration errors with file:line.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use logferry_forward::encode::{self, Compression};
use logferry_msgpack::{EventTime, Value};
use support::acked::send_and_ack;
use support::*;

/// A moto_server on 127.0.0.1, killed on drop.
struct Moto {
    child: Child,
    port: u16,
    log: Arc<Mutex<Vec<u8>>>,
}

impl Moto {
    fn start() -> Moto {
        Self::start_on(free_port())
    }

    /// Start on a given port (one a daemon may already be pointed at).
    fn start_on(port: u16) -> Moto {
        let mut child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("moto_server is not installed: run .ci/install-deps.sh");
        let log = Arc::new(Mutex::new(Vec::new()));
        for r in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let log = log.clone();
            thread::spawn(move || {
                let mut r = r;
                let mut buf = [0u8; 8192];
                while let Ok(n) = r.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let mut l = log.lock().unwrap();
                    // Keep the last 64 KiB: moto logs every request.
                    if l.len() > 1 << 16 {
                        l.drain(..1 << 15);
                    }
                    l.extend_from_slice(&buf[..n]);
                }
            });
        }
        let m = Moto { child, port, log };
        let t = Instant::now();
        // Answers once its HTTP server is up.
        loop {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                use std::io::Write as _;
                let _ = s.write_all(b"GET /moto-api/ HTTP/1.0\r\n\r\n");
                let mut head = [0u8; 12];
                if s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1") {
                    break;
                }
            }
            assert!(
                t.elapsed() < Duration::from_secs(30),
                "moto_server did not answer: {}",
                m.log()
            );
            thread::sleep(Duration::from_millis(50));
        }
        m
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log(&self) -> String {
        String::from_utf8_lossy(&self.log.lock().unwrap()).into_owned()
    }

    /// Run a tests/aws/moto_ops.py command; its JSON lines.
    fn ops(&self, args: &[&str]) -> Vec<serde_json::Value> {
        let script = repo_root().join("tests/aws/moto_ops.py");
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        let out = Command::new(python)
            .arg(&script)
            .arg(self.endpoint())
            .args(args)
            .output()
            .expect("python3");
        assert!(
            out.status.success(),
            "moto_ops {args:?} failed: {}\nmoto_server:\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Messages of a log group: (stream, message), in stream order.
    fn log_events(&self, group: &str) -> Vec<(String, String)> {
        self.ops(&["logs-dump", group])
            .into_iter()
            .map(|v| {
                (
                    v["stream"].as_str().unwrap().to_string(),
                    v["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// Bodies of the objects in a bucket.
    fn objects(&self, bucket: &str) -> Vec<Vec<u8>> {
        self.ops(&["s3-dump", bucket])
            .into_iter()
            .map(|v| b64(v["body"].as_str().unwrap()))
            .collect()
    }

    /// The non-empty lines of every object in a bucket (Firehose's deliveries).
    fn object_lines(&self, bucket: &str) -> Vec<Vec<u8>> {
        self.objects(bucket)
            .iter()
            .flat_map(|o| {
                o.split(|b| *b == b'\n')
                    .filter(|l| !l.is_empty())
                    .map(<[u8]>::to_vec)
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// (partition key, data) of every record of a data stream.
    fn records(&self, stream: &str) -> Vec<(String, Vec<u8>)> {
        self.ops(&["kinesis-dump", stream])
            .into_iter()
            .map(|v| {
                (
                    v["key"].as_str().unwrap().to_string(),
                    b64(v["data"].as_str().unwrap()),
                )
            })
            .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn b64(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| *c != b'=') {
        acc = (acc << 6) | A.iter().position(|x| *x == c).unwrap() as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// The seq of a JSON message (`{"seq":N,…}`).
fn seq_of(msg: &[u8]) -> u64 {
    let v: serde_json::Value = serde_json::from_slice(msg)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(msg)));
    v["seq"].as_u64().unwrap()
}

/// How often each seq arrived.
fn counts(seqs: impl IntoIterator<Item = u64>) -> BTreeMap<u64, u32> {
    let mut m = BTreeMap::new();
    for s in seqs {
        *m.entry(s).or_insert(0) += 1;
    }
    m
}

/// Records `{"seq": from.., extra fields}` timed now (CloudWatch refuses events older than 14
/// days), as one PackedForward frame acked with `id`.
fn frame(
    tag: &str,
    from: u64,
    n: u64,
    id: &str,
    extra: &dyn Fn(u64) -> Vec<(&'static str, String)>,
) -> Vec<u8> {
    let now = EventTime::now();
    let mut entries = Vec::new();
    for s in from..from + n {
        entries.push(0x92);
        now.encode(&mut entries);
        let mut fields = vec![(Value::Str("seq".into()), Value::Int(s as i64))];
        for (k, v) in extra(s) {
            fields.push((Value::Str(k.into()), Value::Str(v)));
        }
        Value::Map(fields).encode(&mut entries);
    }
    let mut f = Vec::new();
    encode::packed_forward(
        tag,
        &entries,
        n as usize,
        Some(id),
        Compression::Text,
        &mut f,
    );
    f
}

fn no_extra(_: u64) -> Vec<(&'static str, String)> {
    Vec::new()
}

/// Send `total` events in acked frames of `per_frame`, from seq `from`.
fn send_all(
    d: &Daemon,
    tag: &str,
    from: u64,
    total: u64,
    per_frame: u64,
    extra: &dyn Fn(u64) -> Vec<(&'static str, String)>,
) {
    let mut s = d.connect();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut next = from;
    while next < from + total {
        let n = per_frame.min(from + total - next);
        let id = format!("f{next}");
        assert!(
            send_and_ack(&mut s, &frame(tag, next, n, &id, extra), &id),
            "no ack for {id}"
        );
        next += n;
    }
}

/// Acked load of at most `max` events, until stopped, reconnecting and resending an unacked
/// frame; the acked seqs.
fn acked_load(
    port: u16,
    tag: &'static str,
    max: u64,
    stop: Arc<AtomicBool>,
) -> thread::JoinHandle<BTreeSet<u64>> {
    thread::spawn(move || {
        let mut acked = BTreeSet::new();
        let mut next = 0u64;
        let mut conn: Option<TcpStream> = None;
        while !stop.load(Ordering::Relaxed) && next < max {
            let s = match &mut conn {
                Some(s) => s,
                None => match TcpStream::connect(("127.0.0.1", port)) {
                    Ok(s) => {
                        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
                        conn.insert(s)
                    }
                    Err(_) => {
                        thread::sleep(Duration::from_millis(20));
                        continue;
                    }
                },
            };
            let id = format!("b{next}");
            if send_and_ack(s, &frame(tag, next, 100, &id, &no_extra), &id) {
                acked.extend(next..next + 100);
                next += 100;
            } else {
                conn = None;
            }
        }
        acked
    })
}

/// Poll `f` until it returns `Some`, failing with `what()` after `secs`.
fn wait_until<T>(secs: u64, mut f: impl FnMut() -> Option<T>, what: impl Fn() -> String) -> T {
    let t = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            t.elapsed() < Duration::from_secs(secs),
            "timed out: {}",
            what()
        );
        thread::sleep(Duration::from_millis(300));
    }
}

/// Seqs of the JSON lines the `@ERROR` file output wrote (`{DIR}/error*.log`).
fn error_seqs(dir: &std::path::Path) -> BTreeSet<u64> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return BTreeSet::new();
    };
    rd.filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            p.is_file() && n.starts_with("error") && n.ends_with(".log")
        })
        .flat_map(|p| lines_of(&p))
        .map(|l| seq_of(l.as_bytes()))
        .collect()
}

const SOURCE: &str = "<source>\n@type forward\nport {PORT}\nbind 127.0.0.1\n</source>\n";

fn creds(m: &Moto) -> String {
    format!(
        "region us-east-1\nendpoint {}\naws_key_id testing\naws_sec_key testing\n",
        m.endpoint()
    )
}

/// Memory buffer flushed every 0.5 s, quick retries.
const FAST_BUFFER: &str = "<buffer>\nflush_mode interval\nflush_interval 0.5\nretry_wait 0.5\nretry_randomize false\nretry_max_interval 2\n</buffer>\n";

#[test]
fn cloudwatch_100k_events_exactly_once() {
    let m = Moto::start();
    let conf = format!(
        "{SOURCE}<match app.**>\n@type cloudwatch_logs\n{}log_group_name lf-100k\nlog_stream_name ${{tag}}\nauto_create_stream true\n<buffer tag>\nflush_mode interval\nflush_interval 0.5\nchunk_limit_size 4m\n</buffer>\n</match>\n",
        creds(&m)
    );
    let d = Daemon::start(&conf);
    send_all(&d, "app.one", 0, 100_000, 2000, &no_extra);
    let got = wait_until(
        300,
        || {
            let ev = m.log_events("lf-100k");
            (ev.len() >= 100_000).then_some(ev)
        },
        || format!("fewer than 100,000 events; logferry:\n{}", d.stderr()),
    );
    assert!(got.iter().all(|(s, _)| s == "app.one"));
    let c = counts(got.iter().map(|(_, msg)| seq_of(msg.as_bytes())));
    assert_eq!(c.len(), 100_000, "distinct seqs");
    assert!(c.values().all(|n| *n == 1), "duplicates");
    assert_eq!(*c.keys().last().unwrap(), 99_999);
    // Sent in order with one timestamp per frame: the stream keeps their order.
    let seqs: Vec<u64> = got.iter().map(|(_, msg)| seq_of(msg.as_bytes())).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "out of order");
}

#[test]
fn cloudwatch_2_5_mib_event_is_delivered_whole_in_parts() {
    let m = Moto::start();
    m.ops(&["logs-create", "lf-big", "s"]);
    let conf = format!(
        "{SOURCE}<match big>\n@type cloudwatch_logs\n{}log_group_name lf-big\nlog_stream_name s\nmessage_keys log\n{FAST_BUFFER}</match>\n",
        creds(&m)
    );
    let d = Daemon::start(&conf);
    // 2.5 MiB of text with multi-byte characters, so the split must respect UTF-8.
    let unit = "0123456789abcdef€ü";
    let big: String = unit.repeat((5 << 19) / unit.len() + 1);
    assert!(big.len() >= 5 << 19);
    let bigc = big.clone();
    send_all(&d, "big", 0, 1, 1, &move |_| vec![("log", bigc.clone())]);
    let got = wait_until(
        60,
        || {
            let ev = m.log_events("lf-big");
            let total: usize = ev.iter().map(|(_, m)| m.len()).sum();
            (total >= big.len()).then_some(ev)
        },
        || format!("the big event did not arrive; logferry:\n{}", d.stderr()),
    );
    let parts: Vec<&str> = got.iter().map(|(_, m)| m.as_str()).collect();
    assert_eq!(parts.len(), 3, "2.5 MiB in parts of at most 1 MiB - 26");
    assert!(parts.iter().all(|p| p.len() + 26 <= 1 << 20));
    assert_eq!(parts.concat(), big, "the parts, in order, are the event");
    d.wait_for_log("were split into several events", Duration::from_secs(5));
}

#[test]
fn cloudwatch_one_deleted_group_does_not_hold_back_49_streams() {
    let m = Moto::start();
    let streams: Vec<String> = (0..49).map(|i| format!("s{i:02}")).collect();
    let mut args = vec!["logs-create", "lf-main"];
    args.extend(streams.iter().map(String::as_str));
    m.ops(&args);
    m.ops(&["logs-create", "lf-victim", "v"]);
    let conf = format!(
        "{SOURCE}<match multi>\n@type cloudwatch_logs\n{}log_group_name_key group\nlog_stream_name_key stream\nremove_log_group_name_key true\nremove_log_stream_name_key true\nconcurrency 4\n{FAST_BUFFER}</match>\n\
         <label @ERROR>\n<match **>\n@type file\npath {{DIR}}/error\nformat json\nappend true\n<buffer>\nflush_mode immediate\n</buffer>\n</match>\n</label>\n",
        creds(&m)
    );
    let d = Daemon::start(&conf);
    // seq % 50 == 49 goes to the victim group's stream, the others over 49 streams of lf-main.
    let route = |s: u64| -> Vec<(&'static str, String)> {
        if s % 50 == 49 {
            vec![("group", "lf-victim".into()), ("stream", "v".into())]
        } else {
            vec![
                ("group", "lf-main".into()),
                ("stream", format!("s{:02}", s % 50)),
            ]
        }
    };
    send_all(&d, "multi", 0, 10_000, 500, &route);
    wait_until(
        60,
        || {
            (m.log_events("lf-main").len() == 9_800 && m.log_events("lf-victim").len() == 200)
                .then_some(())
        },
        || format!("first half not delivered; logferry:\n{}", d.stderr()),
    );
    m.ops(&["logs-delete-group", "lf-victim"]);
    send_all(&d, "multi", 10_000, 10_000, 500, &route);
    let main = wait_until(
        60,
        || {
            let ev = m.log_events("lf-main");
            (ev.len() >= 19_600).then_some(ev)
        },
        || {
            format!(
                "the 49 streams did not keep flowing; logferry:\n{}",
                d.stderr()
            )
        },
    );
    let c = counts(main.iter().map(|(_, msg)| seq_of(msg.as_bytes())));
    assert_eq!(c.len(), 19_600);
    assert!(c.values().all(|n| *n == 1), "duplicates in the 49 streams");
    for (stream, msg) in &main {
        assert_eq!(stream, &format!("s{:02}", seq_of(msg.as_bytes()) % 50));
    }
    // The deleted group's later events took the error path (@ERROR), none was lost.
    let err_dir = d.dir.path().to_path_buf();
    let errors = wait_until(
        30,
        || {
            let seqs = error_seqs(&err_dir);
            (seqs.len() >= 200).then_some(seqs)
        },
        || {
            format!(
                "the lost group's events are not in @ERROR; logferry:\n{}",
                d.stderr()
            )
        },
    );
    let want: BTreeSet<u64> = (10_000..20_000).filter(|s| s % 50 == 49).collect();
    assert_eq!(errors, want);
    assert!(
        d.stderr().contains("lf-victim/v"),
        "the failure names the stream"
    );
}

/// kill -9 while acknowledged load goes through a file buffer; restarted, every acknowledged
/// event is in CloudWatch Logs (at least once).
#[test]
fn cloudwatch_kill9_under_acked_load_loses_nothing() {
    let m = Moto::start();
    let conf = format!(
        "{SOURCE}<match load>\n@type cloudwatch_logs\n{}log_group_name lf-crash\nlog_stream_name s\nauto_create_stream true\n\
         <buffer>\n@type file\npath {{DIR}}/buf\nflush_mode interval\nflush_interval 0.3\nchunk_limit_size 64k\n</buffer>\n</match>\n",
        creds(&m)
    );
    let mut d = Daemon::start(&conf);
    let stop = Arc::new(AtomicBool::new(false));
    let load = acked_load(d.port, "load", 30_000, stop.clone());
    wait_until(
        30,
        || (m.log_events("lf-crash").len() >= 2_000).then_some(()),
        || d.stderr(),
    );
    d.kill9();
    d.restart();
    wait_until(
        30,
        || (m.log_events("lf-crash").len() >= 6_000).then_some(()),
        || d.stderr(),
    );
    stop.store(true, Ordering::Relaxed);
    let acked = load.join().unwrap();
    let got = wait_until(
        60,
        || {
            let c = counts(
                m.log_events("lf-crash")
                    .iter()
                    .map(|(_, msg)| seq_of(msg.as_bytes())),
            );
            acked.iter().all(|s| c.contains_key(s)).then_some(c)
        },
        || format!("acknowledged events missing; logferry:\n{}", d.stderr()),
    );
    eprintln!(
        "acked {}, delivered {} distinct, {} repeats",
        acked.len(),
        got.len(),
        got.values().map(|n| n - 1).sum::<u32>()
    );
}

#[test]
fn firehose_100k_events_exactly_once() {
    let m = Moto::start();
    m.ops(&["firehose-create", "lf-fh", "lf-fh-bucket"]);
    let conf = format!(
        "{SOURCE}<match app.**>\n@type kinesis_firehose\n{}delivery_stream_name lf-fh\n<buffer>\nflush_mode interval\nflush_interval 0.5\nchunk_limit_size 4m\n</buffer>\n</match>\n",
        creds(&m)
    );
    let d = Daemon::start(&conf);
    send_all(&d, "app.fh", 0, 100_000, 2000, &no_extra);
    let lines = wait_until(
        300,
        || {
            let lines = m.object_lines("lf-fh-bucket");
            (lines.len() >= 100_000).then_some(lines)
        },
        || {
            format!(
                "fewer than 100,000 records in S3; logferry:\n{}",
                d.stderr()
            )
        },
    );
    let c = counts(lines.iter().map(|l| seq_of(l)));
    assert_eq!(c.len(), 100_000);
    assert!(c.values().all(|n| *n == 1), "duplicates");
    // Each object is one PutRecordBatch: at most 500 records.
    assert!(m
        .objects("lf-fh-bucket")
        .iter()
        .all(|o| o.iter().filter(|b| **b == b'\n').count() <= 500));
}

#[test]
fn streams_100k_events_exactly_once() {
    let m = Moto::start();
    m.ops(&["kinesis-create", "lf-ks", "2"]);
    let conf = format!(
        "{SOURCE}<match app.**>\n@type kinesis_streams\n{}stream_name lf-ks\npartition_key seq\n<buffer>\nflush_mode interval\nflush_interval 0.5\nchunk_limit_size 4m\n</buffer>\n</match>\n",
        creds(&m)
    );
    let d = Daemon::start(&conf);
    send_all(&d, "app.ks", 0, 100_000, 2000, &no_extra);
    let recs = wait_until(
        300,
        || {
            let r = m.records("lf-ks");
            (r.len() >= 100_000).then_some(r)
        },
        || format!("fewer than 100,000 records; logferry:\n{}", d.stderr()),
    );
    let c = counts(recs.iter().map(|(_, data)| seq_of(data)));
    assert_eq!(c.len(), 100_000);
    assert!(c.values().all(|n| *n == 1), "duplicates");
    for (key, data) in &recs {
        assert_eq!(key, &seq_of(data).to_string(), "partition_key seq");
        assert!(
            data.ends_with(b"\n"),
            "the json formatter's newline, as the Ruby plugin"
        );
    }
}

/// A record over max_record_size takes the error path with a clear log line; the rest of its
/// chunk is delivered.
#[test]
fn streams_oversized_record_to_error_path_rest_delivered() {
    let m = Moto::start();
    m.ops(&["kinesis-create", "lf-big", "1"]);
    let conf = format!(
        "{SOURCE}<match app.**>\n@type kinesis_streams\n{}stream_name lf-big\n{FAST_BUFFER}</match>\n\
         <label @ERROR>\n<match **>\n@type file\npath {{DIR}}/error\nformat json\nappend true\n<buffer>\nflush_mode immediate\n</buffer>\n</match>\n</label>\n",
        creds(&m)
    );
    let d = Daemon::start(&conf);
    let pad = "p".repeat((1 << 20) + 10);
    send_all(&d, "app.x", 0, 10, 10, &move |s| {
        if s == 4 {
            vec![("pad", pad.clone())]
        } else {
            Vec::new()
        }
    });
    let recs = wait_until(
        60,
        || {
            let r = m.records("lf-big");
            (r.len() >= 9).then_some(r)
        },
        || {
            format!(
                "the rest of the chunk was not delivered; logferry:\n{}",
                d.stderr()
            )
        },
    );
    let got: BTreeSet<u64> = recs.iter().map(|(_, d)| seq_of(d)).collect();
    assert_eq!(got, (0..10).filter(|s| *s != 4).collect());
    d.wait_for_log(
        "Record size limit exceeded in 1024 KB",
        Duration::from_secs(5),
    );
    let err_dir: PathBuf = d.dir.path().to_path_buf();
    wait_until(
        30,
        || error_seqs(&err_dir).contains(&4).then_some(()),
        || {
            format!(
                "the oversized record is not in @ERROR; logferry:\n{}",
                d.stderr()
            )
        },
    );
}

/// What cannot be honoured fails `--dry-run` with file:line and the reason; no request is made.
#[test]
fn aws_config_errors_name_the_line() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "cloudwatch_logs",
            "log_group_name g\nuse_tag_as_group true\nlog_stream_name s",
            "Set only one of log_group_name, use_tag_as_group and log_group_name_key",
        ),
        (
            "cloudwatch_logs",
            "log_group_name g\nlog_stream_name s\nmax_events_per_batch 10001",
            "fluent.conf:10:1: max_events_per_batch must be between 1 and 10000",
        ),
        (
            "cloudwatch_logs",
            "log_group_name g\nlog_stream_name s\nhttp_proxy http://p:3128",
            "'http_proxy' is not supported",
        ),
        (
            "cloudwatch_logs",
            "log_group_name g\nlog_stream_name s\noversize_event drop",
            "'oversize_event': 'drop' is not one of: split, truncate",
        ),
        (
            "kinesis_firehose",
            "delivery_stream_name d\nmax_record_size 1048577",
            "max_record_size can't be greater than 1024 KB (fluent-plugin-kinesis's bound)",
        ),
        (
            "s3",
            "s3_bucket b\nuse_bundled_cert true",
            "'use_bundled_cert true' is not supported",
        ),
        (
            "kinesis_streams",
            "stream_name s\nbatch_request_max_count 501",
            "fluent.conf:9:1: batch_request_max_count can't be greater than 500",
        ),
        (
            "kinesis_streams",
            "stream_name s\ncompression lz4",
            "compression 'lz4' is not one of: zlib, gzip",
        ),
        (
            "kinesis_firehose",
            "delivery_stream_name d\npartition_key k",
            "Firehose records have no partition key",
        ),
    ];
    for (ty, body, want) in cases {
        let conf = format!("{SOURCE}<match **>\n@type {ty}\n{body}\n</match>\n");
        let (out, _dir) = run_once(&conf, &["--dry-run"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{ty} {body:?} was accepted");
        assert!(err.contains(want), "{ty} {body:?}: {err}");
        assert!(err.contains("fluent.conf:"), "no file:line: {err}");
    }
    let ok = format!(
        "{SOURCE}<match a>\n@type cloudwatch_logs\nlog_group_name g\nlog_stream_name s\n</match>\n<match b>\n@type kinesis_firehose\ndelivery_stream_name d\n</match>\n<match c>\n@type kinesis_streams\nstream_name s\n</match>\n"
    );
    let (out, _dir) = run_once(&ok, &["--dry-run"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        !err.contains("[warn]"),
        "no warning without max_record_size: {err}"
    );
    // Accepted with a warning: `match_body` in a `<match b>`, the warning's text.
    let warned = |match_body: &str, warning: &str| {
        let conf = format!("{SOURCE}<match b>\n{match_body}\n</match>\n");
        let (out, _dir) = run_once(&conf, &["--dry-run"]);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{err}");
        assert!(err.contains(warning) && !err.contains("not used"), "{err}");
    };
    // fluent-plugin-kinesis takes up to 1 MiB for Firehose too (its default): Firehose's own
    // limit is used.
    warned(
        "@type kinesis_firehose\ndelivery_stream_name d\nmax_record_size 1048576",
        "max_record_size 1048576 is above Firehose's limit of 1024000 bytes",
    );
    // fluent-plugin-s3's default written out, and its deprecated instance-profile retries.
    warned(
        "@type s3\ns3_bucket b\nuse_bundled_cert false\naws_iam_retries 3",
        "'aws_iam_retries' parameter is deprecated",
    );
    // fluent-plugin-cloudwatch-logs ignores aws_sts_* without aws_use_sts.
    warned(
        "@type cloudwatch_logs\nlog_group_name g\nlog_stream_name s\naws_sts_role_arn arn:r",
        "'aws_sts_role_arn' is set but 'aws_use_sts' is not true: no role is assumed",
    );
}

/// CloudWatch Logs is unreachable (nothing listens on the endpoint) while events are buffered:
/// PutLogEvents is retried with backoff, then the chunk goes back to the buffer's retry
/// schedule; once moto_server listens there, every event arrives exactly once.
#[test]
fn cloudwatch_outage_retried_then_delivered_once() {
    let mut held = HeldPort::new();
    let endpoint = format!("http://127.0.0.1:{}", held.port);
    let conf = format!(
        "{SOURCE}<match out>\n@type cloudwatch_logs\nregion us-east-1\nendpoint {endpoint}\naws_key_id testing\naws_sec_key testing\n\
         log_group_name lf-outage\nlog_stream_name s\nauto_create_stream true\nput_log_events_retry_wait 0.2\nput_log_events_retry_limit 2\n{FAST_BUFFER}</match>\n"
    );
    let d = Daemon::start(&conf);
    send_all(&d, "out", 0, 3_000, 500, &no_extra);
    // Retried inside the writer, then handed back to the buffer's schedule.
    d.wait_for_log("(attempt 2, next in", Duration::from_secs(30));
    d.wait_for_log("retry #", Duration::from_secs(30));
    let m = Moto::start_on(held.release());
    let got = wait_until(
        60,
        || {
            let ev = m.log_events("lf-outage");
            (ev.len() >= 3_000).then_some(ev)
        },
        || format!("not delivered after the outage; logferry:\n{}", d.stderr()),
    );
    let c = counts(got.iter().map(|(_, msg)| seq_of(msg.as_bytes())));
    assert_eq!(c.len(), 3_000);
    assert!(c.values().all(|n| *n == 1), "duplicates");
}

/// tests/aws/fault_proxy.py in front of a moto_server: throttling, 503s and partly failed
/// batches, as AWS answers them and moto never does. Killed on drop.
struct FaultProxy {
    child: Child,
    port: u16,
    faults: Arc<Mutex<Vec<String>>>,
}

impl FaultProxy {
    /// The first `throttle` write calls get 400 ThrottlingException, the next `server` 503, the
    /// next `partial` batch calls fail their odd records.
    fn start(m: &Moto, throttle: u32, server: u32, partial: u32) -> FaultProxy {
        let script = repo_root().join("tests/aws/fault_proxy.py");
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
        let mut child = Command::new(python)
            .arg(&script)
            .args([m.port, throttle as u16, server as u16, partial as u16].map(|n| n.to_string()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        use std::io::BufRead as _;
        out.read_line(&mut first).expect("the proxy's port");
        let port: u16 = first
            .trim()
            .parse()
            .expect("the proxy prints its port first");
        let faults = Arc::new(Mutex::new(Vec::new()));
        let f = faults.clone();
        thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                f.lock().unwrap().push(line);
            }
        });
        FaultProxy {
            child,
            port,
            faults,
        }
    }

    fn creds(&self) -> String {
        format!(
            "region us-east-1\nendpoint http://127.0.0.1:{}\naws_key_id testing\naws_sec_key testing\n",
            self.port
        )
    }

    /// Wait until the proxy has reported `n` faults of `kind` (its lines are read by a thread,
    /// so they may trail the deliveries they caused).
    fn wait_count(&self, kind: &str, n: usize) {
        wait_until(
            30,
            || (self.count(kind) == n).then_some(()),
            || format!("{} of {n} '{kind}' faults reported", self.count(kind)),
        );
    }

    /// How many faults of `kind` the proxy injected.
    fn count(&self, kind: &str) -> usize {
        let want = format!("fault {kind}");
        self.faults
            .lock()
            .unwrap()
            .iter()
            .filter(|l| **l == want)
            .count()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Throttling and 5xx from CloudWatch Logs are retried with backoff: every event arrives, once.
#[test]
fn cloudwatch_throttling_and_5xx_retried_delivered_once() {
    let m = Moto::start();
    let p = FaultProxy::start(&m, 3, 2, 0);
    let conf = format!(
        "{SOURCE}<match out>\n@type cloudwatch_logs\n{}log_group_name lf-throttle\nlog_stream_name s\nauto_create_stream true\nput_log_events_retry_wait 0.1\n{FAST_BUFFER}</match>\n",
        p.creds()
    );
    let d = Daemon::start(&conf);
    send_all(&d, "out", 0, 5_000, 500, &no_extra);
    let got = wait_until(
        60,
        || {
            let ev = m.log_events("lf-throttle");
            (ev.len() >= 5_000).then_some(ev)
        },
        || {
            format!(
                "not delivered through the faults; logferry:\n{}",
                d.stderr()
            )
        },
    );
    let c = counts(got.iter().map(|(_, msg)| seq_of(msg.as_bytes())));
    assert_eq!(c.len(), 5_000);
    assert!(c.values().all(|n| *n == 1), "duplicates");
    // Every throttling answer and every 503 was given (and retried past).
    p.wait_count("throttle", 3);
    p.wait_count("server", 2);
}

/// A partly failed PutRecordBatch retries exactly the records that failed: every record arrives
/// once in moto's S3.
#[test]
fn firehose_partial_failure_retries_exactly_the_failed_records() {
    let m = Moto::start();
    m.ops(&["firehose-create", "lf-fh-partial", "lf-fh-partial-bucket"]);
    let p = FaultProxy::start(&m, 1, 1, 3);
    let conf = format!(
        "{SOURCE}<match out>\n@type kinesis_firehose\n{}delivery_stream_name lf-fh-partial\n{FAST_BUFFER}</match>\n",
        p.creds()
    );
    let d = Daemon::start(&conf);
    send_all(&d, "out", 0, 3_000, 500, &no_extra);
    let lines = wait_until(
        60,
        || {
            let lines = m.object_lines("lf-fh-partial-bucket");
            (lines.len() >= 3_000).then_some(lines)
        },
        || {
            format!(
                "not delivered through the faults; logferry:\n{}",
                d.stderr()
            )
        },
    );
    let c = counts(lines.iter().map(|l| seq_of(l)));
    assert_eq!(c.len(), 3_000);
    assert!(c.values().all(|n| *n == 1), "duplicates");
    assert_eq!(
        p.count("partial"),
        3,
        "three batches came back partly failed"
    );
}

/// The same for PutRecords (Kinesis Data Streams).
#[test]
fn streams_partial_failure_retries_exactly_the_failed_records() {
    let m = Moto::start();
    m.ops(&["kinesis-create", "lf-ks-partial", "1"]);
    let p = FaultProxy::start(&m, 1, 1, 3);
    let conf = format!(
        "{SOURCE}<match out>\n@type kinesis_streams\n{}stream_name lf-ks-partial\n{FAST_BUFFER}</match>\n",
        p.creds()
    );
    let d = Daemon::start(&conf);
    send_all(&d, "out", 0, 3_000, 500, &no_extra);
    let recs = wait_until(
        60,
        || {
            let r = m.records("lf-ks-partial");
            (r.len() >= 3_000).then_some(r)
        },
        || {
            format!(
                "not delivered through the faults; logferry:\n{}",
                d.stderr()
            )
        },
    );
    let c = counts(recs.iter().map(|(_, data)| seq_of(data)));
    assert_eq!(c.len(), 3_000);
    assert!(c.values().all(|n| *n == 1), "duplicates");
    assert_eq!(
        p.count("partial"),
        3,
        "three batches came back partly failed"
    );
}
