//! `logferry-load`: drive a built logferry router with pre-encoded forward traffic and count what
//! comes out. See `benches/load/README.md`.

mod aws;
mod gen;
mod proc;
mod sink;
mod soak;
mod tap;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "logferry-load",
    about = "Load tool and counting sinks for logferry"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run one case against a router started with a generated config.
    Run {
        #[arg(long, value_enum)]
        case: Case,
        #[command(flatten)]
        opts: Opts,
    },
    /// Run the four cases and print a table.
    Matrix {
        #[command(flatten)]
        opts: Opts,
    },
    /// Run the four AWS output cases (against moto_server) and print a table.
    AwsMatrix {
        #[command(flatten)]
        opts: Opts,
    },
    /// A counting HTTP sink (NDJSON or JSON array, gzip or plain); prints counts every second.
    SinkHttp {
        #[arg(long, default_value = "127.0.0.1:9880")]
        listen: String,
        /// Append the `seq` of every event (u64 little-endian) to this file before answering;
        /// an event without a `seq` fails its request.
        #[arg(long)]
        ids: Option<PathBuf>,
    },
    /// Print the seed case's config with a file buffer (the soak test's router config).
    SoakConfig {
        #[arg(long)]
        forward_port: u16,
        #[arg(long)]
        sink_port: u16,
        /// The file buffer's directory.
        #[arg(long)]
        buffer_path: PathBuf,
    },
    /// Acknowledged load with a unique `seq` in every event, through router restarts
    /// (reconnects, resends what is unacknowledged); writes a JSON report of what was acked.
    SoakSend {
        #[arg(long)]
        port: u16,
        #[arg(long, default_value = "docker.delish")]
        tag: String,
        #[arg(long, default_value_t = 4)]
        conns: u64,
        /// Events/s over all connections.
        #[arg(long, default_value_t = 20000.0)]
        rate: f64,
        #[arg(long, default_value_t = 500)]
        batch: usize,
        #[arg(long, default_value_t = 300)]
        record_size: usize,
        /// Chunks in flight per connection.
        #[arg(long, default_value_t = 4)]
        ack_window: usize,
        /// Seconds to send for.
        #[arg(long)]
        duration: f64,
        /// Seconds to wait for the last acks after that.
        #[arg(long, default_value_t = 120.0)]
        drain_timeout: f64,
        #[arg(long)]
        report: PathBuf,
    },
    /// Account a soak-send report against sink-http --ids files: in, out (distinct), duplicates,
    /// loss; exit 1 on loss.
    SoakReport {
        #[arg(long)]
        acked: PathBuf,
        /// Seq files (missing ones are skipped).
        #[arg(long, required = true)]
        ids: Vec<PathBuf>,
        /// One line: `acked=N distinct=N duplicates=N lost=N`.
        #[arg(long)]
        brief: bool,
    },
    /// A counting forward sink (every mode, acks); prints counts every second.
    SinkForward {
        #[arg(long, default_value = "127.0.0.1:24225")]
        listen: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Case {
    /// forward → out_forward (pass-through).
    ForwardForward,
    /// forward → out_http NDJSON.
    ForwardHttp,
    /// forward → parser(json on `log`, reserve_data) → rewrite_tag_filter(log_type) → out_http.
    Seed,
    /// tail (a file of JSON lines written before the start, `read_from_head`, json parser) →
    /// out_http NDJSON: lines per router CPU-second.
    Tail,
    /// syslog over TCP (RFC 3164, newline framing) → out_http NDJSON.
    SyslogTcp,
    /// forward → cloudwatch_logs, against moto_server.
    Cloudwatch,
    /// forward → kinesis_firehose (into moto's S3), against moto_server.
    Firehose,
    /// forward → kinesis_streams, against moto_server.
    KinesisStreams,
    /// forward → s3 (`store_as gzip`), against moto_server's S3.
    S3Gzip,
}

impl Case {
    fn name(self) -> &'static str {
        match self {
            Case::ForwardForward => "forward→forward",
            Case::ForwardHttp => "forward→http ndjson",
            Case::Seed => "seed: parser→rewrite_tag→http",
            Case::Tail => "tail json→http ndjson",
            Case::SyslogTcp => "syslog tcp→http ndjson",
            Case::Cloudwatch => "forward→cloudwatch_logs (moto)",
            Case::Firehose => "forward→kinesis_firehose (moto)",
            Case::KinesisStreams => "forward→kinesis_streams (moto)",
            Case::S3Gzip => "forward→s3 gzip (moto)",
        }
    }

    fn aws(self) -> Option<&'static str> {
        match self {
            Case::Cloudwatch => Some("cloudwatch"),
            Case::Firehose => Some("firehose"),
            Case::KinesisStreams => Some("streams"),
            Case::S3Gzip => Some("s3"),
            _ => None,
        }
    }
}

