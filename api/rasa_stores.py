"""Where Rasa keeps its conversations and locks: shared by every Rasa replica when the install has them.

With PostgreSQL (``DATABASE_URL``) Rasa's trackers go to its SQL tracker store in the same database,
in a schema of its own (``rasa``): its ``events`` table cannot meet ours, one ``pg_dump`` backs both
up, and ``minwon purge`` reaches it on the same connection. A separate database (Rasa's ``login_db``)
would need the CREATEDB right, which a county's database account rarely has. With ``REDIS_URL`` the
replicas lock a conversation in Redis (``RedisLockStore``), under a key prefix of this install.
So a replica that dies mid-conversation leaves nothing behind: the next one reads the same tracker,
slots and all. Without them Rasa keeps trackers in memory, as a single replica always did.

The runner writes the endpoints file Rasa starts with (var/rasa/endpoints.yml): Rasa expands
``${VAR}`` only in plain scalars and cannot leave a section out by an empty variable, and an
operator's URL is parsed here rather than in YAML. Passwords stay out of the file: it names a
variable that only the Rasa process's environment holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from api.db import Database
from api.settings import Settings, install_key

RASA_SCHEMA = "rasa"
# The names of the variables that hand Rasa the passwords (the values are never written down).
DB_PASSWORD_VAR = "MINWON_RASA_DB_PASSWORD"  # noqa: S105
REDIS_PASSWORD_VAR = "MINWON_RASA_REDIS_PASSWORD"  # noqa: S105


class StoreConfigError(ValueError):
    """The database or Redis URL cannot be given to Rasa; the message says what to change."""


@dataclass
class RasaStores:
    """What Rasa is started with: its endpoints file and the variables that file names."""

    endpoints: Path
    env: dict[str, str] = field(default_factory=dict)
    shared_trackers: bool = False


def _quoted(value: str) -> str:
    return json.dumps(value)  # a JSON string is a YAML double-quoted scalar: never expanded, never retyped


def tracker_store(database_url: str) -> tuple[list[str], dict[str, str]]:
    """The ``tracker_store`` section for a PostgreSQL URL (nothing for SQLite: Rasa keeps them in memory)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return [], {}
    lines = ["tracker_store:", "  type: SQL", "  dialect: postgresql"]
    if url.host:  # Rasa takes the host from ``url`` (a whole URL there would bypass the rest)
        lines.append(f"  url: {_quoted(url.host)}")
    if url.port:
        lines.append(f"  port: {int(url.port)}")
    lines.append(f"  db: {_quoted(url.database or '')}")
    if url.username:
        lines.append(f"  username: {_quoted(url.username)}")
    # Rasa reads the schema from this variable and puts it first on the search path of its connections.
    env = {"POSTGRESQL_SCHEMA": RASA_SCHEMA}
    if url.password:
        lines.append(f"  password: ${{{DB_PASSWORD_VAR}}}")
        env[DB_PASSWORD_VAR] = str(url.password)
    if url.query:
        lines.append("  query:")
        for key, value in url.query.items():
            lines.append(f"    {_quoted(key)}: {_quoted(value if isinstance(value, str) else value[-1])}")
    return lines, env


def lock_store(redis_url: str, install: str) -> tuple[list[str], dict[str, str]]:
    """The ``lock_store`` section for ``REDIS_URL`` (nothing without it: Rasa locks in memory)."""
    if not redis_url:
        return [], {}
    parts = urlsplit(redis_url)
    if parts.scheme not in ("redis", "rediss"):
        raise StoreConfigError(f"REDIS_URL must be redis://host:port/db for Rasa's lock store, got {parts.scheme}://")
    database = parts.path.strip("/") or "0"
    if not database.isdigit():
        raise StoreConfigError(f"REDIS_URL must end with a database number (redis://host:6379/0), got /{database}")
    lines = [
        "lock_store:",
        "  type: redis",
        f"  url: {_quoted(parts.hostname or '127.0.0.1')}",  # Rasa's name for the host
        f"  port: {parts.port or 6379}",
        f"  db: {int(database)}",
        # Alphanumeric only (Rasa refuses anything else): two installs on one Redis never share a lock.
        f"  key_prefix: {_quoted('minwon' + install)}",
    ]
    env: dict[str, str] = {}
    if parts.username:
        lines.append(f"  username: {_quoted(unquote(parts.username))}")
    if parts.password:
        lines.append(f"  password: ${{{REDIS_PASSWORD_VAR}}}")
        env[REDIS_PASSWORD_VAR] = unquote(parts.password)
    if parts.scheme == "rediss":
        lines.append("  use_ssl: true")
    return lines, env


def prepare(settings: Settings, template: Path) -> RasaStores:
    """The endpoints file for this install's Rasa replicas (``template`` alone when nothing is shared)."""
    tracker, tracker_env = tracker_store(settings.database_url)
    locks, lock_env = lock_store(settings.redis_url, install_key(settings.database_url))
    if not (tracker or locks):
        return RasaStores(template)
    if tracker:
        ensure_schema(settings.database_url)
    path = settings.var_dir / "rasa" / "endpoints.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    sections = "\n".join([*tracker, *locks])
    header = "# Written by `minwon run` at every start (api/rasa_stores.py); edit bot/endpoints.yml instead.\n"
    path.write_text(f"{header}{template.read_text(encoding='utf-8').rstrip()}\n\n{sections}\n", encoding="utf-8")
    return RasaStores(path, {**tracker_env, **lock_env}, shared_trackers=bool(tracker))


def purge_events(
    session: Session, *, before: float | None = None, conversation_id: str | None = None, dry_run: bool = False
) -> int:
    """Delete Rasa's events older than ``before`` (Unix seconds, Rasa's own timestamps) or of one conversation
    (its ``sender_id``); returns how many. None to delete without Rasa's table (SQLite: trackers in memory)."""
    if session.get_bind().dialect.name != "postgresql":
        return 0
    if session.scalar(text("SELECT to_regclass(:name)"), {"name": f"{RASA_SCHEMA}.events"}) is None:
        return 0  # Rasa never ran on this database with its tracker store here
    params: dict[str, object]
    if before is not None:
        where, params = "timestamp < :before", {"before": before}
    elif conversation_id is not None:
        where, params = "sender_id = :sender", {"sender": conversation_id}
    else:
        raise ValueError("purge_events needs before or conversation_id")
    found = int(session.scalar(text(f"SELECT count(*) FROM {RASA_SCHEMA}.events WHERE {where}"), params) or 0)  # noqa: S608 - constant names
    if found and not dry_run:
        session.execute(text(f"DELETE FROM {RASA_SCHEMA}.events WHERE {where}"), params)  # noqa: S608 - constant names
    return found


def ensure_schema(database_url: str) -> None:
    """Rasa creates its tables but not its schema (it exits when the schema is missing)."""
    db = Database(database_url)
    try:
        with db.engine.begin() as connection:
            # Looked up first: an account without the CREATE right may still use a schema made for it.
            found = text("SELECT 1 FROM pg_namespace WHERE nspname = :name")
            if connection.execute(found, {"name": RASA_SCHEMA}).first() is None:
                connection.execute(text(f"CREATE SCHEMA {RASA_SCHEMA}"))
    except Exception as exc:
        raise StoreConfigError(
            f"cannot create the schema {RASA_SCHEMA!r} for Rasa's trackers: {exc}. Create it as the database "
            f"owner (CREATE SCHEMA {RASA_SCHEMA} AUTHORIZATION <the DATABASE_URL user>) and start again"
        ) from exc
    finally:
        db.dispose()
