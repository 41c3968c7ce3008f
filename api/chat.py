"""One resident turn: clean, mask, ask Rasa, shape the reply. Shared by HTTP and WebSocket."""

from __future__ import annotations

import logging
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
    messages = []
    for item in raw:
        text = item.get("text") or ""
        buttons = [
            Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
            for b in item.get("buttons") or []
            if b.get("title")
        ]
        if text or buttons:
            messages.append(BotMessage(text=text, buttons=buttons))
    return messages


class ChatService:
    def __init__(self, rasa: RasaClient, max_chars: int) -> None:
        self.rasa = rasa
        self.max_chars = max_chars

    async def turn(self, session_id: str, raw_text: object) -> list[BotMessage]:
        """Raises MessageRejected for bad input and RasaUnavailable when Rasa fails."""
        text = mask_pii(clean_text(raw_text, self.max_chars))
        log.info("turn session=%s text=%r", session_id[:8], text[:200])
        replies = shape_replies(await self.rasa.send(session_id, text))
        if not replies:
            # Rasa answers 200 with nothing when an action failed; the resident
            # must never be left looking at silence.
            log.warning("empty reply from Rasa for session=%s", session_id[:8])
            return [BotMessage(text=NO_REPLY)]
        return replies
