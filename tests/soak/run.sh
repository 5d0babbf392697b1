#!/usr/bin/env bash
# Soak test for logferry (not run by CI).
#
# What it does: runs the load tool's "seed" pipeline (in_forward → parser json on `log` with
# reserve_data → rewrite_tag_filter on log_type → out_http NDJSON; the config comes from
# `logferry-load soak-config`, the seed case with a FILE buffer) for SOAK_SECONDS under
# acknowledged load of SOAK_RATE events/s (`logferry-load soak-send`: every event carries a unique
# `seq`; chunks not acknowledged are resent on a new connection, as Fluentd's out_forward with
# require_ack_response does), while injecting faults:
#   - output outage: every OUTAGE_EVERY s the HTTP sink (`logferry-load sink-http`) is killed and
#     started again OUTAGE_SECONDS later (connection refused meanwhile; the backlog spills to the
#     file buffer);
#   - daemon restart: every RESTART_EVERY s the daemon is stopped, alternately with SIGTERM
#     (graceful, must exit 0) and kill -9 (crash), and started again on the same buffer.
# The sink appends the seq of every event it receives to a file before it answers 200, so the
# account is exact across sink restarts. At the end the load stops (the sender waits for its last
# acks), the daemon is flushed (SIGUSR1) until every acknowledged seq reached the sink, stopped
# with SIGTERM, and the script prints: events acknowledged (in), distinct events received (out),
# duplicates, loss (acknowledged but never received), the daemon's peak RSS (max VmHWM over every
# daemon process), its peak number of open descriptors (/proc/PID/fd sampled every second), and
# the numbers of restarts and outages. Exit status 1 on any loss, or when the daemon died on its
# own, did not exit 0 on SIGTERM, or the sender could not get every event acknowledged.
#
# How to run (from anywhere; builds the release binaries first unless SOAK_BUILD=0):
#   bash tests/soak/run.sh                                   # 10 minutes at 20,000 events/s
#   SOAK_SECONDS=300 SOAK_RATE=5000 bash tests/soak/run.sh   # 5 minutes at 5,000 events/s
# Knobs (environment): SOAK_SECONDS (600), SOAK_RATE (20000), OUTAGE_EVERY (60),
# OUTAGE_SECONDS (15), RESTART_EVERY (45), SOAK_CONNS (4), SOAK_BATCH (500 events per chunk),
# SOAK_ACK_WINDOW (4 chunks in flight per connection), SOAK_RECORD_SIZE (300 bytes),
# DRAIN_TIMEOUT (180 s without progress), SOAK_DIR (work directory, default a new /tmp dir, kept
# on failure or with SOAK_KEEP=1), LOGFERRY / LOAD (binaries, default target/release/...),
# SOAK_BUILD (1). Every server binds 127.0.0.1. Needs bash, python3 (free ports) and /proc.

set -uo pipefail
shopt -s nullglob

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SOAK_SECONDS=${SOAK_SECONDS:-600}
SOAK_RATE=${SOAK_RATE:-20000}
OUTAGE_EVERY=${OUTAGE_EVERY:-60}
OUTAGE_SECONDS=${OUTAGE_SECONDS:-15}
RESTART_EVERY=${RESTART_EVERY:-45}
SOAK_CONNS=${SOAK_CONNS:-4}
SOAK_BATCH=${SOAK_BATCH:-500}
SOAK_ACK_WINDOW=${SOAK_ACK_WINDOW:-4}
SOAK_RECORD_SIZE=${SOAK_RECORD_SIZE:-300}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-180}
SOAK_BUILD=${SOAK_BUILD:-1}
SOAK_KEEP=${SOAK_KEEP:-0}
LOGFERRY=${LOGFERRY:-$ROOT/target/release/logferry}
LOAD=${LOAD:-$ROOT/target/release/logferry-load}

