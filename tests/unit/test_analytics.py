"""Analytics on SQLite and PostgreSQL: scripted conversations with known outcomes give exactly the
expected counts (each conversation counted once, the strict resolution rule, no double counting),
periods in KST, drill-down, the Excel export, the CLI's JSON, and what a resident typed stays masked."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from api.analytics.metrics import KST, Analytics, Period
from api.chat import shape_replies, turn_record
from api.console.auth import StaffAuth
from api.db import Database
from api.db.models import Handoff, Turn, Vote
from api.handoff.store import HandoffStore, TurnRecord
from api.kinds import HandoffState, Sender, TicketStatus, TurnOutcome
from api.privacy import mask_pii

DAY = dt.datetime(2026, 11, 2, 10, 0, tzinfo=KST)  # a Monday, 10:00 KST


def answered(entry: str, topic: str, department: str = "passport") -> TurnRecord:
    return TurnRecord(TurnOutcome.ANSWERED, entry, topic, department, 0.95)


def say(store: HandoffStore, conversation: str, text: str, turn: TurnRecord | None, at: dt.datetime) -> None:
    """A resident turn and the bot's reply, recorded as the chat service does, at a chosen time."""
    message, status = store.add_resident_message(conversation, mask_pii(text))
    if turn is not None and status.state == "bot":
        store.add_bot_turn(conversation, [("답변입니다.", None)], None, turn, message.id)
    with store.db.session() as session:
        newest = session.scalars(
            select(Turn).where(Turn.conversation_id == conversation).order_by(Turn.id.desc()).limit(1)
        ).first()
        assert newest is not None
        newest.at = at


@pytest.fixture
def scripted(db: Database) -> HandoffStore:
    store = HandoffStore(db)
    officer = StaffAuth(db).add_user("officer1", "correct horse battery", "officer", "김주무관")
    t = DAY
    # c1: one answer, nothing else -> resolved
    say(store, "c1", "여권 수수료 얼마예요", answered("T01-002", "T01"), t)
    # c2: an answer voted down -> not resolved
    say(store, "c2", "여권 재발급 수수료", answered("T01-002", "T01"), t)
    store.add_vote("c2", False, "답변입니다.", "button")
    # c3: an answer, then a person asked for and accepted; the message typed while waiting is held
    say(store, "c3", "전입신고 어디서 해요", answered("T03-001", "T03", "resident"), t)
    say(store, "c3", "사람이랑 얘기할래요", TurnRecord(TurnOutcome.HANDOFF), t + dt.timedelta(minutes=1))
    status, _ = store.request("c3", "resident")
    say(store, "c3", "제 번호는 010-1234-5678 이에요", None, t + dt.timedelta(minutes=2))
    store.accept(status.handoff_id, officer)
    # c4: choices, the resident picks one, then asks the same entry again 2 h later -> a return
    say(store, "c4", "서류 떼려고요", TurnRecord(TurnOutcome.CLARIFIED, choices=["T04-001", "T04-002"]), t)
    say(store, "c4", "가족관계증명서", answered("T04-002", "T04", "family"), t + dt.timedelta(minutes=1))
    say(store, "c4", "가족관계증명서 떼는 법", answered("T04-002", "T04", "family"), t + dt.timedelta(hours=2))
    store.add_vote("c4", True, "답변입니다.", "typed")
    # c5: small talk and an unanswered question -> no answer, not eligible for resolution
    say(store, "c5", "안녕하세요", TurnRecord(TurnOutcome.OTHER), t)
    say(store, "c5", "드론 자격증 어디서 따요", TurnRecord(TurnOutcome.UNANSWERED), t + dt.timedelta(minutes=1))
    # c6: the same answer again after 30 h is a new visit, not a return -> resolved
    say(store, "c6", "인감증명서 발급", answered("T05-001", "T05", "resident"), t)
    say(store, "c6", "인감증명서 발급", answered("T05-001", "T05", "resident"), t + dt.timedelta(hours=30))
    # c7: unanswered, then a person asked for out of hours (a callback offer)
    say(store, "c7", "드론 자격증 따는 곳", TurnRecord(TurnOutcome.UNANSWERED), t + dt.timedelta(hours=12))
    store.record_closed_request("c7", "resident")
    # c8: a person asked for, then the resident gave up waiting
    say(store, "c8", "상담원 연결", TurnRecord(TurnOutcome.HANDOFF), t)
    store.request("c8", "resident")
    store.cancel("c8")
    # c9: ten days earlier, outside the period used below
    say(store, "c9", "여권 사진 규격", answered("T01-005", "T01"), t - dt.timedelta(days=10))
    with db.session() as session:  # handoff requests at the scripted times
        session.execute(update(Handoff).values(requested_at=t))
        session.execute(update(Vote).values(at=t + dt.timedelta(minutes=5)))
    return store


