#!/usr/bin/env python3
"""Writes the seed corpora in seeds/<target>/ (run once; the files are committed).

    make_seeds.py [TARGET...]     (only those targets' seeds; all without arguments)

Seeds are small valid (and a few deliberately forged) inputs so the fuzzer starts inside the
formats instead of having to discover msgpack framing, gzip or the .meta header by itself.
Needs the msgpack module (installed by .ci/install-deps.sh)."""
import gzip, hashlib, os, struct, subprocess, sys
import msgpack

HERE = os.path.dirname(os.path.abspath(__file__))
T = msgpack.ExtType(0, struct.pack(">II", 1700000000, 123))


def seeds(target, items):
    if sys.argv[1:] and target not in sys.argv[1:]:
        return
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    for name, data in items:
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


p = msgpack.packb
rec = {"log": "hello", "n": 1, "f": 1.5, "nested": {"a": [1, None, True]}}
entries = p([T, rec]) + p([1700000000, {"b": "x"}]) + p([[T, {"meta": 1}], rec])
opt = {"chunk": "Y2h1bmstaWQ=", "size": 3}

# forward_decoder: byte 0 flags, bytes 1-2 split point, then the stream (framing 0) or the
# payload the harness wraps (framings 1-3).
raw_frames = [
    ("message", p(["app.t", 1700000000, rec])),
    ("message_eventtime_ack", p(["app.t", T, rec, opt])),
    ("forward", p(["app.t", [[T, rec], [1700000001, {"a": 1}]], opt])),
    ("packed", p(["app.t", entries, {"size": 3, "chunk": "abc"}])),
    ("packed_bin", p(["app.t", bytes(entries), {"size": 3}])),
    ("compressed", p(["app.t", gzip.compress(entries), {"compressed": "gzip", "size": 3, "chunk": "q"}])),
    ("compressed_2members", p(["app.t", gzip.compress(entries) + gzip.compress(entries), {"compressed": "gzip"}])),
    ("heartbeat_then_message", b"\xc0" + p(["a", 1, {"k": "v"}])),
    ("not_array", p({"x": 1}) + p(["b", 2, {}])),
    ("json_message", '["app.t", 1700000000, {"a": 1}, {"chunk": "x"}]\n["b", 0, {}]'),
    ("json_forward", '["app.t", [[1700000000, {"a": "b"}], [1.5, {"c": null}]]]'),
    ("fluentbit_meta", p(["fb", [[[T, {}], rec]]])),
    # forged length prefixes: a 4 GiB str/bin/array/map must not be allocated
    ("forged_str32", b"\x93\xa1t\xdb\xff\xff\xff\xff" + b"x" * 16),
    ("forged_bin32", b"\x93\xa1t\xc6\xff\xff\xff\xffabc"),
    ("forged_array32", b"\x92\xa1t\xdd\xff\xff\xff\xff\x92\x01\x80"),
    ("forged_map32", b"\x93\xa1t\x01\xdf\xff\xff\xff\xff\xa1a\x01"),
    ("forged_ext32", b"\x93\xa1t\xc9\xff\xff\xff\xff\x00"),
    ("forged_packed_in_gzip", p(["t", gzip.compress(b"\x92\xd7\x00" + b"\0" * 8 + b"\xdf\xff\xff\xff\xff"), {"compressed": "gzip"}])),
]
fd = []
for i, (name, data) in enumerate(raw_frames):
    fd.append((name, bytes([0x01, (i * 37) % 256, 0]) + (data.encode() if isinstance(data, str) else data)))
fd.append(("wrap_gzip", bytes([0x11, 5, 0]) + entries))
fd.append(("wrap_gzip_chunk", bytes([0x91, 9, 0]) + entries))
fd.append(("wrap_packed", bytes([0x21, 3, 0]) + entries))
fd.append(("wrap_members", bytes([0xb1, len(p([T, rec])), 0]) + entries))
fd.append(("wrap_member_garbage", bytes([0x31, 20, 0]) + entries))
fd.append(("wrap_gzip_forged", bytes([0x19, 0, 0]) + b"\x92\xd7\x00" + b"\0" * 8 + b"\xdf\xff\xff\xff\xff"))
seeds("forward_decoder", fd)

