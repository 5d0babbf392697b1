//! out_http against a real HTTP server on 127.0.0.1, through the buffer engine: bodies, headers,
//! gzip, retries and give-ups, Retry-After, TLS, allowed_hosts, proxies, connection reuse,
//! parallel flushes; and the configuration errors.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use logferry_core::buffer::{
    BufferConfig, BufferedOutput, Chunk, ChunkId, ChunkMeta, ChunkWriter, WriteError,
};
use logferry_core::{
    BatchBuilder, EventBatch, EventTime, Lifecycle, Output, PluginLog, Section, Value,
};

use super::test_server::{Pki, Recorded, Reply, Server};
use super::*;

/// Build the writer and buffer settings of `<match **> @type http … </match>`; also returns the
/// unused-parameter warnings.
fn build(body: &str) -> Result<(BufferConfig, HttpWriter, Vec<String>), String> {
    let text = format!("<match **>\n@type http\n{body}\n</match>\n");
    let root =
        logferry_config::parse_str(&text, "t.conf", Path::new(".")).map_err(|e| e.to_string())?;
    let s = Section::new(&root.elements[0], "http");
    let cfg = BufferConfig::from_output(&s, &DEFAULTS).map_err(|e| e.to_string())?;
    let w = HttpWriter::new(&s, &cfg, PluginLog::new("http", None)).map_err(|e| e.to_string())?;
    let unused = s.warn_unused();
    Ok((cfg, w, unused))
}

fn build_ok(body: &str) -> (BufferConfig, HttpWriter) {
    let (c, w, unused) = build(body).unwrap_or_else(|e| panic!("{e}"));
    assert!(unused.is_empty(), "unused parameters: {unused:?}");
    (c, w)
}

fn build_err(body: &str) -> String {
    match build(body) {
        Ok(_) => panic!("expected a configuration error for:\n{body}"),
        Err(e) => e,
    }
}

/// A started buffered output over the http writer of `body`.
async fn output(
    body: &str,
    secondary: Option<Arc<dyn ChunkWriter>>,
    backup: &Path,
) -> Arc<BufferedOutput> {
    let (cfg, w) = build_ok(body);
    let out = Arc::new(BufferedOutput::new(
        cfg,
        Arc::new(w),
        secondary,
        PluginLog::new("http", None),
        backup.to_path_buf(),
    ));
    Lifecycle::start(out.clone()).await.unwrap();
    out
}

fn records(recs: &[&[(&str, i64)]]) -> EventBatch {
    let mut b = BatchBuilder::new();
    for r in recs {
        b.push_value(
            EventTime::new(1_700_000_000, 0),
            &Value::Map(
                r.iter()
                    .map(|(k, v)| (Value::Str((*k).into()), Value::Int(*v)))
                    .collect(),
            ),
        );
    }
    b.finish()
}

fn seq(from: i64, n: i64) -> EventBatch {
    let v: Vec<Vec<(&str, i64)>> = (from..from + n).map(|i| vec![("n", i)]).collect();
    let refs: Vec<&[(&str, i64)]> = v.iter().map(Vec::as_slice).collect();
    records(&refs)
}

