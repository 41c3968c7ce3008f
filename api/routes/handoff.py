"""Resident side of the handoff: ask for a person, cancel, receive live events, leave a callback request."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.chat import BotMessage
from api.handoff import texts
from api.handoff.desk import HandoffDesk
from api.handoff.store import Status, StoredMessage
from api.messages import MessageRejected, clean_text
from api.privacy import mask_pii
from api.routes.chat import EXPIRED

router = APIRouter(prefix="/api/v1", tags=["handoff"])
LONG_POLL_SECONDS = 25.0
PHONE = re.compile(r"^0\d{1,2}-?\d{3,4}-?\d{4}$")
HANDOFF_WORDS = ("상담원", "상담사", "사람", "직원", "담당자", "공무원")


class SessionRequest(BaseModel):
    session: str


class EventsRequest(BaseModel):
    session: str
    after: int = Field(default=0, ge=0, description="The highest message id the client already has")
    wait: float = Field(default=LONG_POLL_SECONDS, ge=0, le=LONG_POLL_SECONDS)


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


def _desk(request: Request) -> HandoffDesk:
    return request.app.state.desk  # type: ignore[no-any-return]


def _session(request: Request, token: str | None) -> str | None:
    return request.app.state.signer.verify(token) if token else None


def _expired() -> JSONResponse:
    return JSONResponse({"detail": EXPIRED}, status_code=401)


def _reply(desk: HandoffDesk, status: Status, messages: list[StoredMessage]) -> HandoffReply:
    return HandoffReply(messages=[BotMessage.from_stored(m) for m in messages], handoff=desk.public_status(status))


async def _notice(desk: HandoffDesk, session_id: str | None, text: str) -> list[dict[str, Any]]:
    """A system message in the conversation (if there is one), shaped like the chat's replies."""
    if not session_id:
        return []
    return [BotMessage.from_stored(await desk.record(session_id, "system", text)).model_dump()]


@router.post("/handoff", response_model=HandoffReply, responses={401: {}})
async def request_handoff(body: SessionRequest, request: Request) -> HandoffReply | JSONResponse:
    """The resident asks for an officer (also offered when Rasa is down)."""
    session_id = _session(request, body.session)
    if session_id is None:
        return _expired()
    desk = _desk(request)
    return _reply(desk, *await desk.request(session_id, "resident"))


@router.post("/handoff/cancel", response_model=HandoffReply, responses={401: {}})
async def cancel_handoff(body: SessionRequest, request: Request) -> HandoffReply | JSONResponse:
    session_id = _session(request, body.session)
    if session_id is None:
        return _expired()
    desk = _desk(request)
    return _reply(desk, *await desk.cancel(session_id))


@router.post("/events", response_model=HandoffReply, responses={401: {}})
async def events(body: EventsRequest, request: Request) -> HandoffReply | JSONResponse:
    """Long poll: officer and system messages after ``after``, waiting up to ``wait`` seconds."""
    session_id = _session(request, body.session)
    if session_id is None:
        return _expired()
    desk = _desk(request)
    messages, status = await desk.events(session_id, body.after, body.wait)
    return _reply(desk, status, messages)


@router.get("/callback/form")
async def callback_form(request: Request, session: str | None = None) -> dict[str, Any]:
    """The consent notice and the question prefilled from the conversation (masked)."""
    desk = _desk(request)
    question = ""
    session_id = _session(request, session)
    if session_id:
        said = await desk.resident_messages(session_id)
        asked = [m.text for m in said if not any(word in m.text for word in HANDOFF_WORDS)]
        question = asked[-1] if asked else ""
    return {"consent": texts.consent_notice(desk.config.ticket_retention_days), "question": question}


def _field(value: str, limit: int, missing: str) -> str:
    try:
        return clean_text(value, limit)
    except MessageRejected as exc:
        raise MessageRejected(422, missing if exc.detail.startswith("질문을 입력") else exc.detail) from exc


@router.post("/callback", responses={401: {}, 422: {}})
async def callback(body: CallbackRequest, request: Request) -> JSONResponse:
    """Store a callback ticket, only with explicit consent; without it, point to other channels."""
    desk = _desk(request)
    session_id = _session(request, body.session)
    if body.session and session_id is None:
        return _expired()
    config = desk.config
    if not body.consent:
        text = texts.NO_CONSENT.format(
            civil_office=config.civil_office,
            phone=config.civil_phone,
            hours=config.hours.describe(),
            epeople=config.epeople_url,
        )
        return JSONResponse({"stored": False, "detail": text, "messages": await _notice(desk, session_id, text)})
    try:
        name = _field(body.name, 30, "성함을 입력해 주세요.")
        phone = _field(body.phone, 20, "연락받으실 전화번호를 입력해 주세요.").replace(" ", "")
        if not PHONE.match(phone):
            raise MessageRejected(422, "전화번호 형식을 확인해 주세요. 예: 010-1234-5678")
        preferred = _field(body.preferred_time or "언제든 가능", 100, "")
        question = mask_pii(_field(body.question, 1000, "문의하실 내용을 입력해 주세요."))
    except MessageRejected as exc:
        return JSONResponse({"stored": False, "detail": exc.detail}, status_code=exc.status)
    ticket_id = await desk.create_ticket(session_id, name, phone, preferred, question)
    text = texts.TICKET_SAVED.format(ticket=ticket_id)
    messages = await _notice(desk, session_id, text)
    return JSONResponse({"stored": True, "ticket": ticket_id, "detail": text, "messages": messages})
