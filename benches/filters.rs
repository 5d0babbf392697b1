//! Filter and routing-output throughput on Docker-shaped records (~300 bytes of msgpack each):
//! rewrite_tag_filter (routing only, and through a router into a null output), grep,
//! record_transformer, parser (json on `log`, reserve_data, as the seed pipeline). Run: `cargo bench -p logferry-plugins --bench filters`.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use logferry_core::router::{Agent, Router, Rule, RuleKind, ROOT_LABEL};
use logferry_core::tag::MatchPattern;
use logferry_core::{
    BatchBuilder, EmitError, Emitter, ErrorEvents, EventBatch, EventTime, Filter, FilterOutput,
    Output, PluginLog, Section, Value,
};
use logferry_plugins::filter_grep::GrepFilter;
use logferry_plugins::filter_parser::ParserFilter;
use logferry_plugins::filter_record_transformer::RecordTransformer;
use logferry_plugins::out_rewrite_tag_filter::RewriteTagFilter;

const BATCH: usize = 1000;

/// A Docker log driver record (~300 bytes) of one of four containers; the `log` line is JSON
/// as the DELISH services print it.
fn docker_record(i: usize) -> Vec<u8> {
    let s = |x: &str| Value::Str(x.into());
    let names = [
        "/delish-web-1",
        "/delish-api-2",
        "/delish-worker-3",
        "/delish-cron-4",
    ];
    let types = ["recipe_view", "recipe_save", "user_signup", "search_query"];
    let log = format!(
        "{{\"log_type\":\"EVENT\",\"event_type\":\"{}\",\"time\":\"2024-03-05T10:20:{:02}Z\",\"recipe_id\":{},\"user\":\"u{}\",\"ms\":{}}}",
        types[i % 4],
        i % 60,
        1000 + i,
        i % 97,
        i % 250
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
        (s("log_type"), s("EVENT")),
        (s("event_type"), s(types[i % 4])),
    ]);
    let mut out = Vec::new();
    v.encode(&mut out);
    out
}

fn batch() -> EventBatch {
    let mut b = BatchBuilder::new();
    for i in 0..BATCH {
        b.push_raw(EventTime::new(1_709_634_030, i as u32), &docker_record(i));
    }
    b.finish()
}

fn config(plugin: &str, body: &str) -> logferry_config::Element {
    let kind = if plugin == "rewrite_tag_filter" {
        "match"
    } else {
        "filter"
    };
    let text = format!("<{kind} **>\n@type {plugin}\n{body}\n</{kind}>\n");
    let root = logferry_config::parse_str(&text, "bench.conf", Path::new(".")).unwrap();
    root.elements.into_iter().next().unwrap()
}

fn rewrite(body: &str, emitter: &Emitter) -> RewriteTagFilter {
    let el = config("rewrite_tag_filter", body);
    let s = Section::new(&el, "rewrite_tag_filter");
    RewriteTagFilter::new(&s, emitter, PluginLog::new("bench", None)).unwrap()
}

struct Null;

#[async_trait]
impl Output for Null {
    async fn emit(&self, _tag: &str, batch: EventBatch) -> Result<(), EmitError> {
        std::hint::black_box(batch.len());
        Ok(())
    }
}

const CONTAINER_RULE: &str =
    "<rule>\nkey container_name\npattern ^/([\\w-]+)-\\d+$\ntag app.$1.${tag}\n</rule>";
const DELISH_RULES: &str = "<rule>\nkey log_type\npattern NOTHING\ntag x\n</rule>\n<rule>\nkey event_type\npattern ^([\\w_]+)$\ntag ${tag}.$1\n</rule>";

