"""Resident chat: ``POST /api/v1/chat`` and the ``/api/v1/ws`` WebSocket."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

from api.deps import ChatDep, ClientAddress, LimitsDep, ServicesDep, TokensDep
from api.kinds import LimitedAction
from api.messages import MessageRejected, RejectReason, frame_bytes_limit, resident_words
from api.ratelimit import Refused
from api.turn_result import BotMessage, TurnResult

router = APIRouter(prefix="/api/v1", tags=["chat"])
log = logging.getLogger("minwon.api")
EXPIRED = "대화 정보가 만료되었습니다. 새로 질문해 주세요."


class ChatRequest(BaseModel):
    session: str | None = Field(default=None, description="Token from a previous reply, or null")
    text: str = Field(description="The resident's message (1-1,000 characters)")
    client_id: str | None = Field(
        default=None,
        max_length=64,
        description="Client's id for this message; a retry with the same id is answered once",
    )


class ChatResponse(BaseModel):
    session: str = Field(description="Server-signed session token to send with the next turn")
    messages: list[BotMessage]
    handoff: dict[str, Any] = Field(description="bot | waiting (position, estimate_minutes) | active (officer)")


class ErrorResponse(BaseModel):
    session: str | None = None
    detail: str
    messages: list[BotMessage] = Field(default_factory=list)


def rasa_down_body(token: str, result: TurnResult) -> dict[str, Any]:
    """503 for monitoring; the body still carries the stored notice and the handoff option."""
    return {
        "session": token,
        "detail": result.messages[0].text,
        "messages": [m.model_dump() for m in result.messages],
        "handoff": result.handoff,
    }


@router.post(
    "/chat",
    response_model=ChatResponse,
    responses={
        413: {"model": ErrorResponse},
        422: {"model": ErrorResponse},
        429: {"model": ErrorResponse, "description": "Too many turns; Retry-After says when to send it again"},
        503: {
            "model": ErrorResponse,
            "description": "Rasa down with no answer from retrieval, or busy (``busy``: send again after Retry-After)",
        },
    },
)
async def chat(
    body: ChatRequest, tokens: TokensDep, service: ChatDep, limits: LimitsDep, client: ClientAddress
) -> ChatResponse | JSONResponse:
    conversation_id, token = tokens.resume_or_start(body.session)
    refused = limits.check(LimitedAction.TURN, conversation_id, client)
    if refused is not None:  # checked before anything is stored: the widget sends the same message again
        return too_many(refused, {"session": token})
    try:
        result = await service.turn(conversation_id, body.text, body.client_id)
    except MessageRejected as exc:
        return JSONResponse({"session": token, "detail": resident_words(exc)}, status_code=exc.status)
    if result.busy:
        return busy_response(token, result)
    if result.rasa_down:
        return JSONResponse(rasa_down_body(token, result), status_code=503)
    return ChatResponse(session=token, messages=result.messages, handoff=result.handoff)


def busy_response(token: str, result: TurnResult) -> JSONResponse:
    """503 with Retry-After: nothing was stored, the widget keeps the message and sends it again."""
    retry_after = result.retry_after or 1
    content = {"session": token, "busy": True, "detail": result.messages[0].text, "retry_after": retry_after}
    return JSONResponse(content, status_code=503, headers={"Retry-After": str(retry_after)})


def too_many(refused: Refused, body: dict[str, Any]) -> JSONResponse:
    """429 with the Korean words the widget shows and when to try again."""
    headers = {"Retry-After": str(refused.retry_after)}
    content = {**body, "detail": refused.resident_words(), "retry_after": refused.retry_after}
    return JSONResponse(content, status_code=429, headers=headers)


@router.websocket("/ws")
async def chat_socket(
    websocket: WebSocket, tokens: TokensDep, service: ChatDep, limits: LimitsDep, client: ClientAddress
) -> None:
    """JSON frames: ``{"type":"hello","session":..}`` then ``{"type":"message","text":..}``.

    Replies: ``session``, ``bot`` (messages, handoff), ``error`` (Korean detail).
    """
    await websocket.accept()
    conversation_id, token = tokens.issue()
    max_chars = service.max_chars
    try:
        while True:
            raw = await websocket.receive_text()
            if len(raw.encode()) > frame_bytes_limit(max_chars):
                too_long = MessageRejected(RejectReason.TOO_LONG, max_chars)
                await websocket.send_json({"type": "error", "detail": resident_words(too_long)})
                continue
            try:
                frame = json.loads(raw)
                if not isinstance(frame, dict):
                    raise ValueError("frame must be an object")
            except ValueError:
                await websocket.send_json({"type": "error", "detail": "잘못된 형식의 요청입니다."})
                continue
            kind = frame.get("type")
            if kind == "hello":
                conversation_id, token = tokens.resume_or_start(frame.get("session"))
                await websocket.send_json({"type": "session", "session": token})
            elif kind == "message":
                client_id = frame.get("id")
                refused = limits.check(LimitedAction.TURN, conversation_id, client)
                if refused is not None:
                    await websocket.send_json(
                        {
                            "type": "error",
                            "id": client_id,
                            "detail": refused.resident_words(),
                            "retry_after": refused.retry_after,
                        }
                    )
                    continue
                try:
                    result = await service.turn(
                        conversation_id, frame.get("text"), str(client_id) if client_id is not None else None
                    )
                except MessageRejected as exc:
                    await websocket.send_json({"type": "error", "detail": resident_words(exc), "id": client_id})
                    continue
                if result.busy:  # not stored: the client sends the same frame again after retry_after
                    await websocket.send_json(
                        {
                            "type": "error",
                            "id": client_id,
                            "busy": True,
                            "detail": result.messages[0].text,
                            "retry_after": result.retry_after,
                        }
                    )
                    continue
                await websocket.send_json(
                    {
                        "type": "error" if result.rasa_down else "bot",
                        "id": client_id,
                        "session": token,
                        "detail": result.messages[0].text if result.rasa_down else None,
                        "messages": [m.model_dump() for m in result.messages],
                        "handoff": result.handoff,
                    }
                )
            else:
                await websocket.send_json({"type": "error", "detail": "알 수 없는 요청입니다."})
    except WebSocketDisconnect:
        return


class FeedbackRequest(BaseModel):
    session: str = Field(description="Session token of the conversation")
    helpful: bool
    answer: str = Field(default="", max_length=4000, description="The answer the feedback is about")


@router.post("/feedback", status_code=204, response_class=Response, responses={401: {"model": ErrorResponse}})
async def feedback(body: FeedbackRequest, services: ServicesDep) -> Response:
    conversation_id = services.tokens.verify(body.session)
    if conversation_id is None:
        return JSONResponse({"detail": EXPIRED}, status_code=401)
    try:
        await services.desk.vote(conversation_id, body.helpful, body.answer, "button")
    except SQLAlchemyError:
        log.exception("could not record feedback")
        return JSONResponse({"detail": "의견을 저장하지 못했습니다. 잠시 후 다시 시도해 주세요."}, status_code=503)
    return Response(status_code=204)
