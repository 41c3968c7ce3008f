"""Upgrade in place and roll back, on SQLite and a real PostgreSQL, with the real previous release.

The "old install" is made by the previous release's own code (``git archive`` of the last commit whose
schema head is 0002_knowledge), run as an operator would: its api answers residents (a conversation,
an out-of-hours callback ticket), its CLI adds an account and imports an edited FAQ workbook, and its
var/ keeps the secret key. Then this release's ``minwon upgrade`` takes a backup and migrates, and the
residents' data, the county's FAQ edit and the residents' open session tokens must all survive. The
rollback restores that backup and runs the previous release on it again.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from alembic.script import ScriptDirectory
from openpyxl import load_workbook

from api.db import Database
from api.db.engine import MIGRATIONS
from api.kb.store import KnowledgeStore
from api.ops.upgrade import current_revision
from api.runner import free_ports
from faq.paths import REPO_ROOT
from tests.checks import unavailable
from tests.conftest import BUILT_INDEX, BUILT_MODEL
from tests.databases import ADMIN_URL, database_url
from tests.unit.handoff_app import ScriptedRasa

# The previous release: the last commit before the analytics migration (0003) landed.
OLD_RELEASE = "ccaf06a"
OLD_HEAD = "0002_knowledge"
pytestmark = [pytest.mark.e2e, pytest.mark.slow]
# This release's newest migration (read, not written down: every new migration would break the test).
NEW_HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()
EDITED_SUMMARY = "군 정보통신팀이 고친 답변: 주민등록증 재발급은 가까운 읍면사무소에서 신청해 주세요."
EDITED_ENTRY = "T01-002"


@pytest.fixture(scope="module")
def old_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The previous release's files, as an unpacked bundle would hold them."""
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        unavailable("the previous release is taken from git history; this checkout has none")
    known = subprocess.run(
        ["git", "cat-file", "-e", f"{OLD_RELEASE}^{{commit}}"], cwd=REPO_ROOT, capture_output=True, check=False
    )
    if known.returncode != 0:
        unavailable(f"commit {OLD_RELEASE} (the previous release) is not in this clone (shallow?)")
    root = tmp_path_factory.mktemp("old-release")
    archive = subprocess.run(["git", "archive", OLD_RELEASE], cwd=REPO_ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive.stdout, check=True)
    versions = root / "api" / "db" / "migrations" / "versions"
    assert sorted(p.name for p in versions.glob("0*.py")) == ["0001_initial.py", "0002_knowledge.py"]
    return root


@dataclass
class Install:
    """One server's state (var/, database) and the release whose code is installed on it."""

    code: Path
    var: Path
    url: str

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "MINWON_SECRET_KEY"}
        index = self.var / "index"
        if not index.exists():
            # The built index and its embedding cache: a release build embeds only what changed.
            shutil.copytree(BUILT_INDEX, index, symlinks=True)
        env.update(
            {
                # The installed release's code, not the checkout this test runs from.
                "PYTHONPATH": str(self.code),
                "MINWON_VAR_DIR": str(self.var),
                "DATABASE_URL": self.url,
                "EMBEDDING_MODEL": built_model(),
                "MINWON_INDEX_DIR": str(index),
                "MINWON_METRICS_PORT": "0",
            }
        )
        return env

    def minwon(self, *argv: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "api.cli", *argv],
            cwd=self.code,
            env=self.env(),
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, f"minwon {' '.join(argv)}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    def revision(self) -> str | None:
        db = Database(self.url)
        try:
            return current_revision(db)
        finally:
            db.dispose()

    @contextmanager
    def api(self, rasa_url: str) -> Iterator[httpx.Client]:
        """The installed release's api as a real server, out of office hours (so callbacks are offered)."""
        (port,) = free_ports(1)
        env = {**self.env(), "RASA_URL": rasa_url, "MINWON_OFFICE_OVERRIDE": "closed", "MINWON_PORT": str(port)}
        log = (self.var / f"api-{port}.log").open("wb")
        command = [sys.executable, "-m", "uvicorn", "api.app:create_asgi", "--factory", "--port", str(port)]
        process = subprocess.Popen(command, cwd=self.code, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30.0) as client:
                for _ in range(240):  # a bounded wait for start-up (model load, knowledge release)
                    assert process.poll() is None, (self.var / f"api-{port}.log").read_text(errors="replace")
                    try:
                        if client.get("/healthz").status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    time.sleep(1.0)
                else:
                    pytest.fail("the api did not start: " + (self.var / f"api-{port}.log").read_text()[-2000:])
                yield client
        finally:
            process.terminate()
            process.wait(timeout=30)
            log.close()


