//! The file buffer's on-disk chunk store: format, commits, crash states written directly on disk,
//! a real `kill -9` in the middle of appends, a file-size limit standing in for ENOSPC, 100,000
//! chunks resumed with bounded descriptors, and a fuzzed `.meta` decoder.
//!
//! Tests needing process-wide state (rlimits, fd counts, `kill -9`) run the helper tests marked
//! `#[ignore]` in a child process of this same test binary.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use logferry_core::buffer::file_store::{
    decode_meta, decode_meta_record, encode_meta, Durability, FileChunk, FileStore, ResumeReport,
};
use logferry_core::buffer::{ChunkId, ChunkMeta};
use logferry_core::perms::Perms;
use rand::{Rng, RngCore};

const CHILD_ENV: &str = "LOGFERRY_FILE_STORE_CHILD_DIR";

fn keys(tag: &str) -> ChunkMeta {
    ChunkMeta {
        tag: Some(tag.to_string()),
        timekey: Some(1_700_000_000),
        variables: vec![("k".into(), "v".into())],
        variable_kinds: vec![4],
        ..ChunkMeta::default()
    }
}

fn open(dir: &Path) -> (FileStore, Vec<FileChunk>, ResumeReport) {
    FileStore::open(dir, ".log").expect("open")
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

fn data_name(id: &ChunkId, q: bool) -> String {
    format!("buffer.{}{}.log", if q { 'q' } else { 'b' }, id.hex())
}

fn meta_name(id: &ChunkId, q: bool) -> String {
    format!("{}.meta", data_name(id, q))
}

/// A `.meta` as logferry writes it.
fn meta_bytes(id: &ChunkId, records: u64, z: u64, modified: i64) -> Vec<u8> {
    let m = ChunkMeta {
        tag: Some("app".into()),
        records,
        bytes: z,
        created: modified,
        modified,
        ..ChunkMeta::default()
    };
    encode_meta(id, &m)
}

/// Write a chunk as a crash (or Fluentd) would leave it.
fn put(dir: &Path, id: &ChunkId, data_q: bool, data: &[u8], meta_q: bool, meta: &[u8]) {
    fs::write(dir.join(data_name(id, data_q)), data).unwrap();
    fs::write(dir.join(meta_name(id, meta_q)), meta).unwrap();
}

fn quarantine_names(dir: &Path) -> Vec<String> {
    let q = dir.join("quarantine");
    if q.exists() {
        names(&q)
    } else {
        Vec::new()
    }
}

/// A msgpack map as Fluentd writes a `.meta` body (no `z`), with the `C1 00` header.
fn fluentd_meta(id: &ChunkId, records: u64, header: bool) -> Vec<u8> {
    use logferry_msgpack::write;
    let mut b = Vec::new();
    write::map_len(&mut b, 8);
    write::str(&mut b, "timekey");
    write::nil(&mut b);
    write::str(&mut b, "tag");
    write::str(&mut b, "docker.web");
    write::str(&mut b, "variables");
    write::nil(&mut b);
    write::str(&mut b, "seq");
    write::uint(&mut b, 0);
    write::str(&mut b, "id");
    write::bin(&mut b, &id.0);
    write::str(&mut b, "s");
    write::uint(&mut b, records);
    write::str(&mut b, "c");
    write::int(&mut b, 1_700_000_000);
    write::str(&mut b, "m");
    write::int(&mut b, 1_700_000_001);
    if !header {
        return b;
    }
    let mut out = vec![0xC1, 0x00];
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(&b);
    out
}

// ---------------------------------------------------------------------------------------------
// Normal operation

#[test]
fn create_append_read_enqueue_resume_purge() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("nested/buf");
    let (store, chunks, report) = open(&dir);
    assert!(chunks.is_empty());
    assert!(report.quarantined.is_empty());
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o755);
    }

    let mut c = store.create(keys("app.web")).unwrap();
    assert!(!c.queued);
    assert_eq!((c.meta.records, c.meta.bytes), (0, 0));
    assert!(c.meta.created > 0);
    // .meta committed, empty data file exists; no tmp left.
    assert_eq!(
        names(&dir),
        vec![data_name(&c.id, false), meta_name(&c.id, false)]
    );
    let (id, m) = decode_meta(&fs::read(dir.join(meta_name(&c.id, false))).unwrap()).unwrap();
    assert_eq!(id, Some(c.id));
    assert_eq!(m.tag.as_deref(), Some("app.web"));

    store.append(&mut c, b"hello ", 1).unwrap();
    store.append(&mut c, b"world\n", 2).unwrap();
    assert_eq!((c.meta.records, c.meta.bytes), (3, 12));
    assert_eq!(&store.read(&c).unwrap()[..], b"hello world\n");
    let rec = decode_meta_record(&fs::read(store.meta_path(&c)).unwrap()).unwrap();
    assert_eq!(rec.committed, Some(12));
    assert_eq!(rec.meta.records, 3);
    assert_eq!(rec.meta, c.meta);

    let mut d = store.create(keys("app.db")).unwrap();
    store.append(&mut d, b"x", 1).unwrap();

    store.enqueue(&mut c).unwrap();
    assert!(c.queued);
    store.enqueue(&mut c).unwrap(); // idempotent
    assert!(dir.join(data_name(&c.id, true)).exists());
    assert!(dir.join(meta_name(&c.id, true)).exists());
    assert!(!dir.join(data_name(&c.id, false)).exists());
    assert!(
        store.append(&mut c, b"late", 1).is_err(),
        "queued chunks take no data"
    );
    assert_eq!(&store.read(&c).unwrap()[..], b"hello world\n");
    drop(store);

    let (store, chunks, report) = open(&dir);
    assert_eq!(report.truncated, 0);
    assert!(report.quarantined.is_empty());
    assert_eq!(chunks.len(), 2);
    let rc = chunks.iter().find(|x| x.id == c.id).unwrap();
    let rd = chunks.iter().find(|x| x.id == d.id).unwrap();
    assert!(rc.queued && !rd.queued);
    assert_eq!(rc.meta, c.meta);
    assert_eq!(rd.meta, d.meta);
    assert_eq!(&store.read(rc).unwrap()[..], b"hello world\n");
    // A resumed staged chunk keeps being appended.
    let mut rd = rd.clone();
    store.append(&mut rd, b"yz", 2).unwrap();
    assert_eq!(&store.read(&rd).unwrap()[..], b"xyz");

    store.purge(rc).unwrap();
    store.purge(rc).unwrap(); // already gone: fine
    assert_eq!(
        names(&dir),
        vec![data_name(&d.id, false), meta_name(&d.id, false)]
    );
    assert_eq!(store.quarantined(), 0);
}

