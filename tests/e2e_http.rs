//! The `http` output end to end: the built binary receives events on forward and sends them to a
//! real HTTP server started by the test on 127.0.0.1 (hyper; `test_server.rs` records every
//! request and answers as scripted). Bodies, headers, gzip, retries, give-ups to a backup and to
//! the secondary, Retry-After, TLS with a private CA, the drain at SIGTERM, and `--dry-run`.

mod support;
#[path = "../crates/plugins/src/out_http/test_server.rs"]
mod test_server;

use std::thread;
use std::time::{Duration, Instant};

use logferry_forward::encode::{self, Compression};
use logferry_msgpack::{EventTime, Value};
use support::*;
use test_server::{Pki, Reply, Server};

/// A PackedForward frame of `records` (maps of int values) with tag `tag`, acked with `id`.
fn frame(tag: &str, records: &[&[(&str, i64)]], id: &str) -> Vec<u8> {
    let mut entries = Vec::new();
    for r in records {
        entries.push(0x92);
        EventTime::new(1_700_000_000, 0).encode(&mut entries);
        Value::Map(
            r.iter()
                .map(|(k, v)| (Value::Str((*k).into()), Value::Int(*v)))
                .collect(),
        )
        .encode(&mut entries);
    }
    let mut f = Vec::new();
    encode::packed_forward(
        tag,
        &entries,
        records.len(),
        Some(id),
        Compression::Text,
        &mut f,
    );
    f
}

/// Send a frame and wait for its ack.
fn send_acked(d: &Daemon, f: &[u8]) {
    let mut s = d.connect();
    send(&mut s, f);
    let ack = read_msgpack(&mut s);
    assert!(!ack.is_empty());
}

const SOURCE: &str = "
<system>
  root_dir {DIR}/root
</system>
<source>
  @type forward
  port {PORT}
  bind 127.0.0.1
</source>
";

fn wait_file(d: &Daemon, dir: &std::path::Path, timeout: Duration) -> String {
    let t = Instant::now();
    loop {
        if let Some(e) = std::fs::read_dir(dir)
            .ok()
            .and_then(|mut r| r.next())
            .and_then(Result::ok)
        {
            // Created before it is written: wait for its last line.
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            if text.ends_with('\n') {
                return text;
            }
        }
        assert!(
            t.elapsed() < timeout,
            "nothing in {}; log:\n{}",
            dir.display(),
            d.stderr()
        );
        thread::sleep(Duration::from_millis(20));
    }
}

