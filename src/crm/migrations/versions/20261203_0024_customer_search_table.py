"""customer_search: the search tokens and text move from customers to a table of their own

An update of any indexed column of a customer (its level, by the nightly regrade) writes a new
entry into every index of the row, the GIN index over its ~50 search tokens among them, which
was most of the regrade's work. In a row of their own the tokens are written only when the name
or the contacts change.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-03 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crm.kit.types import TokenList

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_INDEX, NEW_INDEX = "ix_customers_search_tokens", "ix_customer_search_tokens"


def _create_gin_index() -> None:
    # Without the pending list, searches cost the same right after writes as after a vacuum.
    op.create_index(
        NEW_INDEX, "customer_search", ["search_tokens"], postgresql_using="gin", postgresql_with={"fastupdate": "off"}
    )


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "customer_search",
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("search_tokens", TokenList(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_search_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_search")),
    )
    op.execute(
        "INSERT INTO customer_search (customer_id, search_tokens, search_text) "
        "SELECT id, search_tokens, search_text FROM customers"
    )
    if postgresql:
        _create_gin_index()
        op.drop_index(OLD_INDEX, table_name="customers")
    # A plain ALTER TABLE … DROP COLUMN on both databases: SQLite (3.35 and later) must not
    # rebuild customers, which other tables reference.
    op.execute("ALTER TABLE customers DROP COLUMN search_text")
    op.execute("ALTER TABLE customers DROP COLUMN search_tokens")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    empty = sa.text("'{}'" if postgresql else "''")
    op.add_column("customers", sa.Column("search_tokens", TokenList(), nullable=False, server_default=empty))
    op.add_column("customers", sa.Column("search_text", sa.Text(), nullable=False, server_default=sa.text("''")))
    op.execute(
        "UPDATE customers SET search_tokens = s.search_tokens, search_text = s.search_text "
        "FROM customer_search AS s WHERE s.customer_id = customers.id"
    )
    if postgresql:
        op.create_index(
            OLD_INDEX,
            "customers",
            ["search_tokens"],
            postgresql_using="gin",
            postgresql_where=sa.text("deleted_at IS NULL"),
            postgresql_with={"fastupdate": "off"},
        )
    op.drop_table("customer_search")