#[test]
fn durability_process_commits_too() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut store, _, _) =
        FileStore::open_with(tmp.path(), ".log", Durability::Process, Perms::default()).unwrap();
    assert_eq!(store.durability(), Durability::Process);
    let mut c = store.create(keys("a")).unwrap();
    for i in 0..50u8 {
        store.append(&mut c, &[i], 1).unwrap();
    }
    store.set_durability(Durability::PowerLoss);
    store.append(&mut c, b"!", 1).unwrap();
    drop(store);
    let (store, chunks, _) = open(tmp.path());
    assert_eq!(chunks[0].meta.records, 51);
    let mut want: Vec<u8> = (0..50u8).collect();
    want.push(b'!');
    assert_eq!(&store.read(&chunks[0]).unwrap()[..], want);
}

#[test]
fn meta_format_is_fluentds_plus_z() {
    let id = ChunkId::from_hex("0123456789abcdef0123456789abcdef").unwrap();
    let m = ChunkMeta {
        timekey: Some(1_699_999_200),
        tag: Some("app.web".into()),
        variables: vec![("host".into(), "a".into())],
        variable_kinds: vec![4],
        seq: 0,
        records: 7,
        bytes: 300,
        created: 1_700_000_000,
        modified: 1_700_000_005,
    };
    let b = encode_meta(&id, &m);
    assert_eq!(&b[..2], &[0xC1, 0x00]);
    let len = u32::from_be_bytes([b[2], b[3], b[4], b[5]]) as usize;
    assert_eq!(len, b.len() - 6);
    // The map: keys in Fluentd's order, then z.
    let v = logferry_msgpack::Value::decode(&b[6..]).unwrap().0;
    let logferry_msgpack::Value::Map(pairs) = &v else {
        panic!("not a map")
    };
    let keys: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "timekey",
            "tag",
            "variables",
            "seq",
            "id",
            "s",
            "c",
            "m",
            "z"
        ]
    );
    assert_eq!(
        v.get("id"),
        Some(&logferry_msgpack::Value::Bin(id.0.to_vec()))
    );
    assert_eq!(v.get("s"), Some(&logferry_msgpack::Value::Int(7)));
    assert_eq!(v.get("z"), Some(&logferry_msgpack::Value::Int(300)));
    // Round trip.
    let rec = decode_meta_record(&b).unwrap();
    assert_eq!(rec.id, Some(id));
    assert_eq!(rec.meta, m);
    assert_eq!(rec.committed, Some(300));
    assert!(!rec.headerless);
    // No keys: nils.
    let empty = encode_meta(&id, &ChunkMeta::default());
    assert_eq!(decode_meta(&empty).unwrap().1, ChunkMeta::default());

    // Fluentd's meta (no z), headered and header-less.
    let f = decode_meta_record(&fluentd_meta(&id, 3, true)).unwrap();
    assert_eq!(f.committed, None);
    assert_eq!(f.meta.records, 3);
    assert_eq!(f.meta.tag.as_deref(), Some("docker.web"));
    assert_eq!(
        (f.meta.created, f.meta.modified),
        (1_700_000_000, 1_700_000_001)
    );
    let old = decode_meta_record(&fluentd_meta(&id, 3, false)).unwrap();
    assert!(old.headerless);
    assert_eq!(old.meta, f.meta);
    // Trailing bytes after the announced body are tolerated (Fluentd's in-place rewrite).
    let mut trailing = b.clone();
    trailing.extend_from_slice(b"garbage");
    assert_eq!(decode_meta_record(&trailing).unwrap().meta, m);
    // Non-string variable values (Fluentd keeps record values) become text.
    {
        use logferry_msgpack::write;
        let mut body = Vec::new();
        write::map_len(&mut body, 2);
        write::str(&mut body, "variables");
        write::map_len(&mut body, 2);
        write::str(&mut body, "code");
        write::int(&mut body, 503);
        write::str(&mut body, "none");
        write::nil(&mut body);
        write::str(&mut body, "unknown");
        write::array_len(&mut body, 1);
        write::int(&mut body, 1);
        let (_, m) = decode_meta(&body).unwrap();
        assert_eq!(
            m.variables,
            vec![
                ("code".into(), "503".into()),
                ("none".into(), String::new())
            ]
        );
    }
}

#[test]
fn decode_meta_rejects_what_it_must() {
    let id = ChunkId::from_hex("0123456789abcdef0123456789abcdef").unwrap();
    let good = meta_bytes(&id, 1, 10, 1);
    for (bytes, why) in [
        (vec![], "empty"),
        (vec![0xC1], "header cut"),
        (vec![0xC1, 0x00, 0, 0], "length cut"),
        (good[..good.len() - 1].to_vec(), "body cut"),
        (good[..10].to_vec(), "body cut short"),
        (
            vec![0xC1, 0x00, 0xff, 0xff, 0xff, 0xff, 0x80],
            "huge length",
        ),
        (b"hello".to_vec(), "not a map"),
        (vec![0x81, 0xa1, b's', 0xff], "negative s"),
        (vec![0x81, 0xa2, b'i', b'd', 0xc4, 1, 0], "short id"),
        (vec![0x81, 0xa1, b'z', 0xa1, b'x'], "z not int"),
        (vec![0x81, 0xa3, b't', b'a', b'g', 0x01], "tag not str"),
        (vec![0x8f], "map cut"),
        (
            vec![0xdf, 0xff, 0xff, 0xff, 0xff],
            "huge map count, no pairs",
        ),
    ] {
        assert!(decode_meta(&bytes).is_err(), "{why}: {bytes:02x?}");
    }
    // A map longer than the announced body.
    let mut b = good.clone();
    let n = u32::from_be_bytes([b[2], b[3], b[4], b[5]]) + 1;
    b[2..6].copy_from_slice(&n.to_be_bytes());
    b.push(0xc0);
    assert!(decode_meta(&b).is_err());
}

