#!/usr/bin/env python3
"""Forward over TLS between logferry and the real Fluentd and Fluent Bit, in both directions.

Runs the matrix of tests/e2e_tls.rs against the real peers (which CI does not have):

  out: logferry's out_forward -> the peer's in_forward, every combination of TLS 1.2/1.3, acks,
       shared key, gzip, heartbeat (transport, tcp, udp, none; udp only where the peer answers
       it), keepalive, and CA-verified or insecure certificates; and the same over plain TCP
       (every combination of acks, shared key, gzip, heartbeat and keepalive);
  in:  the peer's out_forward -> logferry's in_forward, every combination the peer's client has,
       over TLS and over plain TCP.

Each case carries 100 events of ~3 KB (a chunk of ~300 KB, large enough to wait in a socket
buffer). It counts what arrived (lost, duplicated), the TLS and connection errors each side
logged, and writes a Markdown report.

usage: tls_matrix.py --logferry BIN [--fluentd BIN] [--fluent-bit BIN] [--report FILE]

The peers are the caller's own local builds: nothing here builds or fetches them. Needs python3
with msgpack, and the openssl command line tool. Everything listens on 127.0.0.1.
"""

import argparse
import datetime
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

import msgpack

EVENTS = 100
PAD = 3000
KEY = "s3cret"
DEADLINE = 300  # seconds for a phase's deliveries
BATCH_FLUENT_BIT = 16  # logferry -> Fluent Bit cases run together (see phase_out)


def free_port():
    """A port free for both TCP and UDP on 127.0.0.1."""
    while True:
        t = socket.socket()
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            t.close()
            u.close()


def listening(port):
    """Is a TCP socket listening on `port`? Read from /proc, not by connecting: a probe
    connection would show up in the peers' logs as a failed TLS handshake."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and int(local.split(":")[1], 16) == port:
                return True
    return False


def wait_listen(port, proc, log, timeout=60):
    t = time.time()
    while time.time() - t < timeout:
        if proc.poll() is not None:
            sys.exit(f"process exited before listening on {port}:\n{open(log).read()[-3000:]}")
        if listening(port):
            return
        time.sleep(0.1)
    sys.exit(f"nothing listening on {port}:\n{open(log).read()[-3000:]}")


def certs(d):
    """A CA and a server certificate for 127.0.0.1 and localhost, with the openssl tool."""
    def run(*a):
        subprocess.run(a, check=True, capture_output=True, cwd=d)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=interop CA", "-keyout", "ca.key", "-out", "ca.pem")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
        "-keyout", "server.key", "-out", "server.csr")
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.pem")
    return {k: os.path.join(d, v) for k, v in
            {"ca": "ca.pem", "cert": "server.pem", "key": "server.key"}.items()}


def frame(tag, n, ack_id):
    entries = b"".join(
        msgpack.packb([1_700_000_000, {"seq": i, "pad": "x" * PAD}])
        for i in range(n))
    return msgpack.packb([tag, entries, {"size": n, "chunk": ack_id}], use_bin_type=False)


def feed(port, tags):
    """One acked PackedForward frame of EVENTS events per tag, into a plain forward input."""
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    up = msgpack.Unpacker(raw=False)
    for i, tag in enumerate(tags):
        ack = f"f{i}"
        s.sendall(frame(tag, EVENTS, ack))
        while True:
            got = next(up, None)
            if got is not None:
                break
            data = s.recv(4096)
            if not data:
                sys.exit(f"feed: connection closed before the ack of {tag}")
            up.feed(data)
        if got.get("ack") != ack:
            sys.exit(f"feed: wrong ack {got}")
    s.close()


def seqs_in(path):
    """Seqs of the JSON records in a file (Fluentd json format, Fluent Bit plain format)."""
    out = []
    try:
        with open(path, errors="replace") as f:
            for line in f:
                m = re.search(r'"seq":\s*(\d+)', line)
                if m:
                    out.append(int(m.group(1)))
    except FileNotFoundError:
        pass
    return out


def collect(outdir, tags):
    """tag -> seqs found in the files named after it (Fluentd: TAG.log, Fluent Bit: TAG)."""
    got = {t: [] for t in tags}
    for root, _, files in os.walk(outdir):
        for fn in files:
            tag = fn[:-4] if fn.endswith(".log") else fn
            if tag in got:
                got[tag] += seqs_in(os.path.join(root, fn))
    return got


def wait_delivered(outdir, tags, procs):
    t = time.time()
    while time.time() - t < DEADLINE:
        got = collect(outdir, tags)
        if all(len(set(v)) >= EVENTS for v in got.values()):
            return got
        for p, log in procs:
            if p.poll() is not None:
                print(f"warning: a process exited early; see {log}", file=sys.stderr)
        time.sleep(1)
    return collect(outdir, tags)


def stop(p, timeout=60):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def start(cmd, log):
    return subprocess.Popen(cmd, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, env={**os.environ, "TZ": "UTC"})


LOGFERRY_EXPECTED = ["insecure way", "'heartbeat_type tcp' is deprecated"]


def log_problems(path, kind):
    """Warning and error lines of a log, less those the configuration itself causes."""
    out = []
    for line in open(path, errors="replace"):
        line = line.rstrip()
        if kind == "logferry":
            if ("[warn]" in line or "[error]" in line) and not any(e in line for e in LOGFERRY_EXPECTED):
                out.append(line)
        elif kind == "fluentd":
            if ("[warn]" in line or "[error]" in line) and not any(
                    e in line for e in ("insecure", "deprecated", "private_key_passphrase")):
                out.append(line)
        else:  # fluent-bit
            if "[error]" in line or "[ warn]" in line or "[warn]" in line:
                out.append(line)
    return out


# ---------------------------------------------------------------- logferry -> peer


def out_cases(peer):
    hbs = ["transport", "tcp", "udp", "none"] if peer == "fluentd" else ["transport", "tcp", "none"]
    keys = ("tls13", "ack", "key", "gzip", "heartbeat", "keepalive", "verify")
    vals = itertools.product([True, False], [True, False], [True, False], [True, False], hbs,
                             [True, False], [True, False])
    cases = [dict(zip(keys, v), tls=True) for v in vals]
    # Plain TCP: no TLS version or certificate to vary.
    plain = itertools.product([True, False], [True, False], [True, False], hbs, [True, False])
    keys = ("ack", "key", "gzip", "heartbeat", "keepalive")
    cases += [dict(zip(keys, v), tls=False, tls13=False, verify=False) for v in plain]
    return cases


def out_port(ports, k):
    """The peer's input for case `k`: per (TLS version, shared key), or plain per shared key."""
    return ports[(k["tls13"], k["key"])] if k["tls"] else ports[("plain", k["key"])]


