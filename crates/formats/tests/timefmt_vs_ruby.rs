//! Differential test of logferry's time formatting and parsing against Fluentd's own classes.
//!
//! `timefmt/record.rb` drew random formats (every strftime flag `- _ 0 ^ # :` and width, `%E`/`%O`,
//! unknown letters, `%%`, a trailing `%`, non-ASCII text), zone settings (`localtime` in
//! America/New_York, `utc`, `timezone` `+09:00`, `-03:30`, `+0530`, `-02`, Asia/Tokyo,
//! America/New_York, Europe/London) and times (epoch edges, leap days, year and ISO-week edges, DST
//! transitions, nanoseconds 0/1/999999999/…), and recorded what Fluentd 1.16.11 on Ruby 3.1 did:
//!
//! * `strftime.jsonl`: `Fluent::TimeFormatter.new(format, localtime, timezone).format(time)`, a
//!   string or the error Ruby raised;
//! * `strptime.jsonl`: `Fluent::TimeParser.new(format, localtime, timezone).parse(text)` of texts
//!   Ruby wrote with the same format and their mutations (cut short, extra text, spaces, digits
//!   changed), the `[sec, nsec]` or the error; formats with flags or widths also carry `m`, what
//!   Ruby parsed with them taken out (what the user meant: see README, "Differences from
//!   Fluentd").
//! * `typed.jsonl`: `time_type unixtime`, `float`, `mixed` with `time_format_fallbacks`,
//!   `%iso8601` and no `time_format` (Ruby's `Time.parse`) on numbers in every spelling, ISO 8601
//!   texts and dates as people write them.
//!
//! logferry must write the same bytes and parse the same times; a format Fluentd fails on for
//! every time may be refused at start-up instead. The test needs no Ruby; every mismatch is
//! collected and reported at once.

use logferry_formats::parser::{time_parse_probe, time_parse_probe_typed};
use logferry_formats::timefmt::{TimeFormatter, Zone};
use logferry_msgpack::EventTime;
use serde_json::Value;

mod golden;

/// Fluentd's seconds as an event time holds them: wrapped to 32 bits, as its msgpack
/// (`pack('NN')`) wraps them. None past 64 bits, where the golden holds only a float.
fn wrapped(secs: &Value) -> Option<u32> {
    secs.as_i64()
        .map(|s| s as u32)
        .or_else(|| secs.as_u64().map(|s| s as u32))
}

/// Seconds of a year past ±1,000,000, whose fields logferry refuses as out of range.
const FAR: i64 = 31_000_000_000_000;

/// Whether logferry's out-of-range refusal is the documented one: a year past ±1,000,000.
fn far(secs: &Value) -> bool {
    secs.as_i64().is_none_or(|s| s.abs() >= FAR)
}

fn lines(name: &str) -> Vec<Value> {
    // `TIMEFMT_DIR`: goldens recorded elsewhere (record.rb with `OUT` and another `SEED`).
    golden::read_jsonl("TIMEFMT_DIR", "timefmt", name)
}

/// The local zone the goldens were recorded in; set before anything reads it.
fn set_zone() {
    golden::set_zone(|| "America/New_York".into());
}

fn report(what: &str, bad: &[String], total: usize) {
    golden::report("timefmt", what, "Fluentd", bad, total);
}

#[test]
fn strftime_as_fluentd() {
    set_zone();
    let mut bad = Vec::new();
    let mut total = 0;
    for case in lines("strftime.jsonl") {
        let fmt = case["f"].as_str().unwrap();
        let local = case["l"].as_bool().unwrap();
        let tz = case["z"].as_str();
        let zone = Zone::from_settings(local, false, tz).unwrap();
        let outs = case["o"].as_array().unwrap();
        let times = case["t"].as_array().unwrap();
        total += times.len();
        let f = match TimeFormatter::new(fmt, zone) {
            Ok(f) => f,
            Err(e) => {
                if outs.iter().any(Value::is_string) {
                    bad.push(format!(
                        "{fmt:?} {tz:?}: refused ({e}), Fluentd wrote {:?}",
                        outs[0]
                    ));
                }
                continue;
            }
        };
        for (t, want) in times.iter().zip(outs) {
            let (sec, nsec) = (t[0].as_u64().unwrap(), t[1].as_u64().unwrap());
            let got = f.format(EventTime::new(sec as u32, nsec as u32));
            match want.as_str() {
                Some(w) if w == got => {}
                Some(w) => bad.push(format!(
                    "{fmt:?} local={local} tz={tz:?} at {sec}.{nsec:09}: Fluentd {w:?}, logferry {got:?}"
                )),
                None => bad.push(format!(
                    "{fmt:?} tz={tz:?}: Fluentd fails ({}), logferry {got:?}",
                    want["err"]
                )),
            }
        }
    }
    report("formatted times", &bad, total);
}

