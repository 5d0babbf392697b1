//! Core hot paths on Docker-shaped records (~300 bytes of msgpack each):
//! - route lookup: `Emitter::emit` of a one-event batch through a router of 12 `<match>` rules
//!   and 2 `<filter>` rules, tag cached, and tags cycling past the route cache (pattern matching);
//! - msgpack → JSON line: `logferry_msgpack::write_json` (yajl's) and `write_json_oj` (Oj's) of one record plus `\n`;
//! - buffer append: `BufferedOutput::emit` (memory store, out_forward-style `[time, record]`
//!   format, no flush workers) of a 1000-event batch.
//! - file chunk read: an 8 MiB chunk file (in the page cache) read whole for a flush, into mapped
//!   pages as the file buffer does (`buffer::pages`), and into a heap `Vec` as it did before.
//!
//! Other hot paths have their own benches: rewrite_tag_filter and the parser filter
//! (`filters`), json/ltsv/apache2 parsers (`parsers`), NDJSON formatting and gzip at the default
//! level (`http`: `body_gzip`, `format_and_gzip_chunk`; `s3`: `gzip`), forward decode
//! (`forward`). Run: `cargo bench -p logferry-plugins --bench core`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use logferry_core::buffer::{
    BufferConfig, BufferDefaults, BufferedOutput, Chunk, ChunkWriter, WriteError,
};
use logferry_core::router::{Agent, Router, Rule, RuleKind, ROOT_LABEL};
use logferry_core::tag::MatchPattern;
use logferry_core::{
    BatchBuilder, EmitError, Emitter, ErrorEvents, EventBatch, EventTime, Filter, FilterOutput,
    Output, PluginLog, Section,
};
use logferry_msgpack::{write, write_json, write_json_oj};

const BATCH: usize = 1000;