# forward_handshake
def digest(*parts):
    h = hashlib.sha512()
    for x in parts:
        h.update(x)
    return h.hexdigest()

nonce, auth = bytes([7] * 16), bytes([9] * 16)
seeds("forward_handshake", [
    ("ping_ok", p(["PING", "client", "salt", digest(b"salt", b"client", nonce, b"secret"), "", ""])),
    ("ping_user", p(["PING", "client", "salt", digest(b"salt", b"client", nonce, b"secret"), "alice", digest(auth, b"alice", b"pw")])),
    ("ping_bad", p(["PING", "client", "salt", "00", "bob", "00"])),
    ("ping_bin", p(["PING", b"client", b"salt", b"x" * 128, b"", b""], use_bin_type=True)),
    ("helo", p(["HELO", {"nonce": nonce, "auth": auth, "keepalive": True}], use_bin_type=True)),
    ("helo_str", p(["HELO", {"nonce": "n" * 16, "auth": "", "keepalive": False}])),
    ("pong_ok", p(["PONG", True, "", "server", digest(b"salt", b"server", nonce, b"secret")])),
    ("pong_fail", p(["PONG", False, "shared_key mismatch", "", ""])),
    ("json_ping", '["PING", "client", "salt", "abc", "", ""]'),
    ("forged", b"\x96\xa4PING\xdb\xff\xff\xff\xffxx"),
])

# msgpack: byte 0 is the split point of the resumable scan.
vals = [
    rec, [1, -1, 2**63, -(2**63), 1.0, float("nan"), float("inf"), None, True, b"bin", "str"],
    {"deep": [[[[[{"a": [[]]}]]]]]}, T, msgpack.ExtType(5, b"abcdefgh"),
    "\u00e9\u4e2d\U0001f600", "a" * 40,
]
ms = [(f"v{i}", bytes([i * 3]) + p(v, use_bin_type=True)) for i, v in enumerate(vals)]
ms.append(("timestamp96", b"\x06\xc7\x0c\xff" + struct.pack(">Iq", 5, 1700000000)))
ms.append(("f32", b"\x02\xca\x3f\xc0\x00\x00"))
ms.append(("invalid_utf8", b"\x01\xa2\xff\xfe"))
ms.append(("forged_str32", b"\x03\xdb\xff\xff\xff\xffab"))
ms.append(("forged_array32", b"\x03\xdd\xff\xff\xff\xff\x01\x02"))
ms.append(("forged_map16", b"\x03\xde\xff\xff\x01\x02"))
ms.append(("c1", b"\x00\x92\x01\xc1"))
ms.append(("deep", b"\x05" + b"\x91" * 300 + b"\xc0"))
seeds("msgpack", ms)

# config: the repo's configs plus every value syntax.
conf_dir = os.path.join(HERE, "..", "..", "conf")
cs = []
for n in sorted(os.listdir(conf_dir)):
    if n.endswith(".conf"):
        cs.append((n, open(os.path.join(conf_dir, n), "rb").read()))
cs.append(("syntax", r'''
<system>
  log_level info
  workers 2
</system>
@include other.conf
@include sub/*.conf
<source>
  @type forward
  @label @IN
  port 24224
  bind "#{ENV['BIND'] || '0.0.0.0'}"
  host "#{Socket.gethostname}"
  key "#{ENV.fetch('K', 'd')}"
  list ["a", "b", 1]
  hash {"a": 1, "b": {"c": [true, null]}}
  multi "line1\nline2\t\u00e9 \"q\""
  single 'no #{interp}'
  long [1,
        2]
  <security>
    self_hostname x
    shared_key s
    <user>
      username u
      password p
    </user>
  </security>
</source>
<label @IN>
  <filter app.{a,b}.**>
    @type grep
    <regexp>
      key log
      pattern /^err(or)?$/i
    </regexp>
  </filter>
  <match /^ab+c$/ **>
    @type copy
    <store ignore_error>
      @type stdout
    </store>
  </match>
</label>
<match **> # comment
  type stdout
  flush_interval 10s
  chunk_limit_size 8m
</match>
'''))
cs.append(("v012", "<source>\n  type tail\n  format /^(?<a>.*)$/\n  time_format %d/%b/%Y\n</source>\n<match a.b>\n  type file\n  path /x\n</match>\n"))
cs.append(("errors", "<match>\n  @type\n</match\n<source\n  \"unterminated\n"))
seeds("config", cs)

