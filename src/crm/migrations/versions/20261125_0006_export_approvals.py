"""approval requests without a customer (large exports)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 08:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("approval_requests") as batch_op:
        batch_op.alter_column(
            "customer_id", existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        )


def downgrade() -> None:
    op.execute("DELETE FROM approval_requests WHERE customer_id IS NULL")
    with op.batch_alter_table("approval_requests") as batch_op:
        batch_op.alter_column(
            "customer_id", existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        )
