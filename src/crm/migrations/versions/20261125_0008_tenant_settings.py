"""tenant settings, users' extra regions

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 08:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    # Plain ADD COLUMN: SQLite must not rebuild tables that others reference.
    op.add_column("tenants", sa.Column("settings", JSON, server_default="{}", nullable=False))
    op.add_column("users", sa.Column("extra_regions", JSON, server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("extra_regions")
    with op.batch_alter_table("tenants") as batch_op:
        batch_op.drop_column("settings")
