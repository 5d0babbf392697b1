use logferry_msgpack::{Error, Value, MAX_DEPTH};

#[test]
fn lookup_and_text() {
    let mut v = Value::Map(vec![
        (Value::Str("k".into()), Value::Int(1)),
        (Value::Bin(b"k".to_vec()), Value::Int(2)),
        (Value::Str("f".into()), Value::F64(1.0)),
    ]);
    assert_eq!(v.get("k"), Some(&Value::Int(2)));
    assert_eq!(v.get("nope"), None);
    *v.get_mut("k").unwrap() = Value::Str("x".into());
    assert_eq!(v.get("k").and_then(Value::as_str), Some("x"));
    assert_eq!(Value::Int(3).get("k"), None);
    assert_eq!(v.to_text(), r#"{"k":1,"k":"x","f":1.0}"#);
    assert_eq!(Value::Nil.to_text(), "");
    assert_eq!(Value::Int(-4).to_text(), "-4");
    assert_eq!(Value::Bool(true).to_text(), "true");
    assert_eq!(Value::F64(1.5).to_text(), "1.5");
    assert_eq!(Value::F64(3.0).to_text(), "3.0");
    assert_eq!(Value::Str("raw \"s\"".into()).to_text(), "raw \"s\"");
    assert_eq!(Value::Bin(b"b".to_vec()).as_str(), Some("b"));
    assert_eq!(Value::Bin(vec![0xff]).as_str(), None);
    assert_eq!(
        Value::Array(vec![Value::Str("a".into())]).to_text(),
        r#"["a"]"#
    );
    assert_eq!(
        Value::Ext(0, vec![0, 0, 0, 100, 0, 0, 0, 1]).to_text(),
        "100"
    );
}

#[test]
fn decode_is_bounded() {
    // claims 4 billion elements with 2 bytes present: must fail fast, no huge Vec
    assert_eq!(
        Value::decode(&[0xdd, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02]),
        Err(Error::Incomplete)
    );
    assert_eq!(
        Value::decode(&[0xdf, 0xff, 0xff, 0xff, 0xff, 0x01]),
        Err(Error::Incomplete)
    );
    assert_eq!(
        Value::decode(&[0xdb, 0xff, 0xff, 0xff, 0xff, b'a']),
        Err(Error::Incomplete)
    );
    let mut deep = vec![0x91; MAX_DEPTH];
    deep.push(0xc0);
    assert!(Value::decode(&deep).is_ok());
    deep.insert(0, 0x91);
    assert_eq!(Value::decode(&deep), Err(Error::TooDeep));
    assert_eq!(logferry_msgpack::value_len(&deep), Err(Error::TooDeep));
    assert!(matches!(
        Value::decode(&[0x91, 0xc1]),
        Err(Error::Invalid(_))
    ));
    let (v, n) = Value::decode(&[0xa2, 0xff, b'a', 0x00]).unwrap();
    assert_eq!((v, n), (Value::Str("\u{fffd}a".into()), 3));
}
