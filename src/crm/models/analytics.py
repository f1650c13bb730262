"""Customer value analysis (§3.5): one snapshot per customer and analysis date."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, Index, Integer, Numeric, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.kit.db import Base, IdMixin, utcnow
from crm.kit.types import BigIntId, Money, UTCDateTime


class CustomerValueAnalysis(IdMixin, Base):
    """The figures of one customer as of one business day; see crm.analytics.value for each definition."""

    __tablename__ = "customer_value_analysis"
    __table_args__ = (
        UniqueConstraint("customer_id", "analysis_date"),
        Index("ix_customer_value_analysis_tenant_date", "tenant_id", "analysis_date"),
    )

    # No foreign keys (a departure from the seed's FOREIGN KEY (customer_id)): every row is
    # written by the refresh's INSERT … SELECT over the live customers themselves, and customers
    # are never deleted; checking every row of the night one by one was a large share of the
    # refresh (migration 0019). Nor the seed's indexes on clv and churn_probability: no query
    # reads the snapshots by those figures.
    tenant_id: Mapped[int] = mapped_column(BigIntId)
    customer_id: Mapped[int] = mapped_column(BigIntId)
    analysis_date: Mapped[date] = mapped_column(Date)
    total_orders: Mapped[int] = mapped_column(Integer, default=0)
    total_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    avg_order_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    last_order_date: Mapped[date | None] = mapped_column(Date)
    order_frequency: Mapped[Decimal | None] = mapped_column(Numeric(7, 2))
    customer_lifetime_value: Mapped[Decimal | None] = mapped_column(Money)
    churn_probability: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    satisfaction_score: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    referral_count: Mapped[int] = mapped_column(Integer, default=0)
    complaint_count: Mapped[int] = mapped_column(Integer, default=0)
    service_cost: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    profit_margin: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    # Beyond the seed: what grading reads. Spend of the last 12 months and its prediction.
    annual_spend: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    potential_value: Mapped[Decimal | None] = mapped_column(Money)
    # RFM (behaviour analysis): days since the last order, orders of the last 365 days, and each
    # one's quintile (1–5, 5 best) among the tenant's customers with orders that day.
    recency_days: Mapped[int | None] = mapped_column(Integer)
    orders_12m: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    r_score: Mapped[int | None] = mapped_column(SmallInteger)
    f_score: Mapped[int | None] = mapped_column(SmallInteger)
    m_score: Mapped[int | None] = mapped_column(SmallInteger)
    # Churn (crm.analytics.churn): what the rules and the model read, with the tenant's windows.
    spend_recent: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"), server_default="0")
    spend_previous: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"), server_default="0")
    orders_history: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    days_since_interaction: Mapped[int | None] = mapped_column(Integer)
    interactions_90d: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    overdue_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"), server_default="0")
    overdue_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    churn_risk: Mapped[str | None] = mapped_column(String(8))  # high, medium, low; null: none
    churn_rule: Mapped[str | None] = mapped_column(String(32))
    churn_reason: Mapped[str | None] = mapped_column(Text)
    lifecycle_stage: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
