//! Parser tests: reference §7.5 cases 48–68 (one test each), Ruby-only regexp refusals, time
//! format errors, `types`, `multi_format`, flat v0.12 parameters.

use std::path::Path;

use logferry_config::{Element, Section};
use logferry_msgpack::{EventTime, Value};

use super::time::{local_offset, utc_secs};
use super::yajl::parse as parse_value;
use super::*;

/// Parse a `<filter>` config; `inner` goes inside the plugin section.
fn root(inner: &str) -> Element {
    let text = format!("<filter **>\n  @type parser\n{inner}\n</filter>\n");
    logferry_config::parse_str(&text, "t.conf", Path::new(".")).expect("config parses")
}

/// Build from `<parse>` contents.
fn try_parser(parse_body: &str) -> Result<Box<dyn Parser>, String> {
    let r = root(&format!("  <parse>\n{parse_body}\n  </parse>"));
    let s = Section::new(&r.elements[0], "parser");
    from_plugin(&s, None).map_err(|e| e.to_string())
}

fn build_err(parse_body: &str) -> String {
    match try_parser(parse_body) {
        Ok(_) => panic!("expected a build error for: {parse_body}"),
        Err(e) => e,
    }
}

fn parser(parse_body: &str) -> Box<dyn Parser> {
    try_parser(parse_body).unwrap_or_else(|e| panic!("build failed: {e}"))
}

fn all(p: &dyn Parser, text: &str) -> Vec<ParseResult> {
    let mut out = Vec::new();
    p.parse(text, &mut out);
    out
}

