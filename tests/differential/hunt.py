#!/usr/bin/env python3
"""Random differential hunts against Fluentd: write throw-away cases named hunt-<area>-<n>.

    hunt.py AREA SEED [COUNT]      write COUNT (default 3) random cases of AREA under cases/
    hunt.py clean                  remove every hunt-* case

then record them from a local Fluentd and compare:

    PYTHON=... JOBS=2 bash tests/differential/record.sh FLUENTD_BIN $(cd tests/differential/cases && ls -d hunt-*)
    DIFF_CASES=hunt- cargo test -p logferry --test e2e_differential

Hunt cases are never committed (.gitignore): a difference they find becomes a curated case in
gen_cases.py (recorded the same way) and a fix, or a README "Differences from Fluentd" entry.
Areas: json (JSON text through filter_parser json), fmt (random records through every
formatter), parse (random lines through the line parsers), rt (record_transformer
placeholders), grep (grep over values of every type), path (out_file path placeholders and chunk
keys, one case per config, since one refusal stops a whole config), inject (<inject> options), rtf
(rewrite_tag_filter rules), route (filters, copy, relabel, labels, @ERROR and re-emits in random
topologies), concat (fluent-plugin-concat 2.5.0: every mode, partial lines and Docker's partial
metadata; groups still open at shutdown are written by logferry and lost by Fluentd, README
"Differences from Fluentd", so only '+' lines there are expected), popt (parser options: types,
null_value_pattern, null_empty_string, time_key/time_type/time_format on regexp, ltsv, csv and
json; Fluentd's formatter cache and a time at second 0 are known noise there), fopt (formatter
options of out_file, json, ltsv, csv, single_value, tsv, hash), fwd (forward frames of every
mode, time encoding and odd tags), sopt (syslog parser options), fpopt (filter_parser's own
options: reserve_data, reserve_time, hash_value_field, inject_key_prefix, remove_key_name_field,
replace_invalid_sequence, emit_invalid_record_to_error over regexp, ltsv, json, csv and none, with
missing, nested and non-string fields), rtopt (record_transformer's renew_record, renew_time_key,
keep_keys, remove_keys and auto_typecast with placeholders), ml (the multiline parser's
format_firstline and format1..N on random multi-line texts, apache2, nginx and apache_error on
mutated real lines; a mutated year before 1970 is a known difference), tkey (out_file with
time/tag/record chunk keys, timekey, timekey_zone and timekey_use_utc in the path, one case per
config), ftime (time options of every formatter and of <inject> in them: time_format,
time_type, localtime, utc, timezone), ptime (parser time_type mixed with time_format_fallbacks,
float, unixtime and string with localtime, utc and timezone, on regexp and json; %s with a
timezone, texts before 1970 and time 0 are known differences and not drawn), fileopt
(out_file's append, compress gzip, add_path_suffix, path_suffix, single_value and others with
add_newline false, out_file format's output_tag/output_time; one case per config), copymode (copy
with every copy_mode, each store relabelled into a label whose record_transformer mutates the
record, nested values included; a nested removal under no_copy or shallow reaching the later
stores is a known difference, drawn with deep and marshal only), grepab (grep with <and>/<or>
blocks of <regexp>/<exclude> on nested keys beside top-level ones), conf (config literal syntax:
quoted strings, escapes, line breaks, CRLF, comments, "#{...}", JSON values, and typed parameters
whose reading shows in what is written; one case per config), types (parser `types` on every
kind of JSON value, zoned `time:` types, `array` delimiters, null patterns), mfmt (multi_format,
recorded with fluent-plugin-multi-format-parser 1.1.0 loadable, and ltsv/tsv/csv delimiter
options), err (which records reach <label @ERROR> through filter_parser's error paths, in labels,
with relabel and copy; no filter in @ERROR that errors itself: Fluentd loops until it dies),
pat (<match>/<filter> tag patterns against odd tags), racc (record accessor syntax in grep,
remove_keys and key_name; one case per config), sect (section syntax: arguments, chunk keys,
sections twice, @-parameters, label names; one case per config), fwdopt (in_forward's
add_tag_prefix, source_address_key, source_hostname_key, skip_invalid_event and
chunk_size_warn_limit with odd entries and times in every mode; one case per config; odd entries
only with skip_invalid_event true, float times and Fluent Bit's [[time, meta], record] not drawn
there: README), fmtopt (stdout's output_type, msgpack, hash, single_value and the others with
message_key, delimiter, label_delimiter, fields, force_quotes and add_newline), nesting (grep,
remove_keys, record_transformer and filter_parser's key_name on nested keys through record
accessors, array indexes and missing intermediate keys), fwdsec (in_forward's <security>
handshake: see hunt_fwdsec.py); http, tcp, udp and syslog (the other inputs: hunt_hunt21.py);
s3 and httpout (hunt_hunt28.py); cwlogs, kinesis and rr (hunt_hunt29.py);
bufopt, bufsplit and sysopt (hunt_hunt22.py: out_file's <buffer> options with `append false` chunk files, big frames split into small chunks;
<system> and top-level options).
The same SEED writes the same cases.
"""
import os
import random
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_cases as g  # noqa: E402  (its module-level cases are cleared below)
import hunt_fwdsec  # noqa: E402
import hunt_hunt22  # noqa: E402

R = random.Random(0)


def file_match(i, fmt="@type json", extra="", inject=None, pattern=None):
    body = "@type file\npath {DIR}/out/f%d\nappend true\n%s<format>\n%s</format>\n" % (
        i, extra + "\n" if extra else "", g.indent(fmt))
    if inject:
        body += "<inject>\n%s</inject>\n" % g.indent(inject)
    body += "<buffer []>\n  @type memory\n</buffer>\n"
    return "<match %s>\n%s</match>\n" % (pattern or "h%d" % i, g.indent(body))


def tagged(frames, tag):
    out = []
    for f in frames:
        f = dict(f)
        f["tag"] = tag
        out.append(f)
    return out


# --- json ------------------------------------------------------------------------------------
def rnum():
    return R.choice(["0", "-0", "1", "-1", "1.0", "1e2", "1E2", "1e+2", "1e-2", "-0.0", "0.1", "100.0",
                     "1e20", "1e300", "-1e300", "9223372036854775807", "9223372036854775808",
                     "18446744073709551615", "18446744073709551616", "-9223372036854775809",
                     "0.30000000000000004", "5e-324", "1.7976931348623157e308", "01", "1.", ".5", "+1",
                     "1e", "NaN", "-", "1e15", "1e16", "123e-5"])


def rjstr():
    return R.choice(['""', '"a"', '"\\u00e9"', '"\\ud83d\\ude00"', '"\\ud800"', '"\\udc00x"', '"\\u0000"',
                     '"\\/"', '"tab\\there"', '"\\x41"', '"é"', '"\t"', '"a\\"b"', '"\\\\"', '"line\\nbreak"',
                     "'single'", '"\x01"'])


def rjval(d=0):
    r = R.random()
    if d > 2 or r < 0.35:
        return rnum()
    if r < 0.6:
        return rjstr()
    if r < 0.7:
        return R.choice(["true", "false", "null", "True", "nul"])
    if r < 0.85:
        return "[" + R.choice([",", ", "]).join(rjval(d + 1) for _ in range(R.randint(0, 3))) + "]"
    return rjobj(d + 1)


def rjobj(d=0):
    keys = [R.choice(['"a"', '"b"', '"a"', '""', '"é"', '"\\u0061"', '"time"', '"1"']) for _ in range(R.randint(0, 4))]
    return "{" + ",".join("%s%s:%s%s" % (k, R.choice(["", " "]), R.choice(["", " ", "/**/"]), rjval(d)) for k in keys) + "}"


def hunt_json(name):
    texts = []
    for _ in range(120):
        t = rjobj()
        r = R.random()
        if r < 0.05:
            t += " // c"
        elif r < 0.1:
            t = t[:R.randint(0, len(t))]
        elif r < 0.12:
            t += "x"
        elif r < 0.14:
            t += t
        texts.append(t)
    body = g.filt("parser", "key_name message\nreserve_data true\n<parse>\n  @type json\n</parse>") + g.fileout(fmt="@type json")
    g.case(name, body + g.ERR, [g.msg({"message": t, "o": 1}) for t in texts])


# --- fmt -------------------------------------------------------------------------------------
STRS = ["", "a", " ", "\t", "\n", "\r\n", "\"", "\\", "'", "/", "</script>", "é", "日本", "😀", "\u2028",
        "\x7f", "\x00", "\x01\x1f", "a,b", "a\tb", "a:b", "a=b", "|", "null", "true", "1", "1.5", "[1]",
        "{}", "#{x}", "${tag}", "\\u0041", "  lead", "ß", "\ufeff"]


def rfloat():
    if R.random() < 0.4:
        return R.choice([0.1, 0.5, 100.0, 1e20, 1e16, 1e15, 9999999999999998.0, 1e-4, 1e-5, 2.5, -0.0,
                         5e-324, 1.7976931348623157e308, 1 / 3, {"$f32": 0.1}, {"$f32": 3.4e38}])
    return round(R.uniform(1, 10), R.randint(0, 17)) * 10.0 ** R.choice([-5, -4, 0, 14, 15, 16, 17, 300])


# Nanoseconds of EventTimes in random records (Fluentd writes an EventTime in JSON as its whole
# seconds, logferry with its fraction: README "Differences from Fluentd").
ET_NSECS = [0, 500000000]


def rval(d=0):
    c = R.random()
    if d < 2 and c < 0.12:
        return [rval(d + 1) for _ in range(R.randint(0, 3))]
    if d < 2 and c < 0.22:
        return {R.choice(["a", "b", "", "é", "a b", "x:y"]): rval(d + 1) for _ in range(R.randint(0, 3))}
    if c < 0.4:
        return "".join(R.choice(STRS) for _ in range(R.randint(1, 3)))
    if c < 0.55:
        return R.choice([0, 1, -1, 127, 128, 2**31, 2**53 + 1, 2**63 - 1, -2**63, 2**64 - 1, -129])
    if c < 0.75:
        return rfloat()
    if c < 0.8:
        return {"$et": [1700000000, R.choice(ET_NSECS)]}
    return R.choice([None, True, False])


FORMATS = ["@type json", "@type ltsv", "@type ltsv\ndelimiter ,\nlabel_delimiter =", "@type csv\nfields a,b,c",
           "@type csv\nfields a,message,k\nforce_quotes false", "@type tsv\nkeys a,b,c",
           "@type single_value\nmessage_key a", "@type hash", "@type out_file",
           "@type out_file\noutput_tag false\ndelimiter COMMA", "@type ltsv\nreplacement _"]


def hunt_fmt(name):
    body, frames = "", []
    for i, fmt in enumerate(FORMATS):
        body += file_match(i, fmt)
        for _ in range(12):
            rec = {R.choice(["a", "b", "c", "message", "k", "", "a b", "x:y", "t\tk"]): rval() for _ in range(R.randint(0, 5))}
            frames.append(g.msg(rec, tag="h%d" % i))
    g.case(name, body + g.ERR, frames)


# --- parse -----------------------------------------------------------------------------------
TOK = ['a', '1', '-1', '1.5', ' ', '\t', ',', '"', '""', "'", ':', '=', '|', 'é', '\\', '', 'null', '-', '[', ']',
       '<34>', '<13>1', 'Nov 14 22:13:20', '2023-11-14T22:13:20Z', 'host', 'app[123]:', 'app:',
       '"GET / HTTP/1.1"', '200', '"-"', '127.0.0.1', '[14/Nov/2023:22:13:20 +0000]',
       '[Tue Nov 14 22:13:20.123456 2023]', '[error]', '[pid 12]', '[client 1.2.3.4:5]']
LINES = {
    "csv": lambda: ",".join(R.choice(['a', '"a,b"', '"a""b"', '""', '', ' x ', '"x"y', 'x"y', '"é"', '1', '"a']) for _ in range(R.randint(1, 4))),
    "tsv": lambda: "\t".join(R.choice(['a', '', '"q"', ' x ', 'é', '\\t', '1']) for _ in range(R.randint(1, 4))),
    "ltsv": lambda: "\t".join(R.choice(['a:1', 'b:', ':x', 'c:d:e', 'nolabel', '', 'é:ü', 'a:2', ' s :t ']) for _ in range(R.randint(1, 4))),
}
PARSERS = [("csv", "@type csv\nkeys a,b,c"), ("csv", "@type csv\nkeys a,b\nparser_engine fast"),
           ("tsv", "@type tsv\nkeys a,b,c"), ("ltsv", "@type ltsv"), (None, "@type syslog"),
           (None, "@type syslog\nmessage_format rfc5424"), (None, "@type syslog\nmessage_format auto\nwith_priority true"),
           (None, "@type apache2"), (None, "@type apache_error"), (None, "@type nginx"), (None, "@type none"),
           (None, "@type regexp\nexpression /^(?<a>\\S+) (?<b>\\d*)(?<c>.*)$/\ntypes b:integer")]


def hunt_parse(name):
    body, frames = "", []
    for i, (kind, parse) in enumerate(PARSERS):
        body += g.filt("parser", "key_name message\nreserve_data true\n<parse>\n%s</parse>" % g.indent(parse), pattern="h%d" % i)
        body += file_match(i)
        for _ in range(15):
            line = LINES[kind]() if kind and R.random() < 0.7 else "".join(R.choice(TOK) + R.choice(["", " "]) for _ in range(R.randint(0, 9)))
            frames.append(g.msg({"message": line, "o": 1}, tag="h%d" % i))
    g.case(name, body + g.ERR, frames)


# --- rt --------------------------------------------------------------------------------------
PH = ['${tag}', '${tag_parts[0]}', '${tag_parts[-1]}', '${tag_parts[5]}', '${tag_prefix[1]}', '${tag_prefix[-1]}',
      '${tag_suffix[1]}', '${tag_suffix[-2]}', '${time}', '${record["a"]}', '${record["m"]["k"]}', '${record["arr"][-1]}',
      '${record["arr"][9]}', '${record["n"]}', '${record["f"]}', '${record["nope"]}', '${record["m"]}', '${unknown}',
      '${ tag }', '$${tag}', '${record["u"]}', '${hostname}']
