"""staff security: session token on logout, TOTP second factor, recovery codes

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 00:00:00

"""
from alembic import op
import sqlalchemy as sa

import backend.db  # noqa: F401  (UTCDateTime, BigId)


# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret_sealed", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("totp_enabled_at", backend.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))

    op.create_table(
        "staff_recovery_code",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("used_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_staff_recovery_code_staff_id_staff"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_recovery_code")),
    )
    with op.batch_alter_table("staff_recovery_code", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_recovery_code_staff_id"), ["staff_id"], unique=False)


def downgrade():
    with op.batch_alter_table("staff_recovery_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_recovery_code_staff_id"))
    op.drop_table("staff_recovery_code")
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_enabled_at")
        batch_op.drop_column("totp_secret_sealed")