#[test]
fn decode_meta_never_panics_on_fuzzed_input() {
    let mut rng = rand::rng();
    let id = ChunkId::generate();
    let seeds = [
        meta_bytes(&id, 5, 500, 1_700_000_000),
        fluentd_meta(&id, 2, true),
        fluentd_meta(&id, 2, false),
        encode_meta(&id, &keys("x.y")),
    ];
    let mut ok = 0u32;
    // Random bytes, sometimes behind a valid-looking header.
    for i in 0..20_000 {
        let len = rng.random_range(0..80);
        let mut b = vec![0u8; len];
        rng.fill_bytes(&mut b);
        if i % 3 == 0 {
            let mut h = vec![0xC1, 0x00];
            h.extend_from_slice(&(len as u32).to_be_bytes());
            h.extend_from_slice(&b);
            b = h;
        } else if i % 3 == 1 && !b.is_empty() {
            b[0] = 0x80 | (b[0] & 0x0f);
        }
        ok += u32::from(decode_meta(&b).is_ok());
    }
    // Mutations of valid metas: bit flips, byte sets, truncations, insertions, deletions.
    for _ in 0..40_000 {
        let mut b = seeds[rng.random_range(0..seeds.len())].clone();
        for _ in 0..rng.random_range(1..4) {
            match rng.random_range(0..5) {
                0 if !b.is_empty() => {
                    let p = rng.random_range(0..b.len());
                    b[p] ^= 1 << rng.random_range(0..8);
                }
                1 if !b.is_empty() => {
                    let p = rng.random_range(0..b.len());
                    b[p] = [0x00, 0x7f, 0x80, 0xc0, 0xc1, 0xdf, 0xff, 0xd3][rng.random_range(0..8)];
                }
                2 => {
                    let l = rng.random_range(0..=b.len());
                    b.truncate(l);
                }
                3 => {
                    let p = rng.random_range(0..=b.len());
                    b.insert(p, rng.random());
                }
                _ if !b.is_empty() => {
                    let p = rng.random_range(0..b.len());
                    b.remove(p);
                }
                _ => {}
            }
        }
        ok += u32::from(decode_meta(&b).is_ok());
    }
    assert!(ok > 0, "some mutations stay decodable");
    // Every prefix of a valid meta but the whole is rejected (a torn meta is never accepted).
    let good = &seeds[0];
    for l in 0..good.len() {
        assert!(decode_meta(&good[..l]).is_err(), "prefix {l}");
    }
}

#[test]
fn encode_decode_round_trips_random_metas() {
    let mut rng = rand::rng();
    let alphabet: Vec<char> = "aZ0._-/é日🙂 \"\\\n".chars().collect();
    let s = |rng: &mut rand::rngs::ThreadRng| -> String {
        (0..rng.random_range(0..20))
            .map(|_| alphabet[rng.random_range(0..alphabet.len())])
            .collect()
    };
    for _ in 0..3_000 {
        let variables: Vec<(String, String)> = (0..rng.random_range(0..4))
            .map(|_| (s(&mut rng), s(&mut rng)))
            .collect();
        let m = ChunkMeta {
            timekey: rng.random::<bool>().then(|| rng.random()),
            tag: rng.random::<bool>().then(|| s(&mut rng)),
            // Strings (kind 4) read back as strings.
            variable_kinds: vec![4; variables.len()],
            variables,
            seq: rng.random(),
            records: rng.random(),
            bytes: rng.random(),
            created: rng.random(),
            modified: rng.random(),
        };
        let id = ChunkId(rng.random());
        let rec = decode_meta_record(&encode_meta(&id, &m)).unwrap();
        assert_eq!(
            (rec.id, &rec.meta, rec.committed),
            (Some(id), &m, Some(m.bytes))
        );
    }
}

#[test]
fn backup_copies_exactly_the_committed_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, _, _) = open(&tmp.path().join("buf"));
    let mut c = store.create(keys("a")).unwrap();
    store.append(&mut c, b"committed", 1).unwrap();
    // An uncommitted tail on disk must not be backed up.
    {
        use std::io::Write;
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(store.data_path(&c))
            .unwrap();
        f.write_all(b"TORN").unwrap();
    }
    let bdir = tmp.path().join("backup/worker0/out");
    let p = store.backup(&c, &bdir, Perms::default()).unwrap();
    assert_eq!(p, bdir.join(format!("{}.log", c.id.hex())));
    assert_eq!(fs::read(&p).unwrap(), b"committed");
    assert_eq!(&store.read(&c).unwrap()[..], b"committed");
    // Again: replaced, no tmp left.
    store.backup(&c, &bdir, Perms::default()).unwrap();
    assert_eq!(names(&bdir), vec![format!("{}.log", c.id.hex())]);
}

#[test]
fn open_refuses_bad_arguments_only() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("f");
    fs::write(&file, b"x").unwrap();
    assert!(FileStore::open(&file, ".log").is_err());
    assert!(FileStore::open(tmp.path(), "a/b").is_err());
    // Other suffixes work, including none.
    for suffix in ["", ".buf", ".log.gz"] {
        let d = tmp.path().join(format!("s{suffix}"));
        let (store, _, _) = FileStore::open(&d, suffix).unwrap();
        let mut c = store.create(keys("a")).unwrap();
        store.append(&mut c, b"1", 1).unwrap();
        store.enqueue(&mut c).unwrap();
        drop(store);
        let (store, chunks, r) = FileStore::open(&d, suffix).unwrap();
        assert!(r.quarantined.is_empty(), "{suffix}");
        assert_eq!(&store.read(&chunks[0]).unwrap()[..], b"1", "{suffix}");
    }
}

#[test]
fn store_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<FileStore>();
    check::<FileChunk>();
}

