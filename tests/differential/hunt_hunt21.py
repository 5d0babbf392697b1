"""Hunt areas for the inputs other than forward (hunt.py registers them): http, tcp, udp, syslog.

Each case runs one input on {PORT2}, a monitor_agent on {PORT4} and an out_file (default format:
time, tag, record) every event reaches. The requests and lines are send_inputs.py lines. HTTP
answers after the events were emitted, so an HTTP case needs no wait. TCP, UDP and syslog do not
answer, so a case waits on a condition true in Fluentd and logferry alike before the daemon is
stopped: each event also goes (copy, relabel) to a label whose grep filter (`@id sentinel`)
passes only a sentinel record (`Z9` in a field the case's parser fills); the sender ends each TCP
connection, and the datagrams, with a sentinel line and waits until monitor_agent reports the
filter's emit_records at the number of sentinels sent so far. The input reads a connection, or
its socket, in order, so when the sentinel was emitted everything before it was; waiting after
each connection also keeps the events of several connections in order. Syslog cases with
`emit_unmatched_lines true` (every line emits one event) may wait on the input's own
emit_records instead (`<system> enable_input_metrics true`).

The same module's curated() writes the curated cases named http-*, tcp-*, udp-* and syslog-*
(run `python3 tests/differential/hunt_hunt21.py` to write them).
"""
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_cases as g  # noqa: E402

R = random.Random(0)

SYS = "<system>\n  enable_input_metrics true\n</system>\n"
MON = "<source>\n  @type monitor_agent\n  bind 127.0.0.1\n  port {PORT4}\n</source>\n"
OUT = ("<match **>\n  @type file\n  path {DIR}/out/f\n  append true\n"
       "  <buffer []>\n    @type memory\n  </buffer>\n</match>\n")


def source(typ, opts, parse=None, transport=None):
    body = "  @type %s\n  @id in\n  port {PORT2}\n  bind 127.0.0.1\n" % typ
    body += "".join("  %s\n" % o for o in opts)
    if transport:
        body += "  <transport %s>\n  </transport>\n" % transport
    if parse:
        body += "  <parse>\n%s  </parse>\n" % g.indent(parse, 4)
    return "<source>\n%s</source>\n" % body


def sentinel_label(key):
    return g.label("@SENTINEL", g.filt("grep", "@id sentinel\n<regexp>\n  key %s\n  pattern /^Z9$/\n</regexp>" % key)
                   + "<match **>\n  @type null\n</match>\n")


def conf(src, filters="", sentinel=None):
    """The case's config; with sentinel (the field a sentinel line fills), every event is also
    copied to the @SENTINEL label."""
    out = OUT
    if sentinel:
        store = OUT.replace("<match **>\n", "").replace("</match>\n", "")
        out = ("<match **>\n  @type copy\n  <store>\n    @type relabel\n    @label @SENTINEL\n  </store>\n"
               "  <store>\n%s  </store>\n</match>\n" % g.indent(store.replace("\n  ", "\n").strip(), 4))
        out += sentinel_label(sentinel)
    return SYS + src + MON + filters + out + g.label("@ERROR", OUT.replace("out/f", "out/error")) + g.TAIL


def wait(n, pid="in"):
    return {"mode": "wait", "port": 4, "id": pid, "emit_records": n}


def http(path="/t", body=None, ctype="application/json", method="POST", headers=(), **kw):
    f = {"mode": "http", "port": 2, "method": method, "path": path}
    hs = [] if ctype is None else [["Content-Type", ctype]]
    f["headers"] = hs + [list(h) for h in headers]
    if isinstance(body, bytes):
        f["body_hex"] = body.hex()
    elif body is not None:
        f["body"] = body
    f.update(kw)
    return f


def case(name, src, frames=None, filters="", sentinel=None):
    g.case(name, conf(src, filters, sentinel), frames, raw_conf=True)


# --- http ------------------------------------------------------------------------------------
def mp(v):
    import msgpack
    return msgpack.packb(v, use_bin_type=True)


def urlq(s):
    """Percent-encoded text or bytes (bytes as they are, not as UTF-8 of their latin-1)."""
    from urllib.parse import quote
    return quote(s, safe="")


BAD_BODIES = os.environ.get("HUNT_BAD_BODIES") == "1"
BAD_BYTES = os.environ.get("HUNT_BAD_BYTES") == "1"


def rrecord():
    return R.choice([{"a": 1}, {"a": "x", "b": [1, 2]}, {"time": 1700000050, "a": 1}, {"time": "1700000060", "m": "s"},
                     {"time": 1700000070.5}, {}, {"nested": {"k": None}}, {"é": "ü"}])


def rbody():
    # Bodies that are not JSON, or not an object, are known differences (README: in_http answers
    # 400 to a body it cannot use): "bad-json" and "scalar" draw them only with BAD_BODIES.
    kinds = ["json", "json", "array", "ndjson", "msgpack", "form-json", "form-msgpack", "null", "empty",
             "query-json", "plain"]
    kind = R.choice(kinds + (["bad-json", "scalar"] if BAD_BODIES else []))
    if kind == "null":
        return R.choice([("application/json", "null", ""), ("application/msgpack", mp(None), "")])
    if kind == "json":
        return "application/json", json.dumps(rrecord(), ensure_ascii=False), ""
    if kind == "array":
        return "application/json", json.dumps([rrecord() for _ in range(R.randint(0, 3))]), ""
    if kind == "ndjson":
        return "application/x-ndjson", R.choice(["\n", "\r\n"]).join(json.dumps(rrecord()) for _ in range(R.randint(1, 3))), ""
    if kind == "msgpack":
        return "application/msgpack", mp(R.choice([rrecord(), [rrecord(), rrecord()]])), ""
    if kind == "form-json":
        return "application/x-www-form-urlencoded", "json=" + urlq(json.dumps(rrecord())), ""
    if kind == "form-msgpack":
        return "application/x-www-form-urlencoded", "msgpack=" + urlq(mp(rrecord())), ""
    if kind == "bad-json":
        return "application/json", R.choice(["{\"a\":", "nope", "{\"a\":1}x", "[1,", ""]), ""
    if kind == "scalar":
        return "application/json", R.choice(["1", "\"s\"", "null", "[1]", "[]", "true"]), ""
    if kind == "empty":
        return R.choice(["application/json", None, "text/plain"]), "", ""
    if kind == "query-json":
        return None, "", "json=" + urlq(json.dumps(rrecord()))
    return "text/plain", "hello", ""


