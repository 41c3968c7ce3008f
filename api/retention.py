"""Retention: every stored kind has a period, and ``minwon purge`` deletes what is past it.

Tickets and conversations (with their messages, handoffs, turns and votes) go through the handoff store,
which keeps open handoffs; this module adds the kinds that can be kept shorter (turns, votes) or that
live on their own (inbox decisions, audit log, login attempts, expired console logins), and Rasa's
dialogue events when its trackers live in our PostgreSQL database (api.rasa_stores).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from api.console.throttle import LOGIN_FAIL, LOGIN_THROTTLED
from api.db import Database
from api.db.models import AuditEntry, InboxAction, StaffLogin, Turn, Vote, utcnow
from api.handoff.config import HandoffConfig
from api.handoff.store import HandoffStore
from api.kinds import StoredKind
from api.rasa_stores import purge_events
from api.settings import Settings

LOGIN_ATTEMPT_ACTIONS = (LOGIN_FAIL, LOGIN_THROTTLED)


@dataclass(frozen=True)
class RetentionPeriods:
    """Days each kind is kept; 0 for turns and votes: as long as their conversation."""

    tickets: int
    conversations: int
    turns: int
    votes: int
    inbox_actions: int
    audit_log: int
    login_attempts: int

    @property
    def rasa_events(self) -> int:
        """Rasa's events hold the turns' masked words (and slots): kept no longer than the turns are (0: kept)."""
        periods = [days for days in (self.turns, self.conversations) if days]
        return min(periods) if periods else 0

    @classmethod
    def configured(
        cls, settings: Settings, config: HandoffConfig, tickets: int | None = None, conversations: int | None = None
    ) -> RetentionPeriods:
        return cls(
            tickets=tickets or config.ticket_retention_days,
            conversations=conversations or config.conversation_retention_days,
            turns=settings.retention_turn_days,
            votes=settings.retention_vote_days,
            inbox_actions=settings.retention_inbox_days,
            audit_log=settings.retention_audit_days,
            login_attempts=settings.retention_login_attempt_days,
        )


def purge(db: Database, periods: RetentionPeriods, dry_run: bool = False) -> dict[StoredKind, int]:
    """Delete (or with ``dry_run`` count) everything past its period; one audit entry with the counts."""
    handed = HandoffStore(db).purge(periods.tickets, periods.conversations, dry_run=dry_run)
    counts = {StoredKind.TICKETS: handed["tickets"], StoredKind.CONVERSATIONS: handed["conversations"]}
    now = utcnow()
    with db.session() as session:
        rules: list[tuple[StoredKind, type[Turn | Vote | InboxAction | AuditEntry | StaffLogin], ColumnElement[bool]]]
        rules = [
            (StoredKind.INBOX_ACTIONS, InboxAction, InboxAction.at < _cutoff(now, periods.inbox_actions)),
            (
                StoredKind.AUDIT_LOG,
                AuditEntry,
                (AuditEntry.at < _cutoff(now, periods.audit_log)) & AuditEntry.action.not_in(LOGIN_ATTEMPT_ACTIONS),
            ),
            (
                StoredKind.LOGIN_ATTEMPTS,
                AuditEntry,
                (AuditEntry.at < _cutoff(now, periods.login_attempts)) & AuditEntry.action.in_(LOGIN_ATTEMPT_ACTIONS),
            ),
            (StoredKind.STAFF_SESSIONS, StaffLogin, StaffLogin.expires_at < now),
        ]
        # Shorter periods for turns and votes than their conversation's; 0 leaves them to the conversation.
        if periods.turns:
            rules.insert(0, (StoredKind.TURNS, Turn, Turn.at < _cutoff(now, periods.turns)))
        if periods.votes:
            rules.insert(1, (StoredKind.VOTES, Vote, Vote.at < _cutoff(now, periods.votes)))
        for kind, model, condition in rules:
            counts[kind] = _count(session, model, condition)
            if not dry_run:
                session.execute(delete(model).where(condition))
        counts[StoredKind.RASA_EVENTS] = (
            purge_events(session, before=_cutoff(now, periods.rasa_events).timestamp(), dry_run=dry_run)
            if periods.rasa_events
            else 0
        )
        counts.setdefault(StoredKind.TURNS, 0)
        counts.setdefault(StoredKind.VOTES, 0)
        if not dry_run:
            detail = " ".join(f"{kind}={count}" for kind, count in counts.items() if kind not in handed)
            session.add(AuditEntry(actor="system", action="purge.retention", detail=detail))
    return counts


def _cutoff(now: datetime, days: int) -> datetime:
    return now - timedelta(days=days)


def _count(
    session: Session, model: type[Turn | Vote | InboxAction | AuditEntry | StaffLogin], condition: ColumnElement[bool]
) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(condition)) or 0)
