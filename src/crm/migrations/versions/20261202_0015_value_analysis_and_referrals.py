"""daily customer value analysis snapshots; who referred a customer

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 01:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crm.kit.types import Money, UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "customer_value_analysis",
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("analysis_date", sa.Date(), nullable=False),
        sa.Column("total_orders", sa.Integer(), nullable=False),
        sa.Column("total_amount", Money(), nullable=False),
        sa.Column("avg_order_amount", Money(), nullable=False),
        sa.Column("last_order_date", sa.Date(), nullable=True),
        sa.Column("order_frequency", sa.Numeric(precision=7, scale=2), nullable=True),
        sa.Column("customer_lifetime_value", Money(), nullable=True),
        sa.Column("churn_probability", sa.Numeric(precision=5, scale=4), nullable=True),
        sa.Column("satisfaction_score", sa.Numeric(precision=3, scale=2), nullable=True),
        sa.Column("referral_count", sa.Integer(), nullable=False),
        sa.Column("complaint_count", sa.Integer(), nullable=False),
        sa.Column("service_cost", Money(), nullable=False),
        sa.Column("profit_margin", sa.Numeric(precision=7, scale=4), nullable=True),
        sa.Column("annual_spend", Money(), nullable=False),
        sa.Column("potential_value", Money(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_value_analysis_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_customer_value_analysis_tenant_id_tenants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_value_analysis")),
        sa.UniqueConstraint(
            "customer_id", "analysis_date", name=op.f("uq_customer_value_analysis_customer_id_analysis_date")
        ),
    )
    op.create_index("ix_customer_value_analysis_churn_probability", "customer_value_analysis", ["churn_probability"])
    op.create_index("ix_customer_value_analysis_clv", "customer_value_analysis", ["customer_lifetime_value"])
    op.create_index("ix_customer_value_analysis_tenant_date", "customer_value_analysis", ["tenant_id", "analysis_date"])
    # SQLite cannot add a foreign key to an existing table, but can add a column that has one;
    # rebuilding customers (which many tables reference) is what must not happen.
    if op.get_context().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE customers ADD COLUMN referred_by INTEGER "
            "CONSTRAINT fk_customers_referred_by_customers REFERENCES customers (id)"
        )
    else:
        op.add_column("customers", sa.Column("referred_by", sa.BigInteger(), nullable=True))
        op.create_foreign_key(
            op.f("fk_customers_referred_by_customers"), "customers", "customers", ["referred_by"], ["id"]
        )
    op.create_index(
        "ix_customers_referred_by", "customers", ["referred_by"], postgresql_where=sa.text("referred_by IS NOT NULL")
    )


def downgrade() -> None:
    op.drop_index("ix_customers_referred_by", table_name="customers")
    with op.batch_alter_table("customers") as batch_op:
        if op.get_context().dialect.name != "sqlite":
            batch_op.drop_constraint("fk_customers_referred_by_customers", type_="foreignkey")
        batch_op.drop_column("referred_by")
    op.drop_index("ix_customer_value_analysis_tenant_date", table_name="customer_value_analysis")
    op.drop_index("ix_customer_value_analysis_clv", table_name="customer_value_analysis")
    op.drop_index("ix_customer_value_analysis_churn_probability", table_name="customer_value_analysis")
    op.drop_table("customer_value_analysis")
