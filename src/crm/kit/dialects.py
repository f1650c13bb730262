"""SQL features that differ between SQLite and PostgreSQL, one small function each."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Date,
    Float,
    Integer,
    MetaData,
    Numeric,
    Select,
    SQLColumnExpression,
    String,
    Table,
    cast,
    exists,
    func,
    literal,
    literal_column,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement, Executable, FunctionElement


def json_array_contains(column: SQLColumnExpression[Any], value: str, dialect: str) -> ColumnElement[bool]:
    """A JSON array column holds ``value`` (GIN-served ``@>`` on PostgreSQL)."""
    if dialect == "postgresql":
        return type_coerce(column, JSONB).contains(cast(literal([value], JSONB), JSONB))
    each = func.json_each(column).table_valued("value")
    return exists(select(literal(1)).select_from(each).where(cast(each.c.value, String) == value))


def upsert_insert(table: Any, dialect: str) -> Any:
    """An INSERT into ``table`` that takes ``on_conflict_do_update`` / ``_do_nothing``: both
    databases have ON CONFLICT, each with its own SQLAlchemy construct."""
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


_PLAN_METHODS = {
    "seqscan", "indexscan", "bitmapscan", "indexonlyscan", "sort", "hashagg", "hashjoin", "nestloop", "parallel",
    "generic_plan",
}  # fmt: skip


def _switch(name: str, on: bool) -> str:
    if name == "parallel":  # not an enable_* switch: no workers for the statements inside
        return "SET LOCAL max_parallel_workers_per_gather TO " + ("DEFAULT" if on else "0")
    if name == "generic_plan":  # prepared statements planned for each execution's parameters
        return "SET LOCAL plan_cache_mode TO " + ("DEFAULT" if on else "force_custom_plan")
    return f"SET LOCAL enable_{name} = " + ("on" if on else "off")


@contextmanager
def planner_methods(session: Session, **enabled: bool) -> Iterator[None]:
    """Switch PostgreSQL plan methods (``seqscan=False``, ``bitmapscan=False``) for the statements inside.

    ``parallel=False`` plans without parallel workers: for a query that reads a few hundred
    rows, starting a worker costs more than the work it would share.

    ``generic_plan=False`` plans each execution of a prepared statement for its parameters.
    psycopg prepares a statement on its fifth execution, and PostgreSQL may then settle on a
    generic plan, one for any parameters: for a skewed column such as the customer level it
    takes ``= $1`` to match a quarter of the rows, and counting the few A customers became a
    sequential scan from the tenth request on. Not the default: planning every statement anew
    costs the profile read and the searches a noticeable share of each request.

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
    connection = session.connection()
    # One round trip: the switches, after any restore still owed, as one simple-protocol statement list.
    owed = connection.info.pop(PLANNER_RESTORE, [])
    connection.exec_driver_sql("; ".join([*owed, *(_switch(name, False) for name in switches)]))
    yield  # after an error the transaction's rollback undoes the switches, SET LOCAL being local
    # Restored before the transaction's next statement, if it has one (see restore_planner): a
    # request whose last statement this was pays no round trip for it.
    connection.info[PLANNER_RESTORE] = [_switch(name, True) for name in switches]


_MEMORY = re.compile(r"^[1-9][0-9]{0,6}(kB|MB|GB)$")


@contextmanager
def statement_resources(session: Session, *, work_mem: str | None = None, jit: bool | None = None) -> Iterator[None]:
    """PostgreSQL memory per sort or hash (``work_mem``, e.g. ``"64MB"``) and JIT compilation for
    the statements inside; back to the defaults after them. SQLite has no such settings."""
    if work_mem is not None and not _MEMORY.match(work_mem):
        raise ValueError(f"not a memory size: {work_mem!r}")
    changes = ([f"SET LOCAL work_mem = '{work_mem}'"] if work_mem else []) + (
        [f"SET LOCAL jit = {'on' if jit else 'off'}"] if jit is not None else []
    )
    if not changes or session.get_bind().dialect.name != "postgresql":
        yield
        return
    session.connection().exec_driver_sql("; ".join(changes))
    yield
    # Not in a finally: after an error the transaction is aborted (and rolled back, settings
    # with it), and a SET would only hide the error behind "current transaction is aborted".
    restore = (["SET LOCAL work_mem TO DEFAULT"] if work_mem else []) + (
        ["SET LOCAL jit TO DEFAULT"] if jit is not None else []
    )
    session.connection().exec_driver_sql("; ".join(restore))


