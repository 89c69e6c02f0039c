"""mini program refresh token families

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 00:00:00

"""
from alembic import op
import sqlalchemy as sa

import backend.db  # noqa: F401  (UTCDateTime, BigId)


# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "token_family",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("account_id", BIG_ID, nullable=False),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["wechat_account.id"],
            name=op.f("fk_token_family_account_id_wechat_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_family")),
    )
    with op.batch_alter_table("token_family", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_token_family_account_id"), ["account_id"], unique=False)

    op.create_table(
        "refresh_token",
        sa.Column("jti", sa.String(length=36), nullable=False),
        sa.Column("family_id", BIG_ID, nullable=False),
        sa.Column("issued_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("spent_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["family_id"], ["token_family.id"], name=op.f("fk_refresh_token_family_id_token_family"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_refresh_token")),
    )
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refresh_token_family_id"), ["family_id"], unique=False)


def downgrade():
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_token_family_id"))
    op.drop_table("refresh_token")
    with op.batch_alter_table("token_family", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_token_family_account_id"))
    op.drop_table("token_family")
