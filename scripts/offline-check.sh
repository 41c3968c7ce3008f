#!/usr/bin/env bash
# make offline-check: unpack the newest bundle and install it the way a 행정망 server would, inside a
# network namespace that has only loopback, with no pip configuration and empty caches; then
# `make run` and ask the demo a question. Prints install time, build time, cold start to ready.
# Needs root (ip netns). Leaves nothing behind: the namespace and the unpacked copy are removed.
set -euo pipefail
cd "$(dirname "$0")/.."
archive="${1:-$(ls -t dist/minwon-offline-*-linux-x86_64.tar.gz 2>/dev/null | head -1)}"
[ -f "$archive" ] || { echo "error: no bundle in dist/; run 'make bundle' first" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "error: offline-check needs root for 'ip netns'" >&2; exit 1; }

# The interpreters the target gets from its OS media; found here, outside the namespace.
py311="$(scripts/find-python.sh 3.11)"
py310="$(scripts/find-python.sh 3.10)"
ns="minwon-offline-$$"
work="$(mktemp -d /tmp/minwon-offline.XXXXXX)"
server=""
# make run's Rasa and api run in sessions of their own; wait for them (their command lines name the
# unpacked folder), and end any that outlive `minwon run`'s own shutdown, by pid.
stop_stack() {
  [ -n "$server" ] || return 0
  kill -TERM -- "-$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=""
  for _ in $(seq 30); do
    pgrep -f -- "$work/" >/dev/null || return 0
    sleep 1
  done
  for pid in $(pgrep -f -- "$work/"); do kill -TERM "$pid" 2>/dev/null || true; done
  sleep 2
}
cleanup() {
  stop_stack
  ip netns delete "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "[offline] bundle $archive ($(du -h "$archive" | cut -f1))"
tar -xzf "$archive" -C "$work"
dir="$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'minwon-offline-*')"
(cd "$dir" && sha256sum --check --quiet SHA256SUMS)
echo "[offline] checksums ok"

ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
mkdir -p "$work/home" "$work/cache"
# A clean environment: no pip config (PIP_CONFIG_FILE=/dev/null loads none), empty caches, no proxies.
inside_cmd=(
  ip netns exec "$ns" env -i
  PATH="$(dirname "$py311"):$(dirname "$py310"):/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
  HOME="$work/home" XDG_CACHE_HOME="$work/cache" PIP_CACHE_DIR="$work/cache/pip" PIP_CONFIG_FILE=/dev/null
  LANG=C.UTF-8 PYTHONUNBUFFERED=1
)
inside() { "${inside_cmd[@]}" "$@"; }
links="$(ip netns exec "$ns" ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')"
echo "[offline] namespace $ns has only: $links"
# 192.0.2.1 is a documentation address: with only loopback there is no route to anything.
if inside "$py311" -c 'import socket; socket.create_connection(("192.0.2.1", 80), timeout=3)' 2>/dev/null; then
  echo "error: the namespace reaches the network" >&2
  exit 1
fi

seconds() { python3 -c 'import time; print(f"{time.time():.1f}")'; }
t0="$(seconds)"
inside make -C "$dir" envs > "$work/envs.log" 2>&1 || { tail -40 "$work/envs.log" >&2; exit 1; }
t1="$(seconds)"
inside make -C "$dir" bootstrap > "$work/bootstrap.log" 2>&1 || { tail -40 "$work/bootstrap.log" >&2; exit 1; }
t2="$(seconds)"
grep -q "up to date" "$work/bootstrap.log" && echo "[offline] Rasa model from the bundle (not retrained)"

# make run, as the README says; it prints the demo URL once ready.
# Its own process group (setsid), so stopping it reaches make, minwon, Rasa and the api together.
# Started as a simple command (not through the function), so $! is setsid's pid and the group's id.
"${inside_cmd[@]}" setsid make -C "$dir" run > "$work/run.log" 2>&1 &
server=$!
until grep -q "ready after" "$work/run.log"; do
  kill -0 "$server" 2>/dev/null || { tail -40 "$work/run.log" >&2; exit 1; }
  sleep 1
done
t3="$(seconds)"
# The first turn after ready also warms Rasa and the embedding model; it is timed and reported,
# and if it ran past RASA_TIMEOUT (the resident got the apology) the question is asked again.
answer="$(inside "$dir/.venv/bin/python" - <<'EOF'
import time

import httpx

question = {"session": None, "text": "여권 재발급 수수료가 얼마예요?"}
for attempt in range(1, 4):
    started = time.monotonic()
    reply = httpx.post("http://127.0.0.1:8000/api/v1/chat", json=question, timeout=60)
    seconds = time.monotonic() - started
    texts = [m["text"] for m in reply.json()["messages"]]
    if reply.status_code == 200 and any("여권" in t for t in texts):
        print(f"turn {attempt} in {seconds:.2f} s: {texts[0][:100]}".replace("\n", " "))
        break
    print(f"turn {attempt} in {seconds:.2f} s: Rasa did not answer in time (HTTP {reply.status_code}); ", end="")
else:
    raise SystemExit("no answer after 3 turns")
EOF
)"
echo "[offline] the demo answered: $answer"
stop_stack

printf '[offline] install both envs: %.0f s; model + index build: %.0f s; make run to ready: %.0f s\n' \
  "$(python3 -c "print($t1-$t0)")" "$(python3 -c "print($t2-$t1)")" "$(python3 -c "print($t3-$t2)")"
echo "[offline] OK: installed and answered with loopback only"
