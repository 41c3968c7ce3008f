"""The rasa-webchat socket.io protocol, so counties already embedding rasa-webchat can point it at us.

Events: ``session_request`` {session_id} → ``session_confirm`` (our signed
token; a client-chosen id is never trusted), ``user_uttered`` {message,
session_id, customData} → one ``bot_uttered`` per reply: {text} or
{text, quick_replies}.
"""

from __future__ import annotations

import logging
from typing import Any

import socketio

from api.chat import RASA_DOWN, ChatService
from api.messages import MessageRejected
from api.rasa_client import RasaUnavailable
from api.sessions import SessionSigner

log = logging.getLogger("minwon.webchat")
# rasa-webchat sends its initPayload (default "/get_started") when it opens.
INIT_PAYLOADS = {"/get_started", "/greet", "get_started"}


def create_webchat_server(signer: SessionSigner, chat: ChatService, origins: list[str]) -> socketio.AsyncServer:
    sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins=origins, logger=False, engineio_logger=False)
    sessions: dict[str, str] = {}  # socket id -> conversation (session) id

    @sio.on("session_request")
    async def session_request(sid: str, data: Any) -> None:
        proposed = data.get("session_id") if isinstance(data, dict) else None
        session_id, token = signer.resume_or_start(proposed if isinstance(proposed, str) else None)
        sessions[sid] = session_id
        await sio.emit("session_confirm", token, to=sid)

    @sio.on("user_uttered")
    async def user_uttered(sid: str, data: Any) -> None:
        if sid not in sessions:
            sessions[sid] = signer.issue()[0]
        message = data.get("message") if isinstance(data, dict) else None
        if isinstance(message, str) and message.strip() in INIT_PAYLOADS:
            message = "안녕하세요"
        try:
            replies = await chat.turn(sessions[sid], message)
        except MessageRejected as exc:
            await sio.emit("bot_uttered", {"text": exc.detail}, to=sid)
            return
        except RasaUnavailable as exc:
            log.error("rasa unavailable: %s", exc)
            await sio.emit("bot_uttered", {"text": RASA_DOWN}, to=sid)
            return
        for reply in replies:
            payload: dict[str, Any] = {"text": reply.text}
            if reply.buttons:
                payload["quick_replies"] = [
                    {"content_type": "text", "title": b.title, "payload": b.payload} for b in reply.buttons
                ]
            await sio.emit("bot_uttered", payload, to=sid)

    @sio.event
    async def disconnect(sid: str, *args: Any) -> None:
        sessions.pop(sid, None)

    return sio