LIT = ['', 'x', ' ', '-', '1', 'true', '%s', '#{x}', 'a"q', 'é']
REC = {"a": "va", "m": {"k": 1, "n": {"x": [1, None]}}, "arr": [1, "two", None, 3.5], "n": None, "f": 1.5, "b": True,
       "s": "", "e": {}, "u": 18446744073709551615}


def hunt_rt(name):
    body, frames = "", []
    for i in range(20):
        recs = "\n".join("k%d %s" % (j, "".join(R.choice(PH) if R.random() < 0.6 else R.choice(LIT) for _ in range(R.randint(1, 3))))
                         for j in range(R.randint(1, 4)))
        opts = R.choice(["", "auto_typecast true", "renew_record true", "remove_keys a", "keep_keys a\nrenew_record true"])
        body += g.filt("record_transformer", "%s\n<record>\n%s</record>" % (opts, g.indent(recs)), pattern="h%d.**" % i)
        body += file_match(i, inject="tag_key tg", pattern="h%d.**" % i)
        for t in R.sample(["app.web.x", "a", "a.b", "x..y", "one.two.three.four"], 2):
            frames.append(g.msg(dict(REC), tag="h%d.%s" % (i, t)))
    g.case(name, body + g.ERR, frames)


# --- grep ------------------------------------------------------------------------------------
VALS = [None, True, False, 0, 1, -1, 1.0, 1.5, 1e20, 1e-5, 100.0, "", "1", "a b", "é", [1, None], {"a": 1}, [], {},
        {"$et": [1700000000, 0]}, {"$f32": 0.1}, 18446744073709551615, "nil", "[1, nil]", {"$bin_hex": "6162"}]
PATS = ["/1/", "/^1$/", "/^1\\.0$/", "/^$/", "/true/", "/nil/", "/^\\[/", "/=>/", "/e\\+20/", "/\\./", "/é/",
        "/1700000000/", "/0\\.1/", "/^\\{\\}$/", "/^\\[\\]$/", "/./", "/E/i", "/^-?\\d+$/"]


def hunt_grep(name):
    body, frames = "", []
    for i in range(20):
        kind = R.choice(["regexp", "exclude"])
        body += g.filt("grep", "<%s>\n  key %s\n  pattern %s\n</%s>" % (kind, R.choice(["k", "$.m.k", "$.arr[0]"]), R.choice(PATS), kind), pattern="h%d" % i)
        body += file_match(i)
        for v in R.sample(VALS, 8):
            frames.append(g.msg({"k": v, "m": {"k": v}, "arr": [v], "id": len(frames)}, tag="h%d" % i))
    g.case(name, body + g.ERR, frames)


# --- path ------------------------------------------------------------------------------------
PARTS = ["${tag}", "${tag[0]}", "${tag[1]}", "${tag[-1]}", "${tag[7]}", "${k}", "${$.m.k}", "${chunk_id}", "%Y", "%m%d",
         "%H", "%M", "x", "_", ".", "-", "%s", "%%"]


def hunt_path(name):
    keys = []
    path = "{DIR}/out/p/" + "".join(R.choice(PARTS) for _ in range(R.randint(1, 3)))
    if "${tag" in path:
        keys.append("tag")
    if "%" in path.replace("%%", ""):
        keys.append("time")
        path += "_%Y%m%d%H%M"
    if "${k}" in path:
        keys.append("k")
    if "${$.m.k}" in path:
        keys.append("$.m.k")
    buf = "<buffer %s>\n  @type memory\n%s</buffer>" % (",".join(keys), "  timekey 60\n" if "time" in keys else "")
    extra = R.choice(["append true", "append false", "append true\ncompress gzip", "append false\ncompress gzip",
                      "append true\npath_suffix .txt", "append true\nadd_path_suffix false"])
    frames = [g.msg({"k": R.choice(["a", "b", "", "x/y", "..", "é"]), "m": {"k": R.choice(["p", "q"])}},
                    tag="h.%s" % R.choice(["a", "b.c", "x"]), time=R.choice([1700000000, 1700003700, 1700090000]))
              for _ in range(4)]
    body = "@type file\npath %s\n%s\n<format>\n  @type json\n</format>\n%s" % (path, extra, buf)
    g.case(name, "<match h.**>\n%s</match>\n" % g.indent(body) + g.ERR, frames)


# --- inject ----------------------------------------------------------------------------------
def hunt_inject(name):
    body, frames = "", []
    for i in range(20):
        opts = []
        if R.random() < 0.6:
            opts.append("tag_key %s" % R.choice(["tag", "t", "a", "$.x", "@t"]))
        if R.random() < 0.6:
            opts.append("time_key %s" % R.choice(["time", "a", "ts"]))
        if R.random() < 0.5:
            opts.append("time_type %s" % R.choice(["float", "unixtime", "string", "unixtime_millis", "unixtime_micros", "unixtime_nanos"]))
        if R.random() < 0.3:
            opts.append("time_format %s" % R.choice(["%s", "%Y", "%FT%T.%3N%z", "%N"]))
        if R.random() < 0.3:
            opts.append(R.choice(["utc true", "localtime false", "timezone +09:00", "localtime true"]))
        if R.random() < 0.3:
            opts.append("hostname_key %s" % R.choice(["host", "a"]))
            opts.append("hostname fixed.example")
        if R.random() < 0.2:
            opts.append("worker_id_key %s" % R.choice(["w", "a"]))
        fmt = R.choice(["@type json", "@type ltsv", "@type hash", "@type csv\nfields a,tag,time,ts,t,host,w", "@type out_file"])
        body += file_match(i, fmt, inject="\n".join(opts) or "tag_key tag")
        for t in [{"$et": [1700000000, 123456789]}, 1700000001, {"$et": [1700000002, 0]}]:
            frames.append(g.msg(R.choice([{"a": 1}, {"tag": "old", "time": "old", "a": 2}, {}, {"ts": [1]}]), tag="h%d" % i, time=t))
    g.case(name, body + g.ERR, frames)


# --- rtf -------------------------------------------------------------------------------------
RTF_PATTERNS = ["/^(\\w+)$/", "/^(\\w+)\\.(\\w+)/", "/(.)/", "/^$/", "/./", "/^(a)?(b)?/", "/(?<n>\\w)/", "/[é]/",
                "/^\\d+$/", "/true/", "/^(\\w+) (\\w+)/", "/ERROR/i", "/(x)|(y)/"]
RTF_TAGS = ["n.$1", "n.$1.$2", "${tag}.x", "x.${tag_parts[0]}", "x.${tag_parts[-1]}", "__TAG__.y", "$1", "p.${hostname}",
            "z.${tag_parts[9]}", "q.$3", "c.$1$2", "${tag}", "u.__TAG_PARTS[0]__", "w.$1.${tag_parts[1]}"]
RTF_VALS = ["a", "a.b", "", "é", "x y", "12", 12, True, None, [1], {"k": 1}, "ERROR here", "b", "ab", "..", "A.B"]


def hunt_rtf(name):
    body, frames = "", []
    for i in range(12):
        rules = ""
        for _ in range(R.randint(1, 3)):
            rules += "<rule>\n  key %s\n  pattern %s\n  tag %s\n%s</rule>\n" % (
                R.choice(["k", "k", "$.m.k", "nope"]), R.choice(RTF_PATTERNS), R.choice(RTF_TAGS),
                "  invert true\n" if R.random() < 0.15 else "")
        extra = R.choice(["", "", "remove_tag_prefix h%d\n" % i, "capitalize_regex_backreference true\n",
                          "hostname_command echo hh\n", "remove_tag_regexp /^h\\d+\\./\n"])
        body += "<match h%d.**>\n%s</match>\n" % (i, g.indent("@type rewrite_tag_filter\n" + extra + rules))
        for _ in range(5):
            v = R.choice(RTF_VALS)
            frames.append(g.msg({"k": v, "m": {"k": v}}, tag="h%d.%s" % (i, R.choice(["a", "b.c", "x.y.z"]))))
    body += "<match **>\n%s</match>\n" % g.indent(
        "@type file\npath {DIR}/out/all\nappend true\n<format>\n  @type json\n</format>\n<inject>\n  tag_key tg\n</inject>\n<buffer []>\n  @type memory\n</buffer>")
    g.case(name, body + g.ERR, frames)


# --- route -----------------------------------------------------------------------------------
def route_store(name):
    return "<store>\n%s</store>\n" % g.indent(
        "@type file\npath {DIR}/out/%s\nappend true\n<format>\n  @type json\n</format>\n<inject>\n  tag_key tg\n</inject>\n<buffer []>\n  @type memory\n</buffer>" % name)


def route_out(name, pattern):
    kind = R.choice(["file", "copy", "relabel", "null", "rtf"])
    if kind == "file":
        return "<match %s>\n%s</match>\n" % (pattern, route_store(name).replace("<store>\n", "").replace("</store>\n", ""))
    if kind == "copy":
        stores = route_store(name + "a") + route_store(name + "b")
        return "<match %s>\n  @type copy\n%s</match>\n" % (pattern, g.indent(stores))
    if kind == "relabel":
        return "<match %s>\n  @type relabel\n  @label @L\n</match>\n" % pattern
    if kind == "null":
        return "<match %s>\n  @type null\n</match>\n" % pattern
    return ("<match %s>\n  @type rewrite_tag_filter\n  <rule>\n    key k\n    pattern /^(\\w+)$/\n    tag re.$1\n  </rule>\n</match>\n" % pattern)


def route_filter(pattern):
    return R.choice([
        g.filt("grep", "<regexp>\n  key k\n  pattern /a/\n</regexp>", pattern=pattern),
        g.filt("record_transformer", "<record>\n  seen ${tag}\n</record>", pattern=pattern),
        g.filt("parser", "key_name k\nreserve_data true\n<parse>\n  @type json\n</parse>", pattern=pattern),
        g.filt("parser", "key_name k\nreserve_data true\nemit_invalid_record_to_error false\n<parse>\n  @type json\n</parse>", pattern=pattern),
        g.filt("parser", "key_name nope\n<parse>\n  @type none\n</parse>", pattern=pattern),
    ])


def hunt_route(name):
    pats = ["a.**", "a.b", "re.**", "**", "{a,c}.*", "c.**", "b"]
    body = ""
    for _ in range(R.randint(1, 3)):
        body += route_filter(R.choice(pats))
    for i in range(R.randint(2, 4)):
        body += route_out("r%d" % i, R.choice(pats))
    inner = route_filter(R.choice(["**", "a.**"])) + route_out("l1", R.choice(["a.**", "**"])) + route_out("l2", "**")
    body += "<label @L>\n%s</label>\n" % g.indent(inner)
    err = "<label @ERROR>\n%s</label>\n" % g.indent(route_out("e", "**").replace("@type relabel\n  @label @L", "@type null"))
    frames = [g.msg({"k": R.choice(["a", "b", '{"x":1}', "{bad", "", "a b"]), "n": n},
                    tag=R.choice(["a.b", "a.c", "b", "c.d", "re.x", "z"])) for n in range(8)]
    g.case(name, body + err, frames)


# --- concat ----------------------------------------------------------------------------------
def hunt_concat(name):
    body, frames = "", []
    for i in range(10):
        mode = R.choice(["start", "start_end", "end", "continuous", "n_lines", "partial", "partial_meta"])
        opts = ["key log"]
        if mode == "start":
            opts.append("multiline_start_regexp /^%s/" % R.choice(["\\d{4}", "\\S", "START", "\\[", "(?!\\s)"]))
        elif mode == "start_end":
            opts += ["multiline_start_regexp /^BEGIN/", "multiline_end_regexp /END$/"]
        elif mode == "end":
            opts.append("multiline_end_regexp /%s$/" % R.choice(["END", ";", "\\}"]))
        elif mode == "continuous":
            opts += ["multiline_start_regexp /^\\S/", "continuous_line_regexp /^\\s/"]
        elif mode == "n_lines":
            opts.append("n_lines %d" % R.randint(1, 3))
        elif mode == "partial":
            opts += ["partial_key p", "partial_value %s" % R.choice(["true", "yes"])]
            if R.random() < 0.5:
                opts.append("keep_partial_key true")
        else:
            opts += ["use_partial_metadata true"]
            if R.random() < 0.5:
                opts.append("keep_partial_metadata true")
        if R.random() < 0.3:
            opts.append("separator %s" % R.choice(['""', '" | "', "x"]))
        if R.random() < 0.3:
            opts.append("use_first_timestamp true")
        if R.random() < 0.3:
            opts.append("stream_identity_key sid")
        body += g.filt("concat", "\n".join(opts), pattern="h%d" % i) + file_match(i, inject="time_key t\ntime_type unixtime")
        lines = ["2024 one", "  two", "START x", "BEGIN a", "mid", "b END", "x;", "{", "}", "", " lead", "[", "plain", "END"]
        for n in range(R.randint(3, 8)):
            rec = {"log": R.choice(lines), "n": n}
            if mode == "partial":
                rec["p"] = R.choice(["true", "false", "yes", None])
            if mode == "partial_meta":
                last = R.random() < 0.4
                rec.update({"partial_message": "true", "partial_id": R.choice(["id1", "id2"]), "partial_ordinal": str(n + 1),
                            "partial_last": "true" if last else "false"})
                if R.random() < 0.2:
                    for k in ["partial_message", "partial_id", "partial_ordinal", "partial_last"]:
                        rec.pop(k)
            if R.random() < 0.3:
                rec["sid"] = R.choice(["s1", "s2"])
            frames.append(g.msg(rec, tag="h%d" % i, time=1700000000 + n))
    g.case(name, body + g.ERR, frames)


