"""Index choice by size and the atomic swap of a rebuilt index."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from faq.index import APPROXIMATE_FROM, LoadedIndex, build_index, make_faiss_index
from faq.store import FaqStore


def test_exact_search_when_small_and_hnsw_past_the_threshold() -> None:
    rng = np.random.default_rng(0)
    small = rng.normal(size=(100, 16)).astype(np.float32)
    assert type(make_faiss_index(small)).__name__ == "IndexFlatIP"
    large = rng.normal(size=(APPROXIMATE_FROM, 16)).astype(np.float32)
    large /= np.linalg.norm(large, axis=1, keepdims=True)
    index = make_faiss_index(large)
    assert type(index).__name__ == "IndexHNSWFlat"
    _, ids = index.search(large[:20], 1)
    assert (ids[:, 0] == np.arange(20)).mean() >= 0.95  # approximate, but finds itself


def _subset(store: FaqStore, count: int) -> FaqStore:
    return FaqStore(store.entries[:count], store.profile, store.facts, store.topic_titles)


def test_rebuild_swaps_current_atomically_and_leaves_no_staging(embedder, tmp_path: Path) -> None:
    store = FaqStore.load()
    first = build_index(_subset(store, 3), embedder, root=tmp_path, progress=lambda _: None)
    assert (tmp_path / "current").resolve() == first.resolve()
    second = build_index(_subset(store, 5), embedder, root=tmp_path, progress=lambda _: None)
    assert second != first and (tmp_path / "current").resolve() == second.resolve()
    assert not list(tmp_path.glob(".*partial"))
    loaded = LoadedIndex.current(tmp_path)
    assert len(loaded.entry_ids) == 5 and loaded.meta["entries"] == 5
    # The previous build stays intact for readers that still hold it.
    assert LoadedIndex(first).meta["entries"] == 3


def test_readers_during_a_rebuild_always_see_a_whole_index(embedder, tmp_path: Path) -> None:
    """Readers load `current` over and over while rebuilds run: every load is one complete build."""
    store = FaqStore.load()
    build_index(_subset(store, 3), embedder, root=tmp_path, progress=lambda _: None)
    seen: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                index = LoadedIndex.current(tmp_path)
                assert len(index.entry_ids) == index.meta["entries"] > 0
                assert index.dense.ntotal == len(index.phrasings) == index.meta["phrasings"]
                seen.append(index.meta["entries"])
            except BaseException as exc:  # noqa: BLE001 - collected and re-raised in the test thread
                errors.append(exc)
                return

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    try:
        for count in (8, 4, 12):
            build_index(_subset(store, count), embedder, root=tmp_path, progress=lambda _: None)
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert not errors, errors
    assert set(seen) <= {3, 8, 4, 12} and len(seen) > 3, seen
    assert LoadedIndex.current(tmp_path).meta["entries"] == 12
