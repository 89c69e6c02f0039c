"""care contact plans and contacts (issue 16)

Revision ID: 0020c1
Revises: 0019
Create Date: 2026-11-26 12:20:00

"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import backend.db  # noqa: F401  (UTCDateTime, BigId)

revision = "0020c1"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
