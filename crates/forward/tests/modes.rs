//! What real peers send, plus `skip_invalid_event` semantics.
mod common;

use common::*;
use logferry_forward::encode::gzip;
use logferry_forward::{DecodeError, DecoderOptions, EventTime, Frame, Mode};
use logferry_msgpack::{write, Value};

fn lenient() -> DecoderOptions {
    DecoderOptions {
        skip_invalid_event: false,
        ..Default::default()
    }
}

fn only_events(frames: Vec<Frame>) -> logferry_forward::EventsFrame {
    match frames.into_iter().next() {
        Some(Frame::Events(e)) => e,
        other => panic!("{other:?}"),
    }
}

#[test]
fn docker_message_with_int32_time_and_empty_option() {
    let mut b = vec![0x94];
    write::str(&mut b, "abcdef012345");
    b.extend(hex("D2 65 53 F1 00"));
    write::map_len(&mut b, 4);
    for (k, v) in [
        ("container_id", "abcdef0123456789"),
        ("container_name", "/web"),
        ("source", "stdout"),
        ("log", "hi"),
    ] {
        write::str(&mut b, k);
        write::str(&mut b, v);
    }
    b.push(0x80);
    let f = single_events(&b);
    assert_eq!(
        (f.tag.as_str(), f.count, f.ack.clone()),
        ("abcdef012345", 1, None)
    );
    let (time, record) = events(&f).remove(0);
    assert_eq!(time, t(1_700_000_000));
    assert_eq!(
        record.get("container_name").and_then(Value::as_str),
        Some("/web")
    );
    // request-ack variant: 24-char base64 id echoed verbatim
    let mut b2 = b.clone();
    b2.pop();
    write::map_len(&mut b2, 1);
    write::str(&mut b2, "chunk");
    write::str(&mut b2, "ZVPxAAECAwQFBgcIZVPxAA==");
    let f = single_events(&b2);
    let mut want = Vec::new();
    write::str(&mut want, "ZVPxAAECAwQFBgcIZVPxAA==");
    assert_eq!(f.ack, Some(want));
}

#[test]
fn fluent_bit_gzip_with_bin_payload_bin_keys_and_int_times() {
    let mut plain = Vec::new();
    for i in 0..3 {
        write::array_len(&mut plain, 2);
        write::int(&mut plain, 1_700_000_000 + i);
        write::map_len(&mut plain, 1);
        write::bin(&mut plain, b"log"); // bin keys are accepted like str
        write::bin(&mut plain, b"line");
    }
    let mut b = vec![0x93];
    write::str(&mut b, "fb.tag");
    write::bin(&mut b, &gzip(&plain));
    // non-minimal map32 option with bin key, fluent_signal and a 32-hex chunk
    b.extend(hex("DF 00 00 00 03"));
    write::bin(&mut b, b"compressed");
    write::str(&mut b, "gzip");
    write::str(&mut b, "fluent_signal");
    write::int(&mut b, 0);
    write::str(&mut b, "chunk");
    write::str(&mut b, "0123456789abcdef0123456789abcdef");
    let f = single_events(&b);
    assert_eq!(f.mode, Mode::CompressedPackedForward);
    assert_eq!(f.count, 3);
    let ev = events(&f);
    assert_eq!(ev[2].0, t(1_700_000_002));
    assert_eq!(ev[0].1.get("log").and_then(Value::as_str), Some("line"));
    assert!(f.ack.is_some());
}

#[test]
fn empty_and_text_payloads() {
    let mut b = hex("93 A1 74");
    write::bin(&mut b, &[]);
    write::map_len(&mut b, 1);
    write::str(&mut b, "compressed");
    write::str(&mut b, "gzip");
    let f = single_events(&b);
    assert_eq!((f.count, f.mode), (0, Mode::CompressedPackedForward));
    // PackedForward with no option at all
    let mut b = hex("92 A1 74");
    write::str_bytes(&mut b, &hex("92 01 81 A1 61 01"));
    assert_eq!(single_events(&b).count, 1);
}

#[test]
fn message_mode_invalid_events_still_ack() {
    for bad in [
        hex("94 A1 74 01 A1 78 81 A5 63 68 75 6E 6B A1 78"), // record is a string
        hex("94 A1 74 01 C0 81 A5 63 68 75 6E 6B A1 78"),    // nil record
        hex("94 01 01 81 A1 61 01 81 A5 63 68 75 6E 6B A1 78"), // int tag
        hex("94 A1 74 CB 7F F8 00 00 00 00 00 00 81 A1 61 01 81 A5 63 68 75 6E 6B A1 78"), // NaN time
    ] {
        let f = single_events(&bad);
        assert_eq!(
            (f.mode, f.count, f.invalid),
            (Mode::Message, 0, 1),
            "{bad:02x?}"
        );
        assert_eq!(f.ack, Some(hex("A1 78")));
    }
    // A time before 1970 is kept, wrapped to 32 bits as Fluentd's EventTime wraps it.
    let f = single_events(&hex("94 A1 74 FF 81 A1 61 01 81 A5 63 68 75 6E 6B A1 78"));
    assert_eq!((f.mode, f.count, f.invalid), (Mode::Message, 1, 0));
    assert_eq!(f.ack, Some(hex("A1 78")));
    // short arrays are Message mode too, nothing to ack
    let f = single_events(&hex("91 A1 74"));
    assert_eq!(
        (f.mode, f.count, f.invalid, f.ack),
        (Mode::Message, 0, 1, None)
    );
    let f = single_events(&hex("90"));
    assert_eq!((f.count, f.invalid), (0, 1));
}