log() { printf '[soak %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [[ $SOAK_BUILD == 1 ]]; then
    log "building release binaries"
    (cd "$ROOT" && cargo build --release --locked -p logferry -p logferry-load) || die "build failed"
fi
[[ -x $LOGFERRY ]] || die "$LOGFERRY not found (build it, or set LOGFERRY)"
[[ -x $LOAD ]] || die "$LOAD not found (build it, or set LOAD)"

DIR=${SOAK_DIR:-$(mktemp -d /tmp/logferry-soak.XXXXXX)}
mkdir -p "$DIR/bin"
# Private copies: a rebuild in the tree during the run must not change the daemon restarted.
cp "$LOGFERRY" "$DIR/bin/logferry" && cp "$LOAD" "$DIR/bin/logferry-load" || die "cannot copy the binaries"
LOGFERRY=$DIR/bin/logferry
LOAD=$DIR/bin/logferry-load
IDS=$DIR/sink-ids.bin
REPORT=$DIR/acked.json
DLOG=$DIR/daemon.log
rm -f "$IDS" "$REPORT"
touch "$DLOG"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
FWD_PORT=$(free_port)
SINK_PORT=$(free_port)
"$LOAD" soak-config --forward-port "$FWD_PORT" --sink-port "$SINK_PORT" \
    --buffer-path "$DIR/buffer" >"$DIR/router.conf" || die "soak-config failed"

DPID= SPID= LPID=
FAILED=0
PEAK_HWM=0 PEAK_FDS=0
STARTS=0 RESTARTS=0 GRACEFUL=0 CRASHES=0 OUTAGES=0 UNEXPECTED_EXITS=0 BAD_EXITS=0

# Whether PID runs (a zombie does not).
alive() {
    local _p _c st
    [[ -n $1 ]] && { read -r _p _c st _ <"/proc/$1/stat"; } 2>/dev/null && [[ $st != Z ]]
}

# Peak RSS and descriptors of the running daemon.
sample() {
    alive "$DPID" || return 0
    local hwm fds
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$DPID/status" 2>/dev/null)
    [[ -n $hwm ]] && ((hwm > PEAK_HWM)) && PEAK_HWM=$hwm
    fds=("/proc/$DPID/fd/"*)
    ((${#fds[@]} > PEAK_FDS)) && PEAK_FDS=${#fds[@]}
    return 0
}

cleanup() {
    local p
    for p in "$LPID" "$DPID" "$SPID"; do
        if [[ -n $p ]] && kill -0 "$p" 2>/dev/null; then
            kill -9 "$p" 2>/dev/null
            wait "$p" 2>/dev/null
        fi
    done
    if [[ $FAILED == 0 && $SOAK_KEEP != 1 ]]; then
        rm -rf "$DIR"
    else
        rm -rf "$DIR/bin"
        log "kept $DIR (router.conf, daemon.log, sink.log, sender.log, $(basename "$IDS"), $(basename "$REPORT"))"
    fi
}
trap cleanup EXIT
trap 'FAILED=1; exit 130' INT TERM

start_daemon() {
    local before t
    before=$(grep -c "logferry started" "$DLOG" 2>/dev/null)
    "$LOGFERRY" -c "$DIR/router.conf" </dev/null >>"$DIR/daemon.stdout" 2>>"$DLOG" &
    DPID=$!
    STARTS=$((STARTS + 1))
    t=$SECONDS
    until (($(grep -c "logferry started" "$DLOG" 2>/dev/null) > ${before:-0})); do
        alive "$DPID" || { tail -20 "$DLOG" >&2; die "the daemon exited at start"; }
        ((SECONDS - t < 30)) || die "the daemon did not start in 30 s"
        sleep 0.05
    done
}

# Wait for the daemon to exit (sampling it meanwhile); sets RC.
reap_daemon() {
    local t=$SECONDS
    while alive "$DPID"; do
        sample
        if ((SECONDS - t > 40)); then
            log "ERROR: the daemon did not exit 40 s after SIGTERM: kill -9"
            kill -9 "$DPID"
        fi
        sleep 0.1
    done
    wait "$DPID"
    RC=$?
}

stop_daemon_graceful() {
    sample
    kill -TERM "$DPID"
    reap_daemon
    if ((RC != 0)); then
        BAD_EXITS=$((BAD_EXITS + 1))
        log "ERROR: the daemon exited $RC on SIGTERM"
    fi
}

crash_daemon() {
    sample
    kill -9 "$DPID"
    wait "$DPID" 2>/dev/null
}

start_sink() {
    "$LOAD" sink-http --listen "127.0.0.1:$SINK_PORT" --ids "$IDS" >>"$DIR/sink.log" 2>&1 &
    SPID=$!
    local t=$SECONDS
    until (exec 3<>"/dev/tcp/127.0.0.1/$SINK_PORT") 2>/dev/null; do
        alive "$SPID" || die "the sink exited at start: $(tail -3 "$DIR/sink.log")"
        ((SECONDS - t < 10)) || die "the sink did not listen in 10 s"
        sleep 0.05
    done
}

stop_sink() {
    kill -9 "$SPID" 2>/dev/null
    wait "$SPID" 2>/dev/null
    SPID=
}

log "dir $DIR; forward 127.0.0.1:$FWD_PORT, sink 127.0.0.1:$SINK_PORT"
log "${SOAK_SECONDS}s at $SOAK_RATE events/s ($SOAK_CONNS conns, $SOAK_BATCH events/chunk, window $SOAK_ACK_WINDOW);" \
    "sink down ${OUTAGE_SECONDS}s every ${OUTAGE_EVERY}s; daemon restart every ${RESTART_EVERY}s (SIGTERM / kill -9 alternately)"
start_sink
start_daemon
"$LOAD" soak-send --port "$FWD_PORT" --rate "$SOAK_RATE" --conns "$SOAK_CONNS" \
    --batch "$SOAK_BATCH" --ack-window "$SOAK_ACK_WINDOW" --record-size "$SOAK_RECORD_SIZE" \
    --duration "$SOAK_SECONDS" --drain-timeout "$DRAIN_TIMEOUT" --report "$REPORT" \
    >"$DIR/sender.log" 2>&1 &
LPID=$!

T0=$SECONDS
END=$((T0 + SOAK_SECONDS))
NEXT_OUTAGE=$((T0 + OUTAGE_EVERY))
NEXT_RESTART=$((T0 + RESTART_EVERY))
OUTAGE_END=0
LAST_STATUS=$T0
while ((SECONDS < END)); do
    sample
    now=$SECONDS
    if ! alive "$DPID"; then
        wait "$DPID"
        log "ERROR: the daemon exited on its own (status $?): starting it again"
        UNEXPECTED_EXITS=$((UNEXPECTED_EXITS + 1))
        start_daemon
    fi
    if [[ -n $SPID ]] && ! alive "$SPID"; then
        die "the sink exited on its own: $(tail -3 "$DIR/sink.log")"
    fi
    if ((OUTAGE_END > 0 && now >= OUTAGE_END)); then
        log "outage $OUTAGES over: sink started"
        start_sink
        OUTAGE_END=0
    fi
    if ((OUTAGE_END == 0 && now >= NEXT_OUTAGE)); then
        OUTAGES=$((OUTAGES + 1))
        log "outage $OUTAGES: sink killed for ${OUTAGE_SECONDS}s"
        stop_sink
        OUTAGE_END=$((now + OUTAGE_SECONDS))
        NEXT_OUTAGE=$((NEXT_OUTAGE + OUTAGE_EVERY))
    fi
    if ((now >= NEXT_RESTART)); then
        RESTARTS=$((RESTARTS + 1))
        if ((RESTARTS % 2 == 1)); then
            GRACEFUL=$((GRACEFUL + 1))
            log "restart $RESTARTS: SIGTERM"
            stop_daemon_graceful
        else
            CRASHES=$((CRASHES + 1))
            log "restart $RESTARTS: kill -9"
            crash_daemon
        fi
        start_daemon
        NEXT_RESTART=$((NEXT_RESTART + RESTART_EVERY))
    fi
    if ((now - LAST_STATUS >= 30)); then
        LAST_STATUS=$now
        log "t=$((now - T0))s peak RSS $((PEAK_HWM / 1024)) MiB, peak fds $PEAK_FDS, buffer $(du -sh "$DIR/buffer" 2>/dev/null | cut -f1)"
    fi
    sleep 1
done

log "load time over: faults stop, the sender waits for its last acks"
if [[ -z $SPID ]]; then
    start_sink
    OUTAGE_END=0
fi
while alive "$LPID"; do
    sample
    sleep 1
done
wait "$LPID"
SEND_RC=$?
LPID=
cat "$DIR/sender.log" >&2
((SEND_RC == 0)) || log "ERROR: the sender could not get every event acknowledged"

log "draining: SIGUSR1 until every acknowledged event reached the sink"
last_distinct=-1
progress=$SECONDS
while true; do
    sample
    kill -USR1 "$DPID" 2>/dev/null
    line=$("$LOAD" soak-report --acked "$REPORT" --ids "$IDS" --brief 2>&1)
    distinct=$(sed -n 's/.*distinct=\([0-9]*\).*/\1/p' <<<"$line")
    lost=$(sed -n 's/.*lost=\([0-9]*\).*/\1/p' <<<"$line")
    [[ -n $lost ]] || die "soak-report failed: $line"
    if ((lost == 0)); then
        break
    fi
    if ((distinct != last_distinct)); then
        last_distinct=$distinct
        progress=$SECONDS
    elif ((SECONDS - progress > DRAIN_TIMEOUT)); then
        log "ERROR: no progress for ${DRAIN_TIMEOUT}s: $line"
        break
    fi
    sleep 2
done
sleep 2 # let a flush in progress finish before stopping

log "stopping the daemon (SIGTERM)"
sample
kill -TERM "$DPID"
reap_daemon
FINAL_RC=$RC
sleep 1
stop_sink
LEFT=("$DIR/buffer/"*.log)

echo "== logferry soak: ${SOAK_SECONDS}s at $SOAK_RATE events/s, seed pipeline, file buffer =="
"$LOAD" soak-report --acked "$REPORT" --ids "$IDS"
REPORT_RC=$?
echo "daemon peak RSS (max VmHWM):      $((PEAK_HWM / 1024)) MiB ($PEAK_HWM KiB)"
echo "daemon peak open descriptors:     $PEAK_FDS"
echo "daemon restarts:                  $RESTARTS ($GRACEFUL SIGTERM, $CRASHES kill -9; $STARTS daemon processes)"
echo "output outages:                   $OUTAGES (sink down ${OUTAGE_SECONDS}s each)"
echo "daemon exit status, final SIGTERM: $FINAL_RC (restarts by SIGTERM not 0: $BAD_EXITS; died on its own: $UNEXPECTED_EXITS)"
echo "buffer chunk files left:          ${#LEFT[@]}"
echo "daemon [warn]/[error] log lines: $(grep -c -E '\[(warn|error)\]' "$DLOG")"

if ((REPORT_RC != 0 || SEND_RC != 0 || BAD_EXITS != 0 || UNEXPECTED_EXITS != 0 || FINAL_RC != 0)); then
    FAILED=1
    echo "RESULT: FAIL"
    exit 1
fi
echo "RESULT: PASS"
