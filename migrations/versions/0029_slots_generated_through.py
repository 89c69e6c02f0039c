"""booking_service.slots_through: the last CST day whose slots are generated (issue 21, the slots read path)

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-26 23:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade():
    # NULL: nothing known generated; the next read or the hourly job generates the window and sets it
    with op.batch_alter_table('booking_service') as batch_op:
        batch_op.add_column(sa.Column('slots_through', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('booking_service') as batch_op:
        batch_op.drop_column('slots_through')
