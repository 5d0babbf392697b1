#!/usr/bin/env python3
"""Receivers for the differential cases whose fluent.conf names `{HTTP}` or `{FWD}`: what an
out_http or an out_forward sends is recorded, so that collect.py can show it.

    sink.py serve DIR   start an HTTP server and a forward-protocol server on 127.0.0.1 (ports the
                        kernel picks), write their addresses to DIR/sink-endpoints once they
                        listen ("http://127.0.0.1:P" and "127.0.0.1:P", one per line), record
                        what arrives under DIR/sink/, and serve until terminated.

The HTTP server answers every request 200 (or NNN when the path has a segment `status/NNN`)
with an empty body and records its method, path,
query, the headers a receiver keys on (Content-Type, Content-Encoding, Authorization and any
X-* header) and body. The forward server reads frames in every mode, answers `ack` when the
option asks for one, and records each frame: mode, tag, option keys, and each entry's time
(integer, float or EventTime) and record.
"""
import base64
import gzip
import json
import os
import signal
import socket
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import msgpack

LOCK = threading.Lock()
SEQ = [0]


def record(root, kind, entry):
    """Append one received request or frame to DIR/sink/<n>.json (numbered in arrival order)."""
    with LOCK:
        SEQ[0] += 1
        n = SEQ[0]
    path = os.path.join(root, "sink", "%06d.%s.json" % (n, kind))
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(entry, fh)
    os.rename(tmp, path)


def b64(data):
    return base64.b64encode(data).decode()