#[test]
fn strptime_as_fluentd() {
    set_zone();
    let mut bad = Vec::new();
    let (mut total, mut skipped) = (0, 0);
    for case in lines("strptime.jsonl") {
        let fmt = case["f"].as_str().unwrap();
        let local = case["l"].as_bool().unwrap();
        let tz = case["z"].as_str();
        let texts = case["x"].as_array().unwrap();
        // What logferry must give: Fluentd's result, or what the user meant where Fluentd
        // mishandles the text (record.rb, `expected`); "skip" where Ruby completes a week date
        // from today's date.
        let outs = case["m"].as_array().unwrap();
        for (x, want) in texts.iter().zip(outs) {
            let x = x.as_str().unwrap();
            if want.as_str() == Some("skip") {
                skipped += 1;
                continue;
            }
            total += 1;
            let got = time_parse_probe(fmt, local, tz, x);
            // Fluentd's times past the u32 seconds of an event time (before 1970, after 2106) are
            // kept wrapped to 32 bits, as its own msgpack (`pack('NN')`) wraps them.
            let want_t = want
                .as_array()
                .map(|a| (&a[0], a[1].as_i64().unwrap_or(i64::MAX)));
            let ok = match (&got, want_t) {
                (Ok(Err(e)), Some((s, _))) => e.contains("out of range") && far(s),
                (Err(_), None) => {
                    want.get("config").is_some() || outs.iter().all(|o| !o.is_array())
                }
                (Ok(Ok(t)), Some((s, ns))) => match wrapped(s) {
                    Some(s) => t.sec == s && i64::from(t.nsec) == ns,
                    None => true,
                },
                (Ok(Err(_)), None) => want.get("config").is_none(),
                // TZInfo raises for a named zone's offset past the year 9999, and Fluentd fails
                // the parse; logferry keeps the time (README "Differences from Fluentd").
                (Ok(Ok(_)), None) => {
                    want.get("err").is_some()
                        && tz.is_some_and(|z| z.contains('/'))
                        && x.split(|c: char| !c.is_ascii_digit())
                            .next()
                            .and_then(|y| y.parse::<u64>().ok())
                            .is_some_and(|y| y >= 9999)
                }
                _ => false,
            };
            if !ok {
                bad.push(format!(
                    "{fmt:?} local={local} tz={tz:?} {x:?}: Fluentd {want}, logferry {got:?}"
                ));
            }
        }
    }
    assert!(
        skipped < total / 20,
        "{skipped} of {total} texts not compared"
    );
    report("parsed times", &bad, total);
}

/// `time_type unixtime`, `float`, `mixed` (with fallbacks), `%iso8601` and no `time_format`
/// (Ruby's `Time.parse`) on numbers in every spelling, ISO 8601 texts and dates as people write
/// them (`typed.jsonl`), in the local zone.
#[test]
fn typed_parsers_as_fluentd() {
    set_zone();
    let mut bad = Vec::new();
    let mut total = 0;
    for case in lines("typed.jsonl") {
        let ty = case["type"].as_str().unwrap();
        let fmt = case["f"].as_str();
        let fallbacks: Vec<String> = case["fb"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        for (x, want) in case["x"]
            .as_array()
            .unwrap()
            .iter()
            .zip(case["o"].as_array().unwrap())
        {
            let x = x.as_str().unwrap();
            total += 1;
            let got = time_parse_probe_typed(ty, fmt, true, None, &fallbacks, x);
            let want_t = want
                .as_array()
                .map(|a| (&a[0], a[1].as_i64().unwrap_or(i64::MAX)));
            let ok = match (&got, want_t) {
                // A negative fraction (`1700000000.-5` as a float) makes Fluentd an EventTime with
                // negative nanoseconds, which its msgpack (`pack('NN')`) cannot write.
                (_, Some((_, ns))) if ns < 0 => true,
                // Seconds kept wrapped to 32 bits; past 64 bits the golden holds only a float.
                (Ok(Ok(t)), Some((s, ns))) => match wrapped(s) {
                    Some(s) => t.sec == s && i64::from(t.nsec) == ns,
                    None => true,
                },
                (Ok(Err(_)), None) => true,
                (Ok(Err(e)), Some((s, _))) => e.contains("out of range") && far(s),
                _ => false,
            };
            if !ok {
                bad.push(format!(
                    "{ty} {fmt:?} {fallbacks:?} {x:?}: Fluentd {want}, logferry {got:?}"
                ));
            }
        }
    }
    report("typed parses", &bad, total);
}
