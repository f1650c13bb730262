"""Behaviour analysis of one customer (§4.2.1): RFM, spend by month, what they buy, how they talk to us.

- RFM comes from the latest value-analysis snapshot: recency (days since the last order),
  frequency (orders of the last 365 days), monetary (spend of the last 365 days) and their
  scores 1–5 among the tenant's customers (see crm.analytics.value).
- Monthly spend: the last 24 business months (Asia/Shanghai), orders that count as spend.
- Favourite categories and products: the top 5 by amount over those orders' items.
- Preferred channel and hour: the most frequent interaction type and local hour of the staff
  interactions of the last 365 days.
- Changes: the last 90 days against the 90 before (spend, orders, interactions, complaints).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.analytics import schemas
from crm.auth import fields
from crm.customers.scope import visible_customer
from crm.kit.actor import Actor
from crm.kit.db import utcnow
from crm.kit.dialects import local_hour, local_month
from crm.models import (
    NOT_SPENT,
    CustomerInteraction,
    CustomerOrder,
    CustomerOrderItem,
    CustomerValueAnalysis,
    InteractionSource,
    ServiceRecord,
    ServiceType,
    TicketStatus,
)

TIMEZONE = "Asia/Shanghai"
SEGMENTS = {  # (R high, F high, M high) → the classic eight RFM segments
    (True, True, True): "重要价值客户",
    (False, True, True): "重要保持客户",
    (True, False, True): "重要发展客户",
    (False, False, True): "重要挽留客户",
    (True, True, False): "一般价值客户",
    (False, True, False): "一般保持客户",
    (True, False, False): "一般发展客户",
    (False, False, False): "一般挽留客户",
}


def segment(r: int | None, f: int | None, m: int | None) -> str | None:
    """The RFM segment: each score above 3 counts as high."""
    if r is None or f is None or m is None:
        return None
    return SEGMENTS[(r > 3, f > 3, m > 3)]


def _period(session: Session, customer_id: int, start: datetime, end: datetime) -> dict[str, Any]:
    spend = session.execute(
        select(func.count(), func.coalesce(func.sum(CustomerOrder.amount), Decimal(0))).where(
            CustomerOrder.customer_id == customer_id,
            CustomerOrder.status.not_in(NOT_SPENT),
            CustomerOrder.order_date >= start,
            CustomerOrder.order_date < end,
        )
    ).one()
    interactions = session.scalar(
        select(func.count()).where(
            CustomerInteraction.customer_id == customer_id,
            CustomerInteraction.source == InteractionSource.STAFF,
            CustomerInteraction.interaction_date >= start,
            CustomerInteraction.interaction_date < end,
        )
    )
    complaints = session.scalar(
        select(func.count()).where(
            ServiceRecord.customer_id == customer_id,
            ServiceRecord.service_type == ServiceType.COMPLAINT,
            ServiceRecord.status != TicketStatus.CANCELLED,
            ServiceRecord.created_date >= start,
            ServiceRecord.created_date < end,
        )
    )
    return {"orders": int(spend[0]), "spend": Decimal(spend[1]), "interactions": int(interactions or 0),
            "complaints": int(complaints or 0)}  # fmt: skip


def behavior_analysis(session: Session, actor: Actor, customer_id: int) -> schemas.BehaviorAnalysis:
    customer = visible_customer(session, actor, customer_id)
    finance = fields.sees_money(actor)
    dialect = session.get_bind().dialect.name
    now = utcnow()
    latest = session.scalars(
        select(CustomerValueAnalysis)
        .where(CustomerValueAnalysis.customer_id == customer.id)
        .order_by(CustomerValueAnalysis.analysis_date.desc())
        .limit(1)
    ).one_or_none()
    rfm = None
    if latest is not None:
        rfm = schemas.Rfm(
            analysis_date=latest.analysis_date,
            recency_days=latest.recency_days,
            frequency=latest.orders_12m,
            monetary=latest.annual_spend if finance else None,
            r_score=latest.r_score,
            f_score=latest.f_score,
            m_score=latest.m_score,
            segment=segment(latest.r_score, latest.f_score, latest.m_score),
        )
    spent = (
        CustomerOrder.customer_id == customer.id,
        CustomerOrder.status.not_in(NOT_SPENT),
        CustomerOrder.order_date >= now - timedelta(days=731),
    )
    month = local_month(CustomerOrder.order_date, TIMEZONE, dialect).label("month")
    monthly = [
        schemas.MonthlySpend(month=str(m), orders=int(n), amount=Decimal(a) if finance else None)
        for m, n, a in session.execute(
            select(month, func.count(), func.sum(CustomerOrder.amount)).where(*spent).group_by(month).order_by(month)
        )
    ]

    def top(column: Any) -> list[schemas.Favourite]:
        rows = session.execute(
            select(column, func.sum(CustomerOrderItem.quantity), func.sum(CustomerOrderItem.amount))
            .join(CustomerOrder, CustomerOrder.id == CustomerOrderItem.order_id)
            .where(*spent, column.is_not(None))
            .group_by(column)
            # Ranked by money only for those who may see it: the order would tell the amounts apart.
            .order_by(func.sum(CustomerOrderItem.amount if finance else CustomerOrderItem.quantity).desc(), column)
            .limit(5)
        )
        return [
            schemas.Favourite(name=str(name), quantity=int(q), amount=Decimal(a) if finance else None)
            for name, q, a in rows
        ]

    staff = (
        CustomerInteraction.customer_id == customer.id,
        CustomerInteraction.source == InteractionSource.STAFF,
        CustomerInteraction.interaction_date >= now - timedelta(days=365),
    )
    channels = [
        schemas.Count(name=kind.value, count=int(n))
        for kind, n in session.execute(
            select(CustomerInteraction.interaction_type, func.count())
            .where(*staff)
            .group_by(CustomerInteraction.interaction_type)
            .order_by(func.count().desc(), CustomerInteraction.interaction_type)
        )
    ]
    hour = local_hour(CustomerInteraction.interaction_date, TIMEZONE, dialect).label("hour")
    hours = [
        schemas.Count(name=str(int(h)), count=int(n))
        for h, n in session.execute(
            select(hour, func.count()).where(*staff).group_by(hour).order_by(func.count().desc(), hour)
        )
    ]
    recent = _period(session, customer.id, now - timedelta(days=90), now)
    before = _period(session, customer.id, now - timedelta(days=180), now - timedelta(days=90))
    return schemas.BehaviorAnalysis(
        customer_id=customer.id,
        rfm=rfm,
        monthly_spend=monthly,
        favourite_categories=top(CustomerOrderItem.category),
        favourite_products=top(CustomerOrderItem.product_code),
        preferred_channel=channels[0].name if channels else None,
        preferred_hour=int(hours[0].name) if hours else None,
        channels=channels,
        hours=sorted(hours, key=lambda c: int(c.name)),
        last_90_days=schemas.PeriodFigures(**{**recent, "spend": recent["spend"] if finance else None}),
        previous_90_days=schemas.PeriodFigures(**{**before, "spend": before["spend"] if finance else None}),
    )
