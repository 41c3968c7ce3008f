"""Retrieval speed and memory: per-mode latency now, and how cost grows with FAQ size.

1. Single-query latency p50/p95 per mode (hybrid, bm25, dense) on the real
   index, after warm-up.
2. Index build time, RSS and query latency at 200, 10k and 100k entries. The
   large sets are synthesized by perturbing real entries: each synthetic
   phrasing is a real phrasing's embedding plus Gaussian noise (renormalised)
   and its BM25 terms with one term dropped and a synthetic term added.
   Encoding 600k phrasings on 2 CPU cores would take over an hour, so encode
   time is measured on real text and extrapolated; everything after encoding
   (FAISS build, BM25 build, search, fusion) is measured for real.
   Each size runs in its own subprocess so RSS is not polluted by the others.

Usage: .venv/bin/python evaluation/bench_retrieval.py [--sizes 200,10000,100000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

QUERIES = [
    "이사 왔는데 주소 옮기는 건 어디서 하죠?",
    "여권 재발급 수수료 얼마예요",
    "등본 인터넷으로 뗄 수 있나요",
    "냉장고 버리려면 어떻게 해요",
    "자동차세 연납 할인",
    "강아지 등록 어디서",
    "기초연금 신청 자격",
    "건축물대장 발급",
    "로또 번호 알려줘",
    "보건증 발급 비용",
]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * (len(ordered) - 1) + 0.5))]


def bench_modes(rounds: int) -> None:
    from api.knowledge import load_retriever
    from api.settings import Settings
    from faq.retriever import MODES

    retriever = load_retriever(Settings.from_env(with_secret=False))
    for query in QUERIES:  # warm-up: Kiwi, torch kernels, FAISS
        retriever.search(query)
    print(f"single-query latency over {rounds} rounds of {len(QUERIES)} queries (after warm-up):")
    baseline = None
    for mode in MODES:
        times = []
        for _ in range(rounds):
            for query in QUERIES:
                started = time.perf_counter()
                retriever.search(query, mode=mode)
                times.append((time.perf_counter() - started) * 1000)
        p50, p95 = percentiles(times)
        baseline = baseline or p50
        print(f"  {mode:6s} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  (x{p50 / baseline:.2f} of hybrid p50)")


def bench_size(entries: int) -> dict[str, float | int | str]:
    """Build and query a synthetic index of ``entries`` entries (runs in a fresh process)."""
    import bm25s

    from api.settings import Settings
    from faq.embedder import Embedder
    from faq.index import LoadedIndex, Phrasing, entry_layout, make_faiss_index
    from faq.korean import lexical_terms
    from faq.retriever import Retriever
    from faq.store import FaqStore

    settings = Settings.from_env(with_secret=False)
    rng = np.random.default_rng(0)
    store = FaqStore.load(county_file=settings.county_file)
    real = LoadedIndex.current(settings.index_root)
    embedder = Embedder(settings.embedding_model)
    base_rss = rss_mb()

    started = time.perf_counter()
    sample = [p.text for p in real.phrasings[:256]]
    embedder.encode(sample)
    encode_rate = len(sample) / (time.perf_counter() - started)

    real_vectors = real.dense.reconstruct_n(0, real.dense.ntotal)
    real_terms = [lexical_terms(p.text) for p in real.phrasings]
    by_entry: dict[str, list[int]] = {}
    for pid, p in enumerate(real.phrasings):
        by_entry.setdefault(p.entry_id, []).append(pid)
    real_ids = list(by_entry)

    synthetic_entries = []
    phrasings: list[Phrasing] = []
    vectors = []
    entry_terms: list[list[str]] = []
    for i in range(entries):
        source = real_ids[i % len(real_ids)]
        entry_id = source if i < len(real_ids) else f"S{i:07d}"
        entry = store.by_id[source]
        synthetic_entries.append(entry if entry_id == source else entry.model_copy(update={"id": entry_id}))
        terms: list[str] = []
        for pid in by_entry[source]:
            phrasings.append(Phrasing(entry_id, real.phrasings[pid].text))
            if entry_id == source:
                vectors.append(real_vectors[pid])
                terms.extend(real_terms[pid])
            else:
                noisy = real_vectors[pid] + rng.normal(0, 0.02, real_vectors.shape[1]).astype(np.float32)
                vectors.append(noisy / np.linalg.norm(noisy))
                kept = list(real_terms[pid])
                if len(kept) > 1:
                    kept.pop(int(rng.integers(len(kept))))
                terms.extend([*kept, f"합성{i % 5000}"])
        entry_terms.append(terms or ["∅"])
    matrix = np.ascontiguousarray(np.stack(vectors), dtype=np.float32)

    started = time.perf_counter()
    dense = make_faiss_index(matrix)
    faiss_seconds = time.perf_counter() - started
    started = time.perf_counter()
    bm25 = bm25s.BM25()
    bm25.index(entry_terms, show_progress=False)
    bm25_seconds = time.perf_counter() - started
    del matrix, vectors

    index = LoadedIndex.__new__(LoadedIndex)
    index.folder, index.meta, index.phrasings, index.dense, index.bm25 = Path("."), {}, phrasings, dense, bm25
    index.entry_ids, index.first_phrasing = entry_layout(phrasings)
    retriever = Retriever(FaqStore(synthetic_entries, store.profile, store.facts, store.topic_titles), index, embedder)
    for query in QUERIES:
        retriever.search(query)
    times = []
    for _ in range(5):
        for query in QUERIES:
            started = time.perf_counter()
            retriever.search(query)
            times.append((time.perf_counter() - started) * 1000)
    p50, p95 = percentiles(times)
    return {
        "entries": entries,
        "phrasings": len(phrasings),
        "index_type": type(dense).__name__,
        "encode_seconds_estimated": len(phrasings) / encode_rate,
        "faiss_build_seconds": faiss_seconds,
        "bm25_build_seconds": bm25_seconds,
        "rss_growth_mb": rss_mb() - base_rss,
        "rss_total_mb": rss_mb(),
        "query_p50_ms": p50,
        "query_p95_ms": p95,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="200,10000,100000")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--one-size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one_size:
        print(json.dumps(bench_size(args.one_size)))
        return
    bench_modes(args.rounds)
    print("\nscaling (hybrid query, synthetic entries perturbed from real ones):")
    print("  entries  phrasings  index           encode(est) faiss    bm25     RSS+    query p50/p95")
    first = None
    for size in [int(s) for s in args.sizes.split(",")]:
        print(f"  [bench] building {size} entries ...", flush=True)
        out = (
            subprocess.run(
                [sys.executable, __file__, "--one-size", str(size)], capture_output=True, text=True, check=True
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        r = json.loads(out)
        first = first or r
        print(
            f"  {r['entries']:7d}  {r['phrasings']:9d}  {r['index_type']:14s} {r['encode_seconds_estimated']:8.0f} s "
            f"{r['faiss_build_seconds']:7.2f} s {r['bm25_build_seconds']:7.2f} s {r['rss_growth_mb']:6.0f} MB "
            f"{r['query_p50_ms']:6.1f}/{r['query_p95_ms']:.1f} ms "
            f"(p50 x{r['query_p50_ms'] / first['query_p50_ms']:.2f})"
        )


if __name__ == "__main__":
    main()
