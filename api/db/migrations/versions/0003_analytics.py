"""analytics: turn outcomes, helpfulness votes in the database, inbox decisions, ticket done time

Revision ID: 0003_analytics
Revises: 0002_knowledge
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_analytics"
down_revision = "0002_knowledge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "turns",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("entry_id", sa.String(length=16), nullable=True),
        sa.Column("topic", sa.String(length=8), nullable=True),
        sa.Column("department", sa.String(length=32), nullable=True),
        sa.Column("similarity", sa.Float(), nullable=True),
        sa.Column("choices", sa.JSON(), nullable=True),
        sa.Column("picked", sa.String(length=16), nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_turns_at", "turns", ["at"])
    op.create_index("ix_turns_conversation_id_id", "turns", ["conversation_id", "id"])
    op.create_index("ix_turns_outcome_at", "turns", ["outcome", "at"])
    op.create_index("ix_turns_entry_id", "turns", ["entry_id"])
    op.create_table(
        "votes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("entry_id", sa.String(length=16), nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_votes_at", "votes", ["at"])
    op.create_index("ix_votes_conversation_id", "votes", ["conversation_id"])
    op.create_table(
        "inbox_actions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("batch", sa.String(length=32), nullable=False),
        sa.Column("question", sa.String(length=1000), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("entry_id", sa.String(length=16), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_inbox_actions_key", "inbox_actions", ["key"])
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
    # Dashboards read conversations and handoffs by time.
    op.create_index("ix_conversations_created_at", "conversations", ["created_at"])
    op.create_index("ix_handoffs_requested_at", "handoffs", ["requested_at"])
    op.create_index("ix_tickets_created_at", "tickets", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_created_at", table_name="tickets")
    op.drop_index("ix_handoffs_requested_at", table_name="handoffs")
    op.drop_index("ix_conversations_created_at", table_name="conversations")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("done_at")
    op.drop_table("inbox_actions")
    op.drop_table("votes")
    op.drop_table("turns")
