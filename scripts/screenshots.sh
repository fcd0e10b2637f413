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

tm() { tmux -L "$sock" -f /dev/null "$@"; }

start() { # window, args...
  local win=$1
  shift
  tm new-session -d -s "$win" -x 120 -y 40 \
    "cd '$root' && env -i PATH=\"\$PATH\" HOME='$work' TERM=xterm-256color PUSHDUTY_CONFIG='$work/config.toml' PUSHDUTY_STATE_DIR='$work/state' '$bin' --now 2015-09-08 $*; sleep 60"
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

# Run mode part-way through: a step ticked off with a note, a choice made (two steps no
# longer apply), a step that failed because its kind is not in this build yet.
start run run
wait_for run "Checklist 0/17"
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
wait_for run "failed: fetch"
tm send-keys -t run j Enter
wait_for run "Run strategy?"
tm send-keys -t run y
wait_for run "choose \`strategy\`"
tm send-keys -t run 1 Enter
wait_for run "Checklist 2/15"
tm send-keys -t run k
wait_for run "Status: failed"
shoot run run

# Learn mode: the explanation of the tag step.
start learn learn
wait_for learn "READ-ONLY"
tm send-keys -t learn j j j j Enter
wait_for learn "What \`tag-master\` does"
shoot learn learn
