"""Two api processes on PostgreSQL + Redis, no sticky sessions: a resident on one process and the
officer on the other talk live (Redis wakes the long poll the other process holds), and when the
resident's process is killed with SIGKILL mid-handoff the conversation carries on at the other one
with nothing lost or doubled."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from api.runner import Stack
from tests.databases import throwaway_postgres
from tests.e2e.conftest import OFFICER, add_accounts, stack_settings
from tests.unit.handoff_app import login

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="module")
def two_apis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with throwaway_postgres() as database_url:
        settings = stack_settings(
            tmp_path_factory.mktemp("scale-var"), database_url=database_url, redis_url=REDIS_URL, api_replicas=2
        )
        add_accounts(settings)
        running = Stack(settings)
        running.start()
        try:
            running.wait_ready(timeout=420, say=lambda line: print(line, flush=True))
            yield running
        finally:
            running.stop()


def test_resident_and_officer_on_different_processes_and_one_killed(two_apis: Stack) -> None:
    resident_url, officer_url = two_apis.api_urls
    resident = httpx.Client(base_url=resident_url, timeout=60)
    officer = httpx.Client(base_url=officer_url, timeout=60)
    first = resident.post("/api/v1/chat", json={"text": "상담원 연결해 주세요"})
    assert first.status_code == 200, first.text
    session = first.json()["session"]
    assert first.json()["handoff"]["state"] == "waiting"

    csrf = login(officer, OFFICER[0], OFFICER[2])  # an httpx.Client: the same calls as a TestClient
    queue = officer.get("/console/api/queue").json()
    handoff_id = next(item["id"] for item in queue["items"] if item["state"] == "waiting")
    headers = {"X-CSRF-Token": csrf}
    assert officer.post(f"/console/api/handoffs/{handoff_id}/accept", headers=headers).status_code == 200

    # The resident's long poll sits on process 1; the officer writes on process 2. Without the wake-up
    # through Redis the poll would come back empty when its wait ends.
    after = max(
        m["id"] for m in resident.post("/api/v1/events", json={"session": session, "wait": 0}).json()["messages"]
    )
    polled: dict[str, object] = {}
    poll = threading.Thread(
        target=lambda: polled.update(
            resident.post("/api/v1/events", json={"session": session, "after": after, "wait": 20}).json()
        )
    )
    poll.start()
    threading.Event().wait(1.0)  # the poll is waiting now
    sent = officer.post(
        f"/console/api/handoffs/{handoff_id}/messages", json={"text": "네, 무엇을 도와드릴까요?"}, headers=headers
    )
    assert sent.status_code == 201, sent.text
    poll.join(30)
    assert [m["text"] for m in polled["messages"]] == ["네, 무엇을 도와드릴까요?"]  # type: ignore[index]

    two_apis.kill_api(0)  # the resident's process dies mid-handoff
    survivor = httpx.Client(base_url=officer_url, timeout=60)
    typed = survivor.post("/api/v1/chat", json={"text": "여권 재발급 문의입니다", "session": session})
    assert typed.status_code == 200, typed.text
    assert typed.json()["handoff"]["state"] == "active"  # still the officer's conversation
    seen = officer.get(f"/console/api/handoffs/{handoff_id}/events").json()["messages"]
    resident_lines = [m["text"] for m in seen if m["sender"] == "resident"]
    assert resident_lines == ["상담원 연결해 주세요", "여권 재발급 문의입니다"]  # nothing lost, nothing twice
