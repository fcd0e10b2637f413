#!/usr/bin/env bash
# Starts a real Prometheus (Debian's package) on 127.0.0.1:PORT, for the metrics client tests,
# with history from SEEDFILE written into its TSDB before it starts.
#
#   scripts/services/prometheus.sh PORT WORKDIR SEEDFILE
#
# SEEDFILE: one `NAME TIMESTAMP VALUE` a line; NAME an OpenMetrics series
# (amo_responses{code="500"}), TIMESTAMP unix seconds, VALUE a number or `null` (no sample).
# Prints the server's PID on stdout once it answers; all else goes to stderr. Stop: kill PID.
set -euo pipefail
port="${1:?usage: prometheus.sh PORT WORKDIR SEEDFILE}"
work="${2:?usage: prometheus.sh PORT WORKDIR SEEDFILE}"
seed="${3:?usage: prometheus.sh PORT WORKDIR SEEDFILE}"
. "$(dirname "$0")/common.sh"
need_packages prometheus curl

rm -rf "$work/data"
mkdir -p "$work/data"
# Scrapes nothing: the seeded series are the only ones, so a query matches exactly what a test
# wrote.
printf 'global:\n  evaluation_interval: 1m\n' >"$work/prometheus.yml"

# OpenMetrics wants each family declared (gauge: values as they are) and the file closed with
# `# EOF`; a null is simply no sample.
awk -v seed="$seed" '
  NF == 0 { next }
  NF != 3 { printf "%s:%d: expected NAME TIMESTAMP VALUE, got: %s\n", seed, NR, $0 > "/dev/stderr"; bad = 1; exit 1 }
  {
    family = $1; sub(/\{.*/, "", family)
    if (!(family in declared)) { declared[family] = 1; order[++n] = family }
    if ($3 != "null") lines[family] = lines[family] $1 " " $3 " " $2 "\n"
  }
  END {
    if (bad) exit 1
    for (i = 1; i <= n; i++) { printf "# TYPE %s gauge\n%s", order[i], lines[order[i]] }
    print "# EOF"
  }' "$seed" >"$work/seed.om"

promtool tsdb create-blocks-from openmetrics "$work/seed.om" "$work/data" >"$work/backfill.log" 2>&1 \
  || { say "backfill failed:"; tail -20 "$work/backfill.log" >&2; exit 1; }

# Retention said explicitly: the tests read a week back, and the backfilled blocks must outlive
# the first compaction.
nohup prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/data" \
  --storage.tsdb.retention.time=15d --web.listen-address="127.0.0.1:$port" \
  >"$work/server.log" 2>&1 </dev/null &
pid=$!

# Usually ready in well under a second.
ready_or_fail "$pid" "$work/server.log" http_ok "http://127.0.0.1:$port/-/ready"
