//! The tail input on files in UTF-16 and UTF-32 (`from_encoding`), checked against what
//! Fluentd 1.16.11 emitted and wrote in its pos file for the same files (recorded below:
//! `from_encoding <enc>`, `encoding UTF-8`, `read_from_head true`, the `none` parser), and
//! Ruby's `chomp!` of a `\r` before the newline.

mod support;

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use support::tail::{read_big_file_with_bounded_memory, recorded_pos};
use support::*;

const WAIT: Duration = Duration::from_secs(30);

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn utf16be(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

fn utf32le(s: &str) -> Vec<u8> {
    s.chars().flat_map(|c| (c as u32).to_le_bytes()).collect()
}

fn utf32be(s: &str) -> Vec<u8> {
    s.chars().flat_map(|c| (c as u32).to_be_bytes()).collect()
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

const TEXT: &str = "h\u{e9}llo\nw\u{f6}rld \u{1F600}\nalign \u{a41}\u{4100} end\ncrlf\r\n";
/// Fluentd's lines for [`TEXT`]: U+0A41 U+4100 hold the bytes `0A 00` at an odd offset, which
/// end no line; the `\r` before the newline goes with it.
const LINES: &[&str] = &[
    "h\u{e9}llo",
    "w\u{f6}rld \u{1F600}",
    "align \u{a41}\u{4100} end",
    "crlf",
];

/// One case: file name, its `from_encoding`, its bytes, the lines emitted and the position in
/// the pos file.
struct Case {
    name: &'static str,
    enc: &'static str,
    bytes: Vec<u8>,
    lines: Vec<String>,
    pos: u64,
}

fn case(name: &'static str, enc: &'static str, bytes: Vec<u8>, lines: &[&str], pos: u64) -> Case {
    Case {
        name,
        enc,
        bytes,
        lines: lines.iter().map(|s| s.to_string()).collect(),
        pos,
    }
}

/// The files Fluentd 1.16.11 read, with what it emitted and where its pos file stopped.
fn recorded() -> Vec<Case> {
    let bom = "\u{feff}";
    let with_bom: Vec<&str> = std::iter::once("\u{feff}h\u{e9}llo")
        .chain(LINES[1..].iter().copied())
        .collect();
    let long = "x".repeat(4095);
    let long_e = format!("{long}\u{e9}\u{e9}\u{e9}");
    let long_s = format!("{long}\u{1F600}");
    vec![
        case("le_nobom", "UTF-16LE", utf16le(TEXT), LINES, 0x44),
        // A BOM in a file read as UTF-16LE or UTF-16BE stays as U+FEFF.
        case(
            "le_bom",
            "UTF-16LE",
            utf16le(&(bom.to_owned() + TEXT)),
            &with_bom,
            0x46,
        ),
        case("be_nobom", "UTF-16BE", utf16be(TEXT), LINES, 0x44),
        case(
            "be_bom",
            "UCS-2BE",
            utf16be(&(bom.to_owned() + TEXT)),
            &with_bom,
            0x46,
        ),
        case("u32le", "UTF-32LE", utf32le(TEXT), LINES, 0x84),
        case("u32be", "utf-32be", utf32be(TEXT), LINES, 0x84),
        // The odd byte after the last line waits for the rest of its unit.
        case(
            "le_odd",
            "UTF-16LE",
            cat(&[&utf16le("one\n"), b"x"]),
            &["one"],
            8,
        ),
        // Unpaired surrogates, one before the newline.
        case(
            "le_invalid",
            "UTF-16LE",
            b"a\x00\x00\xd8b\x00\n\x00c\x00\x00\xdcd\x00\n\x00e\x00\x00\xd8\n\x00f\x00\n\x00"
                .to_vec(),
            &["a\u{fffd}b", "c\u{fffd}d", "e\u{fffd}", "f"],
            0x1a,
        ),
        case(
            "be_invalid",
            "UTF-16BE",
            b"\x00a\xd8\x00\x00b\x00\n\x00c\xdc\x00\x00d\x00\n\x00e\xd8\x00\x00\n\x00f\x00\n"
                .to_vec(),
            &["a\u{fffd}b", "c\u{fffd}d", "e\u{fffd}", "f"],
            0x1a,
        ),
        // A surrogate code point and one over U+10FFFF.
        case(
            "u32le_invalid",
            "UTF-32LE",
            cat(&[
                &utf32le("a"),
                b"\x00\xd8\x00\x00",
                &utf32le("\n"),
                b"\x00\x00\x11\x00",
                &utf32le("\n"),
                &utf32le("g\n"),
            ]),
            &["a\u{fffd}", "\u{fffd}", "g"],
            0x1c,
        ),
        // Lines longer than Fluentd's 8192-byte reads, a character across the boundary.
        case(
            "le_long",
            "UTF-16LE",
            utf16le(&format!("{long_e}\nafter\n")),
            &[&long_e, "after"],
            0x2012,
        ),
        case(
            "le_long_surr",
            "UTF-16LE",
            utf16le(&format!("{long_s}\nafter\n")),
            &[&long_s, "after"],
            0x2010,
        ),
    ]
}

/// `UTF-16` and `UTF-32` name no byte order: Fluentd 1.16.11 never finds a line in such a file
/// (it looks for the newline encoded with a BOM in front) and its pos file stays at 0. logferry
/// takes the order from the BOM (big-endian without one, RFC 2781) and drops the BOM (README,
/// "Differences from Fluentd").
fn bom_dependent() -> Vec<Case> {
    let bom = "\u{feff}";
    vec![
        case(
            "u16_bom_le",
            "UTF-16",
            utf16le(&(bom.to_owned() + TEXT)),
            LINES,
            0x46,
        ),
        case(
            "u16_bom_be",
            "UTF-16",
            utf16be(&(bom.to_owned() + TEXT)),
            LINES,
            0x46,
        ),
        case("u16_nobom", "UTF-16", utf16be(TEXT), LINES, 0x44),
        case(
            "u32_bom",
            "UTF-32",
            utf32le(&(bom.to_owned() + TEXT)),
            LINES,
            0x88,
        ),
    ]
}

fn conf(cases: &[Case]) -> String {
    let mut c = String::new();
    for k in cases {
        c += &format!(
            "<source>\n  @type tail\n  path {{DIR}}/in/{n}\n  pos_file {{DIR}}/pos/{n}.pos\n  read_from_head true\n  tag t.{n}\n  from_encoding {e}\n  encoding UTF-8\n  <parse>\n    @type none\n  </parse>\n</source>\n<match t.{n}>\n  @type file\n  path {{DIR}}/out/{n}\n  append true\n  <format>\n    @type single_value\n  </format>\n</match>\n",
            n = k.name,
            e = k.enc
        );
    }
    c
}

/// The position recorded for `name` in its pos file (Fluentd's format: path, hex position,
/// hex inode).
fn pos(dir: &Path, name: &str) -> u64 {
    recorded_pos(&dir.join(format!("pos/{name}.pos")))
}

fn out_text(dir: &Path, name: &str) -> String {
    let mut text = String::new();
    for e in std::fs::read_dir(dir.join("out"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let file = e.file_name().to_string_lossy().into_owned();
        if file.starts_with(&format!("{name}.")) && e.path().is_file() {
            text += &String::from_utf8(std::fs::read(e.path()).unwrap()).unwrap();
        }
    }
    text
}

fn check(cases: Vec<Case>) {
    let d = Daemon::start_prepared(&conf(&cases), &[], &[], &|dir| {
        std::fs::create_dir_all(dir.join("in")).unwrap();
        std::fs::create_dir_all(dir.join("pos")).unwrap();
        for k in &cases {
            std::fs::write(dir.join("in").join(k.name), &k.bytes).unwrap();
        }
    });
    let dir = d.path("");
    let start = Instant::now();
    loop {
        let pending: Vec<&str> = cases
            .iter()
            .filter(|k| {
                let want: String = k.lines.iter().map(|l| format!("{l}\n")).collect();
                out_text(&dir, k.name) != want || pos(&dir, k.name) != k.pos
            })
            .map(|k| k.name)
            .collect();
        if pending.is_empty() {
            break;
        }
        if start.elapsed() > WAIT {
            let got: Vec<String> = cases
                .iter()
                .map(|k| {
                    let text: String = out_text(&dir, k.name).chars().take(200).collect();
                    format!("{}: {text:?} pos {:?}", k.name, pos(&dir, k.name))
                })
                .collect();
            panic!(
                "{pending:?} not as recorded:\n{}\nstderr:\n{}",
                got.join("\n"),
                d.stderr()
            );
        }
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn utf16_and_utf32_files_are_read_as_fluentd_reads_them() {
    check(recorded());
}

#[test]
fn utf16_and_utf32_without_a_byte_order_take_it_from_the_bom() {
    check(bom_dependent());
}

#[test]
fn a_cr_before_the_newline_goes_with_it() {
    // Recorded from Fluentd 1.16.11 (none parser, out_file json): "a\r\nb\r\r\nc\rd\n".
    let conf = "<source>\n  @type tail\n  path {DIR}/in/a.log\n  read_from_head true\n  tag t\n  <parse>\n    @type none\n  </parse>\n</source>\n<match t>\n  @type file\n  path {DIR}/out/t\n  append true\n  <format>\n    @type json\n  </format>\n</match>\n";
    let d = Daemon::start_prepared(conf, &[], &[], &|dir| {
        std::fs::create_dir_all(dir.join("in")).unwrap();
        std::fs::write(dir.join("in/a.log"), b"a\r\nb\r\r\nc\rd\n").unwrap();
    });
    let want = "{\"message\":\"a\"}\n{\"message\":\"b\\r\"}\n{\"message\":\"c\\rd\"}\n";
    let start = Instant::now();
    while out_text(&d.path(""), "t") != want {
        assert!(
            start.elapsed() < WAIT,
            "got {:?}; stderr:\n{}",
            out_text(&d.path(""), "t"),
            d.stderr()
        );
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_large_utf16_file_is_read_with_memory_bounded() {
    // 128 MiB of UTF-16LE in 8 KiB lines, written while the daemon reads it; its resident memory
    // stays far below the file's size and every line arrives.
    const LINE_BYTES: u64 = 8192;
    const SIZE: u64 = 128 << 20;
    let conf = "<source>\n  @type tail\n  path {DIR}/big.log\n  pos_file {DIR}/big.pos\n  tag big\n  read_from_head true\n  from_encoding UTF-16LE\n  encoding UTF-8\n  <parse>\n    @type none\n  </parse>\n</source>\n<match big>\n  @type null\n</match>\n<source>\n  @type prometheus\n  bind 127.0.0.1\n  port {PORT}\n</source>\n";
    let d = Daemon::start_prepared(conf, &[], &[], &|dir| {
        std::fs::write(dir.join("big.log"), "").unwrap();
    });
    // 4095 units: "é" and "x" (the newline is the 4096th).
    let line = utf16le(&format!("{}\u{e9}\n", "x".repeat(4094)));
    assert_eq!(line.len() as u64, LINE_BYTES);
    read_big_file_with_bounded_memory(&d, &line, SIZE / LINE_BYTES);
    // Every line became a record.
    let out = std::process::Command::new("curl")
        .args(["-sS", &format!("http://127.0.0.1:{}/metrics", d.port)])
        .output()
        .unwrap();
    let metrics = String::from_utf8_lossy(&out.stdout);
    let records = metrics
        .lines()
        .find(|l| l.starts_with("logferry_input_records_total") && l.contains("type=\"tail\""))
        .and_then(|l| l.rsplit(' ').next()?.parse::<u64>().ok());
    assert_eq!(records, Some(SIZE / LINE_BYTES), "{metrics}");
    std::fs::remove_file(d.path("big.log")).unwrap();
}
