"""Every console route that changes something refuses a request without the login's CSRF token, and
changes nothing. The routes are read from the app itself: a new route without the check fails here."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.app import create_app
from api.console.auth import StaffAuth
from api.db import Database
from api.db.models import Base, KbEntry
from api.deps import Services
from api.kinds import Role
from api.settings import Settings
from tests.conftest import BUILT_INDEX, BUILT_MODEL
from tests.databases import database_url
from tests.unit.handoff_app import login

PASSWORD = "correct horse battery"
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def mutating_console_routes() -> list[tuple[str, str]]:
    # Collected before any fixture runs: a throwaway var folder, nothing connects or starts.
    var = Path(tempfile.mkdtemp(prefix="minwon-routes-"))
    app = create_app(Settings(secret_key="x" * 32, var_dir=var, load_retriever=False, run_sweeper=False))
    # Included routers are resolved lazily; iter_route_contexts walks them as the app will serve them.
    found = {
        (method, route.path)
        for route in iter_route_contexts(app.routes)
        if route.path and route.path.startswith("/console")
        for method in (route.methods or set()) & MUTATING
    }
    return sorted(found)


ROUTES = mutating_console_routes()


def test_the_console_has_the_mutating_routes_this_test_is_about() -> None:
    paths = {path for _, path in ROUTES}
    assert len(ROUTES) >= 15
    assert {"/console/login", "/console/logout", "/console/api/handoffs/{handoff_id}/messages"} <= paths


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Database]]:
    """One app for every route (loading the knowledge base is slow): the refusals change nothing anyway,
    and each test checks that."""
    root = tmp_path_factory.mktemp("csrf")
    with database_url("sqlite", root) as url:
        db = Database(url)
        db.upgrade()
        StaffAuth(db).add_user("admin", PASSWORD, Role.ADMIN, "정보통신팀")
        configured = Settings(
            secret_key="test-secret-key-0123456789",
            var_dir=root / "var",
            database_url=url,
            embedding_model=BUILT_MODEL,
            index_dir=kb_index_copy(root),
            run_sweeper=False,
            rasa_url="http://127.0.0.1:9",
        )
        with TestClient(create_app(configured)) as client:
            services: Services = client.app.state.services  # type: ignore[attr-defined]
            desk = services.desk
            # Something for each kind of route to change: a waiting handoff, a callback ticket, KB entries.
            conversation = "c" * 32
            client.portal.call(desk.record_resident, conversation, "여권 재발급 문의")  # type: ignore[union-attr]
            client.portal.call(desk.request, conversation)  # type: ignore[union-attr]
            client.portal.call(  # type: ignore[union-attr]
                desk.create_ticket, conversation, "홍길동", "010-1234-5678", "오전", "여권 문의"
            )
            login(client, "admin", PASSWORD)
            yield client, db
        db.dispose()


def kb_index_copy(root: Path) -> Path:
    """Publishing writes release folders beside the index: a copy of the built one."""
    index = root / "index"
    built = (BUILT_INDEX / "current").resolve()
    shutil.copytree(built, index / built.name)
    (index / "current").symlink_to(built.name)
    return index


def snapshot(db: Database) -> dict[str, list[Any]]:
    """Every row of every table (the login's own session row included)."""
    with db.session() as session:
        return {
            table.name: sorted(
                json.dumps([str(v) for v in row], ensure_ascii=False) for row in session.execute(select(table))
            )
            for table in Base.metadata.sorted_tables
        }


def fill(path: str, entry_id: str) -> str:
    return (
        path.replace("{handoff_id}", "1")
        .replace("{ticket_id}", "1")
        .replace("{entry_id}", entry_id)
        .replace("{number}", "1")
        .replace("{conversation_id}", "c" * 32)
    )


# What each route would accept with a valid token: only the token is missing.
FORM = {
    "status": "done",
    "notes": "처리했습니다",
    "number": "1",
    "archived": "1",
    "take": "1",
    "decision": "approve",
    "variant": "주민증",
    "canonical": "주민등록증",
    "question": "여권 얼마예요",
    "entry_id": "",
    "username": "admin",
    "password": PASSWORD,
}
JSON = {"text": "안녕하세요", "how": "ended"}


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_a_request_without_the_csrf_token_is_refused_and_changes_nothing(
    console: tuple[TestClient, Database], method: str, path: str
) -> None:
    app, db = console
    with db.session() as session:
        entry_id = session.scalar(select(KbEntry.id).order_by(KbEntry.id).limit(1))
    assert entry_id, "the knowledge base is seeded, so KB routes have something to change"
    url = fill(path, entry_id)
    before = snapshot(db)
    if "/api/" in path:
        response = app.request(method, url, json=JSON, follow_redirects=False)
    else:
        response = app.request(method, url, data=FORM, follow_redirects=False)
    assert response.status_code == 403, f"{method} {path}: {response.status_code} {response.text[:200]}"
    assert snapshot(db) == before
    # A wrong token is no better than none.
    wrong = {"X-CSRF-Token": "not-the-token"}
    if "/api/" in path:
        response = app.request(method, url, json=JSON, headers=wrong, follow_redirects=False)
    else:
        response = app.request(method, url, data={**FORM, "csrf": "not-the-token"}, follow_redirects=False)
    assert response.status_code == 403
    assert snapshot(db) == before
