"""`minwon run` (what `make run` starts): prints the demo URL, serves it, and Ctrl-C stops both processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from api.runner import free_ports

pytestmark = pytest.mark.e2e


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


def test_run_prints_the_url_and_ctrl_c_stops_rasa_and_the_api() -> None:
    port, rasa_port = free_ports(2)
    minwon = Path(sys.executable).with_name("minwon")
    process = subprocess.Popen(
        [str(minwon), "run", "--port", str(port), "--rasa-port", str(rasa_port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 240
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            if "/demo/" in line:
                break
        url = f"http://127.0.0.1:{port}/demo/"
        assert any(url in line for line in output), "".join(output)
        assert "예시군청" in httpx.get(url).text
        kids = children(process.pid)
        assert len(kids) == 2, ("".join(output), kids)

        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        rest = process.stdout.read()
        assert "[run] stopped" in rest, "".join(output) + rest
        # The runner waited for its children; give the kernel a moment to reap them, no fixed sleep.
        gone_by = time.monotonic() + 10
        while any(alive(k) for k in kids) and time.monotonic() < gone_by:
            time.sleep(0.05)
        assert not any(alive(k) for k in kids), "Rasa or the api survived Ctrl-C"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
