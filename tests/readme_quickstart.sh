#!/usr/bin/env bash
# Runs README.md's quick start as written, so it cannot rot (CI runs this from .ci/run, after the
# debug build of logferry):
#
#   run     the block after `<!-- quickstart:run -->` runs in bash, from the repository root, as a
#           user would paste it (build, start the daemon in the background, send an event, stop
#           it). Only LOGFERRY_PORT is set, to a free port, so that CI never depends on 24224
#           being free: conf/dev.conf and `logferry --send` both read it.
#   stdout  what the daemon printed must be the block after `<!-- quickstart:stdout -->`, with
#           only the event's time (the current time) allowed to differ in value, not in format.
#   tests   the block after `<!-- quickstart:tests -->` must be literally the command .ci/run
#           runs last (it is not run a second time here).
#   env     every environment variable the shipped configs read (conf/*.conf, docker/fluent.conf,
#           docker/compose/fluent.conf) is named in README.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
README=README.md

fail() {
  printf 'readme-quickstart: FAIL: %s\n' "$*" >&2
  exit 1
}
step() { printf 'readme-quickstart: %-6s %s\n' "$1" "$2"; }

# The fenced block right after the marker line `<!-- quickstart:NAME -->`.
block() {
  awk -v marker="<!-- quickstart:$1 -->" '
    $0 == marker { found = 1; next }
    found && !inside && /^```/ { inside = 1; next }
    inside && /^```$/ { exit }
    inside { print }
  ' "$README"
}

RUN="$(block run)"
WANT_STDOUT="$(block stdout)"
TESTS="$(block tests)"
[ -n "$RUN" ] || fail "no <!-- quickstart:run --> block in $README"
[ -n "$WANT_STDOUT" ] || fail "no <!-- quickstart:stdout --> block in $README"
[ -n "$TESTS" ] || fail "no <!-- quickstart:tests --> block in $README"

# --- tests: the same command as CI ------------------------------------------------------------
TESTS_CMD="$(printf '%s\n' "$TESTS" | sed -e 's/[[:space:]]*#.*$//' -e '/^[[:space:]]*$/d')"
[ "$(printf '%s\n' "$TESTS_CMD" | wc -l)" -eq 1 ] ||
  fail "the quick start's test block should be one command, got: $TESTS_CMD"
grep -qxF -- "$TESTS_CMD" .ci/run ||
  fail "the quick start's test command '$TESTS_CMD' is not a line of .ci/run"
[ "$(grep -v '^[[:space:]]*$' .ci/run | tail -n 1)" = "$TESTS_CMD" ] ||
  fail "'$TESTS_CMD' is not the last command of .ci/run"
step tests "'$TESTS_CMD' is what .ci/run runs (not run again here)"

# --- env: every variable the shipped configs read is documented -------------------------------
missing=()
for name in $(grep -ohE "ENV(\.fetch\(|\[) *['\"][A-Za-z_][A-Za-z0-9_]*" \
  conf/*.conf docker/fluent.conf docker/compose/fluent.conf |
  sed -E "s/.*['\"]//" | sort -u); do
  grep -qw -- "$name" "$README" || missing+=("$name")
done
[ "${#missing[@]}" -eq 0 ] ||
  fail "environment variables read by the shipped configs but not named in $README: ${missing[*]}"
step env "every variable read by conf/*.conf and docker/**/fluent.conf is named in $README"

# --- run: the quick start as written ----------------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/logferry-quickstart.XXXXXX")"
PGID=""
cleanup() {
  local rc=$?
  # Whatever the block left running (its own process group, started below) is stopped.
  if [ -n "$PGID" ] && kill -0 -- "-$PGID" 2>/dev/null; then
    kill -KILL -- "-$PGID" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ]; then
    for f in stdout stderr; do
      [ -s "$WORK/$f" ] && { echo "readme-quickstart: the block's $f:" >&2; cat "$WORK/$f" >&2; }
    done
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

PORT="$(python3 - <<'EOF'
import socket
while True:
    t = socket.socket(); t.bind(("127.0.0.1", 0)); port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port)); print(port); break
    except OSError:
        pass
    finally:
        u.close(); t.close()
EOF
)"
printf '%s\n' "$RUN" >"$WORK/quickstart.sh"
# setsid: the block and the daemon it starts get a process group of their own, so nothing it
# leaves behind can outlive this script.
setsid env LOGFERRY_PORT="$PORT" timeout --foreground 600 bash -e "$WORK/quickstart.sh" \
  >"$WORK/stdout" 2>"$WORK/stderr" </dev/null &
PGID=$!
set +e
wait "$PGID"
rc=$?
set -e
[ "$rc" -eq 0 ] || fail "the quick-start block exited $rc"
# The block ends with the daemon's SIGTERM; it exits once it has drained (within seconds here).
for _ in $(seq 1 300); do
  grep -q 'logferry stopped' "$WORK/stderr" && break
  sleep 0.1
done
grep -q 'logferry stopped' "$WORK/stderr" || fail "the daemon did not log 'logferry stopped' after the block"
grep -q 'logferry started' "$WORK/stderr" || fail "the daemon did not log 'logferry started'"
grep -q "1 event sent to 127.0.0.1:$PORT and acknowledged" "$WORK/stderr" ||
  fail "logferry --send did not report the ack"
step run "the quick-start block ran (LOGFERRY_PORT=$PORT): started, sent, acknowledged, stopped"

# --- stdout: exactly the README's sample, but for the current time -----------------------------
TIME_RE='[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{9} [+-][0-9]{4}'
norm() { sed -E "s/^$TIME_RE /<time> /"; }
got="$(norm <"$WORK/stdout")"
want="$(printf '%s\n' "$WANT_STDOUT" | norm)"
printf '%s\n' "$WANT_STDOUT" | grep -qE "^$TIME_RE " ||
  fail "the README's sample line does not start with a time as the stdout output prints it"
[ "$got" = "$want" ] || fail "the daemon printed:
$(cat "$WORK/stdout")
but README.md shows:
$WANT_STDOUT"
step stdout "$(cat "$WORK/stdout")"
