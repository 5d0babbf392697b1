use logferry_msgpack::{json_to_msgpack, write, write_json, Error, Value};

fn j(raw: &[u8]) -> String {
    let mut out = Vec::new();
    let n = write_json(raw, &mut out).unwrap();
    assert_eq!(n, raw.len());
    let s = String::from_utf8(out).unwrap();
    // the tree path must agree with the streaming path
    let (v, _) = Value::decode(raw).unwrap();
    let mut tree = Vec::new();
    v.to_json(&mut tree);
    assert_eq!(String::from_utf8(tree).unwrap(), s);
    s
}

#[test]
fn scalars() {
    assert_eq!(j(&[0xc0]), "null");
    assert_eq!(j(&[0xc3]), "true");
    assert_eq!(j(&[0xd0, 0x80]), "-128");
    assert_eq!(
        j(&[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        "18446744073709551615"
    );
    let mut f = Vec::new();
    write::f64(&mut f, 1.0);
    assert_eq!(j(&f), "1.0");
    let mut f = Vec::new();
    write::f64(&mut f, f64::NAN);
    assert_eq!(j(&f), "null");
    let mut f = Vec::new();
    write::f64(&mut f, 1e20);
    assert_eq!(j(&f), "1.0e+20");
    let mut f = vec![0xca];
    f.extend_from_slice(&0.5f32.to_bits().to_be_bytes());
    assert_eq!(j(&f), "0.5");
}

#[test]
fn strings_escape_like_ruby() {
    let mut b = Vec::new();
    write::str(&mut b, "a\"b\\c\n\r\t\u{8}\u{c}\u{1}/é😀");
    assert_eq!(j(&b), "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001/é😀\"");
    let mut b = Vec::new();
    write::bin(&mut b, &[b'o', 0xff, b'k']);
    assert_eq!(j(&b), "\"o\u{fffd}k\"");
}

#[test]
fn containers_keys_and_ext() {
    let mut b = Vec::new();
    write::map_len(&mut b, 6);
    write::str(&mut b, "z");
    write::array_len(&mut b, 2);
    write::int(&mut b, 1);
    write::nil(&mut b);
    write::int(&mut b, 7);
    write::str(&mut b, "int key");
    write::nil(&mut b);
    write::bool(&mut b, false);
    write::array_len(&mut b, 1);
    write::str(&mut b, "q");
    write::int(&mut b, 0);
    write::str(&mut b, "t");
    write::ext(&mut b, 0, &[0x65, 0x53, 0xf1, 0x00, 0x1d, 0xcd, 0x65, 0x00]);
    write::str(&mut b, "x");
    write::ext(&mut b, 5, &[1]);
    assert_eq!(
        j(&b),
        // Keys that are not strings are their Ruby `to_s`, as yajl writes them (nil is "").
        r#"{"z":[1,null],"7":"int key","":false,"[\"q\"]":0,"t":1700000000.5,"x":null}"#
    );
}

#[test]
fn consumes_one_value_only() {
    let mut out = Vec::new();
    assert_eq!(write_json(&[0x91, 0x01, 0x02, 0x03], &mut out), Ok(2));
    assert_eq!(out, b"[1]");
    let mut out = Vec::new();
    assert_eq!(write_json(&[0x92, 0x01], &mut out), Err(Error::Incomplete));
    assert!(matches!(
        write_json(&[0x92, 0x01, 0xc1], &mut out),
        Err(Error::Invalid(_))
    ));
    assert!(out.is_empty());
}

#[test]
fn json_to_msgpack_shapes() {
    let v: serde_json::Value =
        serde_json::from_str(r#"{"b":1,"a":[-2,18446744073709551615,1.5,"s",null,true],"c":{}}"#)
            .unwrap();
    let mut b = Vec::new();
    json_to_msgpack(&v, &mut b);
    let (tree, _) = Value::decode(&b).unwrap();
    assert_eq!(
        tree,
        Value::Map(vec![
            (Value::Str("b".into()), Value::Int(1)),
            (
                Value::Str("a".into()),
                Value::Array(vec![
                    Value::Int(-2),
                    Value::UInt(u64::MAX),
                    Value::F64(1.5),
                    Value::Str("s".into()),
                    Value::Nil,
                    Value::Bool(true),
                ])
            ),
            (Value::Str("c".into()), Value::Map(vec![])),
        ])
    );
    assert_eq!(
        j(&b),
        r#"{"b":1,"a":[-2,18446744073709551615,1.5,"s",null,true],"c":{}}"#
    );
}