def lock_against_writers(session: Session, table_name: str) -> None:
    """Until commit, keep other transactions from writing the table (they may still read it).
    SQLite has one writer at a time anyway."""
    if not table_name.isidentifier():
        raise ValueError(f"not a table name: {table_name!r}")
    if session.get_bind().dialect.name == "postgresql":
        session.connection().exec_driver_sql(f"LOCK TABLE {table_name} IN SHARE ROW EXCLUSIVE MODE")


def counts_by_each(session: Session, rows: Select[Any], *columns: Any) -> Iterator[tuple[int, Any, int]]:
    """Count ``rows`` by each of ``columns`` separately, in one pass: (column's position, value, count).

    On PostgreSQL by GROUPING SETS; SQLite has none, so it groups by all the columns at once and
    the counts are summed here (fine while the combinations are few).
    """
    if session.get_bind().dialect.name == "postgresql":
        # GROUPING(a, b, c) sets a bit for each column a row is not grouped by.
        every = (1 << len(columns)) - 1
        position = {every ^ (1 << (len(columns) - 1 - i)): i for i in range(len(columns))}
        stmt = rows.with_only_columns(func.grouping(*columns), *columns, func.count()).group_by(
            func.grouping_sets(*columns)
        )
        for bits, *values, count in session.execute(stmt):
            i = position[bits]
            yield i, values[i], count
        return
    totals: dict[tuple[int, Any], int] = {}
    for *values, count in session.execute(rows.with_only_columns(*columns, func.count()).group_by(*columns)):
        for i, value in enumerate(values):
            totals[i, value] = totals.get((i, value), 0) + count
    for (i, value), count in totals.items():
        yield i, value, count


PLANNER_RESTORE = "crm.planner_restore"


def restore_planner(_conn: Any, cursor: Any, _statement: str, _parameters: Any, _context: Any, _many: bool) -> None:
    """Engine hook (before_cursor_execute): put the plan methods back before the next statement."""
    owed = _conn.info.pop(PLANNER_RESTORE, None)
    if owed:
        # On a cursor of its own: the statement's may be a server-side one (streamed results).
        cursor.connection.execute("; ".join(owed))


def local_month(column: SQLColumnExpression[Any], timezone: str, dialect: str) -> ColumnElement[str]:
    """'YYYY-MM' of a UTC timestamp column in ``timezone`` (a business month).

    SQLite has no time zones: the zone's current UTC offset is applied, which is exact for
    zones without daylight saving time such as Asia/Shanghai.
    """
    if dialect == "postgresql":
        return func.to_char(func.timezone(timezone, column), "YYYY-MM")
    offset = datetime.now(ZoneInfo(timezone)).utcoffset() or timedelta(0)
    return func.strftime("%Y-%m", column, f"{int(offset.total_seconds() // 60):+d} minutes")


def percentile_by(session: Session, rows: Select[Any], fraction: float) -> dict[Any, float]:
    """The ``fraction`` percentile of ``value`` per ``key``, for a SELECT of (key, value) columns.

    Interpolated between the closest ranks like PostgreSQL's ``percentile_cont``, which does it
    there; SQLite has no percentile aggregate, so its values are read in order and interpolated
    here, with the same definition.
    """
    sub = rows.subquery()
    key, value = sub.c.key, sub.c.value
    if session.get_bind().dialect.name == "postgresql":
        found = session.execute(
            select(key, func.percentile_cont(fraction).within_group(value)).where(value.is_not(None)).group_by(key)
        )
        return {k: float(v) for k, v in found}
    result: dict[Any, float] = {}
    ordered = session.execute(select(key, value).where(value.is_not(None)).order_by(key, value))
    for k, group in groupby(ordered, key=lambda row: row[0]):
        values = [float(row[1]) for row in group]
        position = fraction * (len(values) - 1)
        low = int(position)
        high = min(low + 1, len(values) - 1)
        result[k] = values[low] + (values[high] - values[low]) * (position - low)
    return result


def money_unit(dialect: str) -> int:
    """How many stored units make one yuan: Money is integer fen on SQLite, NUMERIC yuan elsewhere.

    SQL that computes money inside the database (set-based jobs) works in stored units, so it
    multiplies constants by this and writes results with ``money_result``.
    """
    return 100 if dialect == "sqlite" else 1