def peer_receiver_conf(peer, c, ports, outdir):
    """The peer's config: one TLS forward input per (TLS version, shared key), one plain input
    per shared key."""
    if peer == "fluentd":
        s = ""
        for (tls13, key), port in ports.items():
            sec = (f"  <security>\n    self_hostname peer\n    shared_key {KEY}\n  </security>\n"
                   if key else "")
            tls = ("" if tls13 == "plain" else
                   f"  <transport tls>\n    cert_path {c['cert']}\n    private_key_path {c['key']}\n"
                   f"    min_version TLSv1_2\n    max_version {'TLSv1_3' if tls13 else 'TLSv1_2'}\n"
                   f"  </transport>\n")
            s += (f"<source>\n  @type forward\n  port {port}\n  bind 127.0.0.1\n"
                  f"{tls}{sec}</source>\n")
        s += (f"<match m.**>\n  @type file\n  path {outdir}/${{tag}}\n  append true\n"
              f"  <format>\n    @type json\n  </format>\n"
              # Flushing on an interval, Fluentd 1.16 writes about one of these chunks a second
              # (flush_thread_burst_interval does not change it): hundreds of cases' chunks would
              # take longer than DEADLINE.
              f"  <buffer tag>\n    flush_mode immediate\n  </buffer>\n</match>\n"
              "<label @FLUENT_LOG>\n  <match fluent.**>\n    @type null\n  </match>\n</label>\n")
        return s
    s = "[SERVICE]\n    Flush 1\n    Log_Level info\n"
    for (tls13, key), port in ports.items():
        s += f"[INPUT]\n    Name forward\n    Listen 127.0.0.1\n    Port {port}\n"
        if tls13 != "plain":
            s += (f"    tls on\n"
                  f"    tls.verify off\n    tls.crt_file {c['cert']}\n    tls.key_file {c['key']}\n"
                  f"    tls.min_version TLSv1.2\n"
                  f"    tls.max_version {'TLSv1.3' if tls13 else 'TLSv1.2'}\n")
        if key:
            s += f"    shared_key {KEY}\n    self_hostname peer\n"
    s += f"[OUTPUT]\n    Name file\n    Match m.*\n    Path {outdir}\n    Format plain\n"
    return s


