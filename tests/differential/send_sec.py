"""The forward protocol's `<security>` handshake for send.py (HELO, PING, PONG).

send.py hands a case over to `run` when one of its input lines is a `ping`. Every connection of
such a case starts with the server's HELO, which is read before anything is sent on it and
reported as

    frame N: helo keepalive=true nonce=16 auth=16          (the byte lengths of nonce and auth)

An input line `{"mode": "ping", ...}` then sends a PING built from the client's view:

  "hostname": "client"         the client's self_hostname
  "shared_key": "k"            the key it believes in (right or wrong); "secret" when absent
  "username"/"password"        user_auth credentials (both absent: "" and "" as Fluentd sends them)
  "salt": "s"                  the shared_key_salt (default "saltsaltsalt0001")
  "variant": ...               a malformed or odd PING:
      count5, count7            one element fewer or more
      host_int, salt_nil        the hostname an integer, the salt nil
      user_nil, pass_int        the username nil, the password digest an integer
      digest_int                the shared key digest an integer
      bin                       every string field as msgpack bin
      lower                     "ping" for "PING"
      map, str, nil, int        a map, the string "PING", nil or 7 in place of the array
      before_helo               sent at once, before HELO arrived (so with an empty nonce)
      json                      the PING as JSON text (the connection is then a JSON one)
  "pipeline": true             send the next line's frame in the same write as the PING (that
                               line then only reads its answer)
  "no_reply": true             do not wait for an answer (a PING on an authenticated connection
                               is an ordinary frame to the server: the next acked frame tells);
                               on a connection not authenticated yet the answer is read anyway

and reports the answer as

    frame N: pong auth=true reason='' hostname='server' digest=ok

digest is `ok` when the server's digest is sha512(salt + server hostname + nonce + the line's
shared key), `bad` when it is another one, `empty` when there is none ("server_key" names the key
to check against when it is not the line's own). Other answers: `closed` (the server closed the
connection), `no reply` (nothing within the timeout), `got ...` (something else). After a refusal
(a PONG with auth false, or anything but a PONG or an ack) the server must close the connection:
the sender waits for that (`still open after the refusal` when it does not) and reports later
frames as `closed` without sending them, up to the next line with "new_conn", so that what is
printed never depends on how fast the close arrives. The same after any other close or timeout:
only "new_conn" opens another connection. Normal frames
(send.py's modes) follow on the same connection; an answer to them that is a PONG (a frame sent
where the server waited for a PING) is reported as the PONG above. On a connection not
authenticated yet, a frame without an ack is answered too (the server's PONG refusing it), and
the answer is read.
"""
import hashlib
import json
import socket

import msgpack

TIMEOUT = 20.0
MODES = ("ping",)


def sha512_hex(*parts):
    h = hashlib.sha512()
    for p in parts:
        h.update(p if isinstance(p, bytes) else p.encode())
    return h.hexdigest()


