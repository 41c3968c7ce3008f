"""Closed sets the api stores and sends, typed so the checker catches a misspelt state."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal


class Sender(StrEnum):
    """Who wrote a stored message."""

    RESIDENT = "resident"
    BOT = "bot"
    OFFICER = "officer"
    SYSTEM = "system"


class HandoffState(StrEnum):
    """One request for a person: waiting -> active -> ended, or cancelled / timed_out."""

    WAITING = "waiting"
    ACTIVE = "active"
    ENDED = "ended"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"
    CLOSED = "closed"  # asked for out of hours: offered a callback instead (counted as a request)


OPEN_HANDOFF_STATES = (HandoffState.WAITING, HandoffState.ACTIVE)


class DeskState(StrEnum):
    """What the resident's widget shows: the bot answers, the resident waits, or an officer is in."""

    BOT = "bot"
    WAITING = "waiting"
    ACTIVE = "active"


class HandoffReason(StrEnum):
    RESIDENT = "resident"
    RASA_DOWN = "rasa_down"


class Role(StrEnum):
    OFFICER = "officer"
    CURATOR = "curator"
    ADMIN = "admin"


DESK_ROLES = (Role.OFFICER, Role.ADMIN)
CURATOR_ROLES = (Role.CURATOR, Role.ADMIN)
ALL_ROLES = tuple(Role)


class TicketStatus(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class PiiKind(StrEnum):
    """Personal data masked out of residents' text; the value is the label that replaces it."""

    RRN = "주민등록번호"
    ALIEN = "외국인등록번호"
    PASSPORT = "여권번호"
    LICENCE = "운전면허번호"
    PHONE = "전화번호"
    EMAIL = "이메일"
    CARD = "카드번호"
    ACCOUNT = "계좌번호"
    ADDRESS = "주소"
    NAME = "이름"
    PLATE = "차량번호"


class LimitedAction(StrEnum):
    """What a resident does that is rate-limited (api.ratelimit)."""

    TURN = "turn"  # a chat message (HTTP or WebSocket)
    CALLBACK = "callback"  # a callback request
    POLL = "poll"  # a long poll for officer messages (/api/v1/events)


# Buttons the widget handles itself instead of sending their payload as a message.
ButtonAction = Literal["handoff", "callback", "cancel_handoff"]
# How an officer leaves a conversation: end it, or hand it back to the bot.
FinishHow = Literal["ended", "returned"]


class TurnResultKind(StrEnum):
    """Who answered a resident's message (metrics label)."""

    BOT = "bot"
    OFFICER = "officer"  # held for the officer the resident waits for or talks to
    RASA_DOWN = "rasa_down"  # no answer: the apology and a person or callback offered
    DEGRADED = "degraded"  # answered from retrieval while Rasa was down, slow or saturated
    BUSY = "busy"  # Rasa's queue was full and retrieval had no direct answer: "please wait", nothing stored
    REJECTED = "rejected"  # empty, too long or not text: the resident was asked to retype


class RasaFailure(StrEnum):
    """Why a call to Rasa failed (metrics label)."""

    TIMEOUT = "timeout"  # slower than RASA_TIMEOUT
    UNREACHABLE = "unreachable"  # not listening
    HTTP_ERROR = "http_error"  # answered with an error status or broke off
    BAD_REPLY = "bad_reply"  # answered something that is not a list of messages


class VersionStatus(StrEnum):
    """Where a knowledge-base version stands: drafted, reviewed, (scheduled,) published, then replaced."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"  # approved, waiting for its publish time
    PUBLISHED = "published"
    SUPERSEDED = "superseded"  # a later version replaced it (published or draft)
    REJECTED = "rejected"


OPEN_VERSION_STATES = (VersionStatus.DRAFT, VersionStatus.IN_REVIEW, VersionStatus.APPROVED)


class VersionOrigin(StrEnum):
    BASELINE = "baseline"  # the shipped content pack
    COUNTY = "county"  # edited in the console
    IMPORT = "import"  # an Excel import
    ROLLBACK = "rollback"


class TurnOutcome(StrEnum):
    """What became of one resident turn (analytics; counted once per turn)."""

    ANSWERED = "answered"  # the bot answered directly from an entry
    RELATED = "related"  # shown related guidance, not presented as the answer
    CLARIFIED = "clarified"  # offered choices (several close entries, or a vague question)
    UNANSWERED = "unanswered"  # nothing in the knowledge base (or the entry has expired)
    OTHER = "other"  # greetings, thanks, feedback, abuse: not a 민원 question
    HANDOFF = "handoff"  # asked for a person
    HELD = "held"  # typed while waiting for or talking to an officer
    RASA_DOWN = "rasa_down"  # the dialogue engine did not answer


DECISION_OUTCOMES = {
    "answer": TurnOutcome.ANSWERED,
    "related": TurnOutcome.RELATED,
    "choose": TurnOutcome.CLARIFIED,
    "clarify": TurnOutcome.CLARIFIED,
    "none": TurnOutcome.UNANSWERED,
    "expired": TurnOutcome.UNANSWERED,
}


class InboxActionKind(StrEnum):
    """A curator's (or officer's) decision in the unanswered inbox."""

    IGNORE = "ignore"
    PHRASING = "phrasing"  # added as 다른 표현 of an entry (a draft)
    NEW_ENTRY = "new_entry"  # a new entry was started from it (a draft)
    PROPOSAL = "proposal"  # an officer's reply offered as an answer


INBOX_DECISIONS = (InboxActionKind.IGNORE, InboxActionKind.PHRASING, InboxActionKind.NEW_ENTRY)


class StoredKind(StrEnum):
    """What ``minwon purge`` deletes past its retention period (``api.retention``)."""

    TICKETS = "tickets"
    CONVERSATIONS = "conversations"  # with their messages, handoffs, turns and votes
    TURNS = "turns"
    VOTES = "votes"
    INBOX_ACTIONS = "inbox_actions"
    AUDIT_LOG = "audit_log"
    LOGIN_ATTEMPTS = "login_attempts"
    STAFF_SESSIONS = "staff_sessions"  # expired console logins
    RASA_EVENTS = "rasa_events"  # Rasa's own copy of the dialogue (its tracker store in PostgreSQL)
