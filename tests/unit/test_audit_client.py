"""The audit log records the client address of every staff action (logins included) and the console
shows it with KST times; the migration carries the address over from older login entries. SQLite and
PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from api.app import create_app
from api.console.auth import StaffAuth
from api.db import Database
from api.db.models import AuditEntry
from api.settings import Settings
from tests.databases import database_url
from tests.unit.handoff_app import ScriptedRasa, login

PASSWORD = "correct horse battery"


@contextmanager
def app_from(settings: Settings, db: Database, rasa: ScriptedRasa, address: str) -> Iterator[TestClient]:
    """The api as seen from ``address`` (no proxy in front)."""
    configured = dataclasses.replace(settings, database_url=db.url, rasa_url=rasa.url, office_override="open")
    with TestClient(create_app(configured), client=(address, 50000)) as client:
        yield client


def entries(db: Database) -> list[AuditEntry]:
    with db.session() as session:
        return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_every_staff_action_is_recorded_with_the_callers_address(
    db: Database, settings: Settings, rasa: ScriptedRasa
) -> None:
    auth = StaffAuth(db)
    auth.add_user("kim", PASSWORD, "officer", "김주무관")
    with app_from(settings, db, rasa, "127.0.0.1") as resident:
        session = resident.post("/api/v1/chat", json={"session": None, "text": "여권 문의요"}).json()["session"]
        resident.post("/api/v1/chat", json={"session": session, "text": "상담원 연결해 주세요"})
    with app_from(settings, db, rasa, "10.1.2.3") as officer:
        page = officer.get("/console/login")
        token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        wrong = officer.post("/console/login", data={"username": "kim", "password": "guess-guess-1", "csrf": token})
        assert wrong.status_code == 401
        csrf = login(officer, "kim", PASSWORD)
        [item] = officer.get("/console/api/queue").json()["items"]
        accepted = officer.post(f"/console/api/handoffs/{item['id']}/accept", headers={"X-CSRF-Token": csrf})
        assert accepted.status_code == 200
        officer.post("/console/logout", data={"csrf": csrf})
    recorded = {(e.actor, e.action): e.client for e in entries(db)}
    assert recorded[("kim", "login.fail")] == "10.1.2.3"
    assert recorded[("kim", "login")] == "10.1.2.3"
    accept = [client for (actor, action), client in recorded.items() if actor == "kim" and "accept" in action]
    assert accept == ["10.1.2.3"]
    assert recorded[("kim", "logout")] == "10.1.2.3"
    assert recorded[("cli", "user.add")] is None  # no network caller behind the CLI


def test_the_audit_page_shows_the_address_and_korean_time(db: Database, settings: Settings, rasa: ScriptedRasa) -> None:
    StaffAuth(db).add_user("root", PASSWORD, "admin", "관리자")
    with app_from(settings, db, rasa, "192.0.2.44") as admin:
        login(admin, "root", PASSWORD)
        with db.session() as session:
            entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "login"))
            assert entry is not None
            entry.at = datetime(2026, 3, 1, 15, 30, 5, tzinfo=UTC)
        page = admin.get("/console/audit")
    assert page.status_code == 200
    assert '<th scope="col">접속 주소</th>' in page.text
    row = next(line for line in page.text.splitlines() if "2026-03-02 00:30:05" in line)  # 15:30 UTC is 00:30 KST
    assert "<td>root</td><td>192.0.2.44</td><td>login</td>" in row


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrading_copies_the_address_of_older_login_entries(backend: str, tmp_path: Path) -> None:
    with database_url(backend, tmp_path) as url:
        database = Database(url)
        try:
            with database.engine.begin() as connection:
                config = database.alembic_config()
                config.attributes["connection"] = connection
                command.upgrade(config, "0003_analytics")
            with database.engine.begin() as connection:
                for action, target in (("login.fail", "client:203.0.113.9"), ("ticket.update", "ticket:3")):
                    connection.execute(
                        text(
                            "INSERT INTO audit_log (at, actor, action, target, detail) "
                            "VALUES (:at, 'kim', :action, :target, '')"
                        ),
                        {"at": datetime(2026, 1, 5, tzinfo=UTC), "action": action, "target": target},
                    )
            database.upgrade()
            clients = {e.action: e.client for e in entries(database)}
        finally:
            database.dispose()
    assert clients == {"login.fail": "203.0.113.9", "ticket.update": None}
