"""SQL features that differ between SQLite and PostgreSQL, one small function each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    ColumnElement,
    SQLColumnExpression,
    String,
    cast,
    exists,
    func,
    literal,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session


def json_array_contains(column: SQLColumnExpression[Any], value: str, dialect: str) -> ColumnElement[bool]:
    """A JSON array column holds ``value`` (GIN-served ``@>`` on PostgreSQL)."""
    if dialect == "postgresql":
        return type_coerce(column, JSONB).contains(cast(literal([value], JSONB), JSONB))
    each = func.json_each(column).table_valued("value")
    return exists(select(literal(1)).select_from(each).where(cast(each.c.value, String) == value))


_PLAN_METHODS = {"seqscan", "indexscan", "bitmapscan", "indexonlyscan", "sort", "hashjoin", "nestloop"}


@contextmanager
def planner_methods(session: Session, **enabled: bool) -> Iterator[None]:
    """Switch PostgreSQL plan methods (``seqscan=False``, ``bitmapscan=False``) for the statements inside.

    Token containment is estimated as if tokens were independent, so for keywords the
    planner misjudges how many rows match in both directions; where the application knows
    better (see CustomerRepository.keyword_page), it says which plan to use. SQLite has no
    such choices and ignores this.
    """
    unknown = set(enabled) - _PLAN_METHODS
    if unknown:
        raise ValueError(f"unknown plan methods: {sorted(unknown)}")
    switches = [name for name, on in enabled.items() if not on]
    if not switches or session.get_bind().dialect.name != "postgresql":
        yield
        return
    for name in switches:
        session.execute(text(f"SET LOCAL enable_{name} = off"))
    try:
        yield
    finally:
        for name in switches:
            session.execute(text(f"SET LOCAL enable_{name} = on"))
