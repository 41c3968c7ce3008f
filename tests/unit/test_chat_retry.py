"""The widget's promise: a message retried with the same client id is answered once, nothing lost or duplicated."""

from __future__ import annotations

import threading
import time

from fastapi.testclient import TestClient

from api.db import Database
from api.settings import Settings
from tests.unit.handoff_app import ScriptedRasa, handoff_client


def resident_messages(db: Database) -> list[str]:
    from sqlalchemy import select

    from api.db.models import Message

    with db.session() as session:
        return list(session.scalars(select(Message.text).where(Message.sender == "resident").order_by(Message.id)))


def post(client: TestClient, token: str | None, text: str, client_id: str) -> dict:
    response = client.post("/api/v1/chat", json={"session": token, "text": text, "client_id": client_id})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_retried_client_id_gets_the_same_answer_and_reaches_rasa_once(
    db: Database, rasa: ScriptedRasa, settings: Settings
) -> None:
    with handoff_client(settings, db.url, rasa.url) as client:
        first = post(client, None, "여권 발급", "msg-1")
        again = post(client, first["session"], "여권 발급", "msg-1")
        assert again["messages"] == first["messages"]
        assert rasa.received == ["여권 발급"]
        other = post(client, first["session"], "여권 발급", "msg-2")  # a new message with the same words
        assert other["messages"][0]["id"] != first["messages"][0]["id"]
        assert rasa.received == ["여권 발급", "여권 발급"]
    assert resident_messages(db) == ["여권 발급", "여권 발급"]


def test_a_retry_sent_while_the_first_try_still_runs_waits_for_it(
    db: Database, rasa: ScriptedRasa, settings: Settings
) -> None:
    with handoff_client(settings, db.url, rasa.url) as client:
        token = post(client, None, "안녕하세요", "hello")["session"]
        rasa.answering.clear()  # Rasa is slow now: the first try hangs until we let it answer
        replies: list[dict] = []

        def send() -> None:
            replies.append(post(client, token, "전입신고 기한", "slow-1"))

        first = threading.Thread(target=send)
        first.start()
        while rasa.received.count("전입신고 기한") == 0:  # the first try has reached Rasa
            time.sleep(0.01)
        retry = threading.Thread(target=send)
        retry.start()
        retry.join(0.3)
        assert retry.is_alive(), "the retry must wait for the first try, not answer on its own"
        rasa.answering.set()
        first.join(10)
        retry.join(10)
        assert len(replies) == 2 and replies[0]["messages"] == replies[1]["messages"]
        assert rasa.received.count("전입신고 기한") == 1
    assert resident_messages(db).count("전입신고 기한") == 1