#[test]
fn concurrent_appends_to_different_chunks() {
    let tmp = tempfile::tempdir().unwrap();
    let (store, _, _) =
        FileStore::open_with(tmp.path(), ".log", Durability::Process, Perms::default()).unwrap();
    let store = std::sync::Arc::new(store);
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                let mut c = store.create(keys(&format!("t{t}"))).unwrap();
                for i in 0..100u32 {
                    store.append(&mut c, &i.to_be_bytes(), 1).unwrap();
                }
                c
            })
        })
        .collect();
    let chunks: Vec<FileChunk> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let want: Vec<u8> = (0..100u32).flat_map(|i| i.to_be_bytes()).collect();
    for c in &chunks {
        assert_eq!(&store.read(c).unwrap()[..], want);
    }
    let (_, resumed, r) = open(tmp.path());
    assert_eq!(resumed.len(), 4);
    assert!(r.quarantined.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Failed commits

#[test]
fn failed_meta_commit_cuts_the_data_back_and_the_chunk_stays_usable() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (store, _, _) = open(dir);
    let mut c = store.create(keys("a")).unwrap();
    store.append(&mut c, b"one\n", 1).unwrap();
    let before = c.meta.clone();

    // A directory where the tmp file must go: the .meta commit fails after the data was written.
    let tmp_path = PathBuf::from(format!("{}.tmp", store.meta_path(&c).display()));
    fs::create_dir(&tmp_path).unwrap();
    assert!(store.append(&mut c, b"two\n", 1).is_err());
    assert_eq!(c.meta, before, "the chunk keeps its last commit");
    assert_eq!(
        fs::metadata(store.data_path(&c)).unwrap().len(),
        4,
        "data cut back"
    );
    assert_eq!(&store.read(&c).unwrap()[..], b"one\n");
    let rec = decode_meta_record(&fs::read(store.meta_path(&c)).unwrap()).unwrap();
    assert_eq!(rec.meta, before);

    fs::remove_dir(&tmp_path).unwrap();
    store.append(&mut c, b"three\n", 1).unwrap();
    assert_eq!(&store.read(&c).unwrap()[..], b"one\nthree\n");
    drop(store);
    let (store, chunks, r) = open(dir);
    assert_eq!((r.truncated, r.quarantined.len()), (0, 0));
    assert_eq!(&store.read(&chunks[0]).unwrap()[..], b"one\nthree\n");
    assert_eq!(chunks[0].meta.records, 2);
}

#[test]
fn failed_data_write_under_a_file_size_limit() {
    // RLIMIT_FSIZE makes writes past the limit fail with EFBIG, as ENOSPC would: run it in a
    // child so the limit does not touch other tests.
    let tmp = tempfile::tempdir().unwrap();
    let out = run_child("child_file_size_limit", tmp.path(), &[]);
    assert!(out.contains("FSIZE-OK"), "child output:\n{out}");
}

#[test]
#[ignore = "child process of failed_data_write_under_a_file_size_limit"]
fn child_file_size_limit() {
    let Some(dir) = std::env::var_os(CHILD_ENV).map(PathBuf::from) else {
        return;
    };
    let (store, _, _) = open(&dir);
    let mut c = store.create(keys("a")).unwrap();
    // SAFETY: plain libc calls on this child process's own signal disposition and limits.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let lim = libc::rlimit {
            rlim_cur: 100_000,
            rlim_max: 100_000,
        };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &lim), 0);
    }
    let rec = vec![b'x'; 7_000];
    let mut ok = 0;
    let err = loop {
        match store.append(&mut c, &rec, 1) {
            Ok(()) => ok += 1,
            Err(e) => break e,
        }
        assert!(ok < 100, "the limit never hit");
    };
    println!("append failed as expected: {err}");
    assert_eq!(ok, 14);
    assert_eq!((c.meta.bytes, c.meta.records), (98_000, 14));
    assert_eq!(fs::metadata(store.data_path(&c)).unwrap().len(), 98_000);
    assert_eq!(store.read(&c).unwrap().len(), 98_000);
    // Still usable: a write that fits.
    store.append(&mut c, &[b'y'; 1_000], 1).unwrap();
    let data = store.read(&c).unwrap();
    assert_eq!(data.len(), 99_000);
    assert!(data[..98_000].iter().all(|&b| b == b'x') && data[98_000..].iter().all(|&b| b == b'y'));
    drop(store);
    let (store, chunks, r) = open(&dir);
    assert_eq!((r.truncated, r.quarantined.len()), (0, 0));
    assert_eq!(chunks[0].meta.records, 15);
    assert_eq!(&store.read(&chunks[0]).unwrap()[..], data);
    println!("FSIZE-OK");
}

// ---------------------------------------------------------------------------------------------
// Crash states written directly on disk

#[test]
fn torn_tail_is_cut_to_the_committed_size() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let id = ChunkId::generate();
    put(
        dir,
        &id,
        false,
        b"committed|torn half-reco",
        false,
        &meta_bytes(&id, 2, 10, 5),
    );
    let (store, chunks, r) = open(dir);
    assert_eq!(r.truncated, 1);
    assert!(r.quarantined.is_empty());
    assert_eq!(chunks.len(), 1);
    assert_eq!(&store.read(&chunks[0]).unwrap()[..], b"committed|");
    assert_eq!(
        fs::metadata(dir.join(data_name(&id, false))).unwrap().len(),
        10
    );
    // Appending continues right after the committed bytes.
    let mut c = chunks[0].clone();
    store.append(&mut c, b"next", 1).unwrap();
    assert_eq!(&store.read(&c).unwrap()[..], b"committed|next");
    drop(store);
    let (_, _, r) = open(dir);
    assert_eq!(r.truncated, 0, "cut once, consistent after");
}

