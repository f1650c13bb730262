"""customer_search: tokens for the CJK ideographs beyond the BMP (Extensions B–I and later)

The search tokeniser now treats planes 2 and 3 (𠀀, 𪚥, …) as ideographs; before, they split a
run and gave no token. A row's tokens over its text are exactly those of its stored
``search_text`` (the same texts, normalised, joined by " | "), and the new tokens of a row
include its old ones, so rows whose text holds such a character gain the tokens of that text;
their other tokens (blinded phones and e-mails, the code, the name's prefixes) did not depend
on it and stay. Rows without such a character are untouched. No key is needed.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-04 12:00:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crm.kit import search
from crm.kit.types import TokenList

revision: str = "0027"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000
# The characters this revision starts to tokenise.
ADDED = re.compile("[\U00020000-\U0003ffff]")

SEARCH = sa.table(
    "customer_search",
    sa.column("customer_id", sa.BigInteger()),
    sa.column("search_tokens", TokenList()),
    sa.column("search_text", sa.Text()),
)


def upgrade() -> None:
    conn = op.get_bind()
    last = 0
    while texts := conn.execute(
        sa.select(SEARCH.c.customer_id, SEARCH.c.search_text)
        .where(SEARCH.c.customer_id > last)
        .order_by(SEARCH.c.customer_id)
        .limit(BATCH)
    ).all():
        affected = {row.customer_id: row.search_text for row in texts if ADDED.search(row.search_text)}
        if affected:
            current = conn.execute(
                sa.select(SEARCH.c.customer_id, SEARCH.c.search_tokens).where(SEARCH.c.customer_id.in_(affected))
            ).all()
            conn.execute(
                sa.update(SEARCH).where(SEARCH.c.customer_id == sa.bindparam("id")),
                [
                    {
                        "id": row.customer_id,
                        "search_tokens": sorted(
                            set(row.search_tokens) | set(search.index_tokens([affected[row.customer_id]]))
                        ),
                    }
                    for row in current
                ],
            )
        last = texts[-1].customer_id


def downgrade() -> None:
    """The added tokens are harmless to the earlier tokeniser: its queries never ask for them."""
