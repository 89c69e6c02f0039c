"""seal registration content (it holds the contact phone and trips abroad)

Revision ID: 0007
Revises: 0006
"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_sealed", sa.Text(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, content FROM registration")).all()
    if rows:
        from backend import pii  # the app context of `flask db upgrade` provides the key

        for row_id, content in rows:
            value = content if isinstance(content, dict) else json.loads(content or "{}")
            sealed = pii.encrypt_json(value, context="registration.content")
            bind.execute(sa.text("UPDATE registration SET content_sealed = :s WHERE id = :i"), {"s": sealed, "i": row_id})
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.drop_column("content")


def downgrade():
    with op.batch_alter_table("registration", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content", sa.JSON(), nullable=True))
        batch_op.drop_column("content_sealed")