#[test]
fn every_broken_chunk_is_quarantined_and_startup_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let good = ChunkId::generate();
    put(dir, &good, true, b"fine", true, &meta_bytes(&good, 1, 4, 5));

    let short = ChunkId::generate(); // data shorter than z
    put(
        dir,
        &short,
        true,
        b"abc",
        true,
        &meta_bytes(&short, 1, 10, 5),
    );
    let garbage = ChunkId::generate(); // undecodable meta
    put(dir, &garbage, false, b"abc", false, b"\x00\x01not a meta");
    let torn_meta = ChunkId::generate(); // meta cut short
    put(
        dir,
        &torn_meta,
        false,
        b"abc",
        false,
        &meta_bytes(&torn_meta, 1, 3, 5)[..20],
    );
    let empty_meta = ChunkId::generate();
    put(dir, &empty_meta, true, b"abc", true, b"");
    let wrong_id = ChunkId::generate(); // meta of another chunk
    put(
        dir,
        &wrong_id,
        true,
        b"abc",
        true,
        &meta_bytes(&ChunkId::generate(), 1, 3, 5),
    );
    let no_meta = ChunkId::generate(); // data without meta
    fs::write(dir.join(data_name(&no_meta, false)), b"lonely").unwrap();
    let both = ChunkId::generate(); // staged and queued data for one id
    put(
        dir,
        &both,
        false,
        b"abc",
        false,
        &meta_bytes(&both, 1, 3, 5),
    );
    fs::write(dir.join(data_name(&both, true)), b"abc").unwrap();
    // Ids that do not parse: bad hex, wrong length, upper case (with their metas).
    let bad_ids = [
        "zz23456789abcdef0123456789abcdef",
        "0123456789abcdef0123456789abcde",
        "0123456789ABCDEF0123456789ABCDEF",
    ];
    for bad in bad_ids {
        fs::write(dir.join(format!("buffer.b{bad}.log")), b"abc").unwrap();
        fs::write(
            dir.join(format!("buffer.b{bad}.log.meta")),
            meta_bytes(&good, 1, 3, 5),
        )
        .unwrap();
    }

    let (store, chunks, r) = open(dir);
    assert_eq!(chunks.len(), 1, "only the good chunk is resumed");
    assert_eq!(chunks[0].id, good);
    assert_eq!(&store.read(&chunks[0]).unwrap()[..], b"fine");
    assert_eq!(r.quarantined.len(), 10, "{:#?}", r.quarantined);
    assert_eq!(store.quarantined(), 10);
    let reasons: Vec<&str> = r.quarantined.iter().map(|(_, w)| w.as_str()).collect();
    for needle in [
        "fewer than the 10 committed",
        "bad .meta",
        "cut short",
        "empty .meta",
        "differs from the file name",
        "without .meta",
        "both staged (b) and queued (q)",
        "not 32 lowercase hex digits",
    ] {
        assert!(
            reasons.iter().any(|w| w.contains(needle)),
            "no reason {needle:?} in {reasons:#?}"
        );
    }
    for (p, _) in &r.quarantined {
        assert!(p.starts_with(dir.join("quarantine")), "{}", p.display());
        assert!(p.exists(), "{}", p.display());
        let mut why = p.clone().into_os_string();
        why.push(".reason");
        assert!(Path::new(&why).exists());
    }
    // The buffer dir now holds only the good chunk (and the quarantine dir); both files of each
    // broken chunk went to quarantine.
    assert_eq!(
        names(dir),
        vec![
            data_name(&good, true),
            meta_name(&good, true),
            "quarantine".into()
        ]
    );
    let q = quarantine_names(dir);
    for id in [short, garbage, torn_meta, empty_meta, wrong_id, both] {
        assert!(
            q.iter()
                .any(|n| n.contains(&id.hex()) && n.ends_with(".meta")),
            "{id:?}"
        );
    }
    assert!(q.contains(&data_name(&no_meta, false)));
    assert!(q.contains(&data_name(&both, true)) && q.contains(&data_name(&both, false)));
    for bad in bad_ids {
        assert!(q.contains(&format!("buffer.b{bad}.log")));
        assert!(q.contains(&format!("buffer.b{bad}.log.meta")));
    }
    drop(store);
    // Nothing left to quarantine on the next start.
    let (store, chunks, r) = open(dir);
    assert_eq!(
        (chunks.len(), r.quarantined.len(), store.quarantined()),
        (1, 0, 0)
    );
}

#[test]
fn quarantine_never_overwrites() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let id = ChunkId::generate();
    for round in 0..3 {
        put(dir, &id, false, b"abc", false, b"junk");
        let (_, _, r) = open(dir);
        assert_eq!(r.quarantined.len(), 1, "round {round}");
    }
    let q = quarantine_names(dir);
    for suffix in ["", ".1", ".2"] {
        assert!(
            q.contains(&format!("{}{suffix}", meta_name(&id, false))),
            "{q:?}"
        );
        assert!(
            q.contains(&format!("{}{suffix}", data_name(&id, false))),
            "{q:?}"
        );
    }
}

#[test]
fn interrupted_enqueue_is_finished() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Data renamed, meta not yet (logferry's and Fluentd's order) — and the reverse.
    let a = ChunkId::generate();
    put(dir, &a, true, b"aaa", false, &meta_bytes(&a, 1, 3, 5));
    let b = ChunkId::generate();
    put(dir, &b, false, b"bbb", true, &meta_bytes(&b, 1, 3, 6));
    let (store, chunks, r) = open(dir);
    assert_eq!(r.renamed, 2);
    assert!(r.quarantined.is_empty());
    assert_eq!(chunks.len(), 2);
    assert!(chunks.iter().all(|c| c.queued));
    let mut want = vec![
        data_name(&a, true),
        meta_name(&a, true),
        data_name(&b, true),
        meta_name(&b, true),
    ];
    want.sort();
    assert_eq!(names(dir), want);
    assert_eq!(&store.read(&chunks[0]).unwrap()[..], b"aaa");
    assert_eq!(&store.read(&chunks[1]).unwrap()[..], b"bbb");
}