def logferry_sender_conf(cases, c, ports, in_port, first=0):
    s = f"<source>\n  @type forward\n  port {in_port}\n  bind 127.0.0.1\n</source>\n"
    for i, k in enumerate(cases, start=first):
        trust = f"tls_ca_cert_path {c['ca']}" if k["verify"] else "tls_insecure_mode true"
        sec = (f"  <security>\n    self_hostname logferry\n    shared_key {KEY}\n  </security>\n"
               if k["key"] else "")
        tls = (f"  transport tls\n  tls_version {'TLSv1_3' if k['tls13'] else 'TLSv1_2'}\n"
               f"  {trust}\n" if k["tls"] else "")
        s += (f"<match m.{i}>\n  @type forward\n{tls}"
              f"  require_ack_response {str(k['ack']).lower()}\n"
              f"  compress {'gzip' if k['gzip'] else 'text'}\n  heartbeat_type {k['heartbeat']}\n"
              f"  heartbeat_interval 1s\n  keepalive {str(k['keepalive']).lower()}\n{sec}"
              f"  <server>\n    host 127.0.0.1\n    port {out_port(ports, k)}\n  </server>\n"
              f"  <buffer>\n    flush_interval 1s\n    retry_wait 1s\n  </buffer>\n</match>\n")
    return s


# ---------------------------------------------------------------- peer -> logferry


def in_cases(peer):
    if peer == "fluentd":
        keys = ("tls13", "ack", "key", "gzip", "heartbeat", "keepalive", "verify")
        vals = itertools.product([True, False], [True, False], [True, False], [True, False],
                                 ["transport", "udp", "none"], [True, False], [True, False])
    else:
        keys = ("tls13", "ack", "key", "gzip", "keepalive", "verify")
        vals = itertools.product([True, False], [True, False], [True, False], [True, False],
                                 [True, False], [True, False])
    cases = [dict(zip(keys, v), tls=True) for v in vals]
    # Plain TCP: no TLS version or certificate to vary.
    keys = tuple(k for k in keys if k not in ("tls13", "verify"))
    plain = itertools.product(*[[True, False]] * 3,
                              *([["transport", "udp", "none"]] if peer == "fluentd" else []),
                              [True, False])
    cases += [dict(zip(keys, v), tls=False, tls13=False, verify=False) for v in plain]
    return cases


def logferry_port(ports, k):
    """logferry's input for case `k`: TLS or plain, per shared key."""
    return ports[(k["tls"], k["key"])]


def logferry_receiver_conf(c, ports, outdir):
    s = ""
    for (tls, key), port in ports.items():
        sec = (f"  <security>\n    self_hostname logferry\n    shared_key {KEY}\n  </security>\n"
               if key else "")
        transport = (f"  <transport tls>\n    cert_path {c['cert']}\n"
                     f"    private_key_path {c['key']}\n  </transport>\n" if tls else "")
        s += (f"<source>\n  @type forward\n  port {port}\n  bind 127.0.0.1\n"
              f"{transport}{sec}</source>\n")
    s += (f"<match s.**>\n  @type file\n  path {outdir}/${{tag}}\n  append true\n"
          f"  <format>\n    @type json\n  </format>\n"
          f"  <buffer tag>\n    flush_mode immediate\n  </buffer>\n</match>\n")
    return s


