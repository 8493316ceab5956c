"""Taxonomy stamp: renewed by triggers whenever zones or taxonomy entries are written

Captures read this one row on every request instead of the zones and the three
taxonomies, which they keep per stamp (outreach/capture/services.py). Any write to
those tables, by the admin pages, a seed, a migration or by hand, renews the stamp, so
every app instance sees it at its next request. The stamp is random rather than a
counter: a database rebuilt from nothing never hands out a stamp seen before.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 08:05:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = ("zones", "needs", "materials", "referral_destinations")
EVENTS = ("INSERT", "UPDATE", "DELETE")
FIRST_STAMP = {
    "sqlite": "INSERT INTO taxonomy_stamp (id, stamp) VALUES (1, lower(hex(randomblob(16))))",
    "postgresql": (
        "INSERT INTO taxonomy_stamp (id, stamp)"
        " VALUES (1, replace(gen_random_uuid()::text, '-', ''))"
    ),
}
SQLITE_RENEW = "UPDATE taxonomy_stamp SET stamp = lower(hex(randomblob(16)));"
POSTGRESQL_FUNCTION = """
CREATE FUNCTION taxonomy_stamp_renew() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE taxonomy_stamp SET stamp = replace(gen_random_uuid()::text, '-', '');
  RETURN NULL;
END $$;
"""


def trigger_name(table, event):
    return f"taxonomy_stamp_{table}_{event.lower()}"


def upgrade():
    op.create_table(
        "taxonomy_stamp",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stamp", sa.String(length=32), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_taxonomy_stamp_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taxonomy_stamp")),
    )
    dialect = op.get_bind().dialect.name
    op.execute(FIRST_STAMP[dialect])
    if dialect == "postgresql":
        op.execute(POSTGRESQL_FUNCTION)
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {trigger_name(table, 'write')} "
                f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION taxonomy_stamp_renew()"
            )
        return
    for table in TABLES:
        for event in EVENTS:
            op.execute(
                f"CREATE TRIGGER {trigger_name(table, event)} AFTER {event} ON {table} "
                f"BEGIN {SQLITE_RENEW} END"
            )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger_name(table, 'write')} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS taxonomy_stamp_renew()")
    else:
        for table in TABLES:
            for event in EVENTS:
                op.execute(f"DROP TRIGGER IF EXISTS {trigger_name(table, event)}")
    op.drop_table("taxonomy_stamp")
