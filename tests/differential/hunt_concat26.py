"""Curated cases of concat26 (run `python3 tests/differential/hunt_concat26.py` to write them).

fluent-plugin-concat 2.5.0 against logferry's `concat`: each mode (`n_lines`, the regexps,
`partial_key`, `use_partial_metadata` in its three formats, `use_partial_cri_logtag`) with edge
values of `key`, of `stream_identity_key` and of the partial fields; `separator` as Fluentd's
config reads it (quoted, single-quoted, bare, empty); `use_first_timestamp`; several tags and
streams in one frame; groups still held at shutdown (to `timeout_label`) and at a timeout
(`flush_interval 1`, waiting on monitor_agent for them); `@label` routing; and the combinations
the plugin refuses at start (`dry-run: error`). Every case writes the main output, `@ERROR` and
the timeout label's output with out_file's default format (time, tag, JSON).

Fluentd loses what a concat outside any label still holds at SIGTERM (its outputs have stopped
when the filter flushes), so a case whose groups would still be open at the end gets
`flush_interval 1` and waits for the timeout instead (`left=`); the `concat-shutdown-*` cases
that show the loss carry DIFFERS, and `concat-shutdown-in-label-*` show the order Fluentd
delivers them in from inside a label. DIFFERS files and `expected` are not written here:
record.sh records `expected`.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_cases as g  # noqa: E402

T0 = g.T0
TO = g.label("@TO", g.fileout("timeout"))
MON = "<source>\n  @type monitor_agent\n  bind 127.0.0.1\n  port {PORT3}\n</source>\n"


def fwd(tag, recs, t0=T0, step=1):
    """One forward frame of `recs`, times t0, t0+step, …"""
    return {"mode": "forward", "tag": tag, "entries": [[t0 + i * step, r] for i, r in enumerate(recs)]}


def msgs(tag, recs, t0=T0):
    """One message frame per record."""
    return [g.msg(r, tag=tag, time=t0 + i) for i, r in enumerate(recs)]


def cc(name, params, frames, to=True, pattern="**", after="", extra="", left=0):
    """A concat filter of `params` before out_file x, with @ERROR and (when `to`) the @TO label
    as timeout_label. `left` groups still held after the frames leave by timeout
    (`flush_interval 1`): the case waits on monitor_agent until @TO's output got them (without
    `use_first_timestamp` their time is the flush's, so that output writes JSON and the tag)."""
    if left:
        params = params.rstrip("\n") + "\nflush_interval 1"
        frames = frames + [wait(left)]
    if to:
        params = params.rstrip("\n") + "\ntimeout_label @TO"
    body = (MON if left else "") + g.filt("concat", params, pattern) + after + g.fileout() + g.ERR
    if to:
        body += tmo_label("use_first_timestamp true" in params)
    g.case(name, body + extra, frames)


def tmo_label(first_ts):
    out = g.fileout("timeout") if first_ts else g.fileout("timeout", fmt="@type json", inject="tag_key tag")
    return g.label("@TO", out.replace("@type file", "@type file\n@id tmo"))


def wait(n):
    return {"mode": "wait", "port": 3, "id": "tmo", "emit_records": n}


def cfg(name, params):
    g.case("concat-config-" + name, g.filt("concat", params) + g.fileout() + TO)


def lines(*texts, key="log", **extra):
    return [dict({key: t}, **extra) for t in texts]


