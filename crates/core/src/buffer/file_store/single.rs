//! The `file_single` layout of the file store: Fluentd's `buf_file_single` chunk files, one file
//! per chunk and no `.meta`.
//!
//! # Files
//!
//! A chunk of key `K` (the tag, or the value of the one record key; Fluentd's `encode_key`:
//! every byte but `-_.a-zA-Z0-9` written `%XX`, uppercase) and id `<hex>` is
//! `<dir>/<prefix>.<K>.b<hex>.buf` while staged and `<dir>/<prefix>.<K>.q<hex>.buf` once queued
//! (`prefix` is `fsb` for a directory `path`). The file holds the chunk's bytes and nothing else:
//! what the chunk holds (its key, its records) is read back from the name and the data.
//!
//! # Commits
//!
//! [`FileStore::create`](super::FileStore::create) creates the empty staged file (as Fluentd
//! does); `append` writes at the committed size and, on any error, cuts the file back to it;
//! `enqueue` renames `b` → `q`; `purge` deletes the file. With `durability power_loss` the data
//! and the directory are fsynced as in the `file` layout.
//!
//! # Resume
//!
//! Every regular file (symlinks followed, as Fluentd's `File.file?`) of the directory (and, for
//! worker 0 of a multi-worker configuration, of its parent, first) whose name is
//! `<prefix>.…\.[bq]<hex>.buf` is a chunk, as Fluentd's glob and `PATH_REGEXP`; anything else
//! is left alone. Its key is the name's bytes from the fifth to the `.` before the mark,
//! unescaped (Fluentd's `base[4..res-1]`: with a prefix that is not three bytes long, Fluentd
//! reads another key, and so does logferry), restored as the tag or as the record key's value.
//! Its created and modified times are the file's ctime and mtime; its records, with
//! `calc_num_records`, the number of msgpack values or of lines (`chunk_format`), else 0.
//!
//! | found | done |
//! |---|---|
//! | an empty file | backed up (unless `disable_chunk_backup`) and deleted, as Fluentd's broken chunk |
//! | msgpack data (the output writes msgpack) ending in a torn value | cut after the last whole value (logferry's: a crash mid-append) |
//! | msgpack data with a byte that is no msgpack | **quarantined** (Fluentd's worker dies at start-up with `MessagePack::MalformedFormatError`, and again at each restart) |
//!
//! Chunks from two directories, or with an id that is not 32 hex digits, keep their file names:
//! the store remembers each chunk's name.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use logferry_msgpack::{Error as MpError, Scanner};

use super::{FileChunk, FileStore, ResumeReport};
use crate::buffer::meta::{ChunkId, ChunkMeta};
use crate::perms::Perms;

/// The extension of chunk files (Fluentd's `FileSingleChunk::PATH_EXT`).
pub const PATH_EXT: &str = "buf";

/// How the records of resumed chunks are counted (`chunk_format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CountFormat {
    /// Msgpack values.
    Msgpack,
    /// Lines (a last one without `\n` counts).
    Text,
}

/// Where and how a `file_single` buffer names its chunk files.
#[derive(Clone, Debug)]
pub struct SingleLayout {
    /// The part of the file names before `.<key>.` (`fsb` for a directory path).
    pub prefix: String,
    /// The record key whose value is in the names; `None`: the tag.
    pub key: Option<String>,
    /// Whether the tag is a chunk key (a resumed chunk's name is its tag only then, or when
    /// the name holds one).
    pub key_tag: bool,
    /// How resumed chunks' records are counted; `None` without `calc_num_records` (0 records).
    pub count: Option<CountFormat>,
    /// The output writes msgpack (uncompressed): a torn last value is cut at resume.
    pub msgpack_data: bool,
    /// Another directory resumed first (worker 0 of a multi-worker configuration: the parent of
    /// its `worker0` directory).
    pub extra_resume_dir: Option<PathBuf>,
    /// Where broken (empty) chunk files are backed up before they are deleted, with the modes;
    /// `None` with `disable_chunk_backup`.
    pub backup: Option<(PathBuf, Perms)>,
}

/// A chunk file's name, split around its stage mark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct SingleName {
    /// The directory.
    pub dir: PathBuf,
    /// The name up to and including the `.` before the mark.
    pub before: String,
    /// The id digits after the mark.
    pub hex: String,
}