#[derive(Args, Clone, Debug)]
struct Opts {
    /// The router binary (default: target/release/logferry, target/debug/logferry with --smoke).
    #[arg(long = "bin")]
    bin: Option<PathBuf>,
    /// Events to send per case (rounded up to whole batches and spread over the connections).
    #[arg(long)]
    events: Option<u64>,
    /// Stop sending after this many seconds even if --events is not reached.
    #[arg(long)]
    duration: Option<f64>,
    /// Records per PackedForward chunk.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Approximate msgpack size of one record in bytes (minimum ~260).
    #[arg(long, default_value_t = 350)]
    record_size: usize,
    /// Runs per case; the table shows the median run (by events per router CPU-second) and the
    /// highest peak RSS of all runs. Default 3 (1 with --smoke).
    #[arg(long)]
    repeat: Option<usize>,
    /// Sending connections.
    #[arg(long, default_value_t = 4)]
    conns: u64,
    /// Ask for acks with this many chunks in flight per connection (0: no acks).
    #[arg(long, default_value_t = 0)]
    ack_window: usize,
    /// Cap on events/s over all connections.
    #[arg(long)]
    rate: Option<f64>,
    /// Send CompressedPackedForward (gzip) instead of PackedForward.
    #[arg(long)]
    gzip_in: bool,
    /// out_http `compress gzip` / out_forward `compress gzip`.
    #[arg(long)]
    gzip_out: bool,
    /// out_forward `require_ack_response true` (forward→forward case).
    #[arg(long)]
    router_ack: bool,
    /// Pin the router to these CPUs (e.g. `0`, `0-1`).
    #[arg(long)]
    router_cpus: Option<String>,
    /// Pin this tool (senders and sinks) to these CPUs.
    #[arg(long)]
    load_cpus: Option<String>,
    /// Give up waiting for the sink after this many seconds without progress.
    #[arg(long, default_value_t = 10.0)]
    idle_timeout: f64,
    /// CI smoke test: debug router, 20000 events per case, batch 100, 2 connections with acks
    /// (and out_forward acks); fails on loss or errors only, never on speed.
    #[arg(long)]
    smoke: bool,
    /// Keep the working directory (configs, router log).
    #[arg(long)]
    keep: bool,
    /// Tap the router for the whole run, as `logferry tap --tag '**'` would (a monitor_agent
    /// source is added; the tap reads every event entering the output, rate-limited to
    /// `--tap-rate` lines a second): what tapping costs, against the same run without it.
    #[arg(long)]
    tap: bool,
    /// The tap's rate limit, lines a second (0: every event).
    #[arg(long, default_value_t = 100.0)]
    tap_rate: f64,
}

impl Opts {
    fn resolve(mut self) -> Opts {
        if self.smoke {
            self.events.get_or_insert(20_000);
            self.router_ack = true;
            self.batch = 100;
            self.conns = 2;
            if self.ack_window == 0 {
                self.ack_window = 4;
            }
            self.duration.get_or_insert(10.0);
            self.repeat.get_or_insert(1);
        }
        self.repeat.get_or_insert(3);
        self.events.get_or_insert(2_000_000);
        if self.bin.is_none() {
            let profile = if self.smoke { "debug" } else { "release" };
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            self.bin = Some(root.join("target").join(profile).join("logferry"));
        }
        self
    }
}

struct Outcome {
    case: Case,
    sent: u64,
    received: u64,
    secs: f64,
    cpu: f64,
    hwm_kib: u64,
    errors: Vec<String>,
}

impl Outcome {
    fn loss(&self) -> i64 {
        self.sent as i64 - self.received as i64
    }
    fn eps(&self) -> f64 {
        self.received as f64 / self.secs.max(1e-9)
    }
    fn per_cpu(&self) -> f64 {
        self.received as f64 / self.cpu.max(1e-9)
    }
}

/// The load cases' buffer: Fluentd's defaults (memory, 8 MiB chunks, 512 MiB total, one flush
/// thread, throw_exception), with only the flush interval shortened so the tail is not held for
/// 60 s (the tool also sends SIGUSR1 once the senders are done).
const MEMORY_BUFFER: &str = "  <buffer>
    @type memory
    flush_interval 1s
  </buffer>";

