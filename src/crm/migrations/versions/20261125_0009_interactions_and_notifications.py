"""interactions with follow-ups and attachments, in-app notifications

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 08:36:39.323293
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from crm.kit.types import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "file_deletions",
        sa.Column("tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("attachment_id", sa.String(length=32), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_file_deletions_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_deletions")),
    )

    op.create_table(
        "notifications",
        sa.Column("tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.String(length=500), nullable=True),
        sa.Column("object_type", sa.String(length=40), nullable=True),
        sa.Column("object_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("dedupe_key", sa.String(length=100), nullable=False),
        sa.Column("read_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_notifications_customer_id_customers")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_notifications_tenant_id_tenants")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("user_id", "dedupe_key", name=op.f("uq_notifications_user_id_dedupe_key")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_user_unread", ["user_id", "read_at", "id"], unique=False)

    op.create_table(
        "customer_interactions",
        sa.Column("tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "interaction_type",
            sa.Enum(
                "call",
                "email",
                "meeting",
                "visit",
                "wechat",
                "other",
                name="interaction_type",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "interaction_direction",
            sa.Enum("inbound", "outbound", name="interaction_direction", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("interaction_date", UTCDateTime(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "successful",
                "failed",
                "follow_up_needed",
                name="interaction_outcome",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("next_action", sa.String(length=200), nullable=True),
        sa.Column("next_action_date", UTCDateTime(), nullable=True),
        sa.Column("staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "attachments", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "follow_up_status",
            sa.Enum(
                "none",
                "pending",
                "done",
                "cancelled",
                name="follow_up_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("follow_up_done_at", UTCDateTime(), nullable=True),
        sa.Column("reminded_at", UTCDateTime(), nullable=True),
        sa.Column("created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["customer_contacts.id"], name=op.f("fk_customer_interactions_contact_id_customer_contacts")
        ),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_customer_interactions_created_by_users")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_interactions_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["users.id"], name=op.f("fk_customer_interactions_staff_id_users")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_customer_interactions_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_interactions")),
    )
    with op.batch_alter_table("customer_interactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_customer_interactions_customer_date", ["customer_id", "interaction_date"], unique=False
        )
        batch_op.create_index("ix_customer_interactions_interaction_date", ["interaction_date"], unique=False)
        batch_op.create_index(
            "ix_customer_interactions_pending",
            ["tenant_id", "staff_id", "next_action_date"],
            unique=False,
            postgresql_where=sa.text("follow_up_status = 'pending'"),
            sqlite_where=sa.text("follow_up_status = 'pending'"),
        )
        batch_op.create_index("ix_customer_interactions_staff_id", ["staff_id"], unique=False)
        batch_op.create_index(
            "ix_customer_interactions_to_remind",
            ["next_action_date"],
            unique=False,
            postgresql_where=sa.text("follow_up_status = 'pending' AND reminded_at IS NULL"),
            sqlite_where=sa.text("follow_up_status = 'pending' AND reminded_at IS NULL"),
        )


def downgrade() -> None:
    op.drop_table("file_deletions")

    with op.batch_alter_table("customer_interactions", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_customer_interactions_to_remind",
            postgresql_where=sa.text("follow_up_status = 'pending' AND reminded_at IS NULL"),
            sqlite_where=sa.text("follow_up_status = 'pending' AND reminded_at IS NULL"),
        )
        batch_op.drop_index("ix_customer_interactions_staff_id")
        batch_op.drop_index(
            "ix_customer_interactions_pending",
            postgresql_where=sa.text("follow_up_status = 'pending'"),
            sqlite_where=sa.text("follow_up_status = 'pending'"),
        )
        batch_op.drop_index("ix_customer_interactions_interaction_date")
        batch_op.drop_index("ix_customer_interactions_customer_date")

    op.drop_table("customer_interactions")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_user_unread")

    op.drop_table("notifications")
