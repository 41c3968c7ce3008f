"""One resident turn: clean, mask, store, then the bot or the officer. Shared by HTTP, WebSocket, socket.io.

While an officer owns the conversation (or the resident waits for one) the bot
stays silent: the message is stored and delivered to the officer's console.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from api.admission import Admission, Saturated
from api.degraded import BUSY, NOTE, DegradedReason, DegradedReply, DegradedResponder
from api.handoff import texts
from api.handoff.desk import HandoffDesk
from api.handoff.store import EarlierMessage, Replay, Status, StoredMessage, TurnRecord
from api.kinds import DECISION_OUTCOMES, DeskState, Sender, TurnOutcome, TurnResultKind
from api.messages import MessageRejected, clean_text
from api.privacy import mask_pii
from api.rasa_client import RasaClient, RasaUnavailable
from api.retries import OncePerMessage
from api.turn_result import BotMessage, Button, TurnResult
from faq.store import CountyProfile

if TYPE_CHECKING:
    from api.knowledge import Knowledge
    from api.ops.metrics import Metrics
    from faq.retriever import Retriever

log = logging.getLogger("minwon.chat")


RASA_DOWN = texts.RASA_DOWN

NO_REPLY = (
    "죄송합니다. 지금은 답변을 준비하지 못했습니다. 질문을 조금 바꿔서 다시 물어봐 주시거나, "
    "상담원 연결을 요청해 주세요."
)


@dataclass
class ShapedReply:
    """Rasa's REST output put back together: what residents see, and what the actions told the api."""

    messages: list[BotMessage] = field(default_factory=list)
    wants_human: bool = False
    context: dict[str, Any] | None = None
    feedback: dict[str, Any] | None = None


def shape_replies(raw: list[dict[str, Any]]) -> ShapedReply:
    """Rasa's REST channel splits one answer at every blank line; put it back together.

    Custom payloads from the actions (``handoff``, ``context``, ``feedback``) are
    taken out: they are for the api, not for the resident.
    """
    shaped = ShapedReply()
    for item in raw:
        custom = item.get("custom")
        if isinstance(custom, dict):
            if custom.get("handoff") == "request":
                shaped.wants_human = True
            if isinstance(custom.get("context"), dict):
                shaped.context = custom["context"]
            if isinstance(custom.get("feedback"), dict):
                shaped.feedback = custom["feedback"]
        text = item.get("text") or ""
        buttons = [
            Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
            for b in item.get("buttons") or []
            if b.get("title")
        ]
        if not (text or buttons):
            continue
        messages = shaped.messages
        if messages and not messages[-1].buttons and text:
            messages[-1].text = f"{messages[-1].text}\n\n{text}" if messages[-1].text else text
            messages[-1].buttons = buttons
            continue
        messages.append(BotMessage(text=text, buttons=buttons))
    return shaped


def turn_record(shaped: ShapedReply) -> TurnRecord:
    """How the turn ended, from what the bot's actions reported (no context: small talk or a request)."""
    if shaped.wants_human:
        return TurnRecord(TurnOutcome.HANDOFF)
    context = shaped.context
    if context is None:
        return TurnRecord(TurnOutcome.OTHER if shaped.messages else TurnOutcome.UNANSWERED)
    outcome = DECISION_OUTCOMES.get(str(context.get("decision")), TurnOutcome.UNANSWERED)
    candidates = [c for c in context.get("candidates", []) if isinstance(c, dict)]
    entry = context.get("entry") if isinstance(context.get("entry"), dict) else {}
    record = TurnRecord(outcome)
    if outcome in (TurnOutcome.ANSWERED, TurnOutcome.RELATED) and entry:
        record.entry_id, record.topic, record.department = entry.get("id"), entry.get("topic"), entry.get("department")
        record.overdue = bool(entry.get("overdue"))
        record.similarity = float(candidates[0].get("similarity", 0.0)) if candidates else None
    if outcome in (TurnOutcome.CLARIFIED, TurnOutcome.RELATED) and candidates:
        record.choices = [str(c.get("id")) for c in candidates]
    if outcome is TurnOutcome.CLARIFIED and entry:
        record.topic = entry.get("topic")
    return record


