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
  service_cost / total_amount, within ±999.9999; null when no order has a cost.
- customer_lifetime_value: expected margin per month × expected remaining lifetime, where the
  margin per month is total_amount × profit_margin (the tenant's default margin when unknown)
  / months active, and the remaining lifetime is the customer's own tenure so far (a customer
  who has bought for N months is expected to stay about N more), capped at the tenant's
  ``lifetime_cap_months``, × (1 − churn_probability). Null without orders.
- churn_probability: from the churn model once it is trained; until then null, and the
  lifetime above is not discounted.
- recency_days: whole days from the latest order to now; orders_12m: orders of the last 365
  days; r_score, f_score, m_score: their quintiles (and annual_spend's) 1–5 among the tenant's
  customers with orders that day, placed by the whole-tenant run (a one-customer refresh
  keeps the scores of the night).

Every figure is capped at what its column holds: money at ±¥9,999,999,999,999.99 (the sums of
a customer with orders beyond it, the lifetime value of a heavy loss-maker), orders per month
at 99,999.99. The order feed bounds each amount so that this is rare. Should the whole-tenant
statement still fail on some customer's data, the refresh writes the customers in batches
instead, each under a savepoint, and splits a failing batch until it finds the customers that
fail: each is logged and recorded in the audit trail (``value.refresh_failed``), and every
other customer gets its snapshot.
"""

from __future__ import annotations

import logging
import threading
import time as clock
import typing
from collections import OrderedDict, deque
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Executable,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from crm.analytics import churn
from crm.audit import service as audit
from crm.config import settings
from crm.customers.scope import live_customer_ids
from crm.kit.clock import business_today
from crm.kit.db import utcnow
from crm.kit.dialects import (
    analyze,
    as_real,
    days_between,
    days_between_dates,
    floor_int,
    greatest,
    least,
    local_date,
    lock_against_writers,
    money_result,
    money_unit,
    planner_methods,
    rounded,
    statement_resources,
    temporary_table,
    upsert_insert,
)
from crm.kit.types import MONEY_MAX, Money, UTCDateTime
from crm.models import (
    NOT_SPENT,
    ChurnModel,
    ChurnWarning,
    Customer,
    CustomerInteraction,
    CustomerOrder,
    CustomerReceivable,
    CustomerValueAnalysis,
    InteractionSource,
    ServiceRecord,
    ServiceType,
    Tenant,
    TicketStatus,
    WarningStatus,
)
from crm.models.enums import CustomerStatus
from crm.tenants.schemas import ChurnRules
from crm.tenants.service import settings_of

log = logging.getLogger(__name__)

DAYS_PER_MONTH = 30.4375
MARGIN_LIMIT = 999.9999  # NUMERIC(7, 4)
FREQUENCY_LIMIT = 99_999.99  # NUMERIC(7, 2)


def _as_of(day: date, timezone: str) -> datetime:
    """The end of ``day`` (the start of the next) in ``timezone``, as a UTC instant."""
    return datetime.combine(day + timedelta(days=1), time(0), ZoneInfo(timezone))


def end_of(day: date, tenant: Tenant) -> datetime:
    """The end of the tenant's business ``day`` as a UTC instant: what "as of ``day``" means."""
    return _as_of(day, tenant.timezone or "Asia/Shanghai")


def snapshot_select(
    session: Session,
    tenant: Tenant,
    day: date,
    *,
    customer_id: int | BindParameter[int] | None = None,
    features: bool = False,
    ranked_orders: Any = None,
    model: ChurnModel | Literal["current"] | None = "current",
    now: datetime | BindParameter[datetime] | None = None,
    batch: tuple[Any, Any] | None = None,
) -> Select[Any]:
    """The snapshot row of every customer of the tenant (or one) as of the end of ``day``.

    With ``features``, the churn model's inputs (crm.analytics.churn.FEATURES) come as extra
    columns named ``f_<name>``: training reads the very expressions that scoring evaluates.
    ``ranked_orders`` is ranked_order_figures written to a table: the order figures are then
    read from it, and the RFM scores with them (otherwise the row has none). ``model`` is the
    churn model that scores (by default the tenant's current one), ``now`` the rows' creation
    time (by default this moment); both, and ``customer_id``, may be bound parameters. ``batch``
    (the first and last customer id, bound parameters too) limits the rows to those customers.
    """
    dialect = session.get_bind().dialect.name
    timezone = tenant.timezone or "Asia/Shanghai"
    end = _as_of(day, timezone)
    everything = settings_of(tenant)
    rules, churn_rules = everything.value, everything.churn
    unit = money_unit(dialect)

    def before(days: int) -> Any:
        return literal(end - timedelta(days=days), UTCDateTime())

    orders = ranked_orders if ranked_orders is not None else order_figures(tenant, end, churn_rules).subquery("o")
    new_start = before(churn_rules.new_customer_days)
    gap_start = before(churn_rules.new_customer_days + churn_rules.churned_after_days)

    # Three layers, each a subquery fenced by OFFSET 0 so that the database computes its
    # columns once per row: neither PostgreSQL nor SQLite shares a subexpression written twice,
    # and flattened, the figures below appeared up to a dozen times a row (the tenure in months
    # thrice, the rules' conditions in the risk, the rule, the reason and the stage).
    # 1. The joined inputs, and the figures used more than once.
    b = _joined_inputs(
        tenant, day, orders, ranked=ranked_orders is not None, customer_id=customer_id, batch=batch, dialect=dialect
    )

    # 2. What the rules, the margin and the model make of them.
    goods_margin = as_real(b.c.costed_amount - b.c.costed_cost) / as_real(b.c.costed_amount)
    margin = goods_margin - as_real(b.c.service_cost) / as_real(b.c.total)
    # Within what the column holds (±999.9999): a ¥1 order with hours of calls is a margin of
    # −100,000 %, which must not fail the tenant's whole night.
    bounded = greatest(literal(-MARGIN_LIMIT), least(literal(MARGIN_LIMIT), margin, dialect), dialect)
    assessed: dict[str, Any] = {
        "profit_margin": case((and_(b.c.total > 0, b.c.costed_amount > 0), bounded), else_=None),
        "matched": churn.matched_rule(_figures(b.c, day, dialect), churn_rules, dialect),
    }
    if model == "current":
        model = churn.current_model(session, tenant.id)
    if model is not None:
        assessed["probability"] = case((b.c.n > 0, churn.score(_feature_inputs(b.c, unit), model)), else_=None)
    a = _fenced(select(b, *(expression.label(name) for name, expression in assessed.items())), "a")

    # 3. The snapshot's columns.
    figures = _figures(a.c, day, dialect)
    n, total, months = a.c.n, a.c.total, a.c.months
    risk, rule, reason = churn.outcome(a.c.matched, figures, churn_rules, dialect)
    stage = churn.lifecycle(
        figures,
        a.c.matched,
        rules=churn_rules,
        first=a.c.first,
        orders_new=a.c.orders_new,
        orders_gap=a.c.orders_gap,
        new_start=new_start,
        gap_start=gap_start,
        lost_since_last_order=a.c.lost,
    )
    margin_used = func.coalesce(a.c.profit_margin, float(rules.default_margin))
    cap = float(rules.lifetime_cap_months)
    remaining = case((months < cap, months), else_=cap)
    clv = as_real(total) * margin_used / months * remaining
    probability = a.c.probability if model is not None else None
    if probability is not None:  # the expected lifetime is discounted by the chance of leaving
        clv = clv * (1 - probability)
    # Money computed as a float, in stored units, within what the column holds. (Inside the
    # CASE: PostgreSQL's LEAST and GREATEST pass over a null, so a missing figure would become
    # the limit.)
    most = literal(float(MONEY_MAX * unit))

    def computed_money(expression: Any, *, signed: bool = False) -> Any:
        capped = least(expression, most, dialect)
        return money_result(greatest(-most, capped, dialect) if signed else capped, dialect)

    def summed_money(amount: Any) -> Any:  # a sum of stored amounts (never negative)
        return least(amount, literal(MONEY_MAX, Money()), dialect)

    stamp = now if isinstance(now, BindParameter) else literal(now or utcnow(), UTCDateTime())
    values: dict[str, Any] = {
        "tenant_id": literal(tenant.id),
        "customer_id": a.c.customer_id,
        "analysis_date": literal(day),
        "total_orders": cast(n, Integer),
        # Sums of stored amounts are exact already; only computed amounts are rounded.
        "total_amount": summed_money(total),
        "avg_order_amount": computed_money(case((n > 0, as_real(total) / n), else_=0)),
        "last_order_date": a.c.last_order_date,
        "order_frequency": case(
            (n > 0, rounded(least(as_real(n) / months, literal(FREQUENCY_LIMIT), dialect), 2, dialect)), else_=None
        ),
        "customer_lifetime_value": case((n > 0, computed_money(clv, signed=True)), else_=None),
        "churn_probability": rounded(probability, 4, dialect) if probability is not None else null(),
        "satisfaction_score": rounded(a.c.satisfaction, 2, dialect),
        "referral_count": a.c.referrals,
        "complaint_count": a.c.complaints,
        "service_cost": computed_money(a.c.service_cost),
        "profit_margin": rounded(a.c.profit_margin, 4, dialect),
        "annual_spend": summed_money(a.c.annual),
        # (Multiplied as a float: a literal beside a Money expression would be taken as money.)
        "potential_value": computed_money(as_real(a.c.recent) * 2),
        "recency_days": floor_int(a.c.recency, dialect),
        "orders_12m": cast(a.c.orders_12m, Integer),
        "spend_recent": summed_money(a.c.spend_recent),
        "spend_previous": summed_money(a.c.spend_previous),
        "orders_history": cast(a.c.orders_history, Integer),
        "days_since_interaction": cast(a.c.quiet, Integer),
        "interactions_90d": cast(a.c.interactions_90d, Integer),
        "overdue_amount": summed_money(a.c.owed),
        "overdue_days": cast(a.c.overdue_days, Integer),
        "churn_risk": risk,
        "churn_rule": rule,
        "churn_reason": reason,
        "lifecycle_stage": stage,
        "created_at": stamp,
        "updated_at": stamp,
    }
    if ranked_orders is not None:
        values.update({name: a.c[name] for name in RFM})
    columns = [expression.label(name) for name, expression in values.items()]
    if features:
        features_of_row = churn.feature_expressions(_feature_inputs(a.c, unit))
        columns += [expression.label(f"f_{name}") for name, expression in features_of_row.items()]
    # The WHERE settles SQLite's parse of INSERT … SELECT … ON CONFLICT.
    return select(*columns).select_from(a).where(true())


def _joined_inputs(
    tenant: Tenant,
    day: date,
    orders: Any,
    *,
    ranked: bool,
    customer_id: Any,
    batch: tuple[Any, Any] | None,
    dialect: str,
) -> Any:
    """snapshot_select's first layer: every live customer (or one) joined to its grouped orders
    (with their RFM scores when ``ranked``), tickets, interactions, referrals, debts and losses,
    and the figures read more than once."""
    rules = settings_of(tenant).value
    timezone = tenant.timezone or "Asia/Shanghai"
    end = _as_of(day, timezone)
    as_of = literal(end, UTCDateTime())
    unit = money_unit(dialect)
    tickets, minutes, referrals = _activity(tenant, end, batch)
    owed, lost = _debts_and_losses(tenant, day, batch)

    overdue_days = case((owed.c.oldest_due.is_not(None), days_between_dates(day, owed.c.oldest_due, dialect)), else_=0)
    # The rules count business days, as people do: an order on D − 90 is 90 days ago.
    last_contact = func.coalesce(minutes.c.last, orders.c.first, Customer.created_at)
    inputs_of_row: dict[str, Any] = {
        "customer_id": Customer.id,
        "active": Customer.customer_status == CustomerStatus.ACTIVE,
        "n": func.coalesce(orders.c.n, 0),
        "total": func.coalesce(orders.c.total, 0),
        "first": orders.c.first,
        "costed_amount": orders.c.costed_amount,
        "costed_cost": orders.c.costed_cost,
        "annual": func.coalesce(orders.c.annual, 0),
        "recent": func.coalesce(orders.c.recent, 0),
        "orders_12m": func.coalesce(orders.c.orders_12m, 0),
        "spend_recent": func.coalesce(orders.c.spend_recent, 0),
        "spend_previous": func.coalesce(orders.c.spend_previous, 0),
        "orders_history": func.coalesce(orders.c.orders_history, 0),
        "orders_new": func.coalesce(orders.c.orders_new, 0),
        "orders_gap": func.coalesce(orders.c.orders_gap, 0),
        "months": greatest(literal(1.0), days_between(as_of, orders.c.first, dialect) / DAYS_PER_MONTH, dialect),
        "recency": days_between(as_of, orders.c.last, dialect),
        "last_order_date": local_date(orders.c.last, timezone, dialect),
        "quiet": days_between_dates(day, local_date(last_contact, timezone, dialect), dialect),
        "service_cost": func.coalesce(tickets.c.n, 0) * float(rules.cost_per_ticket * unit)
        + func.coalesce(minutes.c.minutes, 0) * float(rules.cost_per_interaction_minute * unit),
        "complaints": func.coalesce(tickets.c.complaints, 0),
        "satisfaction": tickets.c.satisfaction,
        "interactions_90d": func.coalesce(minutes.c.recent, 0),
        "referrals": func.coalesce(referrals.c.n, 0),
        "owed": func.coalesce(owed.c.amount, 0),
        "overdue_days": overdue_days,
        "lost": and_(lost.c.lost_at.is_not(None), or_(orders.c.last.is_(None), lost.c.lost_at > orders.c.last)),
    }
    if ranked:
        inputs_of_row.update({name: orders.c[name] for name in RFM})
    joined = (
        select(*(expression.label(name) for name, expression in inputs_of_row.items()))
        .select_from(Customer)
        .outerjoin(orders, and_(orders.c.customer_id == Customer.id, *_within(orders.c.customer_id, batch)))
        .outerjoin(tickets, tickets.c.customer_id == Customer.id)
        .outerjoin(minutes, minutes.c.customer_id == Customer.id)
        .outerjoin(referrals, referrals.c.customer_id == Customer.id)
        .outerjoin(owed, owed.c.customer_id == Customer.id)
        .outerjoin(lost, lost.c.customer_id == Customer.id)
        .where(Customer.tenant_id == tenant.id, Customer.deleted_at.is_(None))
    )
    if customer_id is not None:
        joined = joined.where(Customer.id == customer_id)
    if batch is not None:
        joined = joined.where(*_within(Customer.id, batch))
    return _fenced(joined, "b")


def _within(customer_id: Any, batch: tuple[Any, Any] | None) -> list[Any]:
    """That ``customer_id`` is one of the ``batch`` (first and last id), if there is one: given to
    each grouped subquery too, so that a batch reads only its own customers' rows."""
    return [] if batch is None else [customer_id.between(*batch)]


def _figures(c: Any, day: date, dialect: str) -> churn.Figures:
    """The churn rules' figures over the columns ``c`` of snapshot_select's inner layers."""
    return churn.Figures(
        orders=c.n,
        recency=days_between_dates(day, c.last_order_date, dialect),
        quiet=c.quiet,
        orders_history=c.orders_history,
        spend_recent=c.spend_recent,
        spend_previous=c.spend_previous,
        overdue_days=c.overdue_days,
        active=c.active,
    )


def _feature_inputs(c: Any, unit: int) -> churn.FeatureInputs:
    """The churn model's inputs over the columns ``c`` of snapshot_select's inner layers."""
    return churn.FeatureInputs(
        recency=c.recency,
        orders_12m=c.orders_12m,
        spend_12m=as_real(c.annual) / unit,
        spend_recent=as_real(c.spend_recent) / unit,
        spend_previous=as_real(c.spend_previous) / unit,
        quiet=c.quiet,
        interactions_90d=c.interactions_90d,
        complaints=c.complaints,
        satisfaction=c.satisfaction,
        overdue_amount=as_real(c.owed) / unit,
        overdue_days=c.overdue_days,
        tenure_months=c.months,
    )


RFM = ("r_score", "f_score", "m_score")


def _fenced(query: Select[Any], name: str) -> Any:
    """``query`` as a subquery the database computes as written, each column once per row:
    OFFSET 0 keeps PostgreSQL and SQLite from merging it into the query around it."""
    return query.offset(literal_column("0")).subquery(name)


def ranked_order_figures(tenant: Tenant, day: date, dialect: str) -> Select[Any]:
    """The order figures of the tenant's live customers with orders, and their RFM quintiles
    1–5 (5 best; ties share) among them: what the whole-tenant refresh writes to a temporary
    table first. Only that refresh places customers; a one-customer refresh keeps the night's
    scores.

    Ranked here, over the narrow grouped rows, rather than as window functions of the wide
    snapshot rows: sorting a million of those three times was a quarter of the refresh.
    """
    end = end_of(day, tenant)
    live = select(Customer.id).where(Customer.tenant_id == tenant.id, Customer.deleted_at.is_(None))
    grouped = (
        order_figures(tenant, end, settings_of(tenant).churn).where(CustomerOrder.customer_id.in_(live)).subquery("g")
    )
    # The same figures the snapshot stores as recency_days, orders_12m and annual_spend.
    recency = floor_int(days_between(literal(end, UTCDateTime()), grouped.c.last, dialect), dialect)

    def quintile(order: Any, name: str) -> Any:
        placed = 1 + floor_int(5 * func.percent_rank().over(order_by=order), dialect)
        return case((placed > 5, 5), else_=placed).label(name)

    return select(
        grouped,
        quintile(recency.desc(), "r_score"),
        quintile(grouped.c.orders_12m, "f_score"),
        quintile(func.coalesce(grouped.c.annual, 0), "m_score"),
    )


def order_figures(tenant: Tenant, end: datetime, churn_rules: ChurnRules) -> Select[Any]:
    """Per customer, over orders that count as spend placed before ``end``: the grouped figures."""
    as_of = literal(end, UTCDateTime())

    def before(days: int) -> Any:
        return literal(end - timedelta(days=days), UTCDateTime())

    window = churn_rules.spend_window_days
    quiet_start = before(churn_rules.high_no_order_days)
    history_start = before(churn_rules.high_no_order_days + churn_rules.high_history_days)
    new_start = before(churn_rules.new_customer_days)
    gap_start = before(churn_rules.new_customer_days + churn_rules.churned_after_days)
    at = CustomerOrder.order_date

    spent = and_(
        CustomerOrder.tenant_id == tenant.id,
        CustomerOrder.status.not_in(NOT_SPENT),
        CustomerOrder.order_date < as_of,
    )
    year_ago = literal(end - timedelta(days=365), UTCDateTime())
    half_year_ago = literal(end - timedelta(days=182), UTCDateTime())
    amount = func.sum(CustomerOrder.amount)
    columns: list[Any] = [
        CustomerOrder.customer_id.label("customer_id"),
        func.count().label("n"),
        func.sum(CustomerOrder.amount).label("total"),
        func.min(CustomerOrder.order_date).label("first"),
        func.max(CustomerOrder.order_date).label("last"),
        # FILTER rather than sum(CASE …): nothing is added for the orders outside a window.
        amount.filter(CustomerOrder.cost.is_not(None)).label("costed_amount"),
        func.sum(CustomerOrder.cost).label("costed_cost"),
        amount.filter(at >= year_ago).label("annual"),
        amount.filter(at >= half_year_ago).label("recent"),
        func.count().filter(at >= year_ago).label("orders_12m"),
        amount.filter(at >= before(window)).label("spend_recent"),
        amount.filter(at >= before(2 * window), at < before(window)).label("spend_previous"),
        func.count().filter(at >= history_start, at < quiet_start).label("orders_history"),
        func.count().filter(at >= new_start).label("orders_new"),
        func.count().filter(at >= gap_start, at < new_start).label("orders_gap"),
    ]
    return select(*columns).where(spent).group_by(CustomerOrder.customer_id)


def _activity(tenant: Tenant, end: datetime, batch: tuple[Any, Any] | None = None) -> tuple[Any, Any, Any]:
    """Per customer: tickets (count, complaints, satisfaction), staff interactions, referrals."""
    as_of = literal(end, UTCDateTime())
    ninety_days_ago = literal(end - timedelta(days=90), UTCDateTime())
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
        .where(live_ticket, *_within(ServiceRecord.customer_id, batch))
        .group_by(ServiceRecord.customer_id)
        .subquery("t")
    )
    minutes = (
        select(
            CustomerInteraction.customer_id.label("customer_id"),
            func.sum(func.coalesce(CustomerInteraction.duration_minutes, 0)).label("minutes"),
            func.max(CustomerInteraction.interaction_date).label("last"),
            func.sum(case((CustomerInteraction.interaction_date >= ninety_days_ago, 1), else_=0)).label("recent"),
        )
        .where(
            CustomerInteraction.tenant_id == tenant.id,
            CustomerInteraction.source == InteractionSource.STAFF,
            CustomerInteraction.interaction_date < as_of,
            *_within(CustomerInteraction.customer_id, batch),
        )
        .group_by(CustomerInteraction.customer_id)
        .subquery("i")
    )
    referrer = Customer.__table__.alias("referred")
    referrals = (
        select(referrer.c.referred_by.label("customer_id"), func.count().label("n"))
        .where(
            referrer.c.tenant_id == tenant.id,
            referrer.c.referred_by.is_not(None),
            referrer.c.deleted_at.is_(None),
            *_within(referrer.c.referred_by, batch),
        )
        .group_by(referrer.c.referred_by)
        .subquery("r")
    )
    return tickets, minutes, referrals


