"""veteran name prefix index (varchar_pattern_ops on PostgreSQL) for the review queue's name search

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26 00:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("veteran", schema=None) as batch_op:
        batch_op.create_index(
            "ix_veteran_name_prefix", ["name"], unique=False, postgresql_ops={"name": "varchar_pattern_ops"}
        )


def downgrade():
    with op.batch_alter_table("veteran", schema=None) as batch_op:
        batch_op.drop_index("ix_veteran_name_prefix")