def money_result(expression: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """A computed amount in stored units, rounded as the Money column stores it."""
    if dialect == "sqlite":
        return cast(func.round(expression), Integer)
    return rounded(expression, 2, dialect)


def as_real(expression: ColumnElement[Any]) -> ColumnElement[float]:
    """A number divided without integer truncation (SQLite divides integers as integers)."""
    return cast(expression, Float)


def days_between(later: Any, earlier: Any, dialect: str) -> ColumnElement[Any]:
    """Days (fractional) from ``earlier`` to ``later``, two UTC timestamps."""
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier) / 86400.0
    return func.julianday(later) - func.julianday(earlier)


def days_between_dates(later: date, earlier: Any, dialect: str) -> ColumnElement[Any]:
    """Whole days from the date column ``earlier`` to the date ``later``."""
    if dialect == "postgresql":
        difference: ColumnElement[Any] = literal(later, Date) - earlier
        return difference
    return cast(func.julianday(literal(later.isoformat())) - func.julianday(earlier), Integer)


def local_date(column: Any, timezone: str, dialect: str) -> ColumnElement[Any]:
    """The business date of a UTC timestamp in ``timezone`` (see local_month for SQLite's offset)."""
    if dialect == "postgresql":
        return cast(func.timezone(timezone, column), Date)
    offset = datetime.now(ZoneInfo(timezone)).utcoffset() or timedelta(0)
    return func.date(column, f"{int(offset.total_seconds() // 60):+d} minutes")


def greatest(first: Any, second: Any, dialect: str) -> ColumnElement[Any]:
    """The larger of two values (SQLite's two-argument max() is scalar)."""
    return func.greatest(first, second) if dialect == "postgresql" else func.max(first, second)


def least(first: Any, second: Any, dialect: str) -> ColumnElement[Any]:
    """The smaller of two values (SQLite's two-argument min() is scalar)."""
    return func.least(first, second) if dialect == "postgresql" else func.min(first, second)


def rounded(expression: Any, places: int, dialect: str) -> ColumnElement[Any]:
    """ROUND to ``places`` decimals, halves away from zero, as NUMERIC.

    PostgreSQL rounds to places only NUMERIC, and converting a float to NUMERIC prints and
    parses it, which the nightly refresh would pay for every row and figure.
    So the float is scaled to an integer with two digits more than kept, which is cheap to
    convert, and NUMERIC rounds those two digits away: 1.005 (stored as 1.00499999…) still
    gives 1.01, as the text conversion did.
    """
    if dialect == "postgresql":
        step = literal_column(format(Decimal(1).scaleb(-(places + 2)), "f"), Numeric)
        scaled = cast(cast(expression * float(10 ** (places + 2)), BigInteger), Numeric)
        return func.round(scaled * step, places)
    return func.round(cast(expression, Numeric(30, 10)), places)


def money_text(expression: Any, dialect: str) -> ColumnElement[str]:
    """A stored amount as text with two decimals, for messages written by SQL ("523000.00")."""
    if dialect == "sqlite":
        return func.printf("%.2f", cast(expression, Float) / 100.0)
    return cast(cast(expression, Numeric(15, 2)), String)


def floor_int(expression: Any, dialect: str) -> ColumnElement[int]:
    """A non-negative number rounded down to an integer (SQLite may lack floor(), but its CAST
    truncates; PostgreSQL's CAST rounds, so floor() first)."""
    if dialect == "postgresql":
        return cast(func.floor(expression), Integer)
    return cast(expression, Integer)


def local_hour(column: Any, timezone: str, dialect: str) -> ColumnElement[int]:
    """The hour (0–23) of a UTC timestamp in ``timezone`` (see local_month for SQLite's offset)."""
    if dialect == "postgresql":
        return cast(func.extract("hour", func.timezone(timezone, column)), Integer)
    offset = datetime.now(ZoneInfo(timezone)).utcoffset() or timedelta(0)
    return cast(func.strftime("%H", column, f"{int(offset.total_seconds() // 60):+d} minutes"), Integer)


class _CreateTempTableAs(Executable, ClauseElement):
    """``CREATE TEMPORARY TABLE name AS <select>``, with the select's bound parameters."""

    inherit_cache = False

    def __init__(self, name: str, query: Select[Any]) -> None:
        self.name = name
        self.query = query


