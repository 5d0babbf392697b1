//! The stat watcher (`enable_stat_watcher`): Linux inotify through libc, one descriptor for the
//! whole input. A watched path gets a watch on the file (writes, truncation, attribute changes,
//! rename, deletion) and one on its directory (a file created, moved or deleted there), so a
//! rotation is seen as soon as it happens; what changed is found by `stat` afterwards, as
//! Fluentd's StatWatcher does. Events only name the paths to look at again.

use std::collections::HashMap;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use tokio::io::unix::AsyncFd;

const FILE_MASK: u32 = libc::IN_MODIFY
    | libc::IN_ATTRIB
    | libc::IN_CLOSE_WRITE
    | libc::IN_MOVE_SELF
    | libc::IN_DELETE_SELF;
const DIR_MASK: u32 =
    libc::IN_CREATE | libc::IN_MOVED_TO | libc::IN_MOVED_FROM | libc::IN_DELETE | libc::IN_ONLYDIR;

/// One inotify instance and what its watches mean.
pub struct Inotify {
    fd: AsyncFd<OwnedFd>,
    /// Watch descriptor → (is a directory, the path it was added for).
    wds: HashMap<i32, (bool, PathBuf)>,
    /// Watched path → its file watch.
    files: HashMap<PathBuf, i32>,
    /// Directory → watched paths in it.
    dirs: HashMap<PathBuf, (i32, usize)>,
    /// The watched paths.
    paths: std::collections::HashSet<PathBuf>,
    buf: Vec<u8>,
}

fn cpath(p: &Path) -> Option<CString> {
    CString::new(p.as_os_str().as_encoded_bytes()).ok()
}

impl Inotify {
    /// A new instance (needs a tokio runtime).
    pub fn new() -> std::io::Result<Inotify> {
        // SAFETY: plain syscall; the descriptor is owned below.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor nobody else owns.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Inotify {
            // SAFETY: the descriptor is owned by the AsyncFd and closed only when it drops.
            fd: unsafe { AsyncFd::register(owned) }.map_err(std::io::Error::from)?,
            wds: HashMap::new(),
            files: HashMap::new(),
            dirs: HashMap::new(),
            paths: Default::default(),
            buf: vec![0u8; 64 * 1024],
        })
    }

    fn add(&mut self, p: &Path, mask: u32) -> Option<i32> {
        let c = cpath(p)?;
        // SAFETY: a valid descriptor and NUL-terminated path.
        let wd = unsafe { libc::inotify_add_watch(self.fd.as_raw_fd(), c.as_ptr(), mask) };
        (wd >= 0).then_some(wd)
    }

    /// Watch `path` (its current file, and its directory for new files). Watching again (after a
    /// rotation) moves the file watch to the file now at the path.
    pub fn watch(&mut self, path: &Path) {
        if let Some(wd) = self.files.remove(path) {
            self.release(wd);
        }
        if let Some(wd) = self.add(path, FILE_MASK) {
            self.wds.insert(wd, (false, path.to_path_buf()));
            self.files.insert(path.to_path_buf(), wd);
        }
        if !self.paths.insert(path.to_path_buf()) {
            return;
        }
        let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
        if let Some((_, n)) = self.dirs.get_mut(&dir) {
            *n += 1;
        } else if let Some(wd) = self.add(&dir, DIR_MASK) {
            self.wds.insert(wd, (true, dir.clone()));
            self.dirs.insert(dir, (wd, 1));
        }
    }

    fn release(&mut self, wd: i32) {
        // The same inode may be watched for another path (a hard link): keep the watch then.
        if self.files.values().any(|w| *w == wd) {
            return;
        }
        self.wds.remove(&wd);
        // SAFETY: a valid descriptor; a stale wd only returns EINVAL.
        unsafe { libc::inotify_rm_watch(self.fd.as_raw_fd(), wd) };
    }

    /// Stop watching `path`.
    pub fn unwatch(&mut self, path: &Path) {
        if let Some(wd) = self.files.remove(path) {
            self.release(wd);
        }
        if !self.paths.remove(path) {
            return;
        }
        let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
        if let Some((wd, n)) = self.dirs.get_mut(&dir) {
            *n -= 1;
            if *n == 0 {
                let wd = *wd;
                self.dirs.remove(&dir);
                self.wds.remove(&wd);
                // SAFETY: as above.
                unsafe { libc::inotify_rm_watch(self.fd.as_raw_fd(), wd) };
            }
        }
    }

    /// Wait for events; push the paths they concern (file watches: the path; directory
    /// watches: `dir/name`); an overflow pushes every watched path.
    pub async fn wait(&mut self, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        loop {
            let mut guard = self.fd.readable().await?;
            let fd = self.fd.as_raw_fd();
            let buf = &mut self.buf;
            // SAFETY: reading into our own buffer of the given length.
            let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::WouldBlock {
                    guard.clear_ready();
                    continue;
                }
                return Err(e);
            }
            let n = n as usize;
            let mut i = 0;
            let head = std::mem::size_of::<libc::inotify_event>();
            while i + head <= n {
                // SAFETY: the kernel wrote whole events; read_unaligned copes with alignment.
                let ev: libc::inotify_event =
                    unsafe { std::ptr::read_unaligned(buf[i..].as_ptr().cast()) };
                let name_bytes = &buf[i + head..i + head + ev.len as usize];
                i += head + ev.len as usize;
                if ev.mask & libc::IN_Q_OVERFLOW != 0 {
                    out.extend(self.files.keys().cloned());
                    continue;
                }
                let Some((is_dir, p)) = self.wds.get(&ev.wd) else {
                    continue;
                };
                if *is_dir {
                    let end = name_bytes
                        .iter()
                        .position(|b| *b == 0)
                        .unwrap_or(name_bytes.len());
                    out.push(p.join(std::ffi::OsStr::from_bytes(&name_bytes[..end])));
                } else {
                    out.push(p.clone());
                }
                if ev.mask & libc::IN_IGNORED != 0 {
                    // The file or directory is gone: its watch went with it.
                    let wd = ev.wd;
                    self.wds.remove(&wd);
                    self.files.retain(|_, w| *w != wd);
                    self.dirs.retain(|_, (w, _)| *w != wd);
                }
            }
            return Ok(());
        }
    }
}
