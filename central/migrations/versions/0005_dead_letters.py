"""dead letters: messages the hub acknowledged without processing, kept for inspection

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 16:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import central.db.models

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("received_at", central.db.models.UtcDateTime(), nullable=False),
        sa.Column("transport", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("gateway_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("payload_bytes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_dead_letters_received_at"), "dead_letters", ["received_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_dead_letters_received_at"), table_name="dead_letters")
    op.drop_table("dead_letters")
