"""Resident and officer sides of a handoff through the real api and database (Rasa scripted)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.console.auth import StaffAuth
from api.db import Database
from api.db.models import Ticket
from api.handoff import texts
from api.settings import Settings
from tests.unit.handoff_app import ScriptedRasa, handoff_client, login

PASSWORD = "correct horse battery"


@pytest.fixture
def app_db(db: Database) -> Database:
    auth = StaffAuth(db)
    auth.add_user("kim", PASSWORD, "officer", "민원팀 김주무관")
    auth.add_user("lee", PASSWORD, "officer", "민원팀 이주무관")
    return db


def say(client: TestClient, session: str | None, text: str) -> dict:
    response = client.post("/api/v1/chat", json={"session": session, "text": text})
    assert response.status_code == 200, response.text
    return response.json()


def test_live_handoff_from_request_to_officer_and_back_to_the_bot(
    app_db: Database, rasa: ScriptedRasa, settings: Settings
) -> None:
    with (
        handoff_client(settings, app_db.url, rasa.url) as resident,
        handoff_client(settings, app_db.url, rasa.url) as officer,
    ):
        first = say(resident, None, "여권 재발급 하려면요")
        session = first["session"]
        queued = say(resident, session, "상담원 연결해 주세요")
        assert queued["handoff"] == {"state": "waiting", "position": 1, "estimate_minutes": 5}
        assert "대기 순서는 1번째" in queued["messages"][0]["text"]
        assert queued["messages"][0]["buttons"][0]["action"] == "cancel_handoff"

        held = say(resident, session, "주민번호는 900101-1234567 입니다")
        assert held["messages"] == [] and held["handoff"]["state"] == "waiting"
        assert len(rasa.received) == 2  # the bot never saw the held message

        csrf = login(officer, "kim", PASSWORD)
        queue = officer.get("/console/api/queue").json()
        [item] = queue["items"]
        assert item["state"] == "waiting" and "900101-1234567" not in item["question"]
        assert officer.post(f"/console/api/handoffs/{item['id']}/accept").status_code == 403  # no CSRF token
        accepted = officer.post(f"/console/api/handoffs/{item['id']}/accept", headers={"X-CSRF-Token": csrf})
        assert accepted.status_code == 200
        sent = officer.post(
            f"/console/api/handoffs/{item['id']}/messages",
            json={"text": "안녕하세요, 여권 재발급 도와드리겠습니다."},
            headers={"X-CSRF-Token": csrf},
        )
        assert sent.status_code == 201

        events = resident.post("/api/v1/events", json={"session": session, "after": 0, "wait": 0}).json()
        officer_lines = [m for m in events["messages"] if m["sender"] == "officer"]
        assert officer_lines[0]["author"] == "민원팀 김주무관"
        assert events["handoff"] == {"state": "active", "officer": "민원팀 김주무관"}

        say(resident, session, "감사합니다 사진은요?")
        transcript = officer.get(f"/console/api/handoffs/{item['id']}/events").json()["messages"]
        assert transcript[-1]["text"] == "감사합니다 사진은요?" and len(rasa.received) == 2

        ended = officer.post(
            f"/console/api/handoffs/{item['id']}/finish", json={"how": "ended"}, headers={"X-CSRF-Token": csrf}
        )
        assert ended.status_code == 200
        after = max(m["id"] for m in events["messages"])
        closing = resident.post("/api/v1/events", json={"session": session, "after": after, "wait": 0}).json()
        assert closing["messages"][-1]["text"] == texts.OFFICER_ENDED and closing["handoff"] == {"state": "bot"}
        back = say(resident, session, "수수료는 얼마예요")
        assert back["messages"][0]["sender"] == "bot" and len(rasa.received) == 3


def test_a_second_officer_cannot_take_an_owned_conversation(
    app_db: Database, rasa: ScriptedRasa, settings: Settings
) -> None:
    with (
        handoff_client(settings, app_db.url, rasa.url) as resident,
        handoff_client(settings, app_db.url, rasa.url) as kim,
        handoff_client(settings, app_db.url, rasa.url) as lee,
    ):
        say(resident, None, "상담원")
        kim_csrf, lee_csrf = login(kim, "kim", PASSWORD), login(lee, "lee", PASSWORD)
        [item] = kim.get("/console/api/queue").json()["items"]
        url = f"/console/api/handoffs/{item['id']}"
        assert kim.post(f"{url}/accept", headers={"X-CSRF-Token": kim_csrf}).status_code == 200
        late = lee.post(f"{url}/accept", headers={"X-CSRF-Token": lee_csrf})
        assert late.status_code == 409 and "다른 담당자" in late.json()["detail"]
        reply = lee.post(f"{url}/messages", json={"text": "제가 할게요"}, headers={"X-CSRF-Token": lee_csrf})
        assert reply.status_code == 409


def test_resident_can_cancel_while_waiting(app_db: Database, rasa: ScriptedRasa, settings: Settings) -> None:
    with handoff_client(settings, app_db.url, rasa.url) as resident:
        session = say(resident, None, "상담원 연결")["session"]
        cancelled = resident.post("/api/v1/handoff/cancel", json={"session": session}).json()
        assert cancelled["handoff"] == {"state": "bot"} and cancelled["messages"][0]["text"] == texts.CANCELLED
        assert say(resident, session, "여권")["messages"][0]["sender"] == "bot"


def test_out_of_hours_offers_a_callback_and_stores_a_ticket_only_with_consent(
    app_db: Database, rasa: ScriptedRasa, settings: Settings
) -> None:
    with handoff_client(settings, app_db.url, rasa.url, office="closed") as resident:
        say(resident, None, "대형폐기물 스티커 어디서 사요")
        reply = say(resident, None, "상담원 연결해 주세요")
        session = reply["session"]
        assert reply["handoff"] == {"state": "bot"}
        assert "운영 시간" in reply["messages"][0]["text"]
        assert reply["messages"][0]["buttons"][0]["action"] == "callback"

        say(resident, session, "전입신고 서류가 궁금해요")
        say(resident, session, "상담원")
        form = resident.get("/api/v1/callback/form", params={"session": session}).json()
        assert form["question"] == "전입신고 서류가 궁금해요"
        assert {"items", "purpose", "retention", "refusal"} <= set(form["consent"])

        refused = resident.post(
            "/api/v1/callback",
            json={"session": session, "consent": False, "name": "홍길동", "phone": "010-1234-5678", "question": "전입"},
        ).json()
        assert refused["stored"] is False and "국민신문고" in refused["detail"]
        with app_db.session() as s:
            assert s.scalar(select(func.count()).select_from(Ticket)) == 0

        bad = resident.post(
            "/api/v1/callback",
            json={"session": session, "consent": True, "name": "홍길동", "phone": "1234", "question": "전입"},
        )
        assert bad.status_code == 422 and "전화번호" in bad.json()["detail"]
        for field, value, words in [
            ("name", "김" * 31, "성함은 30자 이내로 입력해 주세요."),
            ("phone", "0" * 21, "연락받으실 전화번호는 20자 이내로 입력해 주세요."),
            ("name", "   ", "성함을 입력해 주세요."),
        ]:
            form = {"session": session, "consent": True, "name": "홍길동", "phone": "010-1234-5678", "question": "전입"}
            refused_field = resident.post("/api/v1/callback", json={**form, field: value})
            assert refused_field.status_code == 422 and refused_field.json()["detail"] == words

        stored = resident.post(
            "/api/v1/callback",
            json={
                "session": session,
                "consent": True,
                "name": "홍길동",
                "phone": "010-1234-5678",
                "preferred_time": "평일 오후 2시 이후",
                "question": "전입신고 서류 문의, 제 메일은 hong@example.com",
            },
        ).json()
        assert stored["stored"] is True and f"접수번호 {stored['ticket']}" in stored["detail"]
        with app_db.session() as s:
            ticket = s.get(Ticket, stored["ticket"])
            assert ticket.phone == "010-1234-5678" and "hong@example.com" not in ticket.question


def test_rasa_down_keeps_the_message_and_offers_a_person(app_db: Database, settings: Settings) -> None:
    with handoff_client(settings, app_db.url, "http://127.0.0.1:9") as resident:
        response = resident.post("/api/v1/chat", json={"session": None, "text": "여권 발급"})
        assert response.status_code == 503
        body = response.json()
        assert body["messages"][0]["buttons"][0]["action"] == "handoff"
        session = body["session"]
        queued = resident.post("/api/v1/handoff", json={"session": session}).json()
        assert queued["handoff"]["state"] == "waiting"
    with handoff_client(settings, app_db.url, "http://127.0.0.1:9") as officer:
        login(officer, "kim", PASSWORD)
        [item] = officer.get("/console/api/queue").json()["items"]
        assert item["question"] == "여권 발급"  # what was typed while Rasa was down is not lost


def test_the_widget_reconnects_to_the_same_conversation_after_an_api_restart(
    app_db: Database, rasa: ScriptedRasa, settings: Settings
) -> None:
    with (
        handoff_client(settings, app_db.url, rasa.url) as resident,
        handoff_client(settings, app_db.url, rasa.url) as officer,
    ):
        session = say(resident, None, "상담원")["session"]
        csrf = login(officer, "kim", PASSWORD)
        [item] = officer.get("/console/api/queue").json()["items"]
        officer.post(f"/console/api/handoffs/{item['id']}/accept", headers={"X-CSRF-Token": csrf})
    # Both app instances are gone; a new one starts on the same database.
    with handoff_client(settings, app_db.url, rasa.url) as restarted:
        events = restarted.post("/api/v1/events", json={"session": session, "after": 0, "wait": 0}).json()
        assert events["handoff"] == {"state": "active", "officer": "민원팀 김주무관"}
        assert say(restarted, session, "아직 계신가요?")["messages"] == []  # still the officer's, not the bot's


def test_a_request_nobody_accepts_in_time_turns_into_a_callback_offer(app_db: Database) -> None:
    import asyncio
    import dataclasses
    from datetime import timedelta

    from api.handoff.config import HandoffConfig
    from api.handoff.desk import HandoffDesk
    from api.handoff.store import HandoffStore

    store = HandoffStore(app_db)
    config = dataclasses.replace(HandoffConfig.load(), wait_timeout=timedelta(0))
    desk = HandoffDesk(store, config)
    store.request("nobody-came", "resident")

    assert asyncio.run(desk.sweep()) == 1
    [offer] = store.messages("nobody-came")
    assert offer.text == texts.TIMED_OUT and offer.buttons[0]["action"] == "callback"
    assert store.status("nobody-came").state == "bot"


def test_long_polls_wake_up_when_the_officer_writes_and_the_queue_changes(
    app_db: Database, rasa: ScriptedRasa, settings: Settings
) -> None:
    """With wait > 0 a poll that sees nothing yet must return the change when it happens, not time out empty.

    One api process serves both sides here: wake-ups are in-process until they go through Redis.
    """
    import threading

    with handoff_client(settings, app_db.url, rasa.url) as resident:
        officer = resident  # the same process; the staff cookie does not matter to resident calls
        csrf = login(officer, "kim", PASSWORD)
        version = officer.get("/console/api/queue").json()["version"]
        polled: dict[str, dict] = {}

        def poll_queue() -> None:
            polled["queue"] = officer.get("/console/api/queue", params={"since": version, "wait": 20}).json()

        queue_poll = threading.Thread(target=poll_queue)
        queue_poll.start()
        session = say(resident, None, "상담원 연결해 주세요")["session"]
        queue_poll.join(20)
        assert polled["queue"]["version"] > version and len(polled["queue"]["items"]) == 1

        item_id = polled["queue"]["items"][0]["id"]
        officer.post(f"/console/api/handoffs/{item_id}/accept", headers={"X-CSRF-Token": csrf})
        after = resident.post("/api/v1/events", json={"session": session, "after": 0, "wait": 0}).json()
        latest = max(m["id"] for m in after["messages"])

        def poll_events() -> None:
            polled["events"] = resident.post(
                "/api/v1/events", json={"session": session, "after": latest, "wait": 20}
            ).json()

        events_poll = threading.Thread(target=poll_events)
        events_poll.start()
        officer.post(
            f"/console/api/handoffs/{item_id}/messages",
            json={"text": "무엇을 도와드릴까요?"},
            headers={"X-CSRF-Token": csrf},
        )
        events_poll.join(20)
        assert [m["text"] for m in polled["events"]["messages"]] == ["무엇을 도와드릴까요?"]