fn bench_rewrite(c: &mut Criterion) {
    let b = batch();
    let avg = b.bytes().len() / b.len();
    let mut g = c.benchmark_group(format!("rewrite_tag_filter_{avg}B"));
    g.throughput(Throughput::Elements(BATCH as u64));

    let unbound = Emitter::unbound();
    let by_container = rewrite(CONTAINER_RULE, &unbound);
    g.bench_function("route/container_name_backtracking_regex", |bn| {
        bn.iter(|| {
            std::hint::black_box(by_container.route("docker.delish", &b, &mut Default::default()))
        })
    });
    let delish = rewrite(DELISH_RULES, &unbound);
    g.bench_function("route/delish_second_rule_fires", |bn| {
        bn.iter(|| std::hint::black_box(delish.route("delish.event", &b, &mut Default::default())))
    });
    let one_group = rewrite(
        "<rule>\nkey source\npattern ^std\ntag docker.all\n</rule>",
        &unbound,
    );
    g.bench_function("route/one_group_zero_copy", |bn| {
        bn.iter(|| {
            std::hint::black_box(one_group.route("docker.delish", &b, &mut Default::default()))
        })
    });

    // Through the router: the rewritten batches are routed to a null output.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for (name, rules, tag) in [
        ("emit_through_router/delish", DELISH_RULES, "delish.event"),
        (
            "emit_through_router/container_name",
            CONTAINER_RULE,
            "docker.delish",
        ),
    ] {
        let emitter = Emitter::unbound();
        let rtf: Arc<dyn Output> = Arc::new(rewrite(rules, &emitter));
        let router = Router::new(
            Agent::new(
                ROOT_LABEL,
                vec![
                    Rule {
                        pattern: MatchPattern::new(tag).unwrap(),
                        kind: RuleKind::Match(rtf),
                        id: Arc::from("rtf"),
                        flow: Arc::default(),
                    },
                    Rule {
                        pattern: MatchPattern::new("**").unwrap(),
                        kind: RuleKind::Match(Arc::new(Null)),
                        id: Arc::from("null"),
                        flow: Arc::default(),
                    },
                ],
            ),
            vec![],
        );
        emitter.install(Arc::new(router));
        g.bench_function(name, |bn| {
            bn.iter(|| rt.block_on(emitter.emit(tag, b.clone())).unwrap())
        });
    }
    g.finish();
}

