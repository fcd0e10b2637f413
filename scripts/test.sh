#!/usr/bin/env bash
# Everything the test suite needs, then the suite. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cargo test --workspace --all-targets --locked "$@"
# The model's doc tests: among them, that a step kind missing a part does not compile.
cargo test -p pushduty-core --doc --locked "$@"
