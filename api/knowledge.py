"""The FAQ residents are answered from: loaded at start-up, replaced whole, never half-built."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from api.settings import Settings

if TYPE_CHECKING:
    from faq.retriever import Retriever

log = logging.getLogger("minwon.knowledge")


def load_retriever(settings: Settings) -> Retriever:
    """The content pack, the current index and the embedding model named by ``settings``."""
    from faq.embedder import Embedder
    from faq.index import LoadedIndex
    from faq.retriever import Retriever
    from faq.store import FaqStore

    store = FaqStore.load(county_file=settings.county_file)
    return Retriever(store, LoadedIndex.current(settings.index_root), Embedder(settings.embedding_model))


class Knowledge:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.retriever: Retriever | None = None
        self.info: dict[str, Any] | None = None
        self.error: str | None = None

    def current(self) -> Retriever | None:
        return self.retriever

    def load(self) -> None:
        """Load the content pack and the current index (blocking; run it in a thread)."""
        try:
            retriever = load_retriever(self.settings)
            retriever.search("여권 발급")  # warm Kiwi and torch before the first resident
        except Exception as exc:
            log.exception("FAQ retrieval failed to load")
            self.error = f"{type(exc).__name__}: {exc}"
            return
        self.retriever, self.info, self.error = retriever, retriever.index.meta, None
