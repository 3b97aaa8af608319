"""the config revision a gateway reports running

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 06:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("gateways") as batch:
        batch.add_column(sa.Column("applied_config_revision", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gateways") as batch:
        batch.drop_column("applied_config_revision")
