"""The dashboard's customer figures: one pass over the caller's visible customers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Date, Select, func, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import Label

from crm.customers.repository import CustomerRepository
from crm.dashboard import schemas
from crm.kit.actor import Actor
from crm.kit.dialects import local_date
from crm.kit.regions import Region
from crm.models import Customer, Tenant
from crm.models.enums import CustomerLevel

DASHBOARD_WORK_MEM = "64MB"


def _acquired_on(timezone: str, dialect: str) -> ColumnElement[Any]:
    """The business date a customer was won: its acquisition date, else the day it was entered."""
    return func.coalesce(Customer.acquisition_date, local_date(Customer.created_at, timezone, dialect), type_=Date)


def _book_counts(
    session: Session, book: Select[Any], acquired: Label[Any], dialect: str
) -> Iterator[tuple[str, Any, int]]:
    """("level", level, n), ("region", region, n) and ("day", business day of acquisition, n).

    One pass over the visible customers (an index-only scan of ix_customers_live_book): on
    PostgreSQL by GROUPING SETS, one scan where three GROUP BYs (by level, region and formatted
    month) would read the book three times. SQLite has no grouping sets; it groups by all three
    at once and the rows are summed here (a few thousand groups at most).
    """
    level, region = Customer.customer_level, Customer.region
    if dialect == "postgresql":
        # GROUPING(level, region, acquired) has a bit set for each column a row is not grouped by.
        sets = {0b011: "level", 0b101: "region", 0b110: "day"}
        stmt = book.with_only_columns(
            func.grouping(level, region, acquired), level, region, acquired, func.count()
        ).group_by(func.grouping_sets(level, region, acquired))
        # The groups are few (levels, regions, days of history), but without statistics on the
        # acquisition-day expression the planner takes it for one group per customer and, within
        # the default work_mem, sorts every customer on disk instead of hashing the few groups
        # in memory.
        session.execute(text(f"SET LOCAL work_mem = '{DASHBOARD_WORK_MEM}'"))
        try:
            rows = session.execute(stmt).all()
        finally:
            session.execute(text("SET LOCAL work_mem TO DEFAULT"))
        for bits, lvl, reg, day, count in rows:
            kind = sets[bits]
            yield kind, lvl if kind == "level" else reg if kind == "region" else day, count
        return
    for lvl, reg, day, count in session.execute(
        book.with_only_columns(level, region, acquired, func.count()).group_by(level, region, acquired)
    ):
        yield "level", lvl, count
        yield "region", reg, count
        yield "day", day, count  # the column is typed Date: SQLite's ISO text comes back as a date


def _months(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    result = []
    while f"{year:04d}-{month:02d}" <= last:
        result.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return result


def _month_text(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def dashboard(session: Session, actor: Actor, filters: schemas.DashboardFilters) -> schemas.CustomerDashboard:
    dialect = session.get_bind().dialect.name
    tenant = session.get(Tenant, actor.tenant_id)
    timezone = tenant.timezone if tenant is not None else "Asia/Shanghai"
    book = CustomerRepository(session, actor).select()
    if filters.region is not None:
        book = book.where(Customer.region == filters.region)

    levels: dict[CustomerLevel, int] = dict.fromkeys(CustomerLevel, 0)
    regions: dict[Region | None, int] = dict.fromkeys(Region, 0)
    days: dict[date, int] = {}
    for kind, key, count in _book_counts(session, book, _acquired_on(timezone, dialect).label("acquired"), dialect):
        if kind == "level":
            levels[key] += count
        elif kind == "region":
            regions[key] = regions.get(key, 0) + count
        else:
            days[key] = days.get(key, 0) + count
    if not regions.get(None):
        regions.pop(None, None)
    found: dict[str, int] = {}
    for day, count in days.items():
        if (filters.acquired_from is None or day >= filters.acquired_from) and (
            filters.acquired_to is None or day <= filters.acquired_to
        ):
            month = _month_text(day)
            found[month] = found.get(month, 0) + count

    first = _month_text(filters.acquired_from) if filters.acquired_from else min(found, default=None)
    last = _month_text(filters.acquired_to) if filters.acquired_to else max(found, default=None)
    months = _months(first, last) if first and last else []

    return schemas.CustomerDashboard(
        region=filters.region,
        acquired_from=filters.acquired_from,
        acquired_to=filters.acquired_to,
        total=sum(levels.values()),
        by_level=[schemas.LevelCount(level=level, count=count) for level, count in levels.items()],
        by_region=[schemas.RegionCount(region=region, count=count) for region, count in regions.items()],
        new_total=sum(found.values()),
        new_by_month=[schemas.MonthCount(month=m, count=found.get(m, 0)) for m in months],
    )
