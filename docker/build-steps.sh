#!/usr/bin/env bash
# Runs docker/Dockerfile's build and layout steps without Docker, so they cannot rot where no
# Docker engine runs (CI runs this as `PROFILE=dev bash docker/build-steps.sh`):
#
#   context   copies only what the Dockerfile's builder stage COPYs into a bare build context
#   build     the Dockerfile's cargo build, run in that context (PROFILE=dev reuses CI's debug
#             build through the shared target dir; default release, as in the image)
#   layout    /usr/bin/logferry, /fluentd/etc/fluent.conf, /fluentd/log (the non-root user's)
#             under a temporary staging root
#   dry-run   the staged binary on the staged config, resolved as in the image (cwd /fluentd/etc,
#             FLUENTD_CONF=fluent.conf, no -c); docker/compose/fluent.conf too
#   run       the daemon started as the image starts it (as uid 65532 when run as root), on free
#             ports; the Dockerfile's own HEALTHCHECK command against /readyz, --healthcheck
#             against /healthz and against a closed port (must fail), one event through the
#             forward input (sent by the staged binary's --send) to stdout; then SIGTERM, exit 0
#
# One line per step; the first failure stops it with a non-zero exit. The Dockerfile lines this
# script mirrors are checked first, so changing one without the other fails here.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DOCKERFILE="$ROOT/docker/Dockerfile"
PROFILE="${PROFILE:-release}"
case "$PROFILE" in
  dev) PROFILE_DIR=debug ;;
  *) PROFILE_DIR="$PROFILE" ;;
esac
# Shared with the repository's own builds, so dependencies are compiled once.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
CONTEXT="$CARGO_TARGET_DIR/docker-context"
NONROOT_UID=65532

step() { printf 'build-steps: %-8s %s\n' "$1" "$2"; }
fail() {
  printf 'build-steps: FAIL: %s\n' "$*" >&2
  exit 1
}

STAGE=""
DAEMON_PID=""
cleanup() {
  local rc=$?
  if [ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    kill -KILL "$DAEMON_PID" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ] && [ -n "$STAGE" ] && [ -s "$STAGE/daemon.stderr" ]; then
    echo "build-steps: daemon stderr (last 30 lines):" >&2
    tail -n 30 "$STAGE/daemon.stderr" >&2 || true
  fi
  if [ -n "$STAGE" ]; then
    rm -rf "$STAGE"
  fi
  exit "$rc"
}
trap cleanup EXIT

