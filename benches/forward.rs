//! in_forward's decode of one connection's bytes, per forward mode: 1000 Docker-shaped records
//! (~300 bytes of msgpack each) sent as 1000 Message frames, one Forward frame, one PackedForward
//! frame and one CompressedPackedForward frame (gzip, default level), each with a `chunk` option.
//! Measures `Decoder::feed` + `next_frame` to normalized entries. Reported as events/s.
//! Run: `cargo bench -p logferry-plugins --bench forward`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use logferry_forward::encode::{self, Compression};
use logferry_forward::{Decoder, DecoderOptions, EventTime, Frame};
use logferry_msgpack::write;

const EVENTS: usize = 1000;

/// A Docker fluentd-log-driver record with a JSON application `log` line (~300 bytes).
fn docker_record(i: usize) -> Vec<u8> {
    let names = [
        "/delish-web-1",
        "/delish-api-2",
        "/delish-worker-3",
        "/delish-cron-4",
    ];
    let log = format!(
        "{{\"log_type\":\"EVENT\",\"event_type\":\"recipe_view\",\"time\":\"2024-03-05T10:20:{:02}Z\",\"recipe_id\":{},\"user\":\"u{}\",\"ms\":{},\"trace\":\"{:016x}\"}}",
        i % 60,
        1000 + i,
        i % 97,
        i % 250,
        // a trace id so the gzip ratio is nearer real logs' than identical lines'
        (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
    );
    let mut out = Vec::new();
    write::map_len(&mut out, 4);
    for (k, v) in [
        (
            "container_id",
            "4f1c2d3e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d",
        ),
        ("container_name", names[i % 4]),
        ("source", "stdout"),
        ("log", &log),
    ] {
        write::str(&mut out, k);
        write::str(&mut out, v);
    }
    out
}

fn wire() -> Vec<(&'static str, Vec<u8>)> {
    let t = EventTime::new(1_709_634_030, 0);
    let records: Vec<Vec<u8>> = (0..EVENTS).map(docker_record).collect();
    let mut entries = Vec::new();
    for r in &records {
        write::array_len(&mut entries, 2);
        t.encode(&mut entries);
        entries.extend_from_slice(r);
    }
    let mut message = Vec::new();
    for (i, r) in records.iter().enumerate() {
        encode::message("docker.web", t, r, Some(&format!("c{i}")), &mut message);
    }
    let mut forward = Vec::new();
    encode::forward("docker.web", &entries, EVENTS, Some("c1"), &mut forward);
    let mut packed = Vec::new();
    let (text, gzip) = (Compression::Text, Compression::Gzip);
    encode::packed_forward(
        "docker.web",
        &entries,
        EVENTS,
        Some("c1"),
        text,
        &mut packed,
    );
    let mut compressed = Vec::new();
    encode::packed_forward(
        "docker.web",
        &entries,
        EVENTS,
        Some("c1"),
        gzip,
        &mut compressed,
    );
    vec![
        ("message", message),
        ("forward", forward),
        ("packed_forward", packed),
        ("compressed_packed_forward", compressed),
    ]
}

/// Decode every frame of `bytes` on a new connection; returns the events.
fn decode(bytes: &[u8]) -> usize {
    let mut dec = Decoder::new(DecoderOptions::default());
    let now = EventTime::new(1_709_634_030, 0);
    let mut events = 0;
    let mut acks = Vec::new();
    // 64 KiB reads, as a socket would deliver them.
    for read in bytes.chunks(64 * 1024) {
        dec.feed(read).unwrap();
        while let Some(f) = dec.next_frame(now).unwrap() {
            if let Frame::Events(ev) = f {
                events += ev.count;
                if let Some(a) = &ev.ack {
                    dec.encode_ack(a, &mut acks);
                }
                black_box(&ev.entries);
            }
        }
    }
    events
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group(format!("forward_decode_{EVENTS}_events"));
    g.throughput(Throughput::Elements(EVENTS as u64));
    for (mode, bytes) in wire() {
        assert_eq!(decode(&bytes), EVENTS, "{mode}");
        g.bench_function(format!("{mode} ({} bytes)", bytes.len()), |b| {
            b.iter_batched(|| (), |()| decode(black_box(&bytes)), BatchSize::SmallInput)
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
