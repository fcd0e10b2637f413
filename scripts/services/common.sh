# What the service start-up scripts share, sourced by each: `say` with the script's name,
# installing missing Debian packages, and waiting (bounded) for the server to answer.

say() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }

# Installs the packages that are missing (idempotent; sudo when not root).
need_packages() {
  local missing=() sudo=
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  say "installing ${missing[*]}"
  $sudo apt-get update -qq >&2
  # Without recommends; should a package start its own daemon, it takes its usual port, not ours.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# `http_ok URL`: the URL answers 2xx.
http_ok() { curl -fsS -o /dev/null "$1" 2>/dev/null; }

# `ready_or_fail PID LOG PROBE...`: prints PID and exits 0 once `PROBE...` succeeds; shows the
# end of LOG and exits 1 if the server dies or has not answered within 30 s.
ready_or_fail() {
  local pid=$1 log=$2
  shift 2
  for _ in $(seq 300); do
    if "$@"; then
      echo "$pid"
      exit 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      say "the server exited; its log:"
      tail -n 20 "$log" >&2 || true
      exit 1
    fi
    sleep 0.1
  done
  say "no answer after 30 s; its log:"
  tail -n 20 "$log" >&2 || true
  kill "$pid" 2>/dev/null || true
  exit 1
}
