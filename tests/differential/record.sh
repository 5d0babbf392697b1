#!/usr/bin/env bash
# Re-record the goldens of the differential suite from a local Fluentd (the reference; it is not
# part of this repository and nothing here builds it).
#
#   tests/differential/record.sh FLUENTD_BIN [CASE...]     (or FLUENTD=... record.sh [CASE...])
#
# FLUENTD_BIN is a `fluentd` command for Fluentd 1.16.11 with fluent-plugin-rewrite-tag-filter
# 2.4.0 and the `oj` gem (3.14.2) loadable: Fluentd's `json` parser and format (and in_http's JSON)
# use Oj when it loads, as the official images and fluent-package ship it, and fall back to yajl
# without it, so a FLUENTD_BIN without Oj records other goldens (`json-parser-*` cases pin each
# library; check: `FLUENTD_BIN --dry-run` must not log "Oj isn't installed"). With no CASE, every
# case under tests/differential/cases is recorded. JOBS=N runs N cases at a time (default 2).
#
# Per case (DIR is a fresh temporary directory, PORT and PORT2..PORT4 free ports on 127.0.0.1,
# TCP and UDP; send.py gets the last three for the input lines that name them; a config naming
# {AWS} gets a local AWS, aws.py (moto), whose endpoint replaces it: those cases need
# fluent-plugin-s3 1.7.2, fluent-plugin-cloudwatch-logs 0.15.0 and fluent-plugin-kinesis 3.6.1
# loadable by FLUENTD_BIN too; a config naming {HTTP} or {FWDPORT} gets receivers, sink.py):
#   * without an `input` file: `fluentd --dry-run`; `expected` is "dry-run: ok" or "dry-run: error",
#     and Fluentd's error line is kept in `fluentd-error` (for readers; the test does not compare
#     messages, only that logferry refuses too);
#   * otherwise: copy the case's `files/` (if any: files for in_tail that exist before the start)
#     into DIR, start Fluentd (TZ=UTC), wait until its worker runs, run send.py (DIFF_DIR=DIR, where
#     its `file` lines write; every frame asks for an ack unless the case says otherwise, so when
#     send.py returns Fluentd has taken every event into its buffers), stop it with SIGTERM (memory buffers flush at shutdown), wait for
#     it to exit, then `expected` = send.py's output followed by collect.py's.
# Cases with a DIFFERS file also get `logferry.expected` re-recorded only by the Rust test
# (DIFF_BLESS=1 cargo test --test e2e_differential).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
FLUENTD="${1:-${FLUENTD:-}}"
[ -n "$FLUENTD" ] || { echo "usage: record.sh FLUENTD_BIN [CASE...]" >&2; exit 2; }
shift || true
PYTHON="${PYTHON:-python3}"
JOBS="${JOBS:-2}"

