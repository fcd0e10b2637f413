#!/usr/bin/env bash
# repo_state (release build of examples/repo_state.rs) against the git CLI doing the same work,
# on the shared benchmark repo (../shared/bench/make-big-repo.sh beside this checkout):
#   git describe --tags --abbrev=0; git rev-list --count TAG..HEAD; git status --porcelain
#   benches/git-status-vs-cli.sh [BIG_REPO_DIR] [COMMITS]
# Three process-level figures (hyperfine) and one in-process figure:
# - "startup + libgit2 init only" runs the example on a directory that is not a repository: process start plus libgit2's one-time
#   global init (no TLS in it since the network went to the git CLI).
# - the in-process mean is what each refresh costs inside the long-running TUI.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-/tmp/big}
n=${2:-100000}
[ -d "$dir/work/.git" ] || bash "$here/../shared/bench/make-big-repo.sh" "$dir" "$n"
(cd "$here" && cargo build --release --example repo_state --bin pushduty)
bin="$here/target/release/examples/repo_state"
work="$dir/work"
cfg=$(mktemp)
trap 'rm -f "$cfg"' EXIT
printf '[repos.olympia]\npath = "%s"\n' "$work" >"$cfg"
pushduty="env PUSHDUTY_CONFIG=$cfg $here/target/release/pushduty"
$pushduty status --json | grep -E '"(last_tag|commits_since_tag|dirty|ahead|behind)"'
hyperfine --warmup 3 --runs 40 -N \
  --command-name "pushduty status --json" "$pushduty status --json" \
  --command-name "pushduty repo_state (process)" "$bin $work upstream master" \
  --command-name "git describe + rev-list --count + status" \
  "sh -c 'cd $work && t=\$(git describe --tags --abbrev=0) && git rev-list --count \$t..HEAD && git status --porcelain'" \
  --command-name "pushduty startup + libgit2 init only (non-repo path)" "$bin $dir upstream master"
REPEAT=50 "$bin" "$work" upstream master >/dev/null
