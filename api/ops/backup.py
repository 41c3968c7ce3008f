"""``minwon backup DIR`` / ``minwon restore DIR``: everything a county cannot rebuild, in one folder.

A backup holds a consistent database snapshot (SQLite's online backup API, so the api may keep
running; ``pg_dump`` for PostgreSQL), the session-signing key, the county profile and a readable
Excel export of the knowledge base, with ``manifest.json`` and ``SHA256SUMS`` (``sha256sum -c``
works on it). The knowledge base itself lives in the database; the export is for people. The
embedding model, index and Rasa model are built artefacts and are rebuilt, not backed up.

A backup is written to a sibling folder and renamed into place at the end, so a folder named
``DIR`` is always complete. Restore checks every checksum before it touches anything.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import make_url

from api.db import Database
from api.settings import Settings, redact_url

FORMAT = 1
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
SECRET_FILE = "secret_key"  # noqa: S105 - a file name, not a secret
COUNTY_FILE = "county.yaml"
KB_EXPORT = "knowledge-base.xlsx"
# Never part of a backup, and no obstacle to a restore: built artefacts (rebuilt by `make` / the api from the
# code and the database), and var/backups, where `minwon upgrade` keeps the backup it takes first.
BUILT_IN_VAR = frozenset({"models", "index", "logs", "backups"})


class BackupError(RuntimeError):
    """An operator-facing failure: the message says what is wrong and what to do."""


@dataclass
class RestoreReport:
    backend: str
    revision: str | None
    counts: dict[str, int] = field(default_factory=dict)
    county_saved_as: Path | None = None
    secret_restored: bool = False


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def app_version() -> str:
    try:
        return metadata.version("minwon-chatbot")
    except metadata.PackageNotFoundError:
        return "unknown"


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"cannot back up an in-memory SQLite database ({url})")
    return Path(database)


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A URL pg_dump/pg_restore understand, with the password moved to PGPASSWORD (not the process list)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} not found on PATH: install the PostgreSQL client of the server's major version "
            "(Debian: apt install postgresql-client-15)"
        )
    return found


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{what} failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}")


def _revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _counts(db: Database) -> dict[str, int]:
    from api.db.models import Conversation, KbVersion, Message, Ticket, User

    # An install from before the knowledge base (schema 0001) has no kb_versions yet: count what exists.
    tables = set(inspect(db.engine).get_table_names())
    with db.session() as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in (
                ("conversations", Conversation),
                ("messages", Message),
                ("tickets", Ticket),
                ("kb_versions", KbVersion),
                ("users", User),
            )
            if model.__tablename__ in tables
        }


def _write_kb_export(db: Database, path: Path) -> int:
    from api.kb.excel import export_workbook
    from api.kb.store import KnowledgeStore

    return export_workbook(KnowledgeStore(db).export_rows(), path)


def _prepare_target(target: Path) -> Path:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} already exists and is not an empty folder; choose a new folder per backup")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.partial-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(mode=0o700)
    return staging


def backup(settings: Settings, target: Path) -> dict[str, Any]:
    """Write a complete backup to ``target`` (a new or empty folder); returns the manifest."""
    target = target.resolve()
    db = Database(settings.database_url)
    try:
        revision = _revision(db)
        if revision is None:
            raise BackupError(f"the database {redact_url(settings.database_url)} has no schema yet; nothing to back up")
        staging = _prepare_target(target)
        try:
            names = _write_backup(settings, db, staging)
            files = {
                name: {"sha256": sha256(staging / name), "bytes": (staging / name).stat().st_size} for name in names
            }
            manifest: dict[str, Any] = {
                "format": FORMAT,
                "app_version": app_version(),
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "host": socket.gethostname(),
                "backend": db.backend,
                "database_url": redact_url(settings.database_url),
                "alembic_revision": revision,
                "counts": _counts(db),
                "files": files,
            }
            (staging / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            sums = "".join(f"{entry['sha256']}  {name}\n" for name, entry in files.items())
            (staging / SUMS).write_text(sums, encoding="utf-8")
            if target.exists():
                target.rmdir()
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return manifest
    finally:
        db.dispose()


def _write_backup(settings: Settings, db: Database, staging: Path) -> list[str]:
    files: list[str] = []
    if db.backend == "sqlite":
        source = sqlite3.connect(_sqlite_path(settings.database_url))
        snapshot = sqlite3.connect(staging / SQLITE_FILE)
        try:
            # The online backup API copies a consistent state while the api keeps writing.
            source.backup(snapshot)
        finally:
            snapshot.close()
            source.close()
        files.append(SQLITE_FILE)
    elif db.backend == "postgresql":
        url, env = _libpq(settings.database_url)
        command = [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges"]
        _run([*command, f"--file={staging / PG_FILE}", f"--dbname={url}"], env, "pg_dump")
        files.append(PG_FILE)
    else:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {db.backend}")
    secret = settings.var_dir / "secret_key"
    key = secret.read_text(encoding="utf-8").strip() if secret.exists() else settings.secret_key.strip()
    if key:
        (staging / SECRET_FILE).write_text(key, encoding="utf-8")
        os.chmod(staging / SECRET_FILE, 0o600)
        files.append(SECRET_FILE)
    if settings.county_file.exists():
        shutil.copyfile(settings.county_file, staging / COUNTY_FILE)
        files.append(COUNTY_FILE)
    if "kb_versions" in inspect(db.engine).get_table_names():
        _write_kb_export(db, staging / KB_EXPORT)
        files.append(KB_EXPORT)
    return files


def read_manifest(source: Path) -> dict[str, Any]:
    """The manifest of a complete, undamaged backup (every checksum verified)."""
    path = source / MANIFEST
    if not path.is_file():
        raise BackupError(f"{source} is not a backup folder: {MANIFEST} is missing")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{path} cannot be read: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: backup format {manifest.get('format')!r}; this version reads format {FORMAT}")
    for name, entry in manifest.get("files", {}).items():
        file = source / name
        if not file.is_file():
            raise BackupError(f"backup damaged: {name} is listed in {MANIFEST} but missing")
        if sha256(file) != entry["sha256"]:
            raise BackupError(f"backup damaged: {name} does not match its checksum in {MANIFEST}")
    return manifest


def _known_revision(db: Database, revision: str) -> bool:
    script = ScriptDirectory.from_config(db.alembic_config())
    try:
        return script.get_revision(revision) is not None
    except Exception:  # noqa: BLE001 - alembic raises several kinds for an unknown id
        return False


def _var_state(var: Path) -> list[str]:
    """What in ``var`` a restore would replace or contradict (built artefacts do not count)."""
    if not var.exists():
        return []
    return sorted(p.name for p in var.iterdir() if p.name not in BUILT_IN_VAR)


def _pg_tables(db: Database) -> list[str]:
    return sorted(inspect(db.engine).get_table_names())


def restore(settings: Settings, source: Path, force: bool = False) -> RestoreReport:
    """Restore the backup in ``source`` into this install's var folder and database."""
    source = source.resolve()
    manifest = read_manifest(source)
    files = manifest["files"]
    backend = str(manifest["backend"])
    db = Database(settings.database_url)
    try:
        if db.backend != backend:
            raise BackupError(
                f"the backup holds a {backend} database but this install uses {db.backend} "
                f"({redact_url(settings.database_url)}); set DATABASE_URL to a {backend} database"
            )
        revision = manifest.get("alembic_revision")
        if revision and not _known_revision(db, str(revision)):
            raise BackupError(
                f"the backup was made by a newer version (schema {revision}, app {manifest.get('app_version')}); "
                "install that version first"
            )
        var = settings.var_dir
        problems = [f"{var}/{name}" for name in _var_state(var)]
        if backend == "sqlite" and (path := _sqlite_path(settings.database_url)).exists() and path.parent != var:
            problems.append(str(path))
        if backend == "postgresql" and (tables := _pg_tables(db)):
            problems.append(f"{redact_url(settings.database_url)} ({len(tables)} tables)")
        if problems and not force:
            raise BackupError(
                "refusing to overwrite existing data: " + ", ".join(problems) + ". Restore into an empty var folder "
                "and database, or pass --force to replace them (stop the api first)"
            )
        var.mkdir(parents=True, exist_ok=True)
        if backend == "sqlite":
            _restore_sqlite(source / SQLITE_FILE, _sqlite_path(settings.database_url))
        else:
            db.dispose()
            url, env = _libpq(settings.database_url)
            command = [_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
            command += ["--single-transaction", f"--dbname={url}"]
            if force:
                _drop_tables_not_in(db, source / PG_FILE, env)
                command += ["--clean", "--if-exists"]
            _run([*command, str(source / PG_FILE)], env, "pg_restore")
        report = RestoreReport(backend=backend, revision=None)
        if SECRET_FILE in files:
            _write_private(var / "secret_key", (source / SECRET_FILE).read_text(encoding="utf-8"))
            report.secret_restored = True
        if COUNTY_FILE in files:
            report.county_saved_as = _restore_county(source / COUNTY_FILE, settings.county_file)
        db.upgrade()  # an older backup is brought up to this version's schema
        report.revision = _revision(db)
        report.counts = _counts(db)
        return report
    finally:
        db.dispose()


def _drop_tables_not_in(db: Database, dump: Path, env: dict[str, str]) -> None:
    """Drop the tables a newer release added (a rollback): ``--clean`` only drops what the dump holds,
    and a newer table's foreign keys to the old ones would stop it."""
    listing = subprocess.run(
        [_pg_tool("pg_restore"), "--list", str(dump)], env=env, capture_output=True, text=True, check=False
    )
    if listing.returncode != 0:
        raise BackupError(f"pg_restore --list failed (exit {listing.returncode}): {listing.stderr.strip()[-2000:]}")
    # Lines such as "215; 1259 16386 TABLE public turns postgres" (and "... TABLE DATA public turns ...").
    entries = [line.split() for line in listing.stdout.splitlines() if not line.startswith(";")]
    dumped = {words[5] for words in entries if len(words) > 5 and words[3] == "TABLE" and words[4] != "DATA"}
    extra = [name for name in _pg_tables(db) if name not in dumped]
    if extra:
        with db.engine.begin() as connection:
            for name in extra:
                connection.execute(text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
    db.dispose()


def _restore_sqlite(snapshot: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.restoring")
    staging.unlink(missing_ok=True)
    source = sqlite3.connect(snapshot)
    copy = sqlite3.connect(staging)
    try:
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    # A write-ahead log left from the old database would be replayed onto the restored one.
    for suffix in ("-wal", "-shm", "-journal"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    os.replace(staging, target)


def _write_private(path: Path, text: str) -> None:
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _restore_county(backup_file: Path, target: Path) -> Path | None:
    """Put the backed-up profile in place; a different profile already there is kept beside it."""
    saved: Path | None = None
    if target.exists():
        if target.read_bytes() == backup_file.read_bytes():
            return None
        saved = target.with_name(f"{target.name}.before-restore-{datetime.now(UTC):%Y%m%dT%H%M%SZ}")
        shutil.copyfile(target, saved)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(backup_file, target)
    return saved