def http_handler(root):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def handle_any(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                body = self.read_chunked()
            keep = {}
            for k, v in self.headers.items():
                lk = k.lower()
                if lk in ("content-type", "content-encoding", "authorization") or lk.startswith("x-"):
                    keep[lk] = v
            record(root, "http", {"method": self.command, "path": self.path, "headers": keep, "body": b64(body)})
            # A path with a segment `status/NNN` is answered NNN (to drive error paths).
            parts = self.path.split("?")[0].split("/")
            code = 200
            if "status" in parts[:-1]:
                code = int(parts[parts.index("status") + 1])
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def read_chunked(self):
            out = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()

        do_POST = do_PUT = do_GET = do_PATCH = do_DELETE = handle_any

    return Handler


def time_of(t):
    if isinstance(t, msgpack.ExtType) and t.code == 0 and len(t.data) == 8:
        sec, nsec = int.from_bytes(t.data[:4], "big"), int.from_bytes(t.data[4:], "big")
        return "EventTime(%d, %d)" % (sec, nsec)
    if isinstance(t, float):
        return "float %r" % t
    return "%s %r" % (type(t).__name__, t)


class Pairs(list):
    """A msgpack map with a repeated key, kept pair by pair (a dict would keep one of them)."""


def map_of(pairs):
    d = dict(pairs)
    return d if len(d) == len(pairs) else Pairs(pairs)


def jsonable(v):
    if isinstance(v, Pairs):
        return {"$pairs": [[jsonable(k), jsonable(x)] for k, x in v]}
    if isinstance(v, bytes):
        return {"$bin": b64(v)}
    if isinstance(v, msgpack.ExtType):
        return {"$ext": [v.code, b64(v.data)]}
    if isinstance(v, dict):
        d = {str(k): jsonable(x) for k, x in v.items()}
        if len(d) < len(v):  # 1 and "1": both kept
            return {"$pairs": [[jsonable(k), jsonable(x)] for k, x in v.items()]}
        return d
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    return v


def entries_of(blob):
    u = msgpack.Unpacker(raw=False, strict_map_key=False, unicode_errors="surrogateescape", object_pairs_hook=map_of)
    u.feed(blob)
    return [[time_of(t), jsonable(r)] for t, r in u]


def serve_forward_conn(conn, root, n):
    # DIR/sink/conn-N.open exists while the connection is read: collect waits until none is.
    mark = os.path.join(root, "sink", "conn-%d.open" % n)
    try:
        read_frames(conn, root)
    finally:
        os.remove(mark)


def read_frames(conn, root):
    u = msgpack.Unpacker(raw=False, strict_map_key=False, unicode_errors="surrogateescape", object_pairs_hook=map_of)
    with conn:
        while True:
            data = conn.recv(1 << 16)
            if not data:
                return
            u.feed(data)
            for frame in u:
                tag, second = frame[0], frame[1]
                option = frame[3] if len(frame) > 3 else (frame[2] if len(frame) > 2 and isinstance(frame[2], dict) else None)
                if isinstance(second, list):
                    mode, entries = "forward", [[time_of(t), jsonable(r)] for t, r in second]
                elif isinstance(second, (bytes, str)):
                    blob = second.encode("utf-8", "surrogateescape") if isinstance(second, str) else second
                    if option and option.get("compressed") == "gzip":
                        mode, blob = "compressed", gzip.decompress(blob)
                    else:
                        mode = "packed" + ("" if isinstance(second, bytes) else " (str)")
                    entries = entries_of(blob)
                else:
                    mode, entries = "message", [[time_of(second), jsonable(frame[2])]]
                keys = sorted(option.keys()) if option else []
                record(root, "forward", {"mode": mode, "tag": tag, "option_keys": keys,
                                         "size": option.get("size") if option else None, "entries": entries})
                if option and "chunk" in option:
                    conn.sendall(msgpack.packb({"ack": option["chunk"]}))


def serve(root):
    os.makedirs(os.path.join(root, "sink"), exist_ok=True)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), http_handler(root))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    fwd = socket.socket()
    fwd.bind(("127.0.0.1", 0))
    fwd.listen(64)

    def accept():
        n = 0
        while True:
            c, _ = fwd.accept()
            n += 1
            open(os.path.join(root, "sink", "conn-%d.open" % n), "w").close()
            threading.Thread(target=serve_forward_conn, args=(c, root, n), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    tmp = os.path.join(root, "sink-endpoints.tmp")
    with open(tmp, "w") as fh:
        fh.write("http://127.0.0.1:%d\n127.0.0.1:%d\n" % (httpd.server_address[1], fwd.getsockname()[1]))
    os.rename(tmp, os.path.join(root, "sink-endpoints"))
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        signal.pause()


def decoded_body(headers, body):
    """The body as text: gzip (by Content-Encoding or magic) decompressed after "(gunzipped)";
    an application/x-msgpack or msgpack body as one JSON value per line after "(msgpack)"."""
    note = []
    if headers.get("content-encoding") == "gzip" or body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
        note.append("(gunzipped)")
    if "msgpack" in headers.get("content-type", ""):
        u = msgpack.Unpacker(raw=False, strict_map_key=False, unicode_errors="surrogateescape", object_pairs_hook=map_of)
        u.feed(body)
        body = "".join(json.dumps(jsonable(v), ensure_ascii=False) + "\n" for v in u).encode("utf-8", "surrogateescape")
        note.append("(msgpack)")
    return note, body


def objects(root):
    """What the receivers got, as (head, body) pairs: each HTTP request ("== http METHOD PATH",
    the kept headers in name order, then its body) and each forward frame ("== forward MODE TAG",
    its option keys and `size`, then one line per entry: time and record as JSON), sorted by
    their text so that the order chunks are flushed in does not matter."""
    d = os.path.join(root, "sink")
    if not os.path.isdir(d):
        return
    # The daemon has exited, so its connections are closed: wait until the receiver has read
    # each to its end.
    deadline = time.monotonic() + 60
    while any(n.endswith(".open") for n in os.listdir(d)):
        if time.monotonic() > deadline:
            raise SystemExit("sink.py: a forward connection was not read to its end within 60 s")
        time.sleep(0.05)
    blobs = []
    for name in sorted(os.listdir(d)):
        if not name.endswith(".json"):
            continue
        e = json.load(open(os.path.join(d, name)))
        if ".http." in name:
            head = ["== http %s %s" % (e["method"], e["path"])]
            head += ["%s: %s" % kv for kv in sorted(e["headers"].items())]
            note, body = decoded_body(e["headers"], base64.b64decode(e["body"]))
            blobs.append((("\n".join(head + note) + "\n").encode(), body))
        else:
            head = ["== forward %s %s" % (e["mode"], e["tag"]), "option: %s" % ",".join(e["option_keys"])]
            if e["size"] is not None:
                head.append("size: %s" % e["size"])
            body = "".join("%s\t%s\n" % (t, json.dumps(r, ensure_ascii=False)) for t, r in e["entries"])
            blobs.append((("\n".join(head) + "\n").encode(), body.encode("utf-8", "surrogateescape")))
    yield from sorted(blobs)


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"] and len(sys.argv) == 3:
        serve(sys.argv[2])
    else:
        sys.exit(__doc__)
