"""Build and load the FAQ search index (dense FAISS + Kiwi BM25) over every phrasing.

A build writes into a hidden staging folder, renames it into place, then swaps
the ``current`` symlink with one atomic ``os.replace``: a reader never sees a
half-built index, and the previous one keeps serving until the swap.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from faq.embedder import Embedder
from faq.korean import lexical_terms
from faq.store import FaqStore

# Exact search is fastest and exact up to tens of thousands of vectors; past
# that HNSW keeps single-query latency flat as the FAQ grows.
APPROXIMATE_FROM = 20_000
HNSW_NEIGHBOURS = 32
HNSW_EF_SEARCH = 128
INDEX_FORMAT = 1


@dataclass(frozen=True)
class Phrasing:
    entry_id: str
    text: str


def collect_phrasings(store: FaqStore) -> list[Phrasing]:
    return [Phrasing(entry.id, text) for entry in store.entries for text in entry.phrasings]


def entry_layout(phrasings: list[Phrasing]) -> tuple[list[str], list[int]]:
    """Entry ids in first-seen order, and the index of each entry's first phrasing."""
    entry_ids: list[str] = []
    first_phrasing: list[int] = []
    seen: set[str] = set()
    for pid, phrasing in enumerate(phrasings):
        if phrasing.entry_id not in seen:
            seen.add(phrasing.entry_id)
            entry_ids.append(phrasing.entry_id)
            first_phrasing.append(pid)
    return entry_ids, first_phrasing


def current_key(root: Path) -> str | None:
    link = root / "current"
    return link.resolve().name if link.exists() else None


def index_key(store: FaqStore, model_spec: str) -> str:
    model_hash = hashlib.sha256(model_spec.encode()).hexdigest()[:8]
    return f"{store.fingerprint()}-{model_hash}-v{INDEX_FORMAT}"


def make_faiss_index(vectors: np.ndarray) -> Any:  # a faiss.Index
    import faiss

    dim = vectors.shape[1]
    index: Any
    if len(vectors) >= APPROXIMATE_FROM:
        index = faiss.IndexHNSWFlat(dim, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        index = faiss.IndexFlatIP(dim)
    index.add(vectors)
    return index


class EmbeddingCache:
    """Vectors by phrasing text for one model, kept beside the indexes: a publish embeds only what changed.

    One ``.npz`` per model (texts + vectors), replaced atomically; readers never see a half-written file.
    """

    def __init__(self, root: Path, model_spec: str) -> None:
        self.path = root / "embeddings" / f"{hashlib.sha256(model_spec.encode()).hexdigest()[:12]}.npz"
        self._vectors: dict[str, np.ndarray] = {}
        if self.path.exists():
            with np.load(self.path, allow_pickle=False) as data:
                self._vectors = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))
        else:
            self.seed(root / "current", model_spec)

    def seed(self, folder: Path, model_spec: str) -> int:
        """Take the vectors of an index built with the same model (an install that predates the cache)."""
        import faiss

        try:
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            if meta.get("model") != model_spec:
                return 0
            texts = [text for _, text in json.loads((folder / "phrasings.json").read_text(encoding="utf-8"))]
            index = faiss.read_index(str(folder / "dense.faiss"))
            vectors = index.reconstruct_n(0, index.ntotal)
        except (OSError, ValueError, RuntimeError):
            return 0
        for text, vector in zip(texts, vectors, strict=True):
            self._vectors.setdefault(text, vector)
        return len(texts)

    def encode(self, embedder: Embedder, texts: list[str], progress: Callable[[str], None]) -> np.ndarray:
        missing = sorted({t for t in texts if t not in self._vectors})
        if missing:
            progress(f"[index] embedding {len(missing)} new phrasings ({len(texts) - len(missing)} from the cache)")
            for text, vector in zip(missing, embedder.encode(missing, show_progress=len(missing) > 200), strict=True):
                self._vectors[text] = vector
            self._save()
        else:
            progress(f"[index] all {len(texts)} phrasings from the embedding cache")
        return np.stack([self._vectors[t] for t in texts]).astype(np.float32)

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        texts = list(self._vectors)
        tmp = self.path.with_name(f".{self.path.stem}.{os.getpid()}.{uuid.uuid4().hex[:6]}.npz")
        np.savez(tmp, texts=np.array(texts), vectors=np.stack([self._vectors[t] for t in texts]))
        os.replace(tmp, self.path)


