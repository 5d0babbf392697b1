//! Fluentd's `-d PIDFILE`: run in the background (systemd `Type=forking`, as fluent-package's
//! unit starts Fluentd). The process forks before any thread exists; the parent waits until the
//! child reports that the pipeline has started (its listeners are open) and exits 0, or exits 1
//! when the child ends first (its error went to the `-o` log, else to the terminal's stderr,
//! which the child keeps until it has started). The child leaves the terminal's session, reads
//! nothing from stdin, writes its pid to PIDFILE once started, and from then on writes stdout and
//! stderr to the `-o` file if given, else nowhere; at exit it removes PIDFILE if it still holds
//! its pid.

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::io::{FromRawFd, RawFd};
use std::path::{Path, PathBuf};

/// The child's side: tell the waiting parent the daemon runs, and remove the pid file at exit.
pub struct Daemon {
    ready: Option<File>,
    pid_file: PathBuf,
    /// stdout and stderr go to the `-o` file: left as they are once started.
    keep_output: bool,
    /// PIDFILE was written (by [`Daemon::started`]).
    wrote: bool,
}

impl Daemon {
    /// The pipeline has started: write PIDFILE, let go of the terminal, and let the parent exit
    /// 0. A PIDFILE that cannot be written is an error (the daemon stops).
    pub fn started(&mut self) -> std::io::Result<()> {
        let Some(mut f) = self.ready.take() else {
            return Ok(());
        };
        std::fs::write(&self.pid_file, format!("{}\n", std::process::id()))?;
        self.wrote = true;
        if !self.keep_output {
            if let Ok(devnull) = File::options().write(true).open("/dev/null") {
                for fd in [libc::STDOUT_FILENO, libc::STDERR_FILENO] {
                    // SAFETY: dup2 of an open descriptor onto a standard one.
                    unsafe { libc::dup2(std::os::unix::io::AsRawFd::as_raw_fd(&devnull), fd) };
                }
            }
        }
        let _ = f.write_all(&[0]);
        Ok(())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // Only our own: another daemon started on the same PIDFILE may have written it since.
        let ours = std::fs::read_to_string(&self.pid_file)
            .is_ok_and(|t| t.trim() == std::process::id().to_string());
        if self.wrote && ours {
            let _ = std::fs::remove_file(&self.pid_file);
        }
    }
}

fn pipe() -> std::io::Result<(RawFd, RawFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array it is given.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((fds[0], fds[1]))
}

/// The terminal's stderr, kept aside before `-o` takes fd 2 over: the parent says there that the
/// daemon did not start.
pub fn keep_console() -> Option<File> {
    // SAFETY: dup of the process's own stderr; the new descriptor is owned by the File.
    let fd = unsafe { libc::fcntl(libc::STDERR_FILENO, libc::F_DUPFD_CLOEXEC, 3) };
    // SAFETY: `fd` is a fresh descriptor nobody else owns.
    (fd >= 0).then(|| unsafe { File::from_raw_fd(fd) })
}

/// Fork into the background (see the module doc). Returns in the child only; `keep_output`:
/// stdout and stderr already go to the `-o` file (else they go to /dev/null); `console`: where
/// the parent reports a failed start ([`keep_console`]), else its stderr.
///
/// Must be called while the process has one thread.
pub fn daemonize(
    pid_file: &Path,
    keep_output: bool,
    console: Option<File>,
) -> std::io::Result<Daemon> {
    let (r, w) = pipe()?;
    // SAFETY: the process has one thread here (the caller's promise), so the child starts in a
    // consistent state; both sides only use async-signal-safe calls and std's file API after.
    match unsafe { libc::fork() } {
        -1 => Err(std::io::Error::last_os_error()),
        0 => {
            // SAFETY: `r` is this process's copy of the read end, not used elsewhere.
            unsafe { libc::close(r) };
            drop(console);
            // SAFETY: setsid has no preconditions (the child of a fork is no group leader).
            unsafe { libc::setsid() };
            let devnull = File::options().read(true).open("/dev/null")?;
            // SAFETY: dup2 of an open descriptor onto stdin.
            unsafe { libc::dup2(std::os::unix::io::AsRawFd::as_raw_fd(&devnull), 0) };
            Ok(Daemon {
                // SAFETY: `w` is this process's own write end, owned by the File from now on.
                ready: Some(unsafe { File::from_raw_fd(w) }),
                pid_file: pid_file.to_path_buf(),
                keep_output,
                wrote: false,
            })
        }
        _ => {
            // SAFETY: `w` is the parent's copy of the write end, closed so that EOF comes when
            // the child exits; `r` is owned by the File from now on.
            unsafe { libc::close(w) };
            let mut ready = unsafe { File::from_raw_fd(r) };
            let mut byte = [1u8];
            let got = loop {
                match ready.read(&mut byte) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    other => break other,
                }
            };
            let code = match got {
                Ok(1) if byte[0] == 0 => 0,
                _ => {
                    let msg = if keep_output {
                        "logferry: the daemon did not start (see its -o log)\n"
                    } else {
                        "logferry: the daemon did not start (its error is above)\n"
                    };
                    match console {
                        Some(mut c) => {
                            let _ = c.write_all(msg.as_bytes());
                        }
                        None => eprint!("{msg}"),
                    }
                    1
                }
            };
            std::process::exit(code);
        }
    }
}
