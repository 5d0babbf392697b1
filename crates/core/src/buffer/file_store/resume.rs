//! Resuming a buffer directory: every crash state back to a consistent one, without reading
//! chunk data (except to validate a Fluentd-written chunk, which has no committed size).

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use logferry_msgpack::{Error as MpError, Scanner};

use super::codec::{decode_meta_record, MAX_META_LEN};
use super::{FileChunk, FileStore, ResumeReport, WARN_LIMIT};
use crate::buffer::meta::ChunkId;

/// The files found for one id (the 32 characters after `buffer.b` / `buffer.q`).
#[derive(Default)]
struct Slot {
    /// (queued, file name)
    data: Vec<(bool, String)>,
    /// (queued, file name)
    meta: Vec<(bool, String)>,
}

/// What a file name in the buffer dir is.
enum Name<'a> {
    Data { queued: bool, id: &'a str },
    Meta { queued: bool, id: &'a str },
    Tmp,
    Other,
}

fn classify<'a>(name: &'a str, suffix: &str) -> Name<'a> {
    let Some(rest) = name.strip_prefix("buffer.") else {
        return Name::Other;
    };
    if let Some(base) = name.strip_suffix(".tmp") {
        // Only the tmp file of one of our names (a commit in progress).
        return match classify(base, suffix) {
            Name::Data { .. } | Name::Meta { .. } => Name::Tmp,
            _ => Name::Other,
        };
    }
    let queued = match rest.as_bytes().first() {
        Some(b'b') => false,
        Some(b'q') => true,
        _ => return Name::Other,
    };
    let body = &rest[1..];
    if let Some(id) = body
        .strip_suffix(".meta")
        .and_then(|b| b.strip_suffix(suffix))
    {
        return Name::Meta { queued, id };
    }
    if let Some(id) = body.strip_suffix(suffix) {
        return Name::Data { queued, id };
    }
    Name::Other
}

fn parse_id(hex: &str) -> Option<ChunkId> {
    if hex.len() == 32 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        ChunkId::from_hex(hex)
    } else {
        None
    }
}

pub(super) fn resume(store: &FileStore) -> io::Result<(Vec<FileChunk>, ResumeReport)> {
    let mut report = ResumeReport::default();
    let mut slots: HashMap<String, Slot> = HashMap::new();
    for entry in fs::read_dir(&store.dir)? {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                // Stop rather than risk an endless stream of errors; the files not seen stay on
                // disk for the next start.
                tracing::warn!(dir = %store.dir.display(), error = %e, "listing the file buffer directory failed; resuming what was listed");
                break;
            }
        };
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let class = classify(&name, &store.suffix);
        if matches!(class, Name::Other) {
            continue;
        }
        // Regular files only (not following symlinks): directories and links are not ours.
        if !entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            continue;
        }
        match class {
            Name::Tmp => match fs::remove_file(entry.path()) {
                Ok(()) => report.tmp_removed += 1,
                Err(e) => {
                    tracing::warn!(file = %entry.path().display(), error = %e, "could not delete a leftover buffer tmp file")
                }
            },
            Name::Data { queued, id } => slots
                .entry(id.to_string())
                .or_default()
                .data
                .push((queued, name.clone())),
            Name::Meta { queued, id } => slots
                .entry(id.to_string())
                .or_default()
                .meta
                .push((queued, name.clone())),
            Name::Other => {}
        }
    }

    let mut keys: Vec<String> = slots.keys().cloned().collect();
    keys.sort_unstable();
    let mut chunks = Vec::with_capacity(keys.len());
    for key in keys {
        let Some(slot) = slots.remove(&key) else {
            continue;
        };
        if let Some(c) = resume_slot(store, &key, slot, &mut report) {
            chunks.push(c);
        }
    }
    chunks.sort_by_key(|c| (c.meta.modified, c.id));
    log_resumed(store, "file", &chunks, &report);
    Ok((chunks, report))
}

/// Log what a resume found: the chunks (queued among them), and what it cut, quarantined and
/// purged; `kind` is the buffer type (`file`, `file_single`).
pub(super) fn log_resumed(
    store: &FileStore,
    kind: &str,
    chunks: &[FileChunk],
    report: &ResumeReport,
) {
    let q = report.quarantined.len() as u64;
    if q > WARN_LIMIT {
        tracing::warn!(dir = %store.dir.display(), quarantined = q, "{kind} buffer resume quarantined {q} chunks (only the first {WARN_LIMIT} logged one by one)");
    }
    tracing::info!(
        dir = %store.dir.display(),
        chunks = chunks.len(),
        queued = chunks.iter().filter(|c| c.queued).count(),
        truncated = report.truncated,
        quarantined = q,
        purged = report.purged,
        "{kind} buffer resumed"
    );
}