async fn wait_requests(server: &Server, n: usize, timeout: Duration) -> Vec<Recorded> {
    let start = Instant::now();
    loop {
        let r = server.requests();
        if r.len() >= n {
            return r;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out waiting for {n} requests; got {r:#?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn wait_until(what: &str, timeout: Duration, f: impl Fn() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn backups(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|r| {
            r.map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
                .collect()
        })
        .unwrap_or_default()
}

const IMMEDIATE: &str =
    "<buffer>\nflush_mode immediate\nretry_wait 0.1\nretry_randomize false\n</buffer>";

fn chunk(data: &str, tag: Option<&str>) -> Chunk {
    Chunk::new(
        ChunkId([7; 16]),
        ChunkMeta {
            tag: tag.map(str::to_string),
            records: 1,
            ..Default::default()
        },
        Bytes::from(data.to_string()),
        false,
    )
}

// Reference §7.9 case 96: json_array body and Content-Type; the default NDJSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_96_json_array_and_ndjson_bodies() {
    let server = Server::start();
    let tmp = tempfile::tempdir().unwrap();
    let arr = output(
        &format!(
            "endpoint {}\njson_array true\n{IMMEDIATE}",
            server.url("/arr")
        ),
        None,
        tmp.path(),
    )
    .await;
    let nd = output(
        &format!("endpoint {}\n{IMMEDIATE}", server.url("/nd")),
        None,
        tmp.path(),
    )
    .await;
    let batch = records(&[&[("a", 1)], &[("b", 2)]]);
    arr.emit("t", batch.clone()).await.unwrap();
    let r = wait_requests(&server, 1, Duration::from_secs(10)).await;
    nd.emit("t", batch).await.unwrap();
    let r2 = wait_requests(&server, 2, Duration::from_secs(10)).await;
    assert_eq!(r[0].method, "POST");
    assert_eq!(r[0].target, "/arr");
    assert_eq!(r[0].text(), "[{\"a\":1}\n,{\"b\":2}\n]");
    assert_eq!(r[0].header("content-type"), Some("application/json"));
    assert_eq!(r2[1].target, "/nd");
    assert_eq!(r2[1].text(), "{\"a\":1}\n{\"b\":2}\n");
    assert_eq!(r2[1].header("content-type"), Some("application/x-ndjson"));
    assert_eq!(r2[1].header("content-encoding"), None);
    assert_eq!(
        arr.stats()
            .write_count
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
}

/// Custom headers, placeholders in the endpoint and headers, basic auth, PUT, Content-Type that
/// overrides a custom one (Fluentd sets it after `headers`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_placeholders_auth_and_method() {
    let server = Server::start();
    let tmp = tempfile::tempdir().unwrap();
    let out = output(
        &format!(
            "endpoint {}\nhttp_method put\nheaders {{\"X-Custom\":\"v1\",\"Content-Type\":\"text/ignored\"}}\nheaders_from_placeholders {{\"X-Tag\":\"${{tag}}\",\"X-Part\":\"${{tag[1]}}\"}}\ncontent_type application/vnd.test\n<auth>\nmethod basic\nusername user\npassword pass\n</auth>\n<buffer tag>\nflush_mode immediate\n</buffer>",
            server.url("/logs/${tag}")
        ),
        None,
        tmp.path(),
    )
    .await;
    out.emit("app.web", records(&[&[("a", 1)]])).await.unwrap();
    let r = wait_requests(&server, 1, Duration::from_secs(10)).await;
    let r = &r[0];
    assert_eq!(r.method, "PUT");
    assert_eq!(r.target, "/logs/app.web");
    assert_eq!(r.header("x-custom"), Some("v1"));
    assert_eq!(r.header("x-tag"), Some("app.web"));
    assert_eq!(r.header("x-part"), Some("web"));
    assert_eq!(r.header("content-type"), Some("application/vnd.test"));
    assert_eq!(r.header("authorization"), Some("Basic dXNlcjpwYXNz"));
    assert_eq!(r.text(), "{\"a\":1}\n");
}

/// `compress gzip` on a gzip buffer: Content-Encoding gzip and a body that decodes to the NDJSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_body_decodes() {
    let server = Server::start();
    let tmp = tempfile::tempdir().unwrap();
    for buffer_compress in ["text", "gzip"] {
        let out = output(
            &format!(
                "endpoint {}\ncompress gzip\n<buffer>\nflush_mode interval\nflush_interval 3600\ncompress {buffer_compress}\n</buffer>",
                server.url("/gz")
            ),
            None,
            tmp.path(),
        )
        .await;
        // Two emits: a gzip buffer holds two gzip members, sent as one.
        out.emit("t", seq(0, 2)).await.unwrap();
        out.emit("t", seq(2, 1)).await.unwrap();
        out.flush_now();
    }
    let r = wait_requests(&server, 2, Duration::from_secs(10)).await;
    for r in &r {
        assert_eq!(r.header("content-encoding"), Some("gzip"));
        assert_eq!(&r.body[..2], &[0x1f, 0x8b], "gzip magic");
        assert_eq!(r.text(), "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n");
        assert_eq!(r.header("content-type"), Some("application/x-ndjson"));
    }
}

