//! Feeding the same bytes split at every point yields the same frames.
mod common;

use common::*;
use logferry_forward::encode::{self, Compression};
use logferry_forward::{DecoderOptions, EventTime};
use logferry_msgpack::write;

fn stream() -> Vec<u8> {
    let mut entries = Vec::new();
    for i in 1..=3u32 {
        entries.push(0x92);
        EventTime::new(1_700_000_000 + i, i).encode(&mut entries);
        entries.extend(rec("n", i64::from(i)));
    }
    let mut b = Vec::new();
    encode::message(
        "m",
        EventTime::new(1_700_000_000, 1),
        &rec("a", 1),
        Some("c1"),
        &mut b,
    );
    b.push(0xc0);
    encode::forward("f", &entries, 3, None, &mut b);
    encode::packed_forward("p", &entries, 3, Some("c2"), Compression::Text, &mut b);
    encode::packed_forward("z", &entries, 3, None, Compression::Gzip, &mut b);
    write::map_len(&mut b, 0);
    // Fluent Bit style non-minimal map32 option with a chunk
    b.extend(hex(
        "93 A1 74 91 92 01 81 A1 61 01 DF 00 00 00 01 A5 63 68 75 6E 6B A2 69 64",
    ));
    b
}

#[test]
fn every_two_way_split_gives_the_same_frames() {
    let bytes = stream();
    let (whole, err) = decode_with(DecoderOptions::default(), &bytes);
    assert_eq!(err, None);
    assert_eq!(whole.len(), 7);
    for cut in 0..=bytes.len() {
        let (a, b) = bytes.split_at(cut);
        let (frames, err) = decode_chunks(DecoderOptions::default(), &[a, b]);
        assert_eq!(err, None, "cut {cut}");
        assert_eq!(frames, whole, "cut {cut}");
    }
}

#[test]
fn byte_by_byte_gives_the_same_frames() {
    let bytes = stream();
    let (whole, _) = decode_with(DecoderOptions::default(), &bytes);
    let chunks: Vec<&[u8]> = bytes.chunks(1).collect();
    let (frames, err) = decode_chunks(DecoderOptions::default(), &chunks);
    assert_eq!(err, None);
    assert_eq!(frames, whole);
    let chunks: Vec<&[u8]> = bytes.chunks(7).collect();
    assert_eq!(decode_chunks(DecoderOptions::default(), &chunks).0, whole);
}

#[test]
fn json_stream_split_everywhere() {
    let bytes =
        br#"["a",1700000000,{"k":"v"},{"chunk":"c"}] ["b",[[1700000001,{"n":1.5}],[0,{"x":null}]]]
["c",1,{"z":[1,2]}]"#;
    let (whole, err) = decode_with(DecoderOptions::default(), bytes);
    assert_eq!(err, None);
    assert_eq!(whole.len(), 3);
    for cut in 0..=bytes.len() {
        let (a, b) = bytes.split_at(cut);
        let (frames, err) = decode_chunks(DecoderOptions::default(), &[a, b]);
        assert_eq!(err, None, "cut {cut}");
        assert_eq!(frames, whole, "cut {cut}");
    }
}