def _debts_and_losses(tenant: Tenant, day: date, batch: tuple[Any, Any] | None = None) -> tuple[Any, Any]:
    """Unpaid receivables past due by ``day``, and when a warning of each customer was last lost."""
    owed = (
        select(
            CustomerReceivable.customer_id.label("customer_id"),
            func.sum(CustomerReceivable.amount_due).label("amount"),
            func.min(CustomerReceivable.due_date).label("oldest_due"),
        )
        .where(
            CustomerReceivable.tenant_id == tenant.id,
            CustomerReceivable.amount_due > 0,
            CustomerReceivable.due_date < literal(day + timedelta(days=1)),
            *_within(CustomerReceivable.customer_id, batch),
        )
        .group_by(CustomerReceivable.customer_id)
        .subquery("d")
    )
    lost = (
        select(ChurnWarning.customer_id.label("customer_id"), func.max(ChurnWarning.closed_at).label("lost_at"))
        .where(
            ChurnWarning.tenant_id == tenant.id,
            ChurnWarning.status == WarningStatus.LOST,
            *_within(ChurnWarning.customer_id, batch),
        )
        .group_by(ChurnWarning.customer_id)
        .subquery("l")
    )
    return owed, lost


def refresh(session: Session, tenant: Tenant, *, day: date | None = None, customer_id: int | None = None) -> int:
    """Write the snapshot of ``day`` (default today) for every customer of the tenant, or one."""
    dialect = session.get_bind().dialect.name
    day = day or business_today(tenant.timezone or "Asia/Shanghai")
    if customer_id is not None:
        statement = _one_customer_statement(session, tenant, day)
        params = {ONE_CUSTOMER.key: customer_id, ONE_CUSTOMER_NOW.key: utcnow()}
        return session.connection().execute(statement, params, execution_options={"preserve_rowcount": True}).rowcount
    steps: dict[str, float] = {}
    with nightly_settings(session):
        first_of_day = _claim_day(session, tenant, day)
        with ExitStack() as grouped:
            with _timed(steps, "order_figures"), planner_methods(session, **ORDER_GROUPING_PLAN):
                ranked = grouped.enter_context(
                    temporary_table(session, "refresh_order_figures", ranked_order_figures(tenant, day, dialect))
                )
            with _timed(steps, "snapshots"):
                written, failed = _write_snapshots(session, tenant, day, ranked, replace=not first_of_day)
    if dialect == "postgresql":
        # A million rows just written: without fresh statistics the next statements
        # (regrade, churn warnings) plan for the table as it was, and join the snapshots by
        # nested loops that grow with the square of the rows.
        with _timed(steps, "statistics"):
            analyze(session, "customer_value_analysis")
    # For operators (and the benchmark): where the night's time went.
    log.info(
        "value refresh of tenant %s for %s: %d snapshots%s; %s",
        tenant.id, day, written, f", {failed} failed (audit: value.refresh_failed)" if failed else "",
        ", ".join(f"{name} {seconds:.1f} s" for name, seconds in steps.items()),
        extra={"refresh_steps": steps, "refresh_failed": failed},
    )  # fmt: skip
    return written