// Reference §7.9 case 97: 503 is retried; 500 is not (backup); 500 with
// error_response_as_unrecoverable false is dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_97_503_retried_500_backed_up_or_dropped() {
    let tmp = tempfile::tempdir().unwrap();

    let s503 = Server::start();
    s503.script([Reply::status(503).body("busy")]);
    let out = output(
        &format!("endpoint {}\n{IMMEDIATE}", s503.url("/")),
        None,
        &tmp.path().join("b503"),
    )
    .await;
    out.emit("t", seq(0, 2)).await.unwrap();
    let r = wait_requests(&s503, 2, Duration::from_secs(10)).await;
    assert_eq!(r[0].body, r[1].body, "the same chunk is sent again");
    wait_until("the retry succeeded", Duration::from_secs(5), || {
        out.stats()
            .write_count
            .load(std::sync::atomic::Ordering::Relaxed)
            == 1
    })
    .await;
    assert_eq!(
        out.stats()
            .retry_count
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert!(backups(&tmp.path().join("b503")).is_empty());

    let s500 = Server::start();
    s500.set_default(Reply::status(500).body("boom"));
    let out = output(
        &format!("endpoint {}\n{IMMEDIATE}", s500.url("/")),
        None,
        &tmp.path().join("b500"),
    )
    .await;
    out.emit("t", seq(0, 2)).await.unwrap();
    wait_until("a backup", Duration::from_secs(10), || {
        !backups(&tmp.path().join("b500")).is_empty()
    })
    .await;
    assert_eq!(
        backups(&tmp.path().join("b500")),
        vec!["{\"n\":0}\n{\"n\":1}\n".to_string()]
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s500.requests().len(), 1, "500 is not retried");

    let drop = Server::start();
    drop.set_default(Reply::status(500));
    let out = output(
        &format!(
            "endpoint {}\nerror_response_as_unrecoverable false\n{IMMEDIATE}",
            drop.url("/")
        ),
        None,
        &tmp.path().join("bdrop"),
    )
    .await;
    out.emit("t", seq(0, 2)).await.unwrap();
    wait_requests(&drop, 1, Duration::from_secs(10)).await;
    wait_until("the chunk counted as sent", Duration::from_secs(5), || {
        out.stats()
            .write_count
            .load(std::sync::atomic::Ordering::Relaxed)
            == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(drop.requests().len(), 1);
    assert!(backups(&tmp.path().join("bdrop")).is_empty());
    assert_eq!(out.usage(), (0, 0, 0), "nothing left in the buffer");
}

/// `retryable_response_codes [500, 429]`: 500 and 429 are retried, 503 then is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_retryable_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start();
    server.script([Reply::status(500), Reply::status(429), Reply::status(503)]);
    let out = output(
        &format!(
            "endpoint {}\nretryable_response_codes [500, 429]\n{IMMEDIATE}",
            server.url("/")
        ),
        None,
        tmp.path(),
    )
    .await;
    out.emit("t", seq(0, 1)).await.unwrap();
    wait_until("a backup after the 503", Duration::from_secs(10), || {
        !backups(tmp.path()).is_empty()
    })
    .await;
    assert_eq!(server.requests().len(), 3);
    assert_eq!(
        out.stats()
            .retry_count
            .load(std::sync::atomic::Ordering::Relaxed),
        2
    );
}

/// A 429 with `Retry-After: 2` delays the next attempt by at least 2 s although retry_wait is
/// 0.1 s; a 503 with an HTTP date does too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured() {
    let tmp = tempfile::tempdir().unwrap();
    let server = Server::start();
    server.script([Reply::status(429).header("Retry-After", "2")]);
    let out = output(
        &format!(
            "endpoint {}\nretryable_response_codes [429, 503]\n{IMMEDIATE}",
            server.url("/")
        ),
        None,
        tmp.path(),
    )
    .await;
    out.emit("t", seq(0, 1)).await.unwrap();
    let r = wait_requests(&server, 2, Duration::from_secs(10)).await;
    let gap = r[1].at - r[0].at;
    assert!(gap >= Duration::from_secs(2), "retried after {gap:?}");
    assert!(gap < Duration::from_secs(4), "retried after {gap:?}");

    // Whole seconds of an HTTP date: at least 1 s from now.
    let at = SystemTime::now() + Duration::from_secs(2);
    server.script([Reply::status(503).header("Retry-After", &imf_date(at))]);
    out.emit("t", seq(1, 1)).await.unwrap();
    let r = wait_requests(&server, 4, Duration::from_secs(10)).await;
    let gap = r[3].at - r[2].at;
    assert!(gap >= Duration::from_secs(1), "retried after {gap:?}");
}

