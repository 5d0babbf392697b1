#!/usr/bin/env python3
"""A local AWS (moto: S3, CloudWatch Logs, Kinesis, Firehose) for the differential cases whose
fluent.conf names `{AWS}`.

    aws.py serve DIR    start moto on 127.0.0.1 (a port the kernel picks), create what the cases
                        write into (see below), write the endpoint URL to DIR/aws-endpoint once it
                        answers, and serve until the process is terminated (its request log goes
                        nowhere).

CloudWatch Logs runs with its clock at 2023-11-15T22:13:20Z (see `serve`). Created at start:
the S3 bucket `logs`; the Kinesis stream `logs` (one shard); the Firehose
delivery stream `logs`, delivering into the S3 bucket `firehose`. Nothing in CloudWatch Logs
(the outputs create their groups and streams, or fail as they would).

record.sh and tests/e2e_differential.rs start it beside the daemon and put the endpoint in place
of `{AWS}`; collect.py then lists what the daemon wrote (`objects`).
"""
import gzip
import os
import re
import signal
import socket
import sys
import zlib

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
FIREHOSE_BUCKET = "firehose"


def client(service, endpoint):
    import boto3

    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)


def serve(root):
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # CloudWatch Logs takes only events from the last 14 days (and up to 2 hours ahead), by its
    # clock; the cases' events are from 2023-11-14 (gen_cases.T0), so its clock is set a day
    # later. Nothing else in moto reads it in a way the cases show.
    from datetime import datetime

    import moto.logs.models

    moto.logs.models.utcnow = lambda: datetime(2023, 11, 15, 22, 13, 20)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = "http://%s:%d" % (host, port)
    s3 = client("s3", endpoint)
    s3.create_bucket(Bucket="logs")
    s3.create_bucket(Bucket=FIREHOSE_BUCKET)
    client("kinesis", endpoint).create_stream(StreamName="logs", ShardCount=1)
    client("firehose", endpoint).create_delivery_stream(
        DeliveryStreamName="logs",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose",
            "BucketARN": "arn:aws:s3:::" + FIREHOSE_BUCKET,
        })
    tmp = os.path.join(root, "aws-endpoint.tmp")
    with open(tmp, "w") as fh:
        fh.write(endpoint)
    os.rename(tmp, os.path.join(root, "aws-endpoint"))
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    while True:
        signal.pause()


def normalize_key(key):
    key = key.replace(socket.gethostname(), "<hostname>")
    key = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>", key)
    return re.sub(r"[0-9a-f]{32}", "<chunk_id>", key)


def body(head, data):
    """The head lines and the data, gzip data decompressed after a line "(gunzipped)", zlib data
    after a line "(inflated)". Data that
    holds gzip members among other bytes (records compressed one by one, then joined with a
    newline) has each member decompressed in place as "[gz:...]" after a line
    "(gzip members)"."""
    if data[:2] == b"\x1f\x8b":
        try:
            data, kind = gzip.decompress(data), "(gunzipped)"
        except (OSError, EOFError, zlib.error):
            data, kind = members(data), "(gzip members)"
        head.append(kind)
    elif len(data) >= 2 and data[0] == 0x78 and (data[0] * 256 + data[1]) % 31 == 0:
        # A zlib stream (`compression zlib`): compressors differ in the bytes they write, so the
        # data is compared inflated; what follows the stream (a newline) is kept as it is.
        d = zlib.decompressobj()
        try:
            data = d.decompress(data) + d.flush() + d.unused_data
            head.append("(inflated)")
        except zlib.error:
            pass
    return ("\n".join(head) + "\n").encode(), data


def members(data):
    out, rest = b"", data
    while rest:
        if rest[:2] == b"\x1f\x8b":
            d = zlib.decompressobj(31)
            out += b"[gz:" + d.decompress(rest) + b"]"
            rest = d.unused_data
        else:
            i = rest.find(b"\x1f\x8b", 1)
            i = len(rest) if i < 0 else i
            out, rest = out + rest[:i], rest[i:]
    return out


