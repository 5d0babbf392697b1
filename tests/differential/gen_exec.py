#!/usr/bin/env python3
"""Write the differential cases of the `exec` input and output (exec-*) under cases/: commands that print
fixed output (printf), parsed by each kind of parser, with `<extract>`, `connect_mode` and the
v0.12 flat parameters; the records reach an out_file (`@id out`, a file a tag, JSON lines with the
tag, and the time where a case reads one) and the case waits on monitor_agent until that output counted
the records Fluentd emits. The output's cases (exec-out-*) append each chunk file to a file
the case collects, with `cat`. Their chunks are written at shutdown, where Fluentd kills a
command still running (README "The exec output waits for its commands at shutdown"): a
recording that lost a chunk that way is recorded again.

    gen_exec.py      (then record.sh FLUENTD_BIN exec-*)
"""
import gen_cases as g

MONITOR = """<source>
  @type monitor_agent
  bind 127.0.0.1
  port {PORT3}
</source>
"""
TIME = "time_key time\ntime_type string\ntime_format %Y-%m-%dT%H:%M:%S.%N%z\nutc true"


def exec_case(name, sources, count, inject="tag_key tag", extra=""):
    """A case of exec `sources` (each a `<source>` body) whose `count` records reach `out`."""
    body = MONITOR
    for s in sources:
        body += "<source>\n%s</source>\n" % g.indent("@type exec\n" + s)
    body += extra
    body += "<match **>\n%s</match>\n" % g.indent(
        "@type file\n@id out\npath {DIR}/out/${tag}\nappend true\n<format>\n  @type json\n</format>\n"
        "<inject>\n%s</inject>\n<buffer tag>\n  @type memory\n</buffer>\n" % g.indent(inject))
    body += g.ERR
    g.case(name, body, [{"mode": "wait", "port": 3, "id": "out", "emit_records": count}])


def cfg(name, source):
    g.case("exec-config-" + name, "<source>\n%s</source>\n" % g.indent("@type exec\n" + source)
           + "<match **>\n  @type null\n</match>\n")


def cases():
    tsv = "<parse>\n  keys k1,k2\n</parse>\n"
    exec_case("exec-tsv-lines", ["command printf 'a\\tb\\nonly\\n\\nc\\td\\te\\r\\nx\\ty\\rlast'\ntag t\n" + tsv], 5)
    exec_case("exec-json-stream", ["command printf '{\"a\":1}{\"b\":2}\\n {\"c\":[1,2.5,null]}\\n{\"time\":1700000000,\"e\":\"t\"} {\"d\":'\n"
                                   "tag j\n<parse>\n  @type json\n</parse>\n"], 4)
    exec_case("exec-json-time-key", ["command printf '{\"time\":1700000000.5,\"m\":1}\\n{\"time\":1700000001,\"m\":2}'\ntag j\n"
                                     "<parse>\n  @type json\n  time_key time\n</parse>\n"], 2, inject="tag_key tag\n" + TIME)
    exec_case("exec-json-not-json", ["command printf '{\"a\":1} nope {\"b\":2}'\ntag j\n<parse>\n  @type json\n</parse>\n"], 2)
    exec_case("exec-json-binary", ["command printf '{\"a\":\"caf\\303\\251 \\377\"}\\n'\ntag j\n<parse>\n  @type json\n</parse>\n"], 1)
    exec_case("exec-extract-tag-and-time", ["command printf '{\"t\":\"app.a\",\"time\":1700000000.5,\"m\":1}\\n{\"t\":\"app.b\",\"time\":1700000001,\"m\":2}\\n'\n"
                                            "<parse>\n  @type json\n</parse>\n<extract>\n  tag_key t\n  time_key time\n</extract>\n"], 2,
              inject="tag_key tag\n" + TIME)
    exec_case("exec-extract-keep-keys", ["command printf '{\"t\":\"app.a\",\"time\":1700000000,\"m\":1}\\n'\n"
                                         "<parse>\n  @type json\n</parse>\n<extract>\n  tag_key t\n  keep_tag_key true\n  time_key time\n"
                                         "  keep_time_key true\n  time_type unixtime\n</extract>\n"], 1, inject="tag_key tag\n" + TIME)
    exec_case("exec-extract-time-format", ["command printf 'app.x\\t2023-11-14 22:13:20\\tm\\n'\n"
                                           "<parse>\n  keys t,ts,m\n</parse>\n<extract>\n  tag_key t\n  time_key ts\n  time_format %Y-%m-%d %H:%M:%S\n"
                                           "  utc true\n</extract>\n"], 1, inject="tag_key tag\n" + TIME)
    exec_case("exec-regexp-time-format", ["command printf '2023-11-14T22:13:20+0900 hello\\nno match here\\n2023-11-14T22:13:21+0000 bye\\n'\ntag r\n"
                                          "<parse>\n  @type regexp\n  expression /^(?<time>[^ ]+) (?<msg>.*)$/\n  time_key time\n"
                                          "  time_format %Y-%m-%dT%H:%M:%S%z\n</parse>\n"], 2, inject="tag_key tag\n" + TIME)
    exec_case("exec-regexp-float-time", ["command printf '1700000000.25 a\\n'\ntag r\n"
                                         "<parse>\n  @type regexp\n  expression /^(?<time>[^ ]+) (?<msg>.*)$/\n  time_key time\n</parse>\n"], 1,
              inject="tag_key tag\n" + TIME)
    exec_case("exec-ltsv-none-csv", ["command printf 'a:1\\tb:x\\n'\ntag l\n<parse>\n  @type ltsv\n</parse>\n",
                                     "command printf 'one line\\nsecond\\n'\ntag n\n<parse>\n  @type none\n</parse>\n",
                                     "command printf 'x,\"y,z\",3\\n'\ntag c\n<parse>\n  @type csv\n  keys a,b,c\n</parse>\n"], 4)
    exec_case("exec-stderr-read", ["command printf 'out\\n'; printf 'err\\n' >&2\ntag s\n<parse>\n  @type none\n</parse>\n"], 1)
    exec_case("exec-stderr-with-stdout", ["command printf 'out\\n'; printf 'err\\n' >&2; printf 'out2'\nconnect_mode read_with_stderr\ntag s\n"
                                          "<parse>\n  @type none\n</parse>\n"], 3)
    # {"a":1}, [{"b":2},{"c":"x"}] and {"d":[1,nil]} in msgpack.
    exec_case("exec-msgpack", ["command printf '\\201\\241a\\001\\222\\201\\241b\\002\\201\\241c\\241x\\201\\241d\\222\\001\\300'\ntag m\n"
                               "<parse>\n  @type msgpack\n</parse>\n"], 4)
    exec_case("exec-binary-line", ["command printf 'caf\\303\\251 \\377x\\n'\ntag b\n<parse>\n  @type none\n</parse>\n"], 1)
    exec_case("exec-v012-flat", ["command printf 'a\\tb\\n'\ntag f\nformat tsv\nkeys k1,k2\n"], 1)
    exec_case("exec-v012-flat-json", ["command printf '{\"m\":1}\\n'\ntag f\nformat json\n"], 1)
    exec_case("exec-exit-status", ["command printf 'a\\tb\\n'; exit 3\ntag t\n" + tsv], 1)
    exec_case("exec-empty-output", ["command true\ntag t\n" + tsv, "command printf 'a\\tb\\n'\ntag u\n" + tsv], 1)
    cfg("no-tag", "command printf x\n<parse>\n  @type none\n</parse>\n")
    cfg("no-command", "tag t\n<parse>\n  @type none\n</parse>\n")
    cfg("tsv-without-keys", "command printf x\ntag t\n")
    cfg("tag-key-only", "command printf x\n<parse>\n  @type none\n</parse>\n<extract>\n  tag_key t\n</extract>\n")
    cfg("bad-connect-mode", "command printf x\ntag t\nconnect_mode write\n<parse>\n  @type none\n</parse>\n")
    cfg("run-interval", "command printf x\ntag t\nrun_interval 10s\n<parse>\n  @type none\n</parse>\n")


