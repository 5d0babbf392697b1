#!/usr/bin/env python3
"""Send a differential case's input to a forward server and print what came back.

Used both by record.sh (against Fluentd) and by tests/e2e_differential.rs (against logferry),
so both receive exactly the same bytes.

    send.py PORT INPUT_FILE [PORT2 [PORT3 [PORT4]]]

INPUT_FILE holds one JSON object per line, one forward frame each, or a line for another input
(modes http, tcp, udp, wait: see send_inputs.py; file, writing files under {DIR} for
in_tail: see send_files.py; PORT2..PORT4 are {PORT2}..{PORT4}):

  {"mode": "message", "tag": "t", "time": T, "record": R}
  {"mode": "forward", "tag": "t", "entries": [[T, R], ...]}
  {"mode": "packed",  "tag": "t", "entries": [[T, R], ...]}            (bin payload; "as": "str" for str)
  {"mode": "compressed", "tag": "t", "entries": [[T, R], ...]}         (gzip, option compressed=gzip)
  {"mode": "json", "frame": [...]}                                     (the frame as JSON text; its own connection)
  {"mode": "raw", "hex": "..."}                                        (bytes as they are)

Optional keys: "ack": false (no ack asked; the next acked frame proves it was processed),
"new_conn": true (close the connection and open another before this frame).

A case with a line {"mode": "ping", ...} does the <security> handshake: see send_sec.py.

Values T and R are JSON, with these extras for what JSON cannot say:
  {"$et": [sec, nsec]}    EventTime (msgpack ext type 0)
  {"$str_hex": "c328"}    a msgpack str of these raw bytes (may be invalid UTF-8)
  {"$bin_hex": "00ff"}    a msgpack bin
  {"$f32": 1.5}           a float32
  {"$rep": ["ab", 1000]}  the string repeated (long values)
  {"$pairs": [[K, V], ...]}  a map written pair by pair (repeated or non-string keys)

Each frame prints one line: "frame N: ack", "frame N: sent" (no ack asked), "frame N: closed"
(the server closed the connection instead of acking) or "frame N: no ack" (nothing within the
timeout).
"""
import gzip
import json
import socket
import struct
import sys

import msgpack

import send_sec
import send_inputs
import send_files

ACK_TIMEOUT = 20.0


def str_head(n):
    if n < 32:
        return bytes([0xA0 | n])
    if n < 256:
        return b"\xd9" + bytes([n])
    if n < 65536:
        return b"\xda" + struct.pack(">H", n)
    return b"\xdb" + struct.pack(">I", n)


def map_head(n, out):
    if n < 16:
        out.append(0x80 | n)
    elif n < 65536:
        out += b"\xde" + struct.pack(">H", n)
    else:
        out += b"\xdf" + struct.pack(">I", n)


def pack(v, out):
    if isinstance(v, dict):
        if len(v) == 1:
            (k, x), = v.items()
            if k == "$et":
                out += b"\xd7\x00" + struct.pack(">II", x[0], x[1])
                return
            if k == "$str_hex":
                b = bytes.fromhex(x)
                out += str_head(len(b)) + b
                return
            if k == "$bin_hex":
                out += msgpack.packb(bytes.fromhex(x), use_bin_type=True)
                return
            if k == "$f32":
                out += b"\xca" + struct.pack(">f", x)
                return
            if k == "$rep":
                out += msgpack.packb(x[0] * x[1])
                return
            if k == "$pairs":
                map_head(len(x), out)
                for key, val in x:
                    pack(key, out)
                    pack(val, out)
                return
        map_head(len(v), out)
        for k, x in v.items():
            pack(k, out)
            pack(x, out)
    elif isinstance(v, list):
        n = len(v)
        if n < 16:
            out.append(0x90 | n)
        elif n < 65536:
            out += b"\xdc" + struct.pack(">H", n)
        else:
            out += b"\xdd" + struct.pack(">I", n)
        for x in v:
            pack(x, out)
    else:
        out += msgpack.packb(v, use_bin_type=True)


def packed(v):
    out = bytearray()
    pack(v, out)
    return bytes(out)


