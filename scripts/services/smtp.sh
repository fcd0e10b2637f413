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
. "$(dirname "$0")/common.sh"
need_packages python3-aiosmtpd

# The Mailbox handler wants the folder's parent to exist; it makes new/, cur/ and tmp/.
mkdir -p "$(dirname "$maildir")"
log="$maildir.log"
# -n: stay as this user (aiosmtpd would switch to nobody as root, and then not be able to
# write the maildir).
nohup "$py" -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox "$maildir" \
  >"$log" 2>&1 </dev/null &
pid=$!

# Ready when the port greets with 220.
greets() {
  local greeting
  greeting=$( { exec 3<>"/dev/tcp/127.0.0.1/$port" && read -t 2 -r line <&3 && printf '%s' "$line"; } 2>/dev/null || true)
  [[ $greeting == 220* ]]
}
ready_or_fail "$pid" "$log" greets