def out_cases():
    """The exec output: each chunk's file appended by `cat` to a file the case collects."""
    events = [g.msg({"a": "x", "b": 1, "c": {"d": [1, None]}}, tag="t.a"),
              g.msg({"a": "tab\there", "b": None}, tag="t.b", time={"$et": [g.T0 + 1, 500000000]}),
              g.msg({"a": "é", "b": 1e20, "c": "line\nbreak"}, tag="t.a", time=g.T0 + 2)]

    def out(name, body, frames=events, command="cat"):
        g.case(name, "<match t.**>\n%s</match>\n" % g.indent("@type exec\ncommand %s >> {DIR}/out/x.log\n" % command + body) + g.ERR, frames)

    out("exec-out-tsv", "<format>\n  keys a,b,c\n</format>\n")
    out("exec-out-tsv-inject", "<format>\n  keys a,t,tg\n</format>\n<inject>\n  time_key t\n  tag_key tg\n</inject>\n")
    out("exec-out-json-inject-float", "<format>\n  @type json\n</format>\n<inject>\n  time_key t\n  time_type float\n</inject>\n")
    out("exec-out-json-localtime", "<format>\n  @type json\n</format>\n<inject>\n  time_key t\n  localtime true\n  time_format %Y%m%d %H%M%S %z\n</inject>\n")
    out("exec-out-ltsv-keys-by-tag", "<format>\n  @type ltsv\n</format>\n<buffer tag>\n  @type memory\n</buffer>\n")
    out("exec-out-single-value", "<format>\n  @type single_value\n  message_key a\n</format>\n")
    out("exec-out-out-file", "<format>\n  @type out_file\n</format>\n")
    out("exec-out-v012-flat", "format tsv\nkeys a,b\n")
    days = [g.msg({"a": "x"}, tag="t.a"), g.msg({"a": "y"}, tag="t.a", time=g.T0 + 86400),
            g.msg({"a": "z"}, tag="t.a", time=g.T0 + 1)]
    # Flat v0.12 buffer parameters make `<buffer time>` (timekey 1 day) in Fluentd's out_exec.
    out("exec-out-v012-buffer-type", "format json\nbuffer_type memory\n", days)
    out("exec-out-v012-flush-interval", "format json\nflush_interval 30s\n", days)
    # A file buffer hands the command the chunk as stored: gzip members under compress gzip
    # (`gzip -dc` fails on anything else, and the write would be retried).
    out("exec-out-file-buffer-gzip", "<format>\n  keys a,b\n</format>\n<buffer>\n  @type file\n  path {DIR}/buf\n"
        "  compress gzip\n  flush_at_shutdown true\n</buffer>\n", command="gzip -dc")
    out("exec-out-memory-buffer-gzip", "<format>\n  keys a,b\n</format>\n<buffer>\n  @type memory\n  compress gzip\n</buffer>\n")
    g.case("exec-out-config-no-command", "<match **>\n  @type exec\n  <format>\n    keys a\n  </format>\n</match>\n")
    g.case("exec-out-config-tsv-without-keys", "<match **>\n  @type exec\n  command cat\n</match>\n")


def main():
    g.OUT.clear()
    cases()
    out_cases()
    g.main()


if __name__ == "__main__":
    main()