def hunt_http(name):
    opts = []
    if R.random() < 0.4:
        opts.append("add_http_headers true")
    if R.random() < 0.3:
        opts.append("add_remote_addr true")
    if R.random() < 0.3:
        opts.append("add_query_params true")
    cors = None
    if R.random() < 0.25:
        cors = R.choice(['["*"]', '["http://a.example"]', '["http://*.example"]', '[""]'])
        opts.append("cors_allow_origins " + cors)
        if R.random() < 0.5:
            opts.append("cors_allow_credentials true")
    if R.random() < 0.2:
        opts.append("respond_with_empty_img true")
    if R.random() < 0.2:
        opts.append("use_204_response true")
    if R.random() < 0.2:
        opts.append("body_size_limit %d" % R.choice([10, 64, 200]))
    if R.random() < 0.3:
        opts.append(R.choice(["keep_time_key true", "keep_time_key false"]))
    parse = None
    if R.random() < 0.25:
        parse = R.choice(["@type json", "@type none", "@type regexp\nexpression /^(?<k>\\w+) (?<v>.*)$/",
                          "@type json\ntime_key t", "@type ltsv"])
    frames = []
    for _ in range(10):
        ctype, body, query = rbody()
        if parse:
            ctype, body = R.choice([("text/plain", "word rest"), ("application/json", '{"a":1,"t":1700000000}'),
                                    (None, "k:v\tx:y"), ("text/plain", "")]), None
            ctype, body = ctype
        qs = []
        if query:
            qs.append(query)
        if R.random() < 0.35:
            qs.append("time=" + R.choice(["1700000000", "1700000000.25", "abc", "0", "", "1e9"]))
        if R.random() < 0.15:
            qs.append("x-y=1")
        path = R.choice(["/t", "/a.b", "/a/b", "/", "/t/", "/%41b", "/t.x"]) + ("?" + "&".join(qs) if qs else "")
        headers = []
        if R.random() < 0.3:
            headers.append(("X-Custom-Head", R.choice(["v", "a, b"])))
        if R.random() < 0.2:
            headers.append(("X-Forwarded-For", R.choice(["10.0.0.1", "10.0.0.1, 10.0.0.2"])))
        if R.random() < 0.1:
            headers.append(("Expect", R.choice(["100-continue", "100-continue", "nonsense"])))
        if R.random() < 0.15:
            # the same header twice, odd header names
            headers += R.choice([[("X-Dup", "one"), ("X-Dup", "two")], [("x_under_score", "u")], [("X-Empty", "")]])
        if cors is not None and R.random() < 0.7:
            headers.append(("Origin", R.choice(["http://a.example", "http://b.example", "http://x.example", "null"])))
        method = R.choice(["POST"] * 8 + ["GET", "PUT", "OPTIONS", "DELETE", "PATCH", "HEAD"])
        if method == "OPTIONS" and R.random() < 0.7:
            headers.append(("Access-Control-Request-Method", R.choice(["POST", "PUT"])))
        f = http(path, body, ctype, method, headers,
                 show=["access-control-allow-origin", "content-type"] if cors or "empty_img" in str(opts) else [])
        if R.random() < 0.3:
            f["keep"] = True
        if R.random() < 0.1:
            f["version"] = "HTTP/1.0"
        frames.append(f)
    case(name, source("http", opts, parse), frames)


# --- tcp / udp -------------------------------------------------------------------------------
TEXTS = ["<34>Oct 11 22:14:15 mymachine su: 'su root' failed", "<14>1 2003-10-11T22:14:15Z h a - - - m",
         '5.6.7.8 - u [14/Nov/2023:22:13:21 +0000] "POST /x HTTP/1.0" 404 - "r" "ua"', "word 1700000000", "time:1700000000\ta:1", '{"a":"5","time":"1700000000"}', "plain line", "{\"a\":1}", "{\"a\":\"x\",\"time\":1700000000}", "key value", "", " ", "k:v\tz:w",
         "é ü", "{\"a\":", "[1,2]", "word 42", "x" * 40, "a\tb", "tab\there"]

# (parse section, sentinel line, the field it puts Z9 in)
PARSERS = [
    ("@type none", "Z9", "message"),
    ("@type none\nmessage_key msg", "Z9", "msg"),
    ("@type json", '{"s":"Z9"}', "s"),
    ("@type regexp\nexpression /^(?<k>\\w+) (?<v>.*)$/", "Z9 x", "k"),
    ("@type ltsv", "s:Z9", "s"),
    ("@type csv\nkeys a,b", "Z9,x", "a"),
    ("@type json\ntime_key time\nkeep_time_key true", '{"s":"Z9"}', "s"),
    ("@type json\ntime_key time\ntime_type string\ntime_format %s", '{"s":"Z9"}', "s"),
    ("@type json\ntypes a:integer,time:string", '{"s":"Z9"}', "s"),
    ("@type regexp\nexpression /^(?<k>\\w+) (?<time>\\d+)$/\ntime_format %s", "Z9 1700000000", "k"),
    ("@type ltsv\ntime_key time\ntime_type unixtime", "s:Z9", "s"),
    ("@type syslog\nmessage_format auto", "Feb  3 04:05:06 h a: Z9", "message"),
    ("@type apache2", '1.2.3.4 - - [14/Nov/2023:22:13:20 +0000] "GET Z9 HTTP/1.1" 200 5 "-" "-"', "path"),
]


