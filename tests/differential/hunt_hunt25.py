"""Curated cases of hunt25 (run `python3 tests/differential/hunt_hunt25.py` to write them).

`tcp-invalid-utf8-*`, `udp-invalid-utf8-*`, `syslog-invalid-utf8-*`: bytes that are not UTF-8
(0xFF, NUL, lone continuation bytes, overlong and truncated sequences, encoded surrogates) through
the parsers other than `none` (Fluentd reads these sockets as binary strings); the events are
written with the ltsv format, which writes the bytes as they are. The cases use the helpers of
hunt_hunt21.py (sentinel lines and waits on monitor_agent's emit_records).

`tail-posfile-*`: in_tail started with a pos file from an earlier run (the case's
`files/out/tail.pos`, filled in by prep_files.py): an entry pointing into the file, past its end
(a file truncated while the daemon was down), at another inode (a file rotated while it was down),
unwatched entries (position ffffffffffffffff), several entries for one path, entries for files no
longer followed; with and without `read_from_head` (gen_tail.py's helpers). `tail-invalid-utf8-*`:
lines that are binary strings through the parsers.

Strings that are not UTF-8 (msgpack str) and binary strings (bin) through the filters and
in_http, written as msgpack so that bytes and types show: `rt-str-invalid-utf8-keeps-bytes`,
`parser-concat-str-invalid-utf8-keeps-bytes`, `parser-str-invalid-utf8-each-parser` (each parser
of filter_parser on such a str), `http-str-invalid-utf8-keeps-bytes` and
`http-parse-and-params-keep-bytes` (bodies, `<parse>`, header and query values),
`rtruby-str-invalid-utf8-methods` and `rtruby-bin-methods` (record_transformer's Ruby subset: the
methods that keep such bytes and those that raise, as Ruby 3.1 does).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_cases as g  # noqa: E402
import hunt_hunt21 as h  # noqa: E402
import gen_tail as t  # noqa: E402

# Byte sequences that are not UTF-8 (and NUL, which is).
BAD = [b"\xff\xfe", b"\x00", b"\x80", b"\xbf\x80", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80"]


def hx(b):
    return {"hex": b.hex()}


def ltsv_out(conf, indent):
    pad = " " * indent
    return conf.replace(pad + "append true\n", pad + "append true\n%s<format>\n%s  @type ltsv\n%s</format>\n" % (pad, pad, pad), 1)


def sock_case(name, kind, parse, lines, sentinel_line, key, extra=()):
    """A tcp or udp case: lines (bytes) then the sentinel line, ltsv output."""
    src = h.source(kind, ["tag " + kind] + list(extra), parse)
    conf = ltsv_out(h.conf(src, sentinel=key), 4)
    if kind == "tcp":
        frames = h.sentinel_tcp([hx(b) for b in lines], 1, sentinel_line)
    else:
        frames = [{"mode": "udp", "port": 2, "datagrams": [hx(b) for b in lines] + [sentinel_line]}, h.wait(1, "sentinel")]
    g.case(name, conf, frames, raw_conf=True)


def curated():
    regexp = "@type regexp\nexpression /^(?<k>\\w+) (?<v>.*)$/"
    rx_lines = [b"key va" + b + b"l" for b in BAD] + [b"\xc3\xa9t\xc3\xa9 v", b"k\xff v", b"k " + b"\xff" * 3]
    json_lines = [b'{"a":"x' + b + b'y"}' for b in BAD if b != b"\x00"] + [b'{"\xff":1}', b'{"a":"\\u00ff","b":"\xc0\xaf"}']
    ltsv_lines = [b"a:x" + b + b"\tb:" + b for b in BAD] + [b"\xff:v\tk:\x80"]
    csv_lines = [b"x" + b + b",y" for b in BAD] + [b'"q\xff,uo",z', b"\xff\xfe,\x80"]
    tsv_lines = [b"x" + b + b"\ty" for b in BAD]
    for kind in ("tcp", "udp"):
        sock_case(kind + "-invalid-utf8-regexp", kind, regexp, rx_lines, "Z9 end", "k")
        sock_case(kind + "-invalid-utf8-json", kind, "@type json", json_lines, '{"s":"Z9"}', "s")
        sock_case(kind + "-invalid-utf8-parse-ltsv", kind, "@type ltsv", ltsv_lines, "s:Z9", "s")
        sock_case(kind + "-invalid-utf8-csv", kind, "@type csv\nkeys a,b", csv_lines, "Z9,x", "a")
        sock_case(kind + "-invalid-utf8-tsv", kind, "@type tsv\nkeys a,b", tsv_lines, "Z9\tx", "a")
    # Valid UTF-8 is bytes too: `.` is one byte (`é` is two), `[^ ]{2}` counts bytes.
    sock_case("tcp-invalid-utf8-regexp-dot-bytes", "tcp", "@type regexp\nexpression /^(?<k>.) (?<v>.*)$/",
              [b"\xc3\xa9 x", b"a x", b"\xc3\xa9\xff x", b"\xff x", b"\xff\xfe x"], "Z Z9", "v")
    sock_case("udp-invalid-utf8-regexp-class-bytes", "udp", "@type regexp\nexpression /^(?<k>[^ ]{2}) (?<v>\\S+)$/",
              [b"\xc3\xa9 x", b"ab \xc3\xa9", b"\xc3\xa9\xff \xff", b"a\xff x"], "Z9 x", "k")
    # A str that is not UTF-8 (a Fluent Bit forwarder's file bytes, Oj's strings) through
    # record_transformer: Fluentd keeps its bytes where it is copied, interpolated, left in the
    # record beside a field set again, or beside remove_keys/renew_record (written as msgpack:
    # bytes and str/bin types as they are).
    bad = {"$str_hex": "61ff62"}
    rec = {"s": bad, "t": "old", "n": {"m": {"$str_hex": "c3a9ff"}}}
    body = (g.filt("record_transformer", "<record>\n  u ${record[\"s\"]}\n  w pre ${record[\"s\"]} ${tag}\n"
                   "  t ${record[\"n\"][\"m\"]}\n</record>", "a.**")
            + g.filt("record_transformer", "remove_keys t", "b.**")
            + g.filt("record_transformer", "renew_record true\nkeep_keys s,n\n<record>\n  u x${record[\"s\"]}\n</record>", "c.**")
            + g.fileout("x", fmt="@type msgpack") + g.ERR)
    g.case("rt-str-invalid-utf8-keeps-bytes", body,
           [g.msg(rec, tag=tg) for tg in ("a.x", "b.x", "c.x")])
    # The same beside filter_parser's merges (hash_value_field, remove_key_name_field, a value that
    # does not parse under reserve_data) and in concat's joined records and lines.
    other = {"$str_hex": "6fff"}
    body = (g.filt("parser", "key_name m\nreserve_data true\nhash_value_field p\n<parse>\n  @type json\n</parse>", "p1.**")
            + g.filt("parser", "key_name m\nreserve_data true\nremove_key_name_field true\n<parse>\n  @type json\n</parse>",
                     "p2.**")
            + g.filt("parser", "key_name m\nreserve_data true\nemit_invalid_record_to_error false\n<parse>\n"
                     "  @type regexp\n  expression /^(?<v>\\d+)$/\n</parse>", "p3.**")
            + g.filt("concat", "key m\nn_lines 2", "c2.**")
            + g.filt("concat", "key m\nn_lines 2", "c3.**")
            + g.fileout("x", fmt="@type msgpack") + g.ERR)
    g.case("parser-concat-str-invalid-utf8-keeps-bytes", body,
           [g.msg({"m": '{"k":1}', "o": other}, tag="p1.x"), g.msg({"m": '{"k":1}', "o": other}, tag="p2.x"),
            g.msg({"m": "abc", "o": other}, tag="p3.x"), g.msg({"m": "l1", "o": other}, tag="c2.x"),
            g.msg({"m": "l2", "o": other}, tag="c2.x"),
            # The joined lines themselves: bytes kept, a str.
            g.msg({"m": {"$str_hex": "61ff62"}}, tag="c3.x"), g.msg({"m": "c\u00e9d"}, tag="c3.x")])
    # A str that is not UTF-8 as the text each parser reads (filter_parser): none and json (Oj,
    # Ruby's json) keep its bytes in the values and keys they make (str); yajl does not parse it;
    # the regexp-based parsers, ltsv, csv, tsv and syslog raise (@ERROR, the record unchanged).
    parsers = [("none", "@type none"), ("json", "@type json"), ("jsonyajl", "@type json\n  json_parser yajl"),
               ("jsonjson", "@type json\n  json_parser json"), ("regexp", "@type regexp\n  expression /^(?<v>.*)$/"),
               ("ltsv", "@type ltsv"), ("csv", "@type csv\n  keys a,b"), ("tsv", "@type tsv\n  keys a,b"),
               ("syslog", "@type syslog")]
    texts = {"none": ["61ff62", "ff", "c3", "c3a9ff"],
             "json": ["7b226b223a2261ff62227d", "7b226bff223a317d", "7b226b223a5b2261ff222c7b2262223a22c3a9ff227d5d7d"],
             "regexp": ["61ff62", "e9"], "ltsv": ["613a31ff0962ff3a32"], "csv": ["61ff2c62"], "tsv": ["61ff0962"],
             "syslog": ["4665622020312031323a30303a3030206820703a2061ff62"]}
    texts["jsonyajl"] = texts["jsonjson"] = texts["json"]
    body = "".join(g.filt("parser", "key_name m\nreserve_data true\n<parse>\n  %s\n</parse>" % p, n + ".**")
                   for n, p in parsers)
    body += (g.filt("parser", "key_name m\nhash_value_field h\ninject_key_prefix p_\n<parse>\n  @type json\n</parse>",
                    "opt1.**")
             + g.filt("parser", "key_name m\nreserve_data true\nremove_key_name_field true\n<parse>\n  @type none\n"
                      "  message_key msg\n</parse>", "opt2.**")
             + g.fileout("x", fmt="@type msgpack") + g.label("@ERROR", g.fileout("error", fmt="@type msgpack")))
    frames = [g.msg({"m": {"$str_hex": t}, "o": other}, tag=n + ".x") for n, _ in parsers for t in texts[n]]
    frames += [g.msg({"m": {"$str_hex": t}}, tag="opt1.x") for t in texts["json"]]
    frames += [g.msg({"m": {"$str_hex": t}, "o": other}, tag="opt2.x") for t in texts["none"]]
    g.case("parser-str-invalid-utf8-each-parser", body, frames)
    # multi_format (recorded with fluent-plugin-multi-format-parser 1.1.0 loadable) on such a
    # str: a pattern that raises on it or yields nothing is skipped, the next one keeps the bytes.
    mf = "key_name m\nreserve_data true\n<parse>\n  @type multi_format\n%s</parse>"
    pats = {"mf1": [("regexp", "expression /^(?<w>\\S+)$/"), ("none", "")],
            "mf2": [("ltsv", ""), ("json", ""), ("none", "message_key raw")],
            "mf3": [("csv", "keys a,b"), ("json", "json_parser yajl")]}
    body = ""
    for n, ps in pats.items():
        sec = "".join("  <pattern>\n    format %s\n%s  </pattern>\n" % (t, "    %s\n" % o if o else "") for t, o in ps)
        body += g.filt("parser", mf % sec, n + ".**")
    body += g.fileout("x", fmt="@type msgpack", inject="tag_key tg") + g.label("@ERROR", g.fileout("error", fmt="@type msgpack"))
    g.case("parser-multi-format-str-invalid-utf8", body,
           [g.msg({"m": {"$str_hex": t}}, tag=n + ".x") for n in pats
            for t in ["626164ff", "6f6b", "7b226b223a2261ff227d", "613a31ff", "612cff"]])
    # concat's multiline regexps on such a str (Docker's 16 KiB cut inside a character): the
    # plugin raises on it (the piece to @ERROR); logferry keeps it in its group (README).
    body = (g.filt("concat", "key log\nstream_identity_key container_id\nmultiline_end_regexp /END$/", "app")
            + g.fileout("x", fmt="@type msgpack") + g.label("@ERROR", g.fileout("error", fmt="@type msgpack")))
    pieces = ["6131", "613220c3", "a9206133", "613420454e44", "623120454e44", "633120ff20454e44"]
    g.case("concat-multiline-str-invalid-utf8", body,
           [g.msg({"container_id": "c1", "log": {"$str_hex": t}}, tag="app", time=1700000000 + i)
            for i, t in enumerate(pieces)])
    # in_http with bytes that are not UTF-8: Oj (the json, ndjson and form parameters, and a
    # `<parse>` json) and msgpack keep them in their strings (str); header and query values are
    # binary strings (bin past ASCII; ASCII alone is str in logferry: README). Written as msgpack.
    msgout = g.fileout("x", fmt="@type msgpack") + g.TAIL
    http_src = "<source>\n  @type http\n  port {PORT%d}\n  bind 127.0.0.1\n%s</source>\n"

    def req(port, path, ctype, body, headers=()):
        f = h.http(path, body, ctype, headers=headers)
        f["port"] = port
        return f

    g.case("http-str-invalid-utf8-keeps-bytes", http_src % (2, "") + msgout, [
        req(2, "/j.0?time=1700000000", "application/json", b'{"k":"a\xffb","n":1}'),
        req(2, "/j.1?time=1700000000", "application/json", b'{"k\xff":"\xc3\xa9\xff"}'),
        req(2, "/j.2?time=1700000000", "application/json", b'[{"k":"a\xffb"},{"k":"c"}]'),
        req(2, "/n.0?time=1700000000", "application/x-ndjson", b'{"k":"a\xffb"}\n{"k":"d"}\n'),
        req(2, "/f.0?time=1700000000", "application/x-www-form-urlencoded", b'json=%7B%22k%22%3A%22a%FFb%22%7D'),
        req(2, "/f.1?time=1700000000", "application/x-www-form-urlencoded", b'json={"k":"a\xffb"}'),
        req(2, "/q.0?time=1700000000&json=%7B%22k%22%3A%22a%FFb%22%7D", None, b""),
        req(2, "/m.0?time=1700000000", "application/msgpack", b"\x81\xa1k\xa3a\xffb"),
        req(2, "/m.1?time=1700000000", "application/msgpack", b"\x81\xa1k\xc4\x03a\xffb")], raw_conf=True)
    g.case("http-parse-and-params-keep-bytes",
           http_src % (2, "  <parse>\n    @type json\n  </parse>\n")
           + http_src % (3, "  add_http_headers true\n  <parse>\n    @type none\n  </parse>\n")
           + http_src % (4, "  add_http_headers true\n  add_query_params true\n") + msgout, [
        req(2, "/j.0?time=1700000000", "application/json", b'{"k":"a\xffb","n":1}'),
        req(2, "/j.1?time=1700000000", None, b'{"k\xff":"\xc3\xa9\xff"}'),
        req(2, "/j.2?time=1700000000", None, b'{"k":"\xc3\xa9"}'),
        req(3, "/n.0?time=1700000000", None, b"a\xffb", headers=[("X-Foo", "a\u00e9")]),
        req(3, "/n.1?time=1700000000", None, b"\xc3\xa9"),
        req(4, "/h.0?time=1700000000&q=%FF", "application/json", b'{"k":"a\xffb"}', headers=[("X-Bar", "b\u00e9")]),
        req(4, "/h.1?time=1700000000&q=%C3%A9", "application/json", b'{"k":"ab"}', headers=[("X-Bar", "b\u00e9")])],
        raw_conf=True)
    # record_transformer with enable_ruby on strs holding bytes that are not UTF-8: Ruby takes
    # the bytes as they are (`+`, `[]`, `*`, `to_s`, `length`, `gsub` with a string, `strip` up
    # to a character) or raises (`upcase`, a regexp, `split`, `scan`, `strip` reaching such a
    # byte: the event to @ERROR); `inspect` writes them `\xFF` (also without enable_ruby).
    exprs = [("up", 'record["k"].upcase'), ("down", 'record["k"].downcase'), ("gsubre", 'record["k"].gsub(/a/, "z")'),
             ("gsubstr", 'record["k"].gsub("a", "z")'), ("subre", 'record["k"].sub(/b/, "y")'),
             ("substr", 'record["k"].sub("b", "y")'), ("scanre", 'record["k"].scan(/a/)'),
             ("scanstr", 'record["k"].scan("a")'), ("match", 'record["k"].match(/a/).to_s'),
             ("splitstr", 'record["k"].split(",")'), ("splitre", 'record["k"].split(/,/)'),
             ("split1", 'record["k"].split(",", 1)'), ("strip", 'record["k"].strip'), ("lstrip", 'record["k"].lstrip'),
             ("rstrip", 'record["k"].rstrip'), ("len", 'record["k"].length'), ("idx", 'record["k"][1]'),
             ("idx2", 'record["k"][0, 2]'), ("plus", 'record["k"] + "\u00e9"'), ("times", 'record["k"] * 2'),
             ("tos", 'record["k"].to_s'), ("incl", 'record["k"].include?("b")'), ("sw", 'record["k"].start_with?("a")'),
             ("eq", 'record["k"] == "ab"'), ("empty", 'record["k"].empty?'), ("toi", 'record["k"].to_i'),
             ("arr", '[record["k"], 1].first'), ("dig", 'record.dig("n", "m")')]
    # (`record["n"].to_s` as a whole value is a binary string of ASCII in Fluentd, its workers
    # running with -Eascii-8bit: the listed difference of ASCII binary strings; inspect's text is
    # compared in the `w` values and in `plain`.)
    body = "".join(g.filt("record_transformer", "enable_ruby true\n<record>\n  v ${%s}\n  w pre ${%s} post\n</record>"
                          % (e, e), n + ".**") for n, e in exprs)
    body += g.filt("record_transformer", '<record>\n  v ${record["n"]}\n  w pre ${record["n"]} post\n</record>', "plain.**")
    body += g.filt("record_transformer", 'enable_ruby true\n<record>\n  w pre ${record["n"].to_s} post\n</record>', "insp.**")
    body += (g.fileout("x", fmt="@type msgpack", inject="tag_key tg")
             + g.label("@ERROR", g.fileout("error", fmt="@type msgpack", inject="tag_key tg")))
    texts = ["61ff62", "20ff2061", "6120ff20", "c3a9ff", "6162", "ff2c61"]
    g.case("rtruby-str-invalid-utf8-methods", body,
           [g.msg({"k": {"$str_hex": t}, "n": {"m": {"$str_hex": "78ff"}, "e": "\u00e9"}}, tag=n + ".x")
            for n, _ in exprs + [("plain", ""), ("insp", "")] for t in texts])
    # The same on binary strings (msgpack bin: in_tail, tcp, udp, syslog, a Fluentd forwarder):
    # each byte a character, results binary; Ruby raises where a regexp fixed to UTF-8 or UTF-8
    # text past ASCII meets one with a byte past ASCII.
    bexprs = exprs + [("plusx", 'record["k"] + "x"'), ("xplus", '"x" + record["k"]'),
                      ("swe", 'record["k"].start_with?("\u00e9")'), ("matche", 'record["k"].match(/\u00e9/).to_s'),
                      ("gsubw", 'record["k"].gsub(/\\w/, "x")'), ("scandot", 'record["k"].scan(/./)'),
                      ("joinx", '[record["k"], "x"].join'), ("joine", '[record["k"], "\u00e9"].join'),
                      ("gsube", 'record["k"].gsub("a", "\u00e9")'), ("splitsp", 'record["k"].split(" ")'),
                      ("matchg", 'record["k"].match(/(a)(.)/)[2]'), ("eqbin", 'record["k"] == record["k2"]'),
                      ("plusbin", 'record["k"] + record["k2"]'), ("pluse", 'record["k"] + "\u00e9"')]
    body = "".join(g.filt("record_transformer", "enable_ruby true\n<record>\n  v ${%s}\n  w pre ${%s} post\n</record>"
                          % (e, e), n + ".**") for n, e in bexprs)
    body += g.filt("record_transformer", 'enable_ruby true\n<record>\n  w pre ${record["n"].to_s} post\n</record>', "insp.**")
    body += (g.fileout("x", fmt="@type msgpack", inject="tag_key tg")
             + g.label("@ERROR", g.fileout("error", fmt="@type msgpack", inject="tag_key tg")))
    g.case("rtruby-bin-methods", body,
           [g.msg({"k": {"$bin_hex": t}, "k2": {"$bin_hex": "61ff62"}, "n": {"m": {"$bin_hex": "78ff"}}}, tag=n + ".x")
            for n, _ in bexprs + [("insp", "")] for t in texts])
    # syslog: every line emits one event (emit_unmatched_lines), so the input's count is waited on.
    r3164 = [b"<13>Feb  3 04:05:06 host app[123]: m" + b for b in BAD] + [
        b"<13>Feb  3 04:05:06 h\xffst app: m", b"<13>Feb  3 04:05:06 host a\x80p[1]: m", b"<13>Feb  3 04:05:06 host app[1\xff]: m",
        b"<1\xff>Feb  3 04:05:06 host app: m", b"\xff\xfe"]
    r5424 = [b"<14>1 2003-10-11T22:14:15.003Z host app 123 ID - m" + b for b in BAD] + [
        b"<14>1 2003-10-11T22:14:15.003Z h\xffst app 123 ID - m",
        b'<14>1 2003-10-11T22:14:15.003Z host app 123 ID [x@1 k="v\xff"] m',
        b"<14>1 2003-10-11T22:14:15.003Z host a\x80p - I\xc0\xafD - m"]
    for name, transport, parse, lines in [
            ("syslog-invalid-utf8-rfc3164-udp", "udp", None, r3164),
            ("syslog-invalid-utf8-rfc3164-tcp", "tcp", None, r3164),
            ("syslog-invalid-utf8-rfc5424-udp", "udp", "@type syslog\nmessage_format rfc5424", r5424),
            ("syslog-invalid-utf8-auto-tcp", "tcp", "@type syslog\nmessage_format auto", r3164 + r5424),
            ("syslog-invalid-utf8-regexp-udp", "udp", "@type regexp\nexpression /^(?<k>\\w+) (?<v>.*)$/",
             [b"<13>" + l for l in rx_lines]),
            ("syslog-invalid-utf8-regexp-dot-bytes-udp", "udp", "@type regexp\nexpression /^(?<k>.) (?<v>.*)$/",
             [b"<13>\xc3\xa9 x", b"<13>a x", b"<13>\xc3\xa9\xff x", b"<13>\xff x", b"<13>\xe3\x81\x82 y"])]:
        src = h.ssl(["emit_unmatched_lines true", "severity_key sev"], transport, parse)
        conf = ltsv_out(h.conf(src), 2)
        mode = {"mode": transport, "port": 2}
        mode["datagrams" if transport == "udp" else "lines"] = [hx(b) for b in lines]
        g.case(name, conf, [mode, h.wait(len(lines))], raw_conf=True)


def pos_line(path, pos, inode):
    """A pos file line: the path under {DIR}, the position and the inode (hex, or {INODE:rel})."""
    return "{DIR}/%s\t%s\t%s\n" % (path, pos if isinstance(pos, str) else "%016x" % pos,
                                     inode if inode.startswith("0") or inode.startswith("f") else "{INODE:%s}" % inode)


def tail_cases():
    a = "logs/a.log"
    three = "l1\nl2\nl3\n"
    unw = "ffffffffffffffff"
    for head, suffix in ((True, ""), (False, "-from-end")):
        src = t.source(extra=t.HEAD if head else "")
        c = lambda name, pos, n, files=None, more=(): t.case(  # noqa: E731
            name + suffix, src, [t.wait(n), t.app(lines=["l4"]), t.wait(n + 1)] + list(more),
            dict({a: three, "out/tail.pos": pos}, **(files or {})))
        c("tail-posfile-mid-file", pos_line(a, 3, a), 2)
        c("tail-posfile-at-end", pos_line(a, 9, a), 0)
        c("tail-posfile-past-end", pos_line(a, 100, a), 3)
        c("tail-posfile-other-inode", pos_line(a, 3, "0000000000000001"), 3)
        c("tail-posfile-unwatched", pos_line(a, unw, a), 3 if head else 0)
        c("tail-posfile-unwatched-other-inode", pos_line(a, unw, "0000000000000001"), 3 if head else 0)
        c("tail-posfile-several-entries", pos_line(a, 6, a) + pos_line(a, unw, a) + pos_line(a, 3, a), 2)
        c("tail-posfile-other-paths", pos_line("logs/gone.log", 5, "0000000000000007") + pos_line(a, 6, a)
          + pos_line("logs/b.txt", 2, "logs/b.txt") + pos_line("logs/old.log", unw, "0000000000000009"), 1,
          {"logs/b.txt": "b1\nb2\n"})
    # Lines are binary strings too (no `encoding`): `.` is one byte, invalid bytes are kept.
    ltsv = t.OUT_ONE.replace("  append true\n", "  append true\n  <format>\n    @type ltsv\n  </format>\n")
    t.case("tail-invalid-utf8-regexp-bytes", t.source("@type regexp\nexpression /^(?<k>.) (?<v>.*)$/",
                                                      extra=t.HEAD + "\nemit_unmatched_lines true"),
           [t.wait(5)], {a: b"\xc3\xa9 x\na x\n\xc3\xa9\xff x\n\xff x\nab\xff v\n"}, out=ltsv)
    # A pattern fixed to UTF-8 (a character past ASCII in it) against binary lines: Ruby raises on
    # every line with a byte past ASCII, and Fluentd drops it ("invalid line found"), even with
    # emit_unmatched_lines; lines of ASCII alone are only not matched. With `from_encoding UTF-8`
    # and `encoding UTF-8` the lines are UTF-8 text and the pattern matches them (`encoding` alone
    # would turn every byte past ASCII into U+FFFD); a line that is not UTF-8 raises.
    t.case("tail-utf8-pattern-binary-lines",
           t.source("@type regexp\nexpression /^(?<k>é) ?(?<v>.*)$/", extra=t.HEAD + "\nemit_unmatched_lines true"),
           [t.wait(2)], {a: b"\xc3\xa9 x\na x\n\xff x\n\xc3\xa9\nb y\n"}, out=ltsv)
    t.case("tail-utf8-pattern-encoding-utf8",
           t.source("@type regexp\nexpression /^(?<k>é) ?(?<v>.*)$/",
                    extra=t.HEAD + "\nfrom_encoding UTF-8\nencoding UTF-8\nemit_unmatched_lines true"),
           [t.wait(4)], {a: b"\xc3\xa9 x\na x\n\xc3\xa9\xff x\n\xc3\xa9\nb y\n"}, out=ltsv)
    # `encoding UTF-8`: lines are UTF-8 strings. With `from_encoding UTF-8` too the bytes stay as
    # they are, those that are not UTF-8 included: none and json keep them, regexp, ltsv, csv and
    # tsv raise on them and Fluentd drops the line ("invalid line found"; logferry parses it and
    # keeps the bytes, README); `encoding` alone converts from binary in Fluentd, every byte past
    # ASCII to U+FFFD (README: logferry keeps the bytes). The count is what Fluentd emits.
    per_parser = (
        ("none", "@type none", b"\xc3\xa9 x\n\xc3\xa9\xff x\na\n", 3),
        ("regexp", "@type regexp\nexpression /^(?<v>\\S*) (?<w>.*)$/", b"\xc3\xa9 x\n\xc3\xa9\xff x\na b\n", 2),
        ("json", "@type json", b'{"v":"\xc3\xa9"}\n{"v":"\xc3\xa9\xff"}\n{"v":"a"}\n', 3),
        ("ltsv", "@type ltsv", b"v:\xc3\xa9\nv:\xc3\xa9\xff\tw:x\nv:a\n", 2),
        ("csv", "@type csv\nkeys v,w", b"\xc3\xa9,x\n\xc3\xa9\xff,x\na,b\n", 2),
        ("tsv", "@type tsv\nkeys v,w", b"\xc3\xa9\tx\n\xc3\xa9\xff\tx\na\tb\n", 2),
    )
    for name, parse, lines, n in per_parser:
        for suffix, enc in (("same", "from_encoding UTF-8\nencoding UTF-8"), ("alone", "encoding UTF-8")):
            t.case("tail-encoding-utf8-%s-%s" % (suffix, name),
                   t.source(parse, extra=t.HEAD + "\n" + enc + "\nemit_unmatched_lines true"),
                   [t.wait(n if suffix == "same" else 3)], {a: lines}, out=ltsv)
    # `encoding ASCII-8BIT`: binary strings, as without `encoding` (`.` is one byte).
    t.case("tail-encoding-ascii-8bit-regexp", t.source("@type regexp\nexpression /^(?<k>.)(?<v>.*)$/",
                                                       extra=t.HEAD + "\nencoding ASCII-8BIT"),
           [t.wait(2)], {a: b"\xc3\xa9 x\na\xff y\n"}, out=ltsv)
    t.case("tail-invalid-utf8-csv", t.source("@type csv\nkeys a,b", extra=t.HEAD),
           [t.wait(3)], {a: b"x\xff,y\n\xc0\xaf,\xe2\x82\n\xc3\xa9,\x00\n"}, out=ltsv)
    # A glob: one file with a mid-file entry, one without any.
    t.case("tail-posfile-glob", t.source(path="{DIR}/logs/*.log", tag="tail.*", extra=t.HEAD),
           [t.wait(3), t.app("logs/b.log", lines=["b3"]), t.wait(4)],
           {a: three, "logs/b.log": "b1\nb2\n", "out/tail.pos": pos_line(a, 6, a)}, out=t.OUT_PER_TAG)


YEAR_CASES = ["syslog-invalid-utf8-rfc3164-udp", "syslog-invalid-utf8-rfc3164-tcp", "syslog-invalid-utf8-auto-tcp"]


def main():
    """Write the curated cases (their conf and input; record.sh records `expected`)."""
    g.OUT.clear()
    curated()
    g.main()
    for name in YEAR_CASES:
        with open(os.path.join(g.CASES, name, "YEAR"), "w") as fh:
            fh.write("The expected output has {YEAR} for the year Fluentd ran in: RFC 3164 times have none.\n")
    tail_cases()


if __name__ == "__main__":
    main()
