"""The one migration chain builds the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from crm.kit.migrate import head_revision, is_up_to_date
from crm.models import Base


def test_the_test_database_is_at_the_head_revision(engine: Engine) -> None:
    assert head_revision() is not None
    assert is_up_to_date(engine)


def test_the_migrations_match_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = [
            d
            for d in compare_metadata(context, Base.metadata)
            # The GIN indexes exist on PostgreSQL only, created by the migration by hand.
            if not (d[0] == "remove_index" and d[1].name in {"ix_customers_search_tokens", "ix_customers_tags"})
        ]
    assert differences == []
