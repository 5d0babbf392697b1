"""Hunt area `tail` (hunt.py registers it): in_tail on random bytes.

A case follows one file, {DIR}/logs/a.log, written by send_files.py lines while the daemon runs
(and, at random, a first part in the case's `files/`, read with `read_from_head true`): random
lines (empty ones, spaces, `\\r` alone or before the newline, bytes that are not UTF-8, long
lines) through a random parser (none, json, regexp, csv, tsv, ltsv) with random `path_key`,
`emit_unmatched_lines` and `max_line_size`, appended in random pieces cut anywhere (inside a line,
between `\\r` and `\\n`). The last line is a sentinel the parser always reads into a field as `Z9`;
each event also goes to a label whose grep filter (`@id sentinel`) passes only that one, and the
case waits until monitor_agent reports the filter's emit_records at 1 (the file is read in order,
so every line before the sentinel was read then). Output (ltsv, which keeps bytes that are not
UTF-8 as Fluentd does; out_file's JSON writes U+FFFD, a known difference) and pos file are
compared.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_tail as t  # noqa: E402

R = None  # hunt.py sets its seeded Random

# (parse section, sentinel line, key the sentinel fills)
PARSERS = [
    ("@type none", "Z9", "message"),
    ("@type json", '{"s":"Z9"}', "s"),
    ("@type regexp\nexpression /^(?<k>[^=]*)=(?<v>.*)$/", "s=Z9", "v"),
    ("@type csv\nkeys a,b", "Z9,x", "a"),
    ("@type tsv\nkeys a,b", "Z9\tx", "a"),
    ("@type ltsv", "s:Z9", "s"),
]

PIECES = [b"", b" ", b"a", b"k=v", b"x,y", b"a:1\tb:2", b'{"a":1}', b'{"a":"\xc3\xa9"}', b'{"a"', b"\r",
          b"\"q,\"", b"=", b"\t", b"[1]", b"null", b"caf\xc3\xa9", b"\x00"]
# Not UTF-8: parsers other than none see each such sequence as `?` (a known difference), so only
# some cases have them.
INVALID = [b"\xff", b"\xc3", b"\xe9t\xe9"]


def line(pieces):
    n = R.choice([0, 1, 1, 2, 3])
    b = b"".join(R.choice(pieces) for _ in range(n))
    if R.random() < 0.08:
        b += b"L" * R.choice([20, 40, 200, 5000])
    return b


def hunt_tail(name):
    parse, sentinel, key = R.choice(PARSERS)
    extra = ["read_from_head true"]
    if R.random() < 0.4:
        extra.append("path_key src")
    if R.random() < 0.5:
        extra.append("emit_unmatched_lines true")
    if R.random() < 0.3:
        extra.append("max_line_size %d" % R.choice([12, 30, 100]))
    ends = [b"\n", b"\n", b"\n", b"\r\n"]
    pieces = PIECES + (INVALID if R.random() < 0.3 else [])
    data = b"".join(line(pieces) + R.choice(ends) for _ in range(R.randint(1, 12)))
    data += sentinel.encode() + b"\n"
    files = {}
    if R.random() < 0.3:
        cut = R.randint(0, len(data) - len(sentinel) - 1)
        files["logs/a.log"] = data[:cut]
        data = data[cut:]
    inputs = []
    k = 0
    while k < len(data):
        n = R.randint(1, max(1, len(data) // 2))
        inputs.append({"mode": "file", "path": "logs/a.log", "hex": data[k:k + n].hex()})
        k += n
    inputs.append({"mode": "wait", "port": 4, "id": "sentinel", "emit_records": 1})
    src = t.source(parse, extra="\n".join(extra))
    out = ("<match **>\n  @type copy\n  <store>\n    @type relabel\n    @label @SENTINEL\n  </store>\n"
           "  <store>\n    @type file\n    @id out\n    path {DIR}/out/f\n    append true\n"
           "    <format>\n      @type ltsv\n    </format>\n"
           "    <buffer []>\n      @type memory\n    </buffer>\n  </store>\n</match>\n"
           "<label @SENTINEL>\n  <filter **>\n    @type grep\n    @id sentinel\n    <regexp>\n"
           "      key %s\n      pattern /^Z9$/\n    </regexp>\n  </filter>\n"
           "  <match **>\n    @type null\n  </match>\n</label>\n" % key)
    t.case(name, src, inputs, files, out=out)


AREAS = {"tail": hunt_tail}

if __name__ == "__main__":
    print(json.dumps(sorted(AREAS)))
