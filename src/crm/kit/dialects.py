"""SQL features that differ between SQLite and PostgreSQL, one small function each."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, String, cast, exists, func, literal, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB


def json_array_contains(column: SQLColumnExpression[Any], value: str, dialect: str) -> ColumnElement[bool]:
    """A JSON array column holds ``value`` (GIN-served ``@>`` on PostgreSQL)."""
    if dialect == "postgresql":
        return type_coerce(column, JSONB).contains(cast(literal([value], JSONB), JSONB))
    each = func.json_each(column).table_valued("value")
    return exists(select(literal(1)).select_from(each).where(cast(each.c.value, String) == value))
