"""The widget's promise across api processes (MINWON_API_REPLICAS): a message retried with the same client
id is answered once and stored once, whichever process each try reaches. Two apps on one database stand
in for two processes (each has its own memory, so only the database can tell them about each other)."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient

from api.admission import Admission
from api.app import create_app
from api.db import Database
from api.handoff.store import AlreadyStored, HandoffStore
from api.settings import Settings
from tests.unit.handoff_app import ScriptedRasa
from tests.unit.test_chat_retry import post, resident_messages


@contextmanager
def two_processes(settings: Settings, db: Database, rasa: ScriptedRasa) -> Iterator[tuple[TestClient, TestClient]]:
    # Rasa's timeout is long: a first try held at Rasa must not time out while the test looks at it.
    configured = dataclasses.replace(
        settings, rasa_url=rasa.url, rasa_timeout=20.0, database_url=db.url, office_override="open"
    )
    with TestClient(create_app(configured)) as first, TestClient(create_app(configured)) as second:
        yield first, second


def conversation_of(client: TestClient, session: str) -> str:
    conversation = client.app.state.services.tokens.verify(session)  # type: ignore[attr-defined]
    assert conversation
    return str(conversation)


def test_a_retry_on_another_process_gets_the_first_answer_and_rasa_sees_it_once(
    db: Database, rasa: ScriptedRasa, settings: Settings
) -> None:
    with two_processes(settings, db, rasa) as (one, other):
        first = post(one, None, "여권 발급", "msg-1")
        again = post(other, first["session"], "여권 발급", "msg-1")
        assert again["messages"] == first["messages"] and again["handoff"] == first["handoff"]
        assert rasa.received == ["여권 발급"]
        # Asking for a person: the retry gets the same queue notice and position, and is queued once.
        person = post(one, first["session"], "상담원 연결해 주세요", "msg-2")
        assert person["handoff"]["state"] == "waiting"
        person_again = post(other, first["session"], "상담원 연결해 주세요", "msg-2")
        assert (person_again["messages"], person_again["handoff"]) == (person["messages"], person["handoff"])
        assert rasa.received == ["여권 발급", "상담원 연결해 주세요"]
    assert resident_messages(db) == ["여권 발급", "상담원 연결해 주세요"]


def test_a_retry_on_another_process_waits_for_the_first_try_still_running(
    db: Database, rasa: ScriptedRasa, settings: Settings
) -> None:
    with two_processes(settings, db, rasa) as (one, other):
        token = post(one, None, "안녕하세요", "hello")["session"]
        rasa.answering.clear()  # Rasa is slow now: the first try hangs until we let it answer
        replies: dict[str, dict[str, Any]] = {}

        def send(client: TestClient, name: str) -> None:
            replies[name] = post(client, token, "전입신고 기한", "slow-1")

        first = threading.Thread(target=send, args=(one, "first"))
        first.start()
        deadline = time.monotonic() + 10
        while "전입신고 기한" not in rasa.received and time.monotonic() < deadline:
            time.sleep(0.01)
        retry = threading.Thread(target=send, args=(other, "retry"))
        retry.start()
        retry.join(0.5)
        assert retry.is_alive(), "the retry must wait for the first try's answer, not answer on its own"
        rasa.answering.set()
        first.join(15)
        retry.join(15)
        assert replies["retry"]["messages"] == replies["first"]["messages"]
        assert rasa.received.count("전입신고 기한") == 1
    assert resident_messages(db).count("전입신고 기한") == 1


def test_a_retry_of_a_message_whose_process_died_is_answered_but_not_stored_again(
    db: Database, rasa: ScriptedRasa, settings: Settings
) -> None:
    with two_processes(settings, db, rasa) as (one, other):
        token = post(one, None, "안녕하세요", "hello")["session"]
        # The first try stored the words and its process died before Rasa answered.
        HandoffStore(db).add_resident_message(conversation_of(one, token), "여권 발급", "lost-1")
        other.app.state.services.chat.once.replay_wait = 0.3  # type: ignore[attr-defined]
        started = time.monotonic()
        answered = post(other, token, "여권 발급", "lost-1")
        assert time.monotonic() - started < 5  # waited a bounded time, then answered itself
        assert answered["messages"][0]["text"] == "여권은 민원실에서 신청하실 수 있습니다."
        kept = post(one, token, "여권 발급", "lost-1")
        assert kept["messages"] == answered["messages"]  # and that answer is the one kept
        assert rasa.received == ["안녕하세요", "여권 발급"]
    assert resident_messages(db) == ["안녕하세요", "여권 발급"]


def test_two_processes_storing_the_same_message_at_once_store_it_once(db: Database) -> None:
    stores = [HandoffStore(Database(db.url)) for _ in range(2)]
    HandoffStore(db).add_resident_message("race", "처음")  # the conversation exists, as on a retry
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def store(handoff: HandoffStore) -> None:
        start.wait()
        try:
            handoff.add_resident_message("race", "전입신고 기한", "same-id")
            outcomes.append("stored")
        except AlreadyStored as exc:
            outcomes.append(f"already:{exc.earlier.message.text}")

    threads = [threading.Thread(target=store, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for handoff in stores:
        handoff.db.dispose()
    assert sorted(outcomes) == ["already:전입신고 기한", "stored"]
    assert resident_messages(db) == ["처음", "전입신고 기한"]


def test_a_busy_answer_is_not_kept_the_retry_is_a_new_try_on_any_process(
    db: Database, rasa: ScriptedRasa, settings: Settings
) -> None:
    with two_processes(settings, db, rasa) as (one, other):
        token = post(one, None, "안녕하세요", "hello")["session"]
        full = Admission(active=1, max_waiting=0, max_wait=0.0)
        full.active = 1  # every place with Rasa taken, no waiting room
        one.app.state.services.chat.admission = full  # type: ignore[attr-defined]
        busy = one.post("/api/v1/chat", json={"session": token, "text": "음", "client_id": "busy-1"})
        assert busy.status_code == 503 and busy.json()["busy"] is True
        assert resident_messages(db) == ["안녕하세요"]  # nothing stored: the widget sends it again
        answered = post(other, token, "음", "busy-1")
        assert answered["messages"][0]["text"] == "여권은 민원실에서 신청하실 수 있습니다."
        full.active = 0
        assert post(one, token, "음", "busy-1")["messages"] == answered["messages"]  # from the database now
        assert rasa.received == ["안녕하세요", "음"]
    assert resident_messages(db) == ["안녕하세요", "음"]
