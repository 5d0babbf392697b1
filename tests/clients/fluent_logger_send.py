#!/usr/bin/env python3
"""Send events to a forward-protocol server with the real PyPI `fluent-logger`.

Installed by .ci/install-deps.sh (fluent-logger==0.11.1, msgpack==1.2.4).

    python3 tests/clients/fluent_logger_send.py --host 127.0.0.1 --port P \
        --tag T [--count N] [--label L] [--record-json '{"k":"v"}'] \
        [--nanosecond] [--timeout SECONDS]

What fluent-logger 0.11.1 puts on the wire (fluent/sender.py), one frame per
emit, Message mode with 3 elements and no option map:
    93 <tag str> <time> <record map>
  * tag = "T.L" with --label L, else "T";
  * time = int(time.time()) packed by msgpack-python as uint32 (CE) for current
    times, or with --nanosecond (nanosecond_precision=True) EventTime
    ext 0 fixext8: D7 00 <sec u32 BE> <nsec u32 BE>;
  * record = the --record-json object plus {"seq": i} (i from 0; "seq"
    overrides a "seq" key of --record-json).
  * fluent-logger 0.11.1 has no ack / require_ack / chunk option at all (neither
    FluentSender nor asyncsender): it never sends "chunk" and never waits for
    {"ack": ...}. It only reads the socket (non-blocking, data discarded)
    around each send to notice a closed connection.

Prints "sent N" and exits 0 when every emit returned True. If an emit returns
False (connection refused, reset, timeout...) it prints the failing index and
sender.last_error to stderr and exits 1. Bad arguments exit 2.
"""

import argparse
import json
import sys

from fluent import sender as fluent_sender


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=24224)
    ap.add_argument("--tag", required=True)
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--label", default=None,
                    help="emit(label, record): the frame's tag becomes TAG.LABEL")
    ap.add_argument("--record-json", default="{}",
                    help="JSON object merged into every record (plus seq)")
    ap.add_argument("--nanosecond", action="store_true",
                    help="nanosecond_precision=True: EventTime instead of int seconds")
    ap.add_argument("--timeout", type=float, default=3.0,
                    help="FluentSender socket timeout in seconds (default 3.0)")
    args = ap.parse_args()

    try:
        base = json.loads(args.record_json)
    except ValueError as e:
        ap.error(f"--record-json is not valid JSON: {e}")
    if not isinstance(base, dict):
        ap.error("--record-json must be a JSON object")
    if args.count < 0:
        ap.error("--count must be >= 0")

    sender = fluent_sender.FluentSender(
        args.tag,
        host=args.host,
        port=args.port,
        timeout=args.timeout,
        nanosecond_precision=args.nanosecond,
    )
    try:
        for i in range(args.count):
            record = dict(base)
            record["seq"] = i
            if not sender.emit(args.label, record):
                print(f"emit {i} failed: {sender.last_error!r}", file=sys.stderr)
                return 1
    finally:
        sender.close()
    print(f"sent {args.count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
