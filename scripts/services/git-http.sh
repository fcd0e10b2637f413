#!/usr/bin/env bash
# Starts git's smart HTTP server (`git http-backend` as a CGI program) behind a real web server
# (Debian's lighttpd, with TLS) on 127.0.0.1:PORT, requiring HTTP basic authentication, for the
# git-over-https tests. Every repository under ROOT is served at
# https://127.0.0.1:PORT/git/NAME.git, for fetching and (authenticated, so git lets it)
# pushing. Only USER with PASSWORD gets in; anyone else gets 401, as from a real forge.
# The certificate is signed by a throwaway authority: a client trusts it through
# DIR/tls/ca.pem (git: `http.sslCAInfo`).
#
#   scripts/services/git-http.sh PORT DIR ROOT USER PASSWORD
#
# DIR holds the server's configuration, its user file, its certificates and its log
# (DIR/error.log).
# Prints the server's PID on stdout once it answers; all else goes to stderr. Stop: kill PID.
set -euo pipefail
usage="usage: git-http.sh PORT DIR ROOT USER PASSWORD"
port="${1:?$usage}"
dir="${2:?$usage}"
root="${3:?$usage}"
user="${4:?$usage}"
password="${5:?$usage}"
. "$(dirname "$0")/common.sh"
need_packages lighttpd lighttpd-mod-openssl curl

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
root=$(cd "$root" && pwd)
backend="$(git --exec-path)/git-http-backend"
[ -x "$backend" ] || { say "no git http-backend at $backend"; exit 1; }
mkdir -p "$dir/www"
make_certificates "$dir/tls"
# lighttpd's `plain` user file: one `user:password` line.
printf '%s:%s\n' "$user" "$password" >"$dir/users"
chmod 0600 "$dir/users"

# The whole URL space under /git/ goes to the backend; lighttpd sets REMOTE_USER after the
# login, which is what makes git http-backend accept pushes.
cat >"$dir/lighttpd.conf" <<CONFIG
server.modules = ("mod_openssl", "mod_access", "mod_alias", "mod_auth", "mod_authn_file", "mod_setenv", "mod_cgi")
server.bind = "127.0.0.1"
server.port = $port
ssl.engine = "enable"
ssl.pemfile = "$dir/tls/server.pem"
ssl.privkey = "$dir/tls/server.key"
server.document-root = "$dir/www"
server.errorlog = "$dir/error.log"
server.pid-file = "$dir/lighttpd.pid"
alias.url = ("/git/" => "$backend/")
\$HTTP["url"] =~ "^/git/" {
  cgi.assign = ("" => "")
  setenv.set-environment = ("GIT_PROJECT_ROOT" => "$root", "GIT_HTTP_EXPORT_ALL" => "1")
  auth.backend = "plain"
  auth.backend.plain.userfile = "$dir/users"
  auth.require = ("" => ("method" => "basic", "realm" => "git", "require" => "valid-user"))
}
CONFIG

lighttpd=/usr/sbin/lighttpd
"$lighttpd" -tt -f "$dir/lighttpd.conf" >&2
nohup "$lighttpd" -D -f "$dir/lighttpd.conf" >"$dir/stdout.log" 2>&1 </dev/null &
pid=$!

# Ready when an anonymous request is refused for want of a login.
asks_login() {
  local code
  code=$(curl -s --cacert "$dir/tls/ca.pem" -o /dev/null -w '%{http_code}' \
    "https://127.0.0.1:$port/git/" 2>/dev/null || true)
  [ "$code" = 401 ]
}
ready_or_fail "$pid" "$dir/error.log" asks_login
