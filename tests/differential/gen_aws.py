#!/usr/bin/env python3
"""Write the differential cases of the AWS outputs under cases/: out_s3 (s3-*), cloudwatch_logs
(cwlogs-*), kinesis_streams (kinesis-*) and kinesis_firehose (firehose-*) writing into a local
AWS (aws.py, moto) whose endpoint replaces `{AWS}`; collect.py lists what each wrote there.

    gen_aws.py      (then record.sh with a Fluentd that loads fluent-plugin-s3 1.7.2,
                     fluent-plugin-cloudwatch-logs 0.15.0 and fluent-plugin-kinesis 3.6.1)

Every case writes with one flush thread and keys that tell its chunks apart, so which object
holds what does not depend on the order chunks are flushed in.
"""
import gen_cases as g
from gen_cases import T0, msg

KEY = "%{path}%{time_slice}_%{index}.%{file_extension}"
KEYS = """aws_key_id AKIAIOSFODNN7EXAMPLE
aws_sec_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
"""
CREDS = KEYS + """s3_region us-east-1
s3_endpoint {AWS}
force_path_style true
"""
BUF = "<buffer tag,time>\n  @type memory\n  timekey 3600\n</buffer>"


def s3(extra="", buffer=BUF, key=KEY, bucket="logs", path="logs/${tag}/", fmt=None, inject=None):
    head = "@type s3\n" + CREDS + "s3_bucket %s\n" % bucket
    if path is not None:
        head += "path %s\n" % path
    if key is not None:
        head += "s3_object_key_format %s\n" % key
    return g.match_section(head, extra, fmt, inject, buffer)


EVENTS = [
    msg({"m": "first", "n": 1}, tag="app.a"),
    msg({"m": "second", "f": 0.5, "nested": {"k": [1, None, True]}}, tag="app.a", time=T0 + 1),
    msg({"m": "other tag"}, tag="app.b", time=T0 + 2),
    msg({"m": "next hour"}, tag="app.a", time=T0 + 3600),
]
EDGE = [msg({"k": v, "i": i}, tag="app.a", time=T0 + i) for i, (_n, v) in enumerate(g.EDGE)]
ET = {"$et": [T0, 123456789]}


