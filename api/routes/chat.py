"""Resident chat: ``POST /api/v1/chat`` and the ``/api/v1/ws`` WebSocket."""

from __future__ import annotations

import json
import logging

from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.chat import RASA_DOWN, BotMessage, ChatService
from api.messages import MessageRejected
from api.rasa_client import RasaUnavailable
from api.sessions import SessionSigner

router = APIRouter(prefix="/api/v1", tags=["chat"])
log = logging.getLogger("minwon.api")


class ChatRequest(BaseModel):
    session: str | None = Field(default=None, description="Token from a previous reply, or null")
    text: str = Field(description="The resident's message (1-1,000 characters)")


class ChatResponse(BaseModel):
    session: str = Field(description="Server-signed session token to send with the next turn")
    messages: list[BotMessage]


class ErrorResponse(BaseModel):
    session: str | None = None
    detail: str


@router.post(
    "/chat",
    response_model=ChatResponse,
    responses={413: {"model": ErrorResponse}, 422: {"model": ErrorResponse}, 503: {"model": ErrorResponse}},
)
async def chat(body: ChatRequest, request: Request) -> ChatResponse | JSONResponse:
    signer: SessionSigner = request.app.state.signer
    service: ChatService = request.app.state.chat
    session_id, token = signer.resume_or_start(body.session)
    try:
        messages = await service.turn(session_id, body.text)
    except MessageRejected as exc:
        return JSONResponse({"session": token, "detail": exc.detail}, status_code=exc.status)
    except RasaUnavailable as exc:
        log.error("rasa unavailable: %s", exc)
        return JSONResponse({"session": token, "detail": RASA_DOWN}, status_code=503)
    return ChatResponse(session=token, messages=messages)


@router.websocket("/ws")
async def chat_socket(websocket: WebSocket) -> None:
    """JSON frames: ``{"type":"hello","session":..}`` then ``{"type":"message","text":..}``.

    Replies: ``session``, ``bot`` (messages), ``error`` (Korean detail).
    """
    signer: SessionSigner = websocket.app.state.signer
    service: ChatService = websocket.app.state.chat
    await websocket.accept()
    session_id, token = signer.issue()
    try:
        while True:
            raw = await websocket.receive_text()
            try:
                frame = json.loads(raw)
                if not isinstance(frame, dict):
                    raise ValueError("frame must be an object")
            except ValueError:
                await websocket.send_json({"type": "error", "detail": "잘못된 형식의 요청입니다."})
                continue
            kind = frame.get("type")
            if kind == "hello":
                session_id, token = signer.resume_or_start(frame.get("session"))
                await websocket.send_json({"type": "session", "session": token})
            elif kind == "message":
                try:
                    messages = await service.turn(session_id, frame.get("text"))
                except MessageRejected as exc:
                    await websocket.send_json({"type": "error", "detail": exc.detail, "id": frame.get("id")})
                    continue
                except RasaUnavailable as exc:
                    log.error("rasa unavailable: %s", exc)
                    await websocket.send_json({"type": "error", "detail": RASA_DOWN, "id": frame.get("id")})
                    continue
                await websocket.send_json(
                    {
                        "type": "bot",
                        "id": frame.get("id"),
                        "session": token,
                        "messages": [m.model_dump() for m in messages],
                    }
                )
            else:
                await websocket.send_json({"type": "error", "detail": "알 수 없는 요청입니다."})
    except WebSocketDisconnect:
        return
