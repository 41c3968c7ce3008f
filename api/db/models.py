"""Tables: conversations and their (masked) messages, handoffs, callback tickets, staff, audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, DateTime, Dialect, ForeignKey, Index, Integer, String, Text, TypeDecorator
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from api.audit_context import audit_client


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite hands back naive ones otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, datetime: UTCDateTime}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))  # api.kinds.Role
    # The department a curator owns (a dept key of the county profile); admins edit every department.
    department: Mapped[str | None] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffLogin(Base):
    """A console login. The cookie holds a random token; only its hash is stored."""

    __tablename__ = "staff_sessions"
    __table_args__ = (Index("ix_staff_sessions_expires_at", "expires_at"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]

    user: Mapped[User] = relationship(lazy="joined")


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_created_at", "created_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the signed session id
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What the bot last tried: question, FAQ id and title, similarity, confident.
    bot_context: Mapped[dict[str, Any] | None]


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
        # One stored message per widget message, however many api processes its retries reach.
        Index("ux_messages_conversation_id_client_id", "conversation_id", "client_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    sender: Mapped[str] = mapped_column(String(16))  # resident | bot | officer | system
    text: Mapped[str] = mapped_column(Text)  # always PII-masked
    buttons: Mapped[dict[str, Any] | None]
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A resident message's id from the widget (its retries carry the same one); None for the other senders.
    client_id: Mapped[str | None] = mapped_column(String(64))
    # How the first try of that message was answered (reply ids, handoff status, flags), for its retries.
    replay: Mapped[dict[str, Any] | None]


class Handoff(Base):
    """One request for a person: waiting -> active -> ended, or cancelled / timed_out / closed."""

    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_state", "state"), Index("ix_handoffs_requested_at", "requested_at"))

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(32))  # resident | rasa_down
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]

    officer: Mapped[User | None] = relationship(lazy="joined")


class Ticket(Base):
    """A callback request, stored only with the resident's explicit consent."""

    __tablename__ = "tickets"
    __table_args__ = (Index("ix_tickets_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    conversation_id: Mapped[str | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(32))
    preferred_time: Mapped[str] = mapped_column(String(100))
    question: Mapped[str] = mapped_column(Text)  # PII-masked apart from name and phone
    status: Mapped[str] = mapped_column(String(16), default="new")  # new | in_progress | done
    notes: Mapped[str] = mapped_column(Text, default="")
    handled_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    consent_version: Mapped[str] = mapped_column(String(16))
    consented_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]  # when it was marked done (time to done, for the council's report)

    handler: Mapped[User | None] = relationship(lazy="joined")


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))  # a username, "resident" or "system"
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(128), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    # The staff member's client address (api.client_address); None for the CLI and the system.
    client: Mapped[str | None] = mapped_column(String(45), default=lambda: audit_client())


