//! Client encoders → server decoder round trips, and ack parsing.
mod common;

use common::*;
use logferry_forward::encode::{self, Compression};
use logferry_forward::{Decoder, DecoderOptions, EventTime, Frame, Mode};
use logferry_msgpack::write;

fn normalized(n: u32) -> Vec<u8> {
    let mut e = Vec::new();
    for i in 0..n {
        e.push(0x92);
        EventTime::new(1_700_000_000 + i, i * 1000).encode(&mut e);
        e.extend(rec("i", i64::from(i)));
    }
    e
}

#[test]
fn every_encoder_round_trips() {
    let entries = normalized(5);
    let mut wire = Vec::new();
    encode::forward("f", &entries, 5, Some("c-f"), &mut wire);
    encode::packed_forward("p", &entries, 5, None, Compression::Text, &mut wire);
    encode::packed_forward(
        "z",
        &entries,
        5,
        Some("c-z\n"),
        Compression::Gzip,
        &mut wire,
    );
    encode::message(
        "m",
        EventTime::new(1_700_000_000, 9),
        &rec("i", 0),
        None,
        &mut wire,
    );
    let frames = decode(&wire);
    let modes: Vec<_> = frames
        .iter()
        .map(|f| match f {
            Frame::Events(e) => {
                assert_eq!(e.invalid, 0);
                e.mode
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        modes,
        vec![
            Mode::Forward,
            Mode::PackedForward,
            Mode::CompressedPackedForward,
            Mode::Message
        ]
    );
    for f in &frames[..3] {
        let Frame::Events(e) = f else { unreachable!() };
        // normalized entries survive byte for byte
        assert_eq!((e.count, &e.entries[..]), (5, &entries[..]));
    }
    let Frame::Events(last) = &frames[3] else {
        unreachable!()
    };
    assert_eq!(
        events(last),
        vec![(EventTime::new(1_700_000_000, 9), rec_value("i", 0))]
    );
    let acks: Vec<_> = frames
        .iter()
        .map(|f| match f {
            Frame::Events(e) => e.ack.clone(),
            _ => None,
        })
        .collect();
    let mut cf = Vec::new();
    write::str(&mut cf, "c-f");
    let mut cz = Vec::new();
    write::str(&mut cz, "c-z\n");
    assert_eq!(acks, vec![Some(cf), None, Some(cz), None]);
}

#[test]
fn packed_forward_wire_layout() {
    let entries = normalized(1);
    let mut wire = Vec::new();
    encode::packed_forward("t", &entries, 1, Some("id"), Compression::Text, &mut wire);
    let mut want = hex("93 A1 74 DB");
    want.extend((entries.len() as u32).to_be_bytes());
    want.extend(&entries);
    want.extend(hex("83 A4 73 69 7A 65 01 AA 63 6F 6D 70 72 65 73 73 65 64 A4 74 65 78 74 A5 63 68 75 6E 6B A2 69 64"));
    assert_eq!(wire, want);
}

#[test]
fn ack_round_trip() {
    let mut wire = Vec::new();
    encode::message(
        "m",
        EventTime::new(1, 0),
        &rec("a", 1),
        Some("QUJD\n"),
        &mut wire,
    );
    let mut d = Decoder::new(DecoderOptions::default());
    d.feed(&wire).unwrap();
    let Some(Frame::Events(f)) = d.next_frame(NOW).unwrap() else {
        panic!()
    };
    let mut reply = Vec::new();
    d.encode_ack(f.ack.as_deref().unwrap(), &mut reply);
    assert_eq!(encode::parse_ack(&reply), Some(b"QUJD\n".to_vec()));
    assert_eq!(encode::parse_ack(&hex("81 A3 61 63 6B C0")), None);
    assert_eq!(encode::parse_ack(&hex("80")), None);
    assert_eq!(encode::parse_ack(&hex("C1")), None);
}
