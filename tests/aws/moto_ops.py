#!/usr/bin/env python3
"""AWS API calls for tests/e2e_aws.rs against a moto_server on loopback, through boto3 (the
real AWS SDK for Python): set up log groups, delivery streams and data streams, delete a log
group, and read back what arrived (GetLogEvents, the objects Firehose delivered into moto's S3,
GetRecords). Results are printed as JSON lines.

usage: moto_ops.py ENDPOINT COMMAND ARGS...
"""
import base64
import gzip
import json
import sys

import boto3
import botocore.exceptions

ENDPOINT = sys.argv[1]
KW = dict(
    endpoint_url=ENDPOINT,
    region_name="us-east-1",
    aws_access_key_id="testing",
    aws_secret_access_key="testing",
)


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")


def logs_create(group, *streams):
    c = boto3.client("logs", **KW)
    try:
        c.create_log_group(logGroupName=group)
    except c.exceptions.ResourceAlreadyExistsException:
        pass
    for s in streams:
        c.create_log_stream(logGroupName=group, logStreamName=s)


def logs_delete_group(group):
    boto3.client("logs", **KW).delete_log_group(logGroupName=group)


def logs_dump(group):
    """Every event of every stream of the group: {"stream", "ts", "message"}."""
    c = boto3.client("logs", **KW)
    try:
        streams = []
        for page in c.get_paginator("describe_log_streams").paginate(logGroupName=group):
            streams += [s["logStreamName"] for s in page["logStreams"]]
    except c.exceptions.ResourceNotFoundException:
        return
    for s in streams:
        token = None
        while True:
            kw = dict(logGroupName=group, logStreamName=s, startFromHead=True, limit=10000)
            if token:
                kw["nextToken"] = token
            r = c.get_log_events(**kw)
            for e in r["events"]:
                out({"stream": s, "ts": e["timestamp"], "message": e["message"]})
            if not r["events"] or r.get("nextForwardToken") in (None, token):
                break
            token = r["nextForwardToken"]


def firehose_create(name, bucket):
    s3 = boto3.client("s3", **KW)
    s3.create_bucket(Bucket=bucket)
    boto3.client("firehose", **KW).create_delivery_stream(
        DeliveryStreamName=name,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": "arn:aws:iam::123456789012:role/firehose",
            "BucketARN": "arn:aws:s3:::" + bucket,
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 60},
        },
    )


def s3_dump(bucket):
    """Every object Firehose delivered: {"key", "body" (base64)}."""
    s3 = boto3.client("s3", **KW)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
            out({"key": o["Key"], "body": base64.b64encode(body).decode()})


def kinesis_create(name, shards):
    c = boto3.client("kinesis", **KW)
    c.create_stream(StreamName=name, ShardCount=int(shards))
    c.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.1})


def kinesis_dump(name):
    """Every record of every shard: {"key", "data" (base64)}. moto's GetRecords can fail with a
    500 while records are being put (it iterates a shard's records unlocked): read again."""
    c = boto3.client("kinesis", **KW)
    for attempt in range(50):
        try:
            got = []
            for sh in c.list_shards(StreamName=name)["Shards"]:
                it = c.get_shard_iterator(
                    StreamName=name, ShardId=sh["ShardId"], ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
                while it:
                    r = c.get_records(ShardIterator=it, Limit=10000)
                    for rec in r["Records"]:
                        got.append(
                            {"key": rec["PartitionKey"], "data": base64.b64encode(rec["Data"]).decode()}
                        )
                    if not r["Records"]:
                        break
                    it = r.get("NextShardIterator")
        except botocore.exceptions.ClientError as e:
            if attempt == 49 or e.response["ResponseMetadata"]["HTTPStatusCode"] != 500:
                raise
            continue
        for g in got:
            out(g)
        return


def count_logs(group):
    """How many events the group holds (prints one number)."""
    c = boto3.client("logs", **KW)
    n = 0
    try:
        for page in c.get_paginator("describe_log_streams").paginate(logGroupName=group):
            for st in page["logStreams"]:
                token = None
                while True:
                    kw = dict(logGroupName=group, logStreamName=st["logStreamName"], startFromHead=True, limit=10000)
                    if token:
                        kw["nextToken"] = token
                    r = c.get_log_events(**kw)
                    n += len(r["events"])
                    if not r["events"] or r.get("nextForwardToken") in (None, token):
                        break
                    token = r["nextForwardToken"]
    except c.exceptions.ResourceNotFoundException:
        pass
    out(n)


def s3_create(bucket):
    boto3.client("s3", **KW).create_bucket(Bucket=bucket)


def count_s3_lines(bucket):
    """How many newline-terminated records the bucket's objects hold, gzip objects decompressed
    (prints one number)."""
    s3 = boto3.client("s3", **KW)
    n = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
            if body[:2] == b"\x1f\x8b":
                body = gzip.decompress(body)
            n += body.count(b"\n")
    out(n)


def count_kinesis(name):
    """How many records the data stream holds (prints one number)."""
    rd = sys.stdout
    import io

    sys.stdout = io.StringIO()
    kinesis_dump(name)
    n = sys.stdout.getvalue().count("\n")
    sys.stdout = rd
    out(n)


COMMANDS = {
    "count-logs": count_logs,
    "count-s3-lines": count_s3_lines,
    "count-kinesis": count_kinesis,
    "logs-create": logs_create,
    "logs-delete-group": logs_delete_group,
    "logs-dump": logs_dump,
    "firehose-create": firehose_create,
    "s3-create": s3_create,
    "s3-dump": s3_dump,
    "kinesis-create": kinesis_create,
    "kinesis-dump": kinesis_dump,
}

if __name__ == "__main__":
    COMMANDS[sys.argv[2]](*sys.argv[3:])
