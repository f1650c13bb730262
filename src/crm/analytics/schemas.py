from __future__ import annotations

from datetime import date
from decimal import Decimal

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