# --- popt ------------------------------------------------------------------------------------
PVALS = ["", "1", "-1", "+1", "1.5", "1e3", " 7 ", "0x1A", "012", "abc", "1abc", "true", "yes", "no", "false",
         "TRUE", "1,2,3", ",", "a,,b", " a , b ", "-", "null", "2023-11-14", "1700000000", "1700000000.5",
         "14/Nov/2023:22:13:20 +0000", "9999999999999999999", "1_000", "0.1", "-0", "é", "Infinity",
         "2023-11-14T22:13:20.123456789+09:00", "1700000000123"]
PTYPES = ["string", "bool", "integer", "float", "time", "time:%Y-%m-%d", "time:unixtime", "time:float",
          "time:%d/%b/%Y:%H:%M:%S %z", "array", "array:|"]
PTIME = ["time_format %Y-%m-%d", "time_type unixtime", "time_type float", "time_format %s", "time_format %s.%N",
         "time_format %d/%b/%Y:%H:%M:%S %z", "time_format %Y-%m-%dT%H:%M:%S.%N%z", "time_type mixed\ntime_format %Y-%m-%d",
         "time_type string", "time_format %iso8601", "time_format %Y-%m-%d\ntimezone +09:00",
         "time_format %Y-%m-%d\nutc true", "time_format %Y-%m-%d\nlocaltime false",
         "time_type mixed\ntime_format_fallbacks %Y-%m-%d, %s"]


def hunt_popt(name):
    body, frames = "", []
    for i in range(16):
        kind = R.choice(["regexp", "regexp", "ltsv", "json", "csv"])
        opts = []
        if R.random() < 0.8:
            keys = R.sample(["a", "b", "c"], R.randint(1, 3))
            opts.append("types " + ",".join("%s:%s" % (k, R.choice(PTYPES)) for k in keys))
        if R.random() < 0.3:
            opts.append("null_value_pattern " + R.choice(["/^(-|null)$/", "-", "^$", "/1/"]))
        if R.random() < 0.3:
            opts.append("null_empty_string true")
        timed = R.random() < 0.5
        if timed:
            opts.append("time_key " + R.choice(["t", "a"]))
            opts.append(R.choice(PTIME).replace("\\n", "\n"))
            if R.random() < 0.4:
                opts.append("keep_time_key true")
        if kind == "regexp":
            parse = "@type regexp\nexpression /^(?<a>[^|]*)\\|(?<b>[^|]*)\\|(?<c>[^|]*)\\|(?<t>[^|]*)$/"
        elif kind == "ltsv":
            parse = "@type ltsv"
        elif kind == "csv":
            parse = "@type csv\nkeys a,b,c,t"
        else:
            parse = "@type json"
        parse += "\n" + "\n".join(opts)
        extra = "reserve_data true\n" + ("" if timed else "reserve_time true\n")
        body += g.filt("parser", "key_name message\n%s<parse>\n%s</parse>" % (extra, g.indent(parse)), pattern="h%d" % i)
        body += file_match(i, inject="time_key et\ntime_type string\ntime_format %Y-%m-%dT%H:%M:%S.%N%z\nutc true")
        for _ in range(10):
            vals = [R.choice(PVALS) for _ in range(3)]
            tv = R.choice(["2023-11-14", "1700000000", "1700000000.5", "14/Nov/2023:22:13:20 +0000",
                           "2023-11-14T22:13:20.123456789+09:00", "x", ""])
            if kind == "regexp":
                line = "|".join(vals + [tv])
            elif kind == "ltsv":
                line = "\t".join("%s:%s" % kv for kv in zip("abct", vals + [tv]) if "\t" not in kv[1])
            elif kind == "csv":
                line = ",".join('"%s"' % v for v in vals + [tv])
            else:
                import json as _j
                jv = [v if R.random() < 0.5 else (_j.loads(v) if v in ("1", "-1", "1.5", "true", "false", "null", "1700000000", "1700000000.5") else v) for v in vals + [tv]]
                line = _j.dumps(dict(zip("abct", jv)))
            frames.append(g.msg({"message": line, "o": 1}, tag="h%d" % i, time=1700000100))
    g.case(name, body + g.ERR, frames)


# --- fopt ------------------------------------------------------------------------------------
def rfopt():
    kind = R.choice(["out_file", "json", "ltsv", "csv", "single_value", "tsv", "hash"])
    o = ["@type " + kind]
    nl = lambda: R.random() < 0.3 and o.append("add_newline " + R.choice(["false", "true"]))
    if kind == "out_file":
        if R.random() < 0.5:
            o.append("delimiter " + R.choice(["TAB", "SPACE", "COMMA", ",", "|", "' '", "tab", "::"]))
        if R.random() < 0.4:
            o.append("output_tag " + R.choice(["false", "true"]))
        if R.random() < 0.4:
            o.append("output_time " + R.choice(["false", "true"]))
        if R.random() < 0.4:
            o.append("time_type " + R.choice(["string", "unixtime", "float"]))
        if R.random() < 0.4:
            o.append("time_format " + R.choice(["%Y", "%s.%N", "%FT%T.%3N%:z", "%d/%b/%Y:%H:%M:%S %z", "%%", "%c"]))
        if R.random() < 0.3:
            o.append(R.choice(["localtime true", "utc true", "timezone +09:00", "timezone Asia/Tokyo", "localtime false"]))
    elif kind == "json":
        nl()
    elif kind == "ltsv":
        if R.random() < 0.4:
            o.append("delimiter " + R.choice([",", "|", "' '", "\\t", "::"]))
        if R.random() < 0.4:
            o.append("label_delimiter " + R.choice(["=", ":", "->", "' '"]))
        if R.random() < 0.3:
            o.append("replacement " + R.choice(["_", "", "X", "' '"]))
        nl()
    elif kind == "csv":
        o.append("fields " + ",".join(R.sample(["a", "b", "c", "m", "$.m.k", "nope"], R.randint(1, 4))))
        if R.random() < 0.4:
            o.append("delimiter " + R.choice(["\\t", "|", ";", "TAB", "' '"]))
        if R.random() < 0.4:
            o.append("force_quotes " + R.choice(["false", "true"]))
        nl()
    elif kind == "single_value":
        if R.random() < 0.7:
            o.append("message_key " + R.choice(["a", "b", "m", "nope", "c"]))
        nl()
    elif kind == "tsv":
        o.append("keys " + ",".join(R.sample(["a", "b", "c", "m", "nope"], R.randint(1, 4))))
        if R.random() < 0.4:
            o.append("delimiter " + R.choice(["|", ",", "' '", "\\t"]))
        nl()
    else:
        nl()
    return "\n".join(o)


def hunt_fopt(name):
    ET_NSECS[:] = [0]
    body, frames = "", []
    for i in range(14):
        inject = None
        if R.random() < 0.3:
            inject = R.choice(["tag_key tg", "time_key tm", "time_key tm\ntime_type unixtime", "hostname_key h\nhostname hh"])
        body += file_match(i, rfopt(), inject=inject)
        for _ in range(6):
            rec = {k: rval() for k in R.sample(["a", "b", "c", "m", "message"], R.randint(0, 4))}
            if R.random() < 0.3:
                rec["m"] = {"k": rval(1)}
            frames.append(g.msg(rec, tag="h%d" % i, time=R.choice([1700000000, {"$et": [1700000000, 250000000]}, 1])))
    g.case(name, body + g.ERR, frames)


# --- fwd -------------------------------------------------------------------------------------
FWD_TAGS = ["t", "a.b", "a..b", ".a", "a.", "é", "a b", "a*b", "x" * 300, "a.b.c.d.e.f.g", "0", "tag-1_2"]


def rtime():
    # Whole-second times and fractional ones in different seconds: Fluentd's formatter cache
    # mixes them within one second (README "Differences from Fluentd").
    return R.choice([1700000100, {"$et": [1700000000, R.choice([0, 1, 999999999, 500000000])]},
                     {"$et": [4294967294, 5]}, 4294967295, 1700000200.5])


def hunt_fwd(name):
    ET_NSECS[:] = [0]
    body = ("<match **>\n  @type file\n  path {DIR}/out/f\n  append true\n  <format>\n    @type json\n  </format>\n"
            "  <inject>\n    tag_key tg\n    time_key tm\n    time_type string\n    time_format %s.%N\n  </inject>\n"
            "  <buffer []>\n    @type memory\n  </buffer>\n</match>\n")
    frames = []
    for n in range(40):
        mode = R.choice(["message", "forward", "packed", "packed", "compressed"])
        tag = R.choice(FWD_TAGS)
        f = {"mode": mode, "tag": tag}
        rec = lambda: {k: rval() for k in R.sample(["a", "b", "message", "log"], R.randint(0, 3))}
        if mode == "message":
            f["time"] = rtime()
            f["record"] = rec()
        else:
            f["entries"] = [[rtime(), rec()] for _ in range(R.randint(0, 4))]
            if mode == "packed" and R.random() < 0.3:
                f["as"] = "str"
        if R.random() < 0.2:
            f["ack"] = False
        if R.random() < 0.1:
            f["new_conn"] = True
        frames.append(f)
    frames[-1].pop("ack", None)
    g.case(name, body, frames)


# --- sopt ------------------------------------------------------------------------------------
def rsyslog_line():
    pri = R.choice(["<34>", "<13>", "<0>", "<191>", "<192>", "<3a>", "", "<>", "<034>"])
    if R.random() < 0.5:
        ts = R.choice(["Nov 14 22:13:20", "Nov  4 02:13:20", "Feb 29 00:00:00", "Nov 14 22:13:20.123", "Nov 14 22:13", "2023-11-14T22:13:20Z", "Nov 144 22:13:20"])
        host = R.choice(["host", "host.example.com", "-", "", "192.168.0.1"])
        ident = R.choice(["app[123]:", "app:", "app", "app[]:", "app[abc]:", "sshd[1]: ", "a/b[2]:", "", "app[1]"])
        msg = R.choice(["hello world", "", " lead", "a:b c", "x=1 y=2", "é 日本", "tab\there", "[bracket] msg", "- -"])
        return pri + ts + " " + host + " " + ident + " " + msg
    ver = R.choice(["1", "2", "", "1 "])
    ts = R.choice(["2023-11-14T22:13:20Z", "2023-11-14T22:13:20.123456Z", "2023-11-14T22:13:20+09:00", "2023-11-14T22:13:20.1-03:30", "-", "2023-11-14 22:13:20"])
    host = R.choice(["host", "-", "h.example.com"])
    app = R.choice(["app", "-", "my-app"])
    procid = R.choice(["123", "-", "p1"])
    msgid = R.choice(["ID47", "-"])
    sd = R.choice(["-", '[exampleSDID@32473 iut="3" eventSource="Application"]', '[a b="c\\"d"][e f="g"]', "[x]", "[bad"])
    msg = R.choice(["", " hello", " \ufeffbom msg", " a b c", " é"])
    return pri + ver + " " + ts + " " + host + " " + app + " " + procid + " " + msgid + " " + sd + msg


