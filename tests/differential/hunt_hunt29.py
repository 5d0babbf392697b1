"""Hunt areas for the AWS outputs beside S3 and for roundrobin (hunt.py registers them):

- `cwlogs`: cloudwatch_logs into the local AWS (aws.py, `{AWS}`) with a random way to name the
  group and the stream (fixed, placeholders, the tag, record keys removed or kept), message_keys,
  max_message_length, json_handler, a `<format>`, `<inject>` and buffer limits, over records of
  edge values; the events of every stream are compared (collect.py).
- `kinesis`: kinesis_streams or kinesis_firehose with a random partition_key, data_key,
  compression, chomp_record, append_new_line, `<format>` and `<inject>`; every record's data.
- `rr`: roundrobin and copy nested in each other, with relabel, filters and `@ERROR`, over frames
  of every forward mode (each frame one emit).

Each case flushes with one thread, so which request holds what does not depend on flush order.
"""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_cases as g  # noqa: E402
import hunt_hunt28 as h28  # noqa: E402

R = random.Random(0)
T0 = g.T0
HEAD = "aws_key_id AKIAIOSFODNN7EXAMPLE\naws_sec_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\nregion us-east-1\nendpoint {AWS}\n"


def _records(n, extra_keys):
    h28.R = R
    frames = h28.records(n)
    for f in frames:
        for k, vals in extra_keys.items():
            if R.random() < 0.85:
                f["record"][k] = R.choice(vals)
    return frames


def _buffer(keys):
    bopts = ["@type memory"]
    if R.random() < 0.3:
        bopts.append("chunk_limit_records %d" % R.randint(1, 3))
    return "<buffer %s>\n%s</buffer>" % (",".join(keys), g.indent("\n".join(bopts)))


def hunt_cwlogs(name):
    opts = ["auto_create_stream true"]
    keys = []
    extra = {}
    group = R.choice(["fixed", "placeholder", "tag", "key"])
    if group == "fixed":
        opts.append("log_group_name " + R.choice(["g", "app/logs", "a.b-c_d"]))
    elif group == "placeholder":
        opts.append("log_group_name " + R.choice(["g-${tag}", "${tag[0]}", "logs/${tag[1]}"]))
        keys.append("tag")
    elif group == "tag":
        opts.append("use_tag_as_group true")
    else:
        opts.append("log_group_name_key grp")
        extra["grp"] = ["g1", "g2"]
        if R.random() < 0.5:
            opts.append("remove_log_group_name_key true")
    stream = R.choice(["fixed", "placeholder", "tag", "key"])
    if stream == "fixed":
        opts.append("log_stream_name " + R.choice(["s", "web-1", "s.${tag}"] if "tag" in keys else ["s", "web-1"]))
    elif stream == "placeholder":
        opts.append("log_stream_name " + R.choice(["s-${tag}", "${tag[1]}"]))
        if "tag" not in keys:
            keys.append("tag")
    elif stream == "tag":
        opts.append("use_tag_as_stream true")
    else:
        opts.append("log_stream_name_key st")
        extra["st"] = ["s1", "s2"]
        if R.random() < 0.5:
            opts.append("remove_log_stream_name_key true")
    fmt = None
    r = R.random()
    if r < 0.25:
        opts.append("message_keys " + R.choice(["m", "m,v", "v,n,m", "nope,m"]))
    elif r < 0.45:
        fmt = R.choice(["@type ltsv", "@type single_value\nmessage_key m", "@type json", "@type csv\nfields m,v",
                        "@type out_file", "@type hash"])
    if R.random() < 0.3:
        opts.append("max_message_length %d" % R.choice([1, 5, 12, 40]))
    if R.random() < 0.3:
        opts.append("json_handler " + R.choice(["json", "yajl"]))
    if R.random() < 0.2:
        opts.append("include_time_key true")
    body = g.match_section("@type cloudwatch_logs\n" + HEAD, "\n".join(opts), fmt, h28.injects(), _buffer(keys))
    g.case(name, body + g.ERR, _records(R.randint(2, 6), extra))


