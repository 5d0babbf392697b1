//! Shared harness for the end-to-end tests: start the built `logferry` binary on a config, talk to
//! it over real sockets, read what it printed, stop it with a signal.
#![allow(dead_code)]

pub mod acked;
pub mod tail;
pub mod tls_peer;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// GET `path` from an HTTP endpoint at `addr` (`HOST:PORT`, e.g. the monitor): the status and
/// the body.
pub fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok());
    (status.unwrap_or(0), body.to_string())
}

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_logferry")
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A TCP+UDP port free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    loop {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// `N` distinct ports, each free on 127.0.0.1 right now.
pub fn free_ports<const N: usize>() -> [u16; N] {
    let mut held = Vec::new();
    let mut ports = [0; N];
    let mut n = 0;
    while n < N {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            ports[n] = port;
            n += 1;
        }
        held.push(l);
    }
    ports
}

/// A port kept bound but not listening, so that connections to it are refused (as to a server
/// that is down) and no other socket can take it, until the test starts its server there.
pub struct HeldPort {
    socket: Option<tokio::net::TcpSocket>,
    /// The port number.
    pub port: u16,
}

impl HeldPort {
    /// Bind a free port on 127.0.0.1 and keep it.
    pub fn new() -> HeldPort {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let port = socket.local_addr().unwrap().port();
        HeldPort {
            socket: Some(socket),
            port,
        }
    }

    /// Let the port go, right before a server binds it.
    pub fn release(&mut self) -> u16 {
        self.socket.take();
        self.port
    }
}

/// A running daemon.
pub struct Daemon {
    child: Child,
    /// The forward port (`{PORT}` in the config).
    pub port: u16,
    /// A scratch directory (`{DIR}` in the config).
    pub dir: tempfile::TempDir,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// A command the binary is run through (`setpriv …`), empty for none.
    wrapper: Vec<String>,
    /// The threads copying the current process's stdout and stderr.
    pumps: Vec<thread::JoinHandle<()>>,
}

fn pump(mut r: impl Read + Send + 'static, into: Arc<Mutex<Vec<u8>>>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut buf = [0u8; 8192];
        loop {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => into.lock().unwrap().extend_from_slice(&buf[..n]),
            }
        }
    })
}

/// Substitute `{PORT}` and `{DIR}` in a config text.
pub fn render(config: &str, port: u16, dir: &Path) -> String {
    config
        .replace("{PORT}", &port.to_string())
        .replace("{DIR}", &dir.display().to_string())
}

fn spawn(
    path: &Path,
    args: &[String],
    env: &[(String, String)],
    wrapper: &[String],
    stdout: &Arc<Mutex<Vec<u8>>>,
    stderr: &Arc<Mutex<Vec<u8>>>,
) -> (Child, Vec<thread::JoinHandle<()>>) {
    let mut cmd = match wrapper.split_first() {
        Some((w, rest)) => {
            let mut c = Command::new(w);
            c.args(rest).arg(bin());
            c
        }
        None => Command::new(bin()),
    };
    cmd.arg("-c")
        .arg(path)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    // Deterministic local time for the tests; a test may override it.
    cmd.env("TZ", "UTC");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn logferry");
    let pumps = vec![
        pump(child.stdout.take().unwrap(), stdout.clone()),
        pump(child.stderr.take().unwrap(), stderr.clone()),
    ];
    (child, pumps)
}

impl Daemon {
    /// Start the daemon on `config` (with `{PORT}`/`{DIR}` substituted) and wait until the forward
    /// port accepts connections. Extra CLI args may be given.
    pub fn start(config: &str) -> Daemon {
        Self::start_with(config, &[], &[])
    }

    /// Start with extra arguments and environment.
    ///
    /// The forward port is picked free but is bound only when the daemon starts; if another
    /// process (a test's client connections) took it meanwhile, the daemon is started again on
    /// another port.
    pub fn start_with(config: &str, args: &[&str], env: &[(&str, &str)]) -> Daemon {
        Self::start_prepared(config, args, env, &|_| {})
    }

