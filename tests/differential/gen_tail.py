#!/usr/bin/env python3
"""Write the differential cases of in_tail (tail-*) under cases/.

    gen_tail.py            (then record.sh FLUENTD_BIN tail-*)

Each case's in_tail (`@id in`) follows files under {DIR}/logs; files that exist before the daemon
starts are the case's `files/` (copied into {DIR} before the start), the others are written by
send.py's `file` lines (send_files.py) while it runs. After each write the case waits (a `wait`
line, send_inputs.py) until the output `out` counted the events expected so far, polled from a
monitor_agent on {PORT4}: never a sleep. `refresh_interval 1` makes a file created after the start
followed within a second. The pos file is {DIR}/out/tail.pos, so collect.py shows its content
after the stop (inodes numbered), unless the case keeps it out of the comparison.
"""
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "cases")

MONITOR = """<source>
  @type monitor_agent
  bind 127.0.0.1
  port {PORT4}
</source>
"""

OUT_ONE = """<match **>
  @type file
  @id out
  path {DIR}/out/f
  append true
  <buffer []>
    @type memory
  </buffer>
</match>
"""

# One output file per tag (several files followed with `tag tail.*`: their order between files is
# not fixed, within one file it is).
OUT_PER_TAG = """<match **>
  @type file
  @id out
  path {DIR}/out/${tag}
  append true
  <buffer tag>
    @type memory
  </buffer>
</match>
"""

TAIL_ERRORS = """<label @ERROR>
  <match **>
    @type file
    @id err
    path {DIR}/out/error
    append true
    <buffer []>
      @type memory
    </buffer>
  </match>
</label>
<label @FLUENT_LOG>
  <match **>
    @type null
  </match>
</label>
"""


def indent(text, n=2):
    return "".join((" " * n + l) if l.strip() else l for l in text.splitlines(True))


def source(parse="@type none", path="{DIR}/logs/a.log", tag="tail", extra="", pos="{DIR}/out/tail.pos", refresh=1):
    body = "@type tail\n@id in\npath %s\n" % path
    if pos:
        body += "pos_file %s\n" % pos
    body += "tag %s\nrefresh_interval %d\n" % (tag, refresh)
    if extra:
        body += extra.strip("\n") + "\n"
    body += "<parse>\n%s</parse>\n" % indent(parse.strip("\n") + "\n")
    return "<source>\n%s</source>\n" % indent(body)


def wait(n):
    return {"mode": "wait", "port": 4, "id": "out", "emit_records": n}


def app(path="logs/a.log", lines=None, data=None, hexdata=None, **kw):
    f = {"mode": "file", "path": path}
    if lines is not None:
        f["lines"] = lines
    if data is not None:
        f["data"] = data
    if hexdata is not None:
        f["hex"] = hexdata
    f.update(kw)
    return f