# The fallback's batches of customers, and how many failing customers it records before it
# concludes that the failure is not a few customers' data, and lets the tenant's refresh fail.
BATCH_CUSTOMERS = 10_000
MOST_FAILED_CUSTOMERS = 100
BATCH_FIRST = bindparam("batch_first_customer", type_=BigInteger())
BATCH_LAST = bindparam("batch_last_customer", type_=BigInteger())


def _write_snapshots(session: Session, tenant: Tenant, day: date, ranked: Any, *, replace: bool) -> tuple[int, int]:
    """Write the whole tenant's snapshots in one statement; if some customer's data makes it
    fail, in batches instead (_write_in_batches). Returns how many were written and failed."""
    with planner_methods(session, indexscan=False):
        # The rest joins every customer to small grouped tables: hashed, in one pass.
        rows = snapshot_select(session, tenant, day, ranked_orders=ranked)
        try:
            with session.begin_nested():  # a savepoint: after a failure the transaction goes on
                return _write(session, rows, replace=replace), 0
        except (DataError, IntegrityError) as error:
            log.warning(
                "value refresh of tenant %s for %s: the set-based write failed (%s); writing in batches",
                tenant.id, day, _reason(error),
            )  # fmt: skip
    return _write_in_batches(session, tenant, day, ranked, replace=replace)


