#!/usr/bin/env bash
# Times `check` and `plan` on the bundled runbook (release build, hyperfine). Not a test:
# figures go in the issue notes. Needs: apt-get install hyperfine.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/pushduty
cfg=$(mktemp); trap 'rm -f "$cfg"' EXIT
export PUSHDUTY_CONFIG=$cfg
hyperfine -N --warmup 5 --runs 200 "$bin check" "$bin --now 2015-09-08 plan --json" "$bin render"
