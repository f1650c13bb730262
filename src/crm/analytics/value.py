"""Customer value analysis (§3.5, §4.2.1): the figures of every customer as of a business day.

Computed by one set-based statement per tenant (``INSERT … SELECT … ON CONFLICT DO UPDATE``
over grouped subqueries of orders, tickets, interactions and referrals), never a loop over
customers: the nightly job runs it for all customers, a refresh for one. The snapshot of a
day is replaced when recomputed that day, so reruns are harmless.

Definitions, as of the end of the analysis date D in the tenant's time zone ("now" below),
over orders that count as spend (not cancelled or refunded) placed before then:

- total_orders: how many; total_amount: their amounts summed; avg_order_amount: total / count
  (0 without orders); last_order_date: the business date of the latest.
- order_frequency: orders per month = total_orders / months active, where months active is
  the time from the first order to now in months of 30.4375 days, at least 1.
- annual_spend: amounts of the orders of the last 365 days (what grading reads).
- potential_value: the predicted value of the next 12 months = the run rate of the last 6
  months (2 × their spend).
- satisfaction_score: the average survey rating (1–5) of the customer's tickets.
- complaint_count: the customer's complaint tickets (service_type complaint, not cancelled).
- referral_count: live customers whose ``referred_by`` is this customer.
- service_cost: tickets (not cancelled) × the tenant's cost per ticket + minutes of staff
  interactions × its cost per interaction minute.
- profit_margin: (amount − cost) / amount over the orders whose cost is known, less
  service_cost / total_amount; null when no order has a cost.
- customer_lifetime_value: expected margin per month × expected remaining lifetime, where the
  margin per month is total_amount × profit_margin (the tenant's default margin when unknown)
  / months active, and the remaining lifetime is the customer's own tenure so far (a customer
  who has bought for N months is expected to stay about N more), capped at the tenant's
  ``lifetime_cap_months``, × (1 − churn_probability). Null without orders.
- churn_probability: from the churn model once it is trained; until then null, and the
  lifetime above is not discounted.
- recency_days: whole days from the latest order to now; orders_12m: orders of the last 365
  days; r_score, f_score, m_score: their quintiles (and annual_spend's) 1–5 among the tenant's
  customers with orders that day, placed by the whole-tenant run (see score_rfm).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, and_, case, cast, func, literal, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crm.kit.clock import business_today
from crm.kit.db import utcnow
from crm.kit.dialects import (
    as_real,
    days_between,
    floor_int,
    greatest,
    local_date,
    money_result,
    money_unit,
    rounded,
)
from crm.kit.types import UTCDateTime
from crm.models import (
    NOT_SPENT,
    Customer,
    CustomerInteraction,
    CustomerOrder,
    CustomerValueAnalysis,
    InteractionSource,
    ServiceRecord,
    ServiceType,
    Tenant,
    TicketStatus,
)
from crm.tenants.service import settings_of

DAYS_PER_MONTH = 30.4375


def _as_of(day: date, timezone: str) -> datetime:
    """The end of ``day`` (the start of the next) in ``timezone``, as a UTC instant."""
    return datetime.combine(day + timedelta(days=1), time(0), ZoneInfo(timezone))


def refresh(session: Session, tenant: Tenant, *, day: date | None = None, customer_id: int | None = None) -> int:
    """Write the snapshot of ``day`` (default today) for every customer of the tenant, or one."""
    dialect = session.get_bind().dialect.name
    timezone = tenant.timezone or "Asia/Shanghai"
    day = day or business_today(timezone)
    as_of = literal(_as_of(day, timezone), UTCDateTime())
    rules = settings_of(tenant).value
    unit = money_unit(dialect)

    spent = and_(
        CustomerOrder.tenant_id == tenant.id,
        CustomerOrder.status.not_in(NOT_SPENT),
        CustomerOrder.order_date < as_of,
    )
    year_ago = literal(_as_of(day, timezone) - timedelta(days=365), UTCDateTime())
    half_year_ago = literal(_as_of(day, timezone) - timedelta(days=182), UTCDateTime())
    orders = (
        select(
            CustomerOrder.customer_id.label("customer_id"),
            func.count().label("n"),
            func.sum(CustomerOrder.amount).label("total"),
            func.min(CustomerOrder.order_date).label("first"),
            func.max(CustomerOrder.order_date).label("last"),
            func.sum(case((CustomerOrder.cost.is_not(None), CustomerOrder.amount), else_=0)).label("costed_amount"),
            func.sum(CustomerOrder.cost).label("costed_cost"),
            func.sum(case((CustomerOrder.order_date >= year_ago, CustomerOrder.amount), else_=0)).label("annual"),
            func.sum(case((CustomerOrder.order_date >= half_year_ago, CustomerOrder.amount), else_=0)).label("recent"),
            func.sum(case((CustomerOrder.order_date >= year_ago, 1), else_=0)).label("orders_12m"),
        )
        .where(spent)
        .group_by(CustomerOrder.customer_id)
        .subquery("o")
    )
    live_ticket = and_(
        ServiceRecord.tenant_id == tenant.id,
        ServiceRecord.status != TicketStatus.CANCELLED,
        ServiceRecord.created_date < as_of,
    )
    tickets = (
        select(
            ServiceRecord.customer_id.label("customer_id"),
            func.count().label("n"),
            func.sum(case((ServiceRecord.service_type == ServiceType.COMPLAINT, 1), else_=0)).label("complaints"),
            func.avg(ServiceRecord.satisfaction_rating).label("satisfaction"),
        )
        .where(live_ticket)
        .group_by(ServiceRecord.customer_id)
        .subquery("t")
    )
    minutes = (
        select(
            CustomerInteraction.customer_id.label("customer_id"),
            func.sum(func.coalesce(CustomerInteraction.duration_minutes, 0)).label("minutes"),
        )
        .where(
            CustomerInteraction.tenant_id == tenant.id,
            CustomerInteraction.source == InteractionSource.STAFF,
            CustomerInteraction.interaction_date < as_of,
        )
        .group_by(CustomerInteraction.customer_id)
        .subquery("i")
    )
    referrer = Customer.__table__.alias("referred")
    referrals = (
        select(referrer.c.referred_by.label("customer_id"), func.count().label("n"))
        .where(referrer.c.tenant_id == tenant.id, referrer.c.referred_by.is_not(None), referrer.c.deleted_at.is_(None))
        .group_by(referrer.c.referred_by)
        .subquery("r")
    )

    n = func.coalesce(orders.c.n, 0)
    total = func.coalesce(orders.c.total, 0)
    months = greatest(literal(1.0), days_between(as_of, orders.c.first, dialect) / DAYS_PER_MONTH, dialect)
    service_cost = func.coalesce(tickets.c.n, 0) * float(rules.cost_per_ticket * unit) + func.coalesce(
        minutes.c.minutes, 0
    ) * float(rules.cost_per_interaction_minute * unit)
    goods_margin = as_real(orders.c.costed_amount - orders.c.costed_cost) / as_real(orders.c.costed_amount)
    profit_margin = case(
        (and_(total > 0, orders.c.costed_amount > 0), goods_margin - as_real(service_cost) / as_real(total)),
        else_=None,
    )
    margin_used = func.coalesce(profit_margin, float(rules.default_margin))
    cap = float(rules.lifetime_cap_months)
    remaining = case((months < cap, months), else_=cap)
    clv = case((n > 0, as_real(total) * margin_used / months * remaining), else_=None)
    now = utcnow()
    values: dict[str, Any] = {
        "tenant_id": literal(tenant.id),
        "customer_id": Customer.id,
        "analysis_date": literal(day),
        "total_orders": cast(n, Integer),
        "total_amount": money_result(total, dialect),
        "avg_order_amount": money_result(case((n > 0, as_real(total) / n), else_=0), dialect),
        "last_order_date": local_date(orders.c.last, timezone, dialect),
        "order_frequency": case((n > 0, rounded(as_real(n) / months, 2)), else_=None),
        "customer_lifetime_value": money_result(clv, dialect),
        "churn_probability": literal(None),
        "satisfaction_score": rounded(tickets.c.satisfaction, 2),
        "referral_count": func.coalesce(referrals.c.n, 0),
        "complaint_count": func.coalesce(tickets.c.complaints, 0),
        "service_cost": money_result(service_cost, dialect),
        "profit_margin": rounded(profit_margin, 4),
        "annual_spend": money_result(func.coalesce(orders.c.annual, 0), dialect),
        # (Multiplied as a float: a literal beside a Money expression would be taken as money.)
        "potential_value": money_result(as_real(func.coalesce(orders.c.recent, 0)) * 2, dialect),
        "recency_days": floor_int(days_between(as_of, orders.c.last, dialect), dialect),
        "orders_12m": cast(func.coalesce(orders.c.orders_12m, 0), Integer),
        "created_at": literal(now, UTCDateTime()),
        "updated_at": literal(now, UTCDateTime()),
    }
    rows = (
        select(*(expression.label(name) for name, expression in values.items()))
        .select_from(Customer)
        .outerjoin(orders, orders.c.customer_id == Customer.id)
        .outerjoin(tickets, tickets.c.customer_id == Customer.id)
        .outerjoin(minutes, minutes.c.customer_id == Customer.id)
        .outerjoin(referrals, referrals.c.customer_id == Customer.id)
        # The WHERE also settles SQLite's parse of INSERT … SELECT … ON CONFLICT.
        .where(true(), Customer.tenant_id == tenant.id, Customer.deleted_at.is_(None))
    )
    if customer_id is not None:
        rows = rows.where(Customer.id == customer_id)
    table = CustomerValueAnalysis.__table__
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(table).from_select(list(values), rows)
    keep = {name for name in values if name not in ("customer_id", "analysis_date", "tenant_id", "created_at")}
    statement = insert.on_conflict_do_update(
        index_elements=["customer_id", "analysis_date"], set_={name: insert.excluded[name] for name in keep}
    )
    result = session.execute(statement)
    if customer_id is None:
        score_rfm(session, tenant, day)
    written = int(getattr(result, "rowcount", -1))
    if written < 0:  # psycopg reports no row count for INSERT … SELECT … ON CONFLICT: count who was covered
        covered = select(func.count()).where(Customer.tenant_id == tenant.id, Customer.deleted_at.is_(None))
        if customer_id is not None:
            covered = covered.where(Customer.id == customer_id)
        written = int(session.scalar(covered) or 0)
    return written


def score_rfm(session: Session, tenant: Tenant, day: date) -> None:
    """RFM scores 1–5 of the day's snapshots, by percent rank among the tenant's customers with
    orders (ties share a score; 5 is the most recent, most frequent, highest spending).

    Only the whole-tenant refresh places customers; a one-customer refresh during the day keeps
    the scores that night's run gave (they rank the customer among all others).
    """
    snapshot = CustomerValueAnalysis
    dialect = session.get_bind().dialect.name

    def score(order: Any) -> Any:
        placed = 1 + floor_int(5 * func.percent_rank().over(order_by=order), dialect)
        return case((placed > 5, 5), else_=placed)

    ranked = (
        select(
            snapshot.id.label("id"),
            score(snapshot.recency_days.desc()).label("r"),
            score(snapshot.orders_12m).label("f"),
            score(snapshot.annual_spend).label("m"),
        )
        .where(snapshot.tenant_id == tenant.id, snapshot.analysis_date == day, snapshot.total_orders > 0)
        .subquery("ranked")
    )
    session.execute(
        update(snapshot)
        .where(snapshot.id == ranked.c.id)
        .values(r_score=ranked.c.r, f_score=ranked.c.f, m_score=ranked.c.m)
        .execution_options(synchronize_session=False)
    )


def refresh_all(session: Session) -> int:
    """The nightly job: today's snapshot of every customer of every active tenant."""
    done = 0
    for tenant in session.scalars(select(Tenant).where(Tenant.is_active.is_(True)).order_by(Tenant.id)):
        done += refresh(session, tenant)
    return done
