use logferry_msgpack::{read_time, EventTime, Reader};

fn t(bytes: &[u8]) -> Option<EventTime> {
    let mut r = Reader::new(bytes);
    let got = read_time(&mut r).unwrap();
    assert!(r.is_empty(), "value not consumed: {bytes:02x?}");
    got
}

#[test]
fn event_time_forms() {
    let want = Some(EventTime::new(1_700_000_000, 0));
    assert_eq!(t(&[0xce, 0x65, 0x53, 0xf1, 0x00]), want);
    assert_eq!(t(&[0xd2, 0x65, 0x53, 0xf1, 0x00]), want);
    assert_eq!(t(&[0xd3, 0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00]), want);
    assert_eq!(t(&[0xcf, 0, 0, 0, 0, 0x65, 0x53, 0xf1, 0x00]), want);
    assert_eq!(
        t(&[0xd7, 0x00, 0x65, 0x53, 0xf1, 0x00, 0x07, 0x5b, 0xcd, 0x15]),
        Some(EventTime::new(1_700_000_000, 123_456_789))
    );
    assert_eq!(
        t(&[0xc7, 0x08, 0x00, 0x65, 0x53, 0xf1, 0x00, 0, 0, 0, 0]),
        want
    );
    assert_eq!(
        t(&[0xd8, 0x00, 0x65, 0x53, 0xf1, 0x00, 0, 0, 0, 5, 9, 9, 9, 9, 9, 9, 9, 9]),
        Some(EventTime::new(1_700_000_000, 5))
    );
    assert_eq!(t(&[0x00]), Some(EventTime::default()));
}

#[test]
fn not_times() {
    let mut float = vec![0xcb];
    float.extend_from_slice(&1_700_000_000.5f64.to_bits().to_be_bytes());
    assert_eq!(t(&float), None);
    assert_eq!(t(&[0xff]), None);
    assert_eq!(t(&[0xcf, 0, 0, 0, 1, 0, 0, 0, 0]), None);
    assert_eq!(t(&[0xd6, 0x00, 1, 2, 3, 4]), None);
    assert_eq!(t(&[0xd7, 0xff, 0, 0, 0, 1, 0, 0, 0, 0]), None);
    assert_eq!(t(&[0xa1, b'x']), None);
    assert_eq!(t(&[0x91, 0x01]), None);
    let mut r = Reader::new(&[0xd7, 0x00, 1]);
    assert!(read_time(&mut r).is_err());
    assert_eq!(r.pos(), 0);
    assert!(read_time(&mut Reader::new(&[0xc1])).is_err());
}

#[test]
fn conversions() {
    let e = EventTime::new(1_700_000_000, 500_000_000);
    assert_eq!(e.as_f64(), 1_700_000_000.5);
    assert_eq!(EventTime::from_f64(1_700_000_000.5), e);
    assert_eq!(EventTime::from_f64(-3.0), EventTime::default());
    assert_eq!(EventTime::from_f64(f64::NAN), EventTime::default());
    assert!(EventTime::default().is_zero());
    assert!(!EventTime::new(0, 1).is_zero());
    assert!(EventTime::now().sec > 1_600_000_000);
    let mut out = Vec::new();
    EventTime::new(1_700_000_000, 123_456_789).encode(&mut out);
    assert_eq!(
        out,
        [0xd7, 0x00, 0x65, 0x53, 0xf1, 0x00, 0x07, 0x5b, 0xcd, 0x15]
    );
}
