"""One resident turn: clean, mask, ask Rasa, shape the reply. Shared by HTTP and WebSocket."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from typing import Any

from pydantic import BaseModel, Field

from api.messages import clean_text
from api.privacy import mask_pii
from api.rasa_client import RasaClient

log = logging.getLogger("minwon.chat")

RASA_DOWN = (
    "죄송합니다. 지금 상담 시스템에 일시적인 문제가 있어 답변을 드리지 못했습니다. "
    "잠시 후 다시 질문해 주시거나, 급하신 경우 민원실로 전화해 주세요."
)

NO_REPLY = (
    "죄송합니다. 지금은 답변을 준비하지 못했습니다. 질문을 조금 바꿔서 다시 물어봐 주시거나, "
    "상담원 연결을 요청해 주세요."
)


class Button(BaseModel):
    title: str
    payload: str


class BotMessage(BaseModel):
    text: str = ""
    buttons: list[Button] = Field(default_factory=list)


def shape_replies(raw: list[dict[str, Any]]) -> list[BotMessage]:
    """Rasa's REST channel splits one answer at every blank line; put it back together."""
    messages: list[BotMessage] = []
    for item in raw:
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
    return messages


class ChatService:
    # Replies remembered per (session, client message id), so a widget that
    # retries after a lost response gets the same answer and Rasa sees the
    # message once: nothing lost, nothing duplicated.
    REPLAY_CACHE = 5000

    def __init__(self, rasa: RasaClient, max_chars: int) -> None:
        self.rasa = rasa
        self.max_chars = max_chars
        self._replies: OrderedDict[tuple[str, str], list[BotMessage]] = OrderedDict()
        self._inflight: dict[tuple[str, str], asyncio.Future[list[BotMessage]]] = {}

    async def turn(self, session_id: str, raw_text: object, client_id: str | None = None) -> list[BotMessage]:
        """Raises MessageRejected for bad input and RasaUnavailable when Rasa fails."""
        if not client_id:
            return await self._turn(session_id, raw_text)
        key = (session_id, client_id[:64])
        if key in self._replies:
            return self._replies[key]
        if key in self._inflight:  # the same message retried while the first try still runs
            return await asyncio.shield(self._inflight[key])
        future: asyncio.Future[list[BotMessage]] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            replies = await self._turn(session_id, raw_text)
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here, so an unawaited future does not warn
            raise
        finally:
            self._inflight.pop(key, None)
        future.set_result(replies)
        self._replies[key] = replies
        while len(self._replies) > self.REPLAY_CACHE:
            self._replies.popitem(last=False)
        return replies

    async def _turn(self, session_id: str, raw_text: object) -> list[BotMessage]:
        text = mask_pii(clean_text(raw_text, self.max_chars))
        log.info("turn session=%s text=%r", session_id[:8], text[:200])
        replies = shape_replies(await self.rasa.send(session_id, text))
        if not replies:
            # Rasa answers 200 with nothing when an action failed; the resident
            # must never be left looking at silence.
            log.warning("empty reply from Rasa for session=%s", session_id[:8])
            return [BotMessage(text=NO_REPLY)]
        return replies
