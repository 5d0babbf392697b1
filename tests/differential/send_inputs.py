"""Input lines of a differential case for the inputs other than forward: http, tcp, udp (and so
syslog, over either), and a wait on monitor_agent. Imported by send.py, which hands every line
whose "mode" is in MODES to run().

Every line names the port it goes to: "port": 1 is {PORT} (the default), 2 to 4 are {PORT2} to
{PORT4}; record.sh and tests/e2e_differential.rs substitute a free port on 127.0.0.1 for each.

  {"mode": "http", "method": "POST", "path": "/tag?time=1700000000",
   "headers": [["Content-Type", "application/json"]], "body": "{\"a\":1}"}
      One HTTP/1.1 request. "body_hex" instead of "body" for bytes; "length": false sends no
      Content-Length (the body, if any, ends the request by closing the writing side);
      "chunked": [texts] sends a chunked body; "keep": true sends it on the connection the last
      http line kept open (else a new one; either way it is kept open for the next line when
      that line says "keep", and closed otherwise). "show": [header names] adds those response
      headers. Prints "frame N: http STATUS BODY [name: value]...", BODY as a JSON string (or
      hex:… when it is not UTF-8), or "frame N: http closed" when the server closed the
      connection without answering ("version": "HTTP/1.0" sends that version instead of 1.1).
  {"mode": "tcp", "data": "a\nb\n"}                     ("hex": "…" for bytes)
  {"mode": "tcp", "lines": ["a", "b"], "delimiter": "\r\n"}   each line and the delimiter
  {"mode": "tcp", "octet": ["<13>1 - ..."]}             RFC 6587 octet counting: "LEN SP MSG"
      (an item of "lines", "octet" or "datagrams" may be {"hex": "…"} for bytes)
      One connection (or "conns": N, the same bytes on each of N connections, one after the
      other); the client writes everything, shuts its writing side down and closes.
      "split": K writes the bytes in pieces of K bytes. Prints "frame N: tcp sent".
  {"mode": "udp", "data": "…"} / "hex" / "datagrams": [texts]
      One datagram each. Prints "frame N: udp sent".
  {"mode": "wait", "port": 3, "id": "in", "emit_records": 5}
      Polls monitor_agent's /api/plugins.json on that port until the plugin whose plugin_id is
      "id" reports emit_records >= the count: TCP, UDP and syslog inputs are asynchronous (no
      answer tells the client its lines were taken), so a case waits there until the events it
      expects were emitted before the daemon is stopped. Inputs count emit_records only with
      `<system> enable_input_metrics true` (in Fluentd and logferry alike); an output's count
      (e.g. that of the out_file every event reaches) needs no option. Prints
      "frame N: emit_records ID COUNT"; if the count is not reached within WAIT_TIMEOUT seconds
      (a case whose count is wrong, or a daemon that lost events), "frame N: emit_records ID
      GOT of COUNT (timeout)"; "frame N: emit_records ID missing" if no such plugin is listed.
"""
import json
import socket
import time

MODES = ("http", "tcp", "udp", "wait")
WAIT_TIMEOUT = 15.0
READ_TIMEOUT = 20.0

_http_conn = {}


def _port(f, ports):
    n = f.get("port", 1)
    return ports[n - 1]


def _data(f):
    if "hex" in f:
        return bytes.fromhex(f["hex"])
    if "octet" in f:
        out = b""
        for m in f["octet"]:
            b = _enc(m)
            out += str(len(b)).encode() + b" " + b
        return out
    if "lines" in f:
        d = f.get("delimiter", "\n").encode()
        return b"".join(_enc(l) + d for l in f["lines"])
    return _enc(f.get("data", ""))


def _enc(item):
    """A text as UTF-8, or {"hex": "…"} as those bytes (for bytes that are not UTF-8)."""
    if isinstance(item, dict):
        return bytes.fromhex(item["hex"])
    return item.encode()


def _tcp(f, ports):
    data = _data(f)
    split = f.get("split")
    for _ in range(f.get("conns", 1)):
        s = socket.create_connection(("127.0.0.1", _port(f, ports)))
        try:
            if split:
                for k in range(0, len(data), split):
                    s.sendall(data[k:k + split])
            else:
                s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        s.close()
    return "tcp sent"


def _udp(f, ports):
    grams = [_enc(d) for d in f["datagrams"]] if "datagrams" in f else [_data(f)]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for g in grams:
        s.sendto(g, ("127.0.0.1", _port(f, ports)))
    s.close()
    return "udp sent"


def _show_body(b):
    try:
        return json.dumps(b.decode("utf-8"), ensure_ascii=False)
    except UnicodeDecodeError:
        return "hex:" + b.hex()


