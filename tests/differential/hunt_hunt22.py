"""Hunt areas `bufopt` and `sysopt` (imported by hunt.py, which seeds the Random given here).

bufopt: out_file's `<buffer>` as users write it: chunk keys (tag, time, record keys, nested
`$.m.k`), timekey and its zone options, chunk_limit_records/chunk_limit_size splits,
flush_mode, flush_at_shutdown, total_limit_size with overflow_action, retry_*,
queued_chunks_limit_size, buffer and file gzip, placeholders in `path`, and `append false`, where
each chunk gets its own file (`_0`, `_1`, ...). One case per config; a drawn bad value makes the
case a dry-run check. With `append false` and a time chunk key the events lie in 2100 so that no
timekey comes due while the events arrive (a chunk enqueued half-way would make the split depend on
timing); flush_interval is never short for the same reason. Records stay below the smallest
chunk_limit_size (a larger one is a known difference: README).

bufsplit: big forward frames of events of random sizes into small chunks with `append false`: where
each chunk ends (records stay below chunk_limit_size).

sysopt: `<system>` options and top-level config that Fluentd accepts or refuses at dry-run and
start: log_level, suppress_repeated_stacktrace, ignore_repeated_log_interval, workers, root_dir,
`<log>`, process_name, without_source, `<worker N>` / `<worker N-M>`, plugin `@log_level`, `@id`
twice, unknown parameters. Most draws are dry-run checks; some run events through a config whose
system options should not change what is written.
"""
import gen_cases as g

FUTURE = 4102444800  # 2100-01-01T00:00:00Z
PAST = 1700000000
OFFSETS = [0, 1, 59, 60, 61, 3599, 3600, 3661, 7200, 86399, 86400, 90061]

# timekey -> out_file's own time placeholders for it (Fluentd's timekey_to_timeformat)
TIMEKEYS = {"30": "%Y%m%d%H%M%S", "60": "%Y%m%d%H%M", "90": "%Y%m%d%H%M", "1m": "%Y%m%d%H%M",
            "30m": "%Y%m%d%H%M", "3600": "%Y%m%d%H", "1h": "%Y%m%d%H", "2h": "%Y%m%d%H", "1d": "%Y%m%d",
            "86400": "%Y%m%d"}

# (parameter line, where) values Fluentd may refuse: each draws a dry-run case
BAD_BUFFER = ["timekey 0", "timekey -1", "timekey abc", "timekey 1x", "chunk_limit_size abc", "chunk_limit_size 0",
              "chunk_limit_size -1", "chunk_limit_size 1x", "chunk_limit_size 1.5k", "chunk_limit_size 1g",
              "total_limit_size abc", "total_limit_size 10", "chunk_limit_records 0", "chunk_limit_records -1",
              "chunk_limit_records x", "flush_mode fast", "flush_mode Immediate", "flush_mode ''",
              "flush_mode immediate\nflush_interval 10s", "flush_mode interval\nflush_interval 0",
              "flush_mode lazy\nflush_interval 10s", "flush_at_shutdown maybe", "overflow_action drop",
              "overflow_action drop_newest_chunk", "retry_type linear", "retry_max_times -1",
              "retry_max_times x", "retry_wait 0", "retry_wait -1", "retry_timeout 0", "retry_forever yes",
              "retry_exponential_backoff_base 1", "retry_exponential_backoff_base 0.5", "retry_randomize x",
              "queued_chunks_limit_size 0", "queued_chunks_limit_size -1", "compress zip", "compress text",
              "chunk_full_threshold 2", "chunk_full_threshold 0", "flush_thread_count 0", "timekey_wait -10",
              "timekey_zone Mars/Base", "timekey_zone +25:00", "timekey_use_utc yes", "chunk_limit_size 1k\ntotal_limit_size 100",
              "delayed_commit_timeout 0", "flush_thread_interval 0", "unknown_param 1"]