# --- 0. The Dockerfile lines mirrored below -----------------------------------------------------
require_line() {
  grep -qxF -- "$1" "$DOCKERFILE" || fail "docker/Dockerfile no longer has the line: $1"
}
require_line '    cargo build --release --locked -p logferry \'
require_line ' && install -D -m 0755 target/release/logferry /out/usr/bin/logferry'
require_line 'COPY docker/fluent.conf /out/fluentd/etc/fluent.conf'
require_line ' && install -d -m 0755 -o 65532 -g 65532 /out/fluentd/log'
require_line 'WORKDIR /fluentd/etc'
require_line 'ENV FLUENTD_CONF=fluent.conf \'
require_line '    FLUENT_BACKUP_DIR=/fluentd/log'
require_line "USER $NONROOT_UID:$NONROOT_UID"
require_line 'EXPOSE 24224 24224/udp'
require_line 'ENTRYPOINT ["/usr/bin/logferry"]'
HEALTHCHECK_URL="$(sed -n 's|^ *CMD \["/usr/bin/logferry", "--healthcheck", "\([^"]*\)"\]$|\1|p' "$DOCKERFILE")"
[ "$HEALTHCHECK_URL" = "http://127.0.0.1:24220/readyz" ] ||
  fail "docker/Dockerfile's HEALTHCHECK is not CMD [\"/usr/bin/logferry\", \"--healthcheck\", \"http://127.0.0.1:24220/readyz\"] (got '$HEALTHCHECK_URL')"
step dockerfile "mirrored lines present (cargo build, layout, WORKDIR, ENV, USER, EXPOSE, HEALTHCHECK)"

# --- 1. Build context: exactly the builder stage's COPY sources ---------------------------------
# Every `COPY <src>... <dest>` without --from, up to the runtime stage.
mapfile -t COPY_SRCS < <(awk '
  /^FROM / { stage++ }
  stage == 1 && /^COPY / && !/--from/ { for (i = 2; i < NF; i++) print $i }
' "$DOCKERFILE")
[ "${#COPY_SRCS[@]}" -gt 0 ] || fail "no COPY lines found in docker/Dockerfile's builder stage"
rm -rf "$CONTEXT"
mkdir -p "$CONTEXT"
for src in "${COPY_SRCS[@]}"; do
  src="${src%/}"
  [ -e "$ROOT/$src" ] || fail "docker/Dockerfile COPYs '$src', which does not exist"
  mkdir -p "$CONTEXT/$(dirname "$src")"
  # -a keeps mtimes, so cargo sees unchanged sources as unchanged from one run to the next.
  cp -a "$ROOT/$src" "$CONTEXT/$src"
done
step context "$CONTEXT: ${COPY_SRCS[*]}"

# --- 2. The image's cargo build, in that context ------------------------------------------------
# Same command as the Dockerfile (`--release` is `--profile release`).
(cd "$CONTEXT" && cargo build --profile "$PROFILE" --locked -p logferry --quiet) ||
  fail "cargo build --profile $PROFILE --locked -p logferry failed in the bare build context"
BUILT="$CARGO_TARGET_DIR/$PROFILE_DIR/logferry"
[ -x "$BUILT" ] || fail "no binary at $BUILT"
# The context's crates share the workspace's fingerprints (same relative paths), which now point
# at the context's copies of the sources: remove them, so that the next build of the workspace
# itself sees its own edits instead of a stale "fresh" copy.
rm -rf "$CONTEXT"

# --- 3. Layout under a staging root -------------------------------------------------------------
STAGE="$(mktemp -d "${TMPDIR:-/tmp}/logferry-image.XXXXXX")"
chmod 0755 "$STAGE" # the non-root user must reach /fluentd under it, as in the image
R="$STAGE/root"
install -D -m 0755 "$BUILT" "$R/usr/bin/logferry"
step build "cargo build --profile $PROFILE --locked -p logferry -> /usr/bin/logferry ($(du -h "$R/usr/bin/logferry" | cut -f1))"
install -d -m 0755 "$R/fluentd/etc"
install -m 0644 "$ROOT/docker/fluent.conf" "$R/fluentd/etc/fluent.conf"
install -d -m 0755 "$R/fluentd/log"
RUN_AS=()
if [ "$(id -u)" -eq 0 ]; then
  command -v setpriv >/dev/null 2>&1 || fail "setpriv (util-linux) is needed to run as uid $NONROOT_UID"
  chown "$NONROOT_UID:$NONROOT_UID" "$R/fluentd/log"
  RUN_AS=(setpriv --reuid="$NONROOT_UID" --regid="$NONROOT_UID" --clear-groups)
  who="uid $NONROOT_UID"
else
  who="uid $(id -u) (not root: cannot switch to $NONROOT_UID)"
fi
step layout "$R: /usr/bin/logferry /fluentd/etc/fluent.conf /fluentd/log (owner: $who)"

# The image's environment, with the staging root's paths for the absolute ones.
image_env() {
  env -i PATH=/usr/bin:/bin HOME=/home/nonroot \
    FLUENTD_CONF="${FLUENTD_CONF_NAME:-fluent.conf}" FLUENT_BACKUP_DIR="$R/fluentd/log" "$@"
}

# --- 4. --dry-run on the staged configs ---------------------------------------------------------
(cd "$R/fluentd/etc" && image_env "${RUN_AS[@]}" "$R/usr/bin/logferry" --dry-run \
  >"$STAGE/dry-run.out" 2>"$STAGE/dry-run.err") ||
  fail "--dry-run on /fluentd/etc/fluent.conf: $(cat "$STAGE/dry-run.err")"
step dry-run "/fluentd/etc/fluent.conf (FLUENTD_CONF=fluent.conf, cwd /fluentd/etc): $(tail -n 1 "$STAGE/dry-run.err")"
install -m 0644 "$ROOT/docker/compose/fluent.conf" "$R/fluentd/etc/compose.conf"
(cd "$R/fluentd/etc" && FLUENTD_CONF_NAME=compose.conf image_env "${RUN_AS[@]}" \
  "$R/usr/bin/logferry" --dry-run >"$STAGE/dry-run.out" 2>"$STAGE/dry-run.err") ||
  fail "--dry-run on docker/compose/fluent.conf: $(cat "$STAGE/dry-run.err")"
rm -f "$R/fluentd/etc/compose.conf"
step dry-run "docker/compose/fluent.conf: $(tail -n 1 "$STAGE/dry-run.err")"

# --- 5. Run it as the image runs it -------------------------------------------------------------
# Free ports, chosen by the kernel; the forward port must be free for TCP and UDP alike.
read -r FWD_PORT MON_PORT DEAD_PORT < <(python3 - <<'EOF'
import socket
def free(udp_too):
    while True:
        t = socket.socket(); t.bind(("127.0.0.1", 0)); port = t.getsockname()[1]
        if not udp_too:
            t.close(); return port
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port)); u.close(); t.close(); return port
        except OSError:
            u.close(); t.close()
print(free(True), free(False), free(False))
EOF
)
[ -n "$DEAD_PORT" ] || fail "could not pick free ports"
(
  cd "$R/fluentd/etc"
  exec env -i PATH=/usr/bin:/bin HOME=/home/nonroot FLUENTD_CONF=fluent.conf \
    FLUENT_BACKUP_DIR="$R/fluentd/log" \
    LOGFERRY_BIND=127.0.0.1 LOGFERRY_PORT="$FWD_PORT" LOGFERRY_MONITOR_PORT="$MON_PORT" \
    "${RUN_AS[@]}" "$R/usr/bin/logferry"
) >"$STAGE/daemon.stdout" 2>"$STAGE/daemon.stderr" &
DAEMON_PID=$!
step run "pid $DAEMON_PID as $who: forward 127.0.0.1:$FWD_PORT, monitor 127.0.0.1:$MON_PORT"