pub(super) fn quarantine(
    store: &FileStore,
    files: &[PathBuf],
    reason: String,
    report: &mut ResumeReport,
) -> Option<FileChunk> {
    let path = match store.quarantine_files(files, &reason) {
        Ok(p) => p,
        Err(e) => {
            // Left in place: reported, and tried again at the next start.
            let first = files.first().cloned().unwrap_or_default();
            tracing::warn!(file = %first.display(), error = %e, "chunk left in place: could not move it to quarantine");
            first
        }
    };
    report.quarantined.push((path, reason));
    None
}

fn resume_slot(
    store: &FileStore,
    key: &str,
    slot: Slot,
    report: &mut ResumeReport,
) -> Option<FileChunk> {
    let dir = &store.dir;
    let mut files: Vec<PathBuf> = slot.data.iter().map(|(_, n)| dir.join(n)).collect();
    files.extend(slot.meta.iter().map(|(_, n)| dir.join(n)));

    if slot.data.is_empty() {
        // .meta without data: a crash during purge (data goes first) or create (meta goes first).
        // Unless something that is not a regular file (a symlink, a directory) has the data's
        // name: then it is not ours to decide, leave it all alone.
        let odd = [false, true].iter().any(|&q| {
            let name = format!("buffer.{}{key}{}", if q { 'q' } else { 'b' }, store.suffix);
            fs::symlink_metadata(dir.join(name)).is_ok()
        });
        if odd {
            return None;
        }
        for (_, n) in &slot.meta {
            match fs::remove_file(dir.join(n)) {
                Ok(()) => report.orphan_metas += 1,
                Err(e) => {
                    tracing::warn!(file = %dir.join(n).display(), error = %e, "could not delete an orphan .meta")
                }
            }
        }
        return None;
    }
    let Some(id) = parse_id(key) else {
        return quarantine(
            store,
            &files,
            format!("chunk id {key:?} in the file name is not 32 lowercase hex digits"),
            report,
        );
    };
    if slot.data.len() > 1 || slot.meta.len() > 1 {
        return quarantine(
            store,
            &files,
            "both staged (b) and queued (q) files exist for this chunk id".into(),
            report,
        );
    }
    let &(data_q, ref data_name) = slot.data.first()?;
    let Some(&(meta_q, ref meta_name)) = slot.meta.first() else {
        return quarantine(
            store,
            &files,
            "data file without .meta: its chunk keys and committed size are unknown".into(),
            report,
        );
    };
    let data_path = dir.join(data_name);
    let meta_path = dir.join(meta_name);

    let bytes = match read_meta_file(&meta_path) {
        Ok(b) => b,
        Err(e) => return quarantine(store, &files, format!("cannot read .meta: {e}"), report),
    };
    let rec = match decode_meta_record(&bytes) {
        Ok(r) => r,
        Err(why) => return quarantine(store, &files, format!("bad .meta: {why}"), report),
    };
    if let Some(mid) = rec.id {
        if mid != id {
            return quarantine(
                store,
                &files,
                format!(".meta id {mid:?} differs from the file name's {id:?}"),
                report,
            );
        }
    }
    let len = match fs::symlink_metadata(&data_path) {
        Ok(m) => m.len(),
        Err(e) => return quarantine(store, &files, format!("cannot stat data: {e}"), report),
    };
    let mut meta = rec.meta;
    let mut rewrite = false;
    match rec.committed {
        Some(z) if len == z => {}
        Some(z) if len > z => {
            let cut = OpenOptions::new().write(true).open(&data_path).and_then(|f| {
                f.set_len(z)?;
                if store.sync() {
                    f.sync_all()?;
                }
                Ok(())
            });
            if let Err(e) = cut {
                return quarantine(
                    store,
                    &files,
                    format!("cannot cut the uncommitted tail ({len} bytes, {z} committed): {e}"),
                    report,
                );
            }
            tracing::info!(chunk = %data_name, committed = z, found = len, "file buffer chunk: uncommitted tail cut off");
            report.truncated += 1;
        }
        Some(z) => {
            return quarantine(
                store,
                &files,
                format!("data file holds {len} bytes, fewer than the {z} committed"),
                report,
            )
        }
        None => match validate(&data_path, meta.records) {
            Ok(true) => {
                meta.bytes = len;
                rewrite = true;
            }
            Ok(false) => {
                return quarantine(
                    store,
                    &files,
                    format!(
                        ".meta has no committed size (written by Fluentd?) and the {len} data bytes are not exactly {} msgpack values nor {} newline-terminated lines",
                        meta.records, meta.records
                    ),
                    report,
                )
            }
            Err(e) => {
                return quarantine(store, &files, format!("cannot read data: {e}"), report)
            }
        },
    }

    let queued = data_q || meta_q;
    if (!queued && meta.records == 0) || meta.bytes == 0 {
        // Nothing in it was ever acknowledged.
        let gone = fs::remove_file(&data_path).and_then(|()| fs::remove_file(&meta_path));
        match gone {
            Ok(()) => report.purged += 1,
            Err(e) => {
                tracing::warn!(chunk = %data_name, error = %e, "could not delete an empty chunk")
            }
        }
        return None;
    }

    if queued && !(data_q && meta_q) {
        // A crash between the two renames of enqueue: finish it.
        let renamed = (|| {
            if !data_q {
                fs::rename(&data_path, store.data_path_of(&id, true))?;
            }
            if !meta_q {
                fs::rename(&meta_path, store.meta_path_of(&id, true))?;
            }
            store.sync_dir()
        })();
        if let Err(e) = renamed {
            let files = [
                store.data_path_of(&id, true),
                store.data_path_of(&id, false),
                store.meta_path_of(&id, true),
                store.meta_path_of(&id, false),
            ];
            return quarantine(
                store,
                &files,
                format!("cannot finish an interrupted enqueue: {e}"),
                report,
            );
        }
        report.renamed += 1;
    }
    if rewrite {
        // Record the validated size so the chunk is a logferry chunk from now on.
        if let Err((_, e)) = store.write_meta(&id, queued, &meta) {
            tracing::warn!(chunk = ?id, error = %e, "could not add the committed size to a Fluentd .meta");
        }
    }
    Some(FileChunk { id, meta, queued })
}

