#!/usr/bin/env bash
# Screenshots of the real TUI: runs pushduty in tmux at 120x40 with a fixed date, captures
# the screen with its colours, and renders screenshots/*.png (the blocker rehearsal's at
# today's date: a rehearsal is always this week's push).
# Needs tmux, python3 with Pillow, and the DejaVu fonts.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --quiet --bin pushduty --example jenkins_standin
bin="$root/target/debug/pushduty"
standin="$root/target/debug/examples/jenkins_standin"
work=$(mktemp -d)
sock="pushduty-shots-$$"
pids=()
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
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

# Jenkins stand-ins (the test suite's, as a program): one deploy that takes a while, one that
# fails.
jenkins() { # name, result, seconds: starts one, sets $jenkins_url
  "$standin" "$2" "$3" >"$work/$1.url" &
  pids+=($!)
  local end=$((SECONDS + 10))
  until [ -s "$work/$1.url" ]; do
    ((SECONDS < end)) || { echo "screenshots: the Jenkins stand-in did not start" >&2; exit 1; }
    sleep 0.05
  done
  jenkins_url=$(head -1 "$work/$1.url")
}
jenkins slow SUCCESS 24
set_jenkins="--set services.stage-deploy.url=$jenkins_url --set services.stage-deploy.user=andym"

tm() { tmux -L "$sock" -f /dev/null "$@"; }

state="$work/state"
now=2015-09-08 # the tag day; the health shots are taken on the push day
start() { # window, args...
  local win=$1
  shift
  tm new-session -d -s "$win" -x 120 -y 40 \
    "cd '$root' && env -i PATH=\"\$PATH\" HOME='$work' TERM=xterm-256color PUSHDUTY_JENKINS_TOKEN=t0k PUSHDUTY_CONFIG='$work/config.toml' PUSHDUTY_STATE_DIR='$state' '$bin' --now $now $set_repo $set_jenkins $*; sleep 60"
}

