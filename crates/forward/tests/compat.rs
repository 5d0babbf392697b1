//! Reference §7.4 cases 29–47 at codec level (45 is UDP and 46 is in
//! `handshake.rs`).
mod common;

use common::*;
use logferry_forward::encode::gzip;
use logferry_forward::{DecodeError, Decoder, DecoderOptions, EventTime, Frame, Mode};
use logferry_msgpack::{write, Value};

#[test]
fn case29_message_uint32_time() {
    let f = single_events(&hex("93 A1 74 CE 65 53 F1 00 81 A1 61 01"));
    assert_eq!(f.tag, "t");
    assert_eq!(f.mode, Mode::Message);
    assert_eq!((f.count, f.invalid, f.ack.clone()), (1, 0, None));
    assert_eq!(events(&f), vec![(t(1_700_000_000), rec_value("a", 1))]);
    // the record bytes are kept verbatim after the canonical time
    assert_eq!(
        f.entries,
        hex("92 D7 00 65 53 F1 00 00 00 00 00 81 A1 61 01")
    );
    assert_eq!(f.wire_size, 12);
}

#[test]
fn case30_docker_int32_time() {
    let f = single_events(&hex("93 A1 74 D2 65 53 F1 00 81 A1 61 01"));
    assert_eq!(events(&f), vec![(t(1_700_000_000), rec_value("a", 1))]);
}

#[test]
fn case31_event_time_fixext8_and_ext8() {
    let f = single_events(&hex("93 A1 74 D7 00 65 53 F1 00 07 5B CD 15 81 A1 61 01"));
    assert_eq!(events(&f)[0].0, EventTime::new(1_700_000_000, 123_456_789));
    let f = single_events(&hex(
        "93 A1 74 C7 08 00 65 53 F1 00 00 00 00 00 81 A1 61 01",
    ));
    assert_eq!(events(&f)[0].0, t(1_700_000_000));
}

/// A float time is kept (Fluentd's default `skip_invalid_event false` keeps it; logferry keeps it
/// whatever that setting, see README "Differences from Fluentd").
#[test]
fn case32_float_time_kept() {
    let mut b = hex("93 A1 74");
    write::f64(&mut b, 1_700_000_000.0);
    b.extend(hex("81 A1 61 01"));
    let f = single_events(&b);
    assert_eq!((f.count, f.invalid, f.ack.is_none()), (1, 0, true));
    assert_eq!(events(&f)[0].0, t(1_700_000_000));
}

#[test]
fn case33_time_zero_is_now() {
    let f = single_events(&hex("93 A1 74 00 81 A1 61 01"));
    assert_eq!(events(&f), vec![(NOW, rec_value("a", 1))]);
    let f = single_events(&hex("93 A1 74 D7 00 00 00 00 00 00 00 00 05 81 A1 61 01"));
    assert_eq!(events(&f)[0].0, NOW);
}

#[test]
fn case34_forward_skips_invalid_entry() {
    // ["t",[[1,{"a":1}],[2,"x"],[3,{"b":2}]]]
    let f = single_events(&hex(
        "92 A1 74 93 92 01 81 A1 61 01 92 02 A1 78 92 03 81 A1 62 02",
    ));
    assert_eq!(f.mode, Mode::Forward);
    assert_eq!((f.count, f.invalid), (2, 1));
    assert_eq!(
        events(&f),
        vec![(t(1), rec_value("a", 1)), (t(3), rec_value("b", 2))]
    );
}

#[test]
fn case35_packed_bin_and_str32() {
    let blob = hex("92 01 81 A1 61 01 92 02 81 A1 62 02");
    let want = vec![(t(1), rec_value("a", 1)), (t(2), rec_value("b", 2))];
    let mut b = hex("93 A1 74");
    write::bin(&mut b, &blob);
    b.extend(hex("81 A4 73 69 7A 65 02"));
    let f = single_events(&b);
    assert_eq!(f.mode, Mode::PackedForward);
    assert_eq!(events(&f), want);
    let mut s = hex("93 A1 74 DB");
    s.extend((blob.len() as u32).to_be_bytes());
    s.extend(&blob);
    s.extend(hex("81 A4 73 69 7A 65 02"));
    assert_eq!(events(&single_events(&s)), want);
}

#[test]
fn case36_gzip_members_concatenated() {
    let mut payload = gzip(&hex("92 01 81 A1 61 01"));
    payload.extend(gzip(&hex("92 02 81 A1 62 02")));
    let mut b = hex("93 A1 74");
    write::bin(&mut b, &payload);
    write::map_len(&mut b, 1);
    write::str(&mut b, "compressed");
    write::str(&mut b, "gzip");
    let f = single_events(&b);
    assert_eq!(f.mode, Mode::CompressedPackedForward);
    assert_eq!(
        events(&f),
        vec![(t(1), rec_value("a", 1)), (t(2), rec_value("b", 2))]
    );
}

#[test]
fn case37_compressed_text_is_plain() {
    let mut b = hex("93 A1 74");
    write::str_bytes(&mut b, &hex("92 01 81 A1 61 01"));
    write::map_len(&mut b, 1);
    write::str(&mut b, "compressed");
    write::str(&mut b, "text");
    let f = single_events(&b);
    assert_eq!(f.mode, Mode::PackedForward);
    assert_eq!(events(&f), vec![(t(1), rec_value("a", 1))]);
}

