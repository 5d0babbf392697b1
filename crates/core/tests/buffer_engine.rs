//! The buffer engine with a scriptable writer: flush modes, chunk limits, retries and their
//! schedule, give-up backups, secondary, overflow actions, drain, and file-buffer resume.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use logferry_core::buffer::build::{file_backed, FileStoreAt};
use logferry_core::buffer::{
    BufferConfig, BufferDefaults, BufferedOutput, Chunk, ChunkWriter, WriteError,
};
use logferry_core::{
    BatchBuilder, EmitError, EventBatch, EventTime, Lifecycle, Output, PluginLog, Section, Value,
};

/// Writes chunks into memory; fails as scripted.
/// A written chunk: its tag, record count and bytes.
type Written = (Option<String>, u64, Vec<u8>);

#[derive(Default)]
struct TestWriter {
    chunks: Mutex<Vec<Written>>,
    script: Mutex<VecDeque<WriteError>>,
    attempts: Mutex<Vec<Instant>>,
    fail_always: Mutex<Option<WriteError>>,
}

#[async_trait]
impl ChunkWriter for TestWriter {
    fn format(&self, _tag: &str, _t: EventTime, record: &[u8], out: &mut Vec<u8>) {
        logferry_msgpack::write_json(record, out).unwrap();
        out.push(b'\n');
    }
    async fn write(&self, chunk: &Chunk) -> Result<(), WriteError> {
        self.attempts.lock().unwrap().push(Instant::now());
        if let Some(e) = self.fail_always.lock().unwrap().clone() {
            return Err(e);
        }
        if let Some(e) = self.script.lock().unwrap().pop_front() {
            return Err(e);
        }
        self.chunks.lock().unwrap().push((
            chunk.meta.tag.clone(),
            chunk.records(),
            chunk.bytes().unwrap().to_vec(),
        ));
        Ok(())
    }
}

