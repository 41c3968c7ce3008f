"""Clean typed text before it goes anywhere; refusals carry a machine reason, each channel words it.

A resident's question, a callback form field and an officer's reply share the
cleaning rules but not the words: "질문을 입력해 주세요" is right for the chat box
and wrong for a name field.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
HTML_TAG = re.compile(r"<[^>]{0,200}>")
# Rasa treats "/intent{...}" as a pre-classified intent and skips NLU; residents
# must never be able to pick the intent (or set slots) by typing it.
LEADING_COMMAND = re.compile(r"^[\s/]+")


class RejectReason(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    NOT_TEXT = "not_text"


class MessageRejected(ValueError):
    """Typed input that cannot be used, and why (``reason``); ``limit`` is the character limit applied."""

    def __init__(self, reason: RejectReason, limit: int) -> None:
        super().__init__(f"{reason}: limit {limit}")
        self.reason = reason
        self.limit = limit

    @property
    def status(self) -> int:
        return 413 if self.reason is RejectReason.TOO_LONG else 422


def _object_particle(word: str) -> str:
    """을/를 after ``word`` (Korean object particle, chosen by the last syllable's final consonant)."""
    last = word[-1] if word else "가"
    has_final = "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28 != 0
    return "을" if has_final else "를"


def _topic_particle(word: str) -> str:
    last = word[-1] if word else "가"
    has_final = "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28 != 0
    return "은" if has_final else "는"


def field_words(exc: MessageRejected, label: str) -> str:
    """The refusal for a form field named ``label`` ("성함", "연락받으실 전화번호")."""
    if exc.reason is RejectReason.EMPTY:
        return f"{label}{_object_particle(label)} 입력해 주세요."
    if exc.reason is RejectReason.TOO_LONG:
        return f"{label}{_topic_particle(label)} {exc.limit:,}자 이내로 입력해 주세요."
    return f"{label}{_topic_particle(label)} 글자로 입력해 주세요."


RESIDENT_EMPTY = "질문을 입력해 주세요. 빈 메시지는 보낼 수 없습니다."


def resident_words(exc: MessageRejected) -> str:
    """The refusal a resident reads in the chat."""
    if exc.reason is RejectReason.EMPTY:
        return RESIDENT_EMPTY
    if exc.reason is RejectReason.TOO_LONG:
        return f"질문이 너무 깁니다. {exc.limit:,}자 이내로 줄여서 다시 보내 주세요."
    return "질문은 글자로 입력해 주세요."


def officer_words(exc: MessageRejected) -> str:
    """The refusal an officer reads in the console."""
    if exc.reason is RejectReason.EMPTY:
        return "보낼 메시지를 입력해 주세요."
    if exc.reason is RejectReason.TOO_LONG:
        return f"메시지가 너무 깁니다. {exc.limit:,}자 이내로 나누어 보내 주세요."
    return "메시지는 글자로 입력해 주세요."


def clean_text(raw: object, limit: int) -> str:
    if not isinstance(raw, str):
        raise MessageRejected(RejectReason.NOT_TEXT, limit)
    if len(raw) > limit * 4:
        raise MessageRejected(RejectReason.TOO_LONG, limit)
    text = unicodedata.normalize("NFC", raw)
    text = CONTROL.sub(" ", text)
    text = HTML_TAG.sub(" ", text)
    text = LEADING_COMMAND.sub("", text)
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise MessageRejected(RejectReason.EMPTY, limit)
    if len(text) > limit:
        raise MessageRejected(RejectReason.TOO_LONG, limit)
    return text


def frame_bytes_limit(max_chars: int) -> int:
    """The largest socket frame worth reading for a message of ``max_chars``: 4 UTF-8 bytes a character plus
    the JSON around it. A bigger frame cannot hold an acceptable message, so it is refused unread."""
    return max_chars * 4 + 1024
