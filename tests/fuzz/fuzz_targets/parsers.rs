//! Every parser plugin (json, regexp with a fixed expression, ltsv, csv, tsv, nginx, apache2,
//! apache, apache_error, syslog, none, msgpack, multiline, multi_format), built from `<parse>`
//! config text as a plugin would build it, parsing arbitrary UTF-8. Byte 0 picks the parser
//! configuration (several per type: time formats, `types` conversions, fallbacks, engines); the
//! rest is the text.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use logferry_config::Section;
use logferry_formats::parser::{from_plugin, ParseResult, Parser, RawRecord};

/// `<parse>` bodies; every one must build.
const CONFIGS: &[&str] = &[
    // json
    "@type json",
    "@type json\nkeep_time_key true\ntime_type string\ntime_format %Y-%m-%dT%H:%M:%S.%N%z\nnull_value_pattern ^(-|null)$\nnull_empty_string true",
    "@type json\ntypes i:integer,f:float,b:bool,s:string,a:array:|,t:time:%Y-%m-%d %H:%M:%S%z,u:time:unixtime,z:time:Asia/Tokyo:%Y-%m-%d,n:integer",
    "@type json\ntime_type mixed\ntime_format %d/%b/%Y:%H:%M:%S %z\ntime_format_fallbacks unixtime,%iso8601\nlocaltime true",
    "@type json\ntime_type float\nestimate_current_event false",
    // regexp, with a fixed expression
    "@type regexp\nexpression /^(?<time>[^ ]+ [^ ]+) \\[(?<level>\\w+)\\] (?<host>[^ ]*) (?<code>\\d+)(?: (?<opt>x))? (?<message>.*)$/\ntime_format %Y-%m-%d %H:%M:%S.%L\ntypes code:integer",
    "@type regexp\nexpression /^(?<key>[a-z]+)=(?<value>.*)$/i\nmultiline true\ntime_key value\ntime_type unixtime",
    // ltsv
    "@type ltsv",
    "@type ltsv\ndelimiter_pattern /\\s+/\nlabel_delimiter =\ntime_type mixed\nutc true\ntime_format %Y-%m-%d %H:%M:%S\ntime_format_fallbacks unixtime",
    // csv
    "@type csv\nkeys time,a,b,c\ntime_key time\ntime_format %s",
    "@type csv\nkeys a,b,c\nparser_type fast\ndelimiter ;",
    // tsv
    "@type tsv\nkeys a,b,time\ntime_key time\ntime_format %Y%m%d",
    // the predefined web server formats
    "@type nginx",
    "@type apache2",
    "@type apache",
    "@type apache_error",
    // syslog
    "@type syslog",
    "@type syslog\nmessage_format rfc5424\nwith_priority true",
    "@type syslog\nmessage_format auto\nwith_priority true\nparser_type string",
    "@type syslog\nparser_type string\nsupport_colonless_ident false\nkeep_time_key true",
    "@type syslog\nmessage_format rfc5424\nparser_engine string\ntime_format %Y-%m-%dT%H:%M:%S%z",
    // none
    "@type none",
    "@type none\nmessage_key log",
    // msgpack (the text's characters as bytes)
    "@type msgpack",
    "@type msgpack\ntime_key t\ntime_type unixtime\ntypes a:integer,b:time:%s\nnull_empty_string true",
    // multiline
    "@type multiline\nformat_firstline /^\\d{4}/\nformat1 /^(?<time>\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}) (?<message>.*)/",
    "@type multiline\nformat_firstline /^\\[/\nformat1 /^\\[(?<n>\\d)\\] (?<m>[^\\[]*)/\nunmatched_lines true",
    "@type multiline\nformat1 /^(?<a>\\w+) /\nformat2 /(?<b>.*)$/",
    // multi_format
    "@type multi_format\n<pattern>\nformat json\n</pattern>\n<pattern>\nformat /^(?<k>\\w+)=(?<v>.*)$/\n</pattern>\n<pattern>\nformat syslog\n</pattern>\n<pattern>\n@type none\n</pattern>",
    "@type multi_format\n<pattern>\nformat regexp\nexpression /^(?<time>\\d+) (?<m>.*)$/\ntime_type unixtime\n</pattern>\n<pattern>\nformat ltsv\n</pattern>\n<pattern>\nformat csv\nkeys a,b\n</pattern>",
];

fn parsers() -> &'static [Box<dyn Parser>] {
    static P: OnceLock<Vec<Box<dyn Parser>>> = OnceLock::new();
    P.get_or_init(|| {
        CONFIGS
            .iter()
            .map(|body| {
                let text = format!(
                    "<filter **>\n  @type parser\n  <parse>\n{body}\n  </parse>\n</filter>\n"
                );
                let root = logferry_config::parse_str(&text, "fuzz.conf", Path::new("."))
                    .unwrap_or_else(|e| panic!("config of {body:?}: {e}"));
                let s = Section::new(&root.elements[0], "parser");
                from_plugin(&s, None).unwrap_or_else(|e| panic!("parser {body:?}: {e}"))
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let all = parsers();
    let p = &all[usize::from(pick) % all.len()];
    let mut out: Vec<ParseResult> = Vec::new();
    p.parse(text, &mut out);
    // The fast path, when it takes the text, must agree with the full parser.
    let mut raw = RawRecord::default();
    if let Some(t) = p.parse_raw(text, &mut raw) {
        assert_eq!(
            out.len(),
            1,
            "fast path took {text:?}, the full parser gave {out:?}"
        );
        let (want_t, want) = match &out[0] {
            Ok(r) => r,
            Err(e) => panic!("fast path took {text:?}, the full parser refused it: {e}"),
        };
        let mut got = Vec::new();
        raw.encode_map(&mut got);
        let mut want_bytes = Vec::new();
        want.encode(&mut want_bytes);
        // Floats may differ in the last bit (the fast path rounds exactly, serde_json's default
        // may not): compare decoded values, with floats within 1e-12 relative.
        if got != want_bytes {
            let g = logferry_msgpack::Value::decode(&got).map(|x| x.0);
            assert!(
                matches!(&g, Ok(v) if close(v, want)),
                "fast path {g:?} != full parser {want:?} for {text:?}"
            );
        }
        assert_eq!(t.is_some(), want_t.is_some(), "time presence for {text:?}");
        if let (Some(a), Some(b)) = (t, want_t) {
            // Equal, or both "now" (estimate_current_event) read a moment apart.
            assert!(
                a == *b || (i64::from(a.sec) - i64::from(b.sec)).abs() <= 2,
                "time {a:?} != {b:?} for {text:?}"
            );
        }
    }
});

fn close(a: &logferry_msgpack::Value, b: &logferry_msgpack::Value) -> bool {
    use logferry_msgpack::Value as V;
    match (a, b) {
        (V::F64(x), V::F64(y)) => x == y || ((x - y) / y).abs() < 1e-12,
        (V::Map(x), V::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| ka == kb && close(va, vb))
        }
        _ => a == b,
    }
}
