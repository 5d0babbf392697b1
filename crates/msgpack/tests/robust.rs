//! Random and mutated inputs: no panics, and every decoder agrees.
use logferry_msgpack::{value_len, write_json, Reader, Value};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

fn seed_value() -> Vec<u8> {
    let mut b = Vec::new();
    Value::Map(vec![
        (
            Value::Str("log".into()),
            Value::Str("hello\nworld é".into()),
        ),
        (
            Value::Int(-3),
            Value::Array(vec![Value::F64(0.1), Value::F32(2.5), Value::Nil]),
        ),
        (
            Value::Bin(vec![0xff]),
            Value::Ext(0, vec![0, 0, 0, 1, 0, 0, 0, 2]),
        ),
        (Value::Str("u".into()), Value::UInt(u64::MAX)),
        (
            Value::Str("m".into()),
            Value::Map(vec![(Value::Bool(true), Value::Ext(3, vec![1, 2, 3]))]),
        ),
    ])
    .encode(&mut b);
    b
}

fn check(buf: &[u8]) {
    let len = value_len(buf);
    let tree = Value::decode(buf);
    let mut json = Vec::new();
    let written = write_json(buf, &mut json);
    assert_eq!(len.clone(), written.clone());
    match (len, tree) {
        (Ok(n), Ok((v, m))) => {
            assert_eq!(n, m);
            let mut via_tree = Vec::new();
            v.to_json(&mut via_tree);
            assert_eq!(via_tree, json);
            serde_json::from_slice::<serde_json::Value>(&json).expect("valid JSON");
            let _ = v.to_text();
            let mut r = Reader::new(buf);
            assert_eq!(r.read_raw().map(<[u8]>::len), Ok(n));
        }
        (Err(a), Err(b)) => assert_eq!(a, b),
        (a, b) => panic!("value_len {a:?} vs decode {b:?}"),
    }
}

#[test]
fn mutations_and_noise_never_panic() {
    let seed = seed_value();
    check(&seed);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let mut b = seed.clone();
        for _ in 0..1 + rng.next() % 4 {
            let i = (rng.next() as usize) % b.len();
            b[i] = rng.byte();
        }
        let cut = (rng.next() as usize) % (b.len() + 1);
        check(&b[..cut]);
        check(&b);
    }
    for _ in 0..20_000 {
        let n = (rng.next() % 24) as usize;
        let b: Vec<u8> = (0..n).map(|_| rng.byte()).collect();
        check(&b);
    }
}
