"""the live knowledge base: entries, immutable versions, synonyms, golden questions, releases; curator departments

Revision ID: 0002_knowledge
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_knowledge"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("department", sa.String(length=32), nullable=True))
    op.create_table(
        "kb_entries",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=8), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("baseline_hash", sa.String(length=64), nullable=True),
        sa.Column("county_edited", sa.Boolean(), nullable=False),
        sa.Column("baseline_pending", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_kb_entries_topic", "kb_entries", ["topic"])
    op.create_index("ix_kb_entries_department", "kb_entries", ["department"])
    op.create_table(
        "kb_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("entry_id", sa.String(length=16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("based_on", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("publish_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("check", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["entry_id"], ["kb_entries.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_kb_versions_entry_number", "kb_versions", ["entry_id", "number"], unique=True)
    op.create_index("ix_kb_versions_status", "kb_versions", ["status"])
    op.create_table(
        "kb_synonyms",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("variant", sa.String(length=64), nullable=False),
        sa.Column("canonical", sa.String(length=64), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("variant"),
    )
    op.create_table(
        "kb_golden_questions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("question", sa.String(length=300), nullable=False),
        sa.Column("entry_id", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "kb_releases",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("kb_releases")
    op.drop_table("kb_golden_questions")
    op.drop_table("kb_synonyms")
    op.drop_index("ix_kb_versions_status", table_name="kb_versions")
    op.drop_index("ix_kb_versions_entry_number", table_name="kb_versions")
    op.drop_table("kb_versions")
    op.drop_index("ix_kb_entries_department", table_name="kb_entries")
    op.drop_index("ix_kb_entries_topic", table_name="kb_entries")
    op.drop_table("kb_entries")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("department")