def _write_in_batches(session: Session, tenant: Tenant, day: date, ranked: Any, *, replace: bool) -> tuple[int, int]:
    """Write the snapshots ``BATCH_CUSTOMERS`` customers at a time, each batch under a savepoint.
    A batch that fails is split in two, and so on, down to the customers that fail: each is
    logged and recorded in the audit trail, and the others are written."""
    rows = snapshot_select(session, tenant, day, ranked_orders=ranked, batch=(BATCH_FIRST, BATCH_LAST))
    statement = _upsert(session, rows, replace=replace)
    ids = live_customer_ids(session, tenant.id)
    pending = deque(ids[start : start + BATCH_CUSTOMERS] for start in range(0, len(ids), BATCH_CUSTOMERS))
    written = failed = 0
    while pending:
        batch = pending.popleft()
        params = {BATCH_FIRST.key: batch[0], BATCH_LAST.key: batch[-1]}
        try:
            with session.begin_nested():
                result = session.connection().execute(statement, params, execution_options={"preserve_rowcount": True})
                written += result.rowcount
        except (DataError, IntegrityError) as error:
            if len(batch) > 1:
                middle = len(batch) // 2
                pending.extendleft((batch[middle:], batch[:middle]))  # the first half next
                continue
            failed += 1
            if failed > MOST_FAILED_CUSTOMERS:
                raise
            _record_failure(session, tenant, day, batch[0], error)
    return written, failed


