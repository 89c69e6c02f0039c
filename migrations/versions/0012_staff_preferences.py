"""staff display preferences (larger-text mode)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 00:00:00

"""
from alembic import op
import sqlalchemy as sa

import backend.db  # noqa: F401  (UTCDateTime, BigId)


# revision identifiers, used by Alembic.
revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    # a11y slice (issue 11): 大字版 per account; existing accounts start with the normal size.
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.add_column(sa.Column("large_text", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table("staff", schema=None) as batch_op:
        batch_op.drop_column("large_text")
