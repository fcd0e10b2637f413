#!/usr/bin/env bash
# Starts a real OpenSSH server (Debian's openssh-server) on 127.0.0.1:PORT for the git-over-ssh
# tests, as the current user: no system configuration is read or changed. Everything it uses
# is in DIR (made absolute, since sshd wants absolute paths):
#   DIR/host_key         its host key, made here
#   DIR/authorized_keys  the client keys it accepts: a test appends its public keys
#   DIR/sshd_config      its configuration; DIR/sshd.log its log; DIR/sshd.pid
# Only the current user may log in, by key alone; git then runs as that user, so any
# repository it can read (by absolute path) is reachable, e.g. `HOST:/tmp/x/remote.git`.
#
#   scripts/services/sshd.sh PORT DIR
#
# Prints the server's PID on stdout once it greets with its SSH banner; all else goes to
# stderr. Stop: kill PID.
set -euo pipefail
port="${1:?usage: sshd.sh PORT DIR}"
dir="${2:?usage: sshd.sh PORT DIR}"
. "$(dirname "$0")/common.sh"
# libnss-wrapper is for the clients of the tests: ssh reads ~/.ssh from the password database,
# not from $HOME, and nss_wrapper gives a test's ssh the test's home instead of the real one.
need_packages openssh-server openssh-client libnss-wrapper

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
[ -f "$dir/host_key" ] || ssh-keygen -q -t ed25519 -N '' -C "pushduty test host" -f "$dir/host_key"
touch "$dir/authorized_keys"
# Run as root, sshd insists on its privilege separation directory (made by the system's
# service, which is not started here); run as anyone else, it needs none.
if [ "$(id -u)" -eq 0 ] && [ ! -d /run/sshd ]; then
  mkdir -p /run/sshd
  chmod 0755 /run/sshd
fi

# StrictModes no: the key files sit in a temporary folder whose modes are the test's. UsePAM
# no: PAM would want root. The user's own shell runs git-upload-pack/git-receive-pack.
cat >"$dir/sshd_config" <<CONFIG
ListenAddress 127.0.0.1
Port $port
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
AllowUsers $(id -un)
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UsePAM no
LogLevel VERBOSE
CONFIG

# sshd re-executes itself, so it must be started by its absolute path.
sshd=/usr/sbin/sshd
"$sshd" -t -f "$dir/sshd_config"
log="$dir/sshd.log"
nohup "$sshd" -D -e -f "$dir/sshd_config" >"$log" 2>&1 </dev/null &
pid=$!

greets() {
  local banner
  banner=$( { exec 3<>"/dev/tcp/127.0.0.1/$port" && read -t 2 -r line <&3 && printf '%s' "$line"; } 2>/dev/null || true)
  [[ $banner == SSH-2.0-* ]]
}
ready_or_fail "$pid" "$log" greets
