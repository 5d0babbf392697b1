//! The declared parameters of `<buffer>`, of buffered outputs, and their v0.12 flat names.

use logferry_config::params::{one, p, Body, ParamType::*, PluginKind, Spec};

/// `<buffer CHUNK_KEYS>`: Fluentd's buffer parameters with their defaults.
pub static BUFFER: Spec = Spec::new(
    "buffer",
    "How an output buffers: chunk keys in the argument (`tag`, `time`, record keys), store, limits, flushing and retries.",
)
.params(&[
    p("path", Str, "Directory of a file buffer's chunks (file_single: a directory, or a file path `DIR/PREFIX.*` whose chunks are `DIR/PREFIX.<key>.b<id>.buf`).")
        .computed("<system> root_dir/worker0/<@id>/buffer; out_file: beside its path"),
    p("path_suffix", Str, "Suffix of chunk file names.").default(".log"),
    p("calc_num_records", Bool, "file_single: count the records of chunks resumed from disk (else they count 0).").default("true"),
    p("chunk_format", Enum(&["msgpack", "text", "auto"]), "file_single: how resumed chunks' records are counted: msgpack values or lines (`auto`: msgpack when the output's format is msgpack).").default("auto"),
    p("durability", Enum(&["process", "power_loss"]), "`power_loss` fsyncs chunk files at every commit (logferry's own).").default("process"),
    p("file_permission", Str, "Mode (octal) of a file buffer's chunk and `.meta` files (the umask applies).").computed("<system> file_permission, else 0644"),
    p("dir_permission", Str, "Mode (octal) of the directories a file buffer creates.").computed("<system> dir_permission, else 0755"),
    p("timekey", Time, "Length of a time slice when `time` is a chunk key.")
        .computed("the output's (1d for file and s3)"),
    p("timekey_wait", Time, "How long after a slice ends its chunk is flushed (flush_mode lazy).").default("600"),
    p("timekey_use_utc", Bool, "Cut time slices in UTC.").default("false"),
    p("timekey_zone", Str, "Zone of time slices (`+09:00`, `Asia/Tokyo`).").computed("local time"),
    p("chunk_limit_size", Size, "Largest chunk.").computed("8m in memory, 256m on file"),
    p("chunk_limit_records", Integer, "Most events in a chunk."),
    p("total_limit_size", Size, "Largest buffer (staged and queued chunks).")
        .computed("512m in memory, 64g on file; chunk_limit_size × queue_limit_length when that is set"),
    p("queue_limit_length", Integer, "Most queued chunks (Fluentd's old limit; sets total_limit_size)."),
    p("queued_chunks_limit_size", Integer, "Most chunks queued for flushing at once.")
        .computed("flush_thread_count"),
    p("chunk_full_threshold", Float, "Fill ratio at which a chunk is full.").default("0.95"),
    p("compress", Enum(&["text", "gzip"]), "Keep chunks gzipped.").default("text"),
    p("flush_mode", Enum(&["default", "lazy", "interval", "immediate"]), "When chunks are flushed: `default` is lazy with a time key, else interval.").default("default"),
    p("flush_interval", Time, "Flush period in interval mode.").default("60s"),
    p("flush_thread_count", Integer, "Chunks flushed in parallel.").default("1"),
    p("flush_thread_interval", Time, "How often idle flush threads look for work.").default("1.0"),
    p("flush_thread_burst_interval", Time, "Accepted for Fluentd compatibility; logferry flushes a queued chunk as soon as a thread is free.").default("1.0"),
    p("flush_at_shutdown", Bool, "Flush every chunk at shutdown.")
        .computed("true in memory, false on file"),
    p("overflow_action", Enum(&["throw_exception", "block", "drop_oldest_chunk", "exception"]), "What happens when the buffer is full.").default("throw_exception"),
    p("retry_type", Enum(&["exponential_backoff", "periodic"]), "Retry schedule.").default("exponential_backoff"),
    p("retry_wait", Time, "First retry delay.").default("1s"),
    p("retry_exponential_backoff_base", Float, "Growth of the retry delay.").default("2"),
    p("retry_max_interval", Time, "Longest retry delay."),
    p("retry_randomize", Bool, "Spread retry delays by ±12.5 %.").default("true"),
    p("retry_timeout", Time, "Give up a chunk after retrying this long.").default("72h"),
    p("retry_max_times", Integer, "Give up a chunk after this many retries."),
    p("retry_forever", Bool, "Never give up a chunk.").default("false"),
    p("retry_secondary_threshold", Float, "Share of retry_timeout after which chunks go to `<secondary>`.").default("0.8"),
    p("disable_chunk_backup", Bool, "Drop given-up chunks instead of backing them up.").default("false"),
]);

/// Fluentd v0.12's flat buffer parameters, read on the output when it has no `<buffer>`.
pub static V012_BUFFER: Spec = Spec::new(
    "v0.12 buffer",
    "Fluentd v0.12's flat buffer parameters, used when the output has no `<buffer>` section.",
)
.legacy()
.params(&[
    p("buffer_type", Enum(&["memory", "file", "file_single"]), "v0.12 name of <buffer> @type."),
    p("buffer_path", Str, "v0.12 name of <buffer> path (implies a file buffer, as v0.12 did)."),
    p("num_threads", Integer, "v0.12 name of flush_thread_count."),
    p("flush_interval", Time, "v0.12 placement of flush_interval (forces flush_mode interval)."),
    p("try_flush_interval", Time, "v0.12 name of flush_thread_interval."),
    p("queued_chunk_flush_interval", Time, "v0.12 name of flush_thread_burst_interval."),
    p("disable_retry_limit", Bool, "v0.12 name of retry_forever."),
    p("retry_limit", Integer, "v0.12 name of retry_max_times."),
    p("max_retry_wait", Time, "v0.12 name of retry_max_interval."),
    p("buffer_chunk_limit", Size, "v0.12 name of chunk_limit_size."),
    p("buffer_queue_limit", Integer, "v0.12 name of queue_limit_length."),
    p("buffer_queue_full_action", Str, "v0.12 name of overflow_action."),
    p("flush_at_shutdown", Bool, "v0.12 placement of flush_at_shutdown."),
    p("time_slice_wait", Time, "v0.12 name of timekey_wait."),
    p("timezone", Str, "v0.12 name of timekey_zone."),
    p("retry_wait", Time, "v0.12 placement of retry_wait (Fluentd v1 ignores it; logferry honours it)."),
    p("time_slice_format", Str, "v0.12 time slice: adds the `time` chunk key, its timekey taken from the finest of %d, %H, %M, %S."),
    p("utc", Bool, "v0.12: cut time slices in UTC.").default("false"),
    p("localtime", Bool, "v0.12: cut time slices in local time.").default("true"),
]);

/// What every buffered output takes: `<buffer>`, `<secondary>`, the output-level flush settings
/// and the v0.12 flat buffer parameters.
pub static BUFFERED: Spec = Spec::new("buffered output", "Buffered output settings.")
    .params(&[
        p("delayed_commit_timeout", Time, "Longest a chunk write may take before it is retried (unset: the output's own network timeouts apply)."),
        p("slow_flush_log_threshold", Time, "Warn when a chunk write takes longer.").default("20.0"),
    ])
    .sections(&[
        one("buffer", Body::Spec(&BUFFER), "The buffer."),
        one("secondary", Body::Plugin(PluginKind::Output, None), "Where chunks go once retries pass retry_secondary_threshold."),
    ])
    .extends(&[&V012_BUFFER]);
