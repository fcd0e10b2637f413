#!/usr/bin/env bash
# Starts a real SMTP server (Debian's python3-aiosmtpd) on 127.0.0.1:PORT for the email tests:
# every message it accepts is stored as one file in the Maildir MAILDIR (new/), so a test reads
# exactly what arrived, headers and all.
#
#   scripts/services/smtp.sh PORT MAILDIR [plain|starttls|tls]
#
# plain (the default): no TLS; pushduty sends to it with `security = "none"`, which it allows
# for loopback hosts alone.
# starttls: the server offers STARTTLS and requires it before a message (aiosmtpd's --tlscert).
# tls: TLS from the first byte (aiosmtpd's --smtpscert), as on port 465.
# With TLS, a throwaway authority and a certificate it signed for 127.0.0.1 and localhost are
# made first, in MAILDIR.tls/: a client trusts them through MAILDIR.tls/ca.pem.
#
# Prints the server's PID on stdout once the port answers; all else goes to stderr.
# Stop: kill PID.
set -euo pipefail
port="${1:?usage: smtp.sh PORT MAILDIR [plain|starttls|tls]}"
maildir="${2:?usage: smtp.sh PORT MAILDIR [plain|starttls|tls]}"
mode="${3:-plain}"
# Debian installs aiosmtpd for /usr/bin/python3; a pyenv or venv python3 earlier on PATH
# cannot import it.
py=/usr/bin/python3
. "$(dirname "$0")/common.sh"
need_packages python3-aiosmtpd

# The Mailbox handler wants the folder's parent to exist; it makes new/, cur/ and tmp/.
mkdir -p "$(dirname "$maildir")"
log="$maildir.log"

tls=()
case "$mode" in
  plain) ;;
  starttls)
    make_certificates "$maildir.tls"
    tls=(--tlscert "$maildir.tls/server.pem" --tlskey "$maildir.tls/server.key")
    ;;
  tls)
    make_certificates "$maildir.tls"
    tls=(--smtpscert "$maildir.tls/server.pem" --smtpskey "$maildir.tls/server.key")
    ;;
  *)
    say "unknown mode '$mode': plain, starttls or tls"
    exit 2
    ;;
esac

# -n: stay as this user (aiosmtpd would switch to nobody as root, and then not be able to
# write the maildir).
nohup "$py" -m aiosmtpd -n -l "127.0.0.1:$port" "${tls[@]}" \
  -c aiosmtpd.handlers.Mailbox "$maildir" >"$log" 2>&1 </dev/null &
pid=$!

# Ready when the port greets with 220 (in plain text but for implicit TLS, where a
# connection being taken is all that can be seen without speaking TLS).
greets() {
  local greeting
  if [ "$mode" = tls ]; then
    { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null
    return
  fi
  greeting=$( { exec 3<>"/dev/tcp/127.0.0.1/$port" && read -t 2 -r line <&3 && printf '%s' "$line"; } 2>/dev/null || true)
  [[ $greeting == 220* ]]
}
ready_or_fail "$pid" "$log" greets
