//! File and directory modes: Fluentd's `file_permission` and `dir_permission` (`<system>`, and a
//! file buffer's own), applied where Fluentd applies them.
//!
//! Fluentd creates a file with `File.open(path, mode, perm)` (the process umask applies, as to
//! `open(2)`) and directories with `FileUtils.mkdir_p(dir, mode: perm)`, which sets exactly
//! `perm` on each directory it creates (it calls `chmod` after `mkdir`, so the umask does not
//! apply) and leaves existing ones alone. [`Perms::open_options`] and [`Perms::create_dir_all`]
//! do the same.

use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::system::SystemConfig;

/// Fluentd's `DEFAULT_FILE_PERMISSION`.
pub const DEFAULT_FILE_MODE: u32 = 0o644;
/// Fluentd's `DEFAULT_DIR_PERMISSION`.
pub const DEFAULT_DIR_MODE: u32 = 0o755;

/// The modes of the files and directories a plugin creates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Perms {
    /// Mode of new files (before the umask).
    pub file: u32,
    /// Mode of new directories (exactly).
    pub dir: u32,
}

impl Default for Perms {
    fn default() -> Self {
        Perms {
            file: DEFAULT_FILE_MODE,
            dir: DEFAULT_DIR_MODE,
        }
    }
}

impl Perms {
    /// `<system>`'s `file_permission` and `dir_permission`, else Fluentd's defaults.
    pub fn of(sys: &SystemConfig) -> Self {
        Perms {
            file: sys.file_permission.unwrap_or(DEFAULT_FILE_MODE),
            dir: sys.dir_permission.unwrap_or(DEFAULT_DIR_MODE),
        }
    }

    /// `OpenOptions` that create a file with this mode (before the umask).
    pub fn open_options(&self) -> OpenOptions {
        let mut o = OpenOptions::new();
        o.mode(self.file);
        o
    }

    /// Create `path` and its missing parents, each with exactly this directory mode (as
    /// `FileUtils.mkdir_p(path, mode:)`); directories that exist are left as they are.
    pub fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        if path.as_os_str().is_empty() || path.is_dir() {
            return Ok(());
        }
        if let Some(parent) = path.parent() {
            self.create_dir_all(parent)?;
        }
        match fs::DirBuilder::new().mode(self.dir).create(path) {
            Ok(()) => fs::set_permissions(path, fs::Permissions::from_mode(self.dir)),
            // Made by someone else meanwhile: theirs.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Read a permission as Fluentd does (Ruby's `String#to_i(8)`: leading blanks, a sign, an
/// optional `0o`, octal digits with single `_` between them, the rest ignored, so `0640`, `640`
/// and `0o640` are all 0o640 and `rw` is 0), bits above `0o7777` dropped as `open(2)` and
/// `chmod(2)` drop them. `None` for a negative value, which Ruby cannot give `open` as a mode.
pub fn parse_mode(s: &str) -> Option<u32> {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let b = t.as_bytes();
    // `0o` counts as a prefix only when an octal digit follows it.
    let start = match b {
        [b'0', b'o' | b'O', d, ..] if (b'0'..=b'7').contains(d) => 2,
        _ => 0,
    };
    let mut n: u64 = 0;
    let mut prev_digit = false;
    for (i, &c) in b.iter().enumerate().skip(start) {
        if (b'0'..=b'7').contains(&c) {
            n = n.saturating_mul(8).saturating_add(u64::from(c - b'0'));
            prev_digit = true;
        } else if c == b'_' && prev_digit && b.get(i + 1).is_some_and(|d| (b'0'..=b'7').contains(d))
        {
            prev_digit = false;
        } else {
            break;
        }
    }
    if neg && n != 0 {
        return None;
    }
    Some((n & 0o7777) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values Ruby 3.1 gives for `s.to_i(8)` (recorded with `ruby -e`).
    #[test]
    fn parse_mode_reads_as_ruby() {
        for (s, want) in [
            ("0640", Some(0o640)),
            ("640", Some(0o640)),
            ("0o640", Some(0o640)),
            ("0O640", Some(0o640)),
            ("0x640", Some(0)),
            ("0640abc", Some(0o640)),
            ("  0640", Some(0o640)),
            ("-0640", None),
            ("6_4_0", Some(0o640)),
            ("0_640", Some(0o640)),
            ("", Some(0)),
            ("9", Some(0)),
            ("0o", Some(0)),
            ("08", Some(0)),
            ("o640", Some(0)),
            ("0o_640", Some(0)),
            ("__640", Some(0)),
            ("6__40", Some(6)),
            ("+644", Some(0o644)),
            ("0b1", Some(0)),
            ("17777", Some(0o7777)),
        ] {
            assert_eq!(parse_mode(s), want, "{s:?}");
        }
    }

    #[test]
    fn directories_get_exactly_the_mode_and_files_the_mode_under_the_umask() {
        let tmp = std::env::temp_dir().join(format!("logferry-perms-{}", std::process::id()));
        let _ = fs::remove_dir_all(&tmp);
        fs::create_dir(&tmp).unwrap();
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o700)).unwrap();
        let p = Perms {
            file: 0o600,
            dir: 0o777,
        };
        let deep = tmp.join("a/b");
        p.create_dir_all(&deep).unwrap();
        let mode = |q: &Path| fs::metadata(q).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&tmp.join("a")), 0o777);
        assert_eq!(mode(&deep), 0o777);
        assert_eq!(mode(&tmp), 0o700, "an existing directory keeps its mode");
        let f = deep.join("f");
        p.open_options().append(true).create(true).open(&f).unwrap();
        // The umask applies to files, as to Ruby's File.open: read it from a probe made 0o777.
        let probe = tmp.join("probe");
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o777)
            .open(&probe)
            .unwrap();
        let umask = !mode(&probe) & 0o777;
        assert_eq!(mode(&f), 0o600 & !umask);
        fs::remove_dir_all(&tmp).unwrap();
    }
}