/// A `.meta` file's bytes, refusing anything over the size limit without reading it all.
fn read_meta_file(path: &Path) -> io::Result<Vec<u8>> {
    let f = File::open(path)?;
    let limit = (MAX_META_LEN + 6) as u64;
    let mut buf = Vec::new();
    f.take(limit + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            ".meta over 1 MiB",
        ));
    }
    Ok(buf)
}

/// The largest single msgpack value validation buffers before giving up on the msgpack reading.
const MAX_VALUE: usize = 16 << 20;

/// Is the data of a chunk whose `.meta` has no committed size exactly `records` msgpack values,
/// or exactly `records` lines each ending in `\n`? Streams the file; stops as soon as both
/// readings are ruled out.
/// Data compressed by a `compress gzip` buffer (gzip members, as Fluentd's and logferry's
/// compressed chunks hold) is read decompressed, streamed (a 256 MiB chunk of text is
/// gigabytes decompressed).
fn validate(path: &Path, records: u64) -> io::Result<bool> {
    let mut f = File::open(path)?;
    let mut magic = [0u8; 3];
    let is_gzip = matches!(f.read_exact(&mut magic), Ok(()) if magic == [0x1f, 0x8b, 0x08]);
    if is_gzip {
        let members = flate2::read::MultiGzDecoder::new(io::BufReader::new(File::open(path)?));
        if let Ok(true) = validate_stream(members, records) {
            return Ok(true);
        }
    }
    validate_stream(File::open(path)?, records)
}

/// [`validate`] on the bytes `f` reads.
fn validate_stream(mut f: impl Read, records: u64) -> io::Result<bool> {
    let mut block = vec![0u8; 64 << 10];
    // msgpack reading: the bytes of the value in progress, its scanner, values seen.
    let mut pending: Vec<u8> = Vec::new();
    let mut scanner = Scanner::new();
    let mut values = 0u64;
    let mut mp_ok = true;
    // line reading
    let mut lines = 0u64;
    let mut last = None;
    let mut lines_ok = true;
    loop {
        let n = match f.read(&mut block) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let got = &block[..n];
        if lines_ok {
            lines += got.iter().filter(|&&b| b == b'\n').count() as u64;
            last = got.last().copied();
            lines_ok = lines <= records;
        }
        if mp_ok {
            pending.extend_from_slice(got);
            let mut off = 0;
            while off < pending.len() {
                match scanner.scan(&pending[off..]) {
                    Ok(len) => {
                        values += 1;
                        off += len;
                        scanner.reset();
                    }
                    Err(MpError::Incomplete) => break,
                    Err(_) => {
                        mp_ok = false;
                        break;
                    }
                }
            }
            pending.drain(..off.min(pending.len()));
            if values > records || pending.len() > MAX_VALUE {
                mp_ok = false;
            }
            if !mp_ok {
                pending = Vec::new();
            }
        }
        if !mp_ok && !lines_ok {
            return Ok(false);
        }
    }
    let mp = mp_ok && pending.is_empty() && values == records;
    let text = lines_ok && lines == records && last.is_none_or(|b| b == b'\n');
    Ok(mp || text)
}
