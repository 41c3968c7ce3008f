"""Two real Rasa replicas behind the api: a conversation's tracker lives on its own replica, and when
that replica is killed (SIGKILL) the resident keeps getting the dialogue engine's answers from the
other one, not the Rasa-down apology and not the simpler answers without Rasa."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from api.degraded import NOTE
from api.rasa_client import replica_order
from api.runner import Stack
from tests.e2e.conftest import stack_settings
from tests.e2e.test_chat_e2e import chat, conversation_id, fact

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def replicated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    settings = stack_settings(tmp_path_factory.mktemp("replicas-var"), rasa_replicas=2)
    running = Stack(settings)
    running.start()
    try:
        running.wait_ready(timeout=420, say=lambda line: print(line, flush=True))
        yield running
    finally:
        running.stop()


def tracker_events(stack: Stack, replica: int, sid: str) -> int:
    response = httpx.get(
        f"{stack.rasa_urls[replica]}/conversations/{sid}/tracker", params={"token": stack.rasa_token}, timeout=10
    )
    response.raise_for_status()
    return sum(1 for e in response.json()["events"] if e.get("event") == "user")


def test_a_killed_replica_hands_its_conversations_to_the_other(replicated: Stack) -> None:
    first = chat(replicated, "안녕하세요")
    assert first.status_code == 200, first.text
    session = first.json()["session"]
    sid = conversation_id(replicated, session)
    home, other = replica_order(sid, 2)
    assert tracker_events(replicated, home, sid) == 1  # the turn went to its own replica only
    assert tracker_events(replicated, other, sid) == 0

    replicated.kill_rasa(home)
    answer = chat(replicated, "여권 재발급 수수료 얼마예요?", session)
    assert answer.status_code == 200, answer.text
    texts = [m["text"] for m in answer.json()["messages"]]
    assert any(fact("passport.fee_10y_58") in text for text in texts)
    assert NOTE not in texts  # the other replica's dialogue engine answered, not retrieval alone
    assert tracker_events(replicated, other, sid) == 1
    ready = httpx.get(f"{replicated.api_url}/readyz", timeout=10).json()
    assert ready["status"] == "ready" and ready["rasa_replicas"].count("ok") == 1
