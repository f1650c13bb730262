"""customers: a narrow covering index of the live customers for whole-book figures

The dashboard groups every visible customer by level, region and month of acquisition, and the
warnings summary and service statistics check each warning's or ticket's customer (live, in the
caller's scope). Each of those read the wide customer table in full; this index holds just the
columns they read, for index-only scans.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 19:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = [
    "tenant_id", "id", "customer_level", "region", "assigned_sales_id", "assigned_service_id",
    "acquisition_date", "created_at",
]  # fmt: skip


def upgrade() -> None:
    live = sa.text("deleted_at IS NULL")
    op.create_index("ix_customers_live_book", "customers", COLUMNS, postgresql_where=live, sqlite_where=live)


def downgrade() -> None:
    op.drop_index("ix_customers_live_book", table_name="customers")
