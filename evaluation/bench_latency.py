"""Chat latency: p50/p95 through /api/v1/chat vs straight to Rasa's REST webhook, same run.

Starts its own Rasa + api (unless --api-url/--rasa-url are given), sends N
sequential turns each way, interleaved so both paths see the same machine
state, and prints the ratio (the api's overhead). Also prints each process's RSS.

Usage: .venv/bin/python evaluation/bench_latency.py [--turns 200]
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from pathlib import Path

import httpx

from api.runner import Stack
from api.settings import Settings

QUESTIONS = [
    "이사 왔는데 주소 옮기는 건 어디서 하죠?",
    "여권 재발급 수수료 얼마예요?",
    "등본 인터넷으로 뗄 수 있어요?",
    "냉장고 버리려면 어떻게 해요",
    "주민증 잃어버렸어요",
    "민원실 몇 시까지 해요?",
    "안녕하세요",
    "자동차세 연납 할인",
    "강아지 등록 어디서 해요",
    "감사합니다",
]
NEW_SESSION_EVERY = 10  # residents ask a handful of questions; keeps trackers realistic


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rss_mb(pid: int) -> float:
    total = 0
    for child in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def _children(pid: int) -> list[int]:
    try:
        kids = [int(k) for k in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return kids + [g for k in kids for g in _children(k)]


def nlu_latency(rasa_url: str, token: str, rounds: int = 20) -> None:
    """NLU inference alone, inside Rasa (POST /model/parse), per message."""
    times = []
    with httpx.Client(timeout=30) as client:
        for text in QUESTIONS[:3]:
            client.post(f"{rasa_url}/model/parse", params={"token": token}, json={"text": text})
        for _ in range(rounds):
            for text in QUESTIONS:
                started = time.perf_counter()
                client.post(f"{rasa_url}/model/parse", params={"token": token}, json={"text": text}).raise_for_status()
                times.append((time.perf_counter() - started) * 1000)
    print(f"Rasa NLU /model/parse p50 {statistics.median(times):7.1f} ms   p95 {percentile(times, 0.95):7.1f} ms")


def run(api_url: str, rasa_url: str, turns: int) -> None:
    api_times: list[float] = []
    rasa_times: list[float] = []
    token = None
    sender = uuid.uuid4().hex
    with httpx.Client(timeout=30) as client:
        for i in range(5):  # warm-up
            client.post(f"{api_url}/api/v1/chat", json={"session": None, "text": QUESTIONS[i]})
        for i in range(turns):
            text = QUESTIONS[i % len(QUESTIONS)]
            if i % NEW_SESSION_EVERY == 0:
                token, sender = None, uuid.uuid4().hex
            started = time.perf_counter()
            response = client.post(f"{api_url}/api/v1/chat", json={"session": token, "text": text})
            api_times.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            token = response.json()["session"]
            started = time.perf_counter()
            response = client.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text})
            rasa_times.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
            if (i + 1) % 50 == 0:
                print(f"  {i + 1}/{turns} turns", flush=True)
    for name, values in (("api /api/v1/chat", api_times), ("Rasa webhook", rasa_times)):
        print(
            f"{name:18s} p50 {statistics.median(values):7.1f} ms   p95 {percentile(values, 0.95):7.1f} ms"
            f"   mean {statistics.fmean(values):7.1f} ms"
        )
    print(
        f"ratio api/Rasa      p50 {statistics.median(api_times) / statistics.median(rasa_times):.2f}"
        f"   p95 {percentile(api_times, 0.95) / percentile(rasa_times, 0.95):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--api-port", type=int, default=8765)
    parser.add_argument("--rasa-port", type=int, default=5765)
    args = parser.parse_args()
    settings = Settings.from_env()
    settings.port, settings.rasa_port = args.api_port, args.rasa_port
    stack = Stack(settings)
    started = time.perf_counter()
    stack.start()
    try:
        stack.wait_ready(say=lambda line: print(line, flush=True))
        print(f"stack ready in {time.perf_counter() - started:.1f} s")
        run(stack.api_url, stack.rasa_url, args.turns)
        nlu_latency(stack.rasa_url, stack.rasa_token)
        for name, process in stack.processes.items():
            print(f"RSS {name:5s} {rss_mb(process.pid):7.0f} MB")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
