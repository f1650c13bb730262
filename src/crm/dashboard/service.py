"""The dashboard's customer figures: one pass over the caller's visible customers."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Date, func
from sqlalchemy.orm import Session

from crm.customers.scope import visible_customers
from crm.dashboard import repository, schemas
from crm.kit.actor import Actor
from crm.kit.dialects import local_date
from crm.kit.regions import Region
from crm.models import Customer, Tenant
from crm.models.enums import CustomerLevel


def _acquired_on(timezone: str, dialect: str) -> ColumnElement[Any]:
    """The business date a customer was won: its acquisition date, else the day it was entered."""
    return func.coalesce(Customer.acquisition_date, local_date(Customer.created_at, timezone, dialect), type_=Date)


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
    book = visible_customers(session, actor)
    if filters.region is not None:
        book = book.where(Customer.region == filters.region)

    levels: dict[CustomerLevel, int] = dict.fromkeys(CustomerLevel, 0)
    regions: dict[Region | None, int] = dict.fromkeys(Region, 0)
    days: dict[date, int] = {}
    for kind, key, count in repository.book_counts(session, book, _acquired_on(timezone, dialect)):
        if kind == 0:
            levels[key] += count
        elif kind == 1:
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
