#!/usr/bin/env python3
"""Writes cases.json: the inputs of the concat compatibility cases (each a concat config and the
events sent to it). record.py runs them through fluent-plugin-concat 2.5.0 in the reference
Fluentd and writes expected.json; the unit tests in src/filter_concat/tests.rs run them through
logferry's concat and compare."""
import json

T = 1700000000
cases = []


def case(name, conf, events, wait_after=None):
    cases.append({"name": name, "conf": conf, "events": events, "wait_after": wait_after})


def ev(tag, i, rec):
    return [tag, T + i, i * 1000, rec]


lines = ["l%d" % i for i in range(7)]
case("n_lines", "key message\nn_lines 3\n",
     [ev("a", i, {"message": l, "n": i}) for i, l in enumerate(lines)])
case("n_lines_first_ts", "key message\nn_lines 2\nuse_first_timestamp true\nseparator \"\"\n",
     [ev("a", i, {"message": l}) for i, l in enumerate(lines[:5])])
java = ["Exception in thread main java.lang.RuntimeException: boom",
        "\tat com.example.A.f(A.java:10)", "\tat com.example.B.g(B.java:20)",
        "Start of request 2", "\tat com.example.C.h(C.java:30)"]
case("start_regexp", "key log\nmultiline_start_regexp /^(Exception|Start)/\n",
     [ev("a", 0, {"log": "orphan before any start"})] +
     [ev("a", i + 1, {"log": l, "i": i}) for i, l in enumerate(java)] +
     [ev("a", 9, {"other": "no key"})])
case("start_regexp_streams",
     "key log\nmultiline_start_regexp /^Exception/\nstream_identity_key container_id\n",
     [ev("a", 0, {"log": "Exception one", "container_id": "c1"}),
      ev("a", 1, {"log": "Exception two", "container_id": "c2"}),
      ev("a", 2, {"log": "  at one.1", "container_id": "c1"}),
      ev("a", 3, {"log": "  at two.1", "container_id": "c2"}),
      ev("a", 4, {"log": "  at one.2", "container_id": "c1"}),
      ev("a", 5, {"log": "Exception three", "container_id": "c1"}),
      ev("b", 6, {"log": "  at other tag", "container_id": "c1"}),
      ev("a", 7, {"log": "Exception four", "container_id": "c2"})])
case("end_regexp", "key message\nmultiline_end_regexp /\\.$/\n",
     [ev("a", 0, {"message": "one"}), ev("a", 1, {"message": "two."}),
      ev("a", 2, {"message": "three."}), ev("a", 3, {"message": "four"})])
case("start_end_regexp", "key message\nmultiline_start_regexp /^BEGIN/\nmultiline_end_regexp /END$/\n",
     [ev("a", 0, {"message": "noise"}), ev("a", 1, {"message": "BEGIN x"}),
      ev("a", 2, {"message": "mid"}), ev("a", 3, {"message": "mid END"}),
      ev("a", 4, {"message": "BEGIN y"}), ev("a", 5, {"message": "BEGIN z END"}),
      ev("a", 6, {"message": "BEGIN w"}), ev("a", 7, {"message": "tail"})])
case("continuous_line", "key log\nmultiline_start_regexp /^Exception/\ncontinuous_line_regexp /^\\s+at/\nuse_first_timestamp true\n",
     [ev("a", 0, {"log": "Exception A", "k": 1}), ev("a", 1, {"log": "  at a1", "k": 2}),
      ev("a", 2, {"log": "plain line", "k": 3}), ev("a", 3, {"log": "another plain", "k": 4}),
      ev("a", 4, {"log": "Exception B"}), ev("a", 5, {"log": "  at b1", "x": "late field"}),
      ev("a", 6, {"log": "Exception C"})])
case("partial_key", "key log\npartial_key partial_message\npartial_value true\n",
     [ev("a", 0, {"log": "aaa", "partial_message": "true", "f": 1}),
      ev("a", 1, {"log": "bbb", "partial_message": "true", "g": 2}),
      ev("a", 2, {"log": "ccc", "partial_message": "false", "f": 3}),
      ev("a", 3, {"log": "whole"}),
      ev("a", 4, {"log": "ddd", "partial_message": "true"}),
      ev("a", 5, {"log": "eee", "partial_message": True})])
case("partial_key_keep", "key log\npartial_key partial_message\npartial_value true\nkeep_partial_key true\nseparator \"\"\n",
     [ev("a", 0, {"partial_message": "true", "log": "aaa"}),
      ev("a", 1, {"log": "bbb", "partial_message": "false"})])


