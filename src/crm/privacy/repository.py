"""Queries of data-subject erasure that reach across the tenant's tables."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import Column, ColumnElement, CursorResult, String, Table, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from crm.kit.dialects import regexp_replace_all
from crm.kit.redaction import MARKER, Needles
from crm.models import AuditLog


def past_values(
    session: Session, tenant_id: int, objects: list[tuple[str, list[int]]], fields: Collection[str]
) -> set[str]:
    """Every value ``fields`` held, as the audit trail of ``objects`` recorded it (a renamed
    customer's former names, say): the person may be mentioned under any of them."""
    about = [(AuditLog.object_type == kind) & AuditLog.object_id.in_(ids) for kind, ids in objects if ids]
    if not about:
        return set()
    found: set[str] = set()
    for changes in session.scalars(
        select(AuditLog.changes).where(AuditLog.tenant_id == tenant_id, AuditLog.changes.is_not(None), or_(*about))
    ):
        for field, change in (changes or {}).items():
            if field in fields and isinstance(change, dict):
                found.update(v for v in change.values() if isinstance(v, str))
    return found


def _blanked(column: Column[Any], needles: Needles) -> ColumnElement[Any]:
    replaced: ColumnElement[Any] = regexp_replace_all(column, needles.pattern, MARKER)
    length = column.type.length if isinstance(column.type, String) else None
    # The marker is longer than a short name: cut to the column's length rather than fail.
    return func.substr(replaced, 1, length) if length else replaced


def _moved_on(table: Table) -> dict[str, Any]:
    """A changed row's version moves on, so an edit based on what was read before is refused."""
    return {"version": table.c.version + 1} if "version" in table.c else {}


def blank_text(
    session: Session, table: Table, columns: list[Column[Any]], where: ColumnElement[bool], needles: Needles
) -> int:
    """One UPDATE: in the rows ``where`` selects, the identifiers in ``columns`` replaced by the
    marker and the rest of each text kept. Returns the rows changed."""
    if not columns or not needles:
        return 0
    changed = or_(*(and_(needles.mentioned(c), regexp_replace_all(c, needles.pattern, MARKER) != c) for c in columns))
    statement = (
        update(table)
        .where(where, changed)
        .values({c.name: _blanked(c, needles) for c in columns} | _moved_on(table))
        .execution_options(synchronize_session=False)
    )
    result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
    return result.rowcount


def blank_json(
    session: Session, table: Table, column: Column[Any], where: ColumnElement[bool], needles: Needles
) -> int:
    """The identifiers blanked in the strings of a JSON column, in the rows ``where`` selects.

    Only rows whose JSON text may hold an identifier are read; the values are rewritten here,
    where the JSON structure is known (a phone stored as a number becomes a string), and
    written back with one UPDATE.
    """
    if not needles:
        return 0
    (key,) = table.primary_key.columns
    candidates = session.execute(select(key, column).where(where, needles.mentioned(column, json_text=True)))
    rows = [{"_key": k, "_value": blanked} for k, value in candidates if (blanked := needles.value(value)) != value]
    if rows:
        statement = (
            update(table)
            .where(key == bindparam("_key"))
            .values({column.name: bindparam("_value", type_=column.type)} | _moved_on(table))
            .execution_options(synchronize_session=False)
        )
        session.connection().execute(statement, rows)
    return len(rows)


def owned_by(table: Table, column_name: str, ids: Iterable[int]) -> ColumnElement[bool] | None:
    """The rows of ``table`` whose ``column_name`` is one of ``ids`` (none if it has no such column)."""
    if column_name not in table.c:
        return None
    return table.c[column_name].in_(list(ids))
