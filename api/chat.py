"""One resident turn: clean, mask, store, then the bot or the officer. Shared by HTTP, WebSocket, socket.io.

While an officer owns the conversation (or the resident waits for one) the bot
stays silent: the message is stored and delivered to the officer's console.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from api.admission import Admission, Saturated
from api.degraded import BUSY, NOTE, DegradedReason, DegradedReply, DegradedResponder
from api.handoff import texts
from api.handoff.desk import HandoffDesk
from api.handoff.store import AlreadyStored, EarlierMessage, Replay, Status, StoredMessage, TurnRecord
from api.kinds import DECISION_OUTCOMES, ButtonAction, DeskState, Sender, TurnOutcome, TurnResultKind
from api.messages import MessageRejected, clean_text
from api.privacy import mask_pii
from api.rasa_client import RasaClient, RasaUnavailable
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


class Button(BaseModel):
    title: str
    payload: str = ""
    action: ButtonAction | None = Field(default=None, description="Handled by the widget itself, not sent as text")


class BotMessage(BaseModel):
    text: str = ""
    buttons: list[Button] = Field(default_factory=list)
    id: int | None = Field(default=None, description="Stored message id (for de-duplicating live events)")
    sender: Sender = Field(default=Sender.BOT, description="bot | officer | system")
    author: str | None = Field(default=None, description="The officer's display name")

    @classmethod
    def from_stored(cls, message: StoredMessage) -> BotMessage:
        return cls(
            text=message.text,
            buttons=[Button.model_validate(b) for b in message.buttons],
            id=message.id,
            sender=message.sender,
            author=message.author,
        )


class TurnResult(BaseModel):
    messages: list[BotMessage]
    handoff: dict[str, Any] = Field(default_factory=lambda: {"state": DeskState.BOT.value})
    rasa_down: bool = False
    # Too many turns ahead: nothing was stored; the channel asks the client to send it again later.
    busy: bool = False
    retry_after: int | None = None
    degraded: bool = False  # answered from retrieval without the dialogue engine


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


def replayed(replay: Replay) -> TurnResult:
    """The first try's answer again, as it was given (the handoff status of that moment included)."""
    return TurnResult(
        messages=[BotMessage.from_stored(m) for m in replay.messages],
        handoff=replay.handoff,
        rasa_down=replay.rasa_down,
        degraded=replay.degraded,
    )


class ChatService:
    # Replies remembered per (conversation, client message id), so a widget that
    # retries after a lost response gets the same answer and Rasa sees the
    # message once: nothing lost, nothing duplicated. This is the fast path of
    # one process; the database (the message's client id and stored answer) is
    # the truth when the retry reaches another api process.
    REPLAY_CACHE = 5000

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
        # How long a retry waits for the answer of a first try another process is running (or that died).
        self.replay_wait = replay_wait
        self._replies: OrderedDict[tuple[str, str], TurnResult] = OrderedDict()
        self._inflight: dict[tuple[str, str], asyncio.Future[TurnResult]] = {}

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
        """One answer per (conversation, client message id), also while the first try still runs."""
        if not client_id:
            return await self._turn(conversation_id, self._words(raw_text))
        key = (conversation_id, client_id[:64])
        if key in self._replies:
            return self._replies[key]
        if key in self._inflight:  # the same message retried while the first try still runs
            return await asyncio.shield(self._inflight[key])
        future: asyncio.Future[TurnResult] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await self._first_or_again(conversation_id, raw_text, key[1])
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here, so an unawaited future does not warn
            raise
        finally:
            self._inflight.pop(key, None)
        future.set_result(result)
        if result.busy:  # nothing was stored: the same message sent again is a new try
            return result
        self._replies[key] = result
        while len(self._replies) > self.REPLAY_CACHE:
            self._replies.popitem(last=False)
        return result

    async def _first_or_again(self, conversation_id: str, raw_text: object, client_id: str) -> TurnResult:
        """A message another api process may have stored already: the answer stored for it, else a turn."""
        text = self._words(raw_text)
        earlier = await self.desk.earlier_message(conversation_id, client_id)
        if earlier is None:
            try:
                result = await self._turn(conversation_id, text, client_id)
            except AlreadyStored as first:  # another process stored the same message a moment ago
                earlier = first.earlier
            else:
                await self._keep(conversation_id, client_id, result)
                return result
        replay = earlier.replay or await self.desk.wait_for_replay(conversation_id, client_id, self.replay_wait)
        if replay is not None:
            return replayed(replay)
        # The first try died mid-turn (or is stuck): answer it here, without storing the words a second time.
        log.warning("retry of an unanswered message conversation=%s: answering it again", conversation_id[:8])
        result = await self._turn(conversation_id, text, client_id, earlier)
        await self._keep(conversation_id, client_id, result)
        return result

    def _words(self, raw_text: object) -> str:
        """What is stored and sent to Rasa: checked (MessageRejected), cleaned and PII-masked."""
        return mask_pii(clean_text(raw_text, self.max_chars))

    async def _keep(self, conversation_id: str, client_id: str, result: TurnResult) -> None:
        if result.busy:  # nothing was stored: the same message sent again is a new try
            return
        replay = Replay(
            message_ids=[m.id for m in result.messages if m.id is not None],
            handoff=result.handoff,
            rasa_down=result.rasa_down,
            degraded=result.degraded,
        )
        await self.desk.record_replay(conversation_id, client_id, replay)

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
            return await self._without_rasa(conversation_id, text, said)
        return await self._answer(conversation_id, said, shape_replies(raw), status)

    async def _held(
        self, conversation_id: str, text: str, client_id: str | None, earlier: EarlierMessage | None
    ) -> TurnResult:
        """An officer owns the conversation (or the resident waits for one): store and deliver only."""
        _, status = await self._resident(conversation_id, text, client_id, earlier)
        return TurnResult(messages=[], handoff=self.desk.public_status(status))

    async def _answer(
        self, conversation_id: str, said: StoredMessage, shaped: ShapedReply, status: Status
    ) -> TurnResult:
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
        stored_replies = await self.desk.record_bot_turn(conversation_id, items, shaped.context, turn, said.id)
        stored = [BotMessage.from_stored(m) for m in stored_replies]
        if shaped.feedback is not None:
            await self._record_feedback(conversation_id, shaped.feedback)
        if shaped.wants_human:
            status, notices = await self.desk.request(conversation_id)
            stored.extend(BotMessage.from_stored(m) for m in notices)
        return TurnResult(messages=stored, handoff=self.desk.public_status(status))

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
        return await self._degraded(conversation_id, said, reply, status)

    async def _without_rasa(self, conversation_id: str, text: str, said: StoredMessage) -> TurnResult:
        """Rasa is down or too slow: answer from retrieval where it can, else the apology and a person."""
        reply = await self.degraded.reply(text, self._retriever(), DegradedReason.DOWN, only_answers=False)
        if reply is None:
            await self.desk.record_turn(conversation_id, said.id, TurnRecord(TurnOutcome.RASA_DOWN))
            return await self._rasa_down(conversation_id)
        return await self._degraded(conversation_id, said, reply, await self.desk.status(conversation_id))

    async def _degraded(
        self, conversation_id: str, said: StoredMessage, reply: DegradedReply, status: Status
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
        result = await self._answer(conversation_id, said, shaped, status)
        result.degraded = True
        return result

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
