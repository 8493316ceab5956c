"""Coverage board: patrols planned by an association in a zone for a date's day or night slot

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-12 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "planned_patrols",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("planned_date", sa.Date(), nullable=False),
        sa.Column("slot", sa.String(length=8), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("slot IN ('day', 'night')", name=op.f("ck_planned_patrols_slot_known")),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_planned_patrols_association_id_associations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_planned_patrols_created_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["zone_id"],
            ["zones.id"],
            name=op.f("fk_planned_patrols_zone_id_zones"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planned_patrols")),
        sa.UniqueConstraint(
            "association_id",
            "zone_id",
            "planned_date",
            "slot",
            name="uq_planned_patrols_association_zone_date_slot",
        ),
    )
    with op.batch_alter_table("planned_patrols", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_planned_patrols_planned_date"), ["planned_date"], unique=False
        )
    # The board reads the patrols of a week by their start, whatever the association.
    with op.batch_alter_table("patrols", schema=None) as batch_op:
        batch_op.create_index("ix_patrols_started_at", ["started_at"], unique=False)


def downgrade():
    with op.batch_alter_table("patrols", schema=None) as batch_op:
        batch_op.drop_index("ix_patrols_started_at")
    with op.batch_alter_table("planned_patrols", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_planned_patrols_planned_date"))
    op.drop_table("planned_patrols")