record_one() {
  local case="$1" dir port port2 port3 port4 conf pid status attempt
  case="${case%/}"
  [ -d "$case" ] || case="$HERE/cases/$case"
  dir="$(mktemp -d /tmp/lfdiff.XXXXXX)"
  read -r port port2 port3 port4 < <("$PYTHON" -c '
import socket
held, ports = [], []
while len(ports) < 4:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; held.append(s)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", p)); held.append(u); ports.append(p)
    except OSError:
        pass
print(*ports)')
  conf="$dir/fluent.conf"
  aws=none http=none fwdport=0 pids=""
  stop_helpers() { [ -z "$pids" ] || kill $pids 2>/dev/null || true; }
  if grep -q '{AWS}' "$case/fluent.conf"; then
    # A local AWS for the AWS outputs (aws.py): its endpoint replaces {AWS}.
    "$PYTHON" "$HERE/aws.py" serve "$dir" > /dev/null 2>&1 &
    pids="$pids $!"
    for _ in $(seq 1 600); do [ -f "$dir/aws-endpoint" ] && break; sleep 0.1; done
    aws="$(cat "$dir/aws-endpoint")"
  fi
  if grep -q -E '\{HTTP\}|\{FWDPORT\}' "$case/fluent.conf"; then
    # Receivers for out_http and out_forward (sink.py): {HTTP} is the HTTP one's URL,
    # {FWDPORT} the forward one's port on 127.0.0.1.
    "$PYTHON" "$HERE/sink.py" serve "$dir" > /dev/null 2>&1 &
    pids="$pids $!"
    for _ in $(seq 1 600); do [ -f "$dir/sink-endpoints" ] && break; sleep 0.1; done
    http="$(sed -n 1p "$dir/sink-endpoints")"
    fwdport="$(sed -n 2p "$dir/sink-endpoints" | cut -d: -f2)"
  fi
  sed -e "s|{PORT}|$port|g" -e "s|{PORT2}|$port2|g" -e "s|{PORT3}|$port3|g" -e "s|{PORT4}|$port4|g" \
    -e "s|{DIR}|$dir|g" -e "s|{AWS}|$aws|g" -e "s|{HTTP}|$http|g" -e "s|{FWDPORT}|$fwdport|g" \
    "$case/fluent.conf" > "$conf"
  mkdir -p "$dir/out"
  if [ ! -f "$case/input" ]; then
    if TZ=UTC "$FLUENTD" --dry-run -c "$conf" > "$dir/log" 2>&1; then
      echo "dry-run: ok" > "$case/expected"
      rm -f "$case/fluentd-error"
    else
      echo "dry-run: error" > "$case/expected"
      grep -m1 -E '\[error\]|error' "$dir/log" | sed -e "s|$dir|{DIR}|g" -e 's/^[0-9-]* [0-9:]* [+-][0-9]* //' > "$case/fluentd-error" || true
    fi
    echo "recorded $(basename "$case"): $(cat "$case/expected")"
    stop_helpers; rm -rf "$dir"
    return
  fi
  # A case's `files/` (files that exist before the daemon starts, for in_tail) goes into DIR.
  if [ -d "$case/files" ]; then cp -a "$case/files/." "$dir/"; "$PYTHON" "$HERE/prep_files.py" "$dir"; fi
  TZ=UTC "$FLUENTD" -c "$conf" -o "$dir/log" > /dev/null 2>&1 &
  pid=$!
  status=running
  for _ in $(seq 1 600); do
    if grep -q "fluentd worker is now running" "$dir/log" 2>/dev/null; then status=up; break; fi
    if ! kill -0 "$pid" 2>/dev/null; then status=exited; break; fi
    sleep 0.1
  done
  if [ "$status" != up ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    echo "start: error" > "$case/expected"
    grep -m1 -E '\[error\]' "$dir/log" | sed -e "s|$dir|{DIR}|g" -e 's/^[0-9-]* [0-9:]* [+-][0-9]* //' > "$case/fluentd-error" || true
    echo "recorded $(basename "$case"): start: error"
    stop_helpers; rm -rf "$dir"
    return
  fi
  if ! DIFF_DIR="$dir" "$PYTHON" "$HERE/send.py" "$port" "$case/input" "$port2" "$port3" "$port4" > "$dir/sent" 2> "$dir/send-err"; then
    # Most likely the port was taken between picking it and Fluentd binding it: try again.
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" || true
    err=$(tail -3 "$dir/send-err" 2>/dev/null)
    stop_helpers; rm -rf "$dir"
    attempt="${2:-1}"
    if [ "$attempt" -ge 3 ]; then
      echo "FAILED $(basename "$case"): send.py: $err" >&2
      return 1
    fi
    record_one "$case" $((attempt + 1))
    return
  fi
  kill -TERM "$pid"
  wait "$pid" || true
  { cat "$dir/sent"; "$PYTHON" "$HERE/collect.py" "$dir"; } > "$case/expected"
  # Cases with a YEAR file: the year Fluentd ran in (RFC 3164 times have none) becomes {YEAR}.
  if [ -f "$case/YEAR" ]; then
    sed -i -e "s/^$(date -u +%Y)-/{YEAR}-/" "$case/expected"
  fi
  rm -f "$case/fluentd-error"
  if grep -q -E '\[(error|warn)\]' "$dir/log"; then
    grep -E '\[(error|warn)\]' "$dir/log" | sed -e "s|$dir|{DIR}|g" -e 's/^[0-9-]* [0-9:]* [+-][0-9]* //' \
      | grep -v -E 'both of Plugin @id|no patterns matched' | head -5 > "$case/fluentd-log" || true
    [ -s "$case/fluentd-log" ] || rm -f "$case/fluentd-log"
  else
    rm -f "$case/fluentd-log"
  fi
  echo "recorded $(basename "$case")"
  stop_helpers; rm -rf "$dir"
}
export -f record_one
export HERE FLUENTD PYTHON

if [ "$#" -eq 0 ]; then
  set -- "$HERE"/cases/*/
fi
printf '%s\n' "$@" | xargs -P "$JOBS" -I{} bash -c 'record_one "$1"' _ {}
