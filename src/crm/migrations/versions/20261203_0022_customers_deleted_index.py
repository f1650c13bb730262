"""customers: a small index of the deleted customers

Tenant-wide figures over warnings and tickets (the warnings summary, the service statistics,
the ticket queue) need only leave out the rows of deleted customers. With this index that is an
anti-join against the few deleted customers, instead of hashing or probing every live one.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    deleted = sa.text("deleted_at IS NOT NULL")
    op.create_index(
        "ix_customers_deleted", "customers", ["tenant_id", "id"], postgresql_where=deleted, sqlite_where=deleted
    )


def downgrade() -> None:
    op.drop_index("ix_customers_deleted", table_name="customers")
