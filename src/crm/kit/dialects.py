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


@contextmanager
def index_scans_only(session: Session) -> Iterator[None]:
    """Keep PostgreSQL off sequential scans for the statements inside.

    Token containment is estimated as if tokens were independent, so the planner can take a
    keyword for a common one and read the table from the start hoping to fill a LIMIT soon,
    which for a rare keyword means reading every row. The GIN index answers both cases
    within a page's worth of work, so for keyword statements it is the only plan allowed.
    """
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    session.execute(text("SET LOCAL enable_seqscan = off"))
    try:
        yield
    finally:
        session.execute(text("SET LOCAL enable_seqscan = on"))


@contextmanager
def bitmap_scans(session: Session, *, allowed: bool) -> Iterator[None]:
    """Allow or forbid PostgreSQL's bitmap scans for the statements inside."""
    if allowed or session.get_bind().dialect.name != "postgresql":
        yield
        return
    session.execute(text("SET LOCAL enable_bitmapscan = off"))
    try:
        yield
    finally:
        session.execute(text("SET LOCAL enable_bitmapscan = on"))
