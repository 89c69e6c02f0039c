"""audit hardening: keyed chain, sequence-ordered rows, sealer, checkpoints

Audit rows are inserted without a lock; a sealer chains them afterwards in `audit_seal` (append-only, like
`audit_log`). The unkeyed prev_hash/row_hash columns become nullable history: new rows leave them empty.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 00:00:00

"""
from alembic import op
import sqlalchemy as sa

import backend.db  # noqa: F401  (UTCDateTime, BigId)


# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SEAL_GUARD_PG = """
CREATE FUNCTION audit_seal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_seal is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_seal_no_update BEFORE UPDATE OR DELETE ON audit_seal
    FOR EACH ROW EXECUTE FUNCTION audit_seal_append_only();
"""


def _sqlite_guard(table):
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        )


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    # SQLite rebuilds the table for ALTER COLUMN, which drops its triggers: they are recreated below.
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column("prev_hash", existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column("row_hash", existing_type=sa.String(length=64), nullable=True)
    if not postgres:
        _sqlite_guard("audit_log")

    op.create_table(
        "audit_seal",
        sa.Column("seq", backend.db.BigId, autoincrement=False, nullable=False),
        sa.Column("row_id", backend.db.BigId, nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
        sa.Column("sealed_at", backend.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["row_id"], ["audit_log.id"], name=op.f("fk_audit_seal_row_id_audit_log")),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_seal")),
        sa.UniqueConstraint("row_id", name=op.f("uq_audit_seal_row_id")),
    )
    if postgres:
        op.execute(SEAL_GUARD_PG)
    else:
        _sqlite_guard("audit_seal")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_seal_no_update ON audit_seal")
        op.execute("DROP FUNCTION IF EXISTS audit_seal_append_only()")
    op.drop_table("audit_seal")
    # prev_hash/row_hash stay nullable: rows written since 0008 have none, and the audit log is never rewritten.
