use logferry_msgpack::{Error, Reader};

#[test]
fn ints_of_every_width() {
    let cases: &[(&[u8], i64)] = &[
        (&[0x05], 5),
        (&[0xff], -1),
        (&[0xe0], -32),
        (&[0xcc, 0xff], 255),
        (&[0xcd, 0x01, 0x00], 256),
        (&[0xce, 0x65, 0x53, 0xf1, 0x00], 1_700_000_000),
        (&[0xcf, 0, 0, 0, 0, 0, 0, 0, 7], 7),
        (&[0xd0, 0x80], -128),
        (&[0xd0, 0x05], 5),
        (&[0xd1, 0xff, 0x00], -256),
        (&[0xd2, 0x65, 0x53, 0xf1, 0x00], 1_700_000_000),
        (&[0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe], -2),
    ];
    for (bytes, want) in cases {
        let mut r = Reader::new(bytes);
        assert_eq!(r.read_i64(), Ok(*want), "{bytes:02x?}");
        assert!(r.is_empty());
    }
    let big = [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    let mut r = Reader::new(&big);
    assert!(matches!(r.read_i64(), Err(Error::Invalid(_))));
    assert_eq!(r.pos(), 0);
    assert_eq!(r.read_u64(), Ok(u64::MAX));
    let mut r = Reader::new(&[0xff]);
    assert!(matches!(r.read_u64(), Err(Error::Invalid(_))));
}

#[test]
fn failed_reads_do_not_advance() {
    let bytes = [0xa3, b'a', b'b'];
    let mut r = Reader::new(&bytes);
    assert_eq!(r.read_str(), Err(Error::Incomplete));
    assert_eq!(r.pos(), 0);
    assert!(matches!(r.read_i64(), Err(Error::Invalid(_))));
    assert!(matches!(r.read_map_len(), Err(Error::Invalid(_))));
    assert_eq!(r.read_raw(), Err(Error::Incomplete));
    assert_eq!(r.skip(), Err(Error::Incomplete));
    assert_eq!(r.pos(), 0);
    assert_eq!(r.peek(), Some(0xa3));
    let mut r = Reader::new(&[0xce, 0x01]);
    assert_eq!(r.read_u64(), Err(Error::Incomplete));
    assert_eq!(r.pos(), 0);
    let mut empty = Reader::new(&[]);
    assert_eq!(empty.read_nil(), Err(Error::Incomplete));
    assert_eq!(empty.peek(), None);
}

#[test]
fn typed_reads() {
    let mut buf = Vec::new();
    buf.extend_from_slice(&[0xc0, 0xc3, 0xca]);
    buf.extend_from_slice(&1.5f32.to_bits().to_be_bytes());
    buf.push(0xcb);
    buf.extend_from_slice(&2.25f64.to_bits().to_be_bytes());
    buf.extend_from_slice(&[0xc4, 0x02, 0x00, 0xff]); // bin8
    buf.extend_from_slice(&[0xd9, 0x01, b'x']); // str8 non-minimal
    buf.extend_from_slice(&[0xdc, 0x00, 0x02]); // array16 non-minimal
    buf.extend_from_slice(&[0xde, 0x00, 0x01]); // map16
    buf.extend_from_slice(&[0xc7, 0x03, 0x05, 1, 2, 3]); // ext8
    buf.extend_from_slice(&[0x92, 0x01, 0x02]);
    let mut r = Reader::new(&buf);
    r.read_nil().unwrap();
    assert!(r.read_bool().unwrap());
    assert_eq!(r.read_f64(), Ok(1.5));
    assert_eq!(r.read_f64(), Ok(2.25));
    assert_eq!(r.read_str(), Ok(&[0x00, 0xff][..]));
    assert_eq!(r.read_str(), Ok(&b"x"[..]));
    assert_eq!(r.read_array_len(), Ok(2));
    assert_eq!(r.read_map_len(), Ok(1));
    assert_eq!(r.read_ext(), Ok((5, &[1u8, 2, 3][..])));
    assert_eq!(r.read_raw(), Ok(&[0x92u8, 0x01, 0x02][..]));
    assert!(r.is_empty());
}

/// `short_len` (read_raw's fast path) agrees with the full scan for every marker byte, whatever
/// length bytes follow, and read_raw still refuses a value cut short.
#[test]
fn short_len_agrees_with_value_len_for_every_marker() {
    use logferry_msgpack::{short_len, value_len};
    let mut known = 0;
    for m in 0..=255u8 {
        for len_bytes in [[0u8, 0], [0, 3], [1, 2], [0x10, 0]] {
            let mut buf = vec![m, len_bytes[0], len_bytes[1]];
            buf.resize(5000, 0);
            let Some(n) = short_len(&buf) else { continue };
            known += 1;
            assert_eq!(
                value_len(&buf).ok(),
                Some(n),
                "marker {m:#04x} {len_bytes:?}"
            );
            let mut r = Reader::new(&buf);
            assert_eq!(r.read_raw().map(<[u8]>::len), Ok(n));
            assert_eq!(r.pos(), n);
            let mut cut = Reader::new(&buf[..n - 1]);
            assert_eq!(cut.read_raw(), Err(Error::Incomplete), "marker {m:#04x}");
            assert_eq!(cut.pos(), 0);
        }
    }
    assert!(
        known > 4 * 200,
        "the fast path covers the usual markers ({known})"
    );
    assert_eq!(short_len(&[]), None);
    assert_eq!(short_len(&[0xd9]), None, "str8 without its length byte");
    assert_eq!(short_len(&[0xc1]), None);
}
