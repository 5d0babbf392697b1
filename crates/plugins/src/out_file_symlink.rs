//! out_file's `symlink_path`: a symbolic link to the file being written.
//!
//! Fluentd points it at the file buffer's newest chunk (the chunk of the latest time slice, as
//! soon as that chunk is created), so `tail -F` on the link follows the events as they arrive.
//! logferry does the same with its file buffer's chunk files; without a buffer, where logferry
//! writes each batch straight into the output file, the link points at that file. The link
//! moves when a chunk (or file) of a time slice at least as late as the linked one starts; a late
//! event creating a chunk for an older slice leaves it alone, as in Fluentd. Without a time
//! chunk key it follows every new chunk (Fluentd never creates it then). The link is
//! replaced atomically (a new link renamed over the old), its directory created as needed, and
//! its target is an absolute path.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The link and the latest time slice it points into.
pub struct Symlink {
    latest: Mutex<Option<Option<i64>>>,
    /// Modes of the directories made for the link (`<system>` dir_permission).
    perms: logferry_core::perms::Perms,
}

impl Symlink {
    /// A link not created yet, its directories made with Fluentd's default mode.
    pub fn new() -> Self {
        Self::with_perms(Default::default())
    }

    /// A link not created yet, its directories made with `perms` (as Fluentd's out_file makes
    /// them with `<system>` dir_permission).
    pub fn with_perms(perms: logferry_core::perms::Perms) -> Self {
        Symlink {
            latest: Mutex::new(None),
            perms,
        }
    }

    /// Point `link` at `target` if `timekey` (None without a time chunk key) is not older than
    /// the slice linked so far. Failures are logged, not raised: the events are kept either way.
    pub fn update(&self, link: &str, target: &Path, timekey: Option<i64>) {
        {
            let mut latest = self.latest.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(Some(prev)) = *latest {
                if timekey.is_some_and(|tk| tk < prev) {
                    return;
                }
            }
            *latest = Some(timekey);
        }
        if let Err(e) = point(Path::new(link), target, self.perms) {
            tracing::warn!(
                "file output: symlink_path {link} -> {}: {e}",
                target.display()
            );
        }
    }
}

impl Default for Symlink {
    fn default() -> Self {
        Self::new()
    }
}

/// Atomically make `link` a symbolic link to `target` (made absolute).
fn point(link: &Path, target: &Path, perms: logferry_core::perms::Perms) -> std::io::Result<()> {
    let target: PathBuf = std::path::absolute(target)?;
    if let Some(dir) = link.parent().filter(|d| !d.as_os_str().is_empty()) {
        perms.create_dir_all(dir)?;
    }
    let name = link
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = link.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let _ = fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&target, &tmp)?;
    fs::rename(&tmp, link).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_newer_slices_only() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("sub/cur.log");
        let l = link.to_str().unwrap();
        let s = Symlink::new();
        s.update(l, &dir.path().join("a"), Some(100));
        assert_eq!(fs::read_link(&link).unwrap(), dir.path().join("a"));
        s.update(l, &dir.path().join("old"), Some(50));
        assert_eq!(fs::read_link(&link).unwrap(), dir.path().join("a"));
        s.update(l, &dir.path().join("b"), Some(100));
        assert_eq!(fs::read_link(&link).unwrap(), dir.path().join("b"));
        s.update(l, &dir.path().join("c"), Some(200));
        assert_eq!(fs::read_link(&link).unwrap(), dir.path().join("c"));
        // Nothing else is left in the directory (no temporary links).
        assert_eq!(fs::read_dir(dir.path().join("sub")).unwrap().count(), 1);
    }
}
