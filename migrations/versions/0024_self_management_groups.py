"""self-management groups (issue 16)

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-26 12:20:00

"""

import sqlalchemy as sa
from alembic import op

import backend.db  # noqa: F401  (UTCDateTime, BigId)

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "self_group",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("station_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("leader_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("political_standing", sa.String(length=200), nullable=True),
        sa.Column("health", sa.String(length=200), nullable=True),
        sa.Column("experience", sa.String(length=200), nullable=True),
        sa.Column("ability", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["staff.id"], name=op.f("fk_self_group_created_by_id_staff")),
        sa.ForeignKeyConstraint(
            ["leader_id"], ["veteran.id"], name=op.f("fk_self_group_leader_id_veteran"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["station_id"], ["org_unit.id"], name=op.f("fk_self_group_station_id_org_unit")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_group")),
        sa.UniqueConstraint("station_id", "name", name="uq_self_group_station_name"),
    )
    with op.batch_alter_table("self_group", schema=None) as batch_op:
        batch_op.create_index("ix_self_group_leader_id", ["leader_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_self_group_station_id"), ["station_id"], unique=False)

    op.create_table(
        "self_group_activity",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("station_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("notes", sa.String(length=1000), nullable=True),
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("participants BETWEEN 0 AND 10000", name=op.f("ck_self_group_activity_participants_range")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["staff.id"], name=op.f("fk_self_group_activity_created_by_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["self_group.id"], name=op.f("fk_self_group_activity_group_id_self_group"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["org_unit.id"], name=op.f("fk_self_group_activity_station_id_org_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_group_activity")),
    )
    with op.batch_alter_table("self_group_activity", schema=None) as batch_op:
        batch_op.create_index("ix_self_group_activity_group_held_on", ["group_id", "held_on", "id"], unique=False)

    op.create_table(
        "self_group_member",
        sa.Column("group_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("veteran_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("added_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", backend.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["added_by_id"], ["staff.id"], name=op.f("fk_self_group_member_added_by_id_staff")),
        sa.ForeignKeyConstraint(
            ["group_id"], ["self_group.id"], name=op.f("fk_self_group_member_group_id_self_group"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["veteran_id"], ["veteran.id"], name=op.f("fk_self_group_member_veteran_id_veteran"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("group_id", "veteran_id", name=op.f("pk_self_group_member")),
    )
    with op.batch_alter_table("self_group_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_self_group_member_veteran_id"), ["veteran_id"], unique=False)


def downgrade():
    with op.batch_alter_table("self_group_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_self_group_member_veteran_id"))

    op.drop_table("self_group_member")
    with op.batch_alter_table("self_group_activity", schema=None) as batch_op:
        batch_op.drop_index("ix_self_group_activity_group_held_on")

    op.drop_table("self_group_activity")
    with op.batch_alter_table("self_group", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_self_group_station_id"))
        batch_op.drop_index("ix_self_group_leader_id")

    op.drop_table("self_group")
