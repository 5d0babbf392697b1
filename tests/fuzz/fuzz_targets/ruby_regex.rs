//! The Ruby-regexp translator (`parser::ruby_regex`, and `ruby::compile` for grep and
//! rewrite_tag_filter) on arbitrary patterns: a pattern comes from a config file, so translating
//! and compiling it must give a result or an error, never a panic, and a compiled pattern must
//! run on a haystack. Byte 0 picks the Ruby flags; the rest is the pattern, then after a NUL
//! byte the haystack.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logferry_formats::parser::ruby_regex;
use logferry_formats::ruby;

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
    if let Ok(re) = ruby::compile(pattern, flags) {
        let mut locs = re.capture_locations();
        let _ = re.captures_read(&mut locs, hay);
        let _ = re.is_match(hay.trim_end_matches('\n'));
    }
});
