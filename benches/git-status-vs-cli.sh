#!/usr/bin/env bash
# repo_state (release build of examples/repo_state.rs) against the git CLI doing the same work:
#   git describe --tags --abbrev=0; git rev-list --count TAG..HEAD; git status --porcelain
#   benches/git-status-vs-cli.sh [BIG_REPO_DIR] [COMMITS]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-/tmp/big}
n=${2:-100000}
[ -d "$dir/work/.git" ] || bash /work/shared/bench/make-big-repo.sh "$dir" "$n"
(cd "$here" && cargo build --release --example repo_state)
bin="$here/target/release/examples/repo_state"
work="$dir/work"
"$bin" "$work" upstream master | head -12
hyperfine --warmup 3 --runs 30 -N \
  --command-name "pushduty repo_state" "$bin $work upstream master" \
  --command-name "git describe + rev-list --count + status" \
  "sh -c 'cd $work && t=\$(git describe --tags --abbrev=0) && git rev-list --count \$t..HEAD && git status --porcelain'"
