"""The metrics county IT scrapes: a real Prometheus endpoint on its own bind, fed by real turns and handoffs;
/readyz reports the database; JSON log lines."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import socket

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.console.auth import StaffAuth
from api.db import Database
from api.ops.logs import configure_logging, formatter
from api.settings import Settings, SettingsError
from tests.databases import ADMIN_URL, throwaway_postgres
from tests.unit.handoff_app import ScriptedRasa, handoff_client, login

PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_turns_rasa_failures_queue_and_handoff_wait_are_scraped(
    db: Database, rasa: ScriptedRasa, settings: Settings
) -> None:
    StaffAuth(db).add_user("kim", PASSWORD, "officer", "민원팀 김주무관")
    port = free_port()
    metered = dataclasses.replace(settings, metrics_port=port)
    with handoff_client(metered, db.url, rasa.url) as client:
        session = client.post("/api/v1/chat", json={"session": None, "text": "여권 재발급 하려면요"}).json()["session"]
        assert client.post("/api/v1/chat", json={"session": session, "text": "   "}).status_code == 422
        client.post("/api/v1/chat", json={"session": session, "text": "상담원 연결해 주세요"})
        client.post("/api/v1/chat", json={"session": session, "text": "아직 기다리고 있어요"})

        before = scrape(port)
        assert before[("minwon_turns_total", (("result", "bot"),))] == 2
        assert before[("minwon_turns_total", (("result", "rejected"),))] == 1
        assert before[("minwon_turns_total", (("result", "officer"),))] == 1
        assert before[("minwon_turn_seconds_count", ())] == 4
        assert before[("minwon_handoffs_waiting", ())] == 1
        assert before[("minwon_handoff_oldest_wait_seconds", ())] >= 0
        assert before[("minwon_handoffs_total", (("event", "requested"),))] == 1
        assert before[("minwon_database_up", ())] == 1
        assert before[("minwon_knowledge_loaded", ())] == 0  # this app was built without a retriever

        # The public port has no metrics: they are only on the internal bind.
        assert client.get("/metrics").status_code == 404

        csrf = login(client, "kim", PASSWORD)
        [item] = client.get("/console/api/queue").json()["items"]
        client.post(f"/console/api/handoffs/{item['id']}/accept", headers={"X-CSRF-Token": csrf})
        after = scrape(port)
        assert after[("minwon_handoffs_waiting", ())] == 0 and after[("minwon_handoffs_active", ())] == 1
        assert after[("minwon_handoff_wait_seconds_count", ())] == 1
        assert after[("minwon_handoffs_total", (("event", "accepted"),))] == 1
    # The app stopped: its scrape endpoint is gone with it.
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_rasa_down_and_timeouts_are_counted_apart(db: Database, rasa: ScriptedRasa, settings: Settings) -> None:
    port = free_port()
    dead = f"http://127.0.0.1:{free_port()}"
    with handoff_client(dataclasses.replace(settings, metrics_port=port), db.url, dead) as client:
        assert client.post("/api/v1/chat", json={"session": None, "text": "여권 발급"}).status_code == 503
        samples = scrape(port)
        assert samples[("minwon_rasa_errors_total", (("kind", "unreachable"),))] == 1
        assert samples[("minwon_rasa_errors_total", (("kind", "timeout"),))] == 0
    rasa.answering.clear()  # Rasa accepts the request and then does not answer within RASA_TIMEOUT (1 s)
    port = free_port()
    with handoff_client(dataclasses.replace(settings, metrics_port=port), db.url, rasa.url) as client:
        assert client.post("/api/v1/chat", json={"session": None, "text": "여권 발급"}).status_code == 503
        samples = scrape(port)
        assert samples[("minwon_rasa_errors_total", (("kind", "timeout"),))] == 1
        assert samples[("minwon_turns_total", (("result", "rasa_down"),))] == 1
        assert samples[("minwon_turn_seconds_bucket", (("le", "0.5"),))] == 0  # waited the full second


def test_knowledge_release_is_scraped(kb_settings: Settings, rasa: ScriptedRasa) -> None:
    port = free_port()
    with handoff_client(dataclasses.replace(kb_settings, metrics_port=port), kb_settings.database_url, rasa.url):
        samples = scrape(port)
        assert samples[("minwon_knowledge_loaded", ())] == 1
        assert samples[("minwon_knowledge_release", ())] >= 1
        assert samples[("minwon_knowledge_entries", ())] >= 450


def test_readyz_reports_a_database_that_went_away(rasa: ScriptedRasa, settings: Settings) -> None:
    with throwaway_postgres() as url, handoff_client(settings, url, rasa.url) as client:
        assert client.get("/readyz").json()["database"] == "ok"
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["database"].startswith("unreachable")


def test_json_log_lines_and_a_clear_error_for_a_bad_format() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter("json"))
    record = logging.LogRecord("minwon.chat", logging.INFO, __file__, 1, "turn conversation=%s", ("ab12",), None)
    handler.handle(record)
    line = json.loads(stream.getvalue())
    assert line["level"] == "INFO" and line["logger"] == "minwon.chat" and line["message"] == "turn conversation=ab12"
    assert "time" in line
    with pytest.raises(SettingsError, match="MINWON_LOG_FORMAT must be 'text' or 'json'"):
        Settings.from_env({"MINWON_LOG_FORMAT": "xml"}, with_secret=False)
    assert Settings.from_env({"MINWON_LOG_FORMAT": "JSON"}, with_secret=False).log_format == "json"
    configure_logging("json")
    try:
        assert isinstance(logging.getLogger("uvicorn.access").handlers[0].formatter, type(formatter("json")))
    finally:
        configure_logging("text")
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            logging.getLogger(name).handlers.clear()
            logging.getLogger(name).propagate = True