#[test]
fn orphans_tmp_files_and_empty_chunks_are_removed_unrelated_files_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let orphan = ChunkId::generate(); // crash during purge: data gone, meta left
    fs::write(
        dir.join(meta_name(&orphan, true)),
        meta_bytes(&orphan, 1, 3, 5),
    )
    .unwrap();
    let orphan_junk = ChunkId::generate();
    fs::write(dir.join(meta_name(&orphan_junk, false)), b"junk").unwrap();
    let live = ChunkId::generate(); // a commit interrupted before its rename
    put(dir, &live, false, b"ab", false, &meta_bytes(&live, 1, 2, 5));
    fs::write(
        dir.join(format!("{}.tmp", meta_name(&live, false))),
        &meta_bytes(&live, 2, 4, 6)[..9],
    )
    .unwrap();
    let empty_staged = ChunkId::generate(); // never acknowledged
    put(
        dir,
        &empty_staged,
        false,
        b"",
        false,
        &meta_bytes(&empty_staged, 0, 0, 5),
    );
    let empty_staged_tail = ChunkId::generate(); // first append torn
    put(
        dir,
        &empty_staged_tail,
        false,
        b"half",
        false,
        &meta_bytes(&empty_staged_tail, 0, 0, 5),
    );
    let empty_queued = ChunkId::generate();
    put(
        dir,
        &empty_queued,
        true,
        b"",
        true,
        &meta_bytes(&empty_queued, 0, 0, 5),
    );
    let unrelated = [
        "notes.txt",
        "buffer.x",
        "buffer.b0123456789abcdef0123456789abcdef.txt",
        "buffer.b0123456789abcdef0123456789abcdef.log.bak",
        "other.b0123456789abcdef0123456789abcdef.log",
        "buffer.tmp",
        "buffer.notes.tmp",
    ];
    for u in unrelated {
        fs::write(dir.join(u), b"keep me").unwrap();
    }
    fs::create_dir(dir.join("buffer.b0123456789abcdef0123456789abcdef.log")).unwrap();
    // A symlink where a data file would be, with a .meta: not ours to judge, both left alone.
    let linked = ChunkId::generate();
    std::os::unix::fs::symlink("/nonexistent", dir.join(data_name(&linked, true))).unwrap();
    fs::write(dir.join(meta_name(&linked, true)), b"keep me").unwrap();

    let (store, chunks, r) = open(dir);
    assert_eq!(r.orphan_metas, 2);
    assert_eq!(r.tmp_removed, 1);
    assert_eq!(r.purged, 3);
    assert!(r.quarantined.is_empty(), "{:?}", r.quarantined);
    assert_eq!(chunks.len(), 1);
    assert_eq!(&store.read(&chunks[0]).unwrap()[..], b"ab");
    let mut want: Vec<String> = unrelated.iter().map(|s| s.to_string()).collect();
    want.push("buffer.b0123456789abcdef0123456789abcdef.log".into());
    want.push(data_name(&live, false));
    want.push(meta_name(&live, false));
    want.push(data_name(&linked, true));
    want.push(meta_name(&linked, true));
    want.sort();
    assert_eq!(names(dir), want);
    for u in unrelated {
        assert_eq!(fs::read(dir.join(u)).unwrap(), b"keep me");
    }
}

#[test]
fn fluentd_chunks_without_z_are_validated() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // msgpack stream of [time, record] entries, `s` = 3: recovered.
    let mut mp = Vec::new();
    for i in 0..3 {
        use logferry_msgpack::write;
        write::array_len(&mut mp, 2);
        write::int(&mut mp, 1_700_000_000 + i);
        write::map_len(&mut mp, 1);
        write::str(&mut mp, "log");
        write::str(&mut mp, "hello\n");
    }
    let m1 = ChunkId::generate();
    put(dir, &m1, true, &mp, true, &fluentd_meta(&m1, 3, true));
    // Text lines, `s` = 2, header-less meta, staged: recovered.
    let t1 = ChunkId::generate();
    put(
        dir,
        &t1,
        false,
        b"{\"a\":1}\n{\"a\":2}\n",
        false,
        &fluentd_meta(&t1, 2, false),
    );
    // Torn msgpack (uncommitted half record): quarantined.
    let m2 = ChunkId::generate();
    put(
        dir,
        &m2,
        true,
        &mp[..mp.len() - 3],
        true,
        &fluentd_meta(&m2, 3, true),
    );
    // One more record than `s` (crash between write and meta): quarantined.
    let m3 = ChunkId::generate();
    put(dir, &m3, true, &mp, true, &fluentd_meta(&m3, 2, true));
    // Text with a torn last line: quarantined.
    let t2 = ChunkId::generate();
    put(
        dir,
        &t2,
        true,
        b"line1\nline2\nli",
        true,
        &fluentd_meta(&t2, 2, true),
    );
    // A `compress gzip` buffer's chunk (gzip members, one per append, as Fluentd writes them):
    // validated decompressed, recovered as it is (the engine decompresses what it reads).
    let mut gz = logferry_compress::gzip(&mp[..mp.len() / 2]);
    gz.extend_from_slice(&logferry_compress::gzip(&mp[mp.len() / 2..]));
    let z1 = ChunkId::generate();
    put(dir, &z1, false, &gz, false, &fluentd_meta(&z1, 3, true));
    let lines_gz = logferry_compress::gzip(b"x\ny\n");
    let z2 = ChunkId::generate();
    put(dir, &z2, true, &lines_gz, true, &fluentd_meta(&z2, 2, true));
    // gzip whose records are not `s`: quarantined.
    let z3 = ChunkId::generate();
    put(dir, &z3, true, &gz, true, &fluentd_meta(&z3, 4, true));
    // Corrupt gzip, or anything else that validates neither way: quarantined.
    let g = ChunkId::generate();
    put(
        dir,
        &g,
        true,
        &[0x1f, 0x8b, 0x08, 0xc1, 0xc1],
        true,
        &fluentd_meta(&g, 1, true),
    );

    let (store, chunks, r) = open(dir);
    assert_eq!(r.quarantined.len(), 5, "{:#?}", r.quarantined);
    assert!(r
        .quarantined
        .iter()
        .all(|(_, w)| w.contains("no committed size")));
    assert_eq!(chunks.len(), 4);
    for (id, bytes) in [(z1, &gz), (z2, &lines_gz)] {
        let c = chunks.iter().find(|c| c.id == id).unwrap();
        assert_eq!(&store.read(c).unwrap()[..], &bytes[..]);
        assert_eq!(c.meta.bytes, bytes.len() as u64);
    }
    let c1 = chunks.iter().find(|c| c.id == m1).unwrap();
    assert!(c1.queued);
    assert_eq!((c1.meta.records, c1.meta.bytes), (3, mp.len() as u64));
    assert_eq!(c1.meta.tag.as_deref(), Some("docker.web"));
    assert_eq!(&store.read(c1).unwrap()[..], mp);
    let c2 = chunks.iter().find(|c| c.id == t1).unwrap();
    assert!(!c2.queued);
    assert_eq!(&store.read(c2).unwrap()[..], b"{\"a\":1}\n{\"a\":2}\n");
    // The validated size was written down: the meta now has z.
    let rec = decode_meta_record(&fs::read(store.meta_path(c1)).unwrap()).unwrap();
    assert_eq!(rec.committed, Some(mp.len() as u64));
    assert!(
        !decode_meta_record(&fs::read(store.meta_path(c2)).unwrap())
            .unwrap()
            .headerless
    );
}

