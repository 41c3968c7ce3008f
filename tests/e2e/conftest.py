"""One real stack (Rasa server + api subprocesses) per test session, and Debian Chromium for browser tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from api.runner import Stack, free_ports
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


OFFICER = ("kim", "민원팀 김주무관", "correct horse battery staple")
# Two curators of the passport team: one edits, the other approves.
CURATORS = [
    ("yeo1", "여권팀 여주무관", "correct horse battery staple"),
    ("yeo2", "여권팀 권주무관", "correct horse battery staple"),
]


def writable_index(var: Path) -> Path:
    """A copy of the built index the stack may add releases to (publishing writes new index folders)."""
    root = var / "index"
    built = (BUILT_INDEX / "current").resolve()
    shutil.copytree(built, root / built.name)
    (root / "current").symlink_to(built.name)
    return root


def stack_settings(var: Path, **changes: object) -> Settings:
    """A stack of its own: its var folder (database, secret, logs), the built model, a copy of the built
    index, free ports."""
    api_port, rasa_port = free_ports(2)
    settings = Settings(
        var_dir=var,
        port=api_port,
        rasa_port=rasa_port,
        rasa_url=f"http://127.0.0.1:{rasa_port}",
        embedding_model=BUILT_MODEL,
        index_dir=writable_index(var),
        # Tests run at any hour; the desk is open unless a test closes it.
        office_override="open",
        # Behaviour, not speed, is under test here (a busy CI machine is slow); timeouts have unit tests.
        rasa_timeout=15.0,
        # All the suite's residents come from 127.0.0.1, one after another: the per-address limits are
        # for a real crowd (unit-tested with their defaults); per-conversation limits stay as shipped.
        turns_per_minute_address=100_000,
        callbacks_per_hour_address=1_000,
        polls_per_minute_address=100_000,
    )
    for name, value in changes.items():
        setattr(settings, name, value)
    return settings


def add_accounts(settings: Settings) -> None:
    """The officer and the curators, created the way an operator would: with the CLI."""
    accounts = [(*OFFICER, "officer", None)] + [(*c, "curator", "passport") for c in CURATORS]
    for username, name, password, role, department in accounts:
        extra = ["--department", department] if department else []
        subprocess.run(
            [
                sys.executable,
                "-m",
                "api.cli",
                "user",
                "add",
                username,
                "--name",
                name,
                "--role",
                role,
                "--password-stdin",
                *extra,
            ],
            input=password + "\n",
            text=True,
            check=True,
            env={**os.environ, **settings.child_env()},
        )


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    settings = stack_settings(tmp_path_factory.mktemp("stack-var"))
    add_accounts(settings)
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