def _record_failure(session: Session, tenant: Tenant, day: date, customer_id: int, error: Exception) -> None:
    reason = _reason(error)
    log.error(
        "value refresh of tenant %s for %s: the snapshot of customer %s could not be written: %s",
        tenant.id, day, customer_id, reason,
    )  # fmt: skip
    audit.record(
        session,
        "value.refresh_failed",
        actor=None,
        tenant_id=tenant.id,
        object_type="customer",
        object_id=customer_id,
        detail={"analysis_date": day.isoformat(), "error": reason},
    )


def _reason(error: Exception) -> str:
    """What the database said, first line only (without the statement and its parameters)."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).splitlines() or [""]
    return f"{type(cause).__name__}: {lines[0]}"[:300]


# How the whole-tenant refresh groups the orders of every customer (into a temporary table
# first: a CREATE TABLE AS may use parallel workers, an INSERT … SELECT never does). Read in
# customer order from the covering (customer, date) index, each worker aggregates whole
# customers one after the other; the planner's choice, a parallel sequential scan with hashed
# partial aggregates, has each worker hold nearly every customer and the leader merge every
# worker's partial groups, several times the work.
ORDER_GROUPING_PLAN = {"seqscan": False, "hashagg": False}


@contextmanager
def nightly_settings(session: Session) -> Iterator[None]:
    """Settings for the whole-tenant refresh's statements, which group every order and join a
    million rows: no JIT compilation (it costs more than it saves on one pass) and
    ``CRM_NIGHTLY_WORK_MEM`` for each sort or hash."""
    with statement_resources(session, work_mem=settings.nightly_work_mem, jit=False):
        yield


@contextmanager
def _timed(steps: dict[str, float], name: str) -> Iterator[None]:
    """Add the seconds the block takes to ``steps[name]``."""
    started = clock.perf_counter()
    try:
        yield
    finally:
        steps[name] = steps.get(name, 0.0) + clock.perf_counter() - started


ONE_CUSTOMER = bindparam("snapshot_customer_id", type_=BigInteger())
ONE_CUSTOMER_NOW = bindparam("snapshot_now", type_=UTCDateTime())
_ONE_CUSTOMER_CACHE_SIZE = 64
_one_customer_statements: OrderedDict[tuple[Any, ...], Executable] = OrderedDict()
_one_customer_lock = threading.Lock()  # the API's worker threads share the cache


def _one_customer_statement(session: Session, tenant: Tenant, day: date) -> Executable:
    """The upsert of one customer's snapshot of ``day``, with the customer and the time as
    parameters; built once per tenant, day, settings and churn model and then reused.

    Building the statement (a few hundred expressions: every figure, rule and the model's
    score) is most of a one-customer refresh's work; reused, SQLAlchemy also skips compiling
    it again.
    """
    model = churn.current_model(session, tenant.id)
    key = (
        session.get_bind().dialect.name, tenant.id, tenant.timezone, day,
        settings_of(tenant).model_dump_json(), None if model is None else (model.id, model.trained_at),
    )  # fmt: skip
    with _one_customer_lock:
        statement = _one_customer_statements.get(key)
        if statement is not None:
            _one_customer_statements.move_to_end(key)
            return statement
    rows = snapshot_select(session, tenant, day, customer_id=ONE_CUSTOMER, model=model, now=ONE_CUSTOMER_NOW)
    statement = _upsert(session, rows)
    with _one_customer_lock:
        _one_customer_statements[key] = statement
        while len(_one_customer_statements) > _ONE_CUSTOMER_CACHE_SIZE:
            _one_customer_statements.popitem(last=False)
    return statement


def _claim_day(session: Session, tenant: Tenant, day: date) -> bool:
    """Whether the tenant has no snapshot of ``day`` yet, so the whole-tenant refresh may write
    with a plain INSERT: the night's usual case. ``ON CONFLICT`` probes the key index once more
    for every row before inserting it, which at a million rows is seconds of the night.

    On PostgreSQL the table is locked against other writers (readers go on) until the refresh
    commits, so that a one-customer refresh cannot slip a row of that day in between; it waits
    and then replaces the night's row. (SQLite has one writer at a time anyway.)
    """
    lock_against_writers(session, CustomerValueAnalysis.__tablename__)
    written = select(CustomerValueAnalysis.customer_id).where(
        CustomerValueAnalysis.tenant_id == tenant.id, CustomerValueAnalysis.analysis_date == day
    )
    return session.scalar(written.limit(1)) is None


def _upsert(session: Session, rows: Select[Any], *, replace: bool = True) -> Executable:
    """INSERT the rows, replacing (with ``replace``) the snapshot of the same customer and day."""
    dialect = session.get_bind().dialect.name
    names = [column.name for column in rows.selected_columns]
    table = CustomerValueAnalysis.__table__
    insert = upsert_insert(table, dialect).from_select(names, rows)
    keep = {name for name in names if name not in ("customer_id", "analysis_date", "tenant_id", "created_at")}
    if not replace:
        return typing.cast(Executable, insert)
    upsert = insert.on_conflict_do_update(
        index_elements=["customer_id", "analysis_date"], set_={name: insert.excluded[name] for name in keep}
    )
    return typing.cast(Executable, upsert)


def _write(session: Session, rows: Select[Any], *, replace: bool = True) -> int:
    """Write the whole tenant's rows (see _upsert); returns how many."""
    # SQLAlchemy keeps an INSERT's row count only when asked; counting the customers
    # afterwards would be one more pass over the whole book.
    statement = _upsert(session, rows, replace=replace)
    return session.connection().execute(statement, execution_options={"preserve_rowcount": True}).rowcount


def refresh_all(session: Session) -> int:
    """The nightly job: today's snapshot of every customer of every active tenant."""
    done = 0
    for tenant in session.scalars(select(Tenant).where(Tenant.is_active.is_(True)).order_by(Tenant.id)):
        done += refresh(session, tenant)
    return done
