"""messages: the widget's client id of a resident message and how its first try was answered

A retry of the same message may reach another api process (MINWON_API_REPLICAS): the unique index
keeps it one stored message, and ``replay`` lets that process give the first answer again.

Revision ID: 0005_message_client_id
Revises: 0004_audit_client
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_message_client_id"
down_revision = "0004_audit_client"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("client_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("replay", sa.JSON(), nullable=True))
    # NULLs never collide: messages stored before this column, and the bot's, stay as they are.
    op.create_index("ux_messages_conversation_id_client_id", "messages", ["conversation_id", "client_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_messages_conversation_id_client_id", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("replay")
        batch.drop_column("client_id")