class ChatService:
    def __init__(
        self,
        rasa: RasaClient,
        desk: HandoffDesk,
        county: CountyProfile,
        max_chars: int,
        metrics: Metrics | None = None,
        admission: Admission | None = None,
        knowledge: Knowledge | None = None,
        replay_wait: float = 5.0,
    ) -> None:
        self.rasa = rasa
        self.county = county
        self.desk = desk
        self.max_chars = max_chars
        self.metrics = metrics
        # Without a queue every turn goes straight to Rasa (tests of the bare service).
        self.admission = admission or Admission(active=1_000_000, max_waiting=0, max_wait=0.0)
        self.knowledge = knowledge
        self.degraded = DegradedResponder()
        # A widget retrying a lost response gets the same answer; Rasa sees the message once.
        self.once = OncePerMessage(desk, replay_wait)

    async def turn(self, conversation_id: str, raw_text: object, client_id: str | None = None) -> TurnResult:
        """Raises MessageRejected for bad input; a Rasa failure is a result with ``rasa_down``."""
        started = time.perf_counter()
        try:
            result = await self._once(conversation_id, raw_text, client_id)
        except MessageRejected:
            self._observe(TurnResultKind.REJECTED, started)
            raise
        if result.busy:
            self._observe(TurnResultKind.BUSY, started)
        elif result.rasa_down:
            self._observe(TurnResultKind.RASA_DOWN, started)
        elif result.degraded:
            self._observe(TurnResultKind.DEGRADED, started)
        else:
            held = not result.messages and result.handoff.get("state") != str(DeskState.BOT)
            self._observe(TurnResultKind.OFFICER if held else TurnResultKind.BOT, started)
        return result

    def _observe(self, result: TurnResultKind, started: float) -> None:
        if self.metrics is not None:
            self.metrics.turn(result, time.perf_counter() - started)

    async def _once(self, conversation_id: str, raw_text: object, client_id: str | None) -> TurnResult:
        text = self._words(raw_text)
        if not client_id:
            return await self._turn(conversation_id, text)
        return await self.once.answer(
            conversation_id, client_id, lambda stored_id, earlier: self._turn(conversation_id, text, stored_id, earlier)
        )

    def _words(self, raw_text: object) -> str:
        """What is stored and sent to Rasa: checked (MessageRejected), cleaned and PII-masked."""
        return mask_pii(clean_text(raw_text, self.max_chars))

    async def _resident(
        self, conversation_id: str, text: str, client_id: str | None, earlier: EarlierMessage | None
    ) -> tuple[StoredMessage, Status]:
        """Store the resident's words, unless an earlier try of the same message did."""
        if earlier is not None:
            return earlier.message, await self.desk.status(conversation_id)
        return await self.desk.record_resident(conversation_id, text, client_id)

    async def _turn(
        self,
        conversation_id: str,
        text: str,
        client_id: str | None = None,
        earlier: EarlierMessage | None = None,
    ) -> TurnResult:
        log.info("turn conversation=%s text=%r", conversation_id[:8], text[:200])
        if (await self.desk.status(conversation_id)).state is not DeskState.BOT:
            return await self._held(conversation_id, text, client_id, earlier)
        try:
            async with self.admission.slot():
                # Stored before Rasa is asked, so nothing a resident typed is lost if it fails.
                said, status = await self._resident(conversation_id, text, client_id, earlier)
                if status.state is not DeskState.BOT:
                    return TurnResult(messages=[], handoff=self.desk.public_status(status))
                try:
                    raw = await self.rasa.send(conversation_id, text)
                except RasaUnavailable as exc:
                    log.error("rasa unavailable: %s", exc)
                    raw = None
        except Saturated as busy:
            return await self._busy(conversation_id, text, busy, client_id, earlier)
        if raw is None:
            return await self._without_rasa(conversation_id, text, said, client_id)
        return await self._answer(conversation_id, said, shape_replies(raw), status, client_id)

    async def _held(
        self, conversation_id: str, text: str, client_id: str | None, earlier: EarlierMessage | None
    ) -> TurnResult:
        """An officer owns the conversation (or the resident waits for one): store and deliver only."""
        _, status = await self._resident(conversation_id, text, client_id, earlier)
        return TurnResult(messages=[], handoff=self.desk.public_status(status))

    async def _answer(
        self,
        conversation_id: str,
        said: StoredMessage,
        shaped: ShapedReply,
        status: Status,
        client_id: str | None = None,
        degraded: bool = False,
    ) -> TurnResult:
        """Store the replies and how the turn ended; with ``client_id``, the answer for the message's
        retries too, in the same transaction when the replies are the whole answer."""
        replies = shaped.messages
        for reply in replies:
            reply.text = self.county.fill_markers(reply.text)
        if not replies and not shaped.wants_human:
            # Rasa answers 200 with nothing when an action failed; the resident
            # must never be left looking at silence.
            log.warning("empty reply from Rasa for conversation=%s", conversation_id[:8])
            replies = [BotMessage(text=NO_REPLY, buttons=[Button.model_validate(texts.BUTTON_HANDOFF)])]
        items = [(r.text, [b.model_dump(exclude_none=True) for b in r.buttons] or None) for r in replies]
        turn = turn_record(shaped)
        # Feedback and a handoff request are stored after the replies; such an answer's replay is kept
        # once the whole answer is known (OncePerMessage).
        whole = client_id is not None and shaped.feedback is None and not shaped.wants_human
        handoff = self.desk.public_status(status)
        replay = Replay([], handoff, degraded=degraded) if whole else None
        stored_replies = await self.desk.record_bot_turn(conversation_id, items, shaped.context, turn, said.id, replay)
        stored = [BotMessage.from_stored(m) for m in stored_replies]
        if shaped.feedback is not None:
            await self._record_feedback(conversation_id, shaped.feedback)
        if shaped.wants_human:
            status, notices = await self.desk.request(conversation_id)
            stored.extend(BotMessage.from_stored(m) for m in notices)
            handoff = self.desk.public_status(status)
        return TurnResult(messages=stored, handoff=handoff, degraded=degraded, replay_stored=whole)

    async def _busy(
        self,
        conversation_id: str,
        text: str,
        busy: Saturated,
        client_id: str | None = None,
        earlier: EarlierMessage | None = None,
    ) -> TurnResult:
        """Rasa's queue is full: a direct FAQ answer from retrieval, else "please wait" (nothing stored)."""
        reply = await self.degraded.reply(text, self._retriever(), DegradedReason.BUSY, only_answers=True)
        if reply is None:
            message = BotMessage(text=BUSY, sender=Sender.SYSTEM)
            return TurnResult(messages=[message], busy=True, retry_after=busy.retry_after)
        said, status = await self._resident(conversation_id, text, client_id, earlier)
        if status.state is not DeskState.BOT:
            return TurnResult(messages=[], handoff=self.desk.public_status(status))
        return await self._degraded(conversation_id, said, reply, status, client_id)

    async def _without_rasa(
        self, conversation_id: str, text: str, said: StoredMessage, client_id: str | None = None
    ) -> TurnResult:
        """Rasa is down or too slow: answer from retrieval where it can, else the apology and a person."""
        reply = await self.degraded.reply(text, self._retriever(), DegradedReason.DOWN, only_answers=False)
        if reply is None:
            await self.desk.record_turn(conversation_id, said.id, TurnRecord(TurnOutcome.RASA_DOWN))
            return await self._rasa_down(conversation_id)
        status = await self.desk.status(conversation_id)
        return await self._degraded(conversation_id, said, reply, status, client_id)

    async def _degraded(
        self,
        conversation_id: str,
        said: StoredMessage,
        reply: DegradedReply,
        status: Status,
        client_id: str | None = None,
    ) -> TurnResult:
        shaped = ShapedReply(
            messages=[
                BotMessage(text=m["text"], buttons=[Button.model_validate(b) for b in m.get("buttons") or []])
                for m in reply.messages
            ],
            wants_human=reply.wants_human,
            context=reply.context,
        )
        if shaped.messages and not reply.wants_human:
            offer = [Button.model_validate(b) for b in self.desk.unavailable_buttons()]
            shaped.messages.append(BotMessage(text=NOTE, buttons=offer))
        return await self._answer(conversation_id, said, shaped, status, client_id, degraded=True)

    def _retriever(self) -> Retriever | None:
        return self.knowledge.current() if self.knowledge is not None else None

    async def _record_feedback(self, conversation_id: str, feedback: dict[str, Any]) -> None:
        helpful, answer = bool(feedback.get("helpful")), str(feedback.get("answer", ""))
        await self.desk.vote(conversation_id, helpful, answer, "typed")

    async def _rasa_down(self, conversation_id: str) -> TurnResult:
        message = await self.desk.notice(conversation_id, RASA_DOWN, self.desk.unavailable_buttons())
        status = await self.desk.status(conversation_id)
        handoff = self.desk.public_status(status)
        return TurnResult(messages=[BotMessage.from_stored(message)], handoff=handoff, rasa_down=True)