def _read_response(s, head_only):
    """(status, headers as a list of (lower name, value), body), or None if closed. An interim
    "100 Continue" is skipped (the body was sent with the head anyway)."""
    s.settimeout(READ_TIMEOUT)
    buf = b""
    while True:
        while b"\r\n\r\n" not in buf:
            try:
                got = s.recv(65536)
            except (socket.timeout, OSError):
                got = b""
            if not got:
                return None
            buf += got
        if not buf.startswith(b"HTTP/1.1 100 ") and not buf.startswith(b"HTTP/1.0 100 "):
            break
        buf = buf.split(b"\r\n\r\n", 1)[1]
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return (0, [], head)
    headers = []
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers.append((k.strip().lower(), v.strip()))
    hmap = dict(headers)

    def more():
        try:
            return s.recv(65536)
        except (socket.timeout, OSError):
            return b""

    if head_only or status in (204, 304) or 100 <= status < 200:
        return status, headers, b""
    if "content-length" in hmap:
        n = int(hmap["content-length"])
        while len(rest) < n:
            got = more()
            if not got:
                break
            rest += got
        return status, headers, rest[:n]
    if hmap.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            while b"\r\n" not in rest:
                got = more()
                if not got:
                    return status, headers, body
                rest += got
            size_line, rest = rest.split(b"\r\n", 1)
            n = int(size_line.split(b";")[0], 16)
            while len(rest) < n + 2:
                got = more()
                if not got:
                    return status, headers, body + rest
                rest += got
            if n == 0:
                return status, headers, body
            body += rest[:n]
            rest = rest[n + 2:]
    while True:
        got = more()
        if not got:
            return status, headers, rest
        rest += got


def _http(f, ports):
    port = _port(f, ports)
    method = f.get("method", "POST")
    path = f.get("path", "/t")
    body = bytes.fromhex(f["body_hex"]) if "body_hex" in f else f.get("body", "").encode()
    # A fixed Host (not the port, which changes every run): add_http_headers records it.
    req = "%s %s %s\r\nHost: %s\r\n" % (method, path, f.get("version", "HTTP/1.1"), f.get("host", "logferry.test"))
    for k, v in f.get("headers", []):
        req += "%s: %s\r\n" % (k, v)
    chunked = f.get("chunked")
    if chunked is not None:
        req += "Transfer-Encoding: chunked\r\n"
        body = b"".join(b"%x\r\n%s\r\n" % (len(c.encode()), c.encode()) for c in chunked) + b"0\r\n\r\n"
    elif f.get("length", True) and (body or method in ("POST", "PUT", "PATCH")):
        req += "Content-Length: %d\r\n" % len(body)
    req = req.encode() + b"\r\n" + body
    s = _http_conn.pop(port, None) if f.get("keep") else None
    if s is None:
        old = _http_conn.pop(port, None)
        if old is not None:
            old.close()
        s = socket.create_connection(("127.0.0.1", port))
    try:
        s.sendall(req)
        if not f.get("length", True) and chunked is None:
            s.shutdown(socket.SHUT_WR)
        resp = _read_response(s, method == "HEAD")
    except OSError:
        resp = None
    if resp is None:
        s.close()
        return "http closed"
    status, headers, rbody = resp
    _http_conn[port] = s
    out = "http %d %s" % (status, _show_body(rbody))
    for name in f.get("show", []):
        vals = [v for k, v in headers if k == name.lower()]
        out += " [%s: %s]" % (name.lower(), ", ".join(vals) if vals else "-")
    return out


def _plugins(port):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /api/plugins.json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        resp = _read_response(s, False)
        s.close()
    except OSError:
        return None
    if resp is None or resp[0] != 200:
        return None
    try:
        return json.loads(resp[2].decode())["plugins"]
    except (ValueError, KeyError):
        return None


def _wait(f, ports):
    port, pid, want = _port(f, ports), f["id"], f["emit_records"]
    deadline = time.monotonic() + WAIT_TIMEOUT
    got, seen = 0, False
    while True:
        plugins = _plugins(port) or []
        for p in plugins:
            if p.get("plugin_id") == pid:
                seen = True
                got = p.get("emit_records") or 0
        if got >= want:
            return "emit_records %s %d" % (pid, got)
        if time.monotonic() > deadline:
            if not seen:
                return "emit_records %s missing" % pid
            return "emit_records %s %d of %d (timeout)" % (pid, got, want)
        time.sleep(0.02)


def run(f, ports):
    """Carry out one input line; the text to print after "frame N: "."""
    mode = f["mode"]
    if mode == "http":
        return _http(f, ports)
    if mode == "tcp":
        return _tcp(f, ports)
    if mode == "udp":
        return _udp(f, ports)
    return _wait(f, ports)


def close():
    """Close the HTTP connections kept open."""
    for s in _http_conn.values():
        s.close()
    _http_conn.clear()
