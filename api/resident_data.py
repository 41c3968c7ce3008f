"""A resident's request to see or erase their data (개인정보 보호법 제35조 열람, 제36조 삭제).

An admin finds the resident's conversations by words from them (searched in the stored, masked text), by the
conversation id the widget shows, or by the phone number on a callback ticket; opens one; and deletes it with
everything it left behind. Every search, view and deletion is in the audit log with who, when, the client
address (``audit_context``) and counts: never the query's words or the deleted content.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from api.db import Database
from api.db.models import AuditEntry, Conversation, Handoff, Message, Ticket, Turn, Vote
from api.kinds import OPEN_HANDOFF_STATES, Sender
from api.privacy import mask_pii
from api.rasa_stores import purge_events

MIN_QUERY_CHARS = 2
MIN_ID_CHARS = 8  # a shorter id prefix would match strangers' conversations
MAX_RESULTS = 50


class SearchBy(StrEnum):
    TEXT = "text"
    CONVERSATION = "conversation"
    PHONE = "phone"


class ErasureRefused(Exception):
    """Deletion refused; ``reason`` is machine-readable, the console words it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Found:
    conversation_id: str | None  # None: a ticket with no conversation left
    first_at: datetime
    first_question: str  # masked
    messages: int
    tickets: list[int]


@dataclass(frozen=True)
class Record:
    conversation_id: str
    messages: list[Message]
    tickets: list[Ticket]
    open_handoff: bool


def digits(value: str) -> str:
    """A phone number's digits, +82 written as the leading 0 (010-1234-5678, 010 1234 5678, +82 10-…)."""
    found = re.sub(r"\D", "", value)
    return "0" + found[2:] if value.strip().startswith("+82") else found


class ResidentData:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def search(self, by: SearchBy, query: str, viewer: str) -> list[Found]:
        return await asyncio.to_thread(self._search, by, query.strip(), viewer)

    async def record(self, conversation_id: str, viewer: str) -> Record | None:
        return await asyncio.to_thread(self._record, conversation_id, viewer)

    async def ticket(self, ticket_id: int, viewer: str) -> Ticket | None:
        return await asyncio.to_thread(self._ticket, ticket_id, viewer)

    async def erase(self, conversation_id: str, actor: str) -> dict[str, int]:
        return await asyncio.to_thread(self._erase, conversation_id, actor)

    async def erase_ticket(self, ticket_id: int, actor: str) -> bool:
        return await asyncio.to_thread(self._erase_ticket, ticket_id, actor)

    # ---- in a worker thread ----
    def _search(self, by: SearchBy, query: str, viewer: str) -> list[Found]:
        with self.db.session() as session:
            conversation_ids: list[str] = []
            loose_tickets: list[Ticket] = []
            if by == SearchBy.TEXT:
                # Stored text is masked, so the query is masked the same way before it is compared.
                words = mask_pii(query)
                if len(words) >= MIN_QUERY_CHARS:
                    pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                    conversation_ids = list(
                        session.scalars(
                            select(Message.conversation_id)
                            .where(Message.sender == Sender.RESIDENT, Message.text.like(pattern, escape="\\"))
                            .group_by(Message.conversation_id)
                            .order_by(func.min(Message.id).desc())
                            .limit(MAX_RESULTS)
                        )
                    )
            elif by == SearchBy.CONVERSATION:
                if len(query) >= MIN_ID_CHARS:
                    conversation_ids = list(
                        session.scalars(
                            select(Conversation.id).where(Conversation.id.startswith(query, autoescape=True)).limit(2)
                        )
                    )
            else:
                wanted = digits(query)
                if len(wanted) >= 7:
                    # Residents type numbers in many forms; tickets are few (90 days), so compare digits here.
                    loose_tickets = [t for t in session.scalars(select(Ticket)) if digits(t.phone) == wanted]
                    conversation_ids = sorted({t.conversation_id for t in loose_tickets if t.conversation_id})
            found = [self._found(session, cid) for cid in conversation_ids]
            found += [
                Found(None, t.created_at, t.question, 0, [t.id]) for t in loose_tickets if t.conversation_id is None
            ]
            session.add(
                AuditEntry(actor=viewer, action="privacy.search", target=f"by:{by}", detail=f"results={len(found)}")
            )
            return found

    @staticmethod
    def _found(session: Session, conversation_id: str) -> Found:
        first = session.scalars(
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.sender == Sender.RESIDENT)
            .order_by(Message.id)
            .limit(1)
        ).first()
        count = session.scalar(select(func.count()).where(Message.conversation_id == conversation_id))
        created = session.scalar(select(Conversation.created_at).where(Conversation.id == conversation_id))
        tickets = list(session.scalars(select(Ticket.id).where(Ticket.conversation_id == conversation_id)))
        assert created is not None
        return Found(conversation_id, created, first.text if first else "", int(count or 0), tickets)

    def _record(self, conversation_id: str, viewer: str) -> Record | None:
        with self.db.session() as session:
            if session.get(Conversation, conversation_id) is None:
                return None
            messages = list(
                session.scalars(select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id))
            )
            tickets = list(session.scalars(select(Ticket).where(Ticket.conversation_id == conversation_id)))
            session.add(AuditEntry(actor=viewer, action="privacy.view", target=_target(conversation_id)))
            return Record(conversation_id, messages, tickets, self._open(session, conversation_id))

    def _ticket(self, ticket_id: int, viewer: str) -> Ticket | None:
        with self.db.session() as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is not None:
                session.add(AuditEntry(actor=viewer, action="privacy.view", target=f"ticket:{ticket_id}"))
            return ticket

    @staticmethod
    def _open(session: Session, conversation_id: str) -> bool:
        found = session.scalar(
            select(Handoff.id)
            .where(Handoff.conversation_id == conversation_id, Handoff.state.in_(OPEN_HANDOFF_STATES))
            .limit(1)
        )
        return found is not None

    def _erase(self, conversation_id: str, actor: str) -> dict[str, int]:
        with self.db.session() as session:
            if session.get(Conversation, conversation_id) is None:
                raise ErasureRefused("not_found")
            if self._open(session, conversation_id):
                raise ErasureRefused("handoff_open")
            counts: dict[str, int] = {}
            # Explicit deletes, children first: bulk deletes skip ORM cascades and SQLite may have foreign keys off.
            models: tuple[tuple[str, type[Turn | Vote | Ticket | Handoff | Message]], ...] = (
                ("turns", Turn),
                ("votes", Vote),
                ("tickets", Ticket),
                ("handoffs", Handoff),
                ("messages", Message),
            )
            for name, model in models:
                mine = model.conversation_id == conversation_id
                counts[name] = int(session.scalar(select(func.count()).select_from(model).where(mine)) or 0)
                session.execute(delete(model).where(mine))
            session.execute(delete(Conversation).where(Conversation.id == conversation_id))
            # Rasa's copy of the dialogue, when its trackers are in our PostgreSQL (api.rasa_stores).
            counts["rasa_events"] = purge_events(session, conversation_id=conversation_id)
            detail = " ".join(f"{name}={count}" for name, count in counts.items())
            session.add(
                AuditEntry(actor=actor, action="privacy.delete", target=_target(conversation_id), detail=detail)
            )
            return counts

    def _erase_ticket(self, ticket_id: int, actor: str) -> bool:
        with self.db.session() as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None:
                return False
            session.delete(ticket)
            session.add(
                AuditEntry(actor=actor, action="privacy.delete", target=f"ticket:{ticket_id}", detail="tickets=1")
            )
            return True


def _target(conversation_id: str) -> str:
    return f"conversation:{conversation_id[:12]}"
