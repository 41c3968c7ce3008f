#!/usr/bin/env bash
# Browser tests need Debian's Chromium and a Korean font (else Hangul renders as boxes); the deploy/
# tests run the shipped nginx site in front of a test server, so nginx itself (its service is not used).
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/sbin/nginx ] || missing+=(nginx)
# No grep -q: it would exit early, fc-list would die of SIGPIPE and pipefail would report the font missing.
fc-list 2>/dev/null | grep -i -E "noto sans cjk|nanum" >/dev/null || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "error: missing system packages: ${missing[*]} (run: sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi
echo "[setup] installing ${missing[*]} with apt"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
