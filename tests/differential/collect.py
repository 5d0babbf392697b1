#!/usr/bin/env python3
"""Print, in one normalized text, every file a differential case's daemon wrote under DIR/out.

    collect.py DIR

Each file, in path order: a line "== <path relative to DIR>" then its bytes as they are
(gzip files decompressed, all members, after a line "(gunzipped)"). Normalized, because they are
nondeterministic: in names, a Fluentd chunk id (32 hex digits) becomes "<chunk_id>"; in content,
a time written as out_file's default `2023-11-14T22:13:20+00:00` that lies within a day of now
becomes "<now>" (an event whose time the daemon took from its clock). Nothing else. Buffer files of a file buffer (*.meta, buffer.*) are not outputs and are skipped.
Then, when the case ran with a local AWS (DIR/aws-endpoint, see aws.py), what the daemon wrote
there, and when it ran with receivers (DIR/sink-endpoints, see sink.py), what they received, in
the same form (aws.py's and sink.py's `objects`).
A file's missing final newline is shown as a line "(no newline at end)".
DIR itself becomes "{DIR}" wherever it appears (in_tail's `path_key` values, pos files), and its
form in an in_tail tag (`tag x.*`: "/" as ".", repeated dots squeezed, no leading dot) becomes
"{DIRTAG}". In a pos file (a name ending in ".pos"), each inode becomes "<inode1>",
"<inode2>" … in the order of first appearance.
"""
import calendar
import gzip
import os
import re
import sys
import time

ISO = re.compile(rb"\b(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)([+-])(\d\d):(\d\d)\b")


def now_times(data):
    now = time.time()

    def sub(m):
        y, mo, d, h, mi, s, sign, zh, zm = m.groups()
        t = calendar.timegm(tuple(int(x) for x in (y, mo, d, h, mi, s)) + (0, 0, 0))
        off = (int(zh) * 3600 + int(zm) * 60) * (1 if sign == b"+" else -1)
        return b"<now>" if abs(t - off - now) < 86400 else m.group(0)

    return ISO.sub(sub, data)


def pos_inodes(data):
    """An in_tail pos file with its inodes (the last tab-separated field of a line) numbered."""
    seen = {}

    def sub(m):
        ino = m.group(2)
        if ino not in seen:
            seen[ino] = b"<inode%d>" % (len(seen) + 1)
        return m.group(1) + seen[ino]

    return re.sub(rb"(\t[0-9a-f]{16}\t)([0-9a-f]{16})$", sub, data, flags=re.M)


def no_dir(data, root):
    """The bytes with DIR, and its form in an in_tail tag, replaced by "{DIR}" and "{DIRTAG}"."""
    dirs = sorted({root.rstrip("/"), os.path.realpath(root)}, key=len, reverse=True)
    tags = sorted({re.sub(r"\.+", ".", d.replace("/", ".")).lstrip(".") for d in dirs}, key=len, reverse=True)
    for d in dirs:
        data = data.replace(d.encode(), b"{DIR}")
    for t in tags:
        data = data.replace(t.encode(), b"{DIRTAG}")
    return data


def main():
    root = sys.argv[1]
    out = sys.stdout.buffer
    base = os.path.join(root, "out")
    paths = []
    for d, _dirs, files in os.walk(base):
        for name in files:
            p = os.path.join(d, name)
            rel = os.path.relpath(p, root)
            if name.endswith(".meta") or re.match(r"buffer\.", name):
                continue
            rel = no_dir(rel.encode(), root).decode()
            paths.append((re.sub(r"[0-9a-f]{32}", "<chunk_id>", rel), p))
    paths.sort()
    blobs = []
    for rel, p in paths:
        with open(p, "rb") as fh:
            data = fh.read()
        head = b"== " + rel.encode() + b"\n"
        if p.endswith(".gz"):
            data = gzip.decompress(data)
            head += b"(gunzipped)\n"
        blobs.append((head, data))
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    if os.path.exists(os.path.join(root, "aws-endpoint")):
        import aws
        blobs.extend(aws.objects(root))
    if os.path.exists(os.path.join(root, "sink-endpoints")):
        import sink
        blobs.extend(sink.objects(root))
    for head, data in blobs:
        out.write(head)
        if head.rstrip(b"\n").endswith(b".pos"):
            data = pos_inodes(data)
        data = no_dir(data, root)
        data = now_times(data)
        out.write(data)
        if data and not data.endswith(b"\n"):
            out.write(b"\n(no newline at end)\n")
    out.flush()


if __name__ == "__main__":
    main()