def rsopt():
    o = ["@type syslog"]
    if R.random() < 0.7:
        o.append("message_format " + R.choice(["rfc3164", "rfc5424", "auto"]))
    if R.random() < 0.5:
        o.append("with_priority " + R.choice(["true", "false"]))
    if R.random() < 0.3:
        o.append("parser_type " + R.choice(["string", "regexp"]))
    if R.random() < 0.2:
        o.append("support_colonless_ident " + R.choice(["true", "false"]))
    if R.random() < 0.2:
        o.append("rfc5424_time_format " + R.choice(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%L%z"]))
    if R.random() < 0.2:
        o.append("time_format " + R.choice(["%b %d %H:%M:%S", "%b %d %H:%M:%S.%L"]))
    if R.random() < 0.2:
        o.append("keep_time_key true")
    if R.random() < 0.15:
        o.append(R.choice(["utc true", "timezone +09:00", "localtime false"]))
    return "\n".join(o)


def hunt_sopt(name):
    body, frames = "", []
    for i in range(12):
        body += g.filt("parser", "key_name message\nreserve_data true\n<parse>\n%s</parse>" % g.indent(rsopt()), pattern="h%d" % i)
        body += file_match(i, inject="time_key et\ntime_type string\ntime_format %Y-%m-%dT%H:%M:%S.%N%z\nutc true")
        for _ in range(10):
            # Another second than the lines' times: Fluentd's formatter cache mixes whole-second and
            # fractional times of one second (README "Differences from Fluentd").
            frames.append(g.msg({"message": rsyslog_line(), "o": 1}, tag="h%d" % i, time=1700000100))
    g.case(name, body + g.ERR, frames)


# --- fpopt -----------------------------------------------------------------------------------
# filter_parser's own options over random records. Texts are valid UTF-8 (invalid bytes reach
# @ERROR's JSON as U+FFFD, a known difference) and parsers do not estimate the current time.
FP_PARSE = ["@type regexp\nexpression /^(?<a>[^ ]*) (?<b>.*)$/", "@type ltsv", "@type json",
            "@type csv\nkeys a,b", "@type none", "@type regexp\nexpression /^(?<a>\\d+)$/\ntypes a:integer",
            "@type tsv\nkeys a,b", "@type regexp\nexpression /^(?<a>\\d+) (?<t>[1-9]\\d*)$/\ntime_key t\ntime_type unixtime",
            "@type regexp\nexpression /^(?<a>\\d+) (?<t>[1-9]\\d*)$/\ntime_key t\ntime_type unixtime\nkeep_time_key true"]
FP_MSG = ["x y", "1 2", "a:1\tb:2", '{"a":1,"b":"c"}', '{"a":{"n":1}}', "a,b", "12", "", " ", "é ü",
          "x", "a:\tb:", "nomatch", "a:1\n", "\n", "\"q\",", "{}"]


def rfpopts():
    o = []
    if R.random() < 0.5:
        o.append("reserve_data " + R.choice(["true", "false"]))
    if R.random() < 0.4:
        o.append("reserve_time " + R.choice(["true", "false"]))
    if R.random() < 0.4:
        o.append("remove_key_name_field " + R.choice(["true", "false"]))
    if R.random() < 0.4:
        o.append("inject_key_prefix " + R.choice(["p_", "", "x."]))
    if R.random() < 0.4:
        o.append("hash_value_field " + R.choice(["parsed", "message", "a"]))
    if R.random() < 0.4:
        o.append("replace_invalid_sequence " + R.choice(["true", "false"]))
    if R.random() < 0.4:
        o.append("emit_invalid_record_to_error " + R.choice(["true", "false"]))
    return o


def hunt_fpopt(name):
    body, frames = "", []
    for i in range(16):
        key = R.choice(["message", "message", "a", "$.m.k", "$['message']", "$.message"])
        opts, parse = rfpopts(), R.choice(FP_PARSE)
        body += g.filt("parser", "key_name %s\n%s\n<parse>\n%s</parse>" % (key, "\n".join(opts), g.indent(parse + "\nestimate_current_event false")),
                       pattern="h%d" % i)
        # Known differences left out: a JSON text that is no object ("12"), and a value that is no
        # string where Fluentd's parser raises and the record is lost (reserve_data without
        # emit_invalid_record_to_error).
        msgs = [m for m in FP_MSG if "json" not in parse or m not in ("12", "1 2")]
        odd = [12, None, 1.5, True, ["x y"], {"a": "x y"}]
        if "emit_invalid_record_to_error false" in opts and "reserve_data true" in opts and "none" not in parse:
            odd = [None]
            if "@type csv" in parse:  # CSV.parse_line raises on a stray quote, and on no row at all
                msgs = [m for m in msgs if '"' not in m and m != ""]
        body += file_match(i, inject="time_key et\ntime_type string\ntime_format %Y-%m-%dT%H:%M:%S%z\nutc true")
        for _ in range(8):
            rec = {"message": R.choice(msgs), "o": 1}
            r = R.random()
            if r < 0.1:
                del rec["message"]
            elif r < 0.2:
                rec["a"] = R.choice(msgs)
            elif r < 0.3:
                rec["m"] = {"k": R.choice(msgs)}
            elif r < 0.36:
                rec["message"] = R.choice(odd)
            frames.append(g.msg(rec, tag="h%d" % i, time=1700000100))
    g.case(name, body + g.ERR, frames)


# --- rtopt -----------------------------------------------------------------------------------
RT_VALS = ["${record[\"a\"]}", "${record[\"n\"]}", "${record[\"f\"]}", "${record[\"t\"]}", "${time}", "${tag}",
           "1", "1.5", "true", "null", "nil", "[1,2]", "{\"a\":1}", "x${record[\"n\"]}", "${record[\"m\"]}",
           "${record[\"arr\"]}", "-0", "1e3", "0x10", " 1", "1700000001.5", "${record[\"nope\"]}"]
RT_REC = {"a": "va", "n": 7, "f": 2.5, "t": "1700000007.25", "m": {"k": 1}, "arr": [1, "x"], "b": False, "s": "",
          "ti": 1700000009}


def hunt_rtopt(name):
    body, frames = "", []
    for i in range(20):
        o = []
        renew = R.random() < 0.4
        if renew:
            o.append("renew_record true")
            if R.random() < 0.6:
                o.append("keep_keys " + ",".join(R.sample(list(RT_REC) + ["nope"], R.randint(1, 3))))
        vals = RT_VALS
        if R.random() < 0.4:
            o.append("remove_keys " + ",".join(R.sample(list(RT_REC) + ["k0", "nope", "$.m.k"], R.randint(1, 2))))
            if "$.m.k" in o[-1]:  # Fluentd's copy of m is m itself (README "Differences from Fluentd")
                vals = [v for v in RT_VALS if v != '${record["m"]}']
        if R.random() < 0.5:
            o.append("auto_typecast " + R.choice(["true", "false"]))
        if R.random() < 0.4:
            # Only keys whose value is not 0.0 by Ruby's to_f: Fluentd writes a time of 0 as null.
            o.append("renew_time_key " + R.choice(["ti", "t", "f", "n", "nope"]))
        recs = "\n".join("k%d %s" % (j, R.choice(vals)) for j in range(R.randint(0, 3)))
        body += g.filt("record_transformer", "%s\n<record>\n%s</record>" % ("\n".join(o), g.indent(recs)), pattern="h%d" % i)
        body += file_match(i, inject="time_key et\ntime_type string\ntime_format %Y-%m-%dT%H:%M:%S.%N%z\nutc true")
        for _ in range(2):
            frames.append(g.msg(dict(RT_REC), tag="h%d" % i, time=1700000100))
    g.case(name, body + g.ERR, frames)


# --- ml --------------------------------------------------------------------------------------
# The multiline parser (format_firstline, format1..N) and the apache2, apache_error and nginx
# parsers on mutated real lines, through filter_parser.
ML_FORMATS = [
    ("/^\\d{4}-/", ["/^(?<time>\\d{4}-\\d{2}-\\d{2} [^ ]+) (?<level>\\w+) (?<msg>.*)/"]),
    ("/^\\[/", ["/^\\[(?<level>[^\\]]*)\\] (?<msg>[^\\n]*)\\n?/", "/(?<rest>.*)/"]),
    (None, ["/^(?<a>\\w+)/", "/(?<b>\\s\\w+)?/", "/(?<c>.*)$/"]),
    ("/^\\d+ /", ["/^(?<n>\\d+) (?<v>[\\d.]*)(?<rest>.*)/"]),
    ("/^Started/", ["/^Started (?<method>[^ ]+) \"(?<path>[^\"]*)\"[^\\n]*\\n/", "/(?:Processing by (?<ctl>[^\\n]*)\\n)?/",
                    "/(?<tail>.*)/"]),
]
ML_PIECES = ["2023-11-14 22:13:20 INFO start", "2023-11-14 22:13:20.5 WARN x", "[error] boom", "[] e", "  at foo.rb:1",
             "Started GET \"/a\" for 1.2.3.4", "Processing by A#b as HTML", "Completed 200 OK", "word", "two words",
             "", "é ü", "2023-13-40 99:99:99 BAD t", "\ttab", "12 3.5 x", "7  y", "123456789 1e3"]
APACHE = ['127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://r/" "Mozilla/4.08"',
          '::1 - - [14/Nov/2023:22:13:20 +0000] "POST /x?y=1 HTTP/1.1" 500 - "-" "-"',
          '10.0.0.1 - - [14/Nov/2023:22:13:20 +0900] "-" 408 0 "-" "-"',
          '1.2.3.4 - user [14/Nov/2023:22:13:20 +0000] "GET / HTTP/2.0" 304 - "-" "curl/8.0"']
NGINX = ['192.168.0.1 - - [14/Nov/2023:22:13:20 +0000] "GET /x HTTP/1.1" 200 612 "-" "curl/8.0" "10.0.0.1, 10.0.0.2"',
         '::1 - bob [14/Nov/2023:22:13:20 -0700] "POST /api?q=1 HTTP/2.0" 502 0 "http://r/" "Go-http-client/1.1" "-"',
         '10.1.1.1 - - [14/Nov/2023:22:13:20 +0000] "\\x16\\x03\\x01" 400 157 "-" "-"',
         '10.1.1.1 - - [14/Nov/2023:22:13:20 +0000] "GET / HTTP/1.1" 200 - "-" "-"']
APACHE_ERR = ['[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server configuration',
              '[Tue Nov 14 22:13:20.123456 2023] [core:error] [pid 12:tid 34] [client 1.2.3.4:5] AH00126: Invalid URI',
              '[Tue Nov 14 22:13:20 2023] [notice] Apache configured',
              '[Tue Nov 14 22:13:20 2023] [mpm_event:notice] [pid 1] AH00489: resuming']


def mutate(line):
    # The bracketed time is kept whole: a year cut short is before 1970, which logferry keeps
    # wrapped to 32 bits (README "Differences from Fluentd").
    b0, b1 = line.find("["), line.find("]")
    if b0 >= 0 and R.random() < 0.8:
        return line[:b0] + "\x00" + line[b1 + 1:], line[b0:b1 + 1]
    return line, None


def mutated(line):
    line, kept = mutate(line)
    line = mutate_ops(line)
    return line.replace("\x00", kept) if kept else line


def mutate_ops(line):
    ops = R.randint(0, 2)
    for _ in range(ops):
        k = R.random()
        p = R.randint(0, len(line))
        if k < 0.3 and line:
            q = min(len(line), p + R.randint(1, 4))
            line = line[:p] + line[q:]
        elif k < 0.6:
            line = line[:p] + R.choice([" ", "-", '"', "[", "]", "é", "x", "0", ":", "\t"]) + line[p:]
        else:
            line = line.replace(R.choice([" - ", " 200 ", "HTTP/1.1", "[error]", "GET", '"-"', "2326", "+0000"]),
                                R.choice([" ", " x ", "", "-", '""', " 65536 "]), 1)
    return line


def hunt_ml(name):
    body, frames = "", []
    for i in range(12):
        r = R.random()
        if r < 0.5:
            first, fmts = R.choice(ML_FORMATS)
            parse = "@type multiline\nestimate_current_event false\n"
            if first:
                parse += "format_firstline %s\n" % first
            parse += "".join("format%d %s\n" % (j + 1, f) for j, f in enumerate(fmts))
            if "time" in fmts[0] and R.random() < 0.7:
                parse += "time_format %Y-%m-%d %H:%M:%S\n"
            if "(?<n>" in fmts[0]:
                parse += R.choice(["types n:integer,v:float\n", "types n:string,v:integer\n", "null_empty_string true\n", ""])
            lines = lambda: "\n".join(R.choice(ML_PIECES) for _ in range(R.randint(1, 4)))
        elif r < 0.75:
            parse = R.choice(["@type apache2", "@type nginx", "@type nginx\nkeep_time_key true"])
            lines = lambda: mutated(R.choice(APACHE + NGINX))
        else:
            parse = "@type apache_error"
            lines = lambda: mutated(R.choice(APACHE_ERR))
        body += g.filt("parser", "key_name message\nreserve_data true\n<parse>\n%s</parse>" % g.indent(parse), pattern="h%d" % i)
        body += file_match(i, inject="time_key et\ntime_type string\ntime_format %Y-%m-%dT%H:%M:%S.%N%z\nutc true")
        for _ in range(10):
            frames.append(g.msg({"message": lines(), "o": 1}, tag="h%d" % i, time=1700000100))
    g.case(name, body + g.ERR, frames)


# --- tkey ------------------------------------------------------------------------------------
# out_file with time, tag and record-key chunk keys, timekey, timekey_zone and timekey_use_utc in
# the path (one case per config).
def hunt_tkey(name):
    keys = R.sample(["time", "tag", "k", "$.m.k"], R.randint(1, 3))
    if "time" not in keys and R.random() < 0.5:
        keys.append("time")
    timekey = R.choice(["60", "3600", "1h", "86400", "1d", "7200", "30m", "90"])
    path = "{DIR}/out/p/" + R.choice(["", "x."])
    if "time" in keys:
        if R.random() < 0.15:  # maybe too coarse: Fluentd refuses those
            path += R.choice(["%Y%m%d", "%Y%m%d%H", "%Y-%m-%dT%H%z", "%j.%U"])
        elif timekey in ("60", "90", "30m"):
            path += R.choice(["%Y%m%d%H%M", "%H%M%S", "%s", "%Y%m%d%H%M.%Z", "%Y-%m-%dT%H:%M%z"])
        elif timekey in ("3600", "1h", "7200"):
            path += R.choice(["%Y%m%d%H", "%Y%m%d.%H", "%Y-%m-%dT%H%z", "%H.%Z", "%s"])
        else:
            path += R.choice(["%Y%m%d", "%j.%Y", "%F", "%Y%m%d%z", "%a.%d"])
    if "tag" in keys:
        path += R.choice(["${tag}", ".${tag[0]}", ".${tag[-1]}", ".${tag[1]}"])
    if "k" in keys:
        path += R.choice([".${k}", "${k}"])
    if "$.m.k" in keys:
        path += ".${$.m.k}"
    buf = ["@type memory"]
    if "time" in keys:
        buf.append("timekey " + timekey)
        if R.random() < 0.5:
            buf.append("timekey_use_utc " + R.choice(["true", "false"]))
        if R.random() < 0.5:
            buf.append("timekey_zone " + R.choice(["+0900", "-0530", "+09:00", "Asia/Tokyo", "America/New_York", "UTC", "-1000"]))
    extra = R.choice(["append true", "append false", "append true\nadd_path_suffix false", "append true\npath_suffix .txt"])
    times = [1700000000, 1700003700, 1700090000, 1699999999, 1700006400, 1700020800, 1710054000]
    frames = []
    for _ in range(6):
        rec = {"k": R.choice(["a", "b", "", "a", "b", None, 1, 1.5, True]), "m": {"k": R.choice(["p", "q", 1, None])}}
        if R.random() < 0.1:
            del rec["k"]
        if R.random() < 0.1:
            rec["m"] = R.choice([{}, None])
        frames.append(g.msg(rec, tag=R.choice(["h.a", "h.b.c", "h.x"]), time=R.choice(times)))
    body = "@type file\npath %s\n%s\n<format>\n  @type json\n</format>\n<inject>\n  tag_key tg\n</inject>\n<buffer %s>\n%s</buffer>" % (
        path, extra, ",".join(keys), g.indent("\n".join(buf)))
    g.case(name, "<match h.**>\n%s</match>\n" % g.indent(body) + g.ERR, frames)

# --- ftime -----------------------------------------------------------------------------------
# Time options on formatters other than out_file's (json, ltsv, csv, single_value, hash, tsv,
# out_file): timezone, localtime, utc and time_format in <format>, and <inject> time keys with
# their own zones and formats.
FT_ZONES = ["localtime true", "localtime false", "utc true", "utc false", "timezone +09:00", "timezone -0530",
            "timezone Asia/Tokyo", "timezone America/New_York", "timezone +00:00"]
FT_FORMATS = ["%Y-%m-%dT%H:%M:%S%z", "%s", "%s.%N", "%FT%T.%3N%:z", "%d/%b/%Y:%H:%M:%S %z", "%H:%M:%S %Z", "%N",
              "%Y%m%d%H%M%S.%6N", "%iso8601"]


def hunt_ftime(name):
    ET_NSECS[:] = [0]
    body, frames = "", []
    for i in range(14):
        kind = R.choice(["json", "ltsv", "csv", "single_value", "hash", "tsv", "out_file"])
        fmt = ["@type " + kind]
        if kind == "csv":
            fmt.append("fields a,tm,tg,t2")
        elif kind == "tsv":
            fmt.append("keys a,tm,t2")
        elif kind == "single_value":
            fmt.append("message_key " + R.choice(["tm", "t2", "a"]))
        if R.random() < 0.5:
            fmt.append("time_format " + R.choice(FT_FORMATS))
        if R.random() < 0.3:
            # (out_file's time_type float of an integer time is a known difference: README)
            fmt.append("time_type " + R.choice(["string", "unixtime"]))
        if R.random() < 0.5:
            fmt.append(R.choice(FT_ZONES))
        inj = ["time_key " + R.choice(["tm", "t2", "a"])]
        if R.random() < 0.5:
            inj.append("tag_key tg")
        inj.append("time_type " + R.choice(["string", "string", "float", "unixtime", "unixtime_millis"]))
        if R.random() < 0.7:
            inj.append("time_format " + R.choice(FT_FORMATS))
        if R.random() < 0.6:
            inj.append(R.choice(FT_ZONES))
        body += file_match(i, "\n".join(fmt), inject="\n".join(inj))
        # Each time in its own second (Fluentd's formatter caches one text a second); no time 0
        # (in_forward's "now").
        for t in [1700000000, {"$et": [1700000001, 123456789]}, {"$et": [1710054000, 5]}, {"$et": [1699999999, 999999999]}]:
            frames.append(g.msg(R.choice([{"a": 1}, {"a": "x", "tm": "old"}, {}]), tag="h%d" % i, time=t))
    g.case(name, body + g.ERR, frames)


# --- ptime -----------------------------------------------------------------------------------
# Parser time_type mixed with time_format_fallbacks, and float/unixtime/string with localtime,
# utc and timezone, through filter_parser (regexp with a time key, json with typed time values).
PT_OPTS = ["time_type float", "time_type unixtime", "time_type string", "",
           "time_type string\ntime_format %Y-%m-%d %H:%M:%S", "time_type string\ntime_format %d/%b/%Y:%H:%M:%S %z",
           "time_type string\ntime_format %s", "time_type string\ntime_format %iso8601",
           "time_type string\ntime_format %Y-%m-%dT%H:%M:%S.%N%z", "time_format %Y-%m-%d %H:%M:%S.%L"]
PT_FALLBACKS = ["%Y-%m-%d %H:%M:%S, %s", "%iso8601, %Y-%m-%d", "%d/%b/%Y:%H:%M:%S %z, unixtime",
                "unixtime, %Y-%m-%dT%H:%M:%S%z", "%s.%N, %Y-%m-%d", "%H:%M:%S, %Y-%m-%d %H:%M:%S %z, %s",
                "%Y-%m-%d %H:%M:%S"]
PT_VALS = ["2023-11-14 22:13:20", "2023-11-14T22:13:20Z", "2023-11-14T22:13:20+09:00", "2023-11-14T22:13:20.5-05:00",
           "14/Nov/2023:22:13:20 +0900", "1700000000", "1700000000.123", "1700000000.123456789",
           "2023-11-14", "22:13:20", " 1700000000", "2023-11-14 22:13:20 +0100", "2023-11-14 22:13:20.250",
           "2023", "2023-03-12 02:30:00", "2023-11-05 01:30:00"]
# Not drawn: times before 1970 or after 2106 ("-1", "1e9" read by %Y), and texts whose time is 0
# ("x" as a float, "0"):
# known differences (README "Differences from Fluentd").


def hunt_ptime(name):
    body, frames = "", []
    for i in range(14):
        opt = R.choice(PT_OPTS + ["time_type mixed\ntime_format_fallbacks " + R.choice(PT_FALLBACKS)] * 4)
        if "mixed" in opt and R.random() < 0.5 and "fallbacks" in opt:
            opt = opt.replace("time_type mixed", "time_type mixed\ntime_format " + R.choice(["%Y-%m-%d", "%s", "%iso8601"]))
        zone = R.choice(["", "", "localtime true", "localtime false", "utc true", "timezone +09:00", "timezone Asia/Tokyo",
                         "timezone America/New_York", "timezone -03:30"])
        if "time_format" not in opt and zone not in ("", "localtime true"):
            zone = ""  # "specifying timezone requires time format" refuses the whole config
        if "%s" in opt and zone.startswith("timezone"):
            # Fluentd moves an epoch count by the zone's offset: a known difference (README
            # "Differences from Fluentd", "Epoch seconds in a time_format are not moved by
            # timezone"; under TZ=UTC, utc and localtime false do not move it)
            zone = ""
        kind = R.choice(["regexp", "json"])
        parse = ("@type regexp\nexpression /^(?<a>[^|]*)\\|(?<t>.*)$/" if kind == "regexp" else "@type json")
        parse += "\ntime_key t\n" + opt + ("\n" + zone if zone else "")
        if R.random() < 0.3:
            parse += "\nkeep_time_key true"
        body += g.filt("parser", "key_name message\nreserve_data true\n<parse>\n%s</parse>" % g.indent(parse), pattern="h%d" % i)
        body += file_match(i, inject="time_key et\ntime_type string\ntime_format %Y-%m-%dT%H:%M:%S.%N%z\nutc true")
        for _ in range(8):
            v = R.choice(PT_VALS)
            if kind == "regexp":
                line = "a|" + v
            else:
                import json as _j
                jv = v
                if R.random() < 0.4:
                    try:
                        jv = int(v) if v.lstrip("-").isdigit() else float(v)
                    except ValueError:
                        jv = v
                line = _j.dumps({"a": 1, "t": jv})
            frames.append(g.msg({"message": line, "o": 1}, tag="h%d" % i, time=1700000100))
    g.case(name, body + g.ERR, frames)


# --- fileopt ---------------------------------------------------------------------------------
# out_file's own options: add_path_suffix, path_suffix, append false, compress gzip, format
# single_value with add_newline false, out_file format's output_tag/output_time, symlink-free
# (one case per config).
def hunt_fileopt(name):
    opts = [R.choice(["append true", "append false", "append true", ""])]
    if R.random() < 0.4:
        opts.append("compress gzip")
    if R.random() < 0.4:
        opts.append("add_path_suffix " + R.choice(["true", "false"]))
    if R.random() < 0.4:
        opts.append("path_suffix " + R.choice([".txt", "", ".json.log", "_x", ".log"]))
    if R.random() < 0.2:
        opts.append("recompress " + R.choice(["true", "false"]))
    fmt = R.choice(["@type single_value\nadd_newline false", "@type single_value\nmessage_key b\nadd_newline false",
                    "@type single_value", "@type out_file\noutput_tag false", "@type out_file\noutput_time false",
                    "@type out_file\noutput_tag false\noutput_time false", "@type out_file\noutput_time false\ndelimiter COMMA",
                    "@type json\nadd_newline false", "@type ltsv\nadd_newline false", "@type csv\nfields message,b\nadd_newline false",
                    "@type hash\nadd_newline false", "@type out_file\ntime_type unixtime\noutput_tag false"])
    path = "{DIR}/out/p/" + R.choice(["f", "f.${tag}", "f.%Y%m%d", "x/f", "f.log", "f.gz", "f.*"])
    keys = []
    if "${tag}" in path:
        keys.append("tag")
    if "%Y" in path:
        keys.append("time")
    buf = "<buffer %s>\n  @type memory\n%s</buffer>" % (",".join(keys), "  timekey 86400\n" if "time" in keys else "")
    frames = []
    for n in range(R.randint(2, 6)):
        frames.append(g.msg({"message": R.choice(["a", "", "é", "x y", 1, None, "line\nbreak"]), "b": R.choice(["q", 2, [1]]), "n": n},
                            tag=R.choice(["h.a", "h.b"]), time=R.choice([1700000000, 1700090000])))
    body = "@type file\npath %s\n%s\n<format>\n%s</format>\n%s" % (path, "\n".join(o for o in opts if o), g.indent(fmt), buf)
    g.case(name, "<match h.**>\n%s</match>\n" % g.indent(body) + g.ERR, frames)


# --- copymode --------------------------------------------------------------------------------
# copy with copy_mode no_copy, shallow, deep and marshal, each <store> a relabel into a label
# whose record_transformer mutates the record (adds, removes, renews, changes nested values)
# before out_file.
def hunt_copymode(name):
    body, frames = "", []
    for i in range(6):
        mode = R.choice(["no_copy", "shallow", "deep", "marshal", ""])
        stores = ""
        for j in range(R.randint(2, 3)):
            stores += "<store>\n  @type relabel\n  @label @L%d_%d\n</store>\n" % (i, j)
            # A nested removal reaches later stores in Fluentd's no_copy and shallow modes (README
            # "Differences from Fluentd"): drawn with deep and marshal only.
            nested = ["remove_keys $.m.k"] if mode in ("deep", "marshal") else []
            rt = R.choice(nested + [
                "<record>\n  x%d ${record[\"a\"]}\n</record>" % j,
                "remove_keys a",
                "enable_ruby false\n<record>\n  a changed%d\n</record>" % j,
                "renew_record true\nkeep_keys m\n<record>\n  s%d y\n</record>" % j,
                "<record>\n  m ${record[\"m\"]}\n</record>",
                "<record>\n  a ${record[\"m\"][\"k\"]}\n</record>",
            ])
            inner = g.filt("record_transformer", rt)
            if R.random() < 0.5:
                inner += g.filt("record_transformer", R.choice(["remove_keys m", "<record>\n  later %d\n</record>" % j]))
            inner += file_match(0, pattern="**").replace("/f0", "/c%d_%d" % (i, j))
            body += "<label @L%d_%d>\n%s</label>\n" % (i, j, g.indent(inner))
        cm = ("copy_mode %s\n" % mode) if mode else ""
        body = ("<match h%d>\n  @type copy\n%s%s</match>\n" % (i, g.indent(cm) if cm else "", g.indent(stores))) + body
        for n in range(3):
            frames.append(g.msg({"a": R.choice(["v", 1, None]), "m": {"k": R.choice(["p", [1, 2], {"z": 1}]), "j": n}, "n": n},
                                tag="h%d" % i))
    g.case(name, body + g.ERR, frames)


# --- grepab ----------------------------------------------------------------------------------
# grep with <and>/<or> blocks of <regexp>/<exclude> on nested keys, beside top-level ones.
GA_KEYS = ["k", "$.m.k", "$.m.n.x", "$.arr[0]", "$.arr[1]", "$.m", "nope", "$.m.nope.x", "$['m']['k']"]
GA_PATS = ["/a/", "/^a$/", "/^$/", "/1/", "/^\\d+$/", "/true/", "/./", "/b|c/", "/^\\[/", "/=>/", "/é/", "/A/i"]


def hunt_grepab(name):
    body, frames = "", []
    for i in range(14):
        parts = []
        # Every key once per filter: a key twice where Fluentd pools them (top-level <regexp>s
        # with <and>'s, top-level <exclude>s with <or>'s...) refuses the whole config.
        keys = R.sample(GA_KEYS, len(GA_KEYS))
        for _ in range(R.randint(1, 3)):
            blk = R.choice(["and", "or", "regexp", "exclude"])
            if blk in ("and", "or"):
                k = R.choice(["regexp", "exclude"])
                inner = "".join("<%s>\n  key %s\n  pattern %s\n</%s>\n" % (k, keys.pop(), R.choice(GA_PATS), k)
                                for _ in range(R.randint(1, 3)))
                parts.append("<%s>\n%s</%s>" % (blk, g.indent(inner), blk))
            else:
                parts.append("<%s>\n  key %s\n  pattern %s\n</%s>" % (blk, keys.pop(), R.choice(GA_PATS), blk))
        body += g.filt("grep", "\n".join(parts), pattern="h%d" % i)
        body += file_match(i)
        vs = ["a", "b", "c", "", "1", 1, True, None, "é", [1], {"z": 1}, "A", 12]
        for n in range(10):
            rec = {"k": R.choice(vs), "m": {"k": R.choice(vs), "n": {"x": R.choice(vs)}}, "arr": [R.choice(vs), R.choice(vs)], "id": n}
            if R.random() < 0.15:
                rec["m"] = R.choice([None, "s", {}])
            frames.append(g.msg(rec, tag="h%d" % i))
    g.case(name, body + g.ERR, frames)


# --- conf ------------------------------------------------------------------------------------
# Config literal syntax as Fluentd's v1 parser reads it: unquoted, double- and single-quoted
# values with escapes, line continuations and embedded `#{...}` of README's subset, comments,
# JSON arrays and hashes over several lines, CRLF line ends; seen in written records
# (record_transformer values) and through typed parameters (bool, array, hash, regexp, time,
# size, integer, enum) whose reading shows in what is written. One config a case (a refusal
# stops the whole config).
CONF_VALS = ['plain', 'a b', 'a  b  ', 'a#b', 'a #b', 'a\t#b', 'x\\ty', "'single'", "'a\\'b'", "'a\\\\b'",
             "'a\\nb'", "'a\"b'", "''", '""', '"q"', '"a\\"b"', '"t\\tx"', '"n\\nx"', '"r\\rx"', '"f\\fx"',
             '"b\\bx"', '"z\\0x"', '"\\\\"', '"\\/"', '"\\$"', '"\\#{x}"', '"\\{"', "\"\\'\"", '"a\\\nb"',
             '"a\nb"', "'a\nb'", '"#{\'s\'}"', '"#{24224}"', '"#{1.5}"', '"#{1e3}"', '"#{nil}"', '"#{true}"',
             '"#{ENV[\'NOPE_X\']}"', '"#{ENV[\'NOPE_X\'] || \'d\'}"', '"#{ENV.fetch(\'NOPE_X\', \'f\')}"',
             '"#{File.join(\'a\', \'b\')}"', '"#{worker_id}"', '"a#{\'b\'}c"', '"#{0x1f}"', '"#{1_000}"',
             '"#{017}"', '"#{-1}"', "'#{x}'", '#{x}', '"a" # c', '"a"  ', '[1, "a"]', '["a",\n  "b"]',
             '{"k": 1}', '{"k":\n 1}', '[1, # c\n 2]', '["#"]', '"é"', 'é', '${tag}', '"${tag}"', 'a\\',
             '', ' ', '"#{ENV["NOPE_X"]}"', '"#{"in"}"', "'a\\tb'", '"a\\ b"', '"#{false}"', '"#{nil || 3}"',
             '"#{\'\'}"', '"#{ 1 }"', '"x\\\n  y"', '[]', '{}', '"[1]"', "'{\"a\":1}'", '[ "a" ] # c',
             'a"b', "a'b", '"a"b"']
CONF_BAD = ['"x"y', "'x'y", '"\\x"', '"\\u00e9"', '[a', '{', '"open', '"\\s"', '"\\e"', "'a'b'", '[1,]']
# (`"#{use_nil}"` on a parameter with a default is a known difference: README.)
BOOLS = ['true', 'yes', 'false', 'no', '', '# c', 'maybe', '"true"', "'no'", 'TRUE', '1', 'true # c', '"#{true}"',
         '"#{use_default}"', 'on', 'false  ', '"false"', 'nil', '"#{false}"', '"#{nil}"']
ARRAYS = ['a,b', ' a , b ', '["a","b"]', '[ "a" ]', '["a",\n  "b"]', 'a,,b', "'a,b'", '"a, b"', '["a", 1]',
          'a b', '"a",b', '[]', '', ',', 'a,', '["b" # c\n ]', '["$.m.k"]', '$.m.k,a', "a\tb", '[["a"]]',
          '{"a":1}', '"[\\"a\\"]"']
HASHES = ['a:integer,b:float', '{"a":"integer"}', ' a : integer ', 'a:integer , b:bool', '{"a": "float",\n "b": "bool"}',
          'a:integer,', 'a', 'a:', ':integer', 'a:integer:x', '"a:float"', "'{\"b\":\"integer\"}'", '{"a":1}',
          'a:time:%s', 'a:array:|', '[1]', 'a:integer # c', 'b:bool,a:string']
REGEXPS = ['/a/', 'a', '/A/i', '/a/x', '/A/im', '/a/ix', '/a/abcd', '/a', '/ab', '/^1$/', '"/a/"', "'/^x/'",
           '/a b/', '/a\\/b/', '/\\d/', '"\\\\d"', '/[/', '//', '/./m', 'x/', '/a/ # c', '/a#b/', '/é/']
# (A timekey with a fraction, `3600.5`, slices time at fractional boundaries in Fluentd; logferry
# takes whole seconds: left, not drawn.)
TIMEKEYS = ['1h', '3600', '1.5h', '0.5d', '60m', '1d', '30s', '90', '2h', '1h30m', '"1h"', '1H', '1e3',
            '7200s', ' 1h ', '0.5h', '1h # c']
# (Not below a record's size: Fluentd sends a record larger than chunk_limit_size to @ERROR, logferry
# keeps it, README "Differences from Fluentd".)
SIZES = ['1k', '1m', '0.5m', '1kb', '1.5k', '8MB', '1g', '"1k"', '1K', '10_000', '2k # c', '"#{2048}"']
NLINES = ['2', ' 2', '2abc', '0_3', '"2"', '0x2', '+2', '2.9', '3 # c', '"#{2}"', '6']
ENUMS = ['string', '"string"', "'unixtime'", 'String', 'unixtime # c', 'float  ', 'UNIXTIME', '"float" # c']


def conf_line(key, val):
    return "%s %s" % (key, val) if val != "" else key


def hunt_conf(name):
    filters, frames = "", []
    ents = []
    for j in range(R.randint(1, 5)):
        v = R.choice(CONF_BAD) if R.random() < 0.04 else R.choice(CONF_VALS)
        ents.append(conf_line(R.choice(["k%d" % j] * 5 + ["k%d.x" % j, "k%d-x" % j, "_k%d" % j, "k%d/x" % j]), v))
    filters += g.filt("record_transformer", "<record>\n%s\n</record>" % "\n".join(ents))
    out_extra, buf, path, fmt, inject = "", "[]", "{DIR}/out/x", "@type json", None
    for feat in R.sample(["bool", "array", "hash", "regexp", "time", "size", "int", "enum", "flush"], R.randint(1, 2)):
        if feat == "bool":
            filters = g.filt("parser", "key_name m\n" + conf_line("reserve_data", R.choice(BOOLS)) + "\n<parse>\n  @type json\n  estimate_current_event false\n</parse>") + filters
        elif feat == "array":
            filters += g.filt("record_transformer", conf_line("remove_keys", R.choice(ARRAYS)))
        elif feat == "hash":
            filters = g.filt("parser", "key_name s\nreserve_data true\n<parse>\n  @type regexp\n  expression /^(?<a>[^ ]*) (?<b>.*)$/\n  estimate_current_event false\n  %s\n</parse>"
                             % conf_line("types", R.choice(HASHES)).replace("\n", "\n  ")) + filters
        elif feat == "regexp":
            filters += g.filt("grep", "<exclude>\n  key b\n  %s\n</exclude>" % conf_line("pattern", R.choice(REGEXPS)).replace("\n", "\n  "))
        elif feat == "time":
            path = "{DIR}/out/t.%Y%m%d%H%M%S"
            buf = "time"
            out_extra = "timekey " + R.choice(TIMEKEYS)
        elif feat == "size":
            out_extra = "chunk_limit_size " + R.choice(SIZES)
        elif feat == "flush":
            out_extra = "flush_interval " + R.choice(TIMEKEYS + ["0.5s", "0", "-1", "x"])
        elif feat == "int":
            filters += g.filt("concat", "key k\n" + conf_line("n_lines", R.choice(NLINES)))
        elif feat == "enum":
            inject = "time_key tm\n" + conf_line("time_type", R.choice(ENUMS))
    body = "@type file\npath %s\nappend true\n<format>\n%s</format>\n" % (path, g.indent(fmt))
    if inject:
        body += "<inject>\n%s</inject>\n" % g.indent(inject)
    body += "<buffer %s>\n  @type memory\n%s</buffer>\n" % (buf, "  " + out_extra + "\n" if out_extra else "")
    conf = filters + "<match **>\n%s</match>\n" % g.indent(body) + g.ERR
    if R.random() < 0.15:
        conf = conf.replace("\n", "\r\n")
    ts = [1700000000, 1700003600, 1700007300, 1700090000, 1700000030, 1700000060]
    # One tag when concat groups lines (a group still open at shutdown is lost by Fluentd: README).
    tag = "t.a" if "n_lines" in conf else R.choice(["t", "t.a"])
    # Six lines: n_lines of 1, 2, 3 and 6 leave no group open at shutdown.
    for n in range(6 if "n_lines" in conf else 4):
        frames.append(g.msg({"a": R.choice([1, "1", "x"]), "b": R.choice(["a", "A", "1", "x/y", "ab", "a b"]),
                             "m": R.choice(['{"j":1}', "bad"]), "s": R.choice(["1 2", "x 1.5", "7 true", "a|b c"]),
                             "k": "line%d" % n, "n": n}, tag=tag, time=ts[n]))
    g.case(name, conf, frames)


# --- types -----------------------------------------------------------------------------------
# Parser `types` on every kind of value: JSON values of each type (numbers, big integers, floats,
# nested arrays and objects, null, booleans) and text, with `time` types carrying a zone
# (`time:+09:00:%Y-%m-%d`, `time:Asia/Tokyo:%s`), `array` with several delimiters,
# null_value_pattern, null_empty_string, estimate_current_event and keep_time_key.
TY_TYPES = ["string", "integer", "float", "bool", "time", "time:%Y-%m-%d %H:%M:%S", "time:unixtime", "time:float",
            "time:+09:00:%Y-%m-%d %H:%M:%S", "time:Asia/Tokyo:%Y-%m-%d", "time:-0530:%H:%M", "time:%s", "time:%iso8601",
            "time:UTC:%Y", "time:%d/%b/%Y:%H:%M:%S %z", "array", "array:|", "array:ab", "array:;", "time:string",
            "time:mixed", "time:+09:00:unixtime", "time:%Y-%m-%dT%H:%M:%S%z", "bool:x", "integer:x"]
# (`array:` with an empty delimiter: Fluentd splits a multi-byte character into bytes, a known
# difference, not drawn.)
# Not drawn: integers past 64 bits (floats in logferry), and for `time` types times with a
# fraction, before 1970 or after 2106 (known differences, README "Differences from Fluentd").
TY_TIME_SAFE = [0, 1, 1700000000, "", "1", "1700000000", "2023-11-14 22:13:20", "2023-11-14T22:13:20+09:00",
                "14/Nov/2023:22:13:20 +0000", "22:13", "x", "2023", None, True, "a b", [1], {}]
TY_JVALS = [0, 1, -1, 1.5, -2.5, 1e15, 9223372036854775807, True, False, None, [], [1, "a"],
            {}, {"k": 1}, "", "1", "1.5", "true", "yes", "YES", "1,2", "a|b", "a b", "2023-11-14 22:13:20", "1700000000",
            "1700000000.5", "2023-11-14T22:13:20+09:00", "14/Nov/2023:22:13:20 +0000", "22:13", "x", " 7 ", "0x1A",
            "1e3", "-0", "null", "-", "é", "abab", "a,,b", "2023", "1_000", "Infinity", "NaN"]


def hunt_types(name):
    import json as _j
    body, frames = "", []
    for i in range(12):
        kind = R.choice(["json", "json", "regexp", "ltsv"])
        keys = R.sample(["a", "b", "c", "t"], R.randint(1, 3))
        tys = {k: R.choice(TY_TYPES) for k in keys}
        opts = ["types " + ",".join("%s:%s" % kv for kv in tys.items())]
        if R.random() < 0.3:
            opts.append("null_value_pattern " + R.choice(["/^(-|null)$/", "-", "^$", "/1/", "/^x$/i"]))
        if R.random() < 0.3:
            opts.append("null_empty_string " + R.choice(["true", "false"]))
        if R.random() < 0.5:
            opts.append("time_key t")
            if R.random() < 0.6:
                opts.append(R.choice(["time_type unixtime", "time_type float", "time_format %Y-%m-%d %H:%M:%S",
                                      "time_format %s", "time_format %iso8601", "time_type mixed\ntime_format_fallbacks %Y-%m-%d %H:%M:%S, %s"]))
            if R.random() < 0.5:
                opts.append("keep_time_key true")
        opts.append("estimate_current_event false")
        timed_key = lambda k: tys.get(k, "").startswith("time") or (k == "t" and "time_key t" in opts)
        if kind == "regexp":
            parse = "@type regexp\nexpression /^(?<a>[^|]*)\\|(?<b>[^|]*)\\|(?<c>[^|]*)\\|(?<t>[^|]*)$/"
        elif kind == "ltsv":
            parse = "@type ltsv"
        else:
            parse = "@type json"
        parse += "\n" + "\n".join(opts)
        body += g.filt("parser", "key_name message\nreserve_data true\nreserve_time true\n<parse>\n%s</parse>" % g.indent(parse), pattern="h%d" % i)
        body += file_match(i, inject="time_key et\ntime_type string\ntime_format %Y-%m-%dT%H:%M:%S.%N%z\nutc true")
        for _ in range(8):
            vals = [R.choice(TY_TIME_SAFE if timed_key(k) else TY_JVALS) for k in "abct"]
            if kind == "json":
                rec = {k: v for k, v in zip("abct", vals) if R.random() < 0.9}
                line = _j.dumps(rec, ensure_ascii=False)
            else:
                sv = [v if isinstance(v, str) else _j.dumps(v) for v in vals]
                sv = [v.replace("|", "/").replace("\t", " ") for v in sv]
                line = "|".join(sv) if kind == "regexp" else "\t".join("%s:%s" % kv for kv in zip("abct", sv))
            frames.append(g.msg({"message": line, "o": 1}, tag="h%d" % i, time=1700000100))
    g.case(name, body + g.ERR, frames)


# --- mfmt ------------------------------------------------------------------------------------
# multi_format (fluent-plugin-multi-format-parser 1.1.0: record it with that plugin loadable)
# with random <pattern>s, and the delimiter options of the ltsv, tsv and csv parsers.
MF_PATTERNS = ["format json", "format regexp\nexpression /^(?<a>\\d+) (?<b>.*)$/", "format /^(?<x>\\w+):(?<y>.*)$/",
               "format ltsv", "format csv\nkeys a,b", "format tsv\nkeys a,b", "format none", "format apache2",
               "format syslog", "format regexp\nexpression /^(?<a>\\d+) (?<time>\\d+)$/\ntime_key time\ntime_format %s",
               "format json\ntime_key t\ntime_type unixtime", "format json\nestimate_current_event false",
               "format regexp\nexpression /^(?<w>\\w+)$/\nestimate_current_event false", "format ltsv\ndelimiter ,\nlabel_delimiter =",
               "format json\ntypes a:string", "format nginx"]
MF_LINES = ['{"a":1}', '{"t":1700000000,"a":2}', '12 rest', 'word', 'k:v', 'a:1\tb:2', 'a=1,b=2', '1,2', 'x\ty',
            '', ' ', '{bad', '12 1700000000', '<13>Nov 14 22:13:20 host app: msg',
            '127.0.0.1 - - [14/Nov/2023:22:13:20 +0000] "GET / HTTP/1.1" 200 5 "-" "-"', 'a:b:c', '"q",r', 'é:ü']
LD_PARSERS = ["@type ltsv\ndelimiter ,", "@type ltsv\nlabel_delimiter =", "@type ltsv\ndelimiter_pattern /\\s+/",
              "@type ltsv\ndelimiter ;\nlabel_delimiter =", "@type ltsv\ndelimiter_pattern /[,;]/\nlabel_delimiter =",
              "@type ltsv\ndelimiter ' '", "@type ltsv\nlabel_delimiter ::", "@type ltsv\ndelimiter \\t",
              "@type tsv\nkeys a,b,c\ndelimiter ,", "@type tsv\nkeys a,b\ndelimiter |", "@type tsv\nkeys a,b,c\ndelimiter ' '",
              "@type csv\nkeys a,b,c\ndelimiter ;", "@type csv\nkeys a,b\ndelimiter |\nparser_engine fast",
              "@type csv\nkeys a,b,c\ndelimiter \\t", "@type csv\nkeys [\"a\",\"b\"]", "@type tsv\nkeys a,b,a",
              "@type csv\nkeys a,b,c\nparser_engine fast", "@type ltsv\nlabel_delimiter =\ndelimiter_pattern /&/"]
LD_TOKS = ['a', 'b', '1', '', ' ', ',', ';', '|', '=', ':', '\t', '"', '""', 'a=1', 'b:2', 'c=', '=x', 'é', '::', '&', "'", 'ab']


def hunt_mfmt(name):
    body, frames = "", []
    for i in range(10):
        if R.random() < 0.5:
            pats = R.sample(MF_PATTERNS, R.randint(1, 4))
            parse = "@type multi_format\n" + "".join("<pattern>\n%s</pattern>\n" % g.indent(p) for p in pats)
            # A JSON text that is no object (`12 ...`) gives Fluentd a record that is not a map
            # (a known difference): not drawn where a json pattern comes first.
            ok = [l for l in MF_LINES if not (l[:1].isdigit() and any(p.startswith("format json") for p in pats))]
            lines = lambda: R.choice(ok)
        else:
            parse = R.choice(LD_PARSERS)
            lines = lambda: "".join(R.choice(LD_TOKS) for _ in range(R.randint(0, 8)))
        extra = R.choice(["reserve_data true\n", "", "reserve_data true\nemit_invalid_record_to_error false\n"])
        if "@type csv" in parse and "fast" not in parse:
            # CSV.parse_line raises on a stray quote and on no row: the record is lost in Fluentd
            # without emit_invalid_record_to_error (README "Differences from Fluentd").
            extra = extra.replace("emit_invalid_record_to_error false\n", "")
        body += g.filt("parser", "key_name message\n%s<parse>\n%s</parse>" % (extra, g.indent(parse)), pattern="h%d" % i)
        body += file_match(i, inject="time_key et\ntime_type string\ntime_format %Y-%m-%dT%H:%M:%S%:z\nutc true")
        for _ in range(8):
            frames.append(g.msg({"message": lines(), "o": 1}, tag="h%d" % i, time=1700000100))
    g.case(name, body + g.ERR, frames)


# --- err -------------------------------------------------------------------------------------
# Which records reach <label @ERROR>, and as what: filter_parser's error paths (no key, a text
# no pattern matches, a value that is no string, emit_invalid_record_to_error, reserve_data) in
# the root and in labels, with relabel and copy around, and @ERROR's own filters and routing
# (a parser failing inside @ERROR, relabel out of it, a copy, tag-less matches).
ERR_FILTERS = [
    "@type parser\nkey_name k\n<parse>\n  @type json\n  estimate_current_event false\n</parse>",
    "@type parser\nkey_name k\nreserve_data true\n<parse>\n  @type json\n  estimate_current_event false\n</parse>",
    "@type parser\nkey_name k\nreserve_data true\nemit_invalid_record_to_error false\n<parse>\n  @type json\n  estimate_current_event false\n</parse>",
    "@type parser\nkey_name nope\n<parse>\n  @type none\n  estimate_current_event false\n</parse>",
    "@type parser\nkey_name k\nreserve_data true\n<parse>\n  @type regexp\n  estimate_current_event false\n  expression /^(?<w>\\w+)$/\n</parse>",
    "@type parser\nkey_name k\nhash_value_field p\n<parse>\n  @type ltsv\n  estimate_current_event false\n</parse>",
    "@type parser\nkey_name n\nreserve_data true\n<parse>\n  @type regexp\n  estimate_current_event false\n  expression /^(?<d>\\d)$/\n</parse>",
    "@type parser\nkey_name $.m.k\nreserve_data true\n<parse>\n  @type json\n  estimate_current_event false\n</parse>",
    "@type parser\nkey_name k\nreserve_data true\n<parse>\n  @type regexp\n  estimate_current_event false\n  expression /^(?<w>\\w+) (?<t>\\d+)$/\n  time_key t\n  time_format %s\n</parse>",
    "@type record_transformer\n<record>\n  seen ${tag}\n</record>",
    "@type grep\n<exclude>\n  key k\n  pattern /drop/\n</exclude>",
]


def err_store(name):
    return "@type file\npath {DIR}/out/%s\nappend true\n<format>\n  @type json\n</format>\n<inject>\n  tag_key tg\n  time_key tm\n  time_type unixtime\n</inject>\n<buffer []>\n  @type memory\n</buffer>" % name


def err_match(name, pattern, labels):
    kind = R.choice(["file", "file", "copy", "relabel", "null"])
    if kind == "file":
        return "<match %s>\n%s</match>\n" % (pattern, g.indent(err_store(name)))
    if kind == "copy":
        return "<match %s>\n  @type copy\n  <store>\n%s  </store>\n  <store>\n%s  </store>\n</match>\n" % (
            pattern, g.indent(err_store(name + "a"), 4), g.indent(err_store(name + "b"), 4))
    if kind == "relabel" and labels:
        return "<match %s>\n  @type relabel\n  @label %s\n</match>\n" % (pattern, R.choice(labels))
    return "<match %s>\n  @type null\n</match>\n" % pattern


def hunt_err(name):
    labels = ["@L1", "@L2"]
    def filters(n):
        return "".join("<filter %s>\n%s</filter>\n" % (R.choice(["**", "a.**", "b"]), g.indent(R.choice(ERR_FILTERS))) for _ in range(n))
    body = filters(R.randint(1, 3))
    body += err_match("r0", R.choice(["a.**", "b", "{a.b,c}"]), labels)
    body += err_match("r1", "**", labels)
    body += "<label @L1>\n%s</label>\n" % g.indent(filters(R.randint(0, 2)) + err_match("l1", "**", ["@L2", "@ERROR"]))
    body += "<label @L2>\n%s</label>\n" % g.indent(filters(R.randint(0, 1)) + err_match("l2", "**", []))
    if R.random() < 0.85:
        # No filter in @ERROR that emits errors itself, nor a way out of it: Fluentd sends such an
        # error back into @ERROR again and again until its stack overflows and it dies.
        quiet = [f for f in ERR_FILTERS if "@type parser" not in f]
        inner = "".join("<filter %s>\n%s</filter>\n" % (R.choice(["**", "a.**", "b"]), g.indent(R.choice(quiet)))
                        for _ in range(R.randint(0, 2)))
        if R.random() < 0.3:
            inner += err_match("e0", R.choice(["a.**", "b"]), [])
        inner += err_match("e1", "**", [])
        body += "<label @ERROR>\n%s</label>\n" % g.indent(inner)
    if R.random() < 0.3:
        g_src = g.SRC.replace("</source>", "  @label @L1\n</source>")
        conf_prefix = g_src
    else:
        conf_prefix = g.SRC
    frames = []
    for n in range(8):
        rec = {"k": R.choice(['{"x":1}', "{bad", "word", "two words", "w 1700000000", "a:1\tb:2", "drop", "", 12, None, ["x"], {"j": 1}]),
               "n": R.choice(["1", "x", 5, None]), "i": n}
        if R.random() < 0.15:
            del rec["k"]
        if R.random() < 0.3:
            rec["m"] = {"k": R.choice(['{"y":2}', "bad", 3])}
        frames.append(g.msg(rec, tag=R.choice(["a.b", "a.c", "b", "c", "z"]), time=1700000000 + n))
    g.case(name, conf_prefix + body + g.TAIL, frames, raw_conf=True)


# --- pat -------------------------------------------------------------------------------------
# Tag patterns of <match> and <filter> (globs with *, **, {a,b} nested and empty, several
# patterns in one directive, /regexp/ patterns) against odd tags (empty parts, leading and
# trailing dots, one part, many parts); each match writes its own file, a last `**` catches
# the rest.
PAT_PARTS = ["a", "b", "c", "*", "**", "{a,b}", "{a.b,c}", "{a,{b,c}}", "{}", "{a,}", "a*", "*b", "x"]
PAT_TAGS = ["a", "b", "c", "a.b", "a.c", "b.c", "a.b.c", "a.a.b", "x.a", "a.x.b", "ab", "ba", "a..b", ".a", "a.",
            "a.b.c.d", "c.a.b", "b.b", "aa.b", "x"]


def rpat():
    r = R.random()
    if r < 0.1:
        return R.choice(["/a\\.\\w+/", "/^a/", "/b$/", "/(a|c)\\..*/", "/a.b/"])
    parts = [R.choice(PAT_PARTS) for _ in range(R.randint(1, 3))]
    return ".".join(parts)


def hunt_pat(name):
    body = ""
    for i in range(R.randint(0, 2)):
        body += g.filt("record_transformer", "<record>\n  f%d ${tag}\n</record>" % i,
                       pattern=" ".join(rpat() for _ in range(R.randint(1, 2))))
    for i in range(R.randint(2, 5)):
        pat = " ".join(rpat() for _ in range(R.randint(1, 2)))
        body += file_match(i, inject="tag_key tg", pattern=pat)
    body += file_match(99, inject="tag_key tg", pattern="**")
    frames = [g.msg({"n": n}, tag=t) for n, t in enumerate(R.sample(PAT_TAGS, 10))]
    g.case(name, body + g.ERR, frames)


# --- racc ------------------------------------------------------------------------------------
# Record accessor syntax (`$.a.b`, `$['a']['b']`, `$.a[0]`, bracket and dot forms mixed, odd
# spacing, quotes and indexes, and the texts Fluentd refuses) in grep's key, record_transformer's
# remove_keys and filter_parser's key_name over nested records (one config a case).
RACC = ["a", "$.a", "$.a.b", "$.a.b[0]", "$.a.b[1].c", "$.a.b[-1]", "$.a.b[ 1 ]", "$.a.b[1_0]", "$.a.b[0x1]",
        "$['a']['b']", "$[\"a\"][\"b\"]", "$['a']['b'][1]['c']", "$['a.b']", "$['a']['b c']", "$['a'][\"b']",
        "$['a']x", "$.", "$..a", "$.a..b", "$.a.", "$.a b", "$['a b']", "$[0]", "$.x[2].y", "$.x[9]", "$['x'][-3]",
        "$.a[", "$.a[]", "$.a[x]", "$['a'", "$[", "$.m.k", "$['m']['k']", "$.a['b']", "$.a.b[1][c]", "$.k", "$['']",
        "$.a.0", "$['a']['0']", "$.a.b[1]extra", "$.é", "$['é']", "$.a.b[1.0]", "$[a]", "$.a.b[+1]"]


def hunt_racc(name):
    body = ""
    for _ in range(R.randint(1, 3)):
        acc = R.choice(RACC)
        use = R.choice(["grep", "exclude", "remove", "parser"])
        if use == "grep":
            body += g.filt("grep", "<regexp>\n  key %s\n  pattern %s\n</regexp>" % (acc, R.choice(["/./", "/^x$/", "/1/", "/q/"])))
        elif use == "exclude":
            body += g.filt("grep", "<exclude>\n  key %s\n  pattern %s\n</exclude>" % (acc, R.choice(["/x/", "/2/", "/^$/"])))
        elif use == "remove":
            body += g.filt("record_transformer", "remove_keys " + acc)
        else:
            body += g.filt("parser", "key_name %s\nreserve_data true\nemit_invalid_record_to_error false\n<parse>\n  @type json\n  estimate_current_event false\n</parse>" % acc)
    body += g.fileout(fmt="@type json")
    recs = [{"a": {"b": [1, {"c": "x"}], "b c": 2, "": 3, "0": 4}, "a.b": 5, "x": [10, 20, {"y": "z"}], "k": "{\"j\":1}",
             "m": {"k": "{\"q\":2}"}, "é": "u", "": "e"},
            {"a": {"b": "str"}, "x": {"y": 1}, "k": "bad", "m": [1]},
            {"a": [1, 2], "x": None, "m": {"k": "{\"q\":3}"}},
            {"a": {"b": [{"c": "q"}, {"c": 2}]}, "k": "{}"}]
    g.case(name, body + g.ERR, [g.msg(r) for r in recs])


# --- sect ------------------------------------------------------------------------------------
# Section syntax: match/filter arguments quoted, spaced, empty or with several patterns, buffer
# chunk keys in every spelling, sections given twice, @type/@id/@log_level/@label forms, label
# names, empty sections and unknown nested ones (one config a case: accept or refuse, and what
# is written).
SECT_MATCH_ARGS = ["**", "\"**\"", "'**'", " ** ", "t.**  ", "t.** x", "", "{t,u}.**", "t.a t.b", "\"t.a t.b\"", "t.*",
                   "/t\\..*/", "t.**,u", "**  # c"]
SECT_BUFFER_ARGS = ["[]", "", "tag", " tag ", "tag,time", "tag , time", "[\"tag\"]", "[\"tag\", \"time\"]", "tag,", ",tag",
                    "\"tag\"", "time,tag", "tag,tag", "$.m.k", "k", "[tag]", "[ ]", "tag time"]
SECT_EXTRA = ["", "", "@id out1", "@id \"out1\"", "@log_level debug", "@log_level 'warn'", "@log_level nope", "@label @L",
              "@type \"file\"", "<format>\n  @type json\n</format>", "<inject>\n  tag_key t1\n</inject>\n<inject>\n  tag_key t2\n</inject>",
              "<nosuch>\n  x 1\n</nosuch>", "<format>\n</format>", "<secondary>\n  @type null\n</secondary>", "@type file",
              "<buffer>\n  @type memory\n</buffer>", "path_suffix .txt\npath_suffix .log", "@label @ERROR",
              "<parse>\n  @type json\n</parse>", "time_slice_format %Y%m%d", "format ltsv", "include_tag_key true",
              "<format>\n  @type ltsv\n</format>", "@type file # c", "flush_interval 1s", "buffer_type memory",
              "<inject>\n</inject>", "utc", "localtime", "@id a\n@id b", "<format>\n  @type single_value\n</format>"]


def hunt_sect(name):
    margs = R.choice(SECT_MATCH_ARGS)
    bargs = R.choice(SECT_BUFFER_ARGS)
    path = "{DIR}/out/s"
    if "tag" in bargs:
        path += ".${tag}"
    if "time" in bargs:
        path += ".%Y%m%d"
    if "$.m.k" in bargs:
        path += ".${$.m.k}"
    if bargs.strip() == "k":
        path += ".${k}"
    extra = R.choice(SECT_EXTRA)
    body = "@type file\npath %s\nappend true\n%s\n<format>\n  @type json\n</format>\n<inject>\n  tag_key tg\n</inject>\n<buffer %s>\n  @type memory\n%s</buffer>" % (
        path, extra, bargs, "  timekey 1d\n" if "time" in bargs else "")
    body = body.replace("\n\n", "\n")
    conf = ""
    if R.random() < 0.4:
        conf += "<filter %s>\n  @type record_transformer\n  <record>\n    f ${tag}\n  </record>\n</filter>\n" % R.choice(SECT_MATCH_ARGS)
    conf += "<match %s>\n%s</match>\n" % (margs, g.indent(body))
    conf += "<match **>\n%s</match>\n" % g.indent(
        "@type file\npath {DIR}/out/rest\nappend true\n<format>\n  @type json\n</format>\n<buffer []>\n  @type memory\n</buffer>")
    if "@label @L" in extra or R.random() < 0.2:
        conf += "<label %s>\n%s</label>\n" % (R.choice(["@L", "@L", "L", "@l", "\"@L\""]), g.indent(
            "<match **>\n  @type file\n  path {DIR}/out/lbl\n  append true\n  <buffer []>\n    @type memory\n  </buffer>\n</match>"))
    conf += g.ERR
    frames = [g.msg({"k": R.choice(["a", "b"]), "m": {"k": "q"}, "n": n}, tag=R.choice(["t", "t.a", "t.b", "u", "x"])) for n in range(4)]
    g.case(name, conf, frames)


# --- fwdopt ----------------------------------------------------------------------------------
FWD_ODD_TIMES = [1700000100, 1700000100.25, -1.5, -1, 0, None, "1700000100", "x", 1.5e10, 2**63, True,
                 {"$et": [1700000000, 1500000000]}, {"$et": [1700000000, 4294967295]}, {"$f32": 1700000000.0}, [1], {}]
FWD_ODD_ENTRIES = [lambda: [R.choice(FWD_STRICT_TIMES), {"a": 1}], lambda: [R.choice(FWD_STRICT_TIMES), {"a": 2}, "extra"],
                   lambda: [R.choice(FWD_STRICT_TIMES)], lambda: [], lambda: "str", lambda: None, lambda: 7,
                   lambda: [1700000100, "notmap"], lambda: [1700000100, None], lambda: [1700000100, [1, 2]],
                   lambda: {"a": 1}, lambda: [1700000100, {}], lambda: [1700000100, {"a": {"b": 1}}]]


# With skip_invalid_event Fluentd drops float times and reads [[time, meta], record] as invalid;
# logferry keeps both (README "Differences from Fluentd", and Fluent Bit's form), so neither is drawn.
FWD_STRICT_TIMES = [t for t in FWD_ODD_TIMES if not isinstance(t, (float, list)) and not (isinstance(t, dict) and "$f32" in t)]


def hunt_fwdopt(name):
    # Odd entries (non-map records, nil or text times) only with skip_invalid_event true: without
    # it they reach the outputs and Fluentd loops in @ERROR until it dies (see err).
    ET_NSECS[:] = [0]
    skip = R.random() < 0.6
    opts = ["skip_invalid_event true"] if skip else R.choice([[], ["skip_invalid_event false"]])
    if R.random() < 0.5:
        opts.append("add_tag_prefix %s" % R.choice(["pre", "p.q", "x"]))
    if R.random() < 0.5:
        opts.append("source_address_key %s" % R.choice(["addr", "a", "message"]))
    if R.random() < 0.4:
        opts.append("source_hostname_key %s" % R.choice(["host", "a"]))
    if R.random() < 0.2:
        opts.append("chunk_size_warn_limit %s" % R.choice(["1", "10", "1k"]))
    src = "<source>\n  @type forward\n  port {PORT}\n  bind 127.0.0.1\n%s</source>\n" % "".join("  %s\n" % o for o in opts)
    body = ("<match **>\n  @type file\n  path {DIR}/out/f\n  append true\n  <format>\n    @type json\n  </format>\n"
            "  <inject>\n    tag_key tg\n  </inject>\n"
            "  <buffer []>\n    @type memory\n  </buffer>\n</match>\n")
    good_times = [1700000100, {"$et": [1700000000, 0]}, 1700000200]
    frames = []
    for n in range(12):
        mode = R.choice(["message", "forward", "packed", "compressed"])
        f = {"mode": mode, "tag": R.choice(["t", "a.b", "é"])}
        if mode == "message":
            f["time"] = R.choice(FWD_STRICT_TIMES if skip else good_times)
            f["record"] = R.choice([{"a": 1}, {"a": 1, "addr": "x", "host": "y"}, {}] + (["s", None, [1]] if skip else []))
        elif skip:
            f["entries"] = [R.choice(FWD_ODD_ENTRIES)() for _ in range(R.randint(1, 3))]
        else:
            f["entries"] = [[R.choice(good_times), R.choice([{"a": 1}, {"addr": "x", "host": "y", "a": [1]}, {}])] for _ in range(R.randint(0, 3))]
        frames.append(f)
    # a last well-formed frame proves the server is still there
    frames.append(g.msg({"last": 1}, tag="t", new_conn=True))
    g.case(name, src + body + g.TAIL + g.ERR, frames, raw_conf=True)


# --- fmtopt ----------------------------------------------------------------------------------
def rfmtopt():
    kind = R.choice(["stdout", "single_value", "hash", "msgpack", "json", "ltsv", "csv", "out_file"])
    o = ["@type " + kind]
    if kind == "stdout":
        if R.random() < 0.7:
            o.append("output_type " + R.choice(["json", "hash", "ltsv", "single_value", "csv", "msgpack", "out_file", "tsv"]))
    if kind in ("single_value",) or (kind == "stdout" and R.random() < 0.4):
        o.append("message_key " + R.choice(["a", "b", "m", "nope", "message"]))
    if kind in ("ltsv",) or (kind == "stdout" and R.random() < 0.3):
        if R.random() < 0.5:
            o.append("delimiter " + R.choice([",", "|", "' '", "\\t"]))
        if R.random() < 0.5:
            o.append("label_delimiter " + R.choice(["=", "->", "' '"]))
    if kind == "csv" or (kind == "stdout" and R.random() < 0.3):
        o.append("fields " + ",".join(R.sample(["a", "b", "m", "message", "nope"], R.randint(1, 3))))
        if R.random() < 0.4:
            o.append("force_quotes " + R.choice(["false", "true"]))
    if kind == "out_file" and R.random() < 0.5:
        o.append("delimiter " + R.choice(["TAB", "SPACE", "COMMA", "|"]))
    if R.random() < 0.4:
        o.append("add_newline " + R.choice(["false", "true"]))
    if R.random() < 0.2:
        o.append(R.choice(["time_format %Y", "time_type unixtime", "localtime true", "utc true", "timezone +09:00"]))
    return "\n".join(o)


def hunt_fmtopt(name):
    ET_NSECS[:] = [0]
    body, frames = "", []
    for i in range(12):
        inject = None
        if R.random() < 0.3:
            inject = R.choice(["tag_key tg", "time_key tm", "time_key tm\ntime_type unixtime"])
        body += file_match(i, rfmtopt(), inject=inject)
        for _ in range(5):
            rec = {k: rval() for k in R.sample(["a", "b", "m", "message"], R.randint(0, 4))}
            frames.append(g.msg(rec, tag="h%d" % i, time=R.choice([1700000000, 1])))
    g.case(name, body + g.ERR, frames)


# --- nesting ---------------------------------------------------------------------------------
NKEYS = ["$.a.b", "$['a']['b']", "$.a.c[0]", "$.a.c[-1]", "$.a.c[5]", "$.x.y", "$.a", "$.a.b.z", "$['a b']",
         "$.arr[0].k", "$['a'].c[1]", "$.n.m", "$[\"a\"][\"b\"]", "$.a.c", "$.e", "$.s.t"]
NRECS = [{"a": {"b": "v1", "c": [1, "two", None]}, "arr": [{"k": "x"}], "a b": "sp", "n": None, "e": {}, "s": "str"},
         {"a": {"b": 5}, "arr": []}, {"a": "flat"}, {"a": {"b": {"z": "deep"}, "c": []}}, {},
         {"a": {"b": "line1 x=1"}, "arr": [{"k": 2}, 3]}, {"a": [1, 2], "s": {"t": ["q"]}}, {"a": {"b": None}}]


def hunt_nesting(name):
    body, frames = "", []
    for i in range(14):
        key = R.choice(NKEYS)
        kind = R.choice(["grep", "grep_ex", "rt", "rt_rm", "parser", "rt_ph"])
        if kind == "grep":
            body += g.filt("grep", "<regexp>\n  key %s\n  pattern %s\n</regexp>" % (key, R.choice(["/./", "/^v/", "/^$/", "/1/", "/x/"])), pattern="h%d" % i)
        elif kind == "grep_ex":
            body += g.filt("grep", "<exclude>\n  key %s\n  pattern %s\n</exclude>" % (key, R.choice(["/./", "/^v/", "/^$/", "/1/"])), pattern="h%d" % i)
        elif kind == "rt_rm":
            body += g.filt("record_transformer", "remove_keys %s" % ",".join(R.sample(NKEYS, R.randint(1, 2))), pattern="h%d" % i)
        elif kind == "rt":
            body += g.filt("record_transformer", "enable_ruby false\n<record>\n  new ${record[\"a\"][\"b\"]}\n  k2 ${record[\"arr\"][0][\"k\"]}\n</record>", pattern="h%d" % i)
        elif kind == "rt_ph":
            body += g.filt("record_transformer", "<record>\n  %s x\n</record>" % R.choice(["$.a.b", "$.new.k", "a.b"]), pattern="h%d" % i)
        else:
            body += g.filt("parser", "key_name %s\nreserve_data %s\n<parse>\n  @type %s\n</parse>" % (
                key, R.choice(["true", "false"]), R.choice(["none", "ltsv", "json", "regexp\n  expression /^(?<w>\\w+)/"])), pattern="h%d" % i)
        body += file_match(i)
        for r in R.sample(NRECS, 5):
            frames.append(g.msg(r, tag="h%d" % i))
    g.case(name, body + g.ERR, frames)


AREAS = {"json": hunt_json, "fmt": hunt_fmt, "parse": hunt_parse, "rt": hunt_rt, "grep": hunt_grep,
         "path": hunt_path, "inject": hunt_inject, "rtf": hunt_rtf,
         "route": hunt_route, "concat": hunt_concat, "popt": hunt_popt, "fopt": hunt_fopt, "fwd": hunt_fwd, "sopt": hunt_sopt,
         "fpopt": hunt_fpopt, "rtopt": hunt_rtopt, "ml": hunt_ml, "tkey": hunt_tkey,
         "ftime": hunt_ftime, "ptime": hunt_ptime, "fileopt": hunt_fileopt, "copymode": hunt_copymode,
         "grepab": hunt_grepab, "conf": hunt_conf, "types": hunt_types, "mfmt": hunt_mfmt,
         "err": hunt_err, "pat": hunt_pat, "racc": hunt_racc, "sect": hunt_sect,
         "fwdopt": hunt_fwdopt, "fmtopt": hunt_fmtopt, "nesting": hunt_nesting}
AREAS["fwdsec"] = lambda name: hunt_fwdsec.hunt_fwdsec(R, g, name)  # <security>: hunt_fwdsec.py
import hunt_hunt21  # noqa: E402  (http, tcp, udp, syslog: the other inputs; see its docstring)
hunt_hunt21.R = R
AREAS.update(hunt_hunt21.AREAS)
AREAS.update(hunt_hunt22.areas(R))  # bufopt, sysopt: see hunt_hunt22.py
import hunt_hunt23  # noqa: E402  (in_tail on random bytes; see its docstring)
hunt_hunt23.R = R
AREAS.update(hunt_hunt23.AREAS)
import hunt_hunt28  # noqa: E402  (s3, httpout: the outputs that write elsewhere; see its docstring)
hunt_hunt28.R = R
AREAS.update(hunt_hunt28.AREAS)
import hunt_hunt29  # noqa: E402  (cwlogs, kinesis, rr: see its docstring)
hunt_hunt29.R = R
AREAS.update(hunt_hunt29.AREAS)


def main():
    if sys.argv[1:2] == ["clean"]:
        for d in os.listdir(g.CASES):
            if d.startswith("hunt-"):
                shutil.rmtree(os.path.join(g.CASES, d))
        return
    if len(sys.argv) < 3 or sys.argv[1] not in AREAS:
        sys.exit(__doc__)
    area, seed = sys.argv[1], int(sys.argv[2])
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    R.seed("%s-%d" % (area, seed))
    g.OUT.clear()
    for n in range(count):
        AREAS[area]("hunt-%s-%d-%d" % (area, seed, n))
    g.main()


if __name__ == "__main__":
    main()