def s3_objects(endpoint):
    """Every object of every bucket but Firehose's, in key order: a line "== s3://BUCKET/KEY"
    (normalized as collect.py normalizes file names, and the host name as "<hostname>"), its
    Content-Type, Content-Encoding, storage class, server-side encryption, tags and user metadata
    when set, then the body as it is (gzip bodies decompressed after a line "(gunzipped)")."""
    s3 = client("s3", endpoint)
    for b in sorted(x["Name"] for x in s3.list_buckets()["Buckets"]):
        if b == FIREHOSE_BUCKET:
            continue
        keys = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=b):
            keys.extend(o["Key"] for o in page.get("Contents", []))
        for key in sorted(keys, key=normalize_key):
            got = s3.get_object(Bucket=b, Key=key)
            head = ["== s3://%s/%s" % (b, normalize_key(key))]
            for label, field in (("content-type", "ContentType"), ("content-encoding", "ContentEncoding"),
                                 ("storage-class", "StorageClass"), ("sse", "ServerSideEncryption")):
                if got.get(field):
                    head.append("%s: %s" % (label, got[field]))
            if got.get("TagCount"):
                tags = s3.get_object_tagging(Bucket=b, Key=key)["TagSet"]
                head.append("tags: %s" % "&".join("%s=%s" % (t["Key"], t["Value"]) for t in tags))
            for k, v in sorted(got.get("Metadata", {}).items()):
                head.append("meta %s: %s" % (k, v))
            yield body(head, got["Body"].read())


def firehose_objects(endpoint):
    """What the Firehose stream `logs` delivered: one "== firehose://logs" block per delivery
    (moto writes one S3 object per PutRecord/PutRecordBatch; their names hold the time and a
    random id), in the order of their bodies."""
    s3 = client("s3", endpoint)
    blobs = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=FIREHOSE_BUCKET):
        for o in page.get("Contents", []):
            blobs.append(s3.get_object(Bucket=FIREHOSE_BUCKET, Key=o["Key"])["Body"].read())
    for data in sorted(blobs):
        yield body(["== firehose://logs"], data)


def kinesis_objects(endpoint):
    """Every record of the Kinesis stream `logs`, in sequence order: a line "== kinesis://logs
    partition_key=KEY" (32 hex digits, a random key, as "<random>") then the record's data
    (gzip data decompressed after a line "(gunzipped)")."""
    kin = client("kinesis", endpoint)
    for shard in kin.list_shards(StreamName="logs")["Shards"]:
        it = kin.get_shard_iterator(StreamName="logs", ShardId=shard["ShardId"],
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while it:
            got = kin.get_records(ShardIterator=it, Limit=10000)
            for r in got["Records"]:
                pk = re.sub(r"^[0-9a-f]{32}$", "<random>", r["PartitionKey"])
                yield body(["== kinesis://logs partition_key=%s" % pk], r["Data"])
            if not got["Records"]:
                break
            it = got.get("NextShardIterator")


def logs_objects(endpoint):
    """Every CloudWatch Logs group (with its retention and tags when set) and stream, in name
    order: a line "== logs://GROUP/STREAM" then each event as "TIMESTAMP_MS<TAB>MESSAGE"."""
    logs = client("logs", endpoint)
    for g in sorted(logs.describe_log_groups()["logGroups"], key=lambda g: g["logGroupName"]):
        name = g["logGroupName"]
        head = []
        if g.get("retentionInDays"):
            head.append("retention: %s" % g["retentionInDays"])
        tags = logs.list_tags_log_group(logGroupName=name).get("tags", {})
        if tags:
            head.append("tags: %s" % "&".join("%s=%s" % kv for kv in sorted(tags.items())))
        streams = logs.describe_log_streams(logGroupName=name)["logStreams"]
        if not streams:
            yield body(["== logs://%s/" % name] + head, b"")
        for s in sorted(streams, key=lambda s: s["logStreamName"]):
            events = logs.get_log_events(logGroupName=name, logStreamName=s["logStreamName"],
                                         startFromHead=True)["events"]
            text = "".join("%d\t%s\n" % (e["timestamp"], e["message"]) for e in events)
            yield body(["== logs://%s/%s" % (name, s["logStreamName"])] + head, text.encode())


def objects(root):
    """What the daemon wrote into the local AWS of the case run in DIR (nothing when it ran
    without one): S3 objects, Firehose deliveries, Kinesis records, CloudWatch Logs events, as
    (head, body) pairs."""
    path = os.path.join(root, "aws-endpoint")
    if not os.path.exists(path):
        return
    endpoint = open(path).read().strip()
    yield from s3_objects(endpoint)
    yield from firehose_objects(endpoint)
    yield from kinesis_objects(endpoint)
    yield from logs_objects(endpoint)


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"] and len(sys.argv) == 3:
        serve(sys.argv[2])
    else:
        sys.exit(__doc__)
