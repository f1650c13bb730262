"""service records (tickets) of the service desk

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 09:04:21.678298
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from crm.kit.types import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "customer_service_records",
        sa.Column("tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("contact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "service_type",
            sa.Enum(
                "consultation",
                "complaint",
                "technical_support",
                "after_sales",
                "other",
                name="service_type",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "priority",
            sa.Enum(
                "low", "medium", "high", "urgent", name="ticket_priority", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "in_progress",
                "resolved",
                "closed",
                "cancelled",
                name="ticket_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("assigned_staff_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_date", UTCDateTime(), nullable=False),
        sa.Column("first_response_date", UTCDateTime(), nullable=True),
        sa.Column("resolved_date", UTCDateTime(), nullable=True),
        sa.Column("closed_date", UTCDateTime(), nullable=True),
        sa.Column("cancelled_date", UTCDateTime(), nullable=True),
        sa.Column("satisfaction_rating", sa.Integer(), nullable=True),
        sa.Column("satisfaction_feedback", sa.Text(), nullable=True),
        sa.Column("escalated", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("escalation_reason", sa.String(length=200), nullable=True),
        sa.Column("escalated_at", UTCDateTime(), nullable=True),
        sa.Column(
            "tags", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("reopened_count", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_staff_id"], ["users.id"], name=op.f("fk_customer_service_records_assigned_staff_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["customer_contacts.id"],
            name=op.f("fk_customer_service_records_contact_id_customer_contacts"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_customer_service_records_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_service_records_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_customer_service_records_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_service_records")),
    )
    with op.batch_alter_table("customer_service_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_customer_service_records_assigned_staff", ["assigned_staff_id", "status"], unique=False
        )
        batch_op.create_index("ix_customer_service_records_created_date", ["tenant_id", "created_date"], unique=False)
        batch_op.create_index("ix_customer_service_records_customer_id", ["customer_id"], unique=False)
        batch_op.create_index(
            "ix_customer_service_records_open_work",
            ["assigned_staff_id", "priority"],
            unique=False,
            postgresql_where=sa.text("status IN ('open', 'in_progress')"),
            sqlite_where=sa.text("status IN ('open', 'in_progress')"),
        )
        batch_op.create_index(
            "ix_customer_service_records_tenant_status", ["tenant_id", "status", "priority"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("customer_service_records", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_service_records_tenant_status")
        batch_op.drop_index(
            "ix_customer_service_records_open_work",
            postgresql_where=sa.text("status IN ('open', 'in_progress')"),
            sqlite_where=sa.text("status IN ('open', 'in_progress')"),
        )
        batch_op.drop_index("ix_customer_service_records_customer_id")
        batch_op.drop_index("ix_customer_service_records_created_date")
        batch_op.drop_index("ix_customer_service_records_assigned_staff")

    op.drop_table("customer_service_records")
