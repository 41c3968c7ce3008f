"""`minwon purge`: every stored kind older than its period is gone, everything newer is kept (SQLite and
PostgreSQL). Ages sit between the periods, so a swapped or ignored period fails."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import ColumnElement, func, select, update

from api import cli
from api.console.auth import StaffAuth
from api.db import Database
from api.db.models import (
    AuditEntry,
    Base,
    Conversation,
    InboxAction,
    Message,
    StaffLogin,
    Ticket,
    Turn,
    Vote,
    utcnow,
)
from api.handoff.store import HandoffStore
from api.kinds import Sender
from api.settings import Settings, SettingsError

PASSWORD = "correct horse battery"
M = TypeVar("M", bound=Base)


def ago(days: int) -> datetime:
    return utcnow() - timedelta(days=days)


def plant(db: Database) -> None:
    """Two of each kind: one past its period (county.yaml 90/180 days, env below) and one inside it."""
    store = HandoffStore(db)
    old_ticket = store.create_ticket(None, "오래된", "010-1111-2222", "-", "옛 문의", "v1")
    store.create_ticket(None, "새", "010-3333-4444", "-", "새 문의", "v1")
    for conversation in ("old-conv", "new-conv"):
        store.add_message(conversation, Sender.RESIDENT, "여권 재발급 문의드립니다")
    auth = StaffAuth(db)
    auth.add_user("kim", PASSWORD, "officer", "김주무관")
    auth.login("kim", PASSWORD, "10.0.0.5")  # a live console login
    auth.login("kim", PASSWORD, "10.0.0.5")  # … and one that is made to expire
    with db.session() as session:
        session.execute(update(Ticket).where(Ticket.id == old_ticket).values(created_at=ago(100)))
        session.execute(update(Conversation).where(Conversation.id == "old-conv").values(updated_at=ago(200)))
        for conversation in ("old-conv", "new-conv"):
            for days in (40, 1):  # the turn/vote period is 30 days
                session.add(Turn(conversation_id=conversation, at=ago(days), outcome="answered", overdue=False))
                session.add(Vote(conversation_id=conversation, at=ago(days), helpful=True, answer="", channel="button"))
        for days in (400, 10):
            session.add(
                InboxAction(key=f"k{days}", batch="b", question="여권 분실", action="ignore", actor="kim", at=ago(days))
            )
        for action, days in (("ticket.update", 800), ("ticket.update", 700), ("login.fail", 400), ("login.fail", 300)):
            session.add(AuditEntry(actor="kim", action=action, target=f"{action}@{days}", detail="", at=ago(days)))
        first = session.scalars(select(StaffLogin).order_by(StaffLogin.created_at)).first()
        assert first is not None
        first.expires_at = ago(1)


def count(db: Database, model: type[Base], *where: ColumnElement[bool]) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_minwon_purge_deletes_every_kind_past_its_period_and_keeps_the_rest(
    db: Database, own_var_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    plant(db)
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("MINWON_VAR_DIR", str(own_var_dir))
    monkeypatch.setenv("MINWON_RETENTION_TURN_DAYS", "30")
    monkeypatch.setenv("MINWON_RETENTION_VOTE_DAYS", "30")
    monkeypatch.setenv("MINWON_RETENTION_INBOX_DAYS", "365")
    monkeypatch.setenv("MINWON_RETENTION_AUDIT_DAYS", "730")
    monkeypatch.setenv("MINWON_RETENTION_LOGIN_ATTEMPT_DAYS", "365")

    assert cli.main(["purge", "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert "would delete 1 callback tickets older than 90 days" in dry
    assert "would delete 1 conversations idle for more than 180 days" in dry
    assert count(db, Ticket) == 2 and count(db, Conversation) == 2  # a dry run changes nothing

    assert cli.main(["purge"]) == 0
    out = capsys.readouterr().out
    assert "deleted 1 inbox decisions older than 365 days" in out
    assert "deleted 1 failed logins older than 365 days" in out

    assert [t for t in HandoffStore(db).tickets() if t.name == "오래된"] == []
    assert count(db, Ticket) == 1
    assert count(db, Conversation, Conversation.id == "old-conv") == 0
    assert count(db, Message, Message.conversation_id == "old-conv") == 0
    assert count(db, Message, Message.conversation_id == "new-conv") == 1
    # The kept conversation loses only its turns and votes past 30 days; the purged one loses all.
    assert count(db, Turn) == 1 and count(db, Turn, Turn.at > ago(30)) == 1
    assert count(db, Vote) == 1 and count(db, Vote, Vote.at > ago(30)) == 1
    assert [a.key for a in _all(db, InboxAction)] == ["k10"]
    planted = {e.target for e in _all(db, AuditEntry) if "@" in e.target}
    assert planted == {"ticket.update@700", "login.fail@300"}  # audit 730 days, failed logins 365
    assert count(db, AuditEntry, AuditEntry.action == "login") == 2  # today's logins are kept
    assert count(db, StaffLogin) == 1 and count(db, StaffLogin, StaffLogin.expires_at < utcnow()) == 0
    assert count(db, AuditEntry, AuditEntry.action == "purge.retention") == 1


def _all(db: Database, model: type[M]) -> list[M]:
    with db.session() as session:
        return list(session.scalars(select(model)))


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_turns_and_votes_stay_with_their_conversation_by_default(db: Database) -> None:
    from api.handoff.config import HandoffConfig
    from api.retention import RetentionPeriods, purge

    plant(db)
    periods = RetentionPeriods.configured(Settings(), HandoffConfig.load(Settings().county_file))
    counts = purge(db, periods)
    assert counts["turns"] == 0 and counts["votes"] == 0
    assert count(db, Turn) == 2 and count(db, Vote) == 2  # the kept conversation's, old and new


def test_the_audit_log_cannot_be_configured_below_the_legal_year() -> None:
    with pytest.raises(SettingsError, match="MINWON_RETENTION_AUDIT_DAYS"):
        Settings.from_env({"MINWON_RETENTION_AUDIT_DAYS": "30"}, with_secret=False)
    with pytest.raises(SettingsError, match="MINWON_RETENTION_TURN_DAYS"):
        Settings.from_env({"MINWON_RETENTION_TURN_DAYS": "-1"}, with_secret=False)


@pytest.mark.parametrize("db", ["postgresql"], indirect=True)
def test_rasas_copy_of_the_dialogue_goes_with_the_turns(db: Database) -> None:
    """Rasa's SQL tracker store (api.rasa_stores) keeps the masked words too: purged by the turn period."""
    import dataclasses

    from sqlalchemy import text

    from api.handoff.config import HandoffConfig
    from api.retention import RetentionPeriods, purge
    from tests.databases import add_rasa_events

    add_rasa_events(db.engine, [("c", ago(days).timestamp(), f'{{"text": "여권 재발급 {days}"}}') for days in (40, 1)])
    configured = RetentionPeriods.configured(Settings(), HandoffConfig.load(Settings().county_file))
    periods = dataclasses.replace(configured, turns=30)
    assert purge(db, periods, dry_run=True)["rasa_events"] == 1
    assert purge(db, periods)["rasa_events"] == 1
    with db.engine.connect() as connection:
        kept = connection.execute(text("SELECT data FROM rasa.events")).scalars().all()
    assert kept == ['{"text": "여권 재발급 1"}']
