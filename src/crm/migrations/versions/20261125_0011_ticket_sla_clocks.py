"""SLA clocks of tickets: due and at-risk moments of the first response and the resolution

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 09:18:50.831228
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crm.kit.types import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN: SQLite must not rebuild a table that others reference.
    for column in ("first_response_due", "first_response_risk_at", "resolution_due", "resolution_risk_at"):
        op.add_column("customer_service_records", sa.Column(column, UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customer_service_records") as batch_op:
        for column in ("resolution_risk_at", "resolution_due", "first_response_risk_at", "first_response_due"):
            batch_op.drop_column(column)