fn imf_date(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = logferry_msgpack::civil_from_days(days as i64);
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "Thu, {d:02} {} {y} {:02}:{:02}:{:02} GMT",
        MON[(m - 1) as usize],
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[test]
fn retry_after_values() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
    assert_eq!(
        http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
        Some(784_111_777)
    );
    assert_eq!(http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
    assert_eq!(
        http_date("Tue, 29 Feb 2028 23:59:59 GMT"),
        Some(1_835_481_599)
    );
    assert_eq!(retry_after("120", now), Some(Duration::from_secs(120)));
    assert_eq!(retry_after(" 5 ", now), Some(Duration::from_secs(5)));
    assert_eq!(retry_after("0", now), None);
    assert_eq!(
        retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now),
        Some(Duration::from_secs(60))
    );
    assert_eq!(
        retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
        None,
        "in the past"
    );
    for bad in [
        "",
        "-1",
        "soon",
        "1.5",
        "Sun, 06 Nov 1994 08:49:37 PST",
        "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49 GMT",
    ] {
        assert_eq!(retry_after(bad, now), None, "{bad:?}");
    }
    assert_eq!(imf_date(now), "Thu, 06 Nov 1994 08:49:37 GMT");
}

#[test]
fn base64_encodes() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
    assert_eq!(base64(&[0xff, 0xfe, 0xfd, 0x00]), "//79AA==");
}

/// A 400 goes once to the secondary (another http endpoint), not retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unrecoverable_goes_to_the_secondary() {
    let tmp = tempfile::tempdir().unwrap();
    let primary = Server::start();
    primary.set_default(Reply::status(400).body("bad request"));
    let secondary = Server::start();
    let (_, sec) = build_ok(&format!("endpoint {}", secondary.url("/sec")));
    let out = output(
        &format!("endpoint {}\n{IMMEDIATE}", primary.url("/")),
        Some(Arc::new(sec)),
        tmp.path(),
    )
    .await;
    out.emit("t", seq(0, 2)).await.unwrap();
    let r = wait_requests(&secondary, 1, Duration::from_secs(10)).await;
    assert_eq!(r[0].target, "/sec");
    assert_eq!(r[0].text(), "{\"n\":0}\n{\"n\":1}\n");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(primary.requests().len(), 1);
    assert!(backups(tmp.path()).is_empty());
}

/// The writer's verdicts, without the engine: network errors and timeouts are retryable; bad
/// rendered headers and redirects are not retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_verdicts() {
    // Nothing listens on a port just freed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (_, w) = build_ok(&format!(
        "endpoint http://127.0.0.1:{port}/\nopen_timeout 2"
    ));
    match w.write(&chunk("{}\n", None)).await {
        Err(WriteError::Retryable(e)) => assert!(e.contains("127.0.0.1"), "{e}"),
        other => panic!("{other:?}"),
    }
    // A password in the endpoint stays out of messages.
    let (_, w) = build_ok(&format!("endpoint http://u:hunter2@127.0.0.1:{port}/"));
    match w.write(&chunk("{}\n", None)).await {
        Err(WriteError::Retryable(e)) => {
            assert!(e.contains("u@127.0.0.1") && !e.contains("hunter2"), "{e}")
        }
        other => panic!("{other:?}"),
    }

    let server = Server::start();
    server.script([Reply::status(200).delay(Duration::from_secs(3))]);
    let (_, w) = build_ok(&format!("endpoint {}\nread_timeout 1", server.url("/")));
    let t = Instant::now();
    assert!(matches!(
        w.write(&chunk("{}\n", None)).await,
        Err(WriteError::Retryable(_))
    ));
    assert!(
        t.elapsed() < Duration::from_millis(2500),
        "{:?}",
        t.elapsed()
    );

    // Redirects are not followed: a 302 is an error response.
    server.script([Reply::status(302).header("Location", "/elsewhere")]);
    let (_, w) = build_ok(&format!("endpoint {}", server.url("/")));
    match w.write(&chunk("{}\n", None)).await {
        Err(WriteError::Unrecoverable(e)) => assert!(e.starts_with("302 Found"), "{e}"),
        other => panic!("{other:?}"),
    }

    // A placeholder header that renders to an invalid value.
    let (_, w) = build_ok(&format!(
        "endpoint {}\nheaders_from_placeholders {{\"X-Tag\":\"${{tag}}\"}}\n<buffer tag>\n</buffer>",
        server.url("/")
    ));
    assert!(matches!(
        w.write(&chunk("{}\n", Some("bad\nvalue"))).await,
        Err(WriteError::Unrecoverable(_))
    ));

    // The response body is in the message (cut), as Fluentd's "code message body".
    server.script([Reply::status(503).body(&"x".repeat(5000))]);
    match w.write(&chunk("{}\n", Some("t"))).await {
        Err(WriteError::Retryable(e)) => {
            assert!(e.starts_with("503 Service Unavailable xxx"), "{e}");
            assert!(e.len() < 1100, "{}", e.len());
        }
        other => panic!("{other:?}"),
    }
}

