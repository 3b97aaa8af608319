"""latest camera stats per camera; sensor vendor profile

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import central.db.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "camera_stats",
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("gateway_id", sa.String(length=64), nullable=False),
        sa.Column("stats_at", central.db.models.UtcDateTime(), nullable=False),
        sa.Column("received_at", central.db.models.UtcDateTime(), nullable=False),
        sa.Column("window_s", sa.Float(), nullable=False),
        sa.Column("capture_fps", sa.Float(), nullable=False),
        sa.Column("detect_fps", sa.Float(), nullable=False),
        sa.Column("frames_captured", sa.Integer(), nullable=False),
        sa.Column("frames_skipped_motion", sa.Integer(), nullable=False),
        sa.Column("frames_skipped_budget", sa.Integer(), nullable=False),
        sa.Column("frames_bad", sa.Integer(), nullable=False),
        sa.Column("inference_p50_ms", sa.Float(), nullable=True),
        sa.Column("inference_p95_ms", sa.Float(), nullable=True),
        sa.Column("frame_age_p50_ms", sa.Float(), nullable=True),
        sa.Column("frame_age_p95_ms", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.camera_id"]),
        sa.PrimaryKeyConstraint("camera_id"),
    )
    with op.batch_alter_table("sensors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vendor", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sensors", schema=None) as batch_op:
        batch_op.drop_column("vendor")
    op.drop_table("camera_stats")
