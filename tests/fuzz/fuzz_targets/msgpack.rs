//! logferry-msgpack on arbitrary bytes: `value_len`, the resumable `Scanner` fed in two
//! pieces, `Value::decode` (+ re-encoding), `write_json` and `walk_keys`; they must agree on where
//! the first value ends. Maps that repeat a key: `walk_keys` flags every one `has_repeated_keys`
//! finds, and `fold_repeated_keys` leaves none.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logferry_msgpack::{
    fold_repeated_keys, has_repeated_keys, value_len, walk_keys, write_json, Error, Scanner, Value,
};

fuzz_target!(|data: &[u8]| {
    let Some((&split, data)) = data.split_first() else {
        return;
    };
    let len = value_len(data);

    // Resumable scan: a prefix, then the whole buffer, gives value_len's answer.
    let mut sc = Scanner::new();
    let at = usize::from(split) % (data.len() + 1);
    match sc.scan(&data[..at]) {
        Err(Error::Incomplete) => assert_eq!(sc.scan(data).ok(), len.as_ref().ok().copied()),
        Ok(n) => assert_eq!(len, Ok(n), "a complete prefix value is the whole value"),
        Err(_) => {}
    }

    if let Ok((v, n)) = Value::decode(data) {
        assert!(n <= data.len());
        assert_eq!(Ok(n), len, "Value::decode and value_len disagree");
        let mut enc = Vec::new();
        v.encode(&mut enc);
        let (v2, n2) = Value::decode(&enc).expect("re-encoded value decodes");
        assert_eq!(n2, enc.len());
        let mut enc2 = Vec::new();
        v2.encode(&mut enc2);
        assert_eq!(enc, enc2, "encode(decode(encode(v))) == encode(v)");
        let _ = v.to_text();
        let mut j = Vec::new();
        v.to_json(&mut j);
    }

    match walk_keys(data, |_, _| Ok::<(), Error>(())) {
        Ok((n, maybe)) => {
            assert_eq!(Ok(n), len, "walk_keys and value_len disagree");
            let repeated = has_repeated_keys(&data[..n]);
            assert!(maybe || !repeated, "walk_keys missed a repeated key");
            let mut folded = Vec::new();
            assert_eq!(fold_repeated_keys(&data[..n], &mut folded), Ok(n));
            assert!(!has_repeated_keys(&folded), "a folded value repeats a key");
            assert_eq!(value_len(&folded), Ok(folded.len()));
            if !repeated {
                assert_eq!(
                    folded,
                    &data[..n],
                    "folding a value without repeats changed it"
                );
            }
        }
        Err(_) => assert!(len.is_err(), "walk_keys refused what value_len reads"),
    }

    let mut out = Vec::new();
    match write_json(data, &mut out) {
        Ok(n) => {
            assert_eq!(Ok(n), len, "write_json and value_len disagree");
            assert!(
                std::str::from_utf8(&out).is_ok(),
                "write_json wrote invalid UTF-8"
            );
        }
        Err(_) => assert!(out.is_empty(), "write_json wrote something on error"),
    }
});
