//! The configuration parser on arbitrary text: lexer, sections, every value syntax, `#{...}`
//! interpolation, and `@include` resolution inside an empty directory (inputs that could make
//! an include leave it — a `/` or an interpolation in an input that mentions `include` — are
//! skipped, so the fuzzer never reads files of the machine, /dev/zero or stdin).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn empty_dir() -> &'static PathBuf {
    static D: OnceLock<PathBuf> = OnceLock::new();
    D.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("logferry-fuzz-config-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("temp dir");
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if text.contains("include") && (text.contains('/') || text.contains("#{")) {
        return;
    }
    if let Ok(root) = logferry_config::parse_str(text, "fuzz.conf", empty_dir()) {
        // Walk the tree as the pipeline builder does.
        fn walk(e: &logferry_config::Element) {
            let _ = e.plugin_type();
            for p in &e.params {
                let v = p.value.as_str();
                use logferry_config::types as t;
                let _ = (
                    t::bool(v),
                    t::size(v),
                    t::time(v),
                    t::integer(v),
                    t::float(v),
                );
                let _ = (t::array(v), t::hash(v), t::regexp(v));
            }
            e.elements.iter().for_each(walk);
        }
        walk(&root);
        // What --dry-run prints must parse again.
        let text = root.dump();
        if !(text.contains("include") && (text.contains('/') || text.contains("#{"))) {
            let _ = logferry_config::parse_str(&text, "dump.conf", empty_dir());
        }
    }
});
