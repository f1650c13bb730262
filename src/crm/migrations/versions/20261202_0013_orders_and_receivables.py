"""orders from the order system, receivables from finance, the source of an interaction

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 01:14:02.214310
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crm.kit.types import Money, UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ORDER_STATUSES = ("created", "paid", "shipped", "completed", "cancelled", "refunded")


def upgrade() -> None:
    op.create_table(
        "customer_orders",
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("order_no", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(*ORDER_STATUSES, name="order_status", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("order_date", UTCDateTime(), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("cost", Money(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("source_updated_at", UTCDateTime(), nullable=True),
        sa.Column("status_changed_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_orders_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_customer_orders_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_orders")),
        sa.UniqueConstraint("tenant_id", "order_no", name=op.f("uq_customer_orders_tenant_id_order_no")),
    )
    op.create_index("ix_customer_orders_customer_date", "customer_orders", ["customer_id", "order_date"])
    op.create_index("ix_customer_orders_tenant_date", "customer_orders", ["tenant_id", "order_date"])

    op.create_table(
        "customer_order_items",
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("order_id", ID, nullable=False),
        sa.Column("product_code", sa.String(length=64), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("amount", Money(), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["customer_orders.id"],
            name=op.f("fk_customer_order_items_order_id_customer_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_customer_order_items_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_order_items")),
    )
    op.create_index("ix_customer_order_items_order_id", "customer_order_items", ["order_id"])

    op.create_table(
        "customer_receivables",
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("amount_due", Money(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("overdue_days", sa.Integer(), nullable=False),
        sa.Column("reported_at", UTCDateTime(), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_receivables_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_customer_receivables_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_receivables")),
        sa.UniqueConstraint("tenant_id", "reference", name=op.f("uq_customer_receivables_tenant_id_reference")),
    )
    op.create_index("ix_customer_receivables_customer", "customer_receivables", ["customer_id", "due_date"])

    # A plain ADD COLUMN with its CHECK inline: SQLite must not rebuild a table of millions of rows.
    op.execute(
        "ALTER TABLE customer_interactions ADD COLUMN source VARCHAR(5) DEFAULT 'staff' NOT NULL "
        "CONSTRAINT ck_customer_interactions_interaction_source CHECK (source IN ('staff', 'order'))"
    )


def downgrade() -> None:
    with op.batch_alter_table("customer_interactions") as batch_op:
        batch_op.drop_column("source")
    op.drop_index("ix_customer_receivables_customer", table_name="customer_receivables")
    op.drop_table("customer_receivables")
    op.drop_index("ix_customer_order_items_order_id", table_name="customer_order_items")
    op.drop_table("customer_order_items")
    op.drop_index("ix_customer_orders_tenant_date", table_name="customer_orders")
    op.drop_index("ix_customer_orders_customer_date", table_name="customer_orders")
    op.drop_table("customer_orders")
