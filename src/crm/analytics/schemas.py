from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ValueSnapshot(BaseModel):
    """One day's figures (see crm.analytics.value for each definition); money needs finance.read."""

    model_config = ConfigDict(from_attributes=True)

    analysis_date: date
    total_orders: int
    total_amount: Decimal | None
    avg_order_amount: Decimal | None
    last_order_date: date | None
    order_frequency: Decimal | None = Field(description="Orders per month")
    customer_lifetime_value: Decimal | None
    churn_probability: Decimal | None
    satisfaction_score: Decimal | None
    referral_count: int
    complaint_count: int
    service_cost: Decimal | None
    profit_margin: Decimal | None
    annual_spend: Decimal | None = Field(description="Spend of the last 365 days")
    potential_value: Decimal | None = Field(description="Predicted spend of the next 12 months")


class ValueAnalysis(BaseModel):
    customer_id: int
    latest: ValueSnapshot | None = Field(description="Null until the first analysis ran")
    history: list[ValueSnapshot] = Field(description="Earlier snapshots, newest first (at most 400)")


class Rfm(BaseModel):
    analysis_date: date
    recency_days: int | None = Field(description="Days since the last order")
    frequency: int = Field(description="Orders of the last 365 days")
    monetary: Decimal | None = Field(description="Spend of the last 365 days (finance permission)")
    r_score: int | None = Field(description="1–5 among the tenant's customers, 5 most recent")
    f_score: int | None
    m_score: int | None
    segment: str | None = Field(description="e.g. 重要价值客户 (each score above 3 counts as high)")


class MonthlySpend(BaseModel):
    month: str = Field(description="YYYY-MM, Asia/Shanghai")
    orders: int
    amount: Decimal | None


class Favourite(BaseModel):
    name: str
    quantity: int
    amount: Decimal | None


class Count(BaseModel):
    name: str
    count: int


class PeriodFigures(BaseModel):
    orders: int
    spend: Decimal | None
    interactions: int
    complaints: int


class BehaviorAnalysis(BaseModel):
    customer_id: int
    rfm: Rfm | None = Field(description="Null until the first value analysis ran")
    monthly_spend: list[MonthlySpend] = Field(description="The last 24 months with orders")
    favourite_categories: list[Favourite]
    favourite_products: list[Favourite]
    preferred_channel: str | None = Field(description="The most frequent interaction type, last 365 days")
    preferred_hour: int | None = Field(description="The most frequent local hour of interactions")
    channels: list[Count]
    hours: list[Count]
    last_90_days: PeriodFigures
    previous_90_days: PeriodFigures


class ChurnModelStatus(BaseModel):
    basis: Literal["model", "rules"] = Field(description="model: churn_probability is scored; rules: the rules alone")
    message: str
    trained_at: datetime | None
    algorithm: str | None
    metrics: dict[str, Any]