impl SingleName {
    /// The path in stage (`b`) or queue (`q`).
    pub fn path(&self, queued: bool) -> PathBuf {
        self.dir.join(format!(
            "{}{}{}.{PATH_EXT}",
            self.before,
            if queued { 'q' } else { 'b' },
            self.hex
        ))
    }
}

/// Fluentd's `encode_key`: `URI::Parser#escape(k, /[^-_.a-zA-Z0-9]/n)`, every other byte `%XX`.
pub fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for &b in key.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Fluentd's `decode_key`: `URI::Parser#unescape`, every `%` and two hex digits the byte (`+`
/// stays).
pub fn decode_key(key: &[u8]) -> Vec<u8> {
    fn digit(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let mut out = Vec::with_capacity(key.len());
    let mut i = 0;
    while i < key.len() {
        if key[i] == b'%' && i + 2 < key.len() {
            if let (Some(h), Some(l)) = (digit(key[i + 1]), digit(key[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(key[i]);
        i += 1;
    }
    out
}

/// What a chunk file name says: staged or queued, the key as written (escaped), and the name
/// split around the mark. `None` for a name Fluentd does not take as a chunk
/// (`/\.(b|q)([0-9a-f]+)\.buf*\Z/` not found, or not ending in `.buf`).
pub(super) fn parse_name(name: &str) -> Option<(bool, Vec<u8>, String, String)> {
    let stem = name.strip_suffix(".buf")?;
    // The mark and id: after the last '.' of the stem (the id holds no '.').
    let dot = stem.rfind('.')?;
    let mark = stem.as_bytes().get(dot + 1)?;
    let queued = match mark {
        b'b' => false,
        b'q' => true,
        _ => return None,
    };
    let hex = &stem[dot + 2..];
    if hex.is_empty() || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    // Fluentd's `base[4..res-1]` (bytes: Fluentd runs with -Eascii-8bit): from the fifth byte to
    // the '.' before the mark, empty when that '.' is at or before the fifth byte.
    let key = if dot > 4 {
        name.as_bytes()[4..dot].to_vec()
    } else {
        Vec::new()
    };
    Some((queued, key, stem[..=dot].to_string(), hex.to_string()))
}

/// The name of a new staged chunk: `<prefix>.<encoded key>.b<hex>.buf`.
pub(super) fn new_name(dir: &Path, prefix: &str, key: &str, id: &ChunkId) -> SingleName {
    SingleName {
        dir: dir.to_path_buf(),
        before: format!("{prefix}.{}.", encode_key(key)),
        hex: id.hex(),
    }
}

/// The key value of a chunk's metadata that names its file (Fluentd: `metadata.tag` or the
/// variable; nil is `""`).
pub(super) fn key_of<'m>(layout: &SingleLayout, meta: &'m ChunkMeta) -> &'m str {
    match &layout.key {
        Some(k) => meta
            .variables
            .iter()
            .find(|(n, _)| n == k)
            .map_or("", |(_, v)| v.as_str()),
        None => meta.tag.as_deref().unwrap_or(""),
    }
}

/// Fluentd's `restore_size` on the bytes `f` reads: the number of msgpack values (whole ones;
/// `Err` at a byte that starts none) or of lines. Also returns the end of the last whole msgpack
/// value (the length when the data ends with one).
fn count(mut f: impl Read, format: CountFormat) -> io::Result<Result<(u64, u64), String>> {
    let mut block = vec![0u8; 64 << 10];
    let mut n = 0u64;
    // text
    let mut last = None;
    // msgpack
    let mut pending: Vec<u8> = Vec::new();
    let mut scanner = Scanner::new();
    let mut consumed = 0u64;
    loop {
        let got = match f.read(&mut block) {
            Ok(0) => break,
            Ok(k) => &block[..k],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        match format {
            CountFormat::Text => {
                n += got.iter().filter(|&&b| b == b'\n').count() as u64;
                last = got.last().copied();
            }
            CountFormat::Msgpack => {
                pending.extend_from_slice(got);
                let mut off = 0;
                while off < pending.len() {
                    match scanner.scan(&pending[off..]) {
                        Ok(len) => {
                            n += 1;
                            off += len;
                            consumed += len as u64;
                            scanner.reset();
                        }
                        Err(MpError::Incomplete) => break,
                        Err(e) => {
                            return Ok(Err(format!(
                                "not msgpack at byte {consumed}: {e} (after {n} values)"
                            )))
                        }
                    }
                }
                pending.drain(..off);
            }
        }
    }
    if format == CountFormat::Text {
        if last.is_some_and(|b| b != b'\n') {
            n += 1;
        }
        return Ok(Ok((n, 0)));
    }
    Ok(Ok((n, consumed)))
}

fn file_times(m: &fs::Metadata) -> (i64, i64) {
    use std::os::unix::fs::MetadataExt;
    (m.ctime(), m.mtime())
}

/// Resume a `file_single` directory (see the module doc).
pub(super) fn resume(
    store: &FileStore,
    layout: &SingleLayout,
) -> io::Result<(Vec<FileChunk>, ResumeReport, HashMap<ChunkId, SingleName>)> {
    let mut report = ResumeReport::default();
    let mut names: HashMap<ChunkId, SingleName> = HashMap::new();
    let mut chunks = Vec::new();
    let mut dirs: Vec<&Path> = Vec::new();
    if let Some(d) = &layout.extra_resume_dir {
        dirs.push(d);
    }
    dirs.push(&store.dir);
    let lead = format!("{}.", layout.prefix);
    for dir in dirs {
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound && dir != store.dir => continue,
            Err(e) => return Err(e),
        };
        let mut found: Vec<String> = Vec::new();
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(dir = %dir.display(), error = %e, "listing the file_single buffer directory failed; resuming what was listed");
                    break;
                }
            };
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if name.starts_with(&lead) && name.len() > lead.len() + 3 {
                found.push(name);
            }
        }
        found.sort_unstable();
        for name in found {
            if let Some(c) = resume_file(store, layout, dir, &name, &mut report, &mut names) {
                chunks.push(c);
            }
        }
    }
    chunks.sort_by_key(|c| (c.meta.modified, c.id));
    super::resume::log_resumed(store, "file_single", &chunks, &report);
    Ok((chunks, report, names))
}

