#!/usr/bin/env python3
"""Write the differential cases of a binary swap (handover-*) under cases/: Fluentd's own file
buffer chunks, left on disk when it stopped, resumed by the next daemon.

    gen_handover.py FLUENTD_BIN [PREFIX...]   (then record.sh FLUENTD_BIN handover-*)

With PREFIXes, only the cases whose names start with one of them are (re)written.

Each case runs Fluentd (FLUENTD_BIN: the reference) once here with the case's first config
(`phase1` below): a file buffer under {DIR}/buf whose output cannot deliver yet (a flush interval
of an hour, or a destination nothing listens on), fed the case's first events, then stopped with
SIGTERM: the chunks stay on disk (a file buffer does not flush at shutdown). What Fluentd left in
{DIR}/buf becomes the case's `files/buf` (copied into {DIR} before the start). The case's
`fluent.conf` is the second config: the same buffer, an output that delivers; its `input` more
events. record.sh then records what Fluentd does when it starts on Fluentd's chunks; the Rust test
checks that logferry, started on the same chunks, delivers the same. The chunks keep the creation
times of the recording (their `.meta`): replayed later, a staged chunk is older than its
flush_interval, so due at once, which gives the same output here (append true files; bodies and
frames are compared whatever their order).
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "cases")
PYTHON = os.environ.get("PYTHON", sys.executable)

SOURCE = """<source>
  @type forward
  port {PORT}
  bind 127.0.0.1
</source>
"""
QUIET = """<label @FLUENT_LOG>
  <match **>
    @type null
  </match>
</label>
"""


def msg(tag, t, rec, mode="message"):
    import json
    return json.dumps({"mode": mode, "tag": tag, "time": t, "record": rec})


EVENTS = [
    msg("app.a", 1700000000, {"m": "first", "n": 1, "f": 0.5, "u": "é\u2028", "nested": {"k": [1, None, True]}}),
    msg("app.b", 1700000001, {"m": "second", "big": 18446744073709551615, "neg": -9223372036854775808}),
    msg("app.a", 1700003600, {"m": "next hour", "e": ""}),
    msg("app.b", 1700003601, {"m": "fourth", "list": ["x", 1.0e20, 100.0]}),
]
MORE = [msg("app.a", 1700007200, {"m": "after the swap"})]
# For out_forward: an EventTime, which logferry forwards as Fluentd does (an integer time it
# forwards as an EventTime: README "Differences from Fluentd").
MORE_ET = [msg("app.a", {"$et": [1700007200, 5]}, {"m": "after the swap"})]
# Enough for several 200-byte chunks per tag: the full ones are queued (`q`), the last staged.
MANY = [msg("app.a" if i % 3 else "app.b", 1700000000 + i, {"m": f"event {i}", "pad": "x" * (i * 7 % 50)})
        for i in range(24)]


def file_out(buffer_keys, extra_buffer, phase1, fmt="", buf="file", out="${tag}", bufpath="{DIR}/buf"):
    flush = "flush_mode interval\n    flush_interval 1h" if phase1 else "flush_mode interval\n    flush_interval 1h\n    flush_at_shutdown true"
    return f"""<match app.**>
  @type file
  path {{DIR}}/out/{out}
  append true
{fmt}  <buffer {buffer_keys}>
    @type {buf}
    path {bufpath}
    {flush}
{extra_buffer}  </buffer>
</match>
"""


def forward_out(port, phase1, extra_buffer="", buf="file"):
    flush = "flush_mode interval\n    flush_interval 1h" if phase1 else "flush_mode immediate\n    flush_at_shutdown true"
    return f"""<match app.**>
  @type forward
  <server>
    host 127.0.0.1
    port {port}
  </server>
  <buffer tag>
    @type {buf}
    path {{DIR}}/buf
    {flush}
    retry_wait 1h
{extra_buffer}  </buffer>
</match>
"""


def http_out(endpoint, phase1):
    flush = "flush_mode interval\n    flush_interval 1h" if phase1 else "flush_mode immediate\n    flush_at_shutdown true"
    return f"""<match app.**>
  @type http
  endpoint {endpoint}
  <format>
    @type json
  </format>
  <buffer tag>
    @type file
    path {{DIR}}/buf
    {flush}
    retry_wait 1h
  </buffer>
