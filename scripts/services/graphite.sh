#!/usr/bin/env bash
# Starts a real Graphite (Debian's graphite-web on Django's server) on 127.0.0.1:PORT, for the
# metrics client tests. The whisper files are built from SEEDFILE first.
#
#   scripts/services/graphite.sh PORT WORKDIR SEEDFILE
#
# SEEDFILE: one `NAME TIMESTAMP VALUE` a line; NAME dotted (amo.responses.500), TIMESTAMP unix
# seconds, VALUE a number or `null` (the series exists but has no point there).
# Prints the server's PID on stdout once it answers; all else goes to stderr. Stop: kill PID.
set -euo pipefail
port="${1:?usage: graphite.sh PORT WORKDIR SEEDFILE}"
work="${2:?usage: graphite.sh PORT WORKDIR SEEDFILE}"
seed="${3:?usage: graphite.sh PORT WORKDIR SEEDFILE}"
# Debian's django and whisper live under /usr/lib/python3; a python3 of pyenv or a venv earlier
# on PATH does not see them.
py=/usr/bin/python3
. "$(dirname "$0")/common.sh"
need_packages graphite-web python3-whisper curl

mkdir -p "$work/whisper" "$work/log"
# A settings module of our own, picked by GRAPHITE_SETTINGS_MODULE: /etc/graphite stays as is.
cat >"$work/pushduty_graphite.py" <<CONF
SECRET_KEY = 'pushduty tests, not a secret'
TIME_ZONE = 'UTC'
STORAGE_DIR = '$work'
WHISPER_DIR = '$work/whisper'
INDEX_FILE = '$work/index'
LOG_DIR = '$work/log'
# No carbon daemon: the whisper files are all there is.
CARBONLINK_HOSTS = []
DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3', 'NAME': '$work/graphite.db'}}
CONF
export PYTHONPATH="$work" GRAPHITE_SETTINGS_MODULE=pushduty_graphite DJANGO_SETTINGS_MODULE=graphite.settings

# One archive of minute points over 22 days (a back-test reads a week before pushes up to two
# weeks old). Aggregation sum and xFilesFactor 0 as production keeps counters: a function
# that consolidates (summarize, maxDataPoints) sums, and a bucket counts however few points
# it has.
"$py" - "$work/whisper" "$seed" <<'PY'
import os, sys, whisper
root, seed = sys.argv[1], sys.argv[2]
series = {}
with open(seed) as f:
    for n, line in enumerate(f, 1):
        if not line.strip():
            continue
        try:
            name, ts, value = line.split()
            point = None if value == 'null' else (int(ts), float(value))
        except ValueError:
            sys.exit(f'{seed}:{n}: expected NAME TIMESTAMP VALUE, got {line.strip()!r}')
        series.setdefault(name, []).append(point)
for name, points in series.items():
    path = os.path.join(root, *name.split('.')) + '.wsp'
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.exists(path):
        os.remove(path)
    whisper.create(path, [(60, 22 * 24 * 60)], xFilesFactor=0, aggregationMethod='sum')
    # A null writes nothing, so a series of nulls only exists and answers nulls.
    known = [p for p in points if p is not None]
    if known:
        whisper.update_many(path, known)
PY

# The render API works without a database, /metrics/find does not.
"$py" -m django migrate --run-syncdb -v0 >"$work/log/migrate.log" 2>&1 \
  || { say "django migrate failed:"; tail -20 "$work/log/migrate.log" >&2; exit 1; }

nohup "$py" -m django runserver --noreload "127.0.0.1:$port" >"$work/log/server.log" 2>&1 </dev/null &
pid=$!

# Django usually answers within a second.
ready_or_fail "$pid" "$work/log/server.log" http_ok "http://127.0.0.1:$port/metrics/find?query=*"
