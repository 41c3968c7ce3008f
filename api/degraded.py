"""Answers without the dialogue engine: while Rasa is down, timing out or saturated, residents' FAQ
questions are answered straight from retrieval, which this process already holds.

The reply is the same curated text the bot's action would give (``bot.actions.faq.faq_messages``),
with a line saying the bot is answering in a simpler way and the person / callback offer. Greetings,
thanks and a request for a person are recognised by plain keywords; everything else is a question
for retrieval. The turn's context says which engine answered (``engine: retrieval``) and why.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from bot.actions.faq import context_payload, faq_messages

if TYPE_CHECKING:
    from faq.retriever import Retriever

DOMAIN_FILE = Path(__file__).resolve().parent.parent / "bot" / "domain.yml"

# Follows the answer, with the person / callback button the desk offers at this hour.
NOTE = (
    "지금은 문의가 많거나 챗봇 점검 중이라 간단한 방식으로 안내해 드렸습니다. "
    "위 안내가 찾으시는 내용과 다르면 아래에서 상담원 연결이나 전화 상담을 요청해 주세요."
)
BUSY = (
    "지금 문의가 많아 답변이 늦어지고 있습니다. 잠시 기다려 주세요. "
    "보내신 메시지는 순서가 되면 자동으로 다시 보내 드립니다."
)
BUSY_GAVE_UP = (
    "죄송합니다. 지금 문의가 너무 많아 답변을 드리지 못했습니다. "
    "잠시 후 다시 질문해 주시거나 상담원 연결을 요청해 주세요."
)
# A request for a person, in the words residents use (the NLU's request_human examples, simplified).
HUMAN_WORDS = re.compile(
    r"상담원|상담사|상담 ?직원|직원(이랑|하고|과|분)|사람(이랑|하고|과|한테)|공무원.*연결|담당자.*(연결|통화)"
)
GREETING_WORDS = re.compile(r"^(안녕|반갑|하이|헬로)")
THANKS_WORDS = re.compile(r"^(감사|고맙|고마워|땡큐)")
SMALL_TALK_CHARS = 20  # longer messages that start with 안녕하세요 are questions


class DegradedReason(StrEnum):
    """Why the api answered without Rasa (stored with the turn, metrics label)."""

    DOWN = "down"  # not reachable, an error, or slower than RASA_TIMEOUT
    BUSY = "busy"  # the admission queue could not take the turn in time


@dataclass
class DegradedReply:
    """What the resident reads, whether they asked for a person, and what retrieval decided."""

    messages: list[dict[str, Any]]
    wants_human: bool = False
    context: dict[str, Any] | None = None


def domain_response(name: str, domain_file: Path = DOMAIN_FILE) -> dict[str, Any]:
    """The bot's own words for ``name`` from its domain, so a greeting reads the same either way."""
    domain = yaml.safe_load(domain_file.read_text(encoding="utf-8"))
    variants = (domain.get("responses") or {}).get(name) or []
    if not variants:
        raise KeyError(f"{domain_file}: no response {name!r}")
    first = variants[0]
    return {"text": str(first.get("text", "")), "buttons": list(first.get("buttons") or [])}


class DegradedResponder:
    def __init__(self, domain_file: Path = DOMAIN_FILE) -> None:
        self.greeting = domain_response("utter_greet", domain_file)
        self.thanks = domain_response("utter_thanks", domain_file)

    async def reply(
        self, text: str, retriever: Retriever | None, reason: DegradedReason, only_answers: bool
    ) -> DegradedReply | None:
        """None when this turn is better left for the dialogue engine (``only_answers``: anything but a
        direct answer) or nothing here can help."""
        stripped = text.strip()
        if HUMAN_WORDS.search(stripped):
            return DegradedReply([], wants_human=True, context=self._context({}, reason))
        if len(stripped) <= SMALL_TALK_CHARS:
            if GREETING_WORDS.search(stripped):
                return DegradedReply([dict(self.greeting)], context=self._context({}, reason))
            if THANKS_WORDS.search(stripped):
                return DegradedReply([dict(self.thanks)], context=self._context({}, reason))
        if retriever is None:
            return None
        # Embedding takes tens of milliseconds of CPU; keep the event loop free.
        result = await asyncio.to_thread(retriever.search, stripped, 3)
        if result.decision == "none" or (only_answers and result.decision != "answer"):
            return None
        messages = faq_messages(stripped, result, retriever)
        context = self._context(context_payload(stripped, result, retriever)["context"], reason)
        return DegradedReply(messages, context=context)

    @staticmethod
    def _context(context: dict[str, Any], reason: DegradedReason) -> dict[str, Any]:
        return {**context, "engine": "retrieval", "degraded": str(reason)}
