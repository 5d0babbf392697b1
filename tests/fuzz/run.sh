#!/usr/bin/env bash
# Builds every cargo-fuzz target of tests/fuzz and runs each for FUZZ_SECONDS (default 20)
# seconds, starting from the committed seeds (seeds/<target>/) and the corpus kept from earlier
# runs (corpus/<target>/, not committed). Fails if any target finds a crash, a panic, a timeout,
# an allocation over 512 MiB or an RSS over 2 GiB; the input is left in artifacts/<target>/.
#
#   bash tests/fuzz/run.sh                      # every target, 20 s each
#   FUZZ_SECONDS=600 bash tests/fuzz/run.sh msgpack config
#   FUZZ_RUNS=10000000 FUZZ_SECONDS=36000 FUZZ_SANITIZER=none bash tests/fuzz/run.sh   # the long run
#
# FUZZ_MAX_LEN (8192) caps the input size. FUZZ_RUNS stops a target after that many executions
# (whichever of it and FUZZ_SECONDS comes first). FUZZ_SANITIZER (address by default) is passed
# to cargo fuzz as --sanitizer: `none` runs several times faster, for the long run, and still
# catches panics, overflows, timeouts and the allocation limit.
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`, done by .ci/install-deps.sh). On the
# stable toolchain, RUSTC_BOOTSTRAP=1 unlocks the -Zsanitizer flags cargo-fuzz passes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FUZZ_DIR="$ROOT/tests/fuzz"
SECONDS_EACH="${FUZZ_SECONDS:-20}"
SANITIZER="${FUZZ_SANITIZER:-address}"
MAX_LEN="${FUZZ_MAX_LEN:-8192}"
RUNS_ARGS=()
[ -n "${FUZZ_RUNS:-}" ] && RUNS_ARGS=("-runs=$FUZZ_RUNS")
export RUSTC_BOOTSTRAP=1
cd "$ROOT"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: cargo-fuzz is not installed (cargo install cargo-fuzz --locked)" >&2
  exit 1
fi

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list --fuzz-dir "$FUZZ_DIR")
fi

start=$(date +%s)
echo "fuzz: building ${#targets[@]} targets"
cargo fuzz build --fuzz-dir "$FUZZ_DIR" --sanitizer "$SANITIZER"
echo "fuzz: built in $(( $(date +%s) - start )) s"

failed=()
summary=()
for t in "${targets[@]}"; do
  mkdir -p "$FUZZ_DIR/corpus/$t" "$FUZZ_DIR/artifacts/$t"
  seeds=()
  [ -d "$FUZZ_DIR/seeds/$t" ] && seeds=("$FUZZ_DIR/seeds/$t")
  log="$FUZZ_DIR/artifacts/$t/last-run.log"
  echo "fuzz: $t for ${SECONDS_EACH} s"
  rc=0
  cargo fuzz run --fuzz-dir "$FUZZ_DIR" --sanitizer "$SANITIZER" "$t" "$FUZZ_DIR/corpus/$t" \
    "${seeds[@]}" -- "${RUNS_ARGS[@]}" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 \
    -max_len="$MAX_LEN" -print_final_stats=1 >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  if [ "$rc" -ne 0 ]; then
    failed+=("$t")
    summary+=("$(printf '%-18s FAILED (exit %s) after %s execs' "$t" "$rc" "${execs:-?}")")
    echo "fuzz: $t FAILED (exit $rc); log: $log" >&2
    grep -E -A3 '^==[0-9]+== ERROR|panicked at' "$log" | head -20 >&2 || true
    grep -E '^ +#[0-9]+ .* in <?logferry' "$log" | head -15 >&2 || true
    grep -E 'Test unit written to|^Base64:' "$log" >&2 || true
  else
    summary+=("$(printf '%-18s ok  %10s execs  %7s exec/s  cov %s' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}")")
  fi
done

echo "fuzz: summary ($(( $(date +%s) - start )) s in all)"
printf '  %s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz: crashes found in: ${failed[*]} (inputs in tests/fuzz/artifacts/<target>/)" >&2
  exit 1
fi
