# What the service start-up scripts share, sourced by each: `say` with the script's name,
# installing missing Debian packages, a throwaway certificate authority for TLS, and waiting
# (bounded) for the server to answer.

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

# `make_certificates DIR`: an authority (CA:TRUE, signs certificates) in DIR/ca.pem and a server
# certificate it signed for 127.0.0.1 and localhost (CA:FALSE) in DIR/server.pem and
# DIR/server.key: a client checks the chain as it would a real server's.
make_certificates() {
  need_packages openssl
  local d=$1
  mkdir -p "$d"
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  openssl req -x509 "${ec[@]}" -days 2 -subj "/CN=pushduty test authority" \
    -keyout "$d/ca.key" -out "$d/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req "${ec[@]}" -subj "/CN=localhost" \
    -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$d/server.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
    -CAcreateserial -days 2 -extfile "$d/server.ext" -out "$d/server.pem" 2>/dev/null
}
