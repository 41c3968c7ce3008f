"""Throwaway databases for storage tests: a SQLite file, or a fresh PostgreSQL database on 127.0.0.1."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import Engine, text

ADMIN_URL = os.environ.get("MINWON_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    name = f"minwon_test_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "postgresql":
        with throwaway_postgres() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'minwon.db'}"


def add_rasa_events(engine: Engine, events: list[tuple[str, float, str]]) -> None:
    """Rasa's events table as Rasa 3.6's SQLTrackerStore makes it in its schema (api.rasa_stores), with
    (conversation, Unix time, data) rows, for tests that must not start Rasa."""
    with engine.begin() as connection:
        connection.execute(text("CREATE SCHEMA IF NOT EXISTS rasa"))
        connection.execute(
            text(
                "CREATE TABLE IF NOT EXISTS rasa.events (id serial PRIMARY KEY, sender_id varchar(255) NOT NULL, "
                "type_name varchar(255) NOT NULL, timestamp float, intent_name varchar(255), "
                "action_name varchar(255), data text)"
            )
        )
        for sender, at, data in events:
            connection.execute(
                text("INSERT INTO rasa.events (sender_id, type_name, timestamp, data) VALUES (:s, 'user', :t, :d)"),
                {"s": sender, "t": at, "d": data},
            )
