#!/usr/bin/env python3
"""A fault-injecting HTTP proxy in front of moto_server, for tests/e2e_aws.rs: AWS answers
throttling, 5xx and partial batch failures that moto never gives.

usage: fault_proxy.py UPSTREAM_PORT THROTTLE SERVER_ERRORS PARTIAL

Listens on a free 127.0.0.1 port and prints it on the first line of stdout. Every request is
forwarded to moto_server on 127.0.0.1:UPSTREAM_PORT, except for the write calls
(PutLogEvents, PutRecordBatch, PutRecords):
  - the first THROTTLE of them are answered 400 ThrottlingException (nothing forwarded);
  - the next SERVER_ERRORS are answered 503 ServiceUnavailableException (nothing forwarded);
  - the next PARTIAL batch calls (PutRecordBatch, PutRecords) forward only the records at even
    positions and answer the odd ones as failed (ServiceUnavailableException /
    ProvisionedThroughputExceededException), as a partly failed batch comes back from AWS.
After each injected fault a line `fault KIND` is printed (flushed), so the test can count them.
"""
import http.client
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Lock

UPSTREAM = int(sys.argv[1])
budget = {"throttle": int(sys.argv[2]), "server": int(sys.argv[3]), "partial": int(sys.argv[4])}
lock = Lock()
WRITES = ("PutLogEvents", "PutRecordBatch", "PutRecords")


def take(kind):
    with lock:
        if budget[kind] > 0:
            budget[kind] -= 1
            return True
        return False


def report(kind):
    with lock:
        sys.stdout.write(f"fault {kind}\n")
        sys.stdout.flush()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=()):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def forward(self, body):
        c = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        headers["Content-Length"] = str(len(body))
        c.request(self.command, self.path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        hs = [(k, v) for k, v in r.getheaders() if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-type")]
        c.close()
        return r.status, data, hs

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        target = self.headers.get("X-Amz-Target", "")
        op = target.rsplit(".", 1)[-1]
        if op in WRITES:
            if take("throttle"):
                report("throttle")
                return self.answer(400, {"__type": "ThrottlingException", "message": "Rate exceeded"},
                                   [("x-amzn-ErrorType", "ThrottlingException")])
            if take("server"):
                report("server")
                return self.answer(503, {"__type": "ServiceUnavailableException", "message": "Slow down."},
                                   [("x-amzn-ErrorType", "ServiceUnavailableException")])
            if op != "PutLogEvents":
                req = json.loads(body)
                if len(req.get("Records", [])) > 1 and take("partial"):
                    return self.partial(op, req)
        status, data, hs = self.forward(body)
        self.answer(status, data, hs)

    def partial(self, op, req):
        records = req["Records"]
        keep = [r for i, r in enumerate(records) if i % 2 == 0]
        req["Records"] = keep
        status, data, hs = self.forward(json.dumps(req).encode())
        if status != 200:
            return self.answer(status, data, hs)
        resp = json.loads(data)
        key = "RequestResponses" if op == "PutRecordBatch" else "Records"
        code = "ServiceUnavailableException" if op == "PutRecordBatch" else "ProvisionedThroughputExceededException"
        ok = iter(resp.get(key, []))
        merged, failed = [], 0
        for i in range(len(records)):
            if i % 2 == 0:
                merged.append(next(ok))
            else:
                merged.append({"ErrorCode": code, "ErrorMessage": "injected by fault_proxy.py"})
                failed += 1
        resp[key] = merged
        resp["FailedPutCount" if op == "PutRecordBatch" else "FailedRecordCount"] = failed
        report("partial")
        self.answer(200, resp, hs)

    do_POST = handle_any
    do_GET = handle_any
    do_PUT = handle_any
    do_DELETE = handle_any
    do_HEAD = handle_any


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
sys.stdout.write(f"{server.server_address[1]}\n")
sys.stdout.flush()
server.serve_forever()