def cases():
    c = g.case
    c("s3-gzip-out-file-format", s3(), EVENTS)
    c("s3-gzip-edge-values", s3(), EDGE)
    c("s3-default-buffer-day-slices", s3(buffer="", path="logs/"), EVENTS + [msg({"m": "next day"}, tag="app.a", time=T0 + 86400)])
    c("s3-buffer-no-keys", s3(buffer="<buffer>\n  @type memory\n</buffer>", path="logs/"), EVENTS[:2])
    c("s3-json", s3("store_as json", fmt="@type json"), EVENTS)
    c("s3-json-default-format", s3("store_as json"), EVENTS[:2])
    c("s3-text-single-value", s3("store_as text", fmt="@type single_value\nmessage_key m"), EVENTS)
    c("s3-text-ltsv", s3("store_as text", fmt="@type ltsv"), EVENTS)
    c("s3-text-csv", s3("store_as text", fmt="@type csv\nfields m,n"), EVENTS)
    c("s3-gzip-json-inject", s3(fmt="@type json", inject="time_key t\ntag_key tg\ntime_type string\ntime_format %Y-%m-%dT%H:%M:%S.%N%z"),
      EVENTS[:2] + [msg({"m": "et"}, tag="app.a", time=ET)])
    for tk in ("30", "60", "1800", "86400", "1d", "2h"):
        c("s3-timekey-%s" % tk, s3(buffer="<buffer tag,time>\n  @type memory\n  timekey %s\n</buffer>" % tk), EVENTS)
    for zone in ("+0900", "-0530", "Asia/Tokyo"):
        c("s3-timekey-zone-%s" % zone.replace("/", "-").replace("+", "plus"),
          s3(buffer="<buffer tag,time>\n  @type memory\n  timekey 3600\n  timekey_zone %s\n</buffer>" % zone), EVENTS)
    c("s3-timekey-use-utc-false", s3(buffer="<buffer tag,time>\n  @type memory\n  timekey 86400\n  timekey_use_utc false\n</buffer>"), EVENTS)
    c("s3-path-time-placeholders", s3(path="logs/%Y/%m/%d/%H/${tag}/"), EVENTS)
    c("s3-path-tag-parts", s3(path="logs/${tag[1]}/${tag[0]}/"), EVENTS)
    c("s3-path-record-key", s3(path="logs/${app}/", buffer="<buffer time,app>\n  @type memory\n  timekey 3600\n</buffer>"),
      [msg({"app": "web", "m": 1}), msg({"app": "db", "m": 2}, time=T0 + 5), msg({"app": "web", "m": 3}, time=T0 + 7200)])
    c("s3-key-format-no-path", s3(key="%{time_slice}/%{index}-${tag}.%{file_extension}", path=None), EVENTS)
    c("s3-key-format-literal-parts", s3(key="archive/${tag}/%{time_slice}/part-%{index}.%{file_extension}.bak", path=None), EVENTS)
    c("s3-key-format-hostname", s3(key="%{path}%{hostname}/%{time_slice}_%{index}.%{file_extension}"), EVENTS[:1])
    # A bucket that does not exist, created (check_bucket, auto_create_bucket) in a region other
    # than us-east-1 through an endpoint: CreateBucket carries the LocationConstraint, as the Ruby
    # SDK adds it.
    c("s3-auto-create-bucket-region", s3(bucket="created").replace("s3_region us-east-1", "s3_region eu-west-1"),
      EVENTS[:2])
    c("s3-key-format-uuid-flush", s3(key="%{path}%{time_slice}_%{uuid_flush}.%{file_extension}"), EVENTS[:1])
    c("s3-key-format-chunk-id", s3(key="%{path}%{time_slice}_${chunk_id}.%{file_extension}"), EVENTS[:1])
    c("s3-key-format-unknown-placeholder", s3(key="%{path}%{time_slice}_%{nope}_%{index}.%{file_extension}"), EVENTS[:1])
    for fmt in ("%03d", "%x", "%04X"):
        c("s3-index-format-%s" % fmt.strip("%"),
          s3("index_format %s" % fmt, buffer="<buffer tag,time>\n  @type memory\n  timekey 3600\n  chunk_limit_records 1\n</buffer>"),
          [msg({"i": i}, tag="app.a", time=T0 + i) for i in range(12)])
    c("s3-chunk-limit-records-indexes", s3(buffer="<buffer tag,time>\n  @type memory\n  timekey 3600\n  chunk_limit_records 2\n</buffer>"),
      [msg({"i": i}, tag="app.a", time=T0 + i) for i in range(5)])
    c("s3-storage-class", s3("storage_class STANDARD_IA"), EVENTS[:1])
    c("s3-reduced-redundancy", s3("reduced_redundancy true"), EVENTS[:1])
    c("s3-server-side-encryption", s3("use_server_side_encryption AES256"), EVENTS[:1])
    c("s3-metadata", s3('s3_metadata {"owner":"team-${tag}","index":"%{index}"}'), EVENTS[:1])
    c("s3-auto-create-bucket", s3(bucket="created-by-output"), EVENTS[:1])
    c("s3-check-object-false-keyed", s3("check_object false", key="%{path}%{time_slice}-${tag}.%{file_extension}"), EVENTS)
    c("s3-v012-parameters", s3("time_slice_format %Y%m%d-%H\nformat json\ninclude_time_key true\ninclude_tag_key true\nbuffer_type memory",
                               buffer="", path="logs/"), EVENTS)
    c("s3-v012-out-file-format-params", s3("time_slice_format %Y%m%d\noutput_tag false\ndelimiter COMMA\nbuffer_type memory",
                                           buffer="", path="logs/"), EVENTS[:2])
    c("s3-format-v012-in-section-time", s3(fmt="@type out_file\ntime_type unixtime\noutput_tag false"), EVENTS[:2])
    c("s3-store-as-unknown-falls-back-to-text", s3("store_as foo"), EVENTS[:2])
    c("s3-store-as-gzip-command", s3("store_as gzip_command"), EVENTS[:2])
    c("s3-buffer-compress-gzip", s3(buffer="<buffer tag,time>\n  @type memory\n  timekey 3600\n  compress gzip\n</buffer>"), EVENTS)
    c("s3-time-slice-without-time-key", s3(buffer="<buffer tag>\n  @type memory\n</buffer>"), EVENTS)
    c("s3-time-slice-format-with-timekey", s3("time_slice_format %Y/%m/%d/%H%M", buffer=BUF), EVENTS)
    c("s3-default-key-format", s3(key=None), EVENTS[:1])
    c("s3-tagging", s3("tagging team=logs&env=dev"), EVENTS[:1])
    c("s3-text-default-format", s3("store_as text"), EVENTS[:2])
    c("s3-v012-single-value", s3("format single_value\nmessage_key m\nadd_newline false\nbuffer_type memory\nstore_as text", buffer="", path="logs/"), EVENTS[:2])
    c("s3-v012-utc-localtime", s3("time_slice_format %Y%m%d%H\nlocaltime true\nformat json\nbuffer_type memory", buffer="", path="logs/"), EVENTS[:1])
    c("s3-path-empty", s3(path=""), EVENTS[:1])
    c("s3-key-format-date-slice", s3(key="%{path}%{date_slice}_%{index}.%{file_extension}"), EVENTS[:1])
    # Configs Fluentd refuses or accepts at start.
    c("s3-config-path-time-placeholder-without-time-key", s3(path="logs/%Y/", buffer="<buffer tag>\n  @type memory\n</buffer>"))
    c("s3-config-path-tag-placeholder-without-tag-key", s3(path="logs/${tag}/", buffer="<buffer time>\n  @type memory\n  timekey 3600\n</buffer>"))
    c("s3-config-index-format-bad", s3("index_format %5d"))
    c("s3-config-index-format-zero-width", s3("index_format %05x"))
    c("s3-config-hex-random-too-long", s3("hex_random_length 17", key="%{path}%{hex_random}.%{file_extension}"))
    c("s3-config-uuid-removed", s3(key="%{path}%{uuid}.%{file_extension}"))
    c("s3-config-no-bucket", s3().replace("s3_bucket logs\n", ""))
    c("s3-config-aws-endpoint-refused", s3().replace("{AWS}", "https://s3.us-east-1.amazonaws.com"))
    c("s3-config-store-as-lzo-without-lzop", s3("store_as lzo"))


