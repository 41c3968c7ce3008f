"""The numbers a county reports to its council, for a period, each with the conversations behind it.

Counting rules (also shown on the dashboard):
- a conversation is counted in a period when a resident typed in it during the period; each
  conversation counts once, whatever happened in it;
- every resident turn has exactly one outcome (api.kinds.TurnOutcome), so the turn rates add up;
- handoff requests are requests made in the period (in office hours they queue; out of hours they
  are offered a callback), accepted / abandoned are the fates of those requests;
- strict resolution: of the conversations that got a direct answer, those with no request for a
  person, no negative vote, and no return to the same topic within 24 hours of an answer (the same
  topic asked again without a direct answer, or the same entry given again).
Times are grouped in Korean time (KST).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, func, or_, select, text
from sqlalchemy.orm import aliased

from api.db import Database
from api.db.models import Conversation, Handoff, Message, Ticket, Turn, Vote
from api.kinds import HandoffState, Sender, TicketStatus, TurnOutcome

KST = ZoneInfo("Asia/Seoul")
RETURN_WINDOW = dt.timedelta(hours=24)
DEFAULT_DAYS = 30  # the dashboard's window when no start day is given
# The turns that were 민원 questions: the denominator of the answer rates.
QUESTION_OUTCOMES = (
    TurnOutcome.ANSWERED,
    TurnOutcome.RELATED,
    TurnOutcome.CLARIFIED,
    TurnOutcome.UNANSWERED,
)
WEEKDAYS = ("월", "화", "수", "목", "금", "토", "일")
STRICT_RULE = (
    "답변을 받은 대화 가운데 상담원 연결 요청이 없고, '도움이 안 됐어요' 평가가 없고, 답변을 받은 뒤 24시간 안에 "
    "같은 주제를 다시 묻지 않은(같은 답변을 다시 받거나, 같은 주제에서 답을 얻지 못한) 대화의 비율입니다. "
    "대화 하나는 한 번만 셉니다."
)
HANDOFF_LABELS = {
    "requested": "요청",
    "accepted": "연결됨",
    "abandoned": "대기 중 포기",
    "out_of_hours": "업무시간 외 요청",
    "wait_median_s": "대기 시간 중앙값(초)",
    "wait_p90_s": "대기 시간 90%(초)",
}
TICKET_LABELS = {"received": "접수", "done": "완료", "time_to_done_median_h": "완료까지 중앙값(시간)"}
# Drill-down keys: every number on the dashboard is one of these, with the conversations behind it.
DRILLS = (
    "conversations",
    "answered",
    "related",
    "clarified",
    "unanswered",
    "handoff",
    "resolved",
    "unresolved",
    "negative",
    "overdue",
)


@dataclass(frozen=True)
class Period:
    """Whole KST days, ``since`` to ``until`` inclusive (None: unbounded)."""

    since: dt.date | None = None
    until: dt.date | None = None

    def bounds(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        start = dt.datetime.combine(self.since, dt.time(), KST) if self.since else None
        end = dt.datetime.combine(self.until + dt.timedelta(days=1), dt.time(), KST) if self.until else None
        return start, end

    def label(self) -> str:
        return f"{self.since or '처음'} ~ {self.until or '지금'}"


@dataclass
class ConversationFacts:
    """What one conversation amounted to (the unit the council counts)."""

    id: str
    first_at: dt.datetime
    turns: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    first_answer_at: dt.datetime | None = None
    answered: list[tuple[float, str | None, str | None]] = field(default_factory=list)  # epoch s, entry, topic
    returned: bool = False
    handoff: bool = False
    negative: bool = False
    overdue: int = 0  # answers given past the entry's review date

    @property
    def resolved(self) -> bool:
        return bool(self.answered) and not (self.handoff or self.negative or self.returned)


def _within(column: Any, period: Period) -> list[Any]:
    start, end = period.bounds()
    out = []
    if start is not None:
        out.append(column >= start)
    if end is not None:
        out.append(column < end)
    return out


class Analytics:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- per conversation ----
    def _epoch(self, column: Any) -> Any:
        """Seconds since 1970 computed in the database: a million rows are not parsed into datetimes."""
        if self.db.backend == "postgresql":
            return func.extract("epoch", column)
        return (func.julianday(column) - 2440587.5) * 86400.0

    def conversations(self, period: Period) -> dict[str, ConversationFacts]:
        """Every conversation with a resident turn in the period, with its outcome facts (streamed)."""
        facts: dict[str, ConversationFacts] = {}
        window = RETURN_WINDOW.total_seconds()
        with self.db.engine.connect() as conn:
            rows = conn.execution_options(yield_per=20_000).execute(
                select(
                    Turn.conversation_id,
                    self._epoch(Turn.at),
                    Turn.outcome,
                    Turn.entry_id,
                    Turn.topic,
                    Turn.overdue,
                )
                .where(*_within(Turn.at, period))
                .order_by(Turn.conversation_id, Turn.id)
            )
            for conversation_id, seconds, outcome, entry_id, topic, overdue in rows:
                at = float(seconds)
                fact = facts.get(conversation_id)
                if fact is None:
                    fact = facts[conversation_id] = ConversationFacts(
                        conversation_id, dt.datetime.fromtimestamp(at, dt.UTC)
                    )
                fact.turns += 1
                fact.outcomes[outcome] += 1
                if outcome == TurnOutcome.HANDOFF:
                    fact.handoff = True
                recent = [a for a in fact.answered if at - a[0] <= window]
                if outcome == TurnOutcome.ANSWERED:
                    fact.overdue += int(bool(overdue))
                    if fact.first_answer_at is None:
                        fact.first_answer_at = dt.datetime.fromtimestamp(at, dt.UTC)
                    elif any(a[1] == entry_id for a in recent):
                        fact.returned = True  # the same answer again within a day: it did not settle it
                    fact.answered.append((at, entry_id, topic))
                elif topic and any(a[2] == topic for a in recent):
                    fact.returned = True  # the same topic asked again without a direct answer
            if not facts:
                return facts
            handoffs, downvotes = self._flagged_ids(conn, period)
            for conversation_id in handoffs & facts.keys():
                facts[conversation_id].handoff = True
            for conversation_id in downvotes & facts.keys():
                facts[conversation_id].negative = True
        return facts

    # ---- the dashboard ----
    def metrics(self, period: Period, top_unanswered: int = 10) -> dict[str, Any]:
        """The period's numbers, aggregated in the database (the same rules as ``conversations``)."""
        outcomes, overdue, conversations, resolution = self._turn_counts(period)
        turns = sum(outcomes.values())
        questions = sum(outcomes[o] for o in QUESTION_OUTCOMES)
        with self.db.session() as session:
            by_topic = dict(
                session.execute(
                    select(Turn.topic, func.count())
                    .where(Turn.topic.is_not(None), *_within(Turn.at, period))
                    .group_by(Turn.topic)
                ).all()
            )
            by_department = dict(
                session.execute(
                    select(Turn.department, func.count())
                    .where(Turn.department.is_not(None), *_within(Turn.at, period))
                    .group_by(Turn.department)
                ).all()
            )
            votes = session.execute(
                select(Vote.entry_id, Vote.helpful, func.count())
                .where(*_within(Vote.at, period))
                .group_by(Vote.entry_id, Vote.helpful)
            ).all()
            handoffs = self._handoffs(session, period)
            tickets = self._tickets(session, period)
            heatmap = self._heatmap(session, period)
        per_entry: dict[str, dict[str, int]] = defaultdict(lambda: {"positive": 0, "negative": 0})
        feedback = {"positive": 0, "negative": 0}
        for entry_id, helpful, count in votes:
            key = "positive" if helpful else "negative"
            per_entry[entry_id or "-"][key] += count
            feedback[key] += count

        def rate(part: int, whole: int) -> float | None:
            return round(part / whole, 4) if whole else None

        return {
            "period": {"since": str(period.since or ""), "until": str(period.until or "")},
            "conversations": conversations,
            "resident_turns": turns,
            "questions": questions,
            "answered": outcomes[TurnOutcome.ANSWERED],
            "related": outcomes[TurnOutcome.RELATED],
            "clarified": outcomes[TurnOutcome.CLARIFIED],
            "unanswered": outcomes[TurnOutcome.UNANSWERED],
            "other": outcomes[TurnOutcome.OTHER],
            "handoff_turns": outcomes[TurnOutcome.HANDOFF],
            "held": outcomes[TurnOutcome.HELD],
            "rasa_down": outcomes[TurnOutcome.RASA_DOWN],
            "rates": {
                "answered": rate(outcomes[TurnOutcome.ANSWERED], questions),
                "related": rate(outcomes[TurnOutcome.RELATED], questions),
                "clarified": rate(outcomes[TurnOutcome.CLARIFIED], questions),
                "unanswered": rate(outcomes[TurnOutcome.UNANSWERED], questions),
            },
            "strict_resolution": {
                "resolved": resolution[0],
                "eligible": resolution[1],
                "rate": rate(*resolution),
            },
            "handoff_requests": handoffs["requested"],
            "handoffs": handoffs,
            "tickets": tickets,
            "feedback": feedback,
            "votes_by_entry": dict(sorted(per_entry.items())),
            "by_topic": dict(sorted(by_topic.items())),
            "by_department": dict(sorted(by_department.items())),
            "heatmap": heatmap,
            "overdue_answers": overdue,
            "top_unanswered": self.top_unanswered(period, top_unanswered),
        }

    def _turn_counts(self, period: Period) -> tuple[Counter[str], int, int, tuple[int, int]]:
        """Turns per outcome, answers past their review date, conversations, and (resolved, eligible)."""
        within = _within(Turn.at, period)
        with self.db.engine.connect() as conn:
            per_outcome = conn.execute(select(Turn.outcome, func.count()).where(*within).group_by(Turn.outcome))
            outcomes: Counter[str] = Counter({str(o): int(n) for o, n in per_outcome})
            overdue = int(
                conn.scalar(
                    select(func.count()).where(Turn.outcome == TurnOutcome.ANSWERED, Turn.overdue.is_(True), *within)
                )
                or 0
            )
            total = int(conn.scalar(select(func.count(func.distinct(Turn.conversation_id))).where(*within)) or 0)
            eligible = {
                c
                for (c,) in conn.execute(
                    select(Turn.conversation_id).where(Turn.outcome == TurnOutcome.ANSWERED, *within).distinct()
                )
            }
            if not eligible:
                return outcomes, overdue, total, (0, 0)
            unsettled = {
                c
                for (c,) in conn.execute(
                    select(Turn.conversation_id).where(Turn.outcome == TurnOutcome.HANDOFF, *within).distinct()
                )
            }
            unsettled.update(*self._flagged_ids(conn, period))
            unsettled.update(c for (c,) in conn.execute(self._returns(period)))
        return outcomes, overdue, total, (len(eligible - unsettled), len(eligible))

    def _flagged_ids(self, conn: Any, period: Period) -> tuple[set[str], set[str]]:
        """Conversations with a handoff request, and with a negative vote (few: read the ids, then
        intersect)."""
        start = period.bounds()[0]
        since = start - RETURN_WINDOW if start else None
        handoffs = select(Handoff.conversation_id).distinct()
        downvotes = select(Vote.conversation_id).where(Vote.helpful.is_(False)).distinct()
        if since is not None:
            handoffs = handoffs.where(Handoff.requested_at >= since)
            downvotes = downvotes.where(Vote.at >= since)
        return {c for (c,) in conn.execute(handoffs)}, {c for (c,) in conn.execute(downvotes)}

    def _returns(self, period: Period) -> Any:
        """Conversations where, within 24 h after an answer, the same entry was given again or the same
        topic was asked again without a direct answer (a self-join on the conversation's turns)."""
        first, later = aliased(Turn), aliased(Turn)
        if self.db.backend == "postgresql":
            in_window = later.at <= first.at + text("interval '24 hours'")
        else:
            in_window = func.julianday(later.at) <= func.julianday(first.at) + RETURN_WINDOW.total_seconds() / 86400
        same = or_(
            and_(later.outcome == TurnOutcome.ANSWERED, later.entry_id == first.entry_id),
            and_(later.outcome != TurnOutcome.ANSWERED, later.topic == first.topic),
        )
        return (
            select(first.conversation_id)
            .join(later, and_(later.conversation_id == first.conversation_id, later.id > first.id))
            .where(
                first.outcome == TurnOutcome.ANSWERED,
                in_window,
                same,
                *_within(first.at, period),
                *_within(later.at, period),
            )
            .distinct()
        )

    def _handoffs(self, session: Any, period: Period) -> dict[str, Any]:
        rows = session.execute(
            select(Handoff.state, Handoff.requested_at, Handoff.accepted_at).where(
                *_within(Handoff.requested_at, period)
            )
        ).all()
        waits = sorted((a - r).total_seconds() for _, r, a in rows if a is not None)
        abandoned = sum(1 for s, _, a in rows if a is None and s in (HandoffState.CANCELLED, HandoffState.TIMED_OUT))
        return {
            "requested": len(rows),
            "accepted": len(waits),
            "abandoned": abandoned,
            "out_of_hours": sum(1 for s, _, _ in rows if s == HandoffState.CLOSED),
            "wait_median_s": round(statistics.median(waits), 1) if waits else None,
            "wait_p90_s": round(waits[int(0.9 * (len(waits) - 1))], 1) if waits else None,
        }

    def _tickets(self, session: Any, period: Period) -> dict[str, Any]:
        rows = session.execute(
            select(Ticket.status, Ticket.created_at, Ticket.done_at).where(*_within(Ticket.created_at, period))
        ).all()
        hours = sorted((d - c).total_seconds() / 3600 for s, c, d in rows if s == TicketStatus.DONE and d is not None)
        return {
            "received": len(rows),
            "done": len(hours),
            "time_to_done_median_h": round(statistics.median(hours), 1) if hours else None,
        }

    def _heatmap(self, session: Any, period: Period) -> list[list[int]]:
        """Resident turns by KST weekday (월=0) × hour."""
        grid = [[0] * 24 for _ in range(7)]
        dow: Any
        hour: Any
        if self.db.backend == "postgresql":
            local = func.timezone("Asia/Seoul", Turn.at)
            dow, hour = func.extract("isodow", local) - 1, func.extract("hour", local)
        else:
            shifted = func.datetime(Turn.at, "+9 hours")
            dow, hour = (
                (func.cast(func.strftime("%w", shifted), Integer) + 6) % 7,
                func.cast(func.strftime("%H", shifted), Integer),
            )
        for day, h, count in session.execute(
            select(dow, hour, func.count()).where(*_within(Turn.at, period)).group_by(dow, hour)
        ):
            grid[int(day)][int(h)] += int(count)
        return grid

    # ---- unanswered questions ----
    def unanswered_questions(self, period: Period, limit: int = 5000) -> list[tuple[str, str, str]]:
        """(masked text, conversation id, why) of questions the bot could not settle, newest first:
        unanswered, only related guidance, choices offered, or followed by a negative vote."""
        settled_badly = (TurnOutcome.UNANSWERED, TurnOutcome.RELATED, TurnOutcome.CLARIFIED)
        with self.db.session() as session:
            rows = session.execute(
                select(Message.text, Turn.conversation_id, Turn.outcome)
                .join(Message, Message.id == Turn.message_id)
                .where(Turn.outcome.in_(settled_badly), *_within(Turn.at, period))
                .order_by(Turn.id.desc())
                .limit(limit)
            ).all()
            disliked = session.execute(
                select(Message.text, Vote.conversation_id)
                .join(
                    Turn,
                    and_(Turn.conversation_id == Vote.conversation_id, Turn.outcome == TurnOutcome.ANSWERED),
                )
                .join(Message, Message.id == Turn.message_id)
                .where(Vote.helpful.is_(False), *_within(Vote.at, period))
                .limit(limit)
            ).all()
        return [(t, c, str(o)) for t, c, o in rows] + [(t, c, "negative") for t, c in disliked]

    def top_unanswered(self, period: Period, limit: int) -> list[dict[str, Any]]:
        """The most frequent wordings the bot could not settle (counted in the database)."""
        unsettled = (TurnOutcome.UNANSWERED, TurnOutcome.RELATED, TurnOutcome.CLARIFIED)
        count = func.count().label("n")
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                select(Message.text, count)
                .select_from(Turn)
                .join(Message, Message.id == Turn.message_id)
                .where(Turn.outcome.in_(unsettled), *_within(Turn.at, period))
                .group_by(Message.text)
                .order_by(count.desc(), Message.text)
                .limit(limit)
            ).all()
        return [{"text": str(t), "count": int(n)} for t, n in rows]

    # ---- drill-down and export ----
    def drill(self, period: Period, key: str) -> list[ConversationFacts]:
        facts = self.conversations(period).values()
        tests: dict[str, Callable[[ConversationFacts], bool]] = {
            "conversations": lambda f: True,
            "answered": lambda f: f.outcomes[TurnOutcome.ANSWERED] > 0,
            "related": lambda f: f.outcomes[TurnOutcome.RELATED] > 0,
            "clarified": lambda f: f.outcomes[TurnOutcome.CLARIFIED] > 0,
            "unanswered": lambda f: f.outcomes[TurnOutcome.UNANSWERED] > 0,
            "handoff": lambda f: f.handoff,
            "resolved": lambda f: f.resolved,
            "unresolved": lambda f: bool(f.answered) and not f.resolved,
            "negative": lambda f: f.negative,
            "overdue": lambda f: f.overdue > 0,
        }
        chosen = tests.get(key)
        if chosen is None:
            raise ValueError(f"unknown measure {key!r}; one of {', '.join(DRILLS)}")
        return sorted((f for f in facts if chosen(f)), key=lambda f: f.first_at, reverse=True)

    def transcript(self, conversation_id: str) -> list[Message]:
        with self.db.session() as session:
            return list(
                session.scalars(select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id))
            )

    def first_questions(self, ids: list[str]) -> dict[str, str]:
        """Each conversation's first 민원 question (masked), or its first message when it asked none
        (a greeting is not what a council member wants to read in a list)."""
        out: dict[str, str] = {}
        with self.db.session() as session:
            for chunk in _chunks(ids):
                asked = dict(
                    session.execute(
                        select(Turn.conversation_id, func.min(Turn.message_id))
                        .where(Turn.conversation_id.in_(chunk), Turn.outcome.in_(QUESTION_OUTCOMES))
                        .group_by(Turn.conversation_id)
                    ).all()
                )
                typed = dict(
                    session.execute(
                        select(Message.conversation_id, func.min(Message.id))
                        .where(Message.conversation_id.in_(chunk), Message.sender == Sender.RESIDENT)
                        .group_by(Message.conversation_id)
                    ).all()
                )
                firsts = [asked.get(c) or typed.get(c) for c in chunk]
                for conversation_id, text in session.execute(
                    select(Message.conversation_id, Message.text).where(Message.id.in_([m for m in firsts if m]))
                ):
                    out[conversation_id] = text
        return out

    def exists(self, conversation_id: str) -> bool:
        with self.db.session() as session:
            return session.get(Conversation, conversation_id) is not None


def period_of(since: str, until: str, default_days: int | None = DEFAULT_DAYS) -> Period:
    """A period from form values (YYYY-MM-DD); empty since = the last ``default_days`` days."""

    def day(value: str) -> dt.date | None:
        return dt.date.fromisoformat(value) if value.strip() else None

    start, end = day(since), day(until)
    if start is None and not until.strip() and default_days is not None:
        start = dt.datetime.now(KST).date() - dt.timedelta(days=default_days - 1)
    if start and end and start > end:
        raise ValueError("시작일이 종료일보다 늦습니다.")
    return Period(start, end)


def _chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def kst(value: dt.datetime) -> str:
    return value.astimezone(KST).strftime("%Y-%m-%d %H:%M")
