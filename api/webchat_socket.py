"""The rasa-webchat socket.io protocol, so counties already embedding rasa-webchat can point it at us.

Events: ``session_request`` {session_id} → ``session_confirm`` (our signed
token; a client-chosen id is never trusted), ``user_uttered`` {message,
session_id, customData} → one ``bot_uttered`` per reply: {text} or
{text, quick_replies}. Officer and system messages of a handoff are pushed as
``bot_uttered`` too, while the socket is connected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import socketio

from api.chat import ChatService
from api.client_address import client_address
from api.degraded import BUSY_GAVE_UP
from api.kinds import DeskState, LimitedAction
from api.messages import MessageRejected, frame_bytes_limit, resident_words
from api.ratelimit import ResidentLimits
from api.settings import Settings
from api.tokens import ConversationTokens
from api.turn_result import BotMessage

log = logging.getLogger("minwon.webchat")
# rasa-webchat sends its initPayload (default "/get_started") when it opens.
INIT_PAYLOADS = {"/get_started", "/greet", "get_started"}
BUSY_RETRIES = 6  # about half a minute of waiting for a place with Rasa


def _payload(reply: BotMessage) -> dict[str, Any]:
    text = f"{reply.author}: {reply.text}" if reply.sender == "officer" and reply.author else reply.text
    payload: dict[str, Any] = {"text": text}
    # rasa-webchat cannot run our widget's actions (callback form); it gets the text only.
    buttons = [b for b in reply.buttons if not b.action]
    if buttons:
        payload["quick_replies"] = [{"content_type": "text", "title": b.title, "payload": b.payload} for b in buttons]
    return payload


def _address(environ: dict[str, Any], settings: Settings) -> str:
    scope = environ.get("asgi.scope") or {}
    peer = scope.get("client")
    return client_address(peer[0] if peer else None, environ.get("HTTP_X_FORWARDED_FOR"), settings.proxy_networks)


def create_webchat_server(
    tokens: ConversationTokens, chat: ChatService, settings: Settings, limits: ResidentLimits
) -> socketio.AsyncServer:
    # Several api processes: emits reach a socket held by any of them (python-socketio's Redis manager).
    manager = socketio.AsyncRedisManager(settings.redis_url) if settings.redis_url else None
    sio = socketio.AsyncServer(
        async_mode="asgi",
        cors_allowed_origins=settings.cors_origins,
        logger=False,
        engineio_logger=False,
        client_manager=manager,
        # Engine.io drops a connection whose packet is bigger (it cannot answer in words at that layer); up to
        # this, an overlong message gets the Korean refusal from clean_text like every channel.
        max_http_buffer_size=4 * frame_bytes_limit(settings.max_message_chars),
    )
    conversations: dict[str, str] = {}  # socket id -> conversation id
    addresses: dict[str, str] = {}  # socket id -> client address (rate limits)
    seen: dict[str, set[int]] = {}  # message ids already sent as turn replies
    forwarders: dict[str, asyncio.Task[None]] = {}

    def attach(sid: str, conversation_id: str) -> None:
        conversations[sid] = conversation_id
        seen[sid] = set()
        old = forwarders.pop(sid, None)
        if old:
            old.cancel()

    async def ensure_forwarder(sid: str) -> None:
        if sid not in forwarders:
            latest = await chat.desk.latest_message_id(conversations[sid])
            task = asyncio.create_task(forward_from(sid, conversations[sid], latest))
            forwarders[sid] = task

    async def forward_from(sid: str, conversation_id: str, after: int) -> None:
        while sid in conversations:
            try:
                messages, _ = await chat.desk.events(conversation_id, after, settings.long_poll_seconds)
            except Exception:
                log.exception("webchat event forwarding failed")
                await asyncio.sleep(5)
                continue
            for message in messages:
                after = max(after, message.id)
                if message.id not in seen.get(sid, set()):
                    await sio.emit("bot_uttered", _payload(BotMessage.from_stored(message)), to=sid)

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], *args: Any) -> None:
        addresses[sid] = _address(environ, settings)

    @sio.on("session_request")
    async def session_request(sid: str, data: Any) -> None:
        proposed = data.get("session_id") if isinstance(data, dict) else None
        conversation_id, token = tokens.resume_or_start(proposed if isinstance(proposed, str) else None)
        attach(sid, conversation_id)
        await sio.emit("session_confirm", token, to=sid)

    @sio.on("user_uttered")
    async def user_uttered(sid: str, data: Any) -> None:
        if sid not in conversations:
            attach(sid, tokens.issue()[0])
        refused = limits.check(LimitedAction.TURN, conversations[sid], addresses.get(sid, "unknown"))
        if refused is not None:  # the same limits and words as the HTTP chat; nothing is stored
            await sio.emit("bot_uttered", {"text": refused.resident_words()}, to=sid)
            return
        message = data.get("message") if isinstance(data, dict) else None
        if isinstance(message, str) and message.strip() in INIT_PAYLOADS:
            message = "안녕하세요"
        try:
            result = await chat.turn(conversations[sid], message)
            # Webchat clients do not send a message again: while Rasa's queue is full, wait here.
            for attempt in range(BUSY_RETRIES):
                if not result.busy:
                    break
                if attempt == 0:
                    await sio.emit("bot_uttered", {"text": result.messages[0].text}, to=sid)
                await asyncio.sleep(result.retry_after or 1)
                result = await chat.turn(conversations[sid], message)
        except MessageRejected as exc:
            await sio.emit("bot_uttered", {"text": resident_words(exc)}, to=sid)
            return
        if result.busy:
            await sio.emit("bot_uttered", {"text": BUSY_GAVE_UP}, to=sid)
            return
        for reply in result.messages:
            if reply.id is not None:
                seen.setdefault(sid, set()).add(reply.id)
            await sio.emit("bot_uttered", _payload(reply), to=sid)
        if result.handoff.get("state") != DeskState.BOT:
            await ensure_forwarder(sid)

    @sio.event
    async def disconnect(sid: str, *args: Any) -> None:
        conversations.pop(sid, None)
        addresses.pop(sid, None)
        seen.pop(sid, None)
        task = forwarders.pop(sid, None)
        if task:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return sio
