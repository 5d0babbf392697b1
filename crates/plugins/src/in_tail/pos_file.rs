//! The position file, byte for byte as Fluentd 1.16's `in_tail/position_file.rb` writes it: one
//! line per file, `path\tPOS\tINODE\n` with POS and INODE as 16 lower-case hex digits. An entry is
//! updated in place (the 16 or 33 bytes after the path), a new one is appended; an entry that is
//! no longer watched gets the position `ffffffffffffffff` and disappears at the next compaction
//! (at start, and every `pos_file_compaction_interval`). An existing Fluentd pos file is taken up
//! where Fluentd stopped.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// The position of an entry that is no longer watched.
pub const UNWATCHED: u64 = u64::MAX;

/// What identifies an entry: its path, or its inode with `follow_inodes`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    /// The path (the default).
    Path(String),
    /// The inode (`follow_inodes true`).
    Ino(u64),
}

/// One entry: where its fields sit in the file and what they hold.
#[derive(Clone, Debug)]
struct Entry {
    /// Offset of the first POS digit.
    seek: u64,
    pos: u64,
    ino: u64,
    path: String,
    /// Unwatched: written as `ffffffffffffffff` and no longer updated.
    dead: bool,
}

/// Handle of an entry of a [`PositionFile`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EntryId(usize);

/// An open position file.
pub struct PositionFile {
    file: File,
    follow_inodes: bool,
    entries: Vec<Option<Entry>>,
    map: HashMap<Key, EntryId>,
}

fn parse_line(line: &[u8]) -> Option<(String, u64, u64)> {
    // Fluentd: /^([^\t]+)\t([0-9a-fA-F]+)\t([0-9a-fA-F]+)/
    let line = std::str::from_utf8(line).ok()?;
    let mut it = line.splitn(3, '\t');
    let path = it.next().filter(|p| !p.is_empty())?;
    let pos = it.next()?;
    let rest = it.next()?;
    let ino: String = rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    if pos.is_empty() || ino.is_empty() || !pos.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let pos = u64::from_str_radix(pos, 16).ok()?;
    let ino = u64::from_str_radix(&ino, 16).ok()?;
    Some((path.to_string(), pos, ino))
}

/// Format one line as Fluentd does (`"%s\t%016x\t%016x\n"`).
pub fn format_line(path: &str, pos: u64, ino: u64) -> String {
    format!("{path}\t{pos:016x}\t{ino:016x}\n")
}

