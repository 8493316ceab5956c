"""A user's interface language; weekly small-cell protections kept in the database

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 00:22:22.582692

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
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
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=5), nullable=True))
        batch_op.create_check_constraint("locale_known", "locale IN ('fr', 'en')")


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint("locale_known", type_="check")
        batch_op.drop_column("locale")

    op.drop_table("week_protections")
