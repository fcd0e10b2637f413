#!/usr/bin/env bash
# pushduty against gitui and the git command line on the 100k-commit benchmark repository:
# first frame, git pane filled, peak RSS, idle CPU with every pane polling a stand-in, key to
# frame while every service hangs, `status --json` against git. Prints one table.
#   benches/vs-gitui.sh [BIG_REPO_DIR]        (RUNS=5 IDLE=60 KEYS=60 NO_BUILD=1 NO_GITUI=1)
# Builds the repository if missing (../shared/bench/make-big-repo.sh beside this checkout),
# the release binary, and installs gitui with cargo when it is not on PATH.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-/tmp/bigrepo}
[ -d "$dir/work/.git" ] || bash "$here/../shared/bench/make-big-repo.sh" "$dir"
[ -n "${NO_BUILD:-}" ] || (cd "$here" && cargo build --release --quiet --bin pushduty)
gitui=
if [ -z "${NO_GITUI:-}" ]; then
  if ! command -v gitui >/dev/null; then
    # Its build directory is thrown away: only the installed binary is kept.
    target=$(mktemp -d)
    CARGO_TARGET_DIR=$target nice cargo install --locked gitui
    rm -rf "$target"
  fi
  gitui=$(command -v gitui || echo "$HOME/.cargo/bin/gitui")
fi
python3 "$here/benches/vs_gitui.py" "$here/target/release/pushduty" "$gitui" "$dir/work"
