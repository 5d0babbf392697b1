//! record_transformer's `enable_ruby` subset (`ruby_expr`): an expression comes from a config
//! file and a record from the network, so parsing any text must give an expression or an error,
//! and evaluating a parsed one on any record must give a value or an error (Fluentd's @ERROR),
//! never a panic, within time and memory bounds. Byte 0 picks how the text is read (bit 0: as a
//! whole `${...}` value, parse_template, or as one expression, parse) and the tag; the text runs
//! up to the first NUL byte, the record (msgpack; a fixed record if it does not decode) after it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logferry_formats::ruby_expr::{self, RValue, Scope};
use logferry_msgpack::{EventTime, Value};

const TAGS: [&str; 4] = ["app.web.access", "a", "", "x..y."];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let (text, record) = match rest.iter().position(|&b| b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let record = match Value::decode(record) {
        Ok((v @ Value::Map(_), _)) => v,
        _ => Value::Map(vec![
            (Value::Str("s".into()), Value::Str("hello-world ab1".into())),
            (Value::Str("i".into()), Value::Int(i64::MIN)),
            (Value::Str("f".into()), Value::F64(-2.5)),
            (
                Value::Str("a".into()),
                Value::Array(vec![Value::Nil, Value::Int(3)]),
            ),
        ]),
    };
    let tag = TAGS[usize::from(pick >> 1) % TAGS.len()];
    let parts: Vec<String> = tag.split('.').map(str::to_string).collect();
    let prefix: Vec<String> = (1..=parts.len()).map(|n| parts[..n].join(".")).collect();
    let suffix: Vec<String> = (0..parts.len()).map(|n| parts[n..].join(".")).collect();
    let rv = RValue::from_value(&record);
    let cx = Scope {
        record: &rv,
        tag,
        tag_parts: &parts,
        tag_prefix: &prefix,
        tag_suffix: &suffix,
        hostname: "host-1",
        time: EventTime::new(1_700_000_000, 123_456_789),
        now: EventTime::new(1_700_000_001, 0),
        time_utc: Default::default(),
    };
    if pick & 1 == 1 {
        if let Ok(pieces) = ruby_expr::parse_template(text) {
            let mut out = String::new();
            let _ = ruby_expr::render(&pieces, &cx, &mut out);
        }
    } else if let Ok(e) = ruby_expr::parse(text) {
        let _ = ruby_expr::may_be_object(&e);
        if let Ok(v) = ruby_expr::eval(&e, &cx) {
            let _ = v.to_value();
            let _ = v.to_s();
        }
    }
});
