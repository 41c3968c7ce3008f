"""Publish-to-live time, memory while two releases are held, and answer latency during a rebuild.

Usage: .venv/bin/python evaluation/bench_publish.py [--entries 10000] [--queries 200]

Runs in a temporary folder (database, index root) with the built embedding model; the live api is
not touched. At the shipped size it publishes one edited entry through ``KnowledgeService`` (the
same path as the console). At ``--entries`` it first seeds a synthetic knowledge base (real entries
copied under new ids, their phrasing vectors perturbed into the embedding cache, as
bench_retrieval does), then publishes one edit there. Latency during a rebuild is reported as a
ratio to the same queries answered with no rebuild running, in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import dataclasses
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from api.db import Database
from api.kb.service import KnowledgeService
from api.kb.store import Actor, content_of
from api.kinds import Role
from api.knowledge import Knowledge
from api.settings import Settings
from faq.index import EmbeddingCache

ADMIN = Actor("bench", Role.ADMIN)
QUESTIONS = [
    "여권 수수료 얼마예요",
    "전입신고 언제까지",
    "대형폐기물 버리는 법",
    "인감증명서 대리 발급",
    "아동수당 신청",
]


def rss_mb() -> float:
    with open("/proc/self/status", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def p50_p95(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[int(0.95 * (len(ordered) - 1))]


def publish_once(service: KnowledgeService, entry_id: str, note: str) -> float:
    published, state = service.store.published(entry_id), service.store.entry_state(entry_id)
    assert published is not None and state is not None
    content = copy.deepcopy(published.content)
    content["answer"]["note"] = note
    latest = state.latest_version
    draft = asyncio.run(service.save_draft(entry_id, content, latest, ADMIN))
    started = time.perf_counter()
    asyncio.run(service.publish_now(entry_id, draft.number, ADMIN))
    return time.perf_counter() - started


def latency(service: KnowledgeService, rounds: int, during: threading.Event | None = None) -> list[float]:
    times = []
    for i in range(rounds):
        retriever = service.knowledge.current()
        assert retriever is not None
        started = time.perf_counter()
        retriever.search(QUESTIONS[i % len(QUESTIONS)])
        times.append((time.perf_counter() - started) * 1000)
        if during is not None and during.is_set():
            break
    return times


def measure(service: KnowledgeService, label: str, queries: int) -> None:
    base50, base95 = p50_p95(latency(service, queries))
    before = rss_mb()
    peak = [before]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak.append(rss_mb())
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    busy: list[float] = []
    loader = threading.Thread(target=lambda: busy.extend(latency(service, 100_000, done)))
    seconds = [0.0]

    def publish() -> None:
        try:
            seconds[0] = publish_once(service, "T01-002", f"bench {time.time()}")
        finally:
            done.set()

    publisher = threading.Thread(target=publish)
    loader.start()
    publisher.start()
    publisher.join()
    loader.join()
    watcher.join()
    during50, during95 = p50_p95(busy or [0.0])
    print(f"[{label}] publish-to-live {seconds[0]:.2f} s (embed changed phrasings, index, BM25, coverage, warm, swap)")
    print(f"[{label}] RSS {before:.0f} MB before, {max(peak):.0f} MB peak while old and new releases were held")
    print(
        f"[{label}] answer latency p50/p95 {base50:.1f}/{base95:.1f} ms idle, {during50:.1f}/{during95:.1f} ms "
        f"during the rebuild ({len(busy)} queries): x{during50 / base50:.2f} / x{during95 / base95:.2f}"
    )


def synthetic(service: KnowledgeService, entries: int) -> None:
    """Copies of the shipped entries under new ids, their vectors perturbed into the embedding cache."""
    rng = np.random.default_rng(0)
    pack = service.baseline_entries()
    cache = EmbeddingCache(service.settings.index_root, service.settings.embedding_model)
    texts = [t for e in pack for t in e.phrasings]
    real = dict(zip(texts, cache.encode(service.knowledge.embedder(), texts, lambda line: None), strict=True))
    made = []
    for n in range(entries - len(pack)):
        source = pack[n % len(pack)]
        entry = source.model_copy(deep=True)
        entry.topic = f"T{1 + n % 37:02d}"
        entry.question = f"{entry.question} ({n})"
        entry.alternatives = [f"{a} {n}" for a in entry.alternatives]
        for original, text in zip(source.phrasings, entry.phrasings, strict=True):
            vector = real[original] + rng.normal(scale=0.02, size=real[original].shape).astype(np.float32)
            cache._vectors[text] = vector / np.linalg.norm(vector)
        made.append(entry)
    cache._save()
    print(f"[bench] importing {len(made)} synthetic entries ...", flush=True)
    service.store.apply_import([("", e.topic, content_of(e)) for e in made], ADMIN, publish=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    built = Settings.from_env(with_secret=False)
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        root = Path(tmp)
        index = root / "index"
        current = (built.index_root / "current").resolve()
        shutil.copytree(current, index / current.name)
        (index / "current").symlink_to(current.name)
        settings = dataclasses.replace(
            built, var_dir=root / "var", index_dir=index, database_url="", secret_key="x" * 32
        )
        db = Database(settings.database_url)
        db.upgrade()
        service = KnowledgeService(settings, db, Knowledge(settings))
        started = time.perf_counter()
        asyncio.run(service.start())
        print(f"[bench] first start (pack import + release) {time.perf_counter() - started:.1f} s", flush=True)
        live = service.knowledge.current()
        assert live is not None, service.knowledge.error
        measure(service, f"{len(live.store.entries)} entries", args.queries)
        if args.entries > len(live.store.entries):
            synthetic(service, args.entries)
            started = time.perf_counter()
            asyncio.run(service.refresh("bench: synthetic", "bench"))
            print(f"[bench] first release at {args.entries} entries {time.perf_counter() - started:.1f} s", flush=True)
            measure(service, f"{args.entries} entries", args.queries)


if __name__ == "__main__":
    main()
