//! The file buffer's chunk reader: resume (`FileStore::open`) of a directory holding a
//! fuzzer-written `.meta` and data file (staged or queued names, mismatched names, a leftover
//! `.tmp`, a second copy under the other state), then reading every chunk it recovered, which
//! must hold exactly its committed bytes. Byte 0: flags; bytes 1-2: where the `.meta` ends and
//! the data begins. The directory lives in /dev/shm when there is one.
#![no_main]

use std::fs;
use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use logferry_core::buffer::file_store::{decode_meta, Durability, FileStore};
use logferry_core::perms::Perms;

fn dir() -> &'static PathBuf {
    static D: OnceLock<PathBuf> = OnceLock::new();
    D.get_or_init(|| {
        let shm = PathBuf::from("/dev/shm");
        let base = if shm.is_dir() {
            shm
        } else {
            std::env::temp_dir()
        };
        base.join(format!("logferry-fuzz-buffer-{}", std::process::id()))
    })
}

const FIXED_ID: &str = "000102030405060708090a0b0c0d0e0f";

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let flags = data[0];
    let split = usize::from(u16::from_le_bytes([data[1], data[2]]));
    let rest = &data[3..];
    let (meta, body) = rest.split_at(split % (rest.len() + 1));

    let dir = dir();
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).expect("fuzz dir");
    // bit 0: queued data name; bit 1: queued meta name; bit 2: no data file; bit 3: a leftover
    // .tmp; bit 4: also a staged copy of the data; bit 5: name the files after the meta's own
    // id; bit 6: a malformed id in the names; bit 7: no .meta.
    let id = match decode_meta(meta) {
        Ok((Some(id), _)) if flags & 0x20 != 0 => id.hex(),
        _ if flags & 0x40 != 0 => "0001020304050607080g0a0b0c0d0e0F".to_string(),
        _ => FIXED_ID.to_string(),
    };
    let name = |q: bool| format!("buffer.{}{id}.log", if q { 'q' } else { 'b' });
    let w = |n: String, b: &[u8]| fs::write(dir.join(n), b).expect("write fuzz file");
    if flags & 0x80 == 0 {
        w(format!("{}.meta", name(flags & 2 != 0)), meta);
    }
    if flags & 4 == 0 {
        w(name(flags & 1 != 0), body);
    }
    if flags & 8 != 0 {
        w(format!("{}.meta.tmp", name(true)), meta);
    }
    if flags & 0x10 != 0 {
        w(name(false), &body[..body.len() / 2]);
    }

    let (store, chunks, _report) =
        FileStore::open_with(dir, ".log", Durability::Process, Perms::default())
            .expect("resume never fails");
    for c in &chunks {
        let bytes = store.read(c).expect("a recovered chunk reads");
        assert_eq!(
            bytes.len() as u64,
            c.meta.bytes,
            "a recovered chunk holds its committed bytes"
        );
    }
    // A second resume finds the same chunks (the first left the directory consistent).
    let (_, again, report) =
        FileStore::open_with(dir, ".log", Durability::Process, Perms::default())
            .expect("resume never fails");
    assert_eq!(
        chunks
            .iter()
            .map(|c| (c.id, c.queued, c.meta.bytes))
            .collect::<Vec<_>>(),
        again
            .iter()
            .map(|c| (c.id, c.queued, c.meta.bytes))
            .collect::<Vec<_>>(),
        "resume is idempotent"
    );
    assert!(
        report.quarantined.is_empty(),
        "second resume quarantined {:?}",
        report.quarantined
    );
});