def frame_bytes(i, f):
    """The bytes of frame number i, and the chunk id asked to be acked (or None)."""
    mode = f["mode"]
    chunk = "c%d" % i if f.get("ack", True) else None
    opt = {"chunk": chunk} if chunk else {}
    if mode == "raw":
        return bytes.fromhex(f["hex"]), None
    if mode == "json":
        fr = list(f["frame"])
        if chunk:
            has_opt = len(fr) == 4 or (len(fr) == 3 and isinstance(fr[1], list))
            if has_opt:
                fr[-1] = dict(fr[-1], **opt)
            else:
                fr.append(opt)
        return json.dumps(fr, ensure_ascii=False).encode(), chunk
    tag = f["tag"]
    if mode == "message":
        return packed([tag, f["time"], f["record"], opt] if opt else [tag, f["time"], f["record"]]), chunk
    if mode == "forward":
        return packed([tag, f["entries"]] + ([opt] if opt else [])), chunk
    if mode in ("packed", "compressed"):
        body = b"".join(packed(e) for e in f["entries"])
        if mode == "compressed":
            body = gzip.compress(body, mtime=0)
            opt = dict(opt, compressed="gzip")
        if f.get("as") == "str":
            head = str_head(len(body))
        else:
            head = msgpack.packb(b"\x00" * len(body), use_bin_type=True)[: -len(body) or None]
        out = bytearray()
        out.append(0x93 if opt else 0x92)
        pack(tag, out)
        out += head + body
        if opt:
            pack(opt, out)
        return bytes(out), chunk
    raise SystemExit("unknown mode %r" % mode)


def read_ack(sock, json_mode):
    """Read one ack; returns its chunk id, or "closed"/"timeout"."""
    sock.settimeout(ACK_TIMEOUT)
    buf = b""
    unpacker = msgpack.Unpacker(raw=False)
    while True:
        try:
            data = sock.recv(4096)
        except socket.timeout:
            return "timeout"
        except OSError:
            return "closed"
        if not data:
            return "closed"
        if json_mode:
            buf += data
            try:
                return json.loads(buf.decode()).get("ack")
            except ValueError:
                continue
        unpacker.feed(data)
        for obj in unpacker:
            if isinstance(obj, dict):
                return obj.get("ack")
            return repr(obj)


def main():
    port = int(sys.argv[1])
    ports = [port] + [int(p) for p in sys.argv[3:]]
    frames = []
    with open(sys.argv[2], encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                frames.append(json.loads(line))
    if any(f.get("mode") in send_sec.MODES for f in frames):
        # The <security> handshake (send_sec.py): every connection starts with the server's HELO.
        send_sec.run(port, frames, frame_bytes)
        return
    sock = None
    sock_json = None
    for i, f in enumerate(frames, 1):
        if f["mode"] in send_inputs.MODES:
            print("frame %d: %s" % (i, send_inputs.run(f, ports)), flush=True)
            continue
        if f["mode"] in send_files.MODES:
            print("frame %d: %s" % (i, send_files.run(f, ports)), flush=True)
            continue
        json_mode = f["mode"] == "json"
        if sock is not None and (f.get("new_conn") or sock_json != json_mode):
            sock.close()
            sock = None
        if sock is None:
            sock = socket.create_connection(("127.0.0.1", port))
            sock_json = json_mode
        data, chunk = frame_bytes(i, f)
        try:
            sock.sendall(data)
        except OSError:
            print("frame %d: closed" % i, flush=True)
            sock.close()
            sock = None
            continue
        if chunk is None:
            print("frame %d: sent" % i, flush=True)
            continue
        got = read_ack(sock, json_mode)
        if got == chunk:
            print("frame %d: ack" % i, flush=True)
        elif got == "closed":
            print("frame %d: closed" % i, flush=True)
            sock.close()
            sock = None
        elif got == "timeout":
            print("frame %d: no ack" % i, flush=True)
            sock.close()
            sock = None
        else:
            print("frame %d: wrong ack %r" % (i, got), flush=True)
    if sock is not None:
        sock.close()
    send_inputs.close()


if __name__ == "__main__":
    main()
