//! The AWS output cases (`cloudwatch_logs`, `kinesis_firehose`, `kinesis_streams`, `s3` with
//! `store_as gzip`) against a `moto_server` on loopback (PyPI `moto[server]`, as
//! tests/e2e_aws.rs): the tool starts it on a free port, creates the log group / delivery stream /
//! data stream / bucket with
//! tests/aws/moto_ops.py (boto3), and counts what arrived by reading it back through the same
//! APIs every second. moto is far slower than the router: the figures that matter are the
//! router's CPU-seconds per event and its peak RSS, not events/s.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::sink::Counter;

/// A moto_server, killed on drop.
pub struct Moto {
    child: Child,
    /// Its endpoint URL.
    pub endpoint: String,
    stop: Arc<AtomicBool>,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/aws/moto_ops.py")
}

/// Run a moto_ops.py command; its standard output.
pub fn ops(endpoint: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()))
        .arg(script())
        .arg(endpoint)
        .args(args)
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "moto_ops {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

impl Moto {
    /// Start moto_server on `port` and wait until it answers.
    pub fn start(port: u16) -> Result<Moto, String> {
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("moto_server (pip install 'moto[server]'): {e}"))?;
        let m = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let t = Instant::now();
        loop {
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
                let _ = s.write_all(b"GET /moto-api/ HTTP/1.0\r\n\r\n");
                let mut head = [0u8; 12];
                if s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1") {
                    return Ok(m);
                }
            }
            if t.elapsed() > Duration::from_secs(30) {
                return Err("moto_server did not answer within 30 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Count what arrived (`count-logs lf-load`, …) into `counter` every second.
    pub fn count_into(&self, args: &'static [&'static str], counter: Arc<Counter>) {
        let (endpoint, stop) = (self.endpoint.clone(), self.stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Relaxed) {
                match ops(&endpoint, args).map(|s| s.trim().parse::<u64>()) {
                    Ok(Ok(n)) => counter.events.store(n, Relaxed),
                    _ => {
                        counter.errors.fetch_add(1, Relaxed);
                    }
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        });
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop.store(true, Relaxed);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The output section of an AWS case, and what to create and count.
pub fn output(
    case: &str,
    endpoint: &str,
    buffer: &str,
) -> (String, Vec<&'static str>, &'static [&'static str]) {
    let common = format!(
        "  region us-east-1\n  endpoint {endpoint}\n  aws_key_id testing\n  aws_sec_key testing\n"
    );
    match case {
        "cloudwatch" => (
            format!("<match **>\n  @type cloudwatch_logs\n{common}  log_group_name lf-load\n  log_stream_name load\n{buffer}\n</match>\n"),
            vec!["logs-create", "lf-load", "load"],
            &["count-logs", "lf-load"],
        ),
        // out_s3's defaults (gzip objects, one per hourly time slice and flush), the key made
        // unique by `%{hex_random}` so that no HEAD per upload is needed (`check_object false`).
        "s3" => (
            // With the time chunk key the default flush mode is lazy (a flush an hour): flushed
            // every second as in the other cases.
            format!("<match **>\n  @type s3\n  aws_key_id testing\n  aws_sec_key testing\n  s3_region us-east-1\n  s3_endpoint {endpoint}\n  force_path_style true\n  s3_bucket lf-load-s3\n  store_as gzip\n  check_object false\n  s3_object_key_format %{{path}}%{{time_slice}}_%{{hex_random}}_%{{index}}.%{{file_extension}}\n{}\n</match>\n", buffer.replace("    flush_interval", "    flush_mode interval\n    flush_interval")),
            vec!["s3-create", "lf-load-s3"],
            &["count-s3-lines", "lf-load-s3"],
        ),
        "firehose" => (
            format!("<match **>\n  @type kinesis_firehose\n{common}  delivery_stream_name lf-load\n{buffer}\n</match>\n"),
            vec!["firehose-create", "lf-load", "lf-load-bucket"],
            &["count-s3-lines", "lf-load-bucket"],
        ),
        _ => (
            format!("<match **>\n  @type kinesis_streams\n{common}  stream_name lf-load\n{buffer}\n</match>\n"),
            vec!["kinesis-create", "lf-load", "4"],
            &["count-kinesis", "lf-load"],
        ),
    }
}
