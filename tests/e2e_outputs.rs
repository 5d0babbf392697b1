//! Outputs and the sample input end to end: file (formats, inject, naming, gzip), stdout, sample.

mod support;

use std::io::Read;
use std::time::Duration;

use logferry_forward::encode;
use logferry_msgpack::{EventTime, Value};
use support::*;

const WAIT: Duration = Duration::from_secs(10);

fn send_events(d: &Daemon, tag: &str, records: &[Value]) {
    let mut s = d.connect();
    let mut entries = Vec::new();
    for r in records {
        entries.push(0x92);
        EventTime::new(1_700_000_000, 123_456_789).encode(&mut entries);
        r.encode(&mut entries);
    }
    let mut f = Vec::new();
    encode::packed_forward(
        tag,
        &entries,
        records.len(),
        Some("id"),
        encode::Compression::Text,
        &mut f,
    );
    send(&mut s, &f);
    read_msgpack(&mut s);
}

fn rec(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (Value::Str((*k).into()), v.clone()))
            .collect(),
    )
}

fn file_conf(body: &str) -> String {
    format!("<source>\n@type forward\nport {{PORT}}\nbind 127.0.0.1\n</source>\n<match **>\n@type file\n{body}\n</match>\n")
}

/// The reference §7.8 record through every file format, with Fluentd's file naming.
#[test]
fn file_formats_and_inject() {
    let record = rec(&[
        ("a", Value::Int(1)),
        ("b", Value::Str("x\ty".into())),
        ("c", Value::Nil),
    ]);
    let cases: &[(&str, &str)] = &[
        ("", "2023-11-14T22:13:20+00:00\tapp\t{\"a\":1,\"b\":\"x\\ty\",\"c\":null}\n"),
        ("<format>\n@type json\n</format>", "{\"a\":1,\"b\":\"x\\ty\",\"c\":null}\n"),
        ("<format>\n@type ltsv\n</format>", "a:1\tb:x y\tc:\n"),
        ("<format>\n@type csv\nfields a,b,c\n</format>", "\"1\",\"x\ty\",\"\"\n"),
        ("<format>\n@type single_value\nmessage_key b\n</format>", "x\ty\n"),
        ("format json\ninclude_time_key true\ntime_format %Y-%m-%d %H:%M:%S", "{\"a\":1,\"b\":\"x\\ty\",\"c\":null,\"time\":\"2023-11-14 22:13:20\"}\n"),
        (
            "<format>\n@type json\n</format>\n<inject>\ntag_key tag\ntime_key t\ntime_type unixtime_millis\n</inject>",
            "{\"a\":1,\"b\":\"x\\ty\",\"c\":null,\"tag\":\"app\",\"t\":1700000000123}\n",
        ),
    ];
    for (body, want) in cases {
        let mut d = Daemon::start(&file_conf(&format!(
            "path {{DIR}}/out\nappend true\n{body}"
        )));
        send_events(&d, "app", std::slice::from_ref(&record));
        let got = std::fs::read_to_string(d.path("out.20231114.log")).unwrap();
        assert_eq!(&got, want, "config body:\n{body}");
        assert!(d.terminate().success());
    }
}