/// The soak test's buffer: the load cases' settings on a file buffer, retries capped at 5 s so an
/// output outage is caught up soon after it ends.
fn file_buffer(path: &Path) -> String {
    format!(
        "  <buffer>
    @type file
    path {}
    flush_mode interval
    flush_interval 1s
    flush_thread_count 2
    chunk_limit_size 8m
    total_limit_size 4g
    overflow_action block
    retry_max_interval 5s
  </buffer>",
        path.display()
    )
}

/// The tail case: the file `{dir}/tail.log` read from its head through the json parser into
/// out_http; the forward source is there only so the tool sees the router is up.
fn tail_config(o: &Opts, dir: &Path, fwd_port: u16, sink_port: u16) -> String {
    let gzip = if o.gzip_out { "  compress gzip\n" } else { "" };
    format!(
        "<source>\n  @type forward\n  bind 127.0.0.1\n  port {fwd_port}\n</source>
<source>
  @type tail
  path {d}/tail.log
  pos_file {d}/tail.pos
  tag tail.app
  read_from_head true
  <parse>
    @type json
  </parse>
</source>
<match tail.**>\n  @type http\n  endpoint http://127.0.0.1:{sink_port}/ingest\n{gzip}{MEMORY_BUFFER}\n</match>\n",
        d = dir.display()
    )
}

