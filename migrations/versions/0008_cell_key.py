"""Cell key method: a record key sum beside each roll-up measure; no more stored suppression

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 13:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("weekly_rollup", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key_sum", sa.Integer(), nullable=False, server_default="0"))
    # Every week's key sums are computed by the next reader.
    op.execute("INSERT INTO rollup_stale (iso_week) SELECT DISTINCT iso_week FROM contacts")
    op.drop_table("week_protections")


def downgrade():
    op.create_table(
        "week_protections",
        sa.Column("iso_week", sa.String(length=8), nullable=False),
        sa.Column("indicator", sa.String(length=64), nullable=False),
        sa.Column("threshold", sa.SmallInteger(), nullable=False),
        sa.Column("cells_digest", sa.String(length=64), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("statuses", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "iso_week", "indicator", "threshold", "cells_digest", name=op.f("pk_week_protections")
        ),
    )
    with op.batch_alter_table("weekly_rollup", schema=None) as batch_op:
        batch_op.drop_column("key_sum")
