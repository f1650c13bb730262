"""Record the SQL an operation really runs, and explain it, to check query plans."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, event


@contextmanager
def captured_sql(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def explain_all(
    connection: Connection, statements: list[tuple[str, Any]], keep: Callable[[str], bool], analyze: bool = False
) -> list[tuple[str, str]]:
    """(statement, plan) for each recorded SELECT that ``keep`` selects.

    Recorded SET statements are replayed in order, so each plan is made under the settings
    the statement really ran with.
    """
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if analyze else "EXPLAIN "
    plans = []
    for statement, parameters in statements:
        if statement.lstrip().upper().startswith("SET "):
            connection.exec_driver_sql(statement, parameters)
        elif statement.lstrip().upper().startswith("SELECT") and keep(statement):
            rows = connection.exec_driver_sql(prefix + statement, parameters)
            plans.append((statement, "\n".join(row[0] for row in rows)))
    return plans
