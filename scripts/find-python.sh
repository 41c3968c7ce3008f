#!/usr/bin/env bash
# Print the path of a working Python X.Y interpreter: pythonX.Y on PATH, else pyenv's newest X.Y.
set -euo pipefail
want="$1"
if command -v "python$want" >/dev/null 2>&1 && "python$want" -c 'import sys' >/dev/null 2>&1; then
  "python$want" -c 'import sys; print(sys.executable)'
  exit 0
fi
if command -v pyenv >/dev/null 2>&1; then
  root="$(pyenv root)"
  for v in $(pyenv versions --bare 2>/dev/null | grep -E "^${want//./\\.}\.[0-9]+$" | sort -t. -k3,3nr); do
    if [ -x "$root/versions/$v/bin/python$want" ]; then
      echo "$root/versions/$v/bin/python$want"
      exit 0
    fi
  done
fi
echo "error: Python $want not found (install python$want, or 'pyenv install $want')" >&2
exit 1