#[test]
fn case38_ack_reply_bytes() {
    let mut b = hex("93 A1 74");
    write::str_bytes(&mut b, &hex("92 01 81 A1 61 01"));
    write::map_len(&mut b, 1);
    write::str(&mut b, "chunk");
    write::str(&mut b, "QUJD\n");
    let f = single_events(&b);
    let d = Decoder::new(DecoderOptions::default());
    let mut reply = Vec::new();
    // a fresh decoder has not sniffed yet and defaults to msgpack replies
    d.encode_ack(f.ack.as_deref().unwrap(), &mut reply);
    assert_eq!(reply, hex("81 A3 61 63 6B A5 51 55 4A 44 0A"));
}

#[test]
fn case39_float_time_kept_and_acked_but_str_time_is_packed() {
    let mut b = hex("94 A1 74");
    write::f64(&mut b, 1_700_000_000.5);
    b.extend(hex("81 A1 61 01 81 A5 63 68 75 6E 6B A1 78"));
    let f = single_events(&b);
    assert_eq!((f.count, f.invalid), (1, 0));
    assert_eq!(events(&f)[0].0, EventTime::new(1_700_000_000, 500_000_000));
    assert_eq!(f.ack, Some(hex("A1 78")));
    // ["t","bad",{"a":1},{"chunk":"x"}]
    let f = single_events(&hex(
        "94 A1 74 A3 62 61 64 81 A1 61 01 81 A5 63 68 75 6E 6B A1 78",
    ));
    assert_eq!(f.mode, Mode::PackedForward);
    assert_eq!((f.count, f.ack), (0, None));
}

#[test]
fn case40_json_connection() {
    let mut d = Decoder::new(DecoderOptions::default());
    assert_eq!(d.is_json(), None);
    d.feed(br#"["t",1700000000,{"a":1},{"chunk":"c1"}]"#)
        .unwrap();
    assert_eq!(d.is_json(), Some(true));
    let Some(Frame::Events(f)) = d.next_frame(NOW).unwrap() else {
        panic!("no events")
    };
    assert_eq!(events(&f), vec![(t(1_700_000_000), rec_value("a", 1))]);
    assert_eq!(f.ack.as_deref(), Some(&b"\"c1\""[..]));
    let mut reply = Vec::new();
    d.encode_ack(f.ack.as_deref().unwrap(), &mut reply);
    assert_eq!(reply, br#"{"ack":"c1"}"#);
    assert_eq!(d.next_frame(NOW).unwrap(), None);
}

#[test]
fn case41_top_level_map_ignored() {
    let mut b = hex("81 A1 61 01");
    b.extend(hex("93 A1 74 01 81 A1 61 01"));
    let frames = decode(&b);
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0], Frame::NotArray);
    assert!(matches!(&frames[1], Frame::Events(e) if e.count == 1));
}

#[test]
fn case42_nil_heartbeat_and_c1_closes() {
    assert_eq!(decode(&[0xc0]), vec![Frame::Heartbeat]);
    let mut b = hex("93 A1 74 01 81 A1 61 01");
    b.push(0xc1);
    b.extend(hex("93 A1 74 01 81 A1 61 01"));
    let (frames, err) = decode_with(DecoderOptions::default(), &b);
    assert_eq!(frames.len(), 1);
    let err = err.unwrap();
    assert_eq!(err.to_string(), "invalid msgpack byte 0xc1");
    assert!(matches!(err, DecodeError::Msgpack(_)));
}

#[test]
fn case43_chunk_size_limit_drops_without_ack() {
    let opts = DecoderOptions {
        chunk_size_limit: Some(1024),
        ..Default::default()
    };
    let mut entries = Vec::new();
    for i in 0..100 {
        entries.push(0x92);
        EventTime::new(1_700_000_000 + i, 0).encode(&mut entries);
        write::map_len(&mut entries, 1);
        write::str(&mut entries, "k");
        write::str(&mut entries, "0123456789");
    }
    let mut b = Vec::new();
    logferry_forward::encode::packed_forward(
        "t",
        &entries,
        100,
        Some("id"),
        logferry_forward::encode::Compression::Text,
        &mut b,
    );
    assert!(b.len() > 2048);
    let size = b.len();
    b.extend(hex("93 A1 74 01 81 A1 61 01"));
    let (frames, err) = decode_with(opts, &b);
    assert_eq!(err, None);
    assert_eq!(frames[0], Frame::TooLarge { size });
    assert!(matches!(&frames[1], Frame::Events(e) if e.count == 1));
}

#[test]
fn case44_records_stay_maps_for_injection() {
    // source_address_key / add_tag_prefix are applied by in_forward on the
    // decoded frame: the codec hands over the raw tag and verbatim map records.
    let f = single_events(&hex("93 A1 74 01 81 A1 61 01"));
    assert_eq!(format!("p.{}", f.tag), "p.t");
    let (_, mut record) = events(&f).remove(0);
    if let Value::Map(pairs) = &mut record {
        pairs.push((Value::Str("ip".into()), Value::Str("10.0.0.1".into())));
    }
    assert_eq!(record.get("ip").and_then(Value::as_str), Some("10.0.0.1"));
}

#[test]
fn case47_fluent_bit_v2_metadata_entry() {
    // ["t", [[[EventTime(1700000000,5), {}], {"log":"x"}]]]
    let f = single_events(&hex(
        "92 A1 74 91 92 92 D7 00 65 53 F1 00 00 00 00 05 80 81 A3 6C 6F 67 A1 78",
    ));
    let ev = events(&f);
    assert_eq!(ev[0].0, EventTime::new(1_700_000_000, 5));
    assert_eq!(
        ev[0].1,
        Value::Map(vec![(Value::Str("log".into()), Value::Str("x".into()))])
    );
}
