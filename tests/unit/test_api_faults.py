"""The api when Rasa is down or too slow: a polite Korean answer, a session kept, no crash."""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.chat import RASA_DOWN
from api.settings import Settings


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


RELEASE = threading.Event()


class SlowRasa(BaseHTTPRequestHandler):
    """Answers (with an empty reply, which is not the Rasa-down text) only once the test lets it."""

    def do_POST(self) -> None:
        RELEASE.wait(30)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"[]")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def slow_rasa() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowRasa)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    RELEASE.clear()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    RELEASE.set()
    server.shutdown()


def client_for(settings: Settings, rasa_url: str, timeout: float = 0.5) -> TestClient:
    # The test's own SQLite database in its own var folder (the settings fixture), never ./var.
    return TestClient(create_app(dataclasses.replace(settings, rasa_url=rasa_url, rasa_timeout=timeout)))


def test_rasa_down_gives_a_polite_korean_503_and_a_session(settings: Settings) -> None:
    with client_for(settings, f"http://127.0.0.1:{closed_port()}") as client:
        response = client.post("/api/v1/chat", json={"session": None, "text": "여권 발급"})
        assert response.status_code == 503
        body = response.json()
        assert body["detail"] == RASA_DOWN and body["session"]
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["status"] == "not ready"
        assert client.get("/healthz").status_code == 200


def test_slow_rasa_times_out_with_the_same_message(settings: Settings, slow_rasa: str) -> None:
    with client_for(settings, slow_rasa, timeout=0.3) as client:
        # Rasa has not answered at all: only the client timeout can have produced this reply.
        response = client.post("/api/v1/chat", json={"session": None, "text": "전입신고"})
        assert response.status_code == 503 and response.json()["detail"] == RASA_DOWN


def test_bad_input_is_refused_before_rasa_is_called(settings: Settings) -> None:
    with client_for(settings, f"http://127.0.0.1:{closed_port()}") as client:
        assert client.post("/api/v1/chat", json={"session": None, "text": ""}).status_code == 422
        assert client.post("/api/v1/chat", json={"session": None}).status_code == 422
        assert client.post("/api/v1/chat", json={"session": None, "text": 42}).status_code == 422
        huge = client.post("/api/v1/chat", content=b"x" * 100_000, headers={"content-type": "application/json"})
        assert huge.status_code == 413 and "요청이 너무 큽니다" in huge.json()["detail"]
        binary = client.post("/api/v1/chat", content=b"\xff\xfe\x00\x01", headers={"content-type": "application/json"})
        assert binary.status_code == 422
