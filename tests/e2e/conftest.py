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


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    logs: Path = tmp_path_factory.mktemp("stack-logs")
    data: Path = tmp_path_factory.mktemp("stack-data")
    api_port, rasa_port = free_ports(2)
    env = {
        "DATABASE_URL": f"sqlite:///{data / 'minwon.db'}",
        # Tests run at any hour; the desk is open unless a test closes it.
        "MINWON_OFFICE_OVERRIDE": "open",
    }
    # The first officer is created the way an operator would: with the CLI.
    username, name, password = OFFICER
    subprocess.run(
        [sys.executable, "-m", "api.cli", "user", "add", username, "--name", name, "--password-stdin"],
        input=password + "\n",
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    running = Stack(api_port=api_port, rasa_port=rasa_port, log_dir=logs, extra_env=env)
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
