#!/usr/bin/env bash
# Installs what pushduty needs beyond the Rust toolchain, when missing.
#   scripts/deps.sh          everything: building and testing
#   scripts/deps.sh build    only what building needs
# Building: nothing beyond Rust and a C compiler (libgit2 and zlib are
# built from source, without TLS or ssh: the network is the operator's own git).
# Running: git 2.29 or newer (fetch, ls-remote and the tag push run it).
# Testing, in addition: tmux (end-to-end tests and screenshots), the real metrics servers the
# metrics client tests start through scripts/services/ (graphite-web with python3-whisper,
# prometheus; curl to see them answer), the SMTP server the email tests send to
# (python3-aiosmtpd, scripts/services/smtp.sh; openssl makes its test certificates), the
# git servers of the network tests: OpenSSH's sshd (openssh-server, openssh-client,
# scripts/services/sshd.sh, with libnss-wrapper for the client's home) and lighttpd with TLS
# in front of git http-backend (lighttpd, lighttpd-mod-openssl, scripts/services/git-http.sh),
# and the Matrix homeserver the chat tests post to (Synapse from PyPI in a virtualenv kept
# under ~/.cache/pushduty, or $PUSHDUTY_SYNAPSE_VENV: cache that folder in CI, the install
# takes some 40 s), and SciPy with NumPy for python3 (pip). CI's macOS check, in addition: clang, which builds a dependency's bit of
# assembly for aarch64-apple-darwin (gcc has no Apple target).
# Idempotent; does nothing when all is present.
set -euo pipefail
build=()
testing=(git tmux graphite-web python3-whisper prometheus curl python3-aiosmtpd openssl
  openssh-server openssh-client libnss-wrapper lighttpd lighttpd-mod-openssl python3-venv clang)
case "${1:-all}" in
  build) wanted=("${build[@]}") ;;
  all) wanted=("${build[@]}" "${testing[@]}") ;;
  *)
    echo "usage: scripts/deps.sh [build|all]" >&2
    exit 2
    ;;
esac
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
need=()
for pkg in "${wanted[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# SciPy and NumPy, which the judge's statistics are checked against: the python3 on PATH may
# not be the system's (pyenv), so pip's. Not fatal here, as below.
if [ "${1:-all}" = all ] && ! python3 -c 'import scipy, numpy' 2>/dev/null; then
  python3 -m pip install --quiet --user scipy numpy 2>/dev/null ||
    python3 -m pip install --quiet scipy numpy 2>/dev/null ||
    { $SUDO apt-get install -y -qq --no-install-recommends python3-scipy python3-numpy >/dev/null &&
      python3 -c 'import scipy, numpy'; } ||
    echo "deps.sh: SciPy could not be installed; the statistics test will be skipped" >&2
fi
# Not fatal here: without it the Matrix tests say they are skipped, and fail under CI=true.
if [ "${1:-all}" = all ] && ! "$(dirname "$0")/services/synapse.sh" --install; then
  echo "deps.sh: Synapse could not be installed; the Matrix chat tests will be skipped" >&2
fi
