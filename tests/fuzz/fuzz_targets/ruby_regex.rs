//! Ruby regexps on arbitrary patterns: the translator (`parser::ruby_regex`) and `RubyRegex`
//! (`ruby_regexp::compile`), which runs a pattern on Rust's linear engine or, when the
//! translation cannot keep Ruby's meaning, on Oniguruma. A pattern comes from a config file, so
//! compiling it must give a result or an error, never a panic, and a compiled pattern must run
//! on a haystack within its bounds (Oniguruma's retry and stack limits, or a deadline). Byte 0
//! picks the Ruby flags; the rest is the pattern, then after a NUL byte the haystack.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use logferry_formats::parser::ruby_regex;
use logferry_formats::ruby_regexp;

const FLAGS: [&str; 8] = ["", "i", "m", "x", "im", "ix", "mx", "imx"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let (pattern, hay) = text.split_once('\0').unwrap_or((text, "ab\ncd é\n"));
    let flags = FLAGS[usize::from(pick) % FLAGS.len()];
    if let Ok(re) = ruby_regex::compile(pattern, flags) {
        let _ = re.captures(hay);
    }
    if let Ok(re) = ruby_regexp::compile(pattern, flags) {
        let mut locs = re.capture_locations();
        if let Some((s, e)) = re.captures_read(&mut locs, hay) {
            assert!(s <= e && e <= hay.len());
        }
        let _ = re.is_match(hay.trim_end_matches('\n'));
        let start = hay.len() / 2;
        if let Ok(Some(c)) = re.captures_within(hay, start, Some(Duration::from_millis(20))) {
            for (_, groups) in re.names() {
                if let Some((s, e)) = c.any(groups) {
                    let _ = &hay[s..e];
                }
            }
        }
        let _ = re.remove_first(hay);
        let _ = re.split(hay);
    }
});