def peer_sender_conf(peer, cases, c, ports, in_port):
    if peer == "fluentd":
        s = (f"<source>\n  @type forward\n  port {in_port}\n  bind 127.0.0.1\n</source>\n"
             "<label @FLUENT_LOG>\n  <match fluent.**>\n    @type null\n  </match>\n</label>\n")
        for i, k in enumerate(cases):
            trust = (f"tls_ca_cert_path {c['ca']}" if k["verify"]
                     else "tls_insecure_mode true\n  tls_verify_hostname false")
            sec = (f"  <security>\n    self_hostname peer\n    shared_key {KEY}\n  </security>\n"
                   if k["key"] else "")
            # Fluentd 1.16 cannot check the hostname of a server given by IP address: its
            # post_connection_check gets no name and raises (IPAddr::AddressFamilyError), and the
            # chunk goes to its backup directory as unrecoverable. Connect by name there.
            host = "localhost" if k["verify"] else "127.0.0.1"
            tls = (f"  transport tls\n  tls_version {'TLSv1_3' if k['tls13'] else 'TLSv1_2'}\n"
                   f"  {trust}\n" if k["tls"] else "")
            s += (f"<match s.{i}>\n  @type forward\n{tls}"
                  f"  require_ack_response {str(k['ack']).lower()}\n"
                  f"  compress {'gzip' if k['gzip'] else 'text'}\n  heartbeat_type {k['heartbeat']}\n"
                  f"  keepalive {str(k['keepalive']).lower()}\n{sec}"
                  f"  <server>\n    host {host}\n    port {logferry_port(ports, k)}\n  </server>\n"
                  f"  <buffer>\n    flush_interval 1s\n    retry_wait 1s\n  </buffer>\n</match>\n")
        return s
    s = ("[SERVICE]\n    Flush 1\n    Log_Level info\n"
         f"[INPUT]\n    Name forward\n    Listen 127.0.0.1\n    Port {in_port}\n")
    for i, k in enumerate(cases):
        v = "TLSv1.3" if k["tls13"] else "TLSv1.2"
        s += (f"[OUTPUT]\n    Name forward\n    Match s.{i}\n    Host 127.0.0.1\n"
              f"    Port {logferry_port(ports, k)}\n")
        if k["tls"]:
            s += (f"    tls on\n    tls.verify {'on' if k['verify'] else 'off'}\n"
                  f"    tls.min_version {v}\n    tls.max_version {v}\n")
        s += (f"    require_ack_response {'true' if k['ack'] else 'false'}\n"
              f"    net.keepalive {'on' if k['keepalive'] else 'off'}\n")
        if k["tls"] and k["verify"]:
            s += f"    tls.ca_file {c['ca']}\n"
        if k["gzip"]:
            s += "    compress gzip\n"
        if k["key"]:
            s += f"    shared_key {KEY}\n    self_hostname peer\n"
    return s


# ---------------------------------------------------------------- phases


def peer_cmd(peer, binary, conf, log):
    if peer == "fluentd":
        return [binary, "-c", conf, "--no-supervisor"]
    return [binary, "-c", conf]


def summarize(cases, tags, got):
    rows = []
    for k, t in zip(cases, tags):
        s = got.get(t, [])
        lost = EVENTS - len(set(s) & set(range(EVENTS)))
        dup = len(s) - len(set(s))
        rows.append((k, lost, dup))
    return rows


def phase_out(peer, binary, logferry, c, work):
    """logferry -> peer. Fluent Bit's TLS forward input does not keep up with 192 senders that
    each open a TLS connection every second (transport heartbeats): it stops accepting ("could
    not accept new connection") and handshakes time out. So against Fluent Bit the cases run in
    batches of BATCH_FLUENT_BIT, each with a fresh Fluent Bit and logferry; Fluentd takes them all
    at once."""
    cases = out_cases(peer)
    size = BATCH_FLUENT_BIT if peer == "fluent-bit" else len(cases)
    rows, lw, pw = [], [], []
    for b in range(0, len(cases), size):
        r, l, p = out_batch(peer, binary, logferry, c, work, cases[b:b + size], b)
        rows += r
        lw += l
        pw += p
    return cases, rows, lw, pw