healthcheck() { "$R/usr/bin/logferry" --healthcheck "$1" >/dev/null 2>&1; }

# Liveness first: up to 30 s for the daemon to come up.
for _ in $(seq 1 300); do
  kill -0 "$DAEMON_PID" 2>/dev/null || fail "the daemon exited during start-up"
  if healthcheck "http://127.0.0.1:$MON_PORT/healthz"; then break; fi
  sleep 0.1
done
healthcheck "http://127.0.0.1:$MON_PORT/healthz" || fail "--healthcheck /healthz never passed"
step probe "logferry --healthcheck http://127.0.0.1:$MON_PORT/healthz: exit 0"

# Readiness: the Dockerfile's HEALTHCHECK command itself, its port moved to the free one.
HC_URL="${HEALTHCHECK_URL/:24220\//:$MON_PORT/}"
for _ in $(seq 1 100); do
  if healthcheck "$HC_URL"; then break; fi
  sleep 0.1
done
healthcheck "$HC_URL" || fail "the image's HEALTHCHECK ($HC_URL) did not pass"
step probe "HEALTHCHECK logferry --healthcheck $HC_URL: exit 0"

if healthcheck "http://127.0.0.1:$DEAD_PORT/readyz"; then
  fail "--healthcheck against a closed port exited 0"
fi
step probe "logferry --healthcheck http://127.0.0.1:$DEAD_PORT/readyz (closed port): exit non-zero"

# One event with the image's own binary (`logferry --send`, as `docker exec` would run it: the
# image has no shell or Python); it exits 0 once the daemon acked it, and stdout must print it.
image_env "$R/usr/bin/logferry" --send image.test '{"msg":"hello"}' --to "127.0.0.1:$FWD_PORT" \
  2>"$STAGE/send.err" || fail "logferry --send to the forward input failed: $(cat "$STAGE/send.err")"
for _ in $(seq 1 100); do
  if grep -qF 'image.test: {"msg":"hello"}' "$STAGE/daemon.stdout"; then break; fi
  sleep 0.1
done
grep -qF 'image.test: {"msg":"hello"}' "$STAGE/daemon.stdout" ||
  fail "the event sent to the forward input did not reach stdout"
step event "forward 127.0.0.1:$FWD_PORT -> stdout: $(grep -F 'image.test' "$STAGE/daemon.stdout" | head -n 1)"

# SIGTERM: drain and exit 0 within --shutdown-timeout (25 s) plus a margin.
kill -TERM "$DAEMON_PID"
for _ in $(seq 1 300); do
  kill -0 "$DAEMON_PID" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$DAEMON_PID" 2>/dev/null; then
  fail "the daemon was still running 30 s after SIGTERM"
fi
set +e
wait "$DAEMON_PID"
rc=$?
set -e
DAEMON_PID=""
[ "$rc" -eq 0 ] || fail "the daemon exited $rc after SIGTERM (expected 0)"
step sigterm "exit 0"
