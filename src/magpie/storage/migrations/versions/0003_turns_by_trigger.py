"""turns by conversation and trigger message

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_turns_trigger",
        "turns",
        ["chat_id", "thread_id", "trigger_message_id", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_turns_trigger", table_name="turns")