def curated():
    # --- n_lines ----------------------------------------------------------------------------
    recs = lines("l1", "l2", "l3", "l4", "l5", "l6", "l7")
    recs.insert(2, {"other": "no key"})
    cc("concat-nlines-3", "key log\nn_lines 3", [fwd("t", recs)], left=1)
    cc("concat-nlines-3-first-ts", "key log\nn_lines 3\nuse_first_timestamp true", [fwd("t", recs)], left=1)
    vals = [None, 1, 1.5, True, False, {"a": 1, "b": [None]}, [1, [2, "x"], None], "", "é", -0.0, 1e20,
            {"$bin_hex": "6162"}, {"$bin_hex": "c3a9"}, {}, []]
    cc("concat-nlines-key-values", "key log\nn_lines 2", [fwd("t", [{"log": v, "i": i} for i, v in enumerate(vals)] + [{"log": "end"}])])
    sids = [None, "", 1, "1", True, "true", {"a": 1}, [1, 2], 1.0, "1.0", None, "x"]
    recs = []
    for i, s in enumerate(sids):
        recs.append({"log": "n%d" % i, "s": s})
    recs.insert(3, {"log": "nos"})
    recs.append({"log": "nos2"})
    cc("concat-nlines-stream-key-values", "key log\nn_lines 2\nstream_identity_key s", [fwd("t", recs)], left=4)
    cc("concat-nlines-tags-interleaved", "key log\nn_lines 2",
       [fwd("a", lines("a1")), fwd("b", lines("b1", "b2", "b3")), fwd("a", lines("a2", "a3")), fwd("c", lines("c1")),
        fwd("b", lines("b4"))], left=2)
    cc("concat-nlines-streams-one-frame", "key log\nn_lines 3\nstream_identity_key c",
       [fwd("t", [{"log": "x%d" % i, "c": "c%d" % (i % 3)} for i in range(10)])], left=1)
    cc("concat-nlines-fluent-tags", "key log\nn_lines 2",
       [fwd("fluent.info", lines("f1", "f2")), fwd("fluent.infox", lines("g1", "g2")), fwd("fluent", lines("h1", "h2")),
        fwd("fluent.warn.x", lines("i1", "i2"))])
    cc("concat-nlines-key-order", "key log\nn_lines 2",
       [fwd("t", [{"a": 1, "log": "x", "b": 2}, {"c": 3, "b": 4, "log": "y"}, {"log": "p", "z": 1}, {"log": "q"}])])

    # --- separator ----------------------------------------------------------------------------
    for name, sep in (("empty-quoted", 'separator ""'), ("empty-bare", "separator"), ("dq-escapes", 'separator "\\n--\\t"'),
                      ("sq", "separator '\\n'"), ("bare-backslash-n", "separator \\n"), ("multichar", "separator  ::  "),
                      ("dq-unicode", 'separator "\\u00e9"'), ("sq-quote", "separator 'a\\'b'")):
        cc("concat-sep-" + name, "key log\nn_lines 3\n" + sep, [fwd("t", lines("a", "b", "c"))])

    # --- regexps ------------------------------------------------------------------------------
    trace = lines("orphan before any start", "2023-01-01 one", "  at a", "  at b", "2023-01-02 two",
                  "2023 three", "2023-01-03 four", "  at c")
    cc("concat-re-start", "key log\nmultiline_start_regexp /^\\d{4}-\\d\\d-/", [fwd("t", trace)], left=1)
    cc("concat-re-start-first-ts", "key log\nmultiline_start_regexp /^\\d{4}-\\d\\d-/\nuse_first_timestamp true", [fwd("t", trace)], left=1)
    ends = lines("a", "b END", "END", "c", "d", "e END", "f")
    cc("concat-re-end", "key log\nmultiline_end_regexp /END$/", [fwd("t", ends)], left=1)
    se = lines("x", "S1", "m", "E", "y E", "S2 E", "S3", "S4 E", "z", "S5", "n")
    cc("concat-re-start-end", "key log\nmultiline_start_regexp /^S/\nmultiline_end_regexp /E$/", [fwd("t", se)], left=1)
    cont = lines("o", "S1", " c1", " c2", "x", "y", "S2", "S3", " c3", "z", "S4", " c4")
    cc("concat-re-start-cont", "key log\nmultiline_start_regexp /^S/\ncontinuous_line_regexp /^\\s/", [fwd("t", cont)], left=1)
    cc("concat-re-start-cont-first-ts",
       "key log\nmultiline_start_regexp /^S/\ncontinuous_line_regexp /^\\s/\nuse_first_timestamp true", [fwd("t", cont)], left=1)
    cc("concat-re-end-cont", "key log\nmultiline_end_regexp /E$/\ncontinuous_line_regexp /^\\s/",
       [fwd("t", lines("a", " b", "c E", "d", "e", " f E", "g", "h"))])
    cc("concat-re-start-end-cont", "key log\nmultiline_start_regexp /^S/\nmultiline_end_regexp /E$/\ncontinuous_line_regexp /^\\s/",
       [fwd("t", lines("S1", " a", "b", "S2", " c E", " d", "S3 E", "S4", " e"))], left=1)
    kv = [{"log": "S0"}, {"log": None}, {"log": 1}, {"log": {"a": 1}}, {"log": True}, {"log": [1]}, {"log": 1.5},
          {"log": "m"}, {"log": {"$bin_hex": "5331"}}, {"log": {"$bin_hex": "6d"}}, {"log": "S9"}]
    cc("concat-re-key-values", "key log\nmultiline_start_regexp /^S/", [fwd("t", kv)], left=1)
    cc("concat-re-anchors", "key log\nmultiline_start_regexp /^S/\nmultiline_end_regexp /E$/",
       [fwd("t", lines("x\nS1", "m", "E\nmore", "S2\n", "q", "a\nb E\n", "tail"))])
    cc("concat-re-anchors-az", "key log\nmultiline_start_regexp /\\AS/\nmultiline_end_regexp /E\\z/",
       [fwd("t", lines("x\nS1", "S1", "m", "E\nmore", "q E\n", "S2", "r E"))])
    cc("concat-re-unicode", "key log\nmultiline_start_regexp /^\\p{Lu}/\nmultiline_end_regexp /\\.$/",
       [fwd("t", lines("étoile", "Émile dit", "que", "c'est fini.", "Ça va", "bien.", "x"))])
    cc("concat-re-stream-key", "key log\nmultiline_start_regexp /^S/\nstream_identity_key c",
       [fwd("t", [{"log": "S1", "c": "a"}, {"log": "S2", "c": "b"}, {"log": "a1", "c": "a"}, {"log": "b1", "c": "b"},
                  {"log": "z", "c": "n"}, {"log": "S3", "c": "a"}, {"log": "a2"}, {"log": "S4"}, {"log": "b2", "c": "b"}])], left=3)

    # --- partial_key -------------------------------------------------------------------------
    pk = [{"log": "p1", "partial_message": "true", "a": 1}, {"log": "p2", "partial_message": "true", "b": 2},
          {"log": "p3", "partial_message": "false", "c": 3}, {"log": "full"},
          {"log": "q1", "partial_message": "true"}, {"log": "q2", "partial_message": True},
          {"log": "r1", "partial_message": "true"}, {"log": "r2", "partial_message": None},
          {"log": "s1", "partial_message": "TRUE"}, {"log": "t1", "partial_message": {"$bin_hex": "74727565"}},
          {"log": "t2"}, {"log": "t3", "partial_message": "x"}, {"log": "u1", "partial_message": "true"}]
    cc("concat-partial", "key log\npartial_key partial_message\npartial_value true", [fwd("t", pk)], left=1)
    cc("concat-partial-keep", "key log\npartial_key partial_message\npartial_value true\nkeep_partial_key true", [fwd("t", pk)], left=1)
    cc("concat-partial-value-1", "key log\npartial_key p\npartial_value 1",
       [fwd("t", [{"log": "a", "p": "1"}, {"log": "b", "p": 1}, {"log": "c", "p": "1"}, {"log": "d", "p": 1.0}])])

    # --- use_partial_metadata ----------------------------------------------------------------
    def dp(log, pid, ordn, last, fields=("partial_message", "partial_id", "partial_ordinal", "partial_last"), msg=True, **extra):
        r = {"log": log}
        if msg:
            r[fields[0]] = "true"
        if pid is not None:
            r[fields[1]] = pid
        if ordn is not None:
            r[fields[2]] = ordn
        if last is not None:
            r[fields[3]] = last
        r.update(extra)
        return r
    meta = [dp("a1", "A", "1", "false", source="stdout"), dp("b1", "B", "1", "false"), {"log": "full line", "source": "stdout"},
            dp("a2", "A", "2", "false"), dp("b2", "B", "2", "true"), dp("a3", "A", "3", "true", extra="x"),
            dp("c3", "C", "3", "false"), dp("c1", "C", "1", "false"), dp("c10", "C", "10", "false"), dp("c2", "C", "2", "false"),
            dp("c9", "C", "9", "true")]
    cc("concat-meta-fluentd", "key log\nuse_partial_metadata true", [fwd("t", meta)])
    cc("concat-meta-fluentd-keep", "key log\nuse_partial_metadata true\nkeep_partial_metadata true", [fwd("t", meta)])
    cc("concat-meta-fluentd-first-ts", "key log\nuse_partial_metadata true\nuse_first_timestamp true", [fwd("t", meta)])
    cc("concat-meta-stream-key", "key log\nuse_partial_metadata true\nstream_identity_key container_id",
       [fwd("t", [dp("a1", "A", "1", "false", container_id="c1"), dp("x1", "A", "1", "false", container_id="c2"),
                  dp("a2", "A", "2", "true", container_id="c1"), dp("x2", "A", "2", "true", container_id="c2")])])
    lasts = [dp("a1", "A", "1", "false"), dp("a2", "A", "2", True), dp("a3", "A", "3", "True"), dp("a4", "A", "4", {"$bin_hex": "74727565"}),
             dp("b1", "B", "1", "false"), dp("b2", "B", "2", "true"), dp("c1", None, None, "true"), dp("d1", 7, 2, "false"),
             dp("d2", 7, 1, "true"), dp("e2", "E", "x", "false"), dp("e1", "E", " 1", "false"), dp("e3", "E", "-1", "true"),
             dp("f1", "F", "2", "false", msg=False), dp("f2", "F", "1", "true", msg=False)]
    cc("concat-meta-field-values", "key log\nuse_partial_metadata true", [fwd("t", lasts)])
    jf = ("CONTAINER_PARTIAL_MESSAGE", "CONTAINER_PARTIAL_ID", "CONTAINER_PARTIAL_ORDINAL", "CONTAINER_PARTIAL_LAST")
    jl = tuple(f.lower() for f in jf)
    for fmt, fields in (("docker-journald", jf), ("docker-journald-lowercase", jl)):
        recs = [dp("j1", "J", "1", "false", fields), dp("full", None, None, None, fields, msg=False),
                dp("k1", "K", "1", "false", fields), dp("j2", "J", "2", "true", fields, msg=False),
                dp("k2", "K", "2", "false", fields), dp("k3", "K", "3", "true", fields),
                dp("w1", "W", "1", "true", fields, msg=True, partial_message="true")]
        for keep in (False, True) if fmt == "docker-journald" else (False,):
            cc("concat-meta-%s%s" % (fmt.replace("docker-", ""), "-keep" if keep else ""),
               "key log\nuse_partial_metadata true\npartial_metadata_format %s%s" % (fmt, "\nkeep_partial_metadata true" if keep else ""),
               [fwd("t", recs)])
    cc("concat-meta-equal-ordinals", "key log\nuse_partial_metadata true",
       [fwd("t", [dp("o%d" % i, "A", "1", "false") for i in range(5)] + [dp("o5", "A", "1", "true")] +
            [dp("p%d" % i, "B", None, "false") for i in range(8)] + [dp("p8", "B", None, "true")])])

    # --- CRI log tags ------------------------------------------------------------------------
    cri = [{"log": "a1", "logtag": "P", "stream": "stdout"}, {"log": "a2", "logtag": "P", "stream": "stdout"},
           {"log": "a3", "logtag": "F", "stream": "stdout", "x": 1}, {"log": "b1", "logtag": "F:x", "stream": "stderr"},
           {"log": "c1", "logtag": "P:y"}, {"log": "c2", "logtag": "F"}, {"log": "d1", "logtag": "f"},
           {"log": "d2", "logtag": "F", "stream": None}, {"nolog": 1, "logtag": "F"}, {"log": "e1", "logtag": "P"}]
    cc("concat-cri", "key log\nuse_partial_cri_logtag true\npartial_cri_logtag_key logtag", [fwd("t", cri)], left=1)
    cc("concat-cri-keep", "key log\nuse_partial_cri_logtag true\npartial_cri_logtag_key logtag\nkeep_partial_key true",
       [fwd("t", cri)], left=1)
    cc("concat-cri-stream-key", "key log\nuse_partial_cri_logtag true\npartial_cri_logtag_key logtag\npartial_cri_stream_key s\nstream_identity_key s",
       [fwd("t", [{"log": "o1", "logtag": "P", "s": "stdout"}, {"log": "e1", "logtag": "P", "s": "stderr"},
                  {"log": "o2", "logtag": "F", "s": "stdout"}, {"log": "e2", "logtag": "F", "s": "stderr", "stream": "kept"}])])
    cc("concat-cri-bad-logtag", "key log\nuse_partial_cri_logtag true\npartial_cri_logtag_key logtag",
       [fwd("t", [{"log": "a1", "logtag": "P"}, {"log": "a2"}, {"log": "a3", "logtag": 1}, {"log": "a4", "logtag": None},
                  {"log": "a5", "logtag": ""}, {"log": "a6", "logtag": ":F"}, {"log": "a7", "logtag": "F"}])])

    # --- held at shutdown, timeouts ----------------------------------------------------------
    # Fluentd loses what a top-level concat holds at shutdown (its outputs have stopped when the
    # filter flushes): these cases carry DIFFERS.
    cc("concat-shutdown-order", "key log\nn_lines 3\nstream_identity_key s",
       [fwd("a", [{"log": "a1", "s": "x"}, {"log": "b1", "s": "y"}, {"log": "c1", "s": "z"}]),
        fwd("b", [{"log": "d1", "s": "x"}]),
        fwd("a", [{"log": "c2", "s": "z"}, {"log": "c3", "s": "z"}, {"log": "c4", "s": "z"}, {"log": "a2", "s": "x"}])])
    cc("concat-shutdown-regexp-first-ts", "key log\nmultiline_start_regexp /^S/\nuse_first_timestamp true",
       [fwd("t", lines("S1", "a", "b"))])
    cc("concat-shutdown-error-label", "key log\nn_lines 3", [fwd("t", lines("a", "b"))], to=False)
    # Inside a label, with timeout_label naming a label declared after it, Fluentd delivers them.
    src_in = g.SRC.replace("</source>", "  @label @IN\n</source>")
    inner = g.filt("concat", "key log\nn_lines 2\ntimeout_label @TO") + g.filt("record_transformer", "<record>\n  after concat\n</record>") + g.fileout("in")
    g.case("concat-in-label", g.label("@IN", inner) + g.fileout() + g.ERR + TO,
           [fwd("t", lines("a", "b", "c"))])
    g.OUT[-1] = (g.OUT[-1][0], src_in + g.OUT[-1][1][len(g.SRC):], g.OUT[-1][2])
    # What it holds at shutdown leaves in the order of the plugin's @buffer (first look-up).
    def in_label(name, params, frames):
        inner = g.filt("concat", params + "\ntimeout_label @TO") + g.fileout("in")
        g.case(name, src_in + g.label("@IN", inner) + g.ERR + tmo_label(True) + g.TAIL, frames, raw_conf=True)
    in_label("concat-shutdown-in-label-order", "key log\nn_lines 3\nstream_identity_key s",
             [fwd("t", [{"log": "x1", "s": "x"}, {"log": "y1", "s": "y"}, {"log": "z1", "s": "z"}, {"log": "z2", "s": "z"},
                        {"log": "z3", "s": "z"}, {"log": "x2", "s": "x"}, {"log": "z4", "s": "z"}, {"log": "y2", "s": "y"}]),
              fwd("u", [{"log": "u1", "s": "x"}])])
    in_label("concat-shutdown-in-label-regexp", "key log\nmultiline_start_regexp /^S/\nstream_identity_key s",
             [fwd("t", [{"log": "o", "s": "z"}, {"log": "S1", "s": "w"}, {"log": "S2", "s": "z"}, {"log": 1, "s": "v"},
                        {"log": "S3", "s": "v"}])])
    in_label("concat-shutdown-in-label-meta", "key log\nuse_partial_metadata true",
             [fwd("t", [dp("a2", "A", "2", "false"), dp("b1", "B", "1", "false"), dp("a1", "A", "1", "false")])])
    # Timeouts (flush_interval 1): the case waits until the timeout output got the groups.
    # timeout_label @ROOT: the timed-out group starts again at the top (here past the label).
    inner = g.filt("concat", "key log\nn_lines 3\nflush_interval 1\nuse_first_timestamp true\ntimeout_label @ROOT") + g.fileout("in")
    root = g.fileout().replace("@type file", "@type file\n  @id tmo")
    g.case("concat-timeout-label-root", src_in + MON + g.label("@IN", inner) + root + g.ERR + g.TAIL,
           [fwd("t", lines("a", "b", "c", "d")), wait(1)], raw_conf=True)
    cc("concat-timeout-first-ts", "key log\nn_lines 3\nuse_first_timestamp true",
       [fwd("t", lines("a", "b")), wait(1), fwd("t", lines("c", "d", "e", "f"))], left=2)
    cc("concat-timeout-tag-colon", "key log\nn_lines 3\nuse_first_timestamp true",
       [fwd("app:web", lines("a", "b")), fwd("x:", lines("c")), fwd(":y", lines("d"))], left=3)
    cc("concat-timeout-meta", "key log\nuse_partial_metadata true\nuse_first_timestamp true",
       [fwd("t", [dp("a2", "A", "2", "false"), dp("a1", "A", "1", "false")])], left=1)
    cc("concat-timeout-meta-now", "key log\nuse_partial_metadata true",
       [fwd("t", [dp("b3", "B", "3", "false"), dp("a2", "A", "2", "false"), dp("b1", "B", "1", "false"), dp("a1", "A", "1", "false")])],
       left=2)
    cc("concat-timeout-order", "key log\nn_lines 3\nstream_identity_key s",
       [fwd("t", [{"log": "x1", "s": "x"}, {"log": "y1", "s": "y"}, {"log": "x2", "s": "x"}, {"log": "x3", "s": "x"},
                  {"log": "z1", "s": "z"}, {"log": "x4", "s": "x"}, {"log": "y2", "s": "y"}])], left=3)
    cc("concat-timeout-then-more", "key log\nmultiline_start_regexp /^S/\nuse_first_timestamp true",
       [fwd("t", lines("S1", "a")), wait(1), fwd("t", lines("b", "S2", "c"))], left=2)
    # A timed-out group keeps the partial and CRI fields (only a completed one loses them).
    cc("concat-timeout-partial-keeps-fields", "key log\npartial_key pm\npartial_value true\nuse_first_timestamp true",
       [fwd("t", [{"log": "a", "pm": "true", "k": 1}, {"log": "b", "pm": "true", "k": 2}])], left=1)
    cc("concat-timeout-cri-keeps-fields", "key log\nuse_partial_cri_logtag true\npartial_cri_logtag_key logtag\nuse_first_timestamp true",
       [fwd("t", [{"log": "a1", "logtag": "P", "stream": "stdout"}, {"log": "a2", "logtag": "P:x", "stream": "stdout"}])], left=1)
    # Docker's fluentd log driver: a line over 16 KiB in pieces.
    big = [{"container_id": "c0ffee", "container_name": "/app", "source": "stdout", "log": {"$rep": [ch, 16384]},
            "partial_message": "true", "partial_id": "9f" * 32, "partial_ordinal": str(i + 1),
            "partial_last": "true" if i == 2 else "false"} for i, ch in enumerate("abc")]
    big[2]["log"] = "tail"
    cc("concat-meta-docker-16k", "key log\nuse_partial_metadata true",
       [fwd("docker.c0ffee", [{"container_id": "c0ffee", "log": "before", "source": "stdout"}] + big +
            [{"container_id": "c0ffee", "log": "after", "source": "stdout"}])])
    cc("concat-partial-docker-16k", "key log\npartial_key partial_message\npartial_value true",
       [fwd("docker.c0ffee", [dict(r, partial_message="true" if r["partial_last"] == "false" else "false") for r in big])])

    # --- labels ------------------------------------------------------------------------------
    cc("concat-two-filters", "key log\nn_lines 2", [fwd("t", lines("a", "b", "c", "d", "e"))],
       after=g.filt("concat", "key log\nn_lines 2\nseparator ,\ntimeout_label @TO"), left=1)

    # --- more edges ---------------------------------------------------------------------------
    # Stream identities are Ruby's to_s of the value: a value and its text are one stream.
    pairs = [(1e20, "1.0e+20"), (None, ""), ([1, "a", None], '[1, "a", nil]'), ({"a": None, "b": "é"}, '{"a"=>nil, "b"=>"\\u00E9"}'),
             (-0.0, "-0.0"), (1.5e-7, "1.5e-07"), (100.0, "100.0"), ({"$f32": 0.1}, "0.10000000149011612"),
             (18446744073709551615, "18446744073709551615"), ({"$bin_hex": "c3a9"}, "é"), (False, "false"),
             ({"x": {"y": [1.0]}}, '{"x"=>{"y"=>[1.0]}}'), ("a\"b", "a\"b")]
    recs = []
    for i, (v, t) in enumerate(pairs):
        recs += [{"log": "v%d" % i, "s": v}, {"log": "t%d" % i, "s": t}]
    # (Fluentd's workers run with -Eascii-8bit: inspect escapes past ASCII; a binary "é" and a
    # UTF-8 one are two streams.)
    cc("concat-stream-key-to-s", "key log\nn_lines 2\nstream_identity_key s", [fwd("t", recs)], left=2)
    ords = [("1", "o1"), ("0x10", "hex"), ("1e3", "exp"), (" 12", "sp"), ("+5", "plus"), ("-3", "minus"), ("1_000", "und"),
            ("12abc", "trail"), (2.7, "float"), (None, "nil"), ("", "empty"), ("\t7", "tab"), ("1__0", "dund"), ("_5", "lead")]
    mrecs = [dp(t, "A", o, "false") for o, t in ords] + [dp("last", "A", "4", "true")]
    cc("concat-meta-ordinal-to-i", "key log\nuse_partial_metadata true", [fwd("t", mrecs)])
    cc("concat-meta-ordinal-no-to-i", "key log\nuse_partial_metadata true",
       [fwd("t", [dp("a1", "A", "1", "false"), dp("a2", "A", True, "false"), dp("a3", "A", "3", "true"), dp("a4", "A", "4", "true"),
                  dp("b1", "B", {"x": 1}, "true"), dp("c1", "C", [1], "false"), dp("c2", "C", "2", "true")])])
    cc("concat-first-ts-nanoseconds", "key log\nn_lines 2\nuse_first_timestamp true",
       [{"mode": "forward", "tag": "t", "entries": [[{"$et": [T0, 123456789]}, {"log": "a"}], [{"$et": [T0 + 1, 5]}, {"log": "b"}],
                                                    [T0 + 2, {"log": "c"}], [{"$et": [T0 + 3, 999999999]}, {"log": "d"}]]}],
       extra="", to=False)
    g.OUT[-1] = (g.OUT[-1][0], g.OUT[-1][1].replace("path {DIR}/out/x\n  append true\n",
                 "path {DIR}/out/x\n  append true\n  <format>\n    @type json\n  </format>\n  <inject>\n    time_key t\n    time_type string\n    time_format %s.%N\n  </inject>\n", 1), g.OUT[-1][2])
    cc("concat-nlines-float", "key log\nn_lines 2.9", [fwd("t", lines("a", "b", "c", "d"))])
    for name, sep in (("hash-bare", "separator a#b"), ("hash-space", "separator a #b"), ("hash-dq", 'separator " # "')):
        cc("concat-sep-" + name, "key log\nn_lines 2\n" + sep, [fwd("t", lines("x", "y"))])
    cc("concat-re-ruby-syntax", "key log\nmultiline_start_regexp /^(?i)error|^\\h{4}[[:space:]]/\nmultiline_end_regexp /(?<e>END)\\k<e>\\Z/",
       [fwd("t", lines("ERROR x", "m", "beef y", "n ENDEND", "Error z", "q ENDEND\n", "cafe", "zz"))])

    # Ruby's ==: a binary "é" is not the config's UTF-8 "é" (a binary "true" is "true").
    cc("concat-partial-value-utf8-bin", "key log\npartial_key p\npartial_value é",
       [fwd("t", [{"log": "a", "p": "é"}, {"log": "b", "p": {"$bin_hex": "c3a9"}}, {"log": "c", "p": "é"}, {"log": "d", "p": "x"}])])
    cc("concat-re-escaped-slash", "key log\nmultiline_start_regexp /^a\\/b/\nmultiline_end_regexp /\\/$/",
       [fwd("t", lines("x", "a/b 1", "m", "n/", "a/b 2 /", "ab"))])

    # --- the plugin README's examples --------------------------------------------------------
    # Timed-out lines handled as the others: timeout_label to the label the rest is relabelled to.
    normal = g.label("@NORMAL", g.fileout("normal", fmt="@type json", inject="tag_key tag").replace("@type file", "@type file\n@id tmo"))
    g.case("concat-readme-timeout-relabel",
           MON + g.filt("concat", "key message\nmultiline_start_regexp /^Start/\nflush_interval 1\ntimeout_label @NORMAL")
           + "<match **>\n  @type relabel\n  @label @NORMAL\n</match>\n" + normal + g.ERR,
           [fwd("app", lines("Start a", "a2", "Start b", "b2", "b3", key="message")), wait(2)])
    big2 = [{"log": {"$rep": [ch, 16384]}, "partial_message": "true", "partial_id": "ab" * 32, "partial_ordinal": str(i + 1),
             "partial_last": "true" if i == 1 else "false", "container_id": "c1", "source": "stderr"} for i, ch in enumerate("xy")]
    big2[1]["log"] = "end\n"
    cc("concat-readme-docker-partial", "key log\nuse_partial_metadata true\nseparator \"\"",
       [fwd("docker.c1", [{"log": "one\n", "container_id": "c1", "source": "stdout"}] + big2)])
    cc("concat-readme-cri", "key log\nuse_partial_cri_logtag true\npartial_cri_logtag_key logtag\npartial_cri_stream_key stream\nseparator \"\"",
       [fwd("kubernetes.var.log.containers.a", [{"stream": "stdout", "logtag": "P", "log": "part one "},
                                               {"stream": "stdout", "logtag": "P", "log": "part two "},
                                               {"stream": "stdout", "logtag": "F", "log": "end"},
                                               {"stream": "stderr", "logtag": "F", "log": "whole"}])])
    cc("concat-key-dollar-path", "key $.log\nn_lines 2", [fwd("t", [{"log": "a"}, {"$.log": "b"}, {"$.log": "c"}])])

    # --- configuration errors ----------------------------------------------------------------
    cfg("no-mode", "key log")
    cfg("no-key", "n_lines 2")
    cfg("only-continuous", "key log\ncontinuous_line_regexp /^\\s/")
    cfg("nlines-and-start", "key log\nn_lines 2\nmultiline_start_regexp /^S/")
    cfg("nlines-and-continuous", "key log\nn_lines 2\ncontinuous_line_regexp /^\\s/")
    cfg("partial-no-value", "key log\npartial_key p")
    cfg("partial-and-nlines", "key log\npartial_key p\npartial_value true\nn_lines 2")
    cfg("meta-and-end", "key log\nuse_partial_metadata true\nmultiline_end_regexp /E/")
    cfg("meta-and-partial", "key log\nuse_partial_metadata true\npartial_key p\npartial_value true")
    cfg("meta-bad-format", "key log\nuse_partial_metadata true\npartial_metadata_format docker")
    cfg("cri-and-start", "key log\nuse_partial_cri_logtag true\npartial_cri_logtag_key logtag\nmultiline_start_regexp /^S/")
    cfg("cri-and-meta", "key log\nuse_partial_cri_logtag true\npartial_cri_logtag_key logtag\nuse_partial_metadata true")
    cfg("bad-regexp", "key log\nmultiline_start_regexp /(/")
    cfg("nlines-abc", "key log\nn_lines abc")
    cfg("flush-interval-bad", "key log\nn_lines 2\nflush_interval soon")
    cfg("ok-start-end-cont", "key log\nmultiline_start_regexp /^S/\nmultiline_end_regexp /E/\ncontinuous_line_regexp /^ /")
    cfg("timeout-label-undefined", "key log\nn_lines 2\ntimeout_label @NOPE")


def main():
    """Write the curated cases (their conf and input; record.sh records `expected`)."""
    g.OUT.clear()
    curated()
    g.main()


if __name__ == "__main__":
    main()
