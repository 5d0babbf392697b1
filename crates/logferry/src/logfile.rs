//! Fluentd's `-o PATH`: the process's stdout and stderr appended to one file (logferry's log
//! lines, and the stdout output's events, which Fluentd writes to its log), reopened on SIGUSR1
//! so that logrotate can move it away (fluent-package's logrotate rule sends SIGUSR1 after
//! rotating, as Fluentd reopens its log then).

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;

/// Open `path` for appending (created 0644 if missing) and make it the process's stdout and
/// stderr.
pub fn redirect(path: &Path) -> std::io::Result<()> {
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o644)
        .open(path)?;
    for fd in [libc::STDOUT_FILENO, libc::STDERR_FILENO] {
        // SAFETY: dup2 with an open descriptor (kept open by `file` until after the call) onto
        // a standard one; the old file behind it is closed by the kernel, atomically.
        if unsafe { libc::dup2(file.as_raw_fd(), fd) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}
