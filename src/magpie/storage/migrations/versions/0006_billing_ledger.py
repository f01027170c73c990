"""billing: the ledger (postings and lines), Stars payments, group pools, the cost of a turn

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ledger_postings",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("model", sa.String(128), nullable=True),
        sa.Column("reference", sa.String(160), nullable=True),
        sa.Column("reverses", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.ForeignKeyConstraint(
            ["reverses"],
            ["ledger_postings.id"],
            name=op.f("fk_ledger_postings_reverses_ledger_postings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_postings")),
        sa.UniqueConstraint("reference", name=op.f("uq_ledger_postings_reference")),
        sa.UniqueConstraint("reverses", name=op.f("uq_ledger_postings_reverses")),
    )
    op.create_index("ix_ledger_postings_user", "ledger_postings", ["user_id", "at"])
    op.create_index("ix_ledger_postings_chat", "ledger_postings", ["chat_id", "at"])
    op.create_table(
        "ledger_lines",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column(
            "posting_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["posting_id"],
            ["ledger_postings.id"],
            name=op.f("fk_ledger_lines_posting_id_ledger_postings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_lines")),
    )
    op.create_index("ix_ledger_lines_account", "ledger_lines", ["account", "posting_id"])
    op.create_index("ix_ledger_lines_posting", "ledger_lines", ["posting_id"])
    op.create_table(
        "star_payments",
        sa.Column("charge_id", sa.String(128), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("stars", sa.Integer(), nullable=False),
        sa.Column("payload", sa.String(128), nullable=False),
        sa.Column(
            "posting_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["posting_id"],
            ["ledger_postings.id"],
            name=op.f("fk_star_payments_posting_id_ledger_postings"),
        ),
        sa.PrimaryKeyConstraint("charge_id", name=op.f("pk_star_payments")),
    )
    op.create_index("ix_star_payments_user", "star_payments", ["user_id", "paid_at"])
    op.create_table(
        "group_pools",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_group_pools")),
    )
    with op.batch_alter_table("turns") as batch_op:
        batch_op.add_column(sa.Column("cost", sa.BigInteger(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("turns") as batch_op:
        batch_op.drop_column("cost")
    op.drop_table("group_pools")
    op.drop_index("ix_star_payments_user", table_name="star_payments")
    op.drop_table("star_payments")
    op.drop_index("ix_ledger_lines_posting", table_name="ledger_lines")
    op.drop_index("ix_ledger_lines_account", table_name="ledger_lines")
    op.drop_table("ledger_lines")
    op.drop_index("ix_ledger_postings_chat", table_name="ledger_postings")
    op.drop_index("ix_ledger_postings_user", table_name="ledger_postings")
    op.drop_table("ledger_postings")
