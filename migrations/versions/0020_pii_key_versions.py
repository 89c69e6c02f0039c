"""personal data key versions (issue 15)

Rotation progress per sealed column (pii_rotation) and retired key versions (pii_key_version); the keyed index
columns widen from 64 to 80 characters for their version header ("M12:" + 64 hex).

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-26 12:00:00

"""

import sqlalchemy as sa
from alembic import op

import backend.db  # noqa: F401  (UTCDateTime, BigId)

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WIDENED = (("veteran", "id_number_hmac"), ("veteran", "phone_hmac"), ("staff_recovery_code", "code_hash"))


def upgrade():
    op.create_table(
        "pii_rotation",
        sa.Column("id", BIG, nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("column_name", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=8), nullable=False),
        sa.Column("last_id", BIG, nullable=False),
        sa.Column("resealed", sa.Integer(), nullable=False),
        sa.Column("started_at", backend.db.UTCDateTime(), nullable=False),
        sa.Column("finished_at", backend.db.UTCDateTime(), nullable=True),
        sa.Column("census", sa.JSON(), nullable=False),
        sa.Column("census_at", backend.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pii_rotation")),
        sa.UniqueConstraint("table_name", "column_name", name="uq_pii_rotation_table_column"),
    )
    op.create_table(
        "pii_key_version",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("retired_at", backend.db.UTCDateTime(), nullable=False),
        sa.Column("retired_by_id", BIG, nullable=True),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_pii_key_version")),
    )
    for table, column in WIDENED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(column, existing_type=sa.String(length=64), type_=sa.String(length=80))


def downgrade():
    for table, column in WIDENED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column(column, existing_type=sa.String(length=80), type_=sa.String(length=64))
    op.drop_table("pii_key_version")
    op.drop_table("pii_rotation")
