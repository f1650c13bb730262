"""RFM figures and quintile scores on value analysis snapshots

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("recency_days", "orders_12m", "r_score", "f_score", "m_score")


def upgrade() -> None:
    op.add_column("customer_value_analysis", sa.Column("recency_days", sa.Integer(), nullable=True))
    op.add_column("customer_value_analysis", sa.Column("orders_12m", sa.Integer(), nullable=False, server_default="0"))
    for score in ("r_score", "f_score", "m_score"):
        op.add_column("customer_value_analysis", sa.Column(score, sa.SmallInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customer_value_analysis") as batch_op:
        for column in reversed(COLUMNS):
            batch_op.drop_column(column)