fn resume_file(
    store: &FileStore,
    layout: &SingleLayout,
    dir: &Path,
    name: &str,
    report: &mut ResumeReport,
    names: &mut HashMap<ChunkId, SingleName>,
) -> Option<FileChunk> {
    let path = dir.join(name);
    // Fluentd's `File.file?`: a regular file, through symlinks.
    let md = fs::metadata(&path).ok().filter(|m| m.is_file())?;
    let Some((queued, key, before, hex)) = parse_name(name) else {
        tracing::debug!(file = %path.display(), "unknown state chunk found: left alone");
        return None;
    };
    let id = match ChunkId::from_hex(&hex) {
        Some(id) if !names.contains_key(&id) => id,
        _ => {
            let mut id = ChunkId::generate();
            while names.contains_key(&id) {
                id = ChunkId::generate();
            }
            id
        }
    };
    let sname = SingleName {
        dir: dir.to_path_buf(),
        before,
        hex: hex.clone(),
    };
    let mut len = md.len();
    if len == 0 {
        broken(store, layout, &path, &hex, queued, report);
        return None;
    }
    if layout.msgpack_data {
        match File::open(&path).and_then(|f| count(f, CountFormat::Msgpack)) {
            Err(e) => {
                return super::resume::quarantine(
                    store,
                    &[path],
                    format!("cannot read data: {e}"),
                    report,
                )
            }
            Ok(Err(why)) => {
                return super::resume::quarantine(store, &[path], why, report);
            }
            Ok(Ok((_, whole))) if whole < len => {
                let cut = OpenOptions::new().write(true).open(&path).and_then(|f| {
                    f.set_len(whole)?;
                    if store.sync() {
                        f.sync_all()?;
                    }
                    Ok(())
                });
                if let Err(e) = cut {
                    return super::resume::quarantine(
                        store,
                        &[path],
                        format!(
                            "cannot cut a torn msgpack value ({len} bytes, {whole} whole): {e}"
                        ),
                        report,
                    );
                }
                tracing::info!(chunk = %name, whole, found = len, "file_single buffer chunk: torn last msgpack value cut off");
                report.truncated += 1;
                len = whole;
                if len == 0 {
                    broken(store, layout, &path, &hex, queued, report);
                    return None;
                }
            }
            Ok(Ok(_)) => {}
        }
    }
    let records = match layout.count {
        None => 0,
        Some(format) => match File::open(&path).and_then(|f| count(f, format)) {
            Ok(Ok((n, _))) => n,
            Ok(Err(why)) => return super::resume::quarantine(store, &[path], why, report),
            Err(e) => {
                return super::resume::quarantine(
                    store,
                    &[path],
                    format!("cannot read data: {e}"),
                    report,
                )
            }
        },
    };
    let value = String::from_utf8_lossy(&decode_key(&key)).into_owned();
    let mut meta = ChunkMeta::default();
    match &layout.key {
        Some(k) => meta.variables.push((k.clone(), value)),
        None if layout.key_tag || !value.is_empty() => meta.tag = Some(value),
        None => {}
    }
    let (created, modified) = file_times(&md);
    meta.records = records;
    meta.bytes = len;
    meta.created = created;
    meta.modified = modified;
    names.insert(id, sname);
    Some(FileChunk { id, meta, queued })
}

