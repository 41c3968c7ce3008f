"""`minwon backup` / `minwon restore` on SQLite and a real PostgreSQL: a restored install into an empty var
folder and a fresh database has the conversations, callback tickets, console accounts, knowledge-base edits
and the session key of the original."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import shutil
import subprocess
from contextlib import ExitStack
from pathlib import Path

import pytest

from api import cli
from api.console.auth import StaffAuth
from api.db import Database
from api.kb.service import KnowledgeService
from api.kb.store import Actor
from api.kinds import Role
from api.knowledge import Knowledge
from api.settings import Settings
from faq.paths import REPO_ROOT
from tests.databases import database_url
from tests.unit.handoff_app import ScriptedRasa, handoff_client, login

PASSWORD = "correct horse battery"
ADMIN = Actor("admin", Role.ADMIN)
EDITED_NOTE = "창구 대기가 길면 정부24 재발급을 이용해 주세요."


@dataclasses.dataclass
class Install:
    settings: Settings
    env: dict[str, str]


def make_install(root: Path, url: str, base: Settings, kb_index_root: Path, county_text: str) -> Install:
    var = root / "var"
    var.mkdir(parents=True, exist_ok=True)
    county = root / "county" / "county.yaml"
    county.parent.mkdir()
    county.write_text(county_text, encoding="utf-8")
    settings = dataclasses.replace(
        base, var_dir=var, database_url=url, county_file=county, index_dir=kb_index_root, secret_key=""
    )
    env = {
        "MINWON_VAR_DIR": str(var),
        "DATABASE_URL": url,
        "MINWON_COUNTY_FILE": str(county),
        "MINWON_INDEX_DIR": str(kb_index_root),
    }
    return Install(settings, env)


def minwon(install: Install, monkeypatch: pytest.MonkeyPatch, *argv: str) -> int:
    """The operator's command line, in this process, with the install's environment."""
    with monkeypatch.context() as patch:
        patch.delenv("MINWON_SECRET_KEY", raising=False)
        for name, value in install.env.items():
            patch.setenv(name, value)
        return cli.main(list(argv))


def say(client, session: str | None, text: str) -> dict:
    response = client.post("/api/v1/chat", json={"session": session, "text": text})
    assert response.status_code == 200, response.text
    return response.json()


def fill_original(install: Install, rasa: ScriptedRasa, embedder) -> dict[str, str]:
    """A day's use through the real services: a queued conversation, a callback ticket, a published KB edit."""
    settings = install.settings
    db = Database(settings.database_url)
    db.upgrade()
    StaffAuth(db).add_user("kim", PASSWORD, "officer", "민원팀 김주무관")
    db.dispose()
    with handoff_client(settings, settings.database_url, rasa.url, office="open") as client:
        queued_session = say(client, None, "여권 재발급 하려면요")["session"]
        assert say(client, queued_session, "상담원 연결해 주세요")["handoff"]["state"] == "waiting"
    with handoff_client(settings, settings.database_url, rasa.url, office="closed") as client:
        callback_session = say(client, None, "전입신고 서류가 궁금해요")["session"]
        stored = client.post(
            "/api/v1/callback",
            json={
                "session": callback_session,
                "consent": True,
                "name": "홍길동",
                "phone": "010-1234-5678",
                "preferred_time": "평일 오후",
                "question": "전입신고 서류 문의",
            },
        ).json()
        assert stored["stored"] is True
    kb = KnowledgeService(settings, Database(settings.database_url), Knowledge(settings, embedder))
    asyncio.run(kb.start())
    content = copy.deepcopy(kb.store.published("T01-002").content)
    content["answer"]["note"] = EDITED_NOTE
    draft = asyncio.run(kb.save_draft("T01-002", content, kb.store.entry_state("T01-002").latest_version, ADMIN))
    asyncio.run(kb.publish_now("T01-002", draft.number, ADMIN))
    return {"queued": queued_session, "callback": callback_session}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_backup_restored_into_an_empty_install_has_everything_back(
    backend: str,
    tmp_path: Path,
    settings: Settings,
    kb_index_root: Path,
    embedder,
    rasa: ScriptedRasa,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shipped_county = (REPO_ROOT / "faq" / "county.yaml").read_text(encoding="utf-8")
    county_edit = shipped_county + "\n# 정보통신팀: 군 자체 수정본\n"
    with ExitStack() as stack:
        original_url = stack.enter_context(database_url(backend, tmp_path / "old" / "var"))
        restored_url = stack.enter_context(database_url(backend, tmp_path / "new" / "var"))
        original = make_install(tmp_path / "old", original_url, settings, kb_index_root, county_edit)
        restored = make_install(tmp_path / "new", restored_url, settings, kb_index_root, shipped_county)
        sessions = fill_original(original, rasa, embedder)

        folder = tmp_path / "backups" / "2026-12-01"
        assert minwon(original, monkeypatch, "backup", str(folder)) == 0
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["backend"] == backend
        assert manifest["counts"]["conversations"] == 2 and manifest["counts"]["tickets"] == 1
        assert {"secret_key", "county.yaml", "knowledge-base.xlsx"} <= set(manifest["files"])
        # The checksum list is the standard tool's format, so county IT can verify a copy by hand.
        subprocess.run(["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=folder, check=True)

        assert minwon(restored, monkeypatch, "restore", str(folder)) == 0
        out = capsys.readouterr().out
        assert "2 conversations" in out and "1 tickets" in out

        new = restored.settings
        assert (new.var_dir / "secret_key").read_text() == (original.settings.var_dir / "secret_key").read_text()
        assert (new.var_dir / "secret_key").stat().st_mode & 0o077 == 0
        assert new.county_file.read_text(encoding="utf-8") == county_edit
        [kept] = new.county_file.parent.glob("county.yaml.before-restore-*")
        assert kept.read_text(encoding="utf-8") == shipped_county

        with handoff_client(new, new.database_url, rasa.url, office="open") as client:
            # The restored key still accepts the resident's session: the conversation simply goes on.
            events = client.post("/api/v1/events", json={"session": sessions["queued"], "after": 0, "wait": 0})
            assert events.status_code == 200 and events.json()["handoff"]["state"] == "waiting"
            login(client, "kim", PASSWORD)
            [item] = client.get("/console/api/queue").json()["items"]
            assert item["question"] == "상담원 연결해 주세요"  # the last thing the resident typed
            tickets = client.get("/console/tickets").text
            assert "홍길동" in tickets and "010-1234-5678" in tickets

        kb = KnowledgeService(new, Database(new.database_url), Knowledge(new, embedder))
        asyncio.run(kb.start())
        retriever = kb.knowledge.current()
        assert retriever is not None
        result = retriever.search("여권 수수료 얼마예요")
        assert result.decision == "answer" and EDITED_NOTE in result.results[0].answer


def test_restore_refuses_an_install_with_data_and_a_damaged_backup(
    tmp_path: Path,
    settings: Settings,
    kb_index_root: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    county = (REPO_ROOT / "faq" / "county.yaml").read_text(encoding="utf-8")
    install = make_install(
        tmp_path / "a", f"sqlite:///{tmp_path / 'a' / 'var' / 'minwon.db'}", settings, kb_index_root, county
    )
    db = Database(install.settings.database_url)
    db.upgrade()
    StaffAuth(db).add_user("kim", PASSWORD, "officer", "민원팀 김주무관")
    install.settings.ensure_secret()
    folder = tmp_path / "backup"
    assert minwon(install, monkeypatch, "backup", str(folder)) == 0
    assert minwon(install, monkeypatch, "backup", str(folder)) == 1
    assert "already exists and is not an empty folder" in capsys.readouterr().err

    # The same install still holds its database and key: restore will not overwrite them unasked.
    StaffAuth(db).add_user("lee", PASSWORD, "officer", "민원팀 이주무관")
    assert minwon(install, monkeypatch, "restore", str(folder)) == 1
    err = capsys.readouterr().err
    assert "refusing to overwrite existing data" in err and "minwon.db" in err and "--force" in err
    assert {u.username for u in StaffAuth(db).users()} == {"kim", "lee"}
    db.dispose()
    assert minwon(install, monkeypatch, "restore", "--force", str(folder)) == 0
    assert {u.username for u in StaffAuth(Database(install.settings.database_url)).users()} == {"kim"}

    damaged = tmp_path / "damaged"
    shutil.copytree(folder, damaged)
    with (damaged / "county.yaml").open("a", encoding="utf-8") as handle:
        handle.write("# changed after the backup\n")
    empty = make_install(
        tmp_path / "b", f"sqlite:///{tmp_path / 'b' / 'var' / 'minwon.db'}", settings, kb_index_root, county
    )
    assert minwon(empty, monkeypatch, "restore", str(damaged)) == 1
    assert "backup damaged: county.yaml does not match its checksum" in capsys.readouterr().err
    assert not (empty.settings.var_dir / "minwon.db").exists()
    assert minwon(empty, monkeypatch, "restore", str(tmp_path)) == 1
    assert "is not a backup folder" in capsys.readouterr().err
