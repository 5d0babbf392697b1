//! Size limits, hostile length prefixes and fatal errors.
mod common;

use common::*;
use logferry_forward::encode::gzip;
use logferry_forward::{DecodeError, Decoder, DecoderOptions, Frame};
use logferry_msgpack::write;

#[test]
fn four_gib_str32_prefix_does_not_allocate() {
    let opts = DecoderOptions {
        max_object_size: 1 << 20,
        ..Default::default()
    };
    let mut d = Decoder::new(opts);
    // ["t", str32 of 4 GiB - 1 ...
    d.feed(&hex("93 A1 74 DB FF FF FF FF")).unwrap();
    assert_eq!(d.next_frame(NOW), Ok(None));
    let piece = vec![0u8; 64 * 1024];
    let mut fed = 8;
    let err = loop {
        match d.feed(&piece) {
            Ok(()) => {
                fed += piece.len();
                assert_eq!(d.next_frame(NOW), Ok(None));
                assert!(fed <= (1 << 20) + piece.len(), "never failed");
            }
            Err(e) => break e,
        }
    };
    assert_eq!(err, DecodeError::ObjectTooLarge);
    assert_eq!(err.to_string(), "object larger than max_object_size");
    assert!(d.buffered() <= (1 << 20) + piece.len());
    // the decoder stays failed
    assert_eq!(d.next_frame(NOW), Err(DecodeError::ObjectTooLarge));
}

#[test]
fn four_gib_prefix_with_default_limit_just_waits() {
    let mut d = Decoder::new(DecoderOptions::default());
    d.feed(&hex("93 A1 74 DB FF FF FF FF 92")).unwrap();
    assert_eq!(d.next_frame(NOW), Ok(None));
    assert_eq!(d.buffered(), 9);
    // array32 and map32 claims inside a blob are bounded the same way
    let mut d = Decoder::new(DecoderOptions::default());
    d.feed(&hex("92 A1 74 DD FF FF FF FF 92 01 80")).unwrap();
    assert_eq!(d.next_frame(NOW), Ok(None));
}

#[test]
fn complete_object_over_max_object_size_fails() {
    let opts = DecoderOptions {
        max_object_size: 16,
        ..Default::default()
    };
    let mut big = Vec::new();
    write::array_len(&mut big, 3);
    write::str(&mut big, "t");
    write::int(&mut big, 1);
    write::map_len(&mut big, 1);
    write::str(&mut big, "k");
    write::str(&mut big, &"v".repeat(40));
    let (frames, err) = decode_with(opts.clone(), &big);
    assert!(frames.is_empty());
    assert_eq!(err, Some(DecodeError::ObjectTooLarge));
    // many small objects in one read are fine
    let small = hex("93 A1 74 01 81 A1 61 01");
    let (frames, err) = decode_with(opts, &small.repeat(10));
    assert_eq!((frames.len(), err), (10, None));
}

#[test]
fn decompression_limit() {
    let plain = {
        let mut e = Vec::new();
        for _ in 0..100 {
            e.extend(hex("92 01"));
            write::map_len(&mut e, 1);
            write::str(&mut e, "k");
            write::str(&mut e, &"x".repeat(100));
        }
        e
    };
    let mut b = hex("93 A1 74");
    write::bin(&mut b, &gzip(&plain));
    write::map_len(&mut b, 1);
    write::str(&mut b, "compressed");
    write::str(&mut b, "gzip");
    let opts = DecoderOptions {
        decompression_size_limit: plain.len() - 1,
        ..Default::default()
    };
    let (_, err) = decode_with(opts, &b);
    assert_eq!(err, Some(DecodeError::DecompressedTooLarge));
    assert_eq!(err.unwrap().to_string(), "decompressed size over limit");
    let opts = DecoderOptions {
        decompression_size_limit: plain.len(),
        ..Default::default()
    };
    let (frames, err) = decode_with(opts, &b);
    assert_eq!(err, None);
    assert!(matches!(&frames[0], Frame::Events(e) if e.count == 100));
}