def out(typ, extra, fmt=None, inject=None, buffer="<buffer>\n  @type memory\n</buffer>"):
    head = "@type %s\n" % typ + KEYS + "region us-east-1\nendpoint {AWS}\n"
    return g.match_section(head, extra, fmt, inject, buffer)


def cw(extra="log_group_name g\nlog_stream_name s\nauto_create_stream true", **kw):
    return out("cloudwatch_logs", extra, **kw)


def kinesis(extra="", **kw):
    return out("kinesis_streams", "stream_name logs\n" + extra, **kw)


def firehose(extra="", **kw):
    return out("kinesis_firehose", "delivery_stream_name logs\n" + extra, **kw)


ETS = [msg({"m": "a"}, tag="app.a", time={"$et": [T0, 123456789]}),
       msg({"m": "b"}, tag="app.a", time={"$et": [T0, 999999999]}),
       msg({"m": "c"}, tag="app.a", time={"$et": [T0 + 1, 500000]})]
KEYED = [msg({"m": "one", "grp": "g1", "st": "s1", "n": 1}, tag="app.a"),
         msg({"m": "two", "grp": "g2", "st": "s1"}, tag="app.a", time=T0 + 1),
         msg({"m": "three", "grp": "g1", "st": "s2"}, tag="app.a", time=T0 + 2)]


