#!/usr/bin/env bash
# make bundle: one archive that installs on a server with no network (README: "County IT").
# Run on a machine with registry access after `make bootstrap`: both envs must be installed and
# the Rasa model trained, because the bundle holds exactly what those envs hold.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

for need in .venv/.installed .venv-rasa/.installed bot/models/minwon.tar.gz tests/e2e/node/node_modules/.installed; do
  [ -e "$need" ] || { echo "error: $need is missing; run 'make bootstrap node-deps' first" >&2; exit 1; }
done
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  echo "error: uncommitted changes; the bundle is built from the last commit (git archive HEAD)" >&2
  exit 1
fi

version="$(.venv/bin/python -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
name="minwon-offline-${version}-linux-x86_64"
mkdir -p dist
work="$(mktemp -d "$repo/dist/.bundle.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/$name"
mkdir -p "$root"

echo "[bundle] project at $(git rev-parse --short HEAD)"
git archive --format=tar HEAD | tar -x -C "$root"

# Every wheel each env has installed, at the installed version (pip itself included, so the
# Makefile's `pip install --upgrade pip` works offline). `pip wheel` takes a wheel from the
# configured indexes, find-links (the local CPU torch) or pip's cache, and builds one from an sdist.
wheels() {
  local env="$1" out="$2"
  "$env/bin/pip" freeze --all --exclude-editable | grep -v -E '^(-e |#)' > "$work/$(basename "$out").txt"
  echo "[bundle] $(wc -l < "$work/$(basename "$out").txt") wheels for $env"
  quiet "$env/bin/pip" wheel -q --no-deps -r "$work/$(basename "$out").txt" -w "$out"
}
# pip's output without the machine's find-links chatter; its exit status is kept.
quiet() {
  "$@" > "$work/pip.log" 2>&1 || { grep -v 'is ignored' "$work/pip.log" >&2; echo "error: $* failed" >&2; exit 1; }
}
wheels .venv "$root/wheels/main"
# The editable project is built with the setuptools pyproject.toml asks for.
quiet .venv/bin/pip wheel -q --no-deps 'setuptools>=77' -w "$root/wheels/main"
wheels .venv-rasa "$root/wheels/rasa"
cp "$work/main.txt" "$root/wheels/main-freeze.txt"
cp "$work/rasa.txt" "$root/wheels/rasa-freeze.txt"

# Built artefacts that need the registries to make: the trained Rasa model (its fingerprint says it
# matches bot/, so `make` does not retrain) and the test-only JavaScript (npm).
mkdir -p "$root/bot/models" "$root/tests/e2e/node"
cp -p bot/models/minwon.tar.gz bot/models/minwon.fingerprint "$root/bot/models/"
cp -a tests/e2e/node/node_modules "$root/tests/e2e/node/"

cat > "$root/wheels/OFFLINE" <<EOF
Offline bundle $name, commit $(git rev-parse HEAD), made $(date -u +%Y-%m-%dT%H:%M:%SZ).
While this file exists, make installs with pip --no-index --find-links wheels/main (wheels/rasa).
EOF
# git archive dates files at the commit; the stamps must be newer than what they were made from.
touch "$root/tests/e2e/node/node_modules/.installed" "$root/bot/models/"*

(cd "$root" && find . -type f ! -name SHA256SUMS -print0 | LC_ALL=C sort -z | xargs -0 sha256sum > SHA256SUMS)
archive="dist/$name.tar.gz"
echo "[bundle] writing $archive"
compress="gzip -1"
command -v pigz >/dev/null 2>&1 && compress="pigz -1"
tar -C "$work" -cf - "$name" | $compress > "$archive.partial"
mv "$archive.partial" "$archive"
(cd dist && sha256sum "$name.tar.gz" > "$name.tar.gz.sha256")
echo "[bundle] $archive: $(du -h "$archive" | cut -f1) ($(find "$root/wheels" -name '*.whl' | wc -l) wheels)"
