"""WebSocket and socket.io: an oversize frame is refused with the Korean words and stores nothing; a flood of
turns meets the same per-session limit and words as the HTTP chat."""

from __future__ import annotations

import dataclasses
import json
import queue
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import socketio
import uvicorn

from api.app import create_asgi
from api.db import Database
from api.runner import free_ports
from api.settings import Settings
from tests.unit.handoff_app import ScriptedRasa, handoff_client

pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)
HUGE = "여권 " * 3000  # 9,000 characters, 21 KB as UTF-8: over the frame limit for 1,000-character messages


def test_the_websocket_refuses_an_oversize_frame_in_korean_and_keeps_talking(
    db: Database, rasa: ScriptedRasa, settings: Settings
) -> None:
    with handoff_client(settings, db.url, rasa.url) as client, client.websocket_connect("/api/v1/ws") as socket:
        socket.send_text(json.dumps({"type": "message", "text": HUGE, "id": 1}, ensure_ascii=False))
        refused = socket.receive_json()
        socket.send_json({"type": "message", "text": "여권 얼마예요", "id": 2})
        answered = socket.receive_json()
    assert refused["type"] == "error" and "질문이 너무 깁니다. 1,000자 이내로" in refused["detail"]
    assert answered["type"] == "bot" and answered["id"] == 2
    assert rasa.received == ["여권 얼마예요"]  # the oversize frame never reached the bot


@pytest.fixture
def served(db: Database, rasa: ScriptedRasa, settings: Settings) -> Iterator[str]:
    """The served app (FastAPI + socket.io) on a real port, three turns a minute per conversation."""
    [port] = free_ports(1)
    configured = dataclasses.replace(
        settings, port=port, database_url=db.url, rasa_url=rasa.url, office_override="open", turns_per_minute_session=3
    )
    server = uvicorn.Server(uvicorn.Config(create_asgi(configured), host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(f"{url}/healthz")
            break
        except httpx.TransportError:
            time.sleep(0.1)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(30)


def test_socketio_applies_the_turn_limit_and_refuses_oversize_messages(served: str, rasa: ScriptedRasa) -> None:
    replies: queue.Queue[str] = queue.Queue()
    client = socketio.Client()
    client.on("bot_uttered", lambda data: replies.put(data["text"]))
    client.connect(served, transports=["polling"], socketio_path="socket.io")
    try:
        client.emit("session_request", {"session_id": None})
        client.emit("user_uttered", {"message": HUGE[:3000]})
        too_long = replies.get(timeout=30)  # refused, but counted like an overlong HTTP turn
        said = []
        for n in range(3):
            client.emit("user_uttered", {"message": f"여권 질문 {n}"})
            said.append(replies.get(timeout=30))
    finally:
        client.disconnect()
    assert "질문이 너무 깁니다" in too_long
    assert said[:2] == ["여권은 민원실에서 신청하실 수 있습니다."] * 2
    assert "메시지를 너무 빠르게 보내고 계십니다" in said[2] and "초 뒤에 다시 보내 주세요" in said[2]
    assert rasa.received == ["여권 질문 0", "여권 질문 1"]  # the refused turn and the oversize one never reached Rasa
