from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from crm.kit.pagination import PagedQuery
from crm.kit.regions import Region
from crm.kit.validation import MAX_ID, LocalDateTime, reject_unstorable_text
from crm.models import ChurnRisk, RetentionActionType, WarningStatus

Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class WarningFilters(PagedQuery):
    risk_level: ChurnRisk | None = None
    status: WarningStatus | Literal["active", "closed"] | None = Field(
        default="active", description="active (default): open or in progress; closed: retained, lost or cleared"
    )
    region: Region | None = None
    owner_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    customer_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    task_overdue: bool | None = Field(default=None, description="Only tasks past their due date (still in work)")


class SummaryFilters(BaseModel):
    region: Region | None = Field(default=None, description="Only warnings of customers in this sales region")


class RetentionAction(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    action_type: RetentionActionType
    content: str
    staff_id: int
    staff_name: str | None = Field(default=None, description="Who acted (display name); null when the account is gone")
    interaction_id: int | None
    action_date: datetime


class ChurnWarning(BaseModel):
    id: int
    customer_id: int
    customer_code: str
    customer_name: str
    customer_level: str
    region: str | None
    risk_level: ChurnRisk
    rule: str = Field(description="no_order, overdue_high, quiet_declining, overdue_medium or quiet")
    reason: str
    status: WarningStatus
    owner_id: int | None
    owner_name: str | None
    strategy: str = Field(description="The playbook's suggestion for the customer's level and risk")
    due_date: date
    task_overdue: bool
    detected_date: date
    risk_changed_date: date
    churn_probability: Decimal | None
    outcome_note: str | None
    closed_at: datetime | None
    version: int


class ChurnWarningDetail(ChurnWarning):
    actions: list[RetentionAction]


class ActionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    _storable = field_validator("*", mode="before")(reject_unstorable_text)

    action_type: RetentionActionType
    content: Note
    action_date: LocalDateTime | None = Field(default=None, description="When it happened; default now")


class Outcome(BaseModel):
    model_config = ConfigDict(extra="forbid")
    _storable = field_validator("*", mode="before")(reject_unstorable_text)

    outcome: Literal["retained", "lost"]
    note: Note | None = None
    version: int = Field(ge=1, description="The version you read")


class RiskCount(BaseModel):
    risk_level: ChurnRisk
    count: int


class WarningSummary(BaseModel):
    """Warnings in the caller's scope: in work by risk, overdue tasks, outcomes of the last 90 days."""

    active: list[RiskCount]
    task_overdue: int
    retained_90d: int
    lost_90d: int