/// Fluentd's `handle_broken_files`: the file copied to `<backup dir>/<hex>.log` (appended),
/// unless backups are disabled, then deleted.
fn broken(
    store: &FileStore,
    layout: &SingleLayout,
    path: &Path,
    hex: &str,
    queued: bool,
    report: &mut ResumeReport,
) {
    tracing::error!(file = %path.display(), mode = if queued { "queued" } else { "staged" }, "found broken chunk file during resume: {} file chunk is empty", if queued { "enqueued" } else { "staged" });
    if let Some((dir, perms)) = &layout.backup {
        let dest = dir.join(format!("{hex}.log"));
        let copied = perms.create_dir_all(dir).and_then(|()| {
            use std::os::unix::fs::OpenOptionsExt;
            let mut out = OpenOptions::new()
                .append(true)
                .create(true)
                .mode(perms.file)
                .open(&dest)?;
            let mut src = File::open(path)?;
            io::copy(&mut src, &mut out)?;
            if store.sync() {
                out.sync_all()?;
            }
            Ok(())
        });
        match copied {
            Ok(()) => tracing::warn!("bad chunk is moved to {}", dest.display()),
            Err(e) => {
                tracing::error!(error = %e, "backup failed. Delete corresponding files.")
            }
        }
    } else {
        tracing::warn!("disable_chunk_backup is true. {hex} chunk is thrown away.");
    }
    match fs::remove_file(path) {
        Ok(()) => report.purged += 1,
        Err(e) => {
            tracing::warn!(file = %path.display(), error = %e, "could not delete a broken chunk file")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_encode_as_fluentd() {
        assert_eq!(encode_key("app.a-b_c"), "app.a-b_c");
        assert_eq!(encode_key("a/b é"), "a%2Fb%20%C3%A9");
        assert_eq!(encode_key(""), "");
        assert_eq!(encode_key("x%y+z"), "x%25y%2Bz");
        for k in ["app.a-b_c", "a/b é", "", "x%y+z", "\u{1F600}*?"] {
            assert_eq!(decode_key(encode_key(k).as_bytes()), k.as_bytes());
        }
        // Lowercase escapes and stray '%' are read as Fluentd's unescape reads them.
        assert_eq!(decode_key(b"a%2fb"), b"a/b");
        assert_eq!(decode_key(b"100%"), b"100%");
        assert_eq!(decode_key(b"%zz%4"), b"%zz%4");
        assert_eq!(decode_key(b"a+b"), b"a+b");
    }

    #[test]
    fn names_parse_as_fluentd() {
        let hex = "5e9c1b0a2d3f4e5f60718293a4b5c6d7";
        let n = format!("fsb.app.a.b{hex}.buf");
        let (q, key, before, h) = parse_name(&n).unwrap();
        assert!(!q);
        assert_eq!(key, b"app.a");
        assert_eq!(before, "fsb.app.a.");
        assert_eq!(h, hex);
        let (q, key, ..) = parse_name(&format!("fsb.a%2Fb.q{hex}.buf")).unwrap();
        assert!(q);
        assert_eq!(decode_key(&key), b"a/b");
        // An empty key (no tag chunk key, or a nil value).
        let (_, key, before, _) = parse_name(&format!("fsb..b{hex}.buf")).unwrap();
        assert!(key.is_empty());
        assert_eq!(before, "fsb..");
        // Fluentd reads the key from the fifth byte, whatever the prefix.
        let (_, key, ..) = parse_name(&format!("mybuf.app.b{hex}.buf")).unwrap();
        assert_eq!(key, b"f.app");
        let (_, key, ..) = parse_name(&format!("abc.x.b{hex}.buf")).unwrap();
        assert_eq!(key, b"x");
        let (_, key, ..) = parse_name(&format!("ab.x.b{hex}.buf")).unwrap();
        assert!(key.is_empty());
        let (_, key, ..) = parse_name(&format!("a.x.b{hex}.buf")).unwrap();
        assert!(key.is_empty());
        // Any number of hex digits.
        assert_eq!(parse_name("fsb.t.b0.buf").unwrap().3, "0");
        // Not chunks: uppercase hex, another mark, another extension, out_file's own files.
        for bad in [
            format!("fsb.t.b{}.buf", hex.to_uppercase()),
            format!("fsb.t.x{hex}.buf"),
            format!("fsb.t.b{hex}.log"),
            format!("fsb.t.b{hex}.buf.meta"),
            "fsb.t.b.buf".to_string(),
            "fsb.t.buf".to_string(),
            "fsb.20231114.log.buf".to_string(),
        ] {
            assert_eq!(parse_name(&bad), None, "{bad}");
        }
    }

    #[test]
    fn names_round_trip() {
        let id = ChunkId::generate();
        let n = new_name(Path::new("/d"), "fsb", "a b", &id);
        assert_eq!(
            n.path(false),
            PathBuf::from(format!("/d/fsb.a%20b.b{}.buf", id.hex()))
        );
        assert_eq!(
            n.path(true),
            PathBuf::from(format!("/d/fsb.a%20b.q{}.buf", id.hex()))
        );
        let name = n
            .path(true)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        let (q, key, before, hex) = parse_name(&name).unwrap();
        assert!(q);
        assert_eq!(decode_key(&key), b"a b");
        assert_eq!(before, n.before);
        assert_eq!(hex, id.hex());
    }

    #[test]
    fn counts_as_fluentd_restore_size() {
        let t = |d: &[u8]| count(d, CountFormat::Text).unwrap().unwrap().0;
        assert_eq!(t(b""), 0);
        assert_eq!(t(b"a\nb\n"), 2);
        assert_eq!(t(b"a\nb"), 2);
        assert_eq!(t(b"\n\n"), 2);
        let m = |d: &[u8]| count(d, CountFormat::Msgpack).unwrap();
        assert_eq!(m(&[0x01, 0x92, 0x01, 0xa1, b'x']), Ok((2, 5)));
        // A torn last value: the whole ones are counted, and where they end.
        assert_eq!(m(&[0x01, 0x92, 0x01]), Ok((1, 1)));
        assert!(m(&[0x01, 0xc1, 0x01]).is_err());
        // msgpack counted as lines (chunk_format text over msgpack, as Fluentd's auto for
        // out_forward): bytes 0x0a are line ends.
        assert_eq!(t(&[0x92, 0x0a, 0x0a, 0x01]), 3);
    }
    fn layout(key: Option<&str>, count: Option<CountFormat>, msgpack_data: bool) -> SingleLayout {
        SingleLayout {
            prefix: "fsb".into(),
            key: key.map(str::to_string),
            key_tag: key.is_none(),
            count,
            msgpack_data,
            extra_resume_dir: None,
            backup: None,
        }
    }

    const H1: &str = "5e9c1b0a2d3f4e5f60718293a4b5c6d1";
    const H2: &str = "5e9c1b0a2d3f4e5f60718293a4b5c6d2";
    const H3: &str = "5e9c1b0a2d3f4e5f60718293a4b5c6d3";
    const H4: &str = "5e9c1b0a2d3f4e5f60718293a4b5c6d4";

    fn open(dir: &Path, l: SingleLayout) -> (FileStore, Vec<FileChunk>, ResumeReport) {
        FileStore::open_single(dir, l, super::super::Durability::Process, Perms::default()).unwrap()
    }

    /// Chunks in Fluentd's layout, text: both stages resumed with their tag and lines; empty
    /// files of both stages backed up and deleted; other names left alone.
    #[test]
    fn resumes_fluentd_text_chunks() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("buf");
        let backup = t.path().join("backup");
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join(format!("fsb.app.a.b{H1}.buf")), "l1\nl2\n").unwrap();
        fs::write(d.join(format!("fsb.a%2Fb%20c.q{H2}.buf")), "x\ny").unwrap();
        fs::write(d.join(format!("fsb.app.e.b{H3}.buf")), "").unwrap();
        fs::write(d.join(format!("fsb.app.e.q{H4}.buf")), "").unwrap();
        for other in [
            "fsb.notes.buf",
            "fsb.app.x1.buf",
            "other.app.b1.buf",
            "fsb.app.b1.log",
        ] {
            fs::write(d.join(other), "keep\n").unwrap();
        }
        let mut l = layout(None, Some(CountFormat::Text), false);
        l.backup = Some((backup.clone(), Perms::default()));
        let (store, chunks, report) = open(&d, l);
        assert_eq!(chunks.len(), 2);
        assert_eq!(report.purged, 2);
        let a = chunks.iter().find(|c| !c.queued).unwrap();
        assert_eq!(a.meta.tag.as_deref(), Some("app.a"));
        assert_eq!((a.meta.records, a.meta.bytes), (2, 6));
        assert_eq!(a.id.hex(), H1);
        assert!(a.meta.created > 0 && a.meta.modified > 0);
        let q = chunks.iter().find(|c| c.queued).unwrap();
        assert_eq!(q.meta.tag.as_deref(), Some("a/b c"));
        assert_eq!((q.meta.records, q.meta.bytes), (2, 3));
        assert_eq!(&store.read(q).unwrap()[..], b"x\ny");
        assert_eq!(
            store.data_path(q),
            d.join(format!("fsb.a%2Fb%20c.q{H2}.buf"))
        );
        // The empty ones are gone, backed up under their ids; the others are untouched.
        assert!(!d.join(format!("fsb.app.e.b{H3}.buf")).exists());
        assert!(!d.join(format!("fsb.app.e.q{H4}.buf")).exists());
        assert!(backup.join(format!("{H3}.log")).exists());
        assert!(backup.join(format!("{H4}.log")).exists());
        for other in [
            "fsb.notes.buf",
            "fsb.app.x1.buf",
            "other.app.b1.buf",
            "fsb.app.b1.log",
        ] {
            assert_eq!(fs::read(d.join(other)).unwrap(), b"keep\n");
        }
        assert!(!d.join(super::super::QUARANTINE_DIR).exists());
    }

    /// msgpack chunks: counted as values; a torn last value cut off; a byte that starts no value
    /// quarantines the file; without calc_num_records every chunk counts 0 records.
    #[test]
    fn resumes_msgpack_chunks() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("buf");
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join(format!("fsb.app.a.q{H1}.buf")), [0x01, 0x02, 0x0a]).unwrap();
        fs::write(d.join(format!("fsb.app.b.b{H2}.buf")), [0x01, 0x92, 0x01]).unwrap();
        fs::write(d.join(format!("fsb.app.c.q{H3}.buf")), [0x01, 0xc1]).unwrap();
        fs::write(d.join(format!("fsb.app.d.b{H4}.buf")), [0x92]).unwrap();
        let (store, chunks, report) = open(&d, layout(None, Some(CountFormat::Msgpack), true));
        assert_eq!(chunks.len(), 2);
        assert_eq!(report.truncated, 2);
        assert_eq!(report.quarantined.len(), 1);
        // The torn-only file is empty once cut: deleted as a broken chunk.
        assert_eq!(report.purged, 1);
        let a = chunks.iter().find(|c| c.queued).unwrap();
        assert_eq!((a.meta.records, a.meta.bytes), (3, 3));
        let b = chunks.iter().find(|c| !c.queued).unwrap();
        assert_eq!((b.meta.records, b.meta.bytes), (1, 1));
        assert_eq!(&store.read(b).unwrap()[..], [0x01]);
        assert!(d
            .join(super::super::QUARANTINE_DIR)
            .join(format!("fsb.app.c.q{H3}.buf"))
            .exists());
        drop(store);

        // Lines over msgpack bytes (Fluentd's auto for out_forward), and no count at all.
        let (_, chunks, _) = open(&d, layout(None, Some(CountFormat::Text), true));
        let a = chunks.iter().find(|c| c.queued).unwrap();
        assert_eq!(a.meta.records, 1);
        let (_, chunks, _) = open(&d, layout(None, None, true));
        assert!(chunks
            .iter()
            .all(|c| c.meta.records == 0 && c.meta.bytes > 0));
    }

    /// A record key's value is restored from the name; a new chunk is named by it, staged then
    /// queued, and what it holds resumes as it was.
    #[test]
    fn chunks_round_trip_through_a_restart() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("buf");
        let l = layout(Some("$.k"), Some(CountFormat::Text), false);
        let (store, chunks, _) = open(&d, l.clone());
        assert!(chunks.is_empty());
        let meta = ChunkMeta {
            variables: vec![("$.k".into(), "x/y é".into())],
            ..ChunkMeta::default()
        };
        let mut c = store.create(meta).unwrap();
        let staged = d.join(format!("fsb.x%2Fy%20%C3%A9.b{}.buf", c.id.hex()));
        assert!(staged.exists());
        assert_eq!(fs::read(&staged).unwrap(), b"");
        store.append(&mut c, b"one\ntwo\n", 2).unwrap();
        store.append(&mut c, b"three\n", 1).unwrap();
        assert_eq!((c.meta.records, c.meta.bytes), (3, 14));
        let mut q = store.create(ChunkMeta::default()).unwrap();
        store.append(&mut q, b"nil key\n", 1).unwrap();
        store.enqueue(&mut q).unwrap();
        let queued = d.join(format!("fsb..q{}.buf", q.id.hex()));
        assert!(queued.exists());
        assert_eq!(fs::read_dir(&d).unwrap().count(), 2);
        drop(store);

        let (store, chunks, _) = open(&d, l);
        assert_eq!(chunks.len(), 2);
        let r = chunks.iter().find(|x| x.id == c.id).unwrap();
        assert!(!r.queued);
        assert_eq!(
            r.meta.variables,
            vec![("$.k".to_string(), "x/y é".to_string())]
        );
        assert_eq!((r.meta.records, r.meta.bytes), (3, 14));
        let rq = chunks.iter().find(|x| x.id == q.id).unwrap();
        assert!(rq.queued);
        assert_eq!(rq.meta.variables, vec![("$.k".to_string(), String::new())]);
        store.purge(rq).unwrap();
        assert!(!queued.exists());
        let mut r = r.clone();
        store.append(&mut r, b"four\n", 1).unwrap();
        assert_eq!(&store.read(&r).unwrap()[..], b"one\ntwo\nthree\nfour\n");
    }

    /// Worker 0 of a multi-worker configuration resumes the parent directory's chunks too.
    #[test]
    fn resumes_the_extra_directory() {
        let t = tempfile::tempdir().unwrap();
        let parent = t.path().join("buf");
        let d = parent.join("worker0");
        fs::create_dir_all(&d).unwrap();
        fs::write(parent.join(format!("fsb.app.a.b{H1}.buf")), "a\n").unwrap();
        fs::write(d.join(format!("fsb.app.b.q{H1}.buf")), "b\n").unwrap();
        let mut l = layout(None, Some(CountFormat::Text), false);
        l.extra_resume_dir = Some(parent.clone());
        let (store, chunks, _) = open(&d, l);
        assert_eq!(chunks.len(), 2);
        // Same id in both: the second gets another, each keeps its file.
        assert_ne!(chunks[0].id, chunks[1].id);
        let mut a = chunks.iter().find(|c| !c.queued).unwrap().clone();
        assert_eq!(
            store.data_path(&a),
            parent.join(format!("fsb.app.a.b{H1}.buf"))
        );
        store.enqueue(&mut a).unwrap();
        assert!(parent.join(format!("fsb.app.a.q{H1}.buf")).exists());
    }
}