#[test]
fn forward_entry_shapes() {
    // entries: ok, not-an-array, 1-element, nil record, float time,
    // Fluent Bit meta with int time, ext8 time, empty meta array
    let mut b = hex("93 A1 74 98");
    b.extend(hex("92 05 80"));
    b.extend(hex("05"));
    b.extend(hex("91 05"));
    b.extend(hex("92 05 C0"));
    b.extend(hex("92 CB 3F F8 00 00 00 00 00 00 80"));
    b.extend(hex("92 92 06 80 81 A1 61 01"));
    b.extend(hex("92 C7 08 00 00 00 00 07 00 00 00 09 80"));
    b.extend(hex("92 90 80"));
    b.push(0x80);
    let f = single_events(&b);
    // The float time (1.5) is kept with its fraction, as Fluentd's default keeps it.
    assert_eq!((f.count, f.invalid), (4, 4));
    let ev = events(&f);
    assert_eq!(
        ev.iter().map(|e| e.0).collect::<Vec<_>>(),
        vec![
            t(5),
            EventTime::new(1, 500_000_000),
            t(6),
            EventTime::new(7, 9)
        ]
    );
}

#[test]
fn skip_invalid_event_false_normalizes_only() {
    // Forward: nil record dropped, time 0 → now, float time converted
    let mut b = hex("92 A1 74 94");
    b.extend(hex("92 00 81 A1 61 01"));
    b.extend(hex("92 05 C0"));
    b.extend(hex("92 CB 3F F8 00 00 00 00 00 00 80"));
    b.extend(hex("92 CB 41 D9 54 FC 40 20 00 00 80"));
    let (frames, err) = decode_with(lenient(), &b);
    assert_eq!(err, None);
    let f = only_events(frames);
    let times: Vec<_> = events(&f).iter().map(|e| e.0).collect();
    assert_eq!(
        times,
        vec![
            NOW,
            EventTime::new(1, 500_000_000),
            EventTime::new(1_700_000_000, 500_000_000)
        ]
    );
    // Message: nil record → dropped and NOT acked; string time → packed mode;
    // int time with record ok
    let (frames, _) = decode_with(lenient(), &hex("94 A1 74 01 C0 81 A5 63 68 75 6E 6B A1 78"));
    let f = only_events(frames);
    assert_eq!((f.count, f.ack), (0, None));
    let (frames, _) = decode_with(
        lenient(),
        &hex("94 A1 74 C0 81 A1 61 01 81 A5 63 68 75 6E 6B A1 78"),
    );
    let f = only_events(frames);
    assert_eq!(events(&f), vec![(NOW, rec_value("a", 1))]);
    assert!(f.ack.is_some());
    // a non-string tag cannot be routed: connection closed
    let (_, err) = decode_with(lenient(), &hex("93 01 01 81 A1 61 01"));
    assert_eq!(err, Some(DecodeError::InvalidTag));
}

#[test]
fn a_packed_forward_option_ruby_cannot_index_closes_the_connection() {
    // ["t", "", [1]], ["t", "", 5], ["t", "", true]: Fluentd's `option['size']` raises.
    for opt in ["91 01", "05", "C3"] {
        let (frames, err) = decode_with(lenient(), &hex(&format!("93 A1 74 A0 {opt}")));
        assert!(frames.is_empty(), "{opt}");
        assert_eq!(err, Some(DecodeError::InvalidOption), "{opt}");
    }
    // nil, a map and a string are read (String#[] is nil for "chunk"): no ack.
    for opt in ["C0", "80", "A1 78"] {
        let (frames, err) = decode_with(lenient(), &hex(&format!("93 A1 74 A0 {opt}")));
        assert_eq!(err, None, "{opt}");
        assert_eq!(only_events(frames).ack, None, "{opt}");
    }
}

#[test]
fn json_connection_shapes() {
    let bytes = br#"["j",[[1700000000,{"a":"b"}],[1700000000.5,{"a":1}],[[1700000001,{}],{"m":true}]],{"chunk":"q"}]
{"not":"an array"}
["k",0,{"n":-1}]"#;
    let (frames, err) = decode_with(DecoderOptions::default(), bytes);
    assert_eq!(err, None);
    let Frame::Events(f) = &frames[0] else {
        panic!()
    };
    // The float time keeps its fraction.
    assert_eq!((f.mode, f.count, f.invalid), (Mode::Forward, 3, 0));
    assert_eq!(f.ack.as_deref(), Some(&b"\"q\""[..]));
    assert_eq!(frames[1], Frame::NotArray);
    let Frame::Events(f) = &frames[2] else {
        panic!()
    };
    assert_eq!(events(f), vec![(NOW, rec_value("n", -1))]);
}

#[test]
fn heartbeat_between_frames() {
    let mut b = vec![0xc0];
    b.extend(hex("93 A1 74 01 80"));
    b.push(0xc0);
    let frames = decode(&b);
    assert_eq!(frames.len(), 3);
    assert_eq!(
        (&frames[0], &frames[2]),
        (&Frame::Heartbeat, &Frame::Heartbeat)
    );
}
