//! Ruby's `Time.parse` as logferry ports it (what a parser without `time_format` does):
//! `Date._parse` and `Time.make_time` on arbitrary UTF-8, with a fixed `now`. No panic (overflow
//! included), and what a parser gives (with its ISO 8601, RFC 2822 and syslog fast paths) is the
//! full parse's time with its seconds kept to 32 bits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logferry_formats::parser::{date_parse_probe, lenient_at_probe, time_parse_at_probe};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = date_parse_probe(text);
    let (now, now_nsec) = (1_765_000_000, 123_456_789);
    let full = time_parse_at_probe(text, now, now_nsec);
    let event = lenient_at_probe(text, now, now_nsec);
    match (&full, &event) {
        (Ok((sec, nsec)), Ok(t)) => {
            assert_eq!((*sec as u32, *nsec), (t.sec, t.nsec), "{text:?}")
        }
        (Err(_), Err(_)) => {}
        _ => panic!("{text:?}: full parse {full:?}, parser {event:?}"),
    }
});
