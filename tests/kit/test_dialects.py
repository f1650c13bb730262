"""The dialect helpers give the same answers on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Date, Engine, Float, cast, func, literal, select, text
from sqlalchemy.orm import Session, sessionmaker

from crm.kit.dialects import days_between_dates, local_date, lock_until_commit, planner_methods, rounded
from crm.kit.types import UTCDateTime
from crm.models import Customer
from tests.sqlcapture import captured_sql


@pytest.mark.parametrize(
    ("later", "earlier", "days"),
    [
        (date(2026, 12, 2), date(2026, 9, 3), 90),
        (date(2026, 3, 1), date(2026, 2, 28), 1),
        (date(2026, 1, 1), date(2026, 1, 1), 0),
    ],
)
def test_days_between_dates_counts_calendar_days(session: Session, later: date, earlier: date, days: int) -> None:
    dialect = session.get_bind().dialect.name
    column = cast(literal(earlier.isoformat()), Date) if dialect == "postgresql" else literal(earlier.isoformat())
    assert session.scalar(select(days_between_dates(later, column, dialect))) == days


def test_a_business_day_starts_at_midnight_in_shanghai(session: Session) -> None:
    dialect = session.get_bind().dialect.name
    # 16:30 UTC on 1 December is 00:30 on 2 December in Shanghai: the same business day as 2 December.
    instant = literal(datetime(2026, 12, 1, 16, 30, tzinfo=UTC), UTCDateTime())
    assert (
        session.scalar(
            select(days_between_dates(date(2026, 12, 2), local_date(instant, "Asia/Shanghai", dialect), dialect))
        )
        == 0
    )


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (0.125, 2, Decimal("0.13")),  # a half, exact in binary: away from zero
        (-2.375, 2, Decimal("-2.38")),
        (1.005, 2, Decimal("1.01")),  # stored as 1.00499999…: rounded as written, not as stored
        (10666.666666666666, 2, Decimal("10666.67")),
        (0.39406249999, 4, Decimal("0.3941")),
        (-999.9999, 4, Decimal("-999.9999")),
        (12345678901.235, 2, Decimal("12345678901.24")),
    ],
)
def test_rounded_rounds_a_float_as_written(session: Session, value: float, places: int, expected: Decimal) -> None:
    dialect = session.get_bind().dialect.name
    assert Decimal(str(session.scalar(select(rounded(literal(value, Float), places, dialect))))) == expected


def _plans_of_twelve_counts(session: Session, label: str) -> tuple[int, int]:
    """Count the A customers twelve times over one connection: (generic plans, custom plans)."""
    for _ in range(12):  # psycopg prepares from the fifth; PostgreSQL may go generic from the tenth
        session.scalar(select(func.count().label(label)).where(Customer.customer_level == "A"))
    generic, custom = session.execute(
        text("SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE :label"),
        {"label": f"%{label}%"},
    ).one()
    return int(generic), int(custom)


@pytest.mark.postgresql_only
def test_without_generic_plans_each_execution_is_planned_for_its_parameters(session: Session) -> None:
    generic, _ = _plans_of_twelve_counts(session, "left_alone")
    assert generic > 0  # left alone, PostgreSQL settles on one plan for any level …
    with planner_methods(session, generic_plan=False):
        generic, custom = _plans_of_twelve_counts(session, "told_not_to")
    assert custom > 0
    assert generic == 0  # … told not to, it plans for "A" each time


def test_a_named_lock_is_held_until_the_transaction_ends(committed: sessionmaker[Session]) -> None:
    order: list[str] = []
    with committed() as first:
        lock_until_commit(first, "test:named-lock")
        first.execute(select(1))

        def second() -> None:
            with committed() as other:
                lock_until_commit(other, "test:named-lock")
                other.execute(select(1))
                order.append("second holds it")
                other.commit()

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)  # time enough for the second to take the lock, if it were free
        order.append("first commits")
        first.commit()
        thread.join(timeout=30)
    assert order == ["first commits", "second holds it"]


@pytest.mark.postgresql_only
class TestPlannerSwitches:
    def test_hold_inside_the_block_and_are_restored_before_the_next_statement(self, session: Session) -> None:
        with planner_methods(session, seqscan=False, parallel=False):
            assert session.execute(text("SHOW enable_seqscan")).scalar() == "off"
            assert session.execute(text("SHOW max_parallel_workers_per_gather")).scalar() == "0"
        assert session.execute(text("SHOW enable_seqscan")).scalar() == "on"
        assert session.execute(text("SHOW max_parallel_workers_per_gather")).scalar() != "0"

    def test_cost_one_statement_when_nothing_follows(self, session: Session, engine: Engine) -> None:
        session.execute(select(1))
        with captured_sql(engine) as statements:
            with planner_methods(session, seqscan=False, bitmapscan=False):
                session.execute(select(1))
            session.rollback()
        assert sum("SET LOCAL" in sql for sql, _ in statements) == 1