# ---- the live knowledge base (curator workspace) ----
class KbEntry(Base):
    """One FAQ entry; its content lives in immutable versions, and at most one is published."""

    __tablename__ = "kb_entries"
    __table_args__ = (Index("ix_kb_entries_topic", "topic"), Index("ix_kb_entries_department", "department"))

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # T01-002, or C01-001 for county entries
    topic: Mapped[str] = mapped_column(String(8))
    department: Mapped[str] = mapped_column(String(32))  # owner (dept key of the county profile)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    # The published version residents are answered from (None: not served yet).
    published_version: Mapped[int | None]
    latest_version: Mapped[int] = mapped_column(Integer, default=0)
    # Baseline content pack bookkeeping: the pack's content hash this entry last matched, whether the
    # county changed the entry since, and a newer pack version waiting for a curator's decision.
    baseline_hash: Mapped[str | None] = mapped_column(String(64))
    county_edited: Mapped[bool] = mapped_column(Boolean, default=False)
    baseline_pending: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class KbVersion(Base):
    """An immutable snapshot of an entry's content and where it stands in review."""

    __tablename__ = "kb_versions"
    __table_args__ = (
        Index("ix_kb_versions_entry_number", "entry_id", "number", unique=True),
        Index("ix_kb_versions_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(ForeignKey("kb_entries.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # draft | in_review | approved | published | superseded …
    content: Mapped[dict[str, Any]]  # the entry as faq.store.Entry fields (plus internal notes)
    origin: Mapped[str] = mapped_column(String(16))  # baseline | county | import | rollback
    based_on: Mapped[int | None]  # the version number the editor started from (edit-conflict check)
    author: Mapped[str] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    reviewed_by: Mapped[str | None] = mapped_column(String(64))
    reviewed_at: Mapped[datetime | None]
    publish_at: Mapped[datetime | None]  # approved for publication at this time (a law's effective date)
    published_at: Mapped[datetime | None]
    # The pre-publication regression check of this version (status, progress, changed answers).
    check: Mapped[dict[str, Any] | None]


class KbSynonym(Base):
    """Resident wording → the term the FAQ uses (주소 이전 → 전입신고), used by lexical retrieval."""

    __tablename__ = "kb_synonyms"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    variant: Mapped[str] = mapped_column(String(64), unique=True)
    canonical: Mapped[str] = mapped_column(String(64))
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class KbGoldenQuestion(Base):
    """A county's own regression question: which entry must answer it."""

    __tablename__ = "kb_golden_questions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    question: Mapped[str] = mapped_column(String(300))
    entry_id: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class KbRelease(Base):
    """A knowledge release: the published versions at one moment, with the index built for them."""

    __tablename__ = "kb_releases"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    fingerprint: Mapped[str] = mapped_column(String(64))  # the index key residents are answered from
    entries: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# ---- analytics: what became of each resident turn, and helpfulness votes ----
class Turn(Base):
    """One resident turn's outcome (masked text lives in ``messages``; this row only classifies it)."""

    __tablename__ = "turns"
    __table_args__ = (
        Index("ix_turns_at", "at"),
        Index("ix_turns_conversation_id_id", "conversation_id", "id"),
        Index("ix_turns_outcome_at", "outcome", "at"),
        Index("ix_turns_entry_id", "entry_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16))  # api.kinds.TurnOutcome
    entry_id: Mapped[str | None] = mapped_column(String(16))
    topic: Mapped[str | None] = mapped_column(String(8))
    department: Mapped[str | None] = mapped_column(String(32))
    similarity: Mapped[float | None]
    choices: Mapped[dict[str, Any] | None]  # {"ids": [...]} offered to the resident
    picked: Mapped[str | None] = mapped_column(String(16))  # the choice the resident took on the next turn
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)  # answered past the entry's review date


class Vote(Base):
    """A resident's 네/아니요 on an answer (masked), kept and purged with the conversation."""

    __tablename__ = "votes"
    __table_args__ = (Index("ix_votes_at", "at"), Index("ix_votes_conversation_id", "conversation_id"))

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    helpful: Mapped[bool] = mapped_column(Boolean)
    entry_id: Mapped[str | None] = mapped_column(String(16))
    answer: Mapped[str] = mapped_column(Text, default="")  # the first 300 characters, masked
    channel: Mapped[str] = mapped_column(String(16), default="button")  # button | typed


class InboxAction(Base):
    """A curator's decision about an unanswered question (ignore, or used for an entry); undoable."""

    __tablename__ = "inbox_actions"
    __table_args__ = (Index("ix_inbox_actions_key", "key"), Index("ix_inbox_actions_at", "at"))

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64))  # the normalised question's hash
    batch: Mapped[str] = mapped_column(String(32))  # rows decided together are undone together
    question: Mapped[str] = mapped_column(String(1000))  # masked
    action: Mapped[str] = mapped_column(String(16))  # api.kinds.InboxActionKind
    entry_id: Mapped[str | None] = mapped_column(String(16))
    answer: Mapped[str | None] = mapped_column(Text)  # an officer's reply proposed as an answer
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    undone_at: Mapped[datetime | None]
