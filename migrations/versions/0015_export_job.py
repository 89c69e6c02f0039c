"""export_job (exports slice)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26 00:00:00

"""
from alembic import op
import sqlalchemy as sa

import backend.db  # noqa: F401  (UTCDateTime, BigId)


# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _big():
    return sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('export_job',
    sa.Column('id', _big(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('created_by_id', _big(), nullable=False),
    sa.Column('unit_id', _big(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rows_done', sa.BigInteger(), nullable=False),
    sa.Column('rows_total', sa.BigInteger(), nullable=True),
    sa.Column('file_name', sa.String(length=200), nullable=True),
    sa.Column('file_path', sa.String(length=200), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('created_at', backend.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', backend.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', backend.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires_at', backend.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff.id'], name=op.f('fk_export_job_created_by_id_staff')),
    sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], name=op.f('fk_export_job_unit_id_org_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_job'))
    )
    with op.batch_alter_table('export_job', schema=None) as batch_op:
        batch_op.create_index('ix_export_job_created_by_id_id', ['created_by_id', 'id'], unique=False)
        batch_op.create_index('ix_export_job_status_expires_at', ['status', 'expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('export_job', schema=None) as batch_op:
        batch_op.drop_index('ix_export_job_status_expires_at')
        batch_op.drop_index('ix_export_job_created_by_id_id')

    op.drop_table('export_job')