def known_texts(parse):
    """TEXTS less those whose difference is known (README): a JSON text that is not an object
    (Fluentd emits it, or raises and loses the read) and a CSV stray quote (Fluentd raises);
    all of them with BAD_BODIES."""
    if BAD_BODIES:
        return TEXTS
    if "json" in parse:
        return [t for t in TEXTS if t not in ("[1,2]", '{"a":')]
    if "csv" in parse:
        return [t for t in TEXTS if '"' not in t]
    return TEXTS


def hunt_tcp(name):
    parse, sentinel, key = R.choice(PARSERS)
    opts = ["tag tcp"]
    delim = "\n"
    if R.random() < 0.4:
        delim = R.choice(["\r\n", "|", "\\n"])
        opts.append("delimiter \"%s\"" % delim.replace("\r", "\\r").replace("\n", "\\n").replace("\\\\n", "\\\\n"))
    if delim == "\\n":
        opts[-1] = "delimiter '\\n'"
    limit = None
    if R.random() < 0.3:
        # at least the sentinel's length, so that it gets through
        limit = max(R.choice([12, 30]), len(sentinel))
        opts.append("message_length_limit %d" % limit)
    if R.random() < 0.3:
        opts.append("source_address_key addr")
    if R.random() < 0.3:
        opts.append("source_hostname_key host")
    frames = []
    for n in range(R.randint(1, 4)):
        lines = [R.choice(known_texts(parse)).replace(delim, "") for _ in range(R.randint(1, 4))] + [sentinel]
        f = {"mode": "tcp", "port": 2, "lines": lines, "delimiter": delim}
        if R.random() < 0.3:
            f["split"] = R.choice([1, 3, 7])
        frames += [f, wait(n + 1, "sentinel")]
    case(name, source("tcp", opts, parse), frames, sentinel=key)


def hunt_udp(name):
    parse, sentinel, key = R.choice(PARSERS)
    opts = ["tag udp"]
    limit = None
    if R.random() < 0.3:
        # at least the sentinel's length, so that it gets through
        limit = max(R.choice([12, 30]), len(sentinel))
        opts.append("message_length_limit %d" % limit)
    remove = True
    if R.random() < 0.4:
        remove = R.random() < 0.5
        opts.append("remove_newline %s" % ("true" if remove else "false"))
    if R.random() < 0.3:
        opts.append("source_address_key addr")
    if R.random() < 0.3:
        opts.append("source_hostname_key host")
    grams = [R.choice(known_texts(parse)) + R.choice(["", "", "\n", "\r\n", "\n\n"]) for _ in range(R.randint(2, 8))]
    frames = [{"mode": "udp", "port": 2, "datagrams": grams + [sentinel]}, wait(1, "sentinel")]
    case(name, source("udp", opts, parse), frames, sentinel=key)


# --- syslog ----------------------------------------------------------------------------------
def rpri():
    return R.choice(["<13>", "<0>", "<191>", "<34>", "<165>", "", "<999>", "<x>", "<>"])


def r3164():
    return R.choice(["Feb  3 04:05:06", "Feb 13 04:05:06", "Oct 11 22:14:15"]) + " " + R.choice(
        ["host app[123]: msg one", "host app: msg two", "host msg three", "mymachine su: 'su root' failed",
         "host app[12]:", "host  app: two spaces", "host app[x]: odd pid"])


def r5424():
    return "1 " + R.choice(["2003-10-11T22:14:15.003Z", "2003-10-11T22:14:15Z", "2003-08-24T05:14:15.000003-07:00", "-"]) + " " + R.choice(
        ["mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\"] BOMAn application event",
         "host app 123 ID - message here", "host app - - - no sd", "host - - - - ", "host app 1 - [a b=\"c\"][d e=\"f\"] two sds",
         "host app 1 - [x y=\"a\\]b\"] escaped"])


def rsyslog():
    return rpri() + R.choice([r3164, r3164, r5424, r5424, lambda: R.choice(["garbage", "", " ", "Feb 3 bad"])])()


def hunt_syslog(name):
    opts = ["tag sys", "emit_unmatched_lines true"]
    transport = R.choice(["udp", "tcp", "tcp"])
    octet = transport == "tcp" and R.random() < 0.4
    if octet:
        opts.append("frame_type octet_count")
    for k, v in (("severity_key", "sev"), ("priority_key", "pri_k"), ("facility_key", "fac"),
                 ("source_address_key", "addr"), ("source_hostname_key", "host_n")):
        if R.random() < 0.25:
            opts.append("%s %s" % (k, v))
    if "severity_key sev" in opts and "priority_key pri_k" in opts:
        opts.remove("priority_key pri_k")
    if R.random() < 0.2:
        opts.append("message_length_limit %d" % R.choice([20, 60]))
    parse = []
    if R.random() < 0.6:
        parse.append("@type syslog")
        if R.random() < 0.6:
            parse.append("message_format " + R.choice(["auto", "rfc3164", "rfc5424"]))
        if R.random() < 0.3:
            parse.append("with_priority " + R.choice(["true", "false"]))
        if R.random() < 0.2:
            parse.append("rfc5424_time_format %Y-%m-%dT%H:%M:%S.%L%z")
        if R.random() < 0.2:
            parse.append("parser_type " + R.choice(["string", "regexp"]))
        if R.random() < 0.2:
            parse.append("support_colonless_ident false")
        if R.random() < 0.2:
            parse.append("keep_time_key true")
    elif R.random() < 0.2:
        parse = ["@type none"]
    lines = [rsyslog() for _ in range(R.randint(2, 8))]
    if BAD_BYTES and R.random() < 0.3:
        # invalid UTF-8 in a message (the JSON output shows U+FFFD: README)
        lines[0] = {"hex": (lines[0].encode() + b"\xff\xfe").hex()}
    delim = "\n"
    if transport == "tcp" and not octet and R.random() < 0.25:
        delim = R.choice(["\r\n", "|"])
        opts.append('delimiter "%s"' % delim.replace("\r", "\\r").replace("\n", "\\n"))
    if octet:
        frames = [{"mode": "tcp", "port": 2, "octet": lines}]
    elif transport == "tcp":
        frames = [{"mode": "tcp", "port": 2, "lines": lines, "delimiter": delim}]
    else:
        frames = [{"mode": "udp", "port": 2, "datagrams": lines}]
    frames.append(wait(len(lines)))
    case(name, source("syslog", opts, "\n".join(parse) if parse else None, transport), frames)
    return True


