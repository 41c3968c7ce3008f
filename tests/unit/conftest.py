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


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """A migrated database on each backend the product supports."""
    from api.db import Database
    from tests.databases import database_url

    with database_url(request.param, tmp_path) as url:
        database = Database(url)
        database.upgrade()
        try:
            yield database
        finally:
            database.dispose()
