"""``minwon upgrade``: a newer release over an existing install, with a way back.

The database is the only thing an upgrade changes in place (the secret key, county profile and
knowledge base stay where they are), so an upgrade is: a ``minwon backup`` of the database as it is,
then the pending migrations. Rolling back is restoring that backup with the previous release
(README "Upgrading and rolling back"). With nothing pending, nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from api.db import Database
from api.ops.backup import backup
from api.settings import Settings

BACKUPS = "backups"


@dataclass(frozen=True)
class UpgradeReport:
    before: str | None  # None: a new install (no schema yet)
    after: str
    applied: list[str]
    backup_dir: Path | None


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def pending(db: Database) -> list[str]:
    """Revisions this release would apply, oldest first (empty when the schema is at head)."""
    script = ScriptDirectory.from_config(db.alembic_config())
    revision = current_revision(db)
    head = script.get_current_head()
    if revision == head:
        return []
    steps = [rev.revision for rev in script.iterate_revisions(head, revision)]
    return list(reversed(steps))


def default_backup_dir(settings: Settings, revision: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return settings.var_dir / BACKUPS / f"pre-upgrade-{revision}-{stamp}"


def upgrade(settings: Settings, backup_dir: Path | None = None) -> UpgradeReport:
    """Back up, then migrate to this release's schema. A new or current database gets no backup."""
    db = Database(settings.database_url)
    try:
        before = current_revision(db)
        steps = pending(db)
        taken: Path | None = None
        if steps and before is not None:
            taken = backup_dir or default_backup_dir(settings, before)
            # A failed backup raises here, before any migration touches the database.
            backup(settings, taken)
        if steps:
            db.upgrade()
        after = current_revision(db)
        assert after is not None  # db.upgrade() always leaves a revision
        return UpgradeReport(before=before, after=after, applied=steps, backup_dir=taken)
    finally:
        db.dispose()
