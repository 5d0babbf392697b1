#!/usr/bin/env bash
# Runs every logferry test: unit tests of each crate and the end-to-end tests that start the built
# binary and drive it with real clients (Python fluent-logger, Docker's own fluentd log driver).
# Installs those clients first (Debian golang-go + golang-github-docker-docker-dev, PyPI
# fluent-logger); idempotent and quick once installed. Extra arguments go to `cargo test`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/.ci/install-deps.sh"
cd "$root"
cargo test --workspace --locked --no-fail-fast "$@"
