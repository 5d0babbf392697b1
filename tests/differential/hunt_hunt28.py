"""Hunt areas for the outputs that write elsewhere than a file (hunt.py registers them):

- `s3`: out_s3 into the local AWS (aws.py, `{AWS}`) with a random `store_as`, format and its
  options, `<inject>`, path and `s3_object_key_format` placeholders (tag parts, time, record
  keys), chunk keys, timekey, zone, `index_format`, `chunk_limit_records`, over records of edge
  values; what the objects hold and their keys and content types are compared (collect.py).
- `httpout`: out_http into the HTTP receiver (sink.py, `{HTTP}`) with a random format and its
  options, `json_array`, method, content type, headers, placeholders in the endpoint and the
  headers, `<inject>` and chunk keys; every request's method, path, headers and body.

Every case flushes with one thread and chunk keys or limits that tell its chunks apart, so which
object or request holds what does not depend on the order chunks are flushed in.
"""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_cases as g  # noqa: E402

R = random.Random(0)
T0 = g.T0

KEYS = "aws_key_id AKIAIOSFODNN7EXAMPLE\naws_sec_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
S3 = KEYS + "s3_region us-east-1\ns3_endpoint {AWS}\nforce_path_style true\ns3_bucket logs\n"

# Invalid UTF-8 (JSON writes U+FFFD) and the default s3_object_key_format are differences README
# lists; they are not drawn here.
VALUES = [None, True, False, "", "x y", "é", "a,b\"c", "t\tn\nq", 0, -1, 1.5, 0.1, 1e20, 100.0, -0.0,
          9223372036854775807, -9223372036854775808, 18446744073709551615, {"a": 1, "b": [None, "s"]}, {},
          [1, None, "s"], [], {"$bin_hex": "4142"}, "日本語", "007", "\u0001\u001f"]
TAGS = ["app.a", "app.b", "app.a.web", "x"]


def formats():
    """A random `<format>` body (or None: the output's default), its options drawn too."""
    return R.choice([
        None,
        "@type json",
        "@type json\nadd_newline false",
        "@type json\njson_parser json",
        "@type ltsv",
        "@type ltsv\ndelimiter ,\nlabel_delimiter =",
        "@type single_value\nmessage_key m",
        "@type single_value\nmessage_key v\nadd_newline false",
        "@type csv\nfields m,v,n",
        "@type csv\nfields v,m\nforce_quotes false\ndelimiter \\t",
        "@type tsv\nkeys m,v",
        "@type out_file",
        "@type out_file\noutput_tag false\ndelimiter COMMA",
        "@type out_file\noutput_time false\ntime_type unixtime",
        "@type hash",
        "@type msgpack",
    ])


def injects():
    return R.choice([
        None, None,
        "time_key t\ntag_key tg",
        "time_key t\ntime_type string\ntime_format %Y-%m-%dT%H:%M:%S.%N%z",
        "time_key t\ntime_type unixtime",
        "time_key t\ntime_type float",
        "time_key t\ntime_type string\ntime_format %s.%L\nutc true",
        "hostname_key h\nhostname web-1\ntag_key tg",
        "time_key t\ntime_type string\ntime_format %d/%b/%Y:%H:%M:%S %z\ntimezone +0900",
        "time_key t\ntime_format_fallbacks unixtime\ntime_type mixed",
        "time_key t\ntime_type string\nlocaltime false",
    ])


def records(n, keys=("m", "v", "n")):
    frames = []
    for i in range(n):
        rec = {"m": R.choice(["first", "", "é", "line\nbreak", 7, None, "a\tb"]), "v": R.choice(VALUES), "n": i}
        if R.random() < 0.3:
            rec["app"] = R.choice(["web", "db", ""])
        if R.random() < 0.2:
            rec["nest"] = {"k": R.choice(["p", 1, None])}
        frames.append(g.msg({k: v for k, v in rec.items() if k in keys or k in ("app", "nest")},
                            tag=R.choice(TAGS),
                            time=R.choice([T0, T0 + 1, T0 + 3600, T0 + 86400, {"$et": [T0 + 2, 123456789]}])))
    return frames


