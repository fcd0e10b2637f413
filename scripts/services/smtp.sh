#!/usr/bin/env bash
# Starts a real SMTP server (Debian's python3-aiosmtpd) on 127.0.0.1:PORT for the email tests:
# every message it accepts is stored as one file in the Maildir MAILDIR (new/), so a test reads
# exactly what arrived, headers and all.
#
#   scripts/services/smtp.sh PORT MAILDIR
#
# Prints the server's PID on stdout once the port answers with its greeting; all else goes to
# stderr. Stop: kill PID. Plain SMTP only (no STARTTLS): pushduty sends to it with
# `security = "none"`, which it allows for loopback hosts alone.
set -euo pipefail
port="${1:?usage: smtp.sh PORT MAILDIR}"
maildir="${2:?usage: smtp.sh PORT MAILDIR}"
# Debian installs aiosmtpd for /usr/bin/python3; a pyenv or venv python3 earlier on PATH
# cannot import it.
py=/usr/bin/python3
say() { printf 'smtp.sh: %s\n' "$*" >&2; }

if ! dpkg -s python3-aiosmtpd >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
  say "installing python3-aiosmtpd"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-aiosmtpd >&2
fi

# The Mailbox handler wants the folder's parent to exist; it makes new/, cur/ and tmp/.
mkdir -p "$(dirname "$maildir")"
log="$maildir.log"
# -n: stay as this user (aiosmtpd would switch to nobody as root, and then not be able to
# write the maildir).
nohup "$py" -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox "$maildir" \
  >"$log" 2>&1 </dev/null &
pid=$!

# Ready when the port greets with 220; bounded at 20 s, and ended early if the server died.
for _ in $(seq 1 200); do
  greeting=$( { exec 3<>"/dev/tcp/127.0.0.1/$port" && read -t 2 -r line <&3 && printf '%s' "$line"; } 2>/dev/null || true)
  if [[ $greeting == 220* ]]; then
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
say "no greeting on 127.0.0.1:$port after 20 s"
kill "$pid" 2>/dev/null || true
exit 1