PERIOD = Period(DAY.date() - dt.timedelta(days=1), DAY.date() + dt.timedelta(days=3))


def test_scripted_conversations_give_exactly_the_expected_counts(scripted: HandoffStore, db: Database) -> None:
    m = Analytics(db).metrics(PERIOD)
    assert m["conversations"] == 8  # c9 is outside the period; each conversation once
    assert m["resident_turns"] == 14
    assert (m["answered"], m["clarified"], m["unanswered"], m["other"]) == (7, 1, 2, 1)
    assert (m["handoff_turns"], m["held"]) == (2, 1)
    assert m["questions"] == 10 and m["rates"]["answered"] == 0.7
    # eligible: c1 c2 c3 c4 c6; resolved: c1 and c6 only (c2 voted down, c3 handed off, c4 returned)
    assert m["strict_resolution"] == {"resolved": 2, "eligible": 5, "rate": 0.4}
    assert m["handoff_requests"] == 3
    assert m["handoffs"]["accepted"] == 1 and m["handoffs"]["abandoned"] == 1 and m["handoffs"]["out_of_hours"] == 1
    assert m["feedback"] == {"positive": 1, "negative": 1}
    assert m["votes_by_entry"] == {"T01-002": {"positive": 0, "negative": 1}, "T04-002": {"positive": 1, "negative": 0}}
    assert m["by_topic"] == {"T01": 2, "T03": 1, "T04": 2, "T05": 2}
    assert m["top_unanswered"][0]["count"] == 1 and len(m["top_unanswered"]) == 3
    assert sum(map(sum, m["heatmap"])) == 14
    assert m["heatmap"][0][10] >= 8  # Monday 10:00 KST, not UTC 01:00


def test_choices_record_which_one_the_resident_picked(scripted: HandoffStore, db: Database) -> None:
    with db.session() as session:
        clarified = session.scalars(select(Turn).where(Turn.outcome == TurnOutcome.CLARIFIED)).one()
        assert clarified.choices == {"ids": ["T04-001", "T04-002"]} and clarified.picked == "T04-002"


def test_every_number_drills_down_to_the_conversations_behind_it(scripted: HandoffStore, db: Database) -> None:
    analytics = Analytics(db)
    ids = {key: {f.id for f in analytics.drill(PERIOD, key)} for key in ("resolved", "unresolved", "handoff")}
    assert ids["resolved"] == {"c1", "c6"}
    assert ids["unresolved"] == {"c2", "c3", "c4"}
    assert ids["handoff"] == {"c3", "c7", "c8"}
    # the dashboard's SQL aggregates and the per-conversation rules agree
    strict = analytics.metrics(PERIOD)["strict_resolution"]
    assert (strict["resolved"], strict["eligible"]) == (len(ids["resolved"]), len(ids["resolved"] | ids["unresolved"]))
    with pytest.raises(ValueError, match="unknown measure"):
        analytics.drill(PERIOD, "everything")


def test_a_period_is_whole_days_in_korean_time(scripted: HandoffStore, db: Database) -> None:
    analytics = Analytics(db)
    # c7's turn is at 22:00 KST on DAY (13:00 UTC): it belongs to DAY, not the next day
    only_day = analytics.metrics(Period(DAY.date(), DAY.date()))
    assert only_day["conversations"] == 8 and only_day["resident_turns"] == 13  # c6's second visit is the next day
    assert analytics.metrics(Period(None, DAY.date() - dt.timedelta(days=5)))["conversations"] == 1