# parsers: byte 0 picks the configuration (see CONFIGS in fuzz_targets/parsers.rs).
texts = [
    '{"time":1700000000,"a":1,"i":"12","f":"1.5","b":"true","s":2,"a":"x|y","t":"2024-01-02 03:04:05+0900","u":"1700000000","z":"2024-01-02","n":"-"}',
    '{"time":"2024-01-02T03:04:05.123456789+09:00","log":"x","k":null}',
    '[{"a":1},{"b":2}]',
    '2024-01-02 03:04:05.123 [INFO] host 200 x message here',
    'Key=value\nk2=1700000000',
    'time:2024-01-02 03:04:05\thost:h\tmsg:hello',
    'a=b c=d time=1700000000.5',
    '1700000000,"quoted, field","with ""escape""",x',
    '1;2;3',
    'a\tb\t20240102',
    '127.0.0.1 - - [02/Jan/2024:03:04:05 +0000] "GET /x HTTP/1.1" 200 612 "-" "curl/8"',
    '192.168.0.1 - user [02/Jan/2024:03:04:05 +0900] "POST /a?b=c HTTP/2.0" 404 - "http://r/" "Mozilla/5.0" "-"',
    '::1 - - [02/Jan/2024:03:04:05 -0700] "GET / HTTP/1.0" 500 0',
    '[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server configuration: /x',
    '<13>Feb  5 17:32:18 host prog[123]: message text',
    '<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 [exampleSDID@32473 iut="3"] BOM msg',
    '<13>1 2024-01-02T03:04:05+09:00 host app 12 - - hello',
    'Feb  5 17:32:18 host prog: no pid',
    'Feb 05 17:32:18 host colonless message',
    '<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It\'s time',
    'plain text line',
    'text for message_key',
    '2024-01-02 03:04:05 first line\n  continued\n2024-01-02 03:04:06 second',
    '[1] one\n[2] two\nstray',
    'word rest of line',
    '{"json":1}',
    '1700000000 message\nk=v',
]
ps = [(f"p{i}", bytes([i]) + t.encode()) for i, t in enumerate(texts)]
seeds("parsers", ps)

# buffer_meta / buffer_resume
def meta(id_, tag="app.t", timekey=1700000000, variables=None, s=2, z=None, header=True, extra=None):
    m = {"timekey": timekey, "tag": tag, "variables": variables, "seq": 0, "id": id_,
         "s": s, "c": 1700000000, "m": 1700000100}
    if z is not None:
        m["z"] = z
    if extra:
        m.update(extra)
    body = p(m, use_bin_type=True)
    return (b"\xc1\x00" + struct.pack(">I", len(body)) + body) if header else body

