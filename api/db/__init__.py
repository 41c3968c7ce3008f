"""Relational storage (SQLAlchemy + Alembic): SQLite by default, PostgreSQL when configured."""

from api.db.engine import Database

__all__ = ["Database"]
