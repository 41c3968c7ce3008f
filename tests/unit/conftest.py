from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def embedder():
    from faq.embedder import Embedder
    from tests.conftest import BUILT_MODEL

    return Embedder(BUILT_MODEL)


@pytest.fixture(scope="session")
def retriever(embedder):
    from faq.index import LoadedIndex
    from faq.retriever import Retriever
    from faq.store import FaqStore
    from tests.conftest import BUILT_INDEX

    return Retriever(FaqStore.load(), LoadedIndex.current(BUILT_INDEX), embedder)


@pytest.fixture
def settings(own_var_dir):
    """Settings for an app under test: its own var folder, the built model and index, no background work."""
    from api.settings import Settings
    from tests.conftest import BUILT_INDEX, BUILT_MODEL

    return Settings(
        secret_key="test-secret-key-0123456789",
        var_dir=own_var_dir,
        embedding_model=BUILT_MODEL,
        index_dir=BUILT_INDEX,
        load_retriever=False,
        run_sweeper=False,
    )


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


@pytest.fixture(scope="session")
def kb_index_root(tmp_path_factory):
    """An index folder knowledge-release tests may write to: the built index copied in, so the
    embedding cache seeds from it and a release embeds only the phrasings a test changed."""
    import shutil

    from tests.conftest import BUILT_INDEX

    root = tmp_path_factory.mktemp("kb-index")
    built = (BUILT_INDEX / "current").resolve()
    shutil.copytree(built, root / built.name)
    (root / "current").symlink_to(built.name)
    return root


@pytest.fixture
def kb_settings(settings, kb_index_root, db):
    """Settings for knowledge-base tests: the test database, a writable index root, the desk closed."""
    import dataclasses

    return dataclasses.replace(settings, database_url=db.url, index_dir=kb_index_root, load_retriever=True)


@pytest.fixture
def rasa():
    """A scripted stand-in for Rasa's REST channel on a loopback port (see handoff_app.ScriptedRasa)."""
    from tests.unit.handoff_app import ScriptedRasa

    scripted = ScriptedRasa()
    yield scripted
    scripted.close()
