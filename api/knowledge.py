"""The FAQ residents are answered from: one knowledge release at a time, replaced whole, never half-built.

``KnowledgeService`` (api/kb/service.py) builds releases from the database and calls ``swap``; the
bot's actions read ``current()`` on every turn, so a new release is answered from at once.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from api.settings import Settings

if TYPE_CHECKING:
    from faq.embedder import Embedder
    from faq.retriever import Retriever

log = logging.getLogger("minwon.knowledge")


def load_retriever(settings: Settings) -> Retriever:
    """The content pack files, the current index and the embedding model named by ``settings``
    (the CLI and evaluation scripts; the running api answers from the database's release)."""
    from faq.embedder import Embedder
    from faq.index import LoadedIndex
    from faq.retriever import Retriever
    from faq.store import FaqStore

    store = FaqStore.load(county_file=settings.county_file)
    return Retriever(
        store, LoadedIndex.current(settings.index_root), Embedder(settings.embedding_model, backend=settings.encoder)
    )


class Knowledge:
    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.retriever: Retriever | None = None
        self.release_id: int | None = None
        self.info: dict[str, Any] | None = None
        self.error: str | None = None
        self.swapped_at: float | None = None  # Unix time this process started serving the release
        self._embedder: Embedder | None = embedder
        self._embedder_lock = threading.Lock()

    def current(self) -> Retriever | None:
        return self.retriever

    def embedder(self) -> Embedder:
        """One embedding model per process, shared by every release."""
        with self._embedder_lock:
            if self._embedder is None:
                from faq.embedder import Embedder

                self._embedder = Embedder(
                    self.settings.embedding_model, threads=self.settings.model_threads, backend=self.settings.encoder
                )
            return self._embedder

    def swap(self, retriever: Retriever, release_id: int | None, info: dict[str, Any]) -> None:
        # One reference assignment: a turn in flight keeps the release it started with.
        self.retriever, self.release_id, self.info, self.error = retriever, release_id, info, None
        self.swapped_at = time.time()

    def failed(self, error: str) -> None:
        self.error = error