    /// Start as [`Daemon::start_with`], after `prepare` set up the scratch directory (files the
    /// config includes, sockets left behind …).
    pub fn start_prepared(
        config: &str,
        args: &[&str],
        env: &[(&str, &str)],
        prepare: &dyn Fn(&Path),
    ) -> Daemon {
        Self::start_wrapped(config, args, env, &[], prepare)
    }

    /// Start as [`Daemon::start_prepared`], the binary run through `wrapper` (a command that
    /// execs its arguments, such as util-linux `setpriv …`: the process id stays the
    /// daemon's).
    pub fn start_wrapped(
        config: &str,
        args: &[&str],
        env: &[(&str, &str)],
        wrapper: &[&str],
        prepare: &dyn Fn(&Path),
    ) -> Daemon {
        let wrapper: Vec<String> = wrapper.iter().map(|s| s.to_string()).collect();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let dir = tempfile::tempdir().unwrap();
            let port = free_port();
            prepare(dir.path());
            let path = dir.path().join("fluent.conf");
            std::fs::write(&path, render(config, port, dir.path())).unwrap();
            let stdout = Arc::new(Mutex::new(Vec::new()));
            let stderr = Arc::new(Mutex::new(Vec::new()));
            let (child, pumps) = spawn(&path, &args, &env, &wrapper, &stdout, &stderr);
            let mut d = Daemon {
                child,
                pumps,
                port,
                dir,
                stdout,
                stderr,
                args: args.clone(),
                env: env.clone(),
                wrapper: wrapper.clone(),
            };
            let start = Instant::now();
            let mut taken = false;
            while !d.stderr().contains("logferry started") {
                if !d.alive() {
                    d.wait_exit(Duration::from_secs(1));
                    let log = d.stderr();
                    taken = log.contains(&format!("cannot listen on 127.0.0.1:{port}"))
                        || log.contains(&format!(
                            "cannot bind the UDP heartbeat on 127.0.0.1:{port}"
                        ));
                    if taken && attempt < 5 {
                        break;
                    }
                    panic!("logferry exited before it started; stderr:\n{log}");
                }
                if start.elapsed() > Duration::from_secs(20) {
                    panic!(
                        "timed out waiting for log \"logferry started\"; stderr:\n{}",
                        d.stderr()
                    );
                }
                thread::sleep(Duration::from_millis(20));
            }
            if !taken {
                return d;
            }
        }
    }

    /// Start the process again on the same config, port and directory (after it exited or was
    /// killed); waits until it is listening. The logs of every run accumulate.
    pub fn restart(&mut self) {
        if self.child.try_wait().unwrap().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        // The old process's last lines first, so they do not interleave with the new one's.
        for p in self.pumps.drain(..) {
            let _ = p.join();
        }
        let starts = self.stderr().matches("logferry started").count();
        (self.child, self.pumps) = spawn(
            &self.dir.path().join("fluent.conf"),
            &self.args,
            &self.env,
            &self.wrapper,
            &self.stdout,
            &self.stderr,
        );
        let t = Instant::now();
        while self.stderr().matches("logferry started").count() <= starts {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "restart timed out:\n{}",
                self.stderr()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// `kill -9` and reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Open file descriptors of the daemon right now.
    pub fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// A `/proc/PID/status` field in KiB (`VmRSS`, `VmHWM`), or a count (`Threads`).
    pub fn status(&self, field: &str) -> u64 {
        let text = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc/PID/status"))
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Path of a file in the scratch directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Everything printed on stdout so far.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.stdout.lock().unwrap()).into_owned()
    }

    /// Everything logged on stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// Wait until stderr contains `needle`; panics with the log on timeout.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) {
        let start = Instant::now();
        while !self.stderr().contains(needle) {
            if start.elapsed() > timeout {
                panic!(
                    "timed out waiting for log {needle:?}; stderr:\n{}",
                    self.stderr()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait until the file at `path` holds what `done` accepts, and return its text. A file is
    /// created before it is written, so that it exists says nothing about its content.
    pub fn wait_file_text(
        &self,
        path: &Path,
        timeout: Duration,
        done: impl Fn(&str) -> bool,
    ) -> String {
        let start = Instant::now();
        loop {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            if done(&text) {
                return text;
            }
            if start.elapsed() > timeout {
                panic!(
                    "{} never became complete; it holds {text:?}; stderr:\n{}",
                    path.display(),
                    self.stderr()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait until stdout holds at least `n` whole lines; returns them.
    pub fn wait_stdout_lines(&self, n: usize, timeout: Duration) -> Vec<String> {
        let start = Instant::now();
        loop {
            // Whole lines only: a long line can come through the pipe in pieces.
            let out = self.stdout();
            let whole = &out[..out.rfind('\n').map_or(0, |i| i + 1)];
            let lines: Vec<String> = whole.lines().map(str::to_string).collect();
            if lines.len() >= n {
                return lines;
            }
            if start.elapsed() > timeout {
                panic!(
                    "timed out waiting for {n} stdout lines, got {}:\n{}\nstderr:\n{}",
                    lines.len(),
                    self.stdout(),
                    self.stderr()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// A TCP connection to the forward port.
    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    }

    /// Send a signal to the daemon.
    pub fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(st.success());
    }

    /// SIGTERM, then wait for exit (at most 30 s).
    pub fn terminate(&mut self) -> ExitStatus {
        self.signal("TERM");
        self.wait_exit(Duration::from_secs(30))
    }

    /// Wait for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                // The pipes are at their end now: let the pump threads copy the rest.
                for p in self.pumps.drain(..) {
                    let _ = p.join();
                }
                return st;
            }
            if start.elapsed() > timeout {
                let _ = self.child.kill();
                panic!(
                    "logferry did not exit within {timeout:?}; stderr:\n{}",
                    self.stderr()
                );
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run the binary to completion with a config (for `--dry-run` and start-up errors).
pub fn run_once(config: &str, args: &[&str]) -> (Output, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fluent.conf");
    std::fs::write(&path, render(config, free_port(), dir.path())).unwrap();
    let out = Command::new(bin())
        .arg("-c")
        .arg(&path)
        .args(args)
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (out, dir)
}

/// Read one msgpack value from a stream (blocking, with the stream's read timeout).
pub fn read_msgpack(s: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        if let Ok(n) = logferry_msgpack::value_len(&buf) {
            assert_eq!(n, buf.len());
            return buf;
        }
        let n = s.read(&mut byte).expect("read reply");
        assert!(
            n > 0,
            "connection closed before a full reply; got {buf:02x?}"
        );
        buf.push(byte[0]);
    }
}

/// True if the peer closes the connection (EOF or reset) within the read timeout; any bytes it
/// sends before closing (a failure reply, a TLS alert) are discarded.
pub fn is_closed(s: &mut TcpStream) -> bool {
    let mut b = [0u8; 256];
    loop {
        match s.read(&mut b) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return true,
        }
    }
}

/// Write all bytes.
pub fn send(s: &mut TcpStream, bytes: &[u8]) {
    s.write_all(bytes).unwrap();
    s.flush().unwrap();
}

/// Parse every stdout line of Fluentd's stdout format into (time text, tag, record JSON).
pub fn parse_stdout_line(line: &str) -> (String, String, serde_json::Value) {
    // `2023-11-14 22:13:20.000000000 +0000 tag: {json}`
    let mut parts = line.splitn(4, ' ');
    let date = parts.next().unwrap();
    let time = parts.next().unwrap();
    let zone = parts.next().unwrap();
    let rest = parts.next().unwrap();
    let (tag, json) = rest.split_once(": ").unwrap();
    (
        format!("{date} {time} {zone}"),
        tag.to_string(),
        serde_json::from_str(json).unwrap_or_else(|e| panic!("bad json in {line:?}: {e}")),
    )
}

/// Lines of a text read with a buffered reader.
pub fn lines_of(path: &Path) -> Vec<String> {
    BufReader::new(std::fs::File::open(path).unwrap())
        .lines()
        .map(Result::unwrap)
        .collect()
}
