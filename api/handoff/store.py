"""Conversation, handoff and ticket records: every state change is one database transaction.

Synchronous on purpose (SQLAlchemy sessions are thread-bound); async callers use
``HandoffDesk``, which runs these in a worker thread and publishes the changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db import Database
from api.db.models import AuditEntry, Conversation, Handoff, Message, Ticket, Turn, User, Vote, utcnow
from api.kinds import (
    OPEN_HANDOFF_STATES,
    DeskState,
    FinishHow,
    HandoffReason,
    HandoffState,
    Sender,
    TicketStatus,
    TurnOutcome,
)

Buttons = list[dict[str, str]]


class HandoffError(Exception):
    """A request that the current state does not allow (shown to staff as is)."""


@dataclass
class Status:
    """What the resident's widget shows about a handoff."""

    state: DeskState = DeskState.BOT
    handoff_id: int | None = None
    position: int | None = None
    officer: str | None = None

    def public(self, minutes_per_resident: int) -> dict[str, Any]:
        data: dict[str, Any] = {"state": str(self.state)}
        if self.state is DeskState.WAITING and self.position:
            data["position"] = self.position
            data["estimate_minutes"] = self.position * minutes_per_resident
        if self.officer:
            data["officer"] = self.officer
        return data


@dataclass
class StoredMessage:
    id: int
    sender: Sender
    text: str
    buttons: Buttons = field(default_factory=list)
    author: str | None = None
    at: datetime | None = None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sender": self.sender,
            "text": self.text,
            "buttons": self.buttons,
            "author": self.author,
            "at": self.at.isoformat() if self.at else None,
        }


@dataclass
class TurnRecord:
    """How a resident turn ended, stored with the turn's messages (analytics)."""

    outcome: TurnOutcome
    entry_id: str | None = None
    topic: str | None = None
    department: str | None = None
    similarity: float | None = None
    choices: list[str] | None = None
    overdue: bool = False


@dataclass
class Replay:
    """How the first try of a resident message was answered: given again to its retries, on any api process."""

    message_ids: list[int]
    handoff: dict[str, Any]
    rasa_down: bool = False
    degraded: bool = False
    messages: list[StoredMessage] = field(default_factory=list)  # the replies themselves, when read back

    def stored(self) -> dict[str, Any]:
        flags = {"rasa_down": self.rasa_down, "degraded": self.degraded}
        return {"ids": self.message_ids, "handoff": self.handoff, **flags}


@dataclass
class EarlierMessage:
    """A resident message stored before under the same client id, and its answer once there is one."""

    message: StoredMessage
    replay: Replay | None


class AlreadyStored(Exception):  # not an error: another try of the message was first
    """The resident message with this client id was stored a moment ago (a retry on another process)."""

    def __init__(self, earlier: EarlierMessage) -> None:
        super().__init__(f"message {earlier.message.id} has this client id")
        self.earlier = earlier


@dataclass
class QueueItem:
    handoff_id: int
    conversation_id: str
    state: HandoffState
    position: int | None
    requested_at: datetime
    officer: str | None
    officer_id: int | None
    question: str
    context: dict[str, Any] | None


def _officer_label(user: User | None) -> str | None:
    return user.display_name if user else None


def _stored(message: Message, author: str | None = None) -> StoredMessage:
    buttons = (message.buttons or {}).get("items", [])
    return StoredMessage(message.id, Sender(message.sender), message.text, buttons, author, message.created_at)


class HandoffStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- conversations and messages ----
    @staticmethod
    def _conversation(session: Session, conversation_id: str) -> Conversation:
        conversation = session.get(Conversation, conversation_id)
        if conversation is None:
            conversation = Conversation(id=conversation_id)
            session.add(conversation)
            session.flush()
        return conversation

    def add_message(
        self,
        conversation_id: str,
        sender: Sender,
        text: str,
        buttons: Buttons | None = None,
        officer: User | None = None,
    ) -> StoredMessage:
        with self.db.session() as session:
            return self._add(session, conversation_id, sender, text, buttons, officer)

    def _add(
        self,
        session: Session,
        conversation_id: str,
        sender: Sender,
        text: str,
        buttons: Buttons | None = None,
        officer: User | None = None,
        client_id: str | None = None,
    ) -> StoredMessage:
        [stored] = self._add_all(session, conversation_id, sender, [(text, buttons)], officer, client_id)
        return stored

    def _add_all(
        self,
        session: Session,
        conversation_id: str,
        sender: Sender,
        items: list[tuple[str, Buttons | None]],
        officer: User | None = None,
        client_id: str | None = None,
    ) -> list[StoredMessage]:
        """Messages of one sender, in order, with one flush for all of them (their ids are known after)."""
        conversation = self._conversation(session, conversation_id)
        conversation.updated_at = utcnow()
        messages = [
            Message(
                conversation_id=conversation_id,
                sender=sender,
                text=text,
                buttons={"items": buttons} if buttons else None,
                officer_id=officer.id if officer else None,
                client_id=client_id,
            )
            for text, buttons in items
        ]
        session.add_all(messages)
        session.flush()
        return [_stored(message, _officer_label(officer)) for message in messages]

    def add_bot_turn(
        self,
        conversation_id: str,
        items: list[tuple[str, Buttons | None]],
        context: dict[str, Any] | None,
        turn: TurnRecord | None = None,
        resident_message_id: int | None = None,
        replay: Replay | None = None,
    ) -> list[StoredMessage]:
        """A bot turn's replies, what the bot tried (shown to an officer who takes over) and how the
        resident's turn ended, in one transaction.

        ``replay``: when these replies are the whole answer, how the resident message is answered for
        its retries (its ``message_ids`` are these replies), kept in the same transaction."""
        with self.db.session() as session:
            stored = self._add_all(session, conversation_id, Sender.BOT, items)
            if context is not None:
                self._conversation(session, conversation_id).bot_context = context
            if turn is not None:
                self._record_turn(session, conversation_id, resident_message_id, turn)
            if replay is not None and resident_message_id is not None:
                replay.message_ids = [m.id for m in stored]
                session.execute(update(Message).where(Message.id == resident_message_id).values(replay=replay.stored()))
            return stored

    def record_turn(self, conversation_id: str, resident_message_id: int | None, turn: TurnRecord) -> None:
        with self.db.session() as session:
            self._conversation(session, conversation_id)
            self._record_turn(session, conversation_id, resident_message_id, turn)

    @staticmethod
    def _record_turn(session: Session, conversation_id: str, message_id: int | None, turn: TurnRecord) -> None:
        # A resident who picks one of the choices offered last turn: record which one on that turn.
        if message_id is not None and turn.entry_id:
            previous = session.scalars(
                select(Turn)
                .where(Turn.conversation_id == conversation_id, Turn.choices.is_not(None))
                .order_by(Turn.id.desc())
                .limit(1)
            ).first()
            if (
                previous is not None
                and previous.picked is None
                and turn.entry_id in (previous.choices or {}).get("ids", [])
            ):
                previous.picked = turn.entry_id
        session.add(
            Turn(
                conversation_id=conversation_id,
                message_id=message_id,
                outcome=turn.outcome,
                entry_id=turn.entry_id,
                topic=turn.topic,
                department=turn.department,
                similarity=turn.similarity,
                choices={"ids": turn.choices} if turn.choices else None,
                overdue=turn.overdue,
            )
        )

    def add_vote(self, conversation_id: str, helpful: bool, answer: str, channel: str) -> int:
        """A helpfulness vote, tied to the entry of the conversation's latest direct answer."""
        with self.db.session() as session:
            self._conversation(session, conversation_id)
            entry_id = session.scalar(
                select(Turn.entry_id)
                .where(Turn.conversation_id == conversation_id, Turn.outcome == TurnOutcome.ANSWERED)
                .order_by(Turn.id.desc())
                .limit(1)
            )
            vote = Vote(
                conversation_id=conversation_id, helpful=helpful, entry_id=entry_id, answer=answer, channel=channel
            )
            session.add(vote)
            session.flush()
            return vote.id

    def add_resident_message(
        self, conversation_id: str, text: str, client_id: str | None = None
    ) -> tuple[StoredMessage, Status]:
        """Store what the resident typed and say who answers it (bot or officer), in one transaction.
        A message for the officer is also counted as a held turn here.

        Raises AlreadyStored when a message with this ``client_id`` is there already: two api
        processes storing the same retried message at once end with one row (the unique index)."""
        try:
            return self._add_resident(conversation_id, text, client_id)
        except IntegrityError:
            if client_id is None:
                raise
            earlier = self.earlier_message(conversation_id, client_id)
            if earlier is not None:
                raise AlreadyStored(earlier) from None
            # Not the client id: the conversation's first message, its row created by another process at
            # the same moment. It exists now.
            return self._add_resident(conversation_id, text, client_id)

    def _add_resident(self, conversation_id: str, text: str, client_id: str | None) -> tuple[StoredMessage, Status]:
        with self.db.session() as session:
            message = self._add(session, conversation_id, Sender.RESIDENT, text, client_id=client_id)
            status = self._status(session, self._open_handoff(session, conversation_id))
            if status.state is not DeskState.BOT:
                self._record_turn(session, conversation_id, message.id, TurnRecord(TurnOutcome.HELD))
            return message, status

    def earlier_message(self, conversation_id: str, client_id: str) -> EarlierMessage | None:
        """The resident message stored under ``client_id``, with the answer its first try stored (if any yet)."""
        with self.db.session() as session:
            message = session.scalars(
                select(Message).where(Message.conversation_id == conversation_id, Message.client_id == client_id)
            ).first()
            if message is None:
                return None
            return EarlierMessage(_stored(message), self._replay(session, conversation_id, message.replay))

    @staticmethod
    def _replay(session: Session, conversation_id: str, stored: dict[str, Any] | None) -> Replay | None:
        if stored is None:
            return None
        ids = [int(i) for i in stored.get("ids", [])]
        query = select(Message, User.display_name).outerjoin(User, Message.officer_id == User.id)
        rows = session.execute(query.where(Message.conversation_id == conversation_id, Message.id.in_(ids))).all()
        found = {message.id: _stored(message, author) for message, author in rows}
        return Replay(
            message_ids=ids,
            handoff=dict(stored.get("handoff") or {}),
            rasa_down=bool(stored.get("rasa_down")),
            degraded=bool(stored.get("degraded")),
            messages=[found[i] for i in ids if i in found],  # a reply purged since is not made up
        )

    def record_replay(self, conversation_id: str, client_id: str, replay: Replay) -> None:
        with self.db.session() as session:
            session.execute(
                update(Message)
                .where(Message.conversation_id == conversation_id, Message.client_id == client_id)
                .values(replay=replay.stored())
            )

    def messages(
        self, conversation_id: str, after: int = 0, senders: tuple[Sender, ...] | None = None, limit: int = 500
    ) -> list[StoredMessage]:
        with self.db.session() as session:
            query = select(Message, User.display_name).outerjoin(User, Message.officer_id == User.id)
            query = query.where(Message.conversation_id == conversation_id, Message.id > after)
            if senders:
                query = query.where(Message.sender.in_(senders))
            rows = session.execute(query.order_by(Message.id).limit(limit)).all()
            return [_stored(message, author) for message, author in rows]

    def latest_message_id(self, conversation_id: str) -> int:
        with self.db.session() as session:
            latest = session.scalar(select(func.max(Message.id)).where(Message.conversation_id == conversation_id))
            return int(latest or 0)

    # ---- handoff state ----
    @staticmethod
    def _open_handoff(session: Session, conversation_id: str) -> Handoff | None:
        query = select(Handoff).where(
            Handoff.conversation_id == conversation_id, Handoff.state.in_(OPEN_HANDOFF_STATES)
        )
        return session.scalars(query.order_by(Handoff.id.desc()).limit(1)).first()

    @staticmethod
    def _position(session: Session, handoff: Handoff) -> int:
        ahead = session.scalar(
            select(func.count())
            .select_from(Handoff)
            .where(Handoff.state == HandoffState.WAITING, Handoff.id < handoff.id)
        )
        return int(ahead or 0) + 1

    def _status(self, session: Session, handoff: Handoff | None) -> Status:
        if handoff is None:
            return Status()
        if handoff.state == HandoffState.WAITING:
            return Status(DeskState.WAITING, handoff.id, self._position(session, handoff))
        return Status(DeskState.ACTIVE, handoff.id, officer=_officer_label(handoff.officer))

    def status(self, conversation_id: str) -> Status:
        with self.db.session() as session:
            return self._status(session, self._open_handoff(session, conversation_id))

    def request(self, conversation_id: str, reason: HandoffReason) -> tuple[Status, bool]:
        """Queue the conversation; returns its status and whether a new request was made."""
        with self.db.session() as session:
            self._conversation(session, conversation_id)
            current = self._open_handoff(session, conversation_id)
            if current is not None:
                return self._status(session, current), False
            handoff = Handoff(conversation_id=conversation_id, state=HandoffState.WAITING, reason=reason)
            session.add(handoff)
            session.flush()
            self._audit(session, "resident", "handoff.request", f"handoff:{handoff.id}", reason)
            return self._status(session, handoff), True

    def record_closed_request(self, conversation_id: str, reason: HandoffReason) -> None:
        """A request made out of office hours: no queue, but the request counts (analytics)."""
        with self.db.session() as session:
            self._conversation(session, conversation_id)
            now = utcnow()
            session.add(
                Handoff(conversation_id=conversation_id, state=HandoffState.CLOSED, reason=reason, ended_at=now)
            )

    def cancel(self, conversation_id: str) -> Handoff | None:
        """The resident withdraws a waiting request; returns it, or None if there was none."""
        with self.db.session() as session:
            handoff = self._open_handoff(session, conversation_id)
            if handoff is None or handoff.state != HandoffState.WAITING:
                return None
            handoff.state, handoff.ended_at = HandoffState.CANCELLED, utcnow()
            self._audit(session, "resident", "handoff.cancel", f"handoff:{handoff.id}")
            return handoff

    def accept(self, handoff_id: int, officer: User) -> bool:
        """Take ownership. One conditional UPDATE: of two officers racing, exactly one wins."""
        with self.db.session() as session:
            result = session.execute(
                update(Handoff)
                .where(Handoff.id == handoff_id, Handoff.state == HandoffState.WAITING)
                .values(state=HandoffState.ACTIVE, officer_id=officer.id, accepted_at=utcnow())
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return False
            self._audit(session, officer.username, "handoff.accept", f"handoff:{handoff_id}")
            return True

    def owned(self, session: Session, handoff_id: int, officer: User) -> Handoff:
        handoff = session.get(Handoff, handoff_id)
        if handoff is None:
            raise HandoffError("없는 상담입니다.")
        if handoff.state != HandoffState.ACTIVE or handoff.officer_id != officer.id:
            raise HandoffError("내가 진행 중인 상담이 아닙니다. 다른 담당자가 맡았거나 이미 종료되었습니다.")
        return handoff

    def officer_message(self, handoff_id: int, officer: User, text: str) -> tuple[str, StoredMessage]:
        with self.db.session() as session:
            handoff = self.owned(session, handoff_id, officer)
            message = self._add(session, handoff.conversation_id, Sender.OFFICER, text, None, officer)
            return handoff.conversation_id, message

    def finish(self, handoff_id: int, officer: User, closing_text: str, how: FinishHow) -> tuple[str, StoredMessage]:
        """End the officer's ownership (``how``: "ended" or "returned"); the bot answers again."""
        with self.db.session() as session:
            handoff = self.owned(session, handoff_id, officer)
            handoff.state, handoff.ended_at = HandoffState.ENDED, utcnow()
            self._audit(session, officer.username, f"handoff.{how}", f"handoff:{handoff_id}")
            return handoff.conversation_id, self._add(session, handoff.conversation_id, Sender.SYSTEM, closing_text)

    def expire_waiting(self, older_than: timedelta) -> list[str]:
        """Requests nobody accepted in time become ``timed_out``; returns their conversations.

        One conditional UPDATE, like ``accept``: a request accepted at the same moment stays accepted.
        """
        cutoff = utcnow() - older_than
        with self.db.session() as session:
            rows = session.execute(
                update(Handoff)
                .where(Handoff.state == HandoffState.WAITING, Handoff.requested_at < cutoff)
                .values(state=HandoffState.TIMED_OUT, ended_at=utcnow())
                .returning(Handoff.id, Handoff.conversation_id)
            ).all()
            for handoff_id, _ in rows:
                self._audit(session, "system", "handoff.timeout", f"handoff:{handoff_id}")
            return [conversation_id for _, conversation_id in rows]

    @staticmethod
    def _item(session: Session, handoff: Handoff, position: int | None, question: str) -> QueueItem:
        conversation = session.get(Conversation, handoff.conversation_id)
        return QueueItem(
            handoff_id=handoff.id,
            conversation_id=handoff.conversation_id,
            state=HandoffState(handoff.state),
            position=position,
            requested_at=handoff.requested_at,
            officer=_officer_label(handoff.officer),
            officer_id=handoff.officer_id,
            question=question,
            context=conversation.bot_context if conversation else None,
        )

    def queue(self) -> list[QueueItem]:
        """Waiting requests in order, then the conversations officers are in."""
        with self.db.session() as session:
            handoffs = session.scalars(
                select(Handoff).where(Handoff.state.in_(OPEN_HANDOFF_STATES)).order_by(Handoff.id)
            ).all()
            items: list[QueueItem] = []
            position = 0
            for handoff in handoffs:
                waiting = handoff.state == HandoffState.WAITING
                if waiting:
                    position += 1
                question = session.scalar(
                    select(Message.text)
                    .where(Message.conversation_id == handoff.conversation_id, Message.sender == Sender.RESIDENT)
                    .order_by(Message.id.desc())
                    .limit(1)
                )
                items.append(self._item(session, handoff, position if waiting else None, question or ""))
            return items

    def handoff(self, handoff_id: int) -> QueueItem | None:
        with self.db.session() as session:
            handoff = session.get(Handoff, handoff_id)
            if handoff is None:
                return None
            position = self._position(session, handoff) if handoff.state == HandoffState.WAITING else None
            return self._item(session, handoff, position, "")

    # ---- callback tickets ----
    def create_ticket(
        self, conversation_id: str | None, name: str, phone: str, preferred_time: str, question: str, version: str
    ) -> int:
        with self.db.session() as session:
            if conversation_id:
                self._conversation(session, conversation_id)
            ticket = Ticket(
                conversation_id=conversation_id,
                name=name,
                phone=phone,
                preferred_time=preferred_time,
                question=question,
                consent_version=version,
                consented_at=utcnow(),
            )
            session.add(ticket)
            session.flush()
            self._audit(session, "resident", "ticket.create", f"ticket:{ticket.id}", f"consent {version}")
            return ticket.id

    def tickets(self, status: TicketStatus | None = None) -> list[Ticket]:
        with self.db.session() as session:
            query = select(Ticket).order_by(Ticket.id.desc())
            if status:
                query = query.where(Ticket.status == status)
            return list(session.scalars(query).unique().all())

    def count_tickets(self, status: TicketStatus) -> int:
        with self.db.session() as session:
            return int(session.scalar(select(func.count()).select_from(Ticket).where(Ticket.status == status)) or 0)

    def update_ticket(self, ticket_id: int, officer: User, status: TicketStatus, notes: str) -> Ticket:
        with self.db.session() as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None:
                raise HandoffError("없는 요청입니다.")
            changes = []
            if ticket.status != status:
                changes.append(f"status {ticket.status}->{status}")
            if ticket.notes != notes:
                changes.append("notes")
            if status == TicketStatus.DONE and ticket.status != TicketStatus.DONE:
                ticket.done_at = utcnow()
            elif status != TicketStatus.DONE:
                ticket.done_at = None
            ticket.status, ticket.notes = status, notes
            ticket.handled_by, ticket.updated_at = officer.id, utcnow()
            self._audit(session, officer.username, "ticket.update", f"ticket:{ticket_id}", ", ".join(changes))
            session.flush()
            session.refresh(ticket)
            return ticket

    # ---- retention ----
    def purge(self, ticket_days: int, conversation_days: int, dry_run: bool = False) -> dict[str, int]:
        """Delete tickets and conversations past their retention periods (and their messages)."""
        ticket_cutoff = utcnow() - timedelta(days=ticket_days)
        conversation_cutoff = utcnow() - timedelta(days=conversation_days)
        with self.db.session() as session:
            old_tickets = session.scalar(
                select(func.count()).select_from(Ticket).where(Ticket.created_at < ticket_cutoff)
            )
            old_conversations = select(Conversation.id).where(
                Conversation.updated_at < conversation_cutoff,
                ~select(Handoff.id)
                .where(Handoff.conversation_id == Conversation.id, Handoff.state.in_(OPEN_HANDOFF_STATES))
                .exists(),
            )
            ids = list(session.scalars(old_conversations))
            counts = {"tickets": int(old_tickets or 0), "conversations": len(ids)}
            if dry_run:
                return counts
            session.execute(delete(Ticket).where(Ticket.created_at < ticket_cutoff))
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                # Explicit deletes: SQLite only cascades with foreign keys on, and bulk deletes skip ORM cascades.
                # Turn outcomes and votes go with their conversation (the same retention).
                session.execute(delete(Turn).where(Turn.conversation_id.in_(chunk)))
                session.execute(delete(Vote).where(Vote.conversation_id.in_(chunk)))
                session.execute(delete(Message).where(Message.conversation_id.in_(chunk)))
                session.execute(delete(Handoff).where(Handoff.conversation_id.in_(chunk)))
                session.execute(update(Ticket).where(Ticket.conversation_id.in_(chunk)).values(conversation_id=None))
                session.execute(delete(Conversation).where(Conversation.id.in_(chunk)))
            self._audit(session, "system", "purge", "", f"tickets={counts['tickets']} conversations={len(ids)}")
            return counts

    # ---- audit ----
    @staticmethod
    def _audit(session: Session, actor: str, action: str, target: str = "", detail: str = "") -> None:
        session.add(AuditEntry(actor=actor, action=action, target=target, detail=detail))

    def audit(self, actor: str, action: str, target: str = "", detail: str = "") -> None:
        with self.db.session() as session:
            self._audit(session, actor, action, target, detail)

    def audit_log(self, limit: int = 200) -> list[AuditEntry]:
        with self.db.session() as session:
            return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))
