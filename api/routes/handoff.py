"""Resident side of the handoff: ask for a person, cancel, receive live events, leave a callback request."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.deps import ClientAddress, DeskDep, LimitsDep, SettingsDep, TokensDep
from api.handoff import texts
from api.handoff.desk import HandoffDesk
from api.handoff.store import Status, StoredMessage
from api.kinds import LimitedAction
from api.messages import MessageRejected, clean_text, field_words
from api.privacy import mask_pii
from api.routes.chat import EXPIRED, too_many
from api.tokens import ConversationTokens
from api.turn_result import BotMessage

router = APIRouter(prefix="/api/v1", tags=["handoff"])
MAX_LONG_POLL_SECONDS = 25.0
PHONE = re.compile(r"^0\d{1,2}-?\d{3,4}-?\d{4}$")
HANDOFF_WORDS = ("상담원", "상담사", "사람", "직원", "담당자", "공무원")
BAD_PHONE = "전화번호 형식을 확인해 주세요. 예: 010-1234-5678"


class SessionRequest(BaseModel):
    session: str


class EventsRequest(BaseModel):
    session: str
    after: int = Field(default=0, ge=0, description="The highest message id the client already has")
    wait: float = Field(default=MAX_LONG_POLL_SECONDS, ge=0, le=MAX_LONG_POLL_SECONDS)


class CallbackRequest(BaseModel):
    session: str | None = None
    consent: bool = Field(description="개인정보 수집·이용 동의 (explicit; false stores nothing)")
    name: str = ""
    phone: str = ""
    preferred_time: str = ""
    question: str = ""


class HandoffReply(BaseModel):
    messages: list[BotMessage]
    handoff: dict[str, Any]


def _conversation(tokens: ConversationTokens, token: str | None) -> str | None:
    return tokens.verify(token) if token else None


def _expired() -> JSONResponse:
    return JSONResponse({"detail": EXPIRED}, status_code=401)


def _reply(desk: HandoffDesk, status: Status, messages: list[StoredMessage]) -> HandoffReply:
    return HandoffReply(messages=[BotMessage.from_stored(m) for m in messages], handoff=desk.public_status(status))


async def _notice(desk: HandoffDesk, conversation_id: str | None, text: str) -> list[dict[str, Any]]:
    """A system message in the conversation (if there is one), shaped like the chat's replies."""
    if not conversation_id:
        return []
    return [BotMessage.from_stored(await desk.notice(conversation_id, text)).model_dump()]


@router.post("/handoff", response_model=HandoffReply, responses={401: {}})
async def request_handoff(body: SessionRequest, tokens: TokensDep, desk: DeskDep) -> HandoffReply | JSONResponse:
    """The resident asks for an officer (also offered when Rasa is down)."""
    conversation_id = _conversation(tokens, body.session)
    if conversation_id is None:
        return _expired()
    return _reply(desk, *await desk.request(conversation_id))


@router.post("/handoff/cancel", response_model=HandoffReply, responses={401: {}})
async def cancel_handoff(body: SessionRequest, tokens: TokensDep, desk: DeskDep) -> HandoffReply | JSONResponse:
    conversation_id = _conversation(tokens, body.session)
    if conversation_id is None:
        return _expired()
    return _reply(desk, *await desk.cancel(conversation_id))


@router.post("/events", response_model=HandoffReply, responses={401: {}, 429: {}})
async def events(
    body: EventsRequest,
    tokens: TokensDep,
    desk: DeskDep,
    settings: SettingsDep,
    limits: LimitsDep,
    client: ClientAddress,
) -> HandoffReply | JSONResponse:
    """Long poll: officer and system messages after ``after``, waiting up to ``wait`` seconds."""
    conversation_id = _conversation(tokens, body.session)
    if conversation_id is None:
        return _expired()
    refused = limits.check(LimitedAction.POLL, conversation_id, client)
    if refused is not None:  # the widget backs off and polls again; nothing is missed (read by message id)
        return too_many(refused, {"messages": [], "handoff": {}})
    messages, status = await desk.events(conversation_id, body.after, min(body.wait, settings.long_poll_seconds))
    return _reply(desk, status, messages)


@router.get("/callback/form")
async def callback_form(tokens: TokensDep, desk: DeskDep, session: str | None = None) -> dict[str, Any]:
    """The consent notice and the question prefilled from the conversation (masked)."""
    question = ""
    conversation_id = _conversation(tokens, session)
    if conversation_id:
        said = await desk.resident_messages(conversation_id)
        asked = [m.text for m in said if not any(word in m.text for word in HANDOFF_WORDS)]
        question = asked[-1] if asked else ""
    return {"consent": texts.consent_notice(desk.config.ticket_retention_days), "question": question}


class FieldRejected(ValueError):
    """A callback form field that cannot be used; ``detail`` is what the resident reads."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _field(value: str, limit: int, label: str) -> str:
    try:
        return clean_text(value, limit)
    except MessageRejected as exc:
        raise FieldRejected(field_words(exc, label)) from exc


@router.post("/callback", responses={401: {}, 422: {}, 429: {}})
async def callback(
    body: CallbackRequest, tokens: TokensDep, desk: DeskDep, limits: LimitsDep, client: ClientAddress
) -> JSONResponse:
    """Store a callback ticket, only with explicit consent; without it, point to other channels."""
    conversation_id = _conversation(tokens, body.session)
    if body.session and conversation_id is None:
        return _expired()
    # Only stored tickets count: a resident correcting a mistyped phone number is not held up.
    refused = limits.check(LimitedAction.CALLBACK, conversation_id, client, count=False)
    if refused is not None:
        return too_many(refused, {"stored": False})
    config = desk.config
    if not body.consent:
        text = texts.NO_CONSENT.format(
            civil_office=config.civil_office,
            phone=config.civil_phone,
            hours=desk.hours_text(),
            epeople=config.epeople_url,
        )
        return JSONResponse({"stored": False, "detail": text, "messages": await _notice(desk, conversation_id, text)})
    try:
        name = _field(body.name, 30, "성함")
        phone = _field(body.phone, 20, "연락받으실 전화번호").replace(" ", "")
        if not PHONE.match(phone):
            raise FieldRejected(BAD_PHONE)
        preferred = mask_pii(_field(body.preferred_time or "언제든 가능", 100, "통화 희망 시간"))
        question = mask_pii(_field(body.question, 1000, "문의 내용"))
    except FieldRejected as exc:
        return JSONResponse({"stored": False, "detail": exc.detail}, status_code=422)
    ticket_id = await desk.create_ticket(conversation_id, name, phone, preferred, question)
    limits.check(LimitedAction.CALLBACK, conversation_id, client)
    text = texts.TICKET_SAVED.format(ticket=ticket_id)
    messages = await _notice(desk, conversation_id, text)
    return JSONResponse({"stored": True, "ticket": ticket_id, "detail": text, "messages": messages})
