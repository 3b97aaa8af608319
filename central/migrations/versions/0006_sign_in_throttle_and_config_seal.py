"""sign-in throttling (failed sign-ins per account and per client address) and per-gateway config seal keys

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 16:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import central.db.models

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", central.db.models.UtcDateTime(), nullable=False),
        sa.Column("locked_until", central.db.models.UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("gateways") as batch:
        batch.add_column(sa.Column("config_key_encrypted", sa.String(length=256), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gateways") as batch:
        batch.drop_column("config_key_encrypted")
    op.drop_table("sign_in_failures")
