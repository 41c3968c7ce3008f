"""Curator pages over HTTP: edit, conflict, review by a second account, publish, preview, roles and CSRF."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.console.auth import StaffAuth
from api.db import Database
from api.kinds import Role
from api.settings import Settings
from tests.unit.handoff_app import login

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)
PASSWORD = "correct horse battery"


@pytest.fixture
def app(kb_settings: Settings, db: Database) -> Iterator[TestClient]:
    auth = StaffAuth(db)
    auth.add_user("kim", PASSWORD, Role.CURATOR, "여권팀 김주무관", "passport")
    auth.add_user("lee", PASSWORD, Role.CURATOR, "여권팀 이주무관", "passport")
    auth.add_user("choi", PASSWORD, Role.OFFICER, "민원팀 최주무관")
    configured = dataclasses.replace(kb_settings, run_sweeper=False, rasa_url="http://127.0.0.1:9")
    with TestClient(create_app(configured)) as client:
        yield client


class _FormReader(HTMLParser):
    """The edit form's current values, the way a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and a.get("name") and a.get("type") not in ("file", "checkbox"):
            self.values.setdefault(a["name"], a.get("value", ""))
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.values[a["name"]] = ""
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.values[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


def form_of(html: str) -> dict[str, str]:
    reader = _FormReader()
    reader.feed(html[html.index('class="card entry-form"') :])
    return reader.values


def test_curator_edits_a_second_account_approves_and_residents_read_it(app: TestClient) -> None:
    kim = app
    login(kim, "kim", PASSWORD)
    page = kim.get("/console/kb/T01-002")
    assert page.status_code == 200 and "여권 발급 수수료" in page.text
    form = form_of(page.text)
    form["note"] = "콘솔에서 고친 안내입니다."
    saved = kim.post("/console/kb/T01-002", data={**form, "then": "submit"}, follow_redirects=False)
    assert saved.status_code == 303, saved.text[saved.text.find("alert") :][:800]
    assert saved.headers["location"].endswith("saved=submitted")
    preview = kim.get("/console/kb/T01-002/preview?v=2")
    assert "콘솔에서 고친 안내입니다." in preview.text and 'data-preview="minwon-preview"' in preview.text
    review = kim.get("/console/kb/review/queue")
    assert "직접 작성한 버전이라 승인할 수 없습니다" in review.text

    with TestClient(app.app) as lee:
        csrf = login_and_csrf(lee, "lee")
        approved = lee.post(
            "/console/kb/T01-002/review/2", data={"csrf": csrf, "decision": "approve"}, follow_redirects=False
        )
        assert approved.status_code == 303
    services = app.app.state.services
    retriever = services.knowledge.current()
    assert "콘솔에서 고친 안내입니다." in retriever.search("여권 수수료 얼마예요").results[0].answer


def login_and_csrf(client: TestClient, username: str) -> str:
    page = client.get("/console/login")
    token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    client.post("/console/login", data={"username": username, "password": PASSWORD, "csrf": token})
    kb = client.get("/console/kb")
    return kb.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


def test_a_stale_form_gets_a_conflict_and_keeps_what_was_typed(app: TestClient) -> None:
    login(app, "kim", PASSWORD)
    form = form_of(app.get("/console/kb/T01-002").text)
    first = app.post("/console/kb/T01-002", data={**form, "note": "먼저 저장한 내용"}, follow_redirects=False)
    assert first.status_code == 303
    late = app.post("/console/kb/T01-002", data={**form, "note": "늦게 저장한 내용"})
    assert late.status_code == 409
    assert "다른 사용자가 새 버전(v2)을 저장했습니다" in late.text and "늦게 저장한 내용" in late.text


def test_officers_cannot_open_curator_pages_and_changes_need_the_csrf_token(app: TestClient) -> None:
    login(app, "choi", PASSWORD)
    assert app.get("/console/kb").status_code == 403
    with TestClient(app.app) as kim:
        login(kim, "kim", PASSWORD)
        form = form_of(kim.get("/console/kb/T01-002").text)
        forged = kim.post("/console/kb/T01-002", data={**form, "csrf": "forged"}, follow_redirects=False)
        assert forged.status_code == 403
        other_dept = kim.get("/console/kb/T18-001")
        assert "담당 부서의 큐레이터나 관리자만" in other_dept.text
        refused = kim.post("/console/kb/T18-001", data={**form_of(other_dept.text), "csrf": form["csrf"]})
        assert refused.status_code == 422 and "담당 부서의 큐레이터나 관리자만" in refused.text


def test_a_curator_lands_on_the_knowledge_base(app: TestClient) -> None:
    login_page = app.get("/console/login")
    token = login_page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    app.post("/console/login", data={"username": "kim", "password": PASSWORD, "csrf": token})
    home = app.get("/console", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/console/kb"
    assert app.get("/console/api/queue").status_code == 403
