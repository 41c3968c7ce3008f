"""A freshly started stack that says ready answers its first resident, within the shipped RASA_TIMEOUT.

The session stack (conftest) runs with a long Rasa timeout for a busy CI machine; this one keeps the
product's default (3 s), so a cold first turn that outlasts it would get the "잠시 후 다시" apology.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from api.runner import Stack
from api.settings import Settings
from tests.e2e.conftest import stack_settings

RASA_DOWN_STATUS = 503


def test_the_first_turn_after_readiness_is_answered_by_the_bot(tmp_path: Path) -> None:
    settings = stack_settings(tmp_path / "var", rasa_timeout=Settings().rasa_timeout)
    stack = Stack(settings)
    stack.start()
    try:
        stack.wait_ready(timeout=600, say=lambda line: print(line, flush=True))
        ready = httpx.get(f"{stack.api_url}/readyz", timeout=10.0).json()
        assert ready["status"] == "ready" and ready["warmup"] == "done"
        # The first resident's turn: no other turn has gone through this api or Rasa except the warm-up.
        question = {"session": None, "text": "전입신고 하려면 뭐가 필요해요?"}
        response = httpx.post(f"{stack.api_url}/api/v1/chat", json=question, timeout=60.0)
        assert response.status_code != RASA_DOWN_STATUS, response.text
        assert response.status_code == 200
        texts = " ".join(m.get("text", "") for m in response.json()["messages"])
        assert "전입" in texts, texts
    finally:
        stack.stop()
