"""Input lines of a differential case that write files under the case's {DIR}, for in_tail.
Imported by send.py, which hands every line whose "mode" is in MODES to run(). The directory is
the DIFF_DIR environment variable, which record.sh and tests/e2e_differential.rs set to {DIR}.

Files a case needs before the daemon starts (say, read with `read_from_head true`) are not made
by input lines: they are the case's `files/` directory, whose content record.sh and the Rust
test copy into {DIR} before starting the daemon (`files/logs/a.log` becomes `{DIR}/logs/a.log`).

  {"mode": "file", "path": "logs/a.log", "lines": ["a", "b"]}    append "a\n" "b\n"
      ("delimiter": "\r\n" for another line end; an item may be {"hex": "…"} for bytes)
  {"mode": "file", "path": "logs/a.log", "data": "abc"}           append these bytes as they are
      ("hex": "…" for bytes that are not UTF-8); "truncate": true empties the file first (in
      place, as logrotate's copytruncate does). Missing directories and the file are created.
  {"mode": "file", "path": "logs/a.log", "rename": "logs/a.log.1"}  rename (rotation)
  {"mode": "file", "path": "logs/a.log", "remove": true}            unlink
Prints "frame N: file PATH OP".

These writes are not waited for: a case follows each with a "wait" line (send_inputs.py) on the
count of events emitted that it expects, so what the daemon reads never depends on timing.
"""
import os

MODES = ("file",)


def _enc(item):
    if isinstance(item, dict):
        return bytes.fromhex(item["hex"])
    return item.encode()


def run(f, _ports):
    """Carry out one file line; the text to print after "frame N: "."""
    root = os.environ["DIFF_DIR"]
    rel = f["path"]
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if "rename" in f:
        to = os.path.join(root, f["rename"])
        os.makedirs(os.path.dirname(to), exist_ok=True)
        os.rename(path, to)
        return "file %s renamed" % rel
    if f.get("remove"):
        os.unlink(path)
        return "file %s removed" % rel
    if "hex" in f:
        data = bytes.fromhex(f["hex"])
    elif "lines" in f:
        d = f.get("delimiter", "\n").encode()
        data = b"".join(_enc(l) + d for l in f["lines"])
    else:
        data = f.get("data", "").encode()
    with open(path, "r+b" if os.path.exists(path) else "wb") as fh:
        if f.get("truncate"):
            fh.truncate(0)
        fh.seek(0, os.SEEK_END)
        fh.write(data)
    return "file %s %s %d" % (rel, "truncated+written" if f.get("truncate") else "appended", len(data))
