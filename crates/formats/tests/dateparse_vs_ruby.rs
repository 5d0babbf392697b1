//! Differential test of logferry's `Time.parse` (what Fluentd does with a time when a parser has
//! no `time_format`: `Fluent::EventTime.parse`) against Ruby 3.1's.
//!
//! `dateparse/record.rb` drew random texts from date and time pieces (digit runs of 1 to 16
//! digits, signs, dots, slashes, dashes, colons, `T`, `W`, month and day names in every case and
//! length, `am`/`pm`, zone names and offsets, `[+9]`, ordinal suffixes, fractions, apostrophe
//! years, BC/AD, non-ASCII letters, digits and spaces, junk) and dates as logs write them (ISO
//! 8601, RFC 2822, ctime, Apache, syslog, US and European orders, JIS eras, week and ordinal
//! dates) with mutations (cut, digits changed, separators swapped, texts over 128 bytes), and
//! recorded in `parse.jsonl`:
//!
//! * `h`: `Date._parse(text)`, which depends on the text only: every field must be the same
//!   (logferry computes no `offset`, which `Time.parse` does not read);
//! * `w`, `s`: `Time.parse(text, now)` in America/New_York for a winter and a summer `now`, as
//!   `[to_i, nsec]` or the error. Both logferry's full `Time.parse` (seconds unbounded) and what a
//!   parser gives (with its ISO 8601 fast path; seconds kept to their low 32 bits as an event
//!   time holds them) must agree.
//!
//! The test needs no Ruby; every mismatch is collected and reported at once.

use logferry_formats::parser::{date_parse_probe, lenient_at_probe, time_parse_at_probe};
use logferry_msgpack::EventTime;
use serde_json::Value;

mod golden;

/// Whether Ruby's hash for the text has a number of more than 30 digits, which logferry does not
/// compute with (README, "Differences from Fluentd"): their fields are not compared, and
/// logferry may refuse their time.
fn huge(l: &Value) -> bool {
    l["h"].as_object().is_some_and(|h| {
        h.iter().any(|(k, v)| {
            k != "zone"
                && k != "sec_fraction"
                && v.as_str()
                    .is_some_and(|v| v.trim_start_matches('-').len() > 30)
        })
    })
}

/// `NOW_W` and `NOW_S` of record.rb.
const NOWS: [(&str, i64, u32); 2] = [
    ("w", 1_765_000_000, 123_456_789),
    ("s", 1_752_000_000, 987_654_321),
];

fn lines() -> Vec<Value> {
    // `DATEPARSE_DIR`: goldens recorded elsewhere (record.rb with `OUT`).
    golden::read_jsonl("DATEPARSE_DIR", "dateparse", "parse.jsonl")
}

fn set_zone() {
    // `DATEPARSE_TZ`: goldens recorded elsewhere in another zone (record.rb with `OUT`).
    golden::set_zone(|| {
        std::env::var("DATEPARSE_TZ").unwrap_or_else(|_| "America/New_York".into())
    });
}

fn report(what: &str, bad: &[String], total: usize) {
    golden::report("dateparse", what, "Ruby", bad, total);
}

#[test]
fn date_parse_fields_as_ruby() {
    let golden = lines();
    assert!(golden.len() > 5000, "golden too small: {}", golden.len());
    let mut bad = Vec::new();
    for l in &golden {
        let text = l["t"].as_str().expect("text");
        if huge(l) {
            continue;
        }
        let want = &l["h"];
        let got = date_parse_probe(text);
        match (want.get("err"), got) {
            (Some(_), Err(_)) => {}
            (Some(e), Ok(g)) => bad.push(format!("{text:?}: Ruby {e}, logferry {g:?}")),
            (None, Err(e)) => bad.push(format!("{text:?}: Ruby {want}, logferry error {e}")),
            (None, Ok(g)) => {
                let mut w: Vec<(String, String)> = want
                    .as_object()
                    .expect("hash")
                    .iter()
                    .filter(|(k, _)| k.as_str() != "offset")
                    .map(|(k, v)| (k.clone(), v.as_str().expect("string value").to_string()))
                    .collect();
                let mut g: Vec<(String, String)> =
                    g.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                w.sort();
                g.sort();
                if w != g {
                    bad.push(format!("{text:?}: Ruby {w:?}, logferry {g:?}"));
                }
            }
        }
    }
    report("Date._parse hashes", &bad, golden.len());
}

/// `Time.parse(text, now)`: the same time or an error for the same texts, through the full
/// parse and through what a parser without `time_format` runs.
#[test]
fn time_parse_as_ruby() {
    set_zone();
    let golden = lines();
    let mut bad = Vec::new();
    let mut times = 0;
    for l in &golden {
        let text = l["t"].as_str().expect("text");
        let huge = huge(l);
        for (key, now_sec, now_nsec) in NOWS {
            let want = &l[key];
            let full = time_parse_at_probe(text, now_sec, now_nsec);
            let event = lenient_at_probe(text, now_sec, now_nsec);
            // A field of more than 30 digits: logferry refuses the text (README).
            if huge && full.is_err() && event.is_err() {
                continue;
            }
            match want.get("err") {
                Some(e) => {
                    if full.is_ok() || event.is_ok() {
                        bad.push(format!(
                            "{text:?} (now {key}): Ruby {e}, logferry {full:?} / {event:?}"
                        ));
                    }
                }
                None => {
                    times += 1;
                    let secs: i128 = want[0].as_str().and_then(|s| s.parse().ok()).expect("to_i");
                    let nsec = want[1].as_u64().expect("nsec") as u32;
                    let ev = EventTime::new(secs as u32, nsec);
                    if full != Ok((secs, nsec)) || event != Ok(ev) {
                        bad.push(format!(
                            "{text:?} (now {key}): Ruby {secs}.{nsec:09}, logferry {full:?} / \
                             {event:?}"
                        ));
                    }
                }
            }
        }
    }
    assert!(times > 3000, "too few times in the golden: {times}");
    report("Time.parse times", &bad, golden.len() * 2);
}
