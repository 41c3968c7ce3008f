"""Index choice by size and the atomic swap of a rebuilt index."""

from __future__ import annotations

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


def test_rebuild_swaps_current_atomically_and_leaves_no_staging(embedder, tmp_path: Path) -> None:
    store = FaqStore.load()
    small = FaqStore(store.entries[:3], store.profile)
    first = build_index(small, embedder, root=tmp_path, progress=lambda _: None)
    assert (tmp_path / "current").resolve() == first.resolve()
    bigger = FaqStore(store.entries[:5], store.profile)
    second = build_index(bigger, embedder, root=tmp_path, progress=lambda _: None)
    assert second != first and (tmp_path / "current").resolve() == second.resolve()
    assert not list(tmp_path.glob(".*partial"))
    loaded = LoadedIndex.current(tmp_path)
    assert len(loaded.entry_ids) == 5 and loaded.meta["entries"] == 5
    # The previous build stays intact for readers that still hold it.
    assert LoadedIndex(first).meta["entries"] == 3
