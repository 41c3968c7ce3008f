"""MINWON_CONSOLE_PORT: the console and internal APIs answer only on their own listener; the public port
answers 404 for them (a real uvicorn serving both binds, real HTTP)."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from api.app import create_asgi
from api.runner import free_ports
from api.settings import Settings, SettingsError


@pytest.fixture
def served(settings: Settings) -> Iterator[tuple[str, str]]:
    public, console = free_ports(2)
    configured = dataclasses.replace(settings, port=public, console_port=console, rasa_url="http://127.0.0.1:9")
    server = uvicorn.Server(
        uvicorn.Config(create_asgi(configured), host="127.0.0.1", port=public, log_config=None, proxy_headers=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    public_url, console_url = f"http://127.0.0.1:{public}", f"http://127.0.0.1:{console}"
    for _ in range(600):  # until both listeners answer (startup migrates the database)
        try:
            httpx.get(f"{public_url}/healthz"), httpx.get(f"{console_url}/healthz")
            break
        except httpx.TransportError:
            time.sleep(0.1)
    try:
        yield public_url, console_url
    finally:
        server.should_exit = True
        thread.join(30)


def test_the_public_port_refuses_the_console_and_the_console_port_serves_it(served: tuple[str, str]) -> None:
    public, console = served
    assert httpx.get(f"{public}/console/login").status_code == 404
    assert httpx.get(f"{public}/console/static/console.css").status_code == 404
    assert httpx.post(f"{public}/internal/actions/webhook", json={}).status_code == 404
    assert "찾을 수 없습니다" in httpx.get(f"{public}/console").text
    assert httpx.get(f"{public}/widget/widget.js").status_code != 404  # residents still get the widget

    login = httpx.get(f"{console}/console/login")
    assert login.status_code == 200 and 'name="csrf"' in login.text
    assert httpx.get(f"{console}/console/api/queue").status_code == 401  # the console, asking for a login
    assert httpx.post(f"{console}/api/v1/chat", json={"session": None, "text": "여권"}).status_code == 404
    assert httpx.get(f"{console}/healthz").status_code == 200 and httpx.get(f"{public}/healthz").status_code == 200


def test_the_console_port_must_differ_from_the_public_port() -> None:
    with pytest.raises(SettingsError, match="MINWON_CONSOLE_PORT"):
        Settings.from_env({"MINWON_PORT": "8000", "MINWON_CONSOLE_PORT": "8000"}, with_secret=False)
    assert Settings.from_env({"MINWON_CONSOLE_PORT": "8443"}, with_secret=False).child_env()["MINWON_CONSOLE_PORT"] == (
        "8443"
    )
