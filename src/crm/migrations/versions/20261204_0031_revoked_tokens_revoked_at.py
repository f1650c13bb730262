"""revoked_tokens.revoked_at: each API process asks which tokens were revoked since it last looked

The actor of a request now comes from its token and a per-process cache (crm.auth.actors); a
process learns of sign-outs on other processes by asking for the revocations after a time.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-04 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crm.kit.types import UTCDateTime

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("revoked_tokens", sa.Column("revoked_at", UTCDateTime(), nullable=True))
    # Earlier revocations: any time will do, they are in every process's list already or expired.
    op.execute("UPDATE revoked_tokens SET revoked_at = expires_at")
    with op.batch_alter_table("revoked_tokens", schema=None) as batch_op:
        batch_op.alter_column("revoked_at", existing_type=UTCDateTime(), nullable=False)
        batch_op.create_index(batch_op.f("ix_revoked_tokens_revoked_at"), ["revoked_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("revoked_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revoked_tokens_revoked_at"))
        batch_op.drop_column("revoked_at")
