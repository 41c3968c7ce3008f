"""Open the configured database (SQLite by default, PostgreSQL when configured) and bring its schema up to date."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from api.settings import normalise_database_url, redact_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
log = logging.getLogger("minwon.db")
MIGRATION_LOCK = 0x6D696E776F6E  # "minwon": the advisory lock key of schema upgrades


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the console read while a resident's turn writes; foreign keys are off by default.
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL never corrupts the file; a power cut may lose the last commits (not an app crash).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Database:
    def __init__(self, url: str) -> None:
        if not url:
            raise ValueError("a database URL is required (Settings.database_url)")
        self.url = normalise_database_url(url, Path("."))
        # A server may drop a pooled connection (PostgreSQL restarting); a local SQLite file cannot, and
        # the ping was a statement more on every unit of work.
        kwargs: dict[str, Any] = {"pool_pre_ping": not self.url.startswith("sqlite")}
        if self.url.startswith("sqlite"):
            path = self.url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 10}
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def __repr__(self) -> str:
        return f"Database({redact_url(self.url)})"

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def alembic_config(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["engine"] = self.engine
        return config

    def upgrade(self) -> None:
        """Apply pending Alembic migrations (idempotent, safe at every start, and with several api
        processes starting at once on one PostgreSQL database: they take turns, the later ones find the
        schema up to date)."""
        with self.engine.begin() as connection:
            if self.backend == "postgresql":
                # Held until this transaction ends; without it two processes creating alembic_version at
                # the same moment fail with a duplicate key in pg_type.
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            config = self.alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def ping(self) -> None:
        """Raises if the database does not answer (readiness, metrics)."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: committed on success, rolled back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
