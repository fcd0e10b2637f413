#!/usr/bin/env bash
# Starts a real Matrix homeserver (Synapse, from PyPI, SQLite) on 127.0.0.1:PORT for the chat
# tests, with one user and one room made for them.
#
#   scripts/services/synapse.sh PORT WORKDIR
#
# Prints "PID ACCESS_TOKEN ROOM_ID" on stdout once the room exists; all else goes to stderr.
# Stop: kill PID.
#
# Synapse lives in a virtualenv kept between runs (installing it takes some 40 s), at
# $PUSHDUTY_SYNAPSE_VENV, else ~/.cache/pushduty/synapse-venv: CI caches that folder.
# `scripts/services/synapse.sh --install` only makes the virtualenv.
#
# The homeserver listens on loopback only, federates with nobody, and lets users be made
# with a shared secret (the test's own, below), as a real one's admin would.
set -euo pipefail
. "$(dirname "$0")/common.sh"
venv="${PUSHDUTY_SYNAPSE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/pushduty/synapse-venv}"
secret=pushduty-test-registration

install() {
  [ -x "$venv/bin/register_new_matrix_user" ] && return 0
  need_packages python3-venv
  mkdir -p "$(dirname "$venv")"
  # Tests start several homeservers at once: one installs, the others wait for it.
  exec 9>"$venv.lock"
  flock 9
  if [ ! -x "$venv/bin/register_new_matrix_user" ]; then
    say "installing matrix-synapse into $venv (once; about 40 s)"
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q matrix-synapse >&2
  fi
  flock -u 9
}

if [ "${1:-}" = --install ]; then
  install
  exit 0
fi
port="${1:?usage: synapse.sh PORT WORKDIR (or --install)}"
work="${2:?usage: synapse.sh PORT WORKDIR (or --install)}"
install
need_packages curl
mkdir -p "$work"
cd "$work"
log="$work/server.log"

if [ ! -f hs.yaml ]; then
  "$venv/bin/python" -m synapse.app.homeserver --server-name localhost --config-path hs.yaml \
    --data-directory "$work" --generate-config --report-stats=no >/dev/null 2>&1
  # Loopback only, our port, registration by shared secret, no key servers, and rate limits
  # far above what a test does (its posts come in bursts).
  "$venv/bin/python" - hs.yaml "$port" "$secret" <<'PY'
import sys
path, port, secret = sys.argv[1:]
text = open(path).read()
text = text.replace("port: 8008", f"port: {port}")
text = text.replace("bind_addresses: ['::1', '127.0.0.1']", "bind_addresses: ['127.0.0.1']")
text += f"""
registration_shared_secret: '{secret}'
suppress_key_server_warning: true
trusted_key_servers: []
rc_message:
  per_second: 1000
  burst_count: 1000
rc_login:
  address: {{per_second: 1000, burst_count: 1000}}
  account: {{per_second: 1000, burst_count: 1000}}
"""
open(path, "w").write(text)
PY
fi

nohup "$venv/bin/python" -m synapse.app.homeserver -c hs.yaml >"$log" 2>&1 </dev/null &
pid=$!
base="http://127.0.0.1:$port"
answers() { http_ok "$base/_matrix/client/versions"; }
# ready_or_fail prints the PID and exits: run it in a subshell and keep the PID ourselves.
(ready_or_fail "$pid" "$log" answers) >/dev/null

json_field() { "$venv/bin/python" -c "import json, sys; print(json.load(sys.stdin)['$1'])"; }
"$venv/bin/register_new_matrix_user" -u hero -p heropass --no-admin -k "$secret" "$base" >/dev/null 2>&1 || true
token=$(curl -fsS -X POST "$base/_matrix/client/v3/login" \
  -d '{"type":"m.login.password","identifier":{"type":"m.id.user","user":"hero"},"password":"heropass"}' |
  json_field access_token)
room=$(curl -fsS -X POST -H "Authorization: Bearer $token" "$base/_matrix/client/v3/createRoom" \
  -d '{"name":"push-channel"}' | json_field room_id)
say "ready on $base (workdir $work)"
echo "$pid $token $room"