def out_batch(peer, binary, logferry, c, work, cases, first):
    tags = [f"m.{first + i}" for i in range(len(cases))]
    outdir = os.path.join(work, f"out-{peer}-{first}")
    os.makedirs(outdir, exist_ok=True)
    ports = {(v, k): free_port() for v in (True, False, "plain") for k in (True, False)}
    pconf = os.path.join(work, f"peer-recv-{peer}-{first}.conf")
    open(pconf, "w").write(peer_receiver_conf(peer, c, ports, outdir))
    plog = os.path.join(work, f"peer-recv-{peer}-{first}.log")
    pp = start(peer_cmd(peer, binary, pconf, plog), plog)
    for port in ports.values():
        wait_listen(port, pp, plog)
    in_port = free_port()
    lconf = os.path.join(work, f"logferry-send-{peer}-{first}.conf")
    open(lconf, "w").write(logferry_sender_conf(cases, c, ports, in_port, first))
    llog = os.path.join(work, f"logferry-send-{peer}-{first}.log")
    lp = start([logferry, "-c", lconf], llog)
    wait_listen(in_port, lp, llog)
    feed(in_port, tags)
    got = wait_delivered(outdir, tags, [(pp, plog), (lp, llog)])
    stop(lp)
    time.sleep(2)  # the peer's file output flushes every second
    got = collect(outdir, tags)
    stop(pp)
    return summarize(cases, tags, got), log_problems(llog, "logferry"), log_problems(plog, peer)


def phase_in(peer, binary, logferry, c, work):
    cases = in_cases(peer)
    tags = [f"s.{i}" for i in range(len(cases))]
    outdir = os.path.join(work, f"in-{peer}")
    os.makedirs(outdir, exist_ok=True)
    ports = {(t, k): free_port() for t in (True, False) for k in (True, False)}
    lconf = os.path.join(work, f"logferry-recv-{peer}.conf")
    open(lconf, "w").write(logferry_receiver_conf(c, ports, outdir))
    llog = os.path.join(work, f"logferry-recv-{peer}.log")
    lp = start([logferry, "-c", lconf], llog)
    for port in ports.values():
        wait_listen(port, lp, llog)
    in_port = free_port()
    pconf = os.path.join(work, f"peer-send-{peer}.conf")
    open(pconf, "w").write(peer_sender_conf(peer, cases, c, ports, in_port))
    plog = os.path.join(work, f"peer-send-{peer}.log")
    pp = start(peer_cmd(peer, binary, pconf, plog), plog)
    wait_listen(in_port, pp, plog)
    feed(in_port, tags)
    got = wait_delivered(outdir, tags, [(pp, plog), (lp, llog)])
    stop(pp)
    stop(lp)
    got = collect(outdir, tags)
    return cases, summarize(cases, tags, got), log_problems(llog, "logferry"), \
        log_problems(plog, peer)


def fmt_case(k):
    version = "TLS1.3" if k["tls13"] else "TLS1.2"
    parts = [version if k.get("tls", True) else "plain", "ack" if k["ack"] else "no-ack",
             "key" if k["key"] else "no-key", "gzip" if k["gzip"] else "text"]
    if "heartbeat" in k:
        parts.append("hb=" + k["heartbeat"])
    parts.append("keepalive" if k["keepalive"] else "no-keepalive")
    if k.get("tls", True):
        parts.append("verify" if k["verify"] else "insecure")
    return " ".join(parts)


NOTES = """
- **Fluentd 1.16 cannot check the hostname of a server given by IP address**: with
  `tls_verify_hostname true` (its default) and `host 127.0.0.1`, `post_connection_check` gets no
  name and raises `IPAddr::AddressFamilyError`; Fluentd treats that as unrecoverable and moves the
  chunk to its backup directory. The Fluentd-sender cases with CA verification connect by name
  (`localhost`) for that reason.
- **Fluent Bit 4.2.8's TLS forward input does not keep up with many senders** that each open a
  TLS connection every second (transport heartbeats, Fluentd's default): it logs `could not
  accept new connection` and handshakes time out. The logferry → Fluent Bit cases run in batches of
  16 (a fresh Fluent Bit and logferry per batch).
- **Fluent Bit 4.2.8 over TLS 1.3 sometimes sends records its client cannot decrypt** (HELO, PONG,
  acks: logferry logs `cannot decrypt peer's message`; Fluent Bit then logs `handshake error
  expecting PING`). logferry sends the chunk again at once on a new connection; when that fails
  too, the chunk goes back to the retry schedule (never lost: what is still unsent at the shutdown
  deadline is backed up). An ack that could not be read makes a duplicate: the duplicates below
  are all in cases with acks. Fluentd as the sender meets the same.
- **Fluent Bit 4.2.8 sometimes leaves a TLS connection open after the client's close_notify**, and
  sometimes does not ack a chunk it received. logferry counts a no-ack chunk as sent once Fluent
  Bit's kernel acknowledged every byte and 2 s passed (no duplicate, no wait for `send_timeout`);
  an ack that never comes makes the chunk go again (a duplicate) and, at SIGTERM, leaves a write
  unfinished at the deadline (`a flush did not finish by the shutdown deadline`).
"""


