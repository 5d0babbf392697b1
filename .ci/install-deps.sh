#!/usr/bin/env bash
# Installs what logferry's end-to-end tests need to drive REAL third-party
# clients, and builds the Docker fluentd log-driver client:
#   * Debian: golang-go, golang-github-docker-docker-dev (Docker 20.10 source,
#     its deps come along), golang-github-fluent-fluent-logger-golang-dev (not a
#     dependency of the docker package, but imported by its fluentd driver),
#     docker-compose (1.29, for `docker-compose config` on docker/docker-compose.yml in .ci/run),
#     libssl-dev and pkg-config (the openssl
#     crate of the TLS test peers in tests/support/tls_peer.rs; the base image has both, which
#     matters because .ci/run's clippy step builds it before this script runs),
#     logrotate (tests/e2e_tail.rs rotates files under the tail input with Debian's logrotate),
#     util-linux (`setpriv`: tests/e2e_tail_startup.rs runs the daemon without the capability to
#     read any file when root);
#   * Debian: curl, bsdutils (util-linux `logger`) and hostname, the http and syslog clients
#     of tests/e2e_net_inputs.rs;
#   * PyPI (into the first python3 on PATH, or $PYTHON): fluent-logger, msgpack, requests
#     (tests/e2e_net_inputs.rs), moto[server] (moto_server and boto3, for the AWS outputs' tests);
#   * builds tests/clients/docker-driver -> target/e2e-clients/docker-driver in
#     GOPATH mode against /usr/share/gocode, with no network.
# Idempotent; quick when everything is already there. Run as root (or with
# sudo available). Works from any cwd.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT_DIR="$ROOT/target/e2e-clients"
PYTHON="${PYTHON:-python3}"

APT_PACKAGES=(
  golang-go
  golang-github-docker-docker-dev
  golang-github-fluent-fluent-logger-golang-dev
  docker-compose
  libssl-dev
  pkg-config
  curl
  bsdutils
  hostname
  logrotate
  util-linux
)
PIP_PINS=(
  "fluent-logger==0.11.1"
  "msgpack==1.2.4"
  "requests==2.34.2"
  # tests/plugin_reference.rs validates configs against `logferry plugins --json-schema`.
  "jsonschema==4.26.0"
  # moto_server: the AWS API server (CloudWatch Logs, Firehose into S3, Kinesis) of
  # tests/e2e_aws.rs; its boto3 reads the results back (tests/aws/moto_ops.py).
  "moto[server]==5.2.1"
)

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
  else
    echo "install-deps: must run as root (or with sudo)" >&2
    exit 1
  fi
fi

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then
    "${SUDO[@]}" apt-get update -qq
    apt_updated=1
  fi
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" >/dev/null
}

is_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

# --- 1. Debian packages -------------------------------------------------------
missing=()
for p in "${APT_PACKAGES[@]}"; do
  is_installed "$p" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: apt: already installed: ${APT_PACKAGES[*]}"
else
  apt_install "${missing[@]}"
  echo "install-deps: apt: installed: ${missing[*]}"
fi

# --- 2. PyPI packages ---------------------------------------------------------
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  apt_install python3 python3-pip
  echo "install-deps: apt: installed python3 python3-pip"
fi
pins_ok() {
  "$PYTHON" - "${PIP_PINS[@]}" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version, PackageNotFoundError
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    name = name.split("[")[0]  # extras ("moto[server]") are not part of the name
    try:
        if version(name) != want:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
EOF
}
if pins_ok; then
  echo "install-deps: pip: already installed: ${PIP_PINS[*]} ($PYTHON)"
else
  if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
    apt_install python3-pip
  fi
  pip_args=(install -q --disable-pip-version-check)
  # Debian's own python3 refuses system-wide pip installs (PEP 668).
  if "$PYTHON" -c 'import os, sys, sysconfig; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")) else 1)'; then
    pip_args+=(--break-system-packages)
  fi
  if [ "$(id -u)" -eq 0 ]; then
    pip_args+=(--root-user-action=ignore)
  fi
  "$PYTHON" -m pip "${pip_args[@]}" "${PIP_PINS[@]}"
  pins_ok || { echo "install-deps: pip: ${PIP_PINS[*]} not importable by $PYTHON" >&2; exit 1; }
  echo "install-deps: pip: installed: ${PIP_PINS[*]} ($PYTHON)"
fi

# --- 3. Build the Docker fluentd log-driver client (GOPATH mode, offline) ------
GO=/usr/bin/go # Debian's golang-go (1.19), not whatever else may be on PATH
mkdir -p "$OUT_DIR/gopath"
if [ -z "${GOCACHE:-}" ]; then
  if [ -n "${HOME:-}" ]; then
    export GOCACHE="$HOME/.cache/go-build"
  else
    export GOCACHE="$OUT_DIR/go-cache"
  fi
fi
(
  cd "$ROOT/tests/clients/docker-driver"
  env GO111MODULE=off GOPROXY=off GOFLAGS= GOWORK=off GOTOOLCHAIN=local \
    GOPATH="$OUT_DIR/gopath:/usr/share/gocode" \
    "$GO" build -o "$OUT_DIR/docker-driver" .
)
echo "install-deps: go: built $OUT_DIR/docker-driver ($("$GO" version | cut -d' ' -f3))"

# --- 4. s3s-fs: a real S3-protocol server that checks SigV4 (tests/e2e_s3.rs) ---
# 0.14.1 is the newest release that builds with Rust < 1.96. Installed into
# cargo's bin directory ($CARGO_HOME/bin, normally on PATH).
S3S_FS_VERSION=0.14.1
if command -v s3s-fs >/dev/null 2>&1 && [ "$(s3s-fs --version 2>/dev/null)" = "s3s-fs $S3S_FS_VERSION" ]; then
  echo "install-deps: cargo: already installed: s3s-fs $S3S_FS_VERSION"
else
  cargo install --quiet --locked --features binary --version "$S3S_FS_VERSION" s3s-fs
  echo "install-deps: cargo: installed: s3s-fs $S3S_FS_VERSION"
fi

# --- 5. cargo-fuzz: tests/fuzz/run.sh (fuzz step of .ci/run) ---------------------
# Runs on the stable toolchain with RUSTC_BOOTSTRAP=1 (set by run.sh).
CARGO_FUZZ_VERSION=0.13.2
if [ "$(cargo fuzz --version 2>/dev/null)" = "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  echo "install-deps: cargo: already installed: cargo-fuzz $CARGO_FUZZ_VERSION"
else
  cargo install --quiet --locked --version "$CARGO_FUZZ_VERSION" cargo-fuzz
  echo "install-deps: cargo: installed: cargo-fuzz $CARGO_FUZZ_VERSION"
fi