/// msgpack format writes the record bytes; without `append`, a day's batches go to one `_N` file
/// per run (the first free one), as Fluentd's one chunk of the day makes one file, not a file per
/// batch; `compress gzip` adds `.gz`; a `*` in path takes the time part.
#[test]
fn file_naming_msgpack_and_gzip() {
    let mut d = Daemon::start(&file_conf(
        "path {DIR}/m\n<format>\n@type msgpack\n</format>",
    ));
    let r = rec(&[("k", Value::Str("v".into()))]);
    send_events(&d, "t", std::slice::from_ref(&r));
    send_events(&d, "t", std::slice::from_ref(&r));
    let mut one = Vec::new();
    r.encode(&mut one);
    let two = [one.clone(), one.clone()].concat();
    assert_eq!(std::fs::read(d.path("m.20231114_0.log")).unwrap(), two);
    assert!(!d.path("m.20231114_1.log").exists());
    // The next run starts the next file of the day.
    assert!(d.terminate().success());
    d.restart();
    send_events(&d, "t", std::slice::from_ref(&r));
    assert_eq!(std::fs::read(d.path("m.20231114_1.log")).unwrap(), one);
    assert_eq!(std::fs::read(d.path("m.20231114_0.log")).unwrap(), two);
    assert!(d.terminate().success());

    let mut d = Daemon::start(&file_conf(
        "path {DIR}/z.*.txt\nappend true\ncompress gzip\n<format>\n@type json\n</format>",
    ));
    send_events(&d, "t", &[r.clone(), r.clone()]);
    let gz = std::fs::read(d.path("z.20231114.txt.gz")).unwrap();
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "{\"k\":\"v\"}\n{\"k\":\"v\"}\n");
    assert!(d.terminate().success());
}

