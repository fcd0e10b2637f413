#!/usr/bin/env bash
# Everything the test suite needs, then the suite. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cargo test --workspace --all-targets --locked "$@"
