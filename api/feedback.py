"""Residents' 👍/👎 on answers, appended (masked) to a JSON-lines file.

A file keeps the foundation dependency-free; the handoff work moves storage
to the database with the rest of the conversation data.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from api.privacy import mask_pii


class FeedbackLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def record(self, session_id: str, helpful: bool, answer: str) -> None:
        row = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "session": session_id[:8],
            "helpful": helpful,
            "answer": mask_pii(answer[:300]),
        }
        line = json.dumps(row, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