def hunt_s3(name):
    fmt = formats()
    if fmt == "@type msgpack":
        fmt = "@type json"
    store = R.choice(["", "store_as gzip", "store_as json", "store_as text", "store_as text", "store_as json"])
    opts = [store] if store else []
    path = R.choice(["logs/", "logs/${tag}/", "logs/${tag[0]}/${tag[1]}/", "logs/%Y/%m/%d/%H/", "logs/${app}/", "",
                     "logs/${tag}/%Y%m%d/", "a/${$.nest.k}/"])
    keys = ["time"]
    if "${tag" in path:
        keys.append("tag")
    if "${app}" in path:
        keys.append("app")
    if "${$.nest.k}" in path:
        keys.append("$.nest.k")
    if R.random() < 0.5 and "tag" not in keys:
        keys.append("tag")
    key = R.choice(["%{path}%{time_slice}_%{index}.%{file_extension}",
                    "%{path}%{time_slice}/${tag}-%{index}.%{file_extension}" if "tag" in keys else "%{path}%{time_slice}-%{index}",
                    "%{path}%{date_slice}_%{index}.%{file_extension}",
                    "%{path}x_%{index}"])
    if "${tag}" not in key and "tag" in keys and "${tag" not in path:
        key = key.replace("%{time_slice}", "%{time_slice}-${tag}")
    opts.append("s3_object_key_format " + key)
    if R.random() < 0.3:
        opts.append("index_format " + R.choice(["%03d", "%x", "%d", "%02X"]))
    if R.random() < 0.3:
        opts.append("time_slice_format " + R.choice(["%Y%m%d", "%Y%m%d%H", "%Y/%m/%d/%H%M", "%Y-%m-%d_%H"]))
    timekey = R.choice(["3600", "86400", "60", "1h", "1d"])
    bopts = ["@type memory", "timekey %s" % timekey]
    if R.random() < 0.3:
        bopts.append("timekey_zone " + R.choice(["+0900", "-0530", "Asia/Tokyo", "UTC"]))
    if R.random() < 0.2:
        bopts.append("timekey_use_utc " + R.choice(["true", "false"]))
    if R.random() < 0.3:
        bopts.append("chunk_limit_records %d" % R.randint(1, 3))
    buf = "<buffer %s>\n%s</buffer>" % (",".join(keys), g.indent("\n".join(bopts)))
    head = "@type s3\n" + S3 + ("path %s\n" % path if path or R.random() < 0.5 else "")
    body = g.match_section(head, "\n".join(opts), fmt, injects(), buf)
    g.case(name, body + g.ERR, records(R.randint(2, 6)))


def hunt_httpout(name):
    fmt = formats()
    opts = []
    if fmt is None or fmt.startswith("@type json"):
        if R.random() < 0.4:
            opts.append("json_array true")
    if fmt and fmt.startswith(("@type csv", "@type tsv", "@type ltsv", "@type single_value", "@type out_file", "@type hash")):
        opts.append("content_type " + R.choice(["text/plain", "text/csv", "application/x-ndjson"]))
    elif R.random() < 0.2:
        opts.append("content_type application/vnd.logs+json")
    if R.random() < 0.3:
        opts.append("http_method " + R.choice(["put", "post"]))
    keys = []
    endpoint = R.choice(["{HTTP}/logs", "{HTTP}/logs/${tag}", "{HTTP}/l/${tag[1]}/${app}", "{HTTP}/l?t=${tag}", "{HTTP}/"])
    if "${tag" in endpoint:
        keys.append("tag")
    if "${app}" in endpoint:
        keys.append("app")
    if R.random() < 0.3:
        opts.append('headers {"X-Env":"dev","X-N":"1"}')
    if R.random() < 0.3:
        if "tag" not in keys:
            keys.append("tag")
        opts.append('headers_from_placeholders {"X-Tag":"${tag}","X-Part":"p-${tag[0]}"}')
    bopts = ["@type memory"]
    if R.random() < 0.3:
        bopts.append("chunk_limit_records %d" % R.randint(1, 3))
    if not keys and R.random() < 0.5:
        keys.append("tag")
    buf = "<buffer %s>\n%s</buffer>" % (",".join(keys), g.indent("\n".join(bopts)))
    body = g.match_section("@type http\nendpoint %s" % endpoint, "\n".join(opts), fmt, injects(), buf)
    g.case(name, body + g.ERR, records(R.randint(2, 5)))


AREAS = {"s3": hunt_s3, "httpout": hunt_httpout}