#[test]
fn resumed_chunks_are_ordered_by_modified_time() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut ids: Vec<(ChunkId, i64)> = Vec::new();
    for (i, m) in [50i64, 10, 30, 20, 40, 10].iter().enumerate() {
        let id = ChunkId::generate();
        put(
            dir,
            &id,
            i % 2 == 0,
            b"x",
            i % 2 == 0,
            &meta_bytes(&id, 1, 1, *m),
        );
        ids.push((id, *m));
    }
    let (_, chunks, _) = open(dir);
    let got: Vec<(ChunkId, i64)> = chunks.iter().map(|c| (c.id, c.meta.modified)).collect();
    ids.sort_by_key(|&(id, m)| (m, id));
    assert_eq!(got, ids);
}

// ---------------------------------------------------------------------------------------------
// Scale: 100,000 chunks, bounded descriptors, no chunk data read

#[test]
fn resume_100k_chunks_with_bounded_fds_and_memory() {
    const N: usize = 100_000;
    const DATA: u64 = 1 << 20; // sparse: reading the data would be 100 GB
    let tmp = scratch_dir();
    let dir = tmp.path().join("buf");
    fs::create_dir(&dir).unwrap();
    let t = Instant::now();
    for i in 0..N {
        let mut raw = [0u8; 16];
        raw[..8].copy_from_slice(&(i as u64).to_be_bytes());
        raw[8..].copy_from_slice(&(!(i as u64)).to_be_bytes());
        let id = ChunkId(raw);
        let q = i % 2 == 0;
        let f = fs::File::create(dir.join(data_name(&id, q))).unwrap();
        f.set_len(DATA).unwrap();
        fs::write(
            dir.join(meta_name(&id, q)),
            meta_bytes(&id, 1, DATA, i as i64),
        )
        .unwrap();
    }
    eprintln!("created {N} chunks in {:?}", t.elapsed());
    let out = run_child(
        "child_resume_many",
        &dir,
        &[("LOGFERRY_FILE_STORE_N", &N.to_string())],
    );
    let field = |k: &str| -> u64 {
        out.lines()
            .find_map(|l| l.split_once("RESUME ").map(|(_, r)| r))
            .and_then(|l| {
                l.split(' ')
                    .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
            })
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {k} in child output:\n{out}"))
    };
    assert_eq!(field("chunks"), N as u64);
    let max_fd = field("max_fd");
    assert!(max_fd < 256, "{max_fd} descriptors open during resume");
    let read = field("read_bytes");
    assert!(
        read < 64 << 20,
        "resume read {read} bytes: chunk data was read"
    );
    let hwm = field("hwm_kb");
    assert!(hwm < 512 * 1024, "peak RSS {hwm} kB");
    eprintln!(
        "{}",
        out.lines().find(|l| l.contains("RESUME ")).unwrap_or("")
    );
}

/// A temporary directory for 200,000 small files: on tmpfs (`/dev/shm`) when it has room — much
/// faster to fill and empty than a journaled disk, and no fsync of other tests waits on it.
fn scratch_dir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    // SAFETY: statvfs only writes into the struct passed; the path is a NUL-terminated literal.
    let room = unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        if libc::statvfs(c"/dev/shm".as_ptr(), &mut st) == 0 {
            (st.f_bavail as u64).saturating_mul(st.f_frsize as u64)
        } else {
            0
        }
    };
    if room >= 4 << 30 {
        if let Ok(d) = tempfile::tempdir_in(shm) {
            return d;
        }
    }
    tempfile::tempdir().unwrap()
}

fn count_fds() -> u64 {
    fs::read_dir("/proc/self/fd")
        .map(|d| d.count() as u64)
        .unwrap_or(0)
}

fn proc_field(file: &str, key: &str) -> u64 {
    fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0)
}

#[test]
#[ignore = "child process of resume_100k_chunks_with_bounded_fds_and_memory"]
fn child_resume_many() {
    let Some(dir) = std::env::var_os(CHILD_ENV).map(PathBuf::from) else {
        return;
    };
    let n: usize = std::env::var("LOGFERRY_FILE_STORE_N")
        .unwrap()
        .parse()
        .unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let max = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampler = {
        let (stop, max) = (stop.clone(), max.clone());
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                max.fetch_max(count_fds(), std::sync::atomic::Ordering::Relaxed);
                std::thread::sleep(Duration::from_micros(200));
            }
        })
    };
    let read0 = proc_field("/proc/self/io", "rchar:");
    let t = Instant::now();
    let (store, chunks, r) = FileStore::open(&dir, ".log").unwrap();
    let took = t.elapsed();
    let read1 = proc_field("/proc/self/io", "rchar:");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    sampler.join().unwrap();
    assert_eq!(chunks.len(), n);
    assert!(r.quarantined.is_empty() && r.truncated == 0);
    assert_eq!(chunks.iter().filter(|c| c.queued).count(), n / 2);
    assert!(chunks
        .windows(2)
        .all(|w| w[0].meta.modified <= w[1].meta.modified));
    assert_eq!(store.quarantined(), 0);
    println!(
        "RESUME chunks={} max_fd={} read_bytes={} hwm_kb={} ms={}",
        chunks.len(),
        max.load(std::sync::atomic::Ordering::Relaxed),
        read1.saturating_sub(read0),
        proc_field("/proc/self/status", "VmHWM:"),
        took.as_millis()
    );
}

// ---------------------------------------------------------------------------------------------
// kill -9 in the middle of appends

/// Run one `#[ignore]`d helper test of this binary in a child process; its stdout+stderr.
fn run_child(name: &str, dir: &Path, env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        name,
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_ENV, dir);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "child {name} failed:\n{text}");
    text
}

/// Record `seq`: `r<seq>:` padded with a seq-dependent number of dots, then `\n`.
fn record(seq: u64) -> Vec<u8> {
    let mut r = format!("r{seq}:").into_bytes();
    r.extend(std::iter::repeat_n(b'.', (seq % 97) as usize));
    r.push(b'\n');
    r
}

/// The seqs of a chunk's content, checking every record is whole and well-formed.
fn parse_records(data: &[u8]) -> Vec<u64> {
    assert!(
        data.is_empty() || data.ends_with(b"\n"),
        "chunk ends mid-record"
    );
    data.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            let s = std::str::from_utf8(l).unwrap();
            let (head, dots) = s.split_once(':').unwrap();
            let seq: u64 = head.strip_prefix('r').unwrap().parse().unwrap();
            assert_eq!(dots.len() as u64, seq % 97, "record {seq} damaged");
            assert!(dots.bytes().all(|b| b == b'.'));
            seq
        })
        .collect()
}

