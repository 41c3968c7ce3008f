"""A busy or broken Rasa is not an outage: turns queue for Rasa in arrival order, a turn that cannot
get a place in time is told "busy" (nothing stored, sent again by the client), and while Rasa is busy
or down FAQ questions are answered straight from retrieval with the person / callback offer."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.admission import Admission, Saturated
from api.app import create_app
from api.chat import RASA_DOWN
from api.db import Database
from api.db.models import Conversation
from api.degraded import BUSY, NOTE
from api.handoff.store import HandoffStore
from api.settings import Settings
from tests.unit.test_api_faults import RELEASE, closed_port, slow_rasa  # noqa: F401  # the held-back Rasa fixture

SQLITE_ONLY = pytest.mark.parametrize("db", ["sqlite"], indirect=True)
FAQ_QUESTION = "여권 재발급 수수료 얼마예요?"
NOT_A_QUESTION = "음"


# ---- the queue itself ----
def test_turns_get_places_in_arrival_order_and_never_more_than_the_limit_at_once() -> None:
    async def run() -> tuple[list[int], int]:
        admission = Admission(active=2, max_waiting=10, max_wait=5.0)
        order: list[int] = []
        busiest = 0

        async def turn(n: int) -> None:
            nonlocal busiest
            async with admission.slot():
                busiest = max(busiest, admission.active)
                order.append(n)
                await asyncio.sleep(0.01)

        tasks = []
        for n in range(8):
            tasks.append(asyncio.create_task(turn(n)))
            await asyncio.sleep(0)  # each arrives after the one before
        await asyncio.gather(*tasks)
        return order, busiest

    order, busiest = asyncio.run(run())
    assert order == list(range(8))
    assert busiest == 2


def test_a_full_queue_refuses_at_once_with_a_retry_time() -> None:
    async def run() -> tuple[float, int]:
        admission = Admission(active=1, max_waiting=1, max_wait=5.0)
        gate = asyncio.Event()

        async def hold() -> None:
            async with admission.slot():
                await gate.wait()

        first = asyncio.create_task(hold())
        second = asyncio.create_task(hold())
        await asyncio.sleep(0.01)
        started = time.perf_counter()
        with pytest.raises(Saturated) as refused:
            async with admission.slot():
                pass
        waited = time.perf_counter() - started
        gate.set()
        await asyncio.gather(first, second)
        async with admission.slot():  # places come back once the holders are done
            pass
        return waited, refused.value.retry_after

    waited, retry_after = asyncio.run(run())
    assert waited < 1.0  # not the whole 5 s wait
    assert retry_after >= 1


def test_a_turn_that_waits_too_long_gives_up_and_the_queue_carries_on() -> None:
    async def run() -> bool:
        admission = Admission(active=1, max_waiting=10, max_wait=0.1, initial_seconds=0.0)
        gate = asyncio.Event()

        async def hold() -> None:
            async with admission.slot():
                await gate.wait()

        holder = asyncio.create_task(hold())
        await asyncio.sleep(0.01)
        with pytest.raises(Saturated):
            async with admission.slot():
                pass
        gate.set()
        await holder
        async with admission.slot():
            return admission.snapshot().waiting == 0

    assert asyncio.run(run())


# ---- through the api ----
@pytest.fixture
def app(kb_settings: Settings, slow_rasa: str) -> Iterator[TestClient]:  # noqa: F811
    # One place with Rasa and no waiting room: a second turn while the first is with Rasa is "busy".
    # The held turn must not time out while the test works (a loaded CI machine is slow).
    configured = dataclasses.replace(
        kb_settings, rasa_url=slow_rasa, rasa_timeout=60.0, rasa_concurrency=1, rasa_queue=0, run_sweeper=False
    )
    with TestClient(create_app(configured)) as client:
        yield client


@pytest.fixture
def app_without_rasa(kb_settings: Settings) -> Iterator[TestClient]:
    configured = dataclasses.replace(kb_settings, rasa_url=f"http://127.0.0.1:{closed_port()}", run_sweeper=False)
    with TestClient(create_app(configured)) as client:
        yield client


def conversation_of(client: TestClient, session: str) -> str:
    conversation = client.app.state.services.tokens.verify(session)  # type: ignore[attr-defined]
    assert conversation
    return str(conversation)


@SQLITE_ONLY
def test_busy_rasa_answers_faq_from_retrieval_and_asks_the_rest_to_wait(app: TestClient, db: Database) -> None:
    admission = app.app.state.services.chat.admission  # type: ignore[attr-defined]
    held: dict[str, int] = {}
    first = threading.Thread(
        target=lambda: held.update(status=app.post("/api/v1/chat", json={"text": "전입신고"}).status_code)
    )
    first.start()
    deadline = time.monotonic() + 10
    while admission.active < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert admission.active == 1  # the first turn is with (the held-back) Rasa

    # Not something retrieval can answer: "please wait", with Retry-After, and nothing stored.
    waiting = app.post("/api/v1/chat", json={"text": NOT_A_QUESTION})
    assert waiting.status_code == 503
    body = waiting.json()
    assert body["busy"] is True and body["detail"] == BUSY and body["detail"] != RASA_DOWN
    assert int(waiting.headers["Retry-After"]) >= 1
    assert HandoffStore(db).messages(conversation_of(app, body["session"])) == []

    # A plain FAQ question is answered from retrieval, with the person / callback offer after it.
    answered = app.post("/api/v1/chat", json={"text": FAQ_QUESTION, "session": body["session"]})
    assert answered.status_code == 200
    messages = answered.json()["messages"]
    assert "원" in messages[0]["text"] and "여권" in messages[0]["text"]  # the fee answer itself
    assert messages[-1]["text"] == NOTE
    assert {b["action"] for b in messages[-1]["buttons"]} <= {"handoff", "callback"}
    with db.session() as session:
        stored = session.get(Conversation, conversation_of(app, body["session"]))
        assert stored is not None and stored.bot_context is not None
        assert stored.bot_context["engine"] == "retrieval" and stored.bot_context["degraded"] == "busy"
    RELEASE.set()
    first.join(10)
    assert held["status"] == 200


@SQLITE_ONLY
def test_rasa_down_still_answers_faq_greets_and_connects(app_without_rasa: TestClient) -> None:
    app = app_without_rasa  # timing out takes the same path (tests/unit/test_api_faults.py times it out)
    answered = app.post("/api/v1/chat", json={"text": FAQ_QUESTION})
    assert answered.status_code == 200
    session = answered.json()["session"]
    assert answered.json()["messages"][-1]["text"] == NOTE
    greeting = app.post("/api/v1/chat", json={"text": "안녕하세요", "session": session})
    assert greeting.status_code == 200
    assert "민원 안내 챗봇입니다" in greeting.json()["messages"][0]["text"]
    assert "[[" not in greeting.json()["messages"][0]["text"]  # county markers filled
    # Nothing retrieval knows: the real-fault apology, not the busy text.
    unknown = app.post("/api/v1/chat", json={"text": NOT_A_QUESTION, "session": session})
    assert unknown.status_code == 503 and unknown.json()["detail"] == RASA_DOWN
    person = app.post("/api/v1/chat", json={"text": "상담원 연결해 주세요", "session": session})
    assert person.status_code == 200
    handoff = person.json()["handoff"]
    texts = " ".join(m["text"] for m in person.json()["messages"])
    # In office hours the resident is queued; outside them, offered a callback.
    assert handoff["state"] == "waiting" or "전화 상담" in texts