def bufsplit(R, name):
    """Big forward frames of events of random sizes into small chunks (chunk_limit_size,
    chunk_limit_records, chunk_full_threshold), append false: where each chunk ends."""
    buf = ["@type memory", "chunk_limit_size " + R.choice(["150", "200", "256", "300", "400"])]
    if R.random() < 0.3:
        buf.append("chunk_limit_records " + R.choice(["3", "4", "7"]))
    if R.random() < 0.3:
        buf.append("chunk_full_threshold " + R.choice(["0.5", "0.8", "0.95", "0.99"]))
    if R.random() < 0.3:
        buf.append("flush_mode immediate")
    keys = R.choice(["", "", "tag", "k"])
    path = "{DIR}/out/b/f" + {"": "", "tag": ".${tag}", "k": ".${k}"}[keys]
    fmt = R.choice(["@type json", "@type json", "@type single_value\nmessage_key p"])
    body = "@type file\npath %s\nappend false\n<format>\n%s</format>\n<buffer %s>\n%s</buffer>" % (
        path, g.indent(fmt), keys, g.indent("\n".join(buf)))
    frames, n = [], 0
    for _ in range(R.randint(1, 4)):
        entries = []
        for _ in range(R.choice([1, 2, 5, 8, 13, 20, 30])):
            entries.append([FUTURE, {"n": n, "k": R.choice("ab"), "p": "x" * R.choice([0, 1, 5, 20, 40, 60, 90])}])
            n += 1
        tag = R.choice(["h.a", "h.b"])
        if len(entries) == 1:
            frames.append(g.msg(entries[0][1], tag=tag, time=FUTURE))
        else:
            frames.append({"mode": R.choice(["forward", "packed", "compressed"]), "tag": tag, "entries": entries})
    g.case(name, "<match h.**>\n%s</match>\n" % g.indent(body) + g.ERR, frames)


def bufopt(R, name):
    keys = R.sample(["tag", "time", "k", "$.m.k"], R.randint(0, 3))
    append = R.random() < 0.35
    base = PAST if append and R.random() < 0.5 else FUTURE
    buf = [R.choice(["@type memory", "@type memory", "@type memory", "@type file\npath {DIR}/buf"])]
    path = "{DIR}/out/b/" + R.choice(["f", "x/f", "f.log", "f.", "f-"])
    star = False
    if "time" in keys:
        tk = R.choice(list(TIMEKEYS))
        buf.append("timekey " + tk)
        r = R.random()
        if r < 0.3:
            path += "." + TIMEKEYS[tk]
        elif r < 0.45:
            path = path.rstrip(".-") + ".*"
            star = True
        elif r < 0.55:
            path += "." + R.choice(["%Y", "%d%H%M%S", "%Y%m%d%H%M%S", "%s"])
        if R.random() < 0.3:
            buf.append("timekey_wait " + R.choice(["0", "10s", "10m", "1h"]))
        if R.random() < 0.3:
            buf.append("timekey_use_utc " + R.choice(["true", "false"]))
        if R.random() < 0.3:
            buf.append("timekey_zone " + R.choice(["+0900", "-0530", "Asia/Tokyo", "UTC", "+09:00"]))
    if not star:
        if "tag" in keys:
            path += R.choice([".${tag}", "/${tag[0]}/", ".${tag[1]}", ".${tag[-1]}", "_${tag}_"])
        if "k" in keys:
            path += R.choice([".${k}", "${k}", "/${k}/g"])
        if "$.m.k" in keys:
            path += ".${$.m.k}"
    # a placeholder without its chunk key now and then (Fluentd refuses it)
    bad = None
    if R.random() < 0.1:
        ph = R.choice(["${tag}", "${k}", "${$.m.k}", "%Y%m%d", "${tag[0]}", "${nope}"])
        path += "." + ph
        bad = ph
    if R.random() < 0.12:
        bad = R.choice(BAD_BUFFER)
        buf.append(bad)
    if R.random() < 0.45:
        buf.append("chunk_limit_records " + R.choice(["1", "2", "3", "5"]))
    if R.random() < 0.35:
        buf.append("chunk_limit_size " + R.choice(["120", "150", "200", "256", "1k", "8m"]))
    mode = R.choice(["", "", "flush_mode default", "flush_mode lazy", "flush_mode interval\nflush_interval 60s",
                     "flush_mode interval\nflush_interval 1h", "flush_mode immediate", "flush_mode immediate"])
    if mode:
        buf.append(mode)
    # Chunks queued while the events arrive (full, or flush_mode immediate) are written by
    # Fluentd one a second: without flush_at_shutdown how many were written by the stop is
    # timing, so false (a file buffer's default) only where nothing is queued before the stop.
    queues = any(o.startswith(("chunk_limit", "flush_mode immediate")) for o in buf) or "flush_mode immediate" in mode
    if buf[0].startswith("@type file") and queues:
        buf.append("flush_at_shutdown true")
    elif R.random() < 0.25:
        buf.append("flush_at_shutdown " + ("true" if queues else R.choice(["true", "false"])))
    if R.random() < 0.2:
        buf.append("total_limit_size " + R.choice(["64m", "1g", "10k"]))
        if R.random() < 0.5:
            buf.append("overflow_action " + R.choice(["throw_exception", "block", "drop_oldest_chunk"]))
    for opt in R.sample(["retry_type periodic", "retry_type exponential_backoff", "retry_wait 5s", "retry_max_times 3",
                         "retry_forever true", "retry_timeout 1h", "retry_max_interval 30", "retry_randomize false",
                         "retry_exponential_backoff_base 3", "retry_secondary_threshold 0.5"], R.choice([0, 0, 1, 2])):
        buf.append(opt)
    if R.random() < 0.2:
        buf.append("queued_chunks_limit_size " + R.choice(["1", "2", "10"]))
    if R.random() < 0.2:
        buf.append("compress gzip")
    if R.random() < 0.15:
        buf.append("chunk_full_threshold " + R.choice(["0.5", "0.95", "0.1"]))
    opts = ["append %s" % ("true" if append else "false")]
    if R.random() < 0.3:
        opts.append("compress gzip")
    if R.random() < 0.15:
        opts.append("path_suffix " + R.choice([".txt", ".json", ""]))
    fmt = R.choice(["@type json", "@type json", "@type ltsv", "@type single_value\nmessage_key n"])
    body = "@type file\npath %s\n%s\n<format>\n%s</format>\n<buffer %s>\n%s</buffer>" % (
        path, "\n".join(opts), g.indent(fmt), ",".join(keys), g.indent("\n".join(buf)))
    frames = None
    if bad is None or R.random() < 0.3:
        frames = []
        n = 0
        for _ in range(R.randint(2, 7)):
            entries = []
            for _ in range(R.choice([1, 1, 1, 2, 3, 5])):
                rec = {"k": R.choice(["a", "b", "a"]), "m": {"k": R.choice(["p", "q"])}, "n": n}
                if R.random() < 0.3:
                    rec["pad"] = "x" * R.randint(1, 40)
                n += 1
                entries.append([base + R.choice(OFFSETS), rec])
            tag = R.choice(["h.a", "h.b.c", "h.a", "h.x"])
            if len(entries) == 1:
                frames.append(g.msg(entries[0][1], tag=tag, time=entries[0][0]))
            else:
                frames.append({"mode": R.choice(["forward", "packed"]), "tag": tag, "entries": entries})
    g.case(name, "<match h.**>\n%s</match>\n" % g.indent(body) + g.ERR, frames)