def test_export_has_one_row_per_conversation_and_the_metrics_sheet(
    scripted: HandoffStore, db: Database, tmp_path: Path
) -> None:
    from api.analytics.export import write_workbook

    analytics = Analytics(db)
    facts = list(analytics.conversations(PERIOD).values())
    path = tmp_path / "report.xlsx"
    write_workbook(path, analytics.metrics(PERIOD), facts, analytics.first_questions([f.id for f in facts]))
    book = load_workbook(path)
    rows = list(book["대화"].iter_rows(values_only=True))
    assert len(rows) == 1 + 8 and rows[0][0] == "대화"
    by_id = {r[0]: r for r in rows[1:]}
    assert by_id["c4"][9] == "예" and by_id["c4"][10] == "아니요" and by_id["c1"][10] == "예"
    metrics = {r[0]: r[1] for r in book["지표"].iter_rows(values_only=True)}
    assert metrics["대화 수"] == 8 and metrics["엄격 해결률"] == 0.4
    text = json.dumps(rows, ensure_ascii=False, default=str)
    assert "010-1234-5678" not in text


def test_the_cli_prints_the_contract_keys(scripted: HandoffStore, db: Database, monkeypatch, capsys) -> None:
    from api import cli

    monkeypatch.setenv("DATABASE_URL", str(db.engine.url.render_as_string(hide_password=False)))
    assert cli.main(["analytics", "--json", "--since", "2026-11-01", "--until", "2026-11-05"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("conversations", "resident_turns", "answered", "clarified", "unanswered", "handoff_requests"):
        assert isinstance(out[key], int)
    assert out["conversations"] == 8 and out["feedback"] == {"positive": 1, "negative": 1}
    assert out["top_unanswered"][0].keys() == {"text", "count"} and isinstance(out["by_topic"], dict)
    assert "010-1234-5678" not in json.dumps(out, ensure_ascii=False)
    assert cli.main(["analytics", "--json", "--since", "2026-11-05", "--until", "2026-11-01"]) == 2


def test_purge_takes_turns_and_votes_with_the_conversation(scripted: HandoffStore, db: Database) -> None:
    with db.session() as session:
        session.execute(update(Handoff).values(state=HandoffState.ENDED, ended_at=DAY - dt.timedelta(days=400)))
    from api.db.models import Conversation

    with db.session() as session:
        session.execute(update(Conversation).values(updated_at=DAY - dt.timedelta(days=400)))
    scripted.purge(ticket_days=365, conversation_days=30)
    m = Analytics(db).metrics(Period())
    assert m["conversations"] == 0 and m["feedback"] == {"positive": 0, "negative": 0}


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_ticket_time_to_done_is_counted(db: Database) -> None:
    store = HandoffStore(db)
    officer = StaffAuth(db).add_user("officer1", "correct horse battery", "officer", "김주무관")
    ticket = store.create_ticket("c1", "홍길동", "010-0000-0000", "오전", "여권", "v1")
    store.update_ticket(ticket, officer, TicketStatus.DONE, "")
    tickets = Analytics(db).metrics(Period())["tickets"]
    assert tickets["received"] == 1 and tickets["done"] == 1 and tickets["time_to_done_median_h"] is not None


def test_turn_outcome_comes_from_what_the_bot_reported() -> None:
    def reply(decision: str, entry: bool = True) -> list[dict[str, object]]:
        context: dict[str, object] = {
            "decision": decision,
            "candidates": [{"id": "T01-002", "similarity": 0.97}, {"id": "T01-003", "similarity": 0.9}],
        }
        if entry:
            context["entry"] = {"id": "T01-002", "topic": "T01", "department": "passport", "overdue": True}
        return [{"custom": {"context": context}}, {"text": "답변"}]

    answered_turn = turn_record(shape_replies(reply("answer")))
    assert (answered_turn.outcome, answered_turn.entry_id, answered_turn.overdue) == ("answered", "T01-002", True)
    assert answered_turn.similarity == 0.97
    chosen = turn_record(shape_replies(reply("choose")))
    assert chosen.outcome == "clarified" and chosen.choices == ["T01-002", "T01-003"] and chosen.entry_id is None
    assert turn_record(shape_replies(reply("none", entry=False))).outcome == "unanswered"
    assert turn_record(shape_replies(reply("expired"))).outcome == "unanswered"
    assert turn_record(shape_replies([{"text": "안녕하세요"}])).outcome == "other"
    assert Sender.RESIDENT == "resident"
