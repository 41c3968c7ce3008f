"""The live knowledge base in the database (SQLite and PostgreSQL): versions, review, conflicts, baseline."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from api.console.auth import StaffAuth
from api.db import Database
from api.db.models import AuditEntry, utcnow
from api.kb.store import Actor, KbConflict, KbError, KbForbidden, KnowledgeStore, content_of
from api.kinds import Role, VersionStatus
from faq.store import FaqStore

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def pack() -> FaqStore:
    return FaqStore.load()


@pytest.fixture
def kb(db: Database, pack: FaqStore) -> KnowledgeStore:
    store = KnowledgeStore(db)
    # A slice of the pack keeps each test fast; the whole pack is imported by the service tests.
    store.import_baseline([e for e in pack.entries if e.topic in ("T01", "T06")], Actor.operator("system"))
    return store


def curator(db: Database, name: str, department: str) -> Actor:
    user = StaffAuth(db).add_user(name, PASSWORD, Role.CURATOR, name, department)
    return Actor.of(user)


def edited(kb: KnowledgeStore, entry_id: str, summary: str) -> dict:
    content = copy.deepcopy(kb.published(entry_id).content)
    content["answer"]["summary"] = summary
    return content


def test_the_pack_imports_once_as_published_versions(kb: KnowledgeStore, pack: FaqStore) -> None:
    entries = kb.published_entries()
    assert {e.id for e in entries} == {e.id for e in pack.entries if e.topic in ("T01", "T06")}
    again = kb.import_baseline([e for e in pack.entries if e.topic in ("T01", "T06")], Actor.operator("system"))
    assert again["added"] == again["updated"] == again["flagged"] == 0
    assert kb.published("T01-002").content == content_of(pack.by_id["T01-002"])


def test_draft_review_and_publish_with_two_accounts(db: Database, kb: KnowledgeStore) -> None:
    kim, lee = curator(db, "kim", "passport"), curator(db, "lee", "passport")
    draft = kb.save_draft("T01-002", edited(kb, "T01-002", "수수료가 바뀌었습니다."), 1, kim)
    assert (draft.number, draft.status) == (2, VersionStatus.DRAFT)
    assert kb.published("T01-002").number == 1  # residents still read v1
    kb.submit("T01-002", 2, kim)
    with pytest.raises(KbForbidden, match="다른 담당자가 승인"):
        kb.review("T01-002", 2, kim, approve=True)
    kb.review("T01-002", 2, lee, approve=True)
    assert kb.publish_due() == ["T01-002:v2"]
    published = kb.published("T01-002")
    assert published.number == 2 and published.content["answer"]["summary"] == "수수료가 바뀌었습니다."
    assert [v.status for v in kb.history("T01-002")] == [VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED]
    actions = {(a.actor, a.action, a.target) for a in _audit(db)}
    assert {("kim", "kb.save", "T01-002:v2"), ("lee", "kb.approve", "T01-002:v2")} <= actions


def test_a_rejected_version_is_not_published(db: Database, kb: KnowledgeStore) -> None:
    kim, lee = curator(db, "kim", "passport"), curator(db, "lee", "passport")
    kb.save_draft("T01-002", edited(kb, "T01-002", "틀린 안내"), 1, kim)
    kb.submit("T01-002", 2, kim)
    rejected = kb.review("T01-002", 2, lee, approve=False, comment="수수료 근거를 확인해 주세요")
    assert rejected.status == VersionStatus.REJECTED and kb.publish_due() == []
    assert kb.published("T01-002").number == 1


def test_the_second_of_two_editors_gets_a_conflict_and_nothing_is_lost(db: Database, kb: KnowledgeStore) -> None:
    kim, lee = curator(db, "kim", "passport"), curator(db, "lee", "passport")
    kb.save_draft("T01-002", edited(kb, "T01-002", "김 주무관의 수정"), 1, kim)
    with pytest.raises(KbConflict) as info:
        kb.save_draft("T01-002", edited(kb, "T01-002", "이 주무관의 수정"), 1, lee)
    assert info.value.latest == 2 and "다른 사용자가 새 버전(v2)" in str(info.value)
    assert kb.history("T01-002")[0].content["answer"]["summary"] == "김 주무관의 수정"
    # Opening the newest version and saving on top of it works.
    assert kb.save_draft("T01-002", edited(kb, "T01-002", "이 주무관의 수정"), 2, lee).number == 3


def test_curators_change_only_their_own_departments_entries(db: Database, kb: KnowledgeStore) -> None:
    welfare = curator(db, "park", "welfare")
    with pytest.raises(KbForbidden):
        kb.save_draft("T01-002", edited(kb, "T01-002", "남의 부서"), 1, welfare)
    admin = Actor("admin", Role.ADMIN)
    assert kb.save_draft("T01-002", edited(kb, "T01-002", "관리자 수정"), 1, admin).number == 2
    officer = Actor("choi", Role.OFFICER)
    with pytest.raises(KbForbidden):
        kb.set_synonym("주소 이전", "전입신고", officer)


def test_scheduled_publication_waits_for_its_time(db: Database, kb: KnowledgeStore) -> None:
    kim, lee = curator(db, "kim", "passport"), curator(db, "lee", "passport")
    kb.save_draft("T01-002", edited(kb, "T01-002", "3월 1일부터 적용"), 1, kim)
    kb.submit("T01-002", 2, kim)
    when = utcnow() + timedelta(days=3)
    kb.review("T01-002", 2, lee, approve=True, publish_at=when)
    assert kb.publish_due() == [] and kb.published("T01-002").number == 1
    assert kb.publish_due(now=when + timedelta(seconds=1)) == ["T01-002:v2"]
    assert kb.published("T01-002").number == 2


def test_rollback_publishes_the_previous_content_as_a_new_version(db: Database, kb: KnowledgeStore) -> None:
    admin = Actor("admin", Role.ADMIN)
    kb.save_draft("T01-002", edited(kb, "T01-002", "잘못 공개된 내용"), 1, admin)
    kb.publish_now("T01-002", 2, admin)
    back = kb.rollback("T01-002", None, admin)
    assert back.number == 3 and kb.published("T01-002").content == kb.version("T01-002", 1).content
    restored = kb.restore("T01-002", 2, admin)  # the console's restore: a draft, reviewed again
    assert restored.status == VersionStatus.DRAFT and kb.published("T01-002").number == 3


def test_a_new_pack_never_overwrites_a_county_edit(db: Database, kb: KnowledgeStore, pack: FaqStore) -> None:
    admin = Actor("admin", Role.ADMIN)
    kb.save_draft("T01-002", edited(kb, "T01-002", "군의 안내"), 1, admin)
    kb.publish_now("T01-002", 2, admin)
    newer = [e.model_copy(deep=True) for e in pack.entries if e.topic in ("T01", "T06")]
    for entry in newer:
        if entry.id in ("T01-002", "T01-003"):
            entry.answer.note = "새 팩의 안내"
    counts = kb.import_baseline(newer, Actor.operator("system"))
    assert counts["updated"] == 1 and counts["flagged"] == 1  # T01-003 follows the pack, T01-002 waits
    assert kb.published("T01-003").content["answer"]["note"] == "새 팩의 안내"
    assert kb.published("T01-002").content["answer"]["summary"] == "군의 안내"
    [row] = kb.search(status="baseline_changed")
    assert row.id == "T01-002"
    draft = kb.resolve_baseline("T01-002", accept=True, actor=admin)
    assert draft is not None and draft.content["answer"]["note"] == "새 팩의 안내"
    assert draft.status == VersionStatus.DRAFT and kb.published("T01-002").number == 2


def test_search_filters_and_overdue_reviews(db: Database, kb: KnowledgeStore) -> None:
    admin = Actor("admin", Role.ADMIN)
    content = edited(kb, "T06-001", kb.published("T06-001").content["answer"]["summary"])
    content["review_by"] = "2026-01-31"
    kb.save_draft("T06-001", content, 1, admin)
    kb.publish_now("T06-001", 2, admin)
    assert "T06-001" in [r.id for r in kb.search(text="인감증명서는 어떻게")]
    assert [r.id for r in kb.search(text="매도용 인감증명서는 어떻게")] == ["T06-009"]
    overdue = kb.search(overdue_on=utcnow().date())
    assert [r.id for r in overdue] == ["T06-001"]
    assert all(r.topic == "T06" for r in kb.search(topic="T06"))


def test_unknown_entries_and_versions_are_named(kb: KnowledgeStore) -> None:
    admin = Actor("admin", Role.ADMIN)
    with pytest.raises(KbError, match="없는 항목입니다: T99-001"):
        kb.submit("T99-001", 1, admin)
    with pytest.raises(KbError, match="없는 버전입니다: T01-002 v9"):
        kb.submit("T01-002", 9, admin)


def _audit(db: Database) -> list[AuditEntry]:
    from sqlalchemy import select

    with db.session() as session:
        return list(session.scalars(select(AuditEntry)))
