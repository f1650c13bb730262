"""saved views of list screens, per user

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crm.kit.types import JSONType, UTCDateTime

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PAGES = ("customers",)


def _enum(values: tuple[str, ...], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True)


def upgrade() -> None:
    op.create_table(
        "saved_views",
        sa.Column("tenant_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("page", _enum(PAGES, "saved_view_page"), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("definition", JSONType, nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_saved_views_tenant_id_tenants")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_saved_views_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_views")),
        sa.UniqueConstraint("user_id", "page", "name", name=op.f("uq_saved_views_user_id_page_name")),
    )
    default = sa.text("is_default")
    op.create_index(
        "uq_saved_views_default",
        "saved_views",
        ["user_id", "page"],
        unique=True,
        postgresql_where=default,
        sqlite_where=default,
    )


def downgrade() -> None:
    op.drop_index("uq_saved_views_default", table_name="saved_views")
    op.drop_table("saved_views")
