"""Relational storage (SQLAlchemy + Alembic): SQLite by default, PostgreSQL with DATABASE_URL."""

from api.db.engine import Database, database_url

__all__ = ["Database", "database_url"]