def hunt_kinesis(name):
    streams = R.random() < 0.5
    opts = []
    extra = {}
    if streams:
        opts.append("stream_name " + R.choice(["logs", "logs"]))
        # Without partition_key the key is random: only drawn with one.
        opts.append("partition_key " + R.choice(["pk", "pk", "n"]))
        extra["pk"] = ["k1", "k2", "", 7]
    else:
        opts.append("delivery_stream_name logs")
        if R.random() < 0.3:
            opts.append("append_new_line false")
    if R.random() < 0.3:
        opts.append("data_key " + R.choice(["m", "v", "nest"]))
    if R.random() < 0.25:
        opts.append("compression " + R.choice(["gzip", "zlib"]))
    if R.random() < 0.3:
        opts.append("chomp_record true")
    fmt = h28.formats() if R.random() < 0.5 else None
    if fmt == "@type msgpack":
        fmt = None
    body = g.match_section("@type %s\n" % ("kinesis_streams" if streams else "kinesis_firehose") + HEAD,
                           "\n".join(opts), fmt, h28.injects(), _buffer([]))
    g.case(name, body + g.ERR, _records(R.randint(2, 5), extra))


def _store(i, depth):
    """A random store: a file, a relabel to a label that writes, a copy or roundrobin of stores.
    Only the top-level roundrobin's stores draw a weight (0 and -1 among them)."""
    kind = R.choice(["file", "file", "relabel", "nest"] if depth < 2 else ["file", "relabel"])
    weight = "weight %d\n" % R.choice([0, 1, 1, 2, -1]) if depth == 0 and R.random() < 0.3 else ""
    if kind == "file":
        body = "@type file\npath {DIR}/out/s%s\nappend true\n<buffer []>\n  @type memory\n</buffer>\n" % i
    elif kind == "relabel":
        body = "@type relabel\n@label @L%d\n" % R.randint(1, 2)
    else:
        body = "@type %s\n" % R.choice(["copy", "roundrobin"]) + "".join(
            _store("%s_%d" % (i, j), depth + 1) for j in range(R.randint(1, 3)))
    return "<store>\n%s</store>\n" % g.indent(weight + body)


def hunt_rr(name):
    stores = [_store(str(i), 0) for i in range(R.randint(1, 4))]
    # A weight above 1 shuffles Fluentd's turns at random: when one store draws 2, every other
    # store gets weight 0 (a cycle of one store). Every weight 0 or less: Fluentd's worker does
    # not start (README); the first store's weight is then dropped.
    heavy = [i for i, s in enumerate(stores) if _weight(s) == 2]
    if heavy:
        stores = [_set_weight(s, 2 if i == heavy[0] else 0) for i, s in enumerate(stores)]
    elif all(_weight(s) in (0, -1) for s in stores):
        stores[0] = _set_weight(stores[0], None)
    body = ""
    if R.random() < 0.4:
        body += g.filt("record_transformer", "<record>\n  seen ${tag}\n</record>")
    body += "<match t t.**>\n%s</match>\n" % g.indent("@type roundrobin\n" + "".join(stores))
    for n in (1, 2):
        body += g.label("@L%d" % n, "<match **>\n  @type file\n  path {DIR}/out/l%d\n  append true\n  <buffer []>\n    @type memory\n  </buffer>\n</match>\n" % n)
    frames = []
    for i in range(R.randint(3, 9)):
        mode = R.choice(["message", "forward", "packed", "compressed"])
        tag = R.choice(["t", "t", "t.x"])
        if mode == "message":
            frames.append(g.msg({"n": i}, tag=tag, time=T0 + i))
        else:
            frames.append({"mode": mode, "tag": tag, "entries": [[T0 + i, {"n": i, "e": j}] for j in range(R.randint(1, 3))]})
    g.case(name, body + g.ERR, frames)


def _weight(store):
    """The top-level weight a store drew (None: none)."""
    head = store.split("\n")[1].strip()
    return int(head.split()[1]) if head.startswith("weight ") else None


def _set_weight(store, w):
    lines = store.split("\n")
    if _weight(store) is not None:
        del lines[1]
    if w is not None:
        lines.insert(1, "  weight %d" % w)
    return "\n".join(lines)


AREAS = {"cwlogs": hunt_cwlogs, "kinesis": hunt_kinesis, "rr": hunt_rr}
