"""Publishing makes a new knowledge release residents are answered from at once, in every api process."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt

import pytest

from api.kb.service import KnowledgeService
from api.kb.store import Actor
from api.kinds import Role
from api.knowledge import Knowledge
from api.settings import Settings
from faq.check import today_kst

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)
ADMIN = Actor("admin", Role.ADMIN)


def started(settings: Settings, embedder) -> KnowledgeService:
    from api.db import Database

    service = KnowledgeService(settings, Database(settings.database_url), Knowledge(settings, embedder))
    asyncio.run(service.start())
    assert service.knowledge.current() is not None, service.knowledge.error
    return service


def publish(service: KnowledgeService, entry_id: str, change) -> None:
    content = copy.deepcopy(service.store.published(entry_id).content)
    change(content)
    latest = service.store.entry_state(entry_id).latest_version
    draft = asyncio.run(service.save_draft(entry_id, content, latest, ADMIN))
    asyncio.run(service.publish_now(entry_id, draft.number, ADMIN))


def answer(service: KnowledgeService, question: str) -> tuple[str, str]:
    retriever = service.knowledge.current()
    assert retriever is not None
    result = retriever.search(question)
    return result.decision, result.results[0].answer if result.results else ""


def test_first_start_imports_the_pack_and_a_published_edit_is_answered_without_restart(
    kb_settings: Settings, embedder
) -> None:
    service = started(kb_settings, embedder)
    retriever = service.knowledge.current()
    assert retriever is not None and len(retriever.store.entries) >= 450
    first_release = service.knowledge.release_id

    publish(service, "T01-002", lambda c: c["answer"].update(note="창구 대기가 길면 정부24 재발급을 이용해 주세요."))

    assert service.knowledge.release_id != first_release
    decision, text = answer(service, "여권 수수료 얼마예요")
    assert decision == "answer" and "창구 대기가 길면 정부24 재발급을 이용해 주세요." in text
    # A second api process on the same database follows the new release without a restart.
    other = KnowledgeService(kb_settings, service.store.db, Knowledge(kb_settings, embedder))
    other.knowledge.swap(retriever, first_release, {})
    asyncio.run(other.follow_releases())
    assert other.knowledge.release_id == service.knowledge.release_id
    assert "창구 대기가 길면" in answer(other, "여권 수수료 얼마예요")[1]


def test_an_expired_answer_is_no_longer_served(kb_settings: Settings, embedder) -> None:
    service = started(kb_settings, embedder)
    yesterday = (today_kst() - dt.timedelta(days=1)).isoformat()
    publish(service, "T01-002", lambda c: c.update(expires=yesterday))
    decision, _ = answer(service, "여권 수수료 얼마예요")
    assert decision == "expired"
    tomorrow = (today_kst() + dt.timedelta(days=1)).isoformat()
    publish(service, "T01-002", lambda c: c.update(expires=tomorrow))
    assert answer(service, "여권 수수료 얼마예요")[0] == "answer"


def test_archived_entries_leave_the_release(kb_settings: Settings, embedder) -> None:
    service = started(kb_settings, embedder)
    asyncio.run(service.set_archived("T01-002", True, ADMIN))
    retriever = service.knowledge.current()
    assert retriever is not None and "T01-002" not in retriever.store.by_id


def test_a_county_synonym_reaches_lexical_retrieval(kb_settings: Settings, embedder) -> None:
    service = started(kb_settings, embedder)
    asyncio.run(service.set_synonym("둥지 옮김", "전입신고", ADMIN))
    retriever = service.knowledge.current()
    assert retriever is not None
    assert "전입신고" in retriever.store.lexicon.terms("둥지 옮김 어디서 하나요")
    lexical = retriever.candidates("둥지 옮김 어디서 하나요", mode="bm25").lexical
    best = max(lexical, key=lambda entry_id: lexical[entry_id][0])
    assert best.startswith("T04-")


def test_content_that_would_not_render_is_refused_before_it_is_saved(kb_settings: Settings, embedder) -> None:
    from faq.store import FaqLoadError

    service = started(kb_settings, embedder)
    content = copy.deepcopy(service.store.published("T01-002").content)
    content["answer"]["fee"] = "{fact.passport.fee_20y}"
    with pytest.raises(FaqLoadError, match=r"unknown placeholder \{fact.passport.fee_20y\}"):
        asyncio.run(service.save_draft("T01-002", content, 1, ADMIN))
    assert service.store.entry_state("T01-002").latest_version == 1