// Reference §7.9 case 96, on the binary: json_array and NDJSON bodies with their Content-Types;
// custom and placeholder headers, basic auth, a tag in the endpoint; gzip.
#[test]
fn case_96_bodies_and_headers() {
    let server = Server::start();
    let conf = format!(
        "{SOURCE}
<match arr.**>
  @type http
  endpoint {arr}
  json_array true
  headers {{\"X-Env\":\"test\"}}
  headers_from_placeholders {{\"X-Tag\":\"${{tag}}\"}}
  <auth>
    method basic
    username alice
    password s3cret
  </auth>
  <buffer tag>
    flush_mode immediate
  </buffer>
</match>
<match nd.**>
  @type http
  endpoint {nd}
  <buffer>
    flush_mode immediate
  </buffer>
</match>
<match gz.**>
  @type http
  endpoint {gz}
  compress gzip
  http_method put
  <buffer>
    # Long enough that both emits (two connections, two acks) land in one chunk.
    flush_interval 3
  </buffer>
</match>
",
        arr = server.url("/arr/${tag}"),
        nd = server.url("/nd"),
        gz = server.url("/gz"),
    );
    let mut d = Daemon::start(&conf);
    let two: &[&[(&str, i64)]] = &[&[("a", 1)], &[("b", 2)]];
    send_acked(&d, &frame("arr.x", two, "1"));
    let r = server.wait_requests(1, Duration::from_secs(10));
    send_acked(&d, &frame("nd.x", two, "2"));
    let r2 = server.wait_requests(2, Duration::from_secs(10));
    send_acked(&d, &frame("gz.x", &[&[("c", 3)]], "3"));
    send_acked(&d, &frame("gz.x", &[&[("d", 4)]], "4"));
    let r3 = server.wait_requests(3, Duration::from_secs(10));

    let a = &r[0];
    assert_eq!(
        (a.method.as_str(), a.target.as_str()),
        ("POST", "/arr/arr.x")
    );
    assert_eq!(a.text(), "[{\"a\":1}\n,{\"b\":2}\n]");
    assert_eq!(a.header("content-type"), Some("application/json"));
    assert_eq!(a.header("x-env"), Some("test"));
    assert_eq!(a.header("x-tag"), Some("arr.x"));
    assert_eq!(a.header("authorization"), Some("Basic YWxpY2U6czNjcmV0"));

    let n = &r2[1];
    assert_eq!(n.target, "/nd");
    assert_eq!(n.text(), "{\"a\":1}\n{\"b\":2}\n");
    assert_eq!(n.header("content-type"), Some("application/x-ndjson"));
    assert_eq!(n.header("authorization"), None);

    let g = &r3[2];
    assert_eq!((g.method.as_str(), g.target.as_str()), ("PUT", "/gz"));
    assert_eq!(g.header("content-encoding"), Some("gzip"));
    assert_eq!(&g.body[..2], &[0x1f, 0x8b]);
    assert_eq!(
        g.text(),
        "{\"c\":3}\n{\"d\":4}\n",
        "one chunk for both emits"
    );
    assert!(d.terminate().success());
    assert_eq!(server.requests().len(), 3, "{:#?}", server.requests());
}

// Reference §7.9 case 97, on the binary: 503 is retried; 500 is given up to the backup; 400 goes
// to the secondary; 500 with error_response_as_unrecoverable false is logged and dropped; 500
// listed in retryable_response_codes is retried.
#[test]
fn case_97_retry_and_give_up() {
    let busy = Server::start();
    busy.script([Reply::status(503).body("try later")]);
    let broken = Server::start();
    broken.set_default(Reply::status(500).body("broken"));
    let bad = Server::start();
    bad.set_default(Reply::status(400).body("bad"));
    let lenient = Server::start();
    lenient.set_default(Reply::status(500));
    let flaky = Server::start();
    flaky.script([Reply::status(500), Reply::status(500)]);
    let buffer =
        "<buffer>\n flush_mode immediate\n retry_wait 0.2\n retry_randomize false\n </buffer>";
    let conf = format!(
        "{SOURCE}
<match busy>
  @type http
  endpoint {busy}
  {buffer}
</match>
<match broken>
  @type http
  @id broken
  endpoint {broken}
  {buffer}
</match>
<match bad>
  @type http
  endpoint {bad}
  {buffer}
  <secondary>
    @type secondary_file
    directory {{DIR}}/sec
    basename dump
  </secondary>
</match>
<match lenient>
  @type http
  @id lenient
  endpoint {lenient}
  error_response_as_unrecoverable false
  {buffer}
</match>
<match flaky>
  @type http
  endpoint {flaky}
  retryable_response_codes [500, 502]
  {buffer}
</match>
",
        busy = busy.url("/"),
        broken = broken.url("/"),
        bad = bad.url("/"),
        lenient = lenient.url("/"),
        flaky = flaky.url("/"),
    );
    let mut d = Daemon::start(&conf);
    for (i, tag) in ["busy", "broken", "bad", "lenient", "flaky"]
        .iter()
        .enumerate()
    {
        send_acked(&d, &frame(tag, &[&[("n", i as i64)]], tag));
    }
    let r = busy.wait_requests(2, Duration::from_secs(10));
    assert_eq!(r[0].body, r[1].body);
    assert_eq!(r[1].text(), "{\"n\":0}\n");

    let backup = wait_file(
        &d,
        &d.path("root/backup/worker0/broken"),
        Duration::from_secs(10),
    );
    assert_eq!(backup, "{\"n\":1}\n");

    let dumped = wait_file(&d, &d.path("sec"), Duration::from_secs(10));
    // secondary_file writes the chunk as the primary formatted it.
    assert_eq!(dumped, "{\"n\":2}\n");

    lenient.wait_requests(1, Duration::from_secs(10));
    d.wait_for_log("got error response from 'POST", Duration::from_secs(10));

    let r = flaky.wait_requests(3, Duration::from_secs(10));
    assert!(r.iter().all(|x| x.text() == "{\"n\":4}\n"));

    thread::sleep(Duration::from_millis(500));
    assert_eq!(broken.requests().len(), 1, "500 is not retried");
    assert_eq!(bad.requests().len(), 1, "400 is not retried");
    assert_eq!(lenient.requests().len(), 1, "dropped, not retried");
    assert!(!d.path("root/backup/worker0/lenient").exists());
    assert!(d.terminate().success());
    assert_eq!(busy.requests().len(), 2);
    assert_eq!(flaky.requests().len(), 3);
}

/// A 429 with `Retry-After: 2` holds the next attempt back at least 2 s, though retry_wait is 0.2 s.
#[test]
fn retry_after_respected() {
    let server = Server::start();
    server.script([Reply::status(429).header("Retry-After", "2")]);
    let conf = format!(
        "{SOURCE}
<match **>
  @type http
  endpoint {}
  retryable_response_codes [429, 503]
  <buffer>
    flush_mode immediate
    retry_wait 0.2
  </buffer>
</match>
",
        server.url("/limited")
    );
    let mut d = Daemon::start(&conf);
    send_acked(&d, &frame("t", &[&[("n", 1)]], "1"));
    let r = server.wait_requests(2, Duration::from_secs(10));
    let gap = r[1].at - r[0].at;
    assert!(gap >= Duration::from_secs(2), "retried after {gap:?}");
    assert!(gap < Duration::from_secs(10), "retried after {gap:?}");
    assert_eq!(r[1].text(), "{\"n\":1}\n");
    d.wait_for_log("retry after 2.0s", Duration::from_secs(10));
    assert!(d.terminate().success());
}

/// HTTPS to a server whose certificate is signed by a private CA, trusted via tls_ca_cert_path;
/// the same endpoint without the CA is refused (and retried, so nothing arrives).
#[test]
fn tls_with_a_private_ca() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::generate(dir.path());
    let server = Server::start_tls(pki.server_config(false));
    let conf = format!(
        "{SOURCE}
<match trusted>
  @type http
  endpoint {url}
  tls_ca_cert_path {ca}
  <buffer>
    flush_mode immediate
  </buffer>
</match>
<match untrusted>
  @type http
  endpoint {url}
  <buffer>
    flush_mode immediate
    retry_wait 60
  </buffer>
</match>
",
        url = server.url("/secure"),
        ca = pki.ca.display()
    );
    // The untrusted chunk cannot be sent: a short shutdown deadline ends the drain.
    let mut d = Daemon::start_with(&conf, &["--shutdown-timeout", "2"], &[]);
    send_acked(&d, &frame("untrusted", &[&[("n", 0)]], "0"));
    send_acked(&d, &frame("trusted", &[&[("n", 1)]], "1"));
    let r = server.wait_requests(1, Duration::from_secs(10));
    assert_eq!(r[0].text(), "{\"n\":1}\n");
    d.wait_for_log("failed to flush the buffer", Duration::from_secs(10));
    assert!(
        d.stderr().to_lowercase().contains("certificate"),
        "{}",
        d.stderr()
    );
    assert_eq!(server.requests().len(), 1);
    d.signal("TERM");
    d.wait_exit(Duration::from_secs(20));
}

/// SIGTERM flushes the memory buffer to the server before exiting (flush_at_shutdown).
#[test]
fn sigterm_flushes_the_buffer() {
    let server = Server::start();
    let conf = format!(
        "{SOURCE}
<match **>
  @type http
  endpoint {}
</match>
",
        server.url("/")
    );
    let mut d = Daemon::start(&conf);
    send_acked(&d, &frame("t", &[&[("n", 1)], &[("n", 2)]], "1"));
    thread::sleep(Duration::from_millis(300));
    assert!(server.requests().is_empty(), "held for flush_interval 60s");
    assert!(d.terminate().success());
    let r = server.requests();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].text(), "{\"n\":1}\n{\"n\":2}\n");
}

/// `--dry-run` accepts a full http configuration and refuses aws_sigv4 with its reason.
#[test]
fn dry_run() {
    let ok = "<match **>\n  @type http\n  endpoint https://logs.example.com/in\n  json_array true\n  compress gzip\n  <auth>\n    username u\n    password secret\n  </auth>\n</match>\n";
    let (out, _dir) = run_once(ok, &["--dry-run"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!err.contains("not used"), "{err}");
    let bad = "<match **>\n  @type http\n  endpoint https://x/\n  <auth>\n    method aws_sigv4\n    aws_service es\n    aws_region eu-west-1\n  </auth>\n</match>\n";
    let (out, _dir) = run_once(bad, &["--dry-run"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("aws_sigv4") && err.contains("not supported"),
        "{err}"
    );
}