/// A host rendered from a placeholder must be in allowed_hosts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_hosts_guard_rendered_hosts() {
    let server = Server::start();
    let port = server.addr.port();
    let ep = format!("endpoint http://${{tag}}:{port}/h\n<buffer tag>\n</buffer>");
    let (_, w) = build_ok(&ep);
    match w.write(&chunk("{}\n", Some("127.0.0.1"))).await {
        Err(WriteError::Unrecoverable(e)) => {
            assert!(e.contains("allowed_hosts is strictly required"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    let (_, w) = build_ok(&format!("{ep}\nallowed_hosts [\"127.0.0.1\"]"));
    w.write(&chunk("{}\n", Some("127.0.0.1"))).await.unwrap();
    match w.write(&chunk("{}\n", Some("localhost"))).await {
        Err(WriteError::Unrecoverable(e)) => {
            assert!(e.contains("Not allowed host: localhost"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(server.requests().len(), 1);
    // A placeholder in the path only keeps the host: no allowed_hosts needed.
    let (_, w) = build_ok(&format!(
        "endpoint http://127.0.0.1:{port}/${{tag}}\n<buffer tag>\n</buffer>"
    ));
    w.write(&chunk("{}\n", Some("p"))).await.unwrap();
    assert_eq!(server.requests()[1].target, "/p");
}

/// `proxy`: the request goes to the proxy with the absolute URL as target.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_go_through_the_proxy() {
    let proxy = Server::start();
    let (_, w) = build_ok(&format!(
        "endpoint http://logs.example.invalid:8080/in\nproxy {}",
        proxy.url("")
    ));
    w.write(&chunk("{\"a\":1}\n", None)).await.unwrap();
    let r = &proxy.requests()[0];
    assert_eq!(r.target, "http://logs.example.invalid:8080/in");
    assert_eq!(r.header("host"), Some("logs.example.invalid:8080"));
    assert_eq!(r.text(), "{\"a\":1}\n");
}

/// reuse_connections true keeps one connection; false opens one per request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_reuse() {
    for reuse in [true, false] {
        let server = Server::start();
        let (_, w) = build_ok(&format!(
            "endpoint {}\nreuse_connections {reuse}",
            server.url("/")
        ));
        for _ in 0..3 {
            w.write(&chunk("{}\n", None)).await.unwrap();
            // The pool takes the connection back just after the response; let it.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let ports: std::collections::BTreeSet<u16> =
            server.requests().iter().map(|r| r.peer.port()).collect();
        assert_eq!(
            ports.len(),
            if reuse { 1 } else { 3 },
            "reuse_connections {reuse}"
        );
    }
}

/// flush_thread_count 4: four slow chunks are sent at the same time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunks_flush_in_parallel() {
    let server = Server::start();
    server.set_default(Reply::status(200).delay(Duration::from_millis(600)));
    let tmp = tempfile::tempdir().unwrap();
    let out = output(
        &format!(
            "endpoint {}\n<buffer>\nflush_mode interval\nflush_interval 3600\nflush_thread_count 4\nchunk_limit_records 1\n</buffer>",
            server.url("/")
        ),
        None,
        tmp.path(),
    )
    .await;
    let t = Instant::now();
    out.emit("t", seq(0, 4)).await.unwrap();
    out.flush_now();
    wait_until("four chunks written", Duration::from_secs(10), || {
        out.stats()
            .write_count
            .load(std::sync::atomic::Ordering::Relaxed)
            == 4
    })
    .await;
    assert!(
        server.max_in_flight() >= 3,
        "max in flight {}",
        server.max_in_flight()
    );
    assert!(
        t.elapsed() < Duration::from_millis(1800),
        "{:?}",
        t.elapsed()
    );
}

/// TLS with a self-signed CA: trusted through tls_ca_cert_path, refused without it (verify
/// peer), accepted with tls_verify_mode none; a client certificate for a server that demands one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_a_private_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = Pki::generate(tmp.path());
    let server = Server::start_tls(pki.server_config(false));
    let ep = format!("endpoint {}", server.url("/tls"));
    let ca = format!("tls_ca_cert_path {}", pki.ca.display());

    let (_, w) = build_ok(&format!(
        "{ep}\n{ca}\ntls_version TLSv1_2\ntls_ciphers ALL:!aNULL:!eNULL:!SSLv2"
    ));
    w.write(&chunk("{\"tls\":1}\n", None)).await.unwrap();
    assert_eq!(server.requests()[0].text(), "{\"tls\":1}\n");
    let (_, w) = build_ok(&format!("{ep}\n{ca}\ntls_version TLSv1_3"));
    w.write(&chunk("{}\n", None)).await.unwrap();

    let (_, w) = build_ok(&ep);
    match w.write(&chunk("{}\n", None)).await {
        Err(WriteError::Retryable(e)) => assert!(e.to_lowercase().contains("certificate"), "{e}"),
        other => panic!("an unknown CA must fail: {other:?}"),
    }
    let (_, w) = build_ok(&format!("{ep}\ntls_verify_mode none"));
    w.write(&chunk("{}\n", None)).await.unwrap();
    assert_eq!(server.requests().len(), 3);

    let mtls = Server::start_tls(pki.server_config(true));
    let ep = format!("endpoint {}", mtls.url("/m"));
    let (_, w) = build_ok(&format!("{ep}\n{ca}"));
    assert!(
        matches!(
            w.write(&chunk("{}\n", None)).await,
            Err(WriteError::Retryable(_))
        ),
        "no client certificate"
    );
    let (_, w) = build_ok(&format!(
        "{ep}\n{ca}\ntls_client_cert_path {}\ntls_private_key_path {}",
        pki.client_cert.display(),
        pki.client_key.display()
    ));
    w.write(&chunk("{}\n", None)).await.unwrap();
    assert_eq!(mtls.requests().len(), 1);
}

#[test]
fn content_types_follow_the_format() {
    let ep = "endpoint http://127.0.0.1:1/";
    for (format, ct) in [
        ("json", "application/x-ndjson"),
        ("csv\nfields a", "text/csv"),
        ("ltsv", "text/tab-separated-values"),
        ("msgpack", "application/x-msgpack"),
        ("out_file", "text/plain"),
        ("single_value", "text/plain"),
        ("stdout", "text/plain"),
    ] {
        let (_, w) = build_ok(&format!("{ep}\n<format>\n@type {format}\n</format>"));
        assert_eq!(
            w.fixed_headers[reqwest::header::CONTENT_TYPE],
            ct,
            "{format}"
        );
    }
    // A flat v0.12 `format` is not read (Fluentd's out_http has no compat layer): still JSON,
    // and the parameter is reported unused.
    let (_, w, unused) = build(&format!("{ep}\nformat ltsv")).unwrap();
    assert_eq!(
        w.fixed_headers[reqwest::header::CONTENT_TYPE],
        "application/x-ndjson"
    );
    assert_eq!(unused.len(), 1, "{unused:?}");
    assert!(unused[0].contains("'format'"), "{unused:?}");
    let (_, w) = build_ok(&format!("{ep}\njson_array true"));
    assert_eq!(
        w.fixed_headers[reqwest::header::CONTENT_TYPE],
        "application/json"
    );
}

#[test]
fn single_value_body() {
    let (cfg, w) =
        build_ok("endpoint http://127.0.0.1:1/\n<format>\n@type single_value\n</format>");
    let _ = cfg;
    let mut rec = Vec::new();
    Value::Map(vec![(
        Value::Str("message".into()),
        Value::Str("hello".into()),
    )])
    .encode(&mut rec);
    let mut out = Vec::new();
    w.format("t", EventTime::new(0, 0), &rec, &mut out);
    assert_eq!(out, b"hello\n");
    assert_eq!(w.body(&chunk("", None)).unwrap(), Bytes::new());
    let (_, w) = build_ok("endpoint http://127.0.0.1:1/\njson_array true");
    assert_eq!(w.body(&chunk("", None)).unwrap(), Bytes::from_static(b"[]"));
}

#[test]
fn configuration_errors() {
    let ep = "endpoint http://127.0.0.1:1/";
    assert!(build_err("").contains("'endpoint' parameter is required"));
    assert!(build_err(&format!(
        "{ep}\njson_array true\n<format>\n@type csv\nfields a\n</format>"
    ))
    .contains("json_array option could be used with json formatter only"));
    let e = build_err(&format!(
        "{ep}\n<auth>\nmethod aws_sigv4\naws_service es\naws_region us-east-1\n</auth>"
    ));
    assert!(
        e.contains("aws_sigv4") && e.contains("not supported"),
        "{e}"
    );
    assert!(build_err(&format!("{ep}\ntls_private_key_passphrase x"))
        .contains("encrypted private keys"));
    assert!(
        build_err(&format!("{ep}\nretryable_response_codes 503, abc"))
            .contains("'abc' is not an HTTP status code")
    );
    assert!(build_err(&format!("{ep}\nretryable_response_codes [42]")).contains("'42'"));
    assert!(build_err("endpoint not a url").contains("Invalid endpoint URI"));
    assert!(build_err("endpoint ftp://x/").contains("Invalid endpoint URI"));
    assert!(build_err(&format!("{ep}\nhttp_method get")).contains("'http_method'"));
    assert!(build_err(&format!("{ep}\ncompress zstd")).contains("'compress'"));
    assert!(build_err("endpoint http://h/${tag}\n<buffer>\n</buffer>").contains("chunk key 'tag'"));
    assert!(build_err(&format!("{ep}\nheaders {{\"Bad Name\":\"v\"}}"))
        .contains("not a valid HTTP header name"));
    assert!(build_err(&format!("{ep}\nopen_timeout 0")).contains("positive"));
    assert!(build_err(&format!("{ep}\nproxy ::nonsense")).contains("'proxy'"));
    let https = "endpoint https://127.0.0.1:1/";
    assert!(build_err(&format!("{https}\ntls_version TLSv1_1")).contains("TLS 1.2 and 1.3 only"));
    assert!(
        build_err(&format!("{https}\ntls_ca_cert_path /nonexistent/ca.pem"))
            .contains("tls_ca_cert_path is wrong")
    );
    assert!(
        build_err(&format!("{https}\ntls_client_cert_path /etc/hostname"))
            .contains("both tls_client_cert_path and tls_private_key_path")
    );
    // TLS files are only checked for https endpoints, as Fluentd.
    build_ok(&format!("{ep}\ntls_ca_cert_path /nonexistent/ca.pem"));
}

/// Every parameter of a full configuration is read (no "not used" warning).
#[test]
fn every_parameter_is_read() {
    build_ok(
        "endpoint https://127.0.0.1:1/${tag}\nhttp_method post\nproxy http://127.0.0.1:3128\ncontent_type text/x\njson_array true\n\
         headers {\"a\":\"b\"}\nheaders_from_placeholders {\"t\":\"${tag}\"}\ncompress gzip\nallowed_hosts [\"x\"]\n\
         open_timeout 5\nread_timeout 5\nssl_timeout 5\nreuse_connections true\ntls_verify_mode none\ntls_version TLSv1_3\n\
         tls_ciphers ALL\nerror_response_as_unrecoverable false\nretryable_response_codes [429,503]\n\
         <format>\n@type json\n</format>\n<auth>\nmethod basic\nusername u\npassword p\n</auth>\n<buffer tag>\nflush_interval 1\n</buffer>",
    );
}
