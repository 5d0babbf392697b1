#!/usr/bin/env python3
"""Write the generated differential cases (fluent.conf and input of each) under cases/.

    gen_cases.py            (then record.sh FLUENTD_BIN to record what Fluentd writes)

Every case here is named <area>-<what>; hand-written cases may sit beside them. Rewriting a case
leaves its expected/DIFFERS files alone; record.sh refreshes `expected`.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "cases")
T0 = 1700000000  # 2023-11-14T22:13:20Z
OUT = []  # (name, conf, frames or None)

SRC = """<source>
  @type forward
  port {PORT}
  bind 127.0.0.1
</source>
"""
TAIL = """<label @FLUENT_LOG>
  <match **>
    @type null
  </match>
</label>
"""


def indent(text, n=2):
    return "".join((" " * n + l if l.strip() else l) + "\n" for l in text.strip("\n").split("\n"))


def fileout(name="x", pattern="**", fmt=None, inject=None, extra="", buffer="[]"):
    """An out_file writing {DIR}/out/<name>.log (append, one file)."""
    body = "@type file\npath {DIR}/out/%s\nappend true\n" % name
    if extra:
        body += extra.strip("\n") + "\n"
    if fmt:
        body += "<format>\n" + indent(fmt) + "</format>\n"
    if inject:
        body += "<inject>\n" + indent(inject) + "</inject>\n"
    body += "<buffer %s>\n  @type memory\n</buffer>\n" % buffer
    return "<match %s>\n%s</match>\n" % (pattern, indent(body))


def match_section(head, extra="", fmt=None, inject=None, buffer=None, pattern="**"):
    """A `<match>` of `head` (its `@type` and first parameters), then `extra` parameters, a
    `<format>` of `fmt`, an `<inject>` of `inject` and the `buffer` section, each when given."""
    body = head.strip("\n") + "\n"
    if extra:
        body += extra.strip("\n") + "\n"
    if fmt:
        body += "<format>\n%s</format>\n" % indent(fmt)
    if inject:
        body += "<inject>\n%s</inject>\n" % indent(inject)
    if buffer:
        body += buffer.strip("\n") + "\n"
    return "<match %s>\n%s</match>\n" % (pattern, indent(body))


def filt(typ, body="", pattern="**"):
    return "<filter %s>\n%s</filter>\n" % (pattern, indent("@type %s\n%s" % (typ, body)))


def label(name, inner):
    return "<label %s>\n%s</label>\n" % (name, indent(inner))


ERR = label("@ERROR", fileout("error"))


def msg(record, tag="t", time=T0, **kw):
    return dict(mode="message", tag=tag, time=time, record=record, **kw)


def case(name, body, frames=None, raw_conf=False):
    conf = body if raw_conf else SRC + body + TAIL
    OUT.append((name, conf, frames))


# ---------------------------------------------------------------------------------------------
# Edge values
LONG = {"$rep": ["abcdefghij", 2000]}
EDGE = [
    ("nil", None),
    ("true", True),
    ("false", False),
    ("empty-string", ""),
    ("map", {"a": 1, "b": "x"}),
    ("empty-map", {}),
    ("array", [1, None, "s", 1.5]),
    ("empty-array", []),
    ("deep", {"a": [{"b": None, "c": [True]}]}),
    ("float-1e20", 1e20),
    ("float-0.1", 0.1),
    ("float-100.0", 100.0),
    ("float-1e-5", 1e-05),
    ("float-neg-zero", -0.0),
    ("float-1.5e300", 1.5e300),
    ("float-123456789.123", 123456789.123),
    ("float32", {"$f32": 1.5}),
    ("int64-max", 9223372036854775807),
    ("int64-min", -9223372036854775808),
    ("uint64-max", 18446744073709551615),
    ("invalid-utf8", {"$str_hex": "61ff62c3"}),
    ("control-chars", "a\u0001b\u001fc\u007fd"),
    ("escapes", "t\tn\nq\"b\\s/"),
    ("unicode", "日本語 é 😀 \u2028"),
    ("long", LONG),
    ("binary", {"$bin_hex": "00ff41"}),
    ("comma-quote", "a,b\"c"),
    ("number-string", "007"),
]


def edge_cases(area, fmt, names=None, key="k"):
    for n, v in EDGE:
        if names is not None and n not in names:
            continue
        case("%s-%s" % (area, n), fileout(fmt=fmt), [msg({key: v, "z": "end"})])


# --- formatters ------------------------------------------------------------------------------
edge_cases("format-json", "@type json")
edge_cases("format-outfile", None, ["nil", "map", "array", "float-1e20", "float-0.1", "float-100.0",
                                     "int64-min", "uint64-max", "invalid-utf8", "control-chars",
                                     "unicode", "escapes"])
edge_cases("format-ltsv", "@type ltsv", ["nil", "true", "empty-string", "map", "array", "deep",
                                         "float-1e20", "float-0.1", "float-100.0", "int64-max",
                                         "invalid-utf8", "control-chars", "escapes", "unicode",
                                         "long", "empty-map", "empty-array"])
edge_cases("format-csv", "@type csv\nfields k,z", ["nil", "true", "empty-string", "map", "array",
                                                   "deep", "float-1e20", "float-0.1", "float-100.0",
                                                   "int64-min", "invalid-utf8", "control-chars",
                                                   "escapes", "unicode", "comma-quote", "number-string",
                                                   "empty-map", "empty-array"])
edge_cases("format-tsv", "@type tsv\nkeys k,z", ["nil", "true", "empty-string", "map", "array", "deep",
                                                "float-1e20", "float-0.1", "float-100.0", "int64-max",
                                                "invalid-utf8", "control-chars", "escapes", "unicode",
                                                "comma-quote", "empty-map"])
edge_cases("format-single-value", "@type single_value\nmessage_key k",
           ["nil", "true", "empty-string", "map", "array", "deep", "float-1e20", "float-0.1",
            "float-100.0", "uint64-max", "invalid-utf8", "control-chars", "escapes", "unicode",
            "long", "empty-array"])
edge_cases("format-hash", "@type hash", ["nil", "map", "array", "float-1e20", "float-0.1",
                                         "float-100.0", "int64-max", "invalid-utf8", "control-chars",
                                         "escapes", "unicode", "true", "empty-map"])
edge_cases("format-msgpack", "@type msgpack", ["nil", "map", "array", "float-1e20", "float-0.1",
                                               "int64-min", "uint64-max", "invalid-utf8", "binary",
                                               "float32"])
edge_cases("format-stdout", "@type stdout", ["nil", "map", "float-100.0", "unicode"])
case("format-csv-options", fileout(fmt="@type csv\nfields a,b,c\ndelimiter \"\\t\"\nforce_quotes false"),
     [msg({"a": "x y", "b": "q\"r", "c": 5})])
case("format-csv-add-newline-false", fileout(fmt="@type csv\nfields a\nadd_newline false"),
     [msg({"a": 1}), msg({"a": 2})])
case("format-csv-missing-field", fileout(fmt="@type csv\nfields a,nope"), [msg({"a": 1})])
# Lines a format writes as nothing: a memory chunk without bytes is closed, not written (no file);
# a file chunk counts its records and is written (an empty file).
case("format-empty-lines-memory", fileout(fmt="@type tsv\nkeys nope\nadd_newline false"), [msg({"a": 1}), msg({"b": 2})])
case("format-empty-lines-file-buffer", "<match **>\n  @type file\n  path {DIR}/out/x\n  append true\n  <format>\n    @type tsv\n    keys nope\n    add_newline false\n  </format>\n  <buffer []>\n    @type file\n    path {DIR}/buf\n  </buffer>\n</match>\n",
     [msg({"a": 1}), msg({"b": 2})])
# out_file's time zone settings: `localtime false` is UTC written with `Z`, as `utc true` is; a
# timezone (named or an offset) writes its offset; an EventTime with a fraction is fine.
case("format-out-file-zones", "".join(
    fileout(name="z%d" % i, pattern="z%d" % i, fmt="@type out_file\n" + z, inject=inj)
    for i, (z, inj) in enumerate([("localtime false", None), ("utc true", None), ("localtime false", "time_key tm\ntime_type string"),
                                  ("timezone Asia/Tokyo", None), ("timezone -03:30", "time_key tm\ntime_type unixtime"),
                                  ("localtime true", None)])),
     [msg({"a": 1}, tag="z%d" % i, time=t) for i in range(6) for t in (T0, {"$et": [1700000000, 250000000]})])
case("format-ltsv-delimiters", fileout(fmt="@type ltsv\ndelimiter \"|\"\nlabel_delimiter \"=\""),
     [msg({"a": "1|2", "b": "x=y:z"})])
case("format-single-value-missing", fileout(fmt="@type single_value"), [msg({"other": 1}), msg({"message": "m"})])
case("format-single-value-add-newline-false", fileout(fmt="@type single_value\nadd_newline false"),
     [msg({"message": "a\n"}), msg({"message": "b"})])
case("format-json-newline", fileout(fmt="@type json\nnewline crlf"), [msg({"a": 1})])
case("format-outfile-options", fileout(fmt="@type out_file\ndelimiter comma\noutput_tag false"), [msg({"a": 1})])
case("format-outfile-no-time", fileout(fmt="@type out_file\noutput_time false\ndelimiter SPACE"), [msg({"a": 1})])
case("format-tsv-delimiter", fileout(fmt="@type tsv\nkeys a,b\ndelimiter \",\""), [msg({"a": "x", "b": None})])

# --- forward modes and time encodings ---------------------------------------------------------
TF = "time_key t\ntime_type string\ntime_format %s.%N"
for mode in ["message", "forward", "packed", "compressed"]:
    for tname, t in [("int", T0), ("float", T0 + 0.25), ("eventtime", {"$et": [T0, 123456789]}),
                     ("float-fraction", 1700000000.123456)]:
        if mode == "message":
            fr = [msg({"a": 1}, time=t)]
        else:
            fr = [dict(mode=mode, tag="t", entries=[[t, {"a": 1}], [T0 + 1, {"a": 2}]])]
        case("forward-%s-time-%s" % (mode, tname), fileout(inject=TF), fr)
case("forward-packed-as-str", fileout(inject=TF),
     [dict(mode="packed", tag="t", entries=[[T0, {"a": 1}]], **{"as": "str"})])
case("forward-packed-time-zero", fileout(fmt="@type out_file"),
     [dict(mode="packed", tag="t", entries=[[0, {"a": 1}]])])
case("forward-packed-empty", fileout(), [dict(mode="packed", tag="t", entries=[]), msg({"after": 1})])
case("forward-forward-empty", fileout(), [dict(mode="forward", tag="t", entries=[]), msg({"after": 1})])
case("forward-negative-time", fileout(inject=TF), [msg({"a": 1}, time=-1)])
case("forward-json-int", fileout(inject=TF), [dict(mode="json", frame=["t", T0, {"a": 1}])])
case("forward-json-float", fileout(inject=TF), [dict(mode="json", frame=["t", 1700000000.5, {"a": 1}])])
case("forward-json-float-fine", fileout(inject=TF), [dict(mode="json", frame=["t", 1700000000.123456, {"a": 1}])])
case("forward-json-forward-mode", fileout(inject=TF),
     [dict(mode="json", frame=["t", [[T0, {"a": 1}], [T0 + 1, {"b": [1, None]}]]])])
case("forward-json-unicode", fileout(), [dict(mode="json", frame=["t", T0, {"a": "é\u0001", "n": 1e20}])])
case("forward-tag-unicode", fileout(), [msg({"a": 1}, tag="tag.日本")])
case("forward-many-entries", fileout(fmt="@type json"),
     [dict(mode="forward", tag="t", entries=[[T0 + i, {"i": i}] for i in range(50)])])
case("forward-ack-off", fileout(), [msg({"a": 1}, ack=False), msg({"a": 2})])
case("forward-record-not-map", fileout(), [msg("string record", ack=False), msg({"after": 1})])
case("forward-record-nil", fileout(), [msg(None, ack=False), msg({"after": 1})])
case("forward-time-string", fileout(fmt="@type json"), [msg({"a": 1}, time="x", ack=False), msg({"after": 1}, new_conn=True)])
case("forward-add-tag-prefix", SRC.replace("</source>", "  add_tag_prefix pre\n</source>") +
     fileout(pattern="pre.**") + TAIL, [msg({"a": 1})], raw_conf=True)
case("forward-source-address-key", SRC.replace("</source>", "  source_address_key addr\n</source>") +
     fileout() + TAIL, [msg({"a": 1})], raw_conf=True)
# source_address_key and source_hostname_key naming one key: Fluentd sets it twice, the name last.
case("forward-source-address-and-hostname-same-key",
     SRC.replace("</source>", "  source_address_key a\n  source_hostname_key a\n</source>") + fileout() + TAIL,
     [msg({"x": 1}), msg({"a": 0, "x": 2})], raw_conf=True)
# A string in the time's place makes the frame a PackedForward, whose option is the third element:
# one that Ruby cannot index by a key (an array, an integer) raises and closes the connection.
case("forward-packed-option-not-map", fileout(fmt="@type json", inject="tag_key tg"),
     [msg([1], time="", tag="p"), msg(5, time="1700000000", tag="q", new_conn=True), msg({"after": 1}, new_conn=True)])
# An integer time of any width is a Ruby Integer, valid to skip_invalid_event (true or false): the
# event is kept (its time is not written here: logferry wraps it to 32 bits, README).
BIG_TIMES = [2**63, 2**64 - 1, 2**32 + 5, -5000000000, -2**63]
for skip in ["true", "false"]:
    case("forward-time-past-32-bits-skip-" + skip,
         SRC.replace("</source>", "  skip_invalid_event %s\n</source>" % skip) + fileout(fmt="@type json", inject="tag_key tg") + TAIL,
         [msg({"n": i}, time=t, tag="m") for i, t in enumerate(BIG_TIMES)] +
         [dict(mode=m, tag=m, entries=[[t, {"n": i}] for i, t in enumerate(BIG_TIMES)]) for m in ["forward", "packed", "compressed"]] +
         [msg({"after": 1})], raw_conf=True)

# --- inject and time formats ------------------------------------------------------------------
ET = {"$et": [T0, 123456789]}
for tt in ["float", "unixtime", "string"]:
    case("inject-time-type-%s" % tt, fileout(fmt="@type json", inject="time_key t\ntime_type %s" % tt), [msg({"a": 1}, time=ET)])
case("inject-tag-key", fileout(fmt="@type json", inject="tag_key tg"), [msg({"a": 1}, tag="a.b")])
case("inject-hostname", fileout(fmt="@type json", inject="hostname_key h\nhostname fixed-host"), [msg({"a": 1})])
case("inject-worker-id", fileout(fmt="@type json", inject="worker_id_key w"), [msg({"a": 1})])
case("inject-overwrite", fileout(fmt="@type json", inject="time_key a\ntag_key b"), [msg({"a": 1, "b": 2})])
case("inject-time-default-format", fileout(fmt="@type json", inject="time_key t\ntime_type string"), [msg({"a": 1}, time=ET)])
for z in ["Asia/Tokyo", "+09:00", "-0530", "America/New_York", "Europe/London", "UTC", "+00:00", "Australia/Adelaide"]:
    slug = z.replace("/", "_").replace(":", "").replace("+", "plus").replace("-", "minus")
    case("inject-timezone-%s" % slug, fileout(fmt="@type json", inject="time_key t\ntime_type string\ntime_format %%Y-%%m-%%dT%%H:%%M:%%S %%z %%:z %%Z\ntimezone %s" % z),
         [msg({"a": 1}, time=ET), msg({"a": 2}, time=1689000000)])
case("inject-utc", fileout(fmt="@type json", inject="time_key t\ntime_type string\nutc true\ntime_format %Y %Z %z"), [msg({"a": 1})])
case("inject-localtime-false", fileout(fmt="@type json", inject="time_key t\ntime_type string\nlocaltime false"), [msg({"a": 1})])
DIRECTIVES = ["%Y", "%C", "%y", "%m", "%B", "%b", "%h", "%d", "%e", "%j", "%H", "%k", "%I", "%l", "%P", "%p",
              "%M", "%S", "%L", "%N", "%3N", "%6N", "%9N", "%z", "%:z", "%::z", "%Z", "%A", "%a", "%u", "%w",
              "%G", "%g", "%V", "%U", "%W", "%s", "%n", "%t", "%%", "%c", "%D", "%F", "%x", "%X", "%r", "%R",
              "%T", "%v", "%+", "%-d", "%-m", "%_m", "%05d", "%^a", "%^B", "%10N", "%Q", "%#b", "%E", "%q", "%:::z"]
for i, d in enumerate(DIRECTIVES):
    slug = "%02d" % i
    case("timefmt-%s" % slug, fileout(fmt="@type json", inject="time_key t\ntime_type string\ntime_format \"<%s>\"" % d),
         [msg({"d": d}, time={"$et": [T0 + 86400 * 40 + 3600 * 3, 5000000]}), msg({"d": d}, time={"$et": [946684800, 999999999]})])
case("timefmt-outfile-format", fileout(fmt="@type out_file\ntime_format %Y/%m/%d %H-%M-%S.%L\ntimezone +02:00"), [msg({"a": 1}, time=ET)])
case("timefmt-outfile-utc-false", fileout(fmt="@type out_file\nlocaltime true"), [msg({"a": 1}, time=ET)])
case("timefmt-outfile-timezone", fileout(fmt="@type out_file\ntimezone Asia/Kolkata"), [msg({"a": 1}, time=ET)])

# --- time formats and parsing hunted differentially (crates/formats/tests/timefmt_vs_ruby.rs) ---
# Ruby's strftime byte for byte: flags, widths, colons, E/O, unknown directives as text.
TH_TIMES = [{"$et": [T0, 5]}, {"$et": [1710053999, 999999999]}, {"$et": [1710054000, 0]},
            {"$et": [1730613600, 123456789]}, {"$et": [1609459199, 1]}, {"$et": [2224656000, 500000000]}]
for i, f in enumerate(["%-0T|%-0R|%WT%-0T |%5%|%-%|%10F|%_3d|%-e|%0e|%-10x|%10N|%-N|%_5N|%1N|%29N",
                       "%#c|%^#p|%#P|%^a|%#A|%^v|%#Z|%10Z|%-10Z|%010Z|%^10a|%#10p|%5n|時刻é",
                       "%z|%-z|%_z|%10z|%_10z|%-10z|%010z|%:z|%10:z|%_:z|%::z|%:::z|%-:z",
                       "%Ey|%Oy|%EY|%Ex|%Od|%OH|%E|%Ez|%Ea|%E5y|%:y|%::::z|%5-d|%Q|%+|%q|%s|%-s|%10s|%10C",
                       "%G-W%V-%u|%g|%U|%W|%j|%-j|%C|%y|%k|%l|%I|%P"]):
    for tzname, zone in [("local", ""), ("utc", "utc true\n"), ("ny", "timezone America/New_York\n"),
                         ("minus0330", "timezone -03:30\n")]:
        case("timehunt-strftime-%d-%s" % (i, tzname),
             fileout(fmt="@type json", inject="time_key t\ntime_type string\n%stime_format \"%s\"" % (zone, f)),
             [msg({"i": n}, time=t) for n, t in enumerate(TH_TIMES)])


def th_parser(name, fmt, values, zone=""):
    case("timehunt-strptime-" + name,
         filt("parser", "key_name m\nreserve_data true\n<parse>\n  @type regexp\n  expression /^(?<time>.*)$/\n"
              "  time_format %s\n%s</parse>\n" % (fmt, indent(zone) if zone else "")) + fileout() + ERR,
         [msg({"m": v}) for v in values])


# Ruby's Date._strptime: directives it does not know match themselves, composite directives,
# centuries, week dates without a time, hour 24, day 366, offsets past a day.
th_parser("unknown", "%Y-%m-%d %K", ["2024-01-02 %K", "2024-01-02 12"])
th_parser("colon-other", "%Y %:H", ["2024 %:H", "2024 05"])
th_parser("e-o", "%Y %Ey %E %Od", ["1999 24 %E 05", "1999 24 %E x"])
th_parser("plus", "%+", ["Tue Jan  2 03:04:05 UTC 2024", "Tue Jan  2 03:04:05 EST 2024", "Tue Jan  2 03:04:05 JST 2024"])
th_parser("v", "%v %T", ["2-JAN-2024 03:04:05", " 2-jan-2024 03:04:05"])
th_parser("century", "%C%y-%m-%d", ["2024-01-02", "1999-12-31"])
th_parser("y-and-century", "%y %Y %H", ["24 2024 05"])
th_parser("iso-week", "%G-W%V-%u", ["2024-W01-2", "2020-W53-5", "2021-W53-1"])
th_parser("weeks", "%Y %U %w %H:%M", ["2024 05 3 10:11", "2001 00 0 01:02"])
th_parser("hour-24", "%Y-%m-%d %H:%M:%S", ["2024-01-01 24:00:00", "2024-01-01 24:00:01", "2024-02-31 00:00:00"])
th_parser("yday", "%Y %j %T", ["2023 366 00:00:00", "2024 366 00:00:00", "2024 060 01:02:03"])
th_parser("zone-range", "%Y-%m-%d %H:%M %z", ["2024-01-02 03:04 +9900", "2024-01-02 03:04 +0930", "2024-01-02 03:04 Z"])
th_parser("zone-names", "%Y-%m-%d %H:%M %Z", ["2024-01-02 03:04 EST", "2024-01-02 03:04 GMT+9", "2024-01-02 03:04 Eastern Standard Time", "2024-01-02 03:04 +9"])
th_parser("fraction", "%Y-%m-%d %H:%M:%S.%N", ["2024-01-02 03:04:05.1234567891234", "2024-01-02 03:04:05.5"])
th_parser("spaced", "%Y %e %k %l%p", ["2024  5  7  8pm"])
th_parser("iso8601", "%iso8601", [" 2024-01-02T03:04:05Z", "2024-01-02T03:04Z", "2024-01-02T03:04:05,5Z",
                                  "2024-01-02T03:04:05+09", "2024-01-02t03:04:05.25z", "2024-01-02T24:00:00Z"])
th_parser("mixed", "%iso8601", ["1600000000.5", "1e3", "12.", "1_000", " 1700000000 ", ".5", "2024-01-02T03:04:05Z"],
          zone="time_type mixed\ntime_format_fallbacks unixtime")
# Deliberate differences (README, "Differences from Fluentd").
th_parser("widths", "%Y-%m-%d %H:%M:%S.%9N", ["2024-01-02 03:04:05.123456789"])
th_parser("flags", "%-d/%-m/%Y %-H:%M", ["2/1/2024 3:04"])
th_parser("week-time", "%G-W%V-%u %H:%M", ["2024-W01-2 05:06"])
th_parser("colon-z-utc", "%Y-%m-%dT%H:%M:%S%:z", ["2024-01-02T03:04:05+09:00"], zone="utc true")
th_parser("epoch-timezone", "%s", ["1700000000"], zone="timezone +09:00")
# Hex numbers are read as 0 by mixed's float reading: Fluentd's formatter then writes no time.
th_parser("mixed-hex-epoch-zero", "%iso8601", ["0x10"], zone="time_type mixed\ntime_format_fallbacks unixtime")
th_parser("named-zone-dst", "%Y-%m-%d %H:%M:%S", ["2024-03-10 03:30:00", "2024-11-03 03:30:00"], zone="timezone America/New_York")

# --- parsers via filter_parser ----------------------------------------------------------------


def parser_case(name, parse, values, extra="", key="message", recfn=None):
    body = "key_name %s\n%s<parse>\n%s</parse>\n" % (key, extra, indent(parse))
    frames = [msg(recfn(v) if recfn else {key: v, "other": "o"}) for v in values]
    case("parser-" + name, filt("parser", body) + fileout() + ERR, frames)


parser_case("json-basic", "@type json", ['{"a":1,"b":[1,2],"c":{"d":null}}'])
parser_case("json-floats", "@type json", ['{"a":1e20,"b":0.1,"c":100.0,"d":18446744073709551615,"e":-9223372036854775808}'])
parser_case("json-invalid", "@type json", ['{"a":', 'not json'])
parser_case("json-array", "@type json", ['[1,2]', '3', '"s"', 'null'])
parser_case("json-empty", "@type json", [''])
parser_case("json-null-value", "@type json", [None])
parser_case("json-number-value", "@type json", [12])
# The none parser takes any value as it is (Fluentd: `{message_key => text}` whatever text is);
# the others raise on a value that is not a string.
parser_case("none-values", "@type none", [12, {"a": 1}, [1, None], True, 1.5, ""], extra="reserve_data true\n")
parser_case("regexp-non-string-values", "@type regexp\nexpression /(?<x>.*)/", [12, {"a": 1}, True], extra="reserve_data true\n")
parser_case("regexp-non-string-values-plain", "@type regexp\nexpression /(?<x>.*)/", [12, {"a": 1}, True])
parser_case("json-non-string-values-reserve", "@type json", [12, {"a": 1}, True], extra="reserve_data true\n")
parser_case("json-non-string-values", "@type json", [{"a": 1}, True, [1], 1.5])
parser_case("csv-non-string-values", "@type csv\nkeys a", [12, {"a": 1}])
# JSON that is not an object (a scalar, an array, Oj's non-string field as it is) reaches
# filter_parser's handle_parsed: nested under hash_value_field it is a record, an
# inject_key_prefix over it raises (or makes pairs of an array of strings), reserve_data's merge
# of it raises; a raise sends the record to @ERROR and passes it on (hunt-fpopt-28101-0).
NONOBJ = ['12', '[1,2]', '[{"a":1},{"b":2}]', '["a","b"]', '[["a",1],["b"]]', 'true', 'false', '"s"', '1.5',
          '[]', '[["a",1],[2]]', 12, [1], [["k", 2]], True, False, 1.5]
for opt, extra in [("plain", ""), ("hash-value-field", "hash_value_field p\n"), ("prefix", "inject_key_prefix x.\n"),
                   ("reserve", "reserve_data true\n"), ("hash-value-field-reserve", "hash_value_field p\nreserve_data true\n"),
                   ("prefix-reserve", "inject_key_prefix x.\nreserve_data true\n"),
                   ("prefix-hash-value-field", "inject_key_prefix x.\nhash_value_field p\n"),
                   ("hash-value-field-reserve-time", "hash_value_field p\nreserve_time true\n"),
                   ("prefix-remove-key", "inject_key_prefix x.\nremove_key_name_field true\n"),
                   ("reserve-remove-key", "reserve_data true\nremove_key_name_field true\n"),
                   ("hash-value-field-remove-key", "hash_value_field p\nreserve_data true\nremove_key_name_field true\n"),
                   ("prefix-no-error-event", "inject_key_prefix x.\nemit_invalid_record_to_error false\n"),
                   ("reserve-no-error-event", "reserve_data true\nemit_invalid_record_to_error false\n")]:
    parser_case("json-not-object-" + opt, "@type json", NONOBJ, extra=extra)
# The msgpack parser on msgpack bytes in a bin field (and in a str field, whose bytes are not
# UTF-8), one object a field: each map a record (a bin value, a time key, limits of numbers);
# the field is removed, its bytes being no JSON text (README "Differences from Fluentd").
MP1 = [{"$bin_hex": x} for x in ["82a16101a162a178", "82a16e81a16b9401c0c3cb3ff8000000000000a165a2c3a9",
                                  "81a362696ec4020041", "82a474696d65ce6553f100a161a177",
                                  "82a161a131a162ff", "80", "82a169cfffffffffffffffffa166cb4415af1d78b58c40"]] + [
    {"$str_hex": "82a16101a162a178"}, 12]
RK = "remove_key_name_field true\n"
parser_case("msgpack-one-object", "@type msgpack", MP1, extra=RK)
parser_case("msgpack-one-object-reserve", "@type msgpack", MP1, extra=RK + "reserve_data true\nhash_value_field p\n")
parser_case("msgpack-time-key", "@type msgpack\ntime_key time\ntime_type unixtime", MP1, extra=RK + "reserve_data true\n")
parser_case("msgpack-types", "@type msgpack\ntypes a:integer,b:string\nestimate_current_event false", MP1, extra=RK)
# Bytes that are not msgpack raise: the record goes to @ERROR and on.
parser_case("msgpack-not-msgpack", "@type msgpack", [{"$bin_hex": "c1"}, {"$bin_hex": "c10c"}])
# Several objects in one field, one that is not a map, one cut short, none: Fluentd's unpacker
# keeps what a field leaves and reads it in front of the next field (README "Differences").
MPS = [{"$bin_hex": x} for x in ["81a1610181a1629201c0", "0c", "82a16101a162a46c6f", "", "81a16101", "81a16101c1", "c1", "81a16101"]]
parser_case("msgpack-stream", "@type msgpack", MPS)
parser_case("json-not-object-types", "@type json\ntypes a:integer", NONOBJ)
parser_case("json-not-object-types-hash-value-field", "@type json\ntypes a:integer", NONOBJ, extra="hash_value_field p\n")
parser_case("json-not-object-yajl-hash-value-field", "@type json\njson_parser yajl", NONOBJ, extra="hash_value_field p\n")
parser_case("json-not-object-ruby-json-hash-value-field", "@type json\njson_parser json", NONOBJ, extra="hash_value_field p\n")
parser_case("ltsv-non-string-values", "@type ltsv", [12, [1]])
parser_case("syslog-non-string-values", "@type syslog", [12])
case("parser-json-missing-key", filt("parser", "key_name message\n<parse>\n  @type json\n</parse>\n") + fileout() + ERR, [msg({"other": 1})])
parser_case("json-time-key", "@type json\ntime_key ts\ntime_format %Y-%m-%d %H:%M:%S", ['{"ts":"2020-01-02 03:04:05","a":1}'])
parser_case("json-time-unparsable", "@type json\ntime_key ts\ntime_format %Y-%m-%d", ['{"ts":"garbage","a":1}'])
parser_case("json-time-null", "@type json\ntime_key ts", ['{"ts":null,"a":1}'])
parser_case("json-time-missing", "@type json\ntime_key ts", ['{"a":1}'])
parser_case("json-time-unixtime", "@type json\ntime_key ts\ntime_type unixtime", ['{"ts":1600000000,"a":1}', '{"ts":"1600000001","a":2}'])
parser_case("json-time-float", "@type json\ntime_key ts\ntime_type float", ['{"ts":1600000000.5,"a":1}'])
parser_case("json-keep-time-key", "@type json\ntime_key ts\nkeep_time_key true\ntime_format %s", ['{"ts":"1600000000","a":1}'])
parser_case("json-time-zone", "@type json\ntime_key ts\ntime_format %Y-%m-%dT%H:%M:%S\ntimezone Asia/Tokyo", ['{"ts":"2020-01-02T03:04:05"}'])
parser_case("json-time-iso-zone", "@type json\ntime_key ts\ntime_format %Y-%m-%dT%H:%M:%S%z", ['{"ts":"2020-01-02T03:04:05+0900"}', '{"ts":"2020-01-02T03:04:05Z"}'])
parser_case("json-time-fraction", "@type json\ntime_key ts\ntime_format %Y-%m-%dT%H:%M:%S.%N", ['{"ts":"2020-01-02T03:04:05.123456789"}'])
parser_case("json-time-no-format", "@type json\ntime_key ts", ['{"ts":"2020-01-02 03:04:05 +0100"}', '{"ts":"Jan 2 2020 03:04"}'])
parser_case("json-types", "@type json\ntypes a:integer,b:float,c:bool,d:string,e:array", ['{"a":"12x","b":"1.5","c":"true","d":5,"e":"x,y"}'])
# `types` as Fluentd converts: integers past i64 that fit 64 bits stay integers, nil and false are
# left as they are (`next unless value`), a time type on a string that is no time is nil.
parser_case("json-types-edges", "@type json\ntypes a:integer,b:time,c:integer,d:integer,e:bool,f:time:unixtime",
            ['{"a":"9999999999999999999","b":false,"c":"18446744073709551615","d":"-9223372036854775808","e":false,"f":"1700000000"}',
             '{"a":1e19,"b":null,"c":"-0","d":"1_000","e":"yes","f":"x"}'])
# A parsed time far from now (milliseconds read as seconds) is kept, wrapped to 32 bits as Fluentd's
# msgpack wraps it; a single Fluentd formats it as the year 55840 or fails on it.
parser_case("json-time-far", "@type json\ntime_key t\ntime_type unixtime",
            ['{"t":"1700000000123","a":1}', '{"t":9999999999999999999,"a":2}', '{"t":"99999999999999999999","a":3}'])
parser_case("regexp-time-far-epoch", "@type regexp\nexpression /^(?<t>\\S+) (?<a>.*)$/\ntime_key t\ntime_format %s",
            ['1700000000123 a', '99999999999999999999 b', '-99999999999999999999 c'])
# Fluentd's time formatter cache takes an event time of a second that came as an integer for any
# later time of that second: `...20.000000000` for `...20.123456789`.
case("inject-time-cache-integer-then-fraction",
     filt("parser", "key_name m\nreserve_data true\n<parse>\n  @type regexp\n  expression /^(?<t>.*)$/\n  time_key t\n  time_format %s.%N\n</parse>")
     + fileout(inject="time_key et\ntime_type string\ntime_format %Y-%m-%dT%H:%M:%S.%N%z\nutc true") + ERR,
     [msg({"m": "x"}), msg({"m": "1700000000.123456789"}), msg({"m": "1700000001.5"})])
parser_case("json-null-pattern", "@type json\nnull_value_pattern ^-$\nnull_empty_string true", ['{"a":"-","b":"","c":"x"}'])
parser_case("json-reserve-data", "@type json", ['{"a":1,"other":"new"}'], extra="reserve_data true\n")
parser_case("json-reserve-time", "@type json\ntime_key ts", ['{"ts":"2020-01-02 03:04:05 +0000","a":1}'], extra="reserve_time true\n")
parser_case("json-inject-key-prefix", "@type json", ['{"a":1}'], extra="inject_key_prefix p_\nreserve_data true\n")
parser_case("json-hash-value-field", "@type json", ['{"a":1}'], extra="hash_value_field parsed\nreserve_data true\n")
parser_case("json-remove-key-name-field", "@type json", ['{"a":1}'], extra="reserve_data true\nremove_key_name_field true\n")
parser_case("json-invalid-no-error", "@type json", ['nope'], extra="emit_invalid_record_to_error false\n")
parser_case("json-invalid-reserve", "@type json", ['nope'], extra="reserve_data true\n")
parser_case("json-invalid-utf8", "@type json", [{"$str_hex": "7b2261223a2261ff62227d"}])
parser_case("json-replace-invalid", "@type json", [{"$str_hex": "7b2261223a2261ff62227d"}], extra="replace_invalid_sequence true\n")
case("parser-json-nested-key-name", filt("parser", "key_name $.a.b\n<parse>\n  @type json\n</parse>\n") + fileout() + ERR,
     [msg({"a": {"b": '{"x":1}'}})])
parser_case("regexp-basic", "@type regexp\nexpression /^(?<host>[^ ]*) (?<code>\\d+) (?<rest>.*)$/", ["h1 200 all good", "no match"])
parser_case("regexp-time", "@type regexp\nexpression /^(?<time>[^ ]+) (?<msg>.*)$/\ntime_format %Y-%m-%dT%H:%M:%S", ["2020-01-02T03:04:05 hello", "bad-time hi"])
parser_case("regexp-types", "@type regexp\nexpression /^(?<a>\\S+) (?<b>\\S+) (?<c>\\S*)$/\ntypes a:integer,b:float,c:bool", ["12 3.5 yes", "x y "])
parser_case("regexp-optional-group", "@type regexp\nexpression /^(?<a>\\w+)( (?<b>\\w+))?$/", ["one", "one two"])
parser_case("regexp-multiline-flag", "@type regexp\nexpression /^(?<a>.*)$/m", ["l1\nl2"])
parser_case("regexp-ignorecase", "@type regexp\nexpression /^(?<a>HELLO)/i", ["hello world"])
parser_case("regexp-empty-line", "@type regexp\nexpression /^$/", ["", "x"])
parser_case("csv-basic", "@type csv\nkeys a,b,c", ['1,"two, 2",3', 'x,,'])
# An empty text is no CSV row: Fluentd's `@keys.zip(nil)` raises (the record goes to @ERROR and on
# unchanged, never `parsed: {}`); the fast engine gives an empty record; "\n" is an empty row.
parser_case("csv-empty-text", "@type csv\nkeys a,b", ["", "\n", "a,b"], extra="reserve_data true\nhash_value_field parsed\n")
parser_case("csv-empty-text-fast", "@type csv\nkeys a,b\nparser_engine fast", ["", "a,b"], extra="reserve_data true\nhash_value_field parsed\n")
# The fast engine chomps the text in place, so Fluentd's kept record loses the field's final
# newline (README "Differences from Fluentd": logferry keeps the field as sent).
parser_case("csv-fast-chomps-field", "@type csv\nkeys a,b\nparser_engine fast", ["a,b\n", "\n", "a\r\n"], extra="reserve_data true\n")
parser_case("csv-unterminated", "@type csv\nkeys a,b", ['1,"unterminated'])
parser_case("csv-fewer-more", "@type csv\nkeys a,b", ['1', '1,2,3'])
parser_case("csv-fast", "@type csv\nkeys a,b\nparser_type fast", ['1,"x""y"', 'p,q'])
parser_case("csv-delimiter", "@type csv\nkeys a,b\ndelimiter |", ['1|2'])
parser_case("tsv-basic", "@type tsv\nkeys a,b", ['1\t2', '1', '1\t2\t3'])
parser_case("ltsv-basic", "@type ltsv", ['a:1\tb:x:y\tc:', 'nolabel\ta:1'])
parser_case("ltsv-delims", "@type ltsv\ndelimiter ,\nlabel_delimiter =", ['a=1,b=2'])
parser_case("none", "@type none", ['anything at all', ''])
parser_case("none-message-key", "@type none\nmessage_key log", ['line'])
parser_case("apache2", "@type apache2",
            ['192.168.0.1 - - [28/Feb/2013:12:00:00 +0900] "GET / HTTP/1.1" 200 777 "-" "Opera/12.0"',
             '::1 - bob [01/Jan/2020:00:00:00 +0000] "POST /x HTTP/1.0" 404 - "http://r/" "curl"', 'garbage'])
# Ruby's to_i past 64 bits: a bignum Fluentd writes digit for digit (README: the nearest float).
parser_case("apache2-code-past-64-bits", "@type apache2",
            ['1.2.3.4 - - [14/Nov/2023:22:13:20 +0000] "GET / HTTP/1.1" 99999999999999999999 18446744073709551616 "-" "-"',
             '1.2.3.4 - - [14/Nov/2023:22:13:20 +0000] "GET / HTTP/1.1" 9223372036854775808 -9223372036854775809 "-" "-"'])
parser_case("apache-error", "@type apache_error",
            ['[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server configuration',
             '[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 123:tid 456] [client 1.2.3.4:80] AH00126: Invalid URI'])
parser_case("nginx", "@type nginx",
            ['127.0.0.1 - - [28/Feb/2013:12:00:00 +0900] "GET / HTTP/1.1" 200 777 "-" "Opera/12.0" "-"',
             '127.0.0.1 - - [28/Feb/2013:12:00:00 +0900] "GET / HTTP/1.1" 200 777'])
parser_case("syslog-3164", "@type syslog", ['Feb 28 12:00:00 host1 app[123]: hello world', 'Feb  3 01:02:03 host2 kernel: x'])
parser_case("syslog-3164-pri", "@type syslog\nwith_priority true", ['<6>Feb 28 12:00:00 host1 app[123]: hi'])
parser_case("syslog-pri-mismatch", "@type syslog\nwith_priority true", ['Feb 28 12:00:00 host1 app: no pri'])
parser_case("syslog-pri-unexpected", "@type syslog", ['<6>Feb 28 12:00:00 host1 app: has pri'])
parser_case("syslog-5424", "@type syslog\nmessage_format rfc5424",
            ['<16>1 2013-02-28T12:00:00.003Z 192.168.0.1 fluentd 11111 ID24224 [exampleSDID@20224 iut="3"] Hi', '<16>1 2013-02-28T12:00:00Z host app - - - msg'])
parser_case("syslog-auto", "@type syslog\nmessage_format auto",
            ['<16>1 2013-02-28T12:00:00.003Z host app 1 ID - msg5424', '<6>Feb 28 12:00:00 host1 app[1]: msg3164'])
parser_case("syslog-5424-no-pri", "@type syslog\nmessage_format rfc5424\nwith_priority false",
            ['2013-02-28T12:00:00Z host app - - - msg'])
parser_case("syslog-parser-type-string", "@type syslog\nparser_type string", ['Feb 28 12:00:00 host1 app[123]: s', 'bad'])
# Text the syslog parser cannot take apart (Fluentd's raises on some: a NoMethodError when the
# timestamp has no space after it), with each of filter_parser's ways to treat a failure.
SYSLOG_BAD = ['a:?\tb', 'nospace', 'two words', '', 'Feb 28 12:00:00', 'Feb 28 12:00:00 host']
for suffix, extra in [("", ""), ("-reserve", "reserve_data true\n"), ("-no-error", "emit_invalid_record_to_error false\n"),
                      ("-reserve-no-error", "reserve_data true\nemit_invalid_record_to_error false\n")]:
    parser_case("syslog-unparsable" + suffix, "@type syslog", SYSLOG_BAD, extra=extra)
parser_case("syslog-unparsable-string", "@type syslog\nparser_type string", SYSLOG_BAD)
parser_case("syslog-unparsable-string-format", "@type syslog\nparser_type string\ntime_format %b %d %H:%M:%S %Y",
            ['a:?\tb', 'Feb 28 12:00:00', 'Feb  28 12:00:00 2020 host app: m', 'Feb 28 12:00:00 2020 host app: ok'])
# The same behind a filter with its own filter_stream (record_transformer): Fluentd's chain is not
# optimised then, and a record whose parse raised does not go on.
case("parser-syslog-unparsable-chain",
     filt("parser", "key_name message\n<parse>\n  @type syslog\n</parse>\n") + filt("record_transformer", "<record>\n  x 1\n</record>\n")
     + fileout() + ERR, [msg({"message": 'a:?\tb', "other": "o"})])
parser_case("syslog-unparsable-pri", "@type syslog\nwith_priority true", ['<6>a:?\tb', '<6>nospace', '<6>Feb 28 12:00:00'])
parser_case("syslog-unparsable-5424", "@type syslog\nmessage_format rfc5424", ['<16>1', '<16>1 x', 'a:?\tb'], extra="reserve_data true\n")
parser_case("syslog-unparsable-auto", "@type syslog\nmessage_format auto", ['a:?\tb', '<16>1 2013-02-28T12:00:00Z', 'Feb 28'])
# Patterns only a backtracking engine runs (Oniguruma in logferry), and filter_parser's timeout.
parser_case("regexp-lookahead", "@type regexp\nexpression /^(?<path>\\/(?!health)\\S*) (?<code>\\d+)$/", ["/api 200", "/health 200"])
parser_case("regexp-lookbehind", "@type regexp\nexpression /^(?<k>[^=]+)=(?<v>.*?)(?<!\\\\);/", ["a=1\\;2;rest", "b=x;"])
parser_case("regexp-backref", "@type regexp\nexpression /^(?<q>[\"'])(?<v>.*)\\k<q>$/", ['"double"', "'single'", "'mixed\""])
parser_case("regexp-atomic-possessive", "@type regexp\nexpression /^(?<a>(?>\\d+))(?<b>\\w++)?$/", ["123abc", "123"])
parser_case("regexp-anchor-trailing-newline", "@type regexp\nexpression /^(?<a>\\w*)$/", ["ab\n", "\n", "a\nb"])
parser_case("regexp-ignorecase-fold", "@type regexp\nexpression /^(?<a>STRASSE|ﬁle)$/i", ["straße", "FILE", "strasse"])
parser_case("regexp-timeout", "@type regexp\nexpression /^(?=a)(?<x>(\\w+\\s?)+)$/\ntimeout 0.5s", ["a" * 32 + "!", "aa b"])
parser_case("regexp-timeout-reserve", "@type regexp\nexpression /^(?=a)(?<x>(\\w+\\s?)+)$/\ntimeout 0.5s", ["a" * 32 + "!", "aa b"], extra="reserve_data true\n")
parser_case("regexp-replace-invalid", "@type regexp\nexpression /^(?<a>.*)$/", [{"$str_hex": "61ff62"}], extra="replace_invalid_sequence true\n")
parser_case("json-replace-invalid-reserve", "@type json", [{"$str_hex": "7b2261223a2261ff62227d"}], extra="replace_invalid_sequence true\nreserve_data true\n")
# Text that is not UTF-8, parser by parser (Fluentd: a Ruby ArgumentError, or not).
for typ, body in [("none", "@type none"), ("ltsv", "@type ltsv"), ("csv", "@type csv\nkeys a,b"), ("tsv", "@type tsv\nkeys a,b"),
                  ("syslog", "@type syslog"), ("apache2", "@type apache2")]:
    parser_case(typ + "-invalid-utf8", body, [{"$str_hex": "613aff0962"}])
    if typ != "syslog":  # Fluentd's syslog parser fails on the scrubbed text for a reason of its own
        parser_case(typ + "-invalid-utf8-replace", body, [{"$str_hex": "613aff0962"}], extra="replace_invalid_sequence true\n")
parser_case("multiline-firstline", "@type multiline\nformat_firstline /^\\d/\nformat1 /^(?<n>\\d+) (?<m>.*)/", ['1 abc\ncont'])

# --- record_transformer -----------------------------------------------------------------------


def rt(name, body, records, tag="app.web.x", rt_extra=""):
    case("rt-" + name, filt("record_transformer", body) + fileout(fmt="@type json") + ERR, [msg(r, tag=tag) for r in records])


R = {"a": 1, "s": "str", "n": None, "m": {"k": [1, {"z": "deep"}]}}
rt("tag", "<record>\n  t ${tag}\n  p0 ${tag_parts[0]}\n  p2 ${tag_parts[2]}\n  pm1 ${tag_parts[-1]}\n</record>", [R])
rt("tag-prefix-suffix", "<record>\n  pre ${tag_prefix[1]}\n  suf ${tag_suffix[1]}\n  pre0 ${tag_prefix[0]}\n</record>", [R])
rt("tag-parts-out-of-range", "<record>\n  x ${tag_parts[9]}\n  y a${tag_prefix[9]}b\n</record>", [R])
rt("record-access", "<record>\n  a2 ${record[\"a\"]}\n  s2 x-${record[\"s\"]}-y\n  n2 ${record[\"n\"]}\n  missing ${record[\"nope\"]}\n</record>", [R])
rt("record-nested", "<record>\n  d ${record[\"m\"][\"k\"][1][\"z\"]}\n  whole ${record[\"m\"]}\n</record>", [R], rt_extra="")
rt("record-map-in-string", "<record>\n  whole p${record[\"m\"]}q\n</record>", [R])
rt("time", "<record>\n  t ${time}\n</record>", [R])
rt("unknown-placeholder", "<record>\n  u ${unknown}\n  v ${foo.bar}\n</record>", [R])
rt("dollar-literal", "<record>\n  d $x ${ y\n  e $${tag}\n</record>", [R])
rt("remove-keys", "remove_keys a,n", [R])
rt("keep-keys", "renew_record true\nkeep_keys a,s", [R])
rt("renew-record", "renew_record true\n<record>\n  only ${tag}\n</record>", [R])
rt("renew-time-key", "renew_time_key a", [{"a": 1600000000}])
rt("auto-typecast", "auto_typecast true\n<record>\n  num ${record[\"a\"]}\n  str x${record[\"a\"]}\n  nil ${record[\"n\"]}\n  map ${record[\"m\"]}\n</record>", [R])
rt("no-typecast", "<record>\n  num ${record[\"a\"]}\n  map ${record[\"m\"]}\n  nil ${record[\"n\"]}\n</record>", [R])
rt("enable-ruby-off-dollar", "<record>\n  x ${record['a']}\n</record>", [R])
rt("overwrite", "<record>\n  a replaced\n</record>", [R])
rt("record-values-edge", "<record>\n  f ${record[\"f\"]}\n  i ${record[\"i\"]}\n  b ${record[\"b\"]}\n  arr ${record[\"arr\"]}\n</record>",
   [{"f": 1e20, "i": 18446744073709551615, "b": True, "arr": [1, None, "x"]}, {"f": 0.1, "i": -1, "b": False, "arr": []}])
rt("record-invalid-utf8", "<record>\n  c x${record[\"s\"]}\n</record>", [{"s": {"$str_hex": "61ff"}}])
rt("enable-ruby", "enable_ruby true\n<record>\n  up ${record[\"s\"].upcase}\n  sum ${record[\"a\"] + 1}\n</record>", [R])
rt("tag-in-key", "<record>\n  ${tag} v\n</record>", [R])
rt("record-placeholder-single-quote", "<record>\n  q ${record[\"s\"]}${record[\"a\"]}\n</record>", [R])
# A value that is a whole placeholder holds the record's own map in Fluentd, so remove_keys of a
# key inside it empties the copy too (README "Differences from Fluentd").
rt("remove-keys-nested-copy", "remove_keys $.m.k\n<record>\n  c ${record[\"m\"]}\n</record>", [{"m": {"k": 1, "j": 2}}])
rt("remove-keys-top-copy", "remove_keys m\n<record>\n  c ${record[\"m\"]}\n</record>", [{"m": {"k": 1}}])
case("rt-chain-two", filt("record_transformer", "<record>\n  b x${record[\"a\"]}\n</record>") +
     filt("record_transformer", "<record>\n  c ${record[\"b\"]}y\n</record>") + fileout(fmt="@type json"), [msg(R)])

# --- rewrite_tag_filter -----------------------------------------------------------------------


def rtf(name, rules, records, tag="app.x", extra=""):
    body = "@type rewrite_tag_filter\n%s" % extra
    for key, pattern, newtag, *inv in rules:
        body += "<rule>\n  key %s\n  pattern %s\n  tag %s\n%s</rule>\n" % (key, pattern, newtag, "  invert true\n" if inv else "")
    conf = "<match app.**>\n%s</match>\n" % indent(body) + fileout(name="${tag}", buffer="tag", pattern="**")
    case("rtf-" + name, conf, [msg(r, tag=tag) for r in records])


rtf("basic", [("level", "/^error$/", "err.${tag}"), ("level", "/.+/", "other.${tag}")], [{"level": "error"}, {"level": "info"}, {"nolevel": 1}])
rtf("capture", [("msg", "/^(\\w+) (\\w+)/", "c.$2.$1")], [{"msg": "hello world"}])
rtf("tag-parts", [("a", "/./", "n.${tag_parts[1]}.${tag_parts[0]}")], [{"a": "x"}], tag="app.part")
rtf("tag-placeholder-upper", [("a", "/./", "__TAG__.up")], [{"a": "x"}])
rtf("invert", [("a", "/^x$/", "inv.${tag}", True)], [{"a": "x"}, {"a": "y"}])
rtf("nested-key", [("$.a.b", "/^1$/", "nested.x")], [{"a": {"b": 1}}, {"a": {"b": 2}}])
rtf("non-string", [("n", "/^12/", "num.x")], [{"n": 123}, {"n": None}, {"n": [12]}])
rtf("remove-prefix", [("a", "/./", "${tag}")], [{"a": "x"}], extra="remove_tag_prefix app\n")
rtf("remove-regexp", [("a", "/./", "r.${tag}")], [{"a": "x"}], tag="app.foo.bar", extra="remove_tag_regexp /^app\\./\n")
rtf("empty-capture", [("a", "/^(x)?(y)$/", "e.$1.x")], [{"a": "y"}])
rtf("first-rule-wins", [("a", "/x/", "one.x"), ("a", "/x/", "two.x")], [{"a": "x"}])
rtf("regexp-empty", [("a", "/^$/", "empty.x")], [{"a": ""}, {"a": "z"}])
rtf("pattern-unquoted", [("a", "^err", "u.x")], [{"a": "error"}])
rtf("ignorecase", [("a", "/^ERR/i", "i.x")], [{"a": "error"}])
rtf("invalid-utf8", [("a", "/b/", "u.x")], [{"a": {"$str_hex": "61ff62"}}])
rtf("lookahead", [("a", "/^(?!debug)(\\w+)/", "la.$1")], [{"a": "debug x"}, {"a": "info y"}])
rtf("backref", [("a", "/^(\\w)\\1/", "br.$1")], [{"a": "aab"}, {"a": "abc"}])
rtf("capture-nomatch-placeholder", [("a", "/^(\\w+)/", "c.$1.$2")], [{"a": "word"}])

# --- grep ------------------------------------------------------------------------------------


def grep(name, body, records):
    case("grep-" + name, filt("grep", body) + fileout(fmt="@type json"), [msg(r) for r in records])


G = [{"a": "apple", "n": 12}, {"a": "banana", "n": None}, {"b": "x"}, {"a": ["apple"], "n": 1.5}, {"a": {"k": "apple"}}]
grep("regexp", "<regexp>\n  key a\n  pattern /apple/\n</regexp>", G)
# A nested record accessor (`$.m.k`) over a value that is not a map: Ruby's `dig` raises on an
# integer, a string, true, or an array given a string key; nil gives nil. Each plugin that takes
# one, with the record of each kind in its own forward message.
DIG = [{"m": {"k": "v"}, "i": 0}, {"m": 5, "i": 1}, {"m": "str", "i": 2}, {"m": [1, 2], "i": 3},
       {"m": None, "i": 4}, {"m": True, "i": 5}, {"i": 6}, {"m": {"k": {"z": 1}}, "i": 7}]
case("accessor-dig-grep", filt("grep", "<regexp>\n  key $.m.k\n  pattern /./\n</regexp>") + fileout(fmt="@type json") + ERR,
     [msg(r) for r in DIG])
case("accessor-dig-grep-exclude", filt("grep", "<exclude>\n  key $.m.k\n  pattern /x/\n</exclude>") + fileout(fmt="@type json") + ERR,
     [msg(r) for r in DIG])
case("accessor-dig-parser", filt("parser", "key_name $.m.k\nreserve_data true\n<parse>\n  @type none\n</parse>") + fileout(fmt="@type json") + ERR,
     [msg(r) for r in DIG])
case("accessor-dig-parser-plain", filt("parser", "key_name $.m.k\n<parse>\n  @type none\n</parse>") + fileout(fmt="@type json") + ERR,
     [msg(r) for r in DIG])
case("accessor-dig-csv", fileout(fmt="@type csv\nfields i,$.m.k") + ERR, [msg(r) for r in DIG])
case("accessor-dig-rtf", "<match t>\n  @type rewrite_tag_filter\n  <rule>\n    key $.m.k\n    pattern /./\n    tag hit\n  </rule>\n</match>\n"
     + fileout(fmt="@type json") + ERR, [msg(r) for r in DIG])
case("accessor-dig-chunk-key", "<match t>\n  @type file\n  path {DIR}/out/p-${$.m.k}\n  append true\n  <format>\n    @type json\n  </format>\n  <buffer $.m.k>\n    @type memory\n  </buffer>\n</match>\n" + ERR,
     [msg(r) for r in DIG])
case("accessor-dig-remove-keys", filt("record_transformer", "remove_keys $.m.k") + fileout(fmt="@type json") + ERR, [msg(r) for r in DIG])
case("accessor-dig-rt-placeholder", filt("record_transformer", "<record>\n  x ${record[\"m\"][\"k\"]}\n</record>") + fileout(fmt="@type json") + ERR,
     [msg(r) for r in DIG])

grep("exclude", "<exclude>\n  key a\n  pattern /apple/\n</exclude>", G)
grep("number", "<regexp>\n  key n\n  pattern /^1/\n</regexp>", G)
grep("exclude-missing", "<exclude>\n  key n\n  pattern /./\n</exclude>", G)
grep("and", "<and>\n  <regexp>\n    key a\n    pattern /an/\n  </regexp>\n  <regexp>\n    key n\n    pattern /^$/\n  </regexp>\n</and>", G)
grep("or", "<or>\n  <regexp>\n    key a\n    pattern /^apple$/\n  </regexp>\n  <regexp>\n    key b\n    pattern /x/\n  </regexp>\n</or>", G)
grep("exclude-or", "<or>\n  <exclude>\n    key a\n    pattern /apple/\n  </exclude>\n  <exclude>\n    key b\n    pattern /x/\n  </exclude>\n</or>", G)
grep("exclude-and", "<and>\n  <exclude>\n    key a\n    pattern /apple/\n  </exclude>\n  <exclude>\n    key n\n    pattern /12/\n  </exclude>\n</and>", G)
grep("nested", "<regexp>\n  key $.a.k\n  pattern /apple/\n</regexp>", G)
grep("two-regexps", "<regexp>\n  key a\n  pattern /a/\n</regexp>\n<regexp>\n  key n\n  pattern /\\d/\n</regexp>", G)
grep("legacy", "regexp1 a apple\nexclude1 n 12", G)
grep("empty-pattern", "<regexp>\n  key a\n  pattern //\n</regexp>", G)
grep("bool", "<regexp>\n  key a\n  pattern /true/\n</regexp>", [{"a": True}, {"a": "true"}, {"a": False}])
grep("unicode", "<regexp>\n  key a\n  pattern /日本/\n</regexp>", [{"a": "日本語"}, {"a": {"$str_hex": "ff"}}])
grep("anchor", "<regexp>\n  key a\n  pattern /^apple$/\n</regexp>", [{"a": "apple\n"}, {"a": "apple"}, {"a": "x\napple"}])
grep("lookahead", "<regexp>\n  key a\n  pattern /^(?!apple)/\n</regexp>", G)
grep("exclude-blank", "<exclude>\n  key a\n  pattern /^\\s*$/\n</exclude>", [{"a": "  "}, {"a": "x\n"}, {"a": "\n"}, {"a": "x\n \n"}, {"a": "x"}])
grep("nested-or", "<or>\n  <regexp>\n    key $.a.k\n    pattern /apple/\n  </regexp>\n  <regexp>\n    key b\n    pattern /x/\n  </regexp>\n</or>", G)
grep("exclude-nil", "<exclude>\n  key a\n  pattern /^$/\n</exclude>", [{"a": None}, {"a": ""}, {"b": 1}])

# --- routing: chains, labels, @ERROR, copy, relabel ----------------------------------------------
case("route-label", SRC.replace("</source>", "  @label @L\n</source>") + label("@L", filt("record_transformer", "<record>\n  in L\n</record>") + fileout(name="l")) + fileout(name="root") + TAIL,
     [msg({"a": 1})], raw_conf=True)
case("route-relabel", "<match t>\n  @type relabel\n  @label @R\n</match>\n" + label("@R", fileout(name="r")), [msg({"a": 1})])
case("route-copy", "<match t>\n  @type copy\n  <store>\n%s  </store>\n  <store>\n%s  </store>\n</match>\n" % (
    indent("@type file\npath {DIR}/out/c1\nappend true\n<buffer []>\n  @type memory\n</buffer>", 4),
    indent("@type relabel\n@label @C", 4)) + label("@C", filt("record_transformer", "<record>\n  c 2\n</record>") + fileout(name="c2")),
     [msg({"a": 1})])
case("route-copy-deep", "<match t>\n  @type copy\n  copy_mode deep\n  <store>\n    @type relabel\n    @label @A\n  </store>\n  <store>\n    @type relabel\n    @label @B\n  </store>\n</match>\n" +
     label("@A", filt("record_transformer", "<record>\n  x a\n</record>") + fileout(name="a")) + label("@B", fileout(name="b")), [msg({"a": 1})])
case("route-first-match-wins", fileout(name="first", pattern="t") + fileout(name="second", pattern="**"), [msg({"a": 1}), msg({"a": 2}, tag="u")])
case("route-patterns", fileout(name="ab", pattern="a.{b,c}.*") + fileout(name="star", pattern="a.*") + fileout(name="rest"),
     [msg({"i": 1}, tag="a.b.x"), msg({"i": 2}, tag="a.c.y"), msg({"i": 3}, tag="a.z"), msg({"i": 4}, tag="a.b"), msg({"i": 5}, tag="a")])
case("route-multi-pattern", fileout(name="m", pattern="x y.**") + fileout(name="rest"), [msg({"i": 1}, tag="x"), msg({"i": 2}, tag="y.z"), msg({"i": 3}, tag="x.y")])
case("route-filter-chain", filt("record_transformer", "<record>\n  s1 ${record[\"a\"]}\n</record>") + filt("grep", "<exclude>\n  key a\n  pattern /2/\n</exclude>") +
     filt("record_transformer", "remove_keys a") + fileout(fmt="@type json"), [msg({"a": 1}), msg({"a": 2})])
case("route-filter-pattern", filt("record_transformer", "<record>\n  f yes\n</record>", pattern="a.**") + fileout(fmt="@type json"), [msg({"i": 1}, tag="a.b"), msg({"i": 2}, tag="b")])
case("route-error-label", filt("parser", "key_name m\n<parse>\n  @type json\n</parse>") + fileout(name="ok") + ERR, [msg({"m": '{"a":1}'}), msg({"m": "bad"}), msg({"x": 1})])
case("route-no-error-label", filt("parser", "key_name m\n<parse>\n  @type json\n</parse>") + fileout(name="ok"), [msg({"m": "bad"}), msg({"m": '{"a":2}'})])
case("route-error-label-filters", filt("parser", "key_name m\n<parse>\n  @type json\n</parse>") + fileout(name="ok") +
     label("@ERROR", filt("record_transformer", "<record>\n  e ${tag}\n</record>") + fileout(name="error")), [msg({"m": "bad"})])
case("route-rewrite-then-label", "<match app.**>\n  @type rewrite_tag_filter\n  @label @NEXT\n  <rule>\n    key a\n    pattern /./\n    tag new.${tag}\n  </rule>\n</match>\n" +
     label("@NEXT", fileout(name="${tag}", buffer="tag")), [msg({"a": "x"}, tag="app.q")])
case("route-relabel-chain", "<match t>\n  @type relabel\n  @label @A\n</match>\n" + label("@A", "<match **>\n  @type relabel\n  @label @B\n</match>\n") + label("@B", fileout(name="b")), [msg({"a": 1})])
case("route-regex-pattern", fileout(name="m", pattern="/a|b/") + fileout(name="la", pattern="/web\\.(?!debug)\\w+/") + fileout(name="rest"),
     [msg({"i": 1}, tag="a.x"), msg({"i": 2}, tag="x.b"), msg({"i": 3}, tag="x.a"), msg({"i": 4}, tag="web.info"), msg({"i": 5}, tag="web.debug")])
case("route-null", "<match drop.**>\n  @type null\n</match>\n" + fileout(), [msg({"a": 1}, tag="drop.x"), msg({"a": 2})])
case("route-label-unmatched", SRC.replace("</source>", "  @label @L\n</source>") + label("@L", fileout(name="l", pattern="only")) + TAIL, [msg({"a": 1}), msg({"a": 2}, tag="only")], raw_conf=True)
case("route-unmatched", fileout(pattern="yes"), [msg({"a": 1}, tag="no"), msg({"a": 2}, tag="yes")])

# --- out_file paths, append, compression ------------------------------------------------------


def fileconf(body):
    return "<match **>\n%s</match>\n" % indent("@type file\n" + body)


case("file-path-tag", fileconf("path {DIR}/out/${tag}/f\nappend true\n<buffer tag>\n  @type memory\n</buffer>"), [msg({"a": 1}, tag="x.y"), msg({"a": 2}, tag="z")])
case("file-path-tag-parts", fileconf("path {DIR}/out/${tag[1]}-${tag[0]}\nappend true\n<buffer tag>\n  @type memory\n</buffer>"), [msg({"a": 1}, tag="x.y")])
case("file-path-key", fileconf("path {DIR}/out/${k}\nappend true\n<buffer k>\n  @type memory\n</buffer>"), [msg({"k": "one"}), msg({"k": "two"}), msg({"k": "one", "b": 1})])
case("file-path-time", fileconf("path {DIR}/out/t.%Y%m%d.%H\nappend true\n<buffer time>\n  @type memory\n  timekey 3600\n</buffer>"), [msg({"a": 1}), msg({"a": 2}, time=T0 + 3600)])
case("file-path-timekey-day", fileconf("path {DIR}/out/d\nappend true\n<buffer time>\n  @type memory\n  timekey 1d\n</buffer>"), [msg({"a": 1}), msg({"a": 2}, time=T0 + 86400)])
case("file-path-timekey-zone", fileconf("path {DIR}/out/z.%Y%m%d%H\nappend true\n<buffer time>\n  @type memory\n  timekey 1h\n  timekey_zone +0900\n  timekey_use_utc false\n</buffer>"), [msg({"a": 1})])
case("file-path-star", fileconf("path {DIR}/out/s.*.log\nappend true\n<buffer []>\n  @type memory\n</buffer>"), [msg({"a": 1})])
case("file-no-append", fileconf("path {DIR}/out/na\n<buffer []>\n  @type memory\n</buffer>"), [msg({"a": 1})])
case("file-gzip", fileconf("path {DIR}/out/g\ncompress gzip\nappend true\n<buffer []>\n  @type memory\n</buffer>"), [msg({"a": 1}), msg({"a": 2})])
case("file-gzip-no-append", fileconf("path {DIR}/out/g\ncompress gzip\n<buffer []>\n  @type memory\n</buffer>"), [msg({"a": 1})])
case("file-format-json-gzip", fileconf("path {DIR}/out/j\ncompress gzip\nappend true\n<format>\n  @type json\n</format>\n<buffer []>\n  @type memory\n</buffer>"), [msg({"a": 1})])
case("file-add-path-suffix-false", fileconf("path {DIR}/out/nosuffix\nadd_path_suffix false\nappend true\n<buffer []>\n  @type memory\n</buffer>"), [msg({"a": 1})])
case("file-path-suffix", fileconf("path {DIR}/out/suf\npath_suffix .txt\nappend true\n<buffer []>\n  @type memory\n</buffer>"), [msg({"a": 1})])
case("file-inject-and-format", fileconf("path {DIR}/out/x\nappend true\n<inject>\n  tag_key tag\n  time_key time\n  time_type string\n  time_format %FT%T%:z\n</inject>\n<format>\n  @type ltsv\n</format>\n<buffer []>\n  @type memory\n</buffer>"), [msg({"a": 1})])
case("file-default-buffer-time", fileconf("path {DIR}/out/deflt\nappend true\n<buffer time>\n  @type memory\n</buffer>"), [msg({"a": 1})])
# timekey_use_utc true wins over a timekey_zone (Fluentd's zone is then `+0000`), and the path's
# %Z is the zone's name only for a named timekey_zone (a fixed offset, the default included, writes
# nothing).
for n, z in [("use-utc-over-zone", "timekey_use_utc true\n  timekey_zone -1000"), ("default", ""),
             ("use-utc", "timekey_use_utc true"), ("named", "timekey_zone Asia/Tokyo"),
             ("offset", "timekey_zone +09:00"), ("etc-utc", "timekey_zone Etc/UTC")]:
    case("file-path-timekey-zone-" + n, fileconf("path {DIR}/out/z.%Y%m%d%H.%Z.%z\nappend true\n<buffer time>\n  @type memory\n  timekey 1h\n" + ("  " + z + "\n" if z else "") + "</buffer>"),
         [msg({"a": 1}), msg({"a": 2}, time=1710054000)])
# Fluentd keys chunks by the record's value itself: nil (or a missing key) and "", 1 and "1",
# 1.5 and "1.5", true and "true" are different chunks, written to the same path one after the
# other (append false: _0, _1).
case("file-chunk-key-kinds", fileconf("path {DIR}/out/k.${k}\nappend false\n<buffer k>\n  @type memory\n</buffer>"),
     [msg({"k": ""}), msg({"k": None}), msg({}), msg({"k": 1}), msg({"k": "1"}), msg({"k": 1.5}), msg({"k": "1.5"}),
      msg({"k": True}), msg({"k": "true"}), msg({"k": ""})])
case("file-tag-and-time", fileconf("path {DIR}/out/${tag}.%Y-%m-%d\nappend true\n<buffer tag,time>\n  @type memory\n  timekey 1d\n</buffer>"), [msg({"a": 1}, tag="p"), msg({"a": 2}, tag="q")])
case("file-symlink-free-format-single", fileconf("path {DIR}/out/sv\nappend true\n<format>\n  @type single_value\n  message_key log\n</format>\n<buffer []>\n  @type memory\n</buffer>"), [msg({"log": "line 1"}), msg({"log": "line 2"})])
case("file-v012-params", fileconf("path {DIR}/out/v12\nappend true\nformat json\ninclude_time_key true\ntime_key ts\nbuffer_type memory"), [msg({"a": 1})])
case("file-v012-include-tag", fileconf("path {DIR}/out/v12t\nappend true\nformat json\ninclude_tag_key true\ntag_key tg\nbuffer_type memory"), [msg({"a": 1})])

# --- config syntax and errors -----------------------------------------------------------------


def cfgerr(name, conf):
    case("config-" + name, conf)


cfgerr("ok-minimal", fileout())
cfgerr("unknown-output", "<match **>\n  @type nosuchplugin\n</match>\n")
cfgerr("unknown-filter", "<filter **>\n  @type nosuchfilter\n</filter>\n" + fileout())
cfgerr("unknown-source", "<source>\n  @type nosuchinput\n</source>\n")
cfgerr("missing-type", "<match **>\n  path x\n</match>\n")
cfgerr("file-missing-path", "<match **>\n  @type file\n</match>\n")
cfgerr("bad-integer", SRC.replace("port {PORT}", "port abc"))
cfgerr("bad-size", fileout(extra="").replace("@type memory", "@type memory\n    chunk_limit_size 12qq"))
cfgerr("bad-time", fileout().replace("@type memory", "@type memory\n    flush_interval soon"))
cfgerr("bad-bool", SRC.replace("</source>", "  send_keepalive_packet maybe\n</source>") + fileout())
cfgerr("bad-enum", fileout(extra="compress zip"))
cfgerr("unterminated-section", "<match **>\n  @type null\n")
cfgerr("unmatched-close", "<match **>\n  @type null\n</match>\n</match>\n")
cfgerr("wrong-close", "<match **>\n  @type null\n</filter>\n")
cfgerr("label-without-at", "<label FOO>\n  <match **>\n    @type null\n  </match>\n</label>\n")
cfgerr("undefined-label", SRC.replace("</source>", "  @label @NOPE\n</source>"))
cfgerr("duplicate-label", label("@A", "<match **>\n  @type null\n</match>\n") + label("@A", "<match **>\n  @type null\n</match>\n"))
cfgerr("unknown-param-ok", fileout(extra="no_such_param 1"))
cfgerr("parser-missing-key-name", filt("parser", "<parse>\n  @type json\n</parse>") + fileout())
cfgerr("parser-unknown-type", filt("parser", "key_name m\n<parse>\n  @type nosuch\n</parse>") + fileout())

# Hash and array parameters Fluentd fails on at start-up (ArgumentError from Hash[], JSON::ParserError),
# and the forms beside them it takes.
cfgerr("hash-empty-field", filt("parser", "key_name m\n<parse>\n  @type regexp\n  expression /(?<a>.)(?<b>.)/\n  types a:integer,,b:float\n</parse>") + fileout())
cfgerr("hash-leading-comma", filt("parser", "key_name m\n<parse>\n  @type regexp\n  expression /(?<a>.)/\n  types ,a:integer\n</parse>") + fileout())
cfgerr("hash-trailing-commas-ok", filt("parser", "key_name m\n<parse>\n  @type regexp\n  expression /(?<a>.)/\n  types a:integer,,\n</parse>") + fileout())
cfgerr("hash-bad-json", filt("parser", "key_name m\n<parse>\n  @type regexp\n  expression /(?<a>.)/\n  types {a:integer}\n</parse>") + fileout())
cfgerr("hash-json-ok", filt("parser", "key_name m\n<parse>\n  @type regexp\n  expression /(?<a>.)/\n  types {\"a\":\"integer\"}\n</parse>") + fileout())
cfgerr("array-bad-json", filt("record_transformer", "remove_keys [a") + fileout())
cfgerr("array-empty-field-ok", filt("record_transformer", "remove_keys a,,b") + fileout())
cfgerr("buffer-keys-bad-json", fileout(buffer="[tag"))
cfgerr("regexp-no-captures", filt("parser", "key_name m\n<parse>\n  @type regexp\n  expression /abc/\n</parse>") + fileout())
cfgerr("regexp-invalid", filt("parser", "key_name m\n<parse>\n  @type regexp\n  expression /(abc/\n</parse>") + fileout())
cfgerr("csv-no-keys", filt("parser", "key_name m\n<parse>\n  @type csv\n</parse>") + fileout())
cfgerr("rtf-no-rule", "<match **>\n  @type rewrite_tag_filter\n</match>\n")
cfgerr("rtf-bad-pattern", "<match **>\n  @type rewrite_tag_filter\n  <rule>\n    key a\n    pattern /(x/\n    tag y\n  </rule>\n</match>\n")
cfgerr("grep-no-key", filt("grep", "<regexp>\n  pattern /x/\n</regexp>") + fileout())
cfgerr("format-csv-no-fields", fileout(fmt="@type csv"))
cfgerr("single-quoted-escape", fileout(extra="path_suffix '.l\\og'"))
cfgerr("array-json", filt("record_transformer", "remove_keys [\"a\", \"b\"]") + fileout())
cfgerr("hash-json-bad", filt("parser", "key_name m\n<parse>\n  @type json\n  types {\"a\": \n</parse>") + fileout())
cfgerr("copy-no-store", "<match **>\n  @type copy\n</match>\n")
cfgerr("relabel-no-label", "<match **>\n  @type relabel\n</match>\n")
cfgerr("inject-bad-time-type", fileout(inject="time_key t\ntime_type century"))
cfgerr("buffer-bad-type", fileout().replace("@type memory", "@type nosuchbuffer"))
cfgerr("buffer-tag-path-mismatch", fileconf("path {DIR}/out/${tag}\n<buffer []>\n  @type memory\n</buffer>"))
cfgerr("time-zone-invalid", fileout(inject="time_key t\ntime_type string\ntimezone Mars/Base"))
# Fluentd's Timezone.validate! takes [+-]HH[:MM] or a Region/Zone name: `UTC` alone is refused
# in a buffer's timekey_zone, a <parse> and a <format>, and taken by <inject>.
cfgerr("timekey-zone-utc-name", fileconf("path {DIR}/out/x.%Y%m%d\n<buffer time>\n  @type memory\n  timekey 1d\n  timekey_zone UTC\n</buffer>"))
cfgerr("timekey-zone-etc-utc", fileconf("path {DIR}/out/x.%Y%m%d\n<buffer time>\n  @type memory\n  timekey 1d\n  timekey_zone Etc/UTC\n</buffer>"))
cfgerr("timekey-zone-gmt", fileconf("path {DIR}/out/x.%Y%m%d\n<buffer time>\n  @type memory\n  timekey 1d\n  timekey_zone GMT\n</buffer>"))
cfgerr("parse-timezone-utc-name", filt("parser", "key_name m\n<parse>\n  @type json\n  timezone UTC\n</parse>") + fileout())
cfgerr("format-timezone-utc-name", fileout(fmt="@type out_file\ntimezone UTC"))
cfgerr("inject-timezone-utc-name", fileout(inject="time_key t\ntime_type string\ntimezone UTC"))
cfgerr("system-section", "<system>\n  log_level info\n</system>\n" + fileout())
cfgerr("comment-and-blank", "# a comment\n\n" + fileout() + "# trailing\n")

# Runtime config syntax: values as the parser reads them.
case("syntax-double-quoted", filt("record_transformer", "<record>\n  a \"x\\ty\\nz\\\\w\\\"q\"\n  b 'single \\n kept'\n  c plain value  \n  d \"\"\n</record>") + fileout(fmt="@type json"), [msg({"i": 1})])
case("syntax-multiline-array", filt("record_transformer", "remove_keys [\"a\",\n  \"b\"]") + fileout(fmt="@type json"), [msg({"a": 1, "b": 2, "c": 3})])
case("syntax-hash-comment", filt("record_transformer", "<record>\n  a x # not a comment?\n  b \"y\" # comment\n</record>") + fileout(fmt="@type json"), [msg({"i": 1})])
case("syntax-unicode-value", filt("record_transformer", "<record>\n  a 日本\n</record>") + fileout(fmt="@type json"), [msg({"i": 1})])

# --- corners hunted for issue #13 ---------------------------------------------------------------
# record_transformer (enable_ruby false): placeholder forms, typecasting, renew/keep/remove keys.
R2 = {"a": 1, "f": 1.5, "b": True, "n": None, "arr": [10, "x", None], "m": {"k": {"z": "deep"}, "l": [1, 2]}, "s": "str"}
rt("tag-negative-index", "<record>\n  l ${tag_parts[-1]}\n  l2 ${tag_parts[-2]}\n  far ${tag_parts[-9]}\n</record>", [R2])
rt("tag-prefix-suffix-2", "<record>\n  p1 ${tag_prefix[1]}\n  p2 ${tag_prefix[2]}\n  s0 ${tag_suffix[0]}\n  s2 ${tag_suffix[2]}\n  pm ${tag_prefix[-1]}\n  sm ${tag_suffix[-1]}\n</record>", [R2])
rt("record-deep-missing", "<record>\n  a ${record[\"m\"][\"nope\"][\"x\"]}\n  b ${record[\"m\"][\"l\"][1]}\n  c ${record[\"arr\"][0]}\n  d x${record[\"m\"][\"k\"]}y\n</record>", [R2])
rt("time-auto-typecast", "auto_typecast true\n<record>\n  t ${time}\n  tt at ${time}\n</record>", [R2])
rt("auto-typecast-kinds", "auto_typecast true\n<record>\n  f ${record[\"f\"]}\n  b ${record[\"b\"]}\n  arr ${record[\"arr\"]}\n  m ${record[\"m\"]}\n  two ${record[\"a\"]}${record[\"a\"]}\n  t ${tag}\n</record>", [R2])
rt("no-typecast-kinds", "<record>\n  f ${record[\"f\"]}\n  b ${record[\"b\"]}\n  arr ${record[\"arr\"]}\n  in x${record[\"arr\"]}\n  fl x${record[\"f\"]}\n</record>", [R2, {"f": 1e20, "b": False, "arr": {}}])
rt("remove-keys-nested", "remove_keys $.m.k,a", [R2])
rt("remove-keys-missing", "remove_keys nope,$.x.y,s", [R2])
rt("keep-keys-nested", "renew_record true\nkeep_keys $.m.k,a", [R2])
rt("keep-keys-no-renew", "keep_keys a", [R2])
rt("renew-record-keep-and-record", "renew_record true\nkeep_keys s,nope\n<record>\n  t ${tag}\n  s over\n</record>", [R2])
rt("renew-time-key-kinds", "renew_time_key t\n<record>\n  seen ${time}\n</record>", [{"t": 1600000000.5}, {"t": "1600000001"}, {"t": "x"}, {"t": None}, {"u": 1}])
rt("remove-then-record", "remove_keys a\n<record>\n  a2 ${record[\"a\"]}\n</record>", [R2])
rt("record-key-placeholder", "<record>\n  k_${record[\"s\"]} v\n  ${tag_parts[0]}_x ${tag_parts[1]}\n</record>", [R2])
rt("record-single-quotes", "<record>\n  q ${record['s']}\n  r ${record[\"s\"]}\n</record>", [R2])

# grep on nested keys and values that are not strings (Fluentd matches their to_s).
G2 = [{"a": {"k": 12}}, {"a": {"k": None}}, {"a": {"k": [1, None, "x"]}}, {"a": {"k": {"z": 1}}}, {"a": {"k": 1e20}},
      {"a": {"k": True}}, {"a": {"k": 1.0}}, {"a": 5}, {"b": 1}, {"a": {"k": "12"}}]
grep("nested-int", "<regexp>\n  key $.a.k\n  pattern /^12$/\n</regexp>", G2)
grep("nested-array-to-s", "<regexp>\n  key $.a.k\n  pattern /^\\[1, nil, \"x\"\\]$/\n</regexp>", G2)
grep("nested-hash-to-s", "<regexp>\n  key $.a.k\n  pattern /^\\{\"z\"=>1\\}$/\n</regexp>", G2)
grep("nested-float-to-s", "<or>\n  <regexp>\n    key $.a.k\n    pattern /^1\\.0e\\+20$/\n  </regexp>\n  <regexp>\n    key $.a.k\n    pattern /^1\\.0$/\n  </regexp>\n</or>", G2)
grep("nested-exclude-nil", "<exclude>\n  key $.a.k\n  pattern /^$/\n</exclude>", G2)
grep("nested-and-exclude", "<and>\n  <exclude>\n    key $.a.k\n    pattern /1/\n  </exclude>\n  <exclude>\n    key a\n    pattern /5/\n  </exclude>\n</and>", G2)
grep("nested-array-index", "<regexp>\n  key $.a.k[2]\n  pattern /x/\n</regexp>", G2)
grep("bracket-key", "<regexp>\n  key $['a']['k']\n  pattern /^true$/\n</regexp>", G2)
grep("top-hash-to-s", "<regexp>\n  key a\n  pattern /\"k\"=>nil/\n</regexp>", G2)

# filter_parser options together.
parser_case("json-hash-value-field-no-reserve", "@type json", ['{"a":1}', 'bad'], extra="hash_value_field parsed\n")
parser_case("json-hash-value-field-prefix", "@type json", ['{"a":1}'], extra="hash_value_field parsed\ninject_key_prefix p_\nreserve_data true\n")
parser_case("json-remove-key-name-invalid", "@type json", ['bad'], extra="reserve_data true\nremove_key_name_field true\n")
parser_case("json-remove-key-name-no-reserve", "@type json", ['{"a":1}'], extra="remove_key_name_field true\n")
parser_case("json-invalid-reserve-no-error", "@type json", ['bad'], extra="reserve_data true\nemit_invalid_record_to_error false\n")
parser_case("regexp-replace-invalid-split", "@type regexp\nexpression /^(?<a>\\w+) (?<b>.*)$/", [{"$str_hex": "6869206aff6b"}], extra="replace_invalid_sequence true\n")
parser_case("json-reserve-time-overwrite", "@type json\ntime_key ts\nkeep_time_key true", ['{"ts":"2020-01-02 03:04:05 +0000","other":"p"}'], extra="reserve_data true\nreserve_time true\n")

# out_file formatter options.
case("format-outfile-tab", fileout(fmt="@type out_file\ndelimiter TAB"), [msg({"a": 1})])
case("format-outfile-comma-no-tag", fileout(fmt="@type out_file\ndelimiter COMMA\noutput_tag false\noutput_time true"), [msg({"a": 1})])
case("format-outfile-nothing", fileout(fmt="@type out_file\noutput_tag false\noutput_time false"), [msg({"a": {"b": [1]}})])
case("format-outfile-literal-delimiter", fileout(fmt="@type out_file\ndelimiter |"), [msg({"a": 1})])
for tt in ["unixtime", "float"]:
    case("format-outfile-time-type-" + tt, fileout(fmt="@type out_file\ntime_type %s" % tt), [msg({"a": 1}, time=ET)])
case("format-outfile-utc-format", fileout(fmt="@type out_file\nutc true\ntime_format %Y %H %z"), [msg({"a": 1}, time=ET)])
case("format-single-value-no-newline-nested", fileout(fmt="@type single_value\nadd_newline false\nmessage_key m"),
     [msg({"m": {"a": 1}}), msg({"m": [1, "x"]}), msg({"m": None}), msg({"m": 5})])
case("format-json-inject-float", fileout(fmt="@type json", inject="time_key t\ntime_type float\ntag_key g"), [msg({"a": 1}, time=ET)])
case("format-json-inject-localtime", fileout(fmt="@type json", inject="time_key t\ntime_type string\nlocaltime true\ntime_format %FT%T%z"), [msg({"a": 1}, time=ET)])
case("format-json-inject-unixtime-format", fileout(fmt="@type json", inject="time_key t\ntime_type unixtime\ntime_format %Y"), [msg({"a": 1}, time=ET)])
case("format-outfile-time-type-float-short-nsec", fileout(fmt="@type out_file\ntime_type float"),
     [msg({"i": 1}, time=T0), msg({"i": 2}, time={"$et": [T0, 0]}), msg({"i": 3}, time={"$et": [T0, 5000000]}),
      msg({"i": 4}, time={"$et": [T0, 999999999]}), msg({"i": 5}, time=T0 + 0.5)])
case("format-outfile-time-type-mixed", fileout(fmt="@type out_file\ntime_type mixed\ntime_format %Y"), [msg({"a": 1}, time=ET)])
cfgerr("format-outfile-time-type-mixed-no-format", fileout(fmt="@type out_file\ntime_type mixed"))
case("format-outfile-time-type-mixed-fallbacks", fileout(fmt="@type out_file\ntime_type mixed\ntime_format_fallbacks %Y"), [msg({"a": 1}, time=ET)])
cfgerr("format-outfile-time-type-bad", fileout(fmt="@type out_file\ntime_type century"))
case("format-outfile-delimiter-mixed-case", fileout(fmt="@type out_file\ndelimiter Comma"), [msg({"a": 1})])
case("format-outfile-delimiter-contains", fileout(fmt="@type out_file\ndelimiter myspace"), [msg({"a": 1})])
case("format-stdout-timezone", fileout(fmt="@type stdout\ntimezone +09:00"), [msg({"a": 1}, time=ET)])
case("format-stdout-utc-time-type", fileout(fmt="@type stdout\nutc true\ntime_type unixtime\ntime_format %H %z"), [msg({"a": 1}, time=ET)])
for ot in ["json", "hash", "ltsv", "single_value"]:
    case("format-stdout-output-type-" + ot, fileout(fmt="@type stdout\noutput_type " + ot),
         [msg({"message": "m", "n": {"a": [1, None, "x"], "f": 1.5}}, time=ET)])

# Parser value types (`types`), as regexp/ltsv users write them.
parser_case("regexp-types-edge", "@type ltsv\ntypes i:integer,f:float,b:bool,t:time:%Y-%m-%d,a:array:|,s:string,d:time",
            ["i:12abc\tf:1e3\tb:yes\tt:2020-01-02\ta:x|y||z\ts:5\td:2020-01-02 03:04:05 +0900",
             "i: 12\tf:abc\tb:TRUE\tt:nope\ta:\ts:\td:x",
             "i:0x1A\tf:.5\tb:1\tt:2020-13-45\ta:one",
             "i:-0\tf:1_000.5\tb:true\tt:\ta:a,b",
             "i:1e3\tf:-1.5e-3\tb:false\ti2:9"])
parser_case("json-types-string-of-containers", "@type json\ntypes m:string,a:string,f:string,n:string", ['{"m":{"k":[1,null]},"a":[1.5,"x"],"f":1e20,"n":1.0}'])
parser_case("json-types-time-fraction", "@type json\ntypes d:time:%Y-%m-%d %H:%M:%S.%N %z", ['{"d":"2020-01-02 03:04:05.5 +0900"}', '{"d":"2020-01-02 03:04:05.0 +0900"}'])
parser_case("regexp-types-array-default", "@type ltsv\ntypes a:array", ["a:x,y,,z", "a:"])
parser_case("json-types-non-string", "@type json\ntypes i:integer,f:float,b:bool,a:array,s:string",
            ['{"i":1.9,"f":2,"b":1,"a":[1,2],"s":null}', '{"i":true,"f":"x","b":"yes","a":"p,q","s":[1]}', '{"i":null,"f":null,"b":null,"a":null}'])
parser_case("ltsv-null-patterns", "@type ltsv\nnull_value_pattern ^(-|null)$\nnull_empty_string true", ["a:-\tb:\tc:null\td:x"])
parser_case("json-time-mixed", "@type json\ntime_key ts\ntime_type mixed\ntime_format %Y-%m-%d %H:%M:%S\ntime_format_fallbacks unixtime",
            ['{"ts":"2020-01-02 03:04:05"}', '{"ts":"1600000000"}', '{"ts":"zzz"}'])
parser_case("json-estimate-off", "@type json\ntime_key ts\nestimate_current_event false", ['{"a":1}'])
# inject time types of 1.16 beyond float/unixtime/string.
for tt in ["unixtime_millis", "unixtime_micros", "unixtime_nanos"]:
    case("inject-time-type-%s" % tt.replace("_", "-"), fileout(fmt="@type json", inject="time_key t\ntime_type %s" % tt), [msg({"a": 1}, time=ET)])
# record_transformer: more placeholder corners.
rt("remove-keys-bracket", "remove_keys $['m']['k'],$.arr[0]", [R2])
rt("auto-typecast-missing", "auto_typecast true\n<record>\n  x ${record[\"nope\"]}\n  y ${record[\"m\"][\"nope\"]}\n  z ${tag_parts[9]}\n</record>", [R2])
rt("placeholder-whitespace", "<record>\n  a ${ tag }\n  b ${record[ \"s\" ]}\n  c ${tag_parts[ 0 ]}\n</record>", [R2])
rt("record-int-key", "<record>\n  a ${record[\"arr\"][-1]}\n  b ${record[\"arr\"][5]}\n</record>", [R2])
rt("renew-record-no-record", "renew_record true", [R2])
rt("time-with-format-in-record", "<record>\n  t1 ${time}\n</record>\nrenew_time_key a", [{"a": 1600000000, "s": "x"}])

# Formatters' field lists with record_accessor syntax (csv takes it, single_value and tsv do not).
NESTED = [msg({"a": {"b": "x,y", "c": [1, None]}, "$.a.b": "literal", "m": "q\"r\nz"})]


def format_cases(frames, cases):
    """One out_file case a (name, <format> body) pair, all fed the same frames."""
    for name, fmt in cases:
        case("format-" + name, fileout(fmt=fmt), frames)


format_cases(NESTED, [
    ("csv-nested-fields", "@type csv\nfields $.a.b,$.a.c,m,$.nope.x"),
    ("csv-no-force-quotes-special", "@type csv\nfields m,a\nforce_quotes false"),
    ("single-value-accessor-key", "@type single_value\nmessage_key $.a.b"),
    ("tsv-accessor-key", "@type tsv\nkeys $.a.b,m"),
    ("csv-empty-field-name", "@type csv\nfields m,,$.a.b"),
    ("csv-delimiter-tab-word", "@type csv\nfields m,a\ndelimiter TAB"),
])

# csv without force_quotes, as Ruby's CSV quotes: an empty string is `""`, nil nothing; a UTF-8
# string that is not valid UTF-8 is never quoted, a binary one is (hunt-httpout-28008-3).
UNQUOTED = [msg({"k": v, "i": i}) for i, v in enumerate([
    "", None, {"$bin_hex": ""}, {"$bin_hex": "612c62"}, {"$str_hex": "612cff"}, {"$str_hex": "22ff"},
    {"$str_hex": "0aff"}, {"$bin_hex": "0aff"}, " x ", False, 0, {}, [], [""], {"a": ""}, "a,b", "q\"r"])]
format_cases(UNQUOTED, [
    ("csv-no-force-quotes-values", "@type csv\nfields k,i\nforce_quotes false"),
    ("csv-no-force-quotes-values-tab", "@type csv\nfields i,k,nope\nforce_quotes false\ndelimiter TAB"),
    ("csv-force-quotes-values", "@type csv\nfields k,nope"),
    ("csv-no-force-quotes-values-two-char-delimiter", "@type csv\nfields k,i\nforce_quotes false\ndelimiter ||"),
    ("csv-two-char-delimiter", "@type csv\nfields i,k\ndelimiter ;;"),
])
# A delimiter past ASCII: Ruby's CSV cannot write it into its binary buffer, and Fluentd sends
# every event to @ERROR (README "Differences from Fluentd").
case("format-csv-non-ascii-delimiter", fileout(fmt="@type csv\nfields k,i\nforce_quotes false\ndelimiter é") + ERR,
     [msg({"k": "a", "i": 1}), msg({"k": "xéy", "i": 2})])

# Line endings and separators in the remaining formatter options.
LT = [msg({"k:1": "a\tb:c", "t\tk": "x", "n": {"a": "b\tc"}}), msg({"k": "v"})]
format_cases(LT, [
    ("json-add-newline-false", "@type json\nadd_newline false"),
    ("hash-add-newline-false", "@type hash\nadd_newline false"),
    ("ltsv-replacement", "@type ltsv\nreplacement _"),
    ("ltsv-keys-with-delimiters", "@type ltsv"),
    ("outfile-crlf", "@type out_file\nnewline crlf"),
    ("single-value-crlf", "@type single_value\nmessage_key k\nnewline crlf"),
    ("tsv-add-newline-false", "@type tsv\nkeys k,n\nadd_newline false"),
])

# JSON text as Fluentd's json parser (yajl-ruby) reads it: numbers, surrogate escapes, comments,
# white space, and what it refuses.
parser_case("yajl-numbers", "@type json\njson_parser yajl", ['{"a":-0,"b":-0.0,"c":1e-400,"d":4.9e-324,"e":1E+2,"f":-9223372036854775808,"g":18446744073709551615}'])
parser_case("yajl-surrogates", "@type json\njson_parser yajl", ['{"a":"\\ud800xy","b":"\\ud800\\u00e9","c":"\\udbff\\udfff","d":"\\ud800","e":"\\ud800\\n","f":"\\ud83d\\ude00"}'])
parser_case("yajl-lone-low-surrogate", "@type json\njson_parser yajl", ['{"a":"\\udc00x","b":1}'])
parser_case("yajl-comments-and-space", "@type json\njson_parser yajl", ['{"a":1 /* c */}', '{"a":2} // c', '{\v"a":3}', '{\f"a":4,/**/"b"/**/:/**/5}'])
parser_case("yajl-refused", "@type json\njson_parser yajl", ['{"a":1}{"a":2}', '{"a":1}\n# c', '{"a":[1,]}', '{"a":1} /* open', '{"a":"\\ud800\\uzzzz"}'])
parser_case("yajl-infinity", "@type json\njson_parser yajl", ['{"a":1e400,"b":-1E999}'])
parser_case("yajl-cut-short", "@type json\njson_parser yajl", ['{"a":1,"b":2', '{"a":1,"m":{"c":1', '{"a":1} {"b":2', '{"a":1} tr', '[{"a":1},{"b":2'])
parser_case("yajl-cut-in-a-value", "@type json\njson_parser yajl", ['{"a":1,"b":"cut', '{"a":1,"b":[1,"x'])
parser_case("yajl-time-out-of-u32", "@type json\njson_parser yajl", ['{"time":-1,"a":1}', '{"time":-1.5,"a":2}', '{"time":4294967296,"a":3}'])
parser_case("csv-fast-extra-columns", "@type csv\nkeys a,b\nparser_engine fast", ['1,2,3', '1,2,3,', '1,2,"x,y",4', '1', 'a,b,c,d'])
parser_case("yajl-bignum", "@type json\njson_parser yajl", ['{"a":123456789012345678901234567890,"b":-9223372036854775809}'])

# An EventTime nested in a record (msgpack ext 0), as each formatter writes it: Ruby's inspect
# (`2023-11-14 22:13:20.000000005 +0000`) inside a map or array, its seconds (to_s) alone.
ETN = [msg({"a": {"$et": [1700000000, 5]}, "b": [{"$et": [1700000000, 500000000]}], "c": {"t": {"$et": [0, 0]}}})]
format_cases(ETN, [
    ("event-time-nested-hash", "@type hash"),
    ("event-time-nested-ltsv", "@type ltsv"),
    ("event-time-nested-tsv", "@type tsv\nkeys a,b,c"),
    ("event-time-nested-csv", "@type csv\nfields a,b,c"),
    ("event-time-nested-single-value", "@type single_value\nmessage_key b"),
    ("event-time-whole-seconds-json", "@type json"),
])
# msgpack packs an EventTime in a record by `EventTime#to_msgpack`: its whole seconds, an integer.
# One with a fraction is kept as an EventTime by logferry (Fluentd drops the fraction: DIFFERS).
format_cases([msg({"a": {"$et": [1700000000, 0]}, "b": [{"$et": [1700000001, 0]}], "c": {"t": {"$et": [0, 0]}}, "d": "\u00e9"}),
              msg({"x": 1, "t": {"$et": [1700000002, 0]}})], [
    ("event-time-whole-seconds-msgpack", "@type msgpack"),
])
format_cases(ETN, [("event-time-fraction-msgpack", "@type msgpack")])

# Record keys that are not strings (nil, array, map, float, true, integer), as a forward client
# may send them: the formatters write Ruby's `to_s` of the key (yajl's `key.to_s`).
NSK = [dict(mode="raw", hex="93a174ce6553f10087c0019201c00281a161c003cb3ff800000000000004c3050a06a17382a16bc001a178")]
format_cases(NSK, [
    ("non-string-keys-json", "@type json"),
    ("non-string-keys-ltsv", "@type ltsv"),
    ("non-string-keys-hash", "@type hash"),
    ("non-string-keys-out-file", None),
])

# out_file path placeholders as Fluentd's extract_placeholders replaces them, and the checks its
# placeholder_validate! makes at start-up.
case("file-path-tag-index-out-of-range", fileconf("path {DIR}/out/${tag[0]}-${tag[9]}-${tag[-9]}-x\nappend true\n<buffer tag>\n  @type memory\n</buffer>"), [msg({"a": 1}, tag="p.q")])
case("file-path-chunk-id-twice", fileconf("path {DIR}/out/${chunk_id}-${chunk_id}\nappend true\nadd_path_suffix false\n<buffer []>\n  @type memory\n</buffer>"), [msg({"a": 1})])
case("file-path-unknown-placeholder-with-keys", fileconf("path {DIR}/out/${k}-${nope}-${chunk_id}-${chunk_id}-${a b}\nappend true\nadd_path_suffix false\n<buffer k>\n  @type memory\n</buffer>"), [msg({"k": "v"})])
case("file-path-value-starting-with-dots", fileconf("path {DIR}/out/${k}-f\nappend true\n<buffer k>\n  @type memory\n</buffer>"), [msg({"k": ".."}), msg({"k": "..x"})])
cfgerr("file-path-tag-key-without-placeholder", fileconf("path {DIR}/out/f\n<buffer tag>\n  @type memory\n</buffer>"))
cfgerr("file-path-record-key-without-placeholder", fileconf("path {DIR}/out/f\n<buffer k>\n  @type memory\n</buffer>"))
cfgerr("file-path-accessor-key-spelled-short", fileconf("path {DIR}/out/${m.k}\n<buffer $.m.k>\n  @type memory\n</buffer>"))
cfgerr("file-path-placeholder-not-a-chunk-key", fileconf("path {DIR}/out/${k}-${j}\n<buffer k>\n  @type memory\n</buffer>"))
cfgerr("file-path-time-placeholder-without-time-key", fileconf("path {DIR}/out/%d-${tag}\n<buffer tag>\n  @type memory\n</buffer>"))
cfgerr("file-path-timekey-finer-than-path", fileconf("path {DIR}/out/%Y%m%d\n<buffer time>\n  @type memory\n  timekey 60\n</buffer>"))
case("file-no-append-chunk-order", fileconf("path {DIR}/out/${tag[0]}\n<buffer tag>\n  @type memory\n</buffer>"),
     [msg({"n": 1}, tag="h.a"), msg({"n": 2}, tag="h.x"), msg({"n": 3}, tag="h.b.c"), msg({"n": 4}, tag="h.x"), msg({"n": 5}, tag="h.0")])
case("file-path-accessor-key", fileconf("path {DIR}/out/${$.m.k}\nappend true\n<buffer $.m.k>\n  @type memory\n</buffer>"), [msg({"m": {"k": "v"}}), msg({"m": {}})])

# <inject> keys given twice keep their first place and the last value (Fluentd assigns hostname,
# worker id, tag, then time into the record's Hash).
for name, fmt in [("json", "@type json"), ("ltsv", "@type ltsv")]:
    case("inject-same-key-twice-" + name, fileout(fmt=fmt, inject="hostname_key a\nhostname h.example\nworker_id_key a\ntag_key b\ntime_key a\ntime_type unixtime"),
         [msg({"b": "old", "z": 1}), msg({})])
# An epoch count (`%s`) read with a configured zone is moved by Fluentd's TimeParser as it moves
# every time read so (`t.utc_offset - utc_offset`): `timezone +09:00` makes it 9 hours early;
# logferry keeps the instant read (README "Differences from Fluentd"); with `%z` in the format,
# or local time, neither moves it (found by hunt ptime).
for i, (name, opts) in enumerate([("timezone", "time_format %s\ntimezone +09:00"), ("named-zone", "time_format %s.%N\ntimezone Asia/Tokyo"),
                                  ("utc", "time_format %s\nutc true"), ("local", "time_format %s"), ("with-z", "time_format %s %z\ntimezone -03:30"),
                                  ("mixed", "time_type mixed\ntime_format %Y-%m-%d\ntime_format_fallbacks %s\ntimezone America/New_York")]):
    case("parser-epoch-zone-" + name,
         filt("parser", "key_name message\nreserve_data true\n<parse>\n  @type regexp\n  expression /^(?<t>.*)$/\n  time_key t\n%s</parse>" % indent(opts, 2))
         + fileout(inject="time_key et\ntime_type string\ntime_format %Y-%m-%dT%H:%M:%S.%N%z\nutc true") + ERR,
         [msg({"message": v}) for v in ["1700000000", "1700000000.5", "1710054000 +0100", "86400", "1699999999"]])

# copy_mode no_copy and shallow share the records' nested maps between stores, so what a store's
# filters take out of a nested map (record_transformer's remove_keys $.m.k) is gone from the
# stores after it in Fluentd; deep and marshal copy them (README "Differences from Fluentd";
# found by hunt copymode).
for mode in ["no_copy", "shallow", "deep"]:
    case("route-copy-mode-nested-removal-" + mode.replace("_", "-"),
         "<match t>\n  @type copy\n  copy_mode %s\n  <store>\n    @type relabel\n    @label @A\n  </store>\n  <store>\n    @type relabel\n    @label @B\n  </store>\n</match>\n" % mode
         + label("@A", filt("record_transformer", "remove_keys $.m.k") + fileout(name="a"))
         + label("@B", filt("record_transformer", "<record>\n  top b\n</record>") + fileout(name="b")),
         [msg({"m": {"k": 1, "j": 2}, "n": 1}), msg({"m": {"k": [1], "j": 3}, "n": 2})])


# Config literals as Fluentd's v1 scanner reads them (found by hunt conf): a double-quoted value
# may break its line only after a character on it (taken with the line end; a backslash before
# it continues the line); a line end right after the opening quote or after one taken, and the
# `\n` of a CRLF line end, are "unexpected end of file in a double quoted string". A
# single-quoted value ends on its line.
case("syntax-double-quoted-line-breaks",
     filt("record_transformer", "<record>\n  a \"x\ny\"\n  b \"x\\\n   y\"\n  c \"x\n\n\ny\"\n  d \"#\nz\"\n</record>") + fileout(fmt="@type json"),
     [msg({"i": 1})])
cfgerr("double-quoted-blank-line", filt("record_transformer", "<record>\n  a \"x\n\ny\"\n</record>") + fileout())
cfgerr("double-quoted-break-after-quote", filt("record_transformer", "<record>\n  a \"\nx\"\n</record>") + fileout())
case("config-double-quoted-crlf-break", (SRC + filt("record_transformer", "<record>\n  a \"x\ny\"\n</record>") + fileout() + TAIL).replace("\n", "\r\n"), raw_conf=True)
case("syntax-crlf-lines", (SRC + filt("record_transformer", "<record>\n  a plain # c\n  b \"q\"\n  c 'r'\n  d [1, 2]\n</record>") + fileout(fmt="@type json") + TAIL).replace("\n", "\r\n"),
     [msg({"i": 1})], raw_conf=True)
cfgerr("single-quoted-line-break", filt("record_transformer", "<record>\n  a 'x\ny'\n</record>") + fileout())
# Fluentd's `:regexp` type (Config.regexp_value): more than two characters after the last `/`
# is "missing right slash"; with one slash only (`/ab`) the body is empty and matches every
# record; flags other than i and m are dropped.
cfgerr("regexp-missing-right-slash", filt("grep", "<regexp>\n  key a\n  pattern /a/abcd\n</regexp>") + fileout())
cfgerr("regexp-missing-right-slash-short", filt("grep", "<regexp>\n  key a\n  pattern /abcd\n</regexp>") + fileout())
cfgerr("regexp-three-flags", filt("grep", "<regexp>\n  key a\n  pattern /a/imx\n</regexp>") + fileout())
cfgerr("regexp-two-flags-ok", filt("grep", "<regexp>\n  key a\n  pattern /a/mx\n</regexp>") + fileout())
cfgerr("rtf-regexp-missing-right-slash", "<match **>\n  @type rewrite_tag_filter\n  <rule>\n    key a\n    pattern /x/yyyy\n    tag z\n  </rule>\n</match>\n")
cfgerr("null-value-pattern-missing-right-slash", filt("parser", "key_name m\n<parse>\n  @type json\n  null_value_pattern /-/xxxx\n</parse>") + fileout())
grep("slash-without-end", "<exclude>\n  key a\n  pattern /ab\n</exclude>", [{"a": "ab"}, {"a": "zz"}, {"b": 1}])
grep("slash-without-end-regexp", "<regexp>\n  key a\n  pattern /zz\n</regexp>", [{"a": "ab"}, {"a": "zz"}, {"a": ""}])
grep("flags-x-dropped", "<regexp>\n  key a\n  pattern /a b/x\n</regexp>", [{"a": "a b"}, {"a": "ab"}])
# remove_keys items are record accessors: Fluentd refuses one that is not a string.
cfgerr("remove-keys-json-number", filt("record_transformer", "remove_keys [\"a\", 1]") + fileout())
cfgerr("remove-keys-json-nested-array", filt("record_transformer", "remove_keys [[\"a\"]]") + fileout())
case("rt-remove-keys-json-strings", filt("record_transformer", "remove_keys [\"a\",\n  \"$.m.k\"]") + fileout(fmt="@type json"), [msg({"a": 1, "m": {"k": 2, "j": 3}, "b": 4})])
# Fluentd configures every <label> but @ERROR first, then @ERROR: a plugin inside another label
# that names @ERROR fails its start-up ("@ERROR label not found"); from the top level or from
# @ERROR itself it may (found by hunt err).
ERRL = label("@ERROR", fileout("error"))
cfgerr("relabel-to-error-inside-label", SRC.replace("</source>", "  @label @L\n</source>") + label("@L", "<match **>\n  @type relabel\n  @label @ERROR\n</match>\n") + ERRL)
cfgerr("copy-relabel-to-error-inside-label", SRC.replace("</source>", "  @label @L\n</source>") + label("@L", "<match **>\n  @type copy\n  <store>\n    @type relabel\n    @label @ERROR\n  </store>\n</match>\n") + ERRL)
cfgerr("rtf-to-error-inside-label", SRC.replace("</source>", "  @label @L\n</source>") + label("@L", "<match **>\n  @type rewrite_tag_filter\n  @label @ERROR\n  <rule>\n    key a\n    pattern /./\n    tag x\n  </rule>\n</match>\n") + ERRL)
# A rewrite_tag_filter rule's `label` is looked up when events flow: @ERROR from inside a label
# is fine there.
case("route-rtf-rule-label-error-inside-label", SRC.replace("</source>", "  @label @L\n</source>") + label("@L", "<match **>\n  @type rewrite_tag_filter\n  <rule>\n    key a\n    pattern /./\n    tag x\n    label @ERROR\n  </rule>\n</match>\n") + ERRL, [msg({"a": 1})], raw_conf=True)
case("route-relabel-to-error-from-root", "<match **>\n  @type relabel\n  @label @ERROR\n</match>\n" + ERRL, [msg({"a": 1})])
case("route-relabel-to-error-after-label", label("@L", fileout("l")) + "<match **>\n  @type relabel\n  @label @ERROR\n</match>\n" + ERRL, [msg({"a": 1})])
# `"#{use_nil}"` on a parameter with a default: Fluentd refuses it ("parameter is required but
# nil is specified"), logferry uses the default (README "Differences from Fluentd").
cfgerr("use-nil-with-default", filt("parser", "key_name m\nreserve_data \"#{use_nil}\"\n<parse>\n  @type json\n</parse>") + fileout())
# tsv with `delimiter ' '` is Ruby's awk-style split with a limit (the number of keys): leading
# blanks skipped, runs of blanks one separator, and the rest after the last run the last field,
# even empty (`" "` gives a = "", found by hunt mfmt).
parser_case("tsv-space-delimiter", "@type tsv\nkeys a,b,c\ndelimiter ' '", [" ", "a  b ", "  a b c d", "\t", "a\tb", " a", "a b  ", "a\u3000b c"])
parser_case("ltsv-space-delimiter", "@type ltsv\ndelimiter ' '", [" a:1  b:2 ", "a:1 ", " ", "a:1\tb:2"])
# `array` with an empty delimiter (`types a:array:`): Fluentd splits the bytes of a multi-byte
# character apart (invalid UTF-8 written), logferry splits characters (README "Differences").
parser_case("types-array-empty-delimiter", "@type json\ntypes a:array:", ['{"a":"xé"}'])
# concat's n_lines of 0 or less (`0x2` is Ruby's 0): the plugin takes it, and every line is
# written alone (found by hunt conf).
for n, v in [("zero", "0"), ("hex", "0x2"), ("negative", "-3")]:
    case("concat-n-lines-" + n, filt("concat", "key log\nn_lines " + v) + fileout(fmt="@type json") + ERR,
         [msg({"log": "l%d" % i}) for i in range(3)])
# A record accessor's array index is read by Ruby's Integer(): `1_0`, `0x1`, ` 1 `, `017` (octal)
# (found by hunt racc).
for n, idx in [("underscore", "0_1"), ("hex", "0x1"), ("spaced", " 1 "), ("octal", "01"), ("plus", "+1")]:
    case("accessor-index-" + n, filt("grep", "<regexp>\n  key $.a[%s]\n  pattern /y/\n</regexp>" % idx) + fileout(fmt="@type json") + ERR,
         [msg({"a": ["x", "y"], "i": 1}), msg({"a": ["y", "x"], "i": 2})])
cfgerr("accessor-index-octal-bad", filt("grep", "<regexp>\n  key $.a[08]\n  pattern /y/\n</regexp>") + fileout())
# Found by hunt sect: chunk keys are Fluentd's array type (an empty key before the last is refused:
# "chunk_keys specification includes invalid char"); a <secondary> of type null takes the
# chunks; an output that emits nothing (out_file) does not read its `@label`, so a label that
# does not exist is no error there (it is for relabel).
cfgerr("buffer-chunk-key-empty-first", fileconf("path {DIR}/out/${tag}\n<buffer ,tag>\n  @type memory\n</buffer>"))
cfgerr("buffer-chunk-key-empty-middle", fileconf("path {DIR}/out/${tag}.%Y\n<buffer tag,,time>\n  @type memory\n  timekey 1d\n</buffer>"))
case("file-chunk-keys-trailing-comma", fileconf("path {DIR}/out/${tag}\nappend true\n<buffer tag,>\n  @type memory\n</buffer>"), [msg({"a": 1}, tag="p")])
cfgerr("secondary-null", fileconf("path {DIR}/out/x\n<buffer []>\n  @type memory\n</buffer>\n<secondary>\n  @type null\n</secondary>"))
case("file-label-not-read", fileconf("path {DIR}/out/x\nappend true\n@label @NOPE\n<buffer []>\n  @type memory\n</buffer>"), [msg({"a": 1})])
# A flat v0.12 `format` beside a <format> section is not read (Fluentd converts it only without
# the section; found by hunt sect).
case("file-format-param-and-section", fileconf("path {DIR}/out/x\nappend true\nformat ltsv\n<format>\n  @type json\n</format>\n<buffer []>\n  @type memory\n</buffer>"), [msg({"a": 1})])
# A record larger than chunk_limit_size: Fluentd sends it to @ERROR (BufferChunkOverflowError),
# logferry keeps it in a chunk of its own (README "Differences from Fluentd").
case("buffer-record-over-chunk-limit", fileout(extra="").replace("@type memory", "@type memory\n    chunk_limit_size 20") + ERR,
     [msg({"a": "short"}), msg({"a": "a longer value than twenty bytes"})])

# in_forward's <security> handshake and keepalive options: fwdsec_cases.py.
import fwdsec_cases  # noqa: E402

fwdsec_cases.add(case)


# --- hunt22: stdout's chomp, <worker> arguments, <system>, <buffer> options ------------------
# The stdout formatter writes `<time> <tag>: ` and its output_type's text after one Ruby `chomp`
# (one `\r\n`, `\n` or `\r` off the end, no more), then a newline.
LINE_ENDS = ["x\r\n", "x\n", "x\r", "x\n\n", "x\r\r", "x\n\r", "x\r\n\r\n", "", "\n", "\r", "x"]
for n, fmt in [("ltsv", "output_type ltsv"), ("ltsv-no-newline", "output_type ltsv\nadd_newline false"),
               ("single-value", "output_type single_value"), ("tsv", "output_type tsv\nkeys a,message")]:
    case("format-stdout-line-end-" + n, fileout(fmt="@type stdout\n" + fmt), [msg({"a": 1, "message": v}) for v in LINE_ENDS])
case("format-stdout-line-end-msgpack", fileout(fmt="@type stdout\noutput_type msgpack"),
     [msg({"message": v}) for v in [10, 13, 3338, "\r\n", "x\r\n", "x\n\n", 1]])
# <worker> arguments as Fluentd reads them: split at "-" (trailing empty parts dropped), two parts
# a range, else one id, each by Ruby's to_i; only N-M sections claim their ids.
WSRC = "<source>\n  @type sample\n  tag w\n</source>\n"


def workers_conf(sections, n=2):
    return "<system>\n  workers %d\n</system>\n" % n + "".join(
        "<worker %s>\n%s</worker>\n" % (arg, indent(WSRC)) for arg in sections) + fileout()


for n, arg in [("letter", "a"), ("trailing-dash", "1-"), ("leading-dash", "-1"), ("three-parts", "0-1-2"),
               ("plus", "+1"), ("spaced-range", "0 - 1"), ("underscore-out-of-range", "1_0"),
               ("negative-first", "-1-2"), ("reversed", "1-0"), ("hex", "0x1")]:
    cfgerr("worker-arg-" + n, workers_conf([arg]))
cfgerr("worker-plain-twice", workers_conf(["0", "0"]))
cfgerr("worker-range-then-plain", workers_conf(["0-1", "1"]))
cfgerr("worker-plain-then-range", workers_conf(["1", "0-1"]))
cfgerr("worker-ranges-overlap", workers_conf(["0-1", "1-1"]))
# Events of a <worker> section's source: through the top-level <match> (Fluentd runs it in every
# worker), or through the section's own when the section covers every worker.
case("worker-section-source-top-match", "<system>\n  workers 2\n</system>\n<worker 1->\n%s</worker>\n" % indent(SRC)
     + fileout("w", inject="tag_key tg") + TAIL, [msg({"a": 1}), msg({"a": 2}, tag="u.v")], raw_conf=True)
case("worker-section-own-match", "<system>\n  workers 2\n</system>\n<worker 0-1>\n%s</worker>\n" % indent(SRC + fileout("w", pattern="t.**", inject="tag_key tg"))
     + TAIL, [msg({"a": 1}, tag="t.a"), msg({"a": 2}, tag="u"), msg({"a": 3}, tag="t.b")], raw_conf=True)
# <system> is read leniently unless strict_config_value: a bool that is not one is nil (false).
SYSOK = fileout()
cfgerr("system-bool-not-strict", "<system>\n  without_source maybe\n  enable_input_metrics x\n</system>\n" + SYSOK)
cfgerr("system-bool-strict", "<system>\n  strict_config_value true\n  without_source maybe\n</system>\n" + SYSOK)
cfgerr("system-strict-not-bool", "<system>\n  strict_config_value x\n  without_source maybe\n</system>\n" + SYSOK)
cfgerr("system-workers-not-integer", "<system>\n  workers 2x\n</system>\n" + SYSOK)
cfgerr("system-strict-workers-not-integer", "<system>\n  strict_config_value true\n  workers 2x\n</system>\n" + SYSOK)
cfgerr("system-enable-jit-not-bool", "<system>\n  enable_jit x\n</system>\n" + SYSOK)
cfgerr("system-root-dir-empty", "<system>\n  root_dir ''\n</system>\n" + SYSOK)
cfgerr("system-log-rotate-age-daily", "<system>\n  <log>\n    rotate_age daily\n    rotate_size 1m\n  </log>\n</system>\n" + SYSOK)
cfgerr("system-log-rotate-age-number", "<system>\n  <log>\n    rotate_age 0x5\n  </log>\n</system>\n" + SYSOK)
cfgerr("system-log-rotate-age-bad", "<system>\n  <log>\n    rotate_age Daily\n  </log>\n</system>\n" + SYSOK)
cfgerr("system-log-rotate-size-not-size", "<system>\n  <log>\n    rotate_size x\n  </log>\n</system>\n" + SYSOK)
# without_source: Fluentd does not even configure the <source> sections.
cfgerr("system-without-source-bad-source", "<system>\n  without_source true\n</system>\n<source>\n  @type forward\n  @log_level bogus\n  port notaport\n</source>\n" + fileout())
cfgerr("system-unused-options", "<system>\n  suppress_repeated_stacktrace maybe\n  ignore_repeated_log_interval x\n  process_name lf\n  file_permission rw\n</system>\n" + SYSOK)
# A plugin's @log_level is downcased (Fluentd's Log.str_to_level); an unknown one is refused.
cfgerr("plugin-log-level-upper", SRC.replace("</source>", "  @log_level WARN\n</source>") + fileout(extra="@log_level Debug"))
cfgerr("plugin-log-level-bogus", fileout(extra="@log_level verbose"))
cfgerr("id-duplicate-in-label", fileout(extra="@id a") + label("@L", fileout("y", extra="@id a")))
# Fluentd skips an unknown top-level directive without a word (its events go unmatched):
# logferry refuses it (README "Differences from Fluentd").
cfgerr("unknown-top-directive", fileout() + "<mach **>\n  @type null\n</mach>\n")
# <buffer> checks: flush_interval beside an explicit flush_mode that is not interval (even
# `default` resolving to lazy with a time key) is refused, without flush_mode a warning;
# flush_at_shutdown that is not a bool is its default (nil); a file buffer without path goes
# beside out_file's path, or under root_dir with @id.
BFILE = "path {DIR}/out/b/f\nappend true\n"
cfgerr("buffer-flush-interval-explicit-immediate", fileconf(BFILE + "<buffer []>\n  @type memory\n  flush_mode immediate\n  flush_interval 60\n</buffer>"))
cfgerr("buffer-flush-interval-explicit-default-time", fileconf(BFILE + "<buffer time>\n  @type memory\n  timekey 1d\n  flush_mode default\n  flush_interval 10s\n</buffer>"))
cfgerr("buffer-flush-interval-default-time", fileconf(BFILE + "<buffer time>\n  @type memory\n  timekey 1d\n  flush_interval 10s\n</buffer>"))
cfgerr("buffer-flush-interval-explicit-default", fileconf(BFILE + "<buffer []>\n  @type memory\n  flush_mode default\n  flush_interval 10s\n</buffer>"))
cfgerr("buffer-flush-at-shutdown-not-bool", fileconf(BFILE + "<buffer []>\n  @type memory\n  flush_at_shutdown maybe\n</buffer>"))
cfgerr("buffer-retry-forever-not-bool", fileconf(BFILE + "<buffer []>\n  @type memory\n  retry_forever maybe\n</buffer>"))
cfgerr("buffer-flush-mode-unknown", fileconf(BFILE + "<buffer []>\n  @type memory\n  flush_mode fast\n</buffer>"))
cfgerr("buffer-timekey-zero", fileconf("path {DIR}/out/b/f\n<buffer time>\n  @type memory\n  timekey 0\n</buffer>"))
cfgerr("buffer-placeholder-without-key", fileconf("path {DIR}/out/b/${tag}.${k}\n<buffer tag>\n  @type memory\n</buffer>"))
cfgerr("buffer-file-root-dir-id", "<system>\n  root_dir {DIR}/root\n</system>\n<match **>\n  @type stdout\n  @id out1\n  <buffer>\n    @type file\n  </buffer>\n</match>\n")
cfgerr("buffer-file-no-path-no-id", "<match **>\n  @type stdout\n  <buffer>\n    @type file\n  </buffer>\n</match>\n")
case("buffer-file-type-without-path", fileconf(BFILE + "<buffer []>\n  @type file\n  flush_at_shutdown true\n</buffer>"), [msg({"a": 1}), msg({"a": 2})])
case("buffer-file-root-dir-id-written", "<system>\n  root_dir {DIR}/root\n</system>\n" + SRC + fileconf(BFILE + "@id f1\n<buffer []>\n  @type file\n  flush_at_shutdown true\n</buffer>") + TAIL,
     [msg({"a": 1}), msg({"a": 2})], raw_conf=True)
# `append false`: each chunk its own file, `_0`, `_1`, ... in the order the chunks are written;
# the times lie in 2100 so no timekey comes due while the events arrive.
T2100 = 4102444800


def recs(n, tag="h.a", time=T2100, pad=0, **extra):
    return [msg(dict({"n": i, "p": "x" * pad}, **extra), tag=tag, time=time) for i in range(n)]


def fwd(tag, entries):
    return {"mode": "forward", "tag": tag, "entries": entries}


case("buffer-append-false-chunk-limit-records", fileconf("path {DIR}/out/b/f.${tag}\nappend false\n<format>\n  @type json\n</format>\n<buffer tag>\n  @type memory\n  chunk_limit_records 2\n</buffer>"),
     recs(5) + recs(3, tag="h.b"))
case("buffer-append-false-chunk-limit-size-split", fileconf("path {DIR}/out/b/f\nappend false\n<format>\n  @type json\n</format>\n<buffer []>\n  @type memory\n  chunk_limit_size 120\n</buffer>"),
     [fwd("h.a", [[T2100, {"n": i, "p": "x" * 20}] for i in range(7)]), msg({"n": 7, "p": "y" * 30})])
case("buffer-append-false-immediate", fileconf("path {DIR}/out/b/f\nappend false\n<format>\n  @type json\n</format>\n<buffer []>\n  @type memory\n  flush_mode immediate\n</buffer>"),
     recs(2) + [fwd("h.a", [[T2100, {"n": 10 + i}] for i in range(3)])] + recs(1, tag="h.b"))
case("buffer-append-false-time-tag-gzip", fileconf("path {DIR}/out/b/${tag[1]}/f\nappend false\ncompress gzip\n<format>\n  @type json\n</format>\n<buffer time,tag>\n  @type memory\n  timekey 1h\n  chunk_limit_records 2\n</buffer>"),
     recs(3) + recs(2, tag="h.b", time=T2100 + 3600) + recs(1, time=T2100 + 59))
case("buffer-append-false-star-path", fileconf("path {DIR}/out/b/f.*.txt\nappend false\n<format>\n  @type json\n</format>\n<buffer time>\n  @type memory\n  timekey 60\n  timekey_zone +0900\n</buffer>"),
     recs(2) + recs(2, time=T2100 + 61))
case("buffer-append-false-nested-key", fileconf("path {DIR}/out/b/f.${$.m.k}\nappend false\npath_suffix .json\n<format>\n  @type json\n</format>\n<buffer $.m.k>\n  @type memory\n  chunk_limit_records 2\n</buffer>"),
     [msg({"n": i, "m": {"k": "pq"[i % 2]}}) for i in range(5)])
# out_file checks at configure that the path of a test chunk could be written (FileUtil.writable_p?):
# not a directory, and its nearest existing ancestor a directory.
cfgerr("file-path-under-a-file", fileconf("path {DIR}/fluent.conf/f\nappend true\n<buffer []>\n  @type memory\n</buffer>"))
cfgerr("file-path-under-a-file-placeholders", fileconf("path {DIR}/fluent.conf/${tag}/f\n<buffer tag,time>\n  @type memory\n  timekey 1d\n</buffer>"))
cfgerr("file-path-is-a-directory", fileconf("path {DIR}\nappend true\nadd_path_suffix false\n<buffer []>\n  @type memory\n</buffer>"))
cfgerr("file-path-new-directories", fileconf("path {DIR}/a/b/c/${tag}/f\n<buffer tag>\n  @type memory\n</buffer>"))
# total_limit_size with writes that fail (the tag's directory is a file) so every chunk stays:
# Fluentd counts a chunk queued because the next event did not fit twice and refuses events early
# (README "Differences from Fluentd"); logferry refuses them once the bytes it holds reach it.
case("buffer-total-limit-counts-chunks-once", "<system>\n  root_dir {DIR}/root\n</system>\n" + SRC
     + fileconf("path {DIR}/${tag}/f\nappend false\n<format>\n  @type json\n</format>\n<buffer tag>\n  @type memory\n  chunk_limit_size 100\n  total_limit_size 300\n  flush_mode interval\n  flush_interval 1h\n  overflow_action throw_exception\n  retry_wait 1h\n  retry_forever true\n</buffer>")
     + ERR + TAIL, recs(12, tag="fluent.conf", pad=20), raw_conf=True)
# Where one emit's events for a chunk key end up when they do not fit the staged chunk: Fluentd's
# Buffer#write_step_by_step (slices of n/10 records; a record that does not fit unstages its
# chunk; a full chunk is followed by new unstaged ones, the last of which may take the stage).
SPLIT = "path {DIR}/out/b/f\nappend false\n<format>\n  @type json\n</format>\n<buffer []>\n  @type memory\n%s</buffer>"


def sized(ks, start=0):
    return [[T2100, {"n": start + i, "p": "x" * k}] for i, k in enumerate(ks)]


case("buffer-split-stream-unstages-chunks", fileconf(SPLIT % "  chunk_limit_size 100\n"),
     [fwd("h.a", sized([6, 6])), fwd("h.a", sized([21] * 8, 2))])
case("buffer-split-full-then-new-chunks", fileconf(SPLIT % "  chunk_limit_size 100\n"), [fwd("h.a", sized([33] * 5))])
case("buffer-split-records-limit", fileconf(SPLIT % "  chunk_limit_records 2\n"), [fwd("h.a", sized([1] * 5)), msg({"n": 5, "p": ""}, time=T2100)])
case("buffer-split-twenty-records-slices-of-two", fileconf(SPLIT % "  chunk_limit_size 150\n"), [fwd("h.a", sized([5, 30, 0, 12, 40] * 4))])
case("buffer-split-several-keys", fileconf(SPLIT.replace("<buffer []>", "<buffer k>").replace("path {DIR}/out/b/f", "path {DIR}/out/b/f.${k}") % "  chunk_limit_size 120\n"),
     [fwd("h.a", [[T2100, {"n": i, "k": "ba"[i % 3 == 0], "p": "x" * (i * 7 % 40)}] for i in range(14)])])
# Fluentd loses the chunk it stages beside the key's own after a new unstaged one (README
# "Differences from Fluentd"): here records 3 and 4.
case("buffer-split-chunk-beside-the-stage", fileconf(SPLIT % "  chunk_limit_size 100\n"), [fwd("h.a", sized([33, 33, 45, 45, 0]))])
case("buffer-memory-flush-at-shutdown-false", fileconf("path {DIR}/out/b/f\nappend true\n<buffer []>\n  @type memory\n  flush_at_shutdown false\n</buffer>"), recs(2))


def main():
    os.makedirs(CASES, exist_ok=True)
    names = set()
    for name, conf, frames in OUT:
        assert name not in names, name
        names.add(name)
        d = os.path.join(CASES, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "fluent.conf"), "w", encoding="utf-8") as fh:
            fh.write(conf)
        ip = os.path.join(d, "input")
        if frames is None:
            if os.path.exists(ip):
                os.remove(ip)
        else:
            with open(ip, "w", encoding="utf-8") as fh:
                for f in frames:
                    fh.write(json.dumps(f, ensure_ascii=False) + "\n")
    print("%d cases written" % len(OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