def case(name, src, inputs, files=None, out=OUT_ONE, year=False):
    d = os.path.join(CASES, name)
    # Goldens (`expected`, `fluentd-log`) stay: record.sh rewrites them.
    shutil.rmtree(os.path.join(d, "files"), ignore_errors=True)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "fluent.conf"), "w") as fh:
        fh.write(src + MONITOR + out + TAIL_ERRORS)
    with open(os.path.join(d, "input"), "w") as fh:
        for i in inputs:
            fh.write(json.dumps(i, ensure_ascii=False) + "\n")
    if year:
        with open(os.path.join(d, "YEAR"), "w") as fh:
            fh.write("The expected output has {YEAR} for the year Fluentd ran in: RFC 3164 times have none.\n")
    for rel, content in (files or {}).items():
        p = os.path.join(d, "files", rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as fh:
            fh.write(content if isinstance(content, bytes) else content.encode())


HEAD = "read_from_head true"


def cases():
    # Reading: from the head, from the end, files created later.
    case("tail-none-read-from-head", source(extra=HEAD),
         [app(lines=["c", "d"]), wait(4)], {"logs/a.log": "a\nb\n"})
    case("tail-from-end-skips-existing", source(),
         [app(lines=["new1", "new2"]), wait(2)], {"logs/a.log": "old1\nold2\n"})
    case("tail-file-created-after-start", source(path="{DIR}/logs/*.log"),
         [app(lines=["x1", "x2"]), wait(2), app(lines=["x3"]), wait(3)])
    case("tail-empty-lines", source(extra=HEAD),
         [app(lines=["", "b", "", ""]), wait(6)], {"logs/a.log": "\na\n"})
    # Line ends.
    case("tail-no-final-newline-held", source(extra=HEAD),
         [app(data="-start"), app(data="-end\nc"), wait(2), app(data="-more")],
         {"logs/a.log": "a\nb"})
    case("tail-crlf", source(extra=HEAD),
         [app(lines=["c", "d\re"], delimiter="\r\n"), wait(4)], {"logs/a.log": "a\r\nb\r\n"})
    case("tail-lone-cr", source(extra=HEAD),
         [app(data="x\r\ry\r\n\r\n"), wait(3)], {"logs/a.log": "a\rb\n"})
    # Parsers.
    case("tail-json", source("@type json", extra=HEAD),
         [app(lines=['{"a":2,"t":"x"}', '{"nested":{"k":[1,null]}}', "not json", '{"last":true}']), wait(4)],
         {"logs/a.log": '{"a":1}\n'})
    case("tail-json-time-key", source("@type json\ntime_key t\ntime_format %Y-%m-%dT%H:%M:%S%z", extra=HEAD),
         [app(lines=['{"t":"2023-11-14T22:13:20+0900","m":"a"}', '{"t":"bad","m":"b"}', '{"m":"no time"}']), wait(2)])
    case("tail-json-emit-unmatched", source("@type json", extra=HEAD + "\nemit_unmatched_lines true"),
         [app(lines=['{"a":1}', "not json", "[1,2]", '{"b":2}']), wait(4)])
    case("tail-regexp-time", source(
        "@type regexp\nexpression /^(?<time>[^ ]+) (?<level>[A-Z]+) (?<msg>.*)$/\ntime_format %Y-%m-%dT%H:%M:%S\ntypes level:string",
        extra=HEAD),
         [app(lines=["2023-11-14T22:13:20 INFO started", "garbage line", "2023-11-14T22:13:21 WARN x y z"]), wait(2)])
    case("tail-regexp-emit-unmatched", source(
        "@type regexp\nexpression /^(?<k>[a-z]+)=(?<v>\\d+)$/\ntypes v:integer",
        extra=HEAD + "\nemit_unmatched_lines true"),
         [app(lines=["a=1", "b=x", "", "c=3"]), wait(4)])
    case("tail-csv", source("@type csv\nkeys a,b,c", extra=HEAD),
         [app(lines=['1,2,3', '"q,uoted",x', 'only', '"open']), wait(3)])
    case("tail-tsv-ltsv", source("@type ltsv", extra=HEAD),
         [app(lines=["a:1\tb:2", "c:3", "no colon", "d:x:y"]), wait(4)])
    case("tail-apache2", source("@type apache2", extra=HEAD),
         [app(lines=[
             '192.168.0.1 - - [28/Feb/2013:12:00:00 +0900] "GET / HTTP/1.1" 200 777 "-" "Opera/12.0"',
             '::1 - user [14/Nov/2023:22:13:20 +0000] "POST /x?y=1 HTTP/1.0" 404 - "http://ref/" "curl/8"',
             'not an access log line']), wait(2)])
    case("tail-syslog", source("@type syslog", extra=HEAD),
         [app(lines=[
             "Feb 28 12:00:00 host1 app[123]: hello world",
             "Nov 14 22:13:20 host2 kernel: no pid",
             "not syslog"]), wait(2)], year=True)
    case("tail-syslog-rfc5424", source("@type syslog\nmessage_format rfc5424\nwith_priority true", extra=HEAD),
         [app(lines=[
             "<13>1 2023-11-14T22:13:20.123Z host app 42 ID7 - body text",
             "<14>1 2023-11-14T22:13:21Z host app - - [x@1 a=\"b\"] sd body"]), wait(2)])
    case("tail-multiline-firstline", source(
        "@type multiline\nformat_firstline /^\\d{4}-/\nformat1 /^(?<time>\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d) (?<msg>.*)/\n"
        "time_format %Y-%m-%d %H:%M:%S",
        extra=HEAD, pos="{DIR}/tail.pos"),
         [app(lines=["2023-11-14 22:13:20 first", "  continued 1", "  continued 2",
                     "2023-11-14 22:13:21 second", "2023-11-14 22:13:22 third", "  tail of third"]),
          wait(2),
          app(lines=["2023-11-14 22:13:23 fourth"]), wait(3)],
         {"logs/a.log": "orphan before any first line\n"})
    case("tail-multiline-formats", source(
        "@type multiline\nformat_firstline /^Start/\nformat1 /^Start (?<id>\\d+)\\n/\nformat2 /(?<body>.*)/",
        extra=HEAD, pos="{DIR}/tail.pos"),
         [app(lines=["Start 1", "line a", "line b", "Start 2", "only", "Start x"]), wait(1),
          app(lines=["Start 3"]), wait(2)])
    # path_key, tag *, several files.
    case("tail-path-key", source(extra=HEAD + "\npath_key src"),
         [app(lines=["b"]), wait(2)], {"logs/a.log": "a\n"})
    case("tail-tag-star", source(tag="tail.*", extra=HEAD),
         [app(lines=["b"]), wait(2)], {"logs/a.log": "a\n"}, out=OUT_PER_TAG)
    case("tail-tag-star-prefix-suffix", source(tag="pre.*.post", extra=HEAD),
         [app(lines=["b"]), wait(2)], {"logs/a.log": "a\n"}, out=OUT_PER_TAG)
    case("tail-glob-several-files", source(path="{DIR}/logs/*.log", tag="tail.*", extra=HEAD + "\npath_key src"),
         [app("logs/b.log", lines=["b2"]), wait(3), app("logs/c.log", lines=["c1"]), wait(4),
          app("logs/a.log", lines=["a2"]), wait(5)],
         {"logs/a.log": "a1\n", "logs/b.log": "b1\n", "logs/other.txt": "not followed\n"}, out=OUT_PER_TAG)
    case("tail-comma-paths", source(path="{DIR}/logs/a.log,{DIR}/logs/sub/*.log", tag="tail.*", extra=HEAD),
         [app("logs/sub/x.log", lines=["x1"]), wait(2), app("logs/b.log", lines=["not followed"]),
          app(lines=["a2"]), wait(3)],
         {"logs/a.log": "a1\n"}, out=OUT_PER_TAG)
    case("tail-exclude-path", source(path="{DIR}/logs/*.log", tag="tail.*",
                                     extra=HEAD + '\nexclude_path ["{DIR}/logs/skip*.log", "{DIR}/logs/no.log"]'),
         [app("logs/skip-new.log", lines=["skipped"]), app("logs/no.log", lines=["skipped"]),
          app("logs/b.log", lines=["b1"]), wait(2), app(lines=["a2"]), wait(3)],
         {"logs/a.log": "a1\n", "logs/skip-old.log": "skipped\n"}, out=OUT_PER_TAG)
    # Limits and encodings.
    case("tail-max-line-size", source(extra=HEAD + "\nmax_line_size 10"),
         [app(lines=["short", "x" * 11, "0123456789", "y" * 40, "ok"]), wait(2)])
    case("tail-max-line-size-json", source("@type json", extra=HEAD + "\nmax_line_size 16"),
         [app(lines=['{"a":1}', '{"long":"' + "z" * 30 + '"}', '{"b":2}']), wait(2)])
    case("tail-from-encoding-latin1", source(extra=HEAD + "\nfrom_encoding ISO-8859-1\nencoding UTF-8"),
         [app(hexdata="636166e90a"), app(hexdata="a3313030e0200a"), wait(2)])
    case("tail-from-encoding-sjis-json", source("@type json", extra=HEAD + "\nfrom_encoding Shift_JIS\nencoding UTF-8"),
         [app(hexdata="7b2261223a2282a082a2227d0a"), wait(1)])
    case("tail-from-encoding-utf16le", source(extra=HEAD + "\nfrom_encoding UTF-16LE\nencoding UTF-8"),
         [app(hexdata="6100620063000a00e9000a00"), wait(2)])
    case("tail-invalid-utf8", source("@type json", extra=HEAD),
         [app(hexdata="7b2261223a2278ff79227d0a"), app(hexdata="ff0a"), app(lines=['{"ok":1}']), wait(1)])
    # Rotation.
    case("tail-rotate-rename", source(extra=HEAD),
         [app(lines=["a1", "a2"]), wait(2), app(rename="logs/a.log.1"), app(lines=["n1"]), wait(3),
          app(lines=["n2"]), wait(4)])
    case("tail-rotate-truncate", source(extra=HEAD),
         [app(lines=["a long first line", "a long second line"]), wait(2),
          app(lines=["t1"], truncate=True), wait(3), app(lines=["t2"]), wait(4)])
    case("tail-remove-and-recreate", source(path="{DIR}/logs/*.log", extra=HEAD),
         [app(lines=["a1"]), wait(1), app(remove=True), app("logs/b.log", lines=["b1"]), wait(2)])
    # Types and time from the parser.
    case("tail-regexp-types-keep-time", source(
        "@type regexp\nexpression /^(?<t>\\S+) (?<n>\\S+) (?<f>\\S+) (?<b>\\S+) (?<arr>\\S+)$/\ntime_key t\nkeep_time_key true\n"
        "time_type unixtime\ntypes n:integer,f:float,b:bool,arr:array",
        extra=HEAD),
         [app(lines=["1700000000 42 1.5 true a,b,c", "1700000001 x y false z"]), wait(2)])

    # More rotation: from the end, out of a glob, follow_inodes.
    case("tail-rotate-rename-from-end", source(),
         [app(lines=["a2"]), wait(1), app(rename="logs/a.log.1"), app(lines=["n1", "n2"]), wait(3)],
         {"logs/a.log": "a1\n"})
    case("tail-rename-out-of-glob", source(path="{DIR}/logs/*.log", extra=HEAD),
         [app(lines=["a1"]), wait(1), app(rename="logs/a.log.old"), app("logs/b.log", lines=["b1"]), wait(2)])
    # follow_inodes, the rotated file not named by `path`. Fluentd sees the file gone at the rename
    # (inotify) and finds the new one only at the next refresh; when the rotated file's pos entry
    # is unwatched depends on that refresh's timing, so the pos file is not compared. (A glob naming
    # the rotated file too makes Fluentd read what it gets during rotate_wait twice if a refresh
    # comes meanwhile, its #4237: a timing, not compared either.)
    case("tail-follow-inodes-rotate", source(extra=HEAD + "\nfollow_inodes true", pos="{DIR}/tail.pos"),
         [wait(2), app(rename="logs/a.log.1"), app(lines=["n1"]), wait(3)], {"logs/a.log": "a1\na2\n"})
    case("tail-truncate-rotate-wait-lines", source(extra=HEAD),
         [app(lines=["0123456789", "0123456789"]), wait(2), app(truncate=True, lines=["x"]), wait(3),
          app(lines=["y", "z"]), wait(5)])
    # Multi-line, more.
    case("tail-multiline-path-key-unmatched", source(
        "@type multiline\nformat_firstline /^\\[/\nformat1 /^\\[(?<lvl>\\w+)\\] (?<msg>.*)/",
        extra=HEAD + "\npath_key src\nemit_unmatched_lines true", pos="{DIR}/tail.pos"),
         [app(lines=["[INFO] one", "  more", "[bad line", "[WARN] two"]), wait(3), app(lines=["[ERR] three"]), wait(4)],
         {"logs/a.log": "stray\n"})
    case("tail-multiline-no-firstline", source(
        "@type multiline\nformat1 /^begin (?<a>\\w+)\\n/\nformat2 /end (?<b>\\w+)$/",
        extra=HEAD, pos="{DIR}/tail.pos"),
         [app(lines=["begin x", "end y", "begin p", "middle", "end q"]), wait(1)])
    # Parsers, more.
    case("tail-none-message-key", source("@type none\nmessage_key log", extra=HEAD),
         [app(lines=["hello", "  spaced  "]), wait(2)])
    case("tail-tsv", source("@type tsv\nkeys a,b\ndelimiter |", extra=HEAD),
         [app(lines=["1|2", "x|y|z", "single"]), wait(3)])
    case("tail-ltsv-delimiter", source("@type ltsv\ndelimiter ,\nlabel_delimiter =", extra=HEAD),
         [app(lines=["a=1,b=2", "c=3"]), wait(2)])
    case("tail-json-keep-time-float", source(
        "@type json\ntime_key ts\ntime_type float\nkeep_time_key true", extra=HEAD),
         [app(lines=['{"ts":1700000000.25,"m":1}', '{"ts":"1700000001","m":2}', '{"ts":null,"m":3}', '{"m":4}']), wait(3)])
    case("tail-regexp-multiline-unmatched-at-end", source(
        "@type regexp\nexpression /^(?<k>\\w+): (?<v>.*)$/", extra=HEAD + "\nemit_unmatched_lines true"),
         [app(lines=["a: 1", "no colon"]), wait(2), app(data="b: partial")])
    # Paths, more.
    case("tail-glob-recursive", source(path="{DIR}/logs/**/*.log", tag="tail.*", extra=HEAD),
         [app("logs/x/y/deep.log", lines=["d1"]), wait(3)],
         {"logs/top.log": "t1\n", "logs/sub/s.log": "s1\n"}, out=OUT_PER_TAG)
    # Fluentd 1.16 (glob_policy backward_compatible) globs only a path with `*`: braces are
    # literal. The sentinel file s.log, written last, is followed either way.
    case("tail-glob-brace", source(path="{DIR}/logs/{a,b}.log,{DIR}/logs/s.log", tag="tail.*", extra=HEAD),
         [app("logs/b.log", lines=["b1"]), app("logs/c.log", lines=["c1"]), app(lines=["a2"]),
          app("logs/s.log", lines=["s1"]), wait(1)],
         {"logs/a.log": "a1\n"}, out=OUT_PER_TAG)
    case("tail-tag-star-only", source(tag="*", extra=HEAD),
         [app(lines=["a1"]), wait(1)], out=OUT_PER_TAG)
    case("tail-read-lines-limit", source(extra=HEAD + "\nread_lines_limit 1"),
         [app(lines=["c", "d", "e"]), wait(5)], {"logs/a.log": "a\nb\n"})
    case("tail-long-line", source(extra=HEAD),
         [app(lines=["L" * 70000, "short"]), wait(2)])
    case("tail-max-line-size-partial", source(extra=HEAD + "\nmax_line_size 8"),
         [app(data="12345"), app(data="6789\nok\n"), wait(1), app(data="abcd"), app(data="efgh\n"), wait(1),
          app(lines=["end"]), wait(2)])

    # Bytes that are not UTF-8: the none parser keeps them (written by a text formatter, which
    # keeps them too; out_file's JSON would write U+FFFD, a known difference).
    case("tail-none-invalid-utf8-bytes", source(extra=HEAD),
         [app(hexdata="e974e96b3d760d0aff0a"), app(lines=["ok"]), wait(3)],
         out=OUT_ONE.replace("  append true\n", "  append true\n  <format>\n    @type single_value\n  </format>\n"))
    # A line Fluentd's csv parser raises on (a stray quote, an empty line) is dropped with
    # "invalid line found" even with emit_unmatched_lines; logferry emits it as unmatched_line.
    case("tail-csv-emit-unmatched-raise", source("@type csv\nkeys a,b", extra=HEAD + "\nemit_unmatched_lines true"),
         [app(lines=["1,2", '"open', "", 'x"y,z', "3,4"]), wait(2)])


if __name__ == "__main__":
    cases()