# --- sysopt ----------------------------------------------------------------------------------
SYS_OPTS = [
    "log_level trace", "log_level debug", "log_level info", "log_level warn", "log_level error", "log_level fatal",
    "log_level verbose", "log_level INFO", "log_level ''",
    "suppress_repeated_stacktrace true", "suppress_repeated_stacktrace false", "suppress_repeated_stacktrace maybe",
    "ignore_repeated_log_interval 60", "ignore_repeated_log_interval 1m", "ignore_repeated_log_interval 0",
    "ignore_repeated_log_interval x", "ignore_same_log_interval 10s", "ignore_same_log_interval x",
    "workers 1", "workers 0", "workers -1", "workers two", "workers 1.5",
    "root_dir {DIR}/root", "root_dir relative/root", "root_dir ''",
    "process_name lfd", "process_name ''", "without_source true", "without_source false", "without_source x",
    "emit_error_log_interval 10", "emit_error_log_interval x", "suppress_config_dump true",
    "log_event_verbose true", "enable_msgpack_time_support true", "file_permission 0644", "file_permission 644",
    "file_permission rw", "dir_permission 0755", "dir_permission 999", "strict_config_value true",
    "strict_config_value false", "disable_shared_socket true", "enable_input_metrics true", "enable_size_metrics true",
    "rpc_endpoint 127.0.0.1:0", "enable_get_dump true", "unknown_system_param 1", "suppress_interval 10",
    "format json", "umask 0022",
]
LOG_OPTS = ["format text", "format json", "format xml", "format ''", "time_format %Y-%m-%d", "time_format %s",
            "rotate_age x", "rotate_size x",
            "forced_stacktrace_level info", "forced_stacktrace_level x", "unknown_log_param 1"]
PLUGIN_LEVELS = ["@log_level debug", "@log_level warn", "@log_level error", "@log_level bogus", "@log_level ''",
                 "log_level warn"]


def sys_out(name, pattern="**", extra=""):
    body = "@type file\npath {DIR}/out/%s\nappend true\n%s<format>\n  @type json\n</format>\n<inject>\n  tag_key tg\n</inject>\n<buffer []>\n  @type memory\n</buffer>\n" % (
        name, extra + "\n" if extra else "")
    return "<match %s>\n%s</match>\n" % (pattern, g.indent(body))


