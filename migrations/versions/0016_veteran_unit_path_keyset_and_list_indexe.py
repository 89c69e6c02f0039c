"""veteran unit_path keyset and list indexes (lists slice)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26 00:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _path_type():
    # Byte order on PostgreSQL so one plain btree serves the subtree range and ORDER BY unit_path, id.
    if op.get_bind().dialect.name == "postgresql":
        return sa.String(255, collation="C")
    return sa.String(255)  # SQLite compares bytes already


def upgrade():
    with op.batch_alter_table("veteran", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_path", _path_type(), nullable=True))
    op.execute("UPDATE veteran SET unit_path = (SELECT o.path FROM org_unit o WHERE o.id = veteran.unit_id)")
    with op.batch_alter_table("veteran", schema=None) as batch_op:
        batch_op.alter_column("unit_path", existing_type=_path_type(), nullable=False)
        batch_op.create_index("ix_veteran_unit_path_id", ["unit_path", "id"], unique=False)
        batch_op.create_index("ix_veteran_status_unit_path_id", ["status", "unit_path", "id"], unique=False)
    _registration_unit_path()


# registration.unit_path is kept by the database itself: registrations are written by ORM objects, Core INSERTs
# (insert_once ... ON CONFLICT), INSERT ... SELECT in the jobs and bulk seeds, so a trigger is the one place no writer
# can miss. It copies org_unit.path whenever unit_id is set.
PG_FUNCTION = """
CREATE FUNCTION registration_unit_path() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.unit_path := (SELECT path FROM org_unit WHERE id = NEW.unit_id);
    RETURN NEW;
END $$
"""
PG_TRIGGER = (
    "CREATE TRIGGER trg_registration_unit_path BEFORE INSERT OR UPDATE OF unit_id ON registration "
    "FOR EACH ROW EXECUTE FUNCTION registration_unit_path()"
)
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER trg_registration_unit_path_{event} AFTER {clause} ON registration FOR EACH ROW BEGIN "
    "UPDATE registration SET unit_path = (SELECT path FROM org_unit WHERE id = NEW.unit_id) WHERE id = NEW.id; END"
    for event, clause in (("insert", "INSERT"), ("update", "UPDATE OF unit_id"))
]


def _registration_unit_path():
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_path", _path_type(), nullable=True))
    op.execute("UPDATE registration SET unit_path = (SELECT o.path FROM org_unit o WHERE o.id = registration.unit_id)")
    if not postgres:
        for trigger in SQLITE_TRIGGERS:
            op.execute(trigger)
        return
    op.execute(PG_FUNCTION)
    op.execute(PG_TRIGGER)
    # unit_path stays nullable in the schema (as in the model): the BEFORE trigger fills it on every write.
    # The review queue's tabs in queue order (backend/registration/queries.py): for a large subtree an index-only
    # walk in (submitted, id) order that checks unit_path from the index, stopping after a page ...
    op.execute(
        "CREATE INDEX ix_registration_queue ON registration (year, status, (COALESCE(submitted_at, created_at)), id) "
        "INCLUDE (unit_path, submitted_at, created_at)"
    )
    # ... and for a small one the subtree's rows of the tab as one range, sorted (a station: a few hundred rows).
    op.execute(
        "CREATE INDEX ix_registration_scope ON registration (year, status, unit_path) "
        "INCLUDE (submitted_at, created_at, id)"
    )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_registration_scope")
        op.execute("DROP INDEX ix_registration_queue")
        op.execute("DROP TRIGGER trg_registration_unit_path ON registration")
        op.execute("DROP FUNCTION registration_unit_path()")
    else:
        for event in ("insert", "update"):
            op.execute(f"DROP TRIGGER trg_registration_unit_path_{event}")
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.drop_column("unit_path")
    with op.batch_alter_table("veteran", schema=None) as batch_op:
        batch_op.drop_index("ix_veteran_status_unit_path_id")
        batch_op.drop_index("ix_veteran_unit_path_id")
        batch_op.drop_column("unit_path")
