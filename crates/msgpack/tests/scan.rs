use logferry_msgpack::{value_len, walk, Error, Scanner, MAX_DEPTH};

#[test]
fn lengths_of_scalars_and_containers() {
    assert_eq!(value_len(&[0x01, 0xff]), Ok(1));
    assert_eq!(value_len(&[0xcd, 0x01, 0x02]), Ok(3));
    assert_eq!(value_len(&[0x92, 0x01, 0xa1, b'x', 0xc0]), Ok(4));
    assert_eq!(value_len(&[0x81, 0xa1, b'a', 0x90]), Ok(4));
    assert_eq!(value_len(&[0xd7, 0x00, 1, 2, 3, 4, 5, 6, 7, 8]), Ok(10));
    assert_eq!(value_len(&[0xc7, 0x02, 0x05, 1, 2]), Ok(5));
    // non-minimal map32 header with one pair
    assert_eq!(value_len(&[0xdf, 0, 0, 0, 1, 0xa1, b'k', 0x01]), Ok(8));
}

#[test]
fn incomplete_invalid_and_deep() {
    assert_eq!(value_len(&[]), Err(Error::Incomplete));
    assert_eq!(value_len(&[0x92, 0x01]), Err(Error::Incomplete));
    assert_eq!(value_len(&[0xdb, 0xff, 0xff]), Err(Error::Incomplete));
    assert_eq!(
        value_len(&[0xdb, 0xff, 0xff, 0xff, 0xff, b'a']),
        Err(Error::Incomplete)
    );
    assert!(matches!(value_len(&[0xc1]), Err(Error::Invalid(_))));
    assert!(matches!(
        value_len(&[0x92, 0x01, 0xc1]),
        Err(Error::Invalid(_))
    ));
    let mut ok = vec![0x91; MAX_DEPTH - 1];
    ok.push(0x90);
    assert_eq!(value_len(&ok), Ok(MAX_DEPTH));
    let mut deep = vec![0x91; MAX_DEPTH];
    deep.push(0x90);
    assert_eq!(value_len(&deep), Err(Error::TooDeep));
    // a huge, shallow-looking input with a billion-element claim just waits
    assert_eq!(
        value_len(&[0xdd, 0x7f, 0xff, 0xff, 0xff, 0x01]),
        Err(Error::Incomplete)
    );
}

#[test]
fn scanner_resumes() {
    let bytes = [
        0x93, 0x01, 0xa3, b'a', b'b', b'c', 0x82, 0x01, 0x02, 0x03, 0x04, 0xff,
    ];
    let full = value_len(&bytes).unwrap();
    assert_eq!(full, 11);
    let mut s = Scanner::new();
    for end in 0..full {
        assert_eq!(
            s.scan(&bytes[..end]),
            Err(Error::Incomplete),
            "prefix {end}"
        );
    }
    assert_eq!(s.scan(&bytes), Ok(full));
    assert_eq!(s.scan(&bytes), Ok(full), "completed scans stay put");
    s.reset();
    assert_eq!(s.scan(&bytes[..3]), Err(Error::Incomplete));
    assert_eq!(s.scan(&bytes), Ok(full));
}

#[test]
fn walk_reports_ext_types() {
    let bytes = [0x92, 0xd4, 0xff, 0x00, 0xd7, 0x00, 0, 0, 0, 1, 0, 0, 0, 0];
    let mut seen = Vec::new();
    let n = walk(&bytes, |ty, p| {
        seen.push((ty, p.len()));
        Ok::<(), Error>(())
    })
    .unwrap();
    assert_eq!(n, bytes.len());
    assert_eq!(seen, vec![(-1, 1), (0, 8)]);
    let err = walk(&bytes, |ty, _| if ty == -1 { Err(E::Bad) } else { Ok(()) });
    assert_eq!(err, Err(E::Bad));
}

#[derive(Debug, PartialEq)]
enum E {
    Bad,
    Msgpack,
}

impl From<Error> for E {
    fn from(_: Error) -> Self {
        E::Msgpack
    }
}

#[test]
fn deep_walk_calls_ext_once_each() {
    // 40 nested 2-element arrays, each holding an ext before the next level
    let mut b = Vec::new();
    for _ in 0..40 {
        b.extend([0x92, 0xd4, 0x07, 0x00]);
    }
    b.push(0xc0);
    let mut calls = 0;
    let n = walk(&b, |ty, _| {
        assert_eq!(ty, 7);
        calls += 1;
        Ok::<(), Error>(())
    })
    .unwrap();
    assert_eq!((n, calls), (b.len(), 40));
    assert_eq!(value_len(&b[..b.len() - 1]), Err(Error::Incomplete));
}

/// Every marker form the scan's fast paths take (fixmap, fixarray, fixext 8, short strings,
/// fixints) nested past the scanner's first stack size, scanned whole by `value_len` and `walk`
/// and by a `Scanner` fed one byte more at a time (each stack growth resumes where it stopped).
#[test]
fn fast_path_markers_nested_and_resumed() {
    let mut v = Vec::new();
    for i in 0..40u8 {
        if i % 2 == 0 {
            v.extend_from_slice(&[
                0x82, 0xa1, b'k', 0xd7, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 0xa1, b'm',
            ]);
        } else {
            v.extend_from_slice(&[0x93, 0xff, 0xd9, 0x02, b'x', b'y']);
        }
    }
    v.push(0x80);
    let full = value_len(&v).unwrap();
    assert_eq!(full, v.len());
    let mut exts = 0;
    assert_eq!(
        walk(&v, |ty, p| {
            assert_eq!((ty, p), (0, &[1u8, 2, 3, 4, 5, 6, 7, 8][..]));
            exts += 1;
            Ok::<(), Error>(())
        }),
        Ok(full)
    );
    assert_eq!(exts, 20);
    let mut s = Scanner::new();
    for end in 0..full {
        assert_eq!(s.scan(&v[..end]), Err(Error::Incomplete), "prefix {end}");
    }
    assert_eq!(s.scan(&v), Ok(full));
    // A cut fixext 8 waits; a deep fixarray chain is refused at MAX_DEPTH.
    assert_eq!(value_len(&[0x91, 0xd7, 0x00, 1, 2]), Err(Error::Incomplete));
    let mut deep = vec![0x91; MAX_DEPTH];
    deep.push(0x80);
    assert_eq!(value_len(&deep), Err(Error::TooDeep));
}
