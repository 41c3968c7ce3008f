"""Handoff delivery: how long an officer's reply takes to reach the resident's long poll.

Starts its own api (no Rasa needed: the handoff is requested with POST
/api/v1/handoff) on a throwaway database, creates two officers with the CLI,
then for each of N conversations: request → both officers race to accept
(exactly one must win) → the winner sends M replies while the resident
long-polls. Prints p50/p95 of reply delivery (officer POST sent → resident
poll returns it) against a baseline round trip (GET /healthz) in the same run,
and the race result.

Usage: .venv/bin/python evaluation/bench_handoff.py [--conversations 30] [--replies 5]
       [--database-url postgresql://postgres@127.0.0.1:5432/some_db]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-0123"  # noqa: S105 - a throwaway account in a throwaway database


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def login(base: str, username: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base, timeout=30)
    page = client.get("/console/login").text
    token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    client.post("/console/login", data={"username": username, "password": PASSWORD, "csrf": token})
    csrf = client.get("/console").text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    return client, csrf


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=30)
    parser.add_argument("--replies", type=int, default=5)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="minwon-bench-handoff-"))
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url or f"sqlite:///{workdir / 'bench.db'}",
        "MINWON_OFFICE_OVERRIDE": "open",
        "MINWON_LOAD_RETRIEVER": "0",
        "MINWON_VAR_DIR": str(workdir),
        "RASA_URL": "http://127.0.0.1:9",
    }
    for name in ("kim", "lee"):
        subprocess.run(
            [sys.executable, "-m", "api.cli", "user", "add", name, "--password-stdin"],
            input=PASSWORD + "\n",
            text=True,
            check=True,
            env=env,
            cwd=ROOT,
            capture_output=True,
        )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.app:create_asgi", "--factory", "--port", str(port), "--no-access-log"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        print(f"[bench] api up on {base}, database {env['DATABASE_URL'].split('://')[0]}", flush=True)
        officers = [login(base, "kim"), login(base, "lee")]
        resident = httpx.Client(base_url=base, timeout=60)
        baseline: list[float] = []
        delivery: list[float] = []
        double_owned = 0
        posted: list[float] = []  # the officer's own POST round trip (auth + insert + commit)
        for n in range(args.conversations):
            session = resident.post("/api/v1/chat", json={"session": None, "text": "여권 문의"}).json()["session"]
            resident.post("/api/v1/handoff", json={"session": session})
            handoff_id = officers[0][0].get("/console/api/queue").json()["items"][-1]["id"]
            results: dict[int, int] = {}  # officer index -> status of its accept
            barrier = threading.Barrier(2)

            def grab(
                index: int,
                results: dict[int, int] = results,
                barrier: threading.Barrier = barrier,
                handoff_id: int = handoff_id,
            ) -> None:
                client, csrf = officers[index]
                barrier.wait()
                url = f"/console/api/handoffs/{handoff_id}/accept"
                results[index] = client.post(url, headers={"X-CSRF-Token": csrf}).status_code

            threads = [threading.Thread(target=grab, args=(index,)) for index in range(len(officers))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if list(results.values()).count(200) != 1:
                double_owned += 1
            winner = officers[0] if results.get(0) == 200 else officers[1]
            after = resident.post("/api/v1/events", json={"session": session, "after": 0, "wait": 0}).json()
            last = max((m["id"] for m in after["messages"]), default=0)
            for k in range(args.replies):
                started = time.perf_counter()
                resident.get("/healthz")
                baseline.append(time.perf_counter() - started)
                box: dict[str, float] = {}

                def poll(last: int = last, box: dict[str, float] = box, session: str = session) -> None:
                    response = resident.post("/api/v1/events", json={"session": session, "after": last, "wait": 25})
                    if response.status_code != 200:
                        print("[bench] poll failed:", response.status_code, response.text[:300], flush=True)
                    body = response.json()
                    box["at"] = time.perf_counter()
                    box["id"] = max((m["id"] for m in body["messages"]), default=-1)
                    if box["id"] < 0:
                        print("[bench] empty poll:", body, flush=True)

                poller = threading.Thread(target=poll)
                poller.start()
                time.sleep(0.05)  # the poll is parked before the officer types
                sent = time.perf_counter()
                winner[0].post(
                    f"/console/api/handoffs/{handoff_id}/messages",
                    json={"text": f"답변 {n}-{k}"},
                    headers={"X-CSRF-Token": winner[1]},
                )
                posted.append(time.perf_counter() - sent)
                poller.join()
                delivery.append(box["at"] - sent)
                last = int(box["id"])
            winner[0].post(
                f"/console/api/handoffs/{handoff_id}/finish", json={"how": "ended"}, headers={"X-CSRF-Token": winner[1]}
            )
        p50, p95 = percentile(delivery, 0.5) * 1000, percentile(delivery, 0.95) * 1000
        b50, b95 = percentile(baseline, 0.5) * 1000, percentile(baseline, 0.95) * 1000
        print(f"[bench] {args.conversations} conversations x {args.replies} replies = {len(delivery)} deliveries")
        print(
            f"[bench] officer reply -> resident long poll: p50 {p50:.1f} ms, p95 {p95:.1f} ms "
            f"(mean {statistics.mean(delivery) * 1000:.1f} ms)"
        )
        print(f"[bench] baseline GET /healthz round trip: p50 {b50:.1f} ms, p95 {b95:.1f} ms")
        o50, o95 = percentile(posted, 0.5) * 1000, percentile(posted, 0.95) * 1000
        print(f"[bench] officer's reply POST round trip: p50 {o50:.1f} ms, p95 {o95:.1f} ms")
        print(f"[bench] ratio delivery/officer POST: p50 {p50 / o50:.2f}, p95 {p95 / o95:.2f}")
        print(f"[bench] ratio delivery/baseline: p50 {p50 / b50:.2f}, p95 {p95 / b95:.2f}")
        print(f"[bench] accept races: {args.conversations}, conversations owned by two officers: {double_owned}")
        return 1 if double_owned else 0
    finally:
        api.terminate()
        api.wait(timeout=15)


if __name__ == "__main__":
    sys.exit(main())