ID = bytes(range(16))
data2 = p([T, rec]) + p([T, {"b": 1}])
seeds("buffer_meta", [
    ("logferry", meta(ID, z=len(data2))),
    ("fluentd_header", meta(ID)),
    ("fluentd_headerless", meta(ID, header=False)),
    ("variables", meta(ID, tag=None, timekey=None, variables={"k": "v", "x": ""}, z=0)),
    ("unknown_key", meta(ID, z=5, extra={"zz": [1, 2]})),
    ("forged_len", b"\xc1\x00\xff\xff\xff\xff" + meta(ID, header=False)),
    ("trailing", meta(ID, z=1) + b"\x00\x01garbage"),
    ("forged_map32", b"\xdf\xff\xff\xff\xff\xa3tag\xa1t"),
])
seeds("buffer_resume", [
    ("logferry_staged", bytes([0x00]) + struct.pack("<H", len(meta(ID, z=len(data2)))) + meta(ID, z=len(data2)) + data2),
    ("logferry_queued_torn", bytes([0x03]) + struct.pack("<H", len(meta(ID, z=len(data2)))) + meta(ID, z=len(data2)) + data2 + b"\x92torn"),
    ("enqueue_crash", bytes([0x09]) + struct.pack("<H", len(meta(ID, z=len(data2)))) + meta(ID, z=len(data2)) + data2),
    ("fluentd_msgpack", bytes([0x03]) + struct.pack("<H", len(meta(ID))) + meta(ID) + data2),
    ("fluentd_lines", bytes([0x22]) + struct.pack("<H", len(meta(ID, header=False))) + meta(ID, header=False) + b"line 1\nline 2\n"),
    ("short_data", bytes([0x01]) + struct.pack("<H", len(meta(ID, z=999))) + meta(ID, z=999) + data2),
    ("both_states", bytes([0x11]) + struct.pack("<H", len(meta(ID, z=len(data2)))) + meta(ID, z=len(data2)) + data2),
])
# time_parse: texts for Ruby's Time.parse (no time_format).
seeds("time_parse", [(f"t{i}", t) for i, t in enumerate([
    "2024-01-02T03:04:05.123456789+09:00", "2024-01-02 03:04:05 +0900", "2024-01-02",
    "Tue, 02 Jan 2024 03:04:05 GMT", "Jan  2 03:04:05", "Sat Aug 28 02:55:50 +09:00 1999",
    "H11.05.21", "2024-W05-3", "--12-25", "2024-070", "12345", "231114", "T123045.5Z",
    "12:00 pm EST", "12 Jan 0099 BC", "10:20 [-5:EST]", "99999999999999-01-01", "Feb 31 24:00",
])])
# ruby_expr: byte 0 (bit 0: a `${...}` value, else one expression; the rest: the tag), the
# text, NUL, a msgpack record (the differential test's record for Ruby, ruby_expr/record.json).
with open(os.path.join(HERE, "..", "differential", "ruby_expr", "record.json")) as f:
    import json
    rx_record = p(json.load(f))
drawn = subprocess.run(
    [sys.executable, os.path.join(HERE, "..", "differential", "ruby_expr", "gen.py"), "1", "48"],
    capture_output=True, text=True, check=True).stdout.splitlines()
written = [
    'record["log"].split(" ")[0]', 'tag_parts[1] + "." + tag_suffix[-1]', 'time.strftime("%Y-%m-%dT%H:%M:%S.%N%z")',
    'record["a"][1..-1] * ","', 'record.dig("h", "k", 0)', 'Hash.new(0)["x"] + 1', '(record["i"] / 0 rescue 1)',
    '"x" * 99999999', '[1, [2, [3]]].first(2).last.length', '9223372036854775807 + 1', '-9223372036854775808 / -1',
    'record["s"].gsub(/(?<w>o)/, "<\\k<w>>")', 'record["s"].scan(/(\w)(\w)?/)', 'Time.now.to_i.to_s(16)',
    '((((((((((((((((1))))))))))))))))', 'record["m"] =~ /x/', '!record["n"] ? :sym : nil',
]
items = [(f"e{i:02}", bytes([2 * (i % 4)]) + e.encode() + b"\0" + rx_record) for i, e in enumerate(drawn + written)]
items += [(f"t{i:02}", bytes([1 + 2 * (i % 4)]) + t.encode() + b"\0" + rx_record) for i, t in enumerate([
    'a #{record["s"]} b', '#{tag}-#{time}', '#{record["a"].map { |x| x }}', '#{', 'x}#{hostname}', '#{"}"}',
])]
seeds("ruby_expr", items)
print("seeds written", file=sys.stderr)