def built_model() -> str:
    """The model spec the built index was made with: the embedding cache is keyed by it."""
    meta = json.loads((BUILT_INDEX / "current" / "meta.json").read_text(encoding="utf-8"))
    spec = str(meta["model"])
    return spec if Path(spec).exists() else BUILT_MODEL


def say(client: httpx.Client, session: str | None, text: str) -> str:
    response = client.post("/api/v1/chat", json={"session": session, "text": text})
    assert response.status_code == 200, response.text
    token: str = response.json()["session"]
    return token


def edit_faq_in_excel(install: Install, folder: Path) -> None:
    """What a county curator does without the console: export, change one answer, import and publish."""
    workbook = folder / "faq.xlsx"
    install.minwon("faq", "export", "--xlsx", str(workbook))
    book = load_workbook(workbook)
    sheet = book["FAQ"]
    headers = [cell.value for cell in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[headers.index("id")].value == EDITED_ENTRY:
            row[headers.index("답변")].value = EDITED_SUMMARY
    book.save(workbook)
    out = install.minwon("faq", "import", "--xlsx", str(workbook), "--publish")
    assert "1 changed" in out, out


def rows(url: str, query: str) -> list[tuple[object, ...]]:
    """Plain SQL, so the check does not depend on either release's models."""
    if url.startswith("sqlite"):
        with sqlite3.connect(url.split("///", 1)[1]) as connection:
            return list(connection.execute(query).fetchall())
    with psycopg.connect(url) as connection:
        return [tuple(row) for row in connection.execute(query).fetchall()]  # type: ignore[arg-type]


def day_of_use(install: Install, rasa: ScriptedRasa, folder: Path) -> dict[str, str]:
    """The previous release in service: residents' conversations, a callback ticket, an account, an FAQ edit."""
    install.minwon("db", "upgrade")
    install.minwon("user", "add", "kim", "--role", "officer", "--password-stdin", stdin="correct horse battery\n")
    with install.api(rasa.url) as client:
        passport = say(client, None, "여권 재발급 하려면요")
        passport = say(client, passport, "준비물도 알려 주세요")
        callback = say(client, None, "전입신고 서류가 궁금해요")
        stored = client.post(
            "/api/v1/callback",
            json={
                "session": callback,
                "consent": True,
                "name": "홍길동",
                "phone": "010-1234-5678",
                "preferred_time": "평일 오후",
                "question": "전입신고 서류 문의",
            },
        )
        assert stored.status_code == 200 and stored.json()["stored"] is True, stored.text
    edit_faq_in_excel(install, folder)
    return {"passport": passport, "callback": callback}


def published_summary(url: str) -> str:
    db = Database(url)
    try:
        version = KnowledgeStore(db).published(EDITED_ENTRY)
        assert version is not None
        summary: str = version.content["answer"]["summary"]
        return summary
    finally:
        db.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrading_an_old_install_keeps_its_data_and_sessions_and_rolls_back(
    backend: str, tmp_path: Path, old_release: Path
) -> None:
    rasa = ScriptedRasa()
    try:
        with database_url(backend, tmp_path / "server" / "var") as url:
            old = Install(old_release, tmp_path / "server" / "var", url)
            old.var.mkdir(parents=True, exist_ok=True)
            sessions = day_of_use(old, rasa, tmp_path)
            assert old.revision() == OLD_HEAD
            secret = (old.var / "secret_key").read_text()
            before = {
                "conversations": rows(url, "SELECT count(*) FROM conversations")[0][0],
                "messages": rows(url, "SELECT count(*) FROM messages")[0][0],
            }
            assert before["conversations"] == 2

            # The newer bundle is unpacked over the same var/ and database; the operator upgrades.
            new = Install(REPO_ROOT, old.var, url)
            out = new.minwon("upgrade")
            assert f"{OLD_HEAD} -> {NEW_HEAD}" in out, out
            backups = list((old.var / "backups").iterdir())
            assert len(backups) == 1 and backups[0].name.startswith(f"pre-upgrade-{OLD_HEAD}-"), backups
            assert str(backups[0]) in out
            assert new.revision() == NEW_HEAD
            assert rows(url, "SELECT name, phone FROM tickets") == [("홍길동", "010-1234-5678")]
            assert rows(url, "SELECT count(*) FROM messages")[0][0] == before["messages"]
            assert rows(url, "SELECT count(*) FROM users WHERE username = 'kim'")[0][0] == 1
            assert published_summary(url) == EDITED_SUMMARY
            assert (old.var / "secret_key").read_text() == secret
            # Nothing left to do the second time, and no second backup.
            assert "nothing to do" in new.minwon("upgrade")
            assert len(list((old.var / "backups").iterdir())) == 1

            # The new release's api: a resident mid-conversation carries on in the same conversation.
            with new.api(rasa.url) as client:
                assert say(client, sessions["passport"], "수수료는 얼마예요?") == sessions["passport"]
            conversations = rows(url, "SELECT count(*) FROM conversations")[0][0]
            assert conversations == before["conversations"], "the old session token started a new conversation"
            after_upgrade_messages = rows(url, "SELECT count(*) FROM messages")[0][0]
            assert after_upgrade_messages > before["messages"]

            # Rollback: the previous release again, with the pre-upgrade backup restored (README steps).
            restore_with_previous_release(old, backups[0])
            assert old.revision() == OLD_HEAD
            assert "done_at" not in {name for (name,) in columns(url, "tickets")}
            assert rows(url, "SELECT count(*) FROM messages")[0][0] == before["messages"]
            assert rows(url, "SELECT name FROM tickets") == [("홍길동",)]
            old.minwon("db", "upgrade")  # the previous release accepts the restored schema as its own
            assert old.revision() == OLD_HEAD
            with old.api(rasa.url) as client:
                assert say(client, sessions["callback"], "다시 여쭤봅니다") == sessions["callback"]
            assert old.minwon("faq", "export", "--xlsx", str(tmp_path / "after.xlsx"))
            assert EDITED_SUMMARY in {
                cell.value for row in load_workbook(tmp_path / "after.xlsx")["FAQ"].iter_rows() for cell in row
            }
    finally:
        rasa.close()


def columns(url: str, table: str) -> list[tuple[str]]:
    if url.startswith("sqlite"):
        return [(str(row[1]),) for row in rows(url, f"PRAGMA table_info({table})")]
    query = f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}'"
    return [(str(row[0]),) for row in rows(url, query)]


def restore_with_previous_release(install: Install, backup: Path) -> None:
    """README "Rolling back" for a previous release that predates `minwon restore`: the same files, by hand."""
    subprocess.run(["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=backup, check=True)
    if install.url.startswith("sqlite"):
        target = Path(install.url.split("///", 1)[1])
        for suffix in ("-wal", "-shm"):
            target.with_name(target.name + suffix).unlink(missing_ok=True)
        shutil.copyfile(backup / "database.sqlite3", target)
    else:
        # The upgraded database holds tables the previous release never had: start from an empty one.
        name = install.url.rsplit("/", 1)[1]
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={install.url}",
                str(backup / "database.pgdump"),
            ],
            check=True,
            capture_output=True,
        )
    shutil.copyfile(backup / "secret_key", install.var / "secret_key")
