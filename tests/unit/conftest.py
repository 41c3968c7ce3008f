from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def embedder():
    from faq.embedder import Embedder

    return Embedder()


@pytest.fixture(scope="session")
def retriever(embedder):
    from faq.index import LoadedIndex
    from faq.retriever import Retriever
    from faq.store import FaqStore

    return Retriever(FaqStore.load(), LoadedIndex.current(), embedder)