impl PositionFile {
    /// Open (creating it and its directory with `perms`) and load, compacting as Fluentd does at start: the
    /// unwatched entries go, a repeated key keeps its last line, and with `existing` (the keys of
    /// the files the paths match now) entries of other files go too.
    pub fn open(
        path: &Path,
        follow_inodes: bool,
        existing: Option<&dyn Fn(&Key) -> bool>,
        perms: logferry_core::perms::Perms,
    ) -> std::io::Result<(PositionFile, Vec<String>)> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            perms.create_dir_all(dir)?;
        }
        let file = perms
            .open_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let mut pf = PositionFile {
            file,
            follow_inodes,
            entries: Vec::new(),
            map: HashMap::new(),
        };
        let warnings = pf.compact(existing)?;
        Ok((pf, warnings))
    }

    fn key(&self, path: &str, ino: u64) -> Key {
        if self.follow_inodes {
            Key::Ino(ino)
        } else {
            Key::Path(path.to_string())
        }
    }

    /// Rewrite the file with the live entries only and reload the map.
    fn compact(&mut self, existing: Option<&dyn Fn(&Key) -> bool>) -> std::io::Result<Vec<String>> {
        let mut text = Vec::new();
        self.file.seek(SeekFrom::Start(0))?;
        self.file.read_to_end(&mut text)?;
        let mut warnings = Vec::new();
        let mut order: Vec<Key> = Vec::new();
        let mut latest: HashMap<Key, (String, u64, u64)> = HashMap::new();
        for line in text.split_inclusive(|b| *b == b'\n') {
            let Some((path, pos, ino)) = parse_line(line) else {
                warnings.push(format!(
                    "Unparsable line in pos_file: {}",
                    String::from_utf8_lossy(line)
                ));
                continue;
            };
            if pos == UNWATCHED {
                continue;
            }
            let key = self.key(&path, ino);
            if latest.contains_key(&key) {
                warnings.push(format!("{path} already exists. use latest one"));
                order.retain(|k| *k != key);
            }
            order.push(key.clone());
            latest.insert(key, (path, pos, ino));
        }
        if let Some(keep) = existing {
            order.retain(|k| keep(k));
        }
        let mut out = String::new();
        self.entries.clear();
        self.map.clear();
        for key in order {
            let (path, pos, ino) = latest.remove(&key).expect("kept key");
            let seek = (out.len() + path.len() + 1) as u64;
            out.push_str(&format_line(&path, pos, ino));
            self.map.insert(key, EntryId(self.entries.len()));
            self.entries.push(Some(Entry {
                seek,
                pos,
                ino,
                path,
                dead: false,
            }));
        }
        self.file.set_len(0)?;
        self.file.write_all_at(out.as_bytes(), 0)?;
        Ok(warnings)
    }

    /// Fluentd's `try_compact` (every `pos_file_compaction_interval`): drop the unwatched
    /// entries. Entries keep their handles; only their offsets move.
    pub fn try_compact(&mut self) -> std::io::Result<()> {
        let mut out = String::new();
        for e in self.entries.iter_mut().flatten() {
            if e.pos == UNWATCHED {
                continue;
            }
            e.seek = (out.len() + e.path.len() + 1) as u64;
            out.push_str(&format_line(&e.path, e.pos, e.ino));
        }
        for slot in self.entries.iter_mut() {
            if slot.as_ref().is_some_and(|e| e.pos == UNWATCHED) {
                *slot = None;
            }
        }
        self.file.set_len(0)?;
        self.file.write_all_at(out.as_bytes(), 0)
    }

    /// The entry of a file (Fluentd's `pf[target_info]`), appended as `0/0` when new.
    pub fn get(&mut self, path: &str, ino: u64) -> std::io::Result<EntryId> {
        let key = self.key(path, ino);
        if let Some(id) = self.map.get(&key) {
            return Ok(*id);
        }
        let end = self.file.seek(SeekFrom::End(0))?;
        let line = format_line(path, 0, 0);
        self.file.write_all_at(line.as_bytes(), end)?;
        let id = EntryId(self.entries.len());
        self.entries.push(Some(Entry {
            seek: end + path.len() as u64 + 1,
            pos: 0,
            ino: 0,
            path: path.to_string(),
            dead: false,
        }));
        self.map.insert(key, id);
        Ok(id)
    }

    /// Is there an entry for this file already?
    pub fn contains(&self, path: &str, ino: u64) -> bool {
        self.map.contains_key(&self.key(path, ino))
    }

    /// The recorded (inode, position) of an entry.
    pub fn read(&self, id: EntryId) -> (u64, u64) {
        self.entries
            .get(id.0)
            .and_then(|e| e.as_ref())
            .map_or((0, 0), |e| (e.ino, e.pos))
    }

    /// Record inode and position.
    pub fn update(&mut self, id: EntryId, ino: u64, pos: u64) -> std::io::Result<()> {
        let Some(e) = self.entries.get_mut(id.0).and_then(|e| e.as_mut()) else {
            return Ok(());
        };
        if e.dead {
            return Ok(());
        }
        e.ino = ino;
        e.pos = pos;
        let s = format!("{pos:016x}\t{ino:016x}");
        self.file.write_all_at(s.as_bytes(), e.seek)
    }

    /// Record the position.
    pub fn update_pos(&mut self, id: EntryId, pos: u64) -> std::io::Result<()> {
        let Some(e) = self.entries.get_mut(id.0).and_then(|e| e.as_mut()) else {
            return Ok(());
        };
        if e.dead || e.pos == pos {
            return Ok(());
        }
        e.pos = pos;
        let s = format!("{pos:016x}");
        self.file.write_all_at(s.as_bytes(), e.seek)
    }

    /// The file is no longer watched: mark its entry (Fluentd's `unwatch`).
    pub fn unwatch(&mut self, path: &str, ino: u64) -> std::io::Result<()> {
        let key = self.key(path, ino);
        if let Some(id) = self.map.remove(&key) {
            self.kill(id)?;
        }
        Ok(())
    }

    fn kill(&mut self, id: EntryId) -> std::io::Result<()> {
        self.update_pos(id, UNWATCHED)?;
        if let Some(e) = self.entries.get_mut(id.0).and_then(|e| e.as_mut()) {
            e.dead = true;
        }
        Ok(())
    }

    /// Unwatch every entry whose key `keep` rejects (Fluentd's `unwatch_removed_targets`).
    pub fn unwatch_removed(&mut self, keep: &dyn Fn(&Key) -> bool) -> std::io::Result<()> {
        let gone: Vec<Key> = self.map.keys().filter(|k| !keep(k)).cloned().collect();
        for k in gone {
            if let Some(id) = self.map.remove(&k) {
                self.kill(id)?;
            }
        }
        Ok(())
    }

    /// Flush to the disk (at stop).
    pub fn sync(&self) {
        let _ = self.file.sync_data();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fluentd_format_in_place_updates_and_compaction() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("sub/t.pos");
        // As Fluentd 1.16.11 left it (recorded): a stale duplicate, an unwatched entry, junk.
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(
            &p,
            "/a.log\t0000000000000005\t0000000000000009\n\
             /b.log\tffffffffffffffff\t0000000000000002\n\
             junk\n\
             /a.log\t0000000000000019\t000000000098c21f\n",
        )
        .unwrap();
        let (mut pf, warnings) = PositionFile::open(&p, false, None, Default::default()).unwrap();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "/a.log\t0000000000000019\t000000000098c21f\n"
        );
        let a = pf.get("/a.log", 0x98c21f).unwrap();
        assert_eq!(pf.read(a), (0x98c21f, 0x19));
        let c = pf.get("/c.log", 7).unwrap();
        pf.update(c, 7, 300).unwrap();
        pf.update_pos(a, 0x20).unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "/a.log\t0000000000000020\t000000000098c21f\n\
             /c.log\t000000000000012c\t0000000000000007\n"
        );
        pf.unwatch("/a.log", 0).unwrap();
        // A watcher still reading it no longer writes its position.
        pf.update_pos(a, 0x30).unwrap();
        assert!(std::fs::read_to_string(&p)
            .unwrap()
            .starts_with("/a.log\tffffffffffffffff\t"));
        pf.try_compact().unwrap();
        pf.update_pos(c, 301).unwrap();
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "/c.log\t000000000000012d\t0000000000000007\n"
        );
        // Start-up compaction keeps only the files the paths match now.
        drop(pf);
        let keep = |k: &Key| *k == Key::Path("/x".into());
        let (pf, _) = PositionFile::open(&p, false, Some(&keep), Default::default()).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "");
        drop(pf);
    }

    #[test]
    fn follow_inodes_keys_by_inode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.pos");
        std::fs::write(
            &p,
            "/a.log\t0000000000000005\t0000000000000009\n/a.log.1\t0000000000000006\t000000000000000a\n",
        )
        .unwrap();
        let (mut pf, _) = PositionFile::open(&p, true, None, Default::default()).unwrap();
        let e = pf.get("/whatever", 10).unwrap();
        assert_eq!(pf.read(e), (10, 6));
        assert!(pf.contains("/x", 9));
    }
}
