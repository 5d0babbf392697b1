#!/usr/bin/env python3
"""A local S3 server (moto) for the differential cases whose fluent.conf names `{S3}`.

    s3.py serve DIR     start moto's S3 on 127.0.0.1 (a port the kernel picks), create the
                        bucket `logs`, write the endpoint URL to DIR/s3-endpoint once it answers,
                        and serve until the process is terminated (its request log goes nowhere).

record.sh and tests/e2e_differential.rs start it beside the daemon and put the endpoint in place
of `{S3}`; collect.py then lists what the daemon uploaded (see `collect`).
"""
import gzip
import os
import re
import signal
import socket
import sys

BUCKET = "logs"
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def client(endpoint):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)


def serve(root):
    from moto.server import ThreadedMotoServer

    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = "http://%s:%d" % (host, port)
    client(endpoint).create_bucket(Bucket=BUCKET)
    tmp = os.path.join(root, "s3-endpoint.tmp")
    with open(tmp, "w") as fh:
        fh.write(endpoint)
    os.rename(tmp, os.path.join(root, "s3-endpoint"))
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        signal.pause()


def normalize_key(key):
    key = key.replace(socket.gethostname(), "<hostname>")
    key = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>", key)
    return re.sub(r"[0-9a-f]{32}", "<chunk_id>", key)


def objects(root):
    """Every object of every bucket, in key order: a line "== s3://BUCKET/KEY" (normalized as
    collect.py normalizes file names, and the host name as "<hostname>"), its Content-Type,
    Content-Encoding, storage class, server-side encryption, tags and user metadata when set, then the
    body as it is (gzip bodies decompressed after a line "(gunzipped)"): (head, body) pairs."""
    path = os.path.join(root, "s3-endpoint")
    if not os.path.exists(path):
        return
    s3 = client(open(path).read().strip())
    for b in sorted(x["Name"] for x in s3.list_buckets()["Buckets"]):
        objs = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=b):
            objs.extend(o["Key"] for o in page.get("Contents", []))
        for key in sorted(objs, key=normalize_key):
            got = s3.get_object(Bucket=b, Key=key)
            data = got["Body"].read()
            head = ["== s3://%s/%s" % (b, normalize_key(key))]
            for label, field in (("content-type", "ContentType"), ("content-encoding", "ContentEncoding"),
                                 ("storage-class", "StorageClass"), ("sse", "ServerSideEncryption")):
                if got.get(field):
                    head.append("%s: %s" % (label, got[field]))
            if got.get("TagCount"):
                head.append("tags: %s" % "&".join("%s=%s" % (t["Key"], t["Value"]) for t in s3.get_object_tagging(Bucket=b, Key=key)["TagSet"]))
            for k, v in sorted(got.get("Metadata", {}).items()):
                head.append("meta %s: %s" % (k, v))
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
                head.append("(gunzipped)")
            yield ("\n".join(head) + "\n").encode(), data


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"] and len(sys.argv) == 3:
        serve(sys.argv[2])
    else:
        sys.exit(__doc__)
