"""hardship assistance cases (issue 16)

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-26 12:20:00

"""

import sqlalchemy as sa
from alembic import op

import backend.db  # noqa: F401  (UTCDateTime, BigId)

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "assistance_case",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("veteran_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("station_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("description_sealed", sa.Text(), nullable=False),
        sa.Column("notes_sealed", sa.Text(), nullable=True),
        sa.Column("requested_amount_fen", sa.Integer(), nullable=True),
        sa.Column("recommended_amount_fen", sa.Integer(), nullable=True),
        sa.Column("approved_amount_fen", sa.Integer(), nullable=True),
        sa.Column("first_approved_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("approved_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("approved_at", backend.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reject_reason", sa.String(length=500), nullable=True),
        sa.Column("paid_amount_fen", sa.Integer(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("payment_reference", sa.String(length=64), nullable=True),
        sa.Column("funding_source", sa.String(length=10), nullable=True),
        sa.Column("budget_year", sa.Integer(), nullable=True),
        sa.Column("follow_up_sealed", sa.Text(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "category IN ('serious_illness', 'accident', 'disaster', 'family_emergency', 'other')",
            name=op.f("ck_assistance_case_category_known"),
        ),
        sa.CheckConstraint(
            "funding_source IS NULL OR funding_source IN ('central', 'local')",
            name=op.f("ck_assistance_case_funding_known"),
        ),
        sa.CheckConstraint(
            "status IN ('submitted', 'under_review', 'recommended', 'approved', 'rejected', 'paid', 'closed')",
            name=op.f("ck_assistance_case_status_known"),
        ),
        sa.CheckConstraint(
            "approved_amount_fen IS NULL OR approved_amount_fen > 0", name=op.f("ck_assistance_case_approved_positive")
        ),
        sa.CheckConstraint(
            "paid_amount_fen IS NULL OR paid_amount_fen > 0", name=op.f("ck_assistance_case_paid_positive")
        ),
        sa.CheckConstraint(
            "requested_amount_fen IS NULL OR requested_amount_fen >= 0",
            name=op.f("ck_assistance_case_requested_not_negative"),
        ),
        sa.ForeignKeyConstraint(["approved_by_id"], ["staff.id"], name=op.f("fk_assistance_case_approved_by_id_staff")),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff.id"], name=op.f("fk_assistance_case_created_by_id_staff")),
        sa.ForeignKeyConstraint(
            ["first_approved_by_id"], ["staff.id"], name=op.f("fk_assistance_case_first_approved_by_id_staff")
        ),
        sa.ForeignKeyConstraint(["station_id"], ["org_unit.id"], name=op.f("fk_assistance_case_station_id_org_unit")),
        sa.ForeignKeyConstraint(
            ["veteran_id"], ["veteran.id"], name=op.f("fk_assistance_case_veteran_id_veteran"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistance_case")),
    )
    with op.batch_alter_table("assistance_case", schema=None) as batch_op:
        batch_op.create_index("ix_assistance_case_budget_year", ["budget_year", "funding_source"], unique=False)
        batch_op.create_index("ix_assistance_case_station_id_id", ["station_id", "id"], unique=False)
        batch_op.create_index("ix_assistance_case_veteran_id_id", ["veteran_id", "id"], unique=False)

    op.create_table(
        "assistance_attachment",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["assistance_case.id"],
            name=op.f("fk_assistance_attachment_case_id_assistance_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistance_attachment")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_assistance_attachment_stored_name")),
    )
    with op.batch_alter_table("assistance_attachment", schema=None) as batch_op:
        batch_op.create_index("ix_assistance_attachment_case_id", ["case_id"], unique=False)

    op.create_table(
        "assistance_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("occurred_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("amount_fen", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["assistance_case.id"],
            name=op.f("fk_assistance_event_case_id_assistance_case"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_assistance_event_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistance_event")),
    )
    with op.batch_alter_table("assistance_event", schema=None) as batch_op:
        batch_op.create_index("ix_assistance_event_case_id_id", ["case_id", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("assistance_event", schema=None) as batch_op:
        batch_op.drop_index("ix_assistance_event_case_id_id")

    op.drop_table("assistance_event")
    with op.batch_alter_table("assistance_attachment", schema=None) as batch_op:
        batch_op.drop_index("ix_assistance_attachment_case_id")

    op.drop_table("assistance_attachment")
    with op.batch_alter_table("assistance_case", schema=None) as batch_op:
        batch_op.drop_index("ix_assistance_case_veteran_id_id")
        batch_op.drop_index("ix_assistance_case_station_id_id")
        batch_op.drop_index("ix_assistance_case_budget_year")

    op.drop_table("assistance_case")
