"""PostgreSQL restarting under a running api (its own throwaway cluster, so the shared server is left
alone): while it is down a resident's message is refused with "sent again shortly" (HTTP 503, ``retry``;
the widget keeps it and resends), and once it is back the api carries on with no restart of its own and
every message that was accepted is still there."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import STORAGE_DOWN, create_app
from api.db import Database
from api.handoff.store import HandoffStore
from api.runner import free_ports
from api.settings import Settings
from tests.unit.test_api_faults import closed_port

PG_BIN = (
    next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), None)
    if Path("/usr/lib/postgresql").exists()
    else None
)
pytestmark = pytest.mark.skipif(
    PG_BIN is None or shutil.which("su") is None, reason="PostgreSQL server binaries missing"
)


def as_postgres(*command: str) -> None:
    """initdb and pg_ctl refuse to run as root; the cluster belongs to the postgres user."""
    prefix = [] if os.geteuid() != 0 else ["su", "postgres", "-s", "/bin/sh", "-c"]
    if prefix:
        subprocess.run([*prefix, " ".join(command)], check=True, capture_output=True)
    else:
        subprocess.run(list(command), check=True, capture_output=True)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[str, Path, int]]:
    assert PG_BIN is not None
    folder = Path(f"/tmp/minwon-pg-{tmp_path.name}")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700)
    shutil.chown(folder, "postgres", "postgres")
    (port,) = free_ports(1)
    as_postgres(str(PG_BIN / "initdb"), "-D", str(folder / "data"), "-A", "trust", "-U", "postgres")
    options = f"'-p {port} -k {folder} -c listen_addresses=127.0.0.1'"
    pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(folder / "data"), "-o", options, "-w"]
    as_postgres(*pg_ctl, "-l", str(folder / "log"), "start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres", folder, port
    finally:
        subprocess.run(
            ["su", "postgres", "-s", "/bin/sh", "-c", " ".join([*pg_ctl, "-m", "immediate", "stop"])],
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


def test_a_postgres_restart_refuses_politely_then_carries_on_with_nothing_lost(
    settings: Settings, cluster: tuple[str, Path, int]
) -> None:
    url, folder, _ = cluster
    assert PG_BIN is not None
    pg_ctl = [str(PG_BIN / "pg_ctl"), "-D", str(folder / "data"), "-w"]
    configured = dataclasses.replace(settings, database_url=url, rasa_url=f"http://127.0.0.1:{closed_port()}")
    with TestClient(create_app(configured)) as client:
        first = client.post("/api/v1/chat", json={"text": "첫 번째 메시지"})
        assert first.status_code == 503 and first.json()["session"]  # Rasa is down here; the message is stored
        session = first.json()["session"]

        as_postgres(*pg_ctl, "-m", "fast", "stop")
        refused = client.post("/api/v1/chat", json={"text": "점검 중에 보낸 메시지", "session": session})
        assert refused.status_code == 503
        assert refused.json()["retry"] is True and refused.json()["detail"] == STORAGE_DOWN
        assert int(refused.headers["Retry-After"]) >= 1
        assert client.get("/readyz").json()["database"].startswith("unreachable")

        as_postgres(
            *pg_ctl,
            "-o",
            f"'-p {cluster[2]} -k {folder} -c listen_addresses=127.0.0.1'",
            "-l",
            str(folder / "log"),
            "start",
        )
        again = client.post(
            "/api/v1/chat", json={"text": "점검 중에 보낸 메시지", "session": session}
        )  # the widget resends
        assert again.status_code == 503 and "retry" not in again.json()  # stored; only Rasa is missing here

        conversation = client.app.state.services.tokens.verify(session)  # type: ignore[attr-defined]
    database = Database(url)
    try:
        typed = [m.text for m in HandoffStore(database).messages(conversation) if m.sender == "resident"]
    finally:
        database.dispose()
    assert typed == ["첫 번째 메시지", "점검 중에 보낸 메시지"]  # nothing lost, nothing twice
