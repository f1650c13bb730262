"""value snapshots without per-row foreign-key checks or the clv and churn_probability indexes

The nightly refresh writes one snapshot per customer, every row from an INSERT … SELECT over
the live customers themselves, so each row's customer and tenant exist by construction, and
customers are never deleted (erasure anonymises them in place). Checking each row's two foreign
keys anyway is a large share of the INSERT (each check also locks the customer's row), and the
two single-column indexes on figures no query reads by cost more still.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 08:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "customer_value_analysis"


def upgrade() -> None:
    op.drop_index("ix_customer_value_analysis_clv", table_name=TABLE)
    op.drop_index("ix_customer_value_analysis_churn_probability", table_name=TABLE)
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_constraint("fk_customer_value_analysis_customer_id_customers", type_="foreignkey")
        batch.drop_constraint("fk_customer_value_analysis_tenant_id_tenants", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.create_foreign_key("fk_customer_value_analysis_tenant_id_tenants", "tenants", ["tenant_id"], ["id"])
        batch.create_foreign_key(
            "fk_customer_value_analysis_customer_id_customers", "customers", ["customer_id"], ["id"]
        )
    op.create_index("ix_customer_value_analysis_churn_probability", TABLE, ["churn_probability"])
    op.create_index("ix_customer_value_analysis_clv", TABLE, ["customer_lifetime_value"])
