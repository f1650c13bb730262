"""pending follow-ups of a team by due date

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 02:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_customer_interactions_pending_due",
        "customer_interactions",
        ["tenant_id", "next_action_date"],
        postgresql_where=sa.text("follow_up_status = 'pending'"),
        sqlite_where=sa.text("follow_up_status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_customer_interactions_pending_due", table_name="customer_interactions")