def show(v):
    """A stable printable form of a value the server sent."""
    if isinstance(v, bytes):
        try:
            return repr(v.decode())
        except UnicodeDecodeError:
            return "bin:" + v.hex()
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(show(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join("%s: %s" % (show(k), show(x)) for k, x in v.items()) + "}"
    return json.dumps(v) if isinstance(v, (int, float, bool, type(None))) else repr(v)


class Conn:
    """One connection: its socket and what was received on it but not read yet."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.unpacker = msgpack.Unpacker(raw=True, strict_map_key=False)
        self.json = None  # the client's first byte was JSON: the server answers in JSON
        self.jbuf = b""
        self.helo = None  # (nonce, auth) once read
        self.closed = False  # the server closed it after a refusal
        self.authed = False  # a PING of it was accepted
        self.last_line = {}  # the input line last sent on it (its key checks a PONG's digest)

    def send(self, data, is_json):
        if self.json is None:
            self.json = is_json
        self.sock.sendall(data)

    def read(self, msgpack_only=False):
        """The next object the server sent, or "closed" / "timeout"."""
        self.sock.settimeout(TIMEOUT)
        while True:
            if self.json and not msgpack_only:
                rest = self.jbuf.lstrip()
                if rest:
                    try:
                        obj, end = json.JSONDecoder().raw_decode(rest.decode())
                        self.jbuf = rest.decode()[end:].encode()
                        return ("obj", obj)
                    except ValueError:
                        pass
            else:
                try:
                    return ("obj", next(self.unpacker))
                except StopIteration:
                    pass
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                return ("timeout", None)
            except OSError:
                return ("closed", None)
            if not data:
                return ("closed", None)
            if self.json and not msgpack_only:
                self.jbuf += data
            else:
                self.unpacker.feed(data)

    def wait_close(self, i):
        """After a refusal: the server must close (anything it sends first is reported)."""
        while True:
            kind, obj = self.read()
            if kind == "closed":
                self.closed = True
                return
            if kind == "timeout":
                print("frame %d: still open after the refusal" % i, flush=True)
                return
            print("frame %d: then %s" % (i, answer_text(obj, self, self.last_line)), flush=True)

    def read_helo(self, i):
        kind, obj = self.read(msgpack_only=True)
        if kind != "obj":
            print("frame %d: %s before helo" % (i, "closed" if kind == "closed" else "no helo"), flush=True)
            return False
        if isinstance(obj, list) and len(obj) == 2 and obj[0] == b"HELO" and isinstance(obj[1], dict):
            opts = {k.decode() if isinstance(k, bytes) else k: v for k, v in obj[1].items()}
            nonce, auth = opts.get("nonce", b""), opts.get("auth", b"")
            self.helo = (nonce if isinstance(nonce, bytes) else b"", auth if isinstance(auth, bytes) else b"")
            print("frame %d: helo keepalive=%s nonce=%d auth=%d%s" % (
                i, show(opts.get("keepalive")), len(self.helo[0]), len(self.helo[1]),
                "".join(" %s=?" % k for k in sorted(opts) if k not in ("nonce", "auth", "keepalive"))), flush=True)
            return True
        print("frame %d: got %s instead of helo" % (i, show(obj)), flush=True)
        return False


def ping_frame(f, nonce, auth):
    """The PING of input line f, as (bytes, is_json)."""
    variant = f.get("variant", "")
    host = f.get("hostname", "client")
    key = f.get("shared_key", "secret")
    salt = f.get("salt", "saltsaltsalt0001")
    user = f.get("username")
    password = f.get("password")
    digest = sha512_hex(salt, host, nonce, key)
    pw = sha512_hex(auth, user or "", password) if password is not None else ""
    fields = ["PING", host, salt, digest, user or "", pw]
    if variant == "count5":
        fields = fields[:5]
    elif variant == "count7":
        fields = fields + [""]
    elif variant == "host_int":
        fields[1] = 7
    elif variant == "salt_nil":
        fields[2] = None
    elif variant == "user_nil":
        fields[4] = None
    elif variant == "pass_int":
        fields[5] = 7
    elif variant == "digest_int":
        fields[3] = 7
    elif variant == "bin":
        fields = [x.encode() if isinstance(x, str) else x for x in fields]
    elif variant == "lower":
        fields[0] = "ping"
    elif variant == "map":
        fields = {"PING": host, "salt": salt}
    elif variant == "str":
        fields = "PING"
    elif variant == "nil":
        fields = None
    elif variant == "int":
        fields = 7
    if variant == "json":
        return json.dumps(fields).encode(), True
    return msgpack.packb(fields, use_bin_type=True), False


def answer_text(obj, conn, f):
    """A stable text for an answer object (a PONG's digest as ok/bad/empty)."""
    if isinstance(obj, list) and obj and obj[0] in (b"PONG", "PONG"):
        obj = [x.decode(errors="replace") if isinstance(x, bytes) else x for x in obj]
        rest = obj[1:] + [None] * (4 - len(obj[1:]))
        ok, reason, host, digest = rest[:4]
        if not digest:
            check = "empty"
        else:
            key = f.get("server_key", f.get("shared_key", "secret"))
            want = sha512_hex(f.get("salt", "saltsaltsalt0001"), host if isinstance(host, str) else "",
                              conn.helo[0] if conn.helo else b"", key)
            check = "ok" if digest == want else "bad"
        extra = " +%d" % (len(obj) - 5) if len(obj) > 5 else ""
        return "pong auth=%s reason=%s hostname=%s digest=%s%s" % (show(ok), show(reason), show(host), check, extra)
    return "got " + show(obj)


def pong_line(i, obj, conn, f):
    """Report an answer object; True when it is a successful PONG."""
    print("frame %d: %s" % (i, answer_text(obj, conn, f)), flush=True)
    return isinstance(obj, list) and len(obj) > 1 and obj[0] in (b"PONG", "PONG") and obj[1] is True


def run(port, frames, frame_bytes):
    """Send the frames of a case that does the handshake (frame_bytes: send.py's encoder)."""
    conn = None
    pipelined = None  # the line whose frame went out with the PING before it
    for i, f in enumerate(frames, 1):
        mode = f["mode"]
        if conn is not None and f.get("new_conn"):
            conn.sock.close()
            conn = None
        if conn is not None and conn.closed:
            # The server refused this connection and closed it: nothing more is sent until a
            # line asks for a new connection.
            print("frame %d: closed" % i, flush=True)
            continue
        fresh = conn is None
        if fresh:
            conn = Conn(port)
            if not (mode == "ping" and f.get("variant") == "before_helo"):
                if not conn.read_helo(i):
                    conn.closed = True
                    continue
        conn.last_line = f
        if mode == "ping":
            before = f.get("variant") == "before_helo" and conn.helo is None
            nonce, auth = conn.helo or (b"", b"")
            data, is_json = ping_frame(f, nonce, auth)
            if f.get("pipeline") and i < len(frames):
                # the next line's frame goes out in the same write as the PING
                if frames[i]["mode"] == "ping":
                    nxt, _ = ping_frame(frames[i], nonce, auth)
                    conn.last_line = frames[i]  # a PONG answering it checks against its key
                else:
                    nxt, _ = frame_bytes(i + 1, frames[i])
                data += nxt
                pipelined = i + 1
            try:
                if pipelined != i:
                    conn.send(data, is_json)
            except OSError:
                print("frame %d: closed" % i, flush=True)
                conn.closed = True
                continue
            if before and not f.get("no_reply") and not conn.read_helo(i):
                conn.closed = True
                continue
            if f.get("no_reply") and (conn.authed or conn.helo is None):
                print("frame %d: ping sent" % i, flush=True)
                continue
            want = None
        else:
            data, want = frame_bytes(i, f)
            try:
                if pipelined != i:
                    conn.send(data, mode == "json")
            except OSError:
                print("frame %d: closed" % i, flush=True)
                conn.closed = True
                continue
            if want is None and (conn.authed or conn.helo is None):
                print("frame %d: sent" % i, flush=True)
                continue
        kind, obj = conn.read()
        if kind == "closed":
            print("frame %d: closed" % i, flush=True)
            conn.closed = True
        elif kind == "timeout":
            print("frame %d: no reply" % i, flush=True)
            conn.closed = True
        elif want is not None and isinstance(obj, dict) and len(obj) == 1 and obj.get(b"ack", obj.get("ack")) in (want, want.encode()):
            print("frame %d: ack" % i, flush=True)
        elif pong_line(i, obj, conn, f):
            conn.authed = True
        else:
            conn.wait_close(i)
    if conn is not None:
        conn.sock.close()
