"""Curated cases of dupkeys27 (run `python3 tests/differential/hunt_dupkeys27.py` to write them).
Records whose msgpack maps repeat a key, as Fluent Bit's filters can send them (`modify`, `nest`
lift): Fluentd reads a map into a Ruby Hash, where a repeated key keeps its first position and
its last value, wherever a record is read (formatters, filters, chunk keys); a PackedForward
entry stream that nothing reads is passed on as it came. The cases send such maps
(`{"$pairs": ...}` in send.py) at the top level, nested, in arrays and as the repeated key's
value, in each forward mode, through every formatter, the filters that read or change fields,
buffer chunk keys, and out_forward.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_cases as g  # noqa: E402

T0 = g.T0


def pairs(*kv):
    return {"$pairs": [list(p) for p in kv]}


RECS = [
    pairs(("a", 1), ("b", "x"), ("a", 3)),
    pairs(("a", "first"), ("a", "second"), ("a", "third"), ("z", None)),
    pairs(("m", pairs(("k", 1), ("k", 2))), ("arr", [pairs(("q", "a"), ("q", "b"))]), ("m", pairs(("k", 9), ("j", 8), ("k", 7)))),
    pairs(("log", "{\"p\":1,\"p\":2}"), ("a", pairs(("x", 1))), ("log", "{\"a\":5,\"b\":6}"), ("a", "flat")),
    pairs((1, "int"), ("1", "str"), (1, "int again")),
    {"a": "unique", "b": 2},
]


def at(i, et):
    """The i-th event's time: an EventTime for out_forward cases (an integer time is forwarded
    as an EventTime by logferry, a listed difference)."""
    return {"$et": [T0 + i, 0]} if et else T0 + i


def msgs(tag="t", et=False):
    return [g.msg(r, tag=tag, time=at(i, et)) for i, r in enumerate(RECS)]


def fwd_modes(tag="t", et=False):
    entries = [[at(i, et), r] for i, r in enumerate(RECS)]
    return [{"mode": "forward", "tag": tag, "entries": entries},
            {"mode": "packed", "tag": tag, "entries": entries},
            {"mode": "compressed", "tag": tag, "entries": entries}]


FWDOUT = ("<match **>\n  @type forward\n  <server>\n    host 127.0.0.1\n    port {FWDPORT}\n  </server>\n"
          "  <buffer>\n    @type memory\n  </buffer>\n</match>\n")


def cases():
    for fmt in ["json", "ltsv", "msgpack", "hash", "out_file", "csv\nfields a,b,m,log",
                "tsv\nkeys a,b,m", "single_value\nmessage_key a", "stdout"]:
        name = fmt.split("\n")[0]
        g.case("dupkey-format-%s" % name, g.fileout(fmt="@type " + fmt), msgs())
    g.case("dupkey-forward-modes-json", g.fileout(fmt="@type json"), fwd_modes())
    g.case("dupkey-rt-read-and-set",
           g.filt("record_transformer", "<record>\n  c ${record[\"a\"]}\n  b changed\n</record>") + g.fileout(fmt="@type json"),
           msgs())
    g.case("dupkey-rt-remove-keys",
           g.filt("record_transformer", "remove_keys a,m") + g.fileout(fmt="@type json"), msgs())
    g.case("dupkey-rt-keep-keys",
           g.filt("record_transformer", "renew_record true\nkeep_keys a,log") + g.fileout(fmt="@type json"), msgs())
    g.case("dupkey-rt-ruby",
           g.filt("record_transformer", "enable_ruby true\n<record>\n  c ${record.keys.join(',')}\n  d ${record.size}\n</record>")
           + g.fileout(fmt="@type json"), msgs())
    g.case("dupkey-grep",
           g.filt("grep", "<regexp>\n  key a\n  pattern /^(3|third|flat)$/\n</regexp>") + g.fileout(fmt="@type json"), msgs())
    g.case("dupkey-grep-exclude",
           g.filt("grep", "<exclude>\n  key a\n  pattern /^(1|first)$/\n</exclude>") + g.fileout(fmt="@type json"), msgs())
    g.case("dupkey-parser-log",
           g.filt("parser", "key_name log\nreserve_data true\n<parse>\n  @type json\n</parse>") + g.fileout(fmt="@type json") + g.ERR,
           msgs())
    g.case("dupkey-accessor-nested",
           g.filt("record_transformer", "<record>\n  k ${record[\"m\"][\"k\"]}\n</record>") + g.fileout(fmt="@type json"), msgs())
    g.case("dupkey-chunk-key",
           g.fileout(fmt="@type json", buffer="a").replace("path {DIR}/out/x", "path {DIR}/out/x.${a}"), msgs())
    g.case("dupkey-inject",
           g.fileout(fmt="@type json", inject="tag_key a\ntime_key b"), msgs())
    g.case("dupkey-forward-out-message", FWDOUT, msgs(et=True))
    g.case("dupkey-forward-out-modes", FWDOUT, fwd_modes(et=True))
    # copy hands each store the same stream: out_forward's gets it as it came, out_file's reads it.
    fwd_store = "<store>\n  @type forward\n  <server>\n    host 127.0.0.1\n    port {FWDPORT}\n  </server>\n" \
        "  <buffer>\n    @type memory\n  </buffer>\n</store>\n"
    file_store = "<store>\n  @type file\n  path {DIR}/out/x\n  append true\n  <format>\n    @type json\n  </format>\n" \
        "  <buffer []>\n    @type memory\n  </buffer>\n</store>\n"
    g.case("dupkey-copy-forward-and-file",
           "<match **>\n  @type copy\n" + g.indent(fwd_store + file_store) + "</match>\n", fwd_modes(et=True))
    g.case("dupkey-relabel-forward-out",
           "<match **>\n  @type relabel\n  @label @L\n</match>\n" + g.label("@L", FWDOUT), fwd_modes(et=True))
    g.case("dupkey-forward-out-timekey",
           FWDOUT.replace("<buffer>", "<buffer tag,time>").replace("@type memory", "@type memory\n    timekey 1d"),
           fwd_modes(et=True))
    g.case("dupkey-forward-out-filtered", g.filt("record_transformer", "<record>\n  n 1\n</record>") + FWDOUT,
           fwd_modes(et=True))


HTTP_SRC = ("<source>\n  @type http\n  @id in\n  port {PORT2}\n  bind 127.0.0.1\n</source>\n")


def http_cases():
    import send
    one = send.packed(RECS[2])
    batch = send.packed([RECS[0], RECS[3]])
    post = {"mode": "http", "port": 2, "method": "POST", "path": "/h?time=1700000000"}
    mp = [["Content-Type", "application/msgpack"]]
    js = [["Content-Type", "application/json"]]
    frames = [dict(post, headers=mp, body_hex=one.hex()), dict(post, headers=mp, body_hex=batch.hex()),
              dict(post, headers=js, body='{"a":1,"b":{"k":1,"k":2},"a":[{"q":1,"q":2}]}'),
              dict(post, headers=js, body='[{"a":1,"a":2},{"b":1,"b":{"c":1,"c":3}}]'),
              dict(post, path="/h?time=1700000000&msgpack=" + "".join("%%%02X" % b for b in one), headers=[]),
              dict(post, path="/h?time=1700000000", headers=[["Content-Type", "application/x-www-form-urlencoded"]],
                   body="json=" + '{"x":1,"y":2,"x":3}'.replace('"', "%22").replace("{", "%7B").replace("}", "%7D"))]
    g.case("dupkey-http-bodies", HTTP_SRC + g.fileout(fmt="@type json") + g.ERR, frames, raw_conf=False)
    # A forward connection speaking JSON: Fluentd reads the frame with its JSON parser.
    text = '["t",1700000000,{"a":1,"m":{"k":1,"k":2},"a":2}]'
    g.case("dupkey-forward-json-mode", g.fileout(fmt="@type json"), [{"mode": "raw", "hex": text.encode().hex()}])


def main():
    g.OUT.clear()
    cases()
    http_cases()
    g.main()


if __name__ == "__main__":
    main()
