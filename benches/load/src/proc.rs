//! The router process: generated config, start with CPU pinning, CPU time and peak RSS from /proc.

use std::fs;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Parse a CPU list such as `0`, `0,1` or `0-3`.
pub fn parse_cpus(s: &str) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || format!("bad CPU list {s:?}");
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (usize, usize) =
                    (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
                out.extend(a..=b);
            }
            None => out.push(part.parse().map_err(|_| bad())?),
        }
    }
    if out.is_empty() {
        return Err(format!("empty CPU list {s:?}"));
    }
    Ok(out)
}

/// Pin `pid` (0: the calling thread; threads created later inherit it) to `cpus`.
pub fn pin(pid: libc::pid_t, cpus: &[usize]) -> io::Result<()> {
    // SAFETY: cpu_set_t is plain data; CPU_ZERO/CPU_SET write inside it; the syscall reads it.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_ZERO(&mut set);
        for &c in cpus {
            libc::CPU_SET(c, &mut set);
        }
        if libc::sched_setaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// A free local TCP port (bound, then released).
pub fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// utime + stime of `pid` in seconds, from `/proc/PID/stat`.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the `(comm)`: state is field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Some((utime + stime) / if hz > 0.0 { hz } else { 100.0 })
}

/// `VmHWM` (peak resident set) of `pid` in KiB, from `/proc/PID/status`.
pub fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The started router.
pub struct Router {
    pub child: Child,
    pub dir: PathBuf,
}

impl Router {
    /// Write `conf` to `dir/router.conf` and start `bin -q -c` on it, pinned to `cpus`, stderr
    /// to `dir/router.log`; wait until the forward port accepts.
    pub fn start(
        bin: &Path,
        dir: &Path,
        conf: &str,
        forward_port: u16,
        cpus: Option<&[usize]>,
    ) -> Result<Router, String> {
        let path = dir.join("router.conf");
        fs::write(&path, conf).map_err(|e| format!("{}: {e}", path.display()))?;
        let log = fs::File::create(dir.join("router.log")).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(bin);
        cmd.arg("-q")
            .arg("-c")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        if let Some(cpus) = cpus {
            let cpus = cpus.to_vec();
            // SAFETY: only a syscall runs between fork and exec.
            unsafe {
                cmd.pre_exec(move || pin(0, &cpus));
            }
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let mut r = Router {
            child,
            dir: dir.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(st)) = r.child.try_wait() {
                return Err(format!("router exited at start ({st}):\n{}", r.log_tail()));
            }
            if TcpStream::connect(("127.0.0.1", forward_port)).is_ok() {
                return Ok(r);
            }
            if Instant::now() > deadline {
                let _ = r.child.kill();
                return Err(format!("router did not listen in 30 s:\n{}", r.log_tail()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn signal(&self, sig: libc::c_int) {
        // SAFETY: plain kill(2) on our own child.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, sig);
        }
    }

    /// SIGTERM, then wait up to `secs` (SIGKILL after). Ok(true) when it exited 0.
    pub fn stop(&mut self, secs: u64) -> bool {
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            match self.child.try_wait() {
                Ok(Some(st)) => return st.success(),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return false;
                }
            }
        }
    }

    /// The last lines of the router's stderr.
    pub fn log_tail(&self) -> String {
        let text = fs::read_to_string(self.dir.join("router.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Lines of the router's stderr that report a problem (`[warn]`/`[error]`, Fluentd's form).
    pub fn problems(&self) -> Vec<String> {
        fs::read_to_string(self.dir.join("router.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("[warn]") || l.contains("[error]"))
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
