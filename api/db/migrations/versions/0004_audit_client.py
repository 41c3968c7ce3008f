"""audit log: the client address of each staff action; indexes for retention by time

Revision ID: 0004_audit_client
Revises: 0003_analytics
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_audit_client"
down_revision = "0003_analytics"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        # 45: the longest textual IPv6 address (an IPv4-mapped one).
        batch.add_column(sa.Column("client", sa.String(length=45), nullable=True))
    # Login entries recorded before this column named the address only in the target; copy it over so the
    # audit page shows every login's address.
    op.execute(
        "UPDATE audit_log SET client = substr(target, 8) "
        "WHERE target LIKE 'client:%' AND action LIKE 'login%' AND client IS NULL"
    )
    # `minwon purge` deletes by time: audit entries, inbox decisions and staff logins would otherwise be scanned whole.
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_inbox_actions_at", "inbox_actions", ["at"])
    op.create_index("ix_staff_sessions_expires_at", "staff_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_staff_sessions_expires_at", table_name="staff_sessions")
    op.drop_index("ix_inbox_actions_at", table_name="inbox_actions")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("client")
