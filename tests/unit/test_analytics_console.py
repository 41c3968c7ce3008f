"""Analytics pages over HTTP: the dashboard and its drill-downs for every staff role (and nobody else),
transcripts and the export with personal data masked, and the unanswered inbox: paraphrases
clustered, added as phrasings (a draft), ignored, undone, a new entry started from a question, and an
officer's reply proposed as an answer."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.app import create_app
from api.console.auth import StaffAuth
from api.db import Database
from api.handoff.store import HandoffStore, TurnRecord
from api.kinds import Role, TurnOutcome
from api.privacy import mask_pii
from api.settings import Settings
from tests.unit.handoff_app import login

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)
PASSWORD = "correct horse battery"
DRONE = ["드론 조종 자격증은 어디서 따나요", "드론 자격증 따려면 어디로 가나요", "드론 조종자격 어디서 취득해요"]
LOST = ["여권을 잃어버렸는데 신고는 어디서 해요"]
PHONE = "010-2345-6789"


@pytest.fixture
def app(kb_settings: Settings, db: Database) -> Iterator[TestClient]:
    auth = StaffAuth(db)
    auth.add_user("kim", PASSWORD, Role.CURATOR, "여권팀 김주무관", "passport")
    auth.add_user("choi", PASSWORD, Role.OFFICER, "민원팀 최주무관")
    store = HandoffStore(db)
    for i, text in enumerate([*DRONE, *LOST, f"제 번호 {PHONE} 로 연락 주세요"]):
        message, _ = store.add_resident_message(f"conv-{i}", mask_pii(text))
        store.add_bot_turn(
            f"conv-{i}", [("찾지 못했습니다.", None)], None, TurnRecord(TurnOutcome.UNANSWERED), message.id
        )
    store.add_message("conv-4", "officer", "여권 분실 신고는 가까운 여권 발급기관에서 하실 수 있습니다.")
    configured = dataclasses.replace(kb_settings, run_sweeper=False, rasa_url="http://127.0.0.1:9")
    with TestClient(create_app(configured)) as client:
        yield client


def csrf_of(html: str) -> str:
    return html.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]


def test_dashboard_drill_down_and_export_are_for_staff_and_masked(app: TestClient) -> None:
    for path in (
        "/console/analytics",
        "/console/inbox",
        "/console/conversations/conv-0",
        "/console/analytics/export.xlsx",
    ):
        assert app.get(path, follow_redirects=False).status_code == 303
    login(app, "choi", PASSWORD)
    assert app.get("/console/analytics").status_code == 200
    assert app.get("/console/inbox").status_code == 403
    # one app start per test is the slow part: the dashboard and export checks share this one
    page = app.get("/console/analytics")
    assert page.status_code == 200
    assert "엄격 해결률의 정의" in page.text and 'role="img"' in page.text and "<caption>" in page.text
    assert PHONE not in page.text
    drill = app.get("/console/analytics/drill", params={"measure": "unanswered"})
    assert drill.status_code == 200 and drill.text.count("/console/conversations/") == 5
    assert PHONE not in drill.text and "[전화번호]" in drill.text
    transcript = app.get("/console/conversations/conv-4")
    assert "찾지 못했습니다." in transcript.text and PHONE not in transcript.text
    assert app.get("/console/analytics/drill", params={"measure": "nope"}).status_code == 404
    assert app.get("/console/analytics", params={"since": "2026-13-01"}).status_code == 422
    assert app.get("/console/conversations/no-such").status_code == 404
    response = app.get("/console/analytics/export.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    rows = list(book["대화"].iter_rows(values_only=True))
    assert len(rows) == 1 + 5
    assert PHONE not in str(rows) and "[전화번호]" in str(rows)
    assert "지표" in book.sheetnames


def _clusters(html: str) -> list[str]:
    return [part.split("<small>")[0].strip() for part in html.split('<h3 id="c-')[1:]]


def test_inbox_clusters_paraphrases_ignore_undo_and_add_as_phrasing(app: TestClient) -> None:
    login(app, "kim", PASSWORD)
    inbox = app.get("/console/inbox")
    clusters = _clusters(inbox.text)
    assert len(clusters) == 3, clusters  # the three drone questions are one cluster
    assert "3회" in inbox.text
    csrf = csrf_of(inbox.text)
    keys = inbox.text.split('name="keys" value="', 1)[1].split('"', 1)[0]
    assert app.post("/console/inbox/ignore", data={"keys": keys, "question": DRONE[0]}).status_code == 403  # no CSRF
    ignored = app.post("/console/inbox/ignore", data={"keys": keys, "question": DRONE[0], "csrf": csrf})
    assert ignored.status_code == 200 and len(_clusters(ignored.text)) == 2
    action = ignored.text.split('name="action_id" value="', 1)[1].split('"', 1)[0]
    undone = app.post("/console/inbox/undo", data={"action_id": action, "csrf": csrf})
    assert len(_clusters(undone.text)) == 3
    # a question added as a phrasing of an entry: a draft, and it leaves the inbox
    lost = next(part for part in undone.text.split('<section class="card cluster"')[1:] if LOST[0] in part)
    keys = lost.split('name="keys" value="', 1)[1].split('"', 1)[0]
    assert "T01-003" in lost  # suggested: the passport-loss entry
    saved = app.post(
        "/console/inbox/phrasing",
        data={"keys": keys, "texts": LOST[0], "entry_id": "T01-003", "csrf": csrf},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"].startswith("/console/kb/T01-003?saved=v")
    edit = app.get(saved.headers["location"])
    assert LOST[0] in edit.text and "아직 공개되지 않았습니다" in edit.text  # a draft, not live
    assert len(_clusters(app.get("/console/inbox").text)) == 2


def test_new_entry_from_a_question_and_an_officers_proposal(app: TestClient) -> None:
    login(app, "kim", PASSWORD)
    inbox = app.get("/console/inbox")
    csrf = csrf_of(inbox.text)
    started = app.post(
        "/console/inbox/new",
        data={"keys": "k1", "question": DRONE[0], "texts": "\n".join(DRONE[1:]), "csrf": csrf},
        follow_redirects=False,
    )
    form = app.get(started.headers["location"])
    assert form.status_code == 200 and f'value="{DRONE[0]}"' in form.text and DRONE[1] in form.text
    data = {
        "csrf": csrf,
        "keys": "k1",
        "topic": "T01",
        "department": "passport",
        "question": DRONE[0],
        "alternatives": "\n".join(
            [*DRONE[1:], "드론 자격 시험", "드론 면허 따는 곳", "드론 조종사 자격", "드론 자격증"]
        ),
        "summary": "드론 조종자 자격은 한국교통안전공단에서 안내합니다.",
        "source": "https://www.kotsa.or.kr/",
        "verified": dt.date(2026, 12, 1).isoformat(),
    }
    created = app.post("/console/kb/new", data=data, follow_redirects=False)
    assert created.status_code == 303, created.text[:2000]
    assert created.headers["location"].startswith("/console/kb/C01-001?saved=v1")
    bad = app.post("/console/kb/new", data={**data, "source": "kotsa"})
    assert bad.status_code == 422 and "출처" in bad.text
    app.post("/console/logout", data={"csrf": csrf})
    # an officer's reply proposed as an answer reaches the curators' inbox
    login(app, "choi", PASSWORD)
    transcript = app.get("/console/conversations/conv-4")
    csrf = csrf_of(transcript.text)
    message_id = transcript.text.split('name="message_id" value="', 1)[1].split('"', 1)[0]
    proposed = app.post(
        "/console/conversations/conv-4/propose", data={"message_id": message_id, "csrf": csrf}, follow_redirects=False
    )
    assert proposed.status_code == 303
    app.post("/console/logout", data={"csrf": csrf})
    login(app, "kim", PASSWORD)
    inbox = app.get("/console/inbox")
    assert "여권 분실 신고는 가까운 여권 발급기관에서" in inbox.text and "이 답변으로 새 항목 시작" in inbox.text
