"""One real stack (Rasa server + api subprocesses) per test session."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.runner import Stack


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


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    logs: Path = tmp_path_factory.mktemp("stack-logs")
    api_port, rasa_port = free_ports(2)
    running = Stack(api_port=api_port, rasa_port=rasa_port, log_dir=logs)
    running.start()
    try:
        running.wait_ready(timeout=300, say=lambda line: print(line, flush=True))
        yield running
    finally:
        running.stop()