do_step() { # step, args...: one step outside the TUI, in the same session
  env -i PATH="$PATH" HOME="$work" PUSHDUTY_JENKINS_TOKEN=t0k PUSHDUTY_CONFIG="$work/config.toml" \
    PUSHDUTY_STATE_DIR="$state" "$bin" --now "$now" $set_repo $set_jenkins do "$@" --yes >/dev/null 2>&1
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

press() { # window, text, keys...: sends the keys, then waits for the text
  local win=$1 text=$2
  shift 2
  tm send-keys -t "$win" "$@"
  wait_for "$win" "$text"
}

shoot() { # window, name
  tm capture-pane -e -p -t "$1" >"$work/$2.ansi"
  python3 scripts/ansi2png.py "$work/$2.ansi" "screenshots/$2.png" 120 40
  echo "screenshots/$2.png"
}

# Learn mode: the explanation of the tag step.
start learn learn
wait_for learn "READ-ONLY"
press learn "What \`tag-master\` does" j j j j Enter
shoot learn learn
# The overview (i): the runbook's summary, every section with its days and its doc.
tm send-keys -t learn Escape
press learn "Who pushes · Tue 2015-09-08" i
shoot learn overview
# A step done by hand (h): exactly what to do, here the whole email and its mailto: link
# (learn mode shows it too; only run mode ticks it off).
tm send-keys -t learn Escape
press learn "Do announce by hand" G k h
shoot learn by-hand

# Run mode part-way through: the hero ticked off with a note, the repo fetched, master
# chosen (the cherry-pick steps no longer apply), master tagged, and the push step selected.
# After each step the cursor moves on to the next one by itself.
start run run
wait_for run "Checklist 0/24"
wait_for run "last tag 2015.09.03"
press run "Run check-rotation?" Enter
press run "note (optional)" y
tm send-keys -t run -l "pushing this week as planned"
press run "Checklist 1/24" Enter
press run "Run fetch?" Enter
press run "done: fetch" y
press run "Run strategy?" Enter
press run "choose \`strategy\`" y
press run "Checklist 3/22" 1 Enter
# The git pane in full (Tab): the commits shipping since the last release.
press run "5 commits since" Tab
shoot run git-pane
# Tab goes on through the other panes (jenkins, sentry, metrics, blockers) and the log, then
# back to the checklist.
tm send-keys -t run Tab Tab Tab Tab Tab Tab
press run "Run tag-master?" Enter
press run "done: tag-master" y
press run "Run push-tag?" Enter
shoot run run

# The stage deploy: the Jenkins pane follows the build while its console streams into the log.
press run "done: push-tag" y
press run "Run deploy-stage?" j j j Enter
press run "Building the images" y
wait_for run "2015.09.10 building"
shoot run jenkins-building

# A deploy that fails: its console's last lines say why, and the step can be retried.
jenkins failing FAILURE 3
set_jenkins="--set services.stage-deploy.url=$jenkins_url --set services.stage-deploy.user=andym"
state="$work/state-failed"
for s in check-rotation fetch "strategy --input strategy=master" tag-master push-tag; do
  do_step $s
done
start failed run
wait_for failed "Checklist 5/22"
# Resumed: the cursor is on the first step not done (compare); deploy-stage is three below.
press failed "Run deploy-stage?" j j j Enter
press failed "failed: deploy-stage" y
wait_for failed "FAILURE"
shoot failed deploy-failed


# After the production push: a real Graphite (the repo's own script) with a week of history
# around the push; the metrics pane draws each series with the push marked, and the gate
# passes on a daily rise last week had too, and fails on a 5xx spike.
graphite() { # name, spike (0/1): starts one, sets $graphite_url
  local push=$1 spike=$2 port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  python3 - "$push" "$spike" >"$work/seed-$spike.txt" <<'PY'
import math, sys, time
push, spike = int(sys.argv[1]), sys.argv[2] == "1"
now = int(time.time())
for base in (push - 7 * 86400, push):
    for t in range(base - 70 * 60, min(base + 45 * 60, now), 60):
        ok = 1000 + 2000 * math.sin((t - push) / 86400 * 2 * math.pi) + (t // 60 * 7919) % 13
        err = ok / (10 if spike and t >= push else 100)
        print(f"stats.addons.response.200 {t} {ok:.1f}")
        print(f"stats.addons.response.500 {t} {err:.2f}")
PY
  pids+=("$(scripts/services/graphite.sh "$port" "$work/graphite-$spike" "$work/seed-$spike.txt")")
  graphite_url="http://127.0.0.1:$port"
}
push_at=$(( $(date +%s) / 60 * 60 - 40 * 60 ))
push_iso=$(date -u -d "@$push_at" +%Y-%m-%dT%H:%M:%SZ)
now=2015-09-10
for spike in 0 1; do
  graphite "$push_at" "$spike"
  set_jenkins="--set services.graphite.url=$graphite_url"
  state="$work/state-health-$spike"
  do_step qa-approval --input approved_by=Krupa
  do_step production-push --input approved_by=Jason --input "approved_at=$push_iso"
  start "health$spike" run
  wait_for "health$spike" "Checklist 2/24"
  wait_for "health$spike" "metrics ("
  press "health$spike" "Run watch-graphite?" G k k k k Enter
  tm send-keys -t "health$spike" y
  if [ "$spike" = 0 ]; then
    wait_for "health$spike" "done: watch-graphite"
    shoot "health$spike" gate-passed
  else
    wait_for "health$spike" "failed: watch-graphite"
    shoot "health$spike" gate-failed
  fi
done

# The blocker rehearsal, followed from the screen: the fix landed upstream after the tag and
# the git pane shows it (Tab: in full); recorded in the blockers step, the status line says
# to reopen the choice and cherry-pick it.
tm new-session -d -s blocker -x 120 -y 40 \
  "cd '$root' && env -i PATH=\"\$PATH\" HOME='$work' TERM=xterm-256color '$bin' rehearse --scenario blocker --dir '$work/rehearsal'; sleep 60"
wait_for blocker "next: check-rotation"
step() { # step, keys for each prompt...: Enter, y, the answers, until it is done
  local id=$1
  shift
  press blocker "Run $id?" Enter
  tm send-keys -t blocker y
  for keys in "$@"; do
    wait_for blocker "$id ("
    # shellcheck disable=SC2086 # the keys are words
    tm send-keys -t blocker $keys
  done
  wait_for blocker "done: $id"
}
step check-rotation Enter
step fetch
step strategy Enter
for s in tag-master push-tag compare compare-tell notes-compare deploy-stage verify-stage verify-stage-tell; do step "$s"; done
wait_for blocker "upstream/master has"
step blockers "Space Enter" Enter
wait_for blocker "next: reopen strategy (O)"
press blocker "1 commit not in" Tab
shoot blocker blocker-path

# The releases rehearsal (the 2026 runbook): the previous hero's draft of addons-server is
# found and published, and the one-off command its body lists is now a shell item of this push.
tm new-session -d -s releases -x 120 -y 40 \
  "cd '$root' && env -i PATH=\"\$PATH\" HOME='$work' TERM=xterm-256color '$bin' --operator andym rehearse --scenario releases --dir '$work/releases'; sleep 60"
wait_for releases "next: check-rotation"
press releases "Run check-rotation?" Enter
press releases "note (optional)" y
press releases "done: check-rotation" Enter
press releases "Run strategy-server?" Enter
press releases "choose \`strategy_server\`" y
press releases "done: strategy-server" Enter
for s in draft-server publish-server publish-server-tell; do
  press releases "Run $s?" Enter
  press releases "done: $s" y
done
wait_for releases "next: item-1"
shoot releases rehearse-releases

# What the team's channel read in a rehearsal: the posts at the tag, on stage, at the
# production push and at the end, and the topic naming the next hero (the Matrix stand-in's
# room, printed when the rehearsal ends).
tm new-session -d -s channel -x 120 -y 40 \
  "cd '$root' && env -i PATH=\"\$PATH\" HOME='$work' TERM=xterm-256color '$bin' --operator andym rehearse --auto | grep -v '^The sandbox .* was removed'; sleep 120"
end=$((SECONDS + 300))
until tm capture-pane -p -t channel | grep -qF -- "topic: next push"; do
  if ((SECONDS > end)); then
    echo "screenshots: the rehearsal's channel never appeared" >&2
    tm capture-pane -p -t channel >&2
    exit 1
  fi
  sleep 0.5
done
sleep 1
shoot channel rehearse-channel

# Following a push from the team's push log, on another operator's machine: the log (a branch
# of a bare repository here), the driver's first steps done from the command line, then the
# follower's screen reading it every two seconds, the tag push's details selected.
demo_git init -q --bare "$work/pushes.git"
for who in andym kumar; do
  mkdir -p "$work/$who"
  printf 'operator = "%s"\nnotify = "off"\n\n[log]\nrepo = "%s"\n' "$who" "$work/pushes.git" >"$work/$who/config.toml"
  printf '[user]\n\tname = %s\n\temail = %s@example.com\n' "$who" "$who" >"$work/$who/.gitconfig"
done
as() { # operator, args...: pushduty as that operator on the tag day, in their own home
  local who=$1
  shift
  env -i PATH="$PATH" HOME="$work/$who" GIT_CONFIG_NOSYSTEM=1 PUSHDUTY_CONFIG="$work/$who/config.toml" \
    PUSHDUTY_STATE_DIR="$work/$who/state" "$bin" --now 2015-09-08 $set_repo "$@" >/dev/null 2>&1
}
as andym log init
for s in check-rotation fetch "strategy --input strategy=master" tag-master push-tag; do
  # shellcheck disable=SC2086 # the step and its inputs are words
  as andym do $s --yes
done
tm new-session -d -s follow -x 120 -y 40 \
  "cd '$root' && env -i PATH=\"\$PATH\" HOME='$work/kumar' TERM=xterm-256color GIT_CONFIG_NOSYSTEM=1 PUSHDUTY_CONFIG='$work/kumar/config.toml' PUSHDUTY_STATE_DIR='$work/kumar/state' '$bin' --now 2015-09-08 $set_repo follow --interval 2; sleep 60"
wait_for follow "andym on "
wait_for follow "Checklist 5/22"
press follow "push-tag · " j j j j j j
shoot follow follow

# kumar takes the seat from the follow screen: `T` asks why, before anything is written.
press follow "Take over the push from andym on" T
tm send-keys -t follow -l "andym is on a plane until Friday"
wait_for follow "until Friday"
shoot follow follow-takeover
