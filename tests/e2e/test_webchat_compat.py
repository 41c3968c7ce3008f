"""A county that already embeds rasa-webchat can point it at us: its socket.io protocol, real client."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from api.runner import Stack
from tests.checks import unavailable

pytestmark = pytest.mark.e2e
CLIENT = Path(__file__).parent / "node" / "webchat_client.js"


def run_client(stack: Stack, message: str, proposed: str | None = None) -> dict:
    if not shutil.which("node") or not (CLIENT.parent / "node_modules" / "socket.io-client").exists():
        unavailable("node or socket.io-client not installed (make node-deps)")
    args = ["node", str(CLIENT), stack.api_url, message] + ([proposed] if proposed else [])
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_rasa_webchat_client_gets_answers_and_a_server_issued_session(stack: Stack) -> None:
    result = run_client(stack, "여권 잃어버렸어요")
    assert result["confirmed"] and result["confirmed"] != "chosen-by-the-client"
    texts = " ".join(m["text"] for m in result["bot"])
    assert "분실 신고" in texts


def test_greeting_payload_gets_quick_replies_in_webchat_format(stack: Stack) -> None:
    result = run_client(stack, "/get_started")
    with_buttons = [m for m in result["bot"] if "quick_replies" in m]
    assert with_buttons, result
    reply = with_buttons[0]["quick_replies"][0]
    assert reply["content_type"] == "text" and reply["title"] and reply["payload"]


def test_a_confirmed_session_can_be_resumed_and_a_forged_one_cannot(stack: Stack) -> None:
    first = run_client(stack, "안녕하세요")
    resumed = run_client(stack, "감사합니다", proposed=first["confirmed"])
    assert resumed["confirmed"] == first["confirmed"]
    forged = run_client(stack, "안녕하세요", proposed=first["confirmed"][:-3] + "abc")
    assert forged["confirmed"] != first["confirmed"]