AREAS = {"http": hunt_http, "tcp": hunt_tcp, "udp": hunt_udp, "syslog": hunt_syslog}


# --- curated cases -----------------------------------------------------------------------------
J = "application/json"
T0 = "time=1700000000"
SHOW_CORS = ["access-control-allow-origin", "access-control-allow-methods", "access-control-allow-headers",
             "access-control-allow-credentials"]


def ssl(opts, transport="udp", parse=None):
    return source("syslog", ["tag sys"] + opts, parse, transport)


def sentinel_tcp(lines, n, sentinel="Z9", **kw):
    """A TCP connection with these lines and a sentinel, then the wait for the n-th sentinel."""
    return [dict({"mode": "tcp", "port": 2, "lines": lines + [sentinel]}, **kw), wait(n, "sentinel")]


def curated():
    http_src = lambda *o, parse=None: source("http", list(o), parse)  # noqa: E731
    # -- http: bodies and times
    case("http-json-object", http_src(), [
        http("/app.web?" + T0, '{"a":1,"b":"x"}'),
        http("/app/web/deep", '{"a":2,"time":1700000050}'),
        http("/float", '{"time":1700000050.75,"a":3}'),
        http("/utf8?" + T0, '{"é":"ü","n":null,"l":[1,{"k":true}]}'),
        http("/charset?" + T0, '{"a":4}', ctype="application/json; charset=utf-8"),
    ])
    case("http-json-array-batch", http_src(), [
        http("/batch?" + T0, '[{"a":1},{"a":2,"time":1}]'),
        http("/batch", '[{"a":3,"time":1700000001},{"a":4,"time":1700000002}]'),
        http("/empty?" + T0, "[]"),
    ])
    case("http-ndjson", http_src(), [
        http("/nd?" + T0, '{"a":1}\n{"a":2}\n', ctype="application/x-ndjson"),
        http("/nd", '{"a":3,"time":1700000003}\r\n{"a":4,"time":1700000004}\n\n', ctype="application/x-ndjson"),
    ])
    # Fluentd makes a nil record of the blank line and fails on it (README).
    case("http-ndjson-blank-line", http_src(), [
        http("/nd", '{"a":1,"time":1700000001}\n\n{"a":2,"time":1700000002}', ctype="application/x-ndjson"),
    ])
    case("http-msgpack-body", http_src(), [
        http("/mp?" + T0, mp({"a": 1, "b": b"\x00\x01".decode("latin-1")}), ctype="application/msgpack"),
        http("/mp", mp([{"a": 2, "time": 1700000002}, {"a": 3, "time": 1700000003}]), ctype="application/msgpack"),
        http("/mp", mp({"a": 4, "time": 1700000004.5}), ctype="application/msgpack"),
    ])
    case("http-form-params", http_src(), [
        http("/form?" + T0, "json=" + urlq('{"a":1}'), ctype="application/x-www-form-urlencoded"),
        http("/form?" + T0, "msgpack=" + urlq(mp({"a": 2})), ctype="application/x-www-form-urlencoded"),
        http("/form", "x=1&json=" + urlq('{"a":3,"time":1700000003}'), ctype="application/x-www-form-urlencoded"),
        http("/form?" + T0, "other=1", ctype="application/x-www-form-urlencoded"),
    ])
    case("http-json-in-query", http_src(), [
        http("/q?%s&json=%s" % (T0, urlq('{"a":1}')), None, ctype=None),
        http("/q?json=%s" % urlq('{"a":2,"time":1700000002}'), "", ctype=None),
        http("/q?msgpack=%s&%s" % (urlq(mp({"a": 3})), T0), "", ctype=None),
        http("/q?%s&json=%s" % (T0, urlq('{"a":4}')), None, ctype=None, method="GET"),
    ])
    case("http-time-param", http_src(), [
        http("/t?time=1700000000.5", '{"a":1}'),
        http("/t?time=1e9", '{"a":2}'),
        http("/t?time=1700000000abc", '{"a":3}'),
        http("/t?time=1700000000&time=1600000000", '{"a":4}'),
        http("/t?time=1700000000", '{"a":5,"time":1}'),
    ])
    case("http-time-param-now", http_src(), [
        http("/t?time=0", '{"a":1}'),
        http("/t?time=abc", '{"a":2}'),
        http("/t?time=", '{"a":3}'),
        http("/t", '{"a":4}'),
    ])
    case("http-keep-time-key", http_src("keep_time_key true"), [
        http("/t", '{"a":1,"time":1700000001}'),
        http("/t?" + T0, '{"a":2,"time":1700000001}'),
    ])
    case("http-add-http-headers", http_src("add_http_headers true"), [
        http("/h?" + T0, '{"a":1}', headers=[("X-Custom-Head", "v1"), ("User-Agent", "curl/8.0"), ("X-Forwarded-For", "10.0.0.9")]),
        http("/h?" + T0, '[{"a":2},{"a":3}]', headers=[("x-lower-case", "low")]),
    ])
    case("http-repeated-headers", http_src("add_http_headers true", "add_remote_addr true"), [
        http("/h?" + T0, '{"a":1}', headers=[("X-Dup", "one"), ("X-Other", "o"), ("X-Dup", "two"), ("X-Dup", "three")]),
        http("/h?" + T0, '{"a":2}', headers=[("X-Forwarded-For", "10.0.0.1"), ("X-Forwarded-For", "10.0.0.2")]),
    ])
    case("http-add-remote-addr", http_src("add_remote_addr true"), [
        http("/r?" + T0, '{"a":1}'),
        http("/r?" + T0, '{"a":2}', headers=[("X-Forwarded-For", "10.0.0.1, 10.0.0.2")]),
        http("/r?" + T0, '{"a":3,"REMOTE_ADDR":"mine"}'),
    ])
    # Fluentd keeps the forwarded address for the connection's later requests (README).
    case("http-remote-addr-keepalive", http_src("add_remote_addr true"), [
        http("/r?" + T0, '{"a":1}', headers=[("X-Forwarded-For", "10.0.0.1")]),
        http("/r?" + T0, '{"a":2}', keep=True),
        http("/r?" + T0, '{"a":3}'),
    ])
    case("http-add-query-params", http_src("add_query_params true"), [
        http("/q?%s&x-y=1&k=v&k=w" % T0, '{"a":1}'),
        http("/q?%s&json=%s" % (T0, urlq('{"a":2}')), "", ctype=None),
    ])
    # -- http: answers
    case("http-cors-any-origin", http_src('cors_allow_origins ["*"]'), [
        http("/c?" + T0, '{"a":1}', headers=[("Origin", "http://a.example")], show=SHOW_CORS),
        http("/c?" + T0, '{"a":2}', show=SHOW_CORS),
        http("/c", None, ctype=None, method="OPTIONS", headers=[("Origin", "http://a.example"), ("Access-Control-Request-Method", "POST"),
                                                              ("Access-Control-Request-Headers", "Content-Type")], show=SHOW_CORS),
        http("/c", None, ctype=None, method="OPTIONS", headers=[("Origin", "http://a.example"), ("Access-Control-Request-Method", "PUT")], show=SHOW_CORS),
    ])
    case("http-cors-origin-list", http_src('cors_allow_origins ["http://a.example", "http://*.b.example"]', "cors_allow_credentials true"), [
        http("/c?" + T0, '{"a":1}', headers=[("Origin", "http://a.example")], show=SHOW_CORS),
        http("/c?" + T0, '{"a":2}', headers=[("Origin", "http://x.b.example")], show=SHOW_CORS),
        http("/c?" + T0, '{"a":3}', headers=[("Origin", "http://evil.example")], show=SHOW_CORS),
        http("/c?" + T0, '{"a":4}', show=SHOW_CORS),
        http("/c", None, ctype=None, method="OPTIONS", headers=[("Origin", "http://x.b.example"), ("Access-Control-Request-Method", "POST")], show=SHOW_CORS),
        http("/c", None, ctype=None, method="OPTIONS", headers=[("Origin", "http://evil.example"), ("Access-Control-Request-Method", "POST")], show=SHOW_CORS),
    ])
    # Fluentd keeps a connection's Origin for its later requests.
    case("http-cors-origin-keepalive", http_src('cors_allow_origins ["http://a.example"]'), [
        http("/c?" + T0, '{"a":1}', headers=[("Origin", "http://a.example")], show=SHOW_CORS),
        http("/c?" + T0, '{"a":2}', keep=True, show=SHOW_CORS),
        http("/c?" + T0, '{"a":3}', show=SHOW_CORS),
        http("/c?" + T0, '{"a":4}', headers=[("Origin", "http://evil.example")], show=SHOW_CORS),
    ])
    case("http-cors-credentials-any-refused", http_src('cors_allow_origins ["*"]', "cors_allow_credentials true"))
    case("http-respond-with-empty-img", http_src("respond_with_empty_img true"), [
        http("/img?" + T0, '{"a":1}', show=["content-type"]),
        http("/img?" + T0, "null", show=["content-type"]),
        http("/img", None, ctype=None, method="GET", show=["content-type"]),
    ])
    case("http-use-204-response", http_src("use_204_response true"), [
        http("/n?" + T0, '{"a":1}'),
        http("/n?" + T0, "[]"),
        http("/n?" + T0, '{"a":2}', keep=True),
    ])
    case("http-null-body", http_src(), [
        http("/n?" + T0, "null"),
        http("/n?" + T0, " null\n"),
        http("/n?" + T0, mp(None), ctype="application/msgpack"),
        http("/n?" + T0, '{"a":1}'),
    ])
    case("http-keepalive", http_src(), [
        http("/k?" + T0, '{"a":1}'),
        http("/k?" + T0, '{"a":2}', keep=True),
        http("/k?" + T0, '{"a":3}', keep=True, headers=[("Connection", "close")]),
        http("/k?" + T0, '{"a":4}', keep=True),
        http("/k?" + T0, '{"a":5}'),
    ])
    case("http-methods", http_src(), [
        http("/m?" + T0, None, ctype=None, method="GET"),
        http("/m?" + T0, '{"a":1}', method="PUT"),
        http("/m?" + T0, '{"a":2}', method="DELETE"),
        http("/m?" + T0, '{"a":3}', method="PATCH"),
        http("/m", None, ctype=None, method="OPTIONS", headers=[("Access-Control-Request-Method", "POST")]),
        http("/m?" + T0, '{"a":4}', method="GET"),
    ])
    case("http-body-size-limit", http_src("body_size_limit 64"), [
        http("/b?" + T0, '{"a":"%s"}' % ("x" * 40)),
        http("/b?" + T0, '{"a":"%s"}' % ("x" * 56)),
        http("/b?" + T0, '{"a":"%s"}' % ("x" * 57)),
        http("/b?" + T0, '{"a":"%s"}' % ("x" * 200)),
        http("/b?" + T0, '{"a":"%s"}' % ("y" * 200), method="GET"),
        http("/b?" + T0, '{"a":1}'),
    ])
    case("http-expect-continue", http_src("body_size_limit 64"), [
        http("/e?" + T0, '{"a":1}', headers=[("Expect", "100-continue")]),
        http("/e?" + T0, '{"a":"%s"}' % ("x" * 60), headers=[("Expect", "100-continue")]),
        http("/e?" + T0, '{"a":3}', headers=[("Expect", "something-else")]),
        http("/e?" + T0, '{"a":4}'),
    ])
    case("http-chunked-body", http_src("body_size_limit 64"), [
        http("/ch?" + T0, None, chunked=['{"a":', '1}']),
        http("/ch?" + T0, None, chunked=['[{"a":2},', '{"a":3}]']),
        http("/ch?" + T0, None, chunked=['{"a":"', "x" * 40, "y" * 40, '"}']),
    ])
    gz = __import__("gzip").compress(b'{"a":1}', mtime=0)
    df = __import__("zlib").compress(b'{"a":2}')
    case("http-content-encoding", http_src(), [
        http("/z?" + T0, gz, headers=[("Content-Encoding", "gzip")]),
        http("/z?" + T0, df, headers=[("Content-Encoding", "deflate")]),
        http("/z?" + T0, b"not gzip", headers=[("Content-Encoding", "gzip")]),
        http("/z?" + T0, '{"a":3}', headers=[("Content-Encoding", "identity")]),
    ])
    mpart = ("--XyZ\r\nContent-Disposition: form-data; name=\"json\"\r\n\r\n{\"a\":1}\r\n"
             "--XyZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nv\r\n--XyZ--\r\n")
    case("http-multipart-form", http_src(), [
        http("/mf?" + T0, mpart, ctype="multipart/form-data; boundary=XyZ"),
        http("/mf?" + T0, mpart, ctype='multipart/form-data; boundary="XyZ"'),
    ])
    case("http-content-type-missing", http_src(), [
        http("/ct?" + T0, '{"a":1}', ctype=None),
        http("/ct?" + T0, '{"a":2}', ctype="text/plain"),
        http("/ct?" + T0, '{"a":3}', ctype="APPLICATION/JSON"),
    ])
    case("http-path-tags", http_src(), [
        http("/a/b/c?" + T0, '{"p":1}'),
        http("/a.b/?" + T0, '{"p":2}'),
        http("/a//b?" + T0, '{"p":3}'),
        http("/%41b?" + T0, '{"p":4}'),
        http("/?" + T0, '{"p":5}'),
    ])
    case("http-parse-none", http_src(parse="@type none"), [
        http("/p?" + T0, "free text line", ctype="text/plain"),
        http("/p?" + T0, '{"a":1}'),
        http("/p?" + T0, "two\nlines", ctype=None),
    ])
    case("http-parse-regexp", http_src(parse="@type regexp\nexpression /^(?<k>\\w+) (?<v>.*)$/"), [
        http("/p?" + T0, "key some value", ctype="text/plain"),
        http("/p?" + T0, "nomatch", ctype="text/plain"),
        http("/p?" + T0, "", ctype="text/plain"),
    ])
    case("http-parse-json-time-key", http_src(parse="@type json\ntime_key t\ntime_type string\ntime_format %Y-%m-%d %H:%M:%S"), [
        http("/p", '{"a":1,"t":"2023-11-14 22:13:20"}', ctype="text/plain"),
        http("/p?time=1600000000", '{"a":2,"t":"2023-11-14 22:13:20"}'),
        http("/p", '{"a":3,"t":"bad"}'),
    ])
    # The msgpack parser: a map, an array of maps (a batch, each its own time_key), a non-map.
    ob = "application/octet-stream"
    case("http-parse-msgpack", http_src(parse="@type msgpack\ntime_key t"), [
        http("/h.a", bytes.fromhex("9282a161a26231a174b4323032332d31312d31345432323a31333a32305a82a161a26232a174b4"
                                   "323032332d31312d31345432323a31333a32315a"), ctype=ob),
        http("/h.b", bytes.fromhex("82a161a36f6e65a174b4323032332d31312d31345432323a31333a32325a"), ctype=ob),
        http("/h.c?" + T0, bytes.fromhex("81a161a474687265"), ctype=ob),
    ])
    case("http-bad-json", http_src(), [
        http("/bad?" + T0, '{"a":'),
        http("/bad?" + T0, '{"a":1}x'),
        http("/bad?" + T0, '{"a":1}'),
    ])
    # -- tcp
    tcp_src = lambda parse, *o: source("tcp", ["tag tcp"] + list(o), parse)  # noqa: E731
    case("tcp-none-lines", tcp_src("@type none"),
         sentinel_tcp(["plain line", "", "  spaced  ", "é ü", "tab\there"], 1) + sentinel_tcp(["second conn"], 2), sentinel="message")
    case("tcp-json", tcp_src("@type json"),
         sentinel_tcp(['{"a":1}', '{"a":2,"time":1700000000}', '{"a":', "text", '{"a":3,"time":"1700000001"}'], 1, '{"s":"Z9"}'), sentinel="s")
    case("tcp-regexp-unmatched-dropped", tcp_src("@type regexp\nexpression /^(?<k>\\w+) (?<v>.*)$/"),
         sentinel_tcp(["key value", "nomatch", "k2 v2", ""], 1, "Z9 end"), sentinel="k")
    case("tcp-delimiter-crlf", tcp_src("@type none", 'delimiter "\\r\\n"'),
         sentinel_tcp(["a", "b\nc", "d\r"], 1, delimiter="\r\n"), sentinel="message")
    case("tcp-delimiter-pipe", tcp_src("@type none", 'delimiter "|"'),
         sentinel_tcp(["a", "b\nc", ""], 1, delimiter="|"), sentinel="message")
    case("tcp-source-keys", tcp_src("@type json", "source_address_key addr", "source_hostname_key host"),
         sentinel_tcp(['{"a":1}', '{"a":2,"addr":"mine"}'], 1, '{"s":"Z9"}'), sentinel="s")
    case("tcp-message-length-limit", tcp_src("@type none", "message_length_limit 10"),
         sentinel_tcp(["short", "exactly10!", "eleven1234!", "ok"], 1), sentinel="message")
    case("tcp-split-writes", tcp_src("@type none"),
         sentinel_tcp(["one", "two", "three"], 1, split=1) + sentinel_tcp(["four", "five"], 2, split=4), sentinel="message")
    # Fluentd's parser raises on these and it loses the whole read (README).
    case("tcp-parser-raises-csv-quote", tcp_src("@type csv\nkeys a,b"),
         sentinel_tcp(["1,2", '{"a":1}', "3,4"], 1, "Z9,x") + sentinel_tcp(["5,6"], 2, "Z9,x"), sentinel="a")
    case("tcp-json-array-source-key", tcp_src("@type json", "source_address_key addr"),
         sentinel_tcp(['{"a":1}', "[1,2]", '{"a":2}'], 1, '{"s":"Z9"}') + sentinel_tcp(['{"a":3}'], 2, '{"s":"Z9"}'), sentinel="s")
    case("tcp-extract-tag-key", tcp_src("@type json") .replace("  </parse>\n", "  </parse>\n  <extract>\n    tag_key t\n  </extract>\n"),
         sentinel_tcp(['{"t":"x.y","a":1}', '{"a":2}', '{"t":"z","a":3}'], 1, '{"s":"Z9"}'), sentinel="s")
    case("tcp-no-parse-section", source("tcp", ["tag tcp"]))
    case("tcp-format-flat", source("tcp", ["tag tcp", "format json"]), sentinel_tcp(['{"a":1}'], 1, '{"s":"Z9"}'), sentinel="s")
    case("tcp-security-client-host-and-network", source("tcp", ["tag tcp", "<security>", "  <client>", "    host 127.0.0.1",
                                                                "    network 127.0.0.0/8", "  </client>", "</security>"], "@type none"))
    case("tcp-security-client-allowed", source("tcp", ["tag tcp", "<security>", "  <client>", "    network 127.0.0.0/8", "  </client>", "</security>"], "@type none"),
         sentinel_tcp(["in"], 1), sentinel="message")
    case("udp-no-parse-section", source("udp", ["tag udp"]))
    case("tcp-ltsv", tcp_src("@type ltsv"),
         sentinel_tcp(["a:1\tb:x", "nolabel", "k:v:w"], 1, "s:Z9"), sentinel="s")
    case("tcp-csv", tcp_src("@type csv\nkeys a,b"),
         sentinel_tcp(['1,2', '"q,uoted",x', 'only'], 1, "Z9,x"), sentinel="a")
    # -- udp
    udp_src = lambda parse, *o: source("udp", ["tag udp"] + list(o), parse)  # noqa: E731
    udp = lambda grams, sent="Z9": [{"mode": "udp", "port": 2, "datagrams": grams + [sent]}, wait(1, "sentinel")]  # noqa: E731
    case("udp-none", udp_src("@type none"), udp(["plain", "with newline\n", "crlf\r\n", "two\n\n", "", "é"]), sentinel="message")
    case("udp-json", udp_src("@type json"), udp(['{"a":1}', '{"a":2,"time":1700000000}\n', '{"a":', "text"], '{"s":"Z9"}'), sentinel="s")
    case("udp-remove-newline-false", udp_src("@type none", "remove_newline false"), udp(["keep\n", "crlf\r\n", "none"]), sentinel="message")
    case("udp-message-length-limit", udp_src("@type none", "message_length_limit 8"), udp(["short", "exactly8", "longer than eight"]), sentinel="message")
    case("udp-source-keys", udp_src("@type none", "source_address_key addr", "source_hostname_key host"), udp(["a"]), sentinel="message")
    # One msgpack map a datagram (Fluentd's msgpack parser keeps what a datagram leaves for the
    # next one: README "Differences from Fluentd"), seen through a text format.
    mph = lambda x: {"hex": x}  # noqa: E731
    g.case("udp-msgpack", conf(udp_src("@type msgpack"), sentinel="s").replace(
        "    append true\n", "    append true\n    <format>\n      @type ltsv\n    </format>\n", 1),
        udp([mph("82a16101a162a178"), mph("83a16e9201c0a165a2c3a9a362696ec4020041")], mph("81a173a25a39")), raw_conf=True)
    case("udp-regexp", udp_src("@type regexp\nexpression /^(?<k>\\w+) (?<v>.*)$/"), udp(["key value", "nomatch", "k v\n"], "Z9 x"), sentinel="k")
    # -- syslog (counts are exact: each line below emits one event)
    L3164 = ["<13>Feb  3 04:05:06 host app[123]: msg one", "<34>Oct 11 22:14:15 mymachine su: 'su root' failed"]
    L5424 = ["<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\"] An application event",
             "<14>1 2003-08-24T05:14:15.000003-07:00 host app 123 ID - message here"]
    sy = lambda lines, n=None: [{"mode": "udp", "port": 2, "datagrams": lines}, wait(n or len(lines))]  # noqa: E731
    case("syslog-udp-rfc3164", ssl([]), sy(L3164 + ["<191>Feb 13 04:05:06 host app: debug"]))
    case("syslog-udp-rfc5424", ssl([], parse="@type syslog\nmessage_format rfc5424"), sy(L5424 + ["<13>1 2003-10-11T22:14:15Z host - - - - dashes"]))
    case("syslog-message-format-auto", ssl([], parse="@type syslog\nmessage_format auto"), sy(L3164 + L5424))
    case("syslog-tcp-newline", ssl([], "tcp"), [{"mode": "tcp", "port": 2, "lines": L3164}, wait(2)])
    case("syslog-tcp-octet-count", ssl(["frame_type octet_count"], "tcp", "@type syslog\nmessage_format auto"),
         [{"mode": "tcp", "port": 2, "octet": L5424 + L3164, "split": 5}, wait(4)])
    case("syslog-tcp-octet-count-newline-in-message", ssl(["frame_type octet_count"], "tcp", "@type syslog\nmessage_format rfc5424"),
         [{"mode": "tcp", "port": 2, "octet": ["<14>1 2003-10-11T22:14:15Z host app - - - line one\nline two"]}, wait(1)])
    case("syslog-severity-facility-keys", ssl(["severity_key sev", "facility_key fac"]),
         sy(L3164 + ["<0>Feb  3 04:05:06 host k: emerg", "<191>Feb  3 04:05:06 host k: local7 debug", "<999>Feb  3 04:05:06 host k: past local7"]))
    case("syslog-priority-key-alias", ssl(["priority_key pri"]), sy(L3164))
    case("syslog-with-priority-false", ssl([], parse="@type syslog\nwith_priority false"),
         sy(["Feb  3 04:05:06 host app: no pri", "<13>Feb  3 04:05:06 host app: has pri"], 1))
    case("syslog-unmatched-lines", ssl(["emit_unmatched_lines true"]),
         sy(["garbage", L3164[0], "", "<x>Feb  3 04:05:06 host a: b", "<13>not a time", L3164[1], "Feb  3 04:05:06 host app: no pri"]))
    case("syslog-parse-none", ssl([], parse="@type none"), sy(["<13>anything at all", "<13>", "<191>x y z"]))
    case("syslog-source-keys", ssl(["source_address_key addr", "source_hostname_key host_name"]), sy(L3164[:1]))
    case("syslog-udp-message-length-limit", ssl(["message_length_limit 30"]), sy(L3164[:1]))
    long_msg = "<13>Feb  3 04:05:06 host app: " + "x" * 3000
    case("syslog-tcp-long-message", ssl([], "tcp"), [{"mode": "tcp", "port": 2, "lines": [long_msg, L3164[1]]}, wait(2)])
    case("syslog-udp-long-message", ssl([]), sy([long_msg]))
    case("syslog-tcp-octet-count-bad-length", ssl(["frame_type octet_count", "emit_unmatched_lines true"], "tcp"),
         [{"mode": "tcp", "port": 2, "data": "%d %s" % (len(L3164[0]), L3164[0])}, wait(1),
          {"mode": "tcp", "port": 2, "data": "12x %s" % L3164[1]},
          {"mode": "tcp", "port": 2, "data": "%d %s" % (len(L3164[1]), L3164[1])}, wait(2)])
    case("syslog-include-source-host", ssl(["include_source_host true"]), sy(L3164[:1]))
    case("syslog-include-source-host-with-address-key", ssl(["include_source_host true", "source_address_key a"]))
    case("syslog-keepalive-packet-udp", ssl(["send_keepalive_packet true"]))
    case("syslog-resolve-hostname-false", ssl(["source_hostname_key h", "resolve_hostname false"]))
    case("syslog-protocol-type-tcp", source("syslog", ["tag sys", "protocol_type tcp"]), [{"mode": "tcp", "port": 2, "lines": L3164[:1]}, wait(1)])
    # Bytes that are not UTF-8, seen through a text format (JSON output differs: README).
    bad = lambda t: {"hex": (t.encode() + b"\xff\xfe").hex()}  # noqa: E731
    g.case("syslog-invalid-utf8-ltsv", conf(ssl(["emit_unmatched_lines true"], "tcp")).replace(
        "  append true\n", "  append true\n  <format>\n    @type ltsv\n  </format>\n", 1),
        [{"mode": "tcp", "port": 2, "lines": [bad(L3164[0]), bad("<13>Feb  3 04:05:06 host app: "), bad("junk")]}, wait(3)], raw_conf=True)
    g.case("udp-invalid-utf8-ltsv", conf(udp_src("@type none"), sentinel="message").replace(
        "    append true\n", "    append true\n    <format>\n      @type ltsv\n    </format>\n", 1),
        udp([bad("plain"), bad("")]), raw_conf=True)
    g.case("tcp-invalid-utf8-ltsv", conf(tcp_src("@type none", "source_address_key addr"), sentinel="message").replace(
        "    append true\n", "    append true\n    <format>\n      @type ltsv\n    </format>\n", 1),
        sentinel_tcp([bad("plain"), "good", bad("")], 1), raw_conf=True)
    case("syslog-rfc3164-no-pri-in-parser", ssl([], parse="@type syslog\nmessage_format rfc3164\nwith_priority true"),
         sy(["<13>Feb  3 04:05:06 host app[12]:", "<13>Feb  3 04:05:06 host app:msg", "<13>Feb  3 04:05:06 host app[x]: odd"]))


YEAR_CASES = ["syslog-udp-rfc3164", "syslog-message-format-auto", "syslog-tcp-newline", "syslog-tcp-octet-count",
              "syslog-severity-facility-keys", "syslog-priority-key-alias", "syslog-with-priority-false",
              "syslog-unmatched-lines", "syslog-source-keys", "syslog-udp-message-length-limit",
              "syslog-rfc3164-no-pri-in-parser", "syslog-tcp-long-message", "syslog-udp-long-message",
              "syslog-tcp-octet-count-bad-length", "syslog-include-source-host", "syslog-protocol-type-tcp",
              "syslog-invalid-utf8-ltsv"]


def main():
    """Write the curated cases (their conf and input; record.sh records `expected`)."""
    g.OUT.clear()
    curated()
    g.main()
    for name in YEAR_CASES:
        with open(os.path.join(g.CASES, name, "YEAR"), "w") as fh:
            fh.write("The expected output has {YEAR} for the year Fluentd ran in: RFC 3164 times have none.\n")


if __name__ == "__main__":
    main()