/// Write `n` Docker-shaped JSON lines of about `size` bytes to `path`.
fn write_tail_file(path: &Path, n: u64, size: usize) -> Result<(), String> {
    use std::io::Write;
    let f = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut w = std::io::BufWriter::new(f);
    let head =
        r#"{"container_id":"4f1c0a9e2b7d","container_name":"/ecs-app-1","source":"stdout","log":""#;
    for i in 0..n {
        let tail = format!(r#"","seq":{i}}}"#);
        let pad = size.saturating_sub(head.len() + tail.len() + 1).max(1);
        let mut line = String::with_capacity(size);
        line.push_str(head);
        for k in 0..pad {
            line.push((b'a' + (k % 26) as u8) as char);
        }
        line.push_str(&tail);
        line.push('\n');
        w.write_all(line.as_bytes()).map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| e.to_string())
}

fn config(case: Case, o: &Opts, fwd_port: u16, sink_port: u16) -> String {
    config_with(
        case,
        o.gzip_out,
        o.router_ack,
        fwd_port,
        sink_port,
        MEMORY_BUFFER,
    )
}

fn config_with(
    case: Case,
    gzip_out: bool,
    router_ack: bool,
    fwd_port: u16,
    sink_port: u16,
    buffer: &str,
) -> String {
    let source =
        format!("<source>\n  @type forward\n  bind 127.0.0.1\n  port {fwd_port}\n</source>\n");
    let gzip = if gzip_out { "  compress gzip\n" } else { "" };
    let http = |pattern: &str| {
        format!(
            "<match {pattern}>\n  @type http\n  endpoint http://127.0.0.1:{sink_port}/ingest\n{gzip}{buffer}\n</match>\n"
        )
    };
    if let Some(aws) = case.aws() {
        let endpoint = format!("http://127.0.0.1:{sink_port}");
        return format!("{source}{}", aws::output(aws, &endpoint, buffer).0);
    }
    match case {
        Case::ForwardForward => format!(
            "{source}<match **>\n  @type forward\n  heartbeat_type none\n{gzip}{ack}  <server>\n    host 127.0.0.1\n    port {sink_port}\n  </server>\n{buffer}\n</match>\n",
            ack = if router_ack {
                "  require_ack_response true\n"
            } else {
                ""
            }
        ),
        Case::ForwardHttp
        | Case::Tail
        | Case::Cloudwatch
        | Case::Firehose
        | Case::KinesisStreams
        | Case::S3Gzip => {
            format!("{source}{}", http("**"))
        }
        Case::SyslogTcp => format!(
            "<source>\n  @type syslog\n  tag syslog\n  bind 127.0.0.1\n  port {fwd_port}\n  <transport tcp>\n  </transport>\n</source>\n{}",
            http("syslog.**")
        ),
        Case::Seed => format!(
            "{source}<filter docker.**>
  @type parser
  key_name log
  reserve_data true
  <parse>
    @type json
    time_format %Y-%m-%dT%H:%M:%SZ
  </parse>
</filter>
<match docker.**>
  @type rewrite_tag_filter
  <rule>
    key log_type
    pattern ^(\\w+)$
    tag app.$1
  </rule>
</match>
{}",
            http("app.**")
        ),
    }
}

fn run_case(case: Case, o: &Opts) -> Result<Outcome, String> {
    let bin = o.bin.clone().unwrap_or_default();
    if !bin.exists() {
        return Err(format!(
            "{} not found: build it first (cargo build --release -p logferry) or pass --bin",
            bin.display()
        ));
    }
    let dir = std::env::temp_dir().join(format!("logferry-load-{}-{case:?}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let counter = Arc::new(sink::Counter::default());
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let sink_port = l.local_addr().map_err(|e| e.to_string())?.port();
    let mut moto = None;
    match case.aws() {
        Some(aws) => {
            drop(l);
            let m = aws::Moto::start(sink_port)?;
            let (_, setup, count) = aws::output(aws, &m.endpoint, "");
            aws::ops(&m.endpoint, &setup)?;
            m.count_into(count, counter.clone());
            moto = Some(m);
        }
        None if case == Case::ForwardForward => sink::forward(l, counter.clone()),
        None => sink::http(l, counter.clone()),
    }
    let fwd_port = proc::free_port().map_err(|e| e.to_string())?;
    let mut conf = if case == Case::Tail {
        write_tail_file(&dir.join("tail.log"), o.events.unwrap_or(0), o.record_size)?;
        tail_config(o, &dir, fwd_port, sink_port)
    } else {
        config(case, o, fwd_port, sink_port)
    };
    let mon_port = proc::free_port().map_err(|e| e.to_string())?;
    if o.tap {
        conf.push_str(&format!(
            "<source>\n  @type monitor_agent\n  bind 127.0.0.1\n  port {mon_port}\n</source>\n"
        ));
    }
    let cpus = o.router_cpus.as_deref().map(proc::parse_cpus).transpose()?;
    let mut router = proc::Router::start(&bin, &dir, &conf, fwd_port, cpus.as_deref())?;
    let pid = router.pid();
    let tap = if o.tap {
        Some(tap::attach(mon_port, o.tap_rate)?)
    } else {
        None
    };

    let frames = Arc::new(match case {
        Case::SyslogTcp => gen::syslog_frames(o.batch, o.record_size),
        _ => gen::Frames::new(
            "docker.delish",
            o.batch,
            o.record_size,
            o.ack_window > 0,
            o.gzip_in,
        ),
    });
    let batch = o.batch.max(1) as u64;
    let total_chunks = o.events.unwrap_or(0).div_ceil(batch);
    let stats = Arc::new(gen::SendStats::default());
    let cpu0 = proc::cpu_seconds(pid).unwrap_or(0.0);
    let t0 = Instant::now();
    let deadline = o.duration.map(|d| t0 + Duration::from_secs_f64(d));
    // The tail case has no senders: its events are the file's lines.
    let conns = if case == Case::Tail {
        0
    } else {
        o.conns.max(1)
    };
    let handles: Vec<_> = (0..conns)
        .map(|c| {
            let job = gen::Job {
                addr: ("127.0.0.1".into(), fwd_port),
                chunks: total_chunks / conns + u64::from(c < total_chunks % conns),
                ack_window: if case == Case::SyslogTcp {
                    0
                } else {
                    o.ack_window
                },
                rate: o.rate.map(|r| r / conns as f64),
                deadline,
                conn: c,
            };
            let (f, s) = (frames.clone(), stats.clone());
            std::thread::spawn(move || gen::send(job, f, s))
        })
        .collect();
    let mut errors: Vec<String> = handles
        .into_iter()
        .filter_map(|h| {
            h.join()
                .unwrap_or_else(|_| Err("sender panicked".into()))
                .err()
        })
        .collect();
    let sent = if case == Case::Tail {
        o.events.unwrap_or(0)
    } else {
        stats.written.load(Relaxed)
    };
    let send_secs = t0.elapsed().as_secs_f64();
    // Flush the router's buffers now and every 100 ms (events still being read would otherwise
    // wait for the next flush_interval), until the sink has seen everything (or stalls).
    let mut last = (counter.events(), Instant::now());
    let mut t_done = Instant::now();
    let mut flushed = Instant::now() - Duration::from_secs(1);
    loop {
        if flushed.elapsed() >= Duration::from_millis(100) {
            router.signal(libc::SIGUSR1);
            flushed = Instant::now();
        }
        let n = counter.events();
        if n >= sent {
            t_done = Instant::now();
            break;
        }
        if n != last.0 {
            last = (n, Instant::now());
            t_done = last.1;
        } else if last.1.elapsed().as_secs_f64() > o.idle_timeout {
            break;
        }
        if let Ok(Some(st)) = router.child.try_wait() {
            errors.push(format!("router exited during the run ({st})"));
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let secs = (t_done - t0).as_secs_f64();
    let cpu = proc::cpu_seconds(pid).unwrap_or(0.0) - cpu0;
    let hwm_kib = proc::vm_hwm_kib(pid).unwrap_or(0);
    if !router.stop(30) {
        errors.push("router did not exit 0 on SIGTERM".into());
    }
    if let Some(t) = tap {
        // The stream ends with the router.
        match t.join() {
            Ok(lines) => eprintln!("[{}] the tap read {lines} lines", case.name()),
            Err(_) => errors.push("tap reader panicked".into()),
        }
    }
    // Anything flushed at shutdown still counts as delivered.
    std::thread::sleep(Duration::from_millis(200));
    let received = counter.events();
    if counter.errors() > 0 {
        errors.push(format!("sink errors: {}", counter.summary()));
    }
    let acked = stats.delivered.load(Relaxed);
    if o.ack_window > 0 && case != Case::Tail && case != Case::SyslogTcp && acked != sent {
        errors.push(format!("{} of {sent} events acknowledged", acked));
    }
    if stats.errors.load(Relaxed) > 0 {
        errors.push(format!("{} unexpected acks", stats.errors.load(Relaxed)));
    }
    let problems = router.problems();
    if !problems.is_empty() {
        errors.push(format!(
            "router logged {} warning/error line(s), first: {}",
            problems.len(),
            problems[0]
        ));
    }
    eprintln!(
        "[{}] sent {sent} events ({} B records) in {send_secs:.2}s; sink: {}",
        case.name(),
        frames.record_bytes,
        counter.summary()
    );
    if !errors.is_empty() {
        eprintln!("[{}] router log tail:\n{}", case.name(), router.log_tail());
    }
    if o.keep || !errors.is_empty() {
        eprintln!("[{}] kept {}", case.name(), dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    drop(moto);
    Ok(Outcome {
        case,
        sent,
        received,
        secs,
        cpu,
        hwm_kib,
        errors,
    })
}

fn print_table(o: &Opts, rows: &[Outcome]) {
    println!(
        "router {}  router cpus {}  load cpus {}  record ~{} B  batch {}  conns {}  acks {}  rate {}  tap {}  median of {} run(s), peak RSS the highest",
        o.bin.as_deref().unwrap_or(Path::new("?")).display(),
        o.router_cpus.as_deref().unwrap_or("any"),
        o.load_cpus.as_deref().unwrap_or("any"),
        o.record_size,
        o.batch,
        o.conns,
        if o.ack_window > 0 {
            format!("window {}", o.ack_window)
        } else {
            "off".into()
        },
        o.rate.map_or("uncapped".into(), |r| format!("{r}/s")),
        if o.tap {
            format!("on (tag **, {} lines/s)", o.tap_rate)
        } else {
            "off".into()
        },
        o.repeat.unwrap_or(1),
    );
    println!(
        "| {:<30} | {:>10} | {:>10} | {:>12} | {:>10} | {:>14} | {:>9} | {:>6} |",
        "case", "sent", "received", "events/s", "router cpu", "events/cpu-s", "peak RSS", "loss"
    );
    println!(
        "|{:-<32}|{:->12}|{:->12}|{:->14}|{:->12}|{:->16}|{:->11}|{:->8}|",
        "", "", "", "", "", "", "", ""
    );
    for r in rows {
        println!(
            "| {:<30} | {:>10} | {:>10} | {:>12.0} | {:>9.2}s | {:>14.0} | {:>6.1}MiB | {:>6} |",
            r.case.name(),
            r.sent,
            r.received,
            r.eps(),
            r.cpu,
            r.per_cpu(),
            r.hwm_kib as f64 / 1024.0,
            r.loss()
        );
    }
}

fn run_cases(cases: &[Case], o: Opts) -> ExitCode {
    let o = o.resolve();
    if let Some(cpus) = &o.load_cpus {
        match proc::parse_cpus(cpus).and_then(|c| proc::pin(0, &c).map_err(|e| e.to_string())) {
            Ok(()) => {}
            Err(e) => {
                eprintln!("cannot pin the load tool: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let mut rows = Vec::new();
    let mut failed = false;
    let repeat = o.repeat.unwrap_or(1).max(1);
    for &case in cases {
        let mut runs = Vec::new();
        for _ in 0..repeat {
            let t = Instant::now();
            match run_case(case, &o) {
                Ok(r) => {
                    eprintln!(
                        "[{}] done in {:.1}s: {:.0} events/cpu-s, peak RSS {:.1} MiB",
                        case.name(),
                        t.elapsed().as_secs_f64(),
                        r.per_cpu(),
                        r.hwm_kib as f64 / 1024.0
                    );
                    for e in &r.errors {
                        eprintln!("[{}] ERROR: {e}", case.name());
                    }
                    if r.loss() != 0 {
                        eprintln!("[{}] ERROR: lost {} event(s)", case.name(), r.loss());
                    }
                    failed |= !r.errors.is_empty() || r.loss() != 0 || r.sent == 0;
                    runs.push(r);
                }
                Err(e) => {
                    eprintln!("[{}] ERROR: {e}", case.name());
                    failed = true;
                }
            }
        }
        if runs.is_empty() {
            continue;
        }
        // The median run by events per CPU-second, with the highest peak RSS of all runs.
        let hwm = runs.iter().map(|r| r.hwm_kib).max().unwrap_or(0);
        runs.sort_by(|a, b| a.per_cpu().total_cmp(&b.per_cpu()));
        let mut median = runs.swap_remove(runs.len() / 2);
        median.hwm_kib = hwm;
        rows.push(median);
    }
    print_table(&o, &rows);
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn serve(listen: &str, http: bool, ids: Option<&Path>) -> ExitCode {
    let l = match TcpListener::bind(listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ids = match ids.map(|p| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
            .map_err(|e| format!("{}: {e}", p.display()))
    }) {
        None => None,
        Some(Ok(f)) => Some(std::sync::Mutex::new(f)),
        Some(Err(e)) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let c = Arc::new(sink::Counter {
        ids,
        ..Default::default()
    });
    if http {
        sink::http(l, c.clone());
    } else {
        sink::forward(l, c.clone());
    }
    eprintln!("listening on {listen}");
    let mut last = 0;
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let n = c.events();
        println!("{} events/s  total: {}", n - last, c.summary());
        last = n;
    }
}

fn main() -> ExitCode {
    match Cli::parse().cmd {
        Cmd::Run { case, opts } => run_cases(&[case], opts),
        Cmd::Matrix { opts } => run_cases(
            &[
                Case::ForwardForward,
                Case::ForwardHttp,
                Case::Seed,
                Case::Tail,
                Case::SyslogTcp,
            ],
            opts,
        ),
        Cmd::AwsMatrix { opts } => run_cases(
            &[
                Case::Cloudwatch,
                Case::Firehose,
                Case::KinesisStreams,
                Case::S3Gzip,
            ],
            opts,
        ),
        Cmd::SinkHttp { listen, ids } => serve(&listen, true, ids.as_deref()),
        Cmd::SinkForward { listen } => serve(&listen, false, None),
        Cmd::SoakConfig {
            forward_port,
            sink_port,
            buffer_path,
        } => {
            print!(
                "{}",
                config_with(
                    Case::Seed,
                    false,
                    false,
                    forward_port,
                    sink_port,
                    &file_buffer(&buffer_path)
                )
            );
            ExitCode::SUCCESS
        }
        Cmd::SoakSend {
            port,
            tag,
            conns,
            rate,
            batch,
            record_size,
            ack_window,
            duration,
            drain_timeout,
            report,
        } => {
            let o = soak::SendOpts {
                port,
                tag,
                conns,
                rate,
                batch,
                record_size,
                ack_window,
                duration: Duration::from_secs_f64(duration),
                drain_timeout: Duration::from_secs_f64(drain_timeout),
                report,
            };
            match soak::send(&o) {
                Ok(true) => ExitCode::SUCCESS,
                Ok(false) => {
                    eprintln!("soak-send: not every event was acknowledged");
                    ExitCode::FAILURE
                }
                Err(e) => {
                    eprintln!("soak-send: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Cmd::SoakReport { acked, ids, brief } => match soak::account(&acked, &ids) {
            Ok(a) => {
                if brief {
                    println!(
                        "acked={} distinct={} duplicates={} lost={}",
                        a.acked, a.distinct, a.duplicates, a.lost
                    );
                } else {
                    a.print();
                }
                if a.ok() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                }
            }
            Err(e) => {
                eprintln!("soak-report: {e}");
                ExitCode::FAILURE
            }
        },
    }
}
