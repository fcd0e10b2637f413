#!/usr/bin/env bash
# Builds pushduty and opens the bundled AMO push runbook read-only: no config, no network.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cargo run --release --locked --quiet -- learn "$@"
