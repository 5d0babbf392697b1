//! out_http's CPU work per chunk on forward-shaped Docker records (~350 bytes of msgpack each):
//! formatting a chunk's records as NDJSON, building the request body (plain, json_array, gzip),
//! and the whole path (format + gzip) per chunk. The network is not measured.
//! Run: `cargo bench -p logferry-plugins --bench http`.

use std::path::Path;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use logferry_core::buffer::{BufferConfig, Chunk, ChunkId, ChunkMeta, ChunkWriter};
use logferry_core::{EventTime, PluginLog, Section, Value};
use logferry_plugins::out_http::{HttpWriter, DEFAULTS};

/// Records per chunk (a chunk of ~3.5 MB of NDJSON).
const RECORDS: usize = 10_000;

/// A Docker log driver record (~350 bytes of msgpack): container id and name, source, and a JSON
/// application log line.
fn docker_record(i: usize) -> Vec<u8> {
    let s = |x: &str| Value::Str(x.into());
    let names = [
        "/shop-web-1",
        "/shop-api-2",
        "/shop-worker-3",
        "/shop-cron-4",
    ];
    let log = format!(
        "{{\"level\":\"info\",\"time\":\"2024-03-05T10:20:{:02}.{:03}Z\",\"msg\":\"request completed\",\"method\":\"GET\",\"path\":\"/api/v1/items/{}\",\"status\":200,\"bytes\":{},\"ms\":{},\"user\":\"u{}\",\"trace\":\"{:032x}\"}}",
        i % 60,
        i % 1000,
        1000 + i,
        512 + i % 4096,
        i % 250,
        i % 97,
        i * 7919
    );
    let v = Value::Map(vec![
        (
            s("container_id"),
            s("4f1c2d3e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d"),
        ),
        (s("container_name"), s(names[i % 4])),
        (
            s("source"),
            s(if i.is_multiple_of(10) {
                "stderr"
            } else {
                "stdout"
            }),
        ),
        (s("log"), s(&log)),
    ]);
    let mut out = Vec::new();
    v.encode(&mut out);
    out
}

fn writer(params: &str) -> HttpWriter {
    let text =
        format!("<match **>\n@type http\nendpoint http://127.0.0.1:9880/in\n{params}\n</match>\n");
    let root = logferry_config::parse_str(&text, "bench.conf", Path::new(".")).unwrap();
    let s = Section::new(&root.elements[0], "http");
    let cfg = BufferConfig::from_output(&s, &DEFAULTS).unwrap();
    HttpWriter::new(&s, &cfg, PluginLog::new("http", None)).unwrap()
}

fn format_all(w: &HttpWriter, records: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(records.len() * 400);
    let t = EventTime::new(1_700_000_000, 0);
    for r in records {
        w.format("docker.web", t, r, &mut out);
    }
    out
}

fn chunk(data: Vec<u8>) -> Chunk {
    let meta = ChunkMeta {
        records: RECORDS as u64,
        ..Default::default()
    };
    Chunk::new(ChunkId([1; 16]), meta, Bytes::from(data), false)
}

fn bench(c: &mut Criterion) {
    let records: Vec<Vec<u8>> = (0..RECORDS).map(docker_record).collect();
    let msgpack_bytes: usize = records.iter().map(Vec::len).sum();
    let plain = writer("");
    let array = writer("json_array true");
    let gzip = writer("compress gzip");
    let ndjson = format_all(&plain, &records);
    eprintln!(
        "{RECORDS} records: {} bytes msgpack ({} per record), {} bytes NDJSON, {} bytes gzip",
        msgpack_bytes,
        msgpack_bytes / RECORDS,
        ndjson.len(),
        gzip.body(&chunk(ndjson.clone())).unwrap().len()
    );

    let mut g = c.benchmark_group("http");
    g.throughput(Throughput::Bytes(msgpack_bytes as u64));
    g.bench_function("format_ndjson_chunk", |b| {
        b.iter(|| format_all(&plain, &records))
    });
    g.throughput(Throughput::Bytes(ndjson.len() as u64));
    let plain_chunk = chunk(ndjson.clone());
    g.bench_function("body_plain", |b| {
        b.iter(|| plain.body(&plain_chunk).unwrap())
    });
    let array_chunk = chunk(format_all(&array, &records));
    g.bench_function("body_json_array", |b| {
        b.iter(|| array.body(&array_chunk).unwrap())
    });
    g.bench_function("body_gzip", |b| b.iter(|| gzip.body(&plain_chunk).unwrap()));
    g.throughput(Throughput::Bytes(msgpack_bytes as u64));
    g.bench_function("format_and_gzip_chunk", |b| {
        b.iter(|| gzip.body(&chunk(format_all(&gzip, &records))).unwrap())
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
