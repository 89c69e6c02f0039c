"""visit campaigns and visits (issue 16)

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-26 12:20:00

"""

import sqlalchemy as sa
from alembic import op

import backend.db  # noqa: F401  (UTCDateTime, BigId)

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "visit_campaign",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("unit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_visit_campaign_dates")),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff.id"], name=op.f("fk_visit_campaign_created_by_id_staff")),
        sa.ForeignKeyConstraint(["unit_id"], ["org_unit.id"], name=op.f("fk_visit_campaign_unit_id_org_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_campaign")),
    )
    with op.batch_alter_table("visit_campaign", schema=None) as batch_op:
        batch_op.create_index("ix_visit_campaign_unit_id_id", ["unit_id", "id"], unique=False)

    op.create_table(
        "visit",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("veteran_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("station_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=True),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("gift", sa.Text(), nullable=True),
        sa.Column("funding_source", sa.String(length=8), nullable=True),
        sa.Column("budget_year", sa.Integer(), nullable=True),
        sa.Column("notes_sealed", sa.Text(), nullable=True),
        sa.Column("recorded_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("recorded_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "funding_source IS NULL OR funding_source IN ('central', 'local')", name=op.f("ck_visit_funding_source")
        ),
        sa.CheckConstraint("status IN ('planned', 'done', 'skipped')", name=op.f("ck_visit_status")),
        sa.CheckConstraint(
            "(amount_fen = 0 AND gift IS NULL) OR (funding_source IS NOT NULL AND budget_year IS NOT NULL)",
            name=op.f("ck_visit_spending_has_source"),
        ),
        sa.CheckConstraint("amount_fen >= 0 AND amount_fen <= 100000000", name=op.f("ck_visit_amount_range")),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["visit_campaign.id"], name=op.f("fk_visit_campaign_id_visit_campaign"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["staff.id"], name=op.f("fk_visit_recorded_by_id_staff")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_visit_staff_id_staff")),
        sa.ForeignKeyConstraint(["station_id"], ["org_unit.id"], name=op.f("fk_visit_station_id_org_unit")),
        sa.ForeignKeyConstraint(
            ["veteran_id"], ["veteran.id"], name=op.f("fk_visit_veteran_id_veteran"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit")),
        sa.UniqueConstraint("campaign_id", "veteran_id", name="uq_visit_campaign_veteran"),
    )
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.create_index("ix_visit_campaign_station_id", ["campaign_id", "station_id", "id"], unique=False)
        batch_op.create_index("ix_visit_staff_id_status", ["staff_id", "status"], unique=False)
        batch_op.create_index("ix_visit_veteran_id", ["veteran_id"], unique=False)

    op.create_table(
        "visit_photo",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("visit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff.id"], name=op.f("fk_visit_photo_created_by_id_staff")),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visit.id"], name=op.f("fk_visit_photo_visit_id_visit"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_photo")),
    )
    with op.batch_alter_table("visit_photo", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visit_photo_visit_id"), ["visit_id"], unique=False)


def downgrade():
    with op.batch_alter_table("visit_photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visit_photo_visit_id"))

    op.drop_table("visit_photo")
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_index("ix_visit_veteran_id")
        batch_op.drop_index("ix_visit_staff_id_status")
        batch_op.drop_index("ix_visit_campaign_station_id")

    op.drop_table("visit")
    with op.batch_alter_table("visit_campaign", schema=None) as batch_op:
        batch_op.drop_index("ix_visit_campaign_unit_id_id")

    op.drop_table("visit_campaign")