def report(results, versions, path):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Forward over TLS with the real Fluentd and Fluent Bit",
        "",
        f"Last run: {now}, by `tests/interop/tls_matrix.py` (see its docstring for what it runs):",
        "`python3 tests/interop/tls_matrix.py --logferry target/debug/logferry "
        "--fluentd PATH --fluent-bit PATH`, with Fluentd and Fluent Bit built locally from their "
        "public sources (never part of this repository).",
        "",
    ]
    for name, v in versions.items():
        lines.append(f"- {name}: `{v}`")
    lines += ["", "Not delivered: events the peer had not written by the end of the run (logferry "
              "backs up what it could not send at its shutdown deadline; see its log). "
              "Duplicated: events the peer wrote more than once. Warnings: warning and error lines "
              "of each side's log, less those the configuration itself causes.", "",
              "| direction | peer | cases | events sent | not delivered | duplicated | "
              "logferry warnings | peer warnings |", "|---|---|---|---|---|---|---|---|"]
    details = []
    for (direction, peer), (cases, rows, lw, pw) in results.items():
        lost = sum(r[1] for r in rows)
        dup = sum(r[2] for r in rows)
        lines.append(f"| {direction} | {peer} | {len(cases)} | {len(cases) * EVENTS} | {lost} | "
                     f"{dup} | {len(lw)} | {len(pw)} |")
        bad = [r for r in rows if r[1] or r[2]]
        if bad or lw or pw:
            details.append(f"\n## {direction}, {peer}\n")
            for k, lost_n, dup_n in bad:
                details.append(f"- {fmt_case(k)}: not delivered {lost_n}, duplicated {dup_n}")
            for what, ws in (("logferry", lw), (peer, pw)):
                if ws:
                    details.append(f"\n{what} logged ({len(ws)} lines, first 10):\n\n```")
                    details += [w[:300] for w in ws[:10]]
                    details.append("```")
    lines += ["", "## What the peers do that logferry does not cause", "", NOTES.strip()]
    lines += details
    open(path, "w").write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--logferry", required=True)
    ap.add_argument("--fluentd")
    ap.add_argument("--fluent-bit")
    ap.add_argument("--report", default="docs/interop-tls.md")
    ap.add_argument("--only", choices=["out", "in"])
    a = ap.parse_args()
    peers = [(p, b) for p, b in (("fluentd", a.fluentd), ("fluent-bit", a.fluent_bit)) if b]
    if not peers:
        sys.exit("give --fluentd and/or --fluent-bit")
    work = tempfile.mkdtemp(prefix="tls-interop-")
    c = certs(work)
    versions = {"logferry": subprocess.run([a.logferry, "--version"], capture_output=True,
                                           text=True).stdout.strip()}
    for p, b in peers:
        out = subprocess.run([b, "--version"], capture_output=True, text=True).stdout
        versions[p] = out.strip().splitlines()[0] if out.strip() else "?"
    results = {}
    for p, b in peers:
        for direction, phase in (("logferry → peer", phase_out), ("peer → logferry", phase_in)):
            if a.only and not direction.startswith("logferry" if a.only == "out" else "peer"):
                continue
            print(f"== {direction}: {p}", flush=True)
            results[(direction, p)] = phase(p, b, a.logferry, c, work)
            cases, rows, lw, pw = results[(direction, p)]
            print(f"   {len(cases)} cases, lost {sum(r[1] for r in rows)}, duplicated "
                  f"{sum(r[2] for r in rows)}, logferry warnings {len(lw)}, peer warnings {len(pw)}",
                  flush=True)
    report(results, versions, a.report)
    print(f"report: {a.report}; logs and configs: {work}")
    bad = any(r[1] for res in results.values() for r in res[1])
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
