#!/usr/bin/env python3
"""Write the differential cases of out_http (httpout-*) and out_forward (fwdout-*) under cases/: the
outputs send to receivers (sink.py) whose addresses replace `{HTTP}` and `{FWDPORT}`;
collect.py shows every request and frame they received.

    gen_sinks.py            (then record.sh FLUENTD_BIN)
"""
import gen_cases as g
from gen_cases import T0, msg

EVENTS = [
    msg({"m": "first", "n": 1}, tag="app.a"),
    msg({"m": "second", "f": 0.5, "nested": {"k": [1, None, True]}}, tag="app.a", time=T0 + 1),
    msg({"m": "third"}, tag="app.a", time={"$et": [T0 + 2, 123456789]}),
]
TWO_TAGS = EVENTS[:2] + [msg({"m": "other"}, tag="app.b", time=T0 + 3)]
EDGE = [msg({"k": v, "i": i}, tag="app.a", time=T0 + i) for i, (_n, v) in enumerate(g.EDGE)]


def et(frames):
    """The frames with EventTime times: Fluentd's out_forward sends an integer time it received
    as an integer, logferry as an EventTime of no nanoseconds (it keeps every time as an
    EventTime; not yet compared here)."""
    out = []
    for f in frames:
        t = f["time"]
        out.append(dict(f, time=t if isinstance(t, dict) else {"$et": [t, 0]}))
    return out


def http(extra="", fmt="@type json", buffer="<buffer>\n  @type memory\n</buffer>", endpoint="{HTTP}/logs", inject=None):
    return g.match_section("@type http\nendpoint %s" % endpoint, extra, fmt, inject, buffer)


def fwd(extra="", buffer="<buffer>\n  @type memory\n</buffer>"):
    server = "<server>\n  host 127.0.0.1\n  port {FWDPORT}\n</server>"
    return g.match_section("@type forward", extra.strip("\n") + "\n" + server if extra else server, buffer=buffer)


def cases():
    c = g.case
    # out_http
    c("httpout-json-ndjson", http(), EVENTS)
    c("httpout-json-array", http("json_array true"), EVENTS)
    c("httpout-edge-values", http(), EDGE)
    c("httpout-default-format", http(fmt=None), EVENTS[:2])
    c("httpout-ltsv", http(fmt="@type ltsv"), EVENTS)
    c("httpout-single-value", http(fmt="@type single_value\nmessage_key m"), EVENTS)
    c("httpout-csv", http(fmt="@type csv\nfields m,n", extra="content_type text/csv"), EVENTS)
    c("httpout-msgpack", http(fmt="@type msgpack"), EVENTS)
    c("httpout-out-file-format-no-content-type", http(fmt="@type out_file"), EVENTS[:1])
    c("httpout-out-file-format", http(fmt="@type out_file", extra="content_type text/plain"), EVENTS[:2])
    c("httpout-content-type", http("content_type application/vnd.logs+json"), EVENTS[:1])
    c("httpout-put", http("http_method put"), EVENTS[:1])
    c("httpout-headers", http('headers {"X-Env":"dev","X-Team":"logs"}'), EVENTS[:1])
    c("httpout-headers-from-placeholders", http('headers_from_placeholders {"X-Tag":"${tag}","X-Host":"h-${tag[1]}"}',
                                             buffer="<buffer tag>\n  @type memory\n</buffer>"), TWO_TAGS)
    c("httpout-endpoint-placeholders", http(endpoint="{HTTP}/logs/${tag}/${$.app}", buffer="<buffer tag,$.app>\n  @type memory\n</buffer>"),
      [msg({"app": "web", "m": 1}, tag="app.a"), msg({"app": "db", "m": 2}, tag="app.a", time=T0 + 1)])
    c("httpout-basic-auth", http("<auth>\n  method basic\n  username user\n  password p@ss:word\n</auth>"), EVENTS[:1])
    c("httpout-inject", http(inject="time_key t\ntag_key tg\ntime_type string\ntime_format %Y-%m-%dT%H:%M:%S.%N%z"), EVENTS)
    c("httpout-json-array-one-event", http("json_array true"), EVENTS[:1])
    c("httpout-config-json-array-ltsv", http("json_array true", fmt="@type ltsv"))
    c("httpout-config-csv-no-content-type", http(fmt="@type csv\nfields m"))
    c("httpout-config-no-endpoint", http(endpoint="{HTTP}").replace("endpoint {HTTP}\n", ""))
    # Error answers: an unrecoverable one sends the chunk to <secondary> at once.
    sec = "<secondary>\n  @type secondary_file\n  directory {DIR}/out/secondary\n%s</secondary>"
    c("httpout-500-secondary-file", http(extra=sec % "", endpoint="{HTTP}/status/500/x"), EVENTS)
    c("httpout-400-secondary-file-ltsv", http(extra=sec % "", fmt="@type ltsv", endpoint="{HTTP}/status/400/x"), EVENTS)
    c("httpout-404-secondary-file-basename", http(extra=sec % "  basename dump.${tag}.${chunk_id}\n", endpoint="{HTTP}/status/404/x",
                                                buffer="<buffer tag>\n  @type memory\n</buffer>"), TWO_TAGS)
    c("httpout-500-secondary-file-gzip", http(extra=sec % "  compress gzip\n", endpoint="{HTTP}/status/500/x"), EVENTS)
    c("httpout-500-secondary-file-append", http(extra=sec % "  append true\n", endpoint="{HTTP}/status/500/x"), EVENTS)
    c("httpout-500-secondary-msgpack", http(extra=sec % "", fmt="@type msgpack", endpoint="{HTTP}/status/500/x"), EVENTS[:2])
    # out_forward
    c("fwdout-packed", fwd(), et(EVENTS))
    c("fwdout-edge-values", fwd(), et(EDGE))
    c("fwdout-time-as-integer", fwd("time_as_integer true"), et(EVENTS))
    c("fwdout-compress-gzip", fwd("compress gzip"), et(EVENTS))
    c("fwdout-require-ack", fwd("require_ack_response true"), et(EVENTS))
    c("fwdout-chunk-per-tag", fwd(buffer="<buffer tag>\n  @type memory\n</buffer>"), et(TWO_TAGS))
    c("fwdout-chunk-limit-records", fwd(buffer="<buffer>\n  @type memory\n  chunk_limit_records 2\n</buffer>"), et(EVENTS))
    # A record key beside the tag in the chunk keys: one chunk, so one PackedForward, per value;
    # without the tag Fluentd refuses the config.
    keyed = [msg({"m": "a", "b": "x"}, tag="app.a"), msg({"m": "b", "b": "y"}, tag="app.a", time=T0 + 1),
             msg({"m": "c"}, tag="app.b", time=T0 + 2)]
    c("fwdout-chunk-keys-tag-and-record-key", fwd(buffer="<buffer tag,b>\n  @type memory\n</buffer>"), et(keyed))
    c("fwdout-config-chunk-keys-without-tag", fwd(buffer="<buffer b>\n  @type memory\n</buffer>"), et(keyed))
    c("fwdout-tag-rewritten-upstream", "<filter **>\n  @type record_transformer\n  <record>\n    t ${tag}\n  </record>\n</filter>\n" + fwd(), et(EVENTS[:1]))


def main():
    g.OUT.clear()
    cases()
    g.main()


if __name__ == "__main__":
    main()
