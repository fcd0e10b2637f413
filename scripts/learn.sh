#!/usr/bin/env bash
# Builds pushduty and opens the bundled AMO push runbook read-only: no config, no network.
# Installs only what building needs (scripts/deps.sh build); the tests' servers are
# scripts/test.sh's business.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
cargo run --release --locked --quiet -- learn "$@"