def build_index(
    store: FaqStore,
    embedder: Embedder,
    root: Path,
    progress: Callable[[str], None] = print,
    force: bool = False,
    make_current: bool = True,
) -> Path:
    """Build (or reuse) the index for ``store`` under ``root``; returns its folder.

    Phrasing vectors come from the embedding cache where the text is unchanged. The build is written to
    a private staging folder and renamed into place, so readers (and a second process building the same
    content at the same time) only ever see a whole index.
    """
    import faiss

    root.mkdir(parents=True, exist_ok=True)
    key = index_key(store, embedder.key)
    final = root / key
    if final.exists() and not force:
        progress(f"[index] up to date ({key})")
        if make_current:
            _point_current(root, final)
        return final
    phrasings = collect_phrasings(store)
    progress(f"[index] {len(phrasings)} phrasings of {len(store.entries)} entries")
    started = time.perf_counter()
    vectors = EmbeddingCache(root, embedder.key).encode(embedder, [p.text for p in phrasings], progress)
    index = make_faiss_index(vectors)
    staging = root / f".{key}.{os.getpid()}.{uuid.uuid4().hex[:6]}.partial"
    staging.mkdir()
    faiss.write_index(index, str(staging / "dense.faiss"))
    (staging / "phrasings.json").write_text(
        json.dumps([[p.entry_id, p.text] for p in phrasings], ensure_ascii=False), encoding="utf-8"
    )
    meta = {
        "key": key,
        "model": embedder.key,
        "entries": len(store.entries),
        "phrasings": len(phrasings),
        "index_type": type(index).__name__,
        "build_seconds": round(time.perf_counter() - started, 2),
    }
    (staging / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    if force:
        shutil.rmtree(final, ignore_errors=True)
    try:
        staging.rename(final)
    except OSError:  # someone else built the same content first: theirs is whole, keep it
        shutil.rmtree(staging, ignore_errors=True)
    if make_current:
        _point_current(root, final)
    progress(f"[index] built {meta['index_type']} in {meta['build_seconds']} s -> {final}")
    return final


def _point_current(root: Path, target: Path) -> None:
    link = root / "current"
    tmp = root / f".current.{os.getpid()}.{uuid.uuid4().hex[:6]}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(target.name)
    os.replace(tmp, link)


class LoadedIndex:
    """A read-only index: FAISS over phrasings plus an in-memory BM25 (built with ``terms``, the
    release's lexicon, so county synonyms take effect without re-embedding)."""

    def __init__(self, folder: Path, terms: Callable[[str], list[str]] = lexical_terms) -> None:
        import bm25s
        import faiss

        self.folder = folder.resolve()
        self.meta = json.loads((self.folder / "meta.json").read_text(encoding="utf-8"))
        self.phrasings = [
            Phrasing(entry_id, text)
            for entry_id, text in json.loads((self.folder / "phrasings.json").read_text(encoding="utf-8"))
        ]
        self.dense = faiss.read_index(str(self.folder / "dense.faiss"))
        # BM25 sees one document per entry (all its phrasings together): a
        # single short phrasing sharing two generic terms with the query is
        # weaker evidence than an entry whose phrasings agree on the topic.
        self.entry_ids, self.first_phrasing = entry_layout(self.phrasings)
        documents: dict[str, list[str]] = {entry_id: [] for entry_id in self.entry_ids}
        for phrasing in self.phrasings:
            documents[phrasing.entry_id].extend(terms(phrasing.text))
        self.bm25 = bm25s.BM25()
        self.bm25.index([documents[e] or ["∅"] for e in self.entry_ids], show_progress=False)

    @classmethod
    def current(cls, root: Path, terms: Callable[[str], list[str]] = lexical_terms) -> LoadedIndex:
        link = root / "current"
        if not link.exists():
            raise FileNotFoundError(f"no FAQ index at {link}; run `minwon index build` (or `make index`)")
        return cls(link.resolve(), terms)

    def dense_search(self, query_vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, self.dense.ntotal)
        scores, ids = self.dense.search(query_vector.reshape(1, -1), k)
        keep = ids[0] >= 0
        return ids[0][keep], scores[0][keep]

    def bm25_scores(self, terms: list[str]) -> np.ndarray:
        """One score per entry, in ``entry_ids`` order."""
        if not terms:
            return np.zeros(len(self.entry_ids), dtype=np.float32)
        return np.asarray(self.bm25.get_scores(terms), dtype=np.float32)