fn docker_record(i: usize) -> Vec<u8> {
    let names = [
        "/delish-web-1",
        "/delish-api-2",
        "/delish-worker-3",
        "/delish-cron-4",
    ];
    let log = format!(
        "{{\"log_type\":\"EVENT\",\"event_type\":\"recipe_view\",\"time\":\"2024-03-05T10:20:{:02}Z\",\"recipe_id\":{},\"user\":\"u{}\",\"ms\":{},\"msg\":\"request served\"}}",
        i % 60,
        1000 + i,
        i % 97,
        i % 250
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

fn batch(n: usize) -> EventBatch {
    let mut b = BatchBuilder::new();
    for i in 0..n {
        b.push_raw(EventTime::new(1_709_634_030, i as u32), &docker_record(i));
    }
    b.finish()
}

struct Null;

#[async_trait]
impl Output for Null {
    async fn emit(&self, _tag: &str, batch: EventBatch) -> Result<(), EmitError> {
        black_box(batch.len());
        Ok(())
    }
}

struct Pass;

impl Filter for Pass {
    fn filter(&self, _tag: &str, batch: EventBatch, _e: &mut ErrorEvents) -> FilterOutput {
        FilterOutput::Keep(batch)
    }
}

/// 2 filters and 12 matches in the shape of a real config; `docker.**` is the 11th match.
fn router() -> Emitter {
    let m = |p: &str| Rule {
        pattern: MatchPattern::new(p).unwrap(),
        kind: RuleKind::Match(Arc::new(Null)),
        id: Arc::from(p),
        flow: Arc::default(),
    };
    let f = |p: &str| Rule {
        pattern: MatchPattern::new(p).unwrap(),
        kind: RuleKind::Filter(Arc::new(Pass)),
        id: Arc::from(p),
        flow: Arc::default(),
    };
    let rules = vec![
        f("docker.**"),
        m("fluent.**"),
        m("system.{auth,cron,kern}"),
        m("nginx.access"),
        m("nginx.error"),
        m("app.*.debug"),
        f("app.**"),
        m("app.**"),
        m("k8s.**"),
        m("/^aws\\.(ecs|ec2)\\./"),
        m("audit.*"),
        m("docker.**"),
        m("**"),
    ];
    let emitter = Emitter::unbound();
    emitter.install(Arc::new(Router::new(Agent::new(ROOT_LABEL, rules), vec![])));
    emitter
}

fn bench_route(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let emitter = router();
    let one = batch(1);
    let mut g = c.benchmark_group("route_lookup");
    g.throughput(Throughput::Elements(1));
    g.bench_function("cached_tag/1_event_batch", |b| {
        b.iter(|| {
            rt.block_on(emitter.emit("docker.delish.web", one.clone()))
                .unwrap()
        })
    });
    // 4096 distinct tags cycle past the 1024-entry route cache: every emit resolves the rules.
    let tags: Vec<String> = (0..4096).map(|i| format!("docker.c{i}.web")).collect();
    let mut i = 0;
    g.bench_function("uncached_tag/1_event_batch", |b| {
        b.iter(|| {
            i = (i + 1) % tags.len();
            rt.block_on(emitter.emit(&tags[i], one.clone())).unwrap()
        })
    });
    g.finish();
}

fn bench_json(c: &mut Criterion) {
    let records: Vec<Vec<u8>> = (0..BATCH).map(docker_record).collect();
    let bytes: usize = records.iter().map(Vec::len).sum();
    let mut g = c.benchmark_group("msgpack_to_json_line");
    g.throughput(Throughput::Elements(BATCH as u64));
    let mut out = Vec::with_capacity(bytes * 2);
    g.bench_function(format!("write_json_{}B_records", bytes / BATCH), |b| {
        b.iter(|| {
            out.clear();
            for r in &records {
                write_json(black_box(r), &mut out).unwrap();
                out.push(b'\n');
            }
            black_box(out.len())
        })
    });
    g.bench_function(format!("write_json_oj_{}B_records", bytes / BATCH), |b| {
        b.iter(|| {
            out.clear();
            for r in &records {
                write_json_oj(black_box(r), &mut out).unwrap();
                out.push(b'\n');
            }
            black_box(out.len())
        })
    });
    g.finish();
}

struct ForwardFormat;

#[async_trait]
impl ChunkWriter for ForwardFormat {
    fn format(&self, _tag: &str, time: EventTime, record: &[u8], out: &mut Vec<u8>) {
        out.push(0x92);
        time.encode(out);
        out.extend_from_slice(record);
    }
    async fn write(&self, _chunk: &Chunk) -> Result<(), WriteError> {
        Ok(())
    }
}

fn buffered(keys: &str) -> BufferedOutput {
    let text = format!(
        "<match **>\n@type forward\n<buffer {keys}>\n@type memory\nchunk_limit_size 8m\n</buffer>\n</match>\n"
    );
    let root = logferry_config::parse_str(&text, "bench.conf", Path::new(".")).unwrap();
    let s = Section::new(&root.elements[0], "forward");
    let cfg = BufferConfig::from_output(&s, &BufferDefaults::default()).unwrap();
    BufferedOutput::new(
        cfg,
        Arc::new(ForwardFormat),
        None,
        PluginLog::new("bench", None),
        PathBuf::from("/nonexistent"),
    )
}

fn bench_buffer(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let b = batch(BATCH);
    let mut g = c.benchmark_group("buffer_append");
    g.throughput(Throughput::Elements(BATCH as u64));
    for (name, keys) in [
        ("memory_no_chunk_keys", ""),
        ("memory_tag_chunk_key", "tag"),
    ] {
        let tag = "docker.delish";
        g.bench_function(name, |bn| {
            // No flush workers run: a fresh buffer every 200 emits (~60 MB) keeps it far from
            // total_limit_size; building and dropping it is not timed.
            bn.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let n = left.min(200);
                    let out = buffered(keys);
                    let t = Instant::now();
                    for _ in 0..n {
                        rt.block_on(out.emit(tag, b.clone())).unwrap();
                    }
                    total += t.elapsed();
                    drop(out);
                    left -= n;
                }
                total
            })
        });
    }
    g.finish();
}

fn bench_chunk_read(c: &mut Criterion) {
    use std::io::Read;
    const LEN: usize = 8 << 20;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chunk.log");
    std::fs::write(&path, vec![b'x'; LEN]).unwrap();
    let f = std::fs::File::open(&path).unwrap();
    let mut g = c.benchmark_group("file_chunk_read_8MiB");
    g.throughput(Throughput::Bytes(LEN as u64));
    g.bench_function("pages", |b| {
        b.iter(|| black_box(logferry_core::buffer::pages::read_exact_at_start(&f, LEN).unwrap()))
    });
    g.bench_function("heap_vec", |b| {
        b.iter(|| {
            let mut buf = Vec::with_capacity(LEN);
            std::fs::File::open(&path)
                .unwrap()
                .take(LEN as u64)
                .read_to_end(&mut buf)
                .unwrap();
            black_box(buf)
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    bench_route,
    bench_json,
    bench_buffer,
    bench_chunk_read
);
criterion_main!(benches);