/// Every seq in the dir, verified chunk by chunk; sorted.
fn all_seqs(store: &FileStore, chunks: &[FileChunk]) -> Vec<u64> {
    let mut seqs = Vec::new();
    for c in chunks {
        let data = store.read(c).unwrap();
        let s = parse_records(&data);
        assert_eq!(
            s.len() as u64,
            c.meta.records,
            "records count of {:?}",
            c.id
        );
        seqs.extend(s);
    }
    seqs.sort_unstable();
    seqs
}

#[test]
#[ignore = "child process of kill_9_during_appends_loses_nothing_acknowledged"]
fn child_appender() {
    use std::io::Write;
    let Some(dir) = std::env::var_os(CHILD_ENV).map(PathBuf::from) else {
        return;
    };
    let durability = if std::env::var("LOGFERRY_FILE_STORE_SYNC").as_deref() == Ok("1") {
        Durability::PowerLoss
    } else {
        Durability::Process
    };
    let (store, chunks, _) =
        FileStore::open_with(&dir, ".log", durability, Perms::default()).unwrap();
    let mut seq = all_seqs(&store, &chunks).last().map_or(0, |s| s + 1);
    let mut staged: Option<FileChunk> = chunks.into_iter().find(|c| !c.queued);
    let mut out = std::io::stdout().lock();
    writeln!(out, "start {seq}").unwrap();
    loop {
        let c = match staged.as_mut() {
            Some(c) => c,
            None => staged.insert(store.create(keys("crash")).unwrap()),
        };
        let n = 1 + seq % 3;
        let data: Vec<u8> = (seq..seq + n).flat_map(record).collect();
        store.append(c, &data, n).unwrap();
        seq += n;
        writeln!(out, "ack {}", seq - 1).unwrap();
        out.flush().unwrap();
        if c.meta.records >= 40 {
            store.enqueue(c).unwrap();
            staged = None;
        }
    }
}

#[test]
fn kill_9_during_appends_loses_nothing_acknowledged() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let mut rng = rand::rng();
    let mut acked_max: Option<u64> = None;
    let mut truncated = 0;
    for round in 0..12 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "child_appender",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &dir)
            .env(
                "LOGFERRY_FILE_STORE_SYNC",
                if round % 3 == 0 { "1" } else { "0" },
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<u64>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(n) = line.strip_prefix("ack ") {
                    let _ = tx.send(n.parse().unwrap());
                }
            }
        });
        // Wait for the first ack of this round, then let it run a random while and kill it.
        let first = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("child acked nothing");
        acked_max = Some(acked_max.map_or(first, |a| a.max(first)));
        std::thread::sleep(Duration::from_millis(rng.random_range(5..120)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        for a in rx.try_iter() {
            acked_max = Some(acked_max.map_or(a, |m| m.max(a)));
        }

        let (store, chunks, r) =
            FileStore::open_with(&dir, ".log", Durability::Process, Perms::default()).unwrap();
        assert!(
            r.quarantined.is_empty(),
            "round {round}: {:?}",
            r.quarantined
        );
        truncated += r.truncated;
        let seqs = all_seqs(&store, &chunks);
        let total = seqs.len() as u64;
        assert_eq!(
            seqs,
            (0..total).collect::<Vec<_>>(),
            "round {round}: gap or duplicate"
        );
        let acked = acked_max.unwrap();
        assert!(
            total > acked,
            "round {round}: acked up to {acked}, only {total} records survived"
        );
        assert!(chunks.iter().filter(|c| !c.queued).count() <= 1);
    }
    eprintln!(
        "{} records after 12 kills, {truncated} torn tails cut",
        acked_max.unwrap_or(0) + 1
    );
}

// Chunk-key values are written as Fluentd writes them (the values, msgpack), so a `.meta` read
// by Fluentd, or by logferry after a restart, gives back each value's kind; an Array or a Hash,
// known only by its text, is written as that text with its kind under logferry's `k`.
#[test]
fn meta_variables_keep_their_kinds() {
    let id = ChunkId([7; 16]);
    let vars = [
        ("nil", "", 0u8, vec![0xc0]),
        ("t", "true", 1, vec![0xc3]),
        ("f", "false", 1, vec![0xc2]),
        ("i", "-3", 2, vec![0xfd]),
        (
            "u",
            "18446744073709551615",
            2,
            vec![0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ),
        (
            "x",
            "1.5",
            3,
            [vec![0xcb], 1.5f64.to_be_bytes().to_vec()].concat(),
        ),
        (
            "e",
            "1.0e+20",
            3,
            [vec![0xcb], 1e20f64.to_be_bytes().to_vec()].concat(),
        ),
        ("s", "1.5", 4, vec![0xa3, b'1', b'.', b'5']),
    ];
    let m = ChunkMeta {
        variables: vars.iter().map(|v| (v.0.into(), v.1.into())).collect(),
        variable_kinds: vars.iter().map(|v| v.2).collect(),
        ..ChunkMeta::default()
    };
    let bytes = encode_meta(&id, &m);
    let mut at = 0;
    for (k, _, _, packed) in &vars {
        let key = [
            vec![0xa0 | k.len() as u8],
            k.as_bytes().to_vec(),
            packed.clone(),
        ]
        .concat();
        let found = bytes[at..]
            .windows(key.len())
            .position(|w| w == key.as_slice())
            .unwrap_or_else(|| panic!("{k} not written as {packed:02x?}"));
        at += found + key.len();
    }
    assert!(!bytes.windows(2).any(|w| w == b"\xa1k"), "no `k` needed");
    assert_eq!(decode_meta(&bytes).unwrap().1, m);

    let arr = ChunkMeta {
        variables: vec![
            ("a".into(), r#"[1, "a"]"#.into()),
            ("h".into(), r#"{"z"=>1}"#.into()),
        ],
        variable_kinds: vec![5, 6],
        ..ChunkMeta::default()
    };
    assert_eq!(decode_meta(&encode_meta(&id, &arr)).unwrap().1, arr);
    // Without `k` (as Fluentd, which writes the values, is not read here) they read as strings.
    let mut as_text = arr.clone();
    as_text.variable_kinds = vec![4, 4];
    assert_eq!(decode_meta(&encode_meta(&id, &as_text)).unwrap().1, as_text);
}
