use logferry_msgpack::{write, Reader, Value};

fn enc(f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut v = Vec::new();
    f(&mut v);
    v
}

#[test]
fn minimal_encodings() {
    assert_eq!(enc(|o| write::int(o, 0)), [0x00]);
    assert_eq!(enc(|o| write::int(o, -1)), [0xff]);
    assert_eq!(enc(|o| write::int(o, -33)), [0xd0, 0xdf]);
    assert_eq!(enc(|o| write::int(o, 200)), [0xcc, 200]);
    assert_eq!(enc(|o| write::int(o, -200)), [0xd1, 0xff, 0x38]);
    assert_eq!(
        enc(|o| write::int(o, 1_700_000_000)),
        [0xce, 0x65, 0x53, 0xf1, 0x00]
    );
    assert_eq!(enc(|o| write::uint(o, u64::MAX))[0], 0xcf);
    assert_eq!(enc(|o| write::str(o, "ab")), [0xa2, b'a', b'b']);
    assert_eq!(enc(|o| write::str(o, &"x".repeat(40)))[..2], [0xd9, 40]);
    assert_eq!(enc(|o| write::bin(o, &[1]))[..], [0xc4, 1, 1]);
    assert_eq!(enc(|o| write::array_len(o, 20)), [0xdc, 0, 20]);
    assert_eq!(enc(|o| write::map_len(o, 70_000)), [0xdf, 0, 1, 0x11, 0x70]);
    assert_eq!(enc(|o| write::ext(o, 0, &[0; 8]))[..2], [0xd7, 0x00]);
    assert_eq!(enc(|o| write::ext(o, 3, &[1, 2, 3]))[..3], [0xc7, 3, 3]);
    assert_eq!(enc(|o| write::bool(o, false)), [0xc2]);
    assert_eq!(enc(write::nil), [0xc0]);
}

#[test]
fn ints_round_trip() {
    for v in [
        0i64,
        1,
        127,
        128,
        255,
        256,
        65535,
        65536,
        -1,
        -32,
        -33,
        -128,
        -129,
        -32768,
        -32769,
        i32::MIN as i64,
        i32::MIN as i64 - 1,
        i64::MIN,
        i64::MAX,
    ] {
        let b = enc(|o| write::int(o, v));
        assert_eq!(Reader::new(&b).read_i64(), Ok(v));
    }
    let b = enc(|o| write::f64(o, -0.5));
    assert_eq!(Reader::new(&b).read_f64(), Ok(-0.5));
}

#[test]
fn value_round_trip() {
    let v = Value::Map(vec![
        (Value::Str("a".into()), Value::Int(-5)),
        (Value::Str("b".into()), Value::UInt(u64::MAX)),
        (
            Value::Int(1),
            Value::Array(vec![Value::Nil, Value::Bool(true), Value::F32(1.5)]),
        ),
        (Value::Str("c".into()), Value::F64(0.25)),
        (Value::Str("d".into()), Value::Bin(vec![0, 1])),
        (
            Value::Str("e".into()),
            Value::Ext(0, vec![0, 0, 0, 1, 0, 0, 0, 2]),
        ),
        (Value::Str("f".into()), Value::Str("x".repeat(70_000))),
    ]);
    let mut b = Vec::new();
    v.encode(&mut b);
    let (back, n) = Value::decode(&b).unwrap();
    assert_eq!(n, b.len());
    assert_eq!(back, v);
}
