"""Residents' rate limits: turns per minute and callback requests per hour, per conversation and per
address; a refused message gets a polite Korean 429 and is not stored, so sending it again loses nothing."""

from __future__ import annotations

import dataclasses

import pytest
from fastapi.testclient import TestClient

from api.db import Database
from api.deps import Services
from api.ratelimit import Limit, RateLimiter
from api.settings import Settings, SettingsError
from tests.unit.handoff_app import ScriptedRasa, handoff_client

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_window_refuses_the_hit_over_the_limit_until_the_oldest_expires(db: Database) -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    three = [("k", Limit(3, 60.0))]
    for _ in range(3):
        assert limiter.hit(three) is None
        clock.now += 10
    assert limiter.hit(three) == pytest.approx(30.0)  # the first hit leaves the window at 1060
    clock.now = 1060.5
    assert limiter.hit(three) is None
    assert limiter.hit(three) is not None


def test_a_refused_hit_counts_against_no_key(db: Database) -> None:
    clock = Clock()
    limiter = RateLimiter(clock)
    assert limiter.hit([("session", Limit(1, 60.0))]) is None
    assert limiter.hit([("session", Limit(1, 60.0)), ("address", Limit(2, 60.0))]) is not None
    assert limiter.hit([("other", Limit(1, 60.0)), ("address", Limit(2, 60.0))]) is None  # address: 1 of 2


def chat(client: TestClient, session: str | None, text: str) -> tuple[int, dict]:
    response = client.post("/api/v1/chat", json={"session": session, "text": text})
    if response.status_code == 429:
        assert int(response.headers["retry-after"]) >= 1
    return response.status_code, response.json()


def test_too_many_turns_in_one_conversation_get_a_polite_429_and_are_not_stored(
    db: Database, rasa: ScriptedRasa, settings: Settings
) -> None:
    limited = dataclasses.replace(settings, turns_per_minute_session=3)
    with handoff_client(limited, db.url, rasa.url) as client:
        status, body = chat(client, None, "여권 재발급 하려면요")
        session = body["session"]
        statuses = [chat(client, session, f"질문 {n}")[0] for n in range(3)]
        assert [status, *statuses] == [200, 200, 200, 429]
        status, body = chat(client, session, "한 번 더요")
        assert status == 429 and body["session"] == session
        assert "너무 빠르게" in body["detail"] and "초 뒤에" in body["detail"] and body["retry_after"] >= 1
        assert len(rasa.received) == 3  # neither refused message reached the bot
        services: Services = client.app.state.services  # type: ignore[attr-defined]
        conversation = services.tokens.verify(session)
        assert conversation is not None
        stored = client.portal.call(services.desk.resident_messages, conversation)  # type: ignore[union-attr]
        assert [m.text for m in stored] == ["여권 재발급 하려면요", "질문 0", "질문 1"]
        # Another resident is not held up by this one.
        assert chat(client, None, "전입신고 어디서 해요")[0] == 200


def test_one_address_opening_conversation_after_conversation_is_limited_too(
    db: Database, rasa: ScriptedRasa, settings: Settings
) -> None:
    limited = dataclasses.replace(settings, turns_per_minute_address=4)
    with handoff_client(limited, db.url, rasa.url) as client:
        statuses = [chat(client, None, "여권 얼마예요")[0] for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429]


def test_the_websocket_refuses_a_flood_with_the_same_words(
    db: Database, rasa: ScriptedRasa, settings: Settings
) -> None:
    limited = dataclasses.replace(settings, turns_per_minute_session=2)
    with handoff_client(limited, db.url, rasa.url) as client, client.websocket_connect("/api/v1/ws") as socket:
        replies = []
        for n in range(3):
            socket.send_json({"type": "message", "text": f"질문 {n}", "id": n})
            replies.append(socket.receive_json())
    assert [r["type"] for r in replies] == ["bot", "bot", "error"]
    assert "너무 빠르게" in replies[2]["detail"] and replies[2]["id"] == 2


def test_repeated_callback_requests_are_refused_and_store_one_ticket(
    db: Database, rasa: ScriptedRasa, settings: Settings
) -> None:
    limited = dataclasses.replace(settings, callbacks_per_hour_session=1)
    with handoff_client(limited, db.url, rasa.url, office="closed") as client:
        session = chat(client, None, "여권 문의요")[1]["session"]
        form = {"session": session, "consent": True, "name": "홍길동", "phone": "010-1234-5678", "question": "여권"}
        first = client.post("/api/v1/callback", json=form)
        second = client.post("/api/v1/callback", json=form)
        services: Services = client.app.state.services  # type: ignore[attr-defined]
        tickets = client.portal.call(services.desk.tickets, None)  # type: ignore[union-attr]
    assert first.status_code == 200 and first.json()["stored"] is True
    assert second.status_code == 429 and second.json()["stored"] is False
    assert "분 뒤에" in second.json()["detail"]
    assert len(tickets) == 1


def test_limits_below_one_are_refused_with_the_variable_name(db: Database) -> None:
    with pytest.raises(SettingsError, match="MINWON_TURNS_PER_MINUTE_SESSION"):
        Settings(turns_per_minute_session=0, load_retriever=False)


def test_a_looping_long_poll_is_refused_and_the_messages_still_come(
    db: Database, rasa: ScriptedRasa, settings: Settings
) -> None:
    limited = dataclasses.replace(settings, polls_per_minute_session=3)
    with handoff_client(limited, db.url, rasa.url) as client:
        session = chat(client, None, "여권 문의요")[1]["session"]
        polls = [client.post("/api/v1/events", json={"session": session, "wait": 0}) for _ in range(4)]
        assert [p.status_code for p in polls] == [200, 200, 200, 429]
        assert "초 뒤에" in polls[3].json()["detail"] and int(polls[3].headers["retry-after"]) >= 1
        # Another resident polls as usual; the refused one's messages are read by id next time.
        other = chat(client, None, "전입신고요")[1]["session"]
        assert client.post("/api/v1/events", json={"session": other, "wait": 0}).status_code == 200
