#!/usr/bin/env python3
"""Fill in the pos files a case's `files/` put into DIR (an in_tail pos file from an earlier run).

    prep_files.py DIR

In every file under DIR whose name ends in ".pos", `{DIR}` becomes DIR and `{INODE:rel}` the
inode of DIR/rel as 16 hex digits (the form of in_tail's pos file), known only once the files
were copied. record.sh and tests/e2e_differential.rs run it after copying `files/`.
"""
import os
import re
import sys


def main():
    top = sys.argv[1]
    for root, _dirs, names in os.walk(top):
        for n in names:
            if not n.endswith(".pos"):
                continue
            p = os.path.join(root, n)
            with open(p, "rb") as fh:
                data = fh.read()
            data = data.replace(b"{DIR}", top.encode())
            data = re.sub(rb"\{INODE:([^}]*)\}",
                          lambda m: b"%016x" % os.stat(os.path.join(top, m.group(1).decode())).st_ino, data)
            with open(p, "wb") as fh:
                fh.write(data)


if __name__ == "__main__":
    main()
