#!/usr/bin/env bash
# Screenshots of the real TUI: runs pushduty in tmux at 120x40 with a fixed date, captures
# the screen with its colours, and renders screenshots/run.png and screenshots/learn.png.
# Needs tmux, python3 with Pillow, and the DejaVu fonts.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --quiet
bin="$root/target/debug/pushduty"
work=$(mktemp -d)
sock="pushduty-shots-$$"
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$work"' EXIT
printf 'operator = "andym"\n' >"$work/config.toml"
mkdir -p screenshots

# A small olympia: last week's release tag, then the work that ships this week.
demo_git() { GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null git "$@"; }
demo_commit() { # author, subject
  GIT_AUTHOR_NAME=$1 GIT_AUTHOR_EMAIL="$1@example.com" GIT_COMMITTER_NAME=$1 \
    GIT_COMMITTER_EMAIL="$1@example.com" demo_git -C "$work/olympia" commit -q --allow-empty -m "$2"
}
demo_git init -q --bare -b master "$work/upstream.git"
demo_git init -q -b master "$work/olympia"
demo_git -C "$work/olympia" remote add upstream "$work/upstream.git"
demo_commit kumar "Bump django to 1.8.4"
demo_git -C "$work/olympia" tag 2015.09.03
demo_commit magopian "Show the add-on's support email on the detail page (bug 1201034)"
demo_commit mstriemer "Validate uploads in a celery task (bug 1199782)"
demo_commit tofumatt "Fix the search suggestions for themes"
demo_commit nolski "Add a rating histogram to the reviews page"
demo_commit muffinresearch "Stop double-escaping add-on names in emails (bug 1202104)"
demo_git -C "$work/olympia" push -q upstream master 2015.09.03
demo_git -C "$work/olympia" branch -q -u upstream/master
set_repo="--set repos.olympia.path=$work/olympia"

tm() { tmux -L "$sock" -f /dev/null "$@"; }

start() { # window, args...
  local win=$1
  shift
  tm new-session -d -s "$win" -x 120 -y 40 \
    "cd '$root' && env -i PATH=\"\$PATH\" HOME='$work' TERM=xterm-256color PUSHDUTY_CONFIG='$work/config.toml' PUSHDUTY_STATE_DIR='$work/state' '$bin' --now 2015-09-08 $set_repo $*; sleep 60"
}

wait_for() { # window, text: poll the screen, give up after 15 s
  local end=$((SECONDS + 15))
  until tm capture-pane -p -t "$1" | grep -qF -- "$2"; do
    if ((SECONDS > end)); then
      echo "screenshots: '$2' never appeared in $1" >&2
      tm capture-pane -p -t "$1" >&2
      exit 1
    fi
    sleep 0.05
  done
}

shoot() { # window, name
  tm capture-pane -e -p -t "$1" >"$work/$2.ansi"
  python3 scripts/ansi2png.py "$work/$2.ansi" "screenshots/$2.png" 120 40
  echo "screenshots/$2.png"
}

# Run mode part-way through: the hero ticked off with a note, the repo fetched, master
# chosen (the cherry-pick steps no longer apply), master tagged, and the push step selected.
start run run
wait_for run "Checklist 0/17"
wait_for run "last tag 2015.09.03"
tm send-keys -t run Enter
wait_for run "Run check-rotation?"
tm send-keys -t run y
wait_for run "note (optional)"
tm send-keys -t run -l "pushing this week as planned"
tm send-keys -t run Enter
wait_for run "Checklist 1/17"
tm send-keys -t run j Enter
wait_for run "Run fetch?"
tm send-keys -t run y
wait_for run "done: fetch"
tm send-keys -t run j Enter
wait_for run "Run strategy?"
tm send-keys -t run y
wait_for run "choose \`strategy\`"
tm send-keys -t run 1 Enter
wait_for run "Checklist 3/15"
# The git pane in full (Tab): the commits shipping since the last release.
tm send-keys -t run Tab
wait_for run "5 commits since"
shoot run git-pane
tm send-keys -t run Tab
tm send-keys -t run j j Enter
wait_for run "Run tag-master?"
tm send-keys -t run y
wait_for run "done: tag-master"
tm send-keys -t run j j Enter
wait_for run "Run push-tag?"
shoot run run

# Learn mode: the explanation of the tag step.
start learn learn
wait_for learn "READ-ONLY"
tm send-keys -t learn j j j j Enter
wait_for learn "What \`tag-master\` does"
shoot learn learn