#[test]
fn bad_gzip_and_unknown_compression_close() {
    let mut b = hex("93 A1 74");
    write::bin(&mut b, b"not gzip at all");
    write::map_len(&mut b, 1);
    write::str(&mut b, "compressed");
    write::str(&mut b, "gzip");
    let (_, err) = decode_with(DecoderOptions::default(), &b);
    assert!(matches!(&err, Some(DecodeError::Gzip(_))), "{err:?}");
    assert!(err.unwrap().to_string().starts_with("gzip: "));
    let mut b = hex("93 A1 74");
    write::bin(&mut b, &hex("92 01 80"));
    write::map_len(&mut b, 1);
    write::str(&mut b, "compressed");
    write::str(&mut b, "zstd");
    let (_, err) = decode_with(DecoderOptions::default(), &b);
    assert_eq!(
        err,
        Some(DecodeError::UnsupportedCompression("\"zstd\"".into()))
    );
}

#[test]
fn unknown_ext_closes_even_inside_blobs() {
    // msgpack timestamp (-1) as a record value
    let (frames, err) = decode_with(
        DecoderOptions::default(),
        &hex("93 A1 74 01 81 A1 61 D6 FF 00 00 00 01"),
    );
    assert!(frames.is_empty());
    assert_eq!(err, Some(DecodeError::UnknownExt(-1)));
    assert_eq!(err.unwrap().to_string(), "unknown ext type -1");
    let mut b = hex("93 A1 74");
    write::bin(&mut b, &hex("92 01 81 A1 61 D4 05 00"));
    write::map_len(&mut b, 0);
    let (_, err) = decode_with(DecoderOptions::default(), &b);
    assert_eq!(err, Some(DecodeError::UnknownExt(5)));
}

#[test]
fn malformed_blob_closes_but_truncated_tail_is_ignored() {
    let mut b = hex("93 A1 74");
    write::bin(&mut b, &hex("92 01 81 A1 61 01 92 02 81"));
    write::map_len(&mut b, 0);
    let f = single_events(&b);
    assert_eq!((f.count, f.invalid), (1, 0));
    let mut b = hex("93 A1 74");
    write::bin(&mut b, &hex("92 01 81 A1 61 01 C1"));
    write::map_len(&mut b, 0);
    let (_, err) = decode_with(DecoderOptions::default(), &b);
    assert!(matches!(err, Some(DecodeError::Msgpack(_))));
}

#[test]
fn too_deep_closes() {
    let mut b = vec![0x91; 300];
    b.push(0xc0);
    let (_, err) = decode_with(DecoderOptions::default(), &b);
    assert_eq!(
        err,
        Some(DecodeError::Msgpack(logferry_msgpack::Error::TooDeep))
    );
}

#[test]
fn warn_limit_flag() {
    let opts = DecoderOptions {
        chunk_size_warn_limit: Some(6),
        ..Default::default()
    };
    let (frames, _) = decode_with(opts, &hex("93 A1 74 01 81 A1 61 01 93 A1 74 01 80"));
    assert!(matches!(&frames[0], Frame::Events(e) if e.over_warn_limit && e.wire_size == 8));
    assert!(matches!(&frames[1], Frame::Events(e) if !e.over_warn_limit && e.wire_size == 5));
}

#[test]
fn invalid_json_closes_and_json_is_size_capped() {
    let (_, err) = decode_with(DecoderOptions::default(), b"[\"t\", 1, {\"a\" 1}]");
    assert!(matches!(err, Some(DecodeError::Json(_))));
    let opts = DecoderOptions {
        max_object_size: 32,
        ..Default::default()
    };
    let mut d = Decoder::new(opts);
    d.feed(b"[\"t\",1,{\"a\":\"").unwrap();
    assert_eq!(d.next_frame(NOW), Ok(None));
    assert_eq!(d.feed(&[b'x'; 64]), Err(DecodeError::ObjectTooLarge));
}