impl TestWriter {
    fn lines(&self) -> Vec<String> {
        let c = self.chunks.lock().unwrap();
        c.iter()
            .flat_map(|(_, _, d)| {
                String::from_utf8(d.clone())
                    .unwrap()
                    .lines()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

fn cfg(body: &str) -> BufferConfig {
    let text = format!("<match **>\n@type t\n{body}\n</match>\n");
    let root = logferry_config::parse_str(&text, "t.conf", Path::new(".")).unwrap();
    BufferConfig::from_output(
        &Section::new(&root.elements[0], "t"),
        &BufferDefaults::default(),
    )
    .unwrap()
}

fn batch(from: i64, n: i64) -> EventBatch {
    let mut b = BatchBuilder::new();
    for i in from..from + n {
        b.push_value(
            EventTime::new(1_700_000_000, 0),
            &Value::Map(vec![(Value::Str("n".into()), Value::Int(i))]),
        );
    }
    b.finish()
}

async fn wait_until(what: &str, timeout: Duration, f: impl Fn() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn seqs(lines: &[String]) -> Vec<i64> {
    let mut v: Vec<i64> = lines
        .iter()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["n"]
                .as_i64()
                .unwrap()
        })
        .collect();
    v.sort_unstable();
    v
}

fn out(
    c: BufferConfig,
    w: &Arc<TestWriter>,
    secondary: Option<Arc<TestWriter>>,
    backup: &Path,
) -> Arc<BufferedOutput> {
    Arc::new(BufferedOutput::new(
        c,
        w.clone(),
        secondary.map(|s| s as Arc<dyn ChunkWriter>),
        PluginLog::new("t", None),
        backup.to_path_buf(),
    ))
}

fn far() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(10)
}

#[tokio::test(flavor = "multi_thread")]
async fn interval_flush_and_chunk_limits() {
    let w = Arc::new(TestWriter::default());
    let tmp = tempfile::tempdir().unwrap();
    let o = out(
        cfg("<buffer>\nflush_interval 0.3\nchunk_limit_size 100\n</buffer>"),
        &w,
        None,
        tmp.path(),
    );
    o.clone().start().await.unwrap();
    for i in 0..5 {
        o.emit("t", batch(i * 10, 10)).await.unwrap();
    }
    wait_until("all records", Duration::from_secs(5), || {
        w.lines().len() == 50
    })
    .await;
    assert_eq!(seqs(&w.lines()), (0..50).collect::<Vec<_>>());
    for (_, _, d) in w.chunks.lock().unwrap().iter() {
        assert!(
            d.len() <= 100,
            "chunk of {} bytes over chunk_limit_size",
            d.len()
        );
    }
    o.drain(far()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn immediate_mode_and_tag_chunk_key() {
    let w = Arc::new(TestWriter::default());
    let tmp = tempfile::tempdir().unwrap();
    let o = out(
        cfg("<buffer tag>\nflush_mode immediate\n</buffer>"),
        &w,
        None,
        tmp.path(),
    );
    o.clone().start().await.unwrap();
    o.emit("a", batch(0, 2)).await.unwrap();
    o.emit("b", batch(2, 3)).await.unwrap();
    wait_until("two chunks", Duration::from_secs(5), || {
        w.chunks.lock().unwrap().len() == 2
    })
    .await;
    let c = w.chunks.lock().unwrap().clone();
    let mut tags: Vec<_> = c.iter().map(|(t, n, _)| (t.clone().unwrap(), *n)).collect();
    tags.sort();
    assert_eq!(tags, [("a".to_string(), 2), ("b".to_string(), 3)]);
    o.drain(far()).await;
}

// Reference §7.9 case 98 (schedule) and retries that end in success.
#[tokio::test(flavor = "multi_thread")]
async fn retries_follow_the_schedule() {
    let w = Arc::new(TestWriter::default());
    for _ in 0..3 {
        w.script
            .lock()
            .unwrap()
            .push_back(WriteError::Retryable("down".into()));
    }
    let tmp = tempfile::tempdir().unwrap();
    let o = out(
        cfg("<buffer>\nflush_mode immediate\nretry_wait 0.2\nretry_randomize false\n</buffer>"),
        &w,
        None,
        tmp.path(),
    );
    o.clone().start().await.unwrap();
    o.emit("t", batch(0, 4)).await.unwrap();
    wait_until("delivery", Duration::from_secs(10), || w.lines().len() == 4).await;
    let a = w.attempts.lock().unwrap().clone();
    assert_eq!(a.len(), 4);
    let gaps: Vec<f64> = a.windows(2).map(|p| (p[1] - p[0]).as_secs_f64()).collect();
    for (gap, want) in gaps.iter().zip([0.2, 0.4, 0.8]) {
        assert!(
            *gap >= want * 0.9 && *gap < want + 0.5,
            "retry gaps {gaps:?}, expected ≈ 0.2, 0.4, 0.8"
        );
    }
    assert_eq!(
        o.stats()
            .retry_count
            .load(std::sync::atomic::Ordering::Relaxed),
        3
    );
    o.drain(far()).await;
}

// retry_max_times reached: every queued chunk is backed up (not silently dropped).
#[tokio::test(flavor = "multi_thread")]
async fn give_up_backs_chunks_up() {
    let w = Arc::new(TestWriter::default());
    *w.fail_always.lock().unwrap() = Some(WriteError::Retryable("down".into()));
    let tmp = tempfile::tempdir().unwrap();
    let o = out(
        cfg("<buffer>\nflush_mode immediate\nretry_wait 0.05\nretry_max_times 2\n</buffer>"),
        &w,
        None,
        tmp.path(),
    );
    o.clone().start().await.unwrap();
    o.emit("t", batch(0, 3)).await.unwrap();
    wait_until("a backup file", Duration::from_secs(10), || {
        std::fs::read_dir(tmp.path())
            .map(|d| d.count() > 0)
            .unwrap_or(false)
    })
    .await;
    assert_eq!(
        w.attempts.lock().unwrap().len(),
        3,
        "the original attempt and 2 retries"
    );
    let files: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert_eq!(
        seqs(&text.lines().map(str::to_string).collect::<Vec<_>>()),
        [0, 1, 2]
    );
    assert_eq!(o.usage(), (0, 0, 0));
    o.drain(far()).await;
}

// An unrecoverable error goes to the secondary once; after the threshold retries go there too.
#[tokio::test(flavor = "multi_thread")]
async fn secondary_takes_unrecoverable_and_late_retries() {
    let w = Arc::new(TestWriter::default());
    let sec = Arc::new(TestWriter::default());
    w.script
        .lock()
        .unwrap()
        .push_back(WriteError::Unrecoverable("400".into()));
    let tmp = tempfile::tempdir().unwrap();
    let o = out(cfg("<buffer>\nflush_mode immediate\nretry_wait 0.1\nretry_max_times 3\nretry_randomize false\n</buffer>"), &w, Some(sec.clone()), tmp.path());
    o.clone().start().await.unwrap();
    o.emit("t", batch(0, 1)).await.unwrap();
    wait_until("secondary", Duration::from_secs(5), || {
        sec.lines().len() == 1
    })
    .await;
    *w.fail_always.lock().unwrap() = Some(WriteError::Retryable("down".into()));
    o.emit("t", batch(1, 1)).await.unwrap();
    // Budget 0.1+0.2+0.4 = 0.7 s; 80 % → the secondary after ≈ 0.56 s.
    wait_until("secondary after retries", Duration::from_secs(5), || {
        sec.lines().len() == 2
    })
    .await;
    assert_eq!(seqs(&sec.lines()), [0, 1]);
    assert!(w.lines().is_empty());
    o.drain(far()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn overflow_actions() {
    let tmp = tempfile::tempdir().unwrap();
    // throw_exception: refused once total_limit_size is reached.
    let w = Arc::new(TestWriter::default());
    *w.fail_always.lock().unwrap() = Some(WriteError::Retryable("down".into()));
    let o = out(
        cfg("<buffer>\nflush_mode immediate\nretry_wait 30\ntotal_limit_size 300\n</buffer>"),
        &w,
        None,
        tmp.path(),
    );
    o.clone().start().await.unwrap();
    let mut refused = false;
    for i in 0..50 {
        if let Err(e) = o.emit("t", batch(i, 1)).await {
            assert!(matches!(e, EmitError::Overflow(_)), "{e}");
            refused = true;
            break;
        }
    }
    assert!(refused, "throw_exception must refuse once full");
    o.drain(tokio::time::Instant::now()).await;

    // drop_oldest_chunk: never refuses, counts the drops.
    let w = Arc::new(TestWriter::default());
    *w.fail_always.lock().unwrap() = Some(WriteError::Retryable("down".into()));
    let o = out(cfg("<buffer>\nflush_mode immediate\nretry_wait 30\ntotal_limit_size 300\noverflow_action drop_oldest_chunk\n</buffer>"), &w, None, tmp.path());
    o.clone().start().await.unwrap();
    for i in 0..50 {
        o.emit("t", batch(i, 1)).await.unwrap();
    }
    assert!(
        o.stats()
            .dropped_chunks
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    );
    assert!(o.usage().2 <= 300 + 40);
    o.drain(tokio::time::Instant::now()).await;

    // block: the emit waits until the writer recovers, then goes through.
    let w = Arc::new(TestWriter::default());
    *w.fail_always.lock().unwrap() = Some(WriteError::Retryable("down".into()));
    let o = out(cfg("<buffer>\nflush_mode immediate\nretry_wait 0.1\nretry_max_interval 0.1\nretry_forever true\ntotal_limit_size 100\noverflow_action block\n</buffer>"), &w, None, tmp.path());
    o.clone().start().await.unwrap();
    let mut i = 0;
    while o.usage().2 < 100 {
        o.emit("t", batch(i, 1)).await.unwrap();
        i += 1;
    }
    let o2 = o.clone();
    let blocked = tokio::spawn(async move { o2.emit("t", batch(999, 1)).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !blocked.is_finished(),
        "block must wait while the buffer is full"
    );
    *w.fail_always.lock().unwrap() = None;
    blocked.await.unwrap().unwrap();
    wait_until("all delivered", Duration::from_secs(5), || {
        w.lines().len() as i64 == i + 1
    })
    .await;
    o.drain(far()).await;
}

// flush_at_shutdown (memory default): staged data is written at shutdown.
#[tokio::test(flavor = "multi_thread")]
async fn memory_buffer_drains_at_shutdown() {
    let w = Arc::new(TestWriter::default());
    let tmp = tempfile::tempdir().unwrap();
    let o = out(
        cfg("<buffer>\nflush_interval 3600\n</buffer>"),
        &w,
        None,
        tmp.path(),
    );
    o.clone().start().await.unwrap();
    o.emit("t", batch(0, 7)).await.unwrap();
    assert!(w.lines().is_empty());
    o.drain(far()).await;
    assert_eq!(seqs(&w.lines()), (0..7).collect::<Vec<_>>());
    assert!(matches!(
        o.emit("t", batch(7, 1)).await,
        Err(EmitError::ShuttingDown)
    ));
}

// Lazy flush by time slice: a chunk of an old hour is flushed as soon as its slice + wait passed.
#[tokio::test(flavor = "multi_thread")]
async fn lazy_time_slices() {
    let w = Arc::new(TestWriter::default());
    let tmp = tempfile::tempdir().unwrap();
    let o = out(
        cfg("<buffer time>\ntimekey 3600\ntimekey_wait 1\ntimekey_use_utc true\n</buffer>"),
        &w,
        None,
        tmp.path(),
    );
    o.clone().start().await.unwrap();
    o.emit("t", batch(0, 3)).await.unwrap();
    wait_until("the 2023 slice", Duration::from_secs(5), || {
        w.lines().len() == 3
    })
    .await;
    o.drain(far()).await;
}

// A file buffer: data survives the loss of the process (the output dropped without shutdown)
// and is delivered by the next one; compress gzip round-trips.
#[tokio::test(flavor = "multi_thread")]
async fn file_buffer_resumes_after_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("buf");
    let c = cfg(&format!(
        "<buffer>\n@type file\npath {}\nflush_interval 3600\ncompress gzip\n</buffer>",
        dir.display()
    ));
    let w1 = Arc::new(TestWriter::default());
    let o1 = Arc::new(file_backed(
        c.clone(),
        w1.clone(),
        None,
        PluginLog::new("t", None),
        tmp.path().join("backup"),
        FileStoreAt {
            dir: dir.clone(),
            suffix: ".log".into(),
            fsync: false,
            perms: Default::default(),
            plugin_dir: None,
            single: None,
        },
    ));
    o1.clone().start().await.unwrap();
    o1.emit("t", batch(0, 5)).await.unwrap();
    o1.emit("t", batch(5, 5)).await.unwrap();
    assert!(w1.lines().is_empty());
    drop(o1); // "kill -9": no shutdown, no flush.

    let w2 = Arc::new(TestWriter::default());
    let o2 = Arc::new(file_backed(
        c,
        w2.clone(),
        None,
        PluginLog::new("t", None),
        tmp.path().join("backup"),
        FileStoreAt {
            dir: dir.clone(),
            suffix: ".log".into(),
            fsync: true,
            perms: Default::default(),
            plugin_dir: None,
            single: None,
        },
    ));
    o2.clone().start().await.unwrap();
    assert_eq!(o2.usage().0, 1, "the staged chunk is resumed");
    o2.flush_now();
    wait_until("resumed delivery", Duration::from_secs(5), || {
        w2.lines().len() == 10
    })
    .await;
    assert_eq!(seqs(&w2.lines()), (0..10).collect::<Vec<_>>());
    o2.drain(far()).await;
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with("buffer."))
        .collect();
    assert!(left.is_empty(), "delivered chunks are deleted: {left:?}");
}

/// A memory buffer with `compress gzip`: emits compress off the runtime's worker (block_in_place)
/// on a multi-thread runtime, inline on a current-thread one; both deliver every record.
async fn memory_gzip_round_trip() {
    let w = Arc::new(TestWriter::default());
    let tmp = tempfile::tempdir().unwrap();
    let o = out(
        cfg("<buffer>\nflush_interval 3600\nchunk_limit_size 200\ncompress gzip\n</buffer>"),
        &w,
        None,
        tmp.path(),
    );
    o.clone().start().await.unwrap();
    for i in 0..4 {
        o.emit("t", batch(i * 10, 10)).await.unwrap();
    }
    o.flush_now();
    o.drain(far()).await;
    assert_eq!(seqs(&w.lines()), (0..40).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_gzip_buffer_multi_thread() {
    memory_gzip_round_trip().await;
}

#[tokio::test(flavor = "current_thread")]
async fn memory_gzip_buffer_current_thread() {
    memory_gzip_round_trip().await;
}

/// A writer with a preparation step: it upper-cases the chunk's bytes on the blocking pool and
/// notes how many preparations ran at once; each waits (up to 10 s) for a second one to run.
#[derive(Default)]
struct PreparingWriter {
    running: Arc<std::sync::atomic::AtomicUsize>,
    most: Arc<std::sync::atomic::AtomicUsize>,
    /// (chunk bytes, prepared body) of each write; writes that got no preparation.
    prepared: Mutex<Vec<(Vec<u8>, Vec<u8>)>>,
    unprepared: Mutex<Vec<Vec<u8>>>,
}

#[async_trait]
impl ChunkWriter for PreparingWriter {
    fn format(&self, _tag: &str, _t: EventTime, record: &[u8], out: &mut Vec<u8>) {
        logferry_msgpack::write_json(record, out).unwrap();
        out.push(b'\n');
    }
    fn prepares(&self) -> bool {
        true
    }
    fn prepare(&self, chunk: &Chunk) -> Option<logferry_core::buffer::Prepare> {
        use std::sync::atomic::Ordering::SeqCst;
        let (c, running, most) = (chunk.clone(), self.running.clone(), self.most.clone());
        Some(Box::new(move || {
            let now = running.fetch_add(1, SeqCst) + 1;
            most.fetch_max(now, SeqCst);
            let start = Instant::now();
            while most.load(SeqCst) < 2 && start.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(1));
            }
            running.fetch_sub(1, SeqCst);
            Ok(bytes::Bytes::from(c.bytes()?.to_ascii_uppercase()))
        }))
    }
    async fn write(&self, chunk: &Chunk) -> Result<(), WriteError> {
        self.unprepared
            .lock()
            .unwrap()
            .push(chunk.bytes().unwrap().to_vec());
        Ok(())
    }
    async fn write_prepared(
        &self,
        chunk: &Chunk,
        body: std::io::Result<bytes::Bytes>,
    ) -> Result<(), WriteError> {
        self.prepared
            .lock()
            .unwrap()
            .push((chunk.bytes().unwrap().to_vec(), body.unwrap().to_vec()));
        Ok(())
    }
}

/// Queued memory chunks are prepared ahead on the blocking pool, several at once, although one
/// flush thread writes them one by one; every write gets its own chunk's preparation. (On one
/// core nothing is prepared ahead.)
#[tokio::test(flavor = "multi_thread")]
async fn queued_chunks_are_prepared_in_parallel() {
    let w = Arc::new(PreparingWriter::default());
    let tmp = tempfile::tempdir().unwrap();
    let o = Arc::new(BufferedOutput::new(
        cfg("<buffer>\nflush_interval 60\nchunk_limit_size 200\nflush_thread_count 1\n</buffer>"),
        w.clone(),
        None,
        PluginLog::new("t", None),
        tmp.path().to_path_buf(),
    ));
    o.clone().start().await.unwrap();
    // ~10 B a record: one emit fills and queues several 200-byte chunks at once.
    o.emit("t", batch(0, 100)).await.unwrap();
    o.drain(far()).await;
    let prepared = w.prepared.lock().unwrap().clone();
    let unprepared = w.unprepared.lock().unwrap().clone();
    let mut lines = Vec::new();
    for (chunk, body) in &prepared {
        assert_eq!(
            *body,
            chunk.to_ascii_uppercase(),
            "its own chunk's preparation"
        );
        lines.extend(
            String::from_utf8(chunk.clone())
                .unwrap()
                .lines()
                .map(str::to_string),
        );
    }
    for chunk in &unprepared {
        lines.extend(
            String::from_utf8(chunk.clone())
                .unwrap()
                .lines()
                .map(str::to_string),
        );
    }
    assert_eq!(
        seqs(&lines),
        (0..100).collect::<Vec<_>>(),
        "every record once"
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let most = w.most.load(std::sync::atomic::Ordering::SeqCst);
    if cores >= 2 {
        assert!(prepared.len() >= 2, "{} prepared", prepared.len());
        assert!(most >= 2, "preparations at once: {most}");
    } else {
        assert!(prepared.is_empty(), "on one core nothing is prepared ahead");
    }
    assert!(
        most <= cores,
        "no more preparations at once than cores: {most}"
    );
}

/// One event whose record is `{"k" => v, "n" => n}`.
fn keyed(v: &Value, n: i64) -> EventBatch {
    let mut b = BatchBuilder::new();
    b.push_value(
        EventTime::new(1_700_000_000, 0),
        &Value::Map(vec![
            (Value::Str("k".into()), v.clone()),
            (Value::Str("n".into()), Value::Int(n)),
        ]),
    );
    b.finish()
}

// A record-key chunk key keeps its value's kind across a restart, as Fluentd's `.meta` does
// (the values themselves, msgpack): a resumed chunk keyed by nil, a boolean, an Integer, a Float,
// a String, an Array or a Hash takes new events of that same value, and only those (1.5 and
// "1.5", true and "true" stay two chunks).
#[tokio::test(flavor = "multi_thread")]
async fn resumed_chunks_keep_their_key_kinds() {
    let values = [
        Value::Nil,
        Value::Str(String::new()),
        Value::Bool(true),
        Value::Bool(false),
        Value::Str("true".into()),
        Value::Int(1),
        Value::UInt(u64::MAX),
        Value::Str("1".into()),
        Value::F64(1.5),
        Value::F64(1e20),
        Value::F64(-0.0),
        Value::F64(f64::INFINITY),
        Value::Str("1.5".into()),
        Value::Array(vec![Value::Int(1), Value::Str("a".into())]),
        Value::Str(r#"[1, "a"]"#.into()),
        Value::Map(vec![(Value::Str("z".into()), Value::Int(1))]),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("buf");
    let c = cfg(&format!(
        "<buffer k>\n@type file\npath {}\nflush_interval 3600\n</buffer>",
        dir.display()
    ));
    let open = |w: &Arc<TestWriter>, resume: bool| {
        Arc::new(file_backed(
            c.clone(),
            w.clone(),
            None,
            PluginLog::new("t", None),
            tmp.path().join("backup"),
            FileStoreAt {
                dir: dir.clone(),
                suffix: ".log".into(),
                fsync: resume,
                perms: Default::default(),
                plugin_dir: None,
                single: None,
            },
        ))
    };
    let w1 = Arc::new(TestWriter::default());
    let o1 = open(&w1, false);
    o1.clone().start().await.unwrap();
    for (i, v) in values.iter().enumerate() {
        o1.emit("t", keyed(v, i as i64)).await.unwrap();
    }
    assert_eq!(o1.usage().0, values.len(), "one chunk per value");
    drop(o1); // "kill -9": no shutdown, no flush.

    let w2 = Arc::new(TestWriter::default());
    let o2 = open(&w2, true);
    o2.clone().start().await.unwrap();
    assert_eq!(o2.usage().0, values.len(), "every chunk is resumed");
    for (i, v) in values.iter().enumerate() {
        o2.emit("t", keyed(v, (values.len() + i) as i64))
            .await
            .unwrap();
    }
    assert_eq!(
        o2.usage().0,
        values.len(),
        "new events join the resumed chunk of their value"
    );
    o2.flush_now();
    wait_until("resumed delivery", Duration::from_secs(5), || {
        w2.chunks.lock().unwrap().len() == values.len()
    })
    .await;
    let n = values.len() as i64;
    for (_, records, data) in w2.chunks.lock().unwrap().iter() {
        let lines: Vec<String> = String::from_utf8(data.clone())
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        let s = seqs(&lines);
        assert_eq!((*records, s.len()), (2, 2), "{lines:?}");
        assert_eq!(
            s[0] + n,
            s[1],
            "a chunk holds one value's events: {lines:?}"
        );
    }
    o2.drain(far()).await;
}

/// Writes entries as they are (out_forward's format) and keeps each chunk's pieces.
#[derive(Default)]
struct VerbatimWriter {
    chunks: Mutex<Vec<(u64, Vec<bytes::Bytes>)>>,
}

#[async_trait]
impl ChunkWriter for VerbatimWriter {
    fn format(&self, _tag: &str, t: EventTime, record: &[u8], out: &mut Vec<u8>) {
        out.push(0x92);
        t.encode(out);
        out.extend_from_slice(record);
    }
    fn formats_verbatim(&self) -> bool {
        true
    }
    fn takes_parts(&self) -> bool {
        true
    }
    async fn write(&self, chunk: &Chunk) -> Result<(), WriteError> {
        assert_eq!(chunk.raw_len(), chunk.raw().len());
        self.chunks
            .lock()
            .unwrap()
            .push((chunk.records(), chunk.parts().to_vec()));
        Ok(())
    }
}

/// A batch whose bytes are a `Vec` of their own, of exactly their length.
fn tight(from: i64, n: i64) -> EventBatch {
    let b = batch(from, n);
    let ends = b.ends().to_vec();
    let t = EventBatch::from_indexed_tight(bytes::Bytes::from(b.bytes().to_vec()), ends, true);
    assert!(t.is_tight());
    t
}

// out_forward's chunks keep large batches that are allocations of their own as they are (no
// copy), copy the others, split at the chunk limit, and keep the order.
#[tokio::test(flavor = "multi_thread")]
async fn verbatim_batches_go_into_memory_chunks_without_a_copy() {
    let w = Arc::new(VerbatimWriter::default());
    let tmp = tempfile::tempdir().unwrap();
    let o = Arc::new(BufferedOutput::new(
        cfg("<buffer>\nflush_interval 3600\nchunk_limit_size 100k\n</buffer>"),
        w.clone(),
        None,
        PluginLog::new("t", None),
        tmp.path().to_path_buf(),
    ));
    o.clone().start().await.unwrap();
    let big = [tight(0, 3000), tight(3000, 3000), tight(6000, 9000)];
    assert!(big.iter().all(|b| b.bytes().len() > 20 << 10));
    // Not tight: sliced out of a larger allocation.
    let loose = {
        let b = batch(20000, 3000);
        let mut v = Vec::with_capacity(b.bytes().len() * 4);
        v.extend_from_slice(b.bytes());
        EventBatch::from_indexed(v, b.ends().to_vec())
    };
    assert!(!loose.is_tight());
    let small = tight(30000, 2);
    let sent = [&big[0], &small, &big[1], &loose, &big[2]];
    let mut want = Vec::new();
    for b in sent {
        o.emit("t", b.clone()).await.unwrap();
        want.extend_from_slice(b.bytes());
    }
    o.drain(far()).await;
    let chunks = w.chunks.lock().unwrap().clone();
    assert!(chunks.len() >= 2, "split at 100k: {} chunks", chunks.len());
    let got: Vec<u8> = chunks.iter().flat_map(|(_, p)| p.concat()).collect();
    assert_eq!(got, want, "every byte, in order");
    let records: u64 = chunks.iter().map(|(r, _)| r).sum();
    assert_eq!(records, sent.iter().map(|b| b.len() as u64).sum::<u64>());
    let within = |p: &bytes::Bytes, b: &EventBatch| {
        let (s, e) = (b.bytes().as_ptr() as usize, b.bytes().len());
        (s..s + e).contains(&(p.as_ptr() as usize))
    };
    let pieces: Vec<&bytes::Bytes> = chunks.iter().flat_map(|(_, p)| p).collect();
    for b in &big {
        assert!(
            pieces.iter().any(|p| within(p, b)),
            "a large tight batch is kept as it is"
        );
    }
    assert!(
        !pieces
            .iter()
            .any(|p| within(p, &loose) || within(p, &small)),
        "a loose or small batch is copied"
    );
}

/// Fluentd's checks of flush_interval against the flush mode, and its lenient flush_at_shutdown
/// (differential cases buffer-flush-interval-*, buffer-flush-at-shutdown-not-bool).
#[test]
fn flush_interval_and_mode_as_fluentd_checks_them() {
    let try_cfg = |body: &str| {
        let text = format!("<match **>\n@type t\n{body}\n</match>\n");
        let root = logferry_config::parse_str(&text, "t.conf", Path::new(".")).unwrap();
        BufferConfig::from_output(
            &Section::new(&root.elements[0], "t"),
            &BufferDefaults::default(),
        )
        .map(|c| (c.flush_mode, c.flush_at_shutdown))
        .map_err(|e| e.to_string())
    };
    for bad in [
        "<buffer>\nflush_mode immediate\nflush_interval 60\n</buffer>",
        "<buffer time>\ntimekey 1d\nflush_mode default\nflush_interval 10s\n</buffer>",
        "<buffer time>\ntimekey 1d\nflush_mode lazy\nflush_interval 10s\n</buffer>",
    ] {
        let e = try_cfg(bad).unwrap_err();
        assert!(
            e.contains("'flush_interval' can't be specified"),
            "{bad}: {e}"
        );
    }
    // Without flush_mode written: a warning only.
    assert_eq!(
        try_cfg("<buffer time>\ntimekey 1d\nflush_interval 10s\n</buffer>")
            .unwrap()
            .0,
        logferry_core::buffer::config::FlushMode::Lazy
    );
    assert_eq!(
        try_cfg("<buffer>\nflush_mode default\nflush_interval 10s\n</buffer>")
            .unwrap()
            .0,
        logferry_core::buffer::config::FlushMode::Interval
    );
    assert!(
        try_cfg("<buffer>\nflush_at_shutdown maybe\n</buffer>")
            .unwrap()
            .1
    );
    assert!(
        !try_cfg("<buffer>\n@type file\npath /tmp/x\nflush_at_shutdown maybe\n</buffer>")
            .unwrap()
            .1
    );
}
