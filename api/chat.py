"""One resident turn: clean, mask, store, then the bot or the officer. Shared by HTTP, WebSocket, socket.io.

While an officer owns the conversation (or the resident waits for one) the bot
stays silent: the message is stored and delivered to the officer's console.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

from pydantic import BaseModel, Field

from api.handoff import texts
from api.handoff.desk import HandoffDesk
from api.handoff.store import StoredMessage
from api.messages import clean_text
from api.privacy import mask_pii
from api.rasa_client import RasaClient, RasaUnavailable

log = logging.getLogger("minwon.chat")

RASA_DOWN = texts.RASA_DOWN

NO_REPLY = (
    "죄송합니다. 지금은 답변을 준비하지 못했습니다. 질문을 조금 바꿔서 다시 물어봐 주시거나, "
    "상담원 연결을 요청해 주세요."
)


class Button(BaseModel):
    title: str
    payload: str = ""
    action: str | None = Field(default=None, description="handoff | callback | cancel_handoff: handled by the widget")


class BotMessage(BaseModel):
    text: str = ""
    buttons: list[Button] = Field(default_factory=list)
    id: int | None = Field(default=None, description="Stored message id (for de-duplicating live events)")
    sender: str = Field(default="bot", description="bot | officer | system")
    author: str | None = Field(default=None, description="The officer's display name")

    @classmethod
    def from_stored(cls, message: StoredMessage) -> BotMessage:
        return cls(
            text=message.text,
            buttons=[Button(**b) for b in message.buttons],
            id=message.id,
            sender=message.sender,
            author=message.author,
        )


class TurnResult(BaseModel):
    messages: list[BotMessage]
    handoff: dict[str, Any] = Field(default_factory=lambda: {"state": "bot"})
    rasa_down: bool = False


def shape_replies(raw: list[dict[str, Any]]) -> tuple[list[BotMessage], bool]:
    """Rasa's REST channel splits one answer at every blank line; put it back together.

    Returns the messages and whether the bot asked for a human (``{"handoff": "request"}``).
    """
    messages: list[BotMessage] = []
    wants_human = False
    for item in raw:
        custom = item.get("custom")
        if isinstance(custom, dict) and custom.get("handoff") == "request":
            wants_human = True
        text = item.get("text") or ""
        buttons = [
            Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
            for b in item.get("buttons") or []
            if b.get("title")
        ]
        if not (text or buttons):
            continue
        if messages and not messages[-1].buttons and text:
            messages[-1].text = f"{messages[-1].text}\n\n{text}" if messages[-1].text else text
            messages[-1].buttons = buttons
            continue
        messages.append(BotMessage(text=text, buttons=buttons))
    return messages, wants_human


class ChatService:
    # Replies remembered per (session, client message id), so a widget that
    # retries after a lost response gets the same answer and Rasa sees the
    # message once: nothing lost, nothing duplicated.
    REPLAY_CACHE = 5000

    def __init__(self, rasa: RasaClient, desk: HandoffDesk, max_chars: int) -> None:
        self.rasa = rasa
        self.desk = desk
        self.max_chars = max_chars
        self._replies: OrderedDict[tuple[str, str], TurnResult] = OrderedDict()
        self._inflight: dict[tuple[str, str], asyncio.Future[TurnResult]] = {}

    async def turn(self, session_id: str, raw_text: object, client_id: str | None = None) -> TurnResult:
        """Raises MessageRejected for bad input; a Rasa failure is a result with ``rasa_down``."""
        if not client_id:
            return await self._turn(session_id, raw_text)
        key = (session_id, client_id[:64])
        if key in self._replies:
            return self._replies[key]
        if key in self._inflight:  # the same message retried while the first try still runs
            return await asyncio.shield(self._inflight[key])
        future: asyncio.Future[TurnResult] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await self._turn(session_id, raw_text)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here, so an unawaited future does not warn
            raise
        finally:
            self._inflight.pop(key, None)
        future.set_result(result)
        self._replies[key] = result
        while len(self._replies) > self.REPLAY_CACHE:
            self._replies.popitem(last=False)
        return result

    async def _turn(self, session_id: str, raw_text: object) -> TurnResult:
        text = mask_pii(clean_text(raw_text, self.max_chars))
        log.info("turn session=%s text=%r", session_id[:8], text[:200])
        # Stored before anything can fail, so nothing a resident typed is lost.
        status = await self.desk.record_resident(session_id, text)
        if status.state != "bot":
            return TurnResult(messages=[], handoff=self.desk.public_status(status))
        try:
            raw = await self.rasa.send(session_id, text)
        except RasaUnavailable as exc:
            log.error("rasa unavailable: %s", exc)
            return await self._rasa_down(session_id)
        replies, wants_human = shape_replies(raw)
        if not replies and not wants_human:
            # Rasa answers 200 with nothing when an action failed; the resident
            # must never be left looking at silence.
            log.warning("empty reply from Rasa for session=%s", session_id[:8])
            replies = [BotMessage(text=NO_REPLY, buttons=[Button(**texts.BUTTON_HANDOFF)])]
        items = [(r.text, [b.model_dump(exclude_none=True) for b in r.buttons] or None) for r in replies]
        stored = [BotMessage.from_stored(m) for m in await self.desk.record_bot_replies(session_id, items)]
        if wants_human:
            status, notices = await self.desk.request(session_id, "resident")
            stored.extend(BotMessage.from_stored(m) for m in notices)
        return TurnResult(messages=stored, handoff=self.desk.public_status(status))

    async def _rasa_down(self, session_id: str) -> TurnResult:
        hours_open = self.desk.config.hours.is_open()
        button = texts.BUTTON_HANDOFF if hours_open else texts.BUTTON_CALLBACK
        message = await self.desk.record(session_id, "system", RASA_DOWN, [button])
        status = await self.desk.status(session_id)
        handoff = self.desk.public_status(status)
        return TurnResult(messages=[BotMessage.from_stored(message)], handoff=handoff, rasa_down=True)
