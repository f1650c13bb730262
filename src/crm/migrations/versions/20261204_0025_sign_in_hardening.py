"""sign-in hardening: token generations per user, user names unique per tenant

A user's token generation rises when their password, role or account state changes; tokens of
an earlier generation are refused. User names are unique within a tenant only, so two companies
may both have a zhang.wei; the login names the tenant when the name alone is ambiguous.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_generation", sa.Integer(), server_default="0", nullable=False))
        batch_op.drop_constraint("uq_users_username", type_="unique")
        batch_op.create_unique_constraint("uq_users_tenant_id_username", ["tenant_id", "username"])
        batch_op.create_index("ix_users_username", ["username"], unique=False)


def downgrade() -> None:
    # Fails while two tenants share a user name: which one keeps it is not the migration's call.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_username")
        batch_op.drop_constraint("uq_users_tenant_id_username", type_="unique")
        batch_op.create_unique_constraint("uq_users_username", ["username"])
        batch_op.drop_column("token_generation")
