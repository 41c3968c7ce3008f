"""The one door to analytics: the dashboard's numbers, drill-downs, transcripts, the export, and the
unanswered inbox with its actions (which go on through the knowledge-base service, so permissions,
versions and review stay where they live)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from api.analytics import export, inbox
from api.analytics.inbox import Cluster, InboxStore
from api.analytics.metrics import Analytics, ConversationFacts, Period
from api.db import Database
from api.db.models import AuditEntry, Message
from api.kb.service import KnowledgeService
from api.kb.store import Actor, KbError
from api.kinds import InboxActionKind, Sender
from api.knowledge import Knowledge

log = logging.getLogger("minwon.analytics")
NEAREST_SIMILARITY = 0.80  # below this the inbox does not suggest an entry


@dataclass
class Proposal:
    id: int
    question: str
    answer: str
    actor: str
    at: dt.datetime


class AnalyticsService:
    def __init__(self, db: Database, knowledge: Knowledge, kb: KnowledgeService) -> None:
        self.db = db
        self.knowledge = knowledge
        self.kb = kb
        self.analytics = Analytics(db)
        self.inbox = InboxStore(db)

    # ---- numbers ----
    async def metrics(self, period: Period) -> dict[str, Any]:
        return await asyncio.to_thread(self.analytics.metrics, period)

    async def drill(self, period: Period, measure: str) -> tuple[list[ConversationFacts], dict[str, str]]:
        """The conversations behind one number, newest first, with each one's first question (masked)."""

        def run() -> tuple[list[ConversationFacts], dict[str, str]]:
            facts = self.analytics.drill(period, measure)
            return facts, self.analytics.first_questions([f.id for f in facts[:500]])

        return await asyncio.to_thread(run)

    async def transcript(self, conversation_id: str, viewer: str) -> list[Message] | None:
        """A conversation's messages (stored masked), or None; the view is recorded in the audit log."""

        def run() -> list[Message] | None:
            if not self.analytics.exists(conversation_id):
                return None
            with self.db.session() as session:
                session.add(
                    AuditEntry(actor=viewer, action="conversation.view", target=f"conversation:{conversation_id[:12]}")
                )
            return self.analytics.transcript(conversation_id)

        return await asyncio.to_thread(run)

    async def export_xlsx(self, path: Path, period: Period) -> int:
        def run() -> int:
            metrics = self.analytics.metrics(period)
            facts = sorted(self.analytics.conversations(period).values(), key=lambda f: f.first_at)
            export.write_workbook(path, metrics, facts, self.analytics.first_questions([f.id for f in facts]))
            return len(facts)

        return await asyncio.to_thread(run)

    # ---- the unanswered inbox ----
    async def clusters(self, period: Period) -> list[Cluster]:
        """Unsettled questions not yet decided by a curator, grouped into paraphrases, with the nearest
        live entry as a suggestion."""

        def run() -> list[Cluster]:
            decided = self.inbox.decided_keys()
            questions = [
                (text, why)
                for text, _, why in self.analytics.unanswered_questions(period)
                if text.strip() and inbox.key_of(text) not in decided
            ]
            found = inbox.cluster(questions, self.knowledge.embedder())
            inbox.suggestions(found, self._nearest)
            return found

        return await asyncio.to_thread(run)

    def _nearest(self, text: str) -> tuple[str, str] | None:
        retriever = self.knowledge.current()
        if retriever is None:
            return None
        found = retriever.search(text, 1)
        if not found.results or found.results[0].similarity < NEAREST_SIMILARITY:
            return None
        best = found.results[0]
        return best.id, best.question

    async def add_as_phrasings(self, keys: list[str], texts: list[str], entry_id: str, actor: Actor) -> int:
        """The questions become 다른 표현 of an entry in a new draft (normal review follows)."""
        version = await asyncio.to_thread(self.kb.store.version, entry_id)
        if version is None:
            raise KbError(f"없는 항목입니다: {entry_id}")
        content = dict(version.content)
        known = {content.get("question", ""), *content.get("alternatives", [])}
        added = [t.strip() for t in texts if t.strip() and t.strip() not in known]
        content["alternatives"] = [*content.get("alternatives", []), *added]
        draft = await self.kb.save_draft(
            entry_id, content, version.number, actor, f"미해결 질문함에서 다른 표현 {len(added)}개 추가"
        )
        await asyncio.to_thread(
            self.inbox.record, keys, texts[0] if texts else "", InboxActionKind.PHRASING, actor.username, entry_id
        )
        return draft.number

    async def ignore(self, keys: list[str], question: str, actor: Actor) -> list[int]:
        return await asyncio.to_thread(self.inbox.record, keys, question, InboxActionKind.IGNORE, actor.username)

    async def used_for_new_entry(self, keys: list[str], question: str, entry_id: str, actor: Actor) -> None:
        await asyncio.to_thread(self.inbox.record, keys, question, InboxActionKind.NEW_ENTRY, actor.username, entry_id)

    async def undo(self, action_id: int) -> int:
        """Undo a decision (all rows recorded with it): the questions come back to the inbox. A draft made
        from them stays as a draft for its curator to keep or discard."""
        return await asyncio.to_thread(self.inbox.undo_with_siblings, action_id)

    async def history(self) -> list[Any]:
        return await asyncio.to_thread(self.inbox.history)

    # ---- officers' replies proposed as answers ----
    async def propose(self, message_id: int, officer: str) -> Proposal:
        """An officer's reply in a handoff, with the resident's question before it, for curators to turn
        into a draft entry (text is stored masked already)."""

        def run() -> Proposal:
            with self.db.session() as session:
                reply = session.get(Message, message_id)
                if reply is None or reply.sender != Sender.OFFICER:
                    raise KbError("상담원 답변만 제안할 수 있습니다.")
                question = session.scalar(
                    select(Message.text)
                    .where(
                        Message.conversation_id == reply.conversation_id,
                        Message.sender == Sender.RESIDENT,
                        Message.id < reply.id,
                    )
                    .order_by(Message.id.desc())
                    .limit(1)
                )
                text, answer = question or "", reply.text
            ids = self.inbox.record(
                [inbox.key_of(f"proposal:{message_id}")], text, InboxActionKind.PROPOSAL, officer, answer=answer
            )
            return Proposal(ids[0], text, answer, officer, dt.datetime.now(dt.UTC))

        return await asyncio.to_thread(run)

    async def proposals(self) -> list[Proposal]:
        rows = await asyncio.to_thread(self.inbox.proposals)
        return [Proposal(r.id, r.question, r.answer or "", r.actor, r.at) for r in rows]

    async def close_proposal(self, action_id: int) -> None:
        await asyncio.to_thread(self.inbox.undo_with_siblings, action_id)
