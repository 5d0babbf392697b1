//! Helpers of the tail input's tests (tests/e2e_tail*.rs): pos files, output files, a large file
//! read with bounded memory.

use std::io::Write;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use super::Daemon;

/// The position a pos file records for its first entry (0 when there is none yet).
pub fn recorded_pos(path: &Path) -> u64 {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .next()
        .and_then(|l| l.split('\t').nth(1))
        .and_then(|p| u64::from_str_radix(p, 16).ok())
        .unwrap_or(0)
}

/// Every line of the files under the daemon's `{DIR}/out`, the files in name order.
pub fn out_lines(d: &Daemon) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(d.path("out"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut lines = Vec::new();
    for f in files {
        lines.extend(
            std::fs::read_to_string(f)
                .unwrap_or_default()
                .lines()
                .map(str::to_string),
        );
    }
    lines
}

/// Append `line` `count` times to `{DIR}/big.log` (which the daemon reads while it grows), wait
/// until `{DIR}/big.pos` records all of it, and check the daemon's peak resident memory stayed
/// under 64 MiB.
pub fn read_big_file_with_bounded_memory(d: &Daemon, line: &[u8], count: u64) {
    {
        let mut f = std::io::BufWriter::new(
            std::fs::OpenOptions::new()
                .append(true)
                .open(d.path("big.log"))
                .unwrap(),
        );
        for _ in 0..count {
            f.write_all(line).unwrap();
        }
        f.flush().unwrap();
    }
    let size = line.len() as u64 * count;
    let start = Instant::now();
    while recorded_pos(&d.path("big.pos")) < size {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "read {} of {size}; stderr:\n{}",
            recorded_pos(&d.path("big.pos")),
            d.stderr()
        );
        thread::sleep(Duration::from_millis(100));
    }
    let peak_kib = d.status("VmHWM");
    assert!(
        peak_kib < 64 * 1024,
        "peak RSS {peak_kib} KiB while reading a {} MiB file",
        size >> 20
    );
}