</match>
"""


# name: (phase 1 config, phase 2 config, phase 1 events, phase 2 events)
def cases(dead):
    return {
        "handover-file-staged": (
            file_out("tag", "", True), file_out("tag", "", False), EVENTS, MORE),
        "handover-file-timekey": (
            file_out("tag,time", "    timekey 3600\n", True),
            file_out("tag,time", "    timekey 3600\n", False), EVENTS, MORE),
        "handover-file-gzip-chunks": (
            file_out("tag", "    compress gzip\n", True),
            file_out("tag", "    compress gzip\n", False), EVENTS, MORE),
        "handover-file-json-format": (
            file_out("tag", "", True, "  <format>\n    @type json\n  </format>\n"),
            file_out("tag", "", False, "  <format>\n    @type json\n  </format>\n"), EVENTS, MORE),
        "handover-file-small-chunks": (
            file_out("tag", "    chunk_limit_size 200\n", True),
            file_out("tag", "    chunk_limit_size 200\n", False), MANY, MORE),
        "handover-forward-queued": (
            forward_out(dead, True, "    chunk_limit_size 200\n"),
            forward_out("{FWDPORT}", False, "    chunk_limit_size 200\n"), MANY, MORE_ET),
        "handover-forward-staged": (
            forward_out(dead, True), forward_out("{FWDPORT}", False), EVENTS, MORE_ET),
        "handover-http": (
            http_out(f"http://127.0.0.1:{dead}/x", True), http_out("{HTTP}/x", False), EVENTS, MORE),
        # file_single: one file per chunk, its key in the name, no .meta. out_file's chunks are
        # text (chunk_format auto: lines counted), out_forward's msgpack (auto is text there too,
        # as Fluentd's out_forward is not formatted_to_msgpack_binary: its `size` option counts
        # the lines of the msgpack bytes).
        "handover-file-single-tag": (
            file_out("tag", "", True, buf="file_single"),
            file_out("tag", "", False, buf="file_single"), EVENTS, MORE),
        # Broken and foreign files beside Fluentd's chunks (EXTRA below).
        "handover-file-single-broken": (
            file_out("tag", "    disable_chunk_backup true\n", True, buf="file_single"),
            file_out("tag", "    disable_chunk_backup true\n", False, buf="file_single"), EVENTS, MORE),
        "handover-file-single-record-key": (
            file_out("m", "", True, buf="file_single", out="${m}"),
            file_out("m", "", False, buf="file_single", out="${m}"), EVENTS, MORE),
        "handover-file-single-small-chunks": (
            file_out("tag", "    chunk_limit_size 200\n", True, buf="file_single"),
            file_out("tag", "    chunk_limit_size 200\n", False, buf="file_single"), MANY, MORE),
        "handover-file-single-prefix-path": (
            file_out("tag", "", True, buf="file_single", bufpath="{DIR}/buf/chunks.*"),
            file_out("tag", "", False, buf="file_single", bufpath="{DIR}/buf/chunks.*"), EVENTS, MORE),
        "handover-file-single-gzip": (
            file_out("tag", "    compress gzip\n", True, buf="file_single"),
            file_out("tag", "    compress gzip\n", False, buf="file_single"), EVENTS, MORE),
        "handover-forward-single-queued": (
            forward_out(dead, True, "    chunk_limit_size 200\n", buf="file_single"),
            forward_out("{FWDPORT}", False, "    chunk_limit_size 200\n", buf="file_single"), MANY, MORE_ET),
        "handover-forward-single-msgpack": (
            forward_out(dead, True, "    chunk_format msgpack\n", buf="file_single"),
            forward_out("{FWDPORT}", False, "    chunk_format msgpack\n", buf="file_single"), EVENTS, MORE_ET),
        "handover-forward-single-uncounted": (
            forward_out(dead, True, "    calc_num_records false\n", buf="file_single"),
            forward_out("{FWDPORT}", False, "    calc_num_records false\n", buf="file_single"), EVENTS, MORE_ET),
    }


# Files added to a case's files/buf after phase 1: empty chunk files (staged and queued; Fluentd
# deletes them as broken), names that are not chunks (left alone), a chunk Fluentd did not write
# whose last line has no newline (counted as a line).
EXTRA = {
    "handover-file-single-broken": {
        "fsb.app.c.b5e9c1b0a2d3f4e5f60718293a4b5c6d7.buf": b"",
        "fsb.app.c.q5e9c1b0a2d3f4e5f60718293a4b5c6d8.buf": b"",
        "fsb.app.c.x5e9c1b0a2d3f4e5f60718293a4b5c6d9.buf": b"not a chunk\n",
        "fsb.notes.buf": b"not a chunk either\n",
        "fsb.app.d%2Fe.q5e9c1b0a2d3f4e5f60718293a4b5c6da.buf":
            b'2023-11-14T22:13:20+00:00\tapp.d/e\t{"m":"hand made"}\nno newline at the end',
    },
}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def run_phase1(fluentd, conf, events):
    """Run Fluentd on `conf` fed `events`, stop it; the directory its buffer is in."""
    d = tempfile.mkdtemp(prefix="lfhand.")
    port = free_port()
    path = os.path.join(d, "fluent.conf")
    with open(path, "w") as f:
        f.write(conf.replace("{PORT}", str(port)).replace("{DIR}", d))
    os.makedirs(os.path.join(d, "out"))
    log = os.path.join(d, "log")
    # Its own process group: Fluentd's supervisor and worker are stopped together.
    p = subprocess.Popen([fluentd, "-c", path, "-o", log], env=dict(os.environ, TZ="UTC"),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    for _ in range(600):
        if os.path.exists(log) and "fluentd worker is now running" in open(log).read():
            break
        if p.poll() is not None:
            raise SystemExit(f"phase 1 Fluentd exited: {open(log).read()}")
        time.sleep(0.1)
    else:
        os.killpg(p.pid, signal.SIGKILL)
        raise SystemExit("phase 1 Fluentd did not start within 60 s")
    inp = os.path.join(d, "input")
    with open(inp, "w") as f:
        f.write("\n".join(events) + "\n")
    subprocess.run([PYTHON, os.path.join(HERE, "send.py"), str(port), inp], check=True,
                   stdout=subprocess.DEVNULL)
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=120)
    except subprocess.TimeoutExpired:
        # Still retrying at shutdown: its chunks are on disk since each ack, stop it.
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    return d


def main():
    fluentd = sys.argv[1]
    dead = free_port()
    only = sys.argv[2:]
    for name, (c1, c2, ev1, ev2) in cases(dead).items():
        if only and not any(name.startswith(p) for p in only):
            continue
        d = run_phase1(fluentd, SOURCE + c1 + QUIET, ev1)
        case = os.path.join(CASES, name)
        shutil.rmtree(case, ignore_errors=True)
        os.makedirs(case)
        shutil.copytree(os.path.join(d, "buf"), os.path.join(case, "files", "buf"))
        for fname, body in EXTRA.get(name, {}).items():
            with open(os.path.join(case, "files", "buf", fname), "wb") as f:
                f.write(body)
        with open(os.path.join(case, "fluent.conf"), "w") as f:
            f.write(SOURCE + c2 + QUIET)
        with open(os.path.join(case, "input"), "w") as f:
            f.write("\n".join(ev2) + "\n")
        with open(os.path.join(case, "phase1.conf"), "w") as f:
            f.write(SOURCE + c1.replace(str(dead), "DEADPORT") + QUIET)
        n = sum(len(fs) for _, _, fs in os.walk(os.path.join(case, "files", "buf")))
        print(f"{name}: {n} buffer files from Fluentd")
        shutil.rmtree(d)


if __name__ == "__main__":
    main()
