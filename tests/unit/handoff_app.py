"""A real api app (real database, real HTTP) in front of a tiny scripted Rasa, for handoff tests."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import OfficeOverride, Settings


class ScriptedRasa:
    """Answers like Rasa's REST channel: a handoff request for "상담원", an FAQ-like answer otherwise."""

    def __init__(self) -> None:
        self.received: list[str] = []
        # Cleared: requests wait until the test sets it again (a slow Rasa, for retries in flight).
        self.answering = threading.Event()
        self.answering.set()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.received.append(body["message"])
                owner.answering.wait(30)
                if "상담원" in body["message"]:
                    reply = [{"recipient_id": body["sender"], "custom": {"handoff": "request"}}]
                else:
                    reply = [{"recipient_id": body["sender"], "text": "여권은 민원실에서 신청하실 수 있습니다."}]
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.answering.set()
        self.server.shutdown()


@contextmanager
def handoff_client(
    settings: Settings, database_url: str, rasa_url: str, office: OfficeOverride = "open"
) -> Iterator[TestClient]:
    """A fresh app (as after a restart) on ``database_url``, with the desk forced open or closed."""
    configured = dataclasses.replace(
        settings, rasa_url=rasa_url, rasa_timeout=1.0, database_url=database_url, office_override=office
    )
    with TestClient(create_app(configured)) as client:
        yield client


def login(client: TestClient, username: str, password: str) -> str:
    """Log in through the real form; returns the page's CSRF token."""
    page = client.get("/console/login")
    token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf": token, "next": "/console"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    queue = client.get("/console")
    return queue.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