@compiles(_CreateTempTableAs)
def _create_temp_table_as(element: _CreateTempTableAs, compiler: SQLCompiler, **kw: Any) -> str:
    name = compiler.preparer.quote(element.name)
    return f"CREATE TEMPORARY TABLE {name} AS {compiler.process(element.query, **kw)}"


@contextmanager
def temporary_table(session: Session, name: str, query: Select[Any]) -> Iterator[Table]:
    """The rows of ``query`` written once to a temporary table (with fresh statistics on
    PostgreSQL), for the statements inside; dropped after them. PostgreSQL may compute the rows
    with parallel workers, which it never uses for the SELECT of an INSERT."""
    session.execute(_CreateTempTableAs(name, query))
    table = Table(name, MetaData(), *(Column(column.name, column.type) for column in query.selected_columns))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ANALYZE {name}"))
    yield table  # (after an error the transaction's rollback removes the table)
    session.execute(text(f"DROP TABLE {name}"))


def analyze(session: Session, table_name: str) -> None:
    """Fresh planner statistics for a table the application just rewrote. On PostgreSQL only its
    owner may ANALYZE it, and the application does not own the tables: a function of the owner's
    (migration 0030) does it for the application."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT crm_analyze(:name)"), {"name": table_name})


def redact_audit_record(session: Session, table: Table, record_id: int, values: dict[str, Any]) -> None:
    """Blank personal values of one audit record. The application may not UPDATE the audit trail
    on PostgreSQL: the owner's function crm_redact_audit_log does it, and refuses anything but
    values blanked in place (the same keys, each value kept or erased)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT crm_redact_audit_log(:id, CAST(:changes AS jsonb), CAST(:detail AS jsonb))"),
            {"id": record_id, "changes": _as_json(values["changes"]), "detail": _as_json(values["detail"])},
        )
        return
    session.execute(table.update().where(table.c.id == record_id).values(**values))


def _as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class _RegexpReplaceAll(FunctionElement[str]):
    type = String()
    name = "regexp_replace_all"
    inherit_cache = True


@compiles(_RegexpReplaceAll, "postgresql")
def _regexp_replace_all_postgresql(element: _RegexpReplaceAll, compiler: SQLCompiler, **kw: Any) -> str:
    return f"regexp_replace({compiler.process(element.clauses, **kw)}, 'gi')"


@compiles(_RegexpReplaceAll, "sqlite")
def _regexp_replace_all_sqlite(element: _RegexpReplaceAll, compiler: SQLCompiler, **kw: Any) -> str:
    return f"crm_regexp_replace({compiler.process(element.clauses, **kw)})"


def regexp_replace_all(text: Any, pattern: str, replacement: str) -> ColumnElement[str]:
    """Every match of a regular expression in a text replaced by a literal text, letter case ignored.

    PostgreSQL's regexp_replace with the 'gi' flags; SQLite has no regular expressions, so a
    function that runs Python's ``re`` is registered on each connection (crm.kit.db). Write
    expressions both read alike: literals escaped with ``re.escape``, bracket classes, ``?``,
    ``(?:…)`` groups and lookarounds such as ``(?<![0-9])``.
    """
    if "\\" in replacement:  # PostgreSQL would read \1 or \& in it as a part of the match
        raise ValueError("the replacement of regexp_replace_all holds no backslash")
    return _RegexpReplaceAll(text, literal(pattern, String), literal(replacement, String))


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def sqlite_regexp_replace(text: str | None, pattern: str, replacement: str) -> str | None:
    """SQLite's ``crm_regexp_replace``: what regexp_replace_all means there."""
    if text is None:
        return None
    return _compiled(pattern).sub(lambda _: replacement, text)


def _lock_id(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


def lock_until_commit(session: Session, *names: str) -> None:
    """Hold the locks ``names`` until the transaction ends, so that whoever takes one next sees
    what this transaction wrote.

    PostgreSQL takes advisory transaction locks, always in one order so that two transactions
    never wait on each other. SQLite needs none: its writing transactions already run one at a
    time (BEGIN IMMEDIATE, see crm.kit.db).
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for lock_id in sorted({_lock_id(name) for name in names}):
        session.execute(select(func.pg_advisory_xact_lock(lock_id)))