def sysopt(R, name):
    sysl = []
    for o in R.sample(SYS_OPTS, R.choice([0, 1, 1, 2, 3])):
        if o.split()[0] not in [x.split()[0] for x in sysl]:
            sysl.append(o)
    if R.random() < 0.3:
        sysl.append("<log>\n%s</log>" % g.indent("\n".join(R.sample(LOG_OPTS, R.randint(1, 2)))))
    src = g.SRC
    matches = []
    workers = None
    r = R.random()
    if r < 0.25:
        # <worker N> / <worker N-M> sections and which sources route where
        workers = R.choice([2, 3])
        sysl = [o for o in sysl if not o.startswith("workers")] + ["workers %d" % workers]
        spec = R.choice(["0", "1", "0-1", "1-2", "0-%d" % (workers - 1), str(workers), "2-1", "0-0", "a", "1-", "-1"])
        # a top-level <source> beside a section with rules of its own is refused by logferry by
        # design unless that section covers every worker (README), so not drawn
        inner = R.choice([src, src + sys_out("w", "**"), src + sys_out("w", "t.**")])
        where = R.choice(["worker", "top", "both"])
        wsec = "<worker %s>\n%s</worker>\n" % (spec, g.indent(inner))
        conf = "<system>\n%s</system>\n" % g.indent("\n".join(sysl))
        conf += wsec
        # top-level rules beside a section's own are refused by logferry by design (README:
        # one process cannot copy an output per worker), so drawn only with a section without
        if "<match" not in inner and (where == "both" or R.random() < 0.5):
            conf += sys_out("top")
        conf += g.TAIL
        g.case(name, conf, None, raw_conf=True)
        return
    if r < 0.4:
        # an @id twice, or plugin parameters Fluentd does not know
        kind = R.choice(["dup-match", "dup-filter-match", "dup-source", "dup-label", "unknown", "unknown-buffer", "unknown-format", "ok"])
        ida, idb = "a", R.choice(["a", "b"])
        if kind == "dup-match":
            matches.append(sys_out("x1", "t.**", "@id %s" % ida) + sys_out("x2", "**", "@id %s" % idb))
        elif kind == "dup-filter-match":
            matches.append(g.filt("record_transformer", "@id %s\n<record>\n  f 1\n</record>" % ida) + sys_out("x2", "**", "@id %s" % idb))
        elif kind == "dup-source":
            src = src.replace("</source>", "  @id %s\n</source>" % ida) + "<source>\n  @type forward\n  @id %s\n  port 0\n  bind 127.0.0.1\n</source>\n" % idb
            matches.append(sys_out("x"))
        elif kind == "dup-label":
            matches.append(sys_out("x", "**", "@id %s" % ida) + g.label("@L", sys_out("y", "**", "@id %s" % idb)))
        elif kind == "unknown":
            matches.append(sys_out("x", "**", R.choice(["no_such_param 1", "flush_interval 1s", "buffer_type memory", "@no_such 1", "format json"])))
        elif kind == "unknown-buffer":
            matches.append(sys_out("x").replace("@type memory", "@type memory\n    no_such_param 1"))
        elif kind == "unknown-format":
            matches.append(sys_out("x").replace("@type json", "@type json\n    no_such_param 1"))
        else:
            matches.append(sys_out("x", "**", "@id %s" % ida))
    else:
        lvl = R.choice(PLUGIN_LEVELS + [""] * 4)
        if R.random() < 0.3:
            src = src.replace("</source>", "  %s\n</source>" % R.choice(PLUGIN_LEVELS))
        if R.random() < 0.3:
            matches.append(g.filt("record_transformer", "%s\n<record>\n  f ${tag}\n</record>" % R.choice(PLUGIN_LEVELS)))
        matches.append(sys_out("x", "**", lvl))
    conf = ""
    if sysl or R.random() < 0.5:
        conf += "<system>\n%s</system>\n" % (g.indent("\n".join(sysl)) if sysl else "")
    conf += src + "".join(matches) + g.TAIL
    frames = None
    # without_source: Fluentd starts no <source>, so nothing could be sent; a log_level above
    # info hides the line record.sh waits for
    quiet = any(o in sysl for o in ["without_source true", "log_level warn", "log_level error", "log_level fatal"])
    if R.random() < 0.5 and not quiet:
        frames = [g.msg({"a": n, "s": R.choice(["x", "é", ""])}, tag=R.choice(["t", "t.a", "u"])) for n in range(R.randint(1, 4))]
    g.case(name, conf, frames, raw_conf=True)


def areas(R):
    """The areas of this module for hunt.py's AREAS, drawing from hunt.py's seeded Random."""
    return {"bufopt": lambda name: bufopt(R, name), "bufsplit": lambda name: bufsplit(R, name),
            "sysopt": lambda name: sysopt(R, name)}