/// With a `<buffer>`, the file output runs on the buffer engine: `${tag}` placeholders are rendered
/// per chunk, and a placeholder without its chunk key is refused at start-up.
#[test]
fn buffered_file_renders_placeholders() {
    let mut d = Daemon::start(&file_conf(
        "path {DIR}/by-tag/${tag}/out\nappend true\n<format>\n@type json\n</format>\n<buffer tag,time>\n@type memory\ntimekey 1d\ntimekey_use_utc true\nflush_mode immediate\n</buffer>",
    ));
    send_events(&d, "app.web", &[rec(&[("a", Value::Int(1))])]);
    send_events(&d, "app.db", &[rec(&[("b", Value::Int(2))])]);
    let t = std::time::Instant::now();
    let web = d.path("by-tag/app.web/out.20231114.log");
    let db = d.path("by-tag/app.db/out.20231114.log");
    while !(web.exists() && db.exists()) {
        assert!(
            t.elapsed() < WAIT,
            "buffered files missing; log:\n{}",
            d.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let line = |s: &str| s.ends_with('\n');
    assert_eq!(d.wait_file_text(&web, WAIT, line), "{\"a\":1}\n");
    assert_eq!(d.wait_file_text(&db, WAIT, line), "{\"b\":2}\n");
    assert!(d.terminate().success());

    let (out, _dir) = run_once(
        &file_conf("path {DIR}/${tag}/x\n<buffer time>\ntimekey 1d\n</buffer>"),
        &["--dry-run"],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("chunk key 'tag' is not configured"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// stdout with `<inject>` and with a `<format>` of another type.
#[test]
fn stdout_formats() {
    let conf = "<source>\n@type forward\nport {PORT}\nbind 127.0.0.1\n</source>\n<match plain>\n@type stdout\n<inject>\ntag_key tag\n</inject>\n</match>\n<match other>\n@type stdout\n<format>\n@type ltsv\n</format>\n</match>\n";
    let mut d = Daemon::start(conf);
    send_events(&d, "plain", &[rec(&[("a", Value::Int(1))])]);
    send_events(&d, "other", &[rec(&[("a", Value::Int(1))])]);
    let lines = d.wait_stdout_lines(2, WAIT);
    assert_eq!(
        lines[0],
        "2023-11-14 22:13:20.123456789 +0000 plain: {\"a\":1,\"tag\":\"plain\"}"
    );
    assert_eq!(lines[1], "a:1");
    assert!(d.terminate().success());
}

/// The sample input (and its alias dummy) emits its records with auto_increment_key; `suspend` is
/// taken with Fluentd's deprecation warning.
#[test]
fn sample_input() {
    let conf = "<source>\n@type forward\nport {PORT}\nbind 127.0.0.1\n</source>\n<source>\n@type sample\ntag demo\nrate 3\nsuspend true\nauto_increment_key n\nsample [{\"hello\":\"world\"},{\"n\":\"x\",\"bye\":\"now\"}]\n</source>\n<source>\n@type dummy\ntag demo2\n</source>\n<match demo>\n@type stdout\n</match>\n<match demo2>\n@type stdout\n</match>\n";
    let mut d = Daemon::start(conf);
    // Fluentd 1.16 ignores `suspend`, with this warning.
    d.wait_for_log(
        "'suspend' parameter is deprecated: This parameters is ignored",
        WAIT,
    );
    // Each source ticks on its own: wait until three demo lines and one demo2 line are in.
    let t = std::time::Instant::now();
    let (lines, demo) = loop {
        let lines: Vec<String> = d.stdout().lines().map(str::to_string).collect();
        let demo: Vec<_> = lines
            .iter()
            .map(|l| parse_stdout_line(l))
            .filter(|(_, t, _)| t == "demo")
            .map(|(_, _, v)| v)
            .collect();
        if demo.len() >= 3 && lines.iter().any(|l| l.contains(" demo2: ")) {
            break (lines, demo);
        }
        assert!(t.elapsed() < WAIT, "{lines:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(demo[0], serde_json::json!({"hello":"world","n":0}));
    // A key the sample has keeps its place, as Fluentd's `d[key] = n` (checked against Fluentd
    // 1.16.11: `{"n":1,"bye":"now"}`).
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with(" demo: {\"n\":1,\"bye\":\"now\"}")),
        "{lines:?}"
    );
    assert_eq!(demo[1], serde_json::json!({"bye":"now","n":1}));
    assert_eq!(demo[2], serde_json::json!({"hello":"world","n":2}));
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with("demo2: {\"message\":\"sample\"}")),
        "{lines:?}"
    );
    assert!(d.terminate().success());
}

/// The gzip members of a file (None while one is cut short: still being written).
fn gzip_members(mut gz: &[u8]) -> Option<Vec<String>> {
    let mut members = Vec::new();
    while !gz.is_empty() {
        let mut text = String::new();
        let mut dec = flate2::bufread::GzDecoder::new(gz);
        dec.read_to_string(&mut text).ok()?;
        gz = dec.into_inner();
        members.push(text);
    }
    Some(members)
}

/// out_file `compress gzip` over a `compress gzip` buffer writes the chunk's gzip bytes as they
/// are (a member per write into the chunk, as Fluentd's `write_gzip_from_gzipped_chunk`), and
/// with `recompress true` decompresses the chunk and writes it as one member.
#[test]
fn file_recompress_rewrites_a_gzip_chunk_as_one_member() {
    let r = rec(&[("k", Value::Str("v".into()))]);
    for (recompress, want) in [
        ("false", vec!["{\"k\":\"v\"}\n"; 2]),
        ("true", vec!["{\"k\":\"v\"}\n{\"k\":\"v\"}\n"]),
    ] {
        let mut d = Daemon::start(&file_conf(&format!(
            "path {{DIR}}/z\nappend true\ncompress gzip\nrecompress {recompress}\n<format>\n@type json\n</format>\n<buffer>\n@type memory\ncompress gzip\nflush_mode interval\nflush_interval 3600s\n</buffer>"
        )));
        send_events(&d, "t", std::slice::from_ref(&r));
        send_events(&d, "t", std::slice::from_ref(&r));
        d.signal("USR1");
        let path = d.path("z.20231114.log.gz");
        let t = std::time::Instant::now();
        while !path.exists() {
            assert!(t.elapsed() < WAIT, "not flushed:\n{}", d.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
        let members = loop {
            // The file is written in one append: read until both events are in it.
            let m = gzip_members(&std::fs::read(&path).unwrap());
            if let Some(m) = m.filter(|m| m.concat().matches('\n').count() == 2) {
                break m;
            }
            assert!(t.elapsed() < WAIT);
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(members, want, "recompress {recompress}");
        assert!(d.terminate().success());
    }
}
