"""Clean a resident's typed text before it goes anywhere, with Korean errors."""

from __future__ import annotations

import re
import unicodedata

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")
HTML_TAG = re.compile(r"<[^>]{0,200}>")
# Rasa treats "/intent{...}" as a pre-classified intent and skips NLU; residents
# must never be able to pick the intent (or set slots) by typing it.
LEADING_COMMAND = re.compile(r"^[\s/]+")


class MessageRejected(ValueError):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


EMPTY = "질문을 입력해 주세요. 빈 메시지는 보낼 수 없습니다."


def too_long(limit: int) -> str:
    return f"질문이 너무 깁니다. {limit:,}자 이내로 줄여서 다시 보내 주세요."


def clean_text(raw: object, limit: int) -> str:
    if not isinstance(raw, str):
        raise MessageRejected(422, "질문은 글자로 입력해 주세요.")
    if len(raw) > limit * 4:
        raise MessageRejected(413, too_long(limit))
    text = unicodedata.normalize("NFC", raw)
    text = CONTROL.sub(" ", text)
    text = HTML_TAG.sub(" ", text)
    text = LEADING_COMMAND.sub("", text)
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise MessageRejected(422, EMPTY)
    if len(text) > limit:
        raise MessageRejected(413, too_long(limit))
    return text
