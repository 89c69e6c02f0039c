"""set-based job columns and indexes (jobs slice)

trip.return_due_on: the planned return date in clear for the daily overdue job (backfilled by decrypting each trip's
sealed details in batches), with a partial index over open trips not yet overdue; a partial index over the year's
registration drafts for the hourly overdue job. Both partial indexes exist on PostgreSQL and SQLite.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26 00:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

BACKFILL_BATCH = 1000
OPEN_NOT_OVERDUE = "status IN ('planned', 'departed') AND NOT overdue"


def _backfill_return_due_on(bind):
    """Decrypt each trip's sealed details in id batches and copy planned_return into return_due_on."""
    import datetime
    import json

    last = 0
    while True:
        rows = bind.execute(
            sa.text("SELECT id, sealed FROM trip WHERE id > :last ORDER BY id LIMIT :n"),
            {"last": last, "n": BACKFILL_BATCH},
        ).all()
        if not rows:
            return
        from backend import pii  # the app context of `flask db upgrade` provides the key

        updates = []
        for trip_id, sealed in rows:
            due = json.loads(pii.decrypt(sealed, context="travel.trip")).get("planned_return")
            if due:
                updates.append({"d": datetime.date.fromisoformat(due), "i": trip_id})
        if updates:
            bind.execute(sa.text("UPDATE trip SET return_due_on = :d WHERE id = :i"), updates)
        last = rows[-1][0]


def upgrade():
    with op.batch_alter_table("trip", schema=None) as batch_op:
        batch_op.add_column(sa.Column("return_due_on", sa.Date(), nullable=True))
    _backfill_return_due_on(op.get_bind())
    op.create_index(
        "ix_trip_return_due_open",
        "trip",
        ["return_due_on"],
        unique=False,
        postgresql_where=sa.text(OPEN_NOT_OVERDUE),
        sqlite_where=sa.text(OPEN_NOT_OVERDUE),
    )
    op.create_index(
        "ix_registration_draft_year_id",
        "registration",
        ["year", "id"],
        unique=False,
        postgresql_where=sa.text("status = 'draft'"),
        sqlite_where=sa.text("status = 'draft'"),
    )
    # The review queue's 有关注事项 tab and its capped count: flagged rows are few, so without this index counting
    # them walked every registration of the year (85 ms at 1M on every queue page).
    op.create_index(
        "ix_registration_flagged_year_path",
        "registration",
        ["year", "unit_path"],
        unique=False,
        postgresql_where=sa.text("flagged"),
        sqlite_where=sa.text("flagged"),
    )


def downgrade():
    op.drop_index("ix_registration_flagged_year_path", table_name="registration")
    op.drop_index("ix_registration_draft_year_id", table_name="registration")
    op.drop_index("ix_trip_return_due_open", table_name="trip")
    with op.batch_alter_table("trip", schema=None) as batch_op:
        batch_op.drop_column("return_due_on")
