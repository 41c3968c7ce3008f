"""Two real Rasa replicas on PostgreSQL + Redis share Rasa's SQL tracker store and a Redis lock store: when
the conversation's replica is killed (SIGKILL) the other one carries on the dialogue where it was, so a
follow-up that only makes sense after the previous answer ("그거 수수료는요?" after a lost passport) is
answered about the passport. Rasa's rows are in PostgreSQL, in a schema of their own."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from api.degraded import NOTE
from api.rasa_client import replica_order
from api.rasa_stores import RASA_SCHEMA
from api.runner import Stack
from tests.databases import throwaway_postgres
from tests.e2e.conftest import stack_settings
from tests.e2e.test_chat_e2e import chat, conversation_id, fact
from tests.e2e.test_rasa_replicas_e2e import tracker_events

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, str]]:
    with throwaway_postgres() as database_url:
        settings = stack_settings(
            tmp_path_factory.mktemp("shared-tracker-var"),
            database_url=database_url,
            redis_url=REDIS_URL,
            rasa_replicas=2,
        )
        running = Stack(settings)
        running.start()
        try:
            running.wait_ready(timeout=420, say=lambda line: print(line, flush=True))
            yield running, database_url
        finally:
            running.stop()


def rasa_rows(database_url: str, sid: str) -> list[str]:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(
            f"SELECT type_name FROM {RASA_SCHEMA}.events WHERE sender_id = %s ORDER BY id",
            (sid,),
        ).fetchall()
    return [row[0] for row in rows]


def test_the_surviving_replica_carries_on_the_conversation_where_it_was(shared: tuple[Stack, str]) -> None:
    stack, database_url = shared
    first = chat(stack, "여권 잃어버렸어요")
    assert first.status_code == 200, first.text
    assert "분실" in "\n".join(m["text"] for m in first.json()["messages"])
    session = first.json()["session"]
    sid = conversation_id(stack, session)
    home, other = replica_order(sid, 2)
    assert tracker_events(stack, other, sid) == 1  # the other replica reads the same tracker already
    assert "user" in rasa_rows(database_url, sid) and "slot" in rasa_rows(database_url, sid)

    stack.kill_rasa(home)
    follow_up = chat(stack, "그거 수수료는요?", session)
    assert follow_up.status_code == 200, follow_up.text
    texts = [m["text"] for m in follow_up.json()["messages"]]
    assert any(fact("passport.fee_10y_58") in text for text in texts), texts  # the passport's fee: it remembered
    assert NOTE not in texts  # the dialogue engine answered, not retrieval alone
    assert tracker_events(stack, other, sid) == 2
    assert rasa_rows(database_url, sid).count("user") == 2
