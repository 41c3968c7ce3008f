"""The officer console is closed without a login; passwords, cookies, CSRF, roles, logout (throttling:
test_login_throttle.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.console.auth import AuthError, StaffAuth
from api.db import Database
from api.db.models import User
from api.settings import Settings
from tests.unit.handoff_app import handoff_client, login

PASSWORD = "correct horse battery"


@pytest.fixture
def client(db: Database, settings: Settings) -> Iterator[TestClient]:
    auth = StaffAuth(db)
    auth.add_user("kim", PASSWORD, "officer", "김주무관")
    auth.add_user("park", PASSWORD, "curator", "박주무관")
    with handoff_client(settings, db.url, "http://127.0.0.1:9") as test_client:
        yield test_client


def test_console_pages_redirect_and_api_answers_401_without_login(client: TestClient) -> None:
    for path in ("/console", "/console/tickets", "/console/handoffs/1", "/console/audit"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/console/login")
    assert client.get("/console/api/queue").status_code == 401
    assert client.post("/console/api/handoffs/1/accept").status_code == 401


def test_passwords_are_stored_as_argon2_hashes(db: Database, client: TestClient) -> None:
    with db.session() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "kim"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    with pytest.raises(AuthError, match="at least"):
        StaffAuth(db).add_user("short", "1234", "officer")


def test_login_sets_a_hardened_cookie_and_logout_ends_the_session(client: TestClient) -> None:
    page = client.get("/console/login")
    token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    forged = client.post("/console/login", data={"username": "kim", "password": PASSWORD, "csrf": "x"})
    assert forged.status_code == 403
    response = client.post(
        "/console/login", data={"username": "kim", "password": PASSWORD, "csrf": token}, follow_redirects=False
    )
    cookie = response.headers["set-cookie"]
    assert "minwon_console=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    page = client.get("/console")
    assert page.status_code == 200
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    csrf = client.get("/console").text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    assert client.post("/console/logout", data={"csrf": "wrong"}).status_code == 403
    assert client.post("/console/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    client.cookies.clear()
    assert client.get("/console/api/queue").status_code == 401


def test_a_curator_gets_the_knowledge_base_not_the_queue(client: TestClient) -> None:
    login_page = client.get("/console/login")
    token = login_page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    client.post("/console/login", data={"username": "park", "password": PASSWORD, "csrf": token})
    home = client.get("/console", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/console/kb"
    assert client.get("/console/api/queue").status_code == 403
    assert client.get("/console/tickets").status_code == 403
    assert client.get("/console/handoffs/1").status_code == 403


def test_disabling_a_user_ends_their_sessions(db: Database, client: TestClient) -> None:
    login(client, "kim", PASSWORD)
    assert client.get("/console/api/queue").status_code == 200
    StaffAuth(db).set_active("kim", False)
    assert client.get("/console/api/queue").status_code == 401