def aws_cases():
    c = g.case
    # CloudWatch Logs
    c("cwlogs-json-messages", cw(), EVENTS)
    c("cwlogs-edge-values", cw(), EDGE)
    c("cwlogs-event-time-milliseconds", cw(), ETS)
    c("cwlogs-out-of-order-times", cw(), [msg({"m": "late"}, time=T0 + 10), msg({"m": "early"}, time=T0), msg({"m": "mid"}, time=T0 + 5)])
    c("cwlogs-message-keys", cw("log_group_name g\nlog_stream_name s\nauto_create_stream true\nmessage_keys m,n"), EVENTS)
    c("cwlogs-message-keys-missing", cw("log_group_name g\nlog_stream_name s\nauto_create_stream true\nmessage_keys nope"), EVENTS[:2])
    c("cwlogs-max-message-length", cw("log_group_name g\nlog_stream_name s\nauto_create_stream true\nmax_message_length 12"), EVENTS)
    c("cwlogs-json-handler-json", cw("log_group_name g\nlog_stream_name s\nauto_create_stream true\njson_handler json"), EDGE)
    c("cwlogs-use-tag-as-group-and-stream", cw("use_tag_as_group true\nuse_tag_as_stream true\nauto_create_stream true",
                                              buffer="<buffer tag>\n  @type memory\n</buffer>"), EVENTS)
    c("cwlogs-use-tag-as-stream", cw("log_group_name g\nuse_tag_as_stream true\nauto_create_stream true",
                                    buffer="<buffer tag>\n  @type memory\n</buffer>"), EVENTS)
    c("cwlogs-name-keys", cw("log_group_name_key grp\nlog_stream_name_key st\nauto_create_stream true"), KEYED)
    c("cwlogs-name-keys-removed", cw("log_group_name_key grp\nlog_stream_name_key st\nremove_log_group_name_key true\n"
                                     "remove_log_stream_name_key true\nauto_create_stream true"), KEYED)
    c("cwlogs-retention", cw("log_group_name g\nlog_stream_name s\nauto_create_stream true\nretention_in_days 7"), EVENTS[:1])
    c("cwlogs-group-tags", cw("log_group_name g\nlog_stream_name s\nauto_create_stream true\nlog_group_aws_tags {\"team\":\"logs\",\"env\":\"dev\"}"), EVENTS[:1])
    c("cwlogs-inject", cw(inject="time_key t\ntag_key tg\ntime_type string\ntime_format %Y-%m-%dT%H:%M:%S.%L%z"), EVENTS[:2])
    c("cwlogs-empty-records", cw(), [msg({}), msg({"m": ""}, time=T0 + 1)])
    c("cwlogs-oversize-event", cw(), [msg({"m": "small"}), msg({"m": {"$rep": ["x", 1100000]}}, time=T0 + 2)])
    c("cwlogs-message-keys-values", cw("log_group_name g\nlog_stream_name s\nauto_create_stream true\nmessage_keys a,b,c,d,e,f,g"),
      [msg({"a": {"k": 1, "l": [1, None]}, "b": [1, "s", None], "c": 1e20, "d": None, "e": True, "f": 0.5, "g": -7}),
       msg({"a": "", "b": "x", "g": {}}, time=T0 + 1)])
    c("cwlogs-flat-format-param", cw("log_group_name g\nlog_stream_name s\nauto_create_stream true\nformat ltsv"), EVENTS[:2])
    c("cwlogs-format-section", cw(fmt="@type ltsv"), EVENTS[:2])
    c("cwlogs-config-no-group", cw("log_stream_name s"))
    c("cwlogs-config-no-stream", cw("log_group_name g"))
    # Kinesis Data Streams
    c("kinesis-json", kinesis("partition_key pk"), [msg({"pk": "k1", "m": "a"}), msg({"pk": "k2", "m": "b", "n": [1, None]}, time=T0 + 1)])
    c("kinesis-random-partition-key", kinesis(), EVENTS[:2])
    c("kinesis-partition-key-missing", kinesis("partition_key pk"), [msg({"m": "no pk"})])
    c("kinesis-edge-values", kinesis(), EDGE)
    c("kinesis-data-key", kinesis("partition_key pk\ndata_key m"), [msg({"pk": "k", "m": "text"}), msg({"pk": "k", "m": {"a": 1}}, time=T0 + 1),
                                                                       msg({"pk": "k", "n": 1}, time=T0 + 2)])
    c("kinesis-chomp-record-ltsv", kinesis("partition_key pk\nchomp_record true", fmt="@type ltsv"), [msg({"pk": "k", "m": "a"})])
    c("kinesis-format-single-value", kinesis("partition_key pk", fmt="@type single_value\nmessage_key m"), [msg({"pk": "k", "m": "a"})])
    c("kinesis-compression-gzip", kinesis("partition_key pk\ncompression gzip"), [msg({"pk": "k", "m": "a"})])
    c("kinesis-inject-default-time-format", kinesis("partition_key pk", inject="time_key t\ntag_key tg"), [msg({"pk": "k", "m": "a"}, time={"$et": [T0, 123456789]})])
    c("kinesis-partition-key-integer", kinesis("partition_key i"), [msg({"i": 1, "m": "a"}), msg({"i": 2, "m": "b"}, time=T0 + 1)])
    c("kinesis-data-key-values", kinesis("partition_key pk\ndata_key d"),
      [msg({"pk": "k", "d": v}, time=T0 + i) for i, v in enumerate([{"k": 1, "l": [1, None]}, [1, "s", None], 1e20, 0.5, True, -7, ""])])
    c("kinesis-flat-format-param", kinesis("partition_key pk\nformat ltsv"), [msg({"pk": "k", "m": "a"})])
    c("kinesis-config-no-stream-name", out("kinesis_streams", "partition_key pk"))
    # Kinesis Data Firehose
    c("firehose-json-lines", firehose(), EVENTS)
    c("firehose-no-new-line", firehose("append_new_line false"), EVENTS[:2])
    c("firehose-data-key", firehose("data_key m"), EVENTS[:2])
    c("firehose-edge-values", firehose(), EDGE)
    c("firehose-format-ltsv-chomp", firehose("chomp_record true", fmt="@type ltsv"), EVENTS[:2])
    c("firehose-compression-gzip", firehose("compression gzip"), EVENTS[:2])
    c("firehose-inject", firehose(inject="time_key t\ntag_key tg"), EVENTS[:1])
    c("firehose-data-key-values", firehose("data_key d"),
      [msg({"d": v}, time=T0 + i) for i, v in enumerate([{"k": 1, "l": [1, None]}, [1, "s", None], 1e20, 0.5, True, -7])])
    c("firehose-flat-format-param", firehose("format ltsv"), EVENTS[:2])


def main():
    g.OUT.clear()
    cases()
    aws_cases()
    g.main()


if __name__ == "__main__":
    main()