fn one(p: &dyn Parser, text: &str) -> (Option<EventTime>, Value) {
    let mut v = all(p, text);
    assert_eq!(v.len(), 1, "{text}: {v:?}");
    v.pop()
        .expect("one result")
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn rec(json: &str) -> Value {
    parse_value(json).expect("test JSON")
}

fn at(sec: i64) -> Option<EventTime> {
    Some(EventTime::new(sec as u32, 0))
}

fn near_now(t: Option<EventTime>) -> bool {
    let now = i64::from(EventTime::now().sec);
    t.is_some_and(|t| (i64::from(t.sec) - now).abs() <= 5)
}

// ---- §7.5 ----------------------------------------------------------------------------------

#[test]
fn case48_json_time_integer_removed_or_kept() {
    let p = parser("    @type json");
    let (t, r) = one(&*p, r#"{"time":1700000000,"a":1}"#);
    assert_eq!((t, r), (at(1_700_000_000), rec(r#"{"a":1}"#)));
    let p = parser("    @type json\n    keep_time_key true");
    let (t, r) = one(&*p, r#"{"time":1700000000,"a":1}"#);
    assert_eq!(
        (t, r),
        (at(1_700_000_000), rec(r#"{"time":1700000000,"a":1}"#))
    );
}

#[test]
fn case49_json_time_float_string() {
    let p = parser("    @type json");
    let (t, r) = one(&*p, r#"{"time":"1700000000.5"}"#);
    assert_eq!(t, Some(EventTime::new(1_700_000_000, 500_000_000)));
    assert_eq!(r, rec("{}"));
}

#[test]
fn case50_json_iso_string_with_default_float_type_is_2024() {
    let p = parser("    @type json");
    let (t, r) = one(&*p, r#"{"time":"2024-01-02T03:04:05Z","a":1}"#);
    assert_eq!(t, at(2024));
    assert_eq!(r, rec(r#"{"a":1}"#));
}

#[test]
fn case51_json_time_format_with_offset() {
    let p = parser("    @type json\n    time_format %Y-%m-%dT%H:%M:%S%z");
    let (t, _) = one(&*p, r#"{"time":"2024-01-02T03:04:05+0900"}"#);
    assert_eq!(t, at(utc_secs(2024, 1, 1, 18, 4, 5)));
}

#[test]
fn case52_json_array_and_invalid() {
    let p = parser("    @type json");
    let v = all(&*p, r#"[{"a":1},{"b":2},3]"#);
    assert_eq!(v.len(), 3);
    let (t0, r0) = v[0].clone().unwrap();
    let (t1, r1) = v[1].clone().unwrap();
    assert!(near_now(t0) && near_now(t1));
    assert_eq!((r0, r1), (rec(r#"{"a":1}"#), rec(r#"{"b":2}"#)));
    assert!(v[2].is_err());
    let v = all(&*p, "not json");
    assert!(v.len() == 1 && v[0].is_err());
    for bad in ["", "1", "\"s\"", "{} x", "{\"a\":"] {
        let v = all(&*p, bad);
        assert!(v.len() == 1 && v[0].is_err(), "{bad}");
    }
}

#[test]
fn case53_json_null_pattern_and_types() {
    let p = parser("    @type json\n    null_value_pattern ^(-|null)$\n    types a:integer,b:bool");
    let (_, r) = one(&*p, r#"{"a":"42","b":"yes","c":"-"}"#);
    assert_eq!(r, rec(r#"{"a":42,"b":true,"c":null}"#));
}

#[test]
fn case54_regexp_optional_group_and_types() {
    let p = parser(
        "    @type regexp\n    expression /^(?<host>[^ ]+) (?<code>\\d+)(?: (?<opt>x))?$/\n    types code:integer",
    );
    let (t, r) = one(&*p, "h1 200");
    assert!(near_now(t));
    assert_eq!(r, rec(r#"{"host":"h1","code":200}"#));
}

#[test]
fn case55_regexp_time_with_fraction() {
    let p = parser(
        "    @type regexp\n    expression /^(?<time>[^ ]+) (?<msg>.*)$/\n    time_format %Y-%m-%dT%H:%M:%S.%N%z",
    );
    let (t, r) = one(&*p, "2024-01-02T03:04:05.123+0000 hello");
    assert_eq!(
        t,
        Some(EventTime::new(
            utc_secs(2024, 1, 2, 3, 4, 5) as u32,
            123_000_000
        ))
    );
    assert_eq!(r, rec(r#"{"msg":"hello"}"#));
}

const APACHE_LINE: &str =
    r#"192.168.0.1 - - [28/Feb/2013:12:00:00 +0900] "GET / HTTP/1.1" 200 777 "-" "Opera/12.0""#;

#[test]
fn case56_apache2() {
    let p = parser("    @type apache2");
    let (t, r) = one(&*p, APACHE_LINE);
    assert_eq!(t, at(utc_secs(2013, 2, 28, 3, 0, 0)));
    assert_eq!(
        r,
        rec(
            r#"{"host":"192.168.0.1","user":null,"method":"GET","path":"/","code":200,"size":777,"referer":null,"agent":"Opera/12.0"}"#
        )
    );
}

#[test]
fn case57_apache2_space_in_path_and_dash_size() {
    let p = parser("    @type apache2");
    let line = r#"192.168.0.1 - - [28/Feb/2013:12:00:00 +0900] "GET /a b HTTP/1.1" 404 - "-" "Opera/12.0""#;
    let (_, r) = one(&*p, line);
    assert_eq!(r.get("path"), Some(&Value::Str("/a b".into())));
    assert_eq!(r.get("code"), Some(&Value::Int(404)));
    assert_eq!(r.get("size"), Some(&Value::Nil));
    // keep_time_key adds the raw time; a bad line fails.
    let p = parser("    @type apache2\n    keep_time_key true");
    let (_, r) = one(&*p, APACHE_LINE);
    assert_eq!(
        r.get("time"),
        Some(&Value::Str("28/Feb/2013:12:00:00 +0900".into()))
    );
    assert!(all(&*p, "garbage")[0].is_err());
}

#[test]
fn case58_nginx() {
    let p = parser("    @type nginx");
    let line = r#"127.0.0.1 192.168.0.1 - [28/Feb/2013:12:00:00 +0900] "GET / HTTP/1.1" 200 777 "-" "Opera/12.0""#;
    let (t, r) = one(&*p, line);
    assert_eq!(t, at(utc_secs(2013, 2, 28, 3, 0, 0)));
    assert_eq!(
        r,
        rec(
            r#"{"remote":"127.0.0.1","host":"192.168.0.1","user":"-","method":"GET","path":"/","code":"200","size":"777","referer":"-","agent":"Opera/12.0"}"#
        )
    );
    let (_, r) = one(&*p, &format!("{line} \"10.0.0.1\""));
    assert_eq!(
        r.get("http_x_forwarded_for"),
        Some(&Value::Str("10.0.0.1".into()))
    );
}

#[test]
fn case59_apache_error() {
    let p = parser("    @type apache_error");
    let line = "[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 1234] [client 127.0.0.1:5555] AH00124: oops";
    let (t, r) = one(&*p, line);
    // No time_format: Ruby's Time.parse in the local zone.
    let naive = utc_secs(2000, 10, 11, 14, 32, 52);
    assert_eq!(
        t,
        Some(EventTime::new(
            (naive - local_offset(naive)) as u32,
            123_456_000
        ))
    );
    assert_eq!(
        r,
        rec(
            r#"{"level":"core:error","pid":"1234","client":"127.0.0.1:5555","message":"AH00124: oops"}"#
        )
    );
    // Optional parts omitted.
    let (_, r) = one(&*p, "[Wed Oct 11 14:32:52 2000] [error] hi");
    assert_eq!(r, rec(r#"{"level":"error","message":"hi"}"#));
}

fn this_year_utc(mon: i64, day: i64, h: i64) -> i64 {
    let now = i64::from(EventTime::now().sec);
    let mut y = 1970;
    while utc_secs(y + 1, 1, 1, 0, 0, 0) <= now {
        y += 1;
    }
    utc_secs(y, mon, day, h, 0, 0)
}

#[test]
fn case60_syslog_rfc3164() {
    for engine in ["regexp", "string"] {
        let p = parser(&format!(
            "    @type syslog\n    utc true\n    parser_engine {engine}"
        ));
        let (t, r) = one(
            &*p,
            "Feb 28 12:00:00 192.168.0.1 fluentd[11111]: [error] Syslog test",
        );
        assert_eq!(t, at(this_year_utc(2, 28, 12)), "{engine}");
        assert_eq!(
            r,
            rec(
                r#"{"host":"192.168.0.1","ident":"fluentd","pid":"11111","message":"[error] Syslog test"}"#
            ),
            "{engine}"
        );
    }
}

#[test]
fn case61_syslog_with_priority() {
    let p = parser("    @type syslog\n    utc true\n    with_priority true");
    let (_, r) = one(&*p, "<6>Feb 28 12:00:00 h app[1]: hi");
    assert_eq!(
        r,
        rec(r#"{"pri":6,"host":"h","ident":"app","pid":"1","message":"hi"}"#)
    );
    assert!(all(&*p, "Feb 28 12:00:00 h app[1]: hi")[0].is_err());
}

#[test]
fn case62_syslog_padded_day_and_colonless_ident() {
    let p = parser("    @type syslog\n    utc true");
    let (t, r) = one(&*p, "Feb  8 12:00:00 host sshd: Accepted");
    assert_eq!(t, at(this_year_utc(2, 8, 12)));
    assert_eq!(
        r,
        rec(r#"{"host":"host","ident":"sshd","message":"Accepted"}"#)
    );
    let (_, r) = one(&*p, "Feb 28 12:00:00 host kernel something");
    assert_eq!(
        r,
        rec(r#"{"host":"host","ident":"kernel","message":"something"}"#)
    );
}

const RFC5424_LINE: &str = r#"<16>1 2013-02-28T12:00:00.003Z 192.168.0.1 fluentd 11111 ID24224 [exampleSDID@20224 iut="3"] Hi, from Fluentd!"#;

#[test]
fn case63_syslog_rfc5424() {
    for engine in ["regexp", "string"] {
        let p = parser(&format!(
            "    @type syslog\n    message_format rfc5424\n    with_priority true\n    parser_engine {engine}"
        ));
        let (t, r) = one(&*p, RFC5424_LINE);
        assert_eq!(
            t,
            Some(EventTime::new(
                utc_secs(2013, 2, 28, 12, 0, 0) as u32,
                3_000_000
            ))
        );
        let mut want = rec(
            r#"{"pri":16,"host":"192.168.0.1","ident":"fluentd","pid":"11111","msgid":"ID24224","extradata":"[exampleSDID@20224 iut=\"3\"]","message":"Hi, from Fluentd!"}"#,
        );
        if engine == "string" {
            // The string engine builds the record in another order.
            want = rec(
                r#"{"host":"192.168.0.1","ident":"fluentd","pid":"11111","msgid":"ID24224","pri":16,"extradata":"[exampleSDID@20224 iut=\"3\"]","message":"Hi, from Fluentd!"}"#,
            );
        }
        assert_eq!(r, want, "{engine}");
    }
    // Without a fraction: the fallback format.
    let p = parser("    @type syslog\n    message_format rfc5424\n    with_priority true");
    let (t, _) = one(&*p, "<16>1 2013-02-28T12:00:00Z h a p m - msg");
    assert_eq!(t, at(utc_secs(2013, 2, 28, 12, 0, 0)));
}

#[test]
fn case64_syslog_auto() {
    let p =
        parser("    @type syslog\n    utc true\n    message_format auto\n    with_priority true");
    let (_, r) = one(&*p, RFC5424_LINE);
    assert_eq!(r.get("msgid"), Some(&Value::Str("ID24224".into())));
    let (_, r) = one(&*p, "<6>Feb 28 12:00:00 h app[1]: hi");
    assert_eq!(
        r,
        rec(r#"{"pri":6,"host":"h","ident":"app","pid":"1","message":"hi"}"#)
    );
}

#[test]
fn case65_ltsv() {
    let p = parser("    @type ltsv");
    let (t, r) = one(&*p, "time:2024-01-02T03:04:05Z\thost:h1\tbad\tk:v:w");
    assert_eq!(t, at(utc_secs(2024, 1, 2, 3, 4, 5)));
    assert_eq!(r, rec(r#"{"host":"h1","k":"v:w"}"#));
    let p = parser("    @type ltsv\n    delimiter_pattern /\\s+/\n    label_delimiter =");
    let (_, r) = one(&*p, "a=1  b=2\tc=3");
    assert_eq!(r, rec(r#"{"a":"1","b":"2","c":"3"}"#));
}

#[test]
fn case66_csv() {
    for engine in ["normal", "fast"] {
        let p = parser(&format!(
            "    @type csv\n    keys a,b,c\n    parser_engine {engine}"
        ));
        let (t, r) = one(&*p, r#"x,"y,z","#);
        assert!(near_now(t));
        assert_eq!(r, rec(r#"{"a":"x","b":"y,z","c":null}"#), "{engine}");
        let p = parser(&format!(
            "    @type csv\n    keys a,b\n    parser_engine {engine}"
        ));
        let (_, r) = one(&*p, "x,y,extra");
        if engine == "fast" {
            // Fluentd's fast engine stores a column past the keys under `@keys[i]`, nil.
            let mut want = rec(r#"{"a":"x","b":"y"}"#);
            if let Value::Map(m) = &mut want {
                m.push((Value::Nil, Value::Str("extra".into())));
            }
            assert_eq!(r, want);
        } else {
            assert_eq!(r, rec(r#"{"a":"x","b":"y"}"#), "{engine}");
        }
    }
    let p = parser("    @type csv\n    keys a,b");
    assert!(all(&*p, r#"a,"b"x"#)[0].is_err());
    assert!(all(&*p, r#""open"#)[0].is_err());
    let (_, r) = one(&*p, r#""say ""hi""","#);
    assert_eq!(r, rec(r#"{"a":"say \"hi\"","b":null}"#));
}

#[test]
fn case67_tsv_and_none() {
    let p = parser("    @type tsv\n    keys a,b");
    let (_, r) = one(&*p, "x\ty\tz");
    assert_eq!(r, rec(r#"{"a":"x","b":"y\tz"}"#));
    let (_, r) = one(&*p, "x");
    assert_eq!(r, rec(r#"{"a":"x","b":null}"#));
    let p = parser("    @type none");
    let (t, r) = one(&*p, "raw line");
    assert!(near_now(t));
    assert_eq!(r, rec(r#"{"message":"raw line"}"#));
    let p = parser("    @type none\n    message_key log\n    estimate_current_event false");
    assert_eq!(one(&*p, "x"), (None, rec(r#"{"log":"x"}"#)));
}

#[test]
fn case68_multiline() {
    let p = parser(
        "    @type multiline\n    format_firstline /^\\d{4}/\n    format1 /^(?<time>\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}) (?<message>.*)/",
    );
    let (t, r) = one(&*p, "2024-01-02 03:04:05 line1\n  at x");
    let naive = utc_secs(2024, 1, 2, 3, 4, 5);
    assert_eq!(t, at(naive - local_offset(naive)));
    assert_eq!(r, rec(r#"{"message":"line1\n  at x"}"#));
}

// ---- further behaviour ---------------------------------------------------------------------

#[test]
fn multiline_repeats_and_knows_first_lines() {
    let r = root(
        "  <parse>\n    @type multiline\n    format_firstline /^\\[/\n    format1 /^\\[(?<n>\\d)\\] (?<m>[^\\[]*)/\n  </parse>",
    );
    let s = Section::new(&r.elements[0], "parser");
    let sec = s.section("parse").unwrap().unwrap();
    let c = common::Conf::new(sec);
    let p = multiline::MultilineParser::build(&c).unwrap();
    assert!(p.has_firstline() && p.firstline("[1] a") && !p.firstline(" a"));
    let v = all(&p, "[1] a\n[2] b");
    assert_eq!(v.len(), 2);
    assert_eq!(v[1].clone().unwrap().1, rec(r#"{"n":"2","m":"b"}"#));
    // formatN must be /…/ and without gaps.
    let e = build_err("    @type multiline\n    format1 /(?<a>x)/\n    format3 /y/");
    assert!(e.contains("format2 is missing"), "{e}");
    let e = build_err("    @type multiline\n    format1 (?<a>x)");
    assert!(e.contains("need //"), "{e}");
}

#[test]
fn backtracking_constructs_run_on_oniguruma() {
    for (re, text, want) in [
        ("/(?<a>x)(?=y)/", "xy", r#"{"a":"x"}"#),
        ("/(?<=y)(?<a>x)/", "yx", r#"{"a":"x"}"#),
        ("/(?<a>x)\\k<a>(?<b>.)/", "xxz", r#"{"a":"x","b":"z"}"#),
        ("/(?>(?<a>x+))/", "xx", r#"{"a":"xx"}"#),
        ("/(?<a>x++)/", "xx", r#"{"a":"xx"}"#),
        ("/(?<a>x)\\Z/", "x\n", r#"{"a":"x"}"#),
        ("/^(?<a>\\w*)$/", "ab\n", r#"{"a":"ab"}"#),
        ("/(?<a>STRASSE)/i", "straße", r#"{"a":"straße"}"#),
        ("/(?<a>x)|(?<a>y)/", "y", r#"{"a":"y"}"#),
        ("/(?<a>[éè]+)/i", "ÈÉèé", r#"{"a":"èé"}"#),
        ("/(?<a>\\y)/", "xy", r#"{"a":"y"}"#),
        ("/(?<a>s{2})/i", "Maße", r#"{"a":"ß"}"#),
        ("/(?<a>s{10})/i", "xßßßßßx", r#"{"a":"ßßßßß"}"#),
        ("/(?<a>heißt)/i", "er HEISST so", r#"{"a":"HEISST"}"#),
        // A ligature string in a look-behind matches every spelling (Ruby's Onigmo misses `ß`
        // itself here: README, "Differences from Fluentd").
        ("/(?<=ß)(?<a>s)/i", "aßs", r#"{"a":"s"}"#),
        ("/(?<=ß)(?<a>s)/i", "aSSs", r#"{"a":"s"}"#),
        ("/(?<=xss)(?<a>y)/i", "xßy", r#"{"a":"y"}"#),
        // A negative look-behind inside a positive one (the negation of a negative one here).
        ("/(?<=(?<!y)x)(?<a>s)/", "yxs axs", r#"{"a":"s"}"#),
        // With a capture group too: the negative one taken out, (?<=(?<b>x))(?<!y(?:x)).
        (
            "/(?<=(?<!y)(?<b>x))(?<a>s)/",
            "yxs axs",
            r#"{"b":"x","a":"s"}"#,
        ),
        // An absent operator of a fixed-length body, as Ruby reads it.
        (
            "/\\/\\*(?<a>(?~\\*\\/))\\*\\//",
            "/* x */ y */",
            r#"{"a":" x "}"#,
        ),
        // A repeated class: cut at each step, half of the run (Ruby's reading).
        ("/^(?<a>(?~x+))/", "xxxxy", r#"{"a":"xx"}"#),
        (
            "/(?<k>\\w+)=(?<v>(?~,[^,]*))/",
            "a=1,b=2",
            r#"{"k":"a","v":"1,b="}"#,
        ),
    ] {
        let p = parser(&format!("    @type regexp\n    expression {re}"));
        assert_eq!(one(&*p, text).1, rec(want), "{re} on {text:?}");
    }
    // Ruby's own syntax errors, and the constructs whose Ruby meaning neither engine keeps, fail
    // at start-up at the parameter.
    for (re, needle) in [
        ("/(?<a>x/", "cannot be used"),
        ("/(?<a>x{2,1})/", "upper is smaller"),
        ("/(?<=ß+)(?<a>s)/i", "look-behind"),
        ("/(?<!(?<b>x)ß)(?<a>s)/i", "look-behind"),
        ("/(?<=(?>x))(?<a>s)/", "invalid pattern in look-behind"),
        ("/(?<=(?:(?<!y)(?<b>x)|z))(?<a>s)\\k<b>/", "capture group"),
        ("/(?<a>(?~(x)x))/", "absent operator"),
        ("/(?<a>(?:b|(?=b)){2}*?)/", "at least two"),
        ("/(?<=a+?)(?<a>s)/", "invalid pattern in look-behind"),
        ("/(?<a>x)(?(a)y)/", "invalid conditional pattern"),
    ] {
        let e = build_err(&format!("    @type regexp\n    expression {re}"));
        assert!(e.contains(needle), "{re}: {e}");
        assert!(e.starts_with("t.conf:5:"), "{re}: position: {e}");
    }
    let e = build_err("    @type regexp\n    expression /^(x)$/");
    assert!(e.contains("No named captures"), "{e}");
    let e = build_err("    @type regexp");
    assert!(e.contains("'expression' parameter is required"), "{e}");
}

#[test]
fn timeout_bounds_a_backtracking_parse() {
    // Exponential backtracking on Ruby's engine and on Oniguruma alike.
    let hostile = format!("{}!", "a".repeat(40));
    let p = parser("    @type regexp\n    expression /^(?=a)(?<x>(\\w+\\s?)+)$/\n    timeout 0.2s");
    let started = std::time::Instant::now();
    let r = all(&*p, &hostile);
    let took = started.elapsed();
    let e = r[0].as_ref().unwrap_err();
    assert!(e.starts_with(super::regexp::TIMED_OUT), "{e}");
    assert!(
        took < std::time::Duration::from_secs(5),
        "gave up after {took:?}"
    );
    assert_eq!(one(&*p, "aa b").1, rec(r#"{"x":"aa b"}"#));
    // Without a timeout the search gives up at Oniguruma's retry limit: no record (where Ruby
    // would run on).
    let p = parser("    @type regexp\n    expression /^(?=a)(?<x>(\\w+\\s?)+)$/");
    let e = all(&*p, &hostile).remove(0).unwrap_err();
    assert!(e.starts_with("pattern not matched"), "{e}");
}

#[test]
fn ruby_regexp_meanings_are_kept() {
    // \h is Ruby's hex digit, \d is ASCII, $ is a line end, /m lets . cross lines.
    let p = parser("    @type regexp\n    expression /^(?<h>\\h+) (?<d>\\d+)$/");
    let (_, r) = one(&*p, "0aF 12\nrest");
    assert_eq!(r, rec(r#"{"h":"0aF","d":"12"}"#));
    assert!(all(&*p, "0aF ١٢")[0].is_err());
    let p = parser("    @type regexp\n    expression /^(?<all>a.b)/m");
    assert_eq!(one(&*p, "a\nb").1, rec(r#"{"all":"a\nb"}"#));
    let p = parser("    @type regexp\n    expression /^(?<w>[[:alpha:]]+)/");
    assert_eq!(one(&*p, "éa1").1, rec(r#"{"w":"éa"}"#));
    // \Z ending the pattern: the group stops before a final newline, as in Ruby.
    let p = parser("    @type regexp\n    expression /(?<m>.*?)\\Z/");
    assert_eq!(one(&*p, "foo\n").1, rec(r#"{"m":"foo"}"#));
}

#[test]
fn bad_time_formats_fail_at_start_up() {
    // A directive Ruby's strptime does not know is no error: Ruby matches it as text, and so
    // does logferry (timefmt_vs_ruby.rs has the rest).
    let p = parser("    @type regexp\n    expression /(?<time>.+)/\n    time_format %Y-%m-%d %K");
    assert_eq!(
        one(&*p, "2024-01-02 %K").0,
        at(utc_secs(2024, 1, 2, 0, 0, 0) - local_offset(utc_secs(2024, 1, 2, 0, 0, 0)))
    );
    // Fluentd: a zone setting without time_format is an error for string times.
    let e = build_err("    @type regexp\n    expression /(?<time>.+)/\n    utc true");
    assert!(e.contains("requires time format"), "{e}");
    let e = build_err("    @type ltsv\n    timezone Mars/Olympus");
    assert!(e.contains("invalid timezone"), "{e}");
    let e = build_err("    @type json\n    time_type mixed");
    assert!(e.contains("mixed"), "{e}");
    let e = build_err("    @type json\n    localtime true\n    utc true");
    assert!(e.contains("both of utc and localtime"), "{e}");
}

#[test]
fn time_options() {
    // Explicit zones for formats without %z.
    let p = parser(
        "    @type regexp\n    expression /(?<time>.+)/\n    time_format %Y-%m-%d %H:%M:%S\n    timezone +09:00",
    );
    assert_eq!(
        one(&*p, "2024-01-02 12:00:00").0,
        at(utc_secs(2024, 1, 2, 3, 0, 0))
    );
    let p = parser(
        "    @type regexp\n    expression /(?<time>.+)/\n    time_format %Y-%m-%d %H:%M:%S\n    timezone Asia/Tokyo",
    );
    assert_eq!(
        one(&*p, "2024-01-02 12:00:00").0,
        at(utc_secs(2024, 1, 2, 3, 0, 0))
    );
    // time_type unixtime / float on strings.
    let p = parser("    @type ltsv\n    time_type unixtime");
    assert_eq!(one(&*p, "time:1700000000.9").0, at(1_700_000_000));
    let p = parser("    @type ltsv\n    time_type float");
    assert_eq!(
        one(&*p, "time:1700000000.25").0,
        Some(EventTime::new(1_700_000_000, 250_000_000))
    );
    // mixed: time_format then fallbacks.
    let p = parser(
        "    @type ltsv\n    time_type mixed\n    utc true\n    time_format %Y-%m-%d %H:%M:%S\n    time_format_fallbacks unixtime",
    );
    assert_eq!(one(&*p, "time:1700000000").0, at(1_700_000_000));
    assert_eq!(
        one(&*p, "time:2024-01-02 00:00:00").0,
        at(utc_secs(2024, 1, 2, 0, 0, 0))
    );
    // %iso8601, custom time_key, estimate_current_event false.
    let p = parser("    @type ltsv\n    time_key ts\n    time_format %iso8601\n    estimate_current_event false");
    assert_eq!(
        one(&*p, "ts:2024-01-02T03:04:05+09:00\ta:1").0,
        at(utc_secs(2024, 1, 1, 18, 4, 5))
    );
    assert_eq!(one(&*p, "a:1"), (None, rec(r#"{"a":"1"}"#)));
    // An unparsable time is a failure, not a silent now.
    assert!(all(&*p, "ts:yesterday")[0].is_err());
    // Non-string time with a string time type fails.
    let p = parser("    @type json\n    time_format %s");
    assert!(all(&*p, r#"{"time":5}"#)[0].is_err());
}

#[test]
fn types_conversions() {
    let p = parser(
        "    @type json\n    types i:integer,f:float,b:bool,s:string,a:array:|,t:time:%Y-%m-%d %H:%M:%S%z,u:time:unixtime,z:time:Asia/Tokyo:%Y-%m-%d,n:integer",
    );
    let (_, r) = one(
        &*p,
        r#"{"i":"12abc","f":"1.5e1x","b":"TRUE","s":42,"a":"x|y||","t":"2024-01-02 03:04:05+0000","u":"1700000000","z":"2024-01-02","n":null,"other":"1"}"#,
    );
    let ext = |sec: i64| {
        let mut p = (sec as u32).to_be_bytes().to_vec();
        p.extend_from_slice(&0u32.to_be_bytes());
        Value::Ext(0, p)
    };
    let want = Value::Map(vec![
        (Value::Str("i".into()), Value::Int(12)),
        (Value::Str("f".into()), Value::F64(15.0)),
        (Value::Str("b".into()), Value::Bool(true)),
        (Value::Str("s".into()), Value::Str("42".into())),
        (
            Value::Str("a".into()),
            Value::Array(vec![Value::Str("x".into()), Value::Str("y".into())]),
        ),
        (Value::Str("t".into()), ext(utc_secs(2024, 1, 2, 3, 4, 5))),
        (Value::Str("u".into()), ext(1_700_000_000)),
        (Value::Str("z".into()), ext(utc_secs(2024, 1, 1, 15, 0, 0))),
        (Value::Str("n".into()), Value::Nil),
        (Value::Str("other".into()), Value::Str("1".into())),
    ]);
    assert_eq!(r, want);
    // bool: only true/yes/1; integer of a float truncates; null_empty_string.
    let p = parser("    @type json\n    types b:bool,i:integer\n    null_empty_string true");
    let (_, r) = one(&*p, r#"{"b":"no","i":2.9,"e":""}"#);
    assert_eq!(r, rec(r#"{"b":false,"i":2,"e":null}"#));
    let e = build_err("    @type json\n    types a:money");
    assert!(
        e.contains("unknown value conversion for key:'a', type:'money'"),
        "{e}"
    );
}

#[test]
fn multi_format_tries_patterns_in_order() {
    let p = parser(
        "    @type multi_format\n    <pattern>\n      format json\n    </pattern>\n    <pattern>\n      format /^(?<k>\\w+)=(?<v>.*)$/\n    </pattern>\n    <pattern>\n      @type none\n    </pattern>",
    );
    assert_eq!(one(&*p, r#"{"a":1}"#).1, rec(r#"{"a":1}"#));
    assert_eq!(one(&*p, "x=1").1, rec(r#"{"k":"x","v":"1"}"#));
    assert_eq!(one(&*p, "plain").1, rec(r#"{"message":"plain"}"#));
    // Order matters: none first swallows everything.
    let p = parser(
        "    @type multi_format\n    <pattern>\n      format none\n    </pattern>\n    <pattern>\n      format json\n    </pattern>",
    );
    assert_eq!(one(&*p, r#"{"a":1}"#).1, rec(r#"{"message":"{\"a\":1}"}"#));
    // Each pattern takes its own parameters.
    let p = parser(
        "    @type multi_format\n    <pattern>\n      format regexp\n      expression /^(?<time>\\d+) (?<m>.*)$/\n      time_type unixtime\n    </pattern>\n    <pattern>\n      format json\n    </pattern>",
    );
    assert_eq!(
        one(&*p, "1700000000 hi"),
        (at(1_700_000_000), rec(r#"{"m":"hi"}"#))
    );
    // Nothing matches → one failure.
    let p = parser("    @type multi_format\n    <pattern>\n      format json\n    </pattern>");
    assert!(all(&*p, "nope")[0].is_err());
    assert!(try_parser("    @type multi_format").is_err());
}

#[test]
fn flat_v012_parameters() {
    let r = root("  key_name log\n  format /^(?<a>\\w+) (?<time>\\d+)$/\n  time_format %s\n  types a:string\n  reserve_data true");
    let s = Section::new(&r.elements[0], "parser");
    let p = from_plugin(&s, None).unwrap();
    assert_eq!(
        one(&*p, "x 1700000000"),
        (at(1_700_000_000), rec(r#"{"a":"x"}"#))
    );
    // Parameters of the plugin itself are left for it.
    let unused = s.warn_unused();
    assert_eq!(unused.len(), 2, "{unused:?}");
    let r = root("  format json\n  keep_time_key true");
    let s = Section::new(&r.elements[0], "parser");
    let p = from_plugin(&s, None).unwrap();
    assert_eq!(one(&*p, r#"{"time":5}"#), (at(5), rec(r#"{"time":5}"#)));
    let r = root("  format ltsv\n  localtime true\n  utc true");
    let s = Section::new(&r.elements[0], "parser");
    assert!(from_plugin(&s, None).is_err());
    // No <parse>, no format: default type, else an error.
    let r = root("  key_name log");
    let s = Section::new(&r.elements[0], "parser");
    assert!(from_plugin(&s, Some("none")).is_ok());
    let e = from_plugin(&s, None).err().unwrap().to_string();
    assert!(
        e.contains("needs a <parse> section or a format parameter"),
        "{e}"
    );
    // <parse> without @type uses the default type, else errors.
    let r = root("  <parse>\n  </parse>");
    let s = Section::new(&r.elements[0], "parser");
    assert!(from_plugin(&s, Some("json")).is_ok());
    assert!(from_plugin(&s, None).is_err());
    let e = build_err("    @type nosuch");
    assert!(e.contains("unknown parser type 'nosuch'"), "{e}");
}

#[test]
fn every_parameter_read_is_marked_used() {
    let r = root("  <parse>\n    @type json\n    time_key t\n    keep_time_key true\n    types a:integer\n    bogus 1\n  </parse>");
    let s = Section::new(&r.elements[0], "parser");
    let _p = from_plugin(&s, None).unwrap();
    let w = s.warn_unused();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("'bogus'"));
}

#[test]
fn docker_log_line() {
    let p = parser("    @type json\n    time_key time\n    time_format %Y-%m-%dT%H:%M:%S.%N%z");
    let line = r#"{"log":"2024/01/02 03:04:05 [info] GET /healthz 200\n","stream":"stdout","time":"2024-01-02T03:04:05.123456789Z","attrs":{"tag":"web"}}"#;
    let (t, r) = one(&*p, line);
    assert_eq!(
        t,
        Some(EventTime::new(
            utc_secs(2024, 1, 2, 3, 4, 5) as u32,
            123_456_789
        ))
    );
    assert_eq!(
        r,
        rec(
            r#"{"log":"2024/01/02 03:04:05 [info] GET /healthz 200\n","stream":"stdout","attrs":{"tag":"web"}}"#
        )
    );
    let p = parser("    @type json\n    time_format %iso8601");
    let (t, r) = one(&*p, line);
    assert_eq!(
        t,
        Some(EventTime::new(
            utc_secs(2024, 1, 2, 3, 4, 5) as u32,
            123_456_789
        ))
    );
    assert_eq!(
        r,
        rec(
            r#"{"log":"2024/01/02 03:04:05 [info] GET /healthz 200\n","stream":"stdout","attrs":{"tag":"web"}}"#
        )
    );
    // The nested log line itself, parsed by a second JSON parser, with duplicate keys.
    let p = parser("    @type json");
    let (_, r) = one(&*p, r#"{"a":1,"b":2,"a":3}"#);
    assert_eq!(r, rec(r#"{"a":3,"b":2}"#));
}

#[test]
fn never_panics_on_odd_input() {
    let bodies = [
        "    @type json",
        "    @type apache2",
        "    @type nginx",
        "    @type apache_error",
        "    @type syslog",
        "    @type syslog\n    with_priority true\n    parser_engine string",
        "    @type syslog\n    message_format rfc5424\n    parser_engine string",
        "    @type syslog\n    message_format auto\n    with_priority true",
        "    @type ltsv",
        "    @type csv\n    keys a,b",
        "    @type csv\n    keys a,b\n    parser_engine fast",
        "    @type tsv\n    keys a,b",
        "    @type none",
        "    @type multiline\n    format1 /(?<a>.*)/",
    ];
    let inputs = [
        "",
        " ",
        "<",
        "<1>",
        "<>",
        "<16>1 ",
        "é",
        "\"",
        "[",
        "]",
        "Feb 28 12:00:00",
        "Feb 28 12:00:00 h",
        "Feb  8 12:00:00 ééé [x]: y",
        "<6>Feb 28 12:00:00.123 h a[b]: c",
        "<16>1 2013-02-28T12:00:00Z h i p m [a",
        "\u{0}\u{1}\n\n\r",
        "ééééééééééééééééééé ééé",
    ];
    for b in bodies {
        let p = parser(b);
        for i in inputs {
            let _ = all(&*p, i);
        }
    }
}

/// The json parser's fast path gives exactly what the full parser gives (same pairs in the same
/// order, same time), and declines everything it does not handle.
#[test]
fn json_fast_path_matches_the_full_parser() {
    let configs = [
        "@type json",
        "@type json\ntime_format %Y-%m-%dT%H:%M:%SZ",
        "@type json\ntime_key ts\nkeep_time_key true\ntime_type unixtime",
        "@type json\ntime_key nothere",
        "@type json\ntime_key none\nestimate_current_event false",
    ];
    let texts = [
        r#"{"log_type":"EVENT","time":"2024-03-05T10:20:33Z","recipe_id":12,"user":"u1","ms":1.5,"msg":"hi"}"#,
        r#" { "a" : "x\"y\\z\/\n\t\u00e9\ud83d\ude00" , "b":true,"c":false,"d":null } "#,
        r#"{"n":-12,"big":18446744073709551615,"f":1e3,"g":-0.5,"ts":"1700000000","time":1700000000.5}"#,
        r#"{}"#,
        r#"{"time":"not a time","a":1}"#,
        r#"{"nested":{"a":1}}"#,
        r#"{"arr":[1,2]}"#,
        r#"{"dup":1,"dup":2}"#,
        r#"{"ctl":"a	b"}"#,
        r#"{"a":01}"#,
        r#"{"a":-0}"#,
        r#"{"a":1} trailing"#,
        r#"[{"a":1}]"#,
        r#"{"a":"\ud800"}"#,
        // Floats that a best-effort decimal parser rounds to the wrong neighbour.
        r#"{"f":574.73575876580499,"g":987.72665364527374e6,"h":160.36218302174783e-13}"#,
        "not json",
    ];
    let (mut declined, mut accepted) = (0, 0);
    for conf in configs {
        let p = parser(conf);
        for text in texts {
            let mut raw = RawRecord::default();
            let Some(t) = p.parse_raw(text, &mut raw) else {
                declined += 1;
                continue;
            };
            accepted += 1;
            let full = all(p.as_ref(), text);
            assert_eq!(full.len(), 1, "{conf} / {text}");
            let (want_t, want) = full[0].clone().unwrap_or_else(|e| {
                panic!("{conf} / {text}: the fast path accepted what the full parser refuses: {e}")
            });
            let mut got = Vec::new();
            raw.encode_map(&mut got);
            let mut want_bytes = Vec::new();
            want.encode(&mut want_bytes);
            assert_eq!(got, want_bytes, "{conf} / {text}");
            match (t, want_t) {
                (Some(a), Some(b)) if near_now(Some(b)) => assert!(near_now(Some(a))),
                (a, b) => assert_eq!(a, b, "{conf} / {text}"),
            }
        }
    }
    assert!(declined >= 9 * configs.len(), "declined {declined}");
    assert!(accepted >= 4 * configs.len(), "accepted {accepted}");
}

/// Floats are parsed correctly rounded, as Ruby's JSON (strtod) does, on the fast path and on
/// the full parser alike (values checked against ruby 3.1's `JSON.parse`).
#[test]
fn json_floats_are_correctly_rounded() {
    let p = parser("@type json");
    for text in [
        r#"{"f":574.73575876580499,"g":987.72665364527374e6}"#,
        r#"{"nested":{"x":1},"f":574.73575876580499,"g":987.72665364527374e6}"#,
    ] {
        let (_, r) = one(p.as_ref(), text);
        assert_eq!(r.get("f"), Some(&Value::F64(574.735758765805)), "{text}");
        assert_eq!(r.get("g"), Some(&Value::F64(987726653.6452737)), "{text}");
    }
}