def docker(i, log, pid, ordinal, last, extra=None):
    r = {"container_id": "cid", "container_name": "/web", "source": "stdout", "log": log,
         "partial_message": "true", "partial_id": pid, "partial_ordinal": str(ordinal),
         "partial_last": "true" if last else "false"}
    if extra:
        r.update(extra)
    return ev("web", i, r)


case("docker_fluentd", "key log\nuse_partial_metadata true\nseparator \"\"\n",
     [docker(0, "A1", "p1", 1, False), docker(0, "B1", "p2", 1, False),
      ev("web", 1, {"container_id": "cid", "container_name": "/web", "source": "stdout", "log": "whole line"}),
      docker(0, "A2", "p1", 2, False), docker(0, "B2", "p2", 2, True),
      docker(0, "A3", "p1", 3, True)])
case("docker_fluentd_keep", "key log\nuse_partial_metadata true\nkeep_partial_metadata true\nseparator \"\"\nuse_first_timestamp true\n",
     [docker(0, "A1", "p1", 1, False), docker(1, "A2", "p1", 2, True)])
case("docker_fluentd_out_of_order", "key log\nuse_partial_metadata true\nseparator \"\"\n",
     [docker(0, "A2", "p1", 2, False), docker(1, "A1", "p1", 1, False), docker(2, "A3", "p1", 3, True)])


def journald(i, log, pid, ordinal, last, upper=True):
    k = (lambda s: s) if upper else (lambda s: s.lower())
    r = {"MESSAGE": log, k("CONTAINER_PARTIAL_ID"): pid, k("CONTAINER_PARTIAL_ORDINAL"): str(ordinal),
         k("CONTAINER_PARTIAL_LAST"): "true" if last else "false"}
    if not last:
        r[k("CONTAINER_PARTIAL_MESSAGE")] = "true"
    return ev("j", i, r)


case("docker_journald", "key MESSAGE\nuse_partial_metadata true\npartial_metadata_format docker-journald\nseparator \"\"\n",
     [journald(0, "x1", "q", 1, False), journald(1, "x2", "q", 2, False), journald(2, "x3", "q", 3, True),
      ev("j", 3, {"MESSAGE": "plain"})])
case("docker_journald_lowercase", "key MESSAGE\nuse_partial_metadata true\npartial_metadata_format docker-journald-lowercase\nseparator \"\"\n",
     [journald(0, "y1", "q", 1, False, False), journald(1, "y2", "q", 2, True, False)])
case("cri", "key message\nuse_partial_cri_logtag true\npartial_cri_logtag_key logtag\npartial_cri_stream_key stream\nseparator \"\"\n",
     [ev("k", 0, {"message": "p1", "logtag": "P", "stream": "stdout", "time": "x"}),
      ev("k", 1, {"message": "p2", "logtag": "P", "stream": "stdout"}),
      ev("k", 2, {"message": "p3", "logtag": "F", "stream": "stdout"}),
      ev("k", 3, {"message": "whole", "logtag": "F:extra", "stream": "stderr"})])
case("cri_keep", "key message\nuse_partial_cri_logtag true\npartial_cri_logtag_key logtag\nkeep_partial_key true\n",
     [ev("k", 0, {"message": "p1", "logtag": "P", "stream": "stdout"}),
      ev("k", 1, {"message": "p2", "logtag": "F", "stream": "stdout"})])
case("values_and_passthrough", "key message\nn_lines 2\nseparator \" | \"\n",
     [ev("fluent.info", 0, {"message": "own log"}),
      ev("a", 1, {"message": 42}), ev("a", 2, {"message": None}),
      ev("a", 3, {"message": [1, "x"]}), ev("a", 4, {"message": {"k": "v"}}),
      ev("a", 5, {"message": 1.5}), ev("a", 6, {"message": True})])
case("regexp_non_string", "key message\nmultiline_start_regexp /^S/\n",
     [ev("a", 0, {"message": "S one"}), ev("a", 1, {"message": 7}),
      ev("a", 2, {"message": None}), ev("a", 3, {"message": "S two"})])
case("timeout", "key message\nmultiline_start_regexp /^S/\nflush_interval 1s\nuse_first_timestamp true\n",
     [ev("a", 0, {"message": "S one"}), ev("a", 1, {"message": " cont"})], wait_after=4)

json.dump(cases, open("cases.json", "w"), indent=1)
print(len(cases), "cases")
