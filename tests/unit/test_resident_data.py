"""A resident's 열람·삭제 request through the console (HTTP, SQLite and PostgreSQL): an admin finds the
conversation by its words, its number or the ticket's phone, opens it and deletes it with everything it left;
the deletion is audited with who, where from and how much, never what."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from api.console.auth import StaffAuth
from api.db import Database
from api.db.models import AuditEntry, Base, Conversation, Message, Ticket, Turn, Vote
from api.handoff.store import HandoffStore
from api.settings import Settings
from tests.unit.handoff_app import ScriptedRasa, login

PASSWORD = "correct horse battery"
PHONE = "010-9876-5432"


@pytest.fixture
def app(db: Database, settings: Settings, rasa: ScriptedRasa) -> Iterator[TestClient]:
    auth = StaffAuth(db)
    auth.add_user("root", PASSWORD, "admin", "개인정보 담당")
    auth.add_user("kim", PASSWORD, "officer", "김주무관")
    configured = dataclasses.replace(settings, database_url=db.url, rasa_url=rasa.url, office_override="open")
    with TestClient(create_app(configured), client=("10.9.8.7", 50000)) as client:
        yield client


def say(client: TestClient, session: str | None, text: str) -> str:
    response = client.post("/api/v1/chat", json={"session": session, "text": text})
    assert response.status_code == 200, response.text
    token: str = response.json()["session"]
    return token


def conversation_of(db: Database, words: str) -> str:
    with db.session() as session:
        found = session.scalar(select(Message.conversation_id).where(Message.text.contains(words)))
    assert found is not None
    return found


def count(db: Database, model: type[Base], conversation_id: str) -> int:
    with db.session() as session:
        column = model.__table__.c.conversation_id  # type: ignore[attr-defined]
        return int(session.scalar(select(func.count()).select_from(model).where(column == conversation_id)) or 0)


def test_an_admin_finds_views_and_deletes_a_residents_conversation(db: Database, app: TestClient) -> None:
    session = say(app, None, f"여권 재발급 비용이 궁금합니다. 제 번호는 {PHONE} 입니다")
    say(app, session, "사진 규격도 알려 주세요")
    say(app, None, "전입신고 서류 문의드립니다")
    mine, other = conversation_of(db, "여권 재발급"), conversation_of(db, "전입신고")
    store = HandoffStore(db)
    store.create_ticket(mine, "장도준", "010 9876 5432", "오전", "여권 문의", "v1")
    loose = store.create_ticket(None, "장도준", "+82 10-9876-5432", "오후", "사진 문의", "v1")
    with db.session() as s:
        s.add(Turn(conversation_id=mine, outcome="answered", overdue=False))
        s.add(Vote(conversation_id=mine, helpful=True, answer="", channel="button"))

    csrf = login(app, "kim", PASSWORD)
    assert app.get("/console/privacy").status_code == 403  # desk officers do not search everyone's data
    app.post("/console/logout", data={"csrf": csrf})
    csrf = login(app, "root", PASSWORD)

    by_words = app.get("/console/privacy", params={"by": "text", "q": "여권 재발급"})
    assert by_words.status_code == 200
    assert f"/console/privacy/conversations/{mine}" in by_words.text and other not in by_words.text
    assert PHONE not in by_words.text  # stored masked, shown masked
    by_phone = app.get("/console/privacy", params={"by": "phone", "q": "01098765432"})
    assert f"/console/privacy/conversations/{mine}" in by_phone.text
    assert f"/console/privacy/tickets/{loose}" in by_phone.text and other not in by_phone.text
    by_id = app.get("/console/privacy", params={"by": "conversation", "q": mine[:12]})
    assert f"/console/privacy/conversations/{mine}" in by_id.text and "찾은 대화 1건" in by_id.text

    record = app.get(f"/console/privacy/conversations/{mine}")
    assert record.status_code == 200 and "사진 규격도 알려 주세요" in record.text and "[전화번호]" in record.text

    url = f"/console/privacy/conversations/{mine}/delete"
    assert app.post(url, data={"csrf": "not-the-token"}).status_code == 403
    assert count(db, Message, mine) > 0
    deleted = app.post(url, data={"csrf": csrf})
    assert deleted.status_code == 200 and "삭제했습니다" in deleted.text
    for model in (Message, Turn, Vote, Ticket):
        assert count(db, model, mine) == 0, model
    with db.session() as s:
        assert s.get(Conversation, mine) is None and s.get(Conversation, other) is not None
        assert s.get(Ticket, loose) is not None  # a ticket without the conversation is its own deletion
    assert app.get(f"/console/privacy/conversations/{mine}").status_code == 404

    assert app.post(f"/console/privacy/tickets/{loose}/delete", data={"csrf": csrf}).status_code == 200
    with db.session() as s:
        assert s.get(Ticket, loose) is None
        audit = list(s.scalars(select(AuditEntry).where(AuditEntry.action.startswith("privacy."))))
    [erased] = [e for e in audit if e.action == "privacy.delete" and e.target.startswith("conversation:")]
    assert erased.actor == "root" and erased.client == "10.9.8.7"
    assert "messages=4" in erased.detail and "tickets=1" in erased.detail and "votes=1" in erased.detail
    recorded = " ".join(f"{e.target} {e.detail}" for e in audit)
    for secret in ("여권", "9876", "장도준", "사진"):  # neither the searches nor the deleted content
        assert secret not in recorded
    assert {e.action for e in audit} == {"privacy.search", "privacy.view", "privacy.delete"}


def test_a_conversation_with_an_open_handoff_is_not_deleted(db: Database, app: TestClient) -> None:
    session = say(app, None, "여권 문의드립니다")
    say(app, session, "상담원 연결해 주세요")
    waiting = conversation_of(db, "여권 문의")
    csrf = login(app, "root", PASSWORD)
    refused = app.post(f"/console/privacy/conversations/{waiting}/delete", data={"csrf": csrf})
    assert refused.status_code == 409 and "상담이 끝난 뒤 삭제해 주세요" in refused.text
    assert count(db, Message, waiting) > 0


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_deleting_a_conversation_deletes_rasas_copy_of_it_too(db: Database) -> None:
    """With Rasa's trackers in our PostgreSQL (api.rasa_stores) the resident's words are there as well."""
    import asyncio

    from sqlalchemy import text

    from api.kinds import Sender
    from api.resident_data import ResidentData
    from tests.databases import add_rasa_events

    HandoffStore(db).add_message("conv-erase", Sender.RESIDENT, "여권 재발급 문의")
    add_rasa_events(db.engine, [("conv-erase", 1.0, '{"text": "여권 재발급 문의"}'), ("conv-keep", 1.0, "{}")])
    counts = asyncio.run(ResidentData(db).erase("conv-erase", "root"))
    assert counts["rasa_events"] == 1 and counts["messages"] == 1
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT sender_id FROM rasa.events")).scalars().all() == ["conv-keep"]
