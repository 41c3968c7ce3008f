"""One real stack (Rasa server + api subprocesses) per test session, and Debian Chromium for browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from api.runner import Stack
from api.settings import Settings
from tests.conftest import BUILT_INDEX, BUILT_MODEL

CHROMIUM = "/usr/bin/chromium"
# The network is closed: without these Chromium keeps trying to phone home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(os.environ.get("MINWON_SCREENSHOT_DIR", tempfile.gettempdir())) / "minwon-screenshots"


def free_ports(count: int) -> list[int]:
    """Distinct free ports: all sockets stay bound until every port is chosen."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


OFFICER = ("kim", "민원팀 김주무관", "correct horse battery staple")


def stack_settings(var: Path, **changes: object) -> Settings:
    """A stack of its own: its var folder (database, secret, logs), the built model and index, free ports."""
    api_port, rasa_port = free_ports(2)
    settings = Settings(
        var_dir=var,
        port=api_port,
        rasa_port=rasa_port,
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        embedding_model=BUILT_MODEL,
        index_dir=BUILT_INDEX,
        # Tests run at any hour; the desk is open unless a test closes it.
        office_override="open",
    )
    for name, value in changes.items():
        setattr(settings, name, value)
    return settings


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    settings = stack_settings(tmp_path_factory.mktemp("stack-var"))
    # The first officer is created the way an operator would: with the CLI.
    username, name, password = OFFICER
    subprocess.run(
        [sys.executable, "-m", "api.cli", "user", "add", username, "--name", name, "--password-stdin"],
        input=password + "\n",
        text=True,
        check=True,
        env={**os.environ, **settings.child_env()},
    )
    running = Stack(settings)
    running.start()
    try:
        running.wait_ready(timeout=300, say=lambda line: print(line, flush=True))
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()