fn bench_filters(c: &mut Criterion) {
    let b = batch();
    let mut g = c.benchmark_group("filters");
    g.throughput(Throughput::Elements(BATCH as u64));
    let log = PluginLog::new("bench", None);

    let el = config(
        "grep",
        "<regexp>\nkey container_name\npattern /delish/\n</regexp>\n<exclude>\nkey source\npattern ^stderr$\n</exclude>",
    );
    let grep = GrepFilter::new(&Section::new(&el, "grep"), &log).unwrap();
    g.bench_function("grep_drops_10pct", |bn| {
        bn.iter_batched(
            || b.clone(),
            |x| grep.filter("docker.delish", x, &mut ErrorEvents::default()),
            BatchSize::SmallInput,
        )
    });

    let el = config(
        "record_transformer",
        "<record>\nhost ${hostname}\napp ${tag_parts[1]}\nname ${record[\"container_name\"]}\n</record>",
    );
    let rt = RecordTransformer::new(&Section::new(&el, "record_transformer"), &log).unwrap();
    g.bench_function("record_transformer_3_fields", |bn| {
        bn.iter_batched(
            || b.clone(),
            |x| rt.filter("docker.delish", x, &mut ErrorEvents::default()),
            BatchSize::SmallInput,
        )
    });

    let el = config(
        "parser",
        "key_name log\nreserve_data true\n<parse>\n@type json\ntime_format %Y-%m-%dT%H:%M:%SZ\n</parse>",
    );
    let parser = ParserFilter::new(&Section::new(&el, "parser")).unwrap();
    let mut errors = ErrorEvents::default();
    match parser.filter("docker.delish", b.clone(), &mut errors) {
        FilterOutput::Keep(out) => assert_eq!(out.len(), BATCH, "parser keeps every event"),
        FilterOutput::Drop => panic!("parser dropped the batch"),
    }
    assert!(errors.is_empty(), "every `log` parses");
    g.bench_function("parser_json_log_reserve_data", |bn| {
        bn.iter_batched(
            || b.clone(),
            |x| parser.filter("docker.delish", x, &mut ErrorEvents::default()),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

/// A record shaped as fwdbench's (`../shared/bench/harness/src/records.rs`, ~300-byte entries):
/// container_id, container_name, source, and a `log` JSON line with level, msg, user_id, path,
/// latency_ms (a float), log_type (EVENT 60%, ACCESS 40%) and event_type.
fn fwdbench_record(i: usize) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "request", "served", "recipe", "user", "cache", "miss", "hit", "fetched", "from", "db",
        "timeout", "retrying", "upstream", "rendered", "template", "session", "token",
    ];
    const TYPES: &[&str] = &["recipe_view", "recipe_search", "user_login", "cart_add"];
    let mut x = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let msg_len = 20 + next(130) as usize;
    let mut msg = String::new();
    while msg.len() < msg_len {
        if !msg.is_empty() {
            msg.push(' ');
        }
        msg.push_str(WORDS[next(WORDS.len() as u64) as usize]);
    }
    let level = ["info", "info", "info", "warn", "error"][next(5) as usize];
    let log_type = if next(10) < 6 { "EVENT" } else { "ACCESS" };
    let log = format!(
        "{{\"level\":\"{level}\",\"msg\":\"{msg}\",\"user_id\":{},\"path\":\"/api/v1/recipes/{}\",\"latency_ms\":{}.{},\"log_type\":\"{log_type}\",\"event_type\":\"{}\"}}",
        next(1_000_000),
        next(100_000),
        next(250),
        next(10),
        TYPES[next(TYPES.len() as u64) as usize]
    );
    let s = |x: &str| Value::Str(x.into());
    let c = i % 8;
    let mut out = Vec::new();
    Value::Map(vec![
        (
            s("container_id"),
            s(&format!("{:064x}", c as u128 * 0x1234_5678_9abc_def1)),
        ),
        (s("container_name"), s(&format!("/web-{c}"))),
        (s("source"), s("stdout")),
        (s("log"), s(&log)),
    ])
    .encode(&mut out);
    out
}

/// This thread's CPU time.
fn thread_cpu() -> std::time::Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the call's duration.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    std::time::Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// The CPU time of `n` runs of `run` on inputs made by `setup` (made beforehand, not timed).
fn cpu_time<I>(n: u64, setup: impl Fn() -> I, run: impl Fn(I)) -> std::time::Duration {
    let inputs: Vec<I> = (0..n).map(|_| setup()).collect();
    let t0 = thread_cpu();
    for x in inputs {
        run(x);
    }
    thread_cpu() - t0
}

/// The seed pipeline's CPU path after in_forward: filter_parser (json on `log`, reserve_data,
/// reserve_time) then rewrite_tag_filter on `log_type` (`/^(\w+)$/` → `app.$1`), on batches of
/// 500 fwdbench-shaped records.
fn bench_seed_pipeline(c: &mut Criterion) {
    const N: usize = 500;
    let mut b = BatchBuilder::new();
    for i in 0..N {
        b.push_raw(EventTime::new(1_709_634_030, i as u32), &fwdbench_record(i));
    }
    let b = b.finish();
    let avg = b.bytes().len() / b.len();
    let mut g = c.benchmark_group(format!("seed_pipeline_{avg}B"));
    g.throughput(Throughput::Elements(N as u64));
    let el = config(
        "parser",
        "key_name log\nreserve_data true\nreserve_time true\n<parse>\n@type json\n</parse>",
    );
    let parser = ParserFilter::new(&Section::new(&el, "parser")).unwrap();
    let unbound = Emitter::unbound();
    let rtf = rewrite(
        "<rule>\nkey log_type\npattern /^(\\w+)$/\ntag app.$1\n</rule>",
        &unbound,
    );
    let parsed = match parser.filter("docker.web", b.clone(), &mut ErrorEvents::default()) {
        FilterOutput::Keep(out) => out,
        FilterOutput::Drop => panic!("parser dropped the batch"),
    };
    assert_eq!(parsed.len(), N, "parser keeps every event");
    let routed = rtf.route("docker.web", &parsed, &mut Default::default());
    assert_eq!(routed.iter().map(|r| r.batch.len()).sum::<usize>(), N);
    // Timed by the thread's CPU time, not the wall clock: on a shared machine the wall clock
    // counts the time other processes hold the core.
    let parse = |x| match parser.filter("docker.web", x, &mut ErrorEvents::default()) {
        FilterOutput::Keep(out) => out,
        FilterOutput::Drop => unreachable!("checked above"),
    };
    g.bench_function("filter_parser", |bn| {
        bn.iter_custom(|n| cpu_time(n, || b.clone(), |x| drop(parse(x))))
    });
    g.bench_function("rewrite_tag_filter_route", |bn| {
        bn.iter_custom(|n| {
            cpu_time(
                n,
                || (),
                |()| {
                    drop(std::hint::black_box(rtf.route(
                        "docker.web",
                        &parsed,
                        &mut Default::default(),
                    )))
                },
            )
        })
    });
    g.bench_function("parser_then_route", |bn| {
        bn.iter_custom(|n| {
            cpu_time(
                n,
                || b.clone(),
                |x| {
                    drop(std::hint::black_box(rtf.route(
                        "docker.web",
                        &parse(x),
                        &mut Default::default(),
                    )))
                },
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench_rewrite, bench_filters, bench_seed_pipeline);
criterion_main!(benches);
